"""The checks across terms, once each term is checked on its own: derived metrics without
cycles, no window or shift over another, sound relations (broader, related, replaced_by,
matches, kept IRIs) and names that point to one term only in each language. The SKOS
integrity conditions are in `semantic.model.skos`.
"""

from __future__ import annotations

from semantic.errors import suggest
from semantic.model.draft import Draft
from semantic.model.names import normalize_name
from semantic.model.skos import cycles
from semantic.model.types import NameEntry, name_entries


def check_cycles(draft: Draft) -> None:
    """Derived metrics never depend on themselves (SEM205)."""
    terms = draft.terms
    derived = [tid for tid, term in terms.items() if term.is_derived]
    for cycle in cycles(derived, lambda tid: [r for r in terms[tid].refs if r in terms]):
        draft.report(
            "SEM205",
            f"derived metrics form a cycle: {' -> '.join(cycle)}",
            draft.term_span(terms[cycle[0]], "expr", value=True),
            "a metric cannot depend on itself",
        )


def check_nesting(draft: Draft) -> None:
    """A window or shift over a metric that is itself a window or shift is refused (SEM208)."""

    def inner(tid: str, seen: frozenset[str]) -> str | None:
        for ref in draft.terms[tid].refs:
            other = draft.terms.get(ref)
            if other is None or ref in seen:
                continue
            if other.is_over_time:
                return ref
            found = inner(ref, seen | {ref})
            if found:
                return found
        return None

    for tid, term in list(draft.terms.items()):
        if term.is_over_time and (nested := inner(tid, frozenset({tid}))):
            key = "window" if term.window is not None else "shift"
            draft.report(
                "SEM208",
                f"metric '{tid}' applies a {key} to '{nested}', which already runs over time",
                draft.term_span(term, "expr", value=True),
                "apply the window or shift to the base metric",
            )
            del draft.terms[tid]


def check_relations(draft: Draft) -> None:
    """Hierarchy, related terms, replacements, external matches and kept IRIs (SEM201,
    SEM208); the SKOS integrity conditions, cycles of broader terms included, are
    `semantic.model.skos.check_skos`."""
    terms = draft.terms
    for tid, term in list(terms.items()):
        doc = draft.term_docs[tid]
        for key in ("broader", "related"):
            for i, other in enumerate(getattr(term, key)):
                if other in draft.broken:
                    continue  # defined, but invalid: its own error says why
                if other == tid or other not in terms:
                    what = "itself" if other == tid else f"unknown term '{other}'"
                    draft.report(
                        "SEM201",
                        f"{key} of term '{tid}' names {what}",
                        doc.span(("terms", tid, key, i), value=True),
                        None if other == tid else suggest(other, terms),
                    )
        if term.replaced_by is not None:
            span = doc.span(("terms", tid, "replaced_by"), value=True)
            if term.replaced_by in draft.broken:
                pass  # defined, but invalid: its own error says why
            elif term.replaced_by not in terms or term.replaced_by == tid:
                draft.report(
                    "SEM201",
                    f"term '{tid}' is replaced by unknown term '{term.replaced_by}'",
                    span,
                    suggest(term.replaced_by, terms),
                )
            elif term.status != "deprecated":
                draft.warn(
                    "SEM208",
                    f"term '{tid}' names a replacement but is {term.status}",
                    span,
                    "set status: deprecated, or remove replaced_by",
                )
        for key in ("exact_match", "close_match"):
            for i, iri in enumerate(getattr(term, key)):
                if not _is_absolute_iri(iri):
                    draft.report(
                        "SEM208",
                        f"{key} of term '{tid}' is not an absolute IRI: '{iri}'",
                        doc.span(("terms", tid, key, i), value=True),
                        "write the full IRI, e.g. http://www.wikidata.org/entity/Q850283",
                    )
    owners: dict[str, str] = {}
    for tid, term in terms.items():
        if term.iri is None:
            continue
        span = draft.term_docs[tid].span(("terms", tid, "iri"), value=True)
        if not _is_absolute_iri(term.iri):
            draft.report(
                "SEM208",
                f"iri of term '{tid}' is not an absolute IRI: '{term.iri}'",
                span,
                "write the full IRI, e.g. http://vocabularies.unesco.org/thesaurus/concept17",
            )
        elif owners.setdefault(term.iri, tid) != tid:
            draft.report(
                "SEM208",
                f"term '{tid}' has the iri of term '{owners[term.iri]}': {term.iri}",
                span,
                "two terms are two concepts: give each its own IRI, or remove one iri",
            )


def check_names(draft: Draft) -> None:
    """In one language, a label or synonym names one term only, and no other term's id
    (SEM206, an error); names in a language the project does not list are warned about."""
    seen: dict[tuple[str | None, str], NameEntry] = {}
    ids = {normalize_name(t): t for t in draft.terms}
    for tid, term in draft.terms.items():
        keyed = draft.names[tid] = [(normalize_name(e.text), e) for e in name_entries(term)]
        for key, entry in keyed:
            clash = ids.get(key)
            other = seen.get((entry.language, key))
            if clash is not None and clash != tid:
                _name_clash(draft, entry, f"the id of term '{clash}'")
            elif other is not None and other.term != tid:
                _name_clash(draft, entry, f"the {other.how} of term '{other.term}'")
            else:
                seen[(entry.language, key)] = entry
        for lang in [*term.labels, *term.synonyms]:
            if lang not in draft.config.languages:
                draft.warn(
                    "SEM206",
                    f"term '{tid}' has names in language '{lang}', which the project does not list",
                    term.span,
                    f"add '{lang}' to `languages` in semantic.yml",
                )


def _name_clash(draft: Draft, entry: NameEntry, other: str) -> None:
    term = draft.terms[entry.term]
    draft.report(
        "SEM206",
        f"{entry.how} '{entry.text}' ({entry.language}) of term '{entry.term}' is also {other}",
        term.span,
        "in one language a label or synonym must name one term only",
    )


def _is_absolute_iri(text: str) -> bool:
    """Whether `text` is an IRI with a scheme, not a relative reference.

    >>> _is_absolute_iri("http://www.wikidata.org/entity/Q850283"), _is_absolute_iri("Q850283")
    (True, False)
    """
    scheme, colon, rest = text.partition(":")
    return bool(colon and rest and scheme[:1].isalpha() and " " not in text)
