"""Joins kept only to read the key they join on, left out: the foreign key read instead.

A to-one join along a `required` relationship that no role restricts finds exactly one row
for every row (the model's promise, which `engines.integrity` measures), and that row's key
columns hold the values of the foreign key it was matched on. Where nothing reads the joined
row but those key columns, and nothing joins on from it, the join adds nothing: the key
columns are read from the foreign key and the join goes. TPC-H Q11 groups by `part_key`
(`p_partkey`) and joined 800,000 rows of `partsupp` to `part` for it; it now groups by
`ps_partkey`, the official shape.

With a LEFT JOIN along a relationship that is not `required` the two differ: a row whose
foreign key finds no row reads NULL for the target's key, never its own foreign key; so
only `required` hops qualify (`Join.inner` for an aggregate's joins, `Edge.required` for
an existence's).

The same decision serves an aggregate's joins (`without_key_joins`, on the plan) and an
existence's subquery (`existence.without_key_joins`, on its SQL): `key_reads`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from sqlglot import exp

from semantic.compiler.plannodes import Aggregate, Join
from semantic.model.nodes import column


def key_reads(
    alias: str, keys: tuple[tuple[str, str], ...], used: Iterable[exp.Column]
) -> dict[str, str] | None:
    """The foreign key column read in place of each key column of the join `alias` (along
    `keys`, (source, target) pairs) when `used`, the columns read outside the join's own ON,
    read nothing of `alias` but the target's key columns; else None."""
    source = {t: s for s, t in keys}
    if any(c.table == alias and c.name not in source for c in used):
        return None
    return source


def without_key_joins(agg: Aggregate, per_rows: Iterable[str] = ()) -> Aggregate:
    """`agg` without each inner join (`Join.inner`: required to-one hops, no role's rows)
    that its keys, measures, filters and conditions read only for the target's key columns,
    that no other join hangs from, and whose entity has no per-entity values (`per_rows`,
    entity ids: read from a subquery of their own): those columns read the parent's foreign
    key instead. The values are the same (the joined row's key *is* the foreign key); the
    group keys keep their ids, so what is known of them (`not_null`) stays true."""
    valued = set(per_rows)
    trees = _trees(agg)
    joins = list(agg.joins)
    for join in reversed(agg.joins):  # children come after parents: leaves first
        if not join.inner or join.edge.target in valued:
            continue
        if any(j.parent == join.alias for j in joins if j is not join):
            continue
        used = [c for t in trees for c in t.find_all(exp.Column)]
        if any(c.table == join.alias and c.find_ancestor(exp.Query) for c in used):
            continue  # read in a subquery (an existence, a grand total): left as it is
        source = key_reads(join.alias, join.edge.keys, used)
        if source is None:
            continue
        parent = join.parent

        def swap(
            n: exp.Expression,
            alias: str = join.alias,
            parent: str = parent,
            source: dict[str, str] = source,
        ) -> exp.Expression:
            if isinstance(n, exp.Column) and n.table == alias:
                return column(source[n.name], parent)
            return n

        trees = [t.transform(swap, copy=True) for t in trees]
        joins.remove(join)
    if len(joins) == len(agg.joins):
        return agg
    return _rebuilt(agg, tuple(joins), trees)


def _trees(agg: Aggregate) -> list[exp.Expression]:
    """Every expression of `agg` that reads its joined rows, in a fixed order."""
    return [
        *(e for _, e in agg.keys),
        *(e for _, e in agg.measures),
        *agg.filters,
        *(e for _, e in agg.conditions),
    ]


def _rebuilt(agg: Aggregate, joins: tuple[Join, ...], trees: list[exp.Expression]) -> Aggregate:
    """`agg` with `joins` and its expressions replaced by `trees` (in `_trees`' order)."""
    it = iter(trees)
    return replace(
        agg,
        joins=joins,
        key_joins=(*agg.key_joins, *(j for j in agg.joins if j not in joins)),
        keys=tuple((k, next(it)) for k, _ in agg.keys),
        measures=tuple((m, next(it)) for m, _ in agg.measures),
        filters=tuple(next(it) for _ in agg.filters),
        conditions=tuple((m, next(it)) for m, _ in agg.conditions),
    )
