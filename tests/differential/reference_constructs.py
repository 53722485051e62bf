"""The reference's meaning of four constructs of the business query language, in plain Python
over the rows of `reference.py` (its `Reference` loads and joins them; nothing here reads
the compiler): ranks and QUALIFY, every period (`all_periods`), semi-additive metrics and
paths chosen in the query (`via`). The semantics are those of docs/query-language.md:

- **ranks** are taken over the query's result (its groups after WHERE, the aggregation and
  HAVING): `RANK()` gives tied groups one rank and skips (1, 1, 3), `DENSE_RANK()` does not
  skip (1, 1, 2), `ROW_NUMBER()` breaks ties by the query's dimensions in the order selected,
  ascending, NULL last; a NULL value sorts last whatever the direction; QUALIFY keeps ranks,
  ORDER BY and LIMIT come after it;
- **every period**: a time dimension at a grain inside `all_periods(...)` shows every period
  from the first day the query's conditions on it allow (else the first period with rows)
  to the last, for each combination of the other dimensions that has rows, a period without
  rows showing what a group without rows shows (0 for a count, `fill_null`, else NULL);
- **semi-additive** metrics: each group takes the metric over the rows of its last instant
  (the day) of the metric's time dimension, or its first, or the average over its instants
  of the metric at each; conditions filter the rows before the instant is picked;
- **via(term, through)**: the term's column read on its entity reached through `through`:
  the customer's nation term through the supplier is the supplier's nation, a node of the
  hand-written graph of `reference.py` (so the fan-out rules there apply as they are).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import functools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tests.differential.reference import (
    DERIVED,
    METRICS,
    Between,
    Cmp,
    Combined,
    D,
    Dim,
    DimInfo,
    Expr,
    Lit,
    Metric,
    Query,
    Reference,
    literal,
    truncate,
)

# --- via: a term's column on another node of the graph --------------------------------------

#: (term, through) -> where the chosen path leads (a node of the reference's graph, a column)
VIA: dict[tuple[str, str], DimInfo] = {}
for _term, _column, _kind in (
    ("customer_nation", "n_name", "nation"),
    ("supplier_nation", "n_name", "nation"),
    ("customer_region", "r_name", "region"),
    ("supplier_region", "r_name", "region"),
):
    for _through, _side in (
        ("supplier", "s"),
        ("lineitem.supplier", "s"),
        ("supplier_name", "s"),
        ("partsupp.supplier", "s"),
        ("customer", "c"),
        ("orders.customer", "c"),
        ("customer_name", "c"),
        ("orders", "c"),
    ):
        VIA[_term, _through] = DimInfo(f"{_side}_{_kind}", _column)
    if _kind == "region":
        # a term with a pin of its own as what the path goes through
        VIA[_term, "supplier_nation"] = DimInfo("s_region", _column)
        VIA[_term, "customer_nation"] = DimInfo("c_region", _column)


#: (metric entity, through): a chosen path that would visit the entity twice (a supplier's
#: nation through the lines' supplier) or means another row than the graph's node (an offer's
#: supplier through the lines sold, NULL for an offer never sold): left out of the queries
OFF_PATH = frozenset(
    {
        ("customer", "orders.customer"),
        ("customer", "orders"),
        ("supplier", "lineitem.supplier"),
        ("supplier", "partsupp.supplier"),
        ("partsupp", "lineitem.supplier"),
    }
)


def via(term: str, through: str) -> Dim:
    """`via(term, through)` as a dimension: its text is its own term, which `with_via`
    teaches the reference where to read."""
    return Dim(f"via({term}, {through})")


def with_via(reference: Reference) -> Reference:
    """The reference, knowing every `via(...)` of VIA as a dimension (the rows and caches
    are shared: a via dimension is a new key in them)."""
    dims = dict(reference.dims)
    for (term, through), info in VIA.items():
        dims[via(term, through).term] = info
    return dataclasses.replace(reference, dims=dims)


# --- every period ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Spine(Dim):
    """`all_periods(term.grain)`: a dimension whose every period is shown."""

    @property
    def sql(self) -> str:
        return f"all_periods({self.term}.{self.grain})"

    @property
    def plain(self) -> Dim:
        return Dim(self.term, self.grain)


def next_period(period: dt.date, grain: str) -> dt.date:
    """The first day of the period after `period` (a first day itself)."""
    if grain == "day":
        return period + dt.timedelta(days=1)
    if grain == "week":
        return period + dt.timedelta(weeks=1)
    months = {"month": 1, "quarter": 3, "fiscal_quarter": 3, "year": 12, "fiscal_year": 12}
    index = period.year * 12 + period.month - 1 + months[grain]
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Bound:
    """A condition on the time dimension that bounds the days shown: `op` is one of <, <=,
    >, >=, =, or "between"; with `grain`, it compares the period of that grain (`.year`)."""

    term: str
    op: str
    value: dt.date
    high: dt.date | None = None
    grain: str | None = None

    def condition(self) -> Expr:
        dim = D(Dim(self.term, self.grain))
        if self.op == "between":
            return Between(dim, self.value, self.high)
        return Cmp(self.op, dim, Lit(self.value))

    def days(self, fiscal_start: int) -> tuple[dt.date | None, dt.date | None]:
        """The first and last day this condition allows (None: no bound on that side)."""
        one = dt.timedelta(days=1)
        if self.grain is not None:
            assert self.op == "="
            return self.value, next_period(self.value, self.grain) - one
        return {
            ">=": (self.value, None),
            ">": (self.value + one, None),
            "<=": (None, self.value),
            "<": (None, self.value - one),
            "=": (self.value, self.value),
            "between": (self.value, self.high),
        }[self.op]


def fill_periods(
    reference: Reference,
    query: Query,
    spine: Spine,
    bounds: Sequence[Bound],
    rows: list[tuple[Any, ...]],
    empty: Callable[[Metric], Any],
) -> list[tuple[Any, ...]]:
    """The rows of `query` (where the spine is its plain dimension), `rows` being its
    answer without empty periods: every period added for every combination of the other
    dimensions that has rows. A coarser grain of the spine's time dimension follows from the
    period; `empty` is what a metric shows in a period without rows."""
    fiscal = reference.fiscal_start
    at = query.columns.index(spine.plain)
    others = [
        i
        for i, c in enumerate(query.columns)
        if isinstance(c, Dim) and i != at and not _coarser(c, spine)
    ]
    coarser = [i for i, c in enumerate(query.columns) if isinstance(c, Dim) and _coarser(c, spine)]
    first = last = None
    for bound in bounds:
        low, high = bound.days(fiscal)
        if low is not None:
            first = low if first is None else max(first, low)
        if high is not None:
            last = high if last is None else min(last, high)
    present = [row[at] for row in rows if row[at] is not None]
    # without other dimensions, the one combination is always there (as a query without
    # dimensions always has its row): every period the conditions allow, rows or none
    start = truncate(first, spine.grain or "", fiscal) if first else min(present, default=None)
    end = truncate(last, spine.grain or "", fiscal) if last else max(present, default=None)
    periods: list[dt.date] = []
    period = start
    while period is not None and end is not None and period <= end:
        periods.append(period)
        period = next_period(period, spine.grain or "")
    seen = {tuple(row[i] for i in others) + (row[at],) for row in rows}
    combinations = {tuple(row[i] for i in others) for row in rows} if others else {()}
    result = list(rows)
    for combination in combinations:
        for period in periods:
            if combination + (period,) in seen:
                continue
            row: list[Any] = [None] * len(query.columns)
            for i, value in zip(others, combination, strict=True):
                row[i] = value
            row[at] = period
            for i in coarser:
                column = query.columns[i]
                assert isinstance(column, Dim) and column.grain
                row[i] = truncate(period, column.grain, fiscal)
            for i, column in enumerate(query.columns):
                if isinstance(column, Metric):
                    row[i] = empty(column)
            result.append(tuple(row))
    return result


def evaluate_spine(
    reference: Reference, query: Query, spine: Spine, bounds: Sequence[Bound]
) -> list[tuple[Any, ...]]:
    """The rows of `query` (its column `spine.plain` asked for every period; its metrics
    base, derived or semi-additive), unordered: conditions on metrics are read last, on the
    empty periods too (a month without orders passes `order_count < 8`), the combinations
    being those of the groups with rows."""
    unordered = dataclasses.replace(query, order=(), limit=None, having=())

    def empty(metric: Metric) -> Any:
        if metric.term in SEMI:
            return semi_empty(metric.term)
        return None if metric.term in DERIVED else reference.empty(metric.term)

    if any(m.term in SEMI for m in query.metrics):
        found = evaluate_semi(reference, unordered)
    else:
        found = reference.evaluate(unordered)
    rows = fill_periods(reference, query, spine, bounds, found, empty)
    for having in query.having:
        at = query.columns.index(Metric(having.term))
        compare = _COMPARE[having.op]
        rows = [row for row in rows if row[at] is not None and compare(row[at], having.value)]
    return rows


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _coarser(column: Dim, spine: Spine) -> bool:
    return column.term == spine.term and column.grain != spine.grain and column.grain is not None


# --- semi-additive metrics ------------------------------------------------------------------


@dataclass(frozen=True)
class SemiDef:
    """A semi-additive metric of the test's glossary: its entity's aggregate of `value`, not
    summed over `time` (a time dimension reached to-one from the entity)."""

    entity: str
    aggregate: str  # count or sum
    value: Callable[[Combined], Any] | None
    expr: str
    time: str
    period_value: str  # last, first or average
    fill_null: int | None = None

    def glossary(self) -> str:
        fill = "" if self.fill_null is None else f", fill_null: {self.fill_null}"
        semi = f"{{time: {self.time}, period_value: {self.period_value}}}"
        return f"{{entity: {self.entity}, expr: '{self.expr}', semi_additive: {semi}{fill}}}"


def _line_quantity(c: Combined) -> Any:
    line = c["lineitem"]
    return None if line is None else line["l_quantity"]


def _net(c: Combined) -> Any:
    line = c["lineitem"]
    return None if line is None else line["l_extendedprice"] * (1 - line["l_discount"])


def _order_value(c: Combined) -> Any:
    order = c["orders"]
    return None if order is None else order["o_totalprice"]


SEMI: dict[str, SemiDef] = {}
for _pick in ("last", "first", "average"):
    SEMI[f"order_value_{_pick}"] = SemiDef(
        "orders", "sum", _order_value, "sum(o_totalprice)", "order_date", _pick
    )
    SEMI[f"orders_{_pick}"] = SemiDef("orders", "count", None, "count(*)", "order_date", _pick)
    SEMI[f"shipped_quantity_{_pick}"] = SemiDef(
        "lineitem", "sum", _line_quantity, "sum(l_quantity)", "ship_date", _pick, fill_null=0
    )
    SEMI[f"lines_received_{_pick}"] = SemiDef(
        "lineitem", "count", None, "count(*)", "receipt_date", _pick
    )
    # the time dimension on another entity, reached to-one (the line's order)
    SEMI[f"ordered_revenue_{_pick}"] = SemiDef(
        "lineitem",
        "sum",
        _net,
        "sum(l_extendedprice * (1 - l_discount))",
        "order_date",
        _pick,
    )


def semi_glossary() -> str:
    """The glossary file of the semi-additive metrics, added to the test's project."""
    lines = ["domain: constructs", "label: {en: Constructs}", "terms:"]
    for term, definition in SEMI.items():
        lines.append(f"  {term}:")
        lines.append(f"    label: {{en: {term.replace('_', ' ')}}}")
        lines.append(f"    metric: {definition.glossary()}")
    return "\n".join(lines) + "\n"


def semi_aggregate(
    reference: Reference, term: str, dims: Sequence[Dim], conditions: Sequence[Expr]
) -> dict[tuple[Any, ...], Any]:
    """Semi-additive metric `term` in each group of `dims` that has rows kept by
    `conditions` and a time: the rows of the group's last (first) day aggregated, or the
    average over its days of each day's aggregate."""
    definition = SEMI[term]
    entity = definition.entity
    rows = reference.combined(entity, 0)  # to-one only: the compiler refuses the many side
    masks = [reference.kept(entity, 0, c) for c in conditions]
    keys = list(zip(*(reference.column(entity, 0, d) for d in dims), strict=True))
    instants = reference.column(entity, 0, Dim(definition.time))
    members: dict[tuple[Any, ...], dict[dt.date, list[Combined]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for i, (_, row) in enumerate(rows):
        if instants[i] is not None and all(mask[i] for mask in masks):
            members[keys[i] if dims else ()][instants[i]].append(row)
    result: dict[tuple[Any, ...], Any] = {}
    for group, days in members.items():
        per_day = {day: _aggregate(definition, found) for day, found in days.items()}
        if definition.period_value == "last":
            result[group] = per_day[max(per_day)]
        elif definition.period_value == "first":
            result[group] = per_day[min(per_day)]
        else:
            present = [v for v in per_day.values() if v is not None]
            total = sum((decimal.Decimal(v) for v in present), decimal.Decimal(0))
            result[group] = float(total / len(present)) if present else None
    return result


def _aggregate(definition: SemiDef, rows: list[Combined]) -> Any:
    if definition.aggregate == "count":
        return len(rows)
    assert definition.value is not None
    present = [v for v in (definition.value(r) for r in rows) if v is not None]
    return sum(present, decimal.Decimal(0)) if present else None


def semi_empty(term: str) -> Any:
    """What a group without rows shows for semi-additive `term`: as any metric's, 0 for a
    count, else `fill_null`, else NULL; a float for an average of periods (the column's
    type: DuckDB's AVG gives a double)."""
    definition = SEMI[term]
    fill = 0 if definition.aggregate == "count" else definition.fill_null
    if fill is None:
        return None
    if definition.period_value == "average":
        return float(fill)
    return fill if definition.aggregate == "count" else decimal.Decimal(fill)


def evaluate_semi(reference: Reference, query: Query) -> list[tuple[Any, ...]]:
    """The rows of `query`, whose metrics are semi-additive (SEMI) or base metrics of their
    entities (METRICS), each maybe filtered; no HAVING, ORDER BY or LIMIT."""
    assert not query.having and not query.order and query.limit is None
    dims = query.dims
    groups: set[tuple[Any, ...]] = set() if dims else {()}
    per_metric: dict[Metric, tuple[dict[tuple[Any, ...], Any], Any]] = {}
    with decimal.localcontext() as context:
        context.prec = 60
        for metric in query.metrics:
            conditions = [*query.where, *([metric.filter] if metric.filter else [])]
            if metric.term in SEMI:
                values = semi_aggregate(reference, metric.term, dims, conditions)
                per_metric[metric] = (values, semi_empty(metric.term))
            else:
                values = reference.aggregate(metric.term, dims, conditions)
                per_metric[metric] = (values, reference.empty(metric.term))
            groups.update(values)
    result = []
    for group in groups:
        shown: dict[Dim | Metric, Any] = dict(zip(dims, group, strict=True))
        for metric, (values, empty) in per_metric.items():
            shown[metric] = values.get(group, empty)
        result.append(tuple(shown[c] for c in query.columns))
    return result


# --- ranks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One key of a rank's ORDER BY: a name (an output column's or a term's) and the column
    of the ranked rows it reads (a hidden metric's is past the shown ones)."""

    name: str
    position: int
    descending: bool = False

    @property
    def sql(self) -> str:
        return f"{self.name} {'DESC' if self.descending else 'ASC'}"


@dataclass(frozen=True)
class Rank:
    """`function() OVER (PARTITION BY partition ORDER BY keys)`; `partition` holds the
    names and the positions (from 0) of the selected dimensions it partitions by."""

    function: str  # RANK, DENSE_RANK or ROW_NUMBER
    partition: tuple[tuple[str, int], ...]
    keys: tuple[Key, ...]

    @property
    def sql(self) -> str:
        over = []
        if self.partition:
            over.append("PARTITION BY " + ", ".join(name for name, _ in self.partition))
        over.append("ORDER BY " + ", ".join(k.sql for k in self.keys))
        return f"{self.function}() OVER ({' '.join(over)})"


@dataclass(frozen=True)
class Ranked:
    """A query ranked: `base` (no ORDER BY or LIMIT of its own) with the rank shown as
    column `name` (or, when not `shown`, written in QUALIFY only), QUALIFY `rank op bound`,
    and ORDER BY (positions of the shown columns, the rank last when shown) and LIMIT.
    `hidden` is a metric the rank orders by without selecting it."""

    base: Query
    rank: Rank
    qualify: tuple[str, int] | None
    shown: bool = True
    name: str = "r"
    hidden: str | None = None
    order: tuple[tuple[int, bool], ...] = ()
    limit: int | None = None
    #: the conditions that bound the periods, when `base` has a column of every period
    bounds: tuple[Bound, ...] = ()

    @property
    def width(self) -> int:
        return len(self.base.columns) + (1 if self.shown else 0)

    @property
    def text(self) -> str:
        base = self.base
        columns = [
            (c.sql + (f' AS "{base.alias(i)}"' if base.alias(i) else ""))
            if isinstance(c, Dim)
            else c.sql_as(base.alias(i))
            for i, c in enumerate(base.columns)
        ]
        if self.shown:
            columns.append(f"{self.rank.sql} AS {self.name}")
        parts = ["SELECT " + ", ".join(columns)]
        where = [c.sql() for c in base.where] + [h.sql for h in base.having if h.in_where]
        if where:
            parts.append("WHERE " + " AND ".join(where))
        plain = {
            c.term: i
            for i, c in enumerate(base.columns)
            if isinstance(c, Metric) and c.filter is None and c.alias is None
        }
        having = [h.sql_on(base.output_name(plain[h.term])) for h in base.having if not h.in_where]
        if having:
            parts.append("HAVING " + " AND ".join(having))
        if self.qualify:
            op, bound = self.qualify
            ranked = self.name if self.shown else self.rank.sql
            parts.append(f"QUALIFY {ranked} {op} {literal(bound)}")
        if self.order:
            parts.append(
                "ORDER BY "
                + ", ".join(f"{p + 1} {'DESC' if d else 'ASC'} NULLS LAST" for p, d in self.order)
            )
        if self.limit is not None:
            parts.append(f"LIMIT {self.limit}")
        return " ".join(parts)


def evaluate_ranked(
    reference: Reference, ranked: Ranked, evaluate: Callable[[Query], list[tuple[Any, ...]]]
) -> list[tuple[Any, ...]]:
    """The rows of a ranked query: the base query's groups (with the hidden metric, which
    adds no group: it is of an entity the query's metrics already read), found by
    `evaluate`, ranked, kept by QUALIFY, ordered and limited."""
    base = ranked.base
    columns = base.columns + ((Metric(ranked.hidden),) if ranked.hidden else ())
    rows = evaluate(dataclasses.replace(base, columns=columns, aliases=()))
    partitions: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        partitions[tuple(row[p] for _, p in ranked.rank.partition)].append(row)
    dims = [i for i, c in enumerate(base.columns) if isinstance(c, Dim)]
    numbered: list[tuple[Any, ...]] = []
    for members in partitions.values():
        keys = ranked.rank.keys
        members.sort(key=functools.cmp_to_key(functools.partial(by_keys, keys)))
        if ranked.rank.function == "ROW_NUMBER":
            # ties broken by the dimensions in the order selected, ascending, NULL last
            ties = tuple(Key("", i) for i in dims)
            members.sort(key=functools.cmp_to_key(functools.partial(by_keys, keys + ties)))
        rank = dense = 0
        for i, row in enumerate(members):
            # sorted: a row ties with the one before it, or follows every row before it
            if i == 0 or by_keys(keys, members[i - 1], row) != 0:
                rank, dense = i + 1, dense + 1
            number = {"ROW_NUMBER": i + 1, "RANK": rank, "DENSE_RANK": dense}[ranked.rank.function]
            numbered.append((*row[: len(base.columns)], number))
    if ranked.qualify:
        op, bound = ranked.qualify
        compare = {"<=": lambda a, b: a <= b, "=": lambda a, b: a == b, "<": lambda a, b: a < b}
        numbered = [row for row in numbered if compare[op](row[-1], bound)]
    if not ranked.shown:
        numbered = [row[:-1] for row in numbered]
    if ranked.order:
        order = tuple(Key("", p, d) for p, d in ranked.order)
        numbered.sort(key=functools.cmp_to_key(functools.partial(by_keys, order)))
    if ranked.limit is not None:
        numbered = numbered[: ranked.limit]
    return numbered


def by_keys(keys: Sequence[Key], a: tuple[Any, ...], b: tuple[Any, ...]) -> int:
    """Compare rows by `keys`, a NULL last whatever the direction."""
    for key in keys:
        x, y = a[key.position], b[key.position]
        if x == y or (x is None and y is None):
            continue
        if x is None or y is None:
            return 1 if x is None else -1
        return (-1 if x < y else 1) * (-1 if key.descending else 1)
    return 0


def exact(term: str) -> bool:
    """Whether base metric `term` is exact (a count or a sum of decimals): a rank orders by
    it without a float's last digit deciding a tie."""
    return term in METRICS and METRICS[term].aggregate != "avg"
