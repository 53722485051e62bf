"""One run of `semantic import skos` over a graph: ids, concept schemes as domains, terms
(`semantic.interchange.skos.concepts`), subject areas, and the report of every triple left
unused."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS, VANN
from rdflib.term import Node

from semantic.interchange.common import snake_id
from semantic.interchange.names import TakenIds
from semantic.interchange.skos.concepts import _Concepts
from semantic.interchange.skos.read import (
    _KINDS,
    _REASONS,
    DEFAULT_DOMAIN,
    _last_segment,
    _order,
    _prefixed,
    _report_order,
)
from semantic.interchange.skos.result import (
    ImportedDomain,
    ImportedSubjectArea,
    ImportedTerm,
    SkosImport,
    render_domain,
)
from semantic.outputs.rdf.vocab import SEM


def _by_id(term: ImportedTerm) -> str:
    return term.id


class _Importer(_Concepts):
    """One run of the import over one graph: every triple read is marked used; the triples
    of concepts and schemes left unused, and the other resources, are reported at the end,
    so that nothing is dropped silently."""

    def run(self) -> SkosImport:
        """Read the whole graph: ids, domains, terms, relations, names, then the rest."""
        concepts = sorted(
            {s for cls in (SKOS.Concept, *_KINDS) for s in self.typed(cls)}, key=_order
        )
        self.concepts = set(concepts)
        for concept in concepts:
            self.take_type(concept, SKOS.Concept)
        schemes = sorted(
            {
                *self.typed(SKOS.ConceptScheme),
                *(o for c in concepts for o in self.values(c, SKOS.inScheme)),
                *(o for c in concepts for o in self.values(c, SKOS.topConceptOf)),
                *(s for tops in self.tops.values() for s in tops),
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
        self.integrity(concepts, drafts)
        self.settle_relations(concepts, drafts)
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
        notices = tuple(sorted(set(self.notices), key=_report_order))
        files = {d.file: render_domain(d, skip=conflicts) for d in built}
        return SkosImport(files, notices, built, conflicts)

    def assign_ids(self, resources: list[Node], kind: str) -> None:
        """Ids from dct:identifier, else skos:notation, else the IRI's last segment, as
        snake_case; never from a label. A taken id gets a number and is reported."""
        taken: dict[str, Node] = {}
        # a term's id is never another term's name in the project (its id: a conflict)
        fresh = TakenIds(self.project if kind == "term" else None, ids_free=True)
        for resource in resources:
            raw, given = "", None
            for predicate in (DCTERMS.identifier, SKOS.notation):
                objects = self.values(resource, predicate)
                values = sorted((v for v in objects if isinstance(v, Literal)), key=_order)
                if values:
                    raw, given = str(values[0]), (predicate, values[0])
                    self.used.update((resource, predicate, v) for v in values)
                    for extra in values[1:]:
                        self.note(resource, predicate, extra, "a second id: the first is kept")
                    break
            if given is None and isinstance(resource, URIRef):
                raw = _last_segment(str(resource))
            ident = snake_id(raw, prefix=kind, empty=kind)
            if given is not None and ident != raw:
                note = f"not a snake_case id: written as '{ident}'"
                self.note(resource, *given, note, "changed")
            base = ident
            ident = fresh.take(base)
            if ident in fresh.moved:
                owner = fresh.moved[ident][1]
                note = f"id '{base}' is a name of term '{owner}' in the project: "
                note += f"written as '{ident}'"
                self.note(resource, None, None, note, "changed")
            elif ident != base:
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
            for scheme in self.tops.get(concept, ()):
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
            # where the export says its concepts are: the project's own namespace
            self.take(scheme, VANN.preferredNamespaceUri)
            self.take(scheme, VANN.preferredNamespacePrefix)
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

    def subject_areas(self, schemes: set[Node]) -> list[tuple[str, ImportedSubjectArea]]:
        """(domain, subject area) of each sem:SubjectArea, as the export writes them: the
        domain it is dct:isPartOf, labels, definition, owners, and its lists of dimensions
        (with grains), metrics and segments, and its filter. skos:member is what the lists
        name, so it is not read on its own."""
        found: list[tuple[str, ImportedSubjectArea]] = []
        resources = self.typed(SEM.SubjectArea)
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

    def leftovers(self, schemes: set[Node]) -> None:
        """Report every triple of a concept or scheme not used, and every other resource
        with a triple not used (once per resource; a blank node that hangs off another
        resource counts as part of it)."""
        glossary = self.concepts | schemes | self.areas | self.xl_labels
        used = self.used
        hanging: set[Node] = set()
        unused = []
        for subject, pairs in self.index.items():
            for predicate, objects in pairs.items():
                for obj in objects:
                    if isinstance(obj, BNode):
                        hanging.add(obj)
                    if (subject, predicate, obj) not in used:
                        unused.append((subject, predicate, obj))
        others: set[Node] = set()
        for subject, predicate, obj in unused:
            if subject in glossary:
                if subject in self.xl_labels:
                    reason = "the glossary keeps the literal form of a SKOS-XL label only"
                elif predicate == RDF.type:
                    reason = "the glossary has no other class for a term or domain"
                else:
                    reason = _REASONS.get(predicate, "no glossary key for this property")
                self.note(subject, predicate, obj, reason)
            elif not (isinstance(subject, BNode) and subject in hanging):
                others.add(subject)
        for subject in others:
            types = sorted(self.values(subject, RDF.type), key=_order)
            what = ", ".join(self.graph.namespace_manager.normalizeUri(str(t)) for t in types)
            self.note(
                subject,
                None,
                None,
                f"not a concept or concept scheme{f' ({what})' if what else ''}: not imported",
            )
