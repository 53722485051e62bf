"""The FROM and WHERE of an aggregate's rows: the entity's table and its LEFT JOINs, its
filters and semi-joins (`EXISTS`), or the partial aggregates of eager aggregation read in
place of the table (used by `semantic.compiler.render`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlglot import exp

from semantic.compiler.naming import Names
from semantic.compiler.plannodes import Join
from semantic.compiler.semijoins import Exists
from semantic.compiler.shape import EagerRows, Rows
from semantic.model.nodes import column, identifier, table


def _alias(expr: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=expr, alias=identifier(name))


def all_of(conditions: list[exp.Expression]) -> exp.Expression:
    """The conjunction of `conditions` (the one condition itself)."""
    if len(conditions) == 1:
        return conditions[0]
    return cast(exp.Expression, exp.and_(*conditions, copy=False))


def any_of(conditions: Sequence[exp.Expression]) -> exp.Expression:
    """The disjunction of `conditions` (the one condition itself)."""
    if len(conditions) == 1:
        return conditions[0]
    return cast(exp.Expression, exp.or_(*conditions, copy=False))


#: (alias, rows) of the entities a role restricts (`shape.Rows.restricted`)
Restricted = tuple[tuple[str, exp.Select], ...]


def read(name: str, alias: str, restricted: Restricted = ()) -> exp.Expression:
    """The table `name` as `alias`, or the rows a role may read there (`compiler.policy`):
    wherever an entity is read (FROM, a join, a semi-join, numbered rows), the same."""
    select = dict(restricted).get(alias)
    if select is None:
        return table(name, alias)
    return exp.Subquery(this=select.copy(), alias=exp.TableAlias(this=identifier(alias)))


def rows_sql(rows: Rows, body: exp.Select) -> None:
    """Make `body` read `rows`: the entity's table, its joins, its filters and semi-joins."""
    body.set("from_", exp.From(this=read(rows.table, rows.entity, rows.restricted)))
    body.set("joins", [left_join(join, rows.restricted) for join in rows.joins])
    conditions = [f.copy() for f in rows.filters]
    conditions += [exists_sql(e, rows.restricted) for e in rows.exists]
    if conditions:
        body.set("where", exp.Where(this=all_of(conditions)))


def left_join(join: Join, restricted: Restricted = ()) -> exp.Join:
    """The join of `join`: a LEFT JOIN, or an inner one where the model promises every row
    finds its row (`Join.inner`)."""
    on = all_of(
        [
            exp.EQ(this=column(src, join.parent), expression=column(tgt, join.alias))
            for src, tgt in join.edge.keys
        ]
    )
    side = None if join.inner else "LEFT"
    return exp.Join(this=read(join.table, join.alias, restricted), on=on, side=side)


def exists_sql(semi: Exists, restricted: Restricted = ()) -> exp.Exists:
    """`EXISTS (SELECT 1 FROM many LEFT JOIN ... WHERE many.key = entity.key AND ...)`:
    the many side's aliases are the aggregate's, distinct from the outer query's."""
    first, *below = semi.joins
    match = [
        exp.EQ(this=column(tgt, first.alias), expression=column(src, first.parent))
        for src, tgt in first.edge.keys
    ]
    inner = exp.Select(expressions=[exp.Literal.number(1)])
    inner.set("from_", exp.From(this=read(first.table, first.alias, restricted)))
    inner.set("joins", [left_join(join, restricted) for join in below])
    inner.set("where", exp.Where(this=all_of([*match, *(c.copy() for c in semi.conditions)])))
    return exp.Exists(this=inner)


def eager_rows_sql(eager: EagerRows, body: exp.Select) -> None:
    """Make `body` read the partial aggregates of `eager`'s entity, named as the entity,
    joined as its rows would be: `FROM (SELECT by, agg(...) AS part FROM table WHERE ...
    GROUP BY by) AS entity LEFT JOIN ...`."""
    rows = eager.of
    by = [column(c, rows.entity) for c in eager.by]
    inner = exp.Select(
        expressions=[*by, *(_alias(e.copy(), p) for p, e in eager.partials)],
    )
    rows_sql(Rows(rows.entity, rows.table, (), rows.filters, restricted=rows.restricted), inner)
    inner.set("group", exp.Group(expressions=[c.copy() for c in by]))
    if eager.having:
        inner.set("having", exp.Having(this=all_of([h.copy() for h in eager.having])))
    rows_sql(Rows(rows.entity, rows.table, rows.joins, (), restricted=rows.restricted), body)
    body.set(
        "from_",
        exp.From(
            this=exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(rows.entity)))
        ),
    )


#: base name of the number given to each row of a fanned-out aggregate's entity
ROW_NUMBER = "entity_row"


def number_rows(body: exp.Select, agg: Rows) -> exp.Column:
    """Read `agg`'s entity in `body` from a subquery that numbers its rows, and return the
    number's column: `FROM (SELECT <the columns body reads>, ROW_NUMBER() OVER () AS
    entity_row FROM table AS entity) AS entity`. The number tells every row from every
    other, equal ones included, whatever their key holds."""
    used = {
        c.name: None
        for c in body.find_all(exp.Column)
        if c.table == agg.entity and c.name and _outer_scope(c, body, agg.entity)
    }
    number = Names(used).new(ROW_NUMBER)
    numbered = exp.Select(
        expressions=[
            *(column(name, agg.entity) for name in used),
            _alias(exp.Window(this=exp.RowNumber()), number),
        ]
    )
    numbered.set("from_", exp.From(this=read(agg.table, agg.entity, agg.restricted)))
    body.set(
        "from_",
        exp.From(
            this=exp.Subquery(
                this=numbered, alias=exp.TableAlias(this=exp.to_identifier(agg.entity))
            )
        ),
    )
    return column(number, agg.entity)


def _outer_scope(node: exp.Column, body: exp.Select, alias: str) -> bool:
    """Whether `node` reads `alias` of `body`'s scope, not a table of a subquery that names
    its own `alias` (a metric per entity, planned apart, reads its entity's rows under the
    same alias: its columns are not the outer rows')."""
    scope = node.find_ancestor(exp.Select)
    while scope is not None and scope is not body:
        sources = [scope.args.get("from_"), *(scope.args.get("joins") or [])]
        if any(s is not None and s.this.alias_or_name == alias for s in sources):
            return False
        scope = scope.find_ancestor(exp.Select)
    return True
