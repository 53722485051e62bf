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
- `EagerRows`: an entity's rows aggregated by a foreign key before the joins;
- `Rows`: an entity's rows, joined along paths and filtered, with the semi-joins
  (`EXISTS`) of conditions on a many side that nothing groups by nor aggregates.

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
from semantic.compiler.eager import partials
from semantic.compiler.plannodes import Join, OverTime, Plan
from semantic.compiler.refs import OrderItem, make_ref, show
from semantic.compiler.semijoins import Exists, semi_joins
from semantic.compiler.spine import EmptyPeriods


@dataclass(frozen=True, slots=True)
class Rows:
    """The rows of `entity` (read from `table`), LEFT JOINed along `joins`, filtered; with
    `exists`, only those that have rows on the many side meeting conditions (semi-joins)."""

    entity: str
    table: str
    joins: tuple[Join, ...]
    filters: tuple[exp.Expression, ...]
    exists: tuple[Exists, ...] = ()
    #: (alias, rows) of the entities read that a role restricts (`Aggregate.restricted`):
    #: read from these rows instead of their table, in the joins and the semi-joins alike
    restricted: tuple[tuple[str, exp.Select], ...] = ()
    #: the aliases of `restricted` that a role's row filters restrict (`Aggregate.by_role`)
    by_role: tuple[str, ...] = ()
    #: (alias, column, business words) of each per-entity value read (`Aggregate.per_values`)
    per_values: tuple[tuple[str, str, str], ...] = ()

    @property
    def tables(self) -> tuple[str, ...]:
        """The physical tables these rows read (in semi-joins and a role's rows too)."""
        inner = (t.name for _, rows in self.restricted for t in rows.find_all(exp.Table))
        semi = (j.table for e in self.exists for j in e.joins)
        return (self.table, *(j.table for j in self.joins), *semi, *inner)

    def describe(self) -> str:
        """One line saying what this node computes."""
        line = f"Rows of {self.entity} ({self.table}{self._read_as(self.entity)})"
        if self.joins:
            line += " left join " + ", ".join(
                f"{j.alias} ({j.table}{self._read_as(j.alias)}{', inner' * j.inner})"
                for j in self.joins
            )
        conditions = [show(f) for f in self.filters]
        for e in self.exists:
            joins = ", ".join(f"{j.alias} ({j.table}{self._read_as(j.alias)})" for j in e.joins)
            conditions.append(
                f"exists ({joins} where " + " and ".join(show(c) for c in e.conditions) + ")"
            )
        if conditions:
            line += " where " + " and ".join(conditions)
        return line

    def _read_as(self, alias: str) -> str:
        """What `alias`'s rows are read with, for `describe`: only a role's rows, and its
        per-entity values (both are read from `restricted`, but mean different things)."""
        words = ", restricted by role" * (alias in self.by_role)
        for of, col, label in self.per_values:
            if of == alias:
                words += f", with {col} = {label}"
        return words


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
class EagerRows:
    """The rows of `of`'s entity aggregated by its columns `by` first (`partials`: name,
    aggregate), then joined along `of`'s joins: the aggregate reads the partial results."""

    of: Rows
    by: tuple[str, ...]
    partials: tuple[tuple[str, exp.Expression], ...]
    #: conditions on the partial aggregates: the groups kept before the joins
    having: tuple[exp.Expression, ...] = ()

    def describe(self) -> str:
        """One line saying what this node computes."""
        parts = ", ".join(f"{p} = {show(e)}" for p, e in self.partials)
        kept = " kept where " + " and ".join(show(h) for h in self.having) if self.having else ""
        return f"EagerRows: {self.of.entity} by {', '.join(self.by)} first: {parts}{kept}"


@dataclass(frozen=True, slots=True)
class Aggregate:
    """The rows of `source` grouped by `keys` (at `grain`, the entity's), aggregated to
    `measures`; `counted`: the group's rows are counted too, to tell a group without rows
    (which takes a fill) from a NULL aggregate."""

    name: str
    source: Rows | DistinctRows | EagerRows
    keys: tuple[tuple[str, exp.Expression], ...]
    measures: tuple[tuple[str, exp.Expression], ...]
    grain: tuple[str, ...] = ()
    counted: bool = False
    #: when every measure has a condition of its own: a group is kept only where a row
    #: meets one of them (as the union of one aggregate per condition would have it)
    kept: tuple[exp.Expression, ...] = ()

    @property
    def rows(self) -> Rows:
        """The entity's rows the aggregate reads."""
        return self.source if isinstance(self.source, Rows) else self.source.of

    def describe(self) -> str:
        """One line saying what this node computes."""
        keys = ", ".join(f"{k} = {show(e)}" for k, e in self.keys) or "(all rows)"
        # no measure: the distinct combinations of the keys among the rows (`listing`)
        measures = ", ".join(f"{m} = {show(e)}" for m, e in self.measures) or "distinct keys"
        grain = f" at {self.rows.entity} grain ({', '.join(self.grain)})" if self.grain else ""
        counted = " + row count" if self.counted else ""
        kept = ""
        if self.kept:
            kept = " kept where a row meets " + " or ".join(show(c) for c in self.kept)
        return f"Aggregate {self.name}{grain} by {keys}: {measures}{counted}{kept}"


@dataclass(frozen=True, slots=True)
class Combine:
    """The results of `parts` joined on the union of their `keys` (full outer semantics;
    null-safe, but with plain equality on the keys in `plain`, which the model promises are
    never NULL in any part), or crossed when there are no keys (each part is one row)."""

    parts: tuple[Aggregate, ...]
    keys: tuple[str, ...]
    #: every period of a time key shown, those without rows too (`compiler.spine`)
    spine: EmptyPeriods | None = None
    plain: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line saying what this node computes."""
        if self.spine is not None:
            sp = self.spine
            bounds = f"{sp.first or 'first with rows'} to {sp.last or 'last with rows'}"
            return (
                f"Combine {len(self.parts)} aggregates on keys {', '.join(self.keys)}, with "
                f"every {sp.grain} of {sp.key} from {bounds}"
            )
        if not self.keys:
            return f"Combine {len(self.parts)} aggregates: cross join (one row each)"
        plain = f" (never NULL: {', '.join(self.plain)})" if self.plain else ""
        return f"Combine {len(self.parts)} aggregates on keys {', '.join(self.keys)}{plain}"


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


Node = (
    Project
    | Combine
    | Periods
    | Window
    | DailyWindow
    | Shift
    | Aggregate
    | DistinctRows
    | EagerRows
    | Rows
)


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
    if isinstance(node, DistinctRows | EagerRows):
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
    if len(plan.aggregates) == 1 and plan.spine is None:
        source = aggregate(plan.aggregates[0], fills=plan.fills)
    else:
        source = Combine(
            tuple(
                aggregate(a, counted=_needs_marker(plan, a), fills=plan.fills)
                for a in plan.aggregates
            ),
            tuple(k for k, _ in plan.aggregates[0].keys),
            plan.spine,
            # plain equality where no part can hold a NULL key (never beside a spine, whose
            # combinations are joined null-safe to the parts' own)
            ()
            if plan.spine is not None
            else tuple(
                k
                for k, _ in plan.aggregates[0].keys
                if all(k in a.not_null for a in plan.aggregates)
            ),
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


def rows_of(
    agg: plannodes.Aggregate,
    joins: tuple[Join, ...] | None = None,
    filters: tuple[exp.Expression, ...] | None = None,
    exists: tuple[Exists, ...] = (),
) -> Rows:
    """The rows `agg` aggregates (its joins and filters unless others are given), read as
    a role and its per-entity values say."""
    return Rows(
        agg.entity,
        agg.table,
        agg.joins if joins is None else joins,
        agg.filters if filters is None else filters,
        exists,
        restricted=agg.restricted,
        by_role=agg.by_role,
        per_values=agg.per_values,
    )


def aggregate(
    agg: plannodes.Aggregate,
    *,
    counted: bool = False,
    rows_of_window: bool = False,
    fills: Mapping[str, exp.Expression] | None = None,
) -> Aggregate:
    """The node of `agg`: its rows, made distinct when a join fans them out (always for the
    rows of a window, `rows_of_window`, which keep equal rows unless fanned out); a measure
    with a condition of its own aggregates the rows that meet it (`filtered`). A role's
    restricted entities are read from their allowed rows in every shape."""
    shaped = getattr(agg, "shaped", None)
    if shaped is not None:  # a part with SQL of its own (`compiler.conversion`)
        return cast(Aggregate, shaped(counted))
    rows = rows_of(agg)
    source: Rows | DistinctRows | EagerRows = rows
    semi = semi_joins(agg) if agg.fanout and not rows_of_window else None
    measures = agg.measures
    if agg.eager and not rows_of_window:
        eager = partials(agg)
        source = EagerRows(rows, eager.by, eager.partials, eager.having)
        measures = eager.measures
    elif semi is not None:
        source = rows_of(agg, *semi)
    elif rows_of_window:
        source = DistinctRows(rows, agg.fanout, distinct=bool(agg.fanout))
    elif agg.fanout:
        source = DistinctRows(rows, agg.fanout)
    kept: tuple[exp.Expression, ...] = ()
    if agg.conditions and agg.keys and len(agg.conditions) == len(agg.measures):
        # the rows that meet no condition count in no measure, and make no group; without
        # keys the one row of the answer is there anyway
        kept = tuple(dict.fromkeys(c for _, c in agg.conditions))
    if agg.conditions:
        own = dict(agg.conditions)
        measures = tuple(
            (m, filtered(e, own[m], bool(agg.keys), (fills or {}).get(m)) if m in own else e)
            for m, e in agg.measures
        )
    return Aggregate(agg.name, source, agg.keys, measures, agg.grain, counted, kept)


def filtered(
    measure: exp.Expression,
    condition: exp.Expression,
    keyed: bool,
    fill: exp.Expression | None,
) -> exp.Expression:
    """`measure` over the rows of its group that meet `condition`: each aggregate in it
    with `FILTER (WHERE condition)`, giving what an aggregate of those rows alone gives.

    Such an aggregate has no group where no row meets the condition: the measure is then
    NULL, or its `fill`, while the FILTER of a group (`keyed`) that has other rows gives
    the aggregate of no rows (0 for a count). Where the two differ, the rows that meet the
    condition are counted: `CASE WHEN COUNT(*) FILTER (WHERE c) > 0 THEN ... ELSE fill END`.
    Without group keys there is one row either way, and the aggregate of no rows is what
    the aggregate gives too (the fill of a measure other than a count is applied over it
    where no row meets the condition, as for the grand total of a single aggregate).
    """

    def only(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.AggFunc):
            return exp.Filter(this=node, expression=exp.Where(this=condition.copy()))
        return node

    value = measure.copy().transform(only, copy=False)
    if keyed:
        plain = (fill is None and isinstance(measure, NULL_WHEN_EMPTY)) or (
            isinstance(measure, exp.Count) and _is_zero(fill)
        )
    else:
        plain = fill is None or isinstance(measure, exp.Count)
    if plain:
        return value
    rows = exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=condition.copy()))
    case = exp.Case(
        ifs=[exp.If(this=exp.GT(this=rows, expression=exp.Literal.number(0)), true=value)],
        default=fill.copy() if fill is not None else None,
    )
    case.meta[FILLED] = True
    return case


#: the `meta` key of a measure that shows its fill where it has no rows already
FILLED = "filled"


#: aggregates that are NULL over no rows, as an aggregate without a group is
NULL_WHEN_EMPTY = (exp.Sum, exp.Avg, exp.Min, exp.Max)


def _is_zero(fill: exp.Expression | None) -> bool:
    return isinstance(fill, exp.Literal) and fill.is_int and int(fill.name) == 0


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
