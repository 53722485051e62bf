"""The reference's meaning of two more constructs, by brute force over its Python rows (no
SQL, no part of the compiler), as docs/query-language.md describes them:

- **a list of values** (a query of dimensions and no metric, `SELECT supplier_name WHERE
  part_name LIKE 'forest%'`): the distinct combinations of the selected dimensions among
  the rows of one entity that meet the row conditions. The entity: among the entities the
  query's terms are on (a term reached through a path is on the entity its path starts
  from: `customer_region` on `customer`), the one from which every term of SELECT and WHERE
  is read through to-one relationships; several: the one every selected dimension is on;
  none, or no way to choose: refused (SEM371). A metric per entity is on its entity; a grand
  total next to a dimension is one value for every row (over all the rows, its own FILTER
  only); a grand total alone in a condition (`MEASURE(net_revenue) PER (ALL) > 0`, a
  condition on the groups, `GroupTotal`) is its metric over the rows the query's other
  conditions keep, the same for every row: it keeps all the list or none of it. Neither
  decides the entity: its metric's rows are not the list's.
- **a saved per-entity term** (a glossary dimension whose expression is `MEASURE(m) [FILTER
  (WHERE f)] PER (its entity)`): the same value as the expression written in the query
  (`SavedPer`, a `PerEntity` named by its term).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from tests.differential.reference import LEVELS, Combined, Dim, Expr, Query, Reference
from tests.differential.reference_grain import Band, GrainReference, GrandTotal, PerEntity

#: the entity each node of the reference's graph is on, for a list of values
ON = {
    "c_nation": "customer",
    "c_region": "customer",
    "s_nation": "supplier",
    "s_region": "supplier",
}

#: the nodes each entity reaches through to-one relationships (its own row included)
TO_ONE = {**{entity: levels[0] for entity, levels in LEVELS.items()}, "part": frozenset({"part"})}


def _on(reference: Reference, dim: Dim) -> str:
    node = reference.node_of(dim)
    return ON.get(node, node)


@dataclasses.dataclass(frozen=True)
class GroupTotal(GrandTotal):
    """`MEASURE(metric) [FILTER (WHERE filter)] PER (ALL)` alone in a condition (no
    dimension beside it): a condition on the groups, the metric computed under the query's
    WHERE. `term` is a dimension of the metric's entity (for the generator's pools)."""


def on_groups(condition: Expr) -> bool:
    """Whether `condition` reads grand totals alone: a condition on the groups."""
    dims = condition.dims()
    return bool(dims) and all(isinstance(d, GroupTotal) for d in dims)


def listing_entity(reference: Reference, query: Query) -> str | None:
    """The entity whose rows a list of values is among, or None when the query is refused."""
    where = [d for c in query.where for d in c.dims() if not isinstance(d, GrandTotal)]
    terms = [*query.dims, *where]
    nodes = {reference.node_of(d) for d in terms}
    candidates = {
        e for e in (_on(reference, d) for d in terms) if e in TO_ONE and nodes <= TO_ONE[e]
    }
    if len(candidates) > 1:
        candidates = {e for e in candidates if all(_on(reference, d) == e for d in query.dims)}
    return next(iter(candidates)) if len(candidates) == 1 else None


def _rows(reference: Reference, entity: str) -> list[Combined]:
    if entity == "part":
        return [{"part": row} for row in reference.tables["part"]]
    return [row for _, row in reference.combined(entity, 0)]


def _value(reference: GrainReference, row: Combined, dim: Dim) -> Any:
    if isinstance(dim, GrandTotal):
        return reference.grand_value(dim)
    if isinstance(dim, PerEntity | Band):
        per = dim if isinstance(dim, PerEntity) else dim.per
        assert per is not None
        value = reference.per_value(per, _value(reference, row, Dim(per.term)))
        return dim.band(value) if isinstance(dim, Band) else value
    info = reference.dims[dim.term]
    found = row[info.node]
    return None if found is None else dim.apply(found[info.column], reference.fiscal_start)


def _meets(reference: GrainReference, row: Combined, condition: Expr) -> bool:
    values = {d: _value(reference, row, d) for d in condition.dims()}
    return condition.eval(values) is True


def evaluate_listing(reference: GrainReference, query: Query) -> list[tuple[Any, ...]] | None:
    """The distinct combinations of `query`'s dimensions (unordered), or None: refused."""
    entity = listing_entity(reference, query)
    if entity is None:
        return None
    rows_where = [c for c in query.where if not on_groups(c)]
    for condition in query.where:
        if on_groups(condition):  # the same for every row: all of the list, or none
            values = {t: reference.total_under(t, rows_where) for t in condition.dims()}
            if condition.eval(values) is not True:
                return []
    found = {
        tuple(_value(reference, row, d) for d in query.dims)
        for row in _rows(reference, entity)
        if all(_meets(reference, row, c) for c in rows_where)
    }
    return list(found)


# --- saved per-entity terms -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SavedPer(PerEntity):
    """A metric per entity read through the glossary term `saved` that holds it."""

    saved: str = ""

    @property
    def sql(self) -> str:
        return self.saved


def per_values(items: Iterable[Any]) -> list[PerEntity]:
    """Every metric per entity that `items` (dimensions, conditions) read, once each."""
    found: dict[PerEntity, None] = {}
    for item in items:
        if isinstance(item, PerEntity):
            found.setdefault(item)
        elif isinstance(item, Band) and item.per is not None:
            found.setdefault(item.per)
        elif isinstance(item, Expr):
            found.update(dict.fromkeys(per_values(item.dims())))
    return list(found)


def saved_name(index: int) -> str:
    return f"saved_per_{index}"


def saved_glossary(values: list[PerEntity]) -> str:
    """A glossary file holding each of `values` as a dimension of its entity."""
    lines = ["domain: constructs", "terms:"]
    for i, per in enumerate(values):
        lines += [
            f"  {saved_name(i)}:",
            f"    label: {{en: Saved value {i}}}",
            f"    dimension: {{entity: {per.entity}, expr: {json.dumps(per.sql)}}}",
        ]
    return "\n".join(lines) + "\n"


def as_saved(item: Any, names: dict[PerEntity, str]) -> Any:
    """`item` (a query, a column, a condition...) with each metric per entity that has a
    saved term read through it."""
    if isinstance(item, PerEntity) and not isinstance(item, SavedPer) and item in names:
        fields = {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
        return SavedPer(**fields, saved=names[item])
    if isinstance(item, tuple):
        return tuple(as_saved(x, names) for x in item)
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        changes = {
            f.name: as_saved(getattr(item, f.name), names)
            for f in dataclasses.fields(item)
            if f.init
        }
        return dataclasses.replace(item, **changes)
    return item
