"""A metric read at another grain (`PER (d)`, `PER (entity)`, a saved per-entity dimension,
a grand total `PER (ALL)` in a row condition) shows, for a group or an entity without
rows, what the same metric shows at its own grain for a group without rows, and a NULL
aggregate over rows that exist stays NULL there as it does at its own grain.

Two wrong numbers pinned here:

- a conversion metric read elsewhere took the fill of its *base* metric (the visits), where
  at its own grain a group without rows shows the fill of its *conversion* metric (0
  conversions for a count; NULL for a sum; a rate over no visits is NULL): PER (region) of a
  region without visits said NULL conversions, 0 converted amount and a rate of 0;
- a metric per entity, and a grand total read in a row condition, were wrapped in
  `COALESCE(value, fill)`, which fills a NULL sum over rows that exist (an entity whose
  orders have no amount showed revenue 0, where its own grain shows NULL).

A derived metric's own `fill_null` has no effect at its own grain (SEM229 says so) and none
elsewhere: both read its metrics' fills. Each query runs on DuckDB, SQLite and PostgreSQL,
compared with SQL written by hand whose rows are pinned too.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from semantic.project import Project
from tests.tiny_engines import ENGINES, Engine, Table, engine_fixture, tiny_project
from tests.tiny_engines import check_rows as check

MODEL = """
entities:
  customers:
    primary_key: [id]
    columns: {id: {type: integer}, region: {type: varchar}}
  visits:
    primary_key: [id]
    columns: {id: {type: integer}, customer_id: {type: integer}, day: {type: date},
              amount: {type: integer}}
    relationships:
      - {to: customers, cardinality: many_to_one, keys: {customer_id: id}}
  orders:
    primary_key: [id]
    columns: {id: {type: integer}, customer_id: {type: integer}, day: {type: date},
              amount: {type: integer}}
    relationships:
      - {to: customers, cardinality: many_to_one, keys: {customer_id: id}}
"""

GLOSSARY = """
domain: d
terms:
  region: {label: {en: Region}, dimension: {entity: customers, expr: region}}
  customer_key: {label: {en: Customer}, dimension: {entity: customers, expr: id}}
  order_key: {label: {en: Order}, dimension: {entity: orders, expr: id}}
  customer_count: {label: {en: Customers}, metric: {entity: customers, expr: count(*)}}
  visit_day: {label: {en: Visit day}, time_dimension: {entity: visits, expr: day}}
  order_day: {label: {en: Order day}, time_dimension: {entity: orders, expr: day}}
  visit_count: {label: {en: Visits}, metric: {entity: visits, expr: count(*)}}
  visit_amount: {label: {en: Visit amount}, metric: {entity: visits, expr: sum(amount)}}
  order_count: {label: {en: Orders}, metric: {entity: orders, expr: count(*)}}
  order_amount: {label: {en: Order amount}, metric: {entity: orders, expr: sum(amount)}}
  revenue: {label: {en: Revenue}, metric: {entity: orders, expr: sum(amount), fill_null: 0}}
  revenue_of_3:
    label: {en: Revenue of order 3}
    metric: {entity: orders, expr: sum(amount), filter: order_key = 3, fill_null: 0}
  revenue_of_9:
    label: {en: Revenue of order 9}
    metric: {entity: orders, expr: sum(amount), filter: order_key = 9, fill_null: 0}
  revenue_twice:
    label: {en: Revenue twice}
    metric: {expr: revenue * 2, fill_null: 7}
  conversions:
    label: {en: Conversions}
    metric:
      expr: visit_amount
      conversion:
        metric: order_count
        entity: customers
        base_time: visit_day
        time: order_day
        calculation: conversions
  converted_amount:
    label: {en: Converted amount}
    metric:
      expr: visit_count
      conversion:
        metric: order_amount
        entity: customers
        base_time: visit_day
        time: order_day
        calculation: conversions
  conversion_rate:
    label: {en: Conversion rate}
    metric:
      expr: visit_count
      conversion: {metric: order_count, entity: customers, base_time: visit_day, time: order_day}
  customer_conversions:
    label: {en: Conversions of the customer}
    dimension: {entity: customers, expr: "MEASURE(conversions) PER (customers)"}
  customer_revenue:
    label: {en: Revenue of the customer}
    dimension: {entity: customers, expr: "MEASURE(revenue) PER (customers)"}
"""

# customers 1 and 2 in region a, 3 in b, 4 in c; visits of 1 (no amount) and 2 (4);
# orders: 1's after its visit (a conversion, 5), 2's before its visit (none, no amount),
# 3's without a visit (no amount); 4 has neither
TABLES: dict[str, Table] = {
    "customers": (
        (("id", "integer"), ("region", "varchar")),
        ((1, "a"), (2, "a"), (3, "b"), (4, "c")),
    ),
    "visits": (
        (("id", "integer"), ("customer_id", "integer"), ("day", "date"), ("amount", "integer")),
        ((1, 1, dt.date(2026, 1, 1), None), (2, 2, dt.date(2026, 1, 3), 4)),
    ),
    "orders": (
        (("id", "integer"), ("customer_id", "integer"), ("day", "date"), ("amount", "integer")),
        (
            (1, 1, dt.date(2026, 1, 2), 5),
            (2, 2, dt.date(2026, 1, 1), None),
            (3, 3, dt.date(2026, 1, 5), None),
        ),
    ),
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return tiny_project(tmp_path_factory.mktemp("fillelse"), MODEL, GLOSSARY, TABLES)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, shop: Project, tmp_path: Path) -> Iterator[Engine]:
    yield from engine_fixture(request, shop, TABLES, tmp_path)


# an order converts when its customer visited on its day or before; `present` tells an
# entity without rows (filled) from a NULL sum over rows
CONVERTED = """
SELECT o.customer_id, c.region, o.amount FROM orders o JOIN customers c ON o.customer_id = c.id
WHERE EXISTS (SELECT 1 FROM visits v WHERE v.customer_id = o.customer_id AND v.day <= o.day)
"""

BY_REGION = f"""
WITH conv AS (SELECT region, COUNT(*) AS n, SUM(amount) AS amt FROM ({CONVERTED}) t
              GROUP BY region),
vis AS (SELECT c.region, COUNT(*) AS n FROM visits v JOIN customers c ON v.customer_id = c.id
        GROUP BY c.region),
rev AS (SELECT c.region, SUM(o.amount) AS s, 1 AS present FROM orders o
        JOIN customers c ON o.customer_id = c.id GROUP BY c.region),
r AS (SELECT region, COUNT(*) AS k FROM customers GROUP BY region)
SELECT r.region, r.k,
       COALESCE(conv.n, 0), COALESCE(conv.n, 0), conv.amt, conv.amt,
       1.0 * COALESCE(conv.n, 0) / NULLIF(COALESCE(vis.n, 0), 0),
       1.0 * COALESCE(conv.n, 0) / NULLIF(COALESCE(vis.n, 0), 0),
       CASE WHEN rev.present IS NULL THEN 0 ELSE rev.s * 2 END,
       CASE WHEN rev.present IS NULL THEN 0 ELSE rev.s * 2 END
FROM r LEFT JOIN conv ON conv.region = r.region LEFT JOIN vis ON vis.region = r.region
LEFT JOIN rev ON rev.region = r.region
"""


def test_a_metric_at_another_grain_fills_a_group_as_at_its_own(
    engine: Engine, shop: Project
) -> None:
    check(
        engine,
        shop,
        "SELECT region, customer_count, conversions, MEASURE(conversions) PER (region) AS c2, "
        "converted_amount, MEASURE(converted_amount) PER (region) AS a2, "
        "conversion_rate, MEASURE(conversion_rate) PER (region) AS r2, "
        "revenue_twice, MEASURE(revenue_twice) PER (region) AS t2",
        BY_REGION,
        [
            ("a", 2, 1, 1, 5, 5, 0.5, 0.5, 10, 10),
            ("b", 1, 0, 0, None, None, None, None, None, None),
            ("c", 1, 0, 0, None, None, None, None, 0, 0),
        ],
    )


BY_CUSTOMER = f"""
WITH conv AS (SELECT customer_id, COUNT(*) AS n, SUM(amount) AS amt FROM ({CONVERTED}) t
              GROUP BY customer_id),
vis AS (SELECT customer_id, COUNT(*) AS n FROM visits GROUP BY customer_id),
rev AS (SELECT customer_id, SUM(amount) AS s, 1 AS present FROM orders GROUP BY customer_id)
SELECT c.id, COALESCE(conv.n, 0), conv.amt,
       1.0 * COALESCE(conv.n, 0) / NULLIF(COALESCE(vis.n, 0), 0),
       CASE WHEN rev.present IS NULL THEN 0 ELSE rev.s END,
       CASE WHEN rev.present IS NULL THEN 0 ELSE rev.s * 2 END
FROM customers c LEFT JOIN conv ON conv.customer_id = c.id
LEFT JOIN vis ON vis.customer_id = c.id LEFT JOIN rev ON rev.customer_id = c.id
"""

PER_CUSTOMER = [
    (1, 1, 5, 1.0, 5, 10),
    (2, 0, None, 0.0, None, None),
    (3, 0, None, None, None, None),
    (4, 0, None, None, 0, 0),
]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT customer_key, customer_count, conversions, converted_amount, conversion_rate, "
        "revenue, revenue_twice",
        "SELECT customer_key, MEASURE(conversions) PER (customers) AS c, "
        "MEASURE(converted_amount) PER (customers) AS a, "
        "MEASURE(conversion_rate) PER (customers) AS r, MEASURE(revenue) PER (customers) AS v, "
        "MEASURE(revenue_twice) PER (customers) AS t",
    ],
    ids=["own grain", "per entity"],
)
def test_a_metric_per_entity_fills_an_entity_as_at_its_own_grain(
    engine: Engine, shop: Project, query: str
) -> None:
    hand = BY_CUSTOMER
    expected: list[tuple[Any, ...]]
    if "customer_count" in query:  # the own grain's extra count, every customer's 1
        hand = hand.replace("SELECT c.id,", "SELECT c.id, 1,")
        expected = [(row[0], 1, *row[1:]) for row in PER_CUSTOMER]
    else:
        expected = PER_CUSTOMER
    check(engine, shop, query, hand, expected)


def test_a_saved_per_entity_dimension_fills_as_the_metric_at_its_own_grain(
    engine: Engine, shop: Project
) -> None:
    check(
        engine,
        shop,
        "SELECT customer_key, customer_conversions, customer_revenue",
        """
        SELECT c.id, COALESCE(conv.n, 0), CASE WHEN rev.present IS NULL THEN 0 ELSE rev.s END
        FROM customers c
        LEFT JOIN (SELECT customer_id, COUNT(*) AS n FROM ({CONVERTED}) t GROUP BY customer_id)
          conv ON conv.customer_id = c.id
        LEFT JOIN (SELECT customer_id, SUM(amount) AS s, 1 AS present FROM orders
                   GROUP BY customer_id) rev ON rev.customer_id = c.id
        """.replace("{CONVERTED}", CONVERTED),
        [(1, 1, 5), (2, 0, None), (3, 0, None), (4, 0, 0)],
    )


def test_a_per_entity_condition_reads_a_null_sum_as_null(engine: Engine, shop: Project) -> None:
    # customers 2 and 3 have orders without an amount: their revenue is NULL, not 0
    check(
        engine,
        shop,
        "SELECT customer_key WHERE MEASURE(revenue) PER (customers) = 0",
        "SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)",
        [(4,)],
    )


@pytest.mark.parametrize(
    ("metric", "by_hand", "expected"),
    [
        # order 3 has no amount: its revenue is NULL, and no key is greater than NULL
        ("revenue_of_3", "(SELECT SUM(amount) FROM orders WHERE id = 3)", []),
        # no order 9: the grand total has no rows and shows the fill, 0
        (
            "revenue_of_9",
            "(SELECT CASE WHEN COUNT(*) > 0 THEN SUM(amount) ELSE 0 END FROM orders WHERE id = 9)",
            [(1,), (2,), (3,), (4,)],
        ),
    ],
)
def test_a_grand_total_in_a_row_condition_fills_only_missing_rows(
    engine: Engine, shop: Project, metric: str, by_hand: str, expected: list[tuple[int]]
) -> None:
    check(
        engine,
        shop,
        f"SELECT customer_key WHERE customer_key > MEASURE({metric}) PER (ALL)",
        f"SELECT id FROM customers WHERE id > {by_hand}",
        expected,
    )
