"""Decide what is aggregated where: one `Aggregate` per metric entity, each at its own grain.

A plan is made of small immutable nodes (`plannodes`). Planning is in rooms: `measures`
(which base metrics under which filters, windows and shifts), `joins` (join paths and
physical expressions, one aggregate at a time), `windows` (conditions that pick periods,
windows computed over rows).

Group keys and measures are known by ids, never by the names the analyst gives the output
columns: the ids of one plan come from one `naming.Names` (a key is named after its term,
`order_date_year`, a measure after its metric, `net_revenue_filtered`), and the output names
appear in `Plan.columns` only, which the outermost SELECT applies.
"""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from semantic.compiler.conversion import plan_conversions
from semantic.compiler.eager import eager_by, having_first
from semantic.compiler.existence import prepared
from semantic.compiler.joins import plan_aggregate
from semantic.compiler.listing import plan_listing
from semantic.compiler.measures import Measures
from semantic.compiler.naming import Names, readable
from semantic.compiler.othergrain import plan_other_grains
from semantic.compiler.perentity import with_per_entity
from semantic.compiler.plannodes import Aggregate, Join, OverTime, Plan
from semantic.compiler.policy import mask_value
from semantic.compiler.ranking import plan_ranked
from semantic.compiler.refs import QUERY_DIALECT, BusinessQuery, OrderItem, make_ref, ref_of, show
from semantic.compiler.savedgrain import with_saved_grains
from semantic.compiler.semiadditive import (
    plan_semi_additive,
    refuse_windows,
    split_semi_additive,
)
from semantic.compiler.spine import describe_empty_periods, plan_empty_periods
from semantic.compiler.via import with_paths
from semantic.compiler.windows import split_period_filters, windows_over_rows
from semantic.model import Model
from semantic.model.nodes import column

__all__ = ["Aggregate", "Join", "OverTime", "Plan", "describe_plan", "plan_query"]


def plan_query(model: Model, query: BusinessQuery) -> Plan:
    """Group the query's metrics by entity (and filter) and plan each aggregate."""
    model, query = with_paths(model, query)  # via(term, entity): terms of this query's paths
    ranked = plan_ranked(model, query, plan_query)  # ranks over the result, its order after
    if ranked is not None:
        return ranked
    query = prepared(model, query)  # ALL(...) spelled as NOT EXISTS(...), existences checked
    query = with_saved_grains(model, query)  # the glossary's metrics at another grain
    model, query = with_per_entity(model, query, plan_query)
    composed = plan_other_grains(model, query, plan_query)
    if composed is not None:
        return composed
    ids = Names()
    # a dimension selected twice (under two names) is one group key
    key_ids: dict[exp.Expression, str] = {}
    shown: dict[str, str] = {}
    for c in query.columns:
        if not c.is_metric and c.expr not in key_ids:
            key_ids[c.expr] = ids.new(_key_base(c.expr))
            shown[key_ids[c.expr]] = c.name
    keys = [(kid, expr) for expr, kid in key_ids.items()]
    measures = Measures(model, keys, query, ids, shown)
    outputs = [
        (c.name, make_ref("key", key_ids[c.expr]) if not c.is_metric else measures.expand(c.expr))
        for c in query.columns
    ]
    # a role's masks apply to the values shown only: the groups are the values' own
    outputs = [
        (name, mask_value(query.masks[i], expr) if i in query.masks else expr)
        for i, (name, expr) in enumerate(outputs)
    ]
    having = tuple(measures.expand(h) for h in query.having)
    order = tuple(
        OrderItem(
            o.column,
            measures.expand(o.expr) if o.expr is not None else None,
            o.desc,
            o.nulls_first,
        )
        for o in query.order
    )
    row_filters, periods = split_period_filters(model, query.filters, measures.over_time, query)
    names = Names()
    aggregates: list[Aggregate] = []
    if not measures.groups and not measures.over_time and not measures.conversions:
        # no metric: the distinct combinations of the dimensions among one entity's rows
        aggregates.append(plan_listing(model, names, keys, row_filters, query))
    # semi-additive metrics are parts of their own (`semiadditive`)
    refuse_windows(model, measures.aliases, measures.over_time, query)
    plain_groups, semi_additive = split_semi_additive(model, measures.groups)
    by_entity: dict[str, list[tuple[tuple[exp.Expression, ...], list[tuple[str, str]]]]] = {}
    for (entity, _), group in plain_groups.items():
        by_entity.setdefault(entity, []).append(group)
    for entity, groups in by_entity.items():
        merged = None
        if len(groups) > 1 and not measures.over_time:
            merged = _one_pass(model, names, entity, groups, keys, row_filters, query)
        if merged is not None:
            aggregates.append(merged)
            continue
        for context, members in groups:
            name = names.new(f"{entity}_metrics")
            filters = (*row_filters, *context)
            aggregates.append(plan_aggregate(model, name, entity, members, keys, filters, query))
    aggregates = [
        replace(agg, eager=by) if (by := eager_by(model, agg)) else agg for agg in aggregates
    ]
    conversions = plan_conversions(model, measures, keys, row_filters, query, names)
    aggregates += conversions
    aggregates += plan_semi_additive(model, semi_additive, keys, row_filters, query, names)
    over_time = windows_over_rows(model, measures, keys, row_filters, query, names)
    fills = {
        alias: term.fill_null
        for (tid, _), alias in measures.aliases.items()
        if (term := model.terms[tid]).fill_null is not None
    }
    if len(aggregates) == 1 and not over_time:
        # one aggregate: its groups are the answer's, and a condition on them may be
        # applied to its partial aggregates before the joins (`eager.having_first`)
        first = having_first(aggregates[0], having)
        aggregates[0] = replace(aggregates[0], having=first) if first else aggregates[0]
    fills.update((c.measures[0][0], c.fill) for c in conversions if c.fill is not None)
    return Plan(
        tuple(aggregates),
        tuple(outputs),
        having,
        order,
        query.limit,
        query.offset,
        query.params,
        fills,
        over_time,
        periods,
        shown,
        query.decision,
        spine=plan_empty_periods(model, query, key_ids),
        relied_on=query.relied_on,
    )


#: aggregates that give over the rows meeting a condition what they give over those rows
#: alone, when written `agg(...) FILTER (WHERE condition)` (or `agg(CASE WHEN ...)`)
FILTERABLE = (exp.Sum, exp.Count, exp.Avg, exp.Min, exp.Max)


def _one_pass(
    model: Model,
    names: Names,
    entity: str,
    groups: list[tuple[tuple[exp.Expression, ...], list[tuple[str, str]]]],
    keys: list[tuple[str, exp.Expression]],
    row_filters: tuple[exp.Expression, ...],
    query: BusinessQuery,
) -> Aggregate | None:
    """The metrics of `entity` under different filters in one aggregate, each measure over
    the rows that meet its own filter; None where that would not be the same numbers as an
    aggregate per filter: a join that repeats rows (the distinct rows of each filter differ),
    or a measure whose aggregate cannot take a FILTER clause with the same meaning."""
    for context, members in groups:
        if context and not all(_filterable(model.terms[tid].expr) for _, tid in members):
            return None
    members = [m for _, group in groups for m in group]
    conditions = tuple((alias, context) for context, group in groups for alias, _ in group)
    merged = plan_aggregate(
        model, "", entity, members, keys, row_filters, query, conditions=conditions
    )
    if merged.fanout:
        return None
    return replace(merged, name=names.new(f"{entity}_metrics"))


def _filterable(expr: exp.Expression) -> bool:
    """Whether every aggregate in `expr` is a plain one of `FILTERABLE` (no window, no
    FILTER or ordered set of its own, none inside another), and there is one."""
    aggs = list(expr.find_all(exp.AggFunc))
    if not aggs or any(not isinstance(a, FILTERABLE) for a in aggs):
        return False
    if expr.find(exp.Window, exp.Filter, exp.WithinGroup, exp.Subquery) is not None:
        return False
    return all(a.find_ancestor(exp.AggFunc) is None for a in aggs)


def _key_base(expr: exp.Expression) -> str:
    """The readable id of a group key: its term (`market_segment`), with its grain
    (`order_date_year`), or the words of its expression (`year_ship_date`)."""
    ref = ref_of(expr)
    if ref is not None:
        return readable(f"{ref.ident}_{ref.grain}" if ref.grain else ref.ident)
    return readable(show(expr), "key")


def describe_plan(plan: Plan) -> str:
    """The plan in plain words: for each group of metrics, the rows it aggregates, the join
    path to every dimension, how many-side dimensions and filters count, and the grain of
    the result."""
    lines = plan.policy.describe() if plan.policy is not None else []
    keys = [plan.shown.get(name, name) for name, _ in plan.aggregates[0].keys]
    lines.append(f"result: one row per {', '.join(keys)}" if keys else "result: one row")
    for agg in plan.aggregates:
        metrics = ", ".join(m for m, _ in agg.measures)
        rows = f"one per {', '.join(agg.grain)}" if agg.grain else "no declared key"
        if agg.measures:
            lines.append(f"{metrics}: aggregated over rows of {agg.entity} ({rows})")
        else:  # no metric (`listing`)
            lines.append(f"the distinct values among rows of {agg.entity} ({rows})")
        lines += [f"  path {p}" for p in agg.paths]
        lines += [f"  filter {f.sql(QUERY_DIALECT)}" for f in agg.filters]
        if agg.by_role:
            lines.append(f"  only the role's rows of {', '.join(agg.by_role)}")
        lines += [
            f"  each {alias} row reads {label} as {alias}.{col} (computed per {alias} row "
            "over all the rows it reads, the query's WHERE aside)"
            for alias, col, label in agg.per_values
        ]
        lines += [f"  {m} only where {c.sql(QUERY_DIALECT)}" for m, c in agg.conditions]
        if agg.fanout:
            lines.append(
                f"  many side: {', '.join(agg.many_side)} "
                f"({'; '.join(agg.fanout)}): each {agg.entity} row counts once per group; "
                "a filter there keeps the rows that have at least one match (semi-join)"
            )
    for ot in plan.over_time:
        value = _words(ot.value, plan.shown)
        boundary = _words(ot.boundary, plan.shown) if ot.boundary is not None else ""
        key = plan.shown.get(ot.key, ot.key)
        if ot.kind == "shift":
            lines.append(f"{ot.alias}: {value} of the period {boundary}, by {key}")
        else:
            start = (
                "since the first"
                if ot.boundary is None
                else f"from {boundary}"
                if ot.inclusive
                else f"after {boundary}"
            )
            if ot.period_value is not None:
                day = start.replace(key, "the day")
                lines.append(
                    f"{ot.alias}: sum of {value} per day over the days {day} to the day "
                    f"(computed for every day of each {key}), then the {ot.period_value} "
                    "of the days' values of the period"
                )
            elif ot.rows is None:
                lines.append(f"{ot.alias}: sum of {value} over the periods {start} to {key}")
            else:
                source = ot.rows
                lines.append(
                    f"{ot.alias}: {value} over the rows of {source.entity} in the periods "
                    f"{start} to {key}, each row once (not a sum of periods: "
                    + (
                        f"{ot.time} is on the many side, {'; '.join(source.fanout)})"
                        if ot.time in source.many_side
                        else "the aggregate does not add up)"
                    )
                )
                lines += [f"  path {p}" for p in source.paths]
    lines += describe_empty_periods(plan.spine, plan.shown)
    lines += [f"periods shown: {_words(p, plan.shown)}" for p in plan.periods]
    lines += [f"groups kept: {_words(h, plan.shown)}" for h in plan.having]
    lines += list(plan.notes)
    return "\n".join(lines)


def _words(expr: exp.Expression, shown: dict[str, str]) -> str:
    """An expression over key and measure references, with their names (keys by the output
    names the query gives them)."""

    def swap(node: exp.Expression) -> exp.Expression:
        ref = ref_of(node)
        if ref is None:
            return node
        return column(shown.get(ref.ident, ref.ident) if ref.kind == "key" else ref.ident)

    return expr.transform(swap, copy=True).sql(QUERY_DIALECT)
