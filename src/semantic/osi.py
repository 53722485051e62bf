"""Apache Ossie (Open Semantic Interchange, OSI) YAML: `semantic export osi` and
`semantic import osi`; see docs/importing.md#osi.

The core spec (core-spec/spec.md of github.com/apache/ossie, version 0.1.1) has a semantic
model with datasets (a source table, a primary key, fields), relationships (many side
`from`, one side `to`, column lists) and metrics (an aggregate SQL expression per dialect).
We map:

- an entity -> a dataset; each column -> a field marked as a plain column;
- a dimension or time dimension without a path -> a field of its entity's dataset with
  `dimension: {is_time: ...}`, its label and synonyms in `ai_context`;
- a relationship -> a relationship (a one-to-many one is written from its many side);
- a metric over an entity -> a model metric whose columns are qualified with the dataset
  (`SUM(orders.amount)`); a metric over metrics -> an expression over metric names.

What OSI cannot carry (labels in other languages, owners, status, role-playing paths,
segments, business concepts, metric filters, windows and shifts, quality rules, subject
areas, ...) is
reported, and kept in a `custom_extensions` entry of vendor `SEMANTIC`, which other tools
ignore and which makes our own round trip lossless. The import reads files of other tools
too: every field becomes a dimension, every metric a metric, and whatever has no place in
the glossary (unique keys, other vendors' extensions, non-SQL dialects) is reported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import sqlglot
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from sqlglot import exp
from sqlglot.errors import ParseError

from semantic.errors import Diagnostic, SemanticError, Span, error
from semantic.files.read import Document, read_file
from semantic.files.schema import GlossaryFile, ModelFile, ProjectFile, TermSpec
from semantic.interchange import Notice, dump_yaml, english_label, flow, load_yaml, snake_id

__all__ = ["OSI_VERSION", "VENDOR", "export_osi", "import_osi"]

#: the released version of the spec we write
OSI_VERSION = "0.1.1"
#: the vendor name of our custom extensions
VENDOR = "SEMANTIC"
FILE_DIALECT = "duckdb"
_DIALECTS = {
    "ANSI_SQL": "",
    "SNOWFLAKE": "snowflake",
    "DATABRICKS": "databricks",
    "BIGQUERY": "bigquery",
}
_DATATYPES = {
    "integer": "Integer",
    "number": "Decimal",
    "float": "Float",
    "text": "String",
    "date": "Date",
    "timestamp": "DateTime",
    "boolean": "Boolean",
}
_FAMILIES = {
    "integer": ("tinyint", "smallint", "integer", "int", "bigint", "hugeint"),
    "number": ("decimal", "numeric"),
    "float": ("double", "float", "real"),
    "text": ("varchar", "text", "string", "char"),
    "date": ("date",),
    "timestamp": ("timestamp", "datetime"),
    "boolean": ("boolean", "bool"),
}
_TYPES = {
    "Integer": "bigint",
    "Decimal": "decimal(38,9)",
    "Float": "double",
    "String": "varchar",
    "Boolean": "boolean",
    "Date": "date",
    "DateTime": "timestamp",
    "DateTimeTz": "timestamptz",
}
_TIME_TYPES = ("Date", "Time", "DateTime", "DateTimeTz")


def _datatype(sql_type: str | None) -> str | None:
    if not sql_type:
        return None
    base = sql_type.lower().split("(")[0].strip()
    for family, names in _FAMILIES.items():
        if base in names or base.startswith(names):
            return _DATATYPES[family]
    return "Opaque"


def _extension(data: Mapping[str, Any]) -> CommentedMap:
    return CommentedMap(vendor_name=VENDOR, data=json.dumps(data, ensure_ascii=False))


def _expression(sql: str) -> CommentedMap:
    dialect = CommentedMap(dialect="ANSI_SQL", expression=sql)
    return CommentedMap(dialects=[dialect])


def _parse(text: str, dialect: str = FILE_DIALECT) -> exp.Expression:
    return cast(exp.Expression, sqlglot.parse_one(text, read=dialect))


def _ansi(tree: exp.Expression) -> str:
    return tree.sql(dialect="")


# --- export ----------------------------------------------------------------------------------


@dataclass
class _Exporter:
    config: ProjectFile
    models: list[Document[ModelFile]]
    glossaries: list[Document[GlossaryFile]]
    notices: list[Notice] = field(default_factory=list)

    def lost(self, doc: Document[Any], path: tuple[str | int, ...], what: str, why: str) -> None:
        span = doc.span(path)
        self.notices.append(
            Notice(
                span.file,
                span.line,
                what,
                f"{why} (kept in the {VENDOR} extension)",
                prefix="OSI cannot carry: ",
            )
        )

    def run(self) -> str:
        main = self.config.languages[0]
        datasets: dict[str, CommentedMap] = {}
        relationships = []
        for doc in self.models:
            for eid, entity in doc.data.entities.items():
                fields = []
                for name, column in entity.columns.items():
                    item = CommentedMap(name=name, expression=_expression(_ansi(exp.column(name))))
                    if _datatype(column.type):
                        item["datatype"] = _datatype(column.type)
                    if column.description:
                        item["description"] = column.description
                    item["custom_extensions"] = [_extension({"column": True, "type": column.type})]
                    fields.append(item)
                dataset = CommentedMap(name=eid, source=entity.table or eid)
                if entity.primary_key:
                    dataset["primary_key"] = flow(entity.primary_key)
                if entity.description:
                    dataset["description"] = entity.description
                dataset["fields"] = fields
                spec = entity.model_dump(mode="json", exclude_defaults=True)
                dataset["custom_extensions"] = [_extension({"entity": spec})]
                datasets[eid] = dataset
                if entity.quality:
                    self.lost(
                        doc,
                        ("entities", eid, "quality"),
                        f"quality rules of '{eid}'",
                        "OSI has no data quality rules",
                    )
                for i, rel in enumerate(entity.relationships):
                    where = ("entities", eid, "relationships", i)
                    many, one = (rel.to, eid) if rel.cardinality == "one_to_many" else (eid, rel.to)
                    pairs = list(rel.keys.items())
                    if rel.cardinality == "one_to_many":
                        pairs = [(b, a) for a, b in pairs]
                    if rel.cardinality == "one_to_one":
                        self.lost(
                            doc,
                            where,
                            f"one-to-one relationship {eid} -> {rel.to}",
                            "OSI relationships are many-to-one",
                        )
                    name = f"{eid}_{rel.name}" if rel.name else f"{eid}_to_{rel.to}"
                    item = CommentedMap(name=name)
                    item["from"] = many
                    item["to"] = one
                    item["from_columns"] = flow([a for a, _ in pairs])
                    item["to_columns"] = flow([b for _, b in pairs])
                    relationships.append(item)
        metrics = []
        kept: dict[str, Any] = {}
        core = self.core_terms()
        for gdoc in self.glossaries:
            for tid, term in gdoc.data.terms.items():
                spec = term.model_dump(mode="json", exclude_defaults=True)
                ext = {"domain": gdoc.data.domain, "term": spec}
                self.governance(gdoc, tid, term, main)
                dim = term.dimension or term.time_dimension
                if dim is not None and not dim.path:
                    item = CommentedMap(name=tid, expression=_expression(self.sql(dim.expr)))
                    item["dimension"] = CommentedMap(is_time=term.time_dimension is not None)
                    self.describe(item, term, main)
                    item["custom_extensions"] = [_extension(ext)]
                    fields = datasets[dim.entity]["fields"]
                    clash = [i for i, f in enumerate(fields) if f["name"] == tid]
                    if clash:  # a term named after its column stands for the column too
                        del fields[clash[0]]
                    fields.append(item)
                    continue
                metric = term.metric
                if metric is not None and tid in core:
                    tree = _parse(metric.expr)
                    scoped = False
                    if metric.entity is not None:
                        tree, scoped = self.counted(tree, metric.entity)
                        tree = _qualified(tree, metric.entity)
                    if metric.fill_null is not None:  # the value of a group without rows
                        tree = exp.Coalesce(this=tree, expressions=[_number(metric.fill_null)])
                    item = CommentedMap(name=tid, expression=_expression(_ansi(tree)))
                    self.describe(item, term, main)
                    item["custom_extensions"] = [_extension(ext)]
                    if scoped:  # no column names the dataset: it is the metric's scope
                        assert metric.entity is not None
                        datasets[metric.entity].setdefault("metrics", []).append(item)
                    else:
                        metrics.append(item)
                    continue
                kept[tid] = ext
                what, why = self.why_not(term)
                self.lost(gdoc, ("terms", tid), f"{what} '{tid}'", why)
            for sid in gdoc.data.subject_areas:  # in the domain's entry of the extension
                self.lost(
                    gdoc,
                    ("subject_areas", sid),
                    f"subject area '{sid}'",
                    "OSI has no named sets of dimensions and metrics",
                )
        if any(d.data.label or d.data.description for d in self.glossaries):
            self.notices.append(
                Notice(
                    self.glossaries[0].name,
                    0,
                    "domains and their labels",
                    f"OSI has no domains (kept in the {VENDOR} extension)",
                    prefix="OSI cannot carry: ",
                )
            )
        domains = {
            d.data.domain: d.data.model_dump(mode="json", exclude_defaults=True, exclude={"terms"})
            for d in self.glossaries
        }
        model = CommentedMap(name=self.config.name)
        if self.config.description:
            model["description"] = self.config.description
        model["datasets"] = list(datasets.values())
        model["relationships"] = relationships
        model["metrics"] = metrics
        project = self.config.model_dump(mode="json", exclude_defaults=True)
        model["custom_extensions"] = [
            _extension({"project": project, "domains": domains, "terms": kept})
        ]
        return dump_yaml(
            CommentedMap(version=OSI_VERSION, semantic_model=[model]),
            f"Apache Ossie (Open Semantic Interchange) {OSI_VERSION}, written by "
            "`semantic export osi`.",
        )

    def counted(self, tree: exp.Expression, entity: str) -> tuple[exp.Expression, bool]:
        """`COUNT(*)` names no dataset: it counts the primary key when it is one column (never
        null), else the metric is written in its dataset (a dataset-scoped metric, OSI 0.2)."""
        if any(True for _ in tree.find_all(exp.Column)):
            return tree, False
        keys = next(
            d.data.entities[entity].primary_key for d in self.models if entity in d.data.entities
        )
        if len(keys) != 1:
            return tree, True

        def count_key(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Count) and isinstance(node.this, exp.Star):
                return exp.Count(this=exp.column(keys[0]))
            return node

        return tree.transform(count_key), False

    def core_terms(self) -> set[str]:
        """The terms OSI's core can carry: dimensions without a path, and metrics without a
        filter, window, shift or fill value whose inputs it carries too."""
        core: set[str] = set()
        derived: dict[str, set[str]] = {}
        for doc in self.glossaries:
            for tid, term in doc.data.terms.items():
                dim = term.dimension or term.time_dimension
                metric = term.metric
                if dim is not None and not dim.path:
                    core.add(tid)
                elif metric is not None and not (metric.filter or metric.window or metric.shift):
                    if metric.entity is not None:
                        core.add(tid)
                    else:
                        tree = _parse(metric.expr)
                        derived[tid] = {c.name for c in tree.find_all(exp.Column)}
        changed = True
        while changed:
            changed = False
            for tid, refs in derived.items():
                if tid not in core and refs <= core:
                    core.add(tid)
                    changed = True
        return core

    def sql(self, text: str) -> str:
        return _ansi(_parse(text))

    def describe(self, item: CommentedMap, term: TermSpec, main: str) -> None:
        item["label"] = term.label.get(main) or next(iter(term.label.values()))
        if term.definition.get(main):
            item["description"] = term.definition[main]
        context = CommentedMap()
        if term.synonyms.get(main):
            context["synonyms"] = list(term.synonyms[main])
        if term.scope_note.get(main):
            context["instructions"] = term.scope_note[main]
        if term.examples.get(main):
            context["examples"] = list(term.examples[main])
        if context:
            item["ai_context"] = context

    def governance(self, doc: Document[GlossaryFile], tid: str, term: TermSpec, main: str) -> None:
        other = sorted(
            {
                lang
                for names in (term.label, term.definition, term.synonyms)
                for lang in names
                if lang != main
            }
        )
        kept = [
            key
            for key in (
                "owners",
                "tags",
                "broader",
                "related",
                "exact_match",
                "close_match",
                "replaced_by",
                "hidden_labels",
                "quality",
            )
            if getattr(term, key)
        ]
        if term.status != "draft":
            kept.insert(0, "status")
        if term.confidentiality != "internal":
            kept.insert(0, "confidentiality")
        if other:
            kept.insert(0, f"names in {', '.join(other)}")
        if kept:
            self.lost(
                doc,
                ("terms", tid),
                f"{', '.join(kept)} of '{tid}'",
                "OSI has one language and no governance",
            )

    def why_not(self, term: TermSpec) -> tuple[str, str]:
        if term.segment is not None:
            return "segment", "OSI has no named conditions"
        if term.concept is not None:
            return "business concept", "OSI has no terms without an expression"
        if term.metric is None:
            return "role-playing dimension", "OSI fields have no join path"
        kind = next(
            (k for k in ("filter", "window", "shift") if getattr(term.metric, k) is not None), None
        )
        if kind is None:
            return "metric", "it uses metrics that OSI cannot carry"
        return f"metric with {kind.replace('_', ' ')}", f"OSI metrics have no {kind}"


def _number(value: float) -> exp.Expression:
    return exp.Literal.number(int(value) if float(value).is_integer() else value)


def _fill_value(tree: exp.Expression) -> tuple[exp.Expression, float | None]:
    """`COALESCE(<metric>, 0)` is a metric with a fill value for groups without rows."""
    if (
        isinstance(tree, exp.Coalesce)
        and len(tree.expressions) == 1
        and isinstance(tree.expressions[0], exp.Literal)
        and tree.expressions[0].is_number
    ):
        number = float(tree.expressions[0].this)
        return tree.this, int(number) if number.is_integer() else number
    return tree, None


def _qualified(tree: exp.Expression, entity: str) -> exp.Expression:
    """Columns of the metric's own entity get the dataset's name in front."""

    def qualify(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table:
            return exp.column(node.name, table=entity, quoted=node.this.quoted)
        return node

    return tree.transform(qualify)


def export_osi(root: Path, config: ProjectFile) -> tuple[str, list[Notice]]:
    """The project's models and glossary as one OSI semantic model (YAML text), with the
    report of what OSI's core cannot carry. The project must check clean first."""
    docs: dict[str, list[Any]] = {"models": [], "glossary": []}
    for key, folder, schema in (
        ("models", config.models, ModelFile),
        ("glossary", config.glossary, GlossaryFile),
    ):
        files = sorted((root / folder).glob("*.yml")) + sorted((root / folder).glob("*.yaml"))
        for path in files:
            doc, problems = read_file(path, schema, str(path.relative_to(root)))
            if doc is None:
                raise SemanticError(problems)
            docs[key].append(doc)
    exporter = _Exporter(config, docs["models"], docs["glossary"])
    return exporter.run(), exporter.notices


# --- import ----------------------------------------------------------------------------------


@dataclass
class OsiImport:
    """The files an import writes (path -> text), the report, and the project settings
    the file carries (for a new semantic.yml)."""

    files: dict[str, str]
    notices: list[Notice]
    project: dict[str, Any]


@dataclass
class _Dataset:
    id: str
    node: CommentedMap
    columns: dict[str, str | None] = field(default_factory=dict)
    fields: dict[str, exp.Expression] = field(default_factory=dict)


class _Importer:
    def __init__(self, name: str, tree: Any) -> None:
        self.name = name
        self.tree = tree
        self.notices: list[Notice] = []
        self.datasets: dict[str, _Dataset] = {}
        self.entities: dict[str, Any] = {}
        self.domains: dict[str, CommentedMap] = {}
        self.domain_specs: dict[str, Any] = {}
        self.taken: set[str] = set()
        self.metric_names: dict[str, str] = {}

    def line(self, node: Any, key: str | None = None) -> int:
        if not isinstance(node, CommentedMap):
            return 0
        if key is not None and key in node:
            return int(node.lc.key(key)[0]) + 1
        return int(node.lc.line) + 1

    def skip(self, node: Any, key: str | None, what: str, why: str) -> None:
        self.notices.append(Notice(self.name, self.line(node, key), what, why))

    def bad(self, node: Any, key: str | None, message: str) -> SemanticError:
        return SemanticError(
            Diagnostic(
                "SEM223",
                message,
                Span(self.name, self.line(node, key), 1),
                "see the OSI core spec: semantic_model, datasets, fields, metrics",
            )
        )

    def ours(self, node: Any) -> dict[str, Any]:
        """Our own extension's data on a node, or {}; other vendors' are reported."""
        found: dict[str, Any] = {}
        for item in node.get("custom_extensions") or []:
            if not isinstance(item, CommentedMap):
                continue
            if item.get("vendor_name") == VENDOR:
                try:
                    found = json.loads(str(item.get("data")))
                except json.JSONDecodeError as exc:
                    raise self.bad(item, "data", f"{VENDOR} extension is not JSON: {exc}") from None
            else:
                self.skip(
                    item,
                    None,
                    f"custom extension of vendor {item.get('vendor_name')}",
                    "other vendors' extensions are not read",
                )
        return found

    def expression(self, node: Any, what: str) -> exp.Expression | None:
        expression = node.get("expression")
        dialects = expression.get("dialects") if isinstance(expression, CommentedMap) else None
        if not dialects:
            raise self.bad(node, None, f"{what} has no expression.dialects")
        chosen = next((d for d in dialects if d.get("dialect") == "ANSI_SQL"), None)
        chosen = chosen or next((d for d in dialects if d.get("dialect") in _DIALECTS), None)
        if chosen is None:
            self.skip(
                node,
                "expression",
                what,
                "only SQL dialects are read: " + ", ".join(str(d.get("dialect")) for d in dialects),
            )
            return None
        try:
            return _parse(str(chosen.get("expression")), _DIALECTS[str(chosen.get("dialect"))])
        except ParseError as exc:
            self.skip(node, "expression", what, f"not valid SQL: {str(exc).splitlines()[0]}")
            return None

    def unique_id(self, name: str, prefix: str) -> str:
        base = snake_id(name)
        term_id = base if base not in self.taken else snake_id(f"{prefix}_{name}")
        n = 2
        while term_id in self.taken:
            term_id, n = f"{base}_{n}", n + 1
        self.taken.add(term_id)
        return term_id

    def add(self, domain: str, term_id: str, spec: Mapping[str, Any]) -> None:
        self.domains.setdefault(domain, CommentedMap())[term_id] = _term_node(spec)

    def run(self) -> OsiImport:
        if not isinstance(self.tree, CommentedMap) or not self.tree.get("semantic_model"):
            raise self.bad(self.tree, None, "no `semantic_model:` list")
        models = self.tree["semantic_model"]
        if isinstance(models, CommentedMap):
            models = [models]
        model = models[0]
        for other in models[1:]:
            self.skip(
                other,
                None,
                f"semantic model '{other.get('name')}'",
                "one semantic model is imported per file: the first",
            )
        if not isinstance(model, CommentedMap) or not model.get("name"):
            raise self.bad(model, None, "a semantic model needs a name")
        extension = self.ours(model)
        project = extension.get("project") or {"name": str(model.get("name"))}
        if model.get("description") and "description" not in project:
            project["description"] = " ".join(str(model["description"]).split())
        main = (project.get("languages") or ["en"])[0]
        self.domain_specs = extension.get("domains") or {}
        if model.get("ai_context"):
            self.skip(
                model,
                "ai_context",
                "ai_context of the semantic model",
                "the glossary has no place for model-wide instructions",
            )
        for node in model.get("datasets") or []:
            self.dataset(node)
        if not self.datasets:
            raise self.bad(model, "datasets", "a semantic model needs datasets")
        for node in model.get("relationships") or []:
            self.relationship(node)
        for ds in self.datasets.values():
            for node in ds.node.get("fields") or []:
                self.field(ds, node, main)
        metric_nodes: list[tuple[_Dataset | None, Any]] = [
            (None, n) for n in model.get("metrics") or []
        ]
        for scope in self.datasets.values():
            metric_nodes += [(scope, n) for n in scope.node.get("metrics") or []]
        for _, node in metric_nodes:
            if isinstance(node, CommentedMap) and node.get("name"):
                self.metric_names[str(node["name"])] = self.unique_id(str(node["name"]), "metric")
        for owner, node in metric_nodes:
            self.metric(owner, node, main)
        for tid, kept in (extension.get("terms") or {}).items():
            self.taken.add(tid)
            self.add(kept.get("domain", "imported"), tid, kept["term"])
        return OsiImport(self.files(str(model["name"])), self.notices, project)

    def dataset(self, node: Any) -> None:
        if not isinstance(node, CommentedMap) or not node.get("name") or not node.get("source"):
            raise self.bad(node, None, "a dataset needs a name and a source")
        ds = _Dataset(snake_id(str(node["name"])), node)
        self.datasets[str(node["name"])] = ds
        ours = self.ours(node).get("entity")
        if ours is not None:
            self.entities[ds.id] = ours
            ds.columns = {c: (s or {}).get("type") for c, s in ours["columns"].items()}
            return
        entity: dict[str, Any] = {"table": str(node["source"])}
        if node.get("description"):
            entity["description"] = " ".join(str(node["description"]).split())
        if node.get("primary_key"):
            entity["primary_key"] = [str(c) for c in node["primary_key"]]
            for column in entity["primary_key"]:
                ds.columns.setdefault(column, None)
        for key in ("unique_keys", "ai_context"):
            if node.get(key):
                self.skip(
                    node,
                    key,
                    f"{key} of dataset '{node['name']}'",
                    "the model has primary keys only"
                    if key == "unique_keys"
                    else "the model has no place for it",
                )
        entity["relationships"] = []
        self.entities[ds.id] = entity

    def relationship(self, node: Any) -> None:
        if not isinstance(node, CommentedMap):
            raise self.bad(node, None, "a relationship is a mapping")
        source, target = (
            self.datasets.get(str(node.get("from"))),
            self.datasets.get(str(node.get("to"))),
        )
        if source is None or target is None:
            raise self.bad(
                node, None, f"relationship '{node.get('name')}' joins an unknown dataset"
            )
        entity = self.entities[source.id]
        self.ours(node)
        pairs = list(
            zip(node.get("from_columns") or [], node.get("to_columns") or [], strict=False)
        )
        if not pairs or len(node["from_columns"]) != len(node["to_columns"]):
            raise self.bad(
                node,
                None,
                f"relationship '{node.get('name')}' needs as many from_columns as to_columns",
            )
        if "columns" in entity:  # ours: the entity's own spec has its relationships
            return
        rel: dict[str, Any] = {
            "to": target.id,
            "cardinality": "many_to_one",
            "keys": {str(a): str(b) for a, b in pairs},
        }
        name = str(node.get("name") or "")
        if name and name != f"{node['from']}_to_{node['to']}":
            rel["name"] = snake_id(name.removeprefix(f"{node['from']}_"))
        entity["relationships"].append(rel)
        for a, _ in pairs:
            source.columns.setdefault(str(a), None)
        for _, b in pairs:
            target.columns.setdefault(str(b), None)

    def field(self, ds: _Dataset, node: Any, main: str) -> None:
        name = str(node.get("name"))
        ours = self.ours(node)
        tree = self.expression(node, f"field '{name}' of '{ds.id}'")
        if tree is None:
            return
        ds.fields[name] = tree
        if ours.get("column"):
            ds.columns.setdefault(name, ours.get("type"))
            return
        for column in tree.find_all(exp.Column):
            ds.columns.setdefault(column.name, None)
        if isinstance(tree, exp.Column) and node.get("datatype") in _TYPES:
            ds.columns[tree.name] = ds.columns.get(tree.name) or _TYPES[node["datatype"]]
        if ours.get("term") is not None:
            self.taken.add(name)
            self.add(ours.get("domain", ds.id), name, ours["term"])
            return
        dimension = node.get("dimension") or {}
        is_time = dimension.get("is_time", node.get("datatype") in _TIME_TYPES)
        spec = self.names(node, name, main)
        meaning = {"entity": ds.id, "expr": tree.sql(FILE_DIALECT)}
        spec["time_dimension" if is_time else "dimension"] = meaning
        self.add(ds.id, self.unique_id(name, ds.id), spec)

    def names(self, node: Any, name: str, main: str) -> dict[str, Any]:
        spec: dict[str, Any] = {"label": {main: str(node.get("label") or english_label(name))}}
        context = node.get("ai_context")
        if isinstance(context, CommentedMap):
            if context.get("synonyms"):
                spec["synonyms"] = {main: [str(s) for s in context["synonyms"]]}
            if context.get("instructions"):
                spec["scope_note"] = {main: str(context["instructions"])}
            if context.get("examples"):
                spec["examples"] = {main: [str(s) for s in context["examples"]]}
        elif context:
            self.skip(node, "ai_context", f"ai_context of '{name}'", "a free text, not synonyms")
        if node.get("description"):
            spec["definition"] = {main: " ".join(str(node["description"]).split())}
        return spec

    def metric(self, ds: _Dataset | None, node: Any, main: str) -> None:
        name = str(node.get("name"))
        term_id = self.metric_names[name]
        ours = self.ours(node)
        if ours.get("term") is not None:
            self.add(ours.get("domain", "metrics"), term_id, ours["term"])
            return
        tree = self.expression(node, f"metric '{name}'")
        if tree is None:
            self.taken.discard(term_id)
            return
        spec = self.names(node, name, main)
        tree, fill = _fill_value(tree)
        if tree.find(exp.AggFunc) is None:
            renamed = tree.transform(
                lambda n: (
                    exp.column(self.metric_names[n.name])
                    if isinstance(n, exp.Column) and n.name in self.metric_names
                    else n
                )
            )
            spec["metric"] = {"expr": renamed.sql(FILE_DIALECT)}
            if fill is not None:
                spec["metric"]["fill_null"] = fill
            self.add("metrics", term_id, spec)
            return
        owner = ds or self.owner(tree)
        if owner is None:
            self.skip(
                node,
                "expression",
                f"metric '{name}'",
                "its columns are not qualified with one dataset whose rows it counts",
            )
            self.taken.discard(term_id)
            return
        spec["metric"] = {"entity": owner.id, "expr": self.local(tree, owner).sql(FILE_DIALECT)}
        if fill is not None:
            spec["metric"]["fill_null"] = fill
        self.add(owner.id, term_id, spec)

    def owner(self, tree: exp.Expression) -> _Dataset | None:
        """The dataset a metric aggregates: the only one it names, or the one on the many
        side of relationships to the others it names."""
        named = [
            self.datasets[c.table] for c in tree.find_all(exp.Column) if c.table in self.datasets
        ]
        ids = list(dict.fromkeys(d.id for d in named))
        if len(ids) == 1:
            return named[0]
        for candidate in named:
            reach = {candidate.id}
            frontier = [candidate.id]
            while frontier:
                current = frontier.pop()
                for rel in self.entities[current].get("relationships") or []:
                    if rel["to"] not in reach:
                        reach.add(rel["to"])
                        frontier.append(rel["to"])
            if set(ids) <= reach:
                return candidate
        return None

    def local(self, tree: exp.Expression, owner: _Dataset) -> exp.Expression:
        """Columns of the owner lose their qualifier; a field that is an expression is
        replaced by it; other datasets' columns keep their entity in front."""

        def rewrite(node: exp.Expression) -> exp.Expression:
            if not isinstance(node, exp.Column):
                return node
            ds = self.datasets.get(node.table) if node.table else owner
            if ds is None:
                return node
            inner = ds.fields.get(node.name)
            if inner is not None and not isinstance(inner, exp.Column):
                qualified = inner.copy()
                if ds is not owner:
                    qualified = _qualified(qualified, ds.id)
                return exp.Paren(this=qualified)
            column = inner.name if isinstance(inner, exp.Column) else node.name
            ds.columns.setdefault(column, None)
            return exp.column(column, table=None if ds is owner else ds.id)

        return tree.transform(rewrite)

    def files(self, name: str) -> dict[str, str]:
        entities = CommentedMap()
        for ds in self.datasets.values():
            spec = dict(self.entities[ds.id])
            if "columns" not in spec:
                spec["columns"] = {c: ({"type": t} if t else {}) for c, t in ds.columns.items()}
            if not spec.get("relationships"):
                spec.pop("relationships", None)
            entities[ds.id] = _entity_node(spec)
        files = {
            f"models/{snake_id(name)}.yml": dump_yaml(
                CommentedMap(entities=entities),
                "yaml-language-server: $schema=../schemas/model.schema.json\n"
                "Imported from Apache Ossie (OSI) by `semantic import osi`.",
            )
        }
        areas = {
            d: s["subject_areas"] for d, s in self.domain_specs.items() if s.get("subject_areas")
        }
        for domain in areas:  # a file of subject areas only
            self.domains.setdefault(domain, CommentedMap())
        for domain, terms in self.domains.items():
            spec = self.domain_specs.get(domain, {})
            doc = CommentedMap(domain=domain)
            for key in ("label", "description"):
                if spec.get(key):
                    doc[key] = flow(spec[key])
            if "label" not in doc:
                doc["label"] = flow({"en": english_label(domain)})
            doc["terms"] = terms
            if domain in areas:
                doc["subject_areas"] = CommentedMap(
                    (sid, _area_node(area)) for sid, area in areas[domain].items()
                )
            files[f"glossary/{domain}.yml"] = dump_yaml(
                doc,
                "yaml-language-server: $schema=../schemas/glossary.schema.json\n"
                "Imported from Apache Ossie (OSI) by `semantic import osi`.",
            )
        return files


_FLOW = {
    "label",
    "synonyms",
    "hidden_labels",
    "owners",
    "tags",
    "broader",
    "related",
    "exact_match",
    "close_match",
    "examples",
    "path",
    "grains",
    "window",
    "shift",
    "primary_key",
    "keys",
}


def _term_node(spec: Mapping[str, Any]) -> CommentedMap:
    node = CommentedMap()
    for key, value in spec.items():
        if key in _FLOW:
            node[key] = flow(value)
        elif key in ("dimension", "time_dimension", "metric", "segment", "concept"):
            node[key] = flow(
                {k: flow(v) if isinstance(v, list | dict) else v for k, v in value.items()}
            )
        elif isinstance(value, dict):
            node[key] = CommentedMap(value)
        else:
            node[key] = value
    return node


def _area_node(spec: Mapping[str, Any]) -> CommentedMap:
    """A subject area as written by hand: lists and labels on one line, definitions below."""
    node = CommentedMap()
    for key, value in spec.items():
        if key == "definition":
            node[key] = CommentedMap(value)
        elif isinstance(value, list | dict):
            node[key] = flow(value)
        else:
            node[key] = value
    return node


def _entity_node(spec: Mapping[str, Any]) -> CommentedMap:
    node = CommentedMap()
    for key, value in spec.items():
        if key == "primary_key":
            node[key] = flow(value)
        elif key == "columns":
            node[key] = CommentedMap((c, flow(s)) for c, s in value.items())
        elif key == "relationships":
            node[key] = [
                CommentedMap((k, flow(v) if isinstance(v, dict) else v) for k, v in rel.items())
                for rel in value
            ]
        elif isinstance(value, dict):
            node[key] = CommentedMap(value)
        else:
            node[key] = value
    return node


def import_osi(path: Path) -> OsiImport:
    """Read an OSI YAML file into models and glossary files, with the report of what could
    not be carried over (SEM223 when the file is not OSI)."""
    name = str(path)
    try:
        tree = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise error("SEM223", f"cannot read {name}: {exc}", Span(name)) from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        span = Span(name, mark.line + 1, mark.column + 1) if mark else Span(name)
        raise error("SEM223", f"invalid YAML: {getattr(exc, 'problem', exc)}", span) from None
    try:
        return _Importer(name, tree).run()
    except SemanticError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise error(
            "SEM223",
            f"the file does not follow the OSI spec ({type(exc).__name__}: {exc})",
            Span(name),
            "see the OSI core spec: semantic_model, datasets, fields, metrics",
        ) from None
