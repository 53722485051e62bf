"""Apache Ossie (Open Semantic Interchange, OSI) YAML: `semantic export osi`; see
docs/importing.md#osi (the import is `semantic.interchange.osi_import`).

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
areas, ...) is reported, and kept in a `custom_extensions` entry of vendor `SEMANTIC`, which
other tools ignore and which makes our own round trip lossless.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from sqlglot import exp

from semantic.errors import SemanticError
from semantic.files.read import Document, read_file
from semantic.files.schema import GlossaryFile, ModelFile, ProjectFile, TermSpec
from semantic.interchange.common import Notice, dump_yaml
from semantic.interchange.osi_spec import OSI_VERSION, VENDOR, parse_sql, with_dataset

__all__ = ["export_osi"]

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


def _ansi(tree: exp.Expression) -> str:
    return tree.sql(dialect="")


def _flow(value: Iterable[Any]) -> CommentedSeq:
    """A list written on one line (`[a, b]`)."""
    seq = CommentedSeq(value)
    seq.fa.set_flow_style()
    return seq


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
                prefix="OSI cannot carry",
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
                    dataset["primary_key"] = _flow(entity.primary_key)
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
                    item["from_columns"] = _flow([a for a, _ in pairs])
                    item["to_columns"] = _flow([b for _, b in pairs])
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
                    tree = parse_sql(metric.expr)
                    scoped = False
                    if metric.entity is not None:
                        tree, scoped = self.counted(tree, metric.entity)
                        tree = with_dataset(tree, metric.entity)
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
                    prefix="OSI cannot carry",
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
                        tree = parse_sql(metric.expr)
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
        return _ansi(parse_sql(text))

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


def export_osi(root: Path, config: ProjectFile) -> tuple[str, tuple[Notice, ...]]:
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
    text = exporter.run()
    return text, tuple(exporter.notices)
