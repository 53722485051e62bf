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

`adapt` is a plain pass: tree in, tree out, run by `render_sql` before generating text.

>>> from semantic.model.nodes import column
>>> tree = exp.DateTrunc(this=column("d"), unit=exp.var("QUARTER"))
>>> adapt(tree, "oracle").sql("oracle")
"TRUNC(d, 'Q')"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import cast

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy

from semantic.errors import Span, error

Rewrite = Callable[[exp.Expression, str], exp.Expression]
Shift = Callable[[exp.Expression, int, str, bool], exp.Expression]


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
        )
        return (
            any(f is not None for f in functions)
            or self.duckdb_weeks is not True
            or self.average_as_double
            or self.double_division
            or bool(self.settings)
        )


_WEEK_UNKNOWN = "its weeks start on a day that depends on a session setting, DuckDB's on Monday"
_NOT_SQL = "sqlglot reads this language but writes plain SQL for it, not {}"
_ORACLE = Target(
    truncate=_trunc_oracle, shift=_shift_oracle, date_part=_part_extract, null_safe_eq=_null_safe_or
)

_TSQL = Target(
    truncate=_trunc_tsql, shift=_shift_add, date_part=_part_standard, average_as_double=True
)
#: sqlglot writes these as DuckDB names (DAY_OF_MONTH, ENDS_WITH...) that PostgreSQL lacks
_POSTGRES_MISSING: tuple[type[exp.Expression], ...] = (
    exp.EndsWith,
    exp.Contains,
    exp.RegexpExtract,
    exp.DayOfMonth,
    exp.DayOfWeekIso,
    exp.DayOfYear,
    exp.Monthname,
    exp.Dayname,
    exp.DateFromParts,
)
_POSTGRES = Target(date_part=_part_standard, duckdb_weeks=False, missing=_POSTGRES_MISSING)

TARGETS: dict[str, Target] = {
    "duckdb": Target(duckdb_weeks=True),
    "postgres": _POSTGRES,
    "materialize": _POSTGRES,
    "risingwave": _POSTGRES,
    "redshift": Target(date_part=_part_standard, duckdb_weeks=False, average_as_double=True),
    "snowflake": Target(duckdb_weeks=True, double_division=True),
    "tsql": _TSQL,
    "fabric": _TSQL,
    "sqlite": Target(truncate=_trunc_sqlite, shift=_shift_sqlite, date_part=_part_sqlite),
    "oracle": replace(_ORACLE, date_literal=_date_literal_oracle),
    "teradata": _ORACLE,
    "spark": Target(truncate=_trunc_spark),
    "spark2": Target(truncate=_trunc_spark),
    "databricks": Target(truncate=_trunc_spark),
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


def adapt(tree: exp.Expression, dialect: str) -> exp.Expression:
    """`tree`, changed in place where `dialect` needs other functions to compute what DuckDB
    computes; SEM316 for a construct that it cannot compute."""
    target = TARGETS.get(dialect, _NONE)
    refused = target.refused
    if "dialect" in refused:
        refuse(
            dialect, "a query", refused["dialect"], "compile for a SQL dialect: duckdb, postgres..."
        )
    if refused:
        _check_refused(tree, dialect, refused)
    if target.missing:
        for lacking in tree.find_all(*target.missing):
            name = cast(exp.Func, lacking).sql_name().lower()
            refuse(dialect, f"function {name}()", "sqlglot writes a function the engine lacks")
    if target.rewrites:
        # children first, so that a rewritten node is built from rewritten arguments
        for node in reversed(list(tree.walk(bfs=False))):
            new = _rewrite(cast(exp.Expression, node), target, dialect, node.parent)
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
    return tree


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


def _rewrite(
    node: exp.Expression, target: Target, dialect: str, parent: exp.Expr | None
) -> exp.Expression:
    if isinstance(node, exp.DateTrunc) and target.truncate is not None:
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
