"""Inner joins written as a FROM list where the WHERE holds a correlated existence (DuckDB).

DuckDB flattens a correlated `EXISTS` / `NOT EXISTS` in a WHERE into a plain semi- or anti-
join when the rows it filters are written as a FROM list with their join conditions in the
WHERE (`FROM lineitem, orders WHERE lineitem.l_orderkey = orders.o_orderkey AND EXISTS
(...)`), the official TPC-H shape; over the same rows written with `JOIN ... ON` it keeps a
"delim" join: the distinct correlated values materialised in a CTE, the subquery joined to
them, then a MARK join back (TPC-H Q21 on DuckDB 2.0: 1.1-1.3x the official time, the
official SQL itself as slow once rewritten with `JOIN ... ON`). The two forms are the same
query: an inner join `a JOIN b ON c` is the rows of `a, b` where `c` holds, whatever `c`
reads, and a WHERE condition applies to the joined rows either way. So a SELECT whose joins
are all inner joins with an ON (no LEFT, no USING, no lateral or ASOF join) and whose WHERE
holds an `EXISTS` of its own scope, and no other subquery (`_only_existences`), lists its
tables, and the ON conditions open its WHERE.
A LEFT join stops it: `FROM a, b LEFT JOIN c ON ... a ...` would not see `a` (the comma
binds looser than JOIN). Other engines plan both forms alike; only DuckDB's SQL changes.

>>> import sqlglot
>>> tree = sqlglot.parse_one(
...     "SELECT 1 FROM a JOIN b ON a.k = b.k WHERE a.x = 1 AND EXISTS(SELECT 1 FROM c "
...     "WHERE c.k = a.k)"
... )
>>> flat_inner_joins(tree).sql()
'SELECT 1 FROM a, b WHERE a.k = b.k AND a.x = 1 AND EXISTS(SELECT 1 FROM c WHERE c.k = a.k)'
"""

from __future__ import annotations

from typing import cast

from sqlglot import exp


def flat_inner_joins(tree: exp.Expression) -> exp.Expression:
    """`tree` with each SELECT that qualifies (module docstring) rewritten in place."""
    for select in list(tree.find_all(exp.Select)):
        _flatten(select)
    return tree


def _flatten(select: exp.Select) -> None:
    joins = select.args.get("joins") or []
    where = select.args.get("where")
    if not joins or where is None or not _has_own_exists(where.this, select):
        return
    if not _only_existences(where.this):
        return
    if not all(_plain_inner(j) for j in joins):
        return
    conditions = [c for j in joins for c in _conjuncts(j.args["on"])]
    for join in joins:
        join.set("on", None)
        join.set("kind", None)
    conditions += _conjuncts(where.this)
    select.set("where", exp.Where(this=exp.and_(*conditions, copy=False)))


def _conjuncts(condition: exp.Expression) -> list[exp.Expression]:
    """The terms of `condition`'s top-level AND (itself when it is none)."""
    if isinstance(condition, exp.And):
        return [cast(exp.Expression, c) for c in condition.flatten()]
    return [condition]


def _plain_inner(join: exp.Join) -> bool:
    """An inner join of a table or a subquery with an ON condition, nothing else."""
    args = join.args
    return (
        args.get("on") is not None
        and not args.get("side")
        and (args.get("kind") or "INNER").upper() == "INNER"
        and not args.get("using")
        and not args.get("method")
        and not args.get("pivots")
        and isinstance(join.this, (exp.Table, exp.Subquery))
    )


def _only_existences(condition: exp.Expression) -> bool:
    """Whether every query in `condition` is the body of one of its EXISTS, with no subquery
    of its own. Beside a scalar subquery (`l_quantity > (SELECT AVG(...) ...)`, a grand
    total), DuckDB 2.0 decorrelated an existence over the product of the FROM list before
    the join conditions applied (168 billion rows at TPC-H scale 0.001: the disk filled),
    where the `JOIN ... ON` form runs in milliseconds; only the shape measured fast (TPC-H
    Q21's existences) is flattened."""
    return all(isinstance(query.parent, exp.Exists) for query in condition.find_all(exp.Select))


def _has_own_exists(condition: exp.Expression, select: exp.Select) -> bool:
    """Whether `condition` holds an EXISTS tested on `select`'s own rows (not one inside a
    subquery of it)."""
    return any(e.find_ancestor(exp.Select) is select for e in condition.find_all(exp.Exists))
