"""Metrics of the glossary at another grain: a derived metric whose `expr` reads
`MEASURE(metric) PER (ALL | * EXCLUDE dimension | dimension, ...)` (`model.perterms`),
such as a share of the total, `net_revenue / MEASURE(net_revenue) PER (ALL)`.

`with_saved_grains` runs before planning: a reference to such a metric, in SELECT, HAVING
and ORDER BY, becomes its expression, its PER nodes normalised as the parser normalises a
query's (`pernodes.saved_per`), so that `compiler.othergrain` plans it as if the analyst
had written it. The grain is the query's: `PER (ALL)` is the total under the query's WHERE,
and a dimension named in PER must be one the query groups by (SEM350, pointed at the metric
in the query).
"""

from __future__ import annotations

from dataclasses import replace
from typing import cast

from sqlglot import exp

from semantic.compiler.pernodes import saved_per
from semantic.compiler.refs import (
    BusinessQuery,
    OrderItem,
    OutputColumn,
    find_refs,
    make_ref,
    ref_of,
)
from semantic.errors import error
from semantic.model import Model, Term


def with_saved_grains(model: Model, query: BusinessQuery) -> BusinessQuery:
    """`query` with each metric of the glossary that reads another grain written out as its
    expression (the query itself when it names none)."""

    def holder(tid: str) -> bool:
        term = model.terms.get(tid)
        return term is not None and term.is_metric and _holds(model, term)

    def inline(tree: exp.Expression) -> exp.Expression:
        def swap(node: exp.Expression) -> exp.Expression:
            ref = ref_of(node)
            if ref is None or ref.kind != "term" or not holder(ref.ident):
                return node
            term = model.terms[ref.ident]
            return exp.paren(inline(_written(model, query, term)), copy=False)

        if not any(holder(r.ident) for r in find_refs(tree, "term")):
            return tree  # the same tree: nothing to write out, nothing to copy
        return tree.transform(swap, copy=True)

    def column(c: OutputColumn) -> OutputColumn:
        new = inline(c.expr) if c.is_metric else c.expr
        return c if new is c.expr else replace(c, expr=new)

    def item(o: OrderItem) -> OrderItem:
        new = None if o.expr is None else inline(o.expr)
        return o if new is o.expr else replace(o, expr=new)

    columns = tuple(column(c) for c in query.columns)
    order = tuple(item(o) for o in query.order)
    having = tuple(inline(h) for h in query.having)
    same = (a is b for a, b in zip((*columns, *having, *order), _parts(query), strict=True))
    if all(same):
        return query
    return replace(query, columns=columns, having=having, order=order)


def _parts(query: BusinessQuery) -> tuple[object, ...]:
    return (*query.columns, *query.having, *query.order)


def _holds(model: Model, term: Term) -> bool:
    """Whether `term` reads another grain, itself or through the terms it is computed from.

    Kept per model in `path_cache` (shared with the models a query extends with terms of
    its own, whose ids never name two different metrics), so that a query asks about its
    own metrics only, whatever the size of the glossary; only final answers are kept
    there (a server compiles in several threads)."""
    known = cast(dict[str, bool], model.path_cache.setdefault(_HOLDS, {}))
    if term.id in known:
        return known[term.id]
    holding: dict[str, bool] = {}

    def holds(term: Term) -> bool:
        if term.id in known:
            return known[term.id]
        if term.id not in holding:
            holding[term.id] = False  # a cycle was refused with the glossary (SEM205)
            own = term.is_derived and term.expr.find(exp.Per) is not None
            holding[term.id] = own or any(
                holds(model.terms[r]) for r in term.refs if r in model.terms
            )
        return holding[term.id]

    found = holds(term)
    known.update(holding)
    return found


#: the key of `_holds`'s answers in `Model.path_cache`
_HOLDS = "metrics at another grain"


def _written(model: Model, query: BusinessQuery, term: Term) -> exp.Expression:
    """The expression of metric `term` over term references, its PER nodes normalised;
    SEM237 for a metric computed over time or with its own filter, which reads its parts
    otherwise than its expression says."""
    if not term.is_derived or term.filter is not None or term.is_over_time or term.conversion:
        what = (
            "a filter"
            if term.filter is not None
            else "a window or shift"
            if term.is_over_time
            else "a conversion"
            if term.conversion
            else "an entity"
        )
        raise error(
            "SEM237",
            f"metric '{term.id}' has {what} and reads a metric at another grain (MEASURE(...) PER)",
            query.place(term.id),
            "compute the metric at another grain in a derived metric of its own, with no "
            "filter, window or shift, and name that one in the query",
        )

    place = query.place(term.id)

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Per):
            per = saved_per(node, model)
            for named in per.expressions[1:]:  # SEM350 points at the metric in the query
                named.meta["span"] = place
            return per
        if isinstance(node, exp.Column) and node.find_ancestor(exp.Per) is None:
            return make_ref("term", node.name)
        return node

    return term.expr.transform(swap, copy=True)
