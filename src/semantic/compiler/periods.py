"""Time grains as periods: truncating to a period, and whether period boundaries line up.

Windows and shifts combine the results of whole periods, so every boundary they use (the
start of a window, a year earlier, the first of January) must be the start of a period of
the query's grain, and conditions on the time dimension must keep or drop whole periods.

>>> period_start(date(1995, 5, 17), "fiscal_year", 4)
datetime.date(1995, 4, 1)
>>> aligned("fiscal_quarter", "year", 2)
False
"""

from __future__ import annotations

import datetime as dt
from datetime import date, timedelta

from sqlglot import exp

RANK = {
    "day": 0,
    "week": 1,
    "month": 2,
    "quarter": 3,
    "fiscal_quarter": 3,
    "year": 4,
    "fiscal_year": 4,
}
MONTHS = {"month": 1, "quarter": 3, "fiscal_quarter": 3, "year": 12, "fiscal_year": 12}


def truncate(value: exp.Expression, grain: str, is_date: bool, fiscal_start: int) -> exp.Expression:
    """`value` truncated to the start of its `grain` period (fiscal grains start in month
    `fiscal_start`)."""
    shift = fiscal_start - 1 if grain.startswith("fiscal_") else 0
    unit = grain.removeprefix("fiscal_").upper()
    if shift:
        value = exp.DateSub(this=value, expression=exp.Literal.number(shift), unit=exp.var("MONTH"))
    value = exp.DateTrunc(this=value, unit=exp.var(unit))
    if shift:
        value = exp.DateAdd(this=value, expression=exp.Literal.number(shift), unit=exp.var("MONTH"))
    if is_date:  # truncating a DATE gives a TIMESTAMP in some engines
        value = exp.cast(value, exp.DataType.Type.DATE)
    return value


def earlier(period: exp.Expression, count: int, grain: str) -> exp.Expression:
    """The date `count` `grain`s before `period`, as a DATE (quarters as 3 months: not every
    engine has a quarter interval)."""
    unit = grain.removeprefix("fiscal_")
    if unit == "quarter":
        count, unit = count * 3, "month"
    before = exp.DateSub(
        this=period, expression=exp.Literal.number(count), unit=exp.var(unit.upper())
    )
    return exp.cast(before, exp.DataType.Type.DATE)


def _offset(grain: str, fiscal_start: int) -> int:
    return fiscal_start - 1 if grain.startswith("fiscal_") else 0


def aligned(period: str, boundary: str, fiscal_start: int) -> bool:
    """Whether every start of a `boundary` period is the start of a `period` period."""
    if period == "day":
        return True
    if period == "week" or boundary in ("day", "week"):
        return period == boundary
    if MONTHS[boundary] % MONTHS[period]:
        return False
    difference = _offset(boundary, fiscal_start) - _offset(period, fiscal_start)
    return difference % MONTHS[period] == 0


def steps_fit(period: str, count: int, unit: str) -> bool:
    """Whether moving a `period` start by `count` `unit`s lands on a period start."""
    if period == "day":
        return True
    if period == "week":
        return unit == "week"
    if unit in ("day", "week"):
        return False
    return (count * MONTHS[unit]) % MONTHS[period] == 0


def period_start(day: date, grain: str, fiscal_start: int) -> date:
    """The first day of the `grain` period holding `day`."""
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    offset = _offset(grain, fiscal_start)
    index = day.year * 12 + day.month - 1 - offset
    index -= index % MONTHS[grain]
    index += offset
    return date(index // 12, index % 12 + 1, 1)


def literal_date(node: exp.Expression) -> date | None:
    """The date written by `DATE 'yyyy-mm-dd'` or `'yyyy-mm-dd'`, else None."""
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal):
        node = node.this
    if isinstance(node, exp.Literal) and node.is_string:
        try:
            return dt.date.fromisoformat(node.name)
        except ValueError:
            return None
    return None
