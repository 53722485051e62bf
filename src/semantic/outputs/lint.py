"""Vocabulary lint in the spirit of qSKOS: what a glossary reader would miss or trip over.

Warnings only (`semantic check --lint`): a glossary can be valid and still incomplete.
"""

from __future__ import annotations

from semantic.errors import Diagnostic
from semantic.model import Model, Term
from semantic.model.names import normalize_name


def lint_vocabulary(model: Model) -> list[Diagnostic]:
    """Missing labels and definitions per language, orphan terms, labels shared across
    languages, and related terms that are also broader."""
    found: list[Diagnostic] = []
    narrower = {t.id for t in model.terms.values() for _ in t.broader} | {
        b for t in model.terms.values() for b in t.broader
    }
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
        if term.id not in narrower and not term.related:
            found.append(
                _warn(
                    "SEM212",
                    f"term '{term.id}' is an orphan: no broader, narrower or related term",
                    term,
                    "relate it to the terms a reader should also know",
                )
            )
        ancestors = _ancestors(model, term)
        for other in term.related:
            if other in ancestors:
                found.append(
                    _warn(
                        "SEM214",
                        f"term '{term.id}' is both related to and narrower than '{other}'",
                        term,
                        "keep one of the two relations (SKOS integrity)",
                    )
                )
    found += _shared_labels(model)
    return found


def _warn(code: str, message: str, term: Term, hint: str) -> Diagnostic:
    return Diagnostic(code, message, term.span, hint, severity="warning")


def _ancestors(model: Model, term: Term) -> set[str]:
    seen: set[str] = set()
    todo = list(term.broader)
    while todo:
        current = todo.pop()
        if current in seen or current not in model.terms:
            continue
        seen.add(current)
        todo += model.terms[current].broader
    return seen


def _shared_labels(model: Model) -> list[Diagnostic]:
    """The same label text for two terms in different languages (legal, but confusing)."""
    owners: dict[str, tuple[str, str]] = {}
    found = []
    for term in model.terms.values():
        for language, text in term.labels.items():
            key = normalize_name(text)
            other = owners.setdefault(key, (term.id, language))
            if other[0] != term.id:
                found.append(
                    _warn(
                        "SEM213",
                        f"label '{text}' ({language}) of term '{term.id}' "
                        f"is also the label of '{other[0]}' ({other[1]})",
                        term,
                        "give each term its own label in every language",
                    )
                )
    return found
