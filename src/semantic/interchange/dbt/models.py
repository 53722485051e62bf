"""The semantic models of a dbt project (entities, dimensions, measures) as entities and
terms: the first half of `semantic import dbt` (see `semantic.interchange.dbt`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
from ruamel.yaml.comments import CommentedMap
from sqlglot import exp
from sqlglot.errors import ParseError

from semantic.files.schema import GRAINS
from semantic.interchange.common import (
    Notice,
    english_label,
    line_of,
    snake_id,
)
from semantic.interchange.names import ProjectNames, TakenIds

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
class _Node:
    """A YAML mapping with the file it comes from, to report positions."""

    file: str
    map: CommentedMap
    owner: str | None = None  # the semantic model a metric of the newer spec sits in

    def line(self, key: str | None = None) -> int:
        return line_of(self.map, key)

    def get(self, key: str, default: Any = None) -> Any:
        return self.map.get(key, default)

    def child(self, value: Any) -> _Node:
        return _Node(self.file, value, self.owner)


@dataclass
class _Model:
    name: str
    id: str
    table: str
    node: _Node
    #: entity name -> its key columns (several: a composite key, see `_key_columns`)
    primary: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unique: dict[str, tuple[str, ...]] = field(default_factory=dict)
    foreign: dict[str, tuple[tuple[str, ...], _Node]] = field(default_factory=dict)
    dimensions: dict[str, str] = field(default_factory=dict)  # dbt name -> term id
    time_dimensions: dict[str, str] = field(default_factory=dict)
    agg_time: str | None = None
    columns: dict[str, str | None] = field(default_factory=dict)
    relationships: list[CommentedMap] = field(default_factory=list)


class _Models:
    """The state of one import, and the reading of semantic models."""

    def __init__(self, root: Path, project: ProjectNames | None = None) -> None:
        self.root = root
        self.notices: list[Notice] = []
        self.terms: list[str] = []
        self.data: dict[str, str] | None = None
        self.models: dict[str, _Model] = {}
        self.by_entity: dict[str, _Model] = {}  # primary/unique entity name -> model
        self.metric_ids: dict[str, str] = {}  # dbt metric or measure name -> term id
        self.measures: dict[str, tuple[_Model, str, _Node]] = {}  # name -> model, agg, node
        self.taken = TakenIds(project)  # never an id or a name of the project's terms
        self.domains: dict[str, dict[str, dict[str, Any]]] = {}
        self.column_types: dict[str, dict[str, str]] = {}
        self.measure_of: dict[str, str] = {}  # simple metric -> its measure
        self.shared: dict[str, int] = {}  # dimension name -> how many semantic models have it
        self.where: dict[str, tuple[str, int]] = {}  # term id -> file, line
        self.time_of: dict[str, str | None] = {}  # metric or measure: -> its agg time term
        #: metric names, and those that only expose the measure of the same name (the
        #: measure's term is then the metric's); any other metric takes the name first
        self.metric_names: set[str] = set()
        self.exposing: set[str] = set()
        self.areas: dict[str, dict[str, Any]] = {}  # saved queries as subject areas

    # --- reporting -----------------------------------------------------------------------

    def skip(self, node: _Node, key: str | None, what: str, reason: str) -> None:
        self.notices.append(Notice(node.file, node.line(key), what, reason))

    def unique_id(self, name: str, model: str | None = None) -> str:
        """A term id from a dbt name, made unique: with the entity in front when `model` is
        given and another semantic model shares the name, else with a number behind."""
        base = snake_id(name)
        if model is None:
            return self.taken.take(base)
        if self.shared.get(name, 0) > 1:
            return self.taken.take(base, snake_id(f"{model}_{name}"))
        return self.taken.take(base, base, snake_id(f"{model}_{name}"))

    def add_term(self, domain: str, term_id: str, term: dict[str, Any]) -> None:
        self.domains.setdefault(domain, {})[term_id] = term
        self.terms.append(term_id)

    def model_properties(self, node: _Node) -> None:
        name = node.get("name")
        if not name:
            return
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
            column = _key_columns(str(entity.get("expr") or ename))
            if column is None:
                self.skip(
                    entity,
                    "expr",
                    f"entity '{ename}' of '{name}'",
                    "a key that is an expression, not a column, cannot be joined on",
                )
                continue
            model.columns.update({c: model.columns.get(c) for c in column})
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
            rel = CommentedMap(to=target.id)
            if sum(1 for e in model.foreign if self.by_entity.get(e) is target) > 1:
                rel["name"] = snake_id(ename)
            rel["cardinality"] = "many_to_one"
            if len(key) != len(column):
                self.skip(
                    node,
                    None,
                    f"foreign entity '{ename}' of '{model.name}'",
                    f"its key has {len(column)} column(s), the primary key of "
                    f"'{target.name}' {len(key)}",
                )
                continue
            rel["keys"] = dict(zip(column, key, strict=True))
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
            self.where[term_id] = (node.file, node.line())
            term = self.term_names(node, term_id)
            meaning: dict[str, Any] = {"entity": model.id, "expr": expr}
            if kind == "time":
                params = node.get("type_params") or {}
                grain = str(params.get("time_granularity") or "day").lower()
                if grain in GRAINS:
                    meaning["grains"] = [
                        g for g in GRAINS[GRAINS.index(grain) :] if not g.startswith("fiscal")
                    ]
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
                term["time_dimension"] = meaning
            else:
                model.dimensions[name] = term_id
                term["dimension"] = meaning
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
            self.one_measure(model, node, f"measure '{node.get('name')}' of '{model.name}'")

    def one_measure(self, model: _Model, node: _Node, what: str) -> None:
        """A measure as a metric term on its entity (tagged dbt-measure). Its id is the
        measure's name unless a metric has that name without only exposing it: the metric
        keeps the name, and the measure is `<model>_<name>`."""
        name = str(node.get("name"))
        agg = str(node.get("agg", "")).lower()
        if agg not in _AGGREGATES:
            reason = (
                "percentiles differ between engines and are not supported"
                if agg == "percentile"
                else f"unknown aggregation '{agg}'"
            )
            self.skip(node, "agg", what, reason)
            return
        if node.get("non_additive_dimension"):
            self.skip(
                node,
                "non_additive_dimension",
                what,
                "semi-additive measures (balances) have no equivalent; the measure "
                "would add up snapshots",
            )
            return
        raw = node.get("expr", name)
        inner = self.sql(node, "expr", str(raw), what)
        if inner is None:
            return
        _collect_columns(inner, model.columns)
        expr = self.sql(node, "expr", _AGGREGATES[agg].format(inner), what)
        if expr is None:
            return
        self.extra(node, _MEASURE_KEYS, what)
        if name in self.metric_names and name not in self.exposing:
            term_id = self.unique_id(f"{model.name}_{name}")
        else:
            term_id = self.unique_id(name, model.id)
        term = self.term_names(node, term_id)
        term["tags"] = ["dbt-measure"]
        term["metric"] = {"entity": model.id, "expr": expr}
        if agg in ("count", "count_distinct"):
            term["metric"]["fill_null"] = None  # NULL without rows, as in MetricFlow
        self.metric_ids[f"measure:{name}"] = term_id
        self.measures[name] = (model, agg, node)
        self.where[term_id] = (node.file, node.line())
        time = node.get("agg_time_dimension") or model.agg_time
        self.time_of[f"measure:{name}"] = model.time_dimensions.get(str(time))
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

    def term_names(self, node: _Node, name: str) -> dict[str, Any]:
        term: dict[str, Any] = {"label": {"en": str(node.get("label") or english_label(name))}}
        if node.get("description"):
            term["definition"] = {"en": " ".join(str(node.get("description")).split())}
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


def _key_columns(text: str) -> tuple[str, ...] | None:
    """The columns of an entity's key: its column, or the columns of a composite key
    written as their concatenation as text with separators (`semantic export dbt` writes
    `CAST(a AS TEXT) || '|' || CAST(b AS TEXT)`); None for any other expression.

    >>> _key_columns("id"), _key_columns("CAST(a AS TEXT) || '|' || CAST(b AS TEXT)")
    (('id',), ('a', 'b'))
    >>> _key_columns("lower(code)") is None
    True
    """
    try:
        tree = sqlglot.parse_one(text, read=FILE_DIALECT)
    except ParseError:
        return None
    if not isinstance(tree, exp.Expression):
        return None
    parts: list[exp.Expression] = []
    pending: list[exp.Expression] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, exp.DPipe):
            pending += [node.expression, node.this]
        else:
            parts.append(node)
    columns = []
    for i, part in enumerate(parts):
        if isinstance(part, exp.Cast) and len(parts) > 1:
            part = part.this
        if i % 2 == 0 and isinstance(part, exp.Column) and not part.table:
            columns.append(part.name)
        elif not (i % 2 and isinstance(part, exp.Literal) and part.is_string):
            return None
    return tuple(columns)


def _collect_columns(sql: str, columns: dict[str, str | None]) -> None:
    for column in sqlglot.parse_one(sql, read=FILE_DIALECT).find_all(exp.Column):
        if not column.table:
            columns.setdefault(column.name, None)
