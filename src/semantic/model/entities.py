"""Entities and relationships: the model files read into the draft, with their columns,
quality rules and both directions of every relationship checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from semantic.errors import suggest
from semantic.files.read import Document
from semantic.files.schema import ModelFile, QualityRuleSpec, RelationshipSpec
from semantic.model.draft import Draft
from semantic.model.quality import quality_rule
from semantic.model.types import Column, Edge, Entity, QualityRule, Term

#: the direction of a relationship read backwards
_BACK = {"many_to_one": "one_to_many", "one_to_many": "many_to_one"}


def add_entities(draft: Draft, doc: Document[ModelFile]) -> None:
    """The entities of one model file, each defined once (SEM103) with its primary key among
    its columns (SEM203)."""
    for eid, spec in doc.data.entities.items():
        span = doc.span(("entities", eid))
        if eid in draft.entities:
            draft.defined_twice(f"entity '{eid}'", span, draft.entities[eid].span)
            continue
        columns = {
            name: Column(name, c.type, c.description, c.nullable)
            for name, c in spec.columns.items()
        }
        for i, key in enumerate(spec.primary_key):
            if key not in columns:
                draft.report(
                    "SEM203",
                    f"primary key column '{key}' is not a column of entity '{eid}'",
                    doc.span(("entities", eid, "primary_key", i)),
                    suggest(key, columns),
                )
        draft.entities[eid] = Entity(
            eid,
            spec.table or eid,
            spec.description,
            tuple(spec.primary_key),
            columns,
            span,
            confidentiality=None
            if spec.confidentiality is None
            else draft.level(
                spec.confidentiality, doc.span(("entities", eid, "confidentiality"), value=True)
            ),
        )
        draft.entity_docs[eid] = doc
        draft.edges.setdefault(eid, [])


def quality_rules(
    draft: Draft,
    doc: Document[Any],
    owner: tuple[str, str],
    specs: Mapping[str, QualityRuleSpec],
    entity: str,
    columns: Mapping[str, Column],
    term: Term | None = None,
) -> tuple[QualityRule, ...]:
    """The valid quality rules of an entity or a term (`owner`: where it is written), each
    checked for its kind (see `model.quality`)."""
    rules = (
        quality_rule(draft, doc, (*owner, "quality", rid), rid, entity, spec, columns, term)
        for rid, spec in specs.items()
    )
    return tuple(rule for rule in rules if rule is not None)


def add_entity_quality(draft: Draft) -> None:
    """The quality rules of every entity, once all entities are known (a custom rule may
    read the tables of others)."""
    for eid, doc in draft.entity_docs.items():
        entity = draft.entities[eid]
        specs = doc.data.entities[eid].quality
        if specs:
            rules = quality_rules(draft, doc, ("entities", eid), specs, eid, entity.columns)
            draft.entities[eid] = replace(entity, quality=rules)


def link_relationships(draft: Draft) -> None:
    """Both directions of every relationship, as edges: declared ones as written, reverse
    ones named after them; entities without any edge are warned about (SEM207)."""
    reverse: list[tuple[Edge, str]] = []
    for eid, doc in draft.entity_docs.items():
        for i, rel in enumerate(doc.data.entities[eid].relationships):
            edge = _declared_edge(draft, doc, eid, i, rel)
            if edge is None:
                continue
            draft.edges[eid].append(edge)
            back = _BACK.get(edge.cardinality, "one_to_one")
            flipped = tuple((t, s) for s, t in edge.keys)
            reverse.append((Edge(rel.to, eid, eid, back, flipped, False), edge.name))  # type: ignore[arg-type]
    for edge, declared_name in reverse:
        taken = {e.name for e in draft.edges[edge.source]}
        # the reverse of a named relationship (bill_to_customer) is named after it
        # (orders_bill_to_customer), so that two roles never share a name and a name
        # never changes when another relationship is added
        named = declared_name != edge.source and declared_name != edge.target
        name = f"{edge.name}_{declared_name}" if named or edge.name in taken else edge.name
        draft.edges[edge.source].append(
            Edge(edge.source, name, edge.target, edge.cardinality, edge.keys, False)
        )
    if len(draft.entities) > 1:
        for eid, entity in draft.entities.items():
            if not draft.edges[eid]:
                draft.warn(
                    "SEM207",
                    f"entity '{eid}' has no relationship to any other entity",
                    entity.span,
                    "declare a relationship so its terms can be combined with others",
                )


def _declared_edge(
    draft: Draft, doc: Document[ModelFile], eid: str, i: int, rel: RelationshipSpec
) -> Edge | None:
    """The edge relationship `i` of `eid` declares, or None once its problems are reported:
    an unknown target (SEM202), join keys that are not columns (SEM203), a relationship to
    itself without a role (SEM230), a name taken twice (SEM209)."""
    where = ("entities", eid, "relationships", i)
    name = rel.name or rel.to
    if rel.to not in draft.entities:
        draft.report(
            "SEM202",
            f"relationship of '{eid}' points to unknown entity '{rel.to}'",
            doc.span((*where, "to"), value=True),
            suggest(rel.to, draft.entities),
        )
        return None
    source, target = draft.entities[eid], draft.entities[rel.to]
    ok = True
    for src, tgt in rel.keys.items():
        for ent, col in ((source, src), (target, tgt)):
            if col not in ent.columns:
                ok = False
                draft.report(
                    "SEM203",
                    f"join key '{col}' is not a column of entity '{ent.id}'",
                    doc.span((*where, "keys", src)),
                    suggest(col, ent.columns),
                )
    if rel.to == eid and not _check_self(draft, doc, where, eid, rel.name, rel.keys):
        return None
    if any(e.name == name for e in draft.edges[eid]):
        ok = False
        draft.report(
            "SEM209",
            f"entity '{eid}' has two relationships named '{name}'",
            doc.span(where),
            "give each relationship to the same entity its own `name`",
        )
    if rel.required and rel.cardinality not in ("many_to_one", "one_to_one"):
        ok = False
        draft.report(
            "SEM275",
            f"relationship '{name}' of '{eid}' is {rel.cardinality} and says `required: true`: "
            "only a to-one relationship can promise that each row finds its one row",
            doc.span((*where, "required")),
            f"declare `required` on the many_to_one relationship of '{rel.to}' to '{eid}', "
            "or leave it out",
        )
    if not ok:
        return None
    return Edge(eid, name, rel.to, rel.cardinality, tuple(rel.keys.items()), True, rel.required)


def _check_self(
    draft: Draft,
    doc: Document[ModelFile],
    where: tuple[str | int, ...],
    eid: str,
    name: str | None,
    keys: Mapping[str, str],
) -> bool:
    """A relationship from an entity to itself (an author's mentor) is named after the
    role of the other row, since its hops (`authors.mentor`, and back `authors.authors_mentor`)
    are how terms tell that row from the row itself; and it leads to another row."""
    if name is None or name == eid:
        draft.report(
            "SEM230",
            f"the relationship of '{eid}' to itself needs a `name` saying the role of the "
            "other row",
            doc.span(where),
            f"name it after that role, e.g. name: parent; then pin the terms that read the "
            f"other row with path: [{eid}.parent]",
        )
        return False
    if all(src == tgt for src, tgt in keys.items()):
        draft.report(
            "SEM230",
            f"relationship '{name}' of '{eid}' joins every row to itself "
            f"({', '.join(f'{s} = {t}' for s, t in keys.items())})",
            doc.span(where),
            "join the column that refers to the other row to the key, e.g. "
            "{manager_id: employee_id}",
        )
        return False
    return True
