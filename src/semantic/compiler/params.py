"""Query parameters typed by what they are compared with, not by how their text looks.

A value given as text (`--param k=1e3` on the command line) is bound with the type of what
`$k` meets in the query: compared with a text dimension it stays the text '1e3'; with a
number (a numeric dimension, a metric, a number) it is a number; with a date or a timestamp
it is one. A value that cannot be read as that type is refused (SEM321) before the query
runs. A parameter that meets nothing typed keeps its text; values that are not text (from
Python: numbers, dates) are bound as given.

>>> from semantic.project import Project
>>> from semantic.compiler.parse import parse_query
>>> model = Project.load(".").model
>>> q = parse_query(model, "SELECT net_revenue WHERE market_segment = $s AND ship_priority < $n")
>>> bind_params(model, q, {"s": "1e3", "n": "3"})
{'s': '1e3', 'n': 3}
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types

from semantic.compiler.localtime import term_time_type
from semantic.compiler.locate import QUERY_FILE, span_at
from semantic.compiler.refs import COMPARISONS, BusinessQuery, ref_of, show
from semantic.errors import Span, error
from semantic.model import FILE_DIALECT, Model, Term

ParamType = Literal["text", "number", "date", "timestamp", "boolean"]

#: what passes a value's type on: a parameter inside these takes the type of its operands
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv, exp.Neg, exp.Paren)
_COMPARED = (*COMPARISONS, exp.Coalesce)
_TYPES: tuple[tuple[frozenset[Any], ParamType], ...] = (
    (frozenset(exp.DataType.TEXT_TYPES), "text"),
    (frozenset(exp.DataType.NUMERIC_TYPES), "number"),
    (frozenset({exp.DataType.Type.DATE, exp.DataType.Type.DATE32}), "date"),
    (frozenset(exp.DataType.TEMPORAL_TYPES), "timestamp"),
    (frozenset({exp.DataType.Type.BOOLEAN}), "boolean"),
)
_EXAMPLES: dict[ParamType, str] = {
    "text": "ASIA",
    "number": "1000",
    "date": "1995-03-15",
    "timestamp": "1995-03-15T08:30:00",
    "boolean": "true",
}


def param_types(model: Model, query: BusinessQuery) -> dict[str, tuple[ParamType, str]]:
    """Each parameter that meets something typed, with that type and what it meets (a term
    id, or `a number`...): the first such place in the query wins."""
    found: dict[str, tuple[ParamType, str]] = {}
    for tree in _trees(query):
        for placeholder in tree.find_all(exp.Placeholder):
            if placeholder.name not in found:
                typed = _context(model, placeholder)
                if typed is not None:
                    found[placeholder.name] = typed
    return found


def bind_params(model: Model, query: BusinessQuery, values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with each text read as the type of what its parameter is compared with
    (see the module); SEM321 when a text cannot be read so."""
    types = param_types(model, query)
    bound = dict(values)
    for name, value in values.items():
        if isinstance(value, str) and name in types:
            kind, what = types[name]
            try:
                bound[name] = _read(value, kind)
            except (ValueError, decimal.InvalidOperation):
                raise error(
                    "SEM321",
                    f"parameter ${name} is compared with {what}, a {kind}: '{value}' is not "
                    f"a {kind}",
                    _place(query.text, name),
                    f"give a {kind}, e.g. --param {name}={_EXAMPLES[kind]}",
                ) from None
    return bound


def _trees(query: BusinessQuery) -> Iterator[exp.Expression]:
    yield from (c.expr for c in query.columns)
    yield from query.filters
    yield from query.having
    yield from (o.expr for o in query.order if o.expr is not None)


def _context(model: Model, placeholder: exp.Expression) -> tuple[ParamType, str] | None:
    """The type of what `placeholder` meets: the other operands of the arithmetic it is in
    and of the comparison around it."""
    node: exp.Expression = placeholder
    while node.parent is not None and isinstance(node.parent, (*_ARITHMETIC, *_COMPARED)):
        parent = node.parent
        for operand in _operands(parent):
            if operand is not node and operand.find(exp.Placeholder) is None:
                typed = _type_of(model, operand)
                if typed is not None:
                    return typed
        if isinstance(parent, _COMPARED):
            return None
        node = parent
    return None


def _operands(node: exp.Expression) -> list[exp.Expression]:
    operands = [node.this, node.args.get("expression"), *node.expressions]
    operands += [node.args.get("low"), node.args.get("high")]
    return [o for o in operands if isinstance(o, exp.Expression)]


def _type_of(model: Model, node: exp.Expression) -> tuple[ParamType, str] | None:
    while isinstance(node, exp.Paren):
        node = node.this
    ref = ref_of(node)
    if ref is not None and ref.kind == "term" and ref.ident in model.terms:
        kind = _term_type(model, model.terms[ref.ident])
        return (kind, f"'{ref.ident}'") if kind else None
    if isinstance(node, exp.Literal):
        return ("text", "a text") if node.is_string else ("number", "a number")
    if isinstance(node, exp.Cast):
        kind = _declared(node.to)
        return (kind, f"a {kind}") if kind else None
    if isinstance(node, _ARITHMETIC):
        for operand in _operands(node):
            typed = _type_of(model, operand)
            if typed is not None and typed[0] in ("number", "date", "timestamp"):
                return typed
    return _function_type(model, node)


_SQL_TYPES: dict[ParamType, str] = {
    "text": "VARCHAR",
    "number": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
}


def _function_type(model: Model, node: exp.Expression) -> tuple[ParamType, str] | None:
    """The type of an expression over terms (`year(order_date)`, `upper(market_segment)`),
    from sqlglot's types, each term standing for a NULL of its own type."""
    if node.find(exp.Placeholder) is not None:
        return None
    typed = node.copy()
    for ref_node in list(typed.find_all(exp.Anonymous)):
        ref = ref_of(ref_node)
        kind = _term_type(model, model.terms[ref.ident]) if ref and ref.kind == "term" else None
        if kind is None:
            return None
        ref_node.replace(exp.cast(exp.null(), _SQL_TYPES[kind]))
    if typed.find(exp.Anonymous) is not None:
        return None  # a function sqlglot does not know: unsure
    try:
        value = annotate_types(exp.select(typed), dialect=FILE_DIALECT).selects[0].type
    except (SqlglotError, ValueError, KeyError, TypeError):
        return None
    kind = _declared(value) if value is not None else None
    return (kind, f"'{show(node)}'") if kind else None


def _term_type(model: Model, term: Term) -> ParamType | None:
    """The type of a term's value: metrics are numbers, segments true or false, a time
    dimension (at any grain) a date or timestamp, a dimension its column's declared type or
    the type of its expression over them."""
    if term.is_metric:
        return "number"
    if term.kind == "segment":
        return "boolean"
    if term.kind == "time_dimension":
        timed = term_time_type(model, term)
        return "timestamp" if timed in ("timestamp", "timestamptz") else "date"
    entity = model.entities.get(term.entity or "")
    if entity is None:
        return None
    types = {c.name: c.type for c in entity.columns.values() if c.type}
    try:
        if isinstance(term.expr, exp.Column):
            declared = types.get(term.expr.name)
            return (
                _declared(exp.DataType.build(declared, dialect=FILE_DIALECT)) if declared else None
            )
        # a computed dimension (`upper(c_name)`, `year(o_orderdate)`): its type from sqlglot's
        select = exp.select(term.expr.copy()).from_(exp.to_table(entity.id))
        annotated = annotate_types(select, schema={entity.id: types}, dialect=FILE_DIALECT)
        value = annotated.selects[0].type
        return _declared(value) if value is not None else None
    except (SqlglotError, ValueError, KeyError, TypeError):  # unsure: the text is bound
        return None


def _declared(datatype: exp.DataType) -> ParamType | None:
    return next((name for kinds, name in _TYPES if datatype.this in kinds), None)


def _read(text: str, kind: ParamType) -> Any:
    """`text` as a value of `kind` (ValueError when it is not one)."""
    if kind == "text":
        return text
    if kind == "number":
        if re.fullmatch(r"[+-]?\d+", text.strip()):
            return int(text)
        number = decimal.Decimal(text.strip())
        if not number.is_finite():
            raise ValueError(text)
        return number
    if kind == "date":
        return dt.date.fromisoformat(text.strip())
    if kind == "timestamp":
        return dt.datetime.fromisoformat(text.strip())
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ValueError(text)


def _place(text: str, name: str) -> Span:
    """Where parameter `name` is first written in the query's text."""
    found = re.search(rf"[$:]{re.escape(name)}\b", text)
    return span_at(text, found.start()) if found else Span(QUERY_FILE, 1, 1)
