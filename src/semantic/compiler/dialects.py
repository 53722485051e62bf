"""Make a compiled tree mean in every dialect what it means in DuckDB, or refuse it.

Business queries and term expressions are read as DuckDB SQL, so their meaning is DuckDB's.
sqlglot translates syntax; a few constructs also need a change of *function* to keep their
meaning in another engine, and a few have no faithful translation at all:

- truncating a date to a period: T-SQL and SQLite have no `DATE_TRUNC`, Oracle and Teradata
  spell the units `DD`, `IW`, `Q`; Spark's `TRUNC(d, 'DAY')` is NULL; BigQuery's and
  ClickHouse's weeks start on Sunday, DuckDB's (ISO) on Monday;
- moving a date by months: T-SQL, SQLite and Oracle have no `DATE_SUB(d, n, unit)`; SQLite
  and Oracle do not clamp 31 March minus one month to 28 February as DuckDB does;
- `year(d)`, `quarter(d)`...: SQLite, Oracle and Teradata have no `YEAR`, PostgreSQL and
  T-SQL no `QUARTER`; `dayofweek(d)` and `week(d)` number days and weeks differently in
  most engines (refused there);
- `avg(x)`: T-SQL and Redshift average integers as integers, DuckDB in DOUBLE;
- null-safe equality: Oracle, Teradata, Exasol and Hive have no `IS NOT DISTINCT FROM`;
  ClickHouse needs `join_use_nulls` for a LEFT JOIN to give NULLs rather than zeros;
- output names: Snowflake and Oracle upper-case, PostgreSQL lower-case, unquoted aliases.

Division (true division in DuckDB) and NULL ordering (last in both directions in DuckDB)
are translated by sqlglot itself from the flags the query reader sets; tests pin both.

Functions differ too: rounding ties, casts to integers, `date_diff`, day and month names,
`substr` from 0 or from the end, `LIKE` case, `concat`, `contains`, string order (PostgreSQL
follows the database collation: strings get `COLLATE "C"`). Each dialect lists its rewrites
in `Target.functions`; `tests/soundness/test_function_meaning.py` runs each on the engines.

`adapt` is a plain pass: tree in, tree out. `to_sql` runs it and writes the text: it is the
one road from a tree to the SQL an engine runs (queries, views, quality rules, load scripts).

>>> from semantic.model.nodes import column
>>> tree = exp.DateTrunc(this=column("d"), unit=exp.var("QUARTER"))
>>> adapt(tree, "oracle").sql("oracle")
"TRUNC(d, 'Q')"
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import cast

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, Dialects, NormalizationStrategy
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types

from semantic.errors import Span, error, suggest
from semantic.model import Model

Rewrite = Callable[[exp.Expression, str], exp.Expression]
Shift = Callable[[exp.Expression, int, str, bool], exp.Expression]
ZoneRewrite = Callable[[exp.Expression, str], exp.Expression]


def _fn(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _int(value: int) -> exp.Expression:
    return exp.Literal.number(value)


def _text(value: str) -> exp.Literal:
    return exp.Literal.string(value)


# --- truncating to a period ----------------------------------------------------------------


def _trunc_sqlite(value: exp.Expression, unit: str) -> exp.Expression:
    """SQLite date modifiers; weeks start on Monday (back 6 days, then the next Monday)."""
    if unit == "DAY":
        return _fn("DATE", value)
    if unit == "WEEK":
        return _fn("DATE", value, _text("-6 days"), _text("weekday 1"))
    if unit == "QUARTER":
        month = exp.cast(_fn("STRFTIME", _text("%m"), value.copy()), exp.DataType.Type.INT)
        back = exp.Paren(
            this=exp.Mod(
                this=exp.Paren(this=exp.Sub(this=month, expression=_int(1))), expression=_int(3)
            )
        )
        modifier = exp.DPipe(
            this=exp.DPipe(this=_text("-"), expression=back), expression=_text(" months")
        )
        return _fn("DATE", value, _text("start of month"), modifier)
    return _fn("DATE", value, _text(f"start of {unit.lower()}"))


_ORACLE_UNITS = {"DAY": "DD", "WEEK": "IW", "MONTH": "MM", "QUARTER": "Q", "YEAR": "YYYY"}


def _trunc_oracle(value: exp.Expression, unit: str) -> exp.Expression:
    return _fn("TRUNC", value, _text(_ORACLE_UNITS[unit]))


def _trunc_tsql(value: exp.Expression, unit: str) -> exp.Expression:
    """`DATETRUNC` (SQL Server 2022); `ISO_WEEK` starts on Monday whatever `DATEFIRST` is."""
    return exp.TimestampTrunc(this=value, unit=exp.var("ISO_WEEK" if unit == "WEEK" else unit))


def _trunc_spark(value: exp.Expression, unit: str) -> exp.Expression:
    """Spark's `TRUNC(d, 'DAY')` is NULL: a day is the date itself."""
    if unit == "DAY":
        return exp.cast(value, exp.DataType.Type.DATE)
    return exp.DateTrunc(this=value, unit=exp.var(unit))


def _trunc_hive(value: exp.Expression, unit: str) -> exp.Expression:
    if unit == "DAY":
        return exp.cast(value, exp.DataType.Type.DATE)
    return _fn("TRUNC", value, _text(_ORACLE_UNITS[unit]))


def _trunc_bigquery(value: exp.Expression, unit: str) -> exp.Expression:
    return exp.DateTrunc(this=value, unit=exp.var("ISOWEEK" if unit == "WEEK" else unit))


def _trunc_mysql(value: exp.Expression, unit: str) -> exp.Expression:
    if unit == "WEEK":  # WEEKDAY() is 0 on Monday
        return exp.DateSub(this=value, expression=_fn("WEEKDAY", value.copy()), unit=exp.var("DAY"))
    return exp.DateTrunc(this=value, unit=exp.var(unit))


def _trunc_clickhouse(value: exp.Expression, unit: str) -> exp.Expression:
    if unit == "WEEK":
        return _fn("toMonday", value)
    return exp.DateTrunc(this=value, unit=exp.var(unit))


# --- moving a date by a number of units -----------------------------------------------------


_MONTHS = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}


def _shift_add(value: exp.Expression, count: int, unit: str, whole: bool) -> exp.Expression:
    """`DATEADD(unit, count, value)`: engines whose month arithmetic clamps like DuckDB's."""
    return exp.DateAdd(this=value, expression=_int(count), unit=exp.var(unit))


def _shift_sqlite(value: exp.Expression, count: int, unit: str, whole: bool) -> exp.Expression:
    """SQLite rolls 31 March - 1 month over to 3 March; DuckDB clamps to 28 February. Move the
    first of the month, add the days back, and keep the earlier of that and the month end
    (`whole`: only the month of the result matters, the first of the month will do)."""
    if unit in ("DAY", "WEEK"):
        days = count * (7 if unit == "WEEK" else 1)
        return _fn("DATE", value, _text(f"{days:+d} days"))
    months = count * _MONTHS[unit]
    if whole:
        return _fn("DATE", value, _text("start of month"), _text(f"{months:+d} months"))
    day = exp.cast(_fn("STRFTIME", _text("%d"), value.copy()), exp.DataType.Type.INT)
    plus_days = exp.DPipe(
        this=exp.DPipe(
            this=_text("+"), expression=exp.Paren(this=exp.Sub(this=day, expression=_int(1)))
        ),
        expression=_text(" days"),
    )
    moved = _fn(
        "DATE", value.copy(), _text("start of month"), _text(f"{months:+d} months"), plus_days
    )
    month_end = _fn(
        "DATE",
        value.copy(),
        _text("start of month"),
        _text(f"{months + 1:+d} months"),
        _text("-1 days"),
    )
    return _fn("MIN", moved, month_end)


def _shift_oracle(value: exp.Expression, count: int, unit: str, whole: bool) -> exp.Expression:
    """Oracle's ADD_MONTHS maps a month end to a month end (28 Feb + 1 month = 31 Mar):
    move the first of the month instead, add the days back, and clamp to the month end."""
    if unit in ("DAY", "WEEK"):
        return exp.Add(this=value, expression=_int(count * (7 if unit == "WEEK" else 1)))
    months = count * _MONTHS[unit]
    if whole:
        return _fn("ADD_MONTHS", value, _int(months))
    first = _fn("ADD_MONTHS", _fn("TRUNC", value.copy(), _text("MM")), _int(months))
    day = exp.Extract(this=exp.var("DAY"), expression=value.copy())
    moved = exp.Add(this=first, expression=exp.Paren(this=exp.Sub(this=day, expression=_int(1))))
    return _fn("LEAST", moved, _fn("LAST_DAY", first.copy()))


# --- other functions -----------------------------------------------------------------------


#: DuckDB's date part functions and their EXTRACT unit
_PARTS: dict[type[exp.Expression], str] = {
    exp.Year: "YEAR",
    exp.Month: "MONTH",
    exp.Day: "DAY",
    exp.Quarter: "QUARTER",
}
_STRFTIME = {"YEAR": "%Y", "MONTH": "%m", "DAY": "%d"}


def _part_extract(node: exp.Expression, part: str) -> exp.Expression:
    """`EXTRACT(part FROM d)`; Oracle has no quarter to extract: `TO_NUMBER(TO_CHAR(d, 'Q'))`."""
    if part == "QUARTER":
        return _fn("TO_NUMBER", _fn("TO_CHAR", node.this, _text("Q")))
    return exp.Extract(this=exp.var(part), expression=node.this)


def _part_standard(node: exp.Expression, part: str) -> exp.Expression:
    """`EXTRACT(part FROM d)` (`DATEPART` in T-SQL): PostgreSQL and T-SQL have no `QUARTER(d)`."""
    return exp.Extract(this=exp.var(part), expression=node.this)


def _part_postgres(node: exp.Expression, part: str) -> exp.Expression:
    """`EXTRACT` is NUMERIC in PostgreSQL 14 and later (1992 comes back as 1992.0's
    decimal); DuckDB's date parts are BIGINTs."""
    return exp.cast(_part_standard(node, part), exp.DataType.Type.BIGINT)


def _part_sqlite(node: exp.Expression, part: str) -> exp.Expression:
    if part == "QUARTER":  # (month + 2) / 3, an integer division on purpose
        month = _part_sqlite(exp.Month(this=node.this), "MONTH")
        return exp.Div(
            this=exp.Paren(this=exp.Add(this=month, expression=_int(2))),
            expression=_int(3),
            typed=True,
        )
    return exp.cast(_fn("STRFTIME", _text(_STRFTIME[part]), node.this), exp.DataType.Type.INT)


#: DuckDB's week conventions: dayofweek 0 = Sunday .. 6, week = ISO week number
_WEEK_PARTS: dict[type[exp.Expression], tuple[str, str]] = {
    exp.DayOfWeek: ("DOW", "the day of the week (DuckDB: 0 = Sunday)"),
    exp.Week: ("WEEK", "the week number (DuckDB: ISO weeks)"),
    exp.WeekOfYear: ("WEEK", "the week number (DuckDB: ISO weeks)"),
}


def _date_literal_oracle(node: exp.Expression) -> exp.Expression:
    """Oracle reads `CAST('1995-03-15' AS DATE)` with the session's NLS_DATE_FORMAT."""
    return _fn("TO_DATE", node.this, _text("YYYY-MM-DD"))


def _is_date_literal(node: exp.Expression) -> bool:
    return (
        isinstance(node, exp.Cast)
        and node.to.this == exp.DataType.Type.DATE
        and isinstance(node.this, exp.Literal)
        and node.this.is_string
    )


def _average_as_double(node: exp.Expression) -> exp.Expression:
    """DuckDB averages in DOUBLE; T-SQL and Redshift average integers as integers."""
    value = node.this
    if isinstance(value, exp.Distinct):
        value.set("expressions", [exp.cast(e, exp.DataType.Type.DOUBLE) for e in value.expressions])
    else:
        node.set("this", exp.cast(value, exp.DataType.Type.DOUBLE))
    return node


def _null_safe_or(node: exp.Expression) -> exp.Expression:
    """`a = b OR (a IS NULL AND b IS NULL)`: what `a IS NOT DISTINCT FROM b` means."""
    a, b = node.this, node.expression
    both_null = exp.and_(
        exp.Is(this=a.copy(), expression=exp.Null()), exp.Is(this=b.copy(), expression=exp.Null())
    )
    return exp.Paren(this=exp.or_(exp.EQ(this=a, expression=b), exp.Paren(this=both_null)))


def _null_safe_clickhouse(node: exp.Expression) -> exp.Expression:
    return _fn("isNotDistinctFrom", node.this, node.expression)


# --- the wall-clock time of an instant in the project's time zone ----------------------------


def _zone(node: exp.Expression) -> str:
    return node.args["zone"].name


def _zone_utc_only(convert: Callable[[exp.Expression], exp.Expression], why: str) -> ZoneRewrite:
    def rewrite(node: exp.Expression, dialect: str) -> exp.Expression:
        if _zone(node).upper() not in ("UTC", "ETC/UTC"):
            refuse(
                dialect,
                f"reading a timestamptz in time zone '{_zone(node)}'",
                why,
                "set time_zone: UTC in semantic.yml, or run the query on another engine",
            )
        return convert(node.this)

    return rewrite


# --- functions whose meaning differs between engines ------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a function rewrite may need besides the node: the dialect and its target."""

    dialect: str
    target: Target


FunctionRewrite = Callable[[exp.Expression, Context], exp.Expression]

_TEXT_TYPES = {
    exp.DataType.Type.TEXT,
    exp.DataType.Type.VARCHAR,
    exp.DataType.Type.CHAR,
    exp.DataType.Type.NVARCHAR,
    exp.DataType.Type.NCHAR,
}
_FLOAT_TYPES = {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}
_EXACT_TYPES = exp.DataType.INTEGER_TYPES | {exp.DataType.Type.DECIMAL, *_TEXT_TYPES}
_INTEGER_CASTS = exp.DataType.INTEGER_TYPES - {exp.DataType.Type.BIT}


def _type(node: exp.Expression) -> exp.DType | None:
    """The type `annotate_types` found for `node` (from the model's column types), if any."""
    found = node.type
    if found is None or found.this == exp.DataType.Type.UNKNOWN:
        return None
    return found.this


def _is_text(node: exp.Expression) -> bool:
    return (isinstance(node, exp.Literal) and node.is_string) or _type(node) in _TEXT_TYPES


def _literal_int(node: exp.Expression | None) -> int | None:
    """The value of an integer literal (`-2` included), or None."""
    if isinstance(node, exp.Neg):
        inner = _literal_int(node.this)
        return None if inner is None else -inner
    if isinstance(node, exp.Literal) and node.is_int:
        return int(node.name)
    return None


def _ties_to_even(value: exp.Expression) -> exp.Expression:
    """`value` rounded to a whole number, ties to even (`nearbyint`): 2.5 -> 2, 3.5 -> 4. Where
    the value is a tie, twice the rounded half: ROUND(1.25) * 2 = 2, ROUND(1.75) * 2 = 4."""
    half = exp.Div(this=value.copy(), expression=exp.Literal.number("2.0"))
    tie = exp.EQ(
        this=exp.Abs(this=exp.Sub(this=value.copy(), expression=exp.Floor(this=value.copy()))),
        expression=exp.Literal.number("0.5"),
    )
    return exp.Case(
        ifs=[exp.If(this=tie, true=exp.Mul(this=exp.Round(this=half), expression=_int(2)))],
        default=exp.Round(this=value),
    )


def _integer_cast(node: exp.Expression, ctx: Context) -> exp.Expression:
    """DuckDB rounds a value cast to an integer: a DOUBLE to the nearest, ties to even (2.5 ->
    2), a DECIMAL or a string half away from zero (2.5 -> 3). Spark and SQLite truncate."""
    assert isinstance(node, exp.Cast)
    value = node.this
    if node.to.this not in _INTEGER_CASTS or isinstance(value, exp.Round):
        return node
    kind = _type(value)
    if isinstance(value, exp.Literal) or kind in _EXACT_TYPES:
        if kind in exp.DataType.INTEGER_TYPES:
            return node
        rounded: exp.Expression = exp.Round(this=value)
        if _is_text(value):  # ROUND of a string is NULL in SQLite
            rounded = exp.Round(this=exp.cast(value, exp.DataType.Type.DOUBLE))
    elif kind in _FLOAT_TYPES:
        rounded = _fn("BROUND", value) if ctx.dialect in _SPARKS else _ties_to_even(value)
    else:
        refuse(
            ctx.dialect,
            f"the cast {node.sql('duckdb')}",
            "DuckDB rounds DOUBLEs to even and DECIMALs away from zero, the engine truncates, "
            "and the type of the value is unknown",
            "declare the types of the columns in the model, or round() the value first",
        )
    node.set("this", rounded)
    return node


def _round_numeric(node: exp.Expression, ctx: Context) -> exp.Expression:
    """PostgreSQL rounds a DOUBLE PRECISION half to even (`rint`), a NUMERIC half away from
    zero as DuckDB rounds both, and has no `round(double precision, int)`: round in NUMERIC."""
    if not isinstance(node.this, exp.Literal | exp.Cast):
        node.set("this", exp.cast(node.this, exp.DataType.Type.DECIMAL))
    return node


def _division_nullif(node: exp.Expression, ctx: Context) -> exp.Expression:
    """Spark 4 (ANSI mode) fails on `x / 0`: divide by `NULLIF(y, 0)`, NULL as elsewhere."""
    if node.args.get("safe"):
        node.set("expression", exp.Nullif(this=node.expression, expression=_int(0)))
        node.set("safe", None)
    return node


_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _names_sqlite(node: exp.Expression, ctx: Context) -> exp.Expression:
    """SQLite has no day or month names: a CASE over `STRFTIME('%w')` / `STRFTIME('%m')`."""
    day = isinstance(node, exp.Dayname)
    number = exp.cast(
        _fn("STRFTIME", _text("%w" if day else "%m"), node.this), exp.DataType.Type.INT
    )
    names = _DAYS if day else _MONTH_NAMES
    first = 0 if day else 1
    return exp.Case(
        this=number,
        ifs=[exp.If(this=_int(i + first), true=_text(n)) for i, n in enumerate(names)],
    )


def _names_format(pattern: str, day: str, month: str) -> FunctionRewrite:
    """Day and month names in English, whatever the locale (`FMDay` in PostgreSQL: without
    `TM` the names are English, and `FM` drops the padding to nine letters)."""

    def rewrite(node: exp.Expression, ctx: Context) -> exp.Expression:
        name = day if isinstance(node, exp.Dayname) else month
        return _fn(pattern, node.this, _text(name))

    return rewrite


#: SQLite stores an instant as ISO text with its offset; DATETIME() gives it in UTC, and
#: SQLite knows no other zone than UTC and the machine's
_ZONE_SQLITE = _zone_utc_only(
    lambda value: _fn("DATETIME", value), "SQLite converts times to UTC only"
)
#: T-SQL's AT TIME ZONE takes Windows zone names ('Romance Standard Time'), not IANA ones
_ZONE_TSQL = _zone_utc_only(
    lambda value: exp.AtTimeZone(this=value, zone=_text("UTC")),
    "SQL Server names time zones the Windows way, not by IANA names",
)


def _zone_spark(node: exp.Expression, dialect: str) -> exp.Expression:
    """Spark shows and truncates a TIMESTAMP in its session time zone: move the instant so
    that its session wall clock is the wall clock of the zone."""
    utc = _fn("TO_UTC_TIMESTAMP", node.this, _fn("CURRENT_TIMEZONE"))
    return _fn("FROM_UTC_TIMESTAMP", utc, _text(_zone(node)))


def _substring_from_end(node: exp.Expression, ctx: Context) -> exp.Expression:
    """DuckDB counts a negative start from the end (`substr('hello', -2, 2)` = 'lo');
    PostgreSQL starts before the string (''). Start at `length + start + 1`."""
    start = node.args.get("start")
    value = _literal_int(start)
    if value is None and start is not None:
        refuse(ctx.dialect, "substr() from a computed position", _SUBSTR_WHY)
    if value is not None and value < 0:
        length = exp.Length(this=node.this.copy())
        node.set("start", exp.Add(this=length, expression=_int(value + 1)))
    return node


def _substring_from_zero(node: exp.Expression, ctx: Context) -> exp.Expression:
    """`substr(s, 0, n)` is n - 1 characters in DuckDB (position 0 is before the string), n in
    Spark (0 is read as 1)."""
    start = node.args.get("start")
    value = _literal_int(start)
    if value is None and start is not None:
        refuse(ctx.dialect, "substr() from a computed position", _SUBSTR_WHY)
    length = node.args.get("length")
    if value == 0:
        node.set("start", _int(1))
        if length is not None:
            node.set("length", exp.Sub(this=length, expression=_int(1)))
    return node


_SUBSTR_WHY = "the engine reads a start of 0 or below differently, and it is only known at run time"


def _glob_pattern(pattern: str) -> str:
    """A LIKE pattern as a GLOB pattern: `%` -> `*`, `_` -> `?`, GLOB's own `*?[` in brackets."""
    special = {"*": "[*]", "?": "[?]", "[": "[[]", "%": "*", "_": "?"}
    return "".join(special.get(c, c) for c in pattern)


def _like_sqlite(node: exp.Expression, ctx: Context) -> exp.Expression:
    """SQLite's LIKE ignores the case of ASCII letters; DuckDB's does not: GLOB, which
    compares characters exactly."""
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        refuse(
            ctx.dialect,
            "LIKE with a computed pattern",
            "SQLite's LIKE ignores case, and only a constant pattern can be rewritten as GLOB",
        )
    glob = exp.Glob(this=node.this, expression=_text(_glob_pattern(pattern.name)))
    return exp.Not(this=glob) if node.args.get("negate") else glob


def _last_day_sqlite(node: exp.Expression, ctx: Context) -> exp.Expression:
    return _fn("DATE", node.this, _text("start of month"), _text("+1 months"), _text("-1 days"))


def _concat_sqlite(node: exp.Expression, ctx: Context) -> exp.Expression:
    """DuckDB's concat() skips NULLs; SQLite has only `||`, which is NULL with a NULL."""
    parts = [exp.Coalesce(this=e, expressions=[_text("")]) for e in node.expressions]
    result: exp.Expression = parts[0]
    for part in parts[1:]:
        result = exp.DPipe(this=result, expression=part)
    return exp.Paren(this=result)


def _left_sqlite(node: exp.Expression, ctx: Context) -> exp.Expression:
    """`left(s, n)`; a negative n keeps all but the last -n characters, as in DuckDB."""
    count = _literal_int(node.expression)
    if count is None:
        refuse(ctx.dialect, "left() of a computed length", "only a constant length is written")
    assert count is not None
    if count >= 0:
        return exp.Substring(this=node.this, start=_int(1), length=_int(count))
    kept = exp.Add(this=exp.Length(this=node.this.copy()), expression=_int(count))
    return exp.Substring(this=node.this, start=_int(1), length=_fn("MAX", kept, _int(0)))


def _contains_strpos(node: exp.Expression, ctx: Context) -> exp.Expression:
    return exp.GT(this=_fn("STRPOS", node.this, node.expression), expression=_int(0))


def _contains_instr(node: exp.Expression, ctx: Context) -> exp.Expression:
    return exp.GT(this=_fn("INSTR", node.this, node.expression), expression=_int(0))


def _starts_with_sqlite(node: exp.Expression, ctx: Context) -> exp.Expression:
    prefix = exp.Substring(
        this=node.this, start=_int(1), length=exp.Length(this=node.expression.copy())
    )
    return exp.EQ(this=prefix, expression=node.expression)


def _ends_with_right(node: exp.Expression, ctx: Context) -> exp.Expression:
    """`RIGHT(s, LENGTH(x)) = x`: true for an empty suffix, as in DuckDB."""
    tail = exp.Right(this=node.this, expression=exp.Length(this=node.expression.copy()))
    return exp.EQ(this=tail, expression=node.expression)


def _ends_with_sqlite(node: exp.Expression, ctx: Context) -> exp.Expression:
    start = exp.Add(
        this=exp.Sub(
            this=exp.Length(this=node.this.copy()),
            expression=exp.Length(this=node.expression.copy()),
        ),
        expression=_int(1),
    )
    return exp.EQ(this=exp.Substring(this=node.this, start=start), expression=node.expression)


def _make_date_postgres(node: exp.Expression, ctx: Context) -> exp.Expression:
    """MAKE_DATE takes integers only; the parts of a date (EXTRACT) are NUMERIC there."""
    parts = [exp.cast(node.args[p], exp.DataType.Type.INT) for p in ("year", "month", "day")]
    return _fn("MAKE_DATE", *parts)


def _make_date_sqlite(node: exp.Expression, ctx: Context) -> exp.Expression:
    text = _fn(
        "PRINTF", _text("%04d-%02d-%02d"), node.args["year"], node.args["month"], node.args["day"]
    )
    return _fn("DATE", text)


def _extract_sqlite(node: exp.Expression, ctx: Context) -> exp.Expression:
    """`EXTRACT(part FROM d)` and `date_part('part', d)`: SQLite has neither."""
    if isinstance(node, exp.Anonymous):
        if node.name.lower() != "date_part" or len(node.expressions) != 2:
            return node
        unit, value = node.expressions
        part = unit.name.upper() if isinstance(unit, exp.Literal) else ""
    else:
        part, value = node.text("this").upper(), node.expression
    classes: dict[str, type[exp.Expression]] = {
        "YEAR": exp.Year,
        "MONTH": exp.Month,
        "DAY": exp.Day,
        "QUARTER": exp.Quarter,
    }
    if part not in classes:
        refuse(ctx.dialect, f"the date part {part.lower() or '?'}", "SQLite has no such part")
    cls = classes[part]
    return _part_sqlite(cls(this=value), _PARTS[cls])


def _refused(construct: str, why: str) -> FunctionRewrite:
    def rewrite(node: exp.Expression, ctx: Context) -> exp.Expression:
        refuse(ctx.dialect, construct, why)
        return node

    return rewrite


#: date_diff(unit, a, b) as DuckDB counts: boundaries crossed for months, quarters and years
#: (31 Jan -> 1 Feb is one month), whole weeks of seven days, days between the dates
_DIFF_TEMPLATES = {
    "YEAR": "year(__b) - year(__a)",
    "QUARTER": "(year(__b) - year(__a)) * 4 + quarter(__b) - quarter(__a)",
    "MONTH": "(year(__b) - year(__a)) * 12 + month(__b) - month(__a)",
}


def _date_diff(node: exp.Expression, ctx: Context) -> exp.Expression:
    """DuckDB's `date_diff`, from date parts: Spark and SQLite count whole months and years,
    PostgreSQL rounds weeks."""
    unit = _unit(node) or "DAY"
    later, earlier = node.this, node.expression
    if unit in _DIFF_TEMPLATES:
        template = sqlglot.parse_one(_DIFF_TEMPLATES[unit], read="duckdb")
        new = adapt(cast(exp.Expression, template), ctx.dialect)
    elif unit in ("DAY", "WEEK"):
        days: exp.Expression = exp.DateDiff(
            this=exp.cast(exp.column("__b"), exp.DataType.Type.DATE),
            expression=exp.cast(exp.column("__a"), exp.DataType.Type.DATE),
            unit=exp.var("DAY"),
        )
        if ctx.dialect in _POSTGRES_LIKE:
            days = exp.Paren(this=exp.Sub(this=days.this, expression=days.args["expression"]))
        new = days if unit == "DAY" else exp.IntDiv(this=days, expression=_int(7))
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


def _unordered_numbers(order: exp.Expression | None) -> FunctionRewrite:
    """`ROW_NUMBER() OVER ()` (a number per row, in no order: the compiler's identity of
    an entity's rows) for engines whose ROW_NUMBER needs an ORDER BY: ordered by `order`,
    a constant, or, with None, Spark's `MONOTONICALLY_INCREASING_ID()`, which numbers the
    rows without gathering them in one partition (unique, not consecutive)."""

    def rewrite(node: exp.Expression, ctx: Context) -> exp.Expression:
        if not isinstance(node.this, exp.RowNumber) or node.args.get("order"):
            return node
        if node.args.get("partition_by"):
            return node
        if order is None:
            return _fn("MONOTONICALLY_INCREASING_ID")
        # NULLS FIRST, the order of a constant in every one of these engines: sqlglot then
        # writes no CASE to emulate another
        ordered = exp.Order(expressions=[exp.Ordered(this=order.copy(), nulls_first=True)])
        return exp.Window(this=node.this.copy(), order=ordered)

    return rewrite


_SPARKS = ("spark", "spark2", "databricks")
_POSTGRES_LIKE = ("postgres", "materialize", "risingwave", "redshift")

_POSTGRES_FUNCTIONS: dict[type[exp.Expression], FunctionRewrite] = {
    exp.Round: _round_numeric,
    exp.Dayname: _names_format("TO_CHAR", "FMDay", "FMMonth"),
    exp.Monthname: _names_format("TO_CHAR", "FMDay", "FMMonth"),
    exp.Substring: _substring_from_end,
    exp.Contains: _contains_strpos,
    exp.EndsWith: _ends_with_right,
    exp.DateFromParts: _make_date_postgres,
}
_SPARK_FUNCTIONS: dict[type[exp.Expression], FunctionRewrite] = {
    exp.Div: _division_nullif,
    exp.Cast: _integer_cast,
    # Spark 4's dayname() and monthname() abbreviate: 'Mon', 'Jan'
    exp.Dayname: _names_format("DATE_FORMAT", "EEEE", "MMMM"),
    exp.Monthname: _names_format("DATE_FORMAT", "EEEE", "MMMM"),
    exp.Substring: _substring_from_zero,
    exp.Window: _unordered_numbers(None),
}
_SQLITE_FUNCTIONS: dict[type[exp.Expression], FunctionRewrite] = {
    exp.Cast: _integer_cast,
    exp.Dayname: _names_sqlite,
    exp.Monthname: _names_sqlite,
    exp.Like: _like_sqlite,
    exp.LastDay: _last_day_sqlite,
    exp.Concat: _concat_sqlite,
    exp.Left: _left_sqlite,
    exp.Contains: _contains_instr,
    exp.StartsWith: _starts_with_sqlite,
    exp.EndsWith: _ends_with_sqlite,
    exp.DateFromParts: _make_date_sqlite,
    exp.Extract: _extract_sqlite,
    exp.Anonymous: _extract_sqlite,
    exp.SplitPart: _refused("split_part()", "SQLite has no function to split a string"),
    exp.RegexpLike: _refused("regexp_matches()", "SQLite has no regular expressions"),
    exp.Median: _refused("median()", "SQLite has no percentiles"),
    exp.Stddev: _refused("stddev()", "SQLite has no standard deviation"),
    exp.StddevSamp: _refused("stddev_samp()", "SQLite has no standard deviation"),
    exp.StddevPop: _refused("stddev_pop()", "SQLite has no standard deviation"),
    exp.Variance: _refused("variance()", "SQLite has no variance"),
}


# --- what each dialect needs -----------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a dialect needs to keep DuckDB's meaning. None keeps sqlglot's translation."""

    truncate: Rewrite | None = None
    shift: Shift | None = None
    date_part: Callable[[exp.Expression, str], exp.Expression] | None = None
    #: the week conventions are DuckDB's (True), EXTRACT gives them (False), or neither (None)
    duckdb_weeks: bool | None = None
    average_as_double: bool = False
    date_literal: Callable[[exp.Expression], exp.Expression] | None = None
    #: `/` truncates integers (Druid, Solr) or rounds to a few decimals (MySQL: 4, Snowflake:
    #: 6) where DuckDB divides in DOUBLE: the dividend is cast to DOUBLE
    double_division: bool = False
    null_safe_eq: Callable[[exp.Expression], exp.Expression] | None = None
    #: construct -> why the dialect cannot compute it as DuckDB does
    refused: dict[str, str] = field(default_factory=dict)
    #: query settings appended to the outer SELECT (ClickHouse)
    settings: tuple[tuple[str, int], ...] = ()
    #: `instant AT TIME ZONE 'zone'` (a wall-clock time), where sqlglot's translation is not
    #: that; None keeps sqlglot's
    time_zone: ZoneRewrite | None = None
    #: function (node class) -> the rewrite that keeps DuckDB's meaning, or refuses it
    functions: Mapping[type[exp.Expression], FunctionRewrite] = field(default_factory=dict)
    #: strings compare and sort by the database's collation (PostgreSQL): compare bytes
    byte_collation: bool = False
    #: functions that sqlglot writes for the dialect under a name the engine lacks
    missing: tuple[type[exp.Expression], ...] = ()

    @property
    def rewrites(self) -> bool:
        """Whether a tree may need changes (DuckDB's own SQL needs none)."""
        functions = (
            self.truncate,
            self.shift,
            self.date_part,
            self.null_safe_eq,
            self.date_literal,
            self.time_zone,
        )
        return (
            any(f is not None for f in functions)
            or bool(self.functions)
            or self.duckdb_weeks is not True
            or self.average_as_double
            or self.double_division
            or bool(self.settings)
        )


_WEEK_UNKNOWN = "its weeks start on a day that depends on a session setting, DuckDB's on Monday"
_NOT_SQL = "sqlglot reads this language but writes plain SQL for it, not {}"
_ORACLE = Target(
    truncate=_trunc_oracle,
    shift=_shift_oracle,
    date_part=_part_extract,
    null_safe_eq=_null_safe_or,
    functions={exp.Window: _unordered_numbers(exp.null())},
)

_TSQL = Target(
    truncate=_trunc_tsql,
    shift=_shift_add,
    date_part=_part_standard,
    average_as_double=True,
    time_zone=_ZONE_TSQL,
    functions={exp.Window: _unordered_numbers(exp.Subquery(this=exp.select(exp.null())))},
)
#: sqlglot writes these as DuckDB names (DAY_OF_MONTH...) that PostgreSQL lacks, and no
#: rewrite of `_POSTGRES_FUNCTIONS` keeps their meaning yet
_POSTGRES_MISSING: tuple[type[exp.Expression], ...] = (
    exp.RegexpExtract,
    exp.DayOfMonth,
    exp.DayOfWeekIso,
    exp.DayOfYear,
)
_POSTGRES = Target(
    date_part=_part_postgres,
    duckdb_weeks=False,
    average_as_double=True,  # avg of a NUMERIC is a NUMERIC there, a DOUBLE in DuckDB
    functions=_POSTGRES_FUNCTIONS,
    byte_collation=True,
    missing=_POSTGRES_MISSING,
)
_SPARK = Target(
    truncate=_trunc_spark,
    double_division=True,  # a DECIMAL quotient keeps 6 decimals: 137558.286016
    average_as_double=True,  # so does the average of DECIMALs
    functions=_SPARK_FUNCTIONS,
    time_zone=_zone_spark,
)

TARGETS: dict[str, Target] = {
    "duckdb": Target(duckdb_weeks=True),
    "postgres": _POSTGRES,
    "materialize": replace(_POSTGRES, byte_collation=False),
    "risingwave": replace(_POSTGRES, byte_collation=False),
    "redshift": Target(date_part=_part_standard, duckdb_weeks=False, average_as_double=True),
    "snowflake": Target(
        duckdb_weeks=True,
        double_division=True,
        functions={exp.Window: _unordered_numbers(exp.null())},
    ),
    "tsql": _TSQL,
    "fabric": _TSQL,
    "sqlite": Target(
        truncate=_trunc_sqlite,
        shift=_shift_sqlite,
        date_part=_part_sqlite,
        functions=_SQLITE_FUNCTIONS,
        time_zone=_ZONE_SQLITE,
    ),
    "oracle": replace(_ORACLE, date_literal=_date_literal_oracle),
    "teradata": _ORACLE,
    "spark": _SPARK,
    "spark2": _SPARK,
    "databricks": _SPARK,
    "hive": Target(
        truncate=_trunc_hive,
        null_safe_eq=_null_safe_or,
        refused={
            "week": "Hive's TRUNC has no week unit",
            "month arithmetic": "Hive's ADD_MONTHS maps a month end to a month end "
            "(28 Feb + 1 month = 31 Mar), DuckDB's gives 28 Mar",
        },
    ),
    "bigquery": Target(truncate=_trunc_bigquery),
    "mysql": Target(truncate=_trunc_mysql, double_division=True),
    "clickhouse": Target(
        truncate=_trunc_clickhouse,
        null_safe_eq=_null_safe_clickhouse,
        settings=(("join_use_nulls", 1),),
    ),
    "exasol": Target(null_safe_eq=_null_safe_or, refused={"week": _WEEK_UNKNOWN}),
    "drill": Target(refused={"week": "Drill's week truncation is not documented"}),
    "dremio": Target(refused={"week": "Dremio's week truncation is not documented"}),
    "druid": Target(
        double_division=True,
        refused={"date arithmetic": "sqlglot writes DATE_SUB, which Druid lacks"},
    ),
    "solr": Target(
        double_division=True,
        refused={
            "join": "Solr SQL has no joins",
            "WITH": "Solr SQL has no common table expressions",
            "date arithmetic": "Solr SQL has no DATE_SUB",
        },
    ),
    "dax": Target(refused={"dialect": _NOT_SQL.format("DAX")}),
    "prql": Target(refused={"dialect": _NOT_SQL.format("PRQL")}),
    "tableau": Target(refused={"dialect": _NOT_SQL.format("Tableau calculations")}),
}
_NONE = Target()


def refuse(
    dialect: str,
    construct: str,
    reason: str,
    hint: str = "run the query on another engine, or leave the construct out",
) -> None:
    """Raise SEM316: `construct` cannot be written in `dialect` with DuckDB's meaning."""
    raise error(
        "SEM316",
        f"{construct} cannot be compiled for dialect '{dialect}': {reason}",
        Span("<query>", 1, 1),
        hint,
    )


def adapt(
    tree: exp.Expression, dialect: str, schema: Mapping[str, Mapping[str, str]] | None = None
) -> exp.Expression:
    """`tree`, changed in place where `dialect` needs other functions to compute what DuckDB
    computes; SEM316 for a construct that it cannot compute. `schema` (table -> column ->
    DuckDB type, as `column_types` gives) tells the rewrites that depend on a value's type
    what it is: a cast to an integer, string order."""
    target = TARGETS.get(dialect, _NONE)
    refused = target.refused
    if "dialect" in refused:
        refuse(
            dialect, "a query", refused["dialect"], "compile for a SQL dialect: duckdb, postgres..."
        )
    if refused:
        _check_refused(tree, dialect, refused)
    typed = schema is not None and _needs_types(tree, target)
    if typed:
        # types that cannot be found stay unknown: the rewrites that need one refuse
        with suppress(SqlglotError):
            annotate_types(tree, schema=dict(schema or {}), dialect="duckdb")
    if target.byte_collation:
        _collate_bytes(tree)
    if target.missing:
        for lacking in tree.find_all(*target.missing):
            name = cast(exp.Func, lacking).sql_name().lower()
            refuse(dialect, f"function {name}()", "sqlglot writes a function the engine lacks")
    if target.rewrites:
        ctx = Context(dialect, target)
        # children first, so that a rewritten node is built from rewritten arguments
        for node in reversed(list(tree.walk(bfs=False))):
            new = _rewrite(cast(exp.Expression, node), ctx, node.parent)
            if new is not node:
                if node is tree:
                    tree = new
                else:
                    node.replace(new)
        if target.settings and isinstance(tree, exp.Select):
            tree.set(
                "settings",
                [exp.EQ(this=exp.column(k), expression=_int(v)) for k, v in target.settings],
            )
    _quote_output_names(tree, dialect)
    if typed:
        # the types served the rewrites; sqlglot's generator would read them too, and write
        # other SQL for a typed tree than for the same tree untyped
        for node in tree.walk():
            node.type = None
    return tree


def _interval_shift(node: exp.Expression, ctx: Context) -> exp.Expression:
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


def _needs_types(tree: exp.Expression, target: Target) -> bool:
    """Whether a rewrite of `target` depends on the types of the values in `tree`."""
    if target.byte_collation:
        return True
    return exp.Cast in target.functions and any(
        n.to.this in _INTEGER_CASTS for n in tree.find_all(exp.Cast)
    )


_COMPARISONS = (exp.LT, exp.LTE, exp.GT, exp.GTE, exp.Between)


def _bytes(node: exp.Expression) -> None:
    """`node COLLATE "C"` in its place (the node itself moves, so that later rewrites of it
    stay in the tree)."""
    collated = exp.Collate(this=exp.null(), expression=exp.to_identifier("C", quoted=True))
    node.replace(collated)
    collated.set("this", node)


def _collate_bytes(tree: exp.Expression) -> None:
    """PostgreSQL compares and sorts strings by the database's collation (an ICU or en_US
    database sorts 'a' before 'B'); DuckDB compares bytes. Strings get `COLLATE "C"` where
    their order matters: the selected strings (so that ORDER BY their output names and the
    CTEs and views built on them sort bytes), the strings sorted, compared or aggregated by
    min and max. Types come from `annotate_types`; an untyped column is left alone."""
    for node in list(tree.walk()):
        if isinstance(node, exp.Collate):
            continue
        if isinstance(node, exp.Select):
            for projection in node.expressions:
                inner = projection.this if isinstance(projection, exp.Alias) else projection
                if _type(inner) in _TEXT_TYPES and not _collated(inner):
                    _bytes(inner)
        elif isinstance(node, exp.Ordered):
            key = node.this
            if _type(key) in _TEXT_TYPES and not _collated(key) and not _output_name(node):
                _bytes(key)
        elif isinstance(node, _COMPARISONS):
            operands = [node.this, node.args.get("expression"), node.args.get("low")]
            operands.append(node.args.get("high"))
            present = [o for o in operands if o is not None]
            if any(_is_text(o) for o in present) and not any(_collated(o) for o in present):
                literals = [o for o in present if isinstance(o, exp.Literal) and o.is_string]
                for operand in literals or present[:1]:
                    _bytes(operand)
        elif isinstance(node, exp.Min | exp.Max) and _is_text(node.this):
            _bytes(node.this)


def _collated(node: exp.Expression) -> bool:
    return isinstance(node, exp.Collate) or isinstance(node.parent, exp.Collate)


def _output_name(ordered: exp.Ordered) -> bool:
    """Whether an ORDER BY item names an output column (collated where it is selected)."""
    key = ordered.this
    select = ordered.find_ancestor(exp.Select)
    if not isinstance(key, exp.Column) or key.table or select is None:
        return False
    return key.name in {e.alias_or_name for e in select.expressions}


def column_types(model: Model) -> dict[str, dict[str, str]]:
    """The `schema` of `adapt` and `to_sql`: each entity table's declared column types
    (DuckDB's names), untyped columns left out."""
    return {
        e.table: {c.name: c.type for c in e.columns.values() if c.type}
        for e in model.entities.values()
    }


def dialect_of(name: str) -> Dialect:
    """The sqlglot dialect called `name`, or SEM312 with suggestions."""
    try:
        return Dialect.get_or_raise(name)
    except (ValueError, SqlglotError):
        known = [d.value for d in Dialects if d.value]
        raise error(
            "SEM312",
            f"unknown SQL dialect '{name}'",
            None,
            suggest(name, known) or f"known dialects: {', '.join(sorted(known))}",
        ) from None


def to_sql(
    tree: exp.Expr,
    dialect: str,
    *,
    pretty: bool = False,
    schema: Mapping[str, Mapping[str, str]] | None = None,
    copy: bool = True,
) -> str:
    """The SQL text of `tree`, read as DuckDB SQL, for an engine speaking `dialect`: the one
    road from a tree to the text an engine runs (compiled queries, views, quality rules,
    checks, load scripts). The dialect pass (`adapt`) keeps DuckDB's meaning or refuses with
    SEM316; what sqlglot cannot write is SEM317. `tree` is copied first unless `copy` is
    false (a tree built for this call only).

    >>> to_sql(sqlglot.parse_one("SELECT date_diff('month', a, b) FROM t", read="duckdb"), "spark")
    'SELECT ((YEAR(b) - YEAR(a)) * 12 + MONTH(b) - MONTH(a)) FROM t'
    """
    target = dialect_of(dialect)
    node = cast(exp.Expression, tree.copy() if copy else tree)
    adapted = adapt(node, dialect, schema)
    try:
        return adapted.sql(dialect=target, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise error(
            "SEM317",
            f"sqlglot cannot write this query in dialect '{dialect}': {exc}",
            Span("<query>", 1, 1),
            "try another dialect or a simpler expression",
        ) from None


def _check_refused(tree: exp.Expression, dialect: str, refused: dict[str, str]) -> None:
    for node in tree.walk():
        if isinstance(node, exp.DateTrunc) and _unit(node) == "WEEK" and "week" in refused:
            refuse(dialect, "truncating to a week", refused["week"])
        elif isinstance(node, exp.DateAdd | exp.DateSub):
            if "date arithmetic" in refused:
                refuse(dialect, "date arithmetic", refused["date arithmetic"])
            if _unit(node) in ("MONTH", "QUARTER", "YEAR") and "month arithmetic" in refused:
                refuse(dialect, "moving a date by months", refused["month arithmetic"])
        elif isinstance(node, exp.Join) and "join" in refused:
            refuse(dialect, "a query over several entities (a join)", refused["join"])
        elif isinstance(node, exp.With) and "WITH" in refused:
            refuse(dialect, "a query with metrics of several entities (WITH)", refused["WITH"])


def _unit(node: exp.Expression) -> str:
    return node.text("unit").upper()


_TRUNCATE_UNITS = ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR")


def _rewrite(node: exp.Expression, ctx: Context, parent: exp.Expr | None) -> exp.Expression:
    target, dialect = ctx.target, ctx.dialect
    function = target.functions.get(type(node))
    if function is not None:
        new = function(node, ctx)
        if new is not node:
            return new
    if isinstance(node, exp.DateDiff):
        return _date_diff(node, ctx)
    interval = isinstance(node, exp.Add | exp.Sub) and isinstance(node.expression, exp.Interval)
    if interval and target.shift is not None:
        return _interval_shift(node, ctx)
    if (
        isinstance(node, exp.DateTrunc | exp.TimestampTrunc)
        and target.truncate is not None
        and _unit(node) in _TRUNCATE_UNITS
    ):
        new = target.truncate(node.this, _unit(node))
        if _unit(node) in _MONTHS:
            new.meta["month_start"] = True
        return new
    if isinstance(node, exp.DateAdd | exp.DateSub) and target.shift is not None:
        count = node.expression
        if not (isinstance(count, exp.Literal) and count.is_int):
            refuse(dialect, "moving a date by a computed amount", "only constant steps are written")
        step = int(count.name) * (-1 if isinstance(node, exp.DateSub) else 1)
        # a fiscal period: the month moved is then truncated, or was a month start already
        whole = (isinstance(parent, exp.DateTrunc) and _unit(parent) in _MONTHS) or bool(
            node.this.meta.get("month_start")
        )
        return target.shift(node.this, step, _unit(node) or "DAY", whole)
    part = _PARTS.get(type(node))
    if part is not None and target.date_part is not None:
        return target.date_part(node, part)
    week_part = _WEEK_PARTS.get(type(node))
    if week_part is not None and not target.duckdb_weeks:
        if target.duckdb_weeks is None:
            refuse(dialect, week_part[1], "its week conventions differ from DuckDB's")
        return exp.Extract(this=exp.var(week_part[0]), expression=node.this)
    if target.date_literal is not None and _is_date_literal(node):
        return target.date_literal(node)
    if isinstance(node, exp.Div) and target.double_division:
        node.set("this", exp.cast(node.this, exp.DataType.Type.DOUBLE))
        return node
    if isinstance(node, exp.Avg) and target.average_as_double:
        return _average_as_double(node)
    if isinstance(node, exp.NullSafeEQ) and target.null_safe_eq is not None:
        return target.null_safe_eq(node)
    if isinstance(node, exp.AtTimeZone) and target.time_zone is not None:
        return target.time_zone(node, dialect)
    return node


@lru_cache(maxsize=64)
def _normalization(dialect: str) -> NormalizationStrategy:
    return Dialect.get_or_raise(dialect).normalization_strategy


def _quote_output_names(tree: exp.Expression, dialect: str) -> None:
    """Quote the output aliases that `dialect` would change the case of, so that a column is
    called as in DuckDB (`net_revenue`, not `NET_REVENUE` in Snowflake), and the ORDER BY
    references to them."""
    strategy = _normalization(dialect)
    if strategy == NormalizationStrategy.UPPERCASE:
        changes: Callable[[str], bool] = lambda name: name != name.upper()  # noqa: E731
    elif strategy == NormalizationStrategy.LOWERCASE:
        changes = lambda name: name != name.lower()  # noqa: E731
    else:
        return
    if not isinstance(tree, exp.Select):
        return
    quoted = set()
    for projection in tree.expressions:
        if isinstance(projection, exp.Alias):
            ident = projection.args["alias"]
            if not ident.quoted and changes(ident.name):
                ident.set("quoted", True)
                quoted.add(ident.name)
    order = tree.args.get("order")
    if quoted and order is not None:
        for col in order.find_all(exp.Column):
            if not col.table and col.name in quoted:
                col.this.set("quoted", True)
