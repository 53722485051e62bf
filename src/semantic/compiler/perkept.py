"""Which entities a query can keep, so that its per-entity values need computing for those
only (`MEASURE(metric) PER (entity)`, `compiler.perentity`): TPC-H Q17's average quantity
of the parts of one brand and container, not of every part; Q20's quantity shipped of the
offers of 'forest' parts by Canadian suppliers, not of every offer.

A value is a property of its entity, computed over all its rows: leaving out of the
subquery the entities that fail a condition on the entity's own row changes no value of
the others (each entity's rows are all kept or all left out), and the entities left out
get the fill instead, where the query never reads them. That holds for a condition

- AND-ed at the top of the WHERE: every row the query keeps (aggregated, grouped, shown)
  meets it, and the per-entity value is read on those same rows (one alias per entity);
- on the entity's own columns (`part_brand = 'Brand#23'`), or on the columns of one entity
  it reaches by to-one relationships (`part_name LIKE 'forest%'` for an offer), when every
  metric of the query is the entity's own: each aggregate's rows are then the entity's,
  and reach that other entity along the path the subquery pins (its terms are made for
  the subquery with that path, as `via` makes them); a list of values without metrics
  (`compiler.listing`) counts as the entity's own when its rows are the entity's (`_listed`);

and not where the value could be read on rows the condition does not hold for: inside an
existence (its own rows of the entity), next to a metric at another grain, on a date or
time column (windows and period comparisons read rows of other periods than the WHERE
keeps), through a term whose path the glossary pins to the entity itself.
"""

from __future__ import annotations

from dataclasses import replace
from typing import cast

from sqlglot import exp

from semantic.compiler.existence import is_existence
from semantic.compiler.listing import row_entity
from semantic.compiler.pernodes import entity_of, is_per_entity
from semantic.compiler.refs import BusinessQuery, find_refs, make_ref, ref_of
from semantic.compiler.resolve import find_path
from semantic.errors import SemanticError
from semantic.model import Model, Term

#: between a term's id and the entity its path is pinned through, in the ids made here
THROUGH = " through "


def kept_entities(
    model: Model,
    query: BusinessQuery,
    trees: list[exp.Expression],
    saved: list[str],
    terms: dict[str, Term],
) -> dict[str, tuple[exp.Expression, ...]]:
    """The conditions of the query's WHERE, by entity, that the entities whose values the
    query reads must meet (terms pinned through the entity are added to `terms`)."""
    if any(is_existence(n) for t in trees for n in t.find_all(exp.Exists)):
        return {}
    if any(model.terms[t].path for t in saved):
        return {}
    valued = {entity_of(n) for t in trees for n in t.find_all(exp.Per) if is_per_entity(n)}
    valued |= {
        entity_of(n)
        for t in saved
        for n in model.terms[t].expr.find_all(exp.Per)
        if is_per_entity(n)
    }
    outer = _metric_entities(model, [*trees, *query.having])
    if outer == set() and len(valued) == 1 and _listed(model, trees, next(iter(valued))):
        outer = set(valued)  # a list of values among the rows of the valued entity
    found: dict[str, list[exp.Expression]] = {}
    for condition in query.filters:
        for part in condition.flatten() if isinstance(condition, exp.And) else [condition]:
            conjunct = cast(exp.Expression, part)
            target = _own_condition(model, conjunct)
            if target is None:
                continue
            for eid in valued:
                pinned = [model.terms[r.ident].path for r in find_refs(conjunct, "term")]
                if target == eid and not any(pinned):
                    found.setdefault(eid, []).append(conjunct)
                elif outer == {eid}:
                    through = _through(model, conjunct, eid, terms)
                    if through is not None:
                        found.setdefault(eid, []).append(through)
    return {eid: tuple(cs) for eid, cs in found.items()}


def _metric_entities(model: Model, trees: list[exp.Expression]) -> set[str] | None:
    """The entities of the base metrics the query aggregates (outside its per-entity
    values), or None next to a metric at another grain (planned apart)."""
    if any(not is_per_entity(n) for t in trees for n in t.find_all(exp.Per)):
        return None
    inside = {id(r) for t in trees for p in t.find_all(exp.Per) for r in p.find_all(exp.Anonymous)}
    ids = [
        ref.ident
        for t in trees
        for n in t.find_all(exp.Anonymous)
        if id(n) not in inside and (ref := ref_of(n)) is not None and ref.kind == "term"
    ]
    read = [model.terms[t] for t in model.terms_read(ids)]
    return {t.entity for t in read if t.is_metric and t.entity is not None}


def _listed(model: Model, trees: list[exp.Expression], eid: str) -> bool:
    """Whether a query without metrics lists values among the rows of `eid`
    (`compiler.listing`): `eid` is the one entity its terms are on (a term with a path is on
    the entity its path starts from) that reads every one of them through to-one
    relationships, so its rows are the listing's, and they reach each term as the
    subquery pins it."""
    inside = {id(r) for t in trees for p in t.find_all(exp.Per) for r in p.find_all(exp.Anonymous)}
    used = [
        model.terms[ref.ident]
        for t in trees
        for n in t.find_all(exp.Anonymous)
        if id(n) not in inside and (ref := ref_of(n)) is not None and ref.kind == "term"
    ]
    used = [t for t in used if t.entity is not None]
    named = {row_entity(t) for t in used} | {eid}

    def reaches(start: str) -> bool:
        for term in used:
            assert term.entity is not None
            try:
                path = find_path(model, start, term.entity, term.path, fan=True)
            except SemanticError:
                return False
            if not all(e.to_one for e in path):
                return False
        return True

    return [e for e in sorted(n for n in named if n) if reaches(e)] == [eid]


def _through(
    model: Model, condition: exp.Expression, eid: str, terms: dict[str, Term]
) -> exp.Expression | None:
    """`condition` with each term pinned to the path its rows of `eid` reach it by (the
    path the query's own aggregates of `eid` take), or None when that path is not to-one."""
    swaps: dict[str, str] = {}
    for ref in find_refs(condition, "term"):
        term = model.terms[ref.ident]
        assert term.entity is not None
        try:
            path = find_path(model, eid, term.entity, term.path, fan=True)
        except SemanticError:
            return None
        if not path or not all(e.to_one for e in path):
            return None
        tid = f"{term.id}{THROUGH}{eid}"
        terms.setdefault(tid, replace(term, id=tid, path=tuple(e.hop for e in path)))
        swaps[ref.ident] = tid

    def swap(node: exp.Expression) -> exp.Expression:
        ref = ref_of(node)
        if ref is None or ref.kind != "term":
            return node
        return make_ref("term", swaps[ref.ident], ref.grain)

    return condition.copy().transform(swap, copy=False)


def _own_condition(model: Model, condition: exp.Expression) -> str | None:
    """The entity whose own columns alone `condition` reads, through plain dimensions of
    it (no per-entity value, subquery, parameter, date or time), or None."""
    if condition.find(exp.Per, exp.Exists, exp.Query, exp.Placeholder, exp.Parameter, exp.Column):
        return None
    refs = [ref_of(n) for n in condition.find_all(exp.Anonymous)]
    if any(r is not None and r.kind != "term" for r in refs):
        return None
    entities = set()
    for ref in find_refs(condition, "term"):
        term = model.terms.get(ref.ident)
        if term is None or term.is_metric or term.entity is None or ref.grain:
            return None
        if term.expr.find(exp.Per):
            return None
        entity = model.entities[term.entity]
        for used in term.expr.find_all(exp.Column):
            col = entity.columns.get(used.name)
            if used.table or col is None or _is_time(col.type):
                return None
        entities.add(term.entity)
    return entities.pop() if len(entities) == 1 else None


def _is_time(type_: str | None) -> bool:
    """Whether a column of this declared type may hold dates or times (untyped: may)."""
    text = (type_ or "").lower()
    return not text or "date" in text or "time" in text or "interval" in text
