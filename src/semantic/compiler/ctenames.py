"""One name per common table expression in a whole query.

A query composed of the plans of other queries (metrics at another grain, per-entity values,
grand totals in a row condition) holds their trees as subqueries, each with its own `WITH`,
and two of them may name a CTE alike (`orders_metrics`). Each is right where it stands, but
some engines' writers move every CTE to the top (Spark's), where Spark refuses a name given
twice (DUPLICATED_CTE_NAMES). `unique_ctes` renames the later ones, with their references.

>>> import sqlglot
>>> tree = sqlglot.parse_one(
...     "SELECT * FROM (WITH m AS (SELECT 1 AS x) SELECT m.x FROM m) AS a "
...     "CROSS JOIN (WITH m AS (SELECT 2 AS x) SELECT m.x FROM m) AS b")
>>> print(unique_ctes(tree).sql().replace(" CROSS JOIN ", chr(10) + "CROSS JOIN "))
SELECT * FROM (WITH m AS (SELECT 1 AS x) SELECT m.x FROM m) AS a
CROSS JOIN (WITH m_2 AS (SELECT 2 AS x) SELECT m_2.x FROM m_2) AS b
"""

from __future__ import annotations

from sqlglot import exp

from semantic.model.nodes import identifier


def unique_ctes(tree: exp.Expression) -> exp.Expression:
    """`tree`, changed in place, with a name of its own for every CTE: a name an earlier
    `WITH` gave (outer ones first) is renamed in its `WITH`'s query, references included."""
    withs = list(tree.find_all(exp.With))
    if len(withs) < 2:
        return tree
    taken: set[str] = set()
    for with_ in withs:  # breadth first: a WITH before those nested in its queries
        renames: dict[str, str] = {}
        for cte in with_.expressions:
            name = cte.alias
            if name in taken:
                n = 2
                while f"{name}_{n}" in taken:
                    n += 1
                renames[name] = f"{name}_{n}"
                cte.set("alias", exp.TableAlias(this=identifier(renames[name])))
            taken.add(renames.get(name, name))
        if renames and isinstance(with_.parent, exp.Expression):
            _rename(with_.parent, with_, renames)
    return tree


def _rename(scope: exp.Expression, own: exp.With, renames: dict[str, str]) -> None:
    """The references to the renamed CTEs in `scope`, the query holding `own`: tables and
    column qualifiers, not inside a nested query whose own WITH names them again."""
    stack: list[exp.Expression] = [scope]
    while stack:
        node = stack.pop()
        if isinstance(node, exp.Table) and not node.db and node.name in renames:
            node.set("this", identifier(renames[node.name]))
        elif isinstance(node, exp.Column) and node.table in renames and not node.args.get("db"):
            node.set("table", identifier(renames[node.table]))
        for child in node.iter_expressions():
            inner = child.args.get("with_") or child.args.get("with")
            if (
                child is not own
                and isinstance(inner, exp.With)
                and inner is not own
                and any(c.alias in renames for c in inner.expressions)
            ):
                continue  # a query of its own naming them: its references are its own
            stack.append(child)
