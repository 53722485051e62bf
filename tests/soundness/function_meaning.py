"""What each function means per engine: the cases of test_function_meaning.py, and the table
of docs/dialects.md written from them.

Every case is a glossary term over one small table (`samples`) whose values sit on the
edges where engines differ: ties of rounding, dates on both sides of a month, week or year
end, strings that differ only by case. A case says what DuckDB computes and, per engine,
either how the compiler keeps that meaning (the test then runs the business query on the
engine and compares the rows with DuckDB's) or `SEM316` (the test then expects compilation
to refuse it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ENGINES = ("postgres", "sqlite", "spark")
ENGINE_NAMES = {"postgres": "PostgreSQL", "sqlite": "SQLite", "spark": "Spark"}
REFUSED = "SEM316"

#: the rows of `samples`: id, a DOUBLE, a DECIMAL(10,2), an integer that is sometimes 0, two
#: dates, a name (mixed case), a word
SAMPLES = [
    (1, 2.5, "2.50", 0, "2024-01-31", "2024-02-01", "apple", "hello"),
    (2, -2.5, "-2.50", 1, "2023-12-31", "2024-01-01", "Banana", "world"),
    (3, 3.5, "3.50", 3, "2024-01-07", "2024-01-08", "cherry", "a,b,c"),
    (4, 0.5, "0.50", 0, "2024-01-08", "2024-01-14", "Apple", "Hello"),
    (5, 2.7, "2.70", 7, "2024-01-15", "2024-01-08", "banana", "x"),
    (6, 1.25, "1.25", 2, "2024-03-31", "2024-04-01", "Zebra", "hello world"),
]
COLUMNS = {
    "sample_id": "integer",
    "x": "double",
    "amount": "decimal(10,2)",
    "count": "integer",
    "d1": "date",
    "d2": "date",
    "name": "varchar",
    "word": "varchar",
}


@dataclass(frozen=True)
class Case:
    """A function and a term using it; per engine, how its meaning is kept, or SEM316."""

    id: str
    function: str
    expr: str
    meaning: str  # what DuckDB computes, in words
    how: dict[str, str] = field(default_factory=dict)  # engine -> how, or REFUSED
    kind: str = "dimension"  # or "metric"
    #: the business query; {id} is the term. Rows in sample_id order unless it orders itself
    query: str = "SELECT sample_id, {id}, row_count ORDER BY sample_id"


def same(note: str = "as is") -> dict[str, str]:
    return dict.fromkeys(ENGINES, note)


CASES = [
    Case(
        "round_double",
        "`round(x)`",
        "round(x)",
        "half away from zero: 2.5 -> 3, -2.5 -> -3",
        {**same(), "postgres": "`ROUND(CAST(x AS DECIMAL))` (a DOUBLE rounds to even)"},
    ),
    Case(
        "round_digits",
        "`round(x, 1)`",
        "round(x, 1)",
        "half away from zero: 1.25 -> 1.3",
        same(),
    ),
    Case(
        "round_decimal",
        "`round(amount)` (DECIMAL)",
        "round(amount)",
        "half away from zero",
        same(),
    ),
    Case(
        "cast_double",
        "`CAST(x AS INTEGER)` (DOUBLE)",
        "CAST(x AS INTEGER)",
        "nearest, ties to even: 2.5 -> 2, 3.5 -> 4, 2.7 -> 3",
        {
            "postgres": "as is",
            "sqlite": "ties to even written out (CAST truncates)",
            "spark": "`CAST(BROUND(x) AS INT)` (CAST truncates)",
        },
    ),
    Case(
        "cast_decimal",
        "`CAST(amount AS INTEGER)` (DECIMAL)",
        "CAST(amount AS INTEGER)",
        "half away from zero: 2.50 -> 3, -2.50 -> -3",
        {"postgres": "as is", "sqlite": "`CAST(ROUND(x) AS INTEGER)`", "spark": "`ROUND` first"},
    ),
    Case(
        "diff_month",
        "`date_diff('month', a, b)`",
        "date_diff('month', d1, d2)",
        "month boundaries crossed: 31 Jan -> 1 Feb is 1",
        {
            "postgres": "from `EXTRACT(YEAR/MONTH)`",
            "sqlite": "from `STRFTIME('%Y'/'%m')` (counted 30-day months)",
            "spark": "from `YEAR`/`MONTH` (counted whole months)",
        },
    ),
    Case(
        "diff_quarter",
        "`date_diff('quarter', a, b)`",
        "date_diff('quarter', d1, d2)",
        "quarter boundaries crossed",
        {
            "postgres": "from `EXTRACT(YEAR/QUARTER)`",
            "sqlite": "from `STRFTIME` (had no quarters)",
            "spark": "from `YEAR`/`QUARTER` (counted whole quarters)",
        },
    ),
    Case(
        "diff_year",
        "`date_diff('year', a, b)`",
        "date_diff('year', d1, d2)",
        "year boundaries crossed: 31 Dec -> 1 Jan is 1",
        {
            "postgres": "from `EXTRACT(YEAR)`",
            "sqlite": "from `STRFTIME('%Y')` (counted 365-day years)",
            "spark": "from `YEAR` (counted whole years)",
        },
    ),
    Case(
        "diff_week",
        "`date_diff('week', a, b)`",
        "date_diff('week', d1, d2)",
        "whole weeks of 7 days, truncated toward zero: 6 days is 0",
        {
            "postgres": "days `DIV` 7 (rounded 6/7 up to 1)",
            "sqlite": "days / 7 as an integer (had no weeks)",
            "spark": "`DATEDIFF(b, a) DIV 7`",
        },
    ),
    Case(
        "diff_day",
        "`date_diff('day', a, b)`",
        "date_diff('day', d1, d2)",
        "days between the dates",
        {
            "postgres": "`CAST(b AS DATE) - CAST(a AS DATE)`",
            "sqlite": "`JULIANDAY` difference",
            "spark": "`DATEDIFF`",
        },
    ),
    Case(
        "dayname",
        "`dayname(d)`",
        "dayname(d1)",
        "English name: Monday",
        {
            "postgres": "`TO_CHAR(d, 'FMDay')` (had no dayname)",
            "sqlite": "`CASE` over `STRFTIME('%w')`",
            "spark": "`DATE_FORMAT(d, 'EEEE')` (dayname abbreviates)",
        },
    ),
    Case(
        "monthname",
        "`monthname(d)`",
        "monthname(d1)",
        "English name: January",
        {
            "postgres": "`TO_CHAR(d, 'FMMonth')`",
            "sqlite": "`CASE` over `STRFTIME('%m')`",
            "spark": "`DATE_FORMAT(d, 'MMMM')` (monthname abbreviates)",
        },
    ),
    Case(
        "substr_zero",
        "`substr(s, 0, n)`",
        "substr(word, 0, 3)",
        "position 0 is before the string: 2 characters",
        {**same(), "spark": "`SUBSTRING(s, 1, n - 1)` (0 is read as 1)"},
    ),
    Case(
        "substr_negative",
        "`substr(s, -k, n)`",
        "substr(word, -3, 2)",
        "counted from the end",
        {**same(), "postgres": "start at `LENGTH(s) - k + 1` (started before the string)"},
    ),
    Case(
        "like_case",
        "`s LIKE 'h%'`",
        "word LIKE 'h%'",
        "case-sensitive",
        {**same(), "sqlite": "`GLOB 'h*'` (LIKE ignores case)"},
    ),
    Case(
        "compare_strings",
        "`s < 'b'`",
        "name < 'b'",
        "byte order: 'Banana' < 'b' < 'banana'",
        {**same(), "postgres": "`'b' COLLATE \"C\"` (the database collation)"},
    ),
    Case(
        "order_strings",
        "`ORDER BY s`",
        "name",
        "byte order: upper case first",
        {**same(), "postgres": '`COLLATE "C"` on the selected string (the database collation)'},
        query="SELECT sample_id, {id}, row_count ORDER BY {id}",
    ),
    Case(
        "min_string",
        "`min(s)`",
        "min(name)",
        "byte order",
        {**same(), "postgres": '`MIN(s COLLATE "C")`'},
        kind="metric",
        query="SELECT {id}",
    ),
    Case(
        "division_by_zero",
        "`a / b`, b = 0",
        "sum(amount) / sum(count)",
        "NULL",
        {**same(), "spark": "`NULLIF(b, 0)` (ANSI mode fails)"},
        kind="metric",
        query="SELECT sample_id, {id} ORDER BY sample_id",
    ),
    Case(
        "ratio",
        "`a / b` of DECIMALs",
        "sum(amount) / 3",
        "DOUBLE: 0.8333333333333334",
        {**same(), "spark": "`CAST(a AS DOUBLE)` (a DECIMAL quotient keeps 6 decimals)"},
        kind="metric",
        query="SELECT sample_id, {id} ORDER BY sample_id",
    ),
    Case(
        "average",
        "`avg(x)` of DECIMALs",
        "avg(amount / 3)",
        "DOUBLE",
        {**same(), "spark": "`AVG(CAST(x AS DOUBLE))` (keeps 4 more decimals)"},
        kind="metric",
        query="SELECT sample_id, {id} ORDER BY sample_id",
    ),
    Case(
        "average_filtered",
        "`avg(x) FILTER (WHERE ...)`, `PER (ALL)`",
        "avg(amount / 3)",
        "DOUBLE, of the rows the FILTER keeps",
        {
            **same("`CAST(AVG(x) FILTER (WHERE c) AS DOUBLE PRECISION)`"),
            "sqlite": "as is",
            "spark": "`AVG(CAST(x AS DOUBLE)) FILTER (WHERE c)`",
        },
        kind="metric",
        query="SELECT sample_id, MEASURE({id}) FILTER (WHERE sample_id > 2) AS kept,"
        " MEASURE({id}) FILTER (WHERE sample_id > 2) PER (ALL) AS total,"
        " MEASURE({id}) PER (ALL) AS everything ORDER BY sample_id",
    ),
    Case(
        "date_trunc",
        "`date_trunc('month', d)`",
        "date_trunc('month', d1)",
        "the first day of the month",
        {**same(), "sqlite": "`DATE(d, 'start of month')`"},
    ),
    Case(
        "date_trunc_week",
        "`date_trunc('week', d)`",
        "date_trunc('week', d1)",
        "the Monday of the week",
        {**same(), "sqlite": "`DATE(d, '-6 days', 'weekday 1')`"},
    ),
    Case(
        "last_day",
        "`last_day(d)`",
        "last_day(d1)",
        "the last day of the month",
        {**same(), "sqlite": "`DATE(d, 'start of month', '+1 months', '-1 days')`"},
    ),
    Case(
        "plus_interval",
        "`d + INTERVAL 1 MONTH`",
        "d1 + INTERVAL 1 MONTH",
        "clamped to the month end: 31 Jan -> 29 Feb",
        {**same(), "sqlite": "moved from the first of the month, clamped"},
    ),
    Case(
        "concat",
        "`concat(a, b)`",
        "concat(word, NULL, '!')",
        "NULLs skipped",
        {**same(), "sqlite": "`COALESCE(a, '') || COALESCE(b, '')`"},
    ),
    Case(
        "left",
        "`left(s, n)`",
        "left(word, 2)",
        "the first n characters",
        {**same(), "sqlite": "`SUBSTRING(s, 1, n)`"},
    ),
    Case(
        "split_part",
        "`split_part(s, sep, n)`",
        "split_part(word, ',', 2)",
        "the n-th field",
        {**same(), "sqlite": REFUSED},
    ),
    Case(
        "contains",
        "`contains(s, t)`",
        "contains(word, 'll')",
        "whether t occurs in s",
        {
            "postgres": "`STRPOS(s, t) > 0` (had no contains)",
            "sqlite": "`INSTR(s, t) > 0`",
            "spark": "as is",
        },
    ),
    Case(
        "ends_with",
        "`ends_with(s, t)`",
        "ends_with(word, 'lo')",
        "whether s ends with t",
        {
            "postgres": "`RIGHT(s, LENGTH(t)) = t` (had no ends_with)",
            "sqlite": "`SUBSTRING` from the end",
            "spark": "as is",
        },
    ),
    Case(
        "year",
        "`year(d)`, `quarter(d)`",
        "year(d1) * 10 + quarter(d1)",
        "the calendar year and quarter",
        {
            "postgres": "`EXTRACT(YEAR/QUARTER FROM d)`",
            "sqlite": "`STRFTIME('%Y')`, (month + 2) / 3",
            "spark": "as is",
        },
    ),
    Case(
        "dayofweek",
        "`dayofweek(d)`",
        "dayofweek(d1)",
        "0 = Sunday .. 6",
        {"postgres": "`EXTRACT(DOW FROM d)`", "sqlite": REFUSED, "spark": REFUSED},
    ),
]


def meaning_table() -> str:
    """The markdown table of docs/dialects.md: each function, DuckDB's meaning, and per engine
    how that meaning is kept (tested by running it) or SEM316 (tested by the refusal)."""
    header = ["function", "DuckDB", *(ENGINE_NAMES[e] for e in ENGINES)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for case in CASES:
        cells = [case.function, case.meaning]
        for engine in ENGINES:
            how = case.how[engine]
            cells.append("refused (SEM316)" if how == REFUSED else f"same: {how}")
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
