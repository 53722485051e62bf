"""The rows of an entity with its per-entity metric values as columns of their own
(`MEASURE(metric) PER (entity)`, planned in `compiler.perentity`).

Each value is computed by a subquery grouped by the entity's primary key and LEFT JOINed to
the entity's rows on it, so an entity without rows for the metric gets the metric's fill (0
for a count) and a NULL key matches nothing. The planner reads these rows wherever it reads
the entity (FROM, joins, semi-joins), as it reads a role's restricted rows
(`sources.read`), and from a role's restricted rows when a role restricts the entity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot import exp

from semantic.compiler.naming import Names
from semantic.model import Model
from semantic.model.nodes import column, identifier, table


@dataclass(frozen=True, slots=True)
class PerValue:
    """One per-entity value: the column it is read as, the subquery computing it (its
    columns `k0`, `k1`, ... the entity's primary key, `v` the value), its fill and its
    business words."""

    column: str
    rows: exp.Select
    fill: exp.Expression | None
    #: what it is in business words, for `semantic explain`: MEASURE(order_count) PER (customer)
    label: str = ""


#: entity id -> its per-entity values (`BusinessQuery.per_rows`)
PerRows = Mapping[str, tuple[PerValue, ...]]

#: the name of the value column of a per-entity subquery
VALUE = "v"


def key_column(i: int) -> str:
    """The name of the `i`th key column of a per-entity subquery."""
    return f"k{i}"


def entity_rows(
    model: Model, eid: str, values: tuple[PerValue, ...], base: exp.Select | None
) -> exp.Select:
    """The rows of `eid` (or of `base`, a role's restricted rows of it) with each of
    `values` as a column: `SELECT e.*, COALESCE(p.v, fill) AS per FROM e LEFT JOIN (...) p`."""
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
    for value in values:
        alias = aliases.new("per")
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
        read: exp.Expression = column(VALUE, alias)
        if value.fill is not None:
            read = exp.Coalesce(this=read, expressions=[value.fill.copy()])
        select.append("expressions", exp.Alias(this=read, alias=identifier(value.column)))
    select.set("joins", joins)
    return select
