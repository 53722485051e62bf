"""Eager aggregation: an entity's rows aggregated by the foreign key of the one relationship
that every group key is reached through, before the join, then the small result joined and
aggregated again by the query's keys (TPC-H Q18: the order lines summed per order first,
not 6 million lines joined to their orders and customers and then grouped).

It gives the same numbers as the join first wherever it applies: each group of the query is
the union of the partial groups (foreign-key values) that join its rows, the measures are
aggregates that combine (a sum of sums, a sum of counts, a minimum of minimums), and the
second aggregation merges the partial groups that land in one group: rows whose key matches
nothing (or is NULL) under the NULL keys, or the copies of a repeated key. It applies only

- when the joins filter nothing (a filter on a joined entity may leave few rows to join,
  which the join first then aggregates: TPC-H Q3 and Q10 are faster as they are);
- when the group keys include the key a relationship joins on (the order key of Q18), so
  there are about as many groups as rows of that entity, and all read joined entities, none
  the aggregated entity's own columns;
- to SUM of exact numbers or doubles (a sum of integers changes type once summed again, on
  PostgreSQL), COUNT (summed back to a BIGINT), MIN and MAX, none DISTINCT.

Where each group of the query is the rows of exactly one partial group, the query's
conditions on the measures (`HAVING`) hold of the partial group already, and the partial
aggregates keep only the groups that meet them, before the joins (`having_first`: TPC-H
Q18 joins the 57 orders whose lines sum over 300, not 1.5 million). That is so when the
relationship aggregated by is `required` (every row's foreign key is not NULL and finds its
row: the join is inner, `Join.inner`) and the group keys include the key it joins on: the
query's group of a row is then decided by its foreign key's value, and two values are two
groups. Without the declaration, the rows whose key is NULL or matches nothing would share
one group (all NULL keys) made of several partial groups, and a condition on each partial
sum is not the condition on their total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot import exp

from semantic.compiler.naming import Names
from semantic.compiler.plannodes import Aggregate
from semantic.compiler.refs import ref_of
from semantic.model import Column, Model
from semantic.model.nodes import column

#: column types whose SUM keeps its type when summed again
SUMMABLE = ("decimal", "numeric", "double", "float", "real")


@dataclass(frozen=True, slots=True)
class Partials:
    """The partial aggregates of one aggregate: `by` (the entity's columns it is grouped by
    first), each partial (name, aggregate over the entity's rows), and the measures over the
    partials (columns of the entity's alias)."""

    by: tuple[str, ...]
    partials: tuple[tuple[str, exp.Expression], ...]
    measures: tuple[tuple[str, exp.Expression], ...]
    #: conditions over the partial aggregates, applied to them before the joins
    having: tuple[exp.Expression, ...] = ()


def eager_by(model: Model, agg: Aggregate) -> tuple[str, ...]:
    """The columns of `agg`'s entity to aggregate its rows by before the joins, or () where
    eager aggregation does not apply (see the module)."""
    root = agg.entity
    if agg.fanout or agg.conditions or not agg.keys or not agg.joins:
        return ()
    direct = [j for j in agg.joins if j.parent == root]
    if len(direct) != 1:
        return ()
    for _, key in agg.keys:
        read = _aliases(key)
        if not read or root in read:
            return ()
    if any(_aliases(f) - {root} for f in agg.filters):
        return ()
    keys = {e for _, e in agg.keys}
    if not any(all(column(t, j.alias) in keys for _, t in j.edge.keys) for j in agg.joins):
        return ()
    columns = model.entities[root].columns
    for _, measure in agg.measures:
        if _aliases(measure) - {root} or not _combines(measure, columns):
            return ()
    return tuple(source for source, _ in direct[0].edge.keys)


def having_first(agg: Aggregate, having: tuple[exp.Expression, ...]) -> tuple[exp.Expression, ...]:
    """The conditions of `having` (over measure references, as in `Plan.having`) that the
    partial aggregates of `agg` (eager, with group keys, and the only aggregate of its
    query) can apply before the joins, because each group of the query is one partial group
    (see the module): the conjuncts that read only measures of `agg`, and no group key,
    parameter or subquery, each with its measures written over the entity's rows (a group
    with keys shows a measure unfilled, so no fill is needed)."""
    if not agg.eager or not having or not agg.keys:
        return ()
    direct = [j for j in agg.joins if j.parent == agg.entity]
    keys = {e for _, e in agg.keys}
    if len(direct) != 1 or not direct[0].inner:
        return ()
    if not all(column(t, direct[0].alias) in keys for _, t in direct[0].edge.keys):
        return ()
    own = dict(agg.measures)

    def over_rows(node: exp.Expression) -> exp.Expression:
        ref = ref_of(node)
        return own[ref.ident].copy() if ref is not None else node

    found = []
    for condition in having:
        for part in condition.flatten() if isinstance(condition, exp.And) else (condition,):
            refs = [ref_of(n) for n in part.find_all(exp.Anonymous)]
            measures = [r.ident for r in refs if r is not None and r.kind == "measure"]
            if not refs or len(measures) < len(refs) or not set(measures) <= set(own):
                continue
            if part.find(exp.Placeholder, exp.Parameter, exp.Subquery, exp.Window) is None:
                found.append(part.copy().transform(over_rows, copy=False))
    return tuple(found)


def partials(agg: Aggregate) -> Partials:
    """The partial aggregates of `agg` (whose `eager` columns are set) and its measures
    over them."""
    names = Names(agg.eager)
    found: list[tuple[str, exp.Expression]] = []
    measures = []
    for measure_id, measure in agg.measures:

        def again(node: exp.Expression, measure_id: str = measure_id) -> exp.Expression:
            if not isinstance(node, exp.AggFunc):
                return node
            name = names.new(f"{measure_id}_part")
            found.append((name, node.copy()))
            value = column(name, agg.entity)
            if isinstance(node, exp.Count):
                return exp.cast(exp.Sum(this=value), exp.DataType.Type.BIGINT)
            return type(node)(this=value)

        measures.append((measure_id, measure.copy().transform(again, copy=False)))
    return Partials(agg.eager, tuple(found), tuple(measures), agg.having)


def _aliases(expr: exp.Expression) -> set[str]:
    return {c.table for c in expr.find_all(exp.Column)}


def _combines(measure: exp.Expression, columns: Mapping[str, Column]) -> bool:
    """Whether every aggregate in `measure` is one whose partial results combine, over
    columns of types that keep it exact."""
    aggs = list(measure.find_all(exp.AggFunc))
    if not aggs or measure.find(exp.Window, exp.Filter, exp.Distinct) is not None:
        return False
    for agg in aggs:
        if not isinstance(agg, exp.Sum | exp.Count | exp.Min | exp.Max):
            return False
        if agg.find_ancestor(exp.AggFunc) is not None:
            return False
        if isinstance(agg, exp.Sum):
            for used in agg.find_all(exp.Column):
                spec = columns.get(used.name)
                kind = (spec.type or "").strip().lower() if spec is not None else ""
                if not kind.startswith(SUMMABLE):
                    return False
    return True
