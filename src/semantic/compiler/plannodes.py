"""The nodes of a plan: small immutable objects, each with a description of what it computes.

Expressions inside them are already physical (columns qualified by join aliases) except in
`Plan.columns`, `Plan.having` and `Plan.order`, which refer to group keys and measures
through key and measure references (`refs.make_ref`), and in `OverTime`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from semantic.compiler.decision import PolicyDecision
from semantic.compiler.refs import OrderItem
from semantic.compiler.spine import EmptyPeriods
from semantic.model import Edge


@dataclass(frozen=True, slots=True)
class Join:
    """A join along an edge: `alias` joins `parent` (an alias). A LEFT JOIN, or an inner
    join where `inner`: every edge from the aggregate's entity to `alias` is a `required`
    to-one relationship and no role restricts the rows joined, so every row finds exactly
    one row there and the two joins give the same rows (as long as the data keeps the
    model's promise: `engines.integrity` measures it, SEM441 warns or refuses)."""

    alias: str
    parent: str
    edge: Edge
    table: str
    inner: bool = False


@dataclass(frozen=True, slots=True)
class Aggregate:
    """Rows of `entity` joined, filtered, grouped by `keys`, aggregated to `measures` (each
    over the rows that meet its own condition in `conditions`, if it has one).

    When a join is one-to-many (`fanout` names it), rows of `entity` may repeat; they are
    then made distinct on `entity_key` and the group keys before aggregating, so that each
    row of `entity` counts once per group.
    """

    name: str
    entity: str
    table: str
    joins: tuple[Join, ...]
    #: (key id, expression) of each group key
    keys: tuple[tuple[str, exp.Expression], ...]
    #: (measure id, expression) of each measure
    measures: tuple[tuple[str, exp.Expression], ...]
    filters: tuple[exp.Expression, ...]
    paths: tuple[str, ...]
    fanout: tuple[str, ...] = ()
    entity_key: tuple[exp.Expression, ...] = ()
    #: the query's row filters and group keys (as written) that reach the many side
    many_side: tuple[str, ...] = ()
    grain: tuple[str, ...] = ()
    #: (alias, rows) of each entity read (the aggregate's own as its id) that a role's row
    #: filters restrict: read from these rows instead of its table (`compiler.policy`)
    restricted: tuple[tuple[str, exp.Select], ...] = ()
    #: the aliases of `restricted` that a role's row filters restrict (the others are read
    #: for their per-entity values only)
    by_role: tuple[str, ...] = ()
    #: (alias, column, business words) of each per-entity value its rows read
    #: (`MEASURE(metric) PER (entity)`, `compiler.perentity`)
    per_values: tuple[tuple[str, str, str], ...] = ()
    #: (measure id, condition) of the measures that aggregate only the rows meeting a
    #: condition of their own (the metrics of one entity under different filters, computed
    #: in one pass: `FILTER (WHERE ...)`); `filters` then hold what every measure shares
    conditions: tuple[tuple[str, exp.Expression], ...] = ()
    #: the columns of `entity` its rows are aggregated by before the joins (`eager`), or ()
    eager: tuple[str, ...] = ()
    #: the ids of the group keys that are never NULL by the model's declarations (a column
    #: declared not null, or a key, of an entity every row finds: `joins.never_null`)
    not_null: tuple[str, ...] = ()
    #: the query's conditions on this aggregate's measures alone, written over its entity's
    #: rows, that its eager partial aggregates apply before the joins, where each group is
    #: the rows of one partial group (`eager.having_first`)
    having: tuple[exp.Expression, ...] = ()
    #: the inner joins left out because they were read only for their key, read from the
    #: foreign key instead (`keyjoins`): the answer still relies on their `required` promise
    key_joins: tuple[Join, ...] = ()

    @property
    def description(self) -> str:
        """One line saying what this node computes."""
        keys = ", ".join(k for k, _ in self.keys) or "(all rows)"
        return f"{', '.join(m for m, _ in self.measures)} over {self.entity} by {keys}"


@dataclass(frozen=True, slots=True)
class Plan:
    """The aggregates and how their results become the answer."""

    aggregates: tuple[Aggregate, ...]
    #: (output name, expression over key and measure references) of each selected column
    columns: tuple[tuple[str, exp.Expression], ...]
    having: tuple[exp.Expression, ...]
    order: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
    params: tuple[str, ...]
    #: measure alias -> value shown for a group that has no row for it
    fills: dict[str, exp.Expression] = field(default_factory=dict)
    #: metrics computed across periods, from the per-period results
    over_time: tuple[OverTime, ...] = ()
    #: conditions on the time dimension of `over_time` metrics: they pick periods (on keys)
    periods: tuple[exp.Expression, ...] = ()
    #: key id -> the output name the query gives it, for `describe_plan`
    shown: dict[str, str] = field(default_factory=dict)
    #: what the role's access policy decided (None: no role, the owner's full access)
    policy: PolicyDecision | None = None
    #: the whole SQL tree when the plan is composed of the plans of other queries (metrics
    #: at another grain: `compiler.othergrain`); `aggregates` are then the query's own
    tree: exp.Select | None = None
    #: every period of a time key, those without rows included (`compiler.spine`)
    spine: EmptyPeriods | None = None
    #: what the composition adds, in business words, for `describe_plan`: the metrics at
    #: another grain (`othergrain`), the ranks over the result (`ranking`)
    notes: tuple[str, ...] = ()
    #: the entities that the subqueries of the SQL (per-entity values, grand totals, metrics
    #: at another grain) rely on through a join left out (`keyjoins`: read for its key
    #: only), whose tables the SQL does not name: SEM441 checks their promise all the same
    relied_on: frozenset[str] = frozenset()


def entities_relied_on(plan: Plan) -> frozenset[str]:
    """The entities that `plan`'s SQL relies on without reading their rows: the targets of
    the `required` to-one joins left out of its aggregates and of its subqueries."""
    aggregates = [*plan.aggregates, *(ot.rows for ot in plan.over_time if ot.rows is not None)]
    return plan.relied_on | {j.edge.target for a in aggregates for j in a.key_joins}


@dataclass(frozen=True, slots=True)
class OverTime:
    """A metric computed from other periods' results: a trailing window or a shift.

    `key` is the query's group key holding the time dimension at `grain`; `value` is an
    expression over measure references, evaluated on the earlier period(s). `boundary` is
    an expression over the key reference: the earlier period of a shift, or the first
    period of a window (`inclusive`) or the one just before it.
    """

    alias: str
    kind: str
    time: str
    key: str
    grain: str
    value: exp.Expression
    boundary: exp.Expression | None
    inclusive: bool = True
    #: the other group keys, which an earlier period must share (coarser grains of the
    #: time dimension are not among them: they follow from the period)
    partition: tuple[str, ...] = ()
    #: a window whose metric does not add up over periods along its path (a distinct count,
    #: an average, or rows of the metric's entity that fall in several periods because the
    #: time dimension is on its many side): the entity's rows with their period and the
    #: partition keys, aggregated once per current period over the rows of its whole window
    rows: Aggregate | None = None
    #: a window per day (`rolling: day`): which day's window a period takes (`first`,
    #: `last`, `average` of its days); `boundary` is then over the key as the day
    period_value: str | None = None
    #: with `period_value`: the metric's rows aggregated per day (and partition keys)
    daily: Aggregate | None = None
