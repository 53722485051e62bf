"""How well a typed text matches a name or a definition: the one ranking behind `semantic
search` (`outputs/search.py`, and the catalog site's `search.js`, which follows it step by
step) and behind the compiler's "did you mean" (`closest_names`).

1. `search_key` normalizes text like term names are compared (`names.normalize_name`: case,
   accents, spaces versus underscores) and also turns punctuation into spaces, so that
   `chiffre d'affaires` and `Chiffre-d affaires` meet.
2. Each field of an entry (its id, a label, a synonym, a definition) is scored against the
   query key (`field_score`); an entry's score is its best field's (`best_field`).
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
>>> model = Project.load(".").model
>>> [(n.term, n.text) for n in closest_names(model, "pays")]
[('customer_nation', 'Pays client'), ('supplier_nation', 'Pays fournisseur')]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from semantic.model.names import normalize_name
from semantic.model.types import Model, Term

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
#: Added to a match in the preferred language (see `best_field`).
PREFERRED = 3

#: what is neither a digit, a lower-case ASCII letter nor from U+00C0 on: written as the
#: ranges it is, since the negated class up to U+10FFFF takes 2 ms to compile at each start
_PUNCTUATION = re.compile(r"[\x00-\x2f\x3a-\x60\x7b-\xbf]+")


def search_key(text: str) -> str:
    """The comparison key of a text: `normalize_name` with punctuation as spaces.

    >>> search_key("Chiffre d’affaires  NET")
    'chiffre d affaires net'
    """
    return _PUNCTUATION.sub(" ", normalize_name(text)).strip()


def best_field(
    query: str,
    fields: Iterable[Sequence[Any]],
    language: str | None = None,
    prefer: str | None = None,
) -> tuple[int, Sequence[Any]] | None:
    """The best scoring of `fields` (each `[kind, language, key, text]`) for the query key
    `query`, with its score (weight included), or None when none matches. With `language`,
    fields in other languages are skipped (language-neutral ones never are); a match in the
    `prefer` language gains `PREFERRED`."""
    words = query.split(" ")
    best: tuple[int, Sequence[Any]] | None = None
    for field in fields:
        kind, lang, key = field[0], field[1], field[2]
        if language is not None and lang is not None and lang != language:
            continue
        score = field_score(query, words, key, kind)
        if score > 0:
            score += FIELD_WEIGHT[kind] + (PREFERRED if lang and lang == prefer else 0)
            if best is None or score > best[0]:
                best = (score, field)
    return best


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


def term_fields(term: Term, *, definitions: bool = True) -> list[list[Any]]:
    """The searchable fields of `term`: id, labels, synonyms, hidden labels and (unless
    told not to) definitions, each `[kind, language, key, text]`."""
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
    if definitions:
        fields += [
            ["definition", lang, search_key(text), text] for lang, text in term.definition.items()
        ]
    return fields


@dataclass(frozen=True, slots=True)
class CloseName:
    """A name of a term close to what was typed: the term, and the name that matched."""

    term: str
    text: str
    score: int


def closest_names(model: Model, text: str, limit: int = 3) -> list[CloseName]:
    """The terms whose id, label or synonym (any language, accents and case aside) best
    match `text`, ranked as `semantic search` ranks them; a term matched by a known
    misspelling is offered by its id. Concepts, which cannot be queried, are left out."""
    query = search_key(text)
    if not query:
        return []
    found: list[CloseName] = []
    for term in model.terms.values():
        if term.kind == "concept":
            continue
        best = best_field(query, term_fields(term, definitions=False))
        if best is None:
            continue
        score, field = best
        shown = term.id if field[0] == "hidden_label" else str(field[3])
        found.append(CloseName(term.id, shown, score))
    found.sort(key=lambda c: (-c.score, c.term))
    return found[:limit]


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
