"""Conversion metrics (MetricFlow's `type: conversion`) give the numbers of hand-written SQL
on small generated event tables: visits (the base events) of customers, and their orders
(the conversions), with visits that never convert, orders before any visit, several orders
after one visit, orders on the day of a visit and at the window's very edge, visits and
orders of no customer, and properties (the channel) that must match.

The hand-written SQL states MetricFlow's rule another way: each order is credited to the
latest visit of its customer on its day or before it within the window (a correlated
MAX), whose group (month, channel: the smallest on a tie, NULL last) gets the order; the
rate is the orders credited to a group's visits divided by its visits. The compiled SQL
does not depend on the data, so each query is compiled once per engine and run on every
generated table. On Spark, each query runs on the pinned edges and a few more events.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from semantic.errors import SemanticError
from semantic.project import Project
from tests.budget import examples
from tests.compare import assert_same_rows
from tests.spark_rows import SparkRows, spark_rows
from tests.tiny_engines import normal_rows, tiny_project

MODEL = """
entities:
  customers:
    primary_key: [id]
    columns: {id: {type: integer}, region: {type: varchar}}
  visits:
    primary_key: [id]
    columns:
      id: {type: integer}
      customer_id: {type: integer}
      day: {type: date}
      channel: {type: varchar}
    relationships:
      - {to: customers, cardinality: many_to_one, keys: {customer_id: id}}
  orders:
    primary_key: [id]
    columns:
      id: {type: integer}
      customer_id: {type: integer}
      day: {type: date}
      channel: {type: varchar}
    relationships:
      - {to: customers, cardinality: many_to_one, keys: {customer_id: id}}
  lines:
    primary_key: [id]
    columns: {id: {type: integer}, order_id: {type: integer}, product: {type: varchar}}
    relationships:
      - {to: orders, cardinality: many_to_one, keys: {order_id: id}}
"""

GLOSSARY = """
domain: d
terms:
  region: {label: {en: Region}, dimension: {entity: customers, expr: region}}
  visit_day: {label: {en: Visit day}, time_dimension: {entity: visits, expr: day}}
  visit_channel: {label: {en: Visit channel}, dimension: {entity: visits, expr: channel}}
  order_day: {label: {en: Order day}, time_dimension: {entity: orders, expr: day}}
  order_channel: {label: {en: Order channel}, dimension: {entity: orders, expr: channel}}
  visit_count: {label: {en: Visits}, metric: {entity: visits, expr: count(*)}}
  order_count: {label: {en: Orders}, metric: {entity: orders, expr: count(*)}}
  buyers: {label: {en: Buyers}, metric: {entity: orders, expr: count(DISTINCT customer_id)}}
  product: {label: {en: Product}, dimension: {entity: lines, expr: product}}
  jaffle_orders:
    label: {en: Orders with a jaffle}
    metric: {entity: orders, expr: count(*), filter: product = 'jaffle'}
  jaffle_conversion:
    label: {en: Conversion to an order with a jaffle}
    metric:
      expr: visit_count
      conversion: {metric: jaffle_orders, entity: customers, base_time: visit_day, time: order_day}
  conversion_3d:
    label: {en: Conversion within 3 days}
    metric:
      expr: visit_count
      conversion:
        metric: order_count
        entity: customers
        base_time: visit_day
        time: order_day
        window: {last: 3, grain: day}
  conversions_1w:
    label: {en: Orders within a week of a visit}
    metric:
      expr: visit_count
      conversion:
        metric: order_count
        entity: customers
        base_time: visit_day
        time: order_day
        window: {last: 1, grain: week}
        calculation: conversions
  same_channel_buyers:
    label: {en: Buyers on the channel of a visit}
    metric:
      expr: visit_count
      conversion:
        metric: buyers
        entity: customers
        base_time: visit_day
        time: order_day
        calculation: conversions
        constant_properties: [{base: visit_channel, conversion: order_channel}]
  same_channel_rate:
    label: {en: Conversion on the channel of a visit}
    metric:
      expr: visit_count
      conversion:
        metric: order_count
        entity: customers
        base_time: visit_day
        time: order_day
        constant_properties: [{base: visit_channel, conversion: order_channel}]
"""

START = dt.date(2024, 1, 20)  # the days cross a month's end
CUSTOMERS = ((1, "north"), (2, "south"), (3, "north"), (4, None))
COLUMNS = "id, customer_id, day, channel"


def _credited(window: str | None, same_channel: bool) -> str:
    """Each order with the day of the visit it is credited to (NULL: none)."""
    lower = f"AND v.day > CAST(o.day - INTERVAL '{window}' AS DATE)" if window else ""
    channel = "AND v.channel = o.channel" if same_channel else ""
    return f"""
      SELECT o.id, o.customer_id, o.channel,
        (SELECT MAX(v.day) FROM visits AS v WHERE v.customer_id = o.customer_id
           AND v.day <= o.day {lower} {channel}) AS visit_day
      FROM orders AS o"""


def _channel_of(credited: str, same_channel: bool = False) -> str:
    """The channel of the visit an order is credited to: the smallest on a tie (of the
    visits of the order's own channel when the conversion keeps the channel: two visits of
    one customer on one day in two channels are two candidates, one of them eligible)."""
    channel = "AND v.channel = c.channel" if same_channel else ""
    return f"""
      SELECT c.*, (SELECT MIN(v.channel) FROM visits AS v
        WHERE v.customer_id = c.customer_id AND v.day = c.visit_day {channel}) AS visit_channel
      FROM ({credited}) AS c WHERE c.visit_day IS NOT NULL"""


#: business query -> hand-written SQL, MetricFlow's rule written another way
CASES: dict[str, str] = {
    "SELECT visit_day.month, visit_count, conversion_3d": f"""
      WITH credited AS ({_credited("3 day", False)}),
      conv AS (SELECT CAST(date_trunc('month', visit_day) AS DATE) AS m, COUNT(*) AS n
               FROM credited WHERE visit_day IS NOT NULL GROUP BY 1),
      base AS (SELECT CAST(date_trunc('month', day) AS DATE) AS m, COUNT(*) AS n
               FROM visits GROUP BY 1)
      SELECT base.m, base.n, CAST(COALESCE(conv.n, 0) AS DOUBLE PRECISION) / base.n
      FROM base LEFT JOIN conv ON base.m = conv.m""",
    "SELECT visit_channel, conversions_1w": f"""
      WITH credited AS ({_channel_of(_credited("7 day", False))}),
      conv AS (SELECT visit_channel, COUNT(*) AS n FROM credited GROUP BY 1)
      SELECT g.channel, COALESCE(conv.n, 0)
      FROM (SELECT DISTINCT channel FROM visits) AS g
      LEFT JOIN conv ON g.channel IS NOT DISTINCT FROM conv.visit_channel""",
    "SELECT region, conversion_3d": f"""
      WITH credited AS ({_credited("3 day", False)}),
      conv AS (SELECT cu.region, COUNT(*) AS n FROM credited AS c
               LEFT JOIN customers AS cu ON cu.id = c.customer_id
               WHERE c.visit_day IS NOT NULL GROUP BY 1),
      base AS (SELECT cu.region, COUNT(*) AS n FROM visits AS v
               LEFT JOIN customers AS cu ON cu.id = v.customer_id GROUP BY 1)
      SELECT base.region, CAST(COALESCE(conv.n, 0) AS DOUBLE PRECISION) / base.n
      FROM base LEFT JOIN conv ON base.region IS NOT DISTINCT FROM conv.region""",
    "SELECT visit_channel, same_channel_buyers, same_channel_rate": f"""
      WITH credited AS ({_channel_of(_credited(None, True), same_channel=True)}),
      conv AS (SELECT visit_channel, COUNT(DISTINCT customer_id) AS buyers, COUNT(*) AS n
               FROM credited GROUP BY 1),
      base AS (SELECT channel, COUNT(*) AS n FROM visits GROUP BY 1)
      SELECT base.channel, COALESCE(conv.buyers, 0),
        CAST(COALESCE(conv.n, 0) AS DOUBLE PRECISION) / base.n
      FROM base LEFT JOIN conv ON base.channel IS NOT DISTINCT FROM conv.visit_channel""",
    "SELECT conversion_3d, same_channel_buyers": f"""
      SELECT
        CAST((SELECT COUNT(*) FROM ({_credited("3 day", False)}) AS c
              WHERE c.visit_day IS NOT NULL) AS DOUBLE PRECISION)
          / NULLIF((SELECT COUNT(*) FROM visits), 0),
        (SELECT COUNT(DISTINCT customer_id) FROM ({_credited(None, True)}) AS c
         WHERE c.visit_day IS NOT NULL)""",
}

#: an event: (customer, days after START, channel)
EVENT = st.tuples(
    st.sampled_from([1, 2, 3, 4, None]),
    st.integers(min_value=0, max_value=24),
    st.sampled_from(["app", "web", None]),
)
EVENTS = st.lists(EVENT, max_size=8)


def _rows(events: list[tuple[Any, int, Any]]) -> list[tuple[Any, ...]]:
    return [(i, c, START + dt.timedelta(days=d), ch) for i, (c, d, ch) in enumerate(events, 1)]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Project:
    ids = (("id", "integer"), ("customer_id", "integer"), ("day", "date"), ("channel", "varchar"))
    tables = {
        "customers": ((("id", "integer"), ("region", "varchar")), CUSTOMERS),
        "visits": (ids, ((1, 1, START, "web"),)),
        "orders": (ids, ((1, 1, START, "web"),)),
        "lines": (
            (("id", "integer"), ("order_id", "integer"), ("product", "varchar")),
            ((1, 1, "jaffle"),),
        ),
    }
    return tiny_project(tmp_path_factory.mktemp("conversion"), MODEL, GLOSSARY, tables)


Loader = Callable[[list[tuple[Any, ...]], list[tuple[Any, ...]]], None]
Runner = Callable[[str], list[tuple[Any, ...]]]


def _duckdb() -> Iterator[tuple[str, Loader, Runner]]:
    import duckdb

    connection = duckdb.connect()
    connection.execute("CREATE TABLE customers (id INTEGER, region VARCHAR)")
    connection.executemany("INSERT INTO customers VALUES (?, ?)", list(CUSTOMERS))
    for name in ("visits", "orders"):
        connection.execute(
            f"CREATE TABLE {name} (id INTEGER, customer_id INTEGER, day DATE, channel VARCHAR)"
        )

    def load(visits: list[tuple[Any, ...]], orders: list[tuple[Any, ...]]) -> None:
        for name, rows in (("visits", visits), ("orders", orders)):
            connection.execute(f"DELETE FROM {name}")
            if rows:
                connection.executemany(f"INSERT INTO {name} VALUES (?, ?, ?, ?)", rows)

    yield "duckdb", load, lambda sql: [tuple(r) for r in connection.execute(sql).fetchall()]
    connection.close()


def _postgres(url: str) -> Iterator[tuple[str, Loader, Runner]]:
    import psycopg

    schema = f"conversion_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
        try:
            connection.execute(f"SET search_path TO {schema}")
            connection.execute("CREATE TABLE customers (id INTEGER, region VARCHAR)")
            with connection.cursor() as cursor:
                cursor.executemany("INSERT INTO customers VALUES (%s, %s)", list(CUSTOMERS))
            for name in ("visits", "orders"):
                connection.execute(
                    f"CREATE TABLE {name} (id INTEGER, customer_id INTEGER, "
                    "day DATE, channel VARCHAR)"
                )

            def load(visits: list[tuple[Any, ...]], orders: list[tuple[Any, ...]]) -> None:
                for name, rows in (("visits", visits), ("orders", orders)):
                    connection.execute(f"DELETE FROM {name}")
                    with connection.cursor() as cursor:
                        cursor.executemany(f"INSERT INTO {name} VALUES (%s, %s, %s, %s)", rows)

            def run(sql: str) -> list[tuple[Any, ...]]:
                return [tuple(r) for r in connection.execute(sql).fetchall()]

            yield "postgres", load, run
        finally:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def engine(request: pytest.FixtureRequest) -> Iterator[tuple[str, Loader, Runner]]:
    if request.param == "duckdb":
        yield from _duckdb()
    else:
        yield from _postgres(request.getfixturevalue("postgres_url"))


@pytest.mark.parametrize("query", sorted(CASES))
def test_conversions_are_hand_written_sqls(
    shop: Project, engine: tuple[str, Loader, Runner], query: str
) -> None:
    dialect, load, run = engine
    compiled = shop.compile(query, dialect)
    hand = CASES[query]

    @settings(
        max_examples=examples(full=200, fast=25),
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(visits=EVENTS, orders=EVENTS)
    def check(visits: list[tuple[Any, int, Any]], orders: list[tuple[Any, int, Any]]) -> None:
        load(_rows(visits), _rows(orders))
        assert_same_rows(normal_rows(run(compiled)), normal_rows(run(hand)), ordered=False)

    check()


# the edges, pinned by hand: each order credited to the latest visit before it
EDGES_VISITS = [
    (1, 1, START, "web"),  # 20 Jan
    (2, 1, START + dt.timedelta(days=2), "app"),  # 22 Jan: the latest before the orders
    (3, 2, START + dt.timedelta(days=5), "web"),  # 25 Jan: its order comes before it
    (4, 3, START + dt.timedelta(days=9), "web"),  # 29 Jan: its order is 3 days later
    (5, None, START, "web"),  # no customer: never converts
]
EDGES_ORDERS = [
    (1, 1, START + dt.timedelta(days=2), "web"),  # the day of visit 2: converts (same day)
    (2, 1, START + dt.timedelta(days=4), "web"),  # 2 days after visit 2: converts
    (3, 2, START + dt.timedelta(days=4), "web"),  # before visit 3: no
    (4, 3, START + dt.timedelta(days=12), "web"),  # 3 days after visit 4: out of 3 days
]


def test_the_edges_by_hand(shop: Project, engine: tuple[str, Loader, Runner]) -> None:
    """Same day counts, a window of 3 days ends before the third day after, an order before
    the visit does not count, two orders after one visit both count."""
    dialect, load, run = engine
    load(EDGES_VISITS, EDGES_ORDERS)
    got = run(shop.compile("SELECT visit_channel, conversion_3d, conversions_1w", dialect))
    # web: visits 1, 3, 4, 5 (4), none credited within 3 days; order 4 is within a week of
    # visit 4. app: visit 2, credited orders 1 and 2 (2 / 1)
    assert_same_rows(
        normal_rows(got), normal_rows([("app", 2.0, 2), ("web", 0.0, 1)]), ordered=False
    )


def test_events_repeated_by_a_join_are_refused(shop: Project) -> None:
    """A key or filter that repeats the base events (an order's channel for a visit: a
    customer has several orders) would credit an order to several groups: refused."""
    with pytest.raises(SemanticError) as caught:
        shop.compile("SELECT order_channel, conversion_3d")
    assert caught.value.diagnostics[0].code == "SEM306"  # the visits' count refuses it
    with pytest.raises(SemanticError) as caught:  # an order with a jaffle: a semi-join
        shop.compile("SELECT visit_day.month, jaffle_conversion")
    assert caught.value.diagnostics[0].code == "SEM345"
    assert "one-to-many" in caught.value.diagnostics[0].message


# --- Spark: each query on the edges and on a few more events --------------------------------

#: visits and orders of no customer, NULL channels, two visits of one customer on one day in
#: two channels, orders across a month's end
MORE_VISITS = _rows([(1, 0, "web"), (1, 0, "app"), (2, 3, None), (None, 4, "web"), (4, 12, "app")])
MORE_ORDERS = _rows([(1, 1, "app"), (1, 9, "web"), (2, 3, None), (None, 5, "web"), (4, 13, "app")])
EVENT_COLUMNS = "id INT, customer_id INT, day DATE, channel STRING"


@pytest.fixture(scope="module")
def spark(shop: Project, request: pytest.FixtureRequest) -> Iterator[SparkRows]:
    for engine in spark_rows(request, shop):
        engine.load("customers", "id INT, region STRING", CUSTOMERS)
        engine.load("lines", "id INT, order_id INT, product STRING", [(1, 1, "jaffle")])
        yield engine


@pytest.mark.slow
@pytest.mark.parametrize("query", sorted(CASES))
def test_conversions_on_spark(shop: Project, spark: SparkRows, query: str) -> None:
    compiled = shop.compile(query, "spark")
    for _, load, run in _duckdb():
        for visits, orders in ((EDGES_VISITS, EDGES_ORDERS), (MORE_VISITS, MORE_ORDERS)):
            load(visits, orders)
            spark.load("visits", EVENT_COLUMNS, visits)
            spark.load("orders", EVENT_COLUMNS, orders)
            want = normal_rows(run(CASES[query]))
            assert want
            assert_same_rows(normal_rows(spark.run(compiled)), want, ordered=False)


@pytest.mark.slow
def test_the_edges_on_spark(shop: Project, spark: SparkRows) -> None:
    spark.load("visits", EVENT_COLUMNS, EDGES_VISITS)
    spark.load("orders", EVENT_COLUMNS, EDGES_ORDERS)
    got = spark.run(shop.compile("SELECT visit_channel, conversion_3d, conversions_1w", "spark"))
    assert_same_rows(
        normal_rows(got), normal_rows([("app", 2.0, 2), ("web", 0.0, 1)]), ordered=False
    )
