"""The shape of a query's SQL, decided once from its `Plan`: a tree of small frozen nodes.

`shape_plan` chooses how the answer is computed: one flat SELECT for one aggregate, a
combination of aggregates on the union of their group keys, a DISTINCT subquery where a
join fans an entity's rows out, the per-period results joined to their earlier periods for
windows and shifts. `semantic.compiler.render` then only writes the SQL of each node, taking
its names from one `naming.Names` per SQL scope. `format_shape` prints the tree, one node a
line (the snapshots of tests/fixtures/shapes):

- `Project`: the outermost SELECT, the analyst's columns, conditions, order and limit;
- `Combine`: several aggregates joined on their group keys (or crossed, without keys);
- `Periods`: the per-period results, with the `Window`s, `DailyWindow`s and `Shift`s read
  from them;
- `Aggregate`: rows grouped at the query's keys, aggregated to measures;
- `DistinctRows`: the rows of a fanned-out entity, each entity row once per group;
- `Rows`: an entity's rows, joined along paths and filtered.

>>> count = exp.Count(this=exp.Star())
>>> rows = Rows("orders", "orders", (), ())
>>> agg = Aggregate("orders_metrics", rows, (), (("order_count", count),))
>>> print(format_shape(Project(agg, (("n", make_ref("measure", "order_count")),))))
Project n = order_count
  Aggregate orders_metrics by (all rows): order_count = COUNT(*)
    Rows of orders (orders)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import cast

from sqlglot import exp

from semantic.compiler import plannodes
from semantic.compiler.plannodes import Join, OverTime, Plan
from semantic.compiler.refs import OrderItem, make_ref, show


@dataclass(frozen=True, slots=True)
class Rows:
    """The rows of `entity` (read from `table`), LEFT JOINed along `joins`, filtered."""

    entity: str
    table: str
    joins: tuple[Join, ...]
    filters: tuple[exp.Expression, ...]

    def describe(self) -> str:
        """One line saying what this node computes."""
        line = f"Rows of {self.entity} ({self.table})"
        if self.joins:
            line += " left join " + ", ".join(f"{j.alias} ({j.table})" for j in self.joins)
        if self.filters:
            line += " where " + " and ".join(show(f) for f in self.filters)
        return line


@dataclass(frozen=True, slots=True)
class DistinctRows:
    """The rows of `of`, numbered per entity row, one per entity row and group: a join
    along `fanout` repeats them. Without `distinct`, equal rows are all kept (the rows of a
    window's entity that no join fans out)."""

    of: Rows
    fanout: tuple[str, ...]
    distinct: bool = True

    def describe(self) -> str:
        """One line saying what this node computes."""
        if not self.distinct:
            return (
                f"DistinctRows: every {self.of.entity} row, numbered (no fan-out: equal rows kept)"
            )
        along = ", ".join(self.fanout)
        return f"DistinctRows: each {self.of.entity} row once per group (fan-out: {along})"


@dataclass(frozen=True, slots=True)
class Aggregate:
    """The rows of `source` grouped by `keys` (at `grain`, the entity's), aggregated to
    `measures`; `counted`: the group's rows are counted too, to tell a group without rows
    (which takes a fill) from a NULL aggregate."""

    name: str
    source: Rows | DistinctRows
    keys: tuple[tuple[str, exp.Expression], ...]
    measures: tuple[tuple[str, exp.Expression], ...]
    grain: tuple[str, ...] = ()
    counted: bool = False

    @property
    def rows(self) -> Rows:
        """The entity's rows the aggregate reads."""
        return self.source.of if isinstance(self.source, DistinctRows) else self.source

    def describe(self) -> str:
        """One line saying what this node computes."""
        keys = ", ".join(f"{k} = {show(e)}" for k, e in self.keys) or "(all rows)"
        measures = ", ".join(f"{m} = {show(e)}" for m, e in self.measures)
        grain = f" at {self.rows.entity} grain ({', '.join(self.grain)})" if self.grain else ""
        counted = " + row count" if self.counted else ""
        return f"Aggregate {self.name}{grain} by {keys}: {measures}{counted}"


@dataclass(frozen=True, slots=True)
class Combine:
    """The results of `parts` joined on the union of their `keys` (null-safe, full outer
    semantics), or crossed when there are no keys (each part is one row)."""

    parts: tuple[Aggregate, ...]
    keys: tuple[str, ...]

    def describe(self) -> str:
        """One line saying what this node computes."""
        if not self.keys:
            return f"Combine {len(self.parts)} aggregates: cross join (one row each)"
        return f"Combine {len(self.parts)} aggregates on keys {', '.join(self.keys)}"


@dataclass(frozen=True, slots=True)
class Shift:
    """A metric read from an earlier period of the per-period results (a LEFT self-join)."""

    over: OverTime

    def describe(self) -> str:
        """One line saying what this node computes."""
        ot = self.over
        assert ot.boundary is not None
        same = f", same {', '.join(ot.partition)}" if ot.partition else ""
        return f"Shift {ot.alias} = {show(ot.value)} at {ot.key} = {show(ot.boundary)}{same}"


@dataclass(frozen=True, slots=True)
class Window:
    """A metric over the periods of a trailing window of each period: the sum of the
    per-period results (`counts`: the measures summed back to integers), or, with `rows`,
    the entity's rows of the whole window aggregated once."""

    over: OverTime
    keys: tuple[str, ...]
    counts: tuple[str, ...] = ()
    rows: Aggregate | None = None

    def describe(self) -> str:
        """One line saying what this node computes."""
        ot = self.over
        if ot.boundary is None:
            since = "all earlier periods"
        else:
            since = f"{ot.key} {'>=' if ot.inclusive else '>'} {show(ot.boundary)}"
        same = f", same {', '.join(ot.partition)}" if ot.partition else ""
        how = "from the rows of the window" if self.rows else "summing per-period results"
        return f"Window {ot.alias} = {show(ot.value)} over {since}{same}: {how}"


@dataclass(frozen=True, slots=True)
class DailyWindow:
    """A window per day (`rolling: day`): the metric's rows aggregated per day (`daily`),
    every day of each period, each day's window summed from the days in it (a day whose
    window holds no row has no value), then each period's `first`, `last` or `average` of
    its days' values (`counts`: the measures summed back to integers)."""

    over: OverTime
    daily: Aggregate
    counts: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line saying what this node computes."""
        ot = self.over
        if ot.boundary is None:
            since = "all earlier days"
        else:
            since = f"day {'>=' if ot.inclusive else '>'} {show(ot.boundary)}"
        same = f", same {', '.join(ot.partition)}" if ot.partition else ""
        value = (
            "the average of its days"
            if ot.period_value == "average"
            else f"the {ot.period_value} day's"
        )
        return f"DailyWindow {ot.alias} = {show(ot.value)} over {since}{same}: {value}"


@dataclass(frozen=True, slots=True)
class Periods:
    """The per-period results (every key and base measure) joined to themselves on earlier
    periods, once per `steps`."""

    per_period: Project
    steps: tuple[Window | Shift | DailyWindow, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        """The group keys of a period."""
        return group_keys(self.per_period.source)

    def describe(self) -> str:
        """One line saying what this node computes."""
        n = len(self.steps)
        return f"Periods by {', '.join(self.keys)}: {n} metric{'s' if n > 1 else ''} over time"


@dataclass(frozen=True, slots=True)
class Project:
    """The SELECT of the answer over `source`: `columns` (over key and measure references),
    `having` and `periods` conditions, `order`, `limit` and `offset`; `fills` is what a group
    without rows shows for a measure."""

    source: Aggregate | Combine | Periods
    columns: tuple[tuple[str, exp.Expression], ...]
    having: tuple[exp.Expression, ...] = ()
    periods: tuple[exp.Expression, ...] = ()
    order: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
    fills: Mapping[str, exp.Expression] = field(default_factory=dict)

    def describe(self) -> str:
        """One line saying what this node computes."""
        line = "Project " + ", ".join(f"{n} = {show(e)}" for n, e in self.columns)
        conditions = [*self.periods, *self.having]
        if conditions:
            line += " where " + " and ".join(show(c) for c in conditions)
        if self.fills:
            line += " fill " + ", ".join(f"{m} = {show(f)}" for m, f in sorted(self.fills.items()))
        if self.order:
            line += " order by " + ", ".join(_order(o, self.columns) for o in self.order)
        if self.limit is not None:
            line += f" limit {self.limit}"
        if self.offset is not None:
            line += f" offset {self.offset}"
        return line


Node = Project | Combine | Periods | Window | DailyWindow | Shift | Aggregate | DistinctRows | Rows


def _order(item: OrderItem, columns: tuple[tuple[str, exp.Expression], ...]) -> str:
    if item.column is not None:
        target = columns[item.column][0]
    else:
        assert item.expr is not None
        target = show(item.expr)
    return target + (" desc" if item.desc else "")


def group_keys(source: Aggregate | Combine | Periods) -> tuple[str, ...]:
    """The ids of the group keys of `source`'s rows."""
    if isinstance(source, Aggregate):
        return tuple(k for k, _ in source.keys)
    return source.keys


def children(node: Node) -> tuple[Node, ...]:
    """The nodes `node` reads."""
    if isinstance(node, Project):
        return (node.source,)
    if isinstance(node, Combine):
        return node.parts
    if isinstance(node, Periods):
        return (node.per_period, *node.steps)
    if isinstance(node, Window):
        return (node.rows,) if node.rows is not None else ()
    if isinstance(node, DailyWindow):
        return (node.daily,)
    if isinstance(node, Aggregate):
        return (node.source,)
    if isinstance(node, DistinctRows):
        return (node.of,)
    return ()


def format_shape(node: Node, indent: int = 0) -> str:
    """The tree under `node`, one node a line, each indented under the node reading it."""
    lines = ["  " * indent + node.describe()]
    lines += [format_shape(child, indent + 1) for child in children(node)]
    return "\n".join(lines)


def shape_plan(plan: Plan) -> Project:
    """The SQL shape of `plan`."""
    if plan.over_time:
        return _over_time(plan)
    source: Aggregate | Combine
    if len(plan.aggregates) == 1:
        source = aggregate(plan.aggregates[0])
    else:
        source = Combine(
            tuple(aggregate(a, counted=_needs_marker(plan, a)) for a in plan.aggregates),
            tuple(k for k, _ in plan.aggregates[0].keys),
        )
    return Project(
        source,
        plan.columns,
        having=plan.having,
        order=plan.order,
        limit=plan.limit,
        offset=plan.offset,
        fills=plan.fills,
    )


def aggregate(
    agg: plannodes.Aggregate, *, counted: bool = False, rows_of_window: bool = False
) -> Aggregate:
    """The node of `agg`: its rows, made distinct when a join fans them out (always for the
    rows of a window, `rows_of_window`, which keep equal rows unless fanned out)."""
    shaped = getattr(agg, "shaped", None)
    if shaped is not None:  # a part with SQL of its own (`compiler.conversion`)
        return cast(Aggregate, shaped(counted))
    rows = Rows(agg.entity, agg.table, agg.joins, agg.filters)
    source: Rows | DistinctRows = rows
    if rows_of_window:
        source = DistinctRows(rows, agg.fanout, distinct=bool(agg.fanout))
    elif agg.fanout:
        source = DistinctRows(rows, agg.fanout)
    return Aggregate(agg.name, source, agg.keys, agg.measures, agg.grain, counted)


def _is_count(expr: exp.Expression) -> bool:
    return isinstance(expr, exp.Count)


def _needs_marker(plan: Plan, agg: plannodes.Aggregate) -> bool:
    """Whether `agg` has a filled measure that may be NULL over rows that exist (any but a
    count): its rows are then counted, to tell a group without rows, which takes the fill,
    from a NULL aggregate of rows, which stays NULL."""
    return any(m in plan.fills and not isinstance(e, exp.Count) for m, e in agg.measures)


def _over_time(plan: Plan) -> Project:
    """Windows and shifts: the per-period results (every key and base measure), joined to
    themselves on earlier periods."""
    keys = tuple(name for name, _ in plan.aggregates[0].keys)
    measures = [m for agg in plan.aggregates for m, _ in agg.measures]
    per_period = shape_plan(
        replace(
            plan,
            columns=tuple(
                [(k, make_ref("key", k)) for k in keys]
                + [(m, make_ref("measure", m)) for m in measures]
            ),
            having=(),
            order=(),
            limit=None,
            offset=None,
            over_time=(),
            periods=(),
        )
    )
    counts = tuple(m for a in plan.aggregates for m, e in a.measures if isinstance(e, exp.Count))
    steps: list[Window | Shift | DailyWindow] = []
    for ot in plan.over_time:
        if ot.kind == "shift":
            steps.append(Shift(ot))
        elif ot.daily is not None:
            daily = aggregate(ot.daily)
            steps.append(
                DailyWindow(ot, daily, tuple(m for m, e in daily.measures if _is_count(e)))
            )
        elif ot.rows is not None:
            steps.append(Window(ot, keys, rows=aggregate(ot.rows, rows_of_window=True)))
        else:
            steps.append(Window(ot, keys, counts=counts))
    return Project(
        Periods(per_period, tuple(steps)),
        plan.columns,
        having=plan.having,
        periods=plan.periods,
        order=plan.order,
        limit=plan.limit,
        offset=plan.offset,
        fills=plan.fills,
    )
