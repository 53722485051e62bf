"""One subquery for the per-entity values that read the same rows (`MEASURE(quantity)
FILTER (WHERE ...) PER (partsupp)` and `MEASURE(line_count) FILTER (WHERE ...) PER
(partsupp)` in TPC-H Q20), joined once, its fact table scanned once.

Two steps, each keeping every value what it is alone:

- `compiler.perentity` plans the values of one entity with the same FILTER over metrics of
  the same entities with the same filters of their own (`rows_key`) as one query, one
  column each (`v`, `v2`...), grouped by the entity's key: the query's planner computes
  each metric of a query over the rows of its group as it would alone (the soundness tests
  hold it to that at every grain), and the entity's narrowing (`compiler.perkept`) and a
  role's row filters are the entity's, the same for all. The common FILTER goes into the
  WHERE, as for one value.
- a subquery that differs from one already made for the entity only by its value columns
  becomes more columns of that one (`shared_columns`): the rule is on the SQL, so it holds
  whatever made the two alike (a glossary metric's own filter written again as a FILTER):
  their FROM, joins, WHERE, GROUP BY, HAVING and every other clause are the same text, so
  each keeps the same groups of the same rows, and each value column is computed over its
  group whatever the other columns are. Not shared: a subquery with DISTINCT (its rows
  depend on its columns), or whose clauses read a value column by its bare name.

Values under different FILTERs stay apart: each subquery keeps only its FILTER's rows, so
an entity without such rows gets the fill (`perrows`), and the scan reads only those rows.
"""

from __future__ import annotations

from typing import cast

from sqlglot import exp

from semantic.compiler.perrows import VALUE
from semantic.compiler.refs import QUERY_DIALECT, find_refs
from semantic.model import Model
from semantic.model.nodes import identifier


def rows_key(model: Model, metric: exp.Expression) -> str:
    """What decides the rows a per-entity value reads besides its entity: the conditions
    of the FILTERs around `MEASURE(...)` and the entities of the base metrics it reads."""
    filters = []
    inner = metric.unnest()
    while isinstance(inner, exp.Filter):
        filters.append(inner.expression.sql(QUERY_DIALECT))
        inner = inner.this.unnest()
    read = model.terms_read(r.ident for r in find_refs(cast(exp.Expression, inner), "term"))
    metrics = [model.terms[t] for t in read if model.terms[t].is_metric]
    entities = sorted({t.entity for t in metrics if t.entity is not None})
    # a metric's own filter: with it, the planner keeps the FILTER inside each aggregate
    # (one scan of all the rows) rather than in the WHERE (a scan of the FILTER's rows)
    own = sorted({t.filter.sql() for t in metrics if t.filter is not None})
    return "\n".join([*filters, "|", *entities, "|", *own])


def shared_columns(made: list[exp.Select], tree: exp.Select) -> tuple[exp.Select, list[str]] | None:
    """The subquery of `made` (those of one entity so far) that computes `tree`'s values
    over the same rows, with `tree`'s value columns added to it under names of their own,
    and those names in `tree`'s order; None when none does (`tree` is then a subquery of
    its own)."""
    rest = _rest(tree)
    if rest is None:
        return None
    for other in made:
        if _rest(other) != rest:
            continue
        count = sum(_is_value(p) for p in other.expressions)
        names = []
        for projection in [p for p in tree.expressions if _is_value(p)]:
            count += 1
            names.append(f"{VALUE}{count}")
            alias = exp.Alias(this=projection.this.copy(), alias=identifier(names[-1]))
            other.append("expressions", alias)
        return other, names
    return None


def _rest(tree: exp.Expression) -> str | None:
    """The text of `tree` without its value columns, or None when its rows could depend on
    them or its clauses read them by name."""
    if not isinstance(tree, exp.Select) or tree.args.get("distinct"):
        return None
    if not any(_is_value(p) for p in tree.expressions):
        return None
    bare = tree.copy()
    for projection in [p for p in bare.expressions if _is_value(p)]:
        projection.pop()
    if any(not c.table and _is_value_text(c.name) for c in bare.find_all(exp.Column)):
        return None
    return bare.sql()


def _is_value(projection: exp.Expression) -> bool:
    """A value column: `v`, `v2`, `v3`... (`perrows.value_name`)."""
    return isinstance(projection, exp.Alias) and _is_value_text(projection.alias)


def _is_value_text(name: str) -> bool:
    return name == VALUE or (name.startswith(VALUE) and name[len(VALUE) :].isdigit())
