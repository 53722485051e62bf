"""Wrong answers that a translation to another SQL dialect can give, pinned.

The SQLite cases run the compiled SQL on the TPC-H data copied into SQLite and compare it with
SQL written by hand. Engines that the tests cannot run (BigQuery, Spark, Oracle, ClickHouse)
are pinned on the SQL text: each assertion names the function whose meaning differs.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3

import pytest
from sqlglot import exp

from semantic.compiler.dialects import adapt
from semantic.compiler.periods import period_start
from semantic.errors import SemanticError
from semantic.project import Project

NET = "SUM(l.l_extendedprice * (1 - l.l_discount))"


@pytest.fixture(scope="module")
def db(tpch_sqlite: sqlite3.Connection) -> sqlite3.Connection:
    return tpch_sqlite  # copied once per session (tests/conftest.py)


def test_integer_division_is_not_truncated(project: Project, db: sqlite3.Connection) -> None:
    """SQLite (like PostgreSQL and T-SQL) truncates integer / integer: 1 / 4 = 0."""
    sql = project.compile(
        "SELECT order_priority, order_count / line_count AS ratio ORDER BY 1", "sqlite"
    )
    got = dict(db.execute(sql).fetchall())
    by_hand = dict(
        db.execute(
            "SELECT o_orderpriority, 1.0 * COUNT(DISTINCT o_orderkey) / COUNT(*) "
            "FROM orders JOIN lineitem ON l_orderkey = o_orderkey GROUP BY 1"
        ).fetchall()
    )
    assert got.keys() == by_hand.keys()
    for key, value in by_hand.items():
        assert 0 < value < 1 and math.isclose(got[key], value, rel_tol=1e-12)


@pytest.mark.parametrize("direction", ["", " DESC"])
def test_nulls_sort_last_both_ways(
    project: Project, db: sqlite3.Connection, direction: str
) -> None:
    """DuckDB puts NULLs last ascending and descending; SQLite puts them first ascending."""
    query = f"SELECT order_date.year, revenue_growth ORDER BY revenue_growth{direction}"
    rows = db.execute(project.compile(query, "sqlite")).fetchall()
    assert rows[-1] == ("1992-01-01", None)  # the first year has no previous year
    assert all(growth is not None for _, growth in rows[:-1])


def test_month_arithmetic_clamps_to_the_month_end(project: Project, db: sqlite3.Connection) -> None:
    """SQLite's DATE('1996-05-31', '-3 months') is 1996-03-02 (31 February rolls over);
    DuckDB's is 1996-02-29. The window of 31 May 1996 is the days after 29 February."""
    sql = project.compile(
        "SELECT order_date.day, revenue_last_3_months WHERE order_date = DATE '1996-05-31'",
        "sqlite",
    )
    ((day, window),) = db.execute(sql).fetchall()
    (by_hand,) = db.execute(
        f"SELECT {NET} FROM lineitem l JOIN orders o ON l.l_orderkey = o.o_orderkey "
        "WHERE o.o_orderdate > '1996-02-29' AND o.o_orderdate <= '1996-05-31'"
    ).fetchone()
    assert day == "1996-05-31"
    assert math.isclose(window, by_hand, rel_tol=1e-9)


@pytest.mark.parametrize("grain", ["week", "quarter", "fiscal_quarter", "fiscal_year"])
def test_periods_start_where_duckdb_starts_them(
    project: Project, db: sqlite3.Connection, grain: str
) -> None:
    """Weeks start on Monday; fiscal years in April (semantic.yml). By hand in Python."""
    sql = project.compile(f"SELECT order_date.{grain}, order_count ORDER BY 1", "sqlite")
    got = dict(db.execute(sql).fetchall())
    counts: dict[str, int] = {}
    for (day,) in db.execute("SELECT o_orderdate FROM orders"):
        start = period_start(dt.date.fromisoformat(day), grain, 4).isoformat()
        counts[start] = counts.get(start, 0) + 1
    assert got == counts


@pytest.mark.parametrize(
    ("dialect", "unit", "right", "wrong"),
    [
        # BigQuery's WEEK starts on Sunday
        ("bigquery", "WEEK", "DATE_TRUNC(d, ISOWEEK)", "DATE_TRUNC(d, WEEK)"),
        # ClickHouse's toStartOfWeek starts on Sunday
        ("clickhouse", "WEEK", "toMonday(d)", "toStartOfWeek"),
        # Spark's TRUNC(d, 'DAY') is NULL
        ("spark", "DAY", "CAST(d AS DATE)", "TRUNC(d, 'DAY')"),
        # Oracle's TRUNC(d, 'DAY') is the first day of the week
        ("oracle", "DAY", "TRUNC(d, 'DD')", "TRUNC(d, 'DAY')"),
        # T-SQL's week follows DATEFIRST (Sunday by default in us_english)
        ("tsql", "WEEK", "DATETRUNC(ISO_WEEK, d)", "DATETRUNC(WEEK, d)"),
    ],
)
def test_truncation_means_the_same_period(dialect: str, unit: str, right: str, wrong: str) -> None:
    tree = exp.DateTrunc(this=exp.column("d"), unit=exp.var(unit))
    sql = adapt(tree, dialect).sql(dialect)
    assert sql == right and wrong not in sql


def test_clickhouse_left_joins_give_nulls(project: Project) -> None:
    """Without join_use_nulls a ClickHouse LEFT JOIN fills missing metrics with 0, not NULL."""
    sql = project.compile("SELECT customer_region, order_count, net_revenue", "clickhouse")
    assert sql.rstrip().endswith("SETTINGS join_use_nulls = 1")


@pytest.mark.parametrize(("dialect", "cast"), [("tsql", "FLOAT"), ("redshift", "DOUBLE PRECISION")])
def test_averages_of_integers_are_not_truncated(project: Project, dialect: str, cast: str) -> None:
    """T-SQL's and Redshift's AVG of an integer column is an integer (AVG of 1, 2 is 1)."""
    sql = project.compile("SELECT part_brand, MEASURE(average_quantity) AS q", dialect)
    assert f"AVG(CAST(lineitem.l_quantity AS {cast}))" in sql


@pytest.mark.parametrize("dialect", ["mysql", "spark", "bigquery", "trino", "clickhouse"])
def test_day_of_week_numbering_is_not_changed(project: Project, dialect: str) -> None:
    """DuckDB's dayofweek is 0 for Sunday; MySQL, Spark and BigQuery count 1..7 from Sunday,
    Trino and ClickHouse from Monday: refused rather than shifted by a day."""
    with pytest.raises(SemanticError) as caught:
        project.compile("SELECT dayofweek(order_date) AS dow, order_count", dialect)
    assert caught.value.code == "SEM316"


@pytest.mark.parametrize("dialect", ["mysql", "snowflake", "druid"])
def test_division_is_in_double(project: Project, dialect: str) -> None:
    """MySQL's 1 / 3 is 0.3333 (div_precision_increment = 4), Snowflake's 0.333333, Druid's 0;
    DuckDB's is 0.333333333333...: the dividend is cast to DOUBLE."""
    sql = project.compile("SELECT order_priority, order_count / line_count AS r", dialect)
    assert "CAST(COALESCE(orders_metrics.order_count, 0) AS DOUBLE) / " in sql
