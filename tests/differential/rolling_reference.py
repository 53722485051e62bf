"""A reference evaluator for windows per day (`rolling: day`), over a tiny sales table, by
brute force in Python: nothing of the compiler is used, and days are walked one by one.

The meaning it computes (docs/files.md, "Windows and shifts", checked against MetricFlow):

- the rows are those every row condition of the query keeps; the groups of the query are the
  (period, other dimension) pairs that have such rows, the period being the row's day
  truncated to the query's grain; a condition on the day alone (`day >= DATE '...'`, on a
  period's first day) picks the groups shown and does not cut the windows;
- each day d of a group's period has a window: the rows of the group's other dimension
  whose day lies after the day `last` `grain`s before d (months clamped to the month's end:
  a month before 29 February is 29 January) up to d included, or from the first day of
  d's `to_date` period, or from the first row (a running total);
- a day whose window holds no row has no value; otherwise its value is the metric over the
  window's rows: a count, or a sum (NULL when every amount in it is NULL, as SQL sums);
- the period's value is the first day's that has one (`first`), the last day's (`last`, the
  default) or the mean of the days' non-NULL values (`average`, as SQL's AVG); a period
  none of whose days has a value shows what a window over no rows shows: 0 for a count,
  NULL for a sum (only the period of rows without a day is such).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from tests.differential.reference import truncate

#: a sales row: id, day, shop, amount (day, shop and amount may be NULL)
Sale = tuple[int, dt.date | None, str | None, int | None]

BASES = {"revenue": "sum(amount)", "sale_count": "count(*)"}


@dataclass(frozen=True)
class Rolled:
    """A window per day over a base metric: `last` `grain`s, `to_date` a grain, or neither
    (a running total); the period's value `first`, `last`, `average` or None (the default)."""

    name: str
    base: str
    last: int | None = None
    grain: str | None = None
    to_date: str | None = None
    period_value: str | None = None

    def yaml(self) -> str:
        """The glossary term."""
        spec = ["time: day"]
        if self.last is not None:
            spec += [f"last: {self.last}", f"grain: {self.grain}"]
        if self.to_date is not None:
            spec.append(f"to_date: {self.to_date}")
        spec.append("rolling: day")
        if self.period_value is not None:
            spec.append(f"period_value: {self.period_value}")
        return (
            f"  {self.name}:\n"
            f"    label: {{en: {self.name}}}\n"
            f"    metric: {{expr: {self.base}, window: {{{', '.join(spec)}}}}}\n"
        )

    def starts_after(self, day: dt.date, fiscal_start: int) -> Callable[[dt.date], bool]:
        """Whether a row's day is on the early side of `day`'s window (inclusive end)."""
        if self.last is not None:
            first_out = before(day, self.last, self.grain or "day")
            return lambda d: d > first_out
        if self.to_date is not None:
            start = truncate(day, self.to_date, fiscal_start)
            return lambda d: d >= start
        return lambda d: True


def before(day: dt.date, count: int, grain: str) -> dt.date:
    """`day` minus `count` `grain`s (a negative count: after); months clamped to the end of
    the month reached."""
    if grain == "day":
        return day - dt.timedelta(days=count)
    if grain == "week":
        return day - dt.timedelta(weeks=count)
    months = count * (3 if grain == "quarter" else 12 if grain == "year" else 1)
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    following = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    last_day = (following - dt.timedelta(days=1)).day
    return dt.date(year, month + 1, min(day.day, last_day))


def period_days(period: dt.date, grain: str) -> list[dt.date]:
    """The days of the `grain` period that starts on `period`."""
    days = [period]
    while True:
        following = days[-1] + dt.timedelta(days=1)
        if truncate(following, grain) != period:
            return days
        days.append(following)


@dataclass(frozen=True)
class RollingQuery:
    """`SELECT day.<grain>[, shop][, bases...], windows... [WHERE ...]`: the row conditions
    as text and as a Python predicate of a sale; the period condition as text and as a
    predicate of a period's first day."""

    grain: str
    by_shop: bool
    bases: tuple[str, ...]
    windows: tuple[Rolled, ...]
    row_conditions: tuple[tuple[str, Callable[[Sale], bool]], ...] = ()
    period_condition: tuple[str, Callable[[dt.date], bool]] | None = None

    @property
    def text(self) -> str:
        columns = [f"day.{self.grain}", *(["shop"] if self.by_shop else [])]
        columns += [*self.bases, *(w.name for w in self.windows)]
        conditions = [text for text, _ in self.row_conditions]
        if self.period_condition is not None:
            conditions.append(self.period_condition[0])
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return f"SELECT {', '.join(columns)}{where}"

    def __repr__(self) -> str:  # hypothesis prints the example
        return f"RollingQuery({self.text!r}, {self.windows!r})"


def _aggregate(base: str, sales: Sequence[Sale]) -> Any:
    if base == "sale_count":
        return len(sales)
    amounts = [s[3] for s in sales if s[3] is not None]
    return sum(amounts) if amounts else None


def evaluate(query: RollingQuery, sales: Sequence[Sale], fiscal_start: int = 1) -> list[tuple]:
    """The rows of `query` over `sales`: [period, (shop), bases..., windows...]."""
    kept = [s for s in sales if all(keep(s) for _, keep in query.row_conditions)]
    groups: dict[tuple[Any, ...], list[Sale]] = {}
    for sale in kept:
        period = None if sale[1] is None else truncate(sale[1], query.grain)
        key: tuple[Any, ...] = (period, sale[2]) if query.by_shop else (period,)
        groups.setdefault(key, []).append(sale)
    rows = []
    for key, members in groups.items():
        period = key[0]
        if query.period_condition is not None and (
            period is None or not query.period_condition[1](period)
        ):
            continue
        # the window's rows: the group's shop's (when shown), with a day
        dated = [s for s in kept if s[1] is not None and (not query.by_shop or s[2] == key[1])]
        values = [_aggregate(b, members) for b in query.bases]
        for window in query.windows:
            values.append(_period_value(window, period, query.grain, dated, fiscal_start))
        rows.append((*key, *values))
    return rows


def _period_value(
    window: Rolled, period: dt.date | None, grain: str, dated: list[Sale], fiscal_start: int
) -> Any:
    by_day: list[Any] = []  # the values of the days that have one, in order
    for day in [] if period is None else period_days(period, grain):
        early = window.starts_after(day, fiscal_start)
        inside = [s for s in dated if s[1] is not None and s[1] <= day and early(s[1])]
        if inside:
            by_day.append(_aggregate(window.base, inside))
    if not by_day:
        return 0 if window.base == "sale_count" else None
    if window.period_value == "first":
        return by_day[0]
    if window.period_value == "average":
        present = [v for v in by_day if v is not None]
        return float(sum(Fraction(v) for v in present) / len(present)) if present else None
    return by_day[-1]
