"""What `semantic import skos` gives: the imported domains, terms and subject areas as plain
data, their YAML text in the house style (`semantic.interchange.common.yaml_text`), and the
report's own form, one line or one JSON object per notice about a triple."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ruamel.yaml.comments import CommentedMap

from semantic.files.schema import GlossaryFile, SubjectAreaSpec, TermSpec
from semantic.interchange.common import (
    ImportResult,
    Notice,
    dump_yaml,
    house_style,
    yaml_text,
)
from semantic.interchange.skos.read import _prefixed

_CONCEPT_COMMENT = (
    "TODO(import): a business concept without physical meaning, which queries cannot\n"
    "use: give it a dimension, time_dimension, metric or segment instead."
)


def report_line(notice: Notice) -> str:
    """A notice of the import as every importer prints one (`Notice.diagnostic`): `file:line:col:
    warning: SEM224 <what the kind says>: <subject> predicate object`, then `help: reason`,
    with the export's prefixes for the predicate (`skos:changeNote`); the place is where the
    subject is stated (the file alone when unknown, nothing for a graph).

    >>> from rdflib.namespace import SKOS
    >>> print(report_line(Notice("v.ttl", 12, "https://x.org/a", "no key", "unmapped",
    ...                          str(SKOS.changeNote), '"v2"@en', column=1)))
    v.ttl:12:1: warning: SEM224 not carried over: <https://x.org/a> skos:changeNote "v2"@en
      help: no key
    """
    parts = [notice.what if notice.what.startswith("_:") else f"<{notice.what}>"]
    if notice.predicate:
        parts.append(_prefixed(notice.predicate))
    if notice.object:
        parts.append(notice.object)
    diagnostic = replace(notice, what=" ".join(parts), predicate=None, object=None).diagnostic()
    return (diagnostic if notice.file else replace(diagnostic, span=None)).render()


def report_dict(notice: Notice) -> dict[str, str | int | None]:
    """A notice of the import in a JSON-ready form: file, line, column (0 when unknown),
    kind, subject, predicate, object, reason."""
    return {
        "file": notice.file,
        "line": notice.line,
        "column": notice.column if notice.line else 0,
        "kind": notice.kind,
        "subject": notice.what,
        "predicate": notice.predicate,
        "object": notice.object,
        "reason": notice.reason,
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
class SkosImport(ImportResult):
    """What an import gives: the glossary files to write and the report (`kind` is
    `unmapped`, `changed`, `conflict` or `concept`; `what` is the resource, `predicate` and
    `object` the triple when the notice is about one), with the domains they come from.

    `files` maps a file name (relative to the glossary folder) to its YAML text, without
    the conflicting terms; `terms` are the ids those files define; `conflicts` maps the id
    of each imported term the project already has to that term's domain.
    """

    domains: tuple[ImportedDomain, ...] = ()
    conflicts: Mapping[str, str] = field(default_factory=dict)

    @property
    def terms(self) -> tuple[str, ...]:
        """Ids of the terms written without replacing, domain by domain."""
        return tuple(t.id for d in self.domains for t in d.terms if t.id not in self.conflicts)


def render_domain(domain: ImportedDomain, skip: Mapping[str, object] | None = None) -> str:
    """The YAML text of one domain file (terms whose id is in `skip` left out)."""
    doc, header = domain_tree(domain, skip)
    if not domain.subject_areas:
        # the keys already in the order `fmt` writes them: one dump, not the five passes of
        # `yaml_text` (a tenth of the time on a large vocabulary), written by
        # `semantic.files.emit` rather than ruamel's emitter (60 % of what remained); tests
        # check that `fmt` leaves the text as it is and that it is ruamel's
        return dump_yaml(doc, header, fast=True)
    return yaml_text(doc, GlossaryFile, header)


def domain_tree(
    domain: ImportedDomain, skip: Mapping[str, object] | None = None
) -> tuple[Any, str | None]:
    """The ruamel tree of one domain file in the house style, and its header comment."""
    head: dict[str, Any] = {"domain": domain.id}
    if domain.label:
        head["label"] = domain.label
    if domain.description:
        head["description"] = domain.description
    doc = house_style(head, GlossaryFile)
    # terms and subject areas are in the house style already (`term_node`, `areas_node`):
    # not walked again, only their maps made blocks, as `house_style` makes maps of objects
    terms = CommentedMap()
    for term in domain.terms:
        if skip and term.id in skip:
            continue
        terms[term.id] = term_node(term)
        if len(terms) > 1:
            terms.yaml_set_comment_before_after_key(term.id, before="\n", indent=2)
    terms.fa.set_block_style()
    doc["terms"] = terms
    if domain.subject_areas:
        doc["subject_areas"] = areas_node(domain.subject_areas)
    source = domain.source
    header = f"Imported from <{source}> by `semantic import skos`." if source else None
    return doc, header


def with_terms(domain: ImportedDomain, terms: list[ImportedTerm]) -> ImportedDomain:
    """`domain` with other terms."""
    return ImportedDomain(
        domain.id,
        domain.source,
        domain.label,
        domain.description,
        tuple(terms),
        domain.subject_areas,
    )


def areas_node(areas: tuple[ImportedSubjectArea, ...]) -> CommentedMap:
    """The `subject_areas:` of a glossary file, a blank line between two."""
    node = CommentedMap()
    for area in areas:
        node[area.id] = area_node(area)
        if len(node) > 1:
            node.yaml_set_comment_before_after_key(area.id, before="\n", indent=2)
    node.fa.set_block_style()
    return node


def area_node(area: ImportedSubjectArea) -> Any:
    """One subject area in the house style."""
    return house_style(dict(area.data), SubjectAreaSpec)


#: the keys of a term in the order of the schema, which `fmt` follows
_TERM_KEYS = {name: i for i, name in enumerate(TermSpec.model_fields)}


def term_node(term: ImportedTerm) -> Any:
    """One term in the house style, its keys in the schema's order; a business concept with
    a comment saying what to do."""
    data = dict(sorted(term.data.items(), key=lambda kv: _TERM_KEYS.get(kv[0], len(_TERM_KEYS))))
    node = house_style(data, TermSpec)
    if term.concept_only:
        node.yaml_set_comment_before_after_key("concept", before=_CONCEPT_COMMENT, indent=4)
    return node
