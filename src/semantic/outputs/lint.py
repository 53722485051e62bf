"""Vocabulary lint in the spirit of qSKOS: what a glossary reader would miss or trip over.

Warnings only (`semantic check --lint`): a glossary can be valid and still incomplete.
"""

from __future__ import annotations

from sqlglot import exp

from semantic.errors import Diagnostic, Span
from semantic.model import Model, Term
from semantic.model.names import normalize_name


def lint_vocabulary(model: Model) -> list[Diagnostic]:
    """Missing labels and definitions per language, orphan terms, and names (labels,
    synonyms, hidden labels) shared by two terms across languages. (A related term that is
    also broader breaks SKOS S27: `semantic check` reports it as an error, SEM214.)"""
    found: list[Diagnostic] = []
    linked = _linked_terms(model)
    for term in model.terms.values():
        for language in model.languages:
            if language not in term.labels:
                found.append(
                    _warn(
                        "SEM210",
                        f"term '{term.id}' has no label in '{language}'",
                        term,
                        f"add label: {{{language}: ...}}",
                    )
                )
            if language not in term.definition:
                found.append(
                    _warn(
                        "SEM211",
                        f"term '{term.id}' has no definition in '{language}'",
                        term,
                        f"add definition: {{{language}: ...}}",
                    )
                )
        if term.id not in linked:
            found.append(
                _warn(
                    "SEM212",
                    f"term '{term.id}' is an orphan: no broader, narrower or related term, "
                    "and no metric it is computed from or that is computed from it",
                    term,
                    "relate it to the terms a reader should also know (broader: or related:)",
                )
            )
    found += _shared_labels(model)
    return found


def _linked_terms(model: Model) -> set[str]:
    """The terms linked to another one: by `broader` or `related` (either end), or by their
    meaning, which the catalog and the RDF export show as links too (prov:wasDerivedFrom): a
    derived metric and the metrics it combines, a metric and the terms of its filter, a
    window or shift and its time dimension."""
    linked: set[str] = set()
    for term in model.terms.values():
        others = {*term.broader, *term.related, *term.refs}
        if term.filter is not None:
            others |= {c.table or c.name for c in term.filter.find_all(exp.Column)}
        for spec in (term.window, term.shift):
            if spec is not None:
                others.add(spec.time)
        others = {o for o in others if o in model.terms and o != term.id}
        if others:
            linked |= {term.id, *others}
    return linked


def _warn(code: str, message: str, term: Term, hint: str) -> Diagnostic:
    return Diagnostic(code, message, term.span, hint, severity="warning")


#: how each kind of name is said in a message
_HOW = {"label": "label", "synonym": "synonym", "misspelling": "hidden label"}


def _shared_labels(model: Model) -> list[Diagnostic]:
    """A label, synonym or hidden label of one term that is also a name of another term in
    another language (the same language is an error, SEM206): legal, but a query that
    writes it is ambiguous (SEM304). Two labels are SEM213, any other pair SEM234."""
    owners: dict[str, list[tuple[Term, str, str, str]]] = {}
    found = []
    for term in model.terms.values():
        names = [("label", lang, text) for lang, text in term.labels.items()]
        names += [("synonym", lang, t) for lang, ts in term.synonyms.items() for t in ts]
        names += [("misspelling", lang, t) for lang, ts in term.hidden_labels.items() for t in ts]
        for how, language, text in names:
            earlier = owners.setdefault(normalize_name(text), [])
            other = next((e for e in earlier if e[0].id != term.id and e[2] != language), None)
            earlier.append((term, how, language, text))
            if other is None:
                continue
            their, their_how, their_language, their_text = other
            where = _name_span(term, how, language, text)
            there = _name_span(their, their_how, their_language, their_text)
            both_labels = how == their_how == "label"
            found.append(
                Diagnostic(
                    "SEM213" if both_labels else "SEM234",
                    f"{_HOW[how]} '{text}' ({language}) of term '{term.id}' is also the "
                    f"{_HOW[their_how]} of '{their.id}' ({their_language}, at {there})",
                    where,
                    "give each term its own label in every language"
                    if both_labels
                    else f"a query that writes '{text}' is ambiguous (SEM304) and must use an "
                    "id instead: drop or reword one of the two names",
                    severity="warning",
                )
            )
    return found


def _name_span(term: Term, how: str, language: str, text: str) -> Span:
    return term.name_spans.get((how, language, text), term.span)
