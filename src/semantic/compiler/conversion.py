"""Conversion metrics: how often a base event of an entity (a visit of a customer) is
followed by a conversion event of the same entity (an order) within a window, as MetricFlow
computes them.

Each conversion event is matched with the base events of its entity (and of the same
constant properties) that happen on its day or before it, within the window; it is
credited to the latest of them (ties: the one whose group keys sort first), and so to that
base event's groups. The conversions of a group are the conversion metric aggregated over
the events credited to its base events; the rate is the conversions divided by the base
metric of the group (aggregated over all its base events, converted or not). Times are
compared at their time dimension's finest grain (a day, as MetricFlow's metric_time).

The base metric is an ordinary measure of the plan; the conversions are one more part of
the plan (`ConversionAggregate`), combined with the others on the group keys. Its SQL:

    SELECT keys, agg(conversion columns) FROM (
      SELECT base.keys, conversion.columns, ROW_NUMBER() OVER (PARTITION BY conversion.row
             ORDER BY base.time DESC, base.keys) AS pick
      FROM (base events: keys, time, entity key, properties) AS base
      JOIN (conversion events, numbered) AS conversion
        ON the entity key and properties are equal, base.time <= conversion.time
       AND base.time > conversion.time - window
    ) WHERE pick = 1 GROUP BY keys
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, cast

from sqlglot import exp

from semantic.compiler import plannodes, shape
from semantic.compiler.joins import plan_aggregate
from semantic.compiler.naming import Names, readable
from semantic.compiler.periods import RANK, aligned, earlier, truncate
from semantic.compiler.refs import BusinessQuery, make_ref, show
from semantic.compiler.sources import rows_sql
from semantic.errors import Span, error
from semantic.model import Model, Term
from semantic.model.conversion import key_columns
from semantic.model.nodes import column, identifier
from semantic.model.types import ConversionWindow


class Measures(Protocol):
    """What `conversion_value` uses of `compiler.measures.Measures` (which imports this)."""

    model: Model
    ids: Names
    conversions: dict[tuple[str, frozenset[exp.Expression]], Request]

    def _metric(self, term: Term, context: tuple[exp.Expression, ...]) -> exp.Expression: ...


@dataclass(frozen=True, slots=True)
class Request:
    """A conversion metric as a query uses it: its conversions' measure id, under `context`
    (the filters of the query's FILTER clauses and of the metrics around it)."""

    alias: str
    term: Term
    context: tuple[exp.Expression, ...]


@dataclass(frozen=True, slots=True)
class Events:
    """What the SQL of the conversions reads: the base events (`base`: rows of the base
    metric's entity, grouped by the query's keys then the time and the properties) and the
    conversion events (`conversion`: rows of the conversion metric's entity, by time and
    properties, with the conversion metric as its measure), each with the columns that name
    the entity whose events are matched."""

    base: plannodes.Aggregate
    base_entity_key: tuple[exp.Expression, ...]
    conversion: plannodes.Aggregate
    conversion_entity_key: tuple[exp.Expression, ...]
    query_keys: int
    properties: int
    window: ConversionWindow | None


@dataclass(frozen=True, slots=True)
class ConversionAggregate(plannodes.Aggregate):
    """The conversions of one conversion metric, per group of the query's keys (a part of
    the plan like any aggregate, whose SQL is `conversion_sql`'s)."""

    events: Events | None = None
    fill: exp.Expression | None = None

    def shaped(self, counted: bool) -> ConversionShape:
        """Its node in the SQL's shape (`shape.aggregate` asks for it)."""
        rows = shape.rows_of(self)
        return ConversionShape(
            self.name, rows, self.keys, self.measures, self.grain, counted, events=self.events
        )


@dataclass(frozen=True, slots=True)
class ConversionShape(shape.Aggregate):
    """The conversions' node of the shape: `source` is the base events' rows."""

    events: Events | None = None

    def describe(self) -> str:
        """One line saying what this node computes."""
        assert self.events is not None
        window = self.events.window
        within = f"within {window.last} {window.grain}(s)" if window else "any time after"
        measures = ", ".join(f"{m} = {show(e)}" for m, e in self.measures)
        return (
            f"Conversions {self.name}: {measures} over the {self.events.conversion.entity} "
            f"rows {within} a base event of {self.rows.entity}, each credited to the latest"
        )

    def source_sql(
        self,
    ) -> tuple[exp.Select, dict[str, exp.Expression], dict[str, exp.Expression]]:
        """A SELECT without columns computing the groups, and the expressions that its keys
        and measures have in it (as `render` reads every aggregate)."""
        assert self.events is not None
        return conversion_sql(self.events, [k for k, _ in self.keys], dict(self.measures))


def conversion_value(
    measures: Measures, term: Term, context: tuple[exp.Expression, ...]
) -> exp.Expression:
    """The value of conversion metric `term` over measure references: its conversions
    divided by its base metric (`conversion_rate`), or its conversions (`conversions`)."""
    spec = term.conversion
    assert spec is not None
    base = measures.model.terms[term.expr.name]
    # the base metric of the group: an ordinary measure, under the same filters as the
    # base events whose conversions are counted
    base_ref = measures._metric(base, context)
    found = measures.conversions.get((term.id, frozenset(context)))
    if found is None:
        alias = measures.ids.new(readable(f"{term.id}_conversions", "measure"))
        found = Request(alias, term, context)
        measures.conversions[(term.id, frozenset(context))] = found
    conversions = make_ref("measure", found.alias)
    if spec.calculation == "conversions":
        return conversions
    rate = exp.Div(
        this=exp.cast(conversions, exp.DataType.Type.DOUBLE),
        expression=exp.Nullif(this=base_ref, expression=exp.Literal.number(0)),
    )
    return exp.paren(rate, copy=False)


def plan_conversions(
    model: Model,
    measures: Measures,
    keys: list[tuple[str, exp.Expression]],
    row_filters: tuple[exp.Expression, ...],
    query: BusinessQuery,
    names: Names,
) -> list[ConversionAggregate]:
    """The conversions of each conversion metric of the query, by the query's `keys`."""
    found = []
    for request in measures.conversions.values():
        term, spec = request.term, request.term.conversion
        assert spec is not None
        base = model.terms[term.expr.name]
        conversion = model.terms[spec.metric]
        assert base.entity is not None and conversion.entity is not None
        props = spec.constant_properties
        base_keys = [
            *keys,
            ("event_time", _finest(model, spec.base_time)),
            *((f"property_{i}", make_ref("term", p.base)) for i, p in enumerate(props)),
        ]
        name = names.new(f"{term.id}_conversions")
        filters = (*row_filters, *request.context, *_own_filter(base))
        events = plan_aggregate(model, name, base.entity, [], base_keys, filters, query)
        conversion_keys = [
            ("event_time", _finest(model, spec.time)),
            *((f"property_{i}", make_ref("term", p.conversion)) for i, p in enumerate(props)),
        ]
        converted = plan_aggregate(
            model,
            name,
            conversion.entity,
            [(request.alias, conversion.id)],
            conversion_keys,
            _own_filter(conversion),
            query,
        )
        for rows, what in ((events, "base"), (converted, "conversion")):
            if rows.fanout:
                raise error(
                    "SEM345",
                    f"conversion metric '{term.id}': its {what} events of '{rows.entity}' "
                    f"repeat along a one-to-many relationship ({rows.fanout[0]}), for "
                    + ", ".join(rows.many_side),
                    query.place(term.id),
                    "group and filter a conversion metric by dimensions each of whose "
                    "events has one value",
                )
        primary_key = model.entities[spec.entity].primary_key
        entity_key = []
        for rows in (events, converted):
            named = key_columns(model.edges, primary_key, rows.entity, spec.entity)
            assert named is not None  # the glossary checks it
            entity_key.append(tuple(column(c, rows.entity) for c in named))
        found.append(
            ConversionAggregate(
                name=name,
                entity=base.entity,
                table=events.table,
                joins=events.joins,
                keys=events.keys[: len(keys)],
                measures=converted.measures,
                filters=events.filters,
                # `explain` prints the paths: say there how the rows are matched
                paths=(
                    *events.paths,
                    f"{request.alias}: rows of {conversion.entity} ({conversion.id}) each "
                    f"credited to the latest {base.entity} row ({base.id}) of its "
                    f"{spec.entity} on {spec.time}'s day or before"
                    + (
                        f", within {spec.window.last} {spec.window.grain}(s)" if spec.window else ""
                    ),
                ),
                grain=events.grain,
                events=Events(
                    events,
                    entity_key[0],
                    converted,
                    entity_key[1],
                    len(keys),
                    len(props),
                    spec.window,
                ),
                fill=conversion.fill_null,
            )
        )
    return found


def _finest(model: Model, time: str) -> exp.Expression:
    """A time dimension at its finest grain: the instant events are compared at."""
    grains = model.terms[time].grains or ("day",)
    return make_ref("term", time, min(grains, key=lambda g: RANK[g]))


def _own_filter(term: Term) -> tuple[exp.Expression, ...]:
    """The filter of a metric, naming terms by reference (a grain as `term.grain`)."""
    if term.filter is None:
        return ()

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return make_ref("term", node.table or node.name, node.name if node.table else None)
        return node

    return (term.filter.copy().transform(swap, copy=False),)


#: aliases of the three subqueries of the conversions' SQL
BASE, CONVERSION, MATCHED = "base_events", "conversion_events", "matched_events"


def conversion_sql(
    events: Events, key_ids: list[str], measures: dict[str, exp.Expression]
) -> tuple[exp.Select, dict[str, exp.Expression], dict[str, exp.Expression]]:
    """The conversions per group (see the module's docstring): a grouped SELECT without
    columns, and the expressions of its keys and measures."""
    # the base events: the query's keys by id, then the time, the entity key, properties
    base_names = Names()
    base_cols = [(base_names.new(k), e) for k, e in events.base.keys]
    base_cols += [(base_names.new("entity_key"), e) for e in events.base_entity_key]
    base = _rows(events.base, base_cols)
    keys = [n for n, _ in base_cols[: events.query_keys]]
    time = base_cols[events.query_keys][0]
    props = [
        n for n, _ in base_cols[events.query_keys + 1 : events.query_keys + 1 + events.properties]
    ]
    entity = [n for n, _ in base_cols[-len(events.base_entity_key) :]]
    # the conversion events: numbered, with their time, properties, entity key and the
    # columns their measure reads
    conv_names = Names()
    number = conv_names.new("conversion_row")
    conv_cols = [(conv_names.new(k), e) for k, e in events.conversion.keys]
    conv_cols += [(conv_names.new("entity_key"), e) for e in events.conversion_entity_key]
    leaves: dict[tuple[str, str], str] = {}

    def leaf(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            key = (node.table, node.name)
            if key not in leaves:
                leaves[key] = conv_names.new(node.name)
                conv_cols.append((leaves[key], node.copy()))
            return column(leaves[key], MATCHED)
        return node

    values = {m: e.copy().transform(leaf, copy=False) for m, e in measures.items()}
    conversion = _rows(events.conversion, conv_cols)
    conversion.set(
        "expressions",
        [exp.alias_(exp.Window(this=exp.RowNumber()), identifier(number)), *conversion.expressions],
    )
    c_time = conv_cols[0][0]
    c_props = [n for n, _ in conv_cols[1 : 1 + events.properties]]
    c_entity = [
        n for n, _ in conv_cols[1 + events.properties : 1 + events.properties + len(entity)]
    ]
    on: list[exp.Expression] = [
        column(b, BASE).eq(column(c, CONVERSION))
        for b, c in (*zip(entity, c_entity, strict=True), *zip(props, c_props, strict=True))
    ]
    on.append(exp.LTE(this=column(time, BASE), expression=column(c_time, CONVERSION)))
    if events.window is not None:
        start = earlier(column(c_time, CONVERSION), events.window.last, events.window.grain)
        on.append(exp.GT(this=column(time, BASE), expression=start))
    # each conversion is credited to the latest base event before it (ties: by group keys)
    order = [exp.Ordered(this=column(time, BASE), desc=True, nulls_first=False)]
    order += [exp.Ordered(this=column(k, BASE), nulls_first=False) for k in keys]
    matched_names = Names()
    pick = matched_names.new("pick")
    matched_keys = {k: matched_names.new(n) for k, n in zip(key_ids, keys, strict=True)}
    matched = exp.Select(
        expressions=[
            *(
                exp.alias_(column(n, BASE), identifier(matched_keys[k]))
                for k, n in zip(key_ids, keys, strict=True)
            ),
            *(column(n, CONVERSION) for n in leaves.values()),
            exp.alias_(
                exp.Window(
                    this=exp.RowNumber(),
                    partition_by=[column(number, CONVERSION)],
                    order=exp.Order(expressions=order),
                ),
                identifier(pick),
            ),
        ]
    )
    matched.set("from_", exp.From(this=_sub(base, BASE)))
    matched.set("joins", [exp.Join(this=_sub(conversion, CONVERSION), on=exp.and_(*on))])
    outer = exp.Select()
    outer.set("from_", exp.From(this=_sub(matched, MATCHED)))
    outer.set("where", exp.Where(this=column(pick, MATCHED).eq(exp.Literal.number(1))))
    group = {k: column(matched_keys[k], MATCHED) for k in key_ids}
    if group:
        outer.set("group", exp.Group(expressions=[g.copy() for g in group.values()]))
    return outer, cast(dict[str, exp.Expression], group), values


def _rows(agg: plannodes.Aggregate, columns: list[tuple[str, exp.Expression]]) -> exp.Select:
    """The rows of `agg`'s entity, joined and filtered, with `columns` (name, expression):
    read as every aggregate's rows are (`sources.rows_sql`: a role's rows only)."""
    body = exp.Select(expressions=[exp.alias_(e.copy(), identifier(n)) for n, e in columns])
    rows = shape.rows_of(agg)
    rows_sql(rows, body)
    return body


def _sub(select: exp.Select, alias: str) -> exp.Subquery:
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def start_of(
    model: Model, term: Term, target: str, key: str, grain: str, place: Span
) -> exp.Expression:
    """The period a shift `to_start_of: <target>` reads for the period `key` (at `grain`):
    the one its `target` period starts with (MetricFlow's `offset_to_grain`: revenue on
    the month's first day, for each day). A period of `grain` must start a `target` one,
    or lie within one whose start is a period of `grain` (days, and months for a quarter),
    else SEM314."""
    fiscal = model.fiscal_year_start
    if not (aligned(grain, target, fiscal) or aligned(target, grain, fiscal)):
        assert term.shift is not None
        raise error(
            "SEM314",
            f"metric '{term.id}' reads the start of each {target.replace('_', ' ')}, which is "
            f"not the start of a period of {term.shift.time}.{grain}",
            place,
            f"group by {term.shift.time} at day, or a grain that starts every "
            f"{target.replace('_', ' ')}",
        )
    return truncate(make_ref("key", key), target, True, fiscal)
