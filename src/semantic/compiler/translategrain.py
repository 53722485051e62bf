"""Subqueries that `semantic translate` reads as a metric at another grain, a metric per
entity, or an existence over the same fact (for `compiler.translate`).

- A scalar subquery in HAVING, SELECT or ORDER BY that aggregates the same tables under the
  same conditions as its query, uncorrelated, is the grand total: `MEASURE(m) PER (ALL)`
  (TPC-H Q11's `HAVING sum(v) > (SELECT sum(v) * 0.0001 FROM ... same WHERE)`).
- A scalar subquery over one table tied to the primary key of a table of the query by the
  keys of a to-one relationship is the metric per that entity, its own conditions the
  metric's FILTER: `l_quantity < (SELECT 0.2 * avg(l_quantity) FROM lineitem WHERE
  l_partkey = p_partkey)` is `line_quantity < 0.2 * MEASURE(average_quantity) PER (part)`
  (Q17).
- A derived table `SELECT pk, AGG(...) FROM x LEFT JOIN y ON <relationship> AND c GROUP BY
  pk` is the table `x`, its aggregates the metrics of `y` per `x`: `MEASURE(m) FILTER (WHERE
  c) PER (x)` (Q13's `c_orders`).
- `[NOT] EXISTS (SELECT * FROM t t2 WHERE t2.fk = t1.fk AND ...)` with `t1` the query's
  root table of the same entity and `fk` a to-one relationship's key is the existence about
  the row `fk` leads to: `EXISTS(cond, anchor)`, the outer columns read as `THIS(...)` (Q21).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, cast

from sqlglot import exp

from semantic.compiler.joingraph import Joins, Match, conjuncts, mapped, refusal
from semantic.compiler.resolve import find_path
from semantic.compiler.termmatch import Place, PlaceOf, TermIndex, canonical
from semantic.errors import SemanticError
from semantic.model import Model

#: the comparisons a correlated scalar subquery may be an operand of in WHERE
COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


class Translator(Protocol):
    """What this module asks of a translation (`compiler.translate.Translator`)."""

    model: Model
    tree: exp.Select
    joins: Joins
    index: TermIndex
    matches: list[Match]
    derived: dict[str, Derived]

    def rows(self, node: exp.Expression, place_of: PlaceOf | None = None) -> exp.Expression: ...

    def measures(self, node: exp.Expression, place_of: PlaceOf | None = None) -> exp.Expression: ...

    def term(self, name: str) -> exp.Column: ...

    def note(self, text: str) -> None: ...

    def spawn(self, tree: exp.Select) -> Translator: ...

    def condition(self, node: exp.Expression) -> exp.Expression: ...

    def own_conditions(
        self, own: list[exp.Expression], place_of: PlaceOf, scope: dict[str, tuple[str, Place]]
    ) -> exp.Expression: ...


@dataclass
class Derived:
    """A derived table read as the rows of entity `entity` (its table, aliased as the
    derived table): its aggregated columns by name, over `inner` (the subquery)."""

    entity: str
    inner: exp.Select
    many: str  # the alias of the joined table its aggregates read
    filters: list[exp.Expression] = field(default_factory=list)
    aggregates: dict[str, exp.Expression] = field(default_factory=dict)


# --- before the query is qualified: which subqueries may be read ---------------------------


def scalar_candidate(sub: exp.Subquery, tree: exp.Select) -> bool:
    """Whether scalar subquery `sub` has a shape this module (or `compiler.translaterows`)
    may read: one aggregate, no grouping, over tables joined without OUTER; directly in
    `tree`'s HAVING, SELECT or ORDER BY, or an operand of a comparison that is a condition
    of the WHERE of the rows `tree` reads (its own, a derived table's merged into it, a
    semi-join's)."""
    inner = sub.this
    if (
        not isinstance(inner, exp.Select)
        or tree.args.get("with_")
        or any(inner.args.get(k) for k in ("group", "having", "limit", "with_", "order"))
        or len(inner.expressions) != 1
        or not inner.expressions[0].find(exp.AggFunc)
        or any(s is not inner for s in inner.find_all(exp.Select))
        or not isinstance(inner.args["from_"].this, exp.Table)
        or any(not isinstance(j.this, exp.Table) for j in inner.args.get("joins") or [])
    ):
        return False
    outer = sub.parent_select
    node: exp.Expr = sub
    while node.parent is not None and node.parent is not outer:
        node = node.parent
    if outer is tree and node.arg_key in ("having", "expressions", "order"):
        return True
    return (
        node.arg_key == "where"
        and isinstance(sub.parent, COMPARISONS)
        and outer is not None
        and any(c is sub.parent for c in conjuncts(outer.args.get("where")))
        and _row_select(outer, tree)
    )


def _row_select(select: exp.Select, tree: exp.Select) -> bool:
    """Whether `select`'s rows are read as rows of `tree`: `tree` itself, a derived table
    in its FROM that does not aggregate, or a subquery of a semi-join in their WHERE."""
    if select is tree:
        return True
    parent = select.parent
    if isinstance(parent, exp.Subquery) and isinstance(parent.parent, (exp.From, exp.Join)):
        aggregates = select.args.get("group") or any(
            e.find(exp.AggFunc) for e in select.expressions
        )
        outer = parent.parent_select
        return not aggregates and outer is not None and _row_select(outer, tree)
    node = parent.parent if isinstance(parent, exp.Subquery) else parent
    if not isinstance(node, (exp.In, exp.Exists)):
        return False
    outer = node.parent_select
    return outer is not None and _row_select(outer, tree)


def derived_candidate(inner: exp.Select) -> bool:
    """Whether a derived table that aggregates has the shape of a metric per entity."""
    joins = inner.args.get("joins") or []
    return (
        isinstance(inner.args["from_"].this, exp.Table)
        and bool(inner.args.get("group"))
        and not inner.args.get("having")
        and not inner.args.get("where")
        and len(joins) == 1
        and joins[0].side == "LEFT"
        and isinstance(joins[0].this, exp.Table)
        and bool(joins[0].args.get("on"))
        and not any(s is not inner for s in inner.find_all(exp.Select))
    )


# --- derived tables -------------------------------------------------------------------------


def replace_derived(model: Model, tree: exp.Select) -> dict[str, Derived]:
    """Each derived table of `tree` (qualified) that aggregates, replaced by the table of
    the entity it is grouped by; what its columns are, by alias."""
    found: dict[str, Derived] = {}
    by_table = {e.table.lower(): e.id for e in model.entities.values()}
    sources = [tree.args["from_"].this, *(j.this for j in tree.args.get("joins") or [])]
    for sub in sources:
        if not isinstance(sub, exp.Subquery) or not isinstance(sub.this, exp.Select):
            continue
        inner = sub.this
        if not (inner.args.get("group") or any(e.find(exp.AggFunc) for e in inner.expressions)):
            continue
        if not derived_candidate(inner):
            raise refusal(
                sub,
                "a derived table that aggregates",
                "a metric used as a dimension, or aggregated again",
            )
        one, join = inner.args["from_"].this, inner.args["joins"][0]
        entity, many = by_table[one.name.lower()], by_table[join.this.name.lower()]
        key = list(model.entities[entity].primary_key)
        why = "a derived table that aggregates"
        group = [g for g in inner.args["group"].expressions]
        if [(g.table, g.name) for g in group if isinstance(g, exp.Column)] != [
            (one.alias_or_name, k) for k in key
        ]:
            raise refusal(sub, why, f"it is not grouped by the primary key of '{entity}'")
        pairs, filters = set(), []
        for conjunct in conjuncts(join.args["on"]):
            tables = {c.table for c in conjunct.find_all(exp.Column)}
            if tables == {join.this.alias_or_name}:
                filters.append(conjunct)
            elif isinstance(conjunct, exp.EQ) and all(
                isinstance(s, exp.Column) for s in (conjunct.this, conjunct.expression)
            ):
                a, b = conjunct.this, conjunct.expression
                a, b = (a, b) if a.table == one.alias_or_name else (b, a)
                pairs.add((a.name, b.name))
            else:
                raise refusal(sub, why, f"its join reads '{entity}' beyond the relationship")
        if not any(
            e.target == many and not e.to_one and set(e.keys) == pairs
            for e in model.edges.get(entity, ())
        ):
            raise refusal(sub, why, f"it joins '{many}' by no one-to-many relationship")
        derived = Derived(entity, inner, join.this.alias_or_name, filters)
        rename: dict[str, str] = {}
        for item in inner.expressions:
            body = item.unalias()
            if isinstance(body, exp.Column) and (body.table, body.name) in {
                (one.alias_or_name, k) for k in key
            }:
                rename[item.alias_or_name] = body.name
            elif body.find(exp.AggFunc) and {c.table for c in body.find_all(exp.Column)} == {
                derived.many
            }:
                derived.aggregates[item.alias_or_name] = _counted(model, many, body)
            else:
                raise refusal(
                    sub, why, f"{body.sql()} is neither the key nor an aggregate of '{many}'"
                )
        alias = sub.alias_or_name
        table = exp.alias_(exp.to_table(one.name), alias, table=True)
        sub.replace(table)
        for column in tree.find_all(exp.Column):
            if column.table == alias and column.name in rename:
                column.set("this", exp.to_identifier(rename[column.name]))
        found[alias] = derived
    return found


def _counted(model: Model, entity: str, body: exp.Expression) -> exp.Expression:
    """`count(t.pk)` over a LEFT JOIN counts the joined rows: `count(*)` over them (a
    primary key is never NULL)."""
    key = list(model.entities[entity].primary_key)

    def fix(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.Count)
            and isinstance(node.this, exp.Column)
            and [node.this.name] == key
            and not node.args.get("distinct")
        ):
            return exp.Count(this=exp.Star())
        return node

    return body.copy().transform(fix)


def derived_value(tr: Translator, column: exp.Column) -> exp.Expression:
    """An aggregated column of a derived table: the metric per its entity."""
    derived = tr.derived[column.table]
    body = derived.aggregates.get(column.name)
    if body is None:
        raise refusal(column, "a column of a derived table that no term names")
    _check_place(tr, column, derived.entity, column.table)
    table = _table(tr, derived)
    sub = tr.spawn(exp.select("*").from_(exp.to_table(table)))
    business = sub.measures(_retabled(body, derived.many, table))
    condition = _condition(sub, [_retabled(f, derived.many, table) for f in derived.filters])
    _check_fill(tr.model, column, business, derived.entity, "a derived table that aggregates")
    value = per(tr.model, business, exp.column(derived.entity), condition)
    original = _original(derived, column.name)
    if body.sql() != original.sql():
        tr.note(
            f"{original.sql()} is read as {body.sql()} over the {table} rows joined (a "
            "primary key is never NULL)"
        )
    tr.matches.append(Match("from", original.sql(), value.sql()))
    return value


def _original(derived: Derived, name: str) -> exp.Expression:
    return next(i.unalias() for i in derived.inner.expressions if i.alias_or_name == name)


def _entity(model: Model, inner: exp.Select) -> str:
    join = inner.args["joins"][0].this
    return next(e.id for e in model.entities.values() if e.table == join.name)


def _table(tr: Translator, derived: Derived) -> str:
    return tr.model.entities[_entity(tr.model, derived.inner)].table


def _retabled(node: exp.Expression, alias: str, table: str) -> exp.Expression:
    """`node` with the columns of `alias` read on table `table` (a sub-translation's own)."""

    def put(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and n.table == alias:
            return exp.column(n.name, table=table)
        return n

    return node.copy().transform(put)


# --- scalar subqueries ----------------------------------------------------------------------


def scalar(tr: Translator, node: exp.Subquery) -> exp.Expression:
    """An uncorrelated scalar subquery in a place for metrics (SELECT, HAVING, ORDER BY):
    the grand total, `MEASURE(m) PER (ALL)`, when it reads the same tables under the same
    conditions as its query."""
    inner = node.this
    assert isinstance(inner, exp.Select)
    value = inner.expressions[0].unalias()
    if _sources(inner) != _sources(tr.tree) or _filters(inner) != _filters(tr.tree):
        raise refusal(
            node,
            "a scalar subquery",
            "an uncorrelated subquery reads PER (ALL) only over the same tables and "
            "conditions as its query",
        )
    business = per(tr.model, tr.measures(value), exp.Var(this="ALL"), None)
    tr.matches.append(Match("subquery", node.sql(), business.sql()))
    return business


def correlated(node: exp.Subquery) -> bool:
    """Whether a scalar subquery reads a column of an outer query."""
    inner = node.this
    aliases = {t.alias_or_name for t in inner.find_all(exp.Table)}
    return any(c.table not in aliases for c in inner.find_all(exp.Column))


def _sources(tree: exp.Select) -> set[str]:
    tables = [tree.args["from_"].this, *(j.this for j in tree.args.get("joins") or [])]
    return {t.sql() for t in tables}


def _filters(tree: exp.Select) -> set[str]:
    found = conjuncts(tree.args.get("where"))
    for join in tree.args.get("joins") or []:
        found += conjuncts(join.args.get("on"))
    return {canonical(c).sql() for c in found}


def _check_place(tr: Translator, node: exp.Expression, entity: str, alias: str) -> None:
    """A metric per entity is joined to the entity's rows on the model's own path from
    the root: the table the SQL ties it to must be there."""
    place = tr.joins.places.get(alias)
    default: Place | None = None
    if entity == tr.joins.root_entity:
        default = ()
    else:
        try:
            default = tuple(e.hop for e in find_path(tr.model, tr.joins.root_entity, entity))
        except SemanticError:
            default = None
    if place is None or (place != default and place != ()):
        raise refusal(
            node,
            "a value per entity of a table the query reaches by another path than the model's",
        )


def filled_metrics(model: Model, business: exp.Expression) -> list[str]:
    """The metrics `business` reads (through derived metrics) that fill a value where an
    aggregate over no rows is NULL (`fill_null`; a count's 0 is the same either way)."""
    found = []
    names = [c.name for c in business.find_all(exp.Column) if not c.table]
    while names:
        term = model.terms.get(names.pop())
        if term is None or not term.is_metric:
            continue
        if term.is_derived and term.expr is not None:
            names += [c.name for c in term.expr.find_all(exp.Column)]
        elif term.fill_null is not None and not (
            isinstance(term.expr, exp.Count) and term.fill_null.sql() == "0"  # a count of none
        ):
            found.append(term.id)
    return found


def _check_fill(
    model: Model, node: exp.Expression, business: exp.Expression, entity: str, what: str
) -> None:
    """A metric per entity gives an entity without rows its `fill_null`; the SQL's
    aggregate over no rows is NULL: refused, rather than read as another value."""
    for name in filled_metrics(model, business)[:1]:
        fill = model.terms[name].fill_null
        assert fill is not None
        raise refusal(
            node,
            what,
            f"{name} fills a {entity} without rows with {fill.sql()}, the SQL's "
            "aggregate over no rows is NULL",
        )


def _condition(sub: Translator, own: list[exp.Expression]) -> exp.Expression | None:
    if not own:
        return None
    return sub.rows(cast(exp.Expression, exp.and_(*own)) if len(own) > 1 else own[0])


def per(
    model: Model,
    business: exp.Expression,
    grain: exp.Expression,
    condition: exp.Expression | None,
) -> exp.Expression:
    """Each metric of `business` evaluated PER `grain`, filtered by `condition`."""

    def measure(metric: exp.Expression) -> exp.Expression:
        if isinstance(metric, exp.Filter):
            if condition is not None:
                where = metric.expression.this
                both = exp.and_(where.copy(), condition.copy())
                metric = exp.Filter(this=metric.this.copy(), expression=exp.Where(this=both))
            return exp.Per(this=metric, expressions=[grain.copy()])
        called: exp.Expression = exp.Anonymous(this="MEASURE", expressions=[metric.copy()])
        if condition is not None:
            called = exp.Filter(this=called, expression=exp.Where(this=condition.copy()))
        return exp.Per(this=called, expressions=[grain.copy()])

    def walk(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Filter):
            return measure(node)
        if isinstance(node, exp.Column) and not node.table:
            term = model.terms.get(node.name)
            if term is not None and term.is_metric:
                return measure(node)
        return mapped(node, walk)

    return walk(business)


# --- existence over the same fact -----------------------------------------------------------


def existence(tr: Translator, node: exp.Exists, negated: bool) -> exp.Expression:
    """`[NOT] EXISTS (SELECT * FROM t t2 WHERE t2.fk = t1.fk AND c)`, `t1` the root:
    `[NOT] EXISTS(c, anchor)` about the row `fk` leads to, `t1`'s columns as THIS(...)."""
    inner = node.this
    assert isinstance(inner, exp.Select)
    table = inner.args["from_"].this
    alias = table.alias_or_name
    entity = tr.joins.root_entity
    ties, own = [], []
    for conjunct in conjuncts(inner.args.get("where")):
        if (
            isinstance(conjunct, exp.EQ)
            and isinstance(conjunct.this, exp.Column)
            and isinstance(conjunct.expression, exp.Column)
            and conjunct.this.name == conjunct.expression.name
            and {conjunct.this.table, conjunct.expression.table} == {alias, tr.joins.root}
        ):
            ties.append(conjunct.this.name)
        else:
            own.append(conjunct)
    target = tr.joins.key_target(entity, ties[0], ()) if len(ties) == 1 else None
    if target is None or target[0] == entity:
        raise refusal(
            node,
            "NOT EXISTS" if negated else "a correlated EXISTS",
            "over the same table, it must be tied to the query's root table by one key of "
            "a to-one relationship",
        )
    anchor = tr.index.identity(*target)
    if anchor is None:
        raise refusal(node, "an existence about a row no dimension stands for")
    if not own:
        raise refusal(node, "a subquery with no condition of its own")
    sub = tr.spawn(exp.select("*").from_(exp.to_table(table.name)))

    def this(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and n.table != alias:
            if n.table not in tr.joins.places:
                raise refusal(node, "a subquery that reads a table the query does not have")
            found = exp.Anonymous(this="THIS", expressions=[tr.rows(n)])
            found.meta["translated"] = True
            return found
        if isinstance(n, exp.Column):
            return exp.column(n.name, table=table.name)
        return n

    condition = exp.and_(*own) if len(own) > 1 else own[0]
    business: exp.Expression = exp.Anonymous(
        this="EXISTS",
        expressions=[sub.rows(condition.copy().transform(this)), tr.term(anchor.id)],
    )
    if negated:
        business = exp.Not(this=business)
    tr.note(
        f"EXISTS over {table.name} tied on {ties[0]} is read about each row's {target[0]}: "
        f"a row whose {target[0]} is missing has no related rows in the business query; "
        "the comparison of rows checks it on the data"
    )
    tr.matches.append(Match("where", ("NOT " if negated else "") + node.sql(), business.sql()))
    return business
