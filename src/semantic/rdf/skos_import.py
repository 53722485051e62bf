r"""A SKOS vocabulary as glossary YAML: `semantic import skos`; see docs/rdf.md#import.

`import_skos` reads an RDF graph and returns one glossary file per concept scheme (YAML
text, in a fixed order) with a report of everything it could not map or had to change;
`write_import` writes the files, never overwriting an existing term or file unless told
to. The import is the inverse of `semantic.outputs.rdf.export`: exporting a glossary and importing
it gives back the same terms, meanings included.

>>> from rdflib import Graph
>>> graph = Graph().parse(format="turtle", data='''
...     @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
...     @prefix ex: <https://vocab.example.com/> .
...     ex:finance a skos:ConceptScheme ; skos:prefLabel "Finance"@en .
...     ex:Revenue a skos:Concept ; skos:inScheme ex:finance ;
...         skos:prefLabel "Revenue"@en, "Chiffre d'affaires"@fr ; skos:altLabel "Turnover"@en ;
...         skos:definition "What the company earns on its sales." .
... ''')
>>> result = import_skos(graph, language="en")
>>> print(result.files["finance.yml"], end="")
# Imported from <https://vocab.example.com/finance> by `semantic import skos`.
domain: finance
label: {en: Finance}
terms:
  revenue:
    label: {en: Revenue, fr: Chiffre d'affaires}
    synonyms: {en: [Turnover]}
    definition:
      en: What the company earns on its sales.
    # TODO(import): a business concept without physical meaning, which queries cannot
    # use: give it a dimension, time_dimension, metric or segment instead.
    concept: {}
>>> [(item.kind, item.subject) for item in result.report]
[('concept', 'https://vocab.example.com/Revenue')]
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from typing import Literal as Kind
from urllib.parse import unquote

import sqlglot
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS
from rdflib.term import Node
from rdflib.util import guess_format
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from sqlglot import exp
from sqlglot.errors import ParseError

from semantic.errors import Diagnostic, SemanticError, Span, error
from semantic.files.atomic import write_atomically
from semantic.files.read import read_file
from semantic.files.schema import GRAINS, GlossaryFile
from semantic.model import FILE_DIALECT
from semantic.model.names import normalize_name
from semantic.outputs.rdf.export import (
    ACCESS_RIGHTS,
    KIND_CLASSES,
    PREFIXES,
    SENSITIVITIES,
    STATUSES,
)
from semantic.outputs.rdf.vocab import ACCESS_RIGHT, DCAT, DQV, SEM

__all__ = [
    "DEFAULT_DOMAIN",
    "ImportResult",
    "ImportedDomain",
    "ImportedSubjectArea",
    "ImportedTerm",
    "ReportItem",
    "glossary_terms",
    "import_skos",
    "render_domain",
    "snake_id",
    "write_import",
]

#: The domain of concepts that belong to no concept scheme (unless `domain` is given).
DEFAULT_DOMAIN = "imported"
#: What a report item says about a triple or a resource.
ReportKind = Kind["unmapped", "changed", "conflict", "concept"]

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_CONCEPT_COMMENT = (
    "TODO(import): a business concept without physical meaning, which queries cannot\n"
    "use: give it a dimension, time_dimension, metric or segment instead."
)
_KINDS: dict[Node, str] = {cls: kind for kind, cls in KIND_CLASSES.items()}
_STATUSES: dict[Node, str] = {iri: name for name, iri in STATUSES.items()}
_SENSITIVITIES: dict[Node, str] = {iri: name for name, iri in SENSITIVITIES.items()}
#: Without sem:sensitivity, dct:accessRights gives the level: non-public is `internal`, the
#: default, since the finer level is unknown.
_ACCESS_LEVELS: dict[Node, str] = {
    ACCESS_RIGHT.PUBLIC: "public",
    ACCESS_RIGHT.NON_PUBLIC: "internal",
}
#: Why a predicate of a concept or scheme has no place in the glossary.
_REASONS: dict[Node, str] = {
    SKOS.notation: "the id comes from dct:identifier; the notation is not kept",
    SKOS.note: "the glossary keeps definitions and scope notes only",
    SKOS.changeNote: "the glossary keeps definitions and scope notes only (history is in git)",
    SKOS.historyNote: "the glossary keeps definitions and scope notes only (history is in git)",
    SKOS.editorialNote: "the glossary keeps definitions and scope notes only",
    SKOS.broadMatch: "only exact and close matches are kept",
    SKOS.narrowMatch: "only exact and close matches are kept",
    SKOS.relatedMatch: "only exact and close matches are kept",
    SKOS.mappingRelation: "only exact and close matches are kept",
    SKOS.broaderTransitive: "only direct broader terms are kept",
    SKOS.narrowerTransitive: "only direct broader terms are kept",
}
#: Predicates the export derives from a term's meaning: recomputed, so not imported.
_DERIVED = (SEM.representedBy, PROV.wasDerivedFrom)
#: Keys written as flow collections (`{en: Net revenue}`, `[finance]`), as in the
#: hand-written glossary files; the other mappings are written as blocks.
_FLOW = {
    "label",
    "description",
    "synonyms",
    "hidden_labels",
    "owners",
    "tags",
    "broader",
    "related",
    "exact_match",
    "close_match",
    "path",
    "grains",
    "window",
    "shift",
}
#: The YAML key order of a term, as in docs/files.md.
_TERM_KEYS = (
    "label",
    "synonyms",
    "definition",
    "owners",
    "status",
    "confidentiality",
    "tags",
    "hidden_labels",
    "scope_note",
    "examples",
    "broader",
    "related",
    "exact_match",
    "close_match",
    "replaced_by",
)


@dataclass(frozen=True)
class ReportItem:
    """Something of the source that the import did not map, or mapped differently.

    `kind` is `unmapped` (the triple, or every triple of the resource when `predicate` is
    None, is not in the glossary), `changed` (kept in another form), `conflict` (a term
    whose id the project already has: not written unless replacing) or `concept` (a term
    without physical meaning, written as a business concept: `concept: {}`).
    """

    subject: str
    predicate: str | None
    object: str | None
    reason: str
    kind: ReportKind = "unmapped"

    def render(self) -> str:
        """One line, `kind: <subject> predicate object: reason`, with the export's prefixes
        for the predicate (`skos:changeNote`).

        >>> print(ReportItem("https://x.org/a", str(SKOS.changeNote), '"v2"@en', "no key").render())
        unmapped: <https://x.org/a> skos:changeNote "v2"@en: no key
        """
        parts = [self.subject if self.subject.startswith("_:") else f"<{self.subject}>"]
        if self.predicate:
            parts.append(_prefixed(self.predicate))
        if self.object:
            parts.append(self.object)
        return f"{self.kind}: {' '.join(parts)}: {self.reason}"

    def as_dict(self) -> dict[str, str | None]:
        """A JSON-ready form."""
        return {
            "kind": self.kind,
            "subject": self.subject,
            "predicate": self.predicate,
            "object": self.object,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ImportedTerm:
    """One imported term: its id, the concept it comes from and its glossary keys (plain
    data in file order, meaning last)."""

    id: str
    iri: str
    data: Mapping[str, Any]
    concept_only: bool = False


@dataclass(frozen=True)
class ImportedSubjectArea:
    """One imported subject area: its id, the collection it comes from and its glossary
    keys (plain data in file order)."""

    id: str
    iri: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class ImportedDomain:
    """One imported domain (a concept scheme): its keys and its terms, in file order."""

    id: str
    source: str | None
    label: Mapping[str, str]
    description: Mapping[str, str]
    terms: tuple[ImportedTerm, ...]
    #: the subject areas of the domain (a sem:SubjectArea dct:isPartOf its scheme)
    subject_areas: tuple[ImportedSubjectArea, ...] = ()

    @property
    def file(self) -> str:
        """The file name under the glossary folder."""
        return f"{self.id}.yml"


@dataclass(frozen=True)
class ImportResult:
    """What an import gives: the glossary files to write and the report.

    `files` maps a file name (relative to the glossary folder) to its YAML text, without
    the conflicting terms; `terms` are the ids those files define; `conflicts` maps the id
    of each imported term the project already has to that term's domain.
    """

    domains: tuple[ImportedDomain, ...]
    report: tuple[ReportItem, ...]
    conflicts: Mapping[str, str] = field(default_factory=dict)

    @property
    def terms(self) -> tuple[str, ...]:
        """Ids of the terms written without replacing, domain by domain."""
        return tuple(t.id for d in self.domains for t in d.terms if t.id not in self.conflicts)

    @property
    def files(self) -> dict[str, str]:
        """File name -> YAML text of each domain, conflicting terms left out."""
        return {d.file: render_domain(d, skip=self.conflicts) for d in self.domains}


def import_skos(
    source: Graph | Path | str,
    *,
    language: str,
    existing: Mapping[str, str] | None = None,
    domain: str | None = None,
    format: str | None = None,
) -> ImportResult:
    """Turn a SKOS vocabulary into glossary domains, one per concept scheme.

    `source` is a graph or the path of an RDF file (`format` as rdflib names it, by default
    guessed from the file name, else Turtle). Literals without a language get `language`,
    the project's first language. `existing` maps the ids of the project's terms to their
    domain (see `glossary_terms`): an imported term with such an id is a conflict, reported
    and left out of `files`. With `domain`, every concept goes into that one domain.
    Raises SemanticError (SEM101) when the file cannot be read as RDF.
    """
    if not _LANGUAGE.match(language):
        raise ValueError(f"language {language!r} is not a language code such as en or pt-BR")
    if domain is not None and not _valid_id(domain):
        raise ValueError(f"domain {domain!r} is not a snake_case id")
    graph = source if isinstance(source, Graph) else _parse(Path(source), format)
    return _Importer(graph, language, dict(existing or {}), domain).run()


def glossary_terms(glossary_dir: Path) -> dict[str, str]:
    """The id of every term under `glossary_dir` mapped to its domain: the `existing`
    argument of `import_skos`. Raises SemanticError if a file cannot be read."""
    return {tid: where.domain for tid, where in _scan(glossary_dir).terms.items()}


def write_import(
    result: ImportResult, glossary_dir: Path, *, replace: bool = False
) -> tuple[Path, ...]:
    """Write the imported domains under `glossary_dir`; return the files written.

    Without `replace`, only new files are written: a domain whose file exists, or a term
    that a file of `glossary_dir` already defines (and `result.conflicts` does not list),
    is an error (SEM103) and nothing is written. With `replace`, terms are merged into the
    existing files: an existing term is replaced where it is defined (its file and domain
    stay), new terms of an existing domain are added at the end of its file, and comments
    elsewhere are kept. Every file is written atomically.
    """
    scan = _scan(glossary_dir)
    problems: list[Diagnostic] = []
    for domain in result.domains:
        path = glossary_dir / domain.file
        if domain.id in scan.domains and not replace:
            problems.append(
                Diagnostic(
                    "SEM103",
                    f"domain '{domain.id}' is already defined",
                    Span(scan.domains[domain.id].name),
                    "import with --replace to merge into it, or --domain to choose another id",
                )
            )
        elif domain.id not in scan.domains and path.exists():
            problems.append(
                Diagnostic(
                    "SEM103",
                    f"file {domain.file} exists and does not hold domain '{domain.id}'",
                    Span(str(path)),
                    "import with --domain to choose another id",
                )
            )
        for term in domain.terms:
            known = scan.terms.get(term.id)
            if known is not None and not replace and term.id not in result.conflicts:
                problems.append(
                    Diagnostic(
                        "SEM103",
                        f"term '{term.id}' is already defined in domain '{known.domain}'",
                        Span(known.name),
                        "import with --replace to replace it",
                    )
                )
    if problems:
        raise SemanticError(problems)
    texts: dict[Path, str] = {}
    edits: dict[Path, tuple[dict[str, ImportedTerm], list[ImportedTerm]]] = {}
    for domain in result.domains:
        terms = [t for t in domain.terms if replace or t.id not in result.conflicts]
        if domain.id not in scan.domains:
            fresh = [t for t in terms if t.id not in scan.terms]
            texts[glossary_dir / domain.file] = render_domain(_with_terms(domain, fresh))
        for term in terms:
            if term.id in scan.terms:
                edits.setdefault(scan.terms[term.id].path, ({}, []))[0][term.id] = term
            elif domain.id in scan.domains:
                edits.setdefault(scan.domains[domain.id].path, ({}, []))[1].append(term)
    for path, (replaced, added) in edits.items():
        texts[path] = _merge(path.read_text(encoding="utf-8"), replaced, added)
    for domain in result.domains:
        if domain.id in scan.domains and domain.subject_areas:
            path = scan.domains[domain.id].path
            text = texts.get(path) or path.read_text(encoding="utf-8")
            texts[path] = _merge_areas(text, domain.subject_areas)
    for path, text in sorted(texts.items()):
        write_atomically(path, text)
    return tuple(sorted(texts))


def _merge(text: str, replaced: Mapping[str, ImportedTerm], added: list[ImportedTerm]) -> str:
    """A glossary file with some terms replaced and others added at the end of `terms`.

    The file is edited as text wherever it can be (a block `terms:` mapping at the end of
    the file, the usual layout), so that every other line stays as it was, comments and
    quotes included; otherwise it is loaded and written again by ruamel."""
    tree = _yaml().load(text)
    terms = tree.get("terms") if isinstance(tree, CommentedMap) else None
    if not (
        isinstance(terms, CommentedMap)
        and terms
        and not terms.fa.flow_style()
        and list(tree)[-1] == "terms"
    ):
        if not isinstance(terms, CommentedMap):
            terms = tree["terms"] = CommentedMap()
        for term in [*replaced.values(), *added]:
            terms[term.id] = _term_node(term)
        return _dump(tree)
    lines = text.splitlines(keepends=True)
    keys = list(terms)
    starts = {key: terms.lc.key(key)[0] for key in keys}
    for key in sorted(replaced, key=lambda k: starts[k], reverse=True):
        index = keys.index(key)
        start = starts[key]
        stop = starts[keys[index + 1]] if index + 1 < len(keys) else len(lines)
        # blank lines and comments before the next term belong to the file, not the term
        while stop > start + 1 and (not lines[stop - 1].strip() or _is_comment(lines[stop - 1])):
            stop -= 1
        lines[start:stop] = [_term_text(replaced[key])]
    merged = "".join(lines)
    if added and not merged.endswith("\n"):
        merged += "\n"
    return merged + "".join("\n" + _term_text(term) for term in added)


def _merge_areas(text: str, areas: tuple[ImportedSubjectArea, ...]) -> str:
    """A glossary file with the imported subject areas in it, replacing those of the same
    id: appended as text when the file has none yet (every other line stays as it was),
    else the file is loaded and written again by ruamel."""
    tree = _yaml().load(text)
    if isinstance(tree, CommentedMap) and "subject_areas" not in tree:
        block = _dump(CommentedMap([("subject_areas", _areas_node(areas))]))
        return text + ("" if text.endswith("\n") else "\n") + "\n" + block
    existing = tree["subject_areas"]
    if not isinstance(existing, CommentedMap):
        existing = tree["subject_areas"] = CommentedMap()
    for area in areas:
        existing[area.id] = _node("subject_area", area.data)
    return _dump(tree)


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _term_text(term: ImportedTerm) -> str:
    """One term as the lines it takes under `terms:`."""
    return _dump(CommentedMap([("terms", CommentedMap([(term.id, _term_node(term))]))])).split(
        "\n", 1
    )[1]


# --- rendering --------------------------------------------------------------------------


def render_domain(domain: ImportedDomain, skip: Mapping[str, object] | None = None) -> str:
    """The YAML text of one domain file (terms whose id is in `skip` left out)."""
    doc = CommentedMap()
    doc["domain"] = domain.id
    if domain.label:
        doc["label"] = _node("label", domain.label)
    if domain.description:
        doc["description"] = _node("description", domain.description)
    terms = CommentedMap()
    for term in domain.terms:
        if skip and term.id in skip:
            continue
        terms[term.id] = _term_node(term)
        if len(terms) > 1:
            terms.yaml_set_comment_before_after_key(term.id, before="\n", indent=2)
    doc["terms"] = terms
    if domain.subject_areas:
        doc["subject_areas"] = _areas_node(domain.subject_areas)
    if domain.source:
        doc.yaml_set_start_comment(f"Imported from <{domain.source}> by `semantic import skos`.")
    return _dump(doc)


def _with_terms(domain: ImportedDomain, terms: list[ImportedTerm]) -> ImportedDomain:
    return ImportedDomain(
        domain.id,
        domain.source,
        domain.label,
        domain.description,
        tuple(terms),
        domain.subject_areas,
    )


def _areas_node(areas: tuple[ImportedSubjectArea, ...]) -> CommentedMap:
    node = CommentedMap()
    for area in areas:
        node[area.id] = _node("subject_area", area.data)
        if len(node) > 1:
            node.yaml_set_comment_before_after_key(area.id, before="\n", indent=2)
    return node


def _term_node(term: ImportedTerm) -> CommentedMap:
    node = _node("term", term.data)
    if term.concept_only:
        node.yaml_set_comment_before_after_key("concept", before=_CONCEPT_COMMENT, indent=4)
    return node


def _node(key: str, value: Any) -> Any:
    """Plain data as ruamel nodes, flow or block by key (see `_FLOW`)."""
    if isinstance(value, Mapping):
        # the keys of `quality` are rule ids, whatever they are called: block mappings
        node = CommentedMap(
            (k, _node(k if key != "quality" else "rule", v)) for k, v in value.items()
        )
        if key in _FLOW:
            node.fa.set_flow_style()
        return node
    if isinstance(value, list | tuple):
        seq = CommentedSeq(_node(key, v) for v in value)
        seq.fa.set_flow_style()
        return seq
    return value


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.width = 4096  # long definitions stay on one line, as in the hand-written files
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True  # a merged file keeps its quotes
    return yaml


def _dump(tree: Any) -> str:
    stream = io.StringIO()
    _yaml().dump(tree, stream)
    return stream.getvalue()


# --- reading ----------------------------------------------------------------------------


def _parse(path: Path, fmt: str | None) -> Graph:
    fmt = fmt or guess_format(str(path)) or "turtle"
    try:
        return Graph().parse(path, format=fmt)
    except Exception as exc:  # rdflib's parsers raise many error types
        message = " ".join(str(exc).split())[:300]
        raise error(
            "SEM101",
            f"cannot read the file as RDF ({fmt}): {message}",
            Span(str(path)),
            "its format is guessed from its extension: .ttl, .rdf, .jsonld, .nt, .n3, .trig",
        ) from exc


@dataclass(frozen=True)
class _Where:
    name: str
    path: Path
    domain: str


@dataclass(frozen=True)
class _Scan:
    domains: dict[str, _Where]
    terms: dict[str, _Where]


def _scan(glossary_dir: Path) -> _Scan:
    """Which file of `glossary_dir` holds each domain and each term (files in name order,
    as the project reads them)."""
    domains: dict[str, _Where] = {}
    terms: dict[str, _Where] = {}
    if not glossary_dir.is_dir():
        return _Scan(domains, terms)
    files = sorted(glossary_dir.glob("*.yml")) + sorted(glossary_dir.glob("*.yaml"))
    problems: list[Diagnostic] = []
    for path in files:
        doc, diagnostics = read_file(path, GlossaryFile, str(path))
        problems += diagnostics
        if doc is None:
            continue
        where = _Where(str(path), path, doc.data.domain)
        domains.setdefault(doc.data.domain, where)
        for tid in doc.data.terms:
            terms.setdefault(tid, where)
    if problems:
        raise SemanticError(problems)
    return _Scan(domains, terms)


def _valid_id(text: str) -> bool:
    return len(text) <= 128 and _ID.match(text) is not None


def snake_id(text: str) -> str:
    """`text` as a snake_case id: camelCase split, accents and punctuation removed (empty
    when nothing is left).

    >>> snake_id("OrderDate"), snake_id("net-revenue"), snake_id("Région 2"), snake_id("1.2")
    ('order_date', 'net_revenue', 'region_2', '1_2')
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", plain)
    plain = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", plain)
    return re.sub(r"[^A-Za-z0-9]+", "_", plain).strip("_").lower()[:128]


def _last_segment(iri: str) -> str:
    stripped = iri.rstrip("/#")
    return unquote(re.split(r"[/#:]", stripped)[-1]) if stripped else ""


def _order(node: Node) -> tuple[str, str, str]:
    """A total order on nodes (rdflib's own comparison fails across literal types)."""
    return (type(node).__name__, str(node), getattr(node, "language", None) or "")


def _show(node: Node) -> str:
    """A node as in N-Triples: `<iri>`, `"text"@en`, `_:b0`."""
    return node.n3() if isinstance(node, Literal | URIRef | BNode) else str(node)


def _prefixed(iri: str) -> str:
    """`skos:broader` for a predicate in one of the export's namespaces, else `<iri>`."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(str(namespace)) and iri != str(namespace):
            return f"{prefix}:{iri[len(str(namespace)) :]}"
    return f"<{iri}>"


def _report_order(item: ReportItem) -> tuple[str, str, str, str, str]:
    return (item.subject, item.predicate or "", item.object or "", item.kind, item.reason)


def _number(value: Node | None) -> int | float | None:
    """A numeric literal as an int when whole, else a float (None when not a number)."""
    if not isinstance(value, Literal):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return int(number) if number == number.to_integral_value() else float(number)


@dataclass
class _Draft:
    """A term being built: its keys so far and what the relations add."""

    data: dict[str, Any] = field(default_factory=dict)
    meaning: tuple[str, dict[str, Any]] | None = None
    broader: set[str] = field(default_factory=set)
    related: set[str] = field(default_factory=set)
    exact_match: set[str] = field(default_factory=set)
    close_match: set[str] = field(default_factory=set)
    replaced_by: set[str] = field(default_factory=set)


class _Importer:
    """One run of the import over one graph. Every triple read is marked used; the triples
    of concepts and schemes left unused, and the other resources, are reported at the end,
    so that nothing is dropped silently."""

    def __init__(
        self, graph: Graph, language: str, existing: dict[str, str], domain: str | None
    ) -> None:
        self.graph = graph
        self.language = language
        self.existing = existing
        self.domain = domain
        self.used: set[tuple[Node, Node, Node]] = set()
        self.report: list[ReportItem] = []
        self.ids: dict[Node, str] = {}
        self.concepts: set[Node] = set()
        self.areas: set[Node] = set()

    # -- bookkeeping --------------------------------------------------------------------

    def note(
        self,
        subject: Node,
        predicate: Node | None,
        obj: Node | str | None,
        reason: str,
        kind: ReportKind = "unmapped",
    ) -> None:
        """Add a report item."""
        shown = _show(obj) if isinstance(obj, Node) else obj
        name = str(subject) if isinstance(subject, URIRef) else subject.n3()
        self.report.append(
            ReportItem(name, str(predicate) if predicate is not None else None, shown, reason, kind)
        )

    def take(self, subject: Node, predicate: Node) -> list[Node]:
        """Every value of `predicate` on `subject`, in a fixed order, marked used."""
        values = sorted(self.graph.objects(subject, predicate), key=_order)
        self.used.update((subject, predicate, v) for v in values)
        return values

    def take_one(self, subject: Node, predicate: Node) -> Node | None:
        """The value of `predicate` on `subject`; further values are reported."""
        values = self.take(subject, predicate)
        for extra in values[1:]:
            self.note(subject, predicate, extra, "more than one value: the first is kept")
        return values[0] if values else None

    def take_type(self, subject: Node, cls: Node) -> bool:
        """Whether `subject` is a `cls` (the triple is marked used)."""
        if (subject, RDF.type, cls) in self.graph:
            self.used.add((subject, RDF.type, cls))
            return True
        return False

    def text(self, subject: Node, predicate: Node, value: Node) -> tuple[str, str] | None:
        """(language, text) of a literal; the default language when it has none."""
        if not isinstance(value, Literal):
            self.note(subject, predicate, value, "not a literal")
            return None
        if value.language is None:
            return self.language, str(value)
        primary, _, rest = value.language.partition("-")
        tag = primary.lower() + ("-" + rest if rest else "")
        if not _LANGUAGE.match(tag):
            self.note(subject, predicate, value, f"'{value.language}' is not a usable language")
            return None
        return tag, str(value)

    def texts(self, subject: Node, predicate: Node) -> dict[str, list[str]]:
        """Language -> the texts of `predicate` on `subject`, sorted."""
        found: dict[str, set[str]] = {}
        for value in self.take(subject, predicate):
            pair = self.text(subject, predicate, value)
            if pair is not None:
                found.setdefault(pair[0], set()).add(pair[1])
        return {lang: sorted(items) for lang, items in self.by_language(found)}

    def single_texts(self, subject: Node, predicate: Node) -> dict[str, str]:
        """Language -> the one text of `predicate`; more texts in a language are reported."""
        single: dict[str, str] = {}
        for lang, items in self.texts(subject, predicate).items():
            single[lang] = items[0]
            for extra in items[1:]:
                self.note(
                    subject,
                    predicate,
                    Literal(extra, lang=lang).n3(),
                    f"a second text in '{lang}': the glossary keeps one per language",
                )
        return single

    def by_language(self, found: Mapping[str, Any]) -> list[tuple[str, Any]]:
        """The items of a language map, the project's language first, then by code."""
        return sorted(found.items(), key=lambda kv: (kv[0] != self.language, kv[0]))

    def identifier(self, resource: Node) -> str:
        """The dct:identifier of a resource (a dataset, an agent, a relationship...), else
        the last segment of its IRI."""
        value = self.take_one(resource, DCTERMS.identifier)
        if isinstance(value, Literal):
            return str(value)
        return _last_segment(str(resource)) if isinstance(resource, URIRef) else ""

    def ref(self, node: Node) -> str:
        """The id of a concept of the import, else of whatever resource `node` is."""
        return self.ids[node] if node in self.concepts else self.identifier(node)

    # -- the run ------------------------------------------------------------------------

    def run(self) -> ImportResult:
        """Read the whole graph: ids, domains, terms, relations, names, then the rest."""
        graph = self.graph
        concepts = sorted(
            {s for cls in (SKOS.Concept, *_KINDS) for s in graph.subjects(RDF.type, cls)},
            key=_order,
        )
        self.concepts = set(concepts)
        for concept in concepts:
            self.take_type(concept, SKOS.Concept)
        schemes = sorted(
            {
                *graph.subjects(RDF.type, SKOS.ConceptScheme),
                *(o for c in concepts for o in graph.objects(c, SKOS.inScheme)),
                *(o for c in concepts for o in graph.objects(c, SKOS.topConceptOf)),
                *graph.subjects(SKOS.hasTopConcept, None),
            }
            - self.concepts,
            key=_order,
        )
        self.assign_ids(schemes, "domain")
        self.assign_ids(concepts, "term")
        members = self.memberships(concepts, set(schemes))
        domains = self.domains(schemes, members)
        drafts = {c: self.term(c) for c in concepts}
        self.relations(concepts, drafts)
        self.names(concepts, drafts)
        conflicts: dict[str, str] = {}
        for concept in concepts:
            tid = self.ids[concept]
            if tid in self.existing:
                conflicts[tid] = self.existing[tid]
                self.note(
                    concept,
                    None,
                    None,
                    f"the project already has a term '{tid}' (domain '{self.existing[tid]}'): "
                    "not written unless replacing",
                    "conflict",
                )
        terms = {c: self.finish(c, drafts[c]) for c in concepts}
        areas = self.subject_areas(set(schemes))
        for did, _ in areas:
            domains.setdefault(did, (None, {}, {}))
        self.leftovers(set(schemes))
        built = tuple(
            ImportedDomain(
                did,
                source,
                label,
                description,
                tuple(sorted((terms[c] for c in concepts if members[c] == did), key=_by_id)),
                tuple(sorted((a for d, a in areas if d == did), key=lambda a: a.id)),
            )
            for did, (source, label, description) in sorted(domains.items())
        )
        report = tuple(sorted(set(self.report), key=_report_order))
        return ImportResult(built, report, conflicts)

    def assign_ids(self, resources: list[Node], kind: str) -> None:
        """Ids from dct:identifier, else skos:notation, else the IRI's last segment, as
        snake_case; never from a label. A taken id gets a number and is reported."""
        taken: dict[str, Node] = {}
        for resource in resources:
            raw, given = "", None
            for predicate in (DCTERMS.identifier, SKOS.notation):
                objects = self.graph.objects(resource, predicate)
                values = sorted((v for v in objects if isinstance(v, Literal)), key=_order)
                if values:
                    raw, given = str(values[0]), (predicate, values[0])
                    self.used.update((resource, predicate, v) for v in values)
                    for extra in values[1:]:
                        self.note(resource, predicate, extra, "a second id: the first is kept")
                    break
            if given is None and isinstance(resource, URIRef):
                raw = _last_segment(str(resource))
            ident = snake_id(raw)
            if not ident[:1].isalpha():
                ident = f"{kind}_{ident}".rstrip("_")
            if given is not None and ident != raw:
                note = f"not a snake_case id: written as '{ident}'"
                self.note(resource, *given, note, "changed")
            base, number = ident, 1
            while ident in taken:
                number += 1
                ident = f"{base[: 127 - len(str(number))]}_{number}"
            if ident != base:
                self.note(
                    resource,
                    None,
                    None,
                    f"id '{base}' is already the id of <{taken[base]}>: written as '{ident}'",
                    "changed",
                )
            taken[ident] = resource
            self.ids[resource] = ident

    def memberships(self, concepts: list[Node], schemes: set[Node]) -> dict[Node, str]:
        """The domain of each concept: `domain` when given, else its scheme (the first by
        id when it has several)."""
        members: dict[Node, str] = {}
        for concept in concepts:
            found = {*self.take(concept, SKOS.inScheme), *self.take(concept, SKOS.topConceptOf)}
            for scheme in self.graph.subjects(SKOS.hasTopConcept, concept):
                self.used.add((scheme, SKOS.hasTopConcept, concept))
                found.add(scheme)
            mine = sorted((s for s in found if s in schemes), key=lambda s: self.ids[s])
            if self.domain is not None:
                members[concept] = self.domain
            elif not mine:
                members[concept] = DEFAULT_DOMAIN
                self.note(
                    concept,
                    None,
                    None,
                    f"in no concept scheme: written to domain '{DEFAULT_DOMAIN}'",
                    "changed",
                )
            else:
                members[concept] = self.ids[mine[0]]
                for other in mine[1:]:
                    self.note(
                        concept,
                        SKOS.inScheme,
                        other,
                        f"in several schemes: written to domain '{members[concept]}' only",
                        "changed",
                    )
        return members

    def domains(
        self, schemes: list[Node], members: Mapping[Node, str]
    ) -> dict[str, tuple[str | None, dict[str, str], dict[str, str]]]:
        """Domain id -> (source IRI, label, description), one per scheme (or `domain`)."""
        found: dict[str, tuple[str | None, dict[str, str], dict[str, str]]] = {}
        for scheme in schemes:
            self.take_type(scheme, SKOS.ConceptScheme)
            label = self.scheme_texts(scheme, DCTERMS.title, SKOS.prefLabel)
            description = self.scheme_texts(scheme, DCTERMS.description, SKOS.definition)
            source = str(scheme) if isinstance(scheme, URIRef) else None
            if self.domain is not None and len(schemes) > 1:
                self.note(
                    scheme,
                    None,
                    None,
                    f"merged into domain '{self.domain}': its title and description are not kept",
                    "changed",
                )
                found.setdefault(self.domain, (None, {}, {}))
            else:
                found[self.domain or self.ids[scheme]] = (source, label, description)
        for did in members.values():
            found.setdefault(did, (None, {}, {}))
        return found

    def scheme_texts(self, scheme: Node, main: Node, other: Node) -> dict[str, str]:
        """Texts of `main` per language, completed by those of `other`."""
        texts = self.single_texts(scheme, main)
        for lang, text in self.single_texts(scheme, other).items():
            if texts.setdefault(lang, text) != text:
                self.note(
                    scheme,
                    other,
                    Literal(text, lang=lang).n3(),
                    f"{_prefixed(str(main))} already gives the '{lang}' text",
                )
        return dict(self.by_language(texts))

    # -- a term -------------------------------------------------------------------------

    def term(self, concept: Node) -> _Draft:
        """The names, notes and governance of a concept, and its meaning if it has one."""
        draft = _Draft()
        data = draft.data
        label: dict[str, str] = {}
        synonyms: dict[str, set[str]] = {}
        for lang, items in self.texts(concept, SKOS.prefLabel).items():
            label[lang] = items[0]
            for extra in items[1:]:
                synonyms.setdefault(lang, set()).add(extra)
                self.note(
                    concept,
                    SKOS.prefLabel,
                    Literal(extra, lang=lang).n3(),
                    f"a second prefLabel in '{lang}': written as a synonym",
                    "changed",
                )
        for lang, items in self.texts(concept, SKOS.altLabel).items():
            for text in items:
                if text == label.get(lang):
                    self.note(
                        concept,
                        SKOS.altLabel,
                        Literal(text, lang=lang).n3(),
                        "the same text as the prefLabel: left out",
                    )
                else:
                    synonyms.setdefault(lang, set()).add(text)
        data["label"] = label
        data["synonyms"] = {lang: sorted(s) for lang, s in self.by_language(synonyms)}
        data["definition"] = self.single_texts(concept, SKOS.definition)
        self.governance(concept, data)
        data["tags"] = sorted(
            {str(v) for v in self.take(concept, DCAT.keyword) if self.is_text(concept, v)}
        )
        data["hidden_labels"] = self.texts(concept, SKOS.hiddenLabel)
        data["scope_note"] = self.single_texts(concept, SKOS.scopeNote)
        data["examples"] = self.texts(concept, SKOS.example)
        draft.meaning = self.meaning(concept)
        return draft

    def is_text(self, subject: Node, value: Node) -> bool:
        if isinstance(value, Literal):
            return True
        self.note(subject, DCAT.keyword, value, "not a literal")
        return False

    def governance(self, concept: Node, data: dict[str, Any]) -> None:
        """Owners, status and confidentiality; a key is written only when the source says
        it (the defaults, draft and internal, are left implicit)."""
        data["owners"] = self.owners(concept)
        self.status_and_confidentiality(concept, data)

    def owners(self, concept: Node) -> list[str]:
        """The owners of a term or subject area, from its PROV attributions with the role
        sem:Owner (other attributions are reported)."""
        owners: set[str] = set()
        for attribution in self.take(concept, PROV.qualifiedAttribution):
            agent = self.graph.value(attribution, PROV.agent)
            role = self.graph.value(attribution, DCAT.hadRole)
            if agent is None or role != SEM.Owner:
                what = f"role <{role}>" if role is not None else "no role"
                self.note(
                    concept,
                    PROV.qualifiedAttribution,
                    attribution,
                    f"an attribution with {what}: the glossary declares owners only",
                )
                continue
            for predicate in (RDF.type, PROV.agent, DCAT.hadRole):
                self.take(attribution, predicate)
            self.take_type(agent, PROV.Agent)
            ident = self.take_one(agent, DCTERMS.identifier)
            name = self.take_one(agent, RDFS.label)
            owners.add(
                str(ident)
                if isinstance(ident, Literal)
                else str(name)
                if isinstance(name, Literal)
                else _last_segment(str(agent))
            )
        return sorted(owners)

    def status_and_confidentiality(self, concept: Node, data: dict[str, Any]) -> None:
        """`status` and `confidentiality`, when the source states them."""
        status = None
        value = self.take_one(concept, SEM.status)
        if value in _STATUSES:
            status = _STATUSES[value]
        elif value is not None:
            self.note(
                concept, SEM.status, value, "not one of sem:Draft, sem:Approved, sem:Deprecated"
            )
        for flag in self.take(concept, OWL.deprecated):
            if isinstance(flag, Literal) and str(flag).lower() in ("true", "1"):
                if status not in (None, "deprecated"):
                    self.note(
                        concept,
                        OWL.deprecated,
                        flag,
                        f"sem:status says {status}: the term is written deprecated",
                        "changed",
                    )
                status = "deprecated"
            elif not (isinstance(flag, Literal) and str(flag).lower() in ("false", "0")):
                self.note(concept, OWL.deprecated, flag, "not a boolean")
        if status is not None:
            data["status"] = status
        level = None
        value = self.take_one(concept, SEM.sensitivity)
        if value in _SENSITIVITIES:
            level = _SENSITIVITIES[value]
        elif value is not None:
            self.note(concept, SEM.sensitivity, value, "not a level of sem:SensitivityScheme")
        for right in self.take(concept, DCTERMS.accessRights):
            if level is not None and ACCESS_RIGHTS[level] != right:
                self.note(
                    concept,
                    DCTERMS.accessRights,
                    right,
                    f"disagrees with the confidentiality '{level}', which is kept",
                )
            elif level is None and right in _ACCESS_LEVELS:
                level = _ACCESS_LEVELS[right]
            elif level is None:
                self.note(
                    concept, DCTERMS.accessRights, right, "not PUBLIC or NON_PUBLIC of the EU table"
                )
        if level is not None:
            data["confidentiality"] = level

    def meaning(self, concept: Node) -> tuple[str, dict[str, Any]] | None:
        """The meaning our export writes (kind, SQL, entity, path, grains, filter, window,
        shift, fill value, quality rules), or None when the concept has none."""
        kinds = [kind for cls, kind in _KINDS.items() if self.take_type(concept, cls)]
        if not kinds:
            return None
        kind = kinds[0]
        for extra in kinds[1:]:
            self.note(
                concept, RDF.type, KIND_CLASSES[extra], f"a term has one kind: {kind} is kept"
            )
        expression = self.take_one(concept, SEM.expression)
        if not isinstance(expression, Literal):
            if expression is None:
                self.note(concept, RDF.type, KIND_CLASSES[kind], "no sem:expression")
            return None
        text = str(expression)
        spec: dict[str, Any] = {}
        used = SEM.aggregatesEntity if kind == "metric" else SEM.describesEntity
        unused = SEM.describesEntity if kind == "metric" else SEM.aggregatesEntity
        for wrong in self.take(concept, unused):
            self.note(concept, unused, wrong, f"not a property of a {kind.replace('_', ' ')}")
        entity = self.take_one(concept, used)
        if entity is not None:
            spec["entity"] = self.identifier(entity)
        elif kind != "metric":
            self.note(concept, RDF.type, KIND_CLASSES[kind], f"no <{used}>")
            return None
        spec["condition" if kind == "segment" else "expr"] = text
        if kind != "metric":
            spec["path"] = self.path(concept)
        if kind == "time_dimension":
            spec["grains"] = self.grains(concept)
        if kind == "metric":
            self.metric(concept, spec)
        for predicate in _DERIVED:
            self.take(concept, predicate)
        rules = {}
        for node in self.take(concept, SEM.qualityRule):
            rid, rule = self.quality_rule(node)
            rules[rid] = rule
        spec = {k: v for k, v in spec.items() if v is not None and not (k == "path" and not v)}
        return kind, {"quality": dict(sorted(rules.items())), kind: spec}

    def path(self, concept: Node) -> list[str]:
        """The hops of sem:path, each named by its relationship's dct:identifier."""
        head = self.take_one(concept, SEM.path)
        hops: list[str] = []
        cell = head
        while cell is not None and cell != RDF.nil:
            item = self.take_one(cell, RDF.first)
            if item is not None:
                hops.append(self.identifier(item))
            cell = self.take_one(cell, RDF.rest)
        return hops

    def grains(self, concept: Node) -> list[str]:
        found = set()
        for value in self.take(concept, SEM.grain):
            if str(value) in GRAINS:
                found.add(str(value))
            else:
                self.note(concept, SEM.grain, value, "not a grain")
        return [g for g in GRAINS if g in found]

    def metric(self, concept: Node, spec: dict[str, Any]) -> None:
        """The keys only metrics have: filter, window, shift, fill_null."""
        condition = self.take_one(concept, SEM.filter)
        if condition is not None:
            spec["filter"] = str(condition)
        grain = self.take_one(concept, SEM.periodGrain)
        over = self.take_one(concept, SEM.windowOver)
        if over is not None:
            window: dict[str, Any] = {"time": self.ref(over)}
            last = _number(self.take_one(concept, SEM.windowLast))
            if last is not None:
                window["last"] = last
                window["grain"] = str(grain)
            to_date = self.take_one(concept, SEM.windowToDate)
            if to_date is not None:
                window["to_date"] = str(to_date)
            spec["window"] = window
        along = self.take_one(concept, SEM.shiftAlong)
        if along is not None:
            periods = _number(self.take_one(concept, SEM.shiftPeriods))
            spec["shift"] = {"time": self.ref(along), "periods": periods, "grain": str(grain)}
        fill = _number(self.take_one(concept, SEM.fillValue))
        if fill is not None and not (fill == 0 and _counts(spec)):
            spec["fill_null"] = fill

    def quality_rule(self, node: Node) -> tuple[str, dict[str, Any]]:
        """A term's quality rule from its dqv:Metric."""
        self.take_type(node, DQV.Metric)
        rid = self.identifier(node)
        rule: dict[str, Any] = {}
        dimension = self.take_one(node, DQV.inDimension)
        if dimension is not None:
            self.take_type(dimension, DQV.Dimension)
            name = self.take_one(dimension, SKOS.prefLabel)
            rule["dimension"] = str(name) if name is not None else _last_segment(str(dimension))
        check = self.take_one(node, SEM.check)
        rule["check"] = str(check) if check is not None else None
        descriptions = self.take(node, SKOS.definition)
        if descriptions:
            rule["description"] = str(descriptions[0])
        threshold = _number(self.take_one(node, SEM.threshold))
        if threshold is not None and threshold != 1:
            rule["threshold"] = threshold
        self.take(node, DQV.expectedDataType)
        self.take(node, DCTERMS.subject)  # the term's entity, known from its meaning
        return rid, rule

    # -- across terms -------------------------------------------------------------------

    def relations(self, concepts: list[Node], drafts: Mapping[Node, _Draft]) -> None:
        """Hierarchy, associations, matches and replacements, read from both sides."""
        for concept in concepts:
            draft = drafts[concept]
            for predicate, inverse in ((SKOS.broader, False), (SKOS.narrower, True)):
                for other in self.take(concept, predicate):
                    if other not in self.concepts or other == concept:
                        self.note(concept, predicate, other, "not another concept of the import")
                    elif inverse:
                        drafts[other].broader.add(self.ids[concept])
                    else:
                        draft.broader.add(self.ids[other])
            for other in self.take(concept, SKOS.related):
                if other not in self.concepts or other == concept:
                    self.note(concept, SKOS.related, other, "not another concept of the import")
                else:
                    draft.related.add(self.ids[other])
            for predicate, matches in (
                (SKOS.exactMatch, draft.exact_match),
                (SKOS.closeMatch, draft.close_match),
            ):
                for other in self.take(concept, predicate):
                    if other in self.concepts:
                        draft.related.add(self.ids[other])
                        self.note(
                            concept,
                            predicate,
                            other,
                            "a match inside the imported vocabulary: written as related",
                            "changed",
                        )
                    elif isinstance(other, URIRef):
                        matches.add(str(other))
                    else:
                        self.note(concept, predicate, other, "not an IRI")
            for predicate, inverse in ((DCTERMS.isReplacedBy, False), (DCTERMS.replaces, True)):
                for other in self.take(concept, predicate):
                    if other not in self.concepts or other == concept:
                        self.note(concept, predicate, other, "not another concept of the import")
                    elif inverse:
                        drafts[other].replaced_by.add(self.ids[concept])
                    else:
                        draft.replaced_by.add(self.ids[other])
        for concept in concepts:
            draft = drafts[concept]
            replacements = sorted(draft.replaced_by)
            for extra in replacements[1:]:
                self.note(
                    concept,
                    DCTERMS.isReplacedBy,
                    None,
                    f"replaced by several terms: '{replacements[0]}' is kept, not '{extra}'",
                )
            draft.data.update(
                broader=sorted(draft.broader),
                related=sorted(draft.related),
                exact_match=sorted(draft.exact_match),
                close_match=sorted(draft.close_match),
                replaced_by=replacements[0] if replacements else None,
            )

    def names(self, concepts: list[Node], drafts: Mapping[Node, _Draft]) -> None:
        """The glossary's naming rule (SEM206): in one language a label, synonym or hidden
        label names one term, and no name equals another term's id. A name that breaks it
        is left out and reported, the term first by id keeping it."""
        ids = {normalize_name(t): t for t in [*self.existing, *(self.ids[c] for c in concepts)]}
        seen: dict[tuple[str, str], str] = {}
        for concept in sorted(concepts, key=lambda c: self.ids[c]):
            tid = self.ids[concept]
            data = drafts[concept].data
            for key, predicate in (
                ("label", SKOS.prefLabel),
                ("synonyms", SKOS.altLabel),
                ("hidden_labels", SKOS.hiddenLabel),
            ):
                for lang, value in list(data[key].items()):
                    for text in list(value) if isinstance(value, list) else [value]:
                        name = normalize_name(text)
                        clash, other = ids.get(name), seen.get((lang, name))
                        if clash is not None and clash != tid:
                            who = f"the id of term '{clash}'"
                        elif other is not None and other != tid:
                            who = f"a name of term '{other}' in '{lang}'"
                        else:
                            seen[(lang, name)] = tid
                            continue
                        shown = Literal(text, lang=lang).n3()
                        if key != "label":
                            value.remove(text)
                            self.note(concept, predicate, shown, f"also {who}: left out")
                        elif len(data["label"]) > 1:
                            del data["label"][lang]
                            self.note(concept, predicate, shown, f"also {who}: left out")
                        else:
                            data["label"] = {lang: tid}
                            self.note(
                                concept,
                                predicate,
                                shown,
                                f"also {who}: the id is the label instead",
                                "changed",
                            )
                data[key] = {k: v for k, v in data[key].items() if v}

    def finish(self, concept: Node, draft: _Draft) -> ImportedTerm:
        """The term's keys in file order, empty ones left out, the meaning last (or the
        business concept)."""
        tid = self.ids[concept]
        data = draft.data
        if not data["label"]:
            data["label"] = {self.language: tid}
            self.note(concept, SKOS.prefLabel, None, "no prefLabel: the id is the label", "changed")
        ordered = {k: data[k] for k in _TERM_KEYS if data.get(k) not in (None, [], {})}
        if draft.meaning is None:
            self.note(
                concept,
                None,
                None,
                "no physical meaning in the source: written as a business concept "
                "(concept: {}), which queries cannot use until it is given one",
                "concept",
            )
            ordered["concept"] = {}
            return ImportedTerm(tid, str(concept), ordered, concept_only=True)
        kind, meaning = draft.meaning
        if meaning["quality"]:
            ordered["quality"] = meaning["quality"]
        ordered[kind] = meaning[kind]
        return ImportedTerm(tid, str(concept), ordered)

    # -- subject areas ------------------------------------------------------------------

    def subject_areas(self, schemes: set[Node]) -> list[tuple[str, ImportedSubjectArea]]:
        """(domain, subject area) of each sem:SubjectArea, as the export writes them: the
        domain it is dct:isPartOf, labels, definition, owners, and its lists of dimensions
        (with grains), metrics and segments, and its filter. skos:member is what the lists
        name, so it is not read on its own."""
        found: list[tuple[str, ImportedSubjectArea]] = []
        resources = sorted(self.graph.subjects(RDF.type, SEM.SubjectArea), key=_order)
        self.areas = set(resources)
        self.assign_ids(resources, "subject_area")
        for resource in resources:
            self.take_type(resource, SEM.SubjectArea)
            self.take_type(resource, SKOS.Collection)
            parts = [p for p in self.take(resource, DCTERMS.isPartOf) if p in schemes]
            if self.domain is not None:
                domain = self.domain
            elif parts:
                domain = self.ids[parts[0]]
            else:
                domain = DEFAULT_DOMAIN
                self.note(
                    resource,
                    None,
                    None,
                    f"part of no concept scheme: written to domain '{DEFAULT_DOMAIN}'",
                    "changed",
                )
            data: dict[str, Any] = {
                "label": self.single_texts(resource, SKOS.prefLabel)
                or {self.language: self.ids[resource]},
                "definition": self.single_texts(resource, SKOS.definition),
                "owners": self.owners(resource),
            }
            dimensions = []
            for item in self.items(resource, SEM.areaDimensions):
                term = self.take_one(item, SEM.dimensionTerm)
                grain = self.take_one(item, SEM.areaGrain)
                if term is None:
                    self.note(resource, SEM.areaDimensions, item, "an item without a term")
                    continue
                dimensions.append(self.ref(term) + (f".{grain}" if grain is not None else ""))
            data["dimensions"] = dimensions
            data["metrics"] = [self.ref(m) for m in self.items(resource, SEM.areaMetrics)]
            condition = self.take_one(resource, SEM.areaFilter)
            data["filter"] = str(condition) if condition is not None else None
            data["segments"] = [self.ref(m) for m in self.items(resource, SEM.areaSegments)]
            self.take(resource, SKOS.member)
            kept = {k: v for k, v in data.items() if v not in (None, [], {})}
            found.append((domain, ImportedSubjectArea(self.ids[resource], str(resource), kept)))
        return found

    def items(self, subject: Node, predicate: Node) -> list[Node]:
        """The items of the rdf:List that is the value of `predicate`, in order."""
        items: list[Node] = []
        cell = self.take_one(subject, predicate)
        while cell is not None and cell != RDF.nil:
            item = self.take_one(cell, RDF.first)
            if item is not None:
                items.append(item)
            cell = self.take_one(cell, RDF.rest)
        return items

    def leftovers(self, schemes: set[Node]) -> None:
        """Report every triple of a concept or scheme not used, and every other resource
        with a triple not used (once per resource; a blank node that hangs off another
        resource counts as part of it)."""
        glossary = self.concepts | schemes | self.areas
        hanging = {o for o in self.graph.objects() if isinstance(o, BNode)}
        others: set[Node] = set()
        for triple in self.graph:
            if triple in self.used:
                continue
            subject, predicate, obj = triple
            if subject in glossary:
                if predicate == RDF.type:
                    reason = "the glossary has no other class for a term or domain"
                else:
                    reason = _REASONS.get(predicate, "no glossary key for this property")
                self.note(subject, predicate, obj, reason)
            elif not (isinstance(subject, BNode) and subject in hanging):
                others.add(subject)
        for subject in others:
            types = sorted(self.graph.objects(subject, RDF.type), key=_order)
            what = ", ".join(self.graph.namespace_manager.normalizeUri(str(t)) for t in types)
            self.note(
                subject,
                None,
                None,
                f"not a concept or concept scheme{f' ({what})' if what else ''}: not imported",
            )


def _by_id(term: ImportedTerm) -> str:
    return term.id


def _counts(spec: Mapping[str, Any]) -> bool:
    """Whether a metric is a count of rows, whose fill value 0 the model implies."""
    if spec.get("entity") is None:
        return False
    try:
        parsed = sqlglot.parse_one(spec["expr"], read=FILE_DIALECT)
    except ParseError:
        return False
    return isinstance(parsed, exp.Count)
