"""Base metrics as a query uses them: each under the filters that apply to it, derived
metrics inlined, windows and shifts planned per period (`OverTime`), every measure known by
an id of the plan."""

from __future__ import annotations

from sqlglot import exp

from semantic.compiler.conversion import Request, conversion_value, start_of
from semantic.compiler.naming import Names, readable
from semantic.compiler.periods import RANK, aligned, earlier, steps_fit, truncate
from semantic.compiler.plannodes import OverTime
from semantic.compiler.refs import BusinessQuery, find_refs, make_ref, ref_of
from semantic.errors import Span, error
from semantic.model import Model, Term
from semantic.model.types import Window


class Measures:
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
        #: conversion metrics, by metric id and context (see `compiler.conversion`)
        self.conversions: dict[tuple[str, frozenset[exp.Expression]], Request] = {}
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

        alone = ref_of(expr)
        if alone is not None and alone.kind == "term":  # a metric alone: its value is new
            return swap(expr)
        return expr.copy().transform(swap, copy=False)

    def _metric(self, term: Term, context: tuple[exp.Expression, ...]) -> exp.Expression:
        if term.filter is not None:
            context = (*context, _as_refs(term.filter))
        if term.is_conversion:
            return conversion_value(self, term, context)
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
            if window.rolling:  # a window per day: every period has days, any grain fits
                limit = grain
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
            # the window of each period, or with `rolling: day` of each day (the key then
            # stands for the day): a trailing one starts after the period (day) `last`
            # `grain`s earlier, as MetricFlow's, so 7 days are the day and the 6 before it
            period = make_ref("key", name)
            boundary: exp.Expression | None = None
            if window.to_date:
                boundary = truncate(period, window.to_date, True, self.model.fiscal_year_start)
            elif window.last is not None and window.grain is not None:
                boundary = earlier(period, window.last, window.grain)
            kind, inclusive = "window", window.to_date is not None
        else:
            shift = term.shift
            assert shift is not None
            if shift.to_start_of is not None:
                boundary = start_of(self.model, term, shift.to_start_of, name, grain, place)
            elif not steps_fit(grain, shift.periods, shift.grain or grain):
                raise error(
                    "SEM314",
                    f"metric '{term.id}' shifts by {shift.periods} {shift.grain}(s), which "
                    f"does not land on the start of a period of {spec.time}.{grain}",
                    place,
                    f"group by {spec.time}.{shift.grain} or a grain that divides it",
                )
            else:
                boundary = earlier(make_ref("key", name), shift.periods, shift.grain or grain)
            kind, inclusive = "shift", True
        ot = OverTime(
            alias=self._alias(term.id),
            kind=kind,
            time=spec.time,
            key=name,
            grain=grain,
            value=value,
            boundary=boundary,
            inclusive=inclusive,
            partition=partition,
            period_value=_period_value(term),
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


def _period_value(term: Term) -> str | None:
    """`first`, `last` or `average` for a window per day (`rolling: day`), else None."""
    window = term.window
    return window.value_of_period if window is not None and window.rolling else None


def _window_words(window: Window) -> str:
    """`3 month(s)`, `the year to date`: a window's length in words."""
    if window.to_date:
        return f"the {window.to_date.replace('_', ' ')} to date"
    return f"{window.last} {window.grain}(s)"  # a running total is never refused


def _nesting(limit: str, fiscal_start: int) -> list[str]:
    """The finer grains whose periods start on the first day of every `limit` period."""
    return [g for g in RANK if RANK[g] < RANK[limit] and aligned(g, limit, fiscal_start)]


def _metric_value(
    measures: Measures, term: Term, context: tuple[exp.Expression, ...]
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
