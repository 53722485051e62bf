"""The SQL of a window per day (`rolling: day`, a `shape.DailyWindow`): MetricFlow's
cumulative metrics, whose window ends on each day and whose period shows the window of its
first day, of its last day or the average over its days.

CTEs, after the per-period results (`periods`) and the metric's rows aggregated per day
and partition keys (`daily`, written by `render`):

- `days`: every day of every period shown, made from the periods alone by doubling (a day,
  then the day and the next, then four days...: only steps of a constant number of days,
  which every dialect writes; no recursion, no series function), a CTE per doubling;
- `rolled`: each day's window, the daily values of the days in it summed (an inner join: a
  day whose window holds no row has no value, as in MetricFlow);
- the window's own CTE: per period and partition keys, the first day's value, the last
  day's or the average of the days'.

>>> [_doublings(g) for g in ("day", "week", "month", "quarter", "year")]
[0, 3, 5, 7, 9]
"""

from __future__ import annotations

from typing import cast

from sqlglot import exp

from semantic.compiler.naming import Names
from semantic.compiler.periods import MONTHS
from semantic.compiler.refs import find_refs, ref_of
from semantic.compiler.shape import DailyWindow
from semantic.model.nodes import column, identifier, table

#: the most days a period of each grain has
_DAYS = {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}


def _doublings(grain: str) -> int:
    """How many times a period's first day must be doubled to cover its days."""
    most = _DAYS[grain.removeprefix("fiscal_")]
    return (most - 1).bit_length()


def daily_window_ctes(
    step: DailyWindow, daily: exp.Select, periods: str, tables: Names, name: str
) -> list[exp.CTE]:
    """The CTEs of `step`, the last one called `name`: one row per period (the key
    `step.over.key`) and partition keys, with the window's measures. `daily` is the SELECT of
    the metric's rows per day (its key column holds the day) and partition keys; `periods`
    the CTE of the per-period results; `tables` the names taken in the WITH."""
    ot = step.over
    key, partition = ot.key, list(ot.partition)
    measures = [r.ident for r in find_refs(ot.value, "measure")]
    scope = Names([key, *partition, *measures])
    day, number = scope.new("day"), scope.new("day_number")
    daily_name = tables.new(step.daily.name)
    days_name = tables.new(f"{ot.alias}_days")
    rolled_name = tables.new(f"{ot.alias}_rolled")

    # every day of each period: its first day, then doubled, each step a CTE of its own
    # read twice (the days so far, and the same moved on): a CASE over the day of the step
    # before would repeat it in both branches, and an engine that inlines subqueries
    # (PostgreSQL) would then evaluate an expression of 2^9 copies by year (its JIT compiler
    # took 25 seconds on one query)
    first = exp.Select(
        expressions=[
            _alias(column(key, periods), key),
            _alias(exp.cast(column(key, periods), exp.DataType.Type.DATE), day),
        ]
    )
    first.set("from_", exp.From(this=table(periods)))
    first.set("distinct", exp.Distinct())
    doublings = _doublings(ot.grain)
    spine: list[exp.CTE] = []
    step_names = [tables.new(f"{ot.alias}_days_{k}") for k in range(doublings)] + [days_name]
    previous: exp.Query = first
    for k, step_name in enumerate(step_names):
        spine.append(_cte(step_name, previous))
        if k == len(step_names) - 1:
            break
        moved = _days_after(column(day, "s"), 2**k)
        later = exp.Select(expressions=[_alias(column(key, "s"), key), _alias(moved, day)])
        later.set("from_", exp.From(this=table(step_name, "s")))
        end = _period_end(column(key, "s"), ot.grain)
        later.set("where", exp.Where(this=moved.copy() < end))
        so_far = exp.Select(
            expressions=[_alias(column(key, "s"), key), _alias(column(day, "s"), day)]
        )
        so_far.set("from_", exp.From(this=table(step_name, "s")))
        previous = exp.Union(this=so_far, expression=later, distinct=False)

    # each day's window: the daily values of the days in it
    def total(measure: str) -> exp.Expression:
        summed = exp.Sum(this=column(measure, "d"))
        if measure in step.counts:
            return exp.cast(summed, exp.DataType.Type.BIGINT)
        return summed

    on: list[exp.Expression] = [column(key, "d") <= column(day, "p")]
    if ot.boundary is not None:
        start = _swap_keys(ot.boundary, column(day, "p"))
        on.append(column(key, "d") >= start if ot.inclusive else column(key, "d") > start)
    rolled = exp.Select(
        expressions=[
            _alias(column(key, "p"), key),
            *(_alias(column(k, "d"), k) for k in partition),
            _alias(column(day, "p"), day),
            *(_alias(total(m), m) for m in measures),
        ]
    )
    rolled.set("from_", exp.From(this=table(days_name, "p")))
    rolled.set("joins", [exp.Join(this=table(daily_name, "d"), on=_and(on))])
    grouped = [column(key, "p"), *(column(k, "d") for k in partition), column(day, "p")]
    rolled.set("group", exp.Group(expressions=grouped))

    # the period's value: its first day's, its last day's, or the average of its days'
    outer_keys = [key, *partition]
    if ot.period_value == "average":
        value = exp.Select(
            expressions=[
                *(_alias(column(k, "r"), k) for k in outer_keys),
                *(_alias(exp.Avg(this=column(m, "r")), m) for m in measures),
            ]
        )
        value.set("from_", exp.From(this=table(rolled_name, "r")))
        value.set("group", exp.Group(expressions=[column(k, "r") for k in outer_keys]))
    else:
        order = exp.Ordered(this=column(day, "r"), desc=ot.period_value == "last")
        numbered = exp.Select(
            expressions=[
                *(_alias(column(c, "r"), c) for c in (*outer_keys, *measures)),
                _alias(
                    exp.Window(
                        this=exp.RowNumber(),
                        partition_by=[column(k, "r") for k in outer_keys],
                        order=exp.Order(expressions=[order]),
                    ),
                    number,
                ),
            ]
        )
        numbered.set("from_", exp.From(this=table(rolled_name, "r")))
        value = exp.Select(
            expressions=[_alias(column(c, "n"), c) for c in (*outer_keys, *measures)]
        )
        value.set("from_", exp.From(this=_subquery(numbered, "n")))
        value.set("where", exp.Where(this=column(number, "n").eq(exp.Literal.number(1))))
    return [
        _cte(daily_name, daily),
        *spine,
        _cte(rolled_name, rolled),
        _cte(name, value),
    ]


def _days_after(day: exp.Expression, count: int) -> exp.Expression:
    """The DATE `count` days after `day`."""
    moved = exp.DateAdd(this=day, expression=exp.Literal.number(count), unit=exp.var("DAY"))
    return exp.cast(moved, exp.DataType.Type.DATE)


def _period_end(period: exp.Expression, grain: str) -> exp.Expression:
    """The first day after the `grain` period that starts on `period`, as a DATE."""
    unit = grain.removeprefix("fiscal_")
    if unit == "day":
        count, unit = 1, "DAY"
    elif unit == "week":
        count, unit = 7, "DAY"
    else:
        count, unit = MONTHS[unit], "MONTH"
    moved = exp.DateAdd(this=period, expression=exp.Literal.number(count), unit=exp.var(unit))
    return exp.cast(moved, exp.DataType.Type.DATE)


def _swap_keys(expr: exp.Expression, day: exp.Expression) -> exp.Expression:
    """`expr` (over the period key, standing for the day) with the key read as `day`."""

    def swap(node: exp.Expression) -> exp.Expression:
        ref = ref_of(node)
        return day.copy() if ref is not None and ref.kind == "key" else node

    return expr.copy().transform(swap, copy=False)


def _subquery(query: exp.Query, alias: str) -> exp.Subquery:
    return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _alias(expr: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=expr, alias=identifier(name))


def _cte(name: str, query: exp.Expr) -> exp.CTE:
    return exp.CTE(this=query, alias=exp.TableAlias(this=identifier(name)))


def _and(conditions: list[exp.Expression]) -> exp.Expression:
    if len(conditions) == 1:
        return conditions[0]
    return cast(exp.Expression, exp.and_(*conditions, copy=False))
