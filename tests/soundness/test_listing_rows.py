"""Which rows a list of values (a query of dimensions alone, `compiler.listing`) lists: the
rows of the one entity its dimensions and row conditions are read from through to-one
relationships, and nothing else. A value the same for every row (the grand total, `PER
(ALL)`, alone in a condition, in SELECT or ORDER BY; a saved metric that is one) keeps all
the rows or none, and never makes the query list the rows of the metric inside it; a metric
at another grain of the groups (`PER (dimension)`) is read beside the list; a value per
entity (`PER (customers)`, saved or written) is a column of its entity; an existence tests
the listed rows, and names their entity by its anchor only (the dimension of its second
argument).

Found by a teammate: `SELECT customer_key WHERE MEASURE(revenue) PER (ALL) > 0` listed the
customers with orders only (the grand total's metric made the query one of revenue by
customer), while `WHERE 1 > 0` listed every customer.

Each case is checked against hand-written SQL on small fixed tables (a customer without
orders, an order of no known customer, an order without lines, a line of no known order)
on DuckDB, SQLite and PostgreSQL (when SEMANTIC_TEST_POSTGRES is set).

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import duckdb
import pytest

from semantic.errors import SemanticError
from semantic.project import Project
from tests.compare import assert_same_rows
from tests.projects import write_project
from tests.services import postgres_url  # noqa: F401 (a fixture)

MODEL = """
entities:
  customers:
    primary_key: [customer_id]
    columns:
      customer_id: {type: integer}
      segment: {type: varchar}
      balance: {type: integer}
  orders:
    primary_key: [order_id]
    columns: {order_id: {type: integer}, customer_id: {type: integer}, status: {type: varchar}}
    relationships:
      - {to: customers, cardinality: many_to_one, keys: {customer_id: customer_id}}
  lines:
    primary_key: [line_id]
    columns: {line_id: {type: integer}, order_id: {type: integer}, amount: {type: integer}}
    relationships:
      - {to: orders, cardinality: many_to_one, keys: {order_id: order_id}}
"""

GLOSSARY = """
domain: shop
terms:
  customer_key: {label: {en: Customer}, dimension: {entity: customers, expr: customer_id}}
  segment: {label: {en: Segment}, dimension: {entity: customers, expr: segment}}
  balance: {label: {en: Balance}, dimension: {entity: customers, expr: balance}}
  order_key: {label: {en: Order}, dimension: {entity: orders, expr: order_id}}
  status: {label: {en: Status}, dimension: {entity: orders, expr: status}}
  amount: {label: {en: Amount}, dimension: {entity: lines, expr: amount}}
  revenue: {label: {en: Revenue}, metric: {entity: lines, expr: sum(amount)}}
  order_count: {label: {en: Orders}, metric: {entity: orders, expr: count(*)}}
  customer_order_count:
    label: {en: Orders of the customer}
    dimension: {entity: customers, expr: MEASURE(order_count) PER (customers)}
  grand_revenue:
    label: {en: Revenue of all}
    metric: {expr: MEASURE(revenue) PER (ALL)}
"""

TABLES = {
    "customers": (
        "customer_id INTEGER, segment VARCHAR, balance INTEGER",
        # 3 has no orders; 4 has an order without lines
        [(1, "a", 10), (2, "b", -5), (3, "a", 0), (4, "c", 7)],
    ),
    "orders": (
        "order_id INTEGER, customer_id INTEGER, status VARCHAR",
        # 13 is of no known customer; 14 has no lines
        [(10, 1, "F"), (11, 1, "O"), (12, 2, "F"), (13, 99, "F"), (14, 4, "O")],
    ),
    "lines": (
        "line_id INTEGER, order_id INTEGER, amount INTEGER",
        # 105 is of no known order
        [(100, 10, 5), (101, 10, 1), (102, 11, 8), (103, 12, 2), (104, 13, 6), (105, 77, 3)],
    ),
}

TOTAL = "(SELECT SUM(amount) FROM lines)"
PER_CUSTOMER = (
    "(SELECT o.customer_id, SUM(l.amount) AS r FROM lines l JOIN orders o "
    "ON l.order_id = o.order_id GROUP BY o.customer_id)"
)
ORDERS_OF = "(SELECT customer_id, COUNT(*) AS n FROM orders GROUP BY customer_id)"

#: (business query, hand-written SQL giving the same rows)
CASES = {
    # a value the same for every row keeps all the rows or none
    "a grand total alone in WHERE, true": (
        "SELECT customer_key WHERE MEASURE(revenue) PER (ALL) > 0",
        f"SELECT customer_id FROM customers WHERE {TOTAL} > 0",
    ),
    "a grand total alone in WHERE, false": (
        "SELECT customer_key WHERE MEASURE(revenue) PER (ALL) > 1000",
        f"SELECT customer_id FROM customers WHERE {TOTAL} > 1000",
    ),
    "a grand total in HAVING": (
        "SELECT segment HAVING MEASURE(revenue) PER (ALL) > 0",
        "SELECT DISTINCT segment FROM customers",
    ),
    "a filtered grand total, under the query's WHERE": (
        "SELECT customer_key WHERE segment = 'a' "
        "AND MEASURE(revenue) FILTER (WHERE status = 'F') PER (ALL) > 5",
        "SELECT customer_id FROM customers WHERE segment = 'a' AND (SELECT SUM(amount) "
        "FROM lines l JOIN orders o ON l.order_id = o.order_id JOIN customers c "
        "ON o.customer_id = c.customer_id WHERE c.segment = 'a' AND o.status = 'F') > 5",
    ),
    "a grand total selected": (
        "SELECT customer_key, MEASURE(revenue) PER (ALL) AS total",
        f"SELECT customer_id, {TOTAL} FROM customers",
    ),
    "a grand total in ORDER BY": (
        "SELECT customer_key ORDER BY MEASURE(revenue) PER (ALL), customer_key",
        "SELECT customer_id FROM customers ORDER BY 1",
    ),
    "a saved grand total": (
        "SELECT segment WHERE grand_revenue > 0",
        f"SELECT DISTINCT segment FROM customers WHERE {TOTAL} > 0",
    ),
    "a grand total next to a dimension": (
        "SELECT customer_key WHERE balance > MEASURE(revenue) PER (ALL) - 30",
        f"SELECT customer_id FROM customers WHERE balance > {TOTAL} - 30",
    ),
    # a metric at another grain of the groups is read beside them
    "a metric per a selected dimension": (
        "SELECT segment, MEASURE(revenue) PER (segment) AS r",
        "SELECT DISTINCT c.segment, (SELECT SUM(l.amount) FROM lines l JOIN orders o "
        "ON l.order_id = o.order_id JOIN customers d ON o.customer_id = d.customer_id "
        "WHERE d.segment = c.segment) FROM customers c",
    ),
    "a condition on a metric by the query's dimensions but one": (
        "SELECT customer_key, segment WHERE MEASURE(revenue) PER (* EXCLUDE customer_key) > 5",
        "SELECT c.customer_id, c.segment FROM customers c WHERE (SELECT SUM(l.amount) "
        "FROM lines l JOIN orders o ON l.order_id = o.order_id JOIN customers d "
        "ON o.customer_id = d.customer_id WHERE d.segment = c.segment) > 5",
    ),
    # a value per entity is a column of its entity
    "a value per customer": (
        "SELECT customer_key WHERE MEASURE(order_count) PER (customers) >= 0",
        "SELECT customer_id FROM customers",
    ),
    "a value per customer that keeps some": (
        "SELECT customer_key, segment WHERE MEASURE(revenue) PER (customers) > 3",
        f"SELECT c.customer_id, segment FROM customers c JOIN {PER_CUSTOMER} p "
        "ON c.customer_id = p.customer_id WHERE p.r > 3",
    ),
    "a saved value per customer": (
        "SELECT segment WHERE customer_order_count = 0",
        f"SELECT DISTINCT segment FROM customers c LEFT JOIN {ORDERS_OF} n "
        "ON c.customer_id = n.customer_id WHERE COALESCE(n.n, 0) = 0",
    ),
    # an existence tests the listed rows
    "an existence of any order": (
        "SELECT customer_key WHERE EXISTS(order_key)",
        "SELECT customer_id FROM customers c WHERE EXISTS "
        "(SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id)",
    ),
    "no order": (
        "SELECT customer_key WHERE NOT EXISTS(order_key)",
        "SELECT customer_id FROM customers c WHERE NOT EXISTS "
        "(SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id)",
    ),
    "no large line, about the customer": (
        "SELECT segment WHERE NOT EXISTS(amount > 4)",
        "SELECT DISTINCT segment FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o "
        "JOIN lines l ON l.order_id = o.order_id WHERE o.customer_id = c.customer_id "
        "AND l.amount > 4)",
    ),
    "no large line, about the order (its anchor)": (
        "SELECT segment WHERE NOT EXISTS(amount > 4, order_key)",
        "SELECT DISTINCT c.segment FROM orders o LEFT JOIN customers c "
        "ON o.customer_id = c.customer_id WHERE NOT EXISTS (SELECT 1 FROM lines l "
        "WHERE l.order_id = o.order_id AND l.amount > 4)",
    ),
}

#: conditions true for every row: each leaves the list as it is without them
ALWAYS = [
    "1 > 0",
    "MEASURE(revenue) PER (ALL) > 0",
    "MEASURE(revenue) PER (ALL) IS NOT NULL",
    "grand_revenue > 0",
    "MEASURE(order_count) PER (customers) >= 0",
    "customer_order_count >= 0",
    "(EXISTS(order_key) OR NOT EXISTS(order_key))",
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("listing-rows")
    return Project.load(write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY}))


def _fill(con: Any, mark: str) -> None:
    for name, (columns, rows) in TABLES.items():
        con.execute(f"CREATE TABLE {name} ({columns})")
        marks = ", ".join(mark for _ in rows[0])
        cursor = con.cursor()
        cursor.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)


@pytest.fixture(scope="module")
def duck() -> Any:
    con = duckdb.connect()
    _fill(con, "?")
    return con


@pytest.fixture(scope="module")
def lite() -> sqlite3.Connection:
    con = sqlite3.connect(":memory:")
    _fill(con, "?")
    return con


@pytest.mark.parametrize("name", list(CASES))
def test_a_list_lists_its_entitys_rows(
    shop: Project, duck: Any, lite: sqlite3.Connection, name: str
) -> None:
    query, sql = CASES[name]
    want = duck.execute(sql).fetchall()
    ordered = "ORDER BY" in query
    assert_same_rows(duck.execute(shop.compile(query)).fetchall(), want, ordered=ordered)
    got = lite.execute(shop.compile(query, "sqlite")).fetchall()
    assert_same_rows(got, want, ordered=ordered)


@pytest.mark.parametrize("condition", ALWAYS)
@pytest.mark.parametrize("listed", ["customer_key", "segment", "customer_key, segment"])
def test_a_condition_true_of_every_row_changes_no_row(
    shop: Project, duck: Any, condition: str, listed: str
) -> None:
    plain = duck.execute(shop.compile(f"SELECT {listed}")).fetchall()
    assert len(plain) >= 3
    got = duck.execute(shop.compile(f"SELECT {listed} WHERE {condition}")).fetchall()
    assert_same_rows(got, plain, ordered=False)


def test_the_same_on_postgres(shop: Project, postgres_url: str) -> None:  # noqa: F811
    import psycopg

    schema = f"listing_rows_{uuid.uuid4().hex[:12]}"
    connection = psycopg.connect(postgres_url, autocommit=True)
    connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        connection.execute(f'SET search_path TO "{schema}"')
        _fill(connection, "%s")
        duck = duckdb.connect()
        _fill(duck, "?")
        for query, sql in CASES.values():
            got = connection.execute(shop.compile(query, "postgres")).fetchall()
            want = duck.execute(sql).fetchall()
            assert_same_rows(got, want, ordered="ORDER BY" in query)
    finally:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        connection.close()


def test_an_existence_the_rows_cannot_test_is_its_own_error(shop: Project) -> None:
    """An existence over a to-one path is SEM355 in a list as with a metric, not SEM371."""
    with pytest.raises(SemanticError) as caught:
        shop.compile("SELECT status WHERE EXISTS(customer_key)")
    assert caught.value.code == "SEM355", caught.value
