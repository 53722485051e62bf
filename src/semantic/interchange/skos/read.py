"""Reading an RDF graph for `semantic import skos`: the bookkeeping of one run (every triple
read is marked used, so that what is left can be reported), texts by language, ids of
resources, and the helpers the other modules of `semantic.interchange.skos` share."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, SKOS
from rdflib.term import Node
from rdflib.util import guess_format

from semantic.errors import Span, error
from semantic.interchange.common import Notice, NoticeKind
from semantic.interchange.names import ProjectNames
from semantic.interchange.skos.positions import SCANNED_FORMATS, Positions
from semantic.interchange.skos.store import INDEXED_FORMATS, TripleIndex, index_of
from semantic.outputs.rdf.export import KIND_CLASSES, PREFIXES, SENSITIVITIES, STATUSES
from semantic.outputs.rdf.vocab import ACCESS_RIGHT, SEM, SKOSXL

#: The domain of concepts that belong to no concept scheme (unless `domain` is given).
DEFAULT_DOMAIN = "imported"

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
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


def _format(path: Path, fmt: str | None) -> str:
    """The rdflib format of a file: `fmt`, else guessed from its name, else Turtle."""
    return fmt or guess_format(str(path)) or "turtle"


def _positions(path: Path, fmt: str | None) -> Positions | None:
    """Where the resources of the file at `path` are stated (None when its format has no
    scanner, or it is not text)."""
    fmt = _format(path, fmt)
    if fmt not in SCANNED_FORMATS:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return Positions.scan(text, fmt, path.resolve().as_uri())


def _parse(path: Path, fmt: str | None) -> Graph:
    _check_readable(path)
    fmt = _format(path, fmt)
    try:
        # parsed straight into the index the import reads, where the format's parser allows
        store = TripleIndex() if fmt in INDEXED_FORMATS else "default"
        return Graph(store=store).parse(path, format=fmt)
    except Exception as exc:  # rdflib's parsers raise many error types
        message = " ".join(str(exc).split())[:300]
        raise error(
            "SEM101",
            f"cannot read the file as RDF ({fmt}): {message}",
            Span(str(path)),
            "its format is guessed from its extension: .ttl, .rdf, .jsonld, .nt, .n3, .trig",
        ) from exc


def _check_readable(path: Path) -> None:
    """Refuse (SEM101, naming `path`) a vocabulary file that does not exist or is a folder:
    rdflib would read a missing relative path as a URL and name another folder."""
    if not path.is_file():
        raise error(
            "SEM101",
            f"cannot read the vocabulary: {'not a file' if path.exists() else 'no such file'}",
            Span(str(path)),
            f"check the path (a relative path is read from {Path.cwd()})",
        )


def _valid_id(text: str) -> bool:
    return len(text) <= 128 and _ID.match(text) is not None


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


def _report_order(item: Notice) -> tuple[str, str, str, str, str]:
    return (item.what, item.predicate or "", item.object or "", item.kind, item.reason)


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
    #: the labels as the source states them, before any repair: what the SKOS integrity
    #: rules read (prefLabel, altLabel, hiddenLabel; language -> texts)
    names: tuple[dict[str, list[str]], dict[str, list[str]], dict[str, list[str]]] = field(
        default_factory=lambda: ({}, {}, {})
    )


class _Reader:
    """One run of the import over one graph. Every triple read is marked used; the triples
    of concepts and schemes left unused, and the other resources, are reported at the end,
    so that nothing is dropped silently."""

    def __init__(
        self,
        graph: Graph,
        language: str,
        existing: dict[str, str],
        domain: str | None,
        file: str = "",
        *,
        keep_iris: bool = False,
        base: str | None = None,
        repair: bool = False,
        positions: Positions | None = None,
        names: ProjectNames | None = None,
    ) -> None:
        self.graph, self.file, self.language = graph, file, language
        #: where each resource is stated in the file, for the report
        self.positions = positions
        self.existing, self.domain = existing, domain
        #: the ids and names of the project's terms, which stay theirs
        self.project = names or ProjectNames(frozenset(existing))
        self.keep_iris, self.base, self.repair = keep_iris, base, repair
        #: the SKOS-XL labels read (their other triples are reported)
        self.xl_labels: set[Node] = set()
        self.used: set[tuple[Node, Node, Node]] = set()
        self.notices: list[Notice] = []
        self.ids: dict[Node, str] = {}
        self.concepts: set[Node] = set()
        self.areas: set[Node] = set()
        # the triples grouped by subject then predicate (`semantic.interchange.skos.store`): a
        # look-up is two dict reads, not a query of rdflib's store (a third of a large import)
        self.index = index_of(graph)
        #: the schemes that name each concept with skos:hasTopConcept
        self.tops: dict[Node, list[Node]] = {}
        for subject, pairs in self.index.items():
            for obj in pairs.get(SKOS.hasTopConcept, ()):
                self.tops.setdefault(obj, []).append(subject)

    def note(
        self,
        subject: Node,
        predicate: Node | None,
        obj: Node | str | None,
        reason: str,
        kind: NoticeKind = "unmapped",
    ) -> None:
        """Add a notice about `subject` (and a triple of it, with `predicate`)."""
        self.notices.append(self.notice(subject, predicate, obj, reason, kind))

    def notice(
        self,
        subject: Node,
        predicate: Node | None,
        obj: Node | str | None,
        reason: str,
        kind: NoticeKind = "unmapped",
    ) -> Notice:
        """A notice about `subject` (and a triple of it), at the place the file states it."""
        shown = _show(obj) if isinstance(obj, Node) else obj
        name = str(subject) if isinstance(subject, URIRef) else subject.n3()
        about = str(predicate) if predicate is not None else None
        line, column = self.where(subject)
        return Notice(self.file, line, name, reason, kind, about, shown, column=column)

    def where(self, subject: Node) -> tuple[int, int]:
        """(line, column) where `subject` is stated in the file, (0, 0) when unknown."""
        found = self.positions.of(subject) if self.positions is not None else None
        return found or (0, 0)

    def take(self, subject: Node, predicate: Node) -> list[Node]:
        """Every value of `predicate` on `subject`, in a fixed order, marked used."""
        found = self.values(subject, predicate)
        values = sorted(found, key=_order) if len(found) > 1 else list(found)
        self.used.update((subject, predicate, v) for v in values)
        return values

    def values(self, subject: Node, predicate: Node) -> Collection[Node]:
        """The values of `predicate` on `subject`, in no fixed order, not marked used."""
        return self.index.get(subject, {}).get(predicate, ())

    def typed(self, cls: Node) -> list[Node]:
        """The resources that are a `cls`, in a fixed order."""
        index = self.index
        return sorted((s for s in index if cls in index[s].get(RDF.type, ())), key=_order)

    def take_one(self, subject: Node, predicate: Node) -> Node | None:
        """The value of `predicate` on `subject`; further values are reported."""
        values = self.take(subject, predicate)
        for extra in values[1:]:
            self.note(subject, predicate, extra, "more than one value: the first is kept")
        return values[0] if values else None

    def take_type(self, subject: Node, cls: Node) -> bool:
        """Whether `subject` is a `cls` (the triple is marked used)."""
        if cls in self.index.get(subject, {}).get(RDF.type, ()):
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

    def label_texts(self, subject: Node, plain: Node, xl: Node) -> dict[str, list[str]]:
        """Language -> the texts of the labels `plain` (skos:prefLabel) and of the literal
        forms of the SKOS-XL labels `xl` (skosxl:prefLabel), together, sorted."""
        found = {lang: set(items) for lang, items in self.texts(subject, plain).items()}
        for label in self.take(subject, xl):
            self.xl_labels.add(label)
            self.take_type(label, SKOSXL.Label)
            form = self.take_one(label, SKOSXL.literalForm)
            pair = None if form is None else self.text(label, SKOSXL.literalForm, form)
            if pair is None:
                self.note(subject, xl, label, "a SKOS-XL label without a literal form")
            else:
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
