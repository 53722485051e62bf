"""Dates per dialect: truncating to a period, moving by a number of units, the parts of a
date, date literals and `date_diff`, each computed as DuckDB computes it.

>>> from semantic.model.nodes import column
>>> trunc_sqlite(column("d"), "WEEK").sql("sqlite")
"DATE(d, '-6 days', 'weekday 1')"
"""

from __future__ import annotations

from typing import cast

import sqlglot
from sqlglot import exp

from semantic.compiler.dialects.base import (
    POSTGRES_LIKE,
    Context,
    fn,
    number,
    refuse,
    string,
    unit_of,
)

# --- truncating to a period ----------------------------------------------------------------


def trunc_sqlite(value: exp.Expression, unit: str) -> exp.Expression:
    """SQLite date modifiers; weeks start on Monday (back 6 days, then the next Monday)."""
    if unit == "DAY":
        return fn("DATE", value)
    if unit == "WEEK":
        return fn("DATE", value, string("-6 days"), string("weekday 1"))
    if unit == "QUARTER":
        month = exp.cast(fn("STRFTIME", string("%m"), value.copy()), exp.DataType.Type.INT)
        back = exp.Paren(
            this=exp.Mod(
                this=exp.Paren(this=exp.Sub(this=month, expression=number(1))), expression=number(3)
            )
        )
        modifier = exp.DPipe(
            this=exp.DPipe(this=string("-"), expression=back), expression=string(" months")
        )
        return fn("DATE", value, string("start of month"), modifier)
    return fn("DATE", value, string(f"start of {unit.lower()}"))


_ORACLE_UNITS = {"DAY": "DD", "WEEK": "IW", "MONTH": "MM", "QUARTER": "Q", "YEAR": "YYYY"}


def trunc_oracle(value: exp.Expression, unit: str) -> exp.Expression:
    return fn("TRUNC", value, string(_ORACLE_UNITS[unit]))


def trunc_tsql(value: exp.Expression, unit: str) -> exp.Expression:
    """`DATETRUNC` (SQL Server 2022); `ISO_WEEK` starts on Monday whatever `DATEFIRST` is."""
    return exp.TimestampTrunc(this=value, unit=exp.var("ISO_WEEK" if unit == "WEEK" else unit))


def trunc_spark(value: exp.Expression, unit: str) -> exp.Expression:
    """Spark's `TRUNC(d, 'DAY')` is NULL: a day is the date itself."""
    if unit == "DAY":
        return exp.cast(value, exp.DataType.Type.DATE)
    return exp.DateTrunc(this=value, unit=exp.var(unit))


def trunc_hive(value: exp.Expression, unit: str) -> exp.Expression:
    if unit == "DAY":
        return exp.cast(value, exp.DataType.Type.DATE)
    return fn("TRUNC", value, string(_ORACLE_UNITS[unit]))


def trunc_bigquery(value: exp.Expression, unit: str) -> exp.Expression:
    return exp.DateTrunc(this=value, unit=exp.var("ISOWEEK" if unit == "WEEK" else unit))


def trunc_mysql(value: exp.Expression, unit: str) -> exp.Expression:
    if unit == "WEEK":  # WEEKDAY() is 0 on Monday
        return exp.DateSub(this=value, expression=fn("WEEKDAY", value.copy()), unit=exp.var("DAY"))
    return exp.DateTrunc(this=value, unit=exp.var(unit))


def trunc_clickhouse(value: exp.Expression, unit: str) -> exp.Expression:
    if unit == "WEEK":
        return fn("toMonday", value)
    return exp.DateTrunc(this=value, unit=exp.var(unit))


# --- moving a date by a number of units -----------------------------------------------------


MONTHS = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}


def shift_add(value: exp.Expression, count: int, unit: str, whole: bool) -> exp.Expression:
    """`DATEADD(unit, count, value)`: engines whose month arithmetic clamps like DuckDB's."""
    return exp.DateAdd(this=value, expression=number(count), unit=exp.var(unit))


def shift_sqlite(value: exp.Expression, count: int, unit: str, whole: bool) -> exp.Expression:
    """SQLite rolls 31 March - 1 month over to 3 March; DuckDB clamps to 28 February. Move the
    first of the month, add the days back, and keep the earlier of that and the month end
    (`whole`: only the month of the result matters, the first of the month will do)."""
    if unit in ("DAY", "WEEK"):
        days = count * (7 if unit == "WEEK" else 1)
        return fn("DATE", value, string(f"{days:+d} days"))
    months = count * MONTHS[unit]
    if whole:
        return fn("DATE", value, string("start of month"), string(f"{months:+d} months"))
    day = exp.cast(fn("STRFTIME", string("%d"), value.copy()), exp.DataType.Type.INT)
    plus_days = exp.DPipe(
        this=exp.DPipe(
            this=string("+"), expression=exp.Paren(this=exp.Sub(this=day, expression=number(1)))
        ),
        expression=string(" days"),
    )
    moved = fn(
        "DATE", value.copy(), string("start of month"), string(f"{months:+d} months"), plus_days
    )
    month_end = fn(
        "DATE",
        value.copy(),
        string("start of month"),
        string(f"{months + 1:+d} months"),
        string("-1 days"),
    )
    return fn("MIN", moved, month_end)


def shift_oracle(value: exp.Expression, count: int, unit: str, whole: bool) -> exp.Expression:
    """Oracle's ADD_MONTHS maps a month end to a month end (28 Feb + 1 month = 31 Mar):
    move the first of the month instead, add the days back, and clamp to the month end."""
    if unit in ("DAY", "WEEK"):
        return exp.Add(this=value, expression=number(count * (7 if unit == "WEEK" else 1)))
    months = count * MONTHS[unit]
    if whole:
        return fn("ADD_MONTHS", value, number(months))
    first = fn("ADD_MONTHS", fn("TRUNC", value.copy(), string("MM")), number(months))
    day = exp.Extract(this=exp.var("DAY"), expression=value.copy())
    moved = exp.Add(this=first, expression=exp.Paren(this=exp.Sub(this=day, expression=number(1))))
    return fn("LEAST", moved, fn("LAST_DAY", first.copy()))


# --- parts of a date -----------------------------------------------------------------------


#: DuckDB's date part functions and their EXTRACT unit
PARTS: dict[type[exp.Expression], str] = {
    exp.Year: "YEAR",
    exp.Month: "MONTH",
    exp.Day: "DAY",
    exp.Quarter: "QUARTER",
}
_STRFTIME = {"YEAR": "%Y", "MONTH": "%m", "DAY": "%d"}


def part_extract(node: exp.Expression, part: str) -> exp.Expression:
    """`EXTRACT(part FROM d)`; Oracle has no quarter to extract: `TO_NUMBER(TO_CHAR(d, 'Q'))`."""
    if part == "QUARTER":
        return fn("TO_NUMBER", fn("TO_CHAR", node.this, string("Q")))
    return exp.Extract(this=exp.var(part), expression=node.this)


def part_standard(node: exp.Expression, part: str) -> exp.Expression:
    """`EXTRACT(part FROM d)` (`DATEPART` in T-SQL): PostgreSQL and T-SQL have no `QUARTER(d)`."""
    return exp.Extract(this=exp.var(part), expression=node.this)


def part_postgres(node: exp.Expression, part: str) -> exp.Expression:
    """`EXTRACT` is NUMERIC in PostgreSQL 14 and later (1992 comes back as a decimal);
    DuckDB's date parts are BIGINTs."""
    return exp.cast(part_standard(node, part), exp.DataType.Type.BIGINT)


def part_sqlite(node: exp.Expression, part: str) -> exp.Expression:
    """SQLite has no date part functions: `STRFTIME` as an integer."""
    if part == "QUARTER":  # (month + 2) / 3, an integer division on purpose
        month = part_sqlite(exp.Month(this=node.this), "MONTH")
        return exp.Div(
            this=exp.Paren(this=exp.Add(this=month, expression=number(2))),
            expression=number(3),
            typed=True,
        )
    return exp.cast(fn("STRFTIME", string(_STRFTIME[part]), node.this), exp.DataType.Type.INT)


#: DuckDB's week conventions: dayofweek 0 = Sunday .. 6, week = ISO week number
WEEK_PARTS: dict[type[exp.Expression], tuple[str, str]] = {
    exp.DayOfWeek: ("DOW", "the day of the week (DuckDB: 0 = Sunday)"),
    exp.Week: ("WEEK", "the week number (DuckDB: ISO weeks)"),
    exp.WeekOfYear: ("WEEK", "the week number (DuckDB: ISO weeks)"),
}


def date_literal_oracle(node: exp.Expression) -> exp.Expression:
    """Oracle reads `CAST('1995-03-15' AS DATE)` with the session's NLS_DATE_FORMAT."""
    return fn("TO_DATE", node.this, string("YYYY-MM-DD"))


def is_date_literal(node: exp.Expression) -> bool:
    """Whether `node` is `DATE '1995-03-15'` (a cast of a string to DATE)."""
    return (
        isinstance(node, exp.Cast)
        and node.to.this == exp.DataType.Type.DATE
        and isinstance(node.this, exp.Literal)
        and node.this.is_string
    )


def interval_shift(node: exp.Expression, ctx: Context) -> exp.Expression:
    """`d + INTERVAL n unit`, for engines without interval arithmetic (SQLite) or whose month
    arithmetic does not clamp as DuckDB's (Oracle): the dialect's date shift."""
    interval = node.expression
    assert isinstance(interval, exp.Interval)
    amount, unit = interval.this.name, interval.text("unit").upper()
    if not unit and len(amount.split()) == 2:  # INTERVAL '1 month'
        amount, unit = amount.split()
        unit = unit.upper()
    unit = unit.removesuffix("S")
    try:
        count = int(amount)
    except ValueError:
        count = None
    if count is None or unit not in ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR"):
        refuse(
            ctx.dialect,
            f"date arithmetic with {interval.sql('duckdb')}",
            "only whole days, weeks, months, quarters and years are written",
        )
    assert ctx.target.shift is not None and count is not None
    step = -count if isinstance(node, exp.Sub) else count
    return ctx.target.shift(node.this, step, unit, False)


#: date_diff(unit, a, b) as DuckDB counts: boundaries crossed for months, quarters and years
#: (31 Jan -> 1 Feb is one month), whole weeks of seven days, days between the dates
_DIFF_TEMPLATES = {
    "YEAR": "year(__b) - year(__a)",
    "QUARTER": "(year(__b) - year(__a)) * 4 + quarter(__b) - quarter(__a)",
    "MONTH": "(year(__b) - year(__a)) * 12 + month(__b) - month(__a)",
}


def date_diff(node: exp.Expression, ctx: Context) -> exp.Expression:
    """DuckDB's `date_diff`, from date parts: Spark and SQLite count whole months and years,
    PostgreSQL rounds weeks."""
    unit = unit_of(node) or "DAY"
    later, earlier = node.this, node.expression
    if unit in _DIFF_TEMPLATES:
        template = sqlglot.parse_one(_DIFF_TEMPLATES[unit], read="duckdb")
        new = ctx.adapt(cast(exp.Expression, template))
    elif unit in ("DAY", "WEEK"):
        days: exp.Expression = exp.DateDiff(
            this=exp.cast(exp.column("__b"), exp.DataType.Type.DATE),
            expression=exp.cast(exp.column("__a"), exp.DataType.Type.DATE),
            unit=exp.var("DAY"),
        )
        if ctx.dialect in POSTGRES_LIKE:
            days = exp.Paren(this=exp.Sub(this=days.this, expression=days.args["expression"]))
        new = days if unit == "DAY" else exp.IntDiv(this=days, expression=number(7))
    else:
        refuse(
            ctx.dialect,
            f"date_diff by {unit.lower()}",
            "DuckDB counts the boundaries crossed, the engine whole units",
        )

    def place(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and n.name in ("__a", "__b"):
            return (later if n.name == "__b" else earlier).copy()
        return n

    return exp.Paren(this=new.transform(place, copy=False))


TRUNCATE_UNITS = ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR")
