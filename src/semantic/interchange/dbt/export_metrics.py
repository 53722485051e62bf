"""The metrics half of `semantic export dbt` (see `semantic.interchange.dbt.export`):
measures and simple metrics, derived metrics, cumulative metrics (windows), offsets
(shifts), saved queries (subject areas), and the report of what the project has that
MetricFlow has no place for (other languages, governance, quality rules)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from semantic.interchange.dbt.export_models import Exporter, mf_name_problem
from semantic.interchange.warehouse import render
from semantic.model.types import SubjectArea, Term

__all__ = ["export_metrics", "report_project"]

_AGGREGATIONS: dict[type[exp.Expression], str] = {
    exp.Sum: "sum",
    exp.Avg: "average",
    exp.Min: "min",
    exp.Max: "max",
    exp.Median: "median",
}
#: MetricFlow joins at most this many semantic models away from a measure's (MAX_JOIN_HOPS)
MAX_JOIN_HOPS = 2


class NotCarried(Exception):
    """Why a metric cannot be carried to MetricFlow."""


def _plural(count: int, grain: str) -> str:
    return f"{count} {grain}{'s' if count > 1 else ''}"


class _Metrics:
    def __init__(self, ex: Exporter) -> None:
        self.ex, self.model = ex, ex.model
        self.metrics: list[dict[str, Any]] = []
        #: metric term -> its semantic model (a derived metric: its first base metric's)
        self.home: dict[str, str] = {}
        #: metric term -> the base metrics (term ids) it is computed from
        self.bases: dict[str, set[str]] = {}
        #: (base metric, time dimension) -> the MetricFlow measure / simple metric along it
        self.measures: dict[tuple[str, str], str] = {}
        self.along: dict[tuple[str, str], str] = {}
        self.taken: set[str] = {
            t.id for t in self.model.terms.values() if t.is_metric
        }  # names metrics and measures may not take
        self.over_time = False

    # --- filters -----------------------------------------------------------------------

    def jinja(self, condition: exp.Expression, start: str) -> str:
        """A condition on dimensions and segments (by term id, `term.grain` for a time
        dimension at a grain) as MetricFlow's jinja, from a measure of `start`."""

        def name(col: exp.Column) -> str:
            tid, grain = (col.table, col.name) if col.table else (col.name, None)
            term = self.model.terms.get(tid)
            path = self.ex.dimension_path(start, tid)
            if term is None or path is None:
                raise NotCarried(
                    f"it names '{tid}', which MetricFlow cannot reach from '{start}' "
                    f"(a dimension carried, at most {MAX_JOIN_HOPS} joins away)"
                )
            if path.count("__") > MAX_JOIN_HOPS:
                raise NotCarried(
                    f"it names '{tid}', {path.count('__')} joins away from '{start}': "
                    f"MetricFlow joins at most {MAX_JOIN_HOPS}"
                )
            if term.kind == "time_dimension":
                return f"{{{{ TimeDimension('{path}', '{grain or term.grains[0]}') }}}}"
            return f"{{{{ Dimension('{path}') }}}}"

        return render(condition, self.ex.dialect, name)

    # --- base metrics ------------------------------------------------------------------

    def aggregation(self, term: Term) -> tuple[str, str]:
        """The MetricFlow aggregation and expression of a metric with one aggregate
        (`COALESCE(<aggregate>, n)` with `fill_null: n` is the aggregate with
        `fill_nulls_with: n`, which fills a NULL aggregate too)."""
        tree = term.expr
        if (
            isinstance(tree, exp.Coalesce)
            and len(tree.expressions) == 1
            and term.fill_null is not None
            and tree.expressions[0] == term.fill_null
        ):
            tree = tree.this
        agg = _AGGREGATIONS.get(type(tree))
        inner = tree.this
        if isinstance(tree, exp.Count):
            if isinstance(inner, exp.Star):
                agg, inner = "count", exp.Literal.number(1)
            elif isinstance(inner, exp.Distinct) and len(inner.expressions) == 1:
                agg, inner = "count_distinct", inner.expressions[0]
            elif not isinstance(inner, exp.Distinct):
                agg = "count"
        if agg is None or not isinstance(inner, exp.Expression):
            raise NotCarried(
                "a measure is one aggregate MetricFlow knows (sum, count, count_distinct, "
                "average, min, max, median): write the others as derived metrics"
            )
        if inner.find(exp.AggFunc, exp.Window, exp.Subquery, exp.Select) is not None:
            raise NotCarried("its aggregate holds another aggregate or a query")
        if any(c.table for c in inner.find_all(exp.Column)):
            raise NotCarried("it reads another entity's columns: a measure reads its own")
        return agg, self.ex.in_dialect(inner)

    def base(self, term: Term) -> None:
        """A metric over an entity: a measure and a simple metric of the same name."""
        assert term.entity is not None
        semantic = self.ex.semantic.get(term.entity)
        if semantic is None:
            raise NotCarried(f"its entity '{term.entity}' is not carried")
        if semantic.agg_time is None:
            raise NotCarried(
                f"MetricFlow aggregates a measure along a time dimension of its own semantic "
                f"model (agg_time_dimension), and '{term.entity}' has none"
            )
        agg, expr = self.aggregation(term)
        condition = self.jinja(term.filter, term.entity) if term.filter is not None else None
        # the label and description go on the metric: a measure of the same label would
        # clash with it when read back
        measure: dict[str, Any] = {"name": term.id, "agg": agg, "expr": expr}
        semantic.measures.append(measure)
        self.measures[(term.id, semantic.agg_time)] = term.id
        self.metrics.append(self.simple(term, term.id, term.id, condition))
        self.along[(term.id, semantic.agg_time)] = term.id
        self.home[term.id] = term.entity
        self.bases[term.id] = {term.id}

    def simple(self, term: Term, name: str, measure: str, condition: str | None) -> dict[str, Any]:
        fill: int | None = None
        if term.fill_null is not None:
            value = float(term.fill_null.name)
            if value.is_integer():
                fill = int(value)
            else:
                self.ex.changed(
                    term,
                    f"fill_null {term.fill_null.name} of '{term.id}'",
                    "MetricFlow's fill_nulls_with takes a whole number: not written",
                )
        source: Any = {"name": measure, "fill_nulls_with": fill} if fill is not None else measure
        metric: dict[str, Any] = {"name": name, **self.ex.names(term), "type": "simple"}
        metric["type_params"] = {"measure": source}
        if condition:
            metric["filter"] = condition
        return metric

    def measure_along(self, tid: str, time: str) -> str:
        """The measure of base metric `tid` aggregated along `time` (a second measure when
        `time` is not its semantic model's default)."""
        if (tid, time) in self.measures:
            return self.measures[(tid, time)]
        term = self.model.terms[tid]
        semantic = self.ex.semantic[self.home[tid]]
        if time not in semantic.time_dimensions:
            raise NotCarried(
                f"'{time}' is not a time dimension of '{semantic.entity.id}', the entity of "
                f"'{tid}': MetricFlow aggregates a measure along its own time dimensions"
            )
        name = self.new_name(f"{tid}_by_{time}")
        first = next(m for m in semantic.measures if m["name"] == tid)
        semantic.measures.append({**first, "name": name, "agg_time_dimension": time})
        self.measures[(tid, time)] = name
        if (tid, time) not in self.along:
            condition = self.jinja(term.filter, semantic.entity.id) if term.filter else None
            metric = self.simple(term, name, name, condition)
            metric["label"] = (
                f"{metric['label']} by {self.model.terms[time].label(self.ex.language)}"
            )
            self.metrics.append(metric)
            self.along[(tid, time)] = name
        return name

    def new_name(self, base: str) -> str:
        """A name no metric, measure or field has taken."""
        taken = self.taken | {n for s in self.ex.semantic.values() for n in s.taken}
        name, i = base, 2
        while name in taken or mf_name_problem(name):
            name, i = f"{base}_{i}", i + 1
        self.taken.add(name)
        return name

    def metric_along(self, tid: str, time: str) -> str:
        """A carried metric whose MetricFlow metric_time is `time`: `tid` itself, or the
        simple metric of its measure along `time`."""
        if all(self.ex.semantic[self.home[b]].agg_time == time for b in self.bases[tid]):
            return tid
        if self.bases[tid] != {tid}:
            raise NotCarried(
                f"the metrics under '{tid}' are not aggregated along '{time}' in MetricFlow"
            )
        self.measure_along(tid, time)
        return self.along[(tid, time)]

    # --- metrics over metrics ----------------------------------------------------------

    def inputs(
        self, term: Term, aliases: dict[str, str], offset: tuple[str, str] | None
    ) -> list[Any]:
        found = []
        for ref in term.refs:
            item: dict[str, Any] = {"name": aliases.get(ref, ref)}
            if offset is not None:  # offset_window: 1 month, or offset_to_grain: month
                item[offset[0]] = offset[1]
                item["alias"] = f"{ref}_earlier"
            if term.filter is not None:
                item["filter"] = self.jinja(term.filter, self.home[ref])
            found.append(item if len(item) > 1 else ref)
        return found

    def derived(self, term: Term) -> None:
        """A metric over metrics (a derived metric); a shift is one whose inputs are offset,
        a window a cumulative metric of its measure."""
        metric: dict[str, Any] = {"name": term.id, **self.ex.names(term)}
        if term.reads_per:
            raise NotCarried(
                "it reads a metric at another grain (MEASURE(...) PER): MetricFlow's derived "
                "metrics combine metrics at the query's grain"
            )
        if term.window is not None:
            metric.update(self.cumulative(term))
        elif term.conversion is not None:
            metric.update(self.conversion(term))
            if term.filter is not None:
                metric["filter"] = self.jinja(term.filter, self.home[term.refs[0]])
        else:
            expr, aliases = term.expr, {}
            offset: tuple[str, str] | None = None
            if term.shift is not None:
                shift = term.shift
                if (shift.grain or shift.to_start_of or "").startswith("fiscal"):
                    raise NotCarried("MetricFlow has no fiscal calendar to offset by")
                aliases = {r: self.metric_along(r, shift.time) for r in term.refs}
                if shift.to_start_of is not None:
                    offset = ("offset_to_grain", shift.to_start_of)
                else:
                    assert shift.grain is not None
                    offset = ("offset_window", _plural(shift.periods, shift.grain))
                expr = expr.transform(
                    lambda n: (
                        exp.column(f"{n.name}_earlier")
                        if isinstance(n, exp.Column) and n.name in term.refs
                        else n
                    )
                )
            params = {
                "expr": self.ex.in_dialect(expr),
                "metrics": self.inputs(term, aliases, offset),
            }
            metric.update(type="derived", type_params=params)
        self.metrics.append(metric)
        self.home[term.id] = self.home[term.refs[0]]
        self.bases[term.id] = {b for r in term.refs for b in self.bases[r]}

    def conversion(self, term: Term) -> dict[str, Any]:
        """A conversion metric as MetricFlow's: its two measures along their times (a
        conversion measure counts: COUNT, COUNT_DISTINCT or SUM(1))."""
        spec = term.conversion
        assert spec is not None
        base, converted = term.refs
        agg, expr = self.aggregation(self.model.terms[converted])
        if agg not in ("count", "count_distinct") and (agg, expr) != ("sum", "1"):
            raise NotCarried(
                f"MetricFlow's conversion measure counts (count, count_distinct, sum of 1); "
                f"'{converted}' is a {agg}"
            )
        params: dict[str, Any] = {
            "entity": spec.entity,
            "calculation": spec.calculation,
            "base_measure": self.measure_along(base, spec.base_time),
            "conversion_measure": self.measure_along(converted, spec.time),
        }
        if spec.window is not None:
            params["window"] = _plural(spec.window.last, spec.window.grain)
        if spec.constant_properties:
            params["constant_properties"] = [
                {"base_property": p.base, "conversion_property": p.conversion}
                for p in spec.constant_properties
            ]
        return {"type": "conversion", "type_params": {"conversion_type_params": params}}

    def cumulative(self, term: Term) -> dict[str, Any]:
        """A window as a cumulative metric of the measure it sums, with `period_agg: last`:
        each period shows the window that ends with it, as ours; a window per day
        (`rolling: day`) with its `period_value` as `period_agg`."""
        window = term.window
        assert window is not None
        ref = term.refs[0] if len(term.refs) == 1 else None
        if ref is None or term.expr != exp.column(ref) or self.bases[ref] != {ref}:
            raise NotCarried("MetricFlow accumulates one measure: window a metric over an entity")
        if term.filter is not None:
            raise NotCarried("a filter on a window: put it on the metric the window sums")
        base = self.model.terms[ref]
        found: dict[str, Any] = {"type": "cumulative"}
        if base.filter is not None:
            # on the metric: MetricFlow 0.211 ignores a filter on a cumulative metric's
            # measure (tests/fixtures/dbt/README.md)
            found["filter"] = self.jinja(base.filter, self.home[ref])
        measure = self.measure_along(ref, window.time)
        grain = window.grain or window.to_date or "day"
        if grain.startswith("fiscal"):
            raise NotCarried("MetricFlow has no fiscal calendar for windows")
        params: dict[str, Any] = {}
        if window.last is not None:
            params["window"] = _plural(window.last, grain)
            if grain in ("month", "quarter", "year") and not window.rolling:
                self.ex.changed(
                    term,
                    f"window of '{term.id}'",
                    f"MetricFlow's window of {params['window']} ends on each day and starts "
                    f"the same day {params['window']} earlier: by month it may start within a "
                    "month (30 April goes back to 30 January; a year back from 28 February "
                    "2025 keeps 29 February 2024), where ours counts whole months; by day the "
                    "numbers agree (`semantic import dbt` leaves such windows out)",
                )
        elif window.to_date is not None:
            params["grain_to_date"] = window.to_date
        # a window per day is MetricFlow's own: its period takes the first day's, the last
        # day's or the average value; a window of periods is the last day's
        params["period_agg"] = window.value_of_period if window.rolling else "last"
        found["type_params"] = {"measure": measure, "cumulative_type_params": params}
        return found

    # --- subject areas -----------------------------------------------------------------

    def one_path(self, area: SubjectArea, condition: exp.Expression) -> str:
        """`condition` as jinja, the same from every metric of `area`: a saved query names
        a dimension by one join path for all its metrics."""
        texts = {self.jinja(condition, self.home[m]) for m in area.metrics}
        if len(texts) > 1:
            raise NotCarried(
                "MetricFlow names a dimension by one join path for every metric of a saved "
                f"query, and its metrics reach {condition.sql()} by different ones: "
                + ", ".join(sorted(texts))
            )
        return texts.pop()

    def saved_query(self, area: SubjectArea) -> dict[str, Any]:
        """A subject area as a saved query: its metrics, its dimensions as group_by and its
        filter and segments as where."""
        lost = [m for m in area.metrics if m not in self.home]
        if lost:
            raise NotCarried(f"its metrics {', '.join(lost)} are not carried")
        if not area.metrics:
            raise NotCarried("a saved query has metrics")
        group_by = []
        for item in area.dimensions:
            tid, _, grain = item.partition(".")
            ref = exp.column(grain, table=tid) if grain else exp.column(tid)
            text = self.one_path(area, ref)
            group_by.append(text.removeprefix("{{ ").removesuffix(" }}"))
        conditions = [area.filter] if area.filter is not None else []
        conditions += [exp.column(s) for s in area.segments]
        where = [self.one_path(area, c) for c in conditions]
        query: dict[str, Any] = {"name": area.id, "label": area.label(self.ex.language)}
        if area.definition.get(self.ex.language):
            query["description"] = " ".join(area.definition[self.ex.language].split())
        params: dict[str, Any] = {"metrics": list(area.metrics)}
        if group_by:
            params["group_by"] = group_by
        if where:
            params["where"] = where
        query["query_params"] = params
        return query


def export_metrics(ex: Exporter) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The metrics and saved queries of the project that MetricFlow can carry (the measures
    go into `ex`'s semantic models); the others reported."""
    state = _Metrics(ex)
    pending: list[Term] = []
    for term in ex.model.terms.values():
        if not term.is_metric:
            continue
        what = f"metric '{term.id}'"
        try:
            if mf_name_problem(term.id):
                raise NotCarried(str(mf_name_problem(term.id)))
            if term.entity is not None and not term.is_over_time:
                state.base(term)
            else:
                pending.append(term)
        except NotCarried as why:
            ex.lost(term, what, str(why))
    # metrics over metrics, each after the metrics it uses
    changed = True
    while changed:
        changed = False
        for term in list(pending):
            if all(r in state.home for r in term.refs):
                pending.remove(term)
                changed = True
                try:
                    state.derived(term)
                    state.over_time = state.over_time or term.is_over_time
                except NotCarried as why:
                    ex.lost(term, f"metric '{term.id}'", str(why))
    for term in pending:
        lost = sorted(r for r in term.refs if r not in state.home)
        ex.lost(term, f"metric '{term.id}'", f"it uses {', '.join(lost)}, not carried")
    saved = []
    for area in ex.model.subject_areas.values():
        try:
            saved.append(state.saved_query(area))
        except NotCarried as why:
            ex.lost(area, f"subject area '{area.id}'", str(why))
    if state.over_time:
        ex.changed(
            None,
            "windows and shifts",
            "MetricFlow lists every period of its time spine for cumulative and offset "
            "metrics, those without rows included; the periods with rows have our numbers, "
            "but an offset onto a period without rows is NULL there, not the metric's "
            "fill_null",
        )
    for semantic in ex.semantic.values():
        if len(semantic.time_dimensions) > 1 and semantic.measures:
            others = ", ".join(semantic.time_dimensions[1:])
            ex.changed(
                semantic.entity,
                f"metric_time of '{semantic.entity.id}'",
                f"MetricFlow aggregates its measures along '{semantic.agg_time}', its first "
                f"time dimension, when asked by metric_time ({others}: by name)",
            )
    return state.metrics, saved


def report_project(ex: Exporter) -> None:
    """What the project has that a dbt project has no place for: one notice each."""
    model, main = ex.model, ex.language
    for term in model.terms.values():
        if term.kind == "concept":
            ex.lost(term, f"business concept '{term.id}'", "it has no expression to export")
    others = model.languages_besides(main)
    if others:
        ex.lost(None, f"labels and definitions in {', '.join(others)}", f"one language: {main}")
    kept = [
        key
        for key in (
            "synonyms",
            "owners",
            "tags",
            "hidden_labels",
            "scope_note",
            "examples",
            "broader",
            "related",
            "exact_match",
            "close_match",
            "replaced_by",
        )
        if any(getattr(t, key) for t in model.terms.values())
    ]
    if kept or any(t.status != "draft" for t in model.terms.values()):
        ex.lost(
            None,
            "status, confidentiality, " + ", ".join(kept) + " of terms",
            "dbt semantic models have no place for them (see `semantic export rdf`)",
        )
    rules = sorted({e.id for e in model.entities.values() if e.quality})
    rules += sorted({t.id for t in model.terms.values() if t.quality})
    if rules:
        ex.lost(None, f"quality rules of {', '.join(rules)}", "write them as dbt data tests")
