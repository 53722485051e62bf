"""Forgiving search over the vocabulary (terms, entities and subject areas): ids, labels,
synonyms and definitions, every language.

The search runs over a plain, JSON-ready index (`search_index`), so that the catalog site's
JavaScript (`semantic/outputs/catalog/static/search.js`) can run the very same algorithm on the very
same data in a browser; a test checks that both give the same results.

The algorithm, which both implementations follow step by step:

1. `search_key` normalizes text like term names are compared (`names.normalize_name`: case,
   accents, spaces versus underscores) and also turns punctuation into spaces, so that
   `chiffre d'affaires` and `Chiffre-d affaires` meet. The index stores each field's key.
2. Each field of an entry (its id, a label, a synonym, a definition) is scored against the
   query key; an entry's score is its best field's.
   - the whole field equals the query: 100; starts with it: 90 (ids, labels, synonyms only);
   - every query word is a word of the field or the start of one: 70;
   - the query occurs inside the field: 60;
   - every query word starts a field word or is within a few typos of a field word or of its
     start (1 typo for words of 4 to 6 letters, 2 from 7 letters, none below): 50 minus 5
     per typo, at least 20.
   A field's kind then adds its weight: id 15, label 10, synonym 5, hidden label (a known
   misspelling) 4, definition 0.
   A typo is a letter added, dropped, changed, or two neighbours swapped.
   With a preferred language (the catalog site's pages in that language), a match in it adds
   3: ahead of the same match in another language, not of a better kind of match.
3. Results are ordered by score, highest first, then by id.

>>> from semantic.project import Project
>>> index = search_index(Project.load(".").model)
>>> [hit.id for hit in search(index, "chiffre d'affaires net")][:1]
['net_revenue']
>>> [hit.id for hit in search(index, "revnue net")][:1]
['net_revenue']
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from semantic.errors import Span, error, suggest
from semantic.model import Model
from semantic.model.names import normalize_name

Field = Literal["id", "label", "synonym", "hidden_label", "definition"]

#: Added to a field's match score: a match in an id ranks above one in a label, and so on.
FIELD_WEIGHT: Mapping[str, int] = {
    "id": 15,
    "label": 10,
    "synonym": 5,
    "hidden_label": 4,  # a known misspelling (SKOS hiddenLabel): found, never displayed
    "definition": 0,
}
EXACT, PREFIX, WORDS, INSIDE, FUZZY = 100, 90, 70, 60, 50
#: Fewest letters of a query word before one typo is forgiven, then two.
ONE_TYPO, TWO_TYPOS = 4, 7
#: Added to a match in the preferred language (see `search`).
PREFERRED = 3
#: Results `search` returns unless told otherwise.
DEFAULT_LIMIT = 20

_PUNCTUATION = re.compile(r"[^0-9a-z\u00c0-\U0010ffff]+")


def search_key(text: str) -> str:
    """The comparison key of a text: `normalize_name` with punctuation as spaces.

    >>> search_key("Chiffre d’affaires  NET")
    'chiffre d affaires net'
    """
    return _PUNCTUATION.sub(" ", normalize_name(text)).strip()


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
        fields: list[list[Any]] = [["id", None, search_key(term.id), term.id]]
        fields += [["label", lang, search_key(text), text] for lang, text in term.labels.items()]
        fields += [
            ["synonym", lang, search_key(text), text]
            for lang, texts in term.synonyms.items()
            for text in texts
        ]
        fields += [
            ["hidden_label", lang, search_key(text), text]
            for lang, texts in term.hidden_labels.items()
            for text in texts
        ]
        fields += [
            ["definition", lang, search_key(text), text] for lang, text in term.definition.items()
        ]
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
    words = query.split(" ")
    languages: Sequence[str] = index["languages"]
    shown = language or prefer or (languages[0] if languages else None)
    hits: list[SearchHit] = []
    for entry in index["entries"]:
        best: tuple[int, list[Any]] | None = None
        for field in entry["fields"]:
            kind, lang, key = field[0], field[1], field[2]
            if language is not None and lang is not None and lang != language:
                continue
            score = field_score(query, words, key, kind)
            if score > 0:
                score += FIELD_WEIGHT[kind] + (PREFERRED if lang and lang == prefer else 0)
                if best is None or score > best[0]:
                    best = (score, field)
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
    model: Model, text: str, language: str | None = None, limit: int = DEFAULT_LIMIT
) -> list[SearchHit]:
    """`search` over the whole vocabulary of `model`, refusing an empty query (SEM426) and a
    language the project does not have (SEM427)."""
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
    return search(search_index(model), text, language=language, limit=limit)


def list_terms(
    model: Model, language: str | None = None, kind: str | None = None
) -> list[dict[str, str]]:
    """Every term of `model` (of one `kind`, when given) by domain then id, with its label,
    synonyms and definition in `language` (the project's first language when None), as the
    rows of `semantic terms`."""
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


def field_score(query: str, words: Sequence[str], key: str, kind: str) -> int:
    """How well the query matches one field's key, before the field's weight; 0 for not."""
    if not key:
        return 0
    if kind != "definition":
        if key == query:
            return EXACT
        if key.startswith(query):
            return PREFIX
    tokens = key.split(" ")
    if all(any(t.startswith(w) for t in tokens) for w in words):
        return WORDS
    if query in key:
        return INSIDE
    typos = 0
    for word in words:
        best = _closest(word, tokens)
        if best < 0:
            return 0
        typos += best
    return max(FUZZY - 5 * typos, 20)


def _closest(word: str, tokens: Sequence[str]) -> int:
    """The fewest typos between `word` and a token or a token's start (0 when a token starts
    with it), or -1 beyond the allowance for the word's length."""
    if any(t.startswith(word) for t in tokens):
        return 0
    allowed = 2 if len(word) >= TWO_TYPOS else 1 if len(word) >= ONE_TYPO else 0
    if allowed == 0:
        return -1
    best = -1
    for token in tokens:
        for candidate in (token, token[: len(word)]):
            if abs(len(candidate) - len(word)) > allowed:
                continue
            distance = _bounded_distance(word, candidate, allowed)
            if distance <= allowed and (best < 0 or distance < best):
                best = distance
    return best


@lru_cache(maxsize=1 << 16)
def _bounded_distance(a: str, b: str, bound: int) -> int:
    # definitions repeat their words: each pair is worked out once
    return edit_distance(a, b, bound)


def edit_distance(a: str, b: str, bound: int | None = None) -> int:
    """Edit distance with transpositions (optimal string alignment): insertions, deletions,
    substitutions and swaps of two neighbours to turn `a` into `b`; with `bound`, any value
    above it once the distance is known to exceed it (faster).

    >>> edit_distance("revnue", "revenue"), edit_distance("regoin", "region")
    (1, 1)
    """
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before[j - 2] + 1)
            current.append(value)
        if bound is not None and min(current) > bound:
            return bound + 1
        before, previous = previous, current
    return previous[-1]
