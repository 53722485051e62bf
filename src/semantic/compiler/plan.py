"""Decide what is aggregated where: one `Aggregate` per metric entity, each at its own grain.

A plan is made of small immutable nodes. Expressions inside them are already physical
(columns qualified by join aliases) except in `Plan.columns`, `Plan.having` and
`Plan.order`, which refer to group keys and measures through key and measure
references (`refs.make_ref`).

Group keys and measures are known by ids, never by the names the analyst gives the output
columns: the ids of one plan come from one `naming.Names` (a key is named after its term,
`order_date_year`, a measure after its metric, `net_revenue_filtered`), and the output names
appear in `Plan.columns` only, which the outermost SELECT applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlglot import exp

from semantic.compiler.localtime import in_project_time, term_time_type
from semantic.compiler.locate import QUERY_FILE
from semantic.compiler.naming import Names, readable
from semantic.compiler.periods import (
    RANK,
    aligned,
    earlier,
    literal_date,
    period_start,
    steps_fit,
    truncate,
)
from semantic.compiler.refs import (
    QUERY_DIALECT,
    BusinessQuery,
    OrderItem,
    find_refs,
    make_ref,
    ref_of,
    show,
)
from semantic.compiler.resolve import describe_path, find_path
from semantic.errors import SemanticError, Span, error
from semantic.files.schema import WindowSpec
from semantic.model import Edge, Model, Term
from semantic.model.nodes import column


@dataclass(frozen=True, slots=True)
class Join:
    """A LEFT JOIN along an edge: `alias` joins `parent` (an alias)."""

    alias: str
    parent: str
    edge: Edge
    table: str


@dataclass(frozen=True, slots=True)
class Aggregate:
    """Rows of `entity` joined, filtered, grouped by `keys`, aggregated to `measures`.

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


def plan_query(model: Model, query: BusinessQuery) -> Plan:
    """Group the query's metrics by entity (and filter) and plan each aggregate."""
    ids = Names()
    # a dimension selected twice (under two names) is one group key
    key_ids: dict[exp.Expression, str] = {}
    shown: dict[str, str] = {}
    for c in query.columns:
        if not c.is_metric and c.expr not in key_ids:
            key_ids[c.expr] = ids.new(_key_base(c.expr))
            shown[key_ids[c.expr]] = c.name
    keys = [(kid, expr) for expr, kid in key_ids.items()]
    measures = _Measures(model, keys, query, ids, shown)
    outputs = [
        (c.name, make_ref("key", key_ids[c.expr]) if not c.is_metric else measures.expand(c.expr))
        for c in query.columns
    ]
    having = tuple(measures.expand(h) for h in query.having)
    order = tuple(
        OrderItem(
            o.column,
            measures.expand(o.expr) if o.expr is not None else None,
            o.desc,
            o.nulls_first,
        )
        for o in query.order
    )
    if not measures.groups:
        raise error(
            "SEM305",
            "the query selects no metric",
            Span(QUERY_FILE, 1, 1),
            "add a metric such as a count; a list of distinct values needs a metric to group",
        )
    row_filters, periods = _split_period_filters(model, query.filters, measures.over_time, query)
    names = Names()
    aggregates = []
    for (entity, _), (context, members) in measures.groups.items():
        name = names.new(f"{entity}_metrics")
        filters = (*row_filters, *context)
        aggregates.append(_plan_aggregate(model, name, entity, members, keys, filters, query))
    over_time = _windows_over_rows(model, measures, keys, row_filters, query, names)
    fills = {
        alias: term.fill_null
        for (tid, _), alias in measures.aliases.items()
        if (term := model.terms[tid]).fill_null is not None
    }
    return Plan(
        tuple(aggregates),
        tuple(outputs),
        having,
        order,
        query.limit,
        query.offset,
        query.params,
        fills,
        over_time,
        periods,
        shown,
    )


def _windows_over_rows(
    model: Model,
    measures: _Measures,
    keys: list[tuple[str, exp.Expression]],
    row_filters: tuple[exp.Expression, ...],
    query: BusinessQuery,
    names: Names,
) -> tuple[OverTime, ...]:
    """The windows and shifts of the query, each window whose metric does not add up over
    periods given the rows it is computed from (`OverTime.rows`).

    A window's value is its metric over the rows of all the periods of the window. Adding
    up the periods' values gives that only for a sum or a count of rows that each fall in
    one period: a customer who ordered in January and in February counts once in their
    two-month window, not twice. Whether a row falls in one period is a property of the
    path from the metric's entity to the time dimension (none of its steps may be
    one-to-many), not of the aggregate alone."""
    found = []
    by_alias = {alias: key for key, alias in measures.aliases.items()}
    for ot in measures.over_time:
        if ot.kind != "window":
            found.append(ot)
            continue
        members: list[tuple[str, str]] = []
        context: tuple[exp.Expression, ...] = ()
        entity = None
        for alias in dict.fromkeys(_measure_names(ot.value)):
            tid, key = by_alias[alias]
            term = model.terms[tid]
            entity = term.entity
            context = measures.groups[(term.entity or "", key)][0]
            members.append((alias, tid))
        assert entity is not None and members
        own = [(n, e) for n, e in keys if n == ot.key or n in ot.partition]
        name = names.new(f"{ot.alias}_rows")
        rows = _plan_aggregate(model, name, entity, members, own, (*row_filters, *context), query)
        additive = ot.time not in rows.many_side and all(
            isinstance(e, exp.Sum | exp.Count) and e.find(exp.Distinct) is None
            for _, e in rows.measures
        )
        found.append(ot if additive else replace(ot, rows=rows))
    return tuple(found)


def _measure_names(value: exp.Expression) -> list[str]:
    return [r.ident for r in find_refs(value, "measure")]


def _key_base(expr: exp.Expression) -> str:
    """The readable id of a group key: its term (`market_segment`), with its grain
    (`order_date_year`), or the words of its expression (`year_ship_date`)."""
    ref = ref_of(expr)
    if ref is not None:
        return readable(f"{ref.ident}_{ref.grain}" if ref.grain else ref.ident)
    return readable(show(expr), "key")


def _split_period_filters(
    model: Model,
    filters: tuple[exp.Expression, ...],
    over_time: list[OverTime],
    query: BusinessQuery,
) -> tuple[tuple[exp.Expression, ...], tuple[exp.Expression, ...]]:
    """Conditions that only concern the time dimension of a window or shift pick the
    periods shown: they are kept out of the rows (a window ending in January 1995 must see
    December 1994) and applied to the period keys instead. Such a condition must keep or
    drop whole periods, or a plain metric of the same query would change meaning."""
    if not over_time:
        return filters, ()
    time_of = {ot.time: ot for ot in over_time}
    rows: list[exp.Expression] = []
    periods: list[exp.Expression] = []
    for condition in filters:
        terms = {r.ident for r in find_refs(condition, "term")}
        if len(terms) == 1 and (term := next(iter(terms))) in time_of:
            ot = time_of[term]
            instants = term_time_type(model, model.terms[term]) != "date"
            problem = _cuts_periods(condition, ot, model.fiscal_year_start, instants)
            if problem:
                raise error(
                    "SEM314",
                    f"with '{ot.alias}', conditions on '{term}' pick whole periods of "
                    f"{term}.{ot.grain}, but {problem}",
                    query.place(term),
                    f"compare {term} with the first day of a period, e.g. "
                    f"{term} >= DATE '1995-01-01', or use {term}.{ot.grain}",
                )
            periods.append(_on_period(condition, ot, model))
        else:
            rows.append(condition)
    return tuple(rows), tuple(periods)


#: which side of a period a compared date must sit on, when the time dimension is on the
#: left (`order_date >= DATE '1995-01-01'`: the date starts a period) or on the right
_LEFT: dict[type, tuple[str, ...]] = {
    exp.GTE: ("start",),
    exp.LT: ("start",),
    exp.GT: ("end",),
    exp.LTE: ("end",),
}
_RIGHT: dict[type, tuple[str, ...]] = {
    exp.GTE: ("end",),
    exp.LT: ("end",),
    exp.GT: ("start",),
    exp.LTE: ("start",),
}


def _cuts_periods(
    condition: exp.Expression, ot: OverTime, fiscal_start: int, instants: bool = False
) -> str | None:
    """Why `condition` may keep part of a period, or None when it keeps whole periods.

    `instants`: the time dimension holds times of day (a TIMESTAMP, or a column of unknown
    type), so a date compared with it is its first instant, midnight: `<= DATE '1995-03-31'`
    stops at the start of 31 March and `= DATE '1995-03-31'` keeps midnight only."""
    for node in condition.find_all(exp.Anonymous):
        ref = ref_of(node)
        if ref is None:
            continue
        if instants and ref.grain is None:
            problem = _cuts_at_midnight(node, condition)
            if problem:
                return problem
        grain = ref.grain or "day"
        if RANK[grain] >= RANK[ot.grain]:
            if not aligned(ot.grain, grain, fiscal_start):
                return f"periods of {ref.ident}.{grain} do not start on periods of {ot.grain}"
            continue
        parent = node.parent
        dates: list[tuple[exp.Expression, tuple[str, ...]]]
        if isinstance(parent, exp.Binary) and type(parent) in _LEFT:
            left = parent.this is node
            other = parent.expression if left else parent.this
            dates = [(other, (_LEFT if left else _RIGHT)[type(parent)])]
        elif isinstance(parent, exp.Between) and parent.this is node:
            dates = [(parent.args["low"], ("start",)), (parent.args["high"], ("end",))]
        elif isinstance(parent, exp.EQ):
            dates = [(parent.expression if parent.this is node else parent.this, ("start", "end"))]
        elif isinstance(parent, exp.In) and parent.this is node:
            dates = [(value, ("start", "end")) for value in parent.expressions]
        else:
            return f"'{show(condition)}' is not a comparison with a date"
        for value, bounds in dates:
            day = literal_date(value)
            if day is None:
                return f"'{show(condition)}' compares with something that is not a date"
            for bound in bounds:
                first = day if bound == "start" else day + timedelta(days=1)
                if period_start(first, ot.grain, fiscal_start) != first:
                    return f"{day.isoformat()} falls inside a period of {ot.grain}"
    return None


def _cuts_at_midnight(node: exp.Expression, condition: exp.Expression) -> str | None:
    """Why a comparison of a time of day (`node`) with a date keeps part of a day, if it
    does: only `>=` and `<` compare with a date's first instant and keep whole days."""
    parent = node.parent
    if isinstance(parent, exp.Binary) and type(parent) in _LEFT:
        left = parent.this is node
        bound = (_LEFT if left else _RIGHT)[type(parent)]
        if bound == ("start",):
            return None
        day = literal_date(parent.expression if left else parent.this)
        if day is not None:
            return (
                f"'{show(condition)}' compares a time of day with {day.isoformat()} at midnight"
                ", which keeps part of a day: compare with < or >= the first day of a period"
            )
        return None  # not a date: said below
    if isinstance(parent, exp.Between | exp.EQ | exp.In):
        return (
            f"'{show(condition)}' compares a time of day with dates at midnight, which keeps "
            "part of a day: compare with >= and < the first days of periods"
        )
    return None


def _on_period(condition: exp.Expression, ot: OverTime, model: Model) -> exp.Expression:
    """`condition` with its time dimension replaced by the period of each result row."""

    def swap(node: exp.Expression) -> exp.Expression:
        ref = ref_of(node)
        if ref is None:
            return node
        period: exp.Expression = make_ref("key", ot.key)
        if ref.grain and RANK[ref.grain] > RANK[ot.grain]:
            period = truncate(period, ref.grain, True, model.fiscal_year_start)
        return period

    return condition.copy().transform(swap, copy=False)


class _Measures:
    """Base metrics as the query uses them: each under the filters that apply to it.

    A base metric used plainly and under `MEASURE(...) FILTER (WHERE ...)` (or inside a
    metric with its own `filter`) is two measures, aggregated separately.
    """

    def __init__(
        self,
        model: Model,
        keys: list[tuple[str, exp.Expression]],
        query: BusinessQuery,
        ids: Names,
        shown: dict[str, str],
    ) -> None:
        self.model = model
        self.keys = keys
        self.query = query
        #: the plan's ids, shared with the group keys
        self.ids = ids
        #: the output name of each group key, for messages
        self.shown = shown
        self.over_time: list[OverTime] = []
        self.timed: dict[tuple[str, frozenset[exp.Expression]], str] = {}
        self.aliases: dict[tuple[str, frozenset[exp.Expression]], str] = {}
        #: (entity, filters) -> (filters, [(alias, metric id)])
        self.groups: dict[
            tuple[str, frozenset[exp.Expression]],
            tuple[tuple[exp.Expression, ...], list[tuple[str, str]]],
        ] = {}

    def expand(
        self, expr: exp.Expression, context: tuple[exp.Expression, ...] = ()
    ) -> exp.Expression:
        """`expr` with metrics replaced by measure references, derived metrics inlined."""

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Filter):
                return exp.paren(self.expand(node.this, (*context, node.expression.this)))
            ref = ref_of(node)
            if ref is not None and ref.kind == "term":
                return self._metric(self.model.terms[ref.ident], context)
            return node

        return expr.copy().transform(swap, copy=False)

    def _metric(self, term: Term, context: tuple[exp.Expression, ...]) -> exp.Expression:
        if term.filter is not None:
            context = (*context, _as_refs(term.filter))
        if term.is_over_time:
            known = self.timed.get((term.id, frozenset(context)))
            if known is None:
                known = self.timed[(term.id, frozenset(context))] = self._over_time(term, context)
            return make_ref("measure", known)
        if not term.is_derived:
            return make_ref("measure", self._register(term, context))

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column):
                return self._metric(self.model.terms[node.name], context)
            return node

        return exp.paren(term.expr.copy().transform(swap, copy=False), copy=False)

    def _over_time(self, term: Term, context: tuple[exp.Expression, ...]) -> str:
        """Plan a window or shift of `term`: its base metrics per period, then the rule."""
        spec = term.window or term.shift
        assert spec is not None
        place = self.query.place(term.id)
        key, partition = self._period_key(term, spec.time, place)
        name, grain = key
        fiscal = self.model.fiscal_year_start
        value = _metric_value(self, term, context)
        if term.window is not None:
            window = term.window
            limit = window.to_date or window.grain or grain  # a running total fits any grain
            if RANK[grain] > RANK[limit]:
                raise error(
                    "SEM314",
                    f"metric '{term.id}' sums a window of {_window_words(window)}, which does "
                    f"not line up with periods of {spec.time}.{grain}",
                    place,
                    f"group by {spec.time} at {limit} or finer",
                )
            # a trailing window by week holds the weeks that start less than `last` months
            # (say) before the current one; a to-date window must start on a period start
            if window.to_date and not aligned(grain, limit, fiscal):
                raise error(
                    "SEM314",
                    f"metric '{term.id}' sums the {limit.replace('_', ' ')} to date, but "
                    f"periods of {spec.time}.{grain} do not start on the first day of a "
                    f"{limit.replace('_', ' ')}: the first one would straddle two",
                    place,
                    f"group by {spec.time} at {limit} or a grain whose periods start on its "
                    f"first day ({', '.join(_nesting(limit, fiscal))})",
                )
            period = make_ref("key", name)
            boundary: exp.Expression | None = None
            if window.to_date:
                boundary = truncate(period, window.to_date, True, self.model.fiscal_year_start)
            elif window.last is not None and window.grain is not None:
                boundary = earlier(period, window.last, window.grain)
            ot = OverTime(
                alias=self._alias(term.id),
                kind="window",
                time=spec.time,
                key=name,
                grain=grain,
                value=value,
                boundary=boundary,
                inclusive=window.to_date is not None,
                partition=partition,
            )
        else:
            shift = term.shift
            assert shift is not None
            if not steps_fit(grain, shift.periods, shift.grain):
                raise error(
                    "SEM314",
                    f"metric '{term.id}' shifts by {shift.periods} {shift.grain}(s), which "
                    f"does not land on the start of a period of {spec.time}.{grain}",
                    place,
                    f"group by {spec.time}.{shift.grain} or a grain that divides it",
                )
            ot = OverTime(
                alias=self._alias(term.id),
                kind="shift",
                time=spec.time,
                key=name,
                grain=grain,
                value=value,
                boundary=earlier(make_ref("key", name), shift.periods, shift.grain),
                partition=partition,
            )
        self.over_time.append(ot)
        return ot.alias

    def _period_key(
        self, term: Term, time: str, place: Span
    ) -> tuple[tuple[str, str], tuple[str, ...]]:
        """The group key that holds `time` at the finest grain (the period), and the keys
        that do not involve `time` (which earlier periods must share)."""
        grains: list[tuple[str, str]] = []
        partition: list[str] = []
        for name, expr in self.keys:
            ref = ref_of(expr)
            uses_time = any(r.ident == time for r in find_refs(expr, "term"))
            if ref is not None and ref.ident == time:
                grains.append((name, ref.grain or "day"))
            elif uses_time:
                raise error(
                    "SEM314",
                    f"metric '{term.id}' runs along '{time}', which the query also uses in "
                    f"'{self.shown[name]}': with a window or shift, select {time} as grains only",
                    place,
                    f"write {time}.month, {time}.year, ... instead of functions of {time}",
                )
            else:
                partition.append(name)
        if not grains:
            raise error(
                "SEM314",
                f"metric '{term.id}' runs along '{time}': the query must group by it",
                place,
                f"select {time} at a grain, e.g. {time}.month",
            )
        finest = min(grains, key=lambda g: RANK[g[1]])
        for name, grain in grains:
            if not aligned(finest[1], grain, self.model.fiscal_year_start):
                raise error(
                    "SEM314",
                    f"'{self.shown[name]}' and '{self.shown[finest[0]]}' cut time differently: "
                    f"periods of {time}.{grain} do not start on periods of {time}.{finest[1]}",
                    place,
                    "select grains of one calendar (calendar or fiscal) that nest",
                )
        return finest, tuple(partition)

    def _alias(self, base: str) -> str:
        return self.ids.new(readable(base, "measure"))

    def _register(self, term: Term, context: tuple[exp.Expression, ...]) -> str:
        # conditions compare by structure (sqlglot trees hash and compare by value)
        unique = tuple(dict.fromkeys(context))
        key = frozenset(unique)
        alias = self.aliases.get((term.id, key))
        if alias is None:
            alias = self._alias(f"{term.id}_filtered" if key else term.id)
            self.aliases[(term.id, key)] = alias
            assert term.entity is not None
            group = self.groups.setdefault((term.entity, key), (unique, []))
            group[1].append((alias, term.id))
        return alias


def _window_words(window: WindowSpec) -> str:
    """`3 month(s)`, `the year to date`: a window's length in words."""
    if window.to_date:
        return f"the {window.to_date.replace('_', ' ')} to date"
    return f"{window.last} {window.grain}(s)"  # a running total is never refused


def _nesting(limit: str, fiscal_start: int) -> list[str]:
    """The finer grains whose periods start on the first day of every `limit` period."""
    return [g for g in RANK if RANK[g] < RANK[limit] and aligned(g, limit, fiscal_start)]


def _metric_value(
    measures: _Measures, term: Term, context: tuple[exp.Expression, ...]
) -> exp.Expression:
    """The expression of a window's or shift's metric over measure references."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return measures._metric(measures.model.terms[node.name], context)
        return node

    return exp.paren(term.expr.copy().transform(swap, copy=False), copy=False)


def _as_refs(condition: exp.Expression) -> exp.Expression:
    """A glossary condition naming terms by id (`order_date.year` for a grain) as references."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            if node.table:
                return make_ref("term", node.table, node.name)
            return make_ref("term", node.name)
        return node

    return condition.copy().transform(swap, copy=False)


class _Joins:
    """The join tree of one aggregate: every path shares the prefixes it has in common.

    An entity reached by one path is aliased by its id; an entity reached by several paths
    (a role-playing entity such as the customer's and the supplier's nation) is aliased by
    the entity or relationship that leads to it: `customer_nation`, `supplier_nation`.
    """

    def __init__(
        self,
        model: Model,
        root: str,
        needs: list[tuple[Term, str, tuple[str, ...]]],
        query: BusinessQuery,
    ) -> None:
        self.model = model
        self.query = query
        self.root = root
        self.aliases: dict[tuple[Edge, ...], str] = {(): root}
        taken = Names([root])
        self.joins: list[Join] = []
        self.paths: list[str] = []
        #: terms reached through a one-to-many relationship
        self.fanned: set[str] = set()
        self.chosen: dict[tuple[str, tuple[str, ...]], tuple[Edge, ...]] = {}
        for term, target, pinned in needs:
            self.chosen[(target, pinned)] = path = self._find(term, target, pinned)
            if path:
                self.paths.append(f"{term.id}: {describe_path(root, path)}")
                if any(not e.to_one for e in path):
                    self.fanned.add(term.id)
        prefixes = {p[:i] for p in self.chosen.values() for i in range(1, len(p) + 1)}
        roles: dict[str, int] = {}
        for prefix in prefixes:
            roles[prefix[-1].target] = roles.get(prefix[-1].target, 0) + 1
        for prefix in sorted(prefixes, key=lambda p: (len(p), [e.hop for e in p])):
            edge = prefix[-1]
            name = edge.target
            if roles[name] > 1 or name == root:
                name = f"{edge.name if edge.name != edge.target else edge.source}_{edge.target}"
            self.aliases[prefix] = alias = taken.new(name)
            self.joins.append(
                Join(alias, self.aliases[prefix[:-1]], edge, model.entities[edge.target].table)
            )

    def _find(self, term: Term, target: str, pinned: tuple[str, ...]) -> tuple[Edge, ...]:
        try:
            return find_path(self.model, self.root, target, pinned, fan=True)
        except SemanticError as exc:
            first = exc.diagnostics[0]
            raise error(
                first.code,
                f"{first.message} (needed for '{term.id}')",
                self.query.place(term.id),
                first.hint,
            ) from None

    def reach(self, target: str, pinned: tuple[str, ...]) -> str:
        """The alias of `target` as reached for `term`."""
        return self.aliases[self.chosen[(target, pinned)]]


def _needs(terms: list[Term]) -> list[tuple[Term, str, tuple[str, ...]]]:
    """The entities (with pinned paths) that the expressions of `terms` read columns of."""
    found: dict[tuple[str, tuple[str, ...]], Term] = {}
    for term in terms:
        assert term.entity is not None
        found.setdefault((term.entity, term.path), term)
        for used in term.expr.find_all(exp.Column):
            if used.table:
                found.setdefault((used.table, ()), term)
    return [(term, target, pinned) for (target, pinned), term in found.items()]


def _qualify(expr: exp.Expression, joins: _Joins, term: Term) -> exp.Expression:
    """`expr` of `term` with its columns qualified by the aliases of the entities they are on."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            if node.table:
                alias = joins.reach(node.table, ())
            else:
                assert term.entity is not None
                alias = joins.reach(term.entity, term.path)
            return column(node.name, alias)
        return node

    return expr.copy().transform(swap, copy=False)


def _physical(model: Model, expr: exp.Expression, joins: _Joins) -> exp.Expression:
    """A row-level expression over term references made physical for `joins`' root."""

    def swap(node: exp.Expression) -> exp.Expression:
        ref = ref_of(node)
        if ref is None:
            return node
        term = model.terms[ref.ident]
        value = in_project_time(model, term, _qualify(term.expr, joins, term))
        is_date = _is_date(model, term)
        if ref.grain and not (ref.grain == "day" and is_date):
            value = truncate(value, ref.grain, is_date, model.fiscal_year_start)
        if not isinstance(value, (exp.Column, exp.Func, exp.Literal, exp.Paren)):
            value = exp.paren(value, copy=False)
        return value

    return expr.copy().transform(swap, copy=False)


def _is_date(model: Model, term: Term) -> bool:
    if not isinstance(term.expr, exp.Column) or term.entity is None:
        return False
    column = model.entities[term.entity].columns.get(term.expr.name)
    return column is not None and (column.type or "").strip().lower() == "date"


def _plan_aggregate(
    model: Model,
    name: str,
    entity: str,
    members: list[tuple[str, str]],
    keys: list[tuple[str, exp.Expression]],
    filters: tuple[exp.Expression, ...],
    query: BusinessQuery,
) -> Aggregate:
    used = [model.terms[r.ident] for _, e in keys for r in find_refs(e, "term")]
    used += [model.terms[r.ident] for f in filters for r in find_refs(f, "term")]
    used += [model.terms[tid] for _, tid in members]
    joins = _Joins(model, entity, _needs(used), query)
    fanout = tuple(
        f"{j.edge.source} -> {j.edge.target} is {j.edge.cardinality.replace('_', '-')}"
        for j in joins.joins
        if not j.edge.to_one
    )
    primary_key = model.entities[entity].primary_key
    if fanout and not primary_key:
        raise error(
            "SEM306",
            f"'{entity}' has no primary key, so its rows cannot be counted once each across "
            f"a one-to-many join ({fanout[0]})",
            Span(QUERY_FILE, 1, 1),
            f"declare primary_key for entity '{entity}' in models/",
        )
    return Aggregate(
        name=name,
        entity=entity,
        table=model.entities[entity].table,
        joins=tuple(joins.joins),
        keys=tuple((key, _physical(model, expr, joins)) for key, expr in keys),
        measures=tuple(
            (alias, _qualify(model.terms[tid].expr, joins, model.terms[tid]))
            for alias, tid in members
        ),
        filters=tuple(_physical(model, f, joins) for f in filters),
        paths=tuple(dict.fromkeys(joins.paths)),
        fanout=fanout,
        entity_key=tuple(column(c, entity) for c in primary_key) if fanout else (),
        many_side=tuple(t for t in dict.fromkeys(t.id for t in used) if t in joins.fanned),
        grain=primary_key,
    )


def describe_plan(plan: Plan) -> str:
    """The plan in plain words: for each group of metrics, the rows it aggregates, the join
    path to every dimension, how many-side dimensions and filters count, and the grain of
    the result."""
    lines = []
    keys = [plan.shown.get(name, name) for name, _ in plan.aggregates[0].keys]
    lines.append(f"result: one row per {', '.join(keys)}" if keys else "result: one row")
    for agg in plan.aggregates:
        metrics = ", ".join(m for m, _ in agg.measures)
        rows = f"one per {', '.join(agg.grain)}" if agg.grain else "no declared key"
        lines.append(f"{metrics}: aggregated over rows of {agg.entity} ({rows})")
        lines += [f"  path {p}" for p in agg.paths]
        lines += [f"  filter {f.sql(QUERY_DIALECT)}" for f in agg.filters]
        if agg.fanout:
            lines.append(
                f"  many side: {', '.join(agg.many_side)} "
                f"({'; '.join(agg.fanout)}): each {agg.entity} row counts once per group; "
                "a filter there keeps the rows that have at least one match (semi-join)"
            )
    for ot in plan.over_time:
        value = _words(ot.value, plan.shown)
        boundary = _words(ot.boundary, plan.shown) if ot.boundary is not None else ""
        key = plan.shown.get(ot.key, ot.key)
        if ot.kind == "shift":
            lines.append(f"{ot.alias}: {value} of the period {boundary}, by {key}")
        else:
            start = (
                "since the first"
                if ot.boundary is None
                else f"from {boundary}"
                if ot.inclusive
                else f"after {boundary}"
            )
            if ot.rows is None:
                lines.append(f"{ot.alias}: sum of {value} over the periods {start} to {key}")
            else:
                source = ot.rows
                lines.append(
                    f"{ot.alias}: {value} over the rows of {source.entity} in the periods "
                    f"{start} to {key}, each row once (not a sum of periods: "
                    + (
                        f"{ot.time} is on the many side, {'; '.join(source.fanout)})"
                        if ot.time in source.many_side
                        else "the aggregate does not add up)"
                    )
                )
                lines += [f"  path {p}" for p in source.paths]
    lines += [f"periods shown: {_words(p, plan.shown)}" for p in plan.periods]
    lines += [f"groups kept: {_words(h, plan.shown)}" for h in plan.having]
    return "\n".join(lines)


def _words(expr: exp.Expression, shown: dict[str, str]) -> str:
    """An expression over key and measure references, with their names (keys by the output
    names the query gives them)."""

    def swap(node: exp.Expression) -> exp.Expression:
        ref = ref_of(node)
        if ref is None:
            return node
        return column(shown.get(ref.ident, ref.ident) if ref.kind == "key" else ref.ident)

    return expr.transform(swap, copy=True).sql(QUERY_DIALECT)
