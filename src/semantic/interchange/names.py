"""The names of imported terms: `settle_names` makes them follow the glossary's naming rule
(SEM206: in one language a name names one term, and no name is another term's id), among the
imported terms and against the terms already in the project (`project_names`), which never
change; `TakenIds` keeps an importer's new ids off the project's ids and names. Shared by
`semantic import dbt`, `import osi` and `import skos` (see docs/importing.md).

>>> project = ProjectNames.of({"revenue": {"label": {"en": "Turnover"}}})
>>> taken = TakenIds(project)
>>> taken.take("turnover"), taken.moved
('turnover_2', {'turnover_2': ('turnover', 'revenue')})
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.error import YAMLError

from semantic.interchange.common import Notice, NoticeKind, english_label, load_yaml, new_id
from semantic.model.names import normalize_name

__all__ = [
    "NameChange",
    "ProjectNames",
    "TakenIds",
    "glossary_files",
    "project_names",
    "settle_names",
]

#: the keys of a term's names, and how a notice calls each
_NAME_KEYS = (("label", "label"), ("synonyms", "synonym"), ("hidden_labels", "hidden label"))


@dataclass(frozen=True)
class ProjectNames:
    """The ids and names of the terms already in a project, compared as `semantic check`
    compares them (`normalize_name`): what an import must leave to those terms."""

    #: the ids of the project's terms
    ids: frozenset[str] = frozenset()
    #: (language, normalized name) -> (term id, how the term has it: `label`, `synonym`...)
    names: Mapping[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    #: normalized id or name, in any language -> the term id
    keys: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, terms: Mapping[str, Any]) -> ProjectNames:
        """The names of `terms` (id -> spec as plain data, as in a glossary file)."""
        names: dict[tuple[str, str], tuple[str, str]] = {}
        keys: dict[str, str] = {}
        for tid, spec in terms.items():
            keys.setdefault(normalize_name(str(tid)), str(tid))
            for key, how in _NAME_KEYS:
                by_language = spec.get(key) if isinstance(spec, Mapping) else None
                for lang, texts in (by_language or {}).items():
                    for text in [texts] if isinstance(texts, str) else texts or []:
                        name = normalize_name(str(text))
                        names.setdefault((str(lang), name), (str(tid), how))
                        keys.setdefault(name, str(tid))
        return cls(frozenset(map(str, terms)), names, keys)

    def owner(self, term_id: str) -> str | None:
        """The project's term whose id or name (in any language) `term_id` would equal."""
        return self.keys.get(normalize_name(term_id))


def project_names(glossary: Path, skip: Collection[str] = ()) -> ProjectNames:
    """The names of the terms of the glossary files under `glossary` (`*.yml`, `*.yaml`),
    except the files named in `skip` (an import replaces them). A file that does not read is
    left to `semantic check`."""
    terms: dict[str, Any] = {}
    paths = sorted(glossary.glob("*.yml")) + sorted(glossary.glob("*.yaml"))
    for path in paths if glossary.is_dir() else []:
        if path.name in skip:
            continue
        try:
            tree = load_yaml(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, YAMLError):
            continue
        found = tree.get("terms") if isinstance(tree, Mapping) else None
        for tid, spec in (found or {}).items() if isinstance(found, Mapping) else []:
            terms.setdefault(str(tid), spec)
    return ProjectNames.of(terms)


def glossary_files(files: Collection[str]) -> set[str]:
    """The names of the glossary files among `files` (paths relative to a project)."""
    return {name.removeprefix("glossary/") for name in files if name.startswith("glossary/")}


class TakenIds(set[str]):
    """The ids an importer has given, as a set; `in` also holds an id that is the id or a
    name (in any language) of a term already in the project, so that `new_id` passes it
    by. `take` gives an id and remembers in `moved` each that the project made differ:
    new id -> (the id it would have had, the project's term that has that name)."""

    def __init__(self, project: ProjectNames | None = None, *, ids_free: bool = False) -> None:
        super().__init__()
        self.project = project or ProjectNames()
        #: the project's ids are free: an import that skips or replaces a term of its id
        self.ids_free = ids_free
        self.moved: dict[str, tuple[str, str]] = {}

    def __contains__(self, item: object) -> bool:
        if super().__contains__(item):
            return True
        if not isinstance(item, str) or self.project.owner(item) is None:
            return False
        return not (self.ids_free and item in self.project.ids)

    def take(self, base: str, *preferred: str) -> str:
        """`new_id(self, base, *preferred)`, added."""
        found = new_id(self, base, *preferred)
        given = super().__contains__
        if any(not given(w) and w in self for w in preferred or (base,)):
            wanted = new_id(set(self), base, *preferred)  # without the project's names
            owner = self.project.owner(wanted)
            if wanted != found and owner is not None:
                self.moved[found] = (wanted, owner)
        self.add(found)
        return found


@dataclass(frozen=True)
class NameChange:
    """A name that `settle_names` changed: term, key (`label`, `synonyms`, `hidden_labels`),
    language, text, why, and whether it was replaced (`changed`) or left out (`unmapped`)."""

    term: str
    key: str
    language: str
    text: str
    reason: str
    kind: NoticeKind

    @property
    def what(self) -> str:
        """`label 'Notes' (en) of term 'returns_notes'`."""
        return f"{dict(_NAME_KEYS)[self.key]} '{self.text}' ({self.language}) of term '{self.term}'"


def settle_names(
    terms: Mapping[str, dict[str, Any]],
    where: Callable[[str], tuple[str, int]],
    existing: Collection[str] | ProjectNames = (),
    *,
    report: Callable[[NameChange], Notice] | None = None,
    moved: Mapping[str, tuple[str, str]] | None = None,
) -> list[Notice]:
    """Make imported terms (id -> spec as plain data: `label`, `synonyms`, `hidden_labels`
    by language) follow the glossary's naming rule (SEM206: in one language a name names
    one term, and no name is another term's id), in place, and report every change at
    `where(term id)` (file, line), or as `report` makes a notice of it (an importer whose
    report names things its own way: the SKOS import names the concept and the triple).
    Names are compared as `semantic check` compares them
    (case, accents, spaces and underscores ignored). `existing` are the terms already in
    the project: their ids, or `ProjectNames` (ids and names), which are theirs and never
    change; an imported term of an id the project has replaces that term, whose names then
    do not count. `moved` are the ids `TakenIds` moved off the project's names (reported).
    A name shared by several terms names none of them, whichever came first:

    - a synonym or hidden label that is another term's id or label, or that another term
      has too, is left out;
    - a label that is another term's id or label is replaced by one made from the term's
      own id (`Orders status` for `orders_status`), which no other name can equal;
    - a name that is a term's own id stays that term's;
    - a name of a term of the project stays that term's: an imported label or synonym equal
      to it is replaced or left out as above.

    >>> terms = {
    ...     "s_city": {"label": {"en": "City"}, "synonyms": {"en": ["location"]}},
    ...     "ss_store_sk": {"label": {"en": "Store"}, "synonyms": {"en": ["location", "shop"]}},
    ...     "notes": {"label": {"en": "Notes"}},
    ...     "returns_notes": {"label": {"en": "Notes"}},
    ... }
    >>> for item in settle_names(terms, lambda tid: ("f.yml", 1)):
    ...     print(item.diagnostic().message, "|", item.reason)
    carried over differently: label 'Notes' (en) of term 'returns_notes' | also the id of term 'notes': the label is 'Returns notes' instead
    not carried over: synonym 'location' (en) of term 's_city' | also a synonym of term 'ss_store_sk': left out
    not carried over: synonym 'location' (en) of term 'ss_store_sk' | also a synonym of term 's_city': left out
    >>> terms["ss_store_sk"]["synonyms"], terms["returns_notes"]["label"]
    ({'en': ['shop']}, {'en': 'Returns notes'})
    """  # noqa: E501
    project = existing if isinstance(existing, ProjectNames) else ProjectNames(frozenset(existing))
    ids = {normalize_name(t): t for t in [*project.ids, *terms]}
    named: dict[tuple[str, str], dict[str, set[str]]] = {}  # (lang, name) -> how -> term ids
    for tid, spec in terms.items():
        for key, _ in _NAME_KEYS:
            for lang, texts in (spec.get(key) or {}).items():
                for text in [texts] if isinstance(texts, str) else texts:
                    found = named.setdefault((lang, normalize_name(text)), {})
                    found.setdefault(key, set()).add(tid)
    made = report or (lambda c: Notice(*where(c.term), c.what, c.reason, c.kind))
    notices = [
        Notice(*where(tid), f"term '{wanted}'", why, "changed")
        for tid, (wanted, owner) in sorted((moved or {}).items())
        if tid in terms
        for how in ["the id" if owner == wanted else "a name"]
        for why in [f"also {how} of term '{owner}' in the project: written as term '{tid}'"]
    ]
    relabelled: set[tuple[str, str, str]] = set()  # (term, language, the label made from the id)
    for tid in sorted(terms):
        spec = terms[tid]
        for key, _ in _NAME_KEYS:
            for lang, texts in list((spec.get(key) or {}).items()):
                kept = []
                for text in [texts] if isinstance(texts, str) else list(texts):
                    name = normalize_name(text)
                    found = named[(lang, name)]
                    clash = ids.get(name)
                    theirs = project.names.get((lang, name))  # (term, how) in the project
                    if theirs is not None and theirs[0] in terms:
                        theirs = None  # replaced by the import: its names go with it
                    single = len(found) == 1 and len(next(iter(found.values()))) == 1
                    if clash is None and theirs is None and single:
                        kept.append(text)  # the usual case: a name of this term only
                        continue
                    others = {k: sorted(v - {tid}) for k, v in found.items() if v - {tid}}
                    if clash == tid and (tid, lang, text) in relabelled:
                        # the label made from the id has this text: as a synonym too, S13 breaks
                        who = "the label made from the term's id"
                    elif clash == tid:  # a name that is the term's own id is the term's
                        kept.append(text)
                        continue
                    elif clash is not None:
                        who = f"the id of term '{clash}'"
                        who += "" if clash in terms else " in the project"
                    elif theirs is not None:
                        who = f"the {theirs[1]} of term '{theirs[0]}' in the project"
                    elif others.get("label"):
                        who = f"the label of term '{others['label'][0]}'"
                    elif key != "label" and others:
                        first = next(iter(others.values()))[0]
                        who = f"a {dict(_NAME_KEYS)[next(iter(others))]} of term '{first}'"
                    else:
                        kept.append(text)
                        continue
                    if key == "label":
                        kept.append(english_label(tid))
                        relabelled.add((tid, lang, kept[-1]))
                    kind: NoticeKind = "changed" if key == "label" else "unmapped"
                    why = f"the label is '{kept[-1]}' instead" if key == "label" else "left out"
                    change = NameChange(tid, key, lang, text, f"also {who}: {why}", kind)
                    notices.append(made(change))
                if key == "label":
                    spec[key][lang] = kept[0]
                elif kept:
                    spec[key][lang] = kept
                else:
                    del spec[key][lang]
            if key in spec and not spec[key]:
                del spec[key]
    return notices
