"""Honest answers on data that breaks what the model declares (issue #19, section 4).

- A row whose primary key is NULL is still a row: over a one-to-many join (metrics of the
  customers by the mode of their order lines) each one counts once per group, as every row
  with a key does; rows with NULL keys are never merged into one.
- A metric whose expression reads a column through a many-to-one relationship is NULL for the
  rows without a match there, so `sum` leaves them out: the answer is what SQL gives, and
  `check --data` says which metric loses which share of its rows (SEM440).

Each query runs on DuckDB, SQLite and PostgreSQL (when SEMANTIC_TEST_POSTGRES is set) and is
compared with SQL written by hand, whose rows are pinned below too.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from semantic.project import Project
from tests.tiny_engines import ENGINES, Engine, Table, engine_fixture, tiny_project
from tests.tiny_engines import check_rows as check

MODEL = """
entities:
  customer:
    primary_key: [id]
    columns:
      id: {type: integer}
      code: {type: varchar}
      segment: {type: varchar}
      balance: {type: integer}
    relationships:
      - {to: target, cardinality: one_to_many, keys: {code: code}}
  target:
    primary_key: [code, year]
    columns: {code: {type: varchar}, year: {type: integer}}
  orders:
    primary_key: [id]
    columns: {id: {type: integer}, customer_id: {type: integer}}
    relationships:
      - {to: customer, cardinality: many_to_one, keys: {customer_id: id}}
  offer:
    primary_key: [sku, vendor]
    columns: {sku: {type: varchar}, vendor: {type: varchar}, cost: {type: integer}}
  line:
    primary_key: [order_id, n]
    columns:
      order_id: {type: integer}
      n: {type: integer}
      mode: {type: varchar}
      sku: {type: varchar}
      vendor: {type: varchar}
      qty: {type: integer}
      price: {type: integer}
    relationships:
      - {to: orders, cardinality: many_to_one, keys: {order_id: id}}
      - {to: offer, cardinality: many_to_one, keys: {sku: sku, vendor: vendor}}
"""

GLOSSARY = """
domain: shop
terms:
  ship_mode: {label: {en: Ship mode}, dimension: {entity: line, expr: mode}}
  target_year: {label: {en: Target year}, dimension: {entity: target, expr: year}}
  segment: {label: {en: Segment}, dimension: {entity: customer, expr: segment}}
  customer_count: {label: {en: Customers}, metric: {entity: customer, expr: count(*)}}
  total_balance: {label: {en: Balance}, metric: {entity: customer, expr: sum(balance)}}
  revenue: {label: {en: Revenue}, metric: {entity: line, expr: sum(qty * price)}}
  profit:
    label: {en: Profit}
    metric: {entity: line, expr: sum(qty * price - offer.cost * qty)}
  line_count: {label: {en: Lines}, metric: {entity: line, expr: count(*)}}
"""

# customers (id, code, segment, balance): 1 c1 A 10, 2 c2 B 20, 3 c3 C 0 (never orders), and
#   three without an id: c4 A 5, c5 A 5, c6 B 7, none of which orders (a NULL key matches
#   no order)
# targets (by customer code): c1 in 2025 and 2026, c2 in 2026, c4 in 2025 and 2026, c5 in
#   2025, c6 in 2026
# orders: 10 and 11 of customer 1, 12 of customer 2
# lines: 10/1 AIR, 10/2 RAIL, 11/1 AIR, 12/1 AIR; offers exist for (p1, v1) only
# so by ship mode: AIR has customers 1 and 2, RAIL customer 1, and the NULL mode (no line)
# customer 3 and the three without an id: 4 customers, balance 0 + 5 + 5 + 7 = 17
TABLES: dict[str, Table] = {
    "customer": (
        (("id", "integer"), ("code", "varchar"), ("segment", "varchar"), ("balance", "integer")),
        (
            (1, "c1", "A", 10),
            (2, "c2", "B", 20),
            (3, "c3", "C", 0),
            (None, "c4", "A", 5),
            (None, "c5", "A", 5),
            (None, "c6", "B", 7),
        ),
    ),
    "target": (
        (("code", "varchar"), ("year", "integer")),
        (
            ("c1", 2025),
            ("c1", 2026),
            ("c2", 2026),
            ("c4", 2025),
            ("c4", 2026),
            ("c5", 2025),
            ("c6", 2026),
        ),
    ),
    "orders": (
        (("id", "integer"), ("customer_id", "integer")),
        ((10, 1), (11, 1), (12, 2)),
    ),
    "offer": (
        (("sku", "varchar"), ("vendor", "varchar"), ("cost", "integer")),
        (("p1", "v1", 3),),
    ),
    "line": (
        (
            ("order_id", "integer"),
            ("n", "integer"),
            ("mode", "varchar"),
            ("sku", "varchar"),
            ("vendor", "varchar"),
            ("qty", "integer"),
            ("price", "integer"),
        ),
        (
            (10, 1, "AIR", "p1", "v1", 2, 10),
            (10, 2, "RAIL", "p2", "v1", 1, 100),
            (11, 1, "AIR", "p1", "v1", 1, 10),
            (12, 1, "AIR", "p1", "v2", 5, 4),
        ),
    ),
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return tiny_project(tmp_path_factory.mktemp("bad"), MODEL, GLOSSARY, TABLES)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, shop: Project, tmp_path: Path) -> Iterator[Engine]:
    yield from engine_fixture(request, shop, TABLES, tmp_path)


# each customer once per ship mode of its lines; a customer without a line (a NULL key has
# none) is in the NULL group, each row of them
BY_MODE = """
SELECT m.mode, COUNT(*), SUM(c.balance)
FROM (SELECT DISTINCT mode FROM line) AS m
CROSS JOIN customer AS c
WHERE EXISTS (
  SELECT 1 FROM orders AS o JOIN line AS l ON l.order_id = o.id
  WHERE o.customer_id = c.id AND l.mode = m.mode
)
GROUP BY m.mode
UNION ALL
SELECT NULL, COUNT(*), SUM(c.balance) FROM customer AS c
WHERE NOT EXISTS (SELECT 1 FROM orders AS o WHERE o.customer_id = c.id)
"""


def test_rows_with_a_null_key_are_not_merged_over_a_one_to_many_join(
    engine: Engine, shop: Project
) -> None:
    # the example: the three customers without an id were counted as one (with the
    # balances 5 and 7 kept apart, as two): 2 customers and 12 in the NULL group
    check(
        engine,
        shop,
        "SELECT ship_mode, customer_count, total_balance",
        BY_MODE,
        [("AIR", 2, 30), ("RAIL", 1, 10), (None, 4, 17)],
    )


def test_rows_with_a_null_key_that_fan_out_count_once_per_group(
    engine: Engine, shop: Project
) -> None:
    # the relationship to the targets goes through the customer's code, not its key: a
    # customer without an id still has targets. 2025: c1, c4 and c5 (3 customers, balance
    # 10 + 5 + 5 = 20: c4 and c5 are two rows, equal but for their code); 2026: c1, c2, c4
    # and c6 (4, balance 42); c3 has none.
    check(
        engine,
        shop,
        "SELECT target_year, customer_count, total_balance",
        """
        SELECT t.year, COUNT(*), SUM(c.balance)
        FROM customer AS c JOIN target AS t ON t.code = c.code GROUP BY t.year
        UNION ALL
        SELECT NULL, COUNT(*), SUM(c.balance) FROM customer AS c
        WHERE NOT EXISTS (SELECT 1 FROM target AS t WHERE t.code = c.code)
        """,
        [(2025, 3, 20), (2026, 4, 42), (None, 1, 0)],
    )


def test_the_groups_add_up_to_the_total_when_each_row_is_in_one_group(
    engine: Engine, shop: Project
) -> None:
    # by segment (many-to-one side, no fan-out) and in total: every row counts, NULL keys too
    check(
        engine,
        shop,
        "SELECT customer_count, total_balance",
        "SELECT COUNT(*), SUM(balance) FROM customer",
        [(6, 47)],
    )


def test_a_metric_reading_a_missing_parent_leaves_its_rows_out(
    engine: Engine, shop: Project
) -> None:
    # profit reads the offer's cost: line 10/2 (p2, v1) and 12/1 (p1, v2) have no offer, so
    # their profit is NULL and the sum leaves them out, revenue included: AIR is 20 - 6 +
    # 10 - 3 = 21 (not 21 + 20 of line 12/1), RAIL has no line with an offer: NULL
    check(
        engine,
        shop,
        "SELECT ship_mode, revenue, profit",
        """
        SELECT l.mode, SUM(l.qty * l.price), SUM(l.qty * l.price - f.cost * l.qty)
        FROM line AS l LEFT JOIN offer AS f ON f.sku = l.sku AND f.vendor = l.vendor
        GROUP BY l.mode
        """,
        [("AIR", 50, 21), ("RAIL", 100, None)],
    )


def test_check_data_says_which_metric_loses_rows(shop: Project) -> None:
    found = {d.code: d for d in shop.check_data()}
    lost = found["SEM440"]
    assert lost.severity == "warning"
    assert lost.message == (
        "metric 'profit' reads offer through line -> offer: 2 of its 4 rows of 'line' (50.0%) "
        "have no match there, so the metric's expression is NULL for them and profit leaves "
        "them out"
    )
    assert lost.span is not None and lost.span.file == "glossary/g.yml"
    nulls = found["SEM439"]
    assert nulls.severity == "error"
    assert nulls.message.startswith("3 row(s) of 'customer' have a NULL in the primary key id")
    assert nulls.span is not None and nulls.span.file == "models/m.yml"


def test_a_duplicate_key_counts_each_row_over_a_fan_out_as_in_the_total(
    tmp_path: Path,
) -> None:
    """A customer row loaded twice is two rows everywhere (the total counts both), and the
    query says that the key is broken (SEM441) rather than merging them in some groups."""
    tables = dict(TABLES)
    columns, rows = TABLES["customer"]
    tables["customer"] = (columns, (*rows, (2, "c7", "B", 20)))
    project = tiny_project(tmp_path, MODEL, GLOSSARY, tables)
    query = "SELECT ship_mode, customer_count ORDER BY ship_mode"
    by_mode = project.query(query).to_pylist()
    assert [tuple(r.values()) for r in by_mode] == [("AIR", 3), ("RAIL", 1), (None, 4)]
    # the NULL ids, and id 2 twice
    warnings = project.query_warnings(query)
    assert [w.code for w in warnings] == ["SEM441", "SEM441"]
    assert all("this query reads 'customer'" in w.message for w in warnings)
    assert Decimal(project.query("SELECT customer_count").to_pylist()[0]["customer_count"]) == 7
