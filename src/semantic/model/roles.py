"""The policy file read into `policy` records and checked against the finished model:
clearances among the project's levels (SEM111), filters that parse and name row terms and
declared attributes (SEM112) and read each row's own values (SEM370), masks on known
dimensions (SEM113).
"""

from __future__ import annotations

import re
from typing import cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from semantic.errors import Diagnostic, Span, suggest
from semantic.files.read import Document
from semantic.files.schema import PolicyFile, RoleSpec
from semantic.model.nodes import settle
from semantic.model.policy import USER, Policy, Role, RowFilter
from semantic.model.types import FILE_DIALECT, Model

#: what a role filter may filter on: terms that describe rows
ROW_KINDS = ("dimension", "time_dimension", "segment")
#: what a mask may hide: terms whose values are shown
MASKABLE = ("dimension", "time_dimension")


def build_policy(model: Model, doc: Document[PolicyFile] | None) -> tuple[Policy, list[Diagnostic]]:
    """The policy of `doc` (none: no roles) checked against `model` (see the module)."""
    if doc is None:
        return Policy(), []
    found: list[Diagnostic] = []
    roles = {rid: _role(model, doc, rid, spec, found) for rid, spec in doc.data.roles.items()}
    return Policy(roles, doc.data.require_role, doc.name), found


def _role(
    model: Model, doc: Document[PolicyFile], rid: str, spec: RoleSpec, found: list[Diagnostic]
) -> Role:
    at = ("roles", rid)
    clearance = spec.clearance
    if clearance not in model.levels:
        found.append(
            Diagnostic(
                "SEM111",
                f"unknown confidentiality level '{clearance}' (clearance of role '{rid}')",
                doc.span((*at, "clearance"), value=True),
                suggest(clearance, model.levels) or f"use one of {', '.join(model.levels)}",
            )
        )
        clearance = model.levels[0]  # the least: a broken role sees the least
    masks = {}
    for tid, how in spec.masks.items():
        problem = _unmaskable(model, tid)
        if problem:
            found.append(
                Diagnostic(
                    "SEM113",
                    f"role '{rid}' masks {problem}",
                    doc.span((*at, "masks", tid)),
                    suggest(tid, [t for t, v in model.terms.items() if v.kind in MASKABLE])
                    or "mask a dimension (by term id)",
                )
            )
        else:
            masks[tid] = how
    filters = []
    for i, text in enumerate(spec.filters):
        row = _row_filter(model, text, spec, rid, doc.span((*at, "filters", i), value=True), found)
        if row is not None:
            filters.append(row)
    rank = model.rank_of(clearance)
    visible = frozenset(
        tid
        for tid in model.terms
        if all(model.rank_of(model.level_of(u)) <= rank for u in model.terms_read([tid]))
    )
    return Role(
        rid,
        spec.description,
        clearance,
        tuple(filters),
        masks,
        tuple(spec.attributes),
        spec.database_role,
        doc.span(at),
        visible,
    )


def _unmaskable(model: Model, tid: str) -> str | None:
    """Why `tid` cannot be masked (unknown, or not a dimension), or None."""
    term = model.terms.get(tid)
    if term is None:
        return f"an unknown term '{tid}'"
    if term.kind not in MASKABLE:
        return f"'{tid}', a {term.kind.replace('_', ' ')}: only dimensions are masked"
    return None


def _row_filter(
    model: Model, text: str, spec: RoleSpec, rid: str, span: Span, found: list[Diagnostic]
) -> RowFilter | None:
    """The filter `text` of role `rid`, or None once SEM112 says what is wrong with it."""

    def problem(message: str, hint: str) -> None:
        found.append(Diagnostic("SEM112", f"filter of role '{rid}' {message}", span, hint))

    try:
        tree = settle(cast(exp.Expression, sqlglot.parse_one(text, read=FILE_DIALECT)))
    except ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        said = str(err.get("description", exc))
        missing = re.search(r"missing for <class '[\w.]*\.(\w+)'>", said)
        problem(
            "is not a valid condition: "
            + (f"{missing.group(1).upper()} is incomplete" if missing else said),
            "write a condition on terms, e.g. customer_region = 'EUROPE'",
        )
        return None
    if tree.find(exp.Select, exp.AggFunc, exp.Window, exp.Subquery) is not None:
        problem("reads a query or an aggregate", "write a condition on each row's terms")
        return None
    terms: list[str] = []
    for col in tree.find_all(exp.Column):
        name = col.sql(FILE_DIALECT) if col.table else col.name
        term = model.terms.get(name)
        if term is None or term.kind not in ROW_KINDS:
            what = "an unknown term" if term is None else f"the {term.kind.replace('_', ' ')}"
            row_terms = [t for t, v in model.terms.items() if v.kind in ROW_KINDS]
            problem(
                f"names {what} '{name}'",
                suggest(name, row_terms) or "name dimensions and segments by term id",
            )
            return None
        counted = _per_entity(model, name)
        if counted is not None:
            # a value counted over other rows (a customer's orders) would be counted over
            # rows the role may not read, and the role's rows would depend on them
            found.append(
                Diagnostic(
                    "SEM370",
                    f"filter of role '{rid}' names '{name}', a value counted per row over "
                    f"other rows ({counted}): a role's rows are chosen by their own values",
                    span,
                    "filter on dimensions of the rows' own columns (customer_region = "
                    "'EUROPE'); or publish a view whose filter reads the per-entity value",
                )
            )
            return None
        terms.append(name)
    attributes: list[str] = []
    for holder in list(tree.find_all(exp.Placeholder)):
        dot = holder.parent
        key = dot.name if isinstance(dot, exp.Dot) and holder.name == USER else None
        if key is None or dot is None:
            problem(
                f"has the parameter ${holder.name}",
                "a role filter reads the caller's attributes only, as $user.KEY",
            )
            return None
        if key not in spec.attributes:
            problem(
                f"uses the attribute $user.{key}, which the role does not declare",
                f"add {key} to the role's `attributes:`",
            )
            return None
        attributes.append(key)
        dot.replace(exp.Placeholder(this=f"{USER}.{key}"))
    if not terms:
        problem("names no term", "write a condition on terms, e.g. customer_region = 'EUROPE'")
        return None
    return RowFilter(
        text, tree, tuple(dict.fromkeys(terms)), tuple(dict.fromkeys(attributes)), span
    )


def _per_entity(model: Model, tid: str) -> str | None:
    """The `MEASURE(metric) PER (entity)` that term `tid` reads (itself or through the terms
    it names), as written, or None."""
    seen: set[str] = set()
    todo = [tid]
    while todo:
        term = model.terms.get(todo.pop())
        if term is None or term.id in seen:
            continue
        seen.add(term.id)
        node = term.expr.find(exp.Per)
        if node is not None:
            return node.sql(FILE_DIALECT)
        todo += list(term.refs)
    return None
