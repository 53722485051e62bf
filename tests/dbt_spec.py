"""A checker of the dbt semantic layer YAML that `semantic export dbt` writes, transcribed
from dbt's published specification (the rules, not its text), for the tests.

Sources, read in 2026 (the classic spec of dbt 1.6 to 1.11: `semantic_models:` and
`metrics:` at the top of a properties file):

- https://docs.getdbt.com/docs/build/semantic-models (name, model, defaults, entities,
  dimensions, measures, primary_entity; `defaults.agg_time_dimension`),
- https://docs.getdbt.com/docs/build/entities (type: primary, unique, foreign, natural),
- https://docs.getdbt.com/docs/build/dimensions (type: categorical, time; a time dimension
  needs `type_params.time_granularity`),
- https://docs.getdbt.com/docs/build/measures (agg: sum, max, min, average, median,
  count, count_distinct, sum_boolean, percentile; every measure has an agg_time_dimension,
  its own or the semantic model's default),
- https://docs.getdbt.com/docs/build/metrics-overview, .../simple, .../ratio, .../derived,
  .../cumulative (window or grain_to_date, `period_agg`: first, last, average) and
  .../conversion (a metric needs `name`, `label`, `type`, `type_params`),
- https://docs.getdbt.com/docs/build/saved-queries (query_params: metrics, group_by, where),
- MetricFlow's names (dbt-semantic-interfaces, UniqueAndValidNameRule): lower snake case,
  at least two characters, no double underscore, not `metric_time`.

The fields match dbt-core 1.10's parser (`Unparsed*` in dbt/contracts/graph/unparsed.py).
"""

from __future__ import annotations

import re
from typing import Any

NAME = re.compile(r"\A[a-z]((?!__)[a-z0-9_])*[a-z0-9]\Z")
GRANULARITIES = {"day", "week", "month", "quarter", "year"}
ENTITY_TYPES = {"primary", "unique", "foreign", "natural"}
DIMENSION_TYPES = {"categorical", "time"}
AGGREGATIONS = {
    "sum",
    "max",
    "min",
    "average",
    "median",
    "count",
    "count_distinct",
    "sum_boolean",
    "percentile",
}
METRIC_TYPES = {"simple", "ratio", "derived", "cumulative", "conversion"}
PERIOD_AGGS = {"first", "last", "average"}
_WINDOW = re.compile(r"\A\d+ (day|week|month|quarter|year)s?\Z")

#: object -> (required keys, allowed keys)
SPEC: dict[str, tuple[set[str], set[str]]] = {
    "semantic_model": (
        {"name", "model"},
        {
            "name",
            "description",
            "label",
            "model",
            "defaults",
            "entities",
            "dimensions",
            "measures",
            "primary_entity",
            "config",
        },
    ),
    "entity": (
        {"name", "type"},
        {"name", "type", "description", "label", "role", "expr", "config"},
    ),
    "dimension": (
        {"name", "type"},
        {"name", "type", "description", "label", "is_partition", "type_params", "expr", "config"},
    ),
    "measure": (
        {"name", "agg"},
        {
            "name",
            "agg",
            "description",
            "label",
            "expr",
            "agg_params",
            "non_additive_dimension",
            "agg_time_dimension",
            "create_metric",
            "config",
        },
    ),
    "metric": (
        {"name", "label", "type", "type_params"},
        {
            "name",
            "label",
            "type",
            "type_params",
            "description",
            "filter",
            "time_granularity",
            "meta",
            "tags",
            "config",
        },
    ),
    "type_params": (
        set(),
        {
            "measure",
            "numerator",
            "denominator",
            "expr",
            "window",
            "grain_to_date",
            "metrics",
            "conversion_type_params",
            "cumulative_type_params",
        },
    ),
    "measure_input": (
        {"name"},
        {"name", "filter", "alias", "join_to_timespine", "fill_nulls_with"},
    ),
    "metric_input": (
        {"name"},
        {"name", "filter", "alias", "offset_window", "offset_to_grain"},
    ),
    "cumulative_type_params": (set(), {"window", "grain_to_date", "period_agg"}),
    "saved_query": (
        {"name", "query_params"},
        {"name", "query_params", "description", "label", "exports", "config", "tags"},
    ),
    "query_params": (set(), {"metrics", "group_by", "where", "order_by", "limit"}),
}


def _keys(kind: str, item: Any, where: str) -> list[str]:
    if not isinstance(item, dict):
        return [f"{where}: a {kind} is a mapping"]
    required, allowed = SPEC[kind]
    problems = [f"{where}: {kind} lacks '{k}'" for k in sorted(required - set(item))]
    problems += [f"{where}: {kind} has unknown key '{k}'" for k in sorted(set(item) - allowed)]
    return problems


def _name(name: Any, where: str) -> list[str]:
    ok = isinstance(name, str) and NAME.match(name) and name != "metric_time"
    return [] if ok else [f"{where}: '{name}' is not a MetricFlow name"]


def semantic_model_problems(item: dict[str, Any]) -> list[str]:
    """What a semantic model breaks of the spec."""
    where = f"semantic model {item.get('name')}"
    problems = _keys("semantic_model", item, where) + _name(item.get("name"), where)
    if not re.fullmatch(r"ref\('\w+'\)", str(item.get("model"))):
        problems.append(f"{where}: model is not ref('...')")
    names: set[str] = set()
    times = set()
    for kind, key in (("entity", "entities"), ("dimension", "dimensions"), ("measure", "measures")):
        for child in item.get(key) or []:
            here = f"{where}: {kind} {child.get('name')}"
            problems += _keys(kind, child, here) + _name(child.get("name"), here)
            if child.get("name") in names:
                problems.append(f"{here}: its name is taken in the semantic model")
            names.add(child.get("name"))
            if kind == "entity" and child.get("type") not in ENTITY_TYPES:
                problems.append(f"{here}: type {child.get('type')}")
            if kind == "dimension":
                if child.get("type") not in DIMENSION_TYPES:
                    problems.append(f"{here}: type {child.get('type')}")
                if child.get("type") == "time":
                    times.add(child["name"])
                    grain = (child.get("type_params") or {}).get("time_granularity")
                    if grain not in GRANULARITIES:
                        problems.append(f"{here}: time_granularity {grain}")
    default = (item.get("defaults") or {}).get("agg_time_dimension")
    for measure in item.get("measures") or []:
        here = f"{where}: measure {measure.get('name')}"
        if measure.get("agg") not in AGGREGATIONS:
            problems.append(f"{here}: agg {measure.get('agg')}")
        if (measure.get("agg_time_dimension") or default) not in times:
            problems.append(f"{here}: no agg_time_dimension among the time dimensions")
    primary = [e for e in item.get("entities") or [] if e.get("type") == "primary"]
    if item.get("dimensions") and not primary and not item.get("primary_entity"):
        problems.append(f"{where}: dimensions without a primary entity")
    return problems


def metric_problems(item: dict[str, Any], measures: set[str], metrics: set[str]) -> list[str]:
    """What a metric breaks of the spec; `measures` and `metrics` are the names defined."""
    where = f"metric {item.get('name')}"
    problems = _keys("metric", item, where) + _name(item.get("name"), where)
    kind, params = item.get("type"), item.get("type_params") or {}
    problems += _keys("type_params", params, where)
    if kind not in METRIC_TYPES:
        return [*problems, f"{where}: type {kind}"]

    def measure_input(ref: Any) -> None:
        name = ref.get("name") if isinstance(ref, dict) else ref
        if isinstance(ref, dict):
            problems.extend(_keys("measure_input", ref, where))
            fill = ref.get("fill_nulls_with")
            if fill is not None and not isinstance(fill, int):
                problems.append(f"{where}: fill_nulls_with {fill} is not an integer")
        if name not in measures:
            problems.append(f"{where}: unknown measure {name}")

    def metric_input(ref: Any) -> None:
        name = ref.get("name") if isinstance(ref, dict) else ref
        if isinstance(ref, dict):
            problems.extend(_keys("metric_input", ref, where))
            window = ref.get("offset_window")
            if window is not None and not _WINDOW.match(str(window)):
                problems.append(f"{where}: offset_window {window}")
        if name not in metrics:
            problems.append(f"{where}: unknown input metric {name}")

    if kind in ("simple", "cumulative"):
        if "measure" not in params:
            problems.append(f"{where}: a {kind} metric names its measure")
        else:
            measure_input(params["measure"])
    if kind == "cumulative":
        cumulative = params.get("cumulative_type_params") or {}
        problems += _keys("cumulative_type_params", cumulative, where)
        if cumulative.get("window") and cumulative.get("grain_to_date"):
            problems.append(f"{where}: window and grain_to_date together")
        if cumulative.get("window") and not _WINDOW.match(str(cumulative["window"])):
            problems.append(f"{where}: window {cumulative['window']}")
        if cumulative.get("grain_to_date") not in (None, *GRANULARITIES):
            problems.append(f"{where}: grain_to_date {cumulative['grain_to_date']}")
        if cumulative.get("period_agg", "first") not in PERIOD_AGGS:
            problems.append(f"{where}: period_agg {cumulative.get('period_agg')}")
    if kind == "ratio":
        for key in ("numerator", "denominator"):
            metric_input(params.get(key))
    if kind == "derived":
        if not params.get("expr") or not params.get("metrics"):
            problems.append(f"{where}: a derived metric has expr and metrics")
        for ref in params.get("metrics") or []:
            metric_input(ref)
    return problems


def saved_query_problems(item: dict[str, Any], metrics: set[str]) -> list[str]:
    """What a saved query breaks of the spec."""
    where = f"saved query {item.get('name')}"
    problems = _keys("saved_query", item, where) + _name(item.get("name"), where)
    params = item.get("query_params") or {}
    problems += _keys("query_params", params, where)
    problems += [
        f"{where}: unknown metric {m}" for m in params.get("metrics", []) if m not in metrics
    ]
    for text in params.get("group_by") or []:
        if not re.fullmatch(r"(Time)?Dimension\('\w+'(, '\w+')?\)", text):
            problems.append(f"{where}: group_by {text}")
    return problems


def project_problems(files: dict[str, Any]) -> list[str]:
    """Every problem of the parsed YAML files (path -> tree) of a dbt project."""
    semantic = [m for tree in files.values() for m in tree.get("semantic_models") or []]
    metrics = [m for tree in files.values() for m in tree.get("metrics") or []]
    saved = [q for tree in files.values() for q in tree.get("saved_queries") or []]
    measures = {m["name"] for s in semantic for m in s.get("measures") or []}
    names = {m["name"] for m in metrics}
    problems = [p for s in semantic for p in semantic_model_problems(s)]
    problems += [p for m in metrics for p in metric_problems(m, measures, names)]
    problems += [p for q in saved for p in saved_query_problems(q, names)]
    if len(names) != len(metrics):
        problems.append("two metrics of one name")
    if len(measures) != sum(len(s.get("measures") or []) for s in semantic):
        problems.append("two measures of one name")
    return problems


# --- the latest spec (dbt Core 1.12 and Fusion) ---------------------------------------------
#
# Sources, read in 2026 (the "latest YAML spec": a semantic model declared inside a model's
# properties, no measures, no `type_params`):
#
# - https://docs.getdbt.com/docs/build/latest-metrics-spec (the migration page: `semantic_model`
#   nested under each entry of `models:` with `enabled: true` and an optional `name` defaulting
#   to the model's; entities and dimensions under `columns:`; `agg_time_dimension` at the model
#   level, overridable per simple metric; `granularity` on the column replaces
#   `time_granularity`; simple metrics with `agg` and `expr` replace measures; `expr`,
#   `percentile`, `percentile_type`, `non_additive_dimension`, `join_to_timespine` and
#   `fill_nulls_with` are direct keys; derived metrics' `type_params.metrics` is
#   `input_metrics`; ratio `numerator` and `denominator`, cumulative `input_metric` (a metric)
#   with `window`, `grain_to_date`, `period_agg`, and conversion `entity`, `calculation`,
#   `base_metric`, `conversion_metric`, `constant_properties` are direct keys; metrics that
#   depend on another semantic model go under a top-level `metrics:`),
# - https://docs.getdbt.com/reference/semantic-model-properties (latest spec table:
#   `semantic_model.enabled` required, `.name`, `.group`, `.config`; top-level
#   `agg_time_dimension` required, `primary_entity`, `columns` (each with an `entity:` or a
#   `dimension:` block; time dimensions have `granularity` on the column),
#   `derived_semantics` (`dimensions` and `entities` with `expr`), `metrics`),
# - https://docs.getdbt.com/docs/build/dimensions and .../entities (v1.12: `entity:` and
#   `dimension:` take a type alone, `dimension: categorical`, or a mapping with `type`,
#   `name` (the column's by default), `label`, `description`, `is_partition`,
#   `validity_params`; entity types primary, unique, foreign, natural),
# - dbt-labs/dbt-agent-skills, skills/building-dbt-semantic-layer/references/latest-spec.md
#   (dbt's own authoring guide: a column is an entity or a dimension, not both; `granularity`
#   inside `dimension:` is a mistake; simple metrics only under a model; `window` and
#   `grain_to_date` not together).
#
# dbt-core 1.12's parser (schema_yaml_readers.py: `_parse_v2_column_dimensions`,
# `_parse_v2_column_entities`, `parse_v2_metrics_from_dbt_model_patch`) agrees: a metric
# without `type_params` is read as the latest spec, a simple metric with `agg` outside a
# model is refused, and a column's dimension or entity named otherwise than the column gets
# the column as its `expr`.

LATEST_SPEC: dict[str, tuple[set[str], set[str]]] = {
    "semantic_model": ({"enabled"}, {"enabled", "name", "group", "config"}),
    "model": (
        {"name"},
        {
            "name",
            "description",
            "config",
            "columns",
            "semantic_model",
            "agg_time_dimension",
            "primary_entity",
            "derived_semantics",
            "metrics",
            "data_tests",
            "tests",
        },
    ),
    "entity": ({"type"}, {"type", "name", "description", "label", "config"}),
    "dimension": (
        {"type"},
        {"type", "name", "description", "label", "is_partition", "validity_params", "config"},
    ),
    "derived_dimension": (
        {"name", "type", "expr"},
        {
            "name",
            "type",
            "expr",
            "granularity",
            "description",
            "label",
            "is_partition",
            "validity_params",
            "config",
        },
    ),
    "derived_entity": ({"name", "type", "expr"}, {"name", "type", "expr", "description", "label"}),
}
_METRIC_COMMON = {"name", "label", "description", "type", "filter", "config", "hidden"}
LATEST_METRIC_KEYS = {
    "simple": {
        "agg",
        "expr",
        "percentile",
        "percentile_type",
        "agg_time_dimension",
        "non_additive_dimension",
        "fill_nulls_with",
        "join_to_timespine",
    },
    "ratio": {"numerator", "denominator"},
    "derived": {"expr", "input_metrics"},
    "cumulative": {"input_metric", "window", "grain_to_date", "period_agg"},
    "conversion": {
        "entity",
        "calculation",
        "base_metric",
        "conversion_metric",
        "window",
        "constant_properties",
    },
}


def _latest_keys(kind: str, item: Any, where: str) -> list[str]:
    if not isinstance(item, dict):
        return [f"{where}: a {kind} is a mapping"]
    required, allowed = LATEST_SPEC[kind]
    problems = [f"{where}: {kind} lacks '{k}'" for k in sorted(required - set(item))]
    problems += [f"{where}: {kind} has unknown key '{k}'" for k in sorted(set(item) - allowed)]
    return problems


def latest_model_problems(model: dict[str, Any]) -> tuple[list[str], set[str]]:
    """What a model with a semantic model breaks of the latest spec, and its time
    dimensions."""
    where = f"model {model.get('name')}"
    problems = _latest_keys("model", model, where)
    settings = model.get("semantic_model")
    if isinstance(settings, dict):
        problems += _latest_keys("semantic_model", settings, where)
        if settings.get("name") is not None:
            problems += _name(settings["name"], where)
    elif not isinstance(settings, bool):
        problems.append(f"{where}: semantic_model is true, false or a mapping")
    times: set[str] = set()
    names: set[str] = set()
    primary = False
    for column in model.get("columns") or []:
        here = f"{where}: column {column.get('name')}"
        entity, dimension = column.get("entity"), column.get("dimension")
        if entity is not None and dimension is not None:
            problems.append(f"{here}: both an entity and a dimension")
        for kind, block, types in (
            ("entity", entity, ENTITY_TYPES),
            ("dimension", dimension, DIMENSION_TYPES),
        ):
            if block is None:
                continue
            block = block if isinstance(block, dict) else {"type": block}
            problems += _latest_keys(kind, block, here)
            name = block.get("name") or column.get("name")
            problems += _name(name, here)
            if name in names:
                problems.append(f"{here}: the name {name} is taken in the semantic model")
            names.add(name)
            if block.get("type") not in types:
                problems.append(f"{here}: {kind} type {block.get('type')}")
            primary = primary or (kind == "entity" and block.get("type") == "primary")
            if kind == "dimension" and block.get("type") == "time":
                times.add(name)
                if column.get("granularity") not in GRANULARITIES:
                    problems.append(f"{here}: a time dimension has a granularity on its column")
    derived = model.get("derived_semantics") or {}
    for item in derived.get("dimensions") or []:
        here = f"{where}: derived dimension {item.get('name')}"
        problems += _latest_keys("derived_dimension", item, here) + _name(item.get("name"), here)
        if item.get("type") == "time":
            times.add(item.get("name"))
            if item.get("granularity") not in GRANULARITIES:
                problems.append(f"{here}: a time dimension has a granularity")
    for item in derived.get("entities") or []:
        here = f"{where}: derived entity {item.get('name')}"
        problems += _latest_keys("derived_entity", item, here) + _name(item.get("name"), here)
        primary = primary or item.get("type") == "primary"
    if model.get("agg_time_dimension") not in times:
        problems.append(f"{where}: agg_time_dimension is not one of its time dimensions")
    if not primary and not model.get("primary_entity"):
        problems.append(f"{where}: no primary entity")
    return problems, times


def latest_metric_problems(
    item: dict[str, Any], metrics: set[str], times: set[str] | None
) -> list[str]:
    """What a metric of the latest spec breaks; `times` are its model's time dimensions, or
    None for a top-level metric."""
    where = f"metric {item.get('name')}"
    kind = item.get("type")
    problems = _name(item.get("name"), where)
    if "type_params" in item:
        return [*problems, f"{where}: type_params is the legacy spec"]
    if kind not in LATEST_METRIC_KEYS:
        return [*problems, f"{where}: type {kind}"]
    allowed = _METRIC_COMMON | LATEST_METRIC_KEYS[kind]
    problems += [f"{where}: unknown key '{k}'" for k in sorted(set(item) - allowed)]

    def known(ref: Any) -> None:
        name = ref.get("name") if isinstance(ref, dict) else ref
        if name not in metrics:
            problems.append(f"{where}: unknown input metric {name}")

    if kind == "simple":
        if times is None:
            problems.append(f"{where}: a simple metric sits under its model")
        if item.get("agg") not in AGGREGATIONS:
            problems.append(f"{where}: agg {item.get('agg')}")
        time = item.get("agg_time_dimension")
        if time is not None and times is not None and time not in times:
            problems.append(f"{where}: agg_time_dimension {time}")
    elif kind == "ratio":
        known(item.get("numerator"))
        known(item.get("denominator"))
    elif kind == "derived":
        if not item.get("expr") or not item.get("input_metrics"):
            problems.append(f"{where}: a derived metric has expr and input_metrics")
        for ref in item.get("input_metrics") or []:
            known(ref)
    elif kind == "cumulative":
        known(item.get("input_metric"))
        if item.get("window") and item.get("grain_to_date"):
            problems.append(f"{where}: window and grain_to_date together")
        if item.get("window") and not _WINDOW.match(str(item["window"])):
            problems.append(f"{where}: window {item['window']}")
        if item.get("period_agg", "first") not in PERIOD_AGGS:
            problems.append(f"{where}: period_agg {item.get('period_agg')}")
    return problems


def latest_project_problems(files: dict[str, Any]) -> list[str]:
    """Every problem of the parsed YAML files (path -> tree) of a dbt project written in the
    latest spec (saved queries are checked as in the classic spec)."""
    problems: list[str] = []
    nested: list[tuple[dict[str, Any], set[str]]] = []
    for tree in files.values():
        for model in tree.get("models") or []:
            if model.get("semantic_model"):
                found, times = latest_model_problems(model)
                problems += found
                nested += [(m, times) for m in model.get("metrics") or []]
            elif model.get("metrics"):
                problems.append(f"model {model.get('name')}: metrics without a semantic model")
    top = [m for tree in files.values() for m in tree.get("metrics") or []]
    names = {m["name"] for m, _ in nested} | {m["name"] for m in top}
    if len(names) != len(nested) + len(top):
        problems.append("two metrics of one name")
    problems += [p for m, times in nested for p in latest_metric_problems(m, names, times)]
    problems += [p for m in top for p in latest_metric_problems(m, names, None)]
    saved = [q for tree in files.values() for q in tree.get("saved_queries") or []]
    problems += [p for q in saved for p in saved_query_problems(q, names)]
    return problems
