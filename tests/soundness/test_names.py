"""Output names never change a number: aliases equal to other terms, to the compiler's own
column and table names, or to either in other letter cases.

Each query runs on DuckDB, SQLite and PostgreSQL (when the test server is there) and is
compared with SQL written by hand on the same engine. Every name the compiled SQL gives to a
column or a table is also checked, on every query the test suite compiles, by the hook of
tests/conftest.py (see `semantic.compiler.naming.name_clashes`).

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from semantic.engines.postgres import PostgresEngine
from semantic.engines.spark import SparkEngine
from semantic.project import Project
from tests.compare import assert_same_rows

NET = "l_extendedprice * (1 - l_discount)"
LINES = "lineitem JOIN orders ON l_orderkey = o_orderkey"
BY_PRIORITY = f"""
    SELECT o.o_shippriority, o.n, l.r
    FROM (SELECT o_shippriority, count(*) AS n FROM orders GROUP BY o_shippriority) o
    JOIN (SELECT o_shippriority, sum({NET}) AS r FROM {LINES} GROUP BY o_shippriority) l
      ON l.o_shippriority = o.o_shippriority
"""
BY_SEGMENT = f"""
    SELECT o.s, o.n, l.r
    FROM (SELECT c_mktsegment AS s, count(*) AS n
          FROM orders JOIN customer ON o_custkey = c_custkey GROUP BY c_mktsegment) o
    JOIN (SELECT c_mktsegment AS s, sum({NET}) AS r
          FROM {LINES} JOIN customer ON o_custkey = c_custkey GROUP BY c_mktsegment) l
      ON l.s = o.s
"""

#: (business query, hand-written SQL, whether the rows come in a set order)
CASES: dict[str, tuple[str, str, bool]] = {
    # the key was named `order_count` in the CTE of the orders, beside the count: n = 0
    "key-named-as-another-metric": (
        "SELECT ship_priority AS order_count, order_count AS n, net_revenue",
        BY_PRIORITY,
        False,
    ),
    # DuckDB matches names ignoring case: the same, in capitals
    "key-named-as-a-metric-in-capitals": (
        'SELECT ship_priority AS "NET_REVENUE", order_count, net_revenue AS rev',
        BY_PRIORITY,
        False,
    ),
    "key-named-as-a-metric-mixed-case": (
        'SELECT ship_priority AS "Order_Count", order_count AS n, net_revenue',
        BY_PRIORITY,
        False,
    ),
    # the part size was read as the revenue
    "key-named-as-the-other-metric": (
        "SELECT part_size AS net_revenue, order_count, net_revenue AS rev",
        f"""
        SELECT p_size, count(DISTINCT o_orderkey), sum({NET})
        FROM {LINES} JOIN part ON l_partkey = p_partkey GROUP BY p_size
        """,
        False,
    ),
    # the segment took the name of the order's key in the distinct rows: one row per order
    "key-named-as-the-entity-key-column": (
        "SELECT market_segment AS __key_0, order_count WHERE ship_mode = 'AIR'",
        """
        SELECT c_mktsegment, count(*) FROM orders JOIN customer ON o_custkey = c_custkey
        WHERE EXISTS (
            SELECT 1 FROM lineitem WHERE l_orderkey = o_orderkey AND l_shipmode = 'AIR')
        GROUP BY c_mktsegment
        """,
        False,
    ),
    # the segment took the name of the filtered measure
    "key-named-as-a-filtered-measure": (
        "SELECT market_segment AS net_revenue_filtered, "
        "MEASURE(net_revenue) FILTER (WHERE ship_mode = 'AIR') AS air, net_revenue",
        f"""
        SELECT c_mktsegment, sum(CASE WHEN l_shipmode = 'AIR' THEN {NET} END), sum({NET})
        FROM {LINES} JOIN customer ON o_custkey = c_custkey GROUP BY c_mktsegment
        """,
        False,
    ),
    # the ship mode took the name of the column the order value is summed from
    "key-named-as-a-value-column": (
        "SELECT ship_mode AS __value_0, order_value",
        """
        SELECT m.l_shipmode, sum(o_totalprice)
        FROM (SELECT DISTINCT l_orderkey, l_shipmode FROM lineitem) m
        JOIN orders ON m.l_orderkey = o_orderkey
        GROUP BY m.l_shipmode
        """,
        False,
    ),
    # the compiler's table names, as output names
    "names-of-the-compilers-tables": (
        'SELECT market_segment AS "KEYS", order_count AS lineitem_metrics, '
        "net_revenue AS Orders_Metrics",
        BY_SEGMENT,
        False,
    ),
    "names-of-the-compilers-subquery": (
        "SELECT market_segment AS entity_rows, order_count AS orders, "
        "net_revenue AS customer WHERE ship_mode = 'AIR' AND net_revenue > 0",
        f"""
        SELECT o.s, o.n, l.r
        FROM (SELECT c_mktsegment AS s, count(*) AS n
              FROM orders JOIN customer ON o_custkey = c_custkey
              WHERE EXISTS (SELECT 1 FROM lineitem
                            WHERE l_orderkey = o_orderkey AND l_shipmode = 'AIR')
              GROUP BY c_mktsegment) o
        JOIN (SELECT c_mktsegment AS s, sum({NET}) AS r
              FROM {LINES} JOIN customer ON o_custkey = c_custkey
              WHERE l_shipmode = 'AIR' GROUP BY c_mktsegment) l
          ON l.s = o.s
        """,
        False,
    ),
    # one rule for ORDER BY and HAVING: an output name wins over the term of that name
    # (`net_revenue` in HAVING is the column named net_revenue: the order count)
    "having-and-order-by-read-output-names": (
        "SELECT net_revenue AS order_count, order_count AS net_revenue, market_segment "
        "HAVING net_revenue > 3000 ORDER BY order_count",
        f"SELECT r, n, s FROM ({BY_SEGMENT}) t WHERE n > 3000 ORDER BY r",
        True,
    ),
    "having-and-order-by-read-output-names-2": (
        "SELECT net_revenue AS order_count, order_count AS net_revenue, market_segment "
        "HAVING order_count > 400000000 ORDER BY net_revenue DESC",
        f"SELECT r, n, s FROM ({BY_SEGMENT}) t WHERE r > 400000000 ORDER BY n DESC",
        True,
    ),
    # without a clash, HAVING still reads terms, and WHERE always does
    "where-reads-terms": (
        "SELECT market_segment AS segment, order_count AS n "
        "WHERE order_count > 2900 HAVING net_revenue > 400000000",
        f"SELECT s, n FROM ({BY_SEGMENT}) t WHERE n > 2900 AND r > 400000000",
        False,
    ),
}

#: a shift (the `periods` CTE joined to itself), with aliases equal to its internal names;
#: the year is written by hand per engine
SHIFT = (
    "SELECT order_date.year AS revenue_previous_year, revenue_previous_year AS current_period, "
    "net_revenue AS periods, order_count AS net_revenue"
)
SHIFT_SQL = """
    WITH y AS (
        SELECT {year} AS yr, sum({net}) AS r, count(DISTINCT o_orderkey) AS n
        FROM {lines} GROUP BY {year})
    SELECT y.yr, COALESCE(p.r, 0), y.r, y.n FROM y LEFT JOIN y p ON p.yr = {previous}
"""
SHIFT_BY_ENGINE = {
    "duckdb": SHIFT_SQL.format(
        year="CAST(date_trunc('year', o_orderdate) AS DATE)",
        net=NET,
        lines=LINES,
        previous="CAST(y.yr - INTERVAL '1 year' AS DATE)",
    ),
    "sqlite": SHIFT_SQL.format(
        year="date(o_orderdate, 'start of year')",
        net=NET,
        lines=LINES,
        previous="date(y.yr, '-1 year')",
    ),
}
SHIFT_BY_ENGINE["postgres"] = SHIFT_BY_ENGINE["spark"] = SHIFT_BY_ENGINE["duckdb"]


@pytest.fixture(scope="module")
def db(tpch_sqlite: sqlite3.Connection) -> sqlite3.Connection:
    return tpch_sqlite  # copied once per session (tests/conftest.py)


def rows(table: Any) -> list[tuple[Any, ...]]:
    """The rows of an Arrow table, by position (output names are what is tested)."""
    return list(zip(*(c.to_pylist() for c in table.columns), strict=True))


@pytest.mark.parametrize("case", CASES)
def test_names_on_duckdb(project: Project, case: str) -> None:
    query, by_hand, ordered = CASES[case]
    expected = project.engine.connection.execute(by_hand).fetchall()
    assert expected
    assert_same_rows(rows(project.query(query)), expected, ordered=ordered)


@pytest.mark.parametrize("case", CASES)
def test_names_on_sqlite(project: Project, db: sqlite3.Connection, case: str) -> None:
    query, by_hand, ordered = CASES[case]
    expected = db.execute(by_hand).fetchall()
    assert expected
    assert_same_rows(
        db.execute(project.compile(query, "sqlite")).fetchall(), expected, ordered=ordered
    )


@pytest.mark.parametrize("case", CASES)
def test_names_on_postgres(project: Project, postgres_engine: PostgresEngine, case: str) -> None:
    query, by_hand, ordered = CASES[case]
    expected = postgres_engine.fetch(by_hand)
    assert expected
    got = rows(project.query(query, engine=postgres_engine))
    assert_same_rows(got, expected, ordered=ordered)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_names_on_spark(project: Project, spark_engine: SparkEngine, case: str) -> None:
    query, by_hand, ordered = CASES[case]
    expected = spark_engine.fetch(by_hand)
    assert expected
    got = rows(project.query(query, engine=spark_engine))
    assert_same_rows(got, expected, ordered=ordered)


def test_shift_names_on_duckdb(project: Project) -> None:
    expected = project.engine.connection.execute(SHIFT_BY_ENGINE["duckdb"]).fetchall()
    assert_same_rows(rows(project.query(SHIFT)), expected, ordered=False)


def test_shift_names_on_sqlite(project: Project, db: sqlite3.Connection) -> None:
    expected = db.execute(SHIFT_BY_ENGINE["sqlite"]).fetchall()
    got = db.execute(project.compile(SHIFT, "sqlite")).fetchall()
    assert_same_rows(got, expected, ordered=False)


def test_shift_names_on_postgres(project: Project, postgres_engine: PostgresEngine) -> None:
    expected = postgres_engine.fetch(SHIFT_BY_ENGINE["postgres"])
    got = rows(project.query(SHIFT, engine=postgres_engine))
    assert_same_rows(got, expected, ordered=False)


@pytest.mark.slow
def test_shift_names_on_spark(project: Project, spark_engine: SparkEngine) -> None:
    expected = spark_engine.fetch(SHIFT_BY_ENGINE["spark"])
    got = rows(project.query(SHIFT, engine=spark_engine))
    assert_same_rows(got, expected, ordered=False)
