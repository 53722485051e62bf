"""A role's access policy applied to a parsed business query, before it is planned, so that
every later stage (plan, shape, SQL, on every engine) sees the restricted query.

`apply_policy` runs three rules, in this order:

1. Clearance. Every term the query reaches (what it selects, filters, orders and keeps,
   by id, label or synonym in any language, the ad hoc filters of its metrics, and down
   through derived metrics, metric filters, windows and shifts) must be at most as secret
   as the role's clearance; the first one above it is refused (SEM331), with the way the
   query reached it.
2. Masks. A masked dimension may only be selected as it is: it is then shown masked
   (`mask_value`). Used anywhere else (WHERE, HAVING, ORDER BY, an expression, a metric's
   FILTER), it could be compared with a guess, so the query is refused (SEM332).
3. Row filters. The role's filters restrict the rows of every entity that reaches all the
   filter's terms through to-one relationships (its rows each have one value of them: the
   orders and order lines of a customer filter, not parts). The query keeps the condition
   per entity (`BusinessQuery.restrict`); the planner reads such an entity, wherever it
   reads it (an aggregate, a join, a semi-join, a window), from its rows that meet the
   condition only. The caller's attributes (`$user.nation`) become bound parameters.

>>> from semantic.project import Project
>>> from semantic.compiler.parse import parse_query
>>> model = Project.load(".").model
>>> q = apply_policy(model, parse_query(model, "SELECT order_count"), "emea_analyst", {})
>>> sorted(q.restrict), q.decision.filters
(['customer', 'lineitem', 'orders'], ("customer_region = 'EUROPE'",))
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, cast

from sqlglot import exp

from semantic.compiler.decision import PolicyDecision
from semantic.compiler.locate import QUERY_FILE
from semantic.compiler.naming import Names
from semantic.compiler.params import bind_params
from semantic.compiler.refs import BusinessQuery, find_refs, make_ref, ref_of
from semantic.compiler.resolve import find_path
from semantic.errors import SemanticError, Span, error
from semantic.model import Model, Term
from semantic.model.policy import USER, Role

#: what a redacted value shows
REDACTED = "[redacted]"
#: how many characters a partial mask keeps, at the end
KEPT = 4


def apply_policy(
    model: Model, query: BusinessQuery, role: str | None, user: Mapping[str, str] | None = None
) -> BusinessQuery:
    """`query` as `role` may run it (see the module), with the caller's attributes `user`;
    without a role, the query as it is (the owner's full access) unless the policy requires
    one (SEM333)."""
    policy = model.policy
    if role is None:
        if policy.require_role:
            raise error(
                "SEM333",
                f"{policy.file} requires a role for every query",
                Span(QUERY_FILE, 1, 1),
                "name one: --role ROLE (or SEMANTIC_ROLE), role= in the Python API; the "
                f"roles are {', '.join(sorted(policy.roles))}",
            )
        return query
    found = policy.role(role)
    check_clearance(model, found, query)
    masks = _masks(model, found, query)
    restrict, bound = _restrictions(model, found, user or {}, query)
    decision = PolicyDecision(
        found.id,
        found.clearance,
        tuple(f.text for f in found.filters),
        tuple(sorted(restrict)),
        tuple((_term_of(query, i), how) for i, how in masks.items()),
        tuple(found.attributes),
    )
    return replace(
        query,
        restrict=restrict,
        masks=masks,
        bound=bound,
        params=(*query.params, *bound),
        decision=decision,
    )


def _trees(query: BusinessQuery) -> Iterator[tuple[str, exp.Expression]]:
    """Every tree of the query, with the clause it is in."""
    for column in query.columns:
        yield "SELECT", column.expr
    for condition in query.filters:
        yield "WHERE", condition
    for condition in query.having:
        yield "HAVING", condition
    for item in query.order:
        if item.expr is not None:
            yield "ORDER BY", item.expr


def check_clearance(model: Model, role: Role, query: BusinessQuery) -> None:
    """SEM331 for the first term the query reaches above the role's clearance."""
    rank = model.rank_of(role.clearance)
    for _, tree in _trees(query):
        for ref in find_refs(tree, "term"):
            if role.may_see(ref.ident):
                continue
            reached, how = _above(model, ref.ident, rank)
            level = model.level_of(reached)
            raise error(
                "SEM331",
                f"term '{reached}' is {level}, above the clearance of role '{role.id}' "
                f"({role.clearance})" + (f", reached through {how}" if how else ""),
                query.place(ref.ident),
                "leave the term out of the query, or run it with a role cleared for it",
            )


def _above(model: Model, start: str, rank: int) -> tuple[str, str]:
    """The first term above `rank` that `start` reads (itself first), and how it is
    reached from `start` ('' when it is `start`)."""
    todo: list[tuple[str, str]] = [(start, "")]
    seen: set[str] = set()
    while todo:
        tid, how = todo.pop(0)
        if tid in seen or tid not in model.terms:
            continue
        seen.add(tid)
        if model.rank_of(model.level_of(tid)) > rank:
            return tid, how
        term = model.terms[tid]
        via = f"the {term.kind.replace('_', ' ')} '{tid}'"
        if term.is_derived:
            via = f"the derived metric '{tid}'"
        then = f"{how}, then {via}" if how else via
        todo += [(r, then) for r in term.refs]
        if term.filter is not None:
            todo += [
                (c.table or c.name, f"{then}'s filter") for c in term.filter.find_all(exp.Column)
            ]
        todo += [(spec.time, f"{then}'s period") for spec in (term.window, term.shift) if spec]
    return start, ""  # not reached: may_see and the levels disagree only for a broken model


def _term_of(query: BusinessQuery, position: int) -> str:
    ref = ref_of(query.columns[position].expr)
    assert ref is not None
    return ref.ident


def _masks(model: Model, role: Role, query: BusinessQuery) -> dict[int, str]:
    """The masked output columns (position -> mask); SEM332 for a masked term used in any
    other way than selected as it is."""
    masks: dict[int, str] = {}
    for i, column in enumerate(query.columns):
        ref = ref_of(column.expr)
        if not column.is_metric and ref is not None and ref.kind == "term":
            how = role.mask_of(ref.ident)
            if how is not None:
                masks[i] = how
    for clause, tree in _trees(query):
        if clause == "SELECT" and any(query.columns[i].expr is tree for i in masks):
            continue
        for ref in find_refs(tree, "term"):
            if role.mask_of(ref.ident) is not None:
                raise _masked_use(role, ref.ident, clause, query)
    for item in query.order:
        if item.column is not None and item.column in masks:
            raise _masked_use(role, _term_of(query, item.column), "ORDER BY", query)
    return masks


def _masked_use(role: Role, tid: str, clause: str, query: BusinessQuery) -> SemanticError:
    where = "in an expression" if clause == "SELECT" else f"in {clause}"
    return error(
        "SEM332",
        f"term '{tid}' is masked for role '{role.id}' and may only be selected as it is, "
        f"not used {where}",
        query.place(tid),
        f"select {tid} on its own (it is shown masked); a masked value cannot be filtered, "
        "sorted, compared or computed on",
    )


def _restrictions(
    model: Model, role: Role, user: Mapping[str, str], query: BusinessQuery
) -> tuple[dict[str, exp.Expression], dict[str, Any]]:
    """The condition restricting each entity's rows, and the parameters it binds."""
    missing = [a for a in role.attributes if a not in user]
    if missing:
        raise error(
            "SEM257",
            f"role '{role.id}' needs the caller's attribute '{missing[0]}'",
            Span(QUERY_FILE, 1, 1),
            f"give it: --user-attr {missing[0]}=VALUE (user= in the Python API)",
        )
    names = Names(query.params)
    params = {key: names.new(f"{USER}_{key}") for key in role.attributes}
    by_entity: dict[str, list[exp.Expression]] = {}
    for row_filter in role.filters:
        condition = _over_refs(row_filter.condition, params)
        for eid in model.entities:
            if any(_reaches(model, eid, model.terms[t]) for t in row_filter.terms):
                by_entity.setdefault(eid, []).append(condition)
    restrict: dict[str, exp.Expression] = {
        eid: cast(exp.Expression, exp.and_(*conds)) for eid, conds in by_entity.items()
    }
    values = {params[key]: user[key] for key in role.attributes}
    # typed as what they are compared with, as a query's parameters are
    typed = replace(query, columns=(), filters=tuple(restrict.values()), having=(), order=())
    return restrict, bind_params(model, typed, values)


def _over_refs(condition: exp.Expression, params: Mapping[str, str]) -> exp.Expression:
    """A role filter's condition over term references, its attributes as parameters."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return make_ref("term", node.name)
        if isinstance(node, exp.Placeholder) and node.name.startswith(f"{USER}."):
            return exp.Placeholder(this=params[node.name.removeprefix(f"{USER}.")])
        return node

    return condition.transform(swap, copy=True)


def _reaches(model: Model, eid: str, term: Term) -> bool:
    """Whether rows of `eid` reach an entity `term` reads through to-one relationships
    (several paths that may differ count: deny by default)."""
    assert term.entity is not None
    needs = [(term.entity, term.path)]
    needs += [(c.table, ()) for c in term.expr.find_all(exp.Column) if c.table]
    for target, pinned in needs:
        try:
            find_path(model, eid, target, pinned)
            return True
        except SemanticError as exc:
            if exc.code != "SEM306":
                return True
    return False


def mask_value(how: str, value: exp.Expression) -> exp.Expression:
    """`value` masked, in SQL every dialect writes: `hash` is the md5 of its text,
    `redact` a constant, `partial` its last 4 characters after `****` (a value of 4
    characters or fewer shows none); NULL stays NULL.

    >>> print(mask_value("partial", exp.column("phone")).sql("duckdb", pretty=True))
    CASE
      WHEN phone IS NULL
      THEN NULL
      WHEN LENGTH(CAST(phone AS TEXT)) > 4
      THEN '****' || RIGHT(CAST(phone AS TEXT), 4)
      ELSE '****'
    END
    """
    text = exp.cast(value, exp.DataType.Type.TEXT)
    if how == "hash":
        masked: exp.Expression = exp.MD5(this=text)
    elif how == "redact":
        masked = exp.Literal.string(REDACTED)
    else:
        stars = exp.Literal.string("*" * KEPT)
        kept = exp.Right(this=text.copy(), expression=exp.Literal.number(KEPT))
        masked = exp.Case(
            ifs=[
                exp.If(
                    this=exp.Length(this=text.copy()) > exp.Literal.number(KEPT),
                    true=exp.DPipe(this=stars, expression=kept, safe=True),
                )
            ],
            default=stars.copy(),
        )
    unknown = exp.If(this=value.copy().is_(exp.null()), true=exp.null())
    if isinstance(masked, exp.Case):
        masked.set("ifs", [unknown, *masked.args["ifs"]])
        return masked
    return exp.Case(ifs=[unknown], default=masked)
