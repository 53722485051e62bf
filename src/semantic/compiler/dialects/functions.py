"""Functions whose meaning differs between engines: rounding ties, casts to integers,
division by zero, day and month names, `substr` from 0 or from the end, `LIKE` case,
`concat`, `contains`, `make_date`... Each dialect's table maps a node class to the rewrite
that keeps DuckDB's meaning, or refuses it (SEM316); `Target.functions` holds the table.
`tests/soundness/test_function_meaning.py` runs each rewrite on the engines.
"""

from __future__ import annotations

from typing import cast

from sqlglot import exp

from semantic.compiler.dialects.base import (
    INTEGER_CASTS,
    SPARKS,
    TEXT_TYPES,
    Context,
    FunctionRewrite,
    fn,
    is_text,
    literal_int,
    number,
    refuse,
    string,
    type_of,
)
from semantic.compiler.dialects.dates import PARTS, part_sqlite


def average_as_double(node: exp.Expression, after: bool = False) -> exp.Expression:
    """DuckDB averages in DOUBLE; T-SQL and Redshift average integers as integers. `after`:
    the engine averages exactly (PostgreSQL's NUMERIC average), so the result is cast.

    >>> average_as_double(exp.Avg(this=exp.column("x")), after=True).sql("postgres")
    'CAST(AVG(x) AS DOUBLE PRECISION)'
    """
    if after:
        return exp.cast(node, exp.DataType.Type.DOUBLE)
    value = node.this
    if isinstance(value, exp.Distinct):
        value.set("expressions", [exp.cast(e, exp.DataType.Type.DOUBLE) for e in value.expressions])
    else:
        node.set("this", exp.cast(value, exp.DataType.Type.DOUBLE))
    return node


def null_safe_or(node: exp.Expression) -> exp.Expression:
    """`a = b OR (a IS NULL AND b IS NULL)`: what `a IS NOT DISTINCT FROM b` means."""
    a, b = node.this, node.expression
    both_null = exp.and_(
        exp.Is(this=a.copy(), expression=exp.Null()), exp.Is(this=b.copy(), expression=exp.Null())
    )
    return exp.Paren(this=exp.or_(exp.EQ(this=a, expression=b), exp.Paren(this=both_null)))


#: dialects whose engines take `agg(...) FILTER (WHERE ...)` (Spark from 3.0, SQLite 3.30)
AGGREGATE_FILTER = frozenset(
    {"duckdb", "postgres", "materialize", "risingwave", "sqlite", "spark", "databricks"}
    | {"trino", "presto", "athena"}
)


def filters_as_case(tree: exp.Expression) -> exp.Expression:
    """`SUM(x) FILTER (WHERE c)` as `SUM(CASE WHEN c THEN x END)` (`COUNT(*)` counts
    `CASE WHEN c THEN 1 END`): the same value, since these aggregates skip NULLs, for
    engines without FILTER. The compiler writes FILTER on SUM, COUNT, AVG, MIN, MAX only."""

    def when(condition: exp.Expression, value: exp.Expression) -> exp.Expression:
        return exp.Case(ifs=[exp.If(this=condition.copy(), true=value)])

    def swap(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Filter) or not isinstance(node.this, exp.AggFunc):
            return node
        agg, condition = node.this, node.expression.this
        value = agg.this
        if isinstance(value, exp.Star):
            agg.set("this", when(condition, number(1)))
        elif isinstance(value, exp.Distinct) and len(value.expressions) == 1:
            value.set("expressions", [when(condition, value.expressions[0])])
        elif value is not None and not isinstance(value, exp.Distinct):
            agg.set("this", when(condition, value))
        else:
            return node
        return cast(exp.Expression, agg)

    return tree.transform(swap, copy=False)


def null_safe_clickhouse(node: exp.Expression) -> exp.Expression:
    """ClickHouse's own null-safe equality."""
    return fn("isNotDistinctFrom", node.this, node.expression)


_FLOAT_TYPES = {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}
_EXACT_TYPES = exp.DataType.INTEGER_TYPES | {exp.DataType.Type.DECIMAL, *TEXT_TYPES}


def _ties_to_even(value: exp.Expression) -> exp.Expression:
    """`value` rounded to a whole number, ties to even (`nearbyint`): 2.5 -> 2, 3.5 -> 4. Where
    the value is a tie, twice the rounded half: ROUND(1.25) * 2 = 2, ROUND(1.75) * 2 = 4."""
    half = exp.Div(this=value.copy(), expression=exp.Literal.number("2.0"))
    tie = exp.EQ(
        this=exp.Abs(this=exp.Sub(this=value.copy(), expression=exp.Floor(this=value.copy()))),
        expression=exp.Literal.number("0.5"),
    )
    return exp.Case(
        ifs=[exp.If(this=tie, true=exp.Mul(this=exp.Round(this=half), expression=number(2)))],
        default=exp.Round(this=value),
    )


def _integer_cast(node: exp.Expression, ctx: Context) -> exp.Expression:
    """DuckDB rounds a value cast to an integer: a DOUBLE to the nearest, ties to even (2.5 ->
    2), a DECIMAL or a string half away from zero (2.5 -> 3). Spark and SQLite truncate."""
    assert isinstance(node, exp.Cast)
    value = node.this
    if node.to.this not in INTEGER_CASTS or isinstance(value, exp.Round):
        return node
    kind = type_of(value)
    if isinstance(value, exp.Literal) or kind in _EXACT_TYPES:
        if kind in exp.DataType.INTEGER_TYPES:
            return node
        rounded: exp.Expression = exp.Round(this=value)
        if is_text(value):  # ROUND of a string is NULL in SQLite
            rounded = exp.Round(this=exp.cast(value, exp.DataType.Type.DOUBLE))
    elif kind in _FLOAT_TYPES:
        rounded = fn("BROUND", value) if ctx.dialect in SPARKS else _ties_to_even(value)
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
        node.set("expression", exp.Nullif(this=node.expression, expression=number(0)))
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
    ordinal = exp.cast(
        fn("STRFTIME", string("%w" if day else "%m"), node.this), exp.DataType.Type.INT
    )
    names = _DAYS if day else _MONTH_NAMES
    first = 0 if day else 1
    return exp.Case(
        this=ordinal,
        ifs=[exp.If(this=number(i + first), true=string(n)) for i, n in enumerate(names)],
    )


def _names_format(pattern: str, day: str, month: str) -> FunctionRewrite:
    """Day and month names in English, whatever the locale (`FMDay` in PostgreSQL: without
    `TM` the names are English, and `FM` drops the padding to nine letters)."""

    def rewrite(node: exp.Expression, ctx: Context) -> exp.Expression:
        name = day if isinstance(node, exp.Dayname) else month
        return fn(pattern, node.this, string(name))

    return rewrite


def _substring_from_end(node: exp.Expression, ctx: Context) -> exp.Expression:
    """DuckDB counts a negative start from the end (`substr('hello', -2, 2)` = 'lo');
    PostgreSQL starts before the string (''). Start at `length + start + 1`."""
    start = node.args.get("start")
    value = literal_int(start)
    if value is None and start is not None:
        refuse(ctx.dialect, "substr() from a computed position", _SUBSTR_WHY)
    if value is not None and value < 0:
        length = exp.Length(this=node.this.copy())
        node.set("start", exp.Add(this=length, expression=number(value + 1)))
    return node


def _substring_from_zero(node: exp.Expression, ctx: Context) -> exp.Expression:
    """`substr(s, 0, n)` is n - 1 characters in DuckDB (position 0 is before the string), n in
    Spark (0 is read as 1)."""
    start = node.args.get("start")
    value = literal_int(start)
    if value is None and start is not None:
        refuse(ctx.dialect, "substr() from a computed position", _SUBSTR_WHY)
    length = node.args.get("length")
    if value == 0:
        node.set("start", number(1))
        if length is not None:
            node.set("length", exp.Sub(this=length, expression=number(1)))
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
    glob = exp.Glob(this=node.this, expression=string(_glob_pattern(pattern.name)))
    return exp.Not(this=glob) if node.args.get("negate") else glob


def _last_day_sqlite(node: exp.Expression, ctx: Context) -> exp.Expression:
    return fn("DATE", node.this, string("start of month"), string("+1 months"), string("-1 days"))


def _concat_sqlite(node: exp.Expression, ctx: Context) -> exp.Expression:
    """DuckDB's concat() skips NULLs; SQLite has only `||`, which is NULL with a NULL."""
    parts = [exp.Coalesce(this=e, expressions=[string("")]) for e in node.expressions]
    result: exp.Expression = parts[0]
    for part in parts[1:]:
        result = exp.DPipe(this=result, expression=part)
    return exp.Paren(this=result)


def _left_sqlite(node: exp.Expression, ctx: Context) -> exp.Expression:
    """`left(s, n)`; a negative n keeps all but the last -n characters, as in DuckDB."""
    count = literal_int(node.expression)
    if count is None:
        refuse(ctx.dialect, "left() of a computed length", "only a constant length is written")
    assert count is not None
    if count >= 0:
        return exp.Substring(this=node.this, start=number(1), length=number(count))
    kept = exp.Add(this=exp.Length(this=node.this.copy()), expression=number(count))
    return exp.Substring(this=node.this, start=number(1), length=fn("MAX", kept, number(0)))


def _contains_strpos(node: exp.Expression, ctx: Context) -> exp.Expression:
    return exp.GT(this=fn("STRPOS", node.this, node.expression), expression=number(0))


def _contains_instr(node: exp.Expression, ctx: Context) -> exp.Expression:
    return exp.GT(this=fn("INSTR", node.this, node.expression), expression=number(0))


def _starts_with_sqlite(node: exp.Expression, ctx: Context) -> exp.Expression:
    prefix = exp.Substring(
        this=node.this, start=number(1), length=exp.Length(this=node.expression.copy())
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
        expression=number(1),
    )
    return exp.EQ(this=exp.Substring(this=node.this, start=start), expression=node.expression)


def _make_date_postgres(node: exp.Expression, ctx: Context) -> exp.Expression:
    """MAKE_DATE takes integers only; the parts of a date (EXTRACT) are NUMERIC there."""
    parts = [exp.cast(node.args[p], exp.DataType.Type.INT) for p in ("year", "month", "day")]
    return fn("MAKE_DATE", *parts)


def _make_date_sqlite(node: exp.Expression, ctx: Context) -> exp.Expression:
    text = fn(
        "PRINTF", string("%04d-%02d-%02d"), node.args["year"], node.args["month"], node.args["day"]
    )
    return fn("DATE", text)


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
    return part_sqlite(cls(this=value), PARTS[cls])


def _refused(construct: str, why: str) -> FunctionRewrite:
    def rewrite(node: exp.Expression, ctx: Context) -> exp.Expression:
        refuse(ctx.dialect, construct, why)
        return node

    return rewrite


def unordered_numbers(order: exp.Expression | None) -> FunctionRewrite:
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
            return fn("MONOTONICALLY_INCREASING_ID")
        # NULLS FIRST, the order of a constant in every one of these engines: sqlglot then
        # writes no CASE to emulate another
        ordered = exp.Order(expressions=[exp.Ordered(this=order.copy(), nulls_first=True)])
        return exp.Window(this=node.this.copy(), order=ordered)

    return rewrite


POSTGRES_FUNCTIONS: dict[type[exp.Expression], FunctionRewrite] = {
    exp.Round: _round_numeric,
    exp.Dayname: _names_format("TO_CHAR", "FMDay", "FMMonth"),
    exp.Monthname: _names_format("TO_CHAR", "FMDay", "FMMonth"),
    exp.Substring: _substring_from_end,
    exp.Contains: _contains_strpos,
    exp.EndsWith: _ends_with_right,
    exp.DateFromParts: _make_date_postgres,
}
SPARK_FUNCTIONS: dict[type[exp.Expression], FunctionRewrite] = {
    exp.Div: _division_nullif,
    exp.Cast: _integer_cast,
    # Spark 4's dayname() and monthname() abbreviate: 'Mon', 'Jan'
    exp.Dayname: _names_format("DATE_FORMAT", "EEEE", "MMMM"),
    exp.Monthname: _names_format("DATE_FORMAT", "EEEE", "MMMM"),
    exp.Substring: _substring_from_zero,
    exp.Window: unordered_numbers(None),
}
SQLITE_FUNCTIONS: dict[type[exp.Expression], FunctionRewrite] = {
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
