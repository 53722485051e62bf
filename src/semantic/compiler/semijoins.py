"""Conditions on the many side of an aggregate's entity as `EXISTS` instead of distinct rows.

An aggregate whose rows a one-to-many join repeats keeps each row of its entity once per
group (`shape.DistinctRows`: the joined rows numbered, then `SELECT DISTINCT`). When the many
side is only filtered, never grouped by nor aggregated, the same rows are those of the
entity (with its to-one joins) for which a matching row exists: `WHERE EXISTS (SELECT 1
FROM many WHERE many.key = entity.key AND <the conditions on it>)`, which an engine runs as a
semi-join, without repeating and then merging rows.

The two are the same rows only where the LEFT JOIN's row without a match (NULL on the whole
many side) never meets the conditions: DistinctRows keeps an entity row without any match
when its conditions hold on NULLs (`tag IS NULL`), EXISTS never does. `never_true` proves
that a condition is NULL or FALSE on those NULLs (a comparison of one of their columns, say);
where it cannot, the aggregate keeps its distinct rows.

>>> never_true(exp.column("l_commitdate", "l") < exp.column("l_receiptdate", "l"), {"l"})
True
>>> never_true(exp.column("tag", "n").is_(exp.null()), {"n"})
False
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlglot import exp

from semantic.compiler.plannodes import Aggregate, Join


@dataclass(frozen=True, slots=True)
class Exists:
    """Rows of the many side that must exist: `joins` (the first one-to-many from the
    entity's side, then what hangs below it) and the `conditions` one of them must meet."""

    joins: tuple[Join, ...]
    conditions: tuple[exp.Expression, ...]


def semi_joins(
    agg: Aggregate,
) -> tuple[tuple[Join, ...], tuple[exp.Expression, ...], tuple[Exists, ...]] | None:
    """The joins and filters that stay on the entity's side and the `Exists` of each
    many-side branch of `agg`, or None when the aggregate must keep its distinct rows: a
    group key or a measure reads the many side, a condition reads two branches, or a
    condition could hold on the NULLs of a missing match."""
    one = {agg.entity}
    branch: dict[str, str] = {}  # alias on the many side -> alias of its branch's first join
    for join in agg.joins:  # parents come before their children
        if join.parent in one and join.edge.to_one:
            one.add(join.alias)
        elif join.parent in one:
            branch[join.alias] = join.alias
        else:
            branch[join.alias] = branch[join.parent]
    if not branch:
        return None
    outside = [e for _, e in agg.keys] + [e for _, e in agg.measures]
    if any(_aliases(e) - one for e in outside):
        return None
    kept: list[exp.Expression] = []
    inside: dict[str, list[exp.Expression]] = {b: [] for b in dict.fromkeys(branch.values())}
    for condition in agg.filters:
        parts = condition.flatten() if isinstance(condition, exp.And) else (condition,)
        for part in cast(Iterable[exp.Expression], parts):
            many = {branch[a] for a in _aliases(part) if a in branch}
            if not many:
                kept.append(part)
                continue
            if len(many) > 1:
                return None
            inside[many.pop()].append(part)
    exists = []
    for first, conditions in inside.items():
        members = {a for a, b in branch.items() if b == first}
        if not any(never_true(c, members) for c in conditions):
            return None  # an entity row without a match could meet them
        joins = tuple(j for j in agg.joins if j.alias in members)
        exists.append(Exists(joins, tuple(conditions)))
    one_joins = tuple(j for j in agg.joins if j.alias in one)
    return one_joins, tuple(kept), tuple(exists)


def _aliases(expr: exp.Expression) -> set[str]:
    """The aliases of the aggregate's rows that `expr` reads: the tables of its columns,
    but not those a subquery inside it names itself (an existence's own rows, the rows of
    a per-entity value inside it), which read nothing of the aggregate's."""
    return {
        c.table for c in expr.find_all(exp.Column) if c.table and c.table not in _local(c, expr)
    }


def _local(node: exp.Expression, root: exp.Expression) -> set[str]:
    """The aliases named by the FROM and JOINs of the queries between `node` and `root`."""
    names: set[str] = set()
    parent = node.parent
    while parent is not None and parent is not root:
        if isinstance(parent, exp.Select):
            sources = [parent.args.get("from_"), *(parent.args.get("joins") or [])]
            names |= {s.this.alias_or_name for s in sources if s is not None}
        parent = parent.parent
    return names


#: operators that are NULL when either operand is
_STRICT_BINARY = (
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Like,
    exp.ILike,
)
#: functions that are NULL when their first argument is
_STRICT_UNARY = (
    exp.Cast,
    exp.Year,
    exp.Month,
    exp.Quarter,
    exp.Day,
    exp.Lower,
    exp.Upper,
    exp.Length,
    exp.Neg,
    exp.Abs,
    exp.DateTrunc,
    exp.TimestampTrunc,
    exp.In,
    exp.Between,
)


def is_null(expr: exp.Expression, nulls: set[str]) -> bool:
    """Whether `expr` is surely NULL when every column of the aliases `nulls` is."""
    if isinstance(expr, exp.Column):
        return expr.table in nulls
    if isinstance(expr, exp.Null):
        return True
    if isinstance(expr, exp.Paren | exp.Not):
        return is_null(expr.this, nulls)
    if isinstance(expr, _STRICT_BINARY):
        return is_null(expr.this, nulls) or is_null(expr.expression, nulls)
    if isinstance(expr, exp.In) and expr.args.get("query") is not None:
        return False  # NULL IN (an empty subquery) is FALSE, and its NOT TRUE
    if isinstance(expr, _STRICT_UNARY):
        return is_null(expr.this, nulls)
    if isinstance(expr, exp.And | exp.Or):
        return is_null(expr.this, nulls) and is_null(expr.expression, nulls)
    return False


def never_true(expr: exp.Expression, nulls: set[str]) -> bool:
    """Whether the condition `expr` is NULL or FALSE when every column of `nulls` is NULL."""
    if isinstance(expr, exp.Paren):
        return never_true(expr.this, nulls)
    if isinstance(expr, exp.And):
        return never_true(expr.this, nulls) or never_true(expr.expression, nulls)
    if isinstance(expr, exp.Or):
        return never_true(expr.this, nulls) and never_true(expr.expression, nulls)
    return is_null(expr, nulls)
