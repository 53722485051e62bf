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


def rows_sql(rows: Rows, body: exp.Select) -> None:
    """Make `body` read `rows`: the entity's table, its joins, its filters and semi-joins."""
    body.set("from_", exp.From(this=table(rows.table, rows.entity)))
    body.set("joins", [left_join(join) for join in rows.joins])
    conditions = [f.copy() for f in rows.filters]
    conditions += [exists_sql(e) for e in rows.exists]
    if conditions:
        body.set("where", exp.Where(this=all_of(conditions)))


def left_join(join: Join) -> exp.Join:
    on = all_of(
        [column(src, join.parent).eq(column(tgt, join.alias)) for src, tgt in join.edge.keys]
    )
    return exp.Join(this=table(join.table, join.alias), on=on, side="LEFT")


def exists_sql(semi: Exists) -> exp.Exists:
    """`EXISTS (SELECT 1 FROM many LEFT JOIN ... WHERE many.key = entity.key AND ...)`:
    the many side's aliases are the aggregate's, distinct from the outer query's."""
    first, *below = semi.joins
    match = [column(tgt, first.alias).eq(column(src, first.parent)) for src, tgt in first.edge.keys]
    inner = exp.Select(expressions=[exp.Literal.number(1)])
    inner.set("from_", exp.From(this=table(first.table, first.alias)))
    inner.set("joins", [left_join(join) for join in below])
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
    rows_sql(Rows(rows.entity, rows.table, (), rows.filters), inner)
    inner.set("group", exp.Group(expressions=[c.copy() for c in by]))
    rows_sql(Rows(rows.entity, rows.table, rows.joins, ()), body)
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
    read = {c.name: None for c in body.find_all(exp.Column) if c.table == agg.entity and c.name}
    number = Names(read).new(ROW_NUMBER)
    numbered = exp.Select(
        expressions=[
            *(column(name, agg.entity) for name in read),
            _alias(exp.Window(this=exp.RowNumber()), number),
        ]
    )
    numbered.set("from_", exp.From(this=table(agg.table, agg.entity)))
    body.set(
        "from_",
        exp.From(
            this=exp.Subquery(
                this=numbered, alias=exp.TableAlias(this=exp.to_identifier(agg.entity))
            )
        ),
    )
    return column(number, agg.entity)
