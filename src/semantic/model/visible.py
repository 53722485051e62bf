"""The model as a role sees it: the vocabulary without the terms above the role's clearance,
for the surfaces that show the vocabulary itself (`semantic search`, `semantic show`, the
catalog site), so that a hidden term is unknown there, never "hidden": no id, label,
synonym, definition or example of it is left to find, and nothing says it exists.

What `visible_model` leaves out:

- every term the role may not read (`Role.may_see`: the term and all it is computed from),
  its names (a query naming it finds no term), and the terms whose join path crosses an
  entity above the clearance;
- entities above the clearance (their own `confidentiality`), and the relationships to and
  from them;
- the columns of an entity that only hidden terms read (their descriptions tend to say what
  the term is), except keys, which every join needs;
- references to a hidden term from a visible one (broader, related, replaced by), the
  examples that name one, the quality rules of one, and the quality rules that read a
  column of a term the role sees masked (their scores tell what the mask hides);
- subject areas that read a hidden term (as `views apply` withholds them), and domains left
  with neither a term nor a subject area.

Definitions are prose and are kept as written: a steward who mentions a confidential term
in the definition of an internal one shows it to every internal role.

>>> from semantic.project import Project
>>> model = Project.load(".").model
>>> seen = visible_model(model, model.policy.role("analyst"))
>>> "customer_name" in model.terms, "customer_name" in seen.terms
(True, False)
>>> "nom du client" in seen.names
False
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from sqlglot import exp

from semantic.model.names import normalize_name
from semantic.model.policy import Role
from semantic.model.types import Entity, Model, QualityRule, SubjectArea, Term


def visible_model(model: Model, role: Role) -> Model:
    """`model` without what `role` may not see (see the module)."""
    rank = model.rank_of(role.clearance)
    entities = {
        eid: e
        for eid, e in model.entities.items()
        if e.confidentiality is None or model.rank_of(e.confidentiality) <= rank
    }
    kept = {
        tid: t
        for tid, t in model.terms.items()
        if role.may_see(tid) and all(hop.partition(".")[0] in entities for hop in t.path)
    }
    hidden = [t for tid, t in model.terms.items() if tid not in kept]
    mentions = _mentions([name for t in hidden for name in _names(t)])
    # a rule over a masked term's column compares its clear values with a pattern, a list
    # or a range: its score would tell what the mask hides (as SEM332 refuses in a query)
    masked = _columns_read(model, [t for tid, t in kept.items() if role.mask_of(tid)])
    terms = {tid: _cleaned(t, kept, mentions, masked, model) for tid, t in kept.items()}
    areas = {
        aid: a
        for aid, a in model.subject_areas.items()
        if model.terms_read(_area_names(a)) <= kept.keys()
    }
    domains = {
        did: replace(d, terms=tuple(t for t in d.terms if t in terms))
        for did, d in model.domains.items()
        if any(t in terms for t in d.terms) or any(a.domain == did for a in areas.values())
    }
    read = _columns_read(model, terms.values())
    unseen = _columns_read(model, hidden)
    return replace(
        model,
        entities={eid: _entity(e, read, unseen, masked, model) for eid, e in entities.items()},
        edges={
            eid: tuple(edge for edge in edges if edge.target in entities)
            for eid, edges in model.edges.items()
            if eid in entities
        },
        terms=terms,
        domains=domains,
        names={
            key: entries
            for key, found in model.names.items()
            if (entries := tuple(n for n in found if n.term in terms))
        },
        subject_areas=areas,
        path_cache={},
    )


def _names(term: Term) -> Iterable[str]:
    """Every way of naming `term`: its id, labels, synonyms and misspellings."""
    yield term.id
    yield from term.labels.values()
    for texts in (*term.synonyms.values(), *term.hidden_labels.values()):
        yield from texts


def _mentions(names: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern that finds any of `names` as whole words in a normalized text (None: no
    name)."""
    keys = sorted({normalize_name(n) for n in names} - {""}, key=len, reverse=True)
    if not keys:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(k) for k in keys) + r")(?!\w)")


def _cleaned(
    term: Term,
    kept: Iterable[str],
    mentions: re.Pattern[str] | None,
    masked: set[tuple[str, str]],
    model: Model,
) -> Term:
    """`term` without its references to hidden terms, its examples that name one and its
    quality rules that read a masked column."""
    seen = set(kept)
    examples = {
        lang: kept_texts
        for lang, texts in term.examples.items()
        if (
            kept_texts := tuple(
                x for x in texts if mentions is None or not mentions.search(normalize_name(x))
            )
        )
    }
    return replace(
        term,
        broader=tuple(b for b in term.broader if b in seen),
        related=tuple(r for r in term.related if r in seen),
        replaced_by=term.replaced_by if term.replaced_by in seen else None,
        examples=examples,
        quality=tuple(r for r in term.quality if not _reads_masked(r, masked, model)),
    )


def _area_names(area: SubjectArea) -> list[str]:
    """The terms a subject area names: its members and its filter's terms."""
    names = [w.partition(".")[0] for w in (*area.dimensions, *area.metrics, *area.segments)]
    if area.filter is not None:
        names += [c.table or c.name for c in area.filter.find_all(exp.Column)]
    return names


def _columns_read(model: Model, terms: Iterable[Term]) -> set[tuple[str, str]]:
    """(entity, column) of every column the terms' own expressions and filters read."""
    found: set[tuple[str, str]] = set()
    for term in terms:
        for tree in (term.expr, term.filter):
            if tree is None or term.entity is None:
                continue
            for col in tree.find_all(exp.Column):
                owner = col.table if col.table in model.entities else term.entity
                found.add((owner, col.name))
    return found


def _entity(
    entity: Entity,
    read: set[tuple[str, str]],
    unseen: set[tuple[str, str]],
    masked: set[tuple[str, str]],
    model: Model,
) -> Entity:
    """`entity` without the columns that only hidden terms read (keys are kept) and the
    quality rules that read such a column or a masked one."""
    keys = set(entity.primary_key)
    for edges in model.edges.values():
        for edge in edges:
            if edge.source == entity.id:
                keys.update(s for s, _ in edge.keys)
            if edge.target == entity.id:
                keys.update(t for _, t in edge.keys)
    columns = {
        name: c
        for name, c in entity.columns.items()
        if name in keys or (entity.id, name) in read or (entity.id, name) not in unseen
    }
    quality = tuple(
        r
        for r in entity.quality
        if not _reads_hidden(r.check, entity, columns) and not _reads_masked(r, masked, model)
    )
    return replace(entity, columns=columns, quality=quality)


def _reads_masked(rule: QualityRule, masked: set[tuple[str, str]], model: Model) -> bool:
    """Whether a quality rule's check reads a column that a masked term reads."""
    for col in rule.check.find_all(exp.Column):
        owner = col.table if col.table in model.entities else rule.entity
        if (owner, col.name) in masked:
            return True
    return False


def _reads_hidden(check: exp.Expression, entity: Entity, columns: Iterable[str]) -> bool:
    """Whether a quality rule's check reads a column left out of the entity."""
    shown = set(columns)
    return any(
        c.name in entity.columns and c.name not in shown
        for c in check.find_all(exp.Column)
        if not c.table or c.table == entity.id
    )
