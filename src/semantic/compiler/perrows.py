"""The rows of an entity with its per-entity metric values as columns of their own
(`MEASURE(metric) PER (entity)`, planned in `compiler.perentity`).

Each value is computed by a subquery grouped by the entity's primary key and LEFT JOINed to
the entity's rows on it, so an entity without rows for the metric gets the metric's fill (0
for a count), an entity whose rows give NULL (a sum of NULL amounts) shows NULL, as a group
of the query's own would, and a NULL key matches nothing. Values computed over the same rows
are columns of one subquery, joined once (`compiler.pershare`). The planner reads these rows
wherever it reads the entity (FROM, joins, semi-joins), as it reads a role's restricted rows
(`sources.read`), and from a role's restricted rows when a role restricts the entity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot import exp

from semantic.compiler.naming import Names
from semantic.model import Model
from semantic.model.nodes import column, identifier, table

#: the name of the value column of a per-entity subquery
VALUE = "v"


@dataclass(frozen=True, slots=True)
class PerValue:
    """One per-entity value: the column it is read as, the subquery computing it (its
    columns `k0`, `k1`, ... the entity's primary key, `v` the value), its fill and its
    business words. Values computed by one subquery (`compiler.pershare`) hold the same
    `rows` object, each its own column of it (`value`: `v`, `v2`...)."""

    column: str
    rows: exp.Select
    fill: exp.Expression | None
    #: what it is in business words, for `semantic explain`: MEASURE(order_count) PER (customer)
    label: str = ""
    #: the column of `rows` holding the value
    value: str = VALUE


#: entity id -> its per-entity values (`BusinessQuery.per_rows`)
PerRows = Mapping[str, tuple[PerValue, ...]]


def value_name(i: int) -> str:
    """The name of the `i`th value column of a per-entity subquery: v, v2, v3..."""
    return f"{VALUE}{i + 1}" if i else VALUE


def key_column(i: int) -> str:
    """The name of the `i`th key column of a per-entity subquery."""
    return f"k{i}"


def entity_rows(
    model: Model, eid: str, values: tuple[PerValue, ...], base: exp.Select | None
) -> exp.Select:
    """The rows of `eid` (or of `base`, a role's restricted rows of it) with each of
    `values` as a column: `SELECT e.*, CASE WHEN p.k0 IS NULL THEN fill ELSE p.v END AS per
    FROM e LEFT JOIN (...) p` (a key joined is never NULL: a NULL key matches nothing)."""
    entity = model.entities[eid]
    source: exp.Expression = (
        table(entity.table, eid)
        if base is None
        else exp.Subquery(this=base.copy(), alias=exp.TableAlias(this=identifier(eid)))
    )
    aliases = Names([eid, *entity.columns])
    select = exp.Select(expressions=[column(c, eid) for c in entity.columns])
    select.set("from_", exp.From(this=source))
    joins = []
    joined: dict[int, str] = {}  # id of a subquery -> its alias
    for value in values:
        alias = joined.get(id(value.rows), "")
        if alias:
            select.append("expressions", _read(value, alias))
            continue
        alias = joined[id(value.rows)] = aliases.new("per")
        # EQ nodes of new columns, not `.eq()`, which copies both sides
        on = [
            exp.EQ(this=column(key, eid), expression=column(key_column(i), alias))
            for i, key in enumerate(entity.primary_key)
        ]
        joins.append(
            exp.Join(
                this=exp.Subquery(
                    this=value.rows.copy(), alias=exp.TableAlias(this=identifier(alias))
                ),
                on=exp.and_(*on, copy=False) if len(on) > 1 else on[0],
                side="LEFT",
            )
        )
        select.append("expressions", _read(value, alias))
    select.set("joins", joins)
    return select


def _read(value: PerValue, alias: str) -> exp.Alias:
    """The value read from its subquery joined as `alias`, the fill where the entity has no
    row there (its key is NULL: a row found has the entity's key, never NULL), not where
    the value is NULL over rows (`SUM` of NULL amounts): `CASE WHEN alias.k0 IS NULL THEN
    fill ELSE alias.v END`, or `COALESCE(alias.v, fill)` for a count, never NULL."""
    read: exp.Expression = column(value.value, alias)
    if value.fill is not None and _never_null(value):
        read = exp.Coalesce(this=read, expressions=[value.fill.copy()])
    elif value.fill is not None:
        missing = exp.Is(this=column(key_column(0), alias), expression=exp.null())
        read = exp.Case(ifs=[exp.If(this=missing, true=value.fill.copy())], default=read)
    return exp.Alias(this=read, alias=identifier(value.column))


def _never_null(value: PerValue) -> bool:
    """Whether the value is a count, never NULL on a row of its subquery."""
    for projection in value.rows.expressions:
        if isinstance(projection, exp.Alias) and projection.alias == value.value:
            return isinstance(projection.this.unnest(), exp.Count)
    return False
