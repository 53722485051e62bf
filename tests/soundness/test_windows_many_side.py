"""Windows (running totals, trailing periods, to date) of metrics that do not add up over
periods, compared with SQL written by hand.

A customer who ordered in January and in February is one customer in a window holding both
months, not two; an order whose lines shipped in two months is one order there. Summing the
periods' values counted them once per period (issue #12, class 2: a running total of 5,934
customers out of 1,500). Such a window is computed from the metric entity's rows, made
distinct over the whole window. Averages and distinct counts do not add up either.

Each query runs on DuckDB, SQLite and PostgreSQL (when SEMANTIC_TEST_POSTGRES is set) and is
compared with hand-written DuckDB SQL over the same rows.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import datetime as dt
import decimal
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from semantic.engines.spark import SparkEngine
from semantic.project import Project
from tests.compare import assert_same_rows
from tests.projects import copy_to_postgres, write_data, write_project
from tests.sqlite_db import copy_to_sqlite
from tests.tiny_engines import spark_views

MODEL = """
entities:
  customer:
    primary_key: [id]
    columns:
      id: {type: integer}
      segment: {type: varchar}
  orders:
    primary_key: [id]
    columns:
      id: {type: integer}
      customer_id: {type: integer}
      ordered: {type: date}
      priority: {type: varchar}
      price: {type: integer}
    relationships:
      - {to: customer, cardinality: many_to_one, keys: {customer_id: id}}
  line:
    primary_key: [order_id, n]
    columns:
      order_id: {type: integer}
      n: {type: integer}
      shipped: {type: date}
    relationships:
      - {to: orders, cardinality: many_to_one, keys: {order_id: id}}
"""

GLOSSARY = """
domain: d
terms:
  order_date: {label: {en: Order date}, time_dimension: {entity: orders, expr: ordered}}
  ship_date: {label: {en: Ship date}, time_dimension: {entity: line, expr: shipped}}
  priority: {label: {en: Priority}, dimension: {entity: orders, expr: priority}}
  segment: {label: {en: Segment}, dimension: {entity: customer, expr: segment}}
  customer_count: {label: {en: Customers}, metric: {entity: customer, expr: count(*)}}
  order_count: {label: {en: Orders}, metric: {entity: orders, expr: count(*)}}
  order_value: {label: {en: Order value}, metric: {entity: orders, expr: sum(price)}}
  buyers: {label: {en: Buyers}, metric: {entity: orders, expr: count(DISTINCT customer_id)}}
  average_price: {label: {en: Average price}, metric: {entity: orders, expr: avg(price)}}
  line_count: {label: {en: Lines}, metric: {entity: line, expr: count(*)}}
  customers_so_far:
    label: {en: Customers so far}
    metric: {expr: customer_count, window: {time: order_date}}
  customers_3_months:
    label: {en: Customers in 3 months}
    metric: {expr: customer_count, window: {time: order_date, last: 3, grain: month}}
  customers_year_to_date:
    label: {en: Customers this year}
    metric: {expr: customer_count, window: {time: order_date, to_date: year}}
  customers_2_weeks:
    label: {en: Customers in 2 weeks}
    metric: {expr: customer_count, window: {time: order_date, last: 2, grain: week}}
  shipped_orders_so_far:
    label: {en: Orders shipped so far}
    metric: {expr: order_count, window: {time: ship_date}}
  shipped_orders_3_months:
    label: {en: Orders shipped in 3 months}
    metric: {expr: order_count, window: {time: ship_date, last: 3, grain: month}}
  shipped_value_year_to_date:
    label: {en: Value shipped this year}
    metric: {expr: order_value, window: {time: ship_date, to_date: year}}
  buyers_3_months:
    label: {en: Buyers in 3 months}
    metric: {expr: buyers, window: {time: order_date, last: 3, grain: month}}
  average_price_shipped_3_months:
    label: {en: Average price shipped in 3 months}
    metric: {expr: average_price, window: {time: ship_date, last: 3, grain: month}}
  lines_3_months:
    label: {en: Lines in 3 months}
    metric: {expr: line_count, window: {time: ship_date, last: 3, grain: month}}
"""

DATA = {
    "customer": "SELECT * FROM (VALUES (1, 'A'), (2, 'A'), (3, 'B'), (4, 'B')) t(id, segment)",
    # customer 1 orders in January, February and April; customer 2 in February and at the
    # end of December (a week that runs into January); customer 4 never orders
    "orders": "SELECT id, customer_id, ordered::DATE AS ordered, priority, price FROM (VALUES "
    "(10, 1, '2025-01-10', 'HIGH', 100), (11, 1, '2025-02-05', 'LOW', 50), "
    "(12, 2, '2025-02-20', 'HIGH', 70), (13, 1, '2025-04-02', 'HIGH', 30), "
    "(14, 3, '2025-03-30', 'LOW', 20), (15, 2, '2025-12-30', 'LOW', 10), "
    "(16, 3, '2026-01-02', 'HIGH', 40), (17, 1, '2025-01-28', 'LOW', 5)) "
    "t(id, customer_id, ordered, priority, price)",
    # order 10 ships in January and February, 12 in February and March, 13 in April and
    # June, 15 in December 2025 and January 2026
    "line": "SELECT order_id, n, shipped::DATE AS shipped FROM (VALUES "
    "(10, 1, '2025-01-15'), (10, 2, '2025-02-03'), (11, 1, '2025-02-10'), "
    "(12, 1, '2025-02-25'), (12, 2, '2025-03-02'), (12, 3, '2025-03-03'), "
    "(13, 1, '2025-04-05'), (13, 2, '2025-06-01'), (14, 1, '2025-04-01'), "
    "(15, 1, '2026-01-05'), (15, 2, '2025-12-31'), (16, 1, '2026-01-06'), "
    "(17, 1, '2025-01-29')) t(order_id, n, shipped)",
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("windows_many_side")
    write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY})
    write_data(root, DATA)
    return Project.load(root)


@pytest.fixture(scope="module")
def lite(shop: Project, tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    return copy_to_sqlite(shop, tmp_path_factory.mktemp("windows_lite") / "shop.sqlite")


@pytest.fixture(scope="module")
def pg(shop: Project) -> Iterator[Any]:
    import os

    url = os.environ.get("SEMANTIC_TEST_POSTGRES")
    if not url:
        pytest.skip("SEMANTIC_TEST_POSTGRES is not set")
    pytest.importorskip("psycopg")
    schema = f"windows_many_side_{uuid.uuid4().hex[:8]}"
    connection = copy_to_postgres(shop, url, schema)
    yield connection
    connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    connection.close()


@pytest.fixture(scope="module")
def spark(shop: Project, request: pytest.FixtureRequest) -> Iterator[SparkEngine]:
    yield from spark_views(request, shop)


# Each case: a business query, and the same question in DuckDB SQL written by hand. `p` is
# the set of periods the query shows (those with a row for its plain metric).
CASES: dict[str, tuple[str, str]] = {
    "customers running total by month": (
        "SELECT order_date.month, customer_count, customers_so_far "
        "WHERE order_date >= DATE '2025-01-01' ORDER BY 1",
        """
        WITH p AS (SELECT DISTINCT date_trunc('month', ordered)::DATE AS m FROM orders)
        SELECT p.m,
               (SELECT count(DISTINCT customer_id) FROM orders
                WHERE date_trunc('month', ordered) = p.m),
               (SELECT count(DISTINCT customer_id) FROM orders
                WHERE date_trunc('month', ordered) <= p.m)
        FROM p ORDER BY 1
        """,
    ),
    "customers in the trailing 3 months": (
        "SELECT order_date.month, customers_3_months WHERE order_date >= DATE '2025-01-01' "
        "ORDER BY 1",
        """
        WITH p AS (SELECT DISTINCT date_trunc('month', ordered)::DATE AS m FROM orders)
        SELECT p.m, count(DISTINCT o.customer_id)
        FROM p JOIN orders o ON date_trunc('month', o.ordered) <= p.m
                            AND date_trunc('month', o.ordered) > p.m - INTERVAL 3 MONTH
        GROUP BY 1 ORDER BY 1
        """,
    ),
    "customers year to date": (
        "SELECT order_date.month, customers_year_to_date WHERE order_date >= DATE '2025-01-01'"
        " ORDER BY 1",
        """
        WITH p AS (SELECT DISTINCT date_trunc('month', ordered)::DATE AS m FROM orders)
        SELECT p.m, count(DISTINCT o.customer_id)
        FROM p JOIN orders o ON date_trunc('month', o.ordered) <= p.m
                            AND date_trunc('month', o.ordered) >= date_trunc('year', p.m)
        GROUP BY 1 ORDER BY 1
        """,
    ),
    "customers in 2 weeks, by week": (
        "SELECT order_date.week, customers_2_weeks WHERE order_date >= DATE '2024-12-30' "
        "ORDER BY 1",
        """
        WITH p AS (SELECT DISTINCT date_trunc('week', ordered)::DATE AS w FROM orders)
        SELECT p.w, count(DISTINCT o.customer_id)
        FROM p JOIN orders o ON date_trunc('week', o.ordered) <= p.w
                            AND date_trunc('week', o.ordered) > p.w - INTERVAL 2 WEEK
        GROUP BY 1 ORDER BY 1
        """,
    ),
    "customers in 3 months, by week": (
        "SELECT order_date.week, customers_3_months WHERE order_date >= DATE '2024-12-30' "
        "ORDER BY 1",
        """
        WITH p AS (SELECT DISTINCT date_trunc('week', ordered)::DATE AS w FROM orders)
        SELECT p.w, count(DISTINCT o.customer_id)
        FROM p JOIN orders o ON date_trunc('week', o.ordered) <= p.w
                            AND date_trunc('week', o.ordered) > p.w - INTERVAL 3 MONTH
        GROUP BY 1 ORDER BY 1
        """,
    ),
    "customers by priority (a partition on the many side)": (
        "SELECT order_date.month, priority, customers_3_months "
        "WHERE order_date >= DATE '2025-01-01' ORDER BY 1, 2",
        """
        WITH p AS (SELECT DISTINCT date_trunc('month', ordered)::DATE AS m, priority
                   FROM orders)
        SELECT p.m, p.priority, count(DISTINCT o.customer_id)
        FROM p JOIN orders o ON date_trunc('month', o.ordered) <= p.m
                            AND date_trunc('month', o.ordered) > p.m - INTERVAL 3 MONTH
                            AND o.priority = p.priority
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
    ),
    "customers by segment, periods picked by a filter": (
        "SELECT order_date.month, segment, customers_so_far "
        "WHERE order_date >= DATE '2025-03-01' AND order_date < DATE '2026-01-01' "
        "ORDER BY 1, 2",
        """
        WITH p AS (SELECT DISTINCT date_trunc('month', o.ordered)::DATE AS m, c.segment
                   FROM orders o JOIN customer c ON c.id = o.customer_id)
        SELECT p.m, p.segment, count(DISTINCT o.customer_id)
        FROM p JOIN orders o ON date_trunc('month', o.ordered) <= p.m
               JOIN customer c ON c.id = o.customer_id AND c.segment = p.segment
        WHERE p.m >= DATE '2025-03-01' AND p.m < DATE '2026-01-01'
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
    ),
    "orders shipped, running total and 3 months": (
        "SELECT ship_date.month, order_count, shipped_orders_so_far, shipped_orders_3_months"
        " ORDER BY 1",
        """
        WITH p AS (SELECT DISTINCT date_trunc('month', shipped)::DATE AS m FROM line)
        SELECT p.m,
               (SELECT count(DISTINCT order_id) FROM line
                WHERE date_trunc('month', shipped) = p.m),
               (SELECT count(DISTINCT order_id) FROM line
                WHERE date_trunc('month', shipped) <= p.m),
               (SELECT count(DISTINCT order_id) FROM line
                WHERE date_trunc('month', shipped) <= p.m
                  AND date_trunc('month', shipped) > p.m - INTERVAL 3 MONTH)
        FROM p ORDER BY 1
        """,
    ),
    "value of the orders shipped this year": (
        "SELECT ship_date.month, shipped_value_year_to_date ORDER BY 1",
        """
        WITH p AS (SELECT DISTINCT date_trunc('month', shipped)::DATE AS m FROM line),
        shipped AS (SELECT DISTINCT p.m, o.id, o.price
                    FROM p JOIN line l ON date_trunc('month', l.shipped) <= p.m
                                      AND date_trunc('month', l.shipped)
                                          >= date_trunc('year', p.m)
                           JOIN orders o ON o.id = l.order_id)
        SELECT m, sum(price) FROM shipped GROUP BY 1 ORDER BY 1
        """,
    ),
    "a distinct count on a to-one path": (
        "SELECT order_date.month, buyers, buyers_3_months WHERE order_date >= DATE "
        "'2025-01-01' ORDER BY 1",
        """
        WITH p AS (SELECT DISTINCT date_trunc('month', ordered)::DATE AS m FROM orders)
        SELECT p.m,
               (SELECT count(DISTINCT customer_id) FROM orders
                WHERE date_trunc('month', ordered) = p.m),
               (SELECT count(DISTINCT customer_id) FROM orders
                WHERE date_trunc('month', ordered) <= p.m
                  AND date_trunc('month', ordered) > p.m - INTERVAL 3 MONTH)
        FROM p ORDER BY 1
        """,
    ),
    "an average over the orders shipped in 3 months": (
        "SELECT ship_date.month, average_price_shipped_3_months ORDER BY 1",
        """
        WITH p AS (SELECT DISTINCT date_trunc('month', shipped)::DATE AS m FROM line),
        shipped AS (SELECT DISTINCT p.m, o.id, o.price
                    FROM p JOIN line l ON date_trunc('month', l.shipped) <= p.m
                                      AND date_trunc('month', l.shipped)
                                          > p.m - INTERVAL 3 MONTH
                           JOIN orders o ON o.id = l.order_id)
        SELECT m, avg(price) FROM shipped GROUP BY 1 ORDER BY 1
        """,
    ),
    "an additive window beside them, filtered on another dimension": (
        "SELECT ship_date.month, lines_3_months, shipped_orders_3_months "
        "WHERE priority = 'HIGH' ORDER BY 1",
        """
        WITH high AS (SELECT l.* FROM line l JOIN orders o ON o.id = l.order_id
                      WHERE o.priority = 'HIGH'),
        p AS (SELECT DISTINCT date_trunc('month', shipped)::DATE AS m FROM high)
        SELECT p.m,
               (SELECT count(*) FROM high WHERE date_trunc('month', shipped) <= p.m
                  AND date_trunc('month', shipped) > p.m - INTERVAL 3 MONTH),
               (SELECT count(DISTINCT order_id) FROM high
                WHERE date_trunc('month', shipped) <= p.m
                  AND date_trunc('month', shipped) > p.m - INTERVAL 3 MONTH)
        FROM p ORDER BY 1
        """,
    ),
}


def _cell(value: Any) -> Any:
    """A cell as every engine can give it: dates as dates, numbers as numbers."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-":
        return dt.date.fromisoformat(value[:10])  # SQLite's dates are text
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple(_cell(v) for v in row) for row in rows]


def by_hand(shop: Project, sql: str) -> list[tuple[Any, ...]]:
    return _rows(shop.engine.connection.execute(sql).fetchall())


@pytest.mark.parametrize("case", CASES)
def test_on_duckdb(shop: Project, case: str) -> None:
    query, sql = CASES[case]
    got = [tuple(r.values()) for r in shop.query(query).to_pylist()]
    expected = by_hand(shop, sql)
    assert expected, "the hand-written query finds rows"
    assert_same_rows(_rows(got), expected)


@pytest.mark.parametrize("case", CASES)
def test_on_sqlite(shop: Project, lite: sqlite3.Connection, case: str) -> None:
    query, sql = CASES[case]
    got = lite.execute(shop.compile(query, "sqlite")).fetchall()
    assert_same_rows(_rows(got), by_hand(shop, sql))


@pytest.mark.parametrize("case", CASES)
def test_on_postgres(shop: Project, pg: Any, case: str) -> None:
    query, sql = CASES[case]
    got = pg.execute(shop.compile(query, "postgres")).fetchall()
    assert_same_rows(_rows(got), by_hand(shop, sql))


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_on_spark(shop: Project, spark: SparkEngine, case: str) -> None:
    query, sql = CASES[case]
    got = spark.fetch(shop.compile(query, "spark"))
    assert_same_rows(_rows(got), by_hand(shop, sql))


def test_the_hand_written_numbers_are_the_obvious_ones(shop: Project) -> None:
    # by hand, to trust the hand-written SQL: customers 1, 2 and 3 ordered in 2025 (4 never)
    rows = shop.query(
        "SELECT order_date.month, customer_count, customers_so_far, customers_3_months "
        "WHERE order_date >= DATE '2025-01-01' ORDER BY 1"
    ).to_pylist()
    assert [tuple(r.values()) for r in rows] == [
        (dt.date(2025, 1, 1), 1, 1, 1),  # 1 (twice)
        (dt.date(2025, 2, 1), 2, 2, 2),  # 1, 2
        (dt.date(2025, 3, 1), 1, 3, 3),  # 3
        (dt.date(2025, 4, 1), 1, 3, 3),  # 1; February to April: 1, 2, 3
        (dt.date(2025, 12, 1), 1, 3, 1),  # 2
        (dt.date(2026, 1, 1), 1, 3, 2),  # 3; November to January: 2, 3
    ]


def test_explain_says_the_window_counts_each_row_once(shop: Project) -> None:
    text = shop.explain("SELECT ship_date.month, shipped_orders_3_months")
    assert "over the rows of orders in the periods after" in text
    assert "ship_date is on the many side, orders -> line is one-to-many" in text


# --- the numbers of the issue, on TPC-H ---------------------------------------------------------

TPCH_WINDOWS = """
domain: windows
label: {en: Windows}
terms:
  customers_so_far:
    label: {en: Customers so far}
    metric: {expr: customer_count, window: {time: order_date}}
  customers_3_months:
    label: {en: Customers in 3 months}
    metric: {expr: customer_count, window: {time: order_date, last: 3, grain: month}}
  orders_shipped_so_far:
    label: {en: Orders shipped so far}
    metric: {expr: order_count, window: {time: ship_date}}
"""


@pytest.fixture(scope="module")
def tpch(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Project:
    from tests.conftest import ROOT

    root = tmp_path_factory.mktemp("tpch_windows")
    for folder in ("models", "glossary"):
        (root / folder).mkdir()
        for file in (ROOT / folder).glob("*.yml"):
            (root / folder / file.name).write_text(file.read_text())
    (root / "glossary" / "windows.yml").write_text(TPCH_WINDOWS)
    config = (ROOT / "semantic.yml").read_text()
    (root / "semantic.yml").write_text(config.replace("data/tpch-sf{scale}", str(project.data_dir)))
    return Project.load(Path(root))


def test_tpch_customers_so_far(tpch: Project) -> None:
    got = tpch.query(
        "SELECT order_date.year, customers_so_far WHERE order_date >= DATE '1992-01-01' ORDER BY 1"
    ).to_pylist()
    expected = tpch.engine.connection.execute(
        """
        WITH p AS (SELECT DISTINCT date_trunc('year', o_orderdate)::DATE AS y FROM orders)
        SELECT p.y, count(DISTINCT o.o_custkey)
        FROM p JOIN orders o ON date_trunc('year', o.o_orderdate) <= p.y GROUP BY 1 ORDER BY 1
        """
    ).fetchall()
    assert expected[-1][1] == 1000  # of 1,500 customers, 1,000 ever ordered (not 5,934)
    assert_same_rows([tuple(r.values()) for r in got], expected)


def test_tpch_customers_in_3_months(tpch: Project) -> None:
    got = tpch.query(
        "SELECT order_date.month, customers_3_months WHERE order_date >= DATE '1992-01-01' "
        "ORDER BY 1"
    ).to_pylist()
    expected = tpch.engine.connection.execute(
        """
        WITH p AS (SELECT DISTINCT date_trunc('month', o_orderdate)::DATE AS m FROM orders)
        SELECT p.m, count(DISTINCT o.o_custkey)
        FROM p JOIN orders o ON date_trunc('month', o.o_orderdate) <= p.m
                            AND date_trunc('month', o.o_orderdate) > p.m - INTERVAL 3 MONTH
        GROUP BY 1 ORDER BY 1
        """
    ).fetchall()
    assert_same_rows([tuple(r.values()) for r in got], expected)


def test_tpch_orders_shipped_so_far(tpch: Project) -> None:
    got = tpch.query("SELECT ship_date.year, orders_shipped_so_far ORDER BY 1").to_pylist()
    expected = tpch.engine.connection.execute(
        """
        WITH p AS (SELECT DISTINCT date_trunc('year', l_shipdate)::DATE AS y FROM lineitem)
        SELECT p.y, count(DISTINCT l.l_orderkey)
        FROM p JOIN lineitem l ON date_trunc('year', l.l_shipdate) <= p.y GROUP BY 1 ORDER BY 1
        """
    ).fetchall()
    assert expected[-1][1] == 15000
    assert_same_rows([tuple(r.values()) for r in got], expected)
