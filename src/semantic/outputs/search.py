"""Forgiving search over the vocabulary (terms, entities and subject areas): ids, labels,
synonyms and definitions, every language.

The search runs over a plain, JSON-ready index (`search_index`), so that the catalog site's
JavaScript (`semantic/outputs/catalog/static/search.js`) can run the very same algorithm on the very
same data in a browser; a test checks that both give the same results.

The ranking itself (keys, field scores and weights, typos) lives in `semantic.model.rank`,
which the compiler's "did you mean" shares; both implementations follow it step by step.
Results are ordered by score, highest first, then by id.

>>> from semantic.project import Project
>>> index = search_index(Project.load(".").model)
>>> [hit.id for hit in search(index, "chiffre d'affaires net")][:1]
['net_revenue']
>>> [hit.id for hit in search(index, "revnue net")][:1]
['net_revenue']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from semantic.errors import Span, error, suggest
from semantic.model import Model
from semantic.model.rank import (
    FIELD_WEIGHT,
    best_field,
    edit_distance,
    field_score,
    search_key,
    term_fields,
)
from semantic.outputs.access import model_for

# the ranking's parts, as this module always offered them
__all__ = [
    "FIELD_WEIGHT",
    "SearchHit",
    "edit_distance",
    "field_score",
    "find_terms",
    "list_terms",
    "search",
    "search_index",
    "search_key",
]

Field = Literal["id", "label", "synonym", "hidden_label", "definition"]

#: Results `search` returns unless told otherwise.
DEFAULT_LIMIT = 20


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: the entry found, the field that matched best, and the score."""

    id: str
    kind: str
    label: str
    field: str
    language: str | None
    text: str
    score: int
    url: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for `--format json`."""
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "matched": self.field,
            "language": self.language,
            "text": self.text,
            "score": self.score,
            "url": self.url,
        }


def search_index(model: Model) -> dict[str, Any]:
    """Every term, entity and subject area of `model` with the fields to search, as
    JSON-ready data.

    An entry is `{id, kind, domain, url, labels: {lang: label}, fields: [[field, language,
    key, text], ...]}`; `url` is the entry's page in the catalog site, relative to its root.
    """
    entries: list[dict[str, Any]] = []
    for term in sorted(model.terms.values(), key=lambda t: t.id):
        fields = term_fields(term)
        entries.append(
            {
                "id": term.id,
                "kind": term.kind,
                "domain": term.domain,
                "url": term_url(term.id),
                "labels": dict(term.labels),
                "fields": fields,
            }
        )
    for entity in sorted(model.entities.values(), key=lambda e: e.id):
        fields = [["id", None, search_key(entity.id), entity.id]]
        if entity.table != entity.id:
            fields.append(["synonym", None, search_key(entity.table), entity.table])
        if entity.description:
            fields.append(["definition", None, search_key(entity.description), entity.description])
        entries.append(
            {
                "id": entity.id,
                "kind": "entity",
                "domain": None,
                "url": entity_url(entity.id),
                "labels": {},
                "fields": fields,
            }
        )
    for area in sorted(model.subject_areas.values(), key=lambda a: a.id):
        fields = [["id", None, search_key(area.id), area.id]]
        fields += [["label", lang, search_key(text), text] for lang, text in area.labels.items()]
        fields += [
            ["definition", lang, search_key(text), text] for lang, text in area.definition.items()
        ]
        entries.append(
            {
                "id": area.id,
                "kind": "subject_area",
                "domain": area.domain,
                "url": subject_area_url(area.id),
                "labels": dict(area.labels),
                "fields": fields,
            }
        )
    return {"languages": list(model.languages), "entries": entries}


def term_url(term_id: str) -> str:
    """The page of a term in the catalog site, relative to the site's root."""
    return f"terms/{term_id}.html"


def entity_url(entity_id: str) -> str:
    """The page of an entity in the catalog site, relative to the site's root."""
    return f"entities/{entity_id}.html"


def subject_area_url(area_id: str) -> str:
    """The page of a subject area in the catalog site, relative to the site's root."""
    return f"subject-areas/{area_id}.html"


def search(
    index: Mapping[str, Any],
    text: str,
    *,
    language: str | None = None,
    limit: int = DEFAULT_LIMIT,
    prefer: str | None = None,
) -> list[SearchHit]:
    """The entries of `index` that match `text`, best first (see the module's docstring).

    With `language`, labels, synonyms and definitions in other languages are not searched
    (ids and language-neutral fields always are), and results are labelled in it. With
    `prefer`, every language is searched, a match in `prefer` ranks first among equals, and
    results are labelled in it (the catalog site's pages in that language).
    """
    query = search_key(text)
    if not query:
        return []
    languages: Sequence[str] = index["languages"]
    shown = language or prefer or (languages[0] if languages else None)
    hits: list[SearchHit] = []
    for entry in index["entries"]:
        best = best_field(query, entry["fields"], language, prefer)
        if best is None:
            continue
        labels: Mapping[str, str] = entry["labels"]
        label = (labels.get(shown) if shown else None) or next(iter(labels.values()), entry["id"])
        score, field = best
        hits.append(
            SearchHit(
                entry["id"], entry["kind"], label, field[0], field[1], field[3], score, entry["url"]
            )
        )
    hits.sort(key=lambda h: (-h.score, h.id))
    return hits[:limit]


def find_terms(
    model: Model,
    text: str,
    language: str | None = None,
    limit: int = DEFAULT_LIMIT,
    role: str | None = None,
) -> list[SearchHit]:
    """`search` over the whole vocabulary of `model` (with `role`, over what that role may
    see: `outputs.access.model_for`), refusing an empty query (SEM426) and a language the
    project does not have (SEM427)."""
    if not search_key(text):
        raise error(
            "SEM426",
            f"nothing to search for in {text!r}",
            Span("<search>"),
            "give a word, a label or an id, e.g. semantic search revenue",
        )
    if language is not None and language not in model.languages:
        raise error(
            "SEM427",
            f"unknown language '{language}'",
            Span("<search>"),
            suggest(language, model.languages)
            or f"the project's languages are {', '.join(model.languages)}",
        )
    return search(search_index(model_for(model, role)), text, language=language, limit=limit)


def list_terms(
    model: Model, language: str | None = None, kind: str | None = None, role: str | None = None
) -> list[dict[str, str]]:
    """Every term of `model` (of one `kind`, when given; with `role`, those it may see) by
    domain then id, with its label, synonyms and definition in `language` (the project's
    first language when None), as the rows of `semantic terms`."""
    model = model_for(model, role)
    lang = language or model.languages[0]
    return [
        {
            "id": t.id,
            "kind": t.kind,
            "label": t.label(lang),
            "synonyms": ", ".join(t.synonyms.get(lang, ())),
            "domain": t.domain,
            "status": t.status,
            "definition": t.definition.get(lang, ""),
        }
        for t in sorted(model.terms.values(), key=lambda t: (t.domain, t.id))
        if kind is None or t.kind == kind
    ]
