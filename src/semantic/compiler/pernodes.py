"""`MEASURE(metric) PER (...)`: a metric evaluated at a grain the query names, as the parser
reads it (`compiler.parse` calls `resolve_per`; `compiler.allow` lets the syntax through).

Two meanings, told apart by what the parentheses name:

- `PER (ALL)`, `PER (* EXCLUDE dims)`, `PER (dims)`: a metric **at another grain** of the
  query's groups (the grand total, the query's dimensions but some, or some of them only):
  a metric of the query, in SELECT, HAVING and ORDER BY (`compiler.othergrain`);
- `PER (entity)`: a metric **per entity** (each customer's order count), a value of each
  row of the entity, used as a dimension: a group key, in CASE, in WHERE
  (`compiler.perentity`).

`PER (ALL)` read next to dimensions (in a row condition, a FILTER condition, a dimension of
SELECT) is a value of every row, like a metric per entity (`row_kinds`); `PER (dims)` and
`PER (* EXCLUDE dims)` there are SEM369.

After parsing, a PER node is normalised to `exp.Per(this=<metric>, expressions=[Var(mode),
...])`: mode `ALL`, `EXCLUDE` or `AT` followed by the term references it names, or `ENTITY`
followed by the entity id as a string. The metric and the names stay term references, so
the role's policy sees every term a PER node reads.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from semantic.compiler.refs import QUERY_DIALECT, make_ref, ref_of, show
from semantic.errors import Span, error
from semantic.model import Model
from semantic.model.perterms import measured, per_entity

ALL, EXCLUDE, AT, ENTITY = "ALL", "EXCLUDE", "AT", "ENTITY"


def _is_measure(node: exp.Expression | None) -> bool:
    if isinstance(node, exp.Filter):
        node = node.this
    return isinstance(node, exp.Anonymous) and str(node.this).casefold() == "measure"


def allowed(node: exp.Expr) -> bool:
    """Whether `node` is part of a well-formed PER construct (for `allow.check_query`)."""
    if isinstance(node, exp.Per):
        return _is_measure(node.this)
    return isinstance(node, exp.Star) and isinstance(node.parent, exp.Per)


def mode(node: exp.Per) -> str:
    """ALL, EXCLUDE, AT or ENTITY: the normalised PER node's meaning."""
    return str(node.expressions[0].name)


def entity_of(node: exp.Per) -> str:
    """The entity a normalised `PER (entity)` node names."""
    return str(node.expressions[1].name)


def is_per_entity(node: exp.Expression) -> bool:
    """Whether `node` is a normalised PER node of a metric per entity (a row value)."""
    return isinstance(node, exp.Per) and mode(node) == ENTITY


def other_grain_nodes(tree: exp.Expression) -> list[exp.Per]:
    """The PER nodes of `tree` that put a metric at another grain of the query."""
    return [n for n in tree.find_all(exp.Per) if mode(n) != ENTITY]


def kinds(tree: exp.Expression) -> tuple[set[int], set[str]]:
    """The ids of the nodes whose terms are not the expression's own (inside a metric's
    FILTER condition or a PER construct) and what the PER constructs are: 'row' per
    entity, 'grand' the grand total (`PER (ALL)`: a metric next to metrics, a row value next
    to dimensions, `row_kinds`), 'metric' at another grain of the query's groups."""
    pers: list[exp.Per] = []
    conditions: list[exp.Expression] = []
    for node in tree.find_all(exp.Per, exp.Filter):  # one walk: most trees hold neither
        if isinstance(node, exp.Per):
            pers.append(node)
        else:
            conditions.append(node.expression)
    inside = {id(n) for top in (*pers, *conditions) for n in top.find_all(exp.Anonymous)}
    return inside, {_kind(per) for per in pers}


def _kind(per: exp.Per) -> str:
    return {ENTITY: "row", ALL: "grand"}.get(mode(per), "metric")


def row_kinds(tree: exp.Expression, found: set[str], place: Callable[[], Span]) -> set[str]:
    """`found` (the kinds of `tree`) with the grand total settled: a value of every row
    when `tree` reads dimensions and no metric (`customer_account_balance >
    MEASURE(average_account_balance) PER (ALL)`, planned in `compiler.perentity`), else a
    metric. A metric at another grain of the query's groups (`PER (d)`, `PER (* EXCLUDE
    d)`) next to dimensions is SEM369: a row has no groups to read it from. `place` gives
    where `tree` is written, asked for the error only."""
    if "row" in found and "metric" not in found:
        return {"row"}
    grouped = "row" in found and [p for p in tree.find_all(exp.Per) if mode(p) in (EXCLUDE, AT)]
    if grouped:
        raise error(
            "SEM369",
            f"'{per_words(grouped[0])}' is a metric at a grain of the query's groups, read "
            "next to dimensions",
            place(),
            "next to dimensions a metric is PER (ALL), the grand total, or PER (entity), "
            "each row's entity, e.g. PER (customer); PER (dimension) and PER (* EXCLUDE ...) "
            "are read at the query's groups, in SELECT, HAVING and ORDER BY",
        )
    return {"metric" if k == "grand" else k for k in found}


def resolve_per(
    model: Model,
    node: exp.Per,
    resolve: Callable[[exp.Expression], exp.Expression],
    term: Callable[[exp.Column], exp.Expression],
    span: Callable[[exp.Expression], Span],
) -> exp.Per:
    """The normalised PER node of `node` (`resolve` the parser's names in place, `term`
    one name to its reference), or SEM351 when its parentheses are not one of the forms."""
    items = list(node.expressions)
    place = span(node)
    hint = (
        "write PER (ALL), PER (* EXCLUDE dimension, ...), PER (dimension, ...) or "
        "PER (entity), e.g. PER (customer)"
    )
    first = items[0]
    if isinstance(first, exp.Star):
        # `* EXCLUDE a, b` parses as `* EXCLUDE (a)` then `b`: every name after EXCLUDE is
        # left out, as the documented `PER (* EXCLUDE d, ...)` says
        excluded = list(first.args.get("except_") or [])
        names = [*excluded, *items[1:]]
        if not excluded or first.args.get("replace") or first.args.get("rename"):
            what = "PER (*) takes EXCLUDE and the dimensions to leave out"
            raise error("SEM351", what, place, hint)
        head, refs = (
            EXCLUDE,
            [_dimension(model, resolve(c), span(c)) for c in _columns(names, place)],
        )
    elif _bare(first) and first.name.casefold() == "all" and not first.args.get("quoted"):
        if len(items) > 1:
            raise error("SEM351", "PER (ALL) names nothing else", place, hint)
        head, refs = ALL, []
    elif _bare(first) and (entity := _entity(model, first.name)) is not None:
        if len(items) > 1:
            raise error(
                "SEM351", f"PER ({entity}) names an entity: it takes nothing else", place, hint
            )
        head, refs = ENTITY, [exp.Literal.string(entity)]
    else:
        head = AT
        # resolved as any name of the query, so that the query knows where it names them
        refs = [_dimension(model, resolve(c), span(c)) for c in _columns(items, place)]
    metric = resolve(node.this)
    return exp.Per(this=metric, expressions=[exp.Var(this=head), *refs])


def _bare(node: exp.Expression) -> bool:
    return isinstance(node, exp.Column) and not node.table and bool(node.name)


def _entity(model: Model, name: str) -> str | None:
    folded = name.casefold()
    return next((e for e in model.entities if e.casefold() == folded), None)


def _columns(items: list[exp.Expression], place: Span) -> list[exp.Column]:
    for item in items:
        if not isinstance(item, exp.Column):
            raise error(
                "SEM351",
                f"PER names dimensions, not '{item.sql(QUERY_DIALECT)}'",
                place,
                "name the query's dimensions as they are selected, e.g. PER (customer_region)",
            )
    return [item for item in items if isinstance(item, exp.Column)]


def _dimension(model: Model, ref: exp.Expression, place: Span) -> exp.Expression:
    found = ref_of(ref)
    if found is None or model.terms[found.ident].is_metric:
        raise error(
            "SEM351",
            f"PER names dimensions; '{found.ident if found else ref.sql()}' is a metric",
            place,
            "put the metric inside MEASURE(...) and name the dimensions to group it by",
        )
    return ref


def saved_per(node: exp.Per, model: Model) -> exp.Per:
    """The normalised PER node of one written in a glossary term (`model.perterms`, checked
    there): its names are term ids, made term references as the parser makes them."""

    def named(tree: exp.Expression) -> exp.Expression:
        def swap(n: exp.Expression) -> exp.Expression:
            if not isinstance(n, exp.Column):
                return n
            if n.table:  # a time dimension at a grain: order_date.year
                return make_ref("term", n.table, n.name.casefold())
            return make_ref("term", n.name)

        return tree.copy().transform(swap, copy=False)

    inside = measured(node)
    assert inside is not None  # checked with the glossary
    metric: exp.Expression = exp.paren(named(inside[0]), copy=False)
    if inside[1] is not None:
        metric = exp.Filter(this=metric, expression=exp.Where(this=named(inside[1])))
    entity = per_entity(node)
    items = list(node.expressions)
    if entity is not None and entity in model.entities:
        return exp.Per(this=metric, expressions=[exp.Var(this=ENTITY), exp.Literal.string(entity)])
    if entity is not None and entity.casefold() == "all":
        return exp.Per(this=metric, expressions=[exp.Var(this=ALL)])
    if len(items) == 1 and isinstance(items[0], exp.Star):
        left_out = [named(c) for c in items[0].args.get("except_") or []]
        return exp.Per(this=metric, expressions=[exp.Var(this=EXCLUDE), *left_out])
    return exp.Per(this=metric, expressions=[exp.Var(this=AT), *(named(c) for c in items)])


def per_words(node: exp.Per) -> str:
    """A normalised PER node as the analyst writes it, with term ids:
    `MEASURE(order_count) FILTER (WHERE order_status = 'F') PER (customer)`."""
    inner = node.this
    condition = ""
    if isinstance(inner, exp.Filter):
        condition = f" FILTER (WHERE {show(inner.expression.this)})"
        inner = inner.this
    bare = inner.unnest() if isinstance(inner, exp.Paren) else inner
    assert isinstance(bare, exp.Expression)
    metric = show(bare)
    how = mode(node)
    named = [show(e) for e in node.expressions[1:]]
    grain = {
        ALL: "ALL",
        EXCLUDE: "* EXCLUDE " + ", ".join(named),
        ENTITY: entity_of(node),
    }.get(how, ", ".join(named))
    return f"MEASURE({metric}){condition} PER ({grain})"
