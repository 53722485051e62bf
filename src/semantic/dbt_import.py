"""`semantic import dbt`: dbt semantic models and metrics (MetricFlow YAML) as our models and
glossary; see docs/importing.md#dbt.

Reads the YAML files under the project's `model-paths` (the `semantic_models:` and
`metrics:` of the dbt 1.6+ spec, and the `models:` properties for column types) and maps:

- a semantic model -> an entity over the table of its dbt model (`ref('orders')` -> `orders`);
  its primary entity -> the primary key; a foreign entity whose name is another semantic
  model's primary (or unique) entity -> a many-to-one (one-to-one) relationship;
- a dimension -> a dimension term; a time dimension -> a time dimension with the grains
  from its `time_granularity` up;
- a measure -> a metric on the entity (sum, count, count_distinct, average, min, max,
  median, sum_boolean);
- a metric -> a metric term: simple (with `filter` and `fill_nulls_with`), ratio, derived
  (with aliases and input filters), cumulative (`window` and `grain_to_date`); jinja filters
  `{{ Dimension('order__status') }}`, `{{ TimeDimension('order__ordered_at') }}` become
  term ids.

Everything else (conversion metrics, offsets, percentiles, non-additive dimensions, SCD
validity, time spines, the `metric_time` alias in a filter, ...) is reported with its
file:line and why, and left out: nothing is dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from sqlglot import exp
from sqlglot.errors import ParseError

from semantic.errors import Diagnostic, SemanticError, Span, error
from semantic.files.schema import GRAINS
from semantic.interchange import Notice, dump_yaml, english_label, flow, load_yaml, snake_id

__all__ = ["DbtImport", "import_dbt"]

FILE_DIALECT = "duckdb"

#: MetricFlow aggregations as SQL templates over the measure's expression
_AGGREGATES = {
    "sum": "sum({})",
    "count": "count({})",
    "count_distinct": "count(DISTINCT {})",
    "average": "avg({})",
    "avg": "avg({})",
    "min": "min({})",
    "max": "max({})",
    "median": "median({})",
    "sum_boolean": "sum(CASE WHEN {} THEN 1 ELSE 0 END)",
}
_ADDITIVE = {"sum", "count", "sum_boolean"}
_COMMON = {"name", "description", "label", "meta", "config"}
_ENTITY_KEYS = frozenset({*_COMMON, "type", "expr", "role"})
_DIMENSION_KEYS = frozenset({*_COMMON, "type", "expr", "type_params", "is_partition"})
_MEASURE_KEYS = frozenset(
    {*_COMMON, "agg", "expr", "agg_time_dimension", "create_metric", "non_additive_dimension"}
)
_METRIC_KEYS = frozenset({*_COMMON, "type", "type_params", "filter", "time_granularity"})
_JINJA = re.compile(r"\{\{\s*(\w+)\(\s*'([^']*)'\s*(?:,\s*'([^']*)'\s*)?\)\s*\}\}")
_WINDOW = re.compile(r"^\s*(\d+)\s+(day|week|month|quarter|year)s?\s*$", re.IGNORECASE)


@dataclass
class DbtImport:
    """What an import gives: the files to write (path -> text), the table of each entity and
    the report of what was not carried over."""

    files: dict[str, str] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    data: dict[str, str] | None = None


@dataclass
class _Node:
    """A YAML mapping with the file it comes from, to report positions."""

    file: str
    map: CommentedMap

    def line(self, key: str | None = None) -> int:
        if key is not None and key in self.map:
            return int(self.map.lc.key(key)[0]) + 1
        return int(self.map.lc.line) + 1

    def get(self, key: str, default: Any = None) -> Any:
        return self.map.get(key, default)

    def child(self, value: Any) -> _Node:
        return _Node(self.file, value)


@dataclass
class _Model:
    name: str
    id: str
    table: str
    node: _Node
    primary: dict[str, str] = field(default_factory=dict)  # entity name -> column
    unique: dict[str, str] = field(default_factory=dict)
    foreign: dict[str, tuple[str, _Node]] = field(default_factory=dict)
    dimensions: dict[str, str] = field(default_factory=dict)  # dbt name -> term id
    time_dimensions: dict[str, str] = field(default_factory=dict)
    agg_time: str | None = None
    columns: dict[str, str | None] = field(default_factory=dict)
    relationships: list[CommentedMap] = field(default_factory=list)


def _yaml_files(folder: Path) -> Iterator[Path]:
    for pattern in ("*.yml", "*.yaml"):
        yield from sorted(folder.rglob(pattern))


def _load(path: Path, name: str) -> Any:
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise error("SEM222", f"cannot read {name}: {exc}", Span(name)) from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        span = Span(name, mark.line + 1, mark.column + 1) if mark else Span(name)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise error("SEM222", f"invalid YAML: {problem}", span, "fix the dbt file") from None


class _Importer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.out = DbtImport()
        self.models: dict[str, _Model] = {}
        self.by_entity: dict[str, _Model] = {}  # primary/unique entity name -> model
        self.metric_ids: dict[str, str] = {}  # dbt metric or measure name -> term id
        self.measures: dict[str, tuple[_Model, str, _Node]] = {}  # name -> model, agg, node
        self.taken: set[str] = set()
        self.domains: dict[str, CommentedMap] = {}
        self.column_types: dict[str, dict[str, str]] = {}
        self.measure_of: dict[str, str] = {}  # simple metric -> its measure
        self.shared: dict[str, int] = {}  # dimension name -> how many semantic models have it

    # --- reporting -----------------------------------------------------------------------

    def skip(self, node: _Node, key: str | None, what: str, reason: str) -> None:
        self.out.notices.append(Notice(node.file, node.line(key), what, reason))

    def unique_id(self, name: str, model: str | None = None) -> str:
        """A term id from a dbt name, made unique: with the entity in front when `model` is
        given and another semantic model shares the name, else with a number behind."""
        base = snake_id(name)
        shared = model is not None and self.shared.get(name, 0) > 1
        term_id = snake_id(f"{model}_{name}") if shared or base in self.taken and model else base
        n = 2
        while term_id in self.taken:
            term_id, n = f"{base}_{n}", n + 1
        self.taken.add(term_id)
        return term_id

    def add_term(self, domain: str, term_id: str, term: CommentedMap) -> None:
        self.domains.setdefault(domain, CommentedMap())[term_id] = term
        self.out.terms.append(term_id)

    # --- reading -------------------------------------------------------------------------

    def run(self) -> DbtImport:
        project_file = self.root / "dbt_project.yml"
        if not project_file.is_file():
            raise error(
                "SEM222",
                f"no dbt_project.yml in {self.root}",
                Span(str(self.root)),
                "give the folder of a dbt project",
            )
        project = _load(project_file, "dbt_project.yml") or {}
        paths = list(project.get("model-paths") or project.get("source-paths") or ["models"])
        semantic: list[_Node] = []
        metrics: list[_Node] = []
        for folder in paths:
            for path in _yaml_files(self.root / folder):
                name = str(path.relative_to(self.root))
                tree = _load(path, name)
                if not isinstance(tree, CommentedMap):
                    continue
                semantic += [_Node(name, m) for m in tree.get("semantic_models") or []]
                metrics += [_Node(name, m) for m in tree.get("metrics") or []]
                for model in tree.get("models") or []:
                    self.model_properties(_Node(name, model))
        if not semantic:
            raise error(
                "SEM222",
                f"no semantic_models in the YAML files under {', '.join(paths)}",
                Span(str(project_file)),
                "the importer reads the `semantic_models:` and `metrics:` of dbt 1.6+",
            )
        for node in semantic:
            self.semantic_model(node)
        for model in self.models.values():
            self.relationships(model)
        for model in self.models.values():
            for item in model.node.get("dimensions") or []:
                name = str(item.get("name"))
                self.shared[name] = self.shared.get(name, 0) + 1
        for model in self.models.values():
            self.dimensions(model)
        for model in self.models.values():
            self.model_measures(model)
        pending = list(metrics)
        # a metric may use another one defined later: repeat until no progress
        while pending:
            waiting = [m for m in pending if not self.metric(m, final=False)]
            if len(waiting) == len(pending):
                for node in waiting:
                    self.metric(node, final=True)
                break
            pending = waiting
        self.seeds(project)
        self.write()
        return self.out

    def model_properties(self, node: _Node) -> None:
        name = node.get("name")
        if not name:
            return
        if node.get("semantic_model") is not None:
            self.skip(
                node,
                "semantic_model",
                f"semantic model of dbt model '{name}'",
                "the dbt 1.12 spec (semantic_model inside a model) is not read yet; "
                "write it as a top-level `semantic_models:` entry",
            )
        types = self.column_types.setdefault(str(name), {})
        for column in node.get("columns") or []:
            if isinstance(column, CommentedMap) and column.get("name") and column.get("data_type"):
                types[str(column["name"])] = str(column["data_type"]).lower()

    def semantic_model(self, node: _Node) -> None:
        name = str(node.get("name"))
        ref = re.match(r"""^\s*ref\(\s*['"]([^'"]+)['"]\s*(?:,.*)?\)\s*$""", str(node.get("model")))
        if ref is None:
            self.skip(node, "model", f"semantic model '{name}'", "its `model:` is not ref('...')")
            return
        model = _Model(name, snake_id(name), ref.group(1), node)
        self.models[name] = model
        defaults = node.get("defaults") or {}
        model.agg_time = defaults.get("agg_time_dimension")
        for key in node.map:
            if key not in (
                "name",
                "description",
                "model",
                "defaults",
                "entities",
                "dimensions",
                "measures",
                "label",
                "primary_entity",
            ):
                self.skip(node, key, f"'{key}' of semantic model '{name}'", "no equivalent")
        if node.get("primary_entity"):
            self.skip(
                node,
                "primary_entity",
                f"primary_entity of '{name}'",
                "an entity without a key column has no equivalent; the model keeps its columns",
            )
        for item in node.get("entities") or []:
            entity = node.child(item)
            ename, kind = str(entity.get("name")), entity.get("type")
            self.extra(entity, _ENTITY_KEYS, f"entity '{ename}' of '{name}'")
            column = _expr_column(entity.get("expr") or ename)
            if column is None:
                self.skip(
                    entity,
                    "expr",
                    f"entity '{ename}' of '{name}'",
                    "a key that is an expression, not a column, cannot be joined on",
                )
                continue
            model.columns.setdefault(column, None)
            if kind == "primary":
                model.primary[ename] = column
                self.by_entity[ename] = model
            elif kind == "unique":
                model.unique[ename] = column
                self.by_entity.setdefault(ename, model)
            elif kind == "foreign":
                model.foreign[ename] = (column, entity)
            else:
                self.skip(
                    entity,
                    "type",
                    f"{kind} entity '{ename}' of '{name}'",
                    "natural keys (SCD) have no equivalent",
                )

    def relationships(self, model: _Model) -> None:
        for ename, (column, node) in model.foreign.items():
            target = self.by_entity.get(ename)
            if target is None or target is model:
                self.skip(
                    node,
                    None,
                    f"foreign entity '{ename}' of '{model.name}'",
                    "no other semantic model has it as primary or unique entity",
                )
                continue
            unique = ename in target.unique and ename not in target.primary
            key = target.primary.get(ename) or target.unique[ename]
            rel = CommentedMap()
            rel["to"] = target.id
            if sum(1 for e in model.foreign if self.by_entity.get(e) is target) > 1:
                rel["name"] = snake_id(ename)
            rel["cardinality"] = "many_to_one"
            rel["keys"] = flow({column: key})
            if unique:
                rel.yaml_set_start_comment(f"to the unique entity '{ename}'", indent=6)
            model.relationships.append(rel)

    def dimensions(self, model: _Model) -> None:
        for item in model.node.get("dimensions") or []:
            node = model.node.child(item)
            name = str(node.get("name"))
            self.extra(node, _DIMENSION_KEYS, f"dimension '{name}' of '{model.name}'")
            expr = self.sql(node, "expr", str(node.get("expr") or name), f"dimension '{name}'")
            if expr is None:
                continue
            _collect_columns(expr, model.columns)
            kind = node.get("type")
            if kind not in ("time", "categorical"):
                self.skip(
                    node,
                    "type",
                    f"dimension '{name}' of '{model.name}'",
                    f"unknown dimension type '{kind}'",
                )
                continue
            term_id = self.unique_id(name, model.id)
            term = self.term_names(node, term_id)
            meaning = {"entity": model.id, "expr": expr}
            if kind == "time":
                params = node.get("type_params") or {}
                grain = str(params.get("time_granularity") or "day").lower()
                if grain in GRAINS:
                    meaning["grains"] = flow(
                        [g for g in GRAINS[GRAINS.index(grain) :] if not g.startswith("fiscal")]
                    )
                else:
                    self.skip(
                        node,
                        "type_params",
                        f"time granularity '{grain}' of '{name}'",
                        "finer than a day: the dimension is kept at day and above",
                    )
                if params.get("validity_params"):
                    self.skip(
                        node,
                        "type_params",
                        f"validity_params of '{name}'",
                        "slowly changing dimensions have no equivalent",
                    )
                model.time_dimensions[name] = term_id
                term["time_dimension"] = flow(meaning)
            else:
                model.dimensions[name] = term_id
                term["dimension"] = flow(meaning)
            if node.get("is_partition"):
                self.skip(
                    node,
                    "is_partition",
                    f"is_partition of '{name}'",
                    "a physical hint: queries do not need it",
                )
            self.add_term(model.id, term_id, term)

    def model_measures(self, model: _Model) -> None:
        for item in model.node.get("measures") or []:
            node = model.node.child(item)
            name = str(node.get("name"))
            agg = str(node.get("agg", "")).lower()
            what = f"measure '{name}' of '{model.name}'"
            if agg not in _AGGREGATES:
                reason = (
                    "percentiles differ between engines and are not supported"
                    if agg == "percentile"
                    else f"unknown aggregation '{agg}'"
                )
                self.skip(node, "agg", what, reason)
                continue
            if node.get("non_additive_dimension"):
                self.skip(
                    node,
                    "non_additive_dimension",
                    what,
                    "semi-additive measures (balances) have no equivalent; the measure "
                    "would add up snapshots",
                )
                continue
            raw = node.get("expr", name)
            inner = self.sql(node, "expr", str(raw), what)
            if inner is None:
                continue
            _collect_columns(inner, model.columns)
            expr = self.sql(node, "expr", _AGGREGATES[agg].format(inner), what)
            if expr is None:
                continue
            self.extra(node, _MEASURE_KEYS, what)
            term_id = self.unique_id(name, model.id)
            term = self.term_names(node, term_id)
            term["tags"] = flow(["dbt-measure"])
            term["metric"] = flow({"entity": model.id, "expr": expr})
            self.metric_ids[f"measure:{name}"] = term_id
            self.measures[name] = (model, agg, node)
            time = node.get("agg_time_dimension") or model.agg_time
            if time and time not in model.time_dimensions:
                self.skip(
                    node,
                    None,
                    f"agg_time_dimension '{time}' of '{name}'",
                    "not a time dimension of the semantic model",
                )
            self.add_term(model.id, term_id, term)

    def extra(self, node: _Node, known: frozenset[str], what: str) -> None:
        """Report the keys of a dbt node that the import does not read."""
        for key in node.map:
            if key not in known and key not in ("meta", "config"):
                self.skip(node, key, f"'{key}' of {what}", "no equivalent")

    def term_names(self, node: _Node, name: str) -> CommentedMap:
        term = CommentedMap()
        term["label"] = flow({"en": str(node.get("label") or english_label(name))})
        if node.get("description"):
            term["definition"] = CommentedMap(en=" ".join(str(node.get("description")).split()))
        term["status"] = "draft"
        for key in ("meta", "config"):
            if node.get(key):
                self.skip(node, key, f"{key} of '{name}'", "free-form metadata is not kept")
        return term

    def sql(self, node: _Node, key: str, text: str, what: str) -> str | None:
        try:
            return sqlglot.parse_one(text, read=FILE_DIALECT).sql(FILE_DIALECT)
        except (ParseError, ValueError) as exc:
            self.skip(node, key, what, f"not SQL that DuckDB's dialect reads: {exc}")
            return None

    # --- metrics -------------------------------------------------------------------------

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
            term = CommentedMap()
            term["label"] = flow({"en": english_label(term_id)})
            term["status"] = "draft"
            term["tags"] = flow(["dbt-input"])
            term["metric"] = flow({"expr": base, "filter": condition})
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
            meaning["window"] = flow(window)
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
            self.out.notices.append(
                Notice(
                    node.file,
                    node.line(),
                    f"cumulative metric '{name}'",
                    "without a time spine, periods that have no rows are not listed",
                    prefix="carried over differently: ",
                )
            )
        term_id = self.unique_id(name)
        term = self.term_names(node, term_id)
        term["metric"] = flow(meaning)
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
            term.insert(1, "definition", named["definition"])
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

    # --- writing -------------------------------------------------------------------------

    def seeds(self, project: Any) -> None:
        """When every table is a dbt seed (CSV), the project reads the seeds folder."""
        for folder in project.get("seed-paths") or ["seeds"]:
            found = {p.stem for p in (self.root / folder).glob("*.csv")}
            if found and all(m.table in found for m in self.models.values()):
                self.out.data = {"dir": str((self.root / folder).resolve()), "format": "csv"}
                return

    def write(self) -> None:
        entities = CommentedMap()
        for model in self.models.values():
            entity = CommentedMap()
            entity["table"] = model.table
            described = model.node.get("description") or model.node.get("label")
            if described:
                entity["description"] = " ".join(str(described).split())
            keys = list(model.primary.values())
            if keys:
                entity["primary_key"] = flow(keys)
            types = self.column_types.get(model.table, {})
            columns = dict.fromkeys([*model.columns, *types])
            entity["columns"] = CommentedMap(
                (c, flow({"type": types[c]}) if c in types else CommentedMap()) for c in columns
            )
            if model.relationships:
                entity["relationships"] = model.relationships
            entities[model.id] = entity
        self.out.files["models/dbt.yml"] = dump_yaml(
            CommentedMap(entities=entities),
            "yaml-language-server: $schema=../schemas/model.schema.json\n"
            "Imported from dbt semantic models by `semantic import dbt`.",
        )
        for domain, terms in self.domains.items():
            doc = CommentedMap(domain=domain, label=flow({"en": english_label(domain)}))
            doc["terms"] = terms
            self.out.files[f"glossary/{domain}.yml"] = dump_yaml(
                doc,
                "yaml-language-server: $schema=../schemas/glossary.schema.json\n"
                "Imported from dbt by `semantic import dbt`: review, then approve.",
            )


def _expr_column(text: str) -> str | None:
    try:
        tree = sqlglot.parse_one(text, read=FILE_DIALECT)
    except ParseError:
        return None
    return tree.name if isinstance(tree, exp.Column) and not tree.table else None


def _collect_columns(sql: str, columns: dict[str, str | None]) -> None:
    for column in sqlglot.parse_one(sql, read=FILE_DIALECT).find_all(exp.Column):
        if not column.table:
            columns.setdefault(column.name, None)


def import_dbt(root: Path) -> DbtImport:
    """Read the dbt project at `root` and return the files of our models and glossary, with
    the report of every construct not carried over (SEM222 when it cannot be read)."""
    try:
        return _Importer(root).run()
    except SemanticError:
        raise
    except (KeyError, TypeError, AttributeError) as exc:
        raise SemanticError(
            Diagnostic(
                "SEM222",
                f"the dbt YAML does not follow the MetricFlow spec ({type(exc).__name__}: {exc})",
                Span(str(root)),
                "run `dbt parse` to find the problem",
            )
        ) from None
