"""Turn a `Plan` into a sqlglot tree, then into SQL text for any sqlglot dialect.

The shape of the SQL is decided by `semantic.compiler.shape.shape_plan`; here each node of
that shape is written by a function of its own (`render_shape`). One aggregate becomes one
flat SELECT, the query an analyst would write by hand. Several aggregates (metrics of
different entities) each become a CTE grouped at the query's dimensions; a `keys` CTE unions
their groups and every CTE is joined to it on null-safe equality, so a group present in one
aggregate only is kept (full outer semantics) and no metric is ever multiplied by another
entity's rows.

Names: the plan knows group keys and measures by ids; every column, table alias and CTE name
written here is handed out by a `naming.Names` of the SQL scope it belongs to (seeded, for
CTEs, with the physical tables the query reads, which a CTE of that name would hide). The
analyst's output names appear in the outermost SELECT only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import cast

from sqlglot import exp

from semantic.compiler.ctenames import unique_ctes
from semantic.compiler.dialects import to_sql
from semantic.compiler.naming import Names
from semantic.compiler.plannodes import Plan
from semantic.compiler.refs import OrderItem, find_refs, ref_of
from semantic.compiler.rolling import daily_window_ctes
from semantic.compiler.shape import (
    FILLED,
    Aggregate,
    Combine,
    DailyWindow,
    DistinctRows,
    EagerRows,
    Periods,
    Project,
    Shift,
    Window,
    shape_plan,
)
from semantic.compiler.sources import any_of, eager_rows_sql, number_rows, rows_sql
from semantic.compiler.spine import spine_keys
from semantic.model.nodes import column, identifier, table

KEYS_CTE = "keys"


def render_sql(
    plan: Plan,
    dialect: str = "duckdb",
    *,
    pretty: bool = True,
    schema: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """The SQL text of `plan` in `dialect` (`schema`: the column types, see `to_sql`)."""
    return to_sql(build_tree(plan), dialect, pretty=pretty, schema=schema, copy=False)


def used_params(plan: Plan) -> tuple[str, ...]:
    """The parameters of `plan` its SQL reads: a role's attribute bound for an entity the
    query does not read is not among them (an engine refuses values it has no place for)."""
    found = {p.name for p in build_tree(plan).find_all(exp.Placeholder)}
    return tuple(p for p in plan.params if p in found)


def build_tree(plan: Plan) -> exp.Select:
    """The sqlglot tree of `plan`, written from its shape (`shape.shape_plan`), or the
    tree it was composed into (`Plan.tree`)."""
    if plan.tree is not None:
        return cast(exp.Select, unique_ctes(plan.tree.copy()))
    return cast(exp.Select, unique_ctes(render_shape(shape_plan(plan))))


def render_shape(project: Project) -> exp.Select:
    """The sqlglot tree of `project`, a node of each kind written by a function of its own.

    Nodes are built directly rather than through sqlglot's string-accepting builders, which
    would parse every table name and join.
    """
    source = project.source
    if isinstance(source, Periods):
        return _over_time(project, source)
    if isinstance(source, Combine):
        return _combined(project, source)
    return _flat(project, source)


PERIODS = "periods"


def _over_time(project: Project, shape: Periods) -> exp.Select:
    """Windows and shifts: the per-period results in a CTE, joined to themselves on earlier
    periods."""
    keys = list(shape.keys)
    per_period = render_shape(shape.per_period)
    inner_ctes = per_period.args.get("with_")
    ctes = list(inner_ctes.expressions) if inner_ctes else []
    per_period.set("with_", None)
    # one namespace for the CTEs and the tables of the final SELECT, which reads both
    names = Names([*_tables(shape.per_period.source), *(cte.alias for cte in ctes)])
    periods = names.new(PERIODS)
    current = names.new("current_period")
    ctes.append(_cte(periods, per_period))
    select = exp.Select()
    select.set("from_", exp.From(this=table(periods, current)))
    joins: list[exp.Join] = []
    source: dict[str, exp.Expression] = {}
    for step in shape.steps:
        ot = step.over
        others = list(ot.partition)
        boundary = _on_keys(ot.boundary, current) if ot.boundary is not None else None
        earlier = names.new(ot.alias)
        if isinstance(step, Shift):
            assert boundary is not None
            same = [
                exp.NullSafeEQ(this=column(k, current), expression=column(k, earlier))
                for k in others
            ]
            on = _and([column(ot.key, earlier).eq(boundary), *same])
            joins.append(exp.Join(this=table(periods, earlier), on=on, side="LEFT"))
            source[ot.alias] = _inline_measures(ot.value, earlier, ot.key, project)
            continue
        if isinstance(step, DailyWindow):  # per day, then per period: `rolling`
            daily, day_keys, day_measures = _source(step.daily)
            daily.set(
                "expressions",
                [_alias(e.copy(), k) for k, e in day_keys.items()]
                + [_alias(e.copy(), m) for m, e in day_measures.items()],
            )
            ctes += daily_window_ctes(step, daily, periods, names, earlier)
            on = _and(
                [
                    exp.NullSafeEQ(this=column(k, current), expression=column(k, earlier))
                    for k in (ot.key, *others)
                ]
            )
            joins.append(exp.Join(this=table(earlier), on=on, side="LEFT"))
            source[ot.alias] = _inline_measures(ot.value, earlier, ot.key, project)
            continue
        # a window: a scope of its own, reading `periods` as `current` and as the periods of
        # the window (its other table names are fixed there)
        if step.rows is not None:
            rows = names.new(step.rows.name)
            ctes += _window_over_rows(step, keys, boundary, periods, current, rows, earlier)
        else:
            spans = _window_over_periods(step, keys, boundary, periods, current)
            ctes.append(_cte(earlier, spans))
        on = _and(
            [exp.NullSafeEQ(this=column(k, current), expression=column(k, earlier)) for k in keys]
        )
        joins.append(exp.Join(this=table(earlier), on=on, side="LEFT"))
        source[ot.alias] = _inline_measures(ot.value, earlier, ot.key, project)
    select.set("joins", joins)
    select.set("with_", exp.With(expressions=ctes))

    def measure(name: str) -> exp.Expression:
        if name in source:
            return source[name].copy()
        # the per-period results already show the fill for a period without rows
        return column(name, current)

    def inline(node: exp.Expression) -> exp.Expression:
        return _swap_refs(node, lambda k: column(k, current), measure)

    select.set("expressions", [_alias(inline(e), name) for name, e in project.columns])
    conditions = [inline(c) for c in (*project.periods, *project.having)]
    if conditions:
        select.set("where", exp.Where(this=_and(conditions)))
    return _finish(select, project, inline)


def _window_over_periods(
    step: Window,
    keys: list[str],
    boundary: exp.Expression | None,
    periods: str,
    current: str,
) -> exp.Select:
    """A window that adds up: for each current period, the sum of the per-period results
    of the periods of its window. A sum of counts stays an integer (`counts`: the measures
    that are counts), as the count of the window's rows would be."""
    ot, counts = step.over, step.counts

    def total(measure: str) -> exp.Expression:
        summed = exp.Sum(this=column(measure, "window_period"))
        return exp.cast(summed, exp.DataType.Type.BIGINT) if measure in counts else summed

    now = column(ot.key, current)
    window = column(ot.key, "window_period")
    lower = [] if boundary is None else [window >= boundary if ot.inclusive else window > boundary]
    spans = exp.Select(
        expressions=[
            *(_alias(column(k, current), k) for k in keys),
            *(_alias(total(m), m) for m in _measures_in(ot.value)),
        ]
    )
    spans.set("from_", exp.From(this=table(periods, current)))
    same_window = [
        exp.NullSafeEQ(this=column(k, "window_period"), expression=column(k, current))
        for k in ot.partition
    ]
    spans.set(
        "joins",
        [
            exp.Join(
                this=table(periods, "window_period"),
                on=_and([*lower, window.copy() <= now, *same_window]),
            )
        ],
    )
    spans.set("group", exp.Group(expressions=[column(k, current) for k in keys]))
    return spans


#: alias of the rows of a window computed from rows (`_window_over_rows`)
WINDOW_ROWS = "window_rows"


def _window_over_rows(
    step: Window,
    keys: list[str],
    boundary: exp.Expression | None,
    periods: str,
    current: str,
    rows: str,
    name: str,
) -> list[exp.CTE]:
    """A window that does not add up over periods: the rows of the metric's entity with
    their period and partition keys (one each per entity row, period and partition: the
    distinct rows of a fanned-out aggregate), then, for each current period, the rows of
    every period of its window, each entity row once, aggregated.

    `WITH w_rows AS (SELECT DISTINCT key, period, values ...), w AS (SELECT period, agg(...)
    FROM (SELECT DISTINCT current.period, w_rows.key, values FROM periods AS current JOIN
    w_rows ON w_rows.period in the window of current.period) GROUP BY period)`.
    """
    ot, agg = step.over, step.rows
    assert agg is not None and isinstance(agg.source, DistinctRows)
    # the rows that a fanned-out aggregate reads: one per entity row and group (equal ones
    # all kept where no join fans them out, each row being in one group already)
    grouped, _, measures = _source(agg)
    source = grouped.args["from_"].this
    assert isinstance(source, exp.Subquery) and isinstance(source.this, exp.Select)
    body = source.this
    own = {name for name, _ in agg.keys}
    carried = [c.alias_or_name for c in body.expressions if c.alias_or_name not in own]
    now = column(ot.key, current)
    window = column(ot.key, WINDOW_ROWS)
    lower = [] if boundary is None else [window >= boundary if ot.inclusive else window > boundary]
    same = [
        exp.NullSafeEQ(this=column(k, WINDOW_ROWS), expression=column(k, current))
        for k in ot.partition
    ]
    pairs = exp.Select(
        expressions=[
            *(_alias(column(k, current), k) for k in keys),
            *(_alias(column(c, WINDOW_ROWS), c) for c in carried),
        ]
    )
    pairs.set("from_", exp.From(this=table(periods, current)))
    pairs.set(
        "joins",
        [
            exp.Join(
                this=table(rows, WINDOW_ROWS),
                on=_and([*lower, window.copy() <= now, *same]),
            )
        ],
    )
    if agg.source.distinct:  # an entity row in several periods of the window counts once
        pairs.set("distinct", exp.Distinct())
    outer = exp.Select(
        expressions=[
            *(_alias(column(k, ROWS), k) for k in keys),
            *(_alias(e.copy(), m) for m, e in measures.items()),
        ]
    )
    outer.set(
        "from_",
        exp.From(this=exp.Subquery(this=pairs, alias=exp.TableAlias(this=exp.to_identifier(ROWS)))),
    )
    outer.set("group", exp.Group(expressions=[column(k, ROWS) for k in keys]))
    return [_cte(rows, body), _cte(name, outer)]


def _cte(name: str, query: exp.Expr) -> exp.CTE:
    return exp.CTE(this=query, alias=exp.TableAlias(this=identifier(name)))


def _tables(source: Aggregate | Combine | Periods) -> list[str]:
    """The names of the physical tables `source` reads: a CTE must not take one."""
    if isinstance(source, Periods):
        return _tables(source.per_period.source)
    parts = source.parts if isinstance(source, Combine) else (source,)
    return [t.rpartition(".")[2] for agg in parts for t in agg.rows.tables]


def _swap_refs(
    node: exp.Expression,
    key: Callable[[str], exp.Expression] | None = None,
    measure: Callable[[str], exp.Expression] | None = None,
) -> exp.Expression:
    """A copy of `node` with key and measure references replaced by what `key` and
    `measure` give for their names (left as they are without a function)."""

    def swap(n: exp.Expression) -> exp.Expression:
        ref = ref_of(n)
        if ref is None:
            return n
        replace_with = key if ref.kind == "key" else measure
        return replace_with(ref.ident) if replace_with is not None else n

    swapped = swap(node)
    if swapped is not node:  # a reference alone (most columns): what replaces it is new
        return swapped
    return node.copy().transform(swap, copy=False)


def _on_keys(expr: exp.Expression, table: str) -> exp.Expression:
    """`expr` with key references read from the per-period row `table`."""
    return _swap_refs(expr, key=lambda k: column(k, table))


def _measures_in(value: exp.Expression) -> list[str]:
    return [r.ident for r in find_refs(value, "measure")]


def _inline_measures(
    value: exp.Expression, table: str, key: str, project: Project
) -> exp.Expression:
    """`value` over the measures of the per-period row `table`, joined on the period `key`:
    a period without a row there (none is earlier) takes the fill."""
    present = exp.not_(column(key, table).is_(exp.null()))
    return _swap_refs(
        value, measure=lambda m: _filled(column(m, table), project.fills.get(m), present)
    )


def _alias(expr: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=expr, alias=identifier(name))


def _and(conditions: list[exp.Expression]) -> exp.Expression:
    if len(conditions) == 1:
        return conditions[0]
    return cast(exp.Expression, exp.and_(*conditions, copy=False))


def _named(col: exp.Column, name: str) -> exp.Expression:
    """`col`, aliased only when `name` is not its own."""
    return col if col.name == name else _alias(col, name)


#: alias of the distinct rows of a fanned-out aggregate
ROWS = "entity_rows"


def _source(
    agg: Aggregate,
) -> tuple[exp.Select, dict[str, exp.Expression], dict[str, exp.Expression]]:
    """A SELECT without columns computing `agg`'s groups, and the expressions that its keys
    and measures have in it."""
    own = getattr(agg, "source_sql", None)
    if own is not None:  # a part with SQL of its own (`compiler.conversion`)
        return cast(tuple[exp.Select, dict[str, exp.Expression], dict[str, exp.Expression]], own())
    body = exp.Select()
    if isinstance(agg.source, EagerRows):
        eager_rows_sql(agg.source, body)
    else:
        rows_sql(agg.rows, body)
    if not isinstance(agg.source, DistinctRows):
        if agg.keys:
            body.set("group", exp.Group(expressions=[e.copy() for _, e in agg.keys]))
        if agg.kept:  # a HAVING, not a WHERE: the conditions are evaluated once per row
            matched = [
                exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=c.copy())) > 0
                for c in agg.kept
            ]
            body.set("having", exp.Having(this=any_of(matched)))
        return body, dict(agg.keys), dict(agg.measures)
    return _distinct_rows(agg, agg.source, body)


def _distinct_rows(
    agg: Aggregate, shape: DistinctRows, body: exp.Select
) -> tuple[exp.Select, dict[str, exp.Expression], dict[str, exp.Expression]]:
    """`agg` over the distinct rows of its fanned-out entity (`shape`), read by `body`."""
    # A one-to-many join repeats the entity's rows: keep one row per entity row and group,
    # carrying the columns the measures read, then aggregate those distinct rows. The rows'
    # columns are named in their own scope: the group keys by id, the entity's key and the
    # columns the measures read by their physical names (a column read twice is one column).
    scope = Names()
    key_names = {name: scope.new(name) for name, _ in agg.keys}
    leaves: dict[tuple[str, str], str] = {}
    physical: dict[tuple[str, str], exp.Column] = {}

    def leaf(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            key = (node.table, node.name)
            if key not in leaves:
                leaves[key] = scope.new(node.name)
                physical[key] = cast(exp.Column, node.copy())
            return column(leaves[key], ROWS)
        return node

    measures = {m: e.copy().transform(leaf, copy=False) for m, e in agg.measures}
    columns: list[exp.Expression] = [_alias(e.copy(), key_names[name]) for name, e in agg.keys]
    columns += [_named(physical[k], leaves[k]) for k in leaves]
    body.set("expressions", columns)
    # The identity of an entity row is its number, not its key: rows whose key is NULL (or
    # repeats) are rows all the same, and merging them would count them once (issue #19).
    number = number_rows(body, agg.rows)
    body.set("expressions", [_named(number, scope.new(number.name)), *columns])
    if shape.distinct:
        body.set("distinct", exp.Distinct())
    outer = exp.Select()
    outer.set(
        "from_",
        exp.From(this=exp.Subquery(this=body, alias=exp.TableAlias(this=exp.to_identifier(ROWS)))),
    )
    keys: dict[str, exp.Expression] = {name: column(key_names[name], ROWS) for name, _ in agg.keys}
    if keys:
        outer.set("group", exp.Group(expressions=[k.copy() for k in keys.values()]))
    return outer, keys, measures


def _flat(project: Project, agg: Aggregate) -> exp.Select:
    select, keys, measures = _source(agg)

    def measure(name: str) -> exp.Expression:
        value = measures[name].copy()
        # with group keys, a group exists only where the metric has rows; the grand total
        # of an empty selection is one row without any, and takes the fill (a count is
        # already 0 there)
        if keys or _is_count(value) or value.meta.get(FILLED):
            return value
        return _filled(value, project.fills.get(name), exp.Count(this=exp.Star()) > 0)

    def inline(node: exp.Expression) -> exp.Expression:
        return _swap_refs(node, lambda k: keys[k].copy(), measure)

    select.set("expressions", [_alias(inline(e), name) for name, e in project.columns])
    if project.having:
        having = [inline(h) for h in project.having]
        own = select.args.get("having")
        if own is not None:
            having.insert(0, exp.paren(own.this, copy=False))
        select.set("having", exp.Having(this=_and(having)))
    return _finish(select, project, inline)


def _is_count(value: exp.Expression) -> bool:
    """Whether `value` is a count, of every row or of those meeting a condition (never
    NULL: 0 over no rows)."""
    if isinstance(value, exp.Filter):
        value = value.this
    return isinstance(value, exp.Count)


def _combined(project: Project, shape: Combine) -> exp.Select:
    key_ids = list(shape.keys)
    ctes = []
    tables = Names(_tables(shape))
    #: for each aggregate: its CTE's name, and the name of each key and measure there
    named: list[tuple[str, dict[str, str]]] = []
    owner: dict[str, int] = {}
    markers: dict[int, str] = {}
    for i, agg in enumerate(shape.parts):
        body, keys, measures = _source(agg)
        scope = Names()
        names = {k: scope.new(k) for k in (*keys, *measures)}
        counted = []
        if agg.counted:
            # the rows of the group: tells a group without rows (filled) from a NULL aggregate
            markers[i] = scope.new("__rows")
            counted = [_alias(exp.Count(this=exp.Star()), markers[i])]
        body.set(
            "expressions",
            [_alias(e.copy(), names[k]) for k, e in keys.items()]
            + [_alias(e.copy(), names[m]) for m, e in measures.items()]
            + counted,
        )
        named.append((tables.new(agg.name), names))
        owner.update((m, i) for m in measures)
        ctes.append(_cte(named[-1][0], body))
    select = exp.Select()
    keys_cte = tables.new(KEYS_CTE)
    scope = Names()
    key_names = {k: scope.new(k) for k in key_ids}
    if key_ids:
        branches = [
            exp.Select(expressions=[_named(column(names[k]), key_names[k]) for k in key_ids]).from_(
                table(cte), copy=False
            )
            for cte, names in named
        ]
        union: exp.Query = branches[0]
        for branch in branches[1:]:
            union = exp.Union(this=union, expression=branch, distinct=True)
        if shape.spine is not None:  # every period, those without rows too
            made, union = spine_keys(shape.spine, union, key_names, tables)
            ctes += made
        ctes.append(_cte(keys_cte, union))
        select.set("from_", exp.From(this=table(keys_cte)))
        select.set(
            "joins",
            [
                exp.Join(
                    this=table(cte),
                    on=_and(
                        [
                            # keys the model promises are never NULL match with `=`, which
                            # every engine can hash; the others null-safe
                            (exp.EQ if k in shape.plain else exp.NullSafeEQ)(
                                this=column(key_names[k], keys_cte),
                                expression=column(names[k], cte),
                            )
                            for k in key_ids
                        ]
                    ),
                    side="LEFT",
                )
                for cte, names in named
            ],
        )
    else:
        select.set("from_", exp.From(this=table(named[0][0])))
        select.set(
            "joins",
            [exp.Join(this=table(cte), kind="CROSS") for cte, _ in named[1:]],
        )
    select.set("with_", exp.With(expressions=ctes))

    def measure(m: str) -> exp.Expression:
        cte, names = named[owner[m]]
        # a group that the metric's aggregate has no row for: the join found no row there,
        # or (without group keys) the aggregate counted none
        marker = markers.get(owner[m])
        present = column(marker, cte) > 0 if marker is not None else None
        return _filled(column(names[m], cte), project.fills.get(m), present)

    def inline(node: exp.Expression) -> exp.Expression:
        return _swap_refs(node, lambda k: column(key_names[k], keys_cte), measure)

    select.set("expressions", [_alias(inline(e), name) for name, e in project.columns])
    if project.having:
        select.set("where", exp.Where(this=_and([inline(h) for h in project.having])))
    return _finish(select, project, inline)


def _filled(
    value: exp.Expression, fill: exp.Expression | None, present: exp.Expression | None = None
) -> exp.Expression:
    """`value`, or `fill` where a group has no row for it.

    `present` is true where the group has rows; without it, a NULL `value` is taken for a
    group without rows, which is only right for a value never NULL over rows (a count).
    """
    if fill is None:
        return value
    if present is None:
        return exp.Coalesce(this=value, expressions=[fill.copy()])
    return exp.Case(ifs=[exp.If(this=present, true=value)], default=fill.copy())


def _finish(
    select: exp.Select, project: Project, inline: Callable[[exp.Expression], exp.Expression]
) -> exp.Select:
    if project.order:
        ordered = [_ordered(o, project, inline) for o in project.order]
        select.set("order", exp.Order(expressions=ordered))
    if project.limit is not None:
        select.set("limit", exp.Limit(expression=exp.Literal.number(project.limit)))
    if project.offset is not None:
        select.set("offset", exp.Offset(expression=exp.Literal.number(project.offset)))
    return select


def _ordered(
    item: OrderItem, project: Project, inline: Callable[[exp.Expression], exp.Expression]
) -> exp.Ordered:
    if item.column is not None:
        target: exp.Expression = column(project.columns[item.column][0])
    else:
        assert item.expr is not None
        target = inline(item.expr)
    return exp.Ordered(this=target, desc=item.desc, nulls_first=item.nulls_first)
