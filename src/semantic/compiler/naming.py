"""Names in generated SQL: allocated per scope, never assumed, and checked.

Inside the compiler a group key or a measure is known by an id (see `semantic.compiler.plan`), never
by the name the analyst gave its column: that name is applied in the outermost SELECT only.
Every other column, table alias and CTE name comes from a `Names` of the SQL scope it lives
in, so two of them can never be confused, whatever the analyst calls the output columns. Names
are compared ignoring case, since DuckDB (and SQLite, Spark, T-SQL...) do.

>>> names = Names(["orders"])
>>> names.new("order_count"), names.new("ORDER_COUNT"), names.new("Orders")
('order_count', 'ORDER_COUNT_2', 'Orders_2')

`name_clashes` is the check: the places in a SQL tree where one scope holds two columns,
two tables or two CTEs of the same name. The test suite runs it on every query it compiles.

>>> import sqlglot
>>> name_clashes(sqlglot.parse_one("SELECT a.x AS n, b.y AS N FROM a JOIN b ON a.k = b.k"))
["two columns named 'N' in SELECT a.x AS n, b.y AS N FROM a JOIN b ON a.k = b.k"]
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

#: the longest base name handed out; PostgreSQL cuts names at 63 bytes, and a cut name could
#: meet another one, so bases stay well below it (with room for a `_2` suffix)
LONGEST = 48

_NOT_WORD = re.compile(r"[^0-9a-zA-Z_]+")


def readable(text: str, default: str = "col") -> str:
    """A plain lower-case word made of `text`, for a base name.

    >>> readable("YEAR(ship_date)"), readable("order_date.year"), readable("(+)")
    ('year_ship_date', 'order_date_year', 'col')
    """
    word = _NOT_WORD.sub("_", text).strip("_").lower()[:LONGEST].rstrip("_")
    return word or default


class Names:
    """The names taken in one SQL scope; `new` hands out each name once, ignoring case.

    Like sqlglot's `find_new_name`, a clash gets a number (`x_2`, `x_3`, ...).
    """

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = {name.casefold() for name in taken}

    def new(self, base: str) -> str:
        """`base`, or `base_N` with the first number that is free; the name is then taken."""
        name, n = base, 2
        while name.casefold() in self._taken:
            name, n = f"{base}_{n}", n + 1
        self._taken.add(name.casefold())
        return name

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.casefold() in self._taken


def name_clashes(tree: exp.Expression) -> list[str]:
    """Where a scope of `tree` holds two names equal when case is ignored: two output
    columns of one SELECT, two tables (or subqueries) of one FROM, two CTEs of one WITH."""
    found: list[str] = []

    def twice(names: list[str], what: str, node: exp.Expr) -> None:
        seen: set[str] = set()
        for name in names:
            if not name:
                continue
            if name.casefold() in seen:
                found.append(f"two {what} named '{name}' in {node.sql()}")
            seen.add(name.casefold())

    for scope in traverse_scope(tree):
        node = scope.expression
        if isinstance(node, exp.Select):
            twice([s.alias_or_name for s in node.selects], "columns", node)
            from_ = node.args.get("from_")
            sources = [from_.this] if from_ is not None else []
            sources += [join.this for join in node.args.get("joins") or ()]
            twice([s.alias_or_name for s in sources], "tables", node)
        with_ = node.args.get("with_")
        if with_ is not None:
            twice([cte.alias for cte in with_.expressions], "CTEs", node)
    return found
