"""Apache Ossie (Open Semantic Interchange, OSI) YAML: `semantic export osi`; see
docs/importing.md#osi (the import is `semantic.interchange.osi_import`).

The core spec (core-spec/spec.md and core-spec/osi-schema.json of github.com/apache/ossie,
version 0.1.1 or the draft 0.2.0.dev0) has a semantic model with datasets (a source table,
a primary key, fields), relationships (many side `from`, one side `to`, column lists) and
metrics (an aggregate SQL expression per dialect). We map:

- an entity -> a dataset; each column -> a field without `dimension` metadata (with its
  `datatype` from 0.2 on);
- a dimension or time dimension without a path -> a field of its entity's dataset with
  `dimension: {is_time: ...}`, its label in `label`, synonyms in `ai_context`;
- a relationship -> a relationship (a one-to-many one is written from its many side);
- a metric over an entity -> a model metric whose columns are qualified with the dataset
  (`SUM(orders.amount)`; `COUNT(*)` counts the first primary key column, never null); a
  metric over metrics -> an expression over metric names. Ossie metrics have no label.

What the version cannot carry (column types in 0.1.1, metric labels, labels in other
languages, concept IRIs, owners, status, role-playing paths, segments, business concepts,
metric filters, windows and shifts, quality rules, subject areas, ...) is reported where it
is more than a name, and kept in a `custom_extensions` entry of ours (`osi_spec.extension`:
vendor `SEMANTIC`, or `COMMON` in 0.1.1 whose vendor list is closed), which other tools
ignore and which makes our own round trip lossless. The output validates against the
version's JSON Schema (tests/test_osi_schema.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from semantic.errors import SemanticError, Span, error
from semantic.files.read import Document, read_file
from semantic.files.schema import GlossaryFile, ModelFile, ProjectFile, TermSpec
from semantic.interchange.common import Notice, dump_yaml
from semantic.interchange.osi_spec import (
    FILE_DIALECT,
    OSI_VERSION,
    OSI_VERSIONS,
    extension,
    has_datatype,
    ossie_datatype,
    parse_sql,
    with_dataset,
)
from semantic.outputs.rdf.iris import Iris, default_base

__all__ = ["export_osi"]


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
    version: str = OSI_VERSION
    base: str = ""
    notices: list[Notice] = field(default_factory=list)

    @property
    def vendor(self) -> str:
        return str(extension(self.version, {})["vendor_name"])

    def ext(self, data: Mapping[str, Any]) -> CommentedSeq:
        """The `custom_extensions` list holding our data."""
        return CommentedSeq([CommentedMap(extension(self.version, data))])

    def term_ext(self, domain: str, tid: str, term: TermSpec) -> dict[str, Any]:
        """Our data on a term: its domain, its whole spec and its concept IRI."""
        spec = term.model_dump(mode="json", exclude_defaults=True)
        return {"domain": domain, "term": spec, "iri": str(Iris(self.base).term(tid))}

    def lost(self, doc: Document[Any], path: tuple[str | int, ...], what: str, why: str) -> None:
        span = doc.span(path)
        self.notices.append(
            Notice(
                span.file,
                span.line,
                what,
                f"{why} (kept in the {self.vendor} extension)",
                prefix="OSI cannot carry",
            )
        )

    def whole(self, file: str, what: str, why: str) -> None:
        """A notice about a file as a whole (no line)."""
        self.notices.append(
            Notice(
                file,
                0,
                what,
                f"{why} (kept in the {self.vendor} extension)",
                prefix="OSI cannot carry",
            )
        )

    def datatype(self, sql_type: str | exp.DataType | None) -> str | None:
        """The `datatype` to write: Ossie's type of `sql_type` from 0.2 on, else None."""
        return ossie_datatype(sql_type) if has_datatype(self.version) else None

    def run(self) -> str:
        main = self.config.languages[0]
        datasets: dict[str, CommentedMap] = {}
        relationships = []
        for doc in self.models:
            for eid, entity in doc.data.entities.items():
                fields = []
                for name, column in entity.columns.items():
                    item = CommentedMap(name=name, expression=_expression(_ansi(exp.column(name))))
                    if self.datatype(column.type):
                        item["datatype"] = self.datatype(column.type)
                    if column.description:
                        item["description"] = column.description
                    item["custom_extensions"] = self.ext({"column": True, "type": column.type})
                    fields.append(item)
                dataset = CommentedMap(name=eid, source=entity.table or eid)
                if entity.primary_key:
                    dataset["primary_key"] = _flow(entity.primary_key)
                if entity.description:
                    dataset["description"] = entity.description
                dataset["fields"] = fields
                spec = entity.model_dump(mode="json", exclude_defaults=True)
                dataset["custom_extensions"] = self.ext({"entity": spec})
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
        types = self.column_types()
        for gdoc in self.glossaries:
            for tid, term in gdoc.data.terms.items():
                ext = self.term_ext(gdoc.data.domain, tid, term)
                self.governance(gdoc, tid, term, main)
                dim = term.dimension or term.time_dimension
                if dim is not None and tid in core:
                    item = CommentedMap(name=tid, expression=_expression(self.sql(dim.expr)))
                    datatype = self.datatype(_type_of(parse_sql(dim.expr), types, dim.entity))
                    if datatype:
                        item["datatype"] = datatype
                    item["dimension"] = CommentedMap(is_time=term.time_dimension is not None)
                    self.describe(item, term, main)
                    item["custom_extensions"] = self.ext(ext)
                    fields = datasets[dim.entity]["fields"]
                    clash = [i for i, f in enumerate(fields) if f["name"] == tid]
                    if clash:  # a term named after its column stands for the column too
                        del fields[clash[0]]
                    fields.append(item)
                    continue
                metric = term.metric
                if metric is not None and tid in core:
                    tree = parse_sql(metric.expr)
                    datatype = None
                    if metric.entity is not None:
                        datatype = self.datatype(_type_of(tree, types, metric.entity))
                        tree = self.counted(tree, metric.entity, gdoc, tid)
                        tree = with_dataset(tree, metric.entity)
                    if metric.fill_null is not None:  # the value of a group without rows
                        tree = exp.Coalesce(this=tree, expressions=[_number(metric.fill_null)])
                    item = CommentedMap(name=tid, expression=_expression(_ansi(tree)))
                    if datatype:
                        item["datatype"] = datatype
                    self.describe(item, term, main, label=False)
                    item["custom_extensions"] = self.ext(ext)
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
            self.whole(self.glossaries[0].name, "domains and their labels", "OSI has no domains")
        if metrics:
            self.whole(self.glossaries[0].name, "labels of metrics", "Ossie metrics have no label")
        for doc in self.models:
            if not has_datatype(self.version) and any(
                c.type for e in doc.data.entities.values() for c in e.columns.values()
            ):
                self.whole(
                    doc.name, "column types", f"Ossie {self.version} fields have no datatype"
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
        model["custom_extensions"] = self.ext(
            {"project": project, "domains": domains, "terms": kept, "base": self.base}
        )
        return dump_yaml(
            CommentedMap(version=self.version, semantic_model=[model]),
            f"Apache Ossie (Open Semantic Interchange) {self.version}, written by "
            "`semantic export osi`.",
        )

    def column_types(self) -> dict[str, dict[str, str]]:
        """Entity -> column -> SQL type, for the data types of expressions."""
        return {
            eid: {c: spec.type for c, spec in entity.columns.items() if spec.type}
            for doc in self.models
            for eid, entity in doc.data.entities.items()
        }

    def counted(
        self, tree: exp.Expression, entity: str, doc: Document[GlossaryFile], tid: str
    ) -> exp.Expression:
        """`COUNT(*)` names no dataset, and an Ossie metric finds its dataset through its
        columns: it counts the first primary key column instead (a key column is never
        null, so the count is the same). Without a primary key it stays `COUNT(*)`, which
        only our extension places (reported)."""
        if any(True for _ in tree.find_all(exp.Column)):
            return tree
        keys = next(
            d.data.entities[entity].primary_key for d in self.models if entity in d.data.entities
        )
        if not keys:
            self.lost(
                doc,
                ("terms", tid),
                f"the dataset of metric '{tid}'",
                f"it counts rows of '{entity}', which has no primary key column to name",
            )
            return tree

        def count_key(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Count) and isinstance(node.this, exp.Star):
                return exp.Count(this=exp.column(keys[0]))
            return node

        return tree.transform(count_key)

    def core_terms(self) -> set[str]:
        """The terms OSI's core can carry: dimensions without a path, and metrics without a
        filter, window, shift or fill value whose inputs it carries too."""
        core: set[str] = set()
        derived: dict[str, set[str]] = {}
        for doc in self.glossaries:
            for tid, term in doc.data.terms.items():
                dim = term.dimension or term.time_dimension
                metric = term.metric
                if dim is not None and not dim.path and not _reads_per(dim.expr):
                    core.add(tid)
                elif metric is not None and not (
                    metric.filter
                    or metric.window
                    or metric.shift
                    or metric.conversion
                    or _reads_per(metric.expr)
                ):
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

    def describe(self, item: CommentedMap, term: TermSpec, main: str, label: bool = True) -> None:
        """The term's names in the main language: `label` (fields only: Ossie metrics have
        none), `description`, and `ai_context` (synonyms, scope note, examples)."""
        if label:
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
        meaning = term.dimension or term.time_dimension or term.metric
        if meaning is not None and _reads_per(meaning.expr):
            return "metric per entity or at another grain", "OSI has no MEASURE(...) PER"
        if term.metric is None:
            return "role-playing dimension", "OSI fields have no join path"
        kind = next(
            (
                k
                for k in ("filter", "window", "shift", "conversion")
                if getattr(term.metric, k) is not None
            ),
            None,
        )
        if kind is None:
            return "metric", "it uses metrics that OSI cannot carry"
        return f"metric with {kind.replace('_', ' ')}", f"OSI metrics have no {kind}"


def _reads_per(text: str) -> bool:
    """Whether an expression reads `MEASURE(metric) PER (...)` (`model.perterms`)."""
    return parse_sql(text).find(exp.Per) is not None


def _number(value: float) -> exp.Expression:
    return exp.Literal.number(int(value) if float(value).is_integer() else value)


def _type_of(
    tree: exp.Expression, types: Mapping[str, Mapping[str, str]], entity: str
) -> exp.DataType | None:
    """The SQL type of an expression over `entity`'s columns (sqlglot's type inference),
    None when a column's type is not declared or the type is not known."""
    columns = {c.name for c in tree.find_all(exp.Column)}
    known = types.get(entity, {})
    if not columns <= set(known):
        return None
    select = exp.select(exp.alias_(tree.copy(), "v")).from_(entity)
    try:
        qualified = qualify(select, schema={entity: dict(known)}, dialect=FILE_DIALECT)
        typed = annotate_types(qualified, schema={entity: dict(known)}, dialect=FILE_DIALECT)
    except (OptimizeError, SqlglotError, KeyError, ValueError):
        return None
    found = typed.selects[0].type
    return found if found is not None and not found.is_type(exp.DataType.Type.UNKNOWN) else None


def export_osi(
    root: Path, config: ProjectFile, version: str = OSI_VERSION, base: str | None = None
) -> tuple[str, tuple[Notice, ...]]:
    """The project's models and glossary as one Ossie semantic model of `version` (YAML
    text; one of `OSI_VERSIONS`), with the report of what the version's core cannot carry.
    Concept IRIs are written under `base` (the RDF export's default when None). The
    project must check clean first."""
    if version not in OSI_VERSIONS:
        raise error(
            "SEM241",
            f"unknown Ossie version '{version}'",
            Span("--osi-version"),
            "write one of " + ", ".join(OSI_VERSIONS),
        )
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
    exporter = _Exporter(
        config, docs["models"], docs["glossary"], version, base or default_base(config.name)
    )
    text = exporter.run()
    return text, tuple(exporter.notices)
