"""The SKOS integrity conditions a glossary keeps, in one table (`RULES`), and the one
function that finds where terms break them (`skos_violations`).

`semantic check` reports each violation of the glossary (`check_skos`); `semantic import
skos` refuses a vocabulary that breaks one, or repairs it when asked (`--repair`); the
SHACL shapes of the RDF export (`semantic/outputs/rdf/shapes.ttl`) state the same
conditions, each rule naming its shape, and tests/test_skos_integrity.py checks on a set of
broken vocabularies that the shapes and this table agree.

>>> terms = {
...     "zone": SkosNames({"en": ["Zone"]}, {"en": ["Area"]}, {"en": ["Zone"]}, ["area"], ["area"]),
...     "area": SkosNames({"en": ["Area"]}),
... }
>>> [(v.rule.reference, v.rule.code, v.term, v.text or v.other) for v in skos_violations(terms)]
[('S13', 'SEM243', 'zone', 'Zone'), ('S27', 'SEM214', 'zone', 'area')]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from semantic.errors import Severity
from semantic.model.draft import Draft


@dataclass(frozen=True)
class SkosRule:
    """One integrity condition: the SKOS reference's number for it, our error code, the
    SHACL shape of shapes.ttl that states it (`semsh:<shape>`), what it says, what
    `semantic import skos --repair` does to a vocabulary that breaks it, and what `semantic
    check` makes of a glossary file that breaks it: an error, or a warning where the export
    never states the violation (a synonym equal to the label is not exported)."""

    name: str
    reference: str
    code: str
    shape: str
    says: str
    repair: str
    severity: Severity = "error"


#: Every SKOS integrity condition that a glossary can break, by name.
RULES: dict[str, SkosRule] = {
    rule.name: rule
    for rule in (
        SkosRule(
            "one_pref_label",
            "S14",
            "SEM243",
            "ConceptPrefLabel",
            "a concept has at most one preferred label per language",
            "the other preferred labels become synonyms",
        ),
        SkosRule(
            "pref_not_alt",
            "S13",
            "SEM243",
            "PrefLabelDisjoint",
            "a text is not both the preferred label and a synonym (altLabel)",
            "the synonym is left out",
            "warning",
        ),
        SkosRule(
            "pref_not_hidden",
            "S13",
            "SEM243",
            "PrefLabelDisjoint",
            "a text is not both the preferred label and a hidden label",
            "the hidden label is left out",
        ),
        SkosRule(
            "alt_not_hidden",
            "S13",
            "SEM243",
            "AltLabelDisjoint",
            "a text is not both a synonym (altLabel) and a hidden label",
            "the hidden label is left out",
        ),
        SkosRule(
            "related_not_broader",
            "S27",
            "SEM214",
            "RelatedNotBroader",
            "a concept is not related (skos:related) to one of its broader concepts, "
            "however far up (skos:broaderTransitive)",
            "the related link is left out",
        ),
        SkosRule(
            "no_broader_cycle",
            "cycle",
            "SEM205",
            "HierarchyShape",
            "a concept is never broader than itself, through any chain of broader links",
            "the broader link that closes the cycle is left out",
        ),
    )
}


@dataclass(frozen=True)
class SkosNames:
    """What the rules read of one term: its names per language (several preferred labels
    only in an imported vocabulary; the glossary's `label:` has one) and its broader and
    related terms, by id."""

    labels: Mapping[str, Sequence[str]]
    synonyms: Mapping[str, Sequence[str]] = field(default_factory=dict)
    hidden: Mapping[str, Sequence[str]] = field(default_factory=dict)
    broader: Sequence[str] = ()
    related: Sequence[str] = ()


@dataclass(frozen=True)
class Violation:
    """Where `term` breaks `rule`: the name at fault (`key`: label, synonyms or
    hidden_labels; its `language` and `text`), or the other term (`other`) and, for a
    cycle, the whole `cycle` of ids."""

    rule: SkosRule
    term: str
    key: str | None = None
    language: str | None = None
    text: str | None = None
    other: str | None = None
    cycle: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        """The diagnostic's message, naming the term and the name or term at fault."""
        if self.rule.name == "no_broader_cycle":
            return f"broader terms form a cycle: {' -> '.join(self.cycle)}"
        if self.rule.name == "related_not_broader":
            return (
                f"term '{self.term}' is both related to and narrower than '{self.other}' "
                f"(SKOS {self.rule.reference})"
            )
        return (
            f"term '{self.term}': '{self.text}' ({self.language}) breaks SKOS "
            f"{self.rule.reference}: {self.rule.says}"
        )


def skos_violations(terms: Mapping[str, SkosNames]) -> list[Violation]:
    """Every violation of `RULES` by `terms` (id -> what the rules read), term by term in
    the order given, the labels' rules first; then the cycles of broader links.

    Linear in the number of names, and in the related links times the depth of the
    hierarchy (each related term is looked for among the ancestors, which are walked once
    per term that has related terms)."""
    found: list[Violation] = []
    for tid, names in terms.items():
        found += _label_violations(tid, names)
        if names.related:
            ancestors = _ancestors(tid, terms)
            for other in names.related:
                if other in ancestors:
                    found.append(Violation(RULES["related_not_broader"], tid, other=other))
    for cycle in cycles(terms, lambda tid: [p for p in terms[tid].broader if p in terms]):
        found.append(
            Violation(RULES["no_broader_cycle"], cycle[0], other=cycle[-2], cycle=tuple(cycle))
        )
    return found


def _label_violations(tid: str, names: SkosNames) -> list[Violation]:
    """S14 and S13 on one term: one preferred label per language, and the three kinds of
    labels disjoint (exactly the same text in the same language, as RDF compares them)."""
    found: list[Violation] = []
    for language, texts in names.labels.items():
        for text in texts[1:]:
            found.append(Violation(RULES["one_pref_label"], tid, "label", language, text))
    for language, texts in names.synonyms.items():
        preferred = set(names.labels.get(language, ()))
        for text in texts:
            if text in preferred:
                found.append(Violation(RULES["pref_not_alt"], tid, "synonyms", language, text))
    for language, texts in names.hidden.items():
        preferred = set(names.labels.get(language, ()))
        alternative = set(names.synonyms.get(language, ()))
        for text in texts:
            if text in preferred:
                found.append(
                    Violation(RULES["pref_not_hidden"], tid, "hidden_labels", language, text)
                )
            elif text in alternative:
                found.append(
                    Violation(RULES["alt_not_hidden"], tid, "hidden_labels", language, text)
                )
    return found


def _ancestors(tid: str, terms: Mapping[str, SkosNames]) -> set[str]:
    """Every term reached from `tid` through broader links (cycles stop the walk)."""
    seen: set[str] = set()
    todo = list(terms[tid].broader)
    while todo:
        current = todo.pop()
        if current in seen or current not in terms:
            continue
        seen.add(current)
        todo += terms[current].broader
    return seen


def cycles(starts: Iterable[str], following: Callable[[str], Iterable[str]]) -> list[list[str]]:
    """The cycles a depth-first walk from each of `starts` meets, in the order met, each
    from a node back to itself. Iterative, and linear in the links: a deep hierarchy never
    exhausts Python's stack, and a trail is never copied.

    >>> cycles("abc", {"a": "b", "b": "a", "c": ""}.__getitem__)
    [['a', 'b', 'a']]
    """
    state: dict[str, int] = {}  # 1: on the current trail, 2: done
    found: list[list[str]] = []
    for start in starts:
        if state.get(start):
            continue
        trail: list[str] = [start]
        where: dict[str, int] = {start: 0}
        state[start] = 1
        stack = [iter(following(start))]
        while stack:
            after = next(stack[-1], None)
            if after is None:
                stack.pop()
                done = trail.pop()
                del where[done]
                state[done] = 2
            elif state.get(after) == 1:
                found.append([*trail[where[after] :], after])
            elif not state.get(after):
                state[after] = 1
                where[after] = len(trail)
                trail.append(after)
                stack.append(iter(following(after)))
    return found


def check_skos(draft: Draft) -> None:
    """Report every SKOS integrity violation of the glossary (`RULES`): SEM243 at the name
    at fault, SEM214 at the related link, SEM205 at the term that starts a cycle."""
    terms = draft.terms
    names = {
        tid: SkosNames(
            {lang: [text] for lang, text in term.labels.items()},
            term.synonyms,
            term.hidden_labels,
            term.broader,
            term.related,
        )
        for tid, term in terms.items()
    }
    for violation in skos_violations(names):
        term = terms[violation.term]
        rule = violation.rule
        if rule.name == "no_broader_cycle":
            draft.report(
                rule.code, violation.message, term.span, "a term cannot be broader than itself"
            )
            continue
        doc = draft.term_docs[violation.term]
        if rule.name == "related_not_broader":
            index = term.related.index(violation.other or "")
            span = doc.span(("terms", term.id, "related", index), value=True)
            hint = "keep one of the two relations: the hierarchy already relates them"
        else:
            how = "synonym" if violation.key == "synonyms" else "misspelling"
            span = term.name_spans.get(
                (how, violation.language or "", violation.text or ""), term.span
            )
            hint = (
                "keep the text as the label only"
                if rule.name != "alt_not_hidden"
                else "keep the text as a synonym or as a hidden label, not both"
            )
        if rule.severity == "warning":
            hint += " (the RDF export leaves the synonym out)"
            draft.warn(rule.code, violation.message, span, hint)
        else:
            draft.report(rule.code, violation.message, span, hint)
