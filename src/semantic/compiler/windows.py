"""Windows and shifts in a plan: the conditions that pick whole periods (kept out of the
rows, applied to the period keys), and the windows whose metric does not add up over
periods, computed from the rows of the whole window."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlglot import exp

from semantic.compiler.joins import plan_aggregate
from semantic.compiler.localtime import term_time_type
from semantic.compiler.measures import Measures
from semantic.compiler.naming import Names
from semantic.compiler.periods import RANK, aligned, literal_date, period_start, truncate
from semantic.compiler.plannodes import Aggregate, OverTime
from semantic.compiler.refs import BusinessQuery, find_refs, make_ref, ref_of, show
from semantic.errors import error
from semantic.model import Model


def split_period_filters(
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


def windows_over_rows(
    model: Model,
    measures: Measures,
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
        if ot.period_value is not None:  # per day: the period's key holds the day
            own = [(n, make_ref("term", ot.time, "day") if n == ot.key else e) for n, e in own]
        name = names.new(f"{ot.alias}_{'daily' if ot.period_value else 'rows'}")
        rows = plan_aggregate(model, name, entity, members, own, (*row_filters, *context), query)
        additive = ot.time not in rows.many_side and all(
            isinstance(e, exp.Sum | exp.Count) and e.find(exp.Distinct) is None
            for _, e in rows.measures
        )
        if ot.period_value is not None:
            if not additive:
                raise error(
                    "SEM253",
                    f"metric '{ot.alias}' rolls a window per day over a metric that does not "
                    "add up over days (" + _why_not_additive(ot, rows) + ")",
                    query.place(ot.alias),
                    "roll a sum or a count whose rows each have one day, or drop "
                    "`rolling: day` to compute the window over the rows of whole periods",
                )
            found.append(replace(ot, daily=rows))
            continue
        found.append(ot if additive else replace(ot, rows=rows))
    return tuple(found)


def _why_not_additive(ot: OverTime, rows: Aggregate) -> str:
    """Why the daily values of a window per day cannot be added up, in words."""
    if ot.time in rows.many_side:
        return f"{ot.time} is on the many side: {'; '.join(rows.fanout)}"
    return "a distinct count, an average or another aggregate that does not add up"


def _measure_names(value: exp.Expression) -> list[str]:
    return [r.ident for r in find_refs(value, "measure")]
