"""The latest dbt semantic layer YAML (dbt 1.12 and Fusion) read as the classic one: a model
with `semantic_model:` settings, entities and dimensions on its `columns:` (or in
`derived_semantics:`), simple metrics with their own `agg` and `expr` under the model, and
metrics whose parameters are direct keys (no `type_params`).

Each such model becomes the classic semantic model it stands for (`name`, `model:
ref(...)`, `defaults.agg_time_dimension`, `entities`, `dimensions`, and a measure named after
each simple metric), and each metric of the latest spec the classic metric it stands for
(the simple metric over that measure, `type_params` for the others), with the positions of
the keys they come from: the rest of the import (`semantic.interchange.dbt.models` and
`.metrics`) reads both layouts with one mapping and reports at the lines of the file read.
See https://docs.getdbt.com/docs/build/latest-metrics-spec.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from semantic.interchange.dbt.extras import _Extras, metric_is_exposure
from semantic.interchange.dbt.models import _Model, _Node
from semantic.interchange.names import ProjectNames

#: the keys of a metric of the latest spec, by type (besides name, label, description...)
_COMMON = frozenset({"name", "label", "description", "type", "filter", "config", "meta"})
_KEYS = {
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
#: keys of a column's `entity:` and `dimension:` blocks, and of derived semantics
_ENTITY = frozenset({"type", "name", "description", "label", "config"})
_DIMENSION = frozenset(
    {"type", "name", "description", "label", "is_partition", "validity_params", "config"}
)
_DERIVED = frozenset({*_DIMENSION, "expr", "granularity"})


def _placed(source: CommentedMap, pairs: Mapping[str, tuple[Any, str | None]]) -> CommentedMap:
    """A mapping of `key: value` placed where `source` is, each key at the line of the key
    of `source` it comes from (the mapping's own line when that key is absent), so that
    what the import reports about it points at the file read."""
    made = CommentedMap()
    made.lc.line, made.lc.col = source.lc.line, source.lc.col
    for key, (value, origin) in pairs.items():
        if value is None:
            continue
        made[key] = value
        if origin is not None and origin in source:
            made.lc.add_kv_line_col(key, list(source.lc.data[origin]))
        else:
            made.lc.add_kv_line_col(key, [source.lc.line, source.lc.col] * 2)
    return made


def _first(source: CommentedMap, keys: set[str]) -> str | None:
    """The first of `keys` written in `source` (where a metric's parameters start)."""
    present = [k for k in source if k in keys]
    return min(present, key=lambda k: source.lc.data[k][0]) if present else None


class _Latest(_Extras):
    """The reading of the latest layout into the classic structures."""

    def __init__(self, root: Any, project: ProjectNames | None = None) -> None:
        super().__init__(root, project)
        #: simple metric of the latest spec -> its dbt model's semantic model, and whether it
        #: is its measure alone (no filter, fill_nulls_with, join_to_timespine)
        self.simple_of: dict[str, tuple[str, bool]] = {}
        self.owner_of: dict[str, str] = {}  # dbt model name -> its semantic model's name
        self.latest_models: set[str] = set()

    # --- semantic models -----------------------------------------------------------------

    def latest_model(self, node: _Node) -> list[_Node]:
        """The classic semantic model of a dbt model with `semantic_model:` settings (none
        when it has none, or `enabled: false`)."""
        if not isinstance(node.map, CommentedMap):
            return []
        settings = node.get("semantic_model")
        if settings is None or settings is False:
            return []
        model_name = str(node.get("name"))
        if isinstance(settings, CommentedMap):
            if settings.get("enabled") is False:
                return []
            for key in settings:
                if key not in ("enabled", "name"):
                    self.skip(
                        node.child(settings),
                        str(key),
                        f"'{key}' of the semantic model of '{model_name}'",
                        "no equivalent (owners go on terms)",
                    )
            name = str(settings.get("name") or model_name)
        else:
            name = model_name
        config = node.get("config")
        alias = config.get("alias") if isinstance(config, CommentedMap) else None
        table = str(alias or model_name)
        if table != model_name:  # the table is the alias: so are the column types
            self.column_types[table] = self.column_types.get(model_name, {})
        self.owner_of[model_name] = name
        self.latest_models.add(name)
        pairs: dict[str, tuple[Any, str | None]] = {
            "name": (name, "semantic_model"),
            "description": (node.get("description"), "description"),
            # the model's table: its alias when it has one (a ref names the model)
            "model": (f"ref('{table}')", "name"),
            "primary_entity": (node.get("primary_entity"), "primary_entity"),
        }
        time = node.get("agg_time_dimension")
        if time:
            pairs["defaults"] = (
                _placed(node.map, {"agg_time_dimension": (time, "agg_time_dimension")}),
                "agg_time_dimension",
            )
        entities, dimensions = self.columns(node, name)
        pairs["entities"] = (entities, "columns")
        pairs["dimensions"] = (dimensions, "columns")
        pairs["measures"] = (self.simple_measures(node, name), "metrics")
        return [node.child(_placed(node.map, pairs))]

    def columns(self, node: _Node, name: str) -> tuple[CommentedSeq, CommentedSeq]:
        """The classic entities and dimensions of a model's columns and derived semantics."""
        entities, dimensions = CommentedSeq(), CommentedSeq()
        for column in node.get("columns") or []:
            if not isinstance(column, CommentedMap) or not column.get("name"):
                continue
            here = node.child(column)
            cname = str(column["name"])
            entity, dimension = column.get("entity"), column.get("dimension")
            if entity is not None:
                block = entity if isinstance(entity, CommentedMap) else CommentedMap()
                self.keys(here.child(block), _ENTITY, f"entity of column '{cname}' of '{name}'")
                pairs = {
                    "name": (block.get("name") or cname, "entity"),
                    "type": (block.get("type") if block else entity, "entity"),
                    "expr": (cname, "name"),
                    "description": (block.get("description"), "entity"),
                    "label": (block.get("label"), "entity"),
                }
                entities.append(_placed(column, pairs))
            if dimension is not None:
                block = dimension if isinstance(dimension, CommentedMap) else CommentedMap()
                what = f"dimension of column '{cname}' of '{name}'"
                self.keys(here.child(block), _DIMENSION, what)
                dimensions.append(self.dimension(column, block, dimension, cname))
        derived = node.get("derived_semantics") or CommentedMap()
        for item in derived.get("dimensions") or []:
            what = f"derived dimension '{item.get('name')}' of '{name}'"
            self.keys(node.child(item), _DERIVED, what)
            dimensions.append(self.dimension(item, item, item.get("type"), None))
        for item in derived.get("entities") or []:
            self.keys(node.child(item), _ENTITY | {"expr"}, f"derived entity of '{name}'")
            keys = ("name", "type", "expr", "description", "label")
            entities.append(_placed(item, {k: (item.get(k), k) for k in keys}))
        for key in derived:
            if key not in ("dimensions", "entities"):
                what = f"'{key}' of the derived_semantics of '{name}'"
                self.skip(node.child(derived), str(key), what, "no equivalent")
        return entities, dimensions

    def dimension(
        self, where: CommentedMap, block: CommentedMap, kind: Any, column: str | None
    ) -> CommentedMap:
        """A classic dimension from a column (`column` its name) or a derived dimension: the
        granularity on the column (or the derived dimension) becomes `type_params`."""
        name = block.get("name") or column
        kind = block.get("type") or kind
        grain = where.get("granularity")
        params: CommentedMap | None = None
        if grain is not None or block.get("validity_params"):
            params = _placed(
                where,
                {
                    "time_granularity": (grain, "granularity"),
                    "validity_params": (block.get("validity_params"), "dimension"),
                },
            )
        pairs = {
            "name": (name, "name"),
            "type": (kind, "dimension" if column else "type"),
            "expr": (block.get("expr") or (column if column != name else None), "expr"),
            "label": (block.get("label"), "dimension" if column else "label"),
            "description": (block.get("description") or where.get("description"), "name"),
            "is_partition": (block.get("is_partition"), "dimension" if column else "is_partition"),
            "type_params": (params, "granularity" if grain is not None else "dimension"),
        }
        return _placed(where, pairs)

    def simple_measures(self, node: _Node, model: str) -> CommentedSeq:
        """The measure each simple metric of the model stands for (its `agg`, `expr` and
        `agg_time_dimension`), named after the metric."""
        measures = CommentedSeq()
        for item in node.get("metrics") or []:
            if not isinstance(item, CommentedMap) or "type_params" in item:
                continue
            if str(item.get("type", "")).lower() != "simple" or not item.get("agg"):
                continue
            name = str(item.get("name"))
            alone = not any(item.get(k) is not None for k in ("filter", "fill_nulls_with"))
            self.simple_of[name] = (model, alone and not item.get("join_to_timespine"))
            pairs = {
                "name": (name, "name"),
                "label": (item.get("label"), "label"),
                "description": (item.get("description"), "description"),
                "agg": (item.get("agg"), "agg"),
                "expr": (item.get("expr", name), "expr"),
                "agg_time_dimension": (item.get("agg_time_dimension"), "agg_time_dimension"),
                "non_additive_dimension": (
                    item.get("non_additive_dimension"),
                    "non_additive_dimension",
                ),
            }
            measures.append(_placed(item, pairs))
        return measures

    def model_measures(self, model: _Model) -> None:
        """A model of the latest layout has simple metrics where the classic one has
        measures: report them as such."""
        if model.name not in self.latest_models:
            super().model_measures(model)
            return
        for item in model.node.get("measures") or []:
            node = model.node.child(item)
            self.one_measure(model, node, f"simple metric '{node.get('name')}' of '{model.name}'")

    # --- metrics -------------------------------------------------------------------------

    def latest_metrics(self, metrics: list[_Node]) -> list[_Node]:
        """Every metric of the latest spec (no `type_params`) as its classic form; those that
        have none reported and left out."""
        exposing = {str(m.get("name")) for m in metrics if metric_is_exposure(m.map)}
        # in the order they are written: a model's metrics come before the file's top level
        files = {node.file: i for i, node in reversed(list(enumerate(metrics)))}
        metrics = sorted(metrics, key=lambda node: (files[node.file], node.line()))
        found = []
        for node in metrics:
            if "type_params" in node.map:
                found.append(node)
                continue
            classic = self.classic_metric(node, exposing)
            if classic is not None:
                found.append(classic)
        return found

    def classic_metric(self, node: _Node, exposing: set[str]) -> _Node | None:
        """The classic metric a metric of the latest spec stands for, or None (reported)."""
        source = node.map
        name = str(node.get("name"))
        kind = str(node.get("type", "")).lower()
        what = f"{kind} metric '{name}'"
        if kind not in _KEYS:
            return node  # the classic reading reports the unknown type
        self.keys(node, _COMMON | _KEYS[kind] | {"hidden", "time_granularity"}, what)
        if node.get("hidden"):
            self.skip(
                node,
                "hidden",
                f"hidden of {what}",
                "imported as a term like the others: restrict it with an access rule",
            )
        params: dict[str, tuple[Any, str | None]] = {}
        if kind == "simple":
            model = self.simple_model(node, what)
            if model is None:
                return None
            options = {
                "name": (name, "name"),
                "fill_nulls_with": (source.get("fill_nulls_with"), "fill_nulls_with"),
                "join_to_timespine": (source.get("join_to_timespine"), "join_to_timespine"),
            }
            params["measure"] = (_placed(source, options), "agg")
        elif kind == "ratio":
            params["numerator"] = (source.get("numerator"), "numerator")
            params["denominator"] = (source.get("denominator"), "denominator")
        elif kind == "derived":
            params["expr"] = (source.get("expr"), "expr")
            params["metrics"] = (source.get("input_metrics"), "input_metrics")
        elif kind == "cumulative":
            ref = source.get("input_metric")
            if not self.cumulative_input(node, ref, exposing, what):
                return None
            params["metric"] = (ref, "input_metric")
            keys = ("window", "grain_to_date", "period_agg")
            cumulative = {k: (source.get(k), k) for k in keys}
            params["cumulative_type_params"] = (_placed(source, cumulative), "input_metric")
        elif kind == "conversion":
            named = ("entity", "calculation", "window", "constant_properties")
            conversion = {k: (source.get(k), k) for k in named}
            conversion["base_measure"] = (source.get("base_metric"), "base_metric")
            conversion["conversion_measure"] = (
                source.get("conversion_metric"),
                "conversion_metric",
            )
            params["conversion_type_params"] = (_placed(source, conversion), "entity")
        at = _first(source, _KEYS[kind]) or "type"
        pairs: dict[str, tuple[Any, str | None]] = {
            key: (source.get(key), key)
            for key in ("name", "label", "description", "type", "filter", "config", "meta")
        }
        pairs["time_granularity"] = (source.get("time_granularity"), "time_granularity")
        pairs["type_params"] = (_placed(source, params), at)
        classic = _placed(source, pairs)
        return _Node(node.file, classic, node.owner)

    def metric(self, node: _Node, *, final: bool) -> bool:
        """Import one metric (see `_Metrics.metric`); a simple metric of the latest spec
        whose aggregation was reported (a percentile, say) is not reported twice."""
        name = str(node.get("name"))
        if name in self.simple_of and f"measure:{name}" not in self.metric_ids:
            measure = node.get("type_params", {}).get("measure")
            if isinstance(measure, CommentedMap) and measure.get("name") == name:
                return True
        return super().metric(node, final=final)

    def simple_model(self, node: _Node, what: str) -> str | None:
        """The semantic model of a simple metric of the latest spec, or None (reported)."""
        name = str(node.get("name"))
        if not node.get("agg"):
            self.skip(node, "type", what, "a simple metric needs an agg: left out")
            return None
        owner = self.owner_of.get(str(node.owner)) if node.owner else None
        if owner is None:
            reason = (
                "its model declares no enabled semantic_model: left out"
                if node.owner
                else "a simple metric with its own agg belongs under its model's `metrics:` "
                "(dbt refuses it at the top level): left out"
            )
            self.skip(node, "agg", what, reason)
            return None
        return owner if name in self.simple_of else None

    def cumulative_input(self, node: _Node, ref: Any, exposing: set[str], what: str) -> bool:
        """Whether the input metric of a cumulative metric is read as the classic measure
        input: a simple metric that is its aggregate alone (a filter or fill_nulls_with on
        it would be lost, the running total taken over the bare aggregate)."""
        name = str(ref.get("name") if isinstance(ref, CommentedMap) else ref)
        simple = self.simple_of.get(name)
        plain = simple[1] if simple else name in exposing or name not in self.metric_names
        if not plain:
            self.skip(
                node,
                "input_metric",
                what,
                f"its input '{name}' is more than an aggregate (a filter, fill_nulls_with or "
                "a metric over metrics): the metric is left out",
            )
        return plain

    # --- after the metrics ---------------------------------------------------------------

    def forget_helpers(self) -> None:
        """The measure of a simple metric of the latest spec that is more than its measure
        (a filter, fill_nulls_with) is a term no other term names: dbt's latest spec has no
        measures, so it is not written."""
        for name, (model, _) in self.simple_of.items():
            helper = self.metric_ids.get(f"measure:{name}")
            if helper is None or helper == self.metric_ids.get(name):
                continue
            named = re.compile(rf"\b{re.escape(helper)}\b")
            used = any(
                named.search(repr(term.get("metric")))
                for terms in self.domains.values()
                for tid, term in terms.items()
                if tid != helper
            )
            domain = self.domains.get(self.models[model].id, {})
            if not used and helper in domain:
                del domain[helper]
                self.terms.remove(helper)

    # --- reporting -----------------------------------------------------------------------

    def keys(self, node: _Node, known: frozenset[str] | set[str], what: str) -> None:
        """Report the keys of a block of the latest spec that the import does not read."""
        for key in node.map:
            if key not in known:
                self.skip(node, str(key), f"'{key}' of {what}", "no equivalent")
