"""dbt metrics (simple, ratio, derived, cumulative) and their jinja filters as metric terms:
the second half of `semantic import dbt` (see `semantic.interchange.dbt`)."""

from __future__ import annotations

import re
from typing import Any

import sqlglot
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from sqlglot import exp

from semantic.files.schema import GRAINS
from semantic.interchange.common import Notice, english_label, line_of, snake_id
from semantic.interchange.dbt.conversion import conversion_meaning
from semantic.interchange.dbt.models import (
    _ADDITIVE,
    _JINJA,
    _METRIC_KEYS,
    _WINDOW,
    FILE_DIALECT,
    _Model,
    _Models,
    _Node,
)


class _Metrics(_Models):
    """The reading of metrics, once the semantic models are read."""

    def input_term(self, ref: Any, node: _Node, owner: str, role: str | None = None) -> str | None:
        """The term of an input metric (a name, or {name, filter, alias}), with a filtered
        helper term when the input has a filter; None while the input is not imported."""
        name = str(ref.get("name") if isinstance(ref, CommentedMap) else ref)
        base = self.metric_ids.get(name)
        if base is None:
            return None
        if isinstance(ref, CommentedMap) and ref.get("filter"):
            model = self.measures.get(self.measure_of.get(name, ""))
            time = model[0].time_dimensions.get(str(model[0].agg_time)) if model else None
            condition = self.filter(node.child(ref), "filter", ref.get("filter"), time)
            if condition is None:
                return ""
            term_id = self.unique_id(f"{owner}_{role or ref.get('alias') or name}")
            term = {
                "label": {"en": english_label(term_id)},
                "status": "draft",
                "tags": ["dbt-input"],
                "metric": {"expr": base, "filter": condition},
            }
            self.add_term("metrics", term_id, term)
            return term_id
        if isinstance(ref, CommentedMap) and (
            ref.get("offset_window") or ref.get("offset_to_grain")
        ):
            return self.shifted(node.child(ref), name, base, owner)
        return base

    def shifted(self, node: _Node, name: str, base: str, owner: str) -> str:
        """An input with `offset_window: 1 month`: a helper term, the metric shifted along
        its agg time dimension (MetricFlow's metric_time); "" when not expressible."""
        key = "offset_to_grain" if node.get("offset_to_grain") else "offset_window"
        what = f"{key} of input '{name}' of '{owner}'"
        to_grain = str(node.get("offset_to_grain") or "").lower()
        match = _WINDOW.match(str(node.get("offset_window"))) if not to_grain else None
        time = self.time_of.get(name)
        if (to_grain not in GRAINS if to_grain else match is None) or time is None:
            why = "an offset in a unit our shifts lack" if time else "no time dimension"
            self.skip(node, key, what, f"{why}: the metric is left out")
            return ""
        if node.get("filter"):
            self.skip(node, "filter", what, "a filtered and offset input: the metric is left out")
            return ""
        if _over_time(self.domains, base):
            self.skip(
                node,
                key,
                what,
                "an offset of a cumulative or conversion metric (a window or conversion "
                "inside a shift) has no equivalent: the metric is left out",
            )
            return ""
        shift: dict[str, Any] = {"time": time}
        if to_grain:  # the value at the start of the period: revenue on the month's 1st
            shift["to_start_of"] = to_grain
        else:
            assert match is not None
            shift.update(periods=int(match.group(1)), grain=match.group(2).lower())
        term_id = self.unique_id(f"{owner}_{node.get('alias') or name}")
        term = {
            "label": {"en": english_label(term_id)},
            "status": "draft",
            "tags": ["dbt-input"],
            "metric": {"expr": base, "shift": shift},
        }
        self.add_term("metrics", term_id, term)
        self.where[term_id] = (node.file, node.line(key))
        return term_id

    def metric(self, node: _Node, *, final: bool) -> bool:
        """Import one dbt metric; False when its inputs are not (yet) imported."""
        name = str(node.get("name"))
        kind = str(node.get("type", "")).lower()
        params = node.get("type_params") or CommentedMap()
        what = f"{kind} metric '{name}'"
        meaning: dict[str, Any] = {}
        if kind == "simple":
            found = self.simple(node, params, what, final=final)
            if not isinstance(found, dict):
                return found is True
            meaning = found
        elif kind == "ratio":
            if node.get("filter"):
                self.skip(
                    node,
                    "filter",
                    f"filter of {what}",
                    "a filter on a whole ratio: put it on the numerator and denominator",
                )
                return True
            num = self.input_term(params.get("numerator"), node, name, "numerator")
            den = self.input_term(params.get("denominator"), node, name, "denominator")
            if num is None or den is None:
                if final:
                    self.skip(node, "type_params", what, "an input metric was not imported")
                return final
            if not num or not den:
                return True
            meaning["expr"] = f"{num} / {den}"
        elif kind == "derived":
            aliases: dict[str, str] = {}
            for ref in params.get("metrics") or []:
                term_id = self.input_term(ref, node, name)
                if term_id is None:
                    if final:
                        self.skip(node, "type_params", what, "an input metric was not imported")
                    return final
                if not term_id:
                    return True
                alias = ref.get("alias") if isinstance(ref, CommentedMap) else None
                ref_name = str(ref.get("name") if isinstance(ref, CommentedMap) else ref)
                aliases[str(alias or ref_name)] = term_id
            text = self.sql(node, "type_params", str(params.get("expr", "")), what)
            if text is None:
                return True
            tree = sqlglot.parse_one(text, read=FILE_DIALECT)
            tree = tree.transform(
                lambda n: (
                    exp.column(aliases[n.name])
                    if isinstance(n, exp.Column) and n.name in aliases
                    else n
                )
            )
            meaning["expr"] = tree.sql(FILE_DIALECT)
        elif kind == "cumulative":
            cumulative = params.get("cumulative_type_params") or params
            measure = params.get("measure") or params.get("metric")
            mname = str(measure.get("name") if isinstance(measure, CommentedMap) else measure)
            if isinstance(measure, CommentedMap) and set(measure) - {"name"}:
                self.skip(
                    node,
                    "type_params",
                    what,
                    "options on its measure ("
                    + ", ".join(str(k) for k in measure if k != "name")
                    + ") are not read for a cumulative metric: the metric is left out",
                )
                return True
            base = self.metric_ids.get(f"measure:{mname}") or self.metric_ids.get(mname)
            if base is None:
                if final:
                    self.skip(node, "type_params", what, f"its input '{mname}' was not imported")
                return final
            if mname in self.measures:
                model, agg, _ = self.measures[mname]
            else:
                self.skip(node, "type_params", what, "a cumulative metric over a metric")
                return True
            if agg not in _ADDITIVE:
                self.skip(node, "type_params", what, f"'{agg}' cannot be summed over a window")
                return True
            time = model.time_dimensions.get(str(model.agg_time))
            if time is None:
                self.skip(node, "type_params", what, "its measure has no agg_time_dimension")
                return True
            window: dict[str, Any] = {"time": time}
            if cumulative.get("window"):
                match = _WINDOW.match(str(cumulative.get("window")))
                if match is None:
                    self.skip(
                        node,
                        "type_params",
                        f"window '{cumulative.get('window')}' of {what}",
                        "a window in a unit our windows lack (day to year): the metric is left out",
                    )
                    return True
                window.update(last=int(match.group(1)), grain=match.group(2).lower())
            elif cumulative.get("grain_to_date"):
                to_date = str(cumulative.get("grain_to_date")).lower()
                if to_date not in GRAINS:
                    self.skip(
                        node,
                        "type_params",
                        f"grain_to_date '{to_date}' of {what}",
                        "a period our windows lack (day to year): the metric is left out",
                    )
                    return True
                window["to_date"] = to_date
            if not self.period_agg_fits(node, cumulative, window, what):
                return True
            meaning["expr"] = base
            meaning["window"] = window
        elif kind == "conversion":
            found = conversion_meaning(self, node, params, what, final=final)
            if not isinstance(found, dict):
                return found
            meaning = found
        else:
            self.skip(node, "type", f"metric '{name}'", f"unknown metric type '{kind}'")
            return True
        self.extra(node, _METRIC_KEYS, what)
        if node.get("filter") and kind in ("derived", "cumulative"):
            self.skip(
                node,
                "filter",
                what,
                "a filter on a whole derived or cumulative metric: "
                "put it on its inputs; the metric is left out",
            )
            return True
        for key in ("time_granularity",):
            if node.get(key):
                self.skip(node, key, f"{key} of '{name}'", "the query chooses its grain")
        if kind == "cumulative":
            self.measure_of[name] = mname
        if kind == "cumulative":
            self.notices.append(
                Notice(
                    node.file,
                    node.line(),
                    f"cumulative metric '{name}'",
                    "without a time spine, periods that have no rows are not listed",
                    "changed",
                )
            )
        term_id = self.unique_id(name)
        term = self.term_names(node, term_id)
        term["metric"] = meaning
        self.metric_ids[name] = term_id
        self.where[term_id] = (node.file, node.line())
        measured = self.measure_of.get(name)
        if kind in ("simple", "cumulative") and measured:
            self.time_of.setdefault(name, self.time_of.get(f"measure:{measured}"))
        self.add_term("metrics", term_id, term)
        return True

    def simple(
        self, node: _Node, params: CommentedMap, what: str, *, final: bool
    ) -> dict[str, Any] | bool | None:
        """A simple metric: True when done (the measure's own term renamed, or reported),
        None while its measure is not imported, else the meaning of a base metric on the
        measure's entity: its aggregate, the metric's and the input's filters, and what a
        group without rows shows (`fill_nulls_with`; MetricFlow shows NULL otherwise, a
        count included)."""
        name = str(node.get("name"))
        measure = params.get("measure")
        if measure is None:
            mname = self.inline_measure(node, params, what)
            if mname is None:
                return True
        else:
            mname = str(measure.get("name") if isinstance(measure, CommentedMap) else measure)
        base = self.metric_ids.get(f"measure:{mname}")
        if base is None:
            if final:
                self.skip(node, "type_params", what, f"its measure '{mname}' was not imported")
            return True if final else None
        options = measure if isinstance(measure, CommentedMap) else params
        filters = [node.get("filter"), options.get("filter") if options is measure else None]
        model, agg, _ = self.measures[mname]
        time = model.time_dimensions.get(str(model.agg_time))
        found = [self.filter(node, "filter", f, time) for f in filters if f]
        conditions = [c for c in found if c is not None]
        if len(conditions) < len(found):
            return True
        fill = options.get("fill_nulls_with")
        if options.get("join_to_timespine"):
            self.notices.append(
                Notice(
                    node.file,
                    line_of(options, "join_to_timespine"),
                    f"join_to_timespine of {what}",
                    "there is no time spine: periods without rows are not listed (MetricFlow "
                    "lists them, with fill_nulls_with or NULL); the others have its numbers",
                    "changed",
                )
            )
        self.measure_of[name] = mname
        if not conditions and fill is None and snake_id(name) == base:
            self.rename(model.id, base, node, name)  # the measure is the metric
            self.metric_ids[name] = base
            self.time_of[name] = self.time_of.get(f"measure:{mname}")
            return True
        measure_term = self.domains[model.id][base]["metric"]
        meaning: dict[str, Any] = {"entity": model.id, "expr": measure_term["expr"]}
        if conditions:
            meaning["filter"] = " AND ".join(
                f"({c})" if len(conditions) > 1 else c for c in conditions
            )
        if fill is not None or agg in ("count", "count_distinct"):
            meaning["fill_null"] = fill  # a count without rows is NULL in MetricFlow
        if fill is not None and agg not in ("count", "count_distinct", "sum_boolean"):
            # MetricFlow fills a NULL aggregate too (a group whose values are all NULL),
            # which our fill_null, for groups without rows, leaves NULL
            meaning["expr"] = f"COALESCE({meaning['expr']}, {fill})"
        return meaning

    def inline_measure(self, node: _Node, params: CommentedMap, what: str) -> str | None:
        """A simple metric of the newer spec, with `agg` and `expr` of its own (in
        `type_params`, or on the metric) instead of a measure: read as a measure of its
        semantic model, named after the metric; None when reported."""
        source = params if params.get("agg") else node.map
        if not source.get("agg"):
            self.skip(node, "type_params", what, "neither a measure nor an agg: left out")
            return None
        aggregation = params.get("metric_aggregation_params") or {}
        owner = node.get("semantic_model") or aggregation.get("semantic_model") or node.owner
        model = self.models.get(str(owner)) if owner else None
        if model is None and len(self.models) == 1:
            model = next(iter(self.models.values()))
        if model is None:
            self.skip(
                node,
                "type_params",
                what,
                "a metric with its own agg must name its semantic model "
                "(metric_aggregation_params.semantic_model): left out",
            )
            return None
        item = CommentedMap(name=node.get("name"), agg=source.get("agg"))
        item["expr"] = source.get("expr", node.get("name"))
        time = source.get("agg_time_dimension") or aggregation.get("agg_time_dimension")
        if time:
            item["agg_time_dimension"] = time
        item.lc.line = node.map.lc.line
        self.one_measure(model, node.child(item), f"measure of {what}")
        name = str(node.get("name"))
        return name if f"measure:{name}" in self.metric_ids else None

    def period_agg_fits(
        self, node: _Node, cumulative: CommentedMap, window: dict[str, Any], what: str
    ) -> bool:
        """Write in `window` how each period takes its value from MetricFlow's daily
        windows; False when reported. A window that ends on each day and starts after the
        same day `last` `grain`s earlier, with each period's value on its first day
        (`period_agg: first`, MetricFlow's default), its last day or the average of its
        days, is our `rolling: day` with that `period_value`. A window of periods ending
        with each period gives the same numbers where MetricFlow takes the last day and
        its window counts whole days or weeks, or runs to date or from the start: those
        stay plain windows."""
        period_agg = str(cumulative.get("period_agg") or "first").lower()
        if period_agg not in ("first", "last", "average"):
            self.skip(
                node,
                "type_params",
                f"{what}: period_agg '{period_agg}'",
                "an unknown period_agg (first, last or average): the metric is left out",
            )
            return False
        if period_agg == "last" and window.get("grain") in (None, "day", "week"):
            return True
        window["rolling"] = "day"
        window["period_value"] = period_agg
        return True

    def rename(self, domain: str, term_id: str, node: _Node, name: str) -> None:
        """A simple metric that only exposes its measure: the measure's term takes the
        metric's label and description."""
        term = self.domains[domain][term_id]
        named = self.term_names(node, name)
        term["label"] = named["label"]
        if "definition" in named:
            term["definition"] = named["definition"]
        del term["tags"]

    def filter(self, node: _Node, key: str, text: Any, time: str | None) -> str | None:
        """A MetricFlow filter (jinja over dimensions) as a condition on term ids."""
        texts = list(text) if isinstance(text, CommentedSeq) else [text]
        parts = []
        for item in texts:
            problem: list[str] = []

            def term(match: re.Match[str], problem: list[str] = problem) -> str:
                found = self.dimension_ref(match.group(1), match.group(2), match.group(3), time)
                if found is None:
                    problem.append(match.group(0))
                    return "NULL"
                return found

            condition = _JINJA.sub(term, str(item))
            if problem or "{{" in condition or "{%" in condition:
                self.skip(
                    node,
                    key,
                    f"filter {' '.join(str(item).split())!r}",
                    "it names "
                    + (problem[0] if problem else "jinja")
                    + ", which has no term: the metric is left out",
                )
                return None
            parts.append(" ".join(condition.split()))
        return " AND ".join(f"({p})" if len(parts) > 1 else p for p in parts)

    def dimension_ref(
        self, function: str, ref: str, grain: str | None, time: str | None = None
    ) -> str | None:
        """The term id of `Dimension('entity__name')` or `TimeDimension('entity__name',
        'grain')` (a grain other than day becomes `term.grain`), or None."""
        parts = ref.split("__")
        if len(parts) >= 3 and parts[-1] in GRAINS:
            grain = parts.pop()
        *entities, dim = parts
        if dim == "metric_time" and time is not None:
            return f"{time}.{grain}" if grain and grain != "day" else time
        if function not in ("Dimension", "TimeDimension") or dim == "metric_time":
            return None
        models: list[_Model | None] = (
            [self.by_entity.get(entities[-1])] if entities else list(self.models.values())
        )
        models += [m for m in self.models.values() if entities and entities[-1] in m.foreign]
        for model in models:
            if model is None:
                continue
            found = model.dimensions.get(dim) or model.time_dimensions.get(dim)
            if found:
                return f"{found}.{grain}" if grain and grain != "day" else found
        return None


def _over_time(domains: dict[str, dict[str, dict[str, Any]]], term_id: str) -> bool:
    """Whether imported term `term_id` is a window, a shift or a conversion metric."""
    for terms in domains.values():
        meaning = terms.get(term_id, {}).get("metric") or {}
        if any(k in meaning for k in ("window", "shift", "conversion")):
            return True
    return False
