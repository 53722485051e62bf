"""Semi-additive metrics: a balance or a stock level, which adds up across entities (the
stock of every product) but not over time (the stock of every day of a month is not the
month's stock). A glossary metric declares the time dimension it is not summed over
(`semi_additive: {time: stock_date, period_value: last}`), as MetricFlow's
`non_additive_dimension` and Snowflake's `NON ADDITIVE BY`.

Each group of the query takes the metric over the rows of its last instant (the time
dimension at its finest grain, a day), or its first, or the average over its instants of
the metric at each instant: a month of days shows the last day's stock, summed across
products; a query that does not group by the time dimension shows the stock at the last
day of all. Rows whose time is NULL are at no instant and count nowhere.

The metric is one more part of the plan (`SemiAdditiveAggregate`), combined with the
others on the group keys. Its SQL:

    SELECT keys, MAX(value) FROM (
      SELECT keys, instant, value, MAX(instant) OVER (PARTITION BY keys) AS picked
      FROM (SELECT keys, time AS instant, agg(...) AS value FROM rows
            WHERE time IS NOT NULL GROUP BY keys, time)
    ) WHERE instant = picked GROUP BY keys

(`MIN` for the first instant; for the average, `AVG(value)` over the rows per instant).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from semantic.compiler import plannodes, shape
from semantic.compiler.joins import plan_aggregate
from semantic.compiler.naming import Names
from semantic.compiler.periods import RANK
from semantic.compiler.refs import BusinessQuery, find_refs, make_ref, show
from semantic.compiler.sources import all_of, rows_sql
from semantic.errors import error
from semantic.model import Model
from semantic.model.nodes import column, identifier
from semantic.model.types import SemiAdditive

#: (entity, filters) -> (filters, [(alias, metric id)]), as `measures.Measures.groups`
Groups = dict[
    tuple[str, frozenset[exp.Expression]],
    tuple[tuple[exp.Expression, ...], list[tuple[str, str]]],
]


@dataclass(frozen=True, slots=True)
class SemiAdditiveAggregate(plannodes.Aggregate):
    """A semi-additive metric per group of the query's keys: `instant` is the time dimension
    at its finest grain, `period_value` which instant's value a group takes."""

    instant: exp.Expression | None = None
    period_value: str = "last"

    def shaped(self, counted: bool) -> SemiAdditiveShape:
        """Its node in the SQL's shape (`shape.aggregate` asks for it)."""
        rows = shape.rows_of(self)
        return SemiAdditiveShape(
            self.name,
            rows,
            self.keys,
            self.measures,
            self.grain,
            counted,
            instant=self.instant,
            period_value=self.period_value,
        )


@dataclass(frozen=True, slots=True)
class SemiAdditiveShape(shape.Aggregate):
    """The semi-additive part of the shape: `source` is the metric's rows."""

    instant: exp.Expression | None = None
    period_value: str = "last"

    def describe(self) -> str:
        """One line saying what this node computes."""
        assert self.instant is not None
        keys = ", ".join(k for k, _ in self.keys) or "(all rows)"
        measures = ", ".join(f"{m} = {show(e)}" for m, e in self.measures)
        which = (
            "the average of its instants' values"
            if self.period_value == "average"
            else f"the rows of its {self.period_value} instant"
        )
        return (
            f"SemiAdditive {self.name} by {keys}: {measures} per {show(self.instant)}, "
            f"each group {which}"
        )

    def source_sql(
        self,
    ) -> tuple[exp.Select, dict[str, exp.Expression], dict[str, exp.Expression]]:
        """A SELECT without columns computing the groups, and the expressions that its keys
        and measures have in it (as `render` reads every aggregate)."""
        assert self.instant is not None
        return semi_additive_sql(self, self.instant)


def split_semi_additive(
    model: Model, groups: Groups
) -> tuple[Groups, list[tuple[str, tuple[exp.Expression, ...], list[tuple[str, str]]]]]:
    """The groups of measures without their semi-additive members, and those members apart:
    (entity, filters, members) for each group that has some."""
    kept: Groups = {}
    apart = []
    for (entity, key), (context, members) in groups.items():
        plain = [m for m in members if model.terms[m[1]].semi_additive is None]
        semi = [m for m in members if model.terms[m[1]].semi_additive is not None]
        if plain:
            kept[(entity, key)] = (context, plain)
        if semi:
            apart.append((entity, context, semi))
    return kept, apart


def refuse_windows(
    model: Model,
    aliases: dict[tuple[str, frozenset[exp.Expression]], str],
    over_time: list[plannodes.OverTime],
    query: BusinessQuery,
) -> None:
    """SEM360 for a window over a semi-additive metric: a window adds up periods (or the
    rows of all of them), which is what the metric must not do. A shift reads one earlier
    period's value, which stays right."""
    semi = {alias: tid for (tid, _), alias in aliases.items() if model.terms[tid].semi_additive}
    for ot in over_time:
        if ot.kind != "window":
            continue
        for ref in find_refs(ot.value, "measure"):
            if ref.ident in semi:
                tid = semi[ref.ident]
                spec = model.terms[tid].semi_additive
                assert spec is not None
                raise error(
                    "SEM360",
                    f"metric '{ot.alias}' is a window over '{tid}', which is semi-additive "
                    f"over '{spec.time}': a window would add up its periods",
                    query.place(ot.alias),
                    f"select '{tid}' by {ot.time} at the grain you want (its "
                    f"{spec.period_value} value per period), or shift it to an earlier period",
                )


def plan_semi_additive(
    model: Model,
    apart: list[tuple[str, tuple[exp.Expression, ...], list[tuple[str, str]]]],
    keys: list[tuple[str, exp.Expression]],
    row_filters: tuple[exp.Expression, ...],
    query: BusinessQuery,
    names: Names,
) -> list[SemiAdditiveAggregate]:
    """One part of the plan per entity, filters and semi-additive declaration."""
    found = []
    for entity, context, members in apart:
        by_spec: dict[SemiAdditive, list[tuple[str, str]]] = {}
        for alias, tid in members:
            spec = model.terms[tid].semi_additive
            assert spec is not None
            by_spec.setdefault(spec, []).append((alias, tid))
        for spec, same in by_spec.items():
            instant = _finest(model, spec.time)
            name = names.new(f"{entity}_{spec.period_value}")
            rows = plan_aggregate(
                model,
                name,
                entity,
                same,
                [*keys, ("instant", instant)],
                (*row_filters, *context),
                query,
            )
            if rows.fanout:
                tid = same[0][1]
                raise error(
                    "SEM359",
                    f"semi-additive metric '{tid}': its rows of '{entity}' repeat along a "
                    f"one-to-many relationship ({rows.fanout[0]}), for "
                    + ", ".join(rows.many_side),
                    query.place(tid),
                    "group and filter a semi-additive metric by dimensions each of its rows "
                    "has one value of",
                )
            *own_keys, (_, physical) = rows.keys
            found.append(
                SemiAdditiveAggregate(
                    name=name,
                    entity=entity,
                    table=rows.table,
                    joins=rows.joins,
                    keys=tuple(own_keys),
                    measures=rows.measures,
                    filters=rows.filters,
                    paths=(
                        *rows.paths,
                        f"{', '.join(a for a, _ in same)}: not summed over {spec.time}; each "
                        + (
                            f"group the average over its {spec.time} instants"
                            if spec.period_value == "average"
                            else f"group the rows of its {spec.period_value} {spec.time}"
                        ),
                    ),
                    grain=rows.grain,
                    restricted=rows.restricted,
                    by_role=rows.by_role,
                    per_values=rows.per_values,
                    instant=physical,
                    period_value=spec.period_value,
                )
            )
    return found


def _finest(model: Model, time: str) -> exp.Expression:
    """A time dimension at its finest grain: the instants a period is made of."""
    grains = model.terms[time].grains or ("day",)
    return make_ref("term", time, min(grains, key=lambda g: RANK[g]))


#: the aliases of the subqueries of `semi_additive_sql`
INSTANTS, PICKED = "instants", "picked_instants"


def semi_additive_sql(
    agg: shape.Aggregate, instant: exp.Expression
) -> tuple[exp.Select, dict[str, exp.Expression], dict[str, exp.Expression]]:
    """The SQL of a semi-additive part: the rows per group and instant, then per group the
    value of its last (first) instant, or the average of its instants' values. The rows are
    read as every aggregate's are (`sources.rows_sql`: a role's rows only)."""
    period_value = getattr(agg, "period_value", "last")
    scope = Names()
    key_names = {k: scope.new(k) for k, _ in agg.keys}
    at = scope.new("instant")
    measure_names = {m: scope.new(m) for m, _ in agg.measures}
    picked = scope.new("picked")
    per_instant = exp.Select(
        expressions=[
            *(_alias(e.copy(), key_names[k]) for k, e in agg.keys),
            _alias(instant.copy(), at),
            *(_alias(e.copy(), measure_names[m]) for m, e in agg.measures),
        ]
    )
    rows_sql(agg.rows, per_instant)
    known = exp.not_(instant.copy().is_(exp.null()))
    where = per_instant.args.get("where")
    conditions = [where.this, known] if where is not None else [known]
    per_instant.set("where", exp.Where(this=all_of(conditions)))
    per_instant.set(
        "group", exp.Group(expressions=[*(e.copy() for _, e in agg.keys), instant.copy()])
    )
    outer = exp.Select()
    keys: dict[str, exp.Expression] = {k: column(key_names[k], PICKED) for k, _ in agg.keys}
    if period_value == "average":
        outer.set("from_", exp.From(this=_sub(per_instant, PICKED)))
        measures: dict[str, exp.Expression] = {
            m: exp.Avg(this=column(measure_names[m], PICKED)) for m, _ in agg.measures
        }
    else:
        pick = exp.Max if period_value == "last" else exp.Min
        window = exp.Window(
            this=pick(this=column(at, INSTANTS)),
            partition_by=[column(key_names[k], INSTANTS) for k, _ in agg.keys] or None,
        )
        numbered = exp.Select(
            expressions=[
                *(_alias(column(c, INSTANTS), c) for c in (*key_names.values(), at)),
                *(_alias(column(c, INSTANTS), c) for c in measure_names.values()),
                _alias(window, picked),
            ]
        )
        numbered.set("from_", exp.From(this=_sub(per_instant, INSTANTS)))
        outer.set("from_", exp.From(this=_sub(numbered, PICKED)))
        outer.set("where", exp.Where(this=column(at, PICKED).eq(column(picked, PICKED))))
        # one row per group is left: any aggregate of it is its value
        measures = {m: exp.Max(this=column(measure_names[m], PICKED)) for m, _ in agg.measures}
    if keys:
        outer.set("group", exp.Group(expressions=[k.copy() for k in keys.values()]))
    return outer, keys, measures


def _alias(expr: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=expr, alias=identifier(name))


def _sub(select: exp.Select, alias: str) -> exp.Subquery:
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(alias)))
