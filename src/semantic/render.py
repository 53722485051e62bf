"""Turn a `Plan` into a sqlglot tree, then into SQL text for any sqlglot dialect.

One aggregate becomes one flat SELECT, the query an analyst would write by hand. Several
aggregates (metrics of different entities) each become a CTE grouped at the query's
dimensions; a `keys` CTE unions their groups and every CTE is joined to it on null-safe
equality, so a group present in one aggregate only is kept (full outer semantics) and no
metric is ever multiplied by another entity's rows.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, Dialects
from sqlglot.errors import ErrorLevel, SqlglotError

from semantic.errors import Span, error, suggest
from semantic.plan import Aggregate, Plan
from semantic.query import OrderItem, ref_of

KEYS_CTE = "keys"


def render_sql(plan: Plan, dialect: str = "duckdb", *, pretty: bool = True) -> str:
    """The SQL text of `plan` in `dialect`."""
    tree = build_tree(plan)
    try:
        return tree.sql(
            dialect=dialect_of(dialect), pretty=pretty, unsupported_level=ErrorLevel.RAISE
        )
    except SqlglotError as exc:
        raise error(
            "SEM312",
            f"cannot write this query in dialect '{dialect}': {exc}",
            Span("<query>", 1, 1),
            "try another dialect or a simpler expression",
        ) from None


def dialect_of(name: str) -> Dialect:
    """The sqlglot dialect called `name`, or SEM312 with suggestions."""
    try:
        return Dialect.get_or_raise(name)
    except (ValueError, SqlglotError):
        known = [d.value for d in Dialects if d.value]
        raise error(
            "SEM312",
            f"unknown SQL dialect '{name}'",
            None,
            suggest(name, known) or f"known dialects: {', '.join(sorted(known))}",
        ) from None


def build_tree(plan: Plan) -> exp.Select:
    """The sqlglot tree of `plan`."""
    if len(plan.aggregates) == 1:
        return _flat(plan, plan.aggregates[0])
    return _combined(plan)


def _aggregate_select(agg: Aggregate) -> exp.Select:
    select = exp.select(
        *(exp.alias_(e, name, quoted=None) for name, e in agg.keys),
        copy=False,
    ).from_(exp.to_table(agg.table).as_(agg.entity), copy=False)
    for join in agg.joins:
        condition = exp.and_(
            *(
                exp.column(src, join.parent).eq(exp.column(tgt, join.alias))
                for src, tgt in join.edge.keys
            ),
            copy=False,
        )
        table = exp.to_table(join.table).as_(join.alias)
        select = select.join(table, on=condition, join_type="left", copy=False)
    if agg.filters:
        select = select.where(*agg.filters, copy=False)
    if agg.keys:
        select = select.group_by(*(e.copy() for _, e in agg.keys), copy=False)
    return select


def _flat(plan: Plan, agg: Aggregate) -> exp.Select:
    keys = dict(agg.keys)
    measures = dict(agg.measures)

    def inline(node: exp.Expression) -> exp.Expression:
        def swap(n: exp.Expression) -> exp.Expression:
            ref = ref_of(n)
            if ref is None:
                return n
            return (keys if ref.kind == "key" else measures)[ref.ident].copy()

        return node.copy().transform(swap, copy=False)

    select = _aggregate_select(agg)
    # _aggregate_select selected the keys; the metric columns go in their written order
    select.set(
        "expressions", [exp.alias_(inline(e), name, quoted=None) for name, e in plan.columns]
    )
    if plan.having:
        select = select.having(*(inline(h) for h in plan.having), copy=False)
    return _finish(select, plan, inline)


def _combined(plan: Plan) -> exp.Select:
    names = {agg.entity: f"{agg.entity}_metrics" for agg in plan.aggregates}
    owner = {m: names[agg.entity] for agg in plan.aggregates for m, _ in agg.measures}
    key_names = [name for name, _ in plan.aggregates[0].keys]
    select = exp.select(copy=False)
    for agg in plan.aggregates:
        cte = _aggregate_select(agg)
        cte.set(
            "expressions",
            [
                *cte.expressions,
                *(exp.alias_(e, m, quoted=None) for m, e in agg.measures),
            ],
        )
        select = select.with_(names[agg.entity], as_=cte, copy=False)
    if key_names:
        union: exp.Expression = exp.select(*key_names).from_(names[plan.aggregates[0].entity])
        for agg in plan.aggregates[1:]:
            union = exp.union(union, exp.select(*key_names).from_(names[agg.entity]), distinct=True)
        select = select.with_(KEYS_CTE, as_=union, copy=False).from_(KEYS_CTE, copy=False)
        for agg in plan.aggregates:
            on = exp.and_(
                *(
                    exp.NullSafeEQ(
                        this=exp.column(k, KEYS_CTE), expression=exp.column(k, names[agg.entity])
                    )
                    for k in key_names
                ),
                copy=False,
            )
            select = select.join(names[agg.entity], on=on, join_type="left", copy=False)
    else:
        select = select.from_(names[plan.aggregates[0].entity], copy=False)
        for agg in plan.aggregates[1:]:
            select = select.join(names[agg.entity], join_type="cross", copy=False)

    def inline(node: exp.Expression) -> exp.Expression:
        def swap(n: exp.Expression) -> exp.Expression:
            ref = ref_of(n)
            if ref is None:
                return n
            return exp.column(ref.ident, KEYS_CTE if ref.kind == "key" else owner[ref.ident])

        return node.copy().transform(swap, copy=False)

    select.set(
        "expressions", [exp.alias_(inline(e), name, quoted=None) for name, e in plan.columns]
    )
    if plan.having:
        select = select.where(*(inline(h) for h in plan.having), copy=False)
    return _finish(select, plan, inline)


def _finish(select: exp.Select, plan: Plan, inline: object) -> exp.Select:
    if plan.order:
        select = select.order_by(*(_ordered(o, plan, inline) for o in plan.order), copy=False)
    if plan.limit is not None:
        select = select.limit(plan.limit, copy=False)
    if plan.offset is not None:
        select = select.offset(plan.offset, copy=False)
    return select


def _ordered(item: OrderItem, plan: Plan, inline: object) -> exp.Ordered:
    if item.column is not None:
        target: exp.Expression = exp.column(plan.columns[item.column][0])
    else:
        assert item.expr is not None
        target = inline(item.expr)  # type: ignore[operator]
    return exp.Ordered(this=target, desc=item.desc, nulls_first=item.nulls_first)
