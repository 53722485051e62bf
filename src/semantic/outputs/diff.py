"""`semantic diff`: what changed in the vocabulary between two versions, in business terms,
and which changes break its consumers.

Breaking (a query, a view, a report or another term that worked may now fail or give other
numbers): a term or entity removed, a term deprecated, a term's kind changed, a meaning
changed (a metric's expression, entity, filter, window, shift or empty value; a dimension's
or segment's expression, entity or path), a grain removed from a time dimension, a
relationship removed or its cardinality or keys changed; a name (id, label, synonym or
hidden label, in any language) that a query could write and that no longer resolves,
resolves to another term or has become ambiguous. Everything else (terms added, relabelled
with the old label kept as a synonym, defined anew, governance) is reported but does not
break.

>>> from semantic.project import Project
>>> model = Project.load(".").model
>>> compare_models(model, model)
[]
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from semantic.compiler.resolve import name_target
from semantic.errors import Diagnostic, SemanticError, Severity, Span
from semantic.files.gitrev import project_at_revision
from semantic.files.read import read_file
from semantic.files.root import CONFIG_FILE, find_root
from semantic.files.schema import MEANINGS, GlossaryFile
from semantic.model import FILE_DIALECT, Model, Term
from semantic.project import Project

__all__ = [
    "Change",
    "VocabularyDiff",
    "compare_models",
    "consumers",
    "diff_revision",
    "render_json",
    "render_markdown",
    "render_text",
    "written_texts",
]


@dataclass(frozen=True, slots=True)
class Change:
    """One change, said the way a reviewer reads it."""

    kind: str  # added, removed, renamed, definition, names, name, status, governance, kind,
    #            meaning, path, grains, domain, entity, relationship
    subject: str  # the term or entity id
    what: str  # "term", "entity" or "relationship"
    detail: str
    breaking: bool
    used_by: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form, its keys in the order a reader wants them (`_JSON_KEYS`)."""
        form = {key: getattr(self, key) for key in _JSON_KEYS}
        form["used_by"] = list(self.used_by)
        return form


#: the keys of `Change.as_dict`, in order (JSON reports and their readers rely on it)
_JSON_KEYS = ("kind", "what", "subject", "detail", "breaking", "used_by")


@dataclass(frozen=True)
class VocabularyDiff:
    """The changes from the vocabulary at `base` to the working tree, and the problems met
    while reading either side."""

    base: str
    changes: tuple[Change, ...]
    problems: tuple[Diagnostic, ...] = field(default=())

    @property
    def breaking(self) -> tuple[Change, ...]:
        """The changes that break consumers."""
        return tuple(c for c in self.changes if c.breaking)


# --- consumers ------------------------------------------------------------------------------


def _metric_consumers(model: Model) -> Iterator[tuple[str, str]]:
    """(used term, user) for derived metrics, metric filters, windows and shifts."""
    for term in model.terms.values():
        for ref in term.refs:
            yield ref, term.id
        if term.filter is not None:
            for column in term.filter.find_all(exp.Column):
                for name in (column.name, column.table):
                    if name in model.terms and name != term.id:
                        yield name, term.id
        for over_time in (term.window, term.shift):
            if over_time is not None:
                yield over_time.time, term.id


def _replacement_consumers(model: Model) -> Iterator[tuple[str, str]]:
    """A deprecated term sends its users to its replacement."""
    for term in model.terms.values():
        if term.replaced_by:
            yield term.replaced_by, term.id


def _subject_area_consumers(model: Model) -> Iterator[tuple[str, str]]:
    """A subject area (a published view) uses its dimensions, metrics, segments and the
    terms of its filter; it is named `subject area <id>`, apart from the terms."""
    for area in model.subject_areas.values():
        user = f"subject area {area.id}"
        for name in (*area.dimensions, *area.metrics, *area.segments):
            yield name.split(".")[0], user
        if area.filter is not None:
            for column in area.filter.find_all(exp.Column):
                for name in (column.name, column.table):
                    if name in model.terms:
                        yield name, user


#: Everything in a vocabulary that uses terms; a new consumer joins by adding one function
#: here that yields (used term, user).
CONSUMERS: tuple[Callable[[Model], Iterator[tuple[str, str]]], ...] = (
    _metric_consumers,
    _replacement_consumers,
    _subject_area_consumers,
)


def area_grains(model: Model) -> dict[str, tuple[tuple[str, str | None], ...]]:
    """Each time dimension with the (subject area, grain) pairs that list it; None for a
    subject area that lists it without a grain."""
    found: dict[str, list[tuple[str, str | None]]] = {}
    for area in model.subject_areas.values():
        for dimension in area.dimensions:
            term, _, grain = dimension.partition(".")
            found.setdefault(term, []).append((area.id, grain or None))
    return {term: tuple(pairs) for term, pairs in found.items()}


def consumers(model: Model) -> dict[str, tuple[str, ...]]:
    """Each term id with the ids of what uses it in `model`."""
    users: dict[str, list[str]] = {}
    for source in CONSUMERS:
        for used, user in source(model):
            if user not in users.setdefault(used, []):
                users[used].append(user)
    return {used: tuple(sorted(found)) for used, found in users.items()}


# --- comparing ------------------------------------------------------------------------------


#: term id -> {"expression" | "condition" | "filter": the text as the modeler wrote it}
Written = Mapping[str, Mapping[str, str]]


def compare_models(
    old: Model, new: Model, written: tuple[Written, Written] = ({}, {})
) -> list[Change]:
    """Every change from `old` to `new`: terms first (removed, changed, added), then
    entities and relationships. Expressions are compared as parsed SQL, so layout and case
    do not count; a change is shown with the texts in `written` when given."""
    language = new.languages[0] if new.languages else "en"
    used = consumers(old)
    grains_used = area_grains(old)
    changes: list[Change] = []
    for tid, term in old.terms.items():
        if tid not in new.terms:
            changes.append(
                Change(
                    "removed",
                    tid,
                    "term",
                    f"{_named(term, language)}: queries and views that use it fail",
                    True,
                    used.get(tid, ()),
                )
            )
    for tid, term in new.terms.items():
        if tid in old.terms:
            texts = (written[0].get(tid, {}), written[1].get(tid, {}))
            changes += _term_changes(
                old.terms[tid], term, language, used.get(tid, ()), texts, grains_used
            )
    changes += _name_changes(old, new)
    for tid, term in new.terms.items():
        if tid not in old.terms:
            kind = term.kind.replace("_", " ")
            changes.append(
                Change("added", tid, "term", f"term {_named(term, language)}, a {kind}", False)
            )
    changes += _entity_changes(old, new)
    return changes


#: how a name names its term, in words
_HOW = {"id": "id", "label": "label", "synonym": "synonym", "misspelling": "hidden label"}


def _name_changes(old: Model, new: Model) -> list[Change]:
    """Every name (id, label, synonym or hidden label, in any language) that a query could
    write before and that no longer resolves, resolves to another term, or has become
    ambiguous: each breaks the queries, reports and dashboards that write it. The names of
    a removed term are not repeated (its removal says it), unless another term took one."""
    changes: list[Change] = []
    for key, entries in old.names.items():
        before = name_target(entries)
        if before is None:  # ambiguous already: no query could write it
            continue
        now = new.names.get(key, ())
        after = name_target(now) if now else None
        if now and after == before:
            continue
        if not now and before not in new.terms:
            continue
        entry = next(e for e in entries if e.term == before)
        how = _HOW[entry.how] + (f" in {entry.language}" if entry.language else "")
        said = f'"{entry.text}" ({how} of `{before}`)'
        if not now:
            detail = f"{said} no longer names a term: queries that write it fail (SEM303)"
        elif after is None:
            named = ", ".join(f"`{t}`" for t in sorted({e.term for e in now}))
            detail = f"{said} is now ambiguous, it names {named}: queries that write it fail "
            detail += "(SEM304)"
        else:
            detail = f"{said} now names `{after}`: queries that write it get another term"
        changes.append(Change("name", before, "term", detail, True))
    return changes


def _named(term: Term, language: str) -> str:
    return f"`{term.id}` ({term.label(language)})"


def _sql(expression: exp.Expression | None) -> str:
    return "none" if expression is None else expression.sql(dialect=FILE_DIALECT)


def _spec(value: Any) -> str:
    """A window, shift or other record of a term as `key: value, ...` (a plain dataclass of
    the model, or a file schema's pydantic object)."""
    if value is None:
        return "none"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    else:
        fields = value.model_dump()
    return ", ".join(f"{k}: {v}" for k, v in fields.items() if v is not None and v != ())


def _term_changes(
    old: Term,
    new: Term,
    language: str,
    used: tuple[str, ...],
    texts: tuple[Mapping[str, str], Mapping[str, str]],
    grains_used: Mapping[str, tuple[tuple[str, str | None], ...]] = {},
) -> list[Change]:
    changes: list[Change] = []
    name = _named(new, language)

    def add(kind: str, detail: str, breaking: bool) -> None:
        changes.append(Change(kind, new.id, "term", detail, breaking, used if breaking else ()))

    if old.kind != new.kind:
        add("kind", f"{name} is now a {new.kind} (was a {old.kind})", True)
    else:
        meaning: list[tuple[str, str, str]] = [
            ("entity", old.entity or "none", new.entity or "none"),
            ({"segment": "condition"}.get(new.kind, "expression"), _sql(old.expr), _sql(new.expr)),
        ]
        if new.kind == "metric":
            meaning += [
                ("filter", _sql(old.filter), _sql(new.filter)),
                ("window", _spec(old.window), _spec(new.window)),
                ("shift", _spec(old.shift), _spec(new.shift)),
                ("value when empty", _sql(old.fill_null), _sql(new.fill_null)),
            ]
        for part, before, after in meaning:
            if before != after and new.kind != "concept":
                before, after = texts[0].get(part, before), texts[1].get(part, after)
                add("meaning", f"{name}: {part} `{before}` → `{after}`", True)
        if old.path != new.path:
            before, after = (", ".join(p) or "none" for p in (old.path, new.path))
            add("path", f"{name}: path `{before}` → `{after}`", True)
        removed = [g for g in old.grains if g not in new.grains]
        added = [g for g in new.grains if g not in old.grains]
        if removed:
            detail = f"{name}: grain(s) removed: {', '.join(removed)}"
            # a subject area that lists the term at another grain only is not broken
            lost = {f"subject area {a}" for a, g in grains_used.get(new.id, ()) if g in removed}
            keep = tuple(u for u in used if not u.startswith("subject area ") or u in lost)
            changes.append(Change("grains", new.id, "term", detail, True, keep))
        if added:
            add("grains", f"{name}: grain(s) added: {', '.join(added)}", False)
    if old.status != new.status:
        deprecated = new.status == "deprecated"
        hint = f"; use `{new.replaced_by}`" if deprecated and new.replaced_by else ""
        add("status", f"{name}: status {old.status} → {new.status}{hint}", deprecated)
    for kind, attribute in (("renamed", "labels"), ("definition", "definition")):
        was, now = getattr(old, attribute), getattr(new, attribute)
        for lang in sorted(set(was) | set(now)):
            if was.get(lang) != now.get(lang):
                detail = f"`{new.id}` ({lang}): {_quoted(was.get(lang))} → {_quoted(now.get(lang))}"
                add(kind, detail, False)
    for what, was_named, now_named in (
        ("synonyms", old.synonyms, new.synonyms),
        ("hidden labels", old.hidden_labels, new.hidden_labels),
    ):
        for lang in sorted(set(was_named) | set(now_named)):
            gone = [s for s in was_named.get(lang, ()) if s not in now_named.get(lang, ())]
            came = [s for s in now_named.get(lang, ()) if s not in was_named.get(lang, ())]
            if gone or came:
                parts = ([f"removed {', '.join(map(_quoted, gone))}"] if gone else []) + (
                    [f"added {', '.join(map(_quoted, came))}"] if came else []
                )
                # not breaking in itself: a name that stops resolving is listed on its own
                add("names", f"{name} {what} ({lang}): {'; '.join(parts)}", False)
    for label, before_value, after_value in (
        ("confidentiality", old.confidentiality, new.confidentiality),
        ("owners", ", ".join(old.owners) or "none", ", ".join(new.owners) or "none"),
    ):
        if before_value != after_value:
            add("governance", f"{name}: {label} {before_value} → {after_value}", False)
    if old.domain != new.domain:
        add("domain", f"{name} moved from domain `{old.domain}` to `{new.domain}`", False)
    return changes


def _quoted(text: str | None) -> str:
    return "none" if text is None else f'"{text}"'


def _entity_changes(old: Model, new: Model) -> list[Change]:
    changes: list[Change] = []
    users: dict[str, list[str]] = {}
    for term in old.terms.values():
        if term.entity:
            users.setdefault(term.entity, []).append(term.id)
    for eid in old.entities:
        if eid not in new.entities:
            changes.append(
                Change(
                    "removed",
                    eid,
                    "entity",
                    f"entity `{eid}`: the terms over it are gone",
                    True,
                    tuple(sorted(users.get(eid, ()))),
                )
            )
    for eid, entity in new.entities.items():
        before = old.entities.get(eid)
        if before is None:
            changes.append(Change("added", eid, "entity", f"entity `{eid}`", False))
            continue
        if before.table != entity.table:
            detail = f"entity `{eid}`: table {before.table} → {entity.table}"
            changes.append(Change("entity", eid, "entity", detail, False))
        gone = [c for c in before.columns if c not in entity.columns]
        came = [c for c in entity.columns if c not in before.columns]
        if gone or came:
            parts = ([f"removed {', '.join(gone)}"] if gone else []) + (
                [f"added {', '.join(came)}"] if came else []
            )
            detail = f"entity `{eid}` columns: {'; '.join(parts)}"
            changes.append(Change("entity", eid, "entity", detail, False))
    changes += _relationship_changes(old, new)
    return changes


def _relationship_changes(old: Model, new: Model) -> list[Change]:
    """Declared relationships, by `entity.name`: removed or changed ones change join paths."""

    def declared(model: Model) -> dict[str, Any]:
        return {e.hop: e for edges in model.edges.values() for e in edges if e.declared}

    before, after = declared(old), declared(new)
    changes: list[Change] = []
    for hop, edge in before.items():
        if hop not in after:
            detail = f"relationship `{hop}` (to `{edge.target}`): join paths change"
            changes.append(Change("removed", hop, "relationship", detail, True))
        elif (edge.target, edge.cardinality, edge.keys) != (
            (now := after[hop]).target,
            now.cardinality,
            now.keys,
        ):
            keys = ", ".join(f"{s} = {t}" for s, t in now.keys)
            detail = (
                f"relationship `{hop}` is now {now.cardinality} to `{now.target}` on {keys} "
                f"(was {edge.cardinality} to `{edge.target}` on "
                f"{', '.join(f'{s} = {t}' for s, t in edge.keys)})"
            )
            changes.append(Change("relationship", hop, "relationship", detail, True))
    for hop, edge in after.items():
        if hop not in before:
            detail = f"relationship `{hop}` ({edge.cardinality} to `{edge.target}`)"
            changes.append(Change("added", hop, "relationship", detail, False))
    return changes


# --- from git -------------------------------------------------------------------------------


def diff_revision(path: Path, revision: str = "HEAD") -> VocabularyDiff:
    """The vocabulary of the project at `path` (its working tree) compared with the same
    project at the git `revision`. Files that cannot be read on either side are reported in
    `problems` and left out of the comparison."""
    root = find_root(path)
    new, new_problems = Project.inspect(root)
    if new is None:
        raise SemanticError([d for d in new_problems if d.severity == "error"])
    with tempfile.TemporaryDirectory(prefix="semantic-diff-") as folder:
        old_root = project_at_revision(root, revision, Path(folder))
        old, old_problems = Project.inspect(old_root)
        if old is None:
            unreadable = Diagnostic(
                "SEM422",
                f"the project's {CONFIG_FILE} cannot be read at revision '{revision}'",
                Span(f"{revision}:{CONFIG_FILE}"),
                "compare with a revision where it is valid",
            )
            errors = [d for d in old_problems if d.severity == "error"]
            raise SemanticError([*(_at(revision, d, "error") for d in errors), unreadable])
        old_texts = written_texts(old)
    problems = [_at(revision, d) for d in old_problems if d.severity == "error"]
    problems += [d for d in new_problems if d.severity == "error"]
    changes = compare_models(old.model, new.model, (old_texts, written_texts(new)))
    return VocabularyDiff(revision, tuple(changes), tuple(problems))


def written_texts(project: Project) -> dict[str, dict[str, str]]:
    """The expressions, conditions and filters of the project's terms as written in its
    glossary files (the model holds them parsed and normalised)."""
    texts: dict[str, dict[str, str]] = {}
    folder = project.root / project.config.glossary
    for path in sorted(folder.glob("*.yml")) + sorted(folder.glob("*.yaml")):
        doc, _ = read_file(path, GlossaryFile, path.name)
        for tid, spec in doc.data.terms.items() if doc else ():
            meaning = next(getattr(spec, m) for m in MEANINGS if getattr(spec, m) is not None)
            found = {
                part: text
                for part, key in (("expression", "expr"), ("condition", "condition"))
                if isinstance(text := getattr(meaning, key, None), str)
            }
            if getattr(meaning, "filter", None):
                found["filter"] = meaning.filter
            texts.setdefault(tid, found)
    return texts


def _at(revision: str, diagnostic: Diagnostic, severity: Severity = "warning") -> Diagnostic:
    """A diagnostic of the old files, named `REV:path` as git does."""
    span = diagnostic.span
    where = Span(f"{revision}:{span.file}", span.line, span.col) if span else Span(revision)
    return Diagnostic(diagnostic.code, diagnostic.message, where, diagnostic.hint, severity)


# --- output ---------------------------------------------------------------------------------

_TITLES = {
    "removed": "Removed",
    "kind": "Kind changed",
    "meaning": "Meaning changed",
    "path": "Path changed",
    "grains": "Grains",
    "status": "Status",
    "relationship": "Relationship changed",
    "added": "Added",
    "renamed": "Renamed",
    "definition": "Definition changed",
    "names": "Synonyms and hidden labels",
    "name": "Name",
    "governance": "Governance",
    "domain": "Domain",
    "entity": "Entity changed",
}


def _line(change: Change) -> str:
    text = f"**{_TITLES[change.kind]}** {change.detail}"
    if change.used_by:
        text += f"; used by {', '.join(f'`{u}`' for u in change.used_by)}"
    return text


def render_markdown(diff: VocabularyDiff) -> str:
    """The diff as a pull-request comment."""
    breaking = diff.breaking
    other = [c for c in diff.changes if not c.breaking]
    lines = [f"## Vocabulary changes since `{diff.base}`", ""]
    if not diff.changes:
        lines.append("No change to the vocabulary.")
    else:
        lines.append(
            f"**{len(breaking)} breaking change(s)**, {len(other)} other change(s)."
            if breaking
            else f"No breaking change; {len(other)} change(s)."
        )
    for title, group in (("Breaking changes", breaking), ("Other changes", other)):
        if group:
            lines += ["", f"### {title}", ""] + [f"- {_line(c)}" for c in group]
    if diff.problems:
        lines += [
            "",
            "### Errors met while reading",
            "",
            "What they affect is left out of the comparison.",
            "",
        ]
        lines += [f"- `{d.span}` {d.code} {d.message}" for d in diff.problems]
    return "\n".join(lines) + "\n"


def render_text(diff: VocabularyDiff) -> str:
    """The diff for a terminal: one change a line, breaking ones first."""
    if not diff.changes:
        return f"no change to the vocabulary since {diff.base}\n"
    ordered = sorted(diff.changes, key=lambda c: not c.breaking)
    lines = [
        ("BREAKING " if c.breaking else "") + _line(c).replace("**", "").replace("`", "'")
        for c in ordered
    ]
    lines.append(
        f"{len(diff.breaking)} breaking, {len(diff.changes) - len(diff.breaking)} other "
        f"change(s) since {diff.base}"
    )
    return "\n".join(lines) + "\n"


def render_json(diff: VocabularyDiff) -> str:
    """The diff for programs."""
    return (
        json.dumps(
            {
                "base": diff.base,
                "breaking": len(diff.breaking),
                "changes": [c.as_dict() for c in diff.changes],
                "problems": [d.as_dict() for d in diff.problems],
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )
