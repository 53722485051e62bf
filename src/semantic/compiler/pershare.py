"""One subquery for the per-entity values that read the same rows (`MEASURE(quantity)
FILTER (WHERE ...) PER (partsupp)` and `MEASURE(line_count) FILTER (WHERE ...) PER
(partsupp)` in TPC-H Q20): each value of an entity is planned alone (`compiler.perentity`),
and a subquery that differs from one already made for the entity only by the expression of
its value column becomes one more column of that subquery, joined once, its fact table
scanned once.

The rule is on the SQL, not on the business words, so it holds whatever made the two
subqueries alike (the same FILTER, the same narrowing by `compiler.perkept`, the same role's
row filters, the same joins): their FROM, joins, WHERE, GROUP BY, HAVING and every other
clause are the same text, so each keeps the same groups of the same rows, and each value
column is computed over its group whatever the other columns are. Values whose subqueries
differ in anything else (another FILTER pushed into the WHERE, another entity reached) stay
apart. Not shared: a subquery with DISTINCT (its rows depend on its columns), or whose
other clauses read a value column by its bare name (they would read the first one's).
"""

from __future__ import annotations

from sqlglot import exp

from semantic.compiler.perrows import VALUE
from semantic.model.nodes import identifier


def shared_column(made: list[exp.Select], tree: exp.Select) -> tuple[exp.Select, str] | None:
    """The subquery of `made` (those of one entity so far) that computes `tree`'s value
    over the same rows, with `tree`'s value added to it as a column of its own, and the name
    of that column; None when none does (`tree` is then a subquery of its own)."""
    rest = _rest(tree)
    if rest is None:
        return None
    for other in made:
        if _rest(other) != rest:
            continue
        value = _value(tree)
        assert value is not None
        name = f"{VALUE}{sum(_is_value(p) for p in other.expressions) + 1}"
        other.append("expressions", exp.Alias(this=value.this.copy(), alias=identifier(name)))
        return other, name
    return None


def _value(tree: exp.Select) -> exp.Alias | None:
    """The first value column of a per-entity subquery (`... AS v`)."""
    for projection in tree.expressions:
        if isinstance(projection, exp.Alias) and projection.alias == VALUE:
            return projection
    return None


def _rest(tree: exp.Expression) -> str | None:
    """The text of `tree` without its value columns (the one of `made` holds several), or
    None when its rows could depend on them or its clauses read them by name."""
    if not isinstance(tree, exp.Select) or tree.args.get("distinct") or _value(tree) is None:
        return None
    bare = tree.copy()
    values = [p for p in bare.expressions if _is_value(p)]
    for projection in values:
        projection.pop()
    if any(_is_value_name(c) for c in bare.find_all(exp.Column)):
        return None
    return bare.sql()


def _is_value(projection: exp.Expression) -> bool:
    """A value column: `v`, or `v2`, `v3`... as `shared_column` names them."""
    return isinstance(projection, exp.Alias) and _is_value_text(projection.alias)


def _is_value_name(node: exp.Column) -> bool:
    """A column read by the bare name of a value column (no table: the subquery's own)."""
    return not node.table and _is_value_text(node.name)


def _is_value_text(name: str) -> bool:
    return name == VALUE or (name.startswith(VALUE) and name[len(VALUE) :].isdigit())
