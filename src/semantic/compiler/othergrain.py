"""Metrics at another grain: `MEASURE(net_revenue) PER (ALL)` (the grand total),
`PER (* EXCLUDE customer_nation)` (the query's dimensions but some), `PER (customer_region)`
(some of them only), in SELECT, HAVING and ORDER BY.

A query that holds some is composed of plain queries, each planned as any other:

- the query's own: its dimensions and every metric outside the PER constructs (and those
  inside, so that its groups are those of every metric it names), WHERE applied;
- one per grain named: the dimensions kept and the metrics computed at that grain, under
  the same WHERE (the share of the filtered total) and the same role;

then the query's groups are LEFT JOINed to each other grain's on the dimensions it keeps
(null-safe; crossed for the grand total) and the analyst's expressions, HAVING, ORDER BY
and LIMIT are computed over the joined values. A group the other grain has no row for (the
metric has none there: a FILTER, or groups made by the query's other metrics) shows the
metric's value over no rows, its fill (0 for a count), as the metric would at that grain.
A dimension named in PER must be one the query groups by (SEM350).

A query whose only metrics are at another grain (`SELECT customer_key WHERE
MEASURE(net_revenue) PER (ALL) > 0`: a condition without dimensions is one on groups) is a
list of values (`compiler.listing`) with them beside: its own query has no metric, so the
metrics inside PER never decide whose rows are listed. A value the same for every group
(the grand total) keeps all of the list or none of it, as it would keep every row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlglot import exp

from semantic.compiler.locate import QUERY_FILE
from semantic.compiler.perentity import metric_fill
from semantic.compiler.pernodes import ALL, EXCLUDE, mode, other_grain_nodes
from semantic.compiler.plannodes import Plan, entities_relied_on
from semantic.compiler.policy import mask_value
from semantic.compiler.refs import (
    QUERY_DIALECT,
    BusinessQuery,
    OrderItem,
    OutputColumn,
    Ref,
    ref_of,
    show,
)
from semantic.compiler.render import build_tree
from semantic.errors import Span, error
from semantic.model import Model
from semantic.model.nodes import column, identifier

BASE = "base"
#: the column each other grain's rows carry, NULL where the LEFT JOIN found no row
PRESENT = "present"


def plan_other_grains(
    model: Model, query: BusinessQuery, plan: Callable[[Model, BusinessQuery], Plan]
) -> Plan | None:
    """The plan of `query` composed of the plans of its grains, or None when it names no
    metric at another grain."""
    metric_trees = [c.expr for c in query.columns if c.is_metric] + list(query.having)
    metric_trees += [o.expr for o in query.order if o.expr is not None]
    if not any(other_grain_nodes(t) for t in metric_trees):
        return None
    dims = [(i, c) for i, c in enumerate(query.columns) if not c.is_metric]
    # the groups of a query with metrics of its own grain are those of every metric it
    # names; without any, a list of values, whose rows the metrics beside it do not choose
    own_grain = any(_own_grain_metric(model, t) for t in metric_trees)
    atoms: dict[str, tuple[str, exp.Expression]] = {}
    grains: dict[tuple[int, ...], dict[str, tuple[str, exp.Expression]]] = {}

    def atom(node: exp.Expression) -> exp.Column:
        text = node.sql(QUERY_DIALECT)
        if text not in atoms:
            atoms[text] = (f"a{len(atoms)}", node.copy())
        return column(atoms[text][0], BASE)

    def outer(tree: exp.Expression) -> exp.Expression:
        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Per):
                kept = _kept(query, dims, node)
                values = grains.setdefault(kept, {})
                text = node.this.sql(QUERY_DIALECT)
                if text not in values:
                    values[text] = (f"v{len(values)}", node.this.copy())
                if own_grain:  # the groups of the query are those of every metric it names
                    atom(node.this)
                alias = _grain_alias(list(grains), kept)
                value = column(values[text][0], alias)
                fill = metric_fill(model, node.this)
                if not kept or fill is None:  # the grand total has its one row
                    return value
                # no row at that grain: the metric has no rows there, and shows its fill
                absent = exp.Is(this=column(PRESENT, alias), expression=exp.Null())
                return exp.Case(ifs=[exp.If(this=absent, true=fill.copy())], default=value)
            if isinstance(node, exp.Filter):
                return atom(node)
            ref = ref_of(node)
            if ref is not None and ref.kind == "term" and model.terms[ref.ident].is_metric:
                return atom(node)
            return node

        return tree.copy().transform(swap, copy=False)

    key = {i: column(f"k{n}", BASE) for n, (i, _) in enumerate(dims)}
    outputs = []
    for i, c in enumerate(query.columns):
        value = outer(c.expr) if c.is_metric else key[i].copy()
        if i in query.masks:
            value = mask_value(query.masks[i], value)
        outputs.append(exp.Alias(this=value, alias=identifier(c.name)))
    having = [outer(h) for h in query.having]
    order = [
        exp.Ordered(
            this=column(query.columns[o.column].name) if o.column is not None else outer(o.expr),  # type: ignore[arg-type]
            desc=o.desc,
            nulls_first=o.nulls_first,
        )
        for o in query.order
    ]
    own = _sub(query, [(f"k{n}", c.expr) for n, (_, c) in enumerate(dims)], list(atoms.values()))
    base_plan = plan(model, own)
    select = exp.Select(expressions=outputs)
    select.set("from_", exp.From(this=_derived(build_tree(base_plan), BASE)))
    joins = []
    relied = entities_relied_on(base_plan)  # for SEM441: see `Plan.relied_on`
    for kept, values in grains.items():
        alias = _grain_alias(list(grains), kept)
        named = [(f"k{n}", dims[n][1].expr) for n in kept]
        planned = plan(model, _sub(query, named, list(values.values())))
        relied |= entities_relied_on(planned)
        tree = build_tree(planned)
        if named:  # the grand total always has its row
            tree.select(exp.alias_(exp.Literal.number(1), PRESENT), copy=False)
        on = [exp.NullSafeEQ(this=column(k, BASE), expression=column(k, alias)) for k, _ in named]
        if on:
            joins.append(exp.Join(this=_derived(tree, alias), on=exp.and_(*on), side="LEFT"))
        else:
            joins.append(exp.Join(this=_derived(tree, alias), kind="CROSS"))
    select.set("joins", joins)
    if having:
        select.set("where", exp.Where(this=exp.and_(*having)))
    if order:
        select.set("order", exp.Order(expressions=order))
    if query.limit is not None:
        select.set("limit", exp.Limit(expression=exp.Literal.number(query.limit)))
    if query.offset is not None:
        select.set("offset", exp.Offset(expression=exp.Literal.number(query.offset)))
    shown = {k: query.columns[dims[int(v[1:])][0]].name for k, v in base_plan.shown.items()}
    notes = [_note(query, dims, kept, values) for kept, values in grains.items()]
    return replace(
        base_plan,
        tree=select,
        having=(),
        order=tuple(OrderItem(o.column, None, o.desc, o.nulls_first) for o in query.order),
        limit=query.limit,
        offset=query.offset,
        shown=shown,
        policy=query.decision,
        notes=(*base_plan.notes, *notes),
        relied_on=relied,
    )


def _note(
    query: BusinessQuery,
    dims: list[tuple[int, OutputColumn]],
    kept: tuple[int, ...],
    values: dict[str, tuple[str, exp.Expression]],
) -> str:
    """One grain of the query in words: its metrics, what they are grouped by, how they
    meet the query's groups."""
    metrics = ", ".join(show(_bare(e)) for _, e in values.values())
    names = [dims[n][1].name for n in kept]
    if not names:
        return (
            f"at another grain: {metrics} over all the query's groups (the grand total, "
            "under the same WHERE), beside each group"
        )
    return (
        f"at another grain: {metrics} by {', '.join(names)} only (under the same WHERE), "
        f"joined to each group on {', '.join(names)}"
    )


def _bare(tree: exp.Expression) -> exp.Expression:
    """`tree` without the parentheses around it."""
    inner = tree.unnest()
    return inner if isinstance(inner, exp.Expression) else tree


def _own_grain_metric(model: Model, tree: exp.Expression) -> bool:
    """Whether `tree` reads a metric at the query's own grain: a metric, or a filtered
    one, outside every `PER` construct."""
    outside = tree.copy().transform(
        lambda n: exp.null() if isinstance(n, exp.Per) else n, copy=False
    )
    if outside.find(exp.Filter) is not None:
        return True
    return any(
        (ref := ref_of(n)) is not None and ref.kind == "term" and model.terms[ref.ident].is_metric
        for n in outside.find_all(exp.Anonymous)
    )


def _grain_alias(grains: list[tuple[int, ...]], kept: tuple[int, ...]) -> str:
    return f"grain_{grains.index(kept) + 1}"


def _derived(tree: exp.Select, alias: str) -> exp.Subquery:
    return exp.Subquery(this=tree, alias=exp.TableAlias(this=identifier(alias)))


def _sub(
    query: BusinessQuery,
    keys: list[tuple[str, exp.Expression]],
    metrics: list[tuple[str, exp.Expression]],
) -> BusinessQuery:
    """A plain query of `keys` and `metrics` (name, expression each) under the query's
    WHERE and role, without its HAVING, order and limit."""
    columns = [OutputColumn(n, e.copy(), False) for n, e in keys]
    columns += [OutputColumn(n, e.copy(), True) for n, e in metrics]
    return replace(
        query, columns=tuple(columns), having=(), order=(), limit=None, offset=None, masks={}
    )


def _kept(
    query: BusinessQuery, dims: list[tuple[int, OutputColumn]], node: exp.Per
) -> tuple[int, ...]:
    """The positions in `dims` of the dimensions a PER node keeps; SEM350 when it names one
    the query does not group by."""
    how = mode(node)
    if how == ALL:
        return ()
    named = [(r, e) for e in node.expressions[1:] if (r := ref_of(e)) is not None]
    matched: set[int] = set()
    for ref, written in named:
        found = {n for n, (_, c) in enumerate(dims) if _matches(ref, c.expr)}
        if not found:
            grouped = ", ".join(c.name for _, c in dims) or "nothing"
            raise error(
                "SEM350",
                f"PER names '{ref.ident}{'.' + ref.grain if ref.grain else ''}', which the "
                f"query does not group by (it groups by {grouped})",
                _place(query, ref.ident, written),
                f"add {ref.ident} to SELECT, or name one of the query's dimensions",
            )
        matched |= found
    if how == EXCLUDE:
        return tuple(n for n in range(len(dims)) if n not in matched)
    return tuple(sorted(matched))


def _place(query: BusinessQuery, ident: str, written: exp.Expression) -> Span:
    """Where the query names a dimension of PER: its own place in the PER written in the
    query (`pernodes.resolve_per`) or the saved metric's (`savedgrain`)."""
    span = written.meta.get("span")
    if isinstance(span, Span):
        return span
    return query.place(ident) if ident in query.places else Span(QUERY_FILE, 1, 1)


def _matches(ref: Ref, expr: exp.Expression) -> bool:
    dim = ref_of(expr)
    return (
        dim is not None and dim.ident == ref.ident and (ref.grain is None or ref.grain == dim.grain)
    )
