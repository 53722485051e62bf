"""dbt metrics (simple, ratio, derived, cumulative) and their jinja filters as metric terms:
the second half of `semantic import dbt` (see `semantic.interchange.dbt`)."""

from __future__ import annotations

import re
from typing import Any

import sqlglot
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from sqlglot import exp

from semantic.files.schema import GRAINS
from semantic.interchange.common import Notice, english_label, snake_id
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
        for key in ("offset_window", "offset_to_grain"):
            if isinstance(ref, CommentedMap) and ref.get(key):
                self.skip(
                    node.child(ref),
                    key,
                    f"{key} of input '{name}' of '{owner}'",
                    "offsets are not mapped; use a `shift:` metric by hand",
                )
                return ""
        return base

    def metric(self, node: _Node, *, final: bool) -> bool:
        """Import one dbt metric; False when its inputs are not (yet) imported."""
        name = str(node.get("name"))
        kind = str(node.get("type", "")).lower()
        params = node.get("type_params") or CommentedMap()
        what = f"{kind} metric '{name}'"
        meaning: dict[str, Any] = {}
        if kind == "simple":
            measure = params.get("measure")
            mname = str(measure.get("name") if isinstance(measure, CommentedMap) else measure)
            base = self.metric_ids.get(f"measure:{mname}")
            if base is None:
                if final:
                    self.skip(node, "type_params", what, f"its measure '{mname}' was not imported")
                return final
            filters = [node.get("filter")]
            if isinstance(measure, CommentedMap):
                filters.append(measure.get("filter"))
                if measure.get("fill_nulls_with") is not None:
                    meaning["fill_null"] = measure.get("fill_nulls_with")
                if measure.get("join_to_timespine"):
                    self.skip(
                        node.child(measure),
                        "join_to_timespine",
                        what,
                        "no time spine: periods without rows are absent, not zero",
                    )
            model = self.measures[mname][0]
            time = model.time_dimensions.get(str(model.agg_time))
            found = [self.filter(node, "filter", f, time) for f in filters if f]
            conditions = [c for c in found if c is not None]
            if len(conditions) < len(found):
                return True
            model = self.measures[mname][0]
            if not conditions and not meaning and snake_id(name) == base:
                self.rename(model.id, base, node, name)  # the measure is the metric
                self.metric_ids[name] = base
                self.measure_of[name] = mname
                return True
            meaning["expr"] = base
            if conditions:
                meaning["filter"] = " AND ".join(
                    f"({c})" if len(conditions) > 1 else c for c in conditions
                )
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
                    self.skip(node, "type_params", what, "a window in an unknown unit")
                    return True
                window.update(last=int(match.group(1)), grain=match.group(2).lower())
            elif cumulative.get("grain_to_date"):
                window["to_date"] = str(cumulative.get("grain_to_date")).lower()
            if cumulative.get("period_agg") not in (None, "first"):
                self.skip(
                    node,
                    "type_params",
                    f"period_agg of {what}",
                    "the window is computed at the query's grain",
                )
            meaning["expr"] = base
            meaning["window"] = window
        else:
            reason = (
                "conversion metrics (funnels between two events) have no equivalent"
                if kind == "conversion"
                else f"unknown metric type '{kind}'"
            )
            self.skip(node, "type", f"metric '{name}'", reason)
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
        if kind == "simple":
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
        self.add_term("metrics", term_id, term)
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
