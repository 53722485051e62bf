"""The catalog: entities, relationships, terms and the name index, checked for consistency.

`build_model` turns validated files into one immutable `Model` and reports every broken
reference at once, each with its file:line:col.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types

from semantic.errors import Diagnostic, Span, suggest
from semantic.files.read import Document
from semantic.files.schema import (
    GlossaryFile,
    ModelFile,
    ProjectFile,
    QualityRuleSpec,
    ShiftSpec,
    SubjectAreaSpec,
    TermSpec,
    WindowSpec,
)
from semantic.model.names import normalize_name
from semantic.model.nodes import settle

Kind = Literal["dimension", "time_dimension", "metric", "segment", "concept"]
Cardinality = Literal["many_to_one", "one_to_one", "one_to_many"]
#: The dialect that expressions in files are written in.
FILE_DIALECT = "duckdb"


@dataclass(frozen=True, slots=True)
class Column:
    """A physical column of an entity."""

    name: str
    type: str | None
    description: str | None


@dataclass(frozen=True, slots=True)
class Edge:
    """One direction of a relationship: from `source` to `target` joining on `keys`.

    `to_one` is true when each `source` row matches at most one `target` row, so the join
    can never multiply the source's rows.
    """

    source: str
    name: str
    target: str
    cardinality: Cardinality
    keys: tuple[tuple[str, str], ...]
    declared: bool

    @property
    def to_one(self) -> bool:
        """Whether following this edge keeps the source's grain."""
        return self.cardinality in ("many_to_one", "one_to_one")

    @property
    def hop(self) -> str:
        """The edge as written in a term's `path`: `source.name`."""
        return f"{self.source}.{self.name}"


@dataclass(frozen=True, slots=True)
class QualityRule:
    """A condition every row of `entity` should meet, in a DQV quality dimension."""

    id: str
    entity: str
    dimension: str
    check: exp.Expression
    text: str
    description: str | None
    threshold: float
    term: str | None = None


@dataclass(frozen=True, slots=True)
class Entity:
    """A table, view or file and what is known about it."""

    id: str
    table: str
    description: str | None
    primary_key: tuple[str, ...]
    columns: Mapping[str, Column]
    span: Span
    quality: tuple[QualityRule, ...] = ()


@dataclass(frozen=True, slots=True)
class Term:
    """A business term and its physical meaning.

    `expr` is the parsed expression (a dimension's value, a metric's aggregate or formula,
    a segment's condition). A derived metric has no entity; `refs` names the metrics it uses.
    """

    id: str
    kind: Kind
    domain: str
    labels: Mapping[str, str]
    synonyms: Mapping[str, tuple[str, ...]]
    definition: Mapping[str, str]
    owners: tuple[str, ...]
    status: str
    confidentiality: str
    tags: tuple[str, ...]
    entity: str | None
    expr: exp.Expression
    path: tuple[str, ...] = ()
    grains: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    #: a metric's own condition on rows, naming dimensions and segments by id
    filter: exp.Expression | None = None
    #: value of a group without rows (COUNT metrics: 0)
    fill_null: exp.Expression | None = None
    #: a metric summed over a time window, or shifted to an earlier period
    window: WindowSpec | None = None
    shift: ShiftSpec | None = None
    hidden_labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    scope_note: Mapping[str, str] = field(default_factory=dict)
    examples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    broader: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    exact_match: tuple[str, ...] = ()
    close_match: tuple[str, ...] = ()
    replaced_by: str | None = None
    quality: tuple[QualityRule, ...] = ()
    span: Span = field(default_factory=lambda: Span("<unknown>"))
    #: where each label, synonym and hidden label is written: (how, language, text) -> span
    name_spans: Mapping[tuple[str, str, str], Span] = field(default_factory=dict, compare=False)

    @property
    def is_metric(self) -> bool:
        """Metrics aggregate; everything else describes rows."""
        return self.kind == "metric"

    @property
    def is_over_time(self) -> bool:
        """A metric computed across periods: a window or a shift."""
        return self.window is not None or self.shift is not None

    @property
    def is_derived(self) -> bool:
        """A metric computed from other metrics rather than from rows."""
        return self.kind == "metric" and self.entity is None

    def label(self, language: str) -> str:
        """The label in `language`, else the first label, else the id."""
        return self.labels.get(language) or next(iter(self.labels.values()), self.id)


@dataclass(frozen=True, slots=True)
class Domain:
    """A group of terms, one per glossary file."""

    id: str
    labels: Mapping[str, str]
    description: Mapping[str, str]
    terms: tuple[str, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class SubjectArea:
    """Dimensions and metrics that belong together, published as one view for BI tools.

    `dimensions` are term ids, or `term.grain` for a time dimension truncated to a grain;
    `filter` is a condition on dimensions and segments by id; every row belongs to each of
    `segments`.
    """

    id: str
    domain: str
    labels: Mapping[str, str]
    definition: Mapping[str, str]
    owners: tuple[str, ...]
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    filter: exp.Expression | None
    segments: tuple[str, ...]
    span: Span
    #: where each dimension and metric is written (as written: `order_date.year`)
    places: Mapping[str, Span] = field(default_factory=dict, compare=False)

    def label(self, language: str) -> str:
        """The label in `language`, else the first label, else the id."""
        return self.labels.get(language) or next(iter(self.labels.values()), self.id)


@dataclass(frozen=True, slots=True)
class NameEntry:
    """One way of naming a term: its id, or a label or synonym in a language."""

    term: str
    how: Literal["id", "label", "synonym", "misspelling"]
    language: str | None
    text: str


@dataclass(frozen=True)
class Model:
    """The whole vocabulary, immutable once built."""

    name: str
    languages: tuple[str, ...]
    dialect: str
    fiscal_year_start: int
    entities: Mapping[str, Entity]
    edges: Mapping[str, tuple[Edge, ...]]
    terms: Mapping[str, Term]
    domains: Mapping[str, Domain]
    names: Mapping[str, tuple[NameEntry, ...]]
    #: memo of path searches (see `resolve.find_path`); the model itself never changes
    path_cache: dict[object, object] = field(default_factory=dict, compare=False, repr=False)
    #: subject areas by id: views for BI tools
    subject_areas: Mapping[str, SubjectArea] = field(default_factory=dict)
    #: IANA time zone in which time dimensions on instants (TIMESTAMPTZ) are read
    time_zone: str = "UTC"


def build_model(
    config: ProjectFile,
    models: Sequence[Document[ModelFile]],
    glossaries: Sequence[Document[GlossaryFile]],
    *,
    complete: bool = True,
) -> tuple[Model, list[Diagnostic]]:
    """Build the catalog and collect every reference problem (the model is usable for what
    is valid).

    `complete` is False when some file could not be read: references to what it may have
    defined are then not reported, so the one real error is not buried under its echoes.
    """
    builder = _Builder(config, complete)
    for model_doc in models:
        builder.add_entities(model_doc)
    builder.link_relationships()
    for glossary_doc in glossaries:
        builder.add_domain(glossary_doc)
    builder.check_terms()
    builder.check_subject_areas()
    return builder.finish(), builder.diagnostics


class _Builder:
    def __init__(self, config: ProjectFile, complete: bool) -> None:
        self.config = config
        self.complete = complete
        self.broken: set[str] = set()  # terms defined but invalid: no echo errors about them
        self.pending_quality: dict[str, dict[str, QualityRuleSpec]] = {}
        self.diagnostics: list[Diagnostic] = []
        self.entities: dict[str, Entity] = {}
        self.entity_docs: dict[str, Document[ModelFile]] = {}
        self.edges: dict[str, list[Edge]] = {}
        self.terms: dict[str, Term] = {}
        self.term_docs: dict[str, Document[GlossaryFile]] = {}
        self.domains: dict[str, Domain] = {}
        self.area_docs: list[tuple[str, SubjectAreaSpec, Document[GlossaryFile]]] = []
        self.subject_areas: dict[str, SubjectArea] = {}

    def report(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        if not self.complete and code in ("SEM201", "SEM202"):
            return
        self.diagnostics.append(Diagnostic(code, message, span, hint))

    # --- entities and relationships --------------------------------------------------------

    def add_entities(self, doc: Document[ModelFile]) -> None:
        for eid, spec in doc.data.entities.items():
            span = doc.span(("entities", eid))
            if eid in self.entities:
                first = self.entities[eid].span
                self.report(
                    "SEM103", f"entity '{eid}' is defined twice", span, f"first defined at {first}"
                )
                continue
            columns = {
                name: Column(name, c.type, c.description) for name, c in spec.columns.items()
            }
            for i, key in enumerate(spec.primary_key):
                if key not in columns:
                    self.report(
                        "SEM203",
                        f"primary key column '{key}' is not a column of entity '{eid}'",
                        doc.span(("entities", eid, "primary_key", i)),
                        suggest(key, columns),
                    )
            rules = tuple(
                rule
                for rid, rule_spec in spec.quality.items()
                if (
                    rule := self._quality_rule(
                        doc, ("entities", eid, "quality", rid), rid, eid, rule_spec, columns
                    )
                )
                is not None
            )
            self.entities[eid] = Entity(
                eid,
                spec.table or eid,
                spec.description,
                tuple(spec.primary_key),
                columns,
                span,
                rules,
            )
            self.entity_docs[eid] = doc
            self.edges.setdefault(eid, [])

    def _quality_rule(
        self,
        doc: Document[Any],
        where: tuple[str | int, ...],
        rid: str,
        entity: str,
        spec: QualityRuleSpec,
        columns: Mapping[str, Column],
        term: str | None = None,
    ) -> QualityRule | None:
        """A quality rule with its SQL check parsed and its columns checked."""
        span = doc.span((*where, "check"), value=True)
        try:
            check = settle(cast(exp.Expression, sqlglot.parse_one(spec.check, read=FILE_DIALECT)))
        except ParseError as exc:
            err = exc.errors[0] if exc.errors else {}
            self.report(
                "SEM104",
                f"check of quality rule '{rid}' is not valid SQL: {err.get('description', exc)}",
                span,
                "write a condition on the entity's columns, e.g. l_quantity > 0",
            )
            return None
        for used in check.find_all(exp.Column):
            if used.name not in columns:
                self.report(
                    "SEM203",
                    f"unknown column '{used.name}' in quality rule '{rid}' of '{entity}'",
                    span,
                    suggest(used.name, columns),
                )
                return None
        return QualityRule(
            rid, entity, spec.dimension, check, spec.check, spec.description, spec.threshold, term
        )

    def link_relationships(self) -> None:
        reverse: list[tuple[Edge, str]] = []
        for eid, doc in self.entity_docs.items():
            spec = doc.data.entities[eid]
            source = self.entities[eid]
            for i, rel in enumerate(spec.relationships):
                where = ("entities", eid, "relationships", i)
                name = rel.name or rel.to
                if rel.to not in self.entities:
                    self.report(
                        "SEM202",
                        f"relationship of '{eid}' points to unknown entity '{rel.to}'",
                        doc.span((*where, "to"), value=True),
                        suggest(rel.to, self.entities),
                    )
                    continue
                target = self.entities[rel.to]
                ok = True
                for src, tgt in rel.keys.items():
                    for ent, col in ((source, src), (target, tgt)):
                        if col not in ent.columns:
                            ok = False
                            self.report(
                                "SEM203",
                                f"join key '{col}' is not a column of entity '{ent.id}'",
                                doc.span((*where, "keys", src)),
                                suggest(col, ent.columns),
                            )
                if rel.to == eid and not self._check_self(doc, where, eid, rel.name, rel.keys):
                    continue
                if any(e.name == name for e in self.edges[eid]):
                    ok = False
                    self.report(
                        "SEM209",
                        f"entity '{eid}' has two relationships named '{name}'",
                        doc.span(where),
                        "give each relationship to the same entity its own `name`",
                    )
                if not ok:
                    continue
                keys = tuple(rel.keys.items())
                self.edges[eid].append(Edge(eid, name, rel.to, rel.cardinality, keys, True))
                back = {"many_to_one": "one_to_many", "one_to_many": "many_to_one"}.get(
                    rel.cardinality, "one_to_one"
                )
                flipped = tuple((t, s) for s, t in keys)
                reverse.append((Edge(rel.to, eid, eid, back, flipped, False), name))  # type: ignore[arg-type]
        for edge, declared_name in reverse:
            taken = {e.name for e in self.edges[edge.source]}
            # the reverse of a named relationship (bill_to_customer) is named after it
            # (orders_bill_to_customer), so that two roles never share a name and a name
            # never changes when another relationship is added
            named = declared_name != edge.source and declared_name != edge.target
            name = f"{edge.name}_{declared_name}" if named or edge.name in taken else edge.name
            self.edges[edge.source].append(
                Edge(edge.source, name, edge.target, edge.cardinality, edge.keys, False)
            )
        if len(self.entities) > 1:
            for eid, entity in self.entities.items():
                if not self.edges[eid]:
                    self.diagnostics.append(
                        Diagnostic(
                            "SEM207",
                            f"entity '{eid}' has no relationship to any other entity",
                            entity.span,
                            "declare a relationship so its terms can be combined with others",
                            severity="warning",
                        )
                    )

    def _check_self(
        self,
        doc: Document[ModelFile],
        where: tuple[str | int, ...],
        eid: str,
        name: str | None,
        keys: Mapping[str, str],
    ) -> bool:
        """A relationship from an entity to itself (an author's mentor) is named after the
        role of the other row, since its hops (`authors.mentor`, and back `authors.authors_mentor`)
        are how terms tell that row from the row itself; and it leads to another row."""
        if name is None or name == eid:
            self.report(
                "SEM230",
                f"the relationship of '{eid}' to itself needs a `name` saying the role of the "
                "other row",
                doc.span(where),
                f"name it after that role, e.g. name: parent; then pin the terms that read the "
                f"other row with path: [{eid}.parent]",
            )
            return False
        if all(src == tgt for src, tgt in keys.items()):
            self.report(
                "SEM230",
                f"relationship '{name}' of '{eid}' joins every row to itself "
                f"({', '.join(f'{s} = {t}' for s, t in keys.items())})",
                doc.span(where),
                "join the column that refers to the other row to the key, e.g. "
                "{manager_id: employee_id}",
            )
            return False
        return True

    # --- glossary --------------------------------------------------------------------------

    def add_domain(self, doc: Document[GlossaryFile]) -> None:
        data = doc.data
        if data.domain in self.domains:
            self.report(
                "SEM103",
                f"domain '{data.domain}' is defined twice",
                doc.span(("domain",), value=True),
                f"first defined at {self.domains[data.domain].span}",
            )
            return
        ids: list[str] = []
        for tid, spec in data.terms.items():
            span = doc.span(("terms", tid))
            if tid in self.terms:
                self.report(
                    "SEM103",
                    f"term '{tid}' is defined twice",
                    span,
                    f"first defined at {self.terms[tid].span}",
                )
                continue
            kind: Kind = next(
                m
                for m in ("dimension", "time_dimension", "metric", "segment", "concept")
                if getattr(spec, m) is not None
            )  # type: ignore[assignment]
            meaning = getattr(spec, kind)
            # a concept has no expression: NULL stands for it, and nothing ever compiles it
            text = {"segment": "condition", "concept": None}.get(kind, "expr")
            key = text or "expr"
            expr_span = doc.span(("terms", tid, kind, key), value=True)
            try:
                parsed = settle(
                    cast(
                        exp.Expression,
                        sqlglot.parse_one(getattr(meaning, key), read=FILE_DIALECT)
                        if text
                        else exp.Null(),
                    )
                )
            except ParseError as exc:
                err = exc.errors[0] if exc.errors else {}
                col = expr_span.col + max(int(err.get("col", 1)) - 1, 0)
                self.report(
                    "SEM104",
                    f"{key} of term '{tid}' is not valid SQL: {err.get('description', exc)}",
                    Span(expr_span.file, expr_span.line, col) if expr_span.line else expr_span,
                    "write a SQL expression, e.g. sum(l_extendedprice * (1 - l_discount))",
                )
                self.broken.add(tid)
                continue
            condition = getattr(meaning, "filter", None)
            parsed_filter = None
            if condition is not None:
                filter_span = doc.span(("terms", tid, kind, "filter"), value=True)
                try:
                    parsed_filter = settle(
                        cast(exp.Expression, sqlglot.parse_one(condition, read=FILE_DIALECT))
                    )
                except ParseError as exc:
                    err = exc.errors[0] if exc.errors else {}
                    self.report(
                        "SEM104",
                        f"filter of term '{tid}' is not valid SQL: {err.get('description', exc)}",
                        filter_span,
                        "write a condition on terms, e.g. part_type LIKE 'PROMO%'",
                    )
                    self.broken.add(tid)
                    continue
            self.terms[tid] = Term(
                id=tid,
                kind=kind,
                domain=data.domain,
                labels=dict(spec.label),
                synonyms={lang: tuple(v) for lang, v in spec.synonyms.items()},
                definition=dict(spec.definition),
                owners=tuple(spec.owners),
                status=spec.status,
                confidentiality=spec.confidentiality,
                tags=tuple(spec.tags),
                entity=getattr(meaning, "entity", None),
                expr=parsed,
                path=tuple(getattr(meaning, "path", ()) or ()),
                grains=tuple(getattr(meaning, "grains", ()) or ()),
                filter=parsed_filter,
                fill_null=_fill_value(meaning, parsed),
                window=getattr(meaning, "window", None),
                shift=getattr(meaning, "shift", None),
                hidden_labels={lang: tuple(v) for lang, v in spec.hidden_labels.items()},
                scope_note=dict(spec.scope_note),
                examples={lang: tuple(v) for lang, v in spec.examples.items()},
                broader=tuple(spec.broader),
                related=tuple(spec.related),
                exact_match=tuple(spec.exact_match),
                close_match=tuple(spec.close_match),
                replaced_by=spec.replaced_by,
                span=span,
                name_spans=_name_spans(doc, tid, spec),
            )
            self.term_docs[tid] = doc
            if spec.quality:
                self.pending_quality[tid] = spec.quality
            ids.append(tid)
        self.domains[data.domain] = Domain(
            data.domain,
            dict(data.label),
            dict(data.description),
            tuple(ids),
            doc.span(("domain",), value=True),
        )
        self.area_docs += [(sid, spec, doc) for sid, spec in data.subject_areas.items()]

    def check_terms(self) -> None:
        broken: set[str] = set()
        for tid, term in list(self.terms.items()):
            if not self._check_term(term):
                broken.add(tid)
        for tid in broken:
            del self.terms[tid]
        self.broken |= broken
        self._check_cycles()
        self._check_nesting()
        self._check_relations()
        self._check_names()

    def _span(self, term: Term, *path: str | int, value: bool = False) -> Span:
        return self.term_docs[term.id].span(("terms", term.id, term.kind, *path), value=value)

    def _check_term(self, term: Term) -> bool:
        """Check one term's references; derived metrics get their `refs` filled in."""
        if term.filter is not None and not self._check_filter(term):
            return False
        if term.is_over_time and not self._check_over_time(term):
            return False
        if term.kind == "concept":
            return True
        if term.is_derived:
            if term.fill_null is not None:
                self.diagnostics.append(
                    Diagnostic(
                        "SEM229",
                        f"fill_null of metric '{term.id}' has no effect: a metric without "
                        "entity has no rows of its own; the fill_null of the metrics it "
                        "combines applies",
                        self._span(term, "fill_null", value=True),
                        "remove it, and give fill_null to the base metrics it combines",
                        severity="warning",
                    )
                )
            return self._check_derived(term)
        assert term.entity is not None
        if term.entity not in self.entities:
            self.report(
                "SEM202",
                f"term '{term.id}' is defined on unknown entity '{term.entity}'",
                self._span(term, "entity", value=True),
                suggest(term.entity, self.entities),
            )
            return False
        ok = self._check_columns(term)
        if term.id in self.pending_quality:
            entity = self.entities[term.entity]
            rules = tuple(
                rule
                for rid, rule_spec in self.pending_quality[term.id].items()
                if (
                    rule := self._quality_rule(
                        self.term_docs[term.id],
                        ("terms", term.id, "quality", rid),
                        rid,
                        entity.id,
                        rule_spec,
                        entity.columns,
                        term.id,
                    )
                )
                is not None
            )
            self.terms[term.id] = replace(term, quality=rules)
        has_agg = term.expr.find(exp.AggFunc) is not None
        if term.is_metric and not has_agg:
            ok = False
            self.report(
                "SEM208",
                f"metric '{term.id}' on entity '{term.entity}' has no aggregate",
                self._span(term, "expr", value=True),
                "aggregate the rows, e.g. sum(...), count(*), avg(...); or drop `entity` to "
                "define the metric from other metrics",
            )
        elif term.is_metric and _columns_outside_aggregates(term.expr):
            ok = False
            self.report(
                "SEM208",
                f"metric '{term.id}' uses columns outside an aggregate",
                self._span(term, "expr", value=True),
                "put every column inside an aggregate function",
            )
        elif term.is_metric and not self._check_fill(term):
            ok = False
        elif not term.is_metric and has_agg:
            ok = False
            self.report(
                "SEM208",
                f"{term.kind.replace('_', ' ')} '{term.id}' must not aggregate",
                self._span(term, "condition" if term.kind == "segment" else "expr", value=True),
                "describe one row; define a metric to aggregate",
            )
        return self._check_path(term) and ok

    def _check_fill(self, term: Term) -> bool:
        """A base metric's `fill_null` (a number) fits its value: refused (SEM229) when the
        metric is surely a date, a text, a boolean..., which the fill cannot stand for."""
        if term.fill_null is None:
            return True
        kind = _non_numeric_kind(term, self.entities)
        if kind is None:
            return True
        self.report(
            "SEM229",
            f"fill_null of metric '{term.id}' is a number, but the metric's value is {kind} "
            f"({term.expr.sql(FILE_DIALECT)})",
            self._span(term, "fill_null", value=True),
            "remove fill_null: a group without rows then shows NULL; only a numeric metric "
            "takes a number for its groups without rows",
        )
        return False

    def _check_columns(self, term: Term) -> bool:
        assert term.entity is not None
        ok = True
        key = "condition" if term.kind == "segment" else "expr"
        for column in term.expr.find_all(exp.Column):
            qualifier = column.table
            entity = self.entities[term.entity]
            if qualifier:
                if not term.is_metric:
                    ok = False
                    self.report(
                        "SEM208",
                        f"{term.kind.replace('_', ' ')} '{term.id}' may only use columns of "
                        f"'{term.entity}', not '{column.sql()}'",
                        self._span(term, key, value=True),
                        "define the term on the other entity and pin its `path`",
                    )
                    continue
                if qualifier not in self.entities:
                    ok = False
                    self.report(
                        "SEM202",
                        f"unknown entity '{qualifier}' in metric '{term.id}'",
                        self._span(term, key, value=True),
                        suggest(qualifier, self.entities),
                    )
                    continue
                entity = self.entities[qualifier]
            if column.name not in entity.columns:
                ok = False
                self.report(
                    "SEM203",
                    f"unknown column '{column.name}' of entity '{entity.id}' in term '{term.id}'",
                    self._span(term, key, value=True),
                    suggest(column.name, entity.columns)
                    or f"columns of {entity.id}: " + ", ".join(list(entity.columns)[:8]),
                )
        return ok

    def _check_path(self, term: Term) -> bool:
        ok = True
        previous: Edge | None = None
        for i, hop in enumerate(term.path):
            source, _, name = hop.partition(".")
            edge = next((e for e in self.edges.get(source, []) if e.name == name), None)
            if edge is None:
                known = [e.hop for es in self.edges.values() for e in es]
                self.report(
                    "SEM204",
                    f"path of term '{term.id}' names unknown relationship '{hop}'",
                    self._span(term, "path", i),
                    suggest(hop, known) or "write hops as entity.relationship",
                )
                return False
            if previous is not None and previous.target != edge.source:
                self.report(
                    "SEM204",
                    f"path of term '{term.id}' is broken: '{previous.hop}' leads to "
                    f"'{previous.target}', not '{edge.source}'",
                    self._span(term, "path", i),
                )
                ok = False
            previous = edge
        if ok and previous is not None and previous.target != term.entity:
            self.report(
                "SEM204",
                f"path of term '{term.id}' ends at '{previous.target}', not at its entity "
                f"'{term.entity}'",
                self._span(term, "path", len(term.path) - 1),
            )
            ok = False
        return ok

    def _check_over_time(self, term: Term) -> bool:
        """A window or shift: over other metrics, along a time dimension. A window computes
        one base metric over the rows of several periods, so it names one (through derived
        metrics that only add a filter): any aggregate will do, since a window that does not
        add up over periods is computed from the rows themselves (see `plan`)."""
        key = "window" if term.window is not None else "shift"
        spec = term.window or term.shift
        assert spec is not None
        span = self._span(term, key, value=True)
        if term.entity is not None:
            self.report(
                "SEM208",
                f"metric '{term.id}' has a {key} and an entity",
                span,
                f"a {key} applies to other metrics: drop `entity` and write expr: <metric id>",
            )
            return False
        time = self.terms.get(spec.time)
        if time is None or time.kind != "time_dimension":
            what = "unknown" if time is None else f"a {time.kind.replace('_', ' ')}, not a"
            self.report(
                "SEM201" if time is None else "SEM208",
                f"{key} of metric '{term.id}' runs along '{spec.time}', {what} time dimension",
                span,
                suggest(
                    spec.time, [t for t, x in self.terms.items() if x.kind == "time_dimension"]
                ),
            )
            return False
        if term.window is not None:
            base = self._single_metric(term)
            if base is None or not base.is_metric or base.is_derived:
                self.report(
                    "SEM208",
                    f"the window of metric '{term.id}' must name one metric with an entity "
                    "(a base metric, or a metric that only adds a filter to one)",
                    self._span(term, "expr", value=True),
                    "a window computes a metric over the rows of several periods; window "
                    "each part of a ratio, then divide in a derived metric",
                )
                return False
        return True

    def _single_metric(self, term: Term) -> Term | None:
        """The base metric that `term` names alone, through derived metrics that only add a
        filter (`expr: net_revenue, filter: ...`), or None."""
        seen: set[str] = set()
        current: Term | None = term
        while current is not None and (current is term or current.is_derived):
            if current.id in seen or not isinstance(current.expr, exp.Column):
                return None
            seen.add(current.id)
            current = self.terms.get(current.expr.name)
        return current

    def _check_filter(self, term: Term) -> bool:
        """A metric's filter names dimensions and segments by id (time grains allowed)."""
        assert term.filter is not None
        span = self._span(term, "filter", value=True)
        if term.filter.find(exp.AggFunc) is not None:
            self.report(
                "SEM208",
                f"filter of metric '{term.id}' must not aggregate",
                span,
                "a filter keeps or drops rows before aggregation",
            )
            return False
        rows = [t for t, x in self.terms.items() if not x.is_metric]
        ok = True
        for column in term.filter.find_all(exp.Column):
            name = column.table or column.name
            other = self.terms.get(name)
            if other is None:
                if name not in self.broken:
                    self.report(
                        "SEM201",
                        f"unknown term '{name}' in the filter of metric '{term.id}'",
                        span,
                        suggest(name, rows),
                    )
                ok = False
            elif other.kind == "concept":
                self.report(
                    "SEM208",
                    f"the filter of metric '{term.id}' uses '{name}', a concept without "
                    "physical meaning",
                    span,
                    "give the concept a meaning (a dimension or segment) to filter on it",
                )
                ok = False
            elif other.is_metric:
                self.report(
                    "SEM208",
                    f"the filter of metric '{term.id}' uses metric '{name}'",
                    span,
                    "filter on dimensions and segments; define a ratio for metrics",
                )
                ok = False
            elif column.table and (
                other.kind != "time_dimension" or column.name not in other.grains
            ):
                self.report(
                    "SEM208",
                    f"'{column.sql()}' in the filter of metric '{term.id}' is "
                    "not a time dimension grain",
                    span,
                    f"grains of '{name}': {', '.join(other.grains) or 'none'}",
                )
                ok = False
        return ok

    def _check_derived(self, term: Term) -> bool:
        ok = True
        refs: list[str] = []
        if term.expr.find(exp.AggFunc) is not None:
            self.report(
                "SEM208",
                f"metric '{term.id}' has no entity, so it combines other metrics and must "
                "not aggregate rows",
                self._span(term, "expr", value=True),
                "add `entity:` to aggregate rows of one entity",
            )
            return False
        metrics = [t for t, x in self.terms.items() if x.is_metric]
        for column in term.expr.find_all(exp.Column):
            name = column.sql(dialect=FILE_DIALECT) if column.table else column.name
            other = self.terms.get(name)
            if other is None and name in self.broken:
                ok = False
            elif other is None:
                ok = False
                self.report(
                    "SEM201",
                    f"unknown term '{name}' in metric '{term.id}'",
                    self._span(term, "expr", value=True),
                    suggest(name, metrics),
                )
            elif not other.is_metric:
                ok = False
                self.report(
                    "SEM208",
                    f"metric '{term.id}' uses '{name}', which is a {other.kind.replace('_', ' ')}, "
                    "not a metric",
                    self._span(term, "expr", value=True),
                    "a metric without entity combines metrics only",
                )
            elif name not in refs:
                refs.append(name)
        self.terms[term.id] = replace(term, refs=tuple(refs))
        return ok

    def _check_cycles(self) -> None:
        state: dict[str, int] = {}  # 1: visiting, 2: done

        def visit(tid: str, trail: list[str]) -> None:
            if state.get(tid) == 2:
                return
            if state.get(tid) == 1:
                cycle = trail[trail.index(tid) :] + [tid]
                term = self.terms[tid]
                self.report(
                    "SEM205",
                    f"derived metrics form a cycle: {' -> '.join(cycle)}",
                    self._span(term, "expr", value=True),
                    "a metric cannot depend on itself",
                )
                return
            state[tid] = 1
            for ref in self.terms[tid].refs:
                if ref in self.terms:
                    visit(ref, [*trail, tid])
            state[tid] = 2

        for tid, term in self.terms.items():
            if term.is_derived:
                visit(tid, [])
        for tid in [t for t in self.terms if state.get(t) == 1]:
            del self.terms[tid]

    def _check_relations(self) -> None:
        """Hierarchy, related terms, replacements and external matches."""
        for tid, term in list(self.terms.items()):
            doc = self.term_docs[tid]
            for key in ("broader", "related"):
                for i, other in enumerate(getattr(term, key)):
                    if other == tid or other not in self.terms:
                        what = "itself" if other == tid else f"unknown term '{other}'"
                        self.report(
                            "SEM201",
                            f"{key} of term '{tid}' names {what}",
                            doc.span(("terms", tid, key, i), value=True),
                            None if other == tid else suggest(other, self.terms),
                        )
            if term.replaced_by is not None:
                span = doc.span(("terms", tid, "replaced_by"), value=True)
                if term.replaced_by not in self.terms or term.replaced_by == tid:
                    self.report(
                        "SEM201",
                        f"term '{tid}' is replaced by unknown term '{term.replaced_by}'",
                        span,
                        suggest(term.replaced_by, self.terms),
                    )
                elif term.status != "deprecated":
                    self.diagnostics.append(
                        Diagnostic(
                            "SEM208",
                            f"term '{tid}' names a replacement but is {term.status}",
                            span,
                            "set status: deprecated, or remove replaced_by",
                            severity="warning",
                        )
                    )
            for key in ("exact_match", "close_match"):
                for i, iri in enumerate(getattr(term, key)):
                    if not _is_absolute_iri(iri):
                        self.report(
                            "SEM208",
                            f"{key} of term '{tid}' is not an absolute IRI: '{iri}'",
                            doc.span(("terms", tid, key, i), value=True),
                            "write the full IRI, e.g. http://www.wikidata.org/entity/Q850283",
                        )
        # broader terms must not form a cycle
        state: dict[str, int] = {}

        def visit(tid: str, trail: list[str]) -> None:
            if state.get(tid) == 2:
                return
            if state.get(tid) == 1:
                cycle = [*trail[trail.index(tid) :], tid]
                self.report(
                    "SEM205",
                    f"broader terms form a cycle: {' -> '.join(cycle)}",
                    self.terms[tid].span,
                    "a term cannot be broader than itself",
                )
                return
            state[tid] = 1
            for parent in self.terms[tid].broader:
                if parent in self.terms:
                    visit(parent, [*trail, tid])
            state[tid] = 2

        for tid in list(self.terms):
            visit(tid, [])

    def _check_nesting(self) -> None:
        """A window or shift over a metric that is itself a window or shift is refused."""

        def inner(tid: str, seen: frozenset[str]) -> str | None:
            for ref in self.terms[tid].refs:
                other = self.terms.get(ref)
                if other is None or ref in seen:
                    continue
                if other.is_over_time:
                    return ref
                found = inner(ref, seen | {ref})
                if found:
                    return found
            return None

        for tid, term in list(self.terms.items()):
            if term.is_over_time and (nested := inner(tid, frozenset({tid}))):
                key = "window" if term.window is not None else "shift"
                self.report(
                    "SEM208",
                    f"metric '{tid}' applies a {key} to '{nested}', which already runs over time",
                    self._span(term, "expr", value=True),
                    "apply the window or shift to the base metric",
                )
                del self.terms[tid]

    def _check_names(self) -> None:
        seen: dict[tuple[str | None, str], NameEntry] = {}
        ids = {normalize_name(t): t for t in self.terms}
        for tid, term in self.terms.items():
            entries = [NameEntry(tid, "label", lang, text) for lang, text in term.labels.items()]
            entries += [
                NameEntry(tid, "synonym", lang, text)
                for lang, texts in term.synonyms.items()
                for text in texts
            ]
            entries += [
                NameEntry(tid, "misspelling", lang, text)
                for lang, texts in term.hidden_labels.items()
                for text in texts
            ]
            for entry in entries:
                key = normalize_name(entry.text)
                clash = ids.get(key)
                other = seen.get((entry.language, key))
                if clash is not None and clash != tid:
                    self._name_clash(entry, f"the id of term '{clash}'")
                elif other is not None and other.term != tid:
                    self._name_clash(entry, f"the {other.how} of term '{other.term}'")
                else:
                    seen[(entry.language, key)] = entry
            for lang in [*term.labels, *term.synonyms]:
                if lang not in self.config.languages:
                    self.diagnostics.append(
                        Diagnostic(
                            "SEM206",
                            f"term '{tid}' has names in language '{lang}', which the project "
                            "does not list",
                            term.span,
                            f"add '{lang}' to `languages` in semantic.yml",
                            severity="warning",
                        )
                    )

    # --- subject areas ---------------------------------------------------------------------

    def check_subject_areas(self) -> None:
        """Subject areas name existing terms of the right kind (SEM216, SEM217) and their
        views do not share a name with an entity's (SEM219)."""
        for sid, spec, doc in self.area_docs:
            span = doc.span(("subject_areas", sid))
            if sid in self.subject_areas:
                self.report(
                    "SEM103",
                    f"subject area '{sid}' is defined twice",
                    span,
                    f"first defined at {self.subject_areas[sid].span}",
                )
                continue
            if sid in self.entities:
                self.report(
                    "SEM219",
                    f"subject area '{sid}' has the id of an entity: their views would share a name",
                    span,
                    f"rename the subject area, e.g. '{sid}_overview'",
                )
                continue
            checked = _AreaCheck(self, sid, doc)
            dimensions = [
                d for i, d in enumerate(spec.dimensions) if checked.dimension(d, ("dimensions", i))
            ]
            metrics = [
                m
                for i, m in enumerate(spec.metrics)
                if checked.term(m, ("metrics", i), ("metric",), "metric")
            ]
            segments = [
                s
                for i, s in enumerate(spec.segments)
                if checked.term(s, ("segments", i), ("segment",), "segment")
            ]
            condition = checked.condition(spec.filter)
            if not checked.ok:
                continue
            self.subject_areas[sid] = SubjectArea(
                id=sid,
                domain=doc.data.domain,
                labels=dict(spec.label),
                definition=dict(spec.definition),
                owners=tuple(spec.owners),
                dimensions=tuple(dimensions),
                metrics=tuple(metrics),
                filter=condition,
                segments=tuple(segments),
                span=span,
                places={
                    **{d: checked.place("dimensions", i) for i, d in enumerate(spec.dimensions)},
                    **{m: checked.place("metrics", i) for i, m in enumerate(spec.metrics)},
                },
            )

    def _name_clash(self, entry: NameEntry, other: str) -> None:
        term = self.terms[entry.term]
        self.report(
            "SEM206",
            f"{entry.how} '{entry.text}' ({entry.language}) of term '{entry.term}' is also {other}",
            term.span,
            "in one language a label or synonym must name one term only",
        )

    def finish(self) -> Model:
        names: dict[str, list[NameEntry]] = {}
        for tid, term in self.terms.items():
            names.setdefault(normalize_name(tid), []).append(NameEntry(tid, "id", None, tid))
            for lang, text in term.labels.items():
                names.setdefault(normalize_name(text), []).append(
                    NameEntry(tid, "label", lang, text)
                )
            for how, named in (("synonym", term.synonyms), ("misspelling", term.hidden_labels)):
                for lang, texts in named.items():
                    for text in texts:
                        names.setdefault(normalize_name(text), []).append(
                            NameEntry(tid, how, lang, text)  # type: ignore[arg-type]
                        )
        return Model(
            name=self.config.name,
            languages=tuple(self.config.languages),
            dialect=self.config.dialect,
            fiscal_year_start=self.config.fiscal_year_start,
            entities=self.entities,
            edges={k: tuple(v) for k, v in self.edges.items()},
            terms=self.terms,
            domains=self.domains,
            names={k: tuple(v) for k, v in names.items()},
            subject_areas=self.subject_areas,
            time_zone=self.config.time_zone,
        )


class _AreaCheck:
    """The checks of one subject area's references; `ok` is False once one fails."""

    def __init__(self, builder: _Builder, sid: str, doc: Document[GlossaryFile]) -> None:
        self.builder = builder
        self.sid = sid
        self.doc = doc
        self.ok = True
        self.seen: set[str] = set()

    def _span(self, *path: str | int) -> Span:
        return self.doc.span(("subject_areas", self.sid, *path), value=True)

    def place(self, *path: str | int) -> Span:
        """Where an item of the subject area is written."""
        return self._span(*path)

    def _fail(self, code: str, message: str, span: Span, hint: str | None) -> bool:
        self.ok = False
        if code != "SEM216" or self.builder.complete:
            self.builder.diagnostics.append(Diagnostic(code, message, span, hint))
        return False

    def term(
        self, name: str, where: tuple[str | int, ...], kinds: tuple[str, ...], what: str
    ) -> bool:
        """`name` is a term id of one of `kinds`, listed once."""
        terms = self.builder.terms
        span = self._span(*where)
        term = terms.get(name)
        if term is None:
            if name in self.builder.broken:  # already reported where it is defined
                self.ok = False
                return False
            return self._fail(
                "SEM216",
                f"subject area '{self.sid}' names unknown term '{name}'",
                span,
                suggest(name, [t for t, x in terms.items() if x.kind in kinds]),
            )
        if term.kind not in kinds:
            return self._fail(
                "SEM217",
                f"subject area '{self.sid}' lists '{name}' as a {what}, but it is a "
                f"{term.kind.replace('_', ' ')}",
                span,
                f"move it to `{_AREA_KEYS.get(term.kind, 'filter')}`"
                if term.kind in _AREA_KEYS
                else "a concept without physical meaning cannot be published",
            )
        if name in self.seen:
            return self._fail(
                "SEM217", f"subject area '{self.sid}' lists '{name}' twice", span, "remove one"
            )
        self.seen.add(name)
        if term.status == "deprecated":  # still published, but its view should move on
            self.builder.diagnostics.append(
                Diagnostic(
                    "SEM215",
                    f"subject area '{self.sid}' lists deprecated term '{name}'",
                    span,
                    f"list '{term.replaced_by}' instead"
                    if term.replaced_by
                    else "ask the term's owners what replaces it",
                    severity="warning",
                )
            )
        return True

    def dimension(self, written: str, where: tuple[str | int, ...]) -> bool:
        """`written` is a dimension id, or `time_dimension.grain` with a grain it has."""
        name, dot, grain = written.partition(".")
        if not self.term(name, where, ("dimension", "time_dimension"), "dimension"):
            return False
        term = self.builder.terms[name]
        if dot and (term.kind != "time_dimension" or grain not in term.grains):
            return self._fail(
                "SEM217",
                f"subject area '{self.sid}': '{grain}' is not a grain of '{name}'",
                self._span(*where),
                f"grains of '{name}': {', '.join(term.grains) or 'none'}",
            )
        return True

    def condition(self, text: str | None) -> exp.Expression | None:
        """The parsed filter, naming dimensions and segments only (grains allowed)."""
        if text is None:
            return None
        span = self._span("filter")
        try:
            parsed = settle(cast(exp.Expression, sqlglot.parse_one(text, read=FILE_DIALECT)))
        except ParseError as exc:
            err = exc.errors[0] if exc.errors else {}
            self._fail(
                "SEM104",
                f"filter of subject area '{self.sid}' is not valid SQL: "
                f"{err.get('description', exc)}",
                span,
                "write a condition on terms, e.g. market_segment = 'BUILDING'",
            )
            return None
        rows = [t for t, x in self.builder.terms.items() if x.kind in _ROW_KINDS]
        for column in parsed.find_all(exp.Column):
            name = column.table or column.name
            term = self.builder.terms.get(name)
            if term is None and name not in self.builder.broken:
                self._fail(
                    "SEM216",
                    f"unknown term '{name}' in the filter of subject area '{self.sid}'",
                    span,
                    suggest(name, rows),
                )
            elif term is not None and term.kind not in _ROW_KINDS:
                self._fail(
                    "SEM217",
                    f"the filter of subject area '{self.sid}' uses '{name}', a "
                    f"{term.kind.replace('_', ' ')}",
                    span,
                    "filter rows on dimensions and segments",
                )
            elif term is None:
                self.ok = False
        if parsed.find(exp.AggFunc) is not None or parsed.find(exp.Placeholder) is not None:
            self._fail(
                "SEM217",
                f"the filter of subject area '{self.sid}' must not aggregate nor take parameters",
                span,
                "a view has no parameters; a filter keeps or drops rows",
            )
        return parsed


#: where a subject area lists a term of each kind
_AREA_KEYS = {
    "dimension": "dimensions",
    "time_dimension": "dimensions",
    "metric": "metrics",
    "segment": "segments",
}
_ROW_KINDS = ("dimension", "time_dimension", "segment")


def _name_spans(
    doc: Document[GlossaryFile], tid: str, spec: TermSpec
) -> dict[tuple[str, str, str], Span]:
    """Where each label, synonym and hidden label of a term is written."""
    found = {
        ("label", lang, text): doc.span(("terms", tid, "label", lang), value=True)
        for lang, text in spec.label.items()
    }
    for how, key, named in (
        ("synonym", "synonyms", spec.synonyms),
        ("misspelling", "hidden_labels", spec.hidden_labels),
    ):
        for lang, texts in named.items():
            for i, text in enumerate(texts):
                found.setdefault((how, lang, text), doc.span(("terms", tid, key, lang, i)))
    return found


def _columns_outside_aggregates(expr: exp.Expression) -> bool:
    return any(column.find_ancestor(exp.AggFunc) is None for column in expr.find_all(exp.Column))


#: how an error names a value that is not a number, by its sqlglot type
_KINDS: tuple[tuple[set[Any], str], ...] = (
    ({exp.DataType.Type.DATE, exp.DataType.Type.DATE32}, "a date"),
    ({exp.DataType.Type.TIME, exp.DataType.Type.TIMETZ}, "a time of day"),
    (set(exp.DataType.TEMPORAL_TYPES), "a timestamp"),
    (set(exp.DataType.TEXT_TYPES), "text"),
    ({exp.DataType.Type.BOOLEAN}, "a boolean"),
    (set(exp.DataType.NESTED_TYPES), "a list or structure"),
)

#: arithmetic, whose type sqlglot may get wrong on dates (a date minus a date is a number)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv)


def _non_numeric_kind(term: Term, entities: Mapping[str, Entity]) -> str | None:
    """What a base metric's value surely is when it is not a number ("a date", "text"...),
    from its columns' declared types; None when it is a number or when unsure."""
    if term.entity is None or term.expr.find(*_ARITHMETIC) is not None:
        return None
    tree = term.expr.copy()
    for used in tree.find_all(exp.Column):
        if not used.table:
            used.set("table", exp.to_identifier(term.entity))
    tables = dict.fromkeys([term.entity, *(c.table for c in tree.find_all(exp.Column))])
    schema: dict[str, object] = {}
    for name in tables:
        types: dict[str, str] = {}
        for column in entities[name].columns.values() if name in entities else ():
            try:
                kind = exp.DataType.build(column.type or "", dialect=FILE_DIALECT)
            except (SqlglotError, ValueError):
                continue
            types[column.name] = kind.sql(FILE_DIALECT)
        schema[name] = types
    select = exp.select(tree).from_(exp.Table(this=exp.to_identifier(term.entity)))
    for name in list(tables)[1:]:
        select = select.join(exp.Table(this=exp.to_identifier(name)), join_type="CROSS")
    try:
        value = annotate_types(select, schema=schema, dialect=FILE_DIALECT).selects[0].type
    except (SqlglotError, ValueError, KeyError, TypeError):  # unsure: the engine will tell
        return None
    if value is None:
        return None
    return next((name for kinds, name in _KINDS if value.this in kinds), None)


def _fill_value(meaning: object, parsed: exp.Expression) -> exp.Expression | None:
    """What a group with no row shows for a metric: the declared `fill_null`, else 0 for a
    count (as SQL's COUNT over no rows), else nothing (NULL)."""
    declared = getattr(meaning, "fill_null", None)
    if declared is not None:
        return exp.Literal.number(int(declared) if float(declared).is_integer() else declared)
    if isinstance(parsed, exp.Count) and getattr(meaning, "entity", None) is not None:
        return exp.Literal.number(0)
    return None


def _is_absolute_iri(text: str) -> bool:
    scheme, colon, rest = text.partition(":")
    return bool(colon and rest and scheme[:1].isalpha() and " " not in text)
