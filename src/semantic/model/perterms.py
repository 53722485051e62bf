"""Glossary terms that hold `MEASURE(metric) PER (...)`, the query language's metrics at
another grain, saved as terms (docs/files.md, "Metrics per entity and at another grain"):

- a **dimension** (or a segment) may read `MEASURE(metric) PER (its entity)`: each row's
  value of the metric (a customer's order count), alone or with the entity's columns
  (`CASE WHEN MEASURE(order_count) PER (customer) = 0 THEN 'none' ... END`, a band);
- a **derived metric** may read `MEASURE(metric) PER (ALL)`, `PER (* EXCLUDE dimension)` or
  `PER (dimension, ...)`: percent of total is `net_revenue / MEASURE(net_revenue) PER (ALL)`.

Inside `MEASURE(...)` the names are metric ids, inside its `FILTER (WHERE ...)` dimension
and segment ids, inside `PER (...)` the entity's id or dimension ids: the names of a
metric's `filter`, never columns. `check_per` checks them (SEM235, SEM236) and returns the
metrics read, which become the term's `refs`; the compiler reads the same nodes
(`compiler.perentity`, `compiler.savedgrain`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlglot import exp

from semantic.errors import Span, suggest
from semantic.model.types import FILE_DIALECT, Term

if TYPE_CHECKING:  # the checks run while a model is built; the compiler reads the rest
    from semantic.model.draft import Draft


def per_nodes(expr: exp.Expression) -> list[exp.Per]:
    """The `... PER (...)` nodes of a term's expression, outermost first."""
    return [n for n in expr.find_all(exp.Per) if n.find_ancestor(exp.Per) is None]


def own_columns(expr: exp.Expression) -> Iterator[exp.Column]:
    """The columns of a term's expression outside its PER nodes (those name terms)."""
    for column in expr.find_all(exp.Column):
        if column.find_ancestor(exp.Per) is None:
            yield column


def measured(node: exp.Per) -> tuple[exp.Expression, exp.Expression | None] | None:
    """The metric expression inside `MEASURE(...)` of a PER node and its FILTER condition,
    or None when the node does not start with `MEASURE(...)`."""
    head = node.this
    condition = None
    if isinstance(head, exp.Filter):
        condition = head.expression.this if isinstance(head.expression, exp.Where) else None
        head = head.this
    if not (isinstance(head, exp.Anonymous) and str(head.this).casefold() == "measure"):
        return None
    if len(head.expressions) != 1:
        return None
    return head.expressions[0], condition


def per_entity(node: exp.Per) -> str | None:
    """The name in `PER (name)` when the parentheses hold one bare name (`ALL` included)."""
    items = node.expressions
    if len(items) == 1 and isinstance(items[0], exp.Var):
        return str(items[0].name)
    if len(items) == 1 and isinstance(items[0], exp.Column) and not items[0].table:
        return str(items[0].name)
    return None


def with_all_written(expr: exp.Expression) -> exp.Expression:
    """`expr` with `PER (ALL)` holding the word ALL rather than a column named ALL, so that
    the expression prints as written (a column would print quoted, `PER ("ALL")`)."""

    def swap(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.Column)
            and isinstance(node.parent, exp.Per)
            and node.arg_key == "expressions"
            and not node.table
            and not node.this.args.get("quoted")
            and node.name.casefold() == "all"
        ):
            return exp.Var(this="ALL")
        return node

    return expr.transform(swap, copy=True)


def check_per(draft: Draft, term: Term) -> tuple[bool, tuple[str, ...]]:
    """Whether `term`'s PER nodes are of a form its kind may hold and name known terms
    (SEM235, SEM236, SEM201), and the metrics they read."""
    key = "condition" if term.kind == "segment" else "expr"
    span = draft.term_span(term, key, value=True)
    ok = True
    metrics: list[str] = []
    for node in per_nodes(term.expr):
        text = node.sql(FILE_DIALECT)
        inside = measured(node)
        if inside is None:
            draft.report(
                "SEM235",
                f"'{text}' in term '{term.id}' does not start with MEASURE(metric)",
                span,
                "write MEASURE(metric) PER (...), e.g. MEASURE(order_count) PER (customer)",
            )
            ok = False
            continue
        ok = _check_form(draft, term, node, text) and ok
        metric, condition = inside
        for column in metric.find_all(exp.Column):
            ok = _check_name(draft, term, column.name, "metric", span) and ok
            if column.name in draft.terms and column.name not in metrics:
                metrics.append(column.name)
        for column in condition.find_all(exp.Column) if condition is not None else ():
            ok = _check_name(draft, term, column.table or column.name, "row", span) and ok
        if metric.find(exp.AggFunc) is not None:
            draft.report(
                "SEM236",
                f"MEASURE({metric.sql(FILE_DIALECT)}) in term '{term.id}' aggregates: "
                "MEASURE takes metrics",
                span,
                "name a metric of the glossary, or define one for that aggregate",
            )
            ok = False
    return ok, tuple(metrics)


def _check_form(draft: Draft, term: Term, node: exp.Per, text: str) -> bool:
    """A dimension or segment holds a metric per its own entity; a metric a metric at
    another grain of the query (SEM235)."""
    span = draft.term_span(term, "condition" if term.kind == "segment" else "expr", value=True)
    named = per_entity(node)
    entity = named if named is not None and named in draft.entities else None
    if not term.is_metric:
        if entity == term.entity:
            return True
        draft.report(
            "SEM235",
            f"{term.kind.replace('_', ' ')} '{term.id}' holds '{text}': a "
            f"{term.kind.replace('_', ' ')} reads a metric per its own entity only",
            span,
            f"write PER ({term.entity}): each {term.entity} row's value of the metric",
        )
        return False
    if entity is not None:
        draft.report(
            "SEM235",
            f"metric '{term.id}' holds '{text}', a value per {entity} row, which is a dimension",
            span,
            f"save it as a dimension of {entity} (expr: {text}), or write PER (ALL), "
            "PER (* EXCLUDE dimension) or PER (dimension, ...)",
        )
        return False
    items = list(node.expressions)
    if len(items) == 1 and isinstance(items[0], exp.Star):
        items = list(items[0].args.get("except_") or [])
    elif len(items) == 1 and named is not None and named.casefold() == "all":
        return True
    ok = True
    for item in items:
        name = item.name if isinstance(item, exp.Column) and not item.table else None
        if name is None:
            draft.report(
                "SEM235",
                f"PER in metric '{term.id}' names '{item.sql(FILE_DIALECT)}', not a dimension",
                span,
                "write PER (ALL), PER (* EXCLUDE dimension, ...) or PER (dimension, ...)",
            )
            ok = False
        else:
            ok = _check_name(draft, term, name, "row", span) and ok
    return ok


def _check_name(draft: Draft, term: Term, name: str, side: str, span: Span) -> bool:
    """`name` is a known term of `side` ('metric', or 'row' for dimensions and segments)."""
    other = draft.terms.get(name)
    if other is None:
        if name in draft.broken:
            return False
        wanted = [t for t, x in draft.terms.items() if x.is_metric == (side == "metric")]
        draft.report(
            "SEM201",
            f"unknown term '{name}' in MEASURE(...) PER of term '{term.id}'",
            span,
            suggest(name, wanted) or "MEASURE(...) and PER (...) name terms by id, not columns",
        )
        return False
    if other.is_metric != (side == "metric"):
        what = "a metric" if side == "metric" else "a dimension or segment"
        draft.report(
            "SEM236",
            f"term '{term.id}' uses '{name}' in MEASURE(...) PER where {what} is needed: "
            f"it is a {other.kind.replace('_', ' ')}",
            span,
            "MEASURE(...) names metrics; FILTER (WHERE ...) and PER (...) name dimensions",
        )
        return False
    return True
