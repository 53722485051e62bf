"""A query that selects dimensions and no metric: the distinct combinations of its
dimensions among the rows of one entity (the "list of values" a BI tool asks for).

`SELECT supplier_name WHERE part_name LIKE 'forest%'` lists the suppliers of the offers
(`partsupp` rows) whose part's name starts with "forest": the rows are those of the one
entity the query names from which every selected dimension and every row condition is read
through to-one relationships, so each row has one value of each, and the answer is the set
of the combinations these rows have (`GROUP BY` the dimensions, no aggregate). The entity:

- among the entities the query's terms are on (a term reached through a path is on the
  entity its path starts from: `customer_region` on `customer`), those from which every
  term of SELECT and WHERE is read through to-one relationships only;
- one of them: that one; several (entities in one-to-one relationships): the one every
  selected dimension is on, when they share one;
- none, or no way to choose: SEM371, with the entities each term is on and the fix (a
  metric counting the rows meant, such as `HAVING offer_count > 0`, says which rows).

What says whose rows are listed: the selected dimensions and the terms the row conditions
read on the rows (`existence.outer_refs`), nothing else. A metric per entity is a term made
on its entity (`compiler.perentity`), a column of it; a grand total next to dimensions is a
scalar subquery there, read by no row; an existence's condition is read by its subquery,
only its anchor and `THIS(d)` by the rows. A metric at the query's own grain anywhere
(SELECT, HAVING, ORDER BY) makes it an ordinary query; a metric at another grain alone
(`WHERE MEASURE(m) PER (ALL) > 0`, a condition on the groups; `PER (dimension)`) does not:
`compiler.othergrain` plans the list without it and reads it beside, so its metric's rows
never choose the list's.
"""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from semantic.compiler.existence import outer_refs
from semantic.compiler.joins import plan_aggregate
from semantic.compiler.locate import QUERY_FILE
from semantic.compiler.naming import Names
from semantic.compiler.plannodes import Aggregate
from semantic.compiler.refs import BusinessQuery
from semantic.errors import SemanticError, Span, error
from semantic.model import Model, Term

#: an existence the rows of an entity cannot test (no many side to look in, a metric
#: inside): said as such when no entity lists the values, rather than as SEM371
EXISTENCE_CODES = frozenset({"SEM354", "SEM355"})


def plan_listing(
    model: Model,
    names: Names,
    keys: list[tuple[str, exp.Expression]],
    filters: tuple[exp.Expression, ...],
    query: BusinessQuery,
) -> Aggregate:
    """The aggregate without measures that lists the distinct combinations of `keys` among
    the rows of the entity the query's terms are read from through to-one relationships
    (see the module); SEM371 when there is none, or no way to choose one."""
    selected = [model.terms[r.ident] for _, e in keys for r in outer_refs(e)]
    used = [*selected, *(model.terms[r.ident] for f in filters for r in outer_refs(f))]
    named = list(dict.fromkeys(row_entity(t) for t in used))
    found: dict[str, Aggregate] = {}
    refused: list[SemanticError] = []
    for entity in named:
        try:
            agg = plan_aggregate(model, "", entity, [], keys, filters, query)
        except SemanticError as exc:
            if exc.code in EXISTENCE_CODES:
                refused.append(exc)
            continue  # a term this entity cannot reach: not the rows of the list
        if not agg.fanout:  # to-one joins only: each row has one value of each term
            found[entity] = agg
    on = {row_entity(t) for t in selected}
    if len(found) > 1 and len(on) == 1 and next(iter(on)) in found:
        found = {e: a for e, a in found.items() if e in on}
    if len(found) == 1:
        ((entity, agg),) = found.items()
        return replace(agg, name=names.new(f"{entity}_values"))
    if not found and refused:  # an existence none of them can test: its own problem
        raise refused[0]
    # the place: the first term on another entity than the first term's
    other = next((t for t in used if row_entity(t) != named[0]), used[0]) if used else None
    why = (
        f"the rows of {' or '.join(sorted(found))} could be listed"
        if found
        else "no entity it names reaches all its terms through to-one relationships"
    )
    # the example of the hint: a count of rows that do reach every term, when some do
    reaching = list(found) or [
        e for e in model.entities if e not in named and _reaches(model, e, keys, filters, query)
    ]
    order = reaching or named
    counts = sorted(
        (
            (t.id, t.entity)
            for t in model.terms.values()
            if t.is_metric and t.entity in order and _counts_rows(t.expr)
        ),
        key=lambda c: order.index(c[1]),  # in the order of the model
    )
    raise error(
        "SEM371",
        f"the query selects no metric, and {why} (its terms are on {', '.join(named)})",
        query.place(other.id) if other is not None else Span(QUERY_FILE, 1, 1),
        "say whose rows the values are listed among with a metric counting them, e.g. "
        + (f"HAVING {counts[0][0]} > 0 (the {counts[0][1]} rows)" if counts else "a count")
        + ", or select a metric with the dimensions",
    )


def _reaches(
    model: Model,
    entity: str,
    keys: list[tuple[str, exp.Expression]],
    filters: tuple[exp.Expression, ...],
    query: BusinessQuery,
) -> bool:
    """Whether the rows of `entity` read every key and filter through to-one joins."""
    try:
        return not plan_aggregate(model, "", entity, [], keys, filters, query).fanout
    except SemanticError:
        return False


def row_entity(term: Term) -> str:
    """The entity whose rows carry `term`'s value: where its path starts, else its own."""
    if term.path:
        return term.path[0].partition(".")[0]
    return term.entity or ""


def _counts_rows(expr: exp.Expression) -> bool:
    """Whether a metric's expression is `COUNT(*)`: the number of its entity's rows."""
    return isinstance(expr, exp.Count) and isinstance(expr.this, exp.Star)
