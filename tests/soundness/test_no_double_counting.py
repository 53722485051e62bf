"""Metrics of different entities in one query are never multiplied by each other's rows."""

from __future__ import annotations

from pathlib import Path

from semantic.project import Project
from tests.compare import assert_same_rows
from tests.projects import write_data, write_project


def test_orders_and_lines_by_region_equal_separate_aggregates(project: Project) -> None:
    """The chasm trap on TPC-H: orders and line items aggregated separately, then joined."""
    got = project.query(
        "SELECT customer_region, order_count, order_value, line_count, net_revenue "
        "ORDER BY customer_region"
    )
    expected = project.engine.connection.execute(
        """
        WITH o AS (
            SELECT r_name, count(*) AS order_count, sum(o_totalprice) AS order_value
            FROM orders JOIN customer ON o_custkey = c_custkey
            JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey
            GROUP BY r_name),
        l AS (
            SELECT r_name, count(*) AS line_count,
                   sum(l_extendedprice * (1 - l_discount)) AS net_revenue
            FROM lineitem JOIN orders ON l_orderkey = o_orderkey
            JOIN customer ON o_custkey = c_custkey
            JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey
            GROUP BY r_name)
        SELECT o.r_name, order_count, order_value, line_count, net_revenue
        FROM o JOIN l USING (r_name) ORDER BY r_name
        """
    ).fetchall()
    assert_same_rows([tuple(r.values()) for r in got.to_pylist()], expected)
    # and the naive join, which double counts, really is different: the test can fail
    naive = project.engine.connection.execute(
        "SELECT sum(o_totalprice) FROM orders JOIN lineitem ON l_orderkey = o_orderkey"
    ).fetchone()
    assert naive is not None and naive[0] != sum(r["order_value"] for r in got.to_pylist())


def test_derived_metric_across_entities_divides_the_separate_totals(project: Project) -> None:
    got = project.query("SELECT average_order_value, net_revenue, order_count").to_pylist()[0]
    assert got["average_order_value"] == float(got["net_revenue"]) / got["order_count"]
    totals = project.engine.connection.execute(
        "SELECT (SELECT sum(l_extendedprice * (1 - l_discount)) FROM lineitem), "
        "(SELECT count(*) FROM orders)"
    ).fetchone()
    assert totals is not None and (got["net_revenue"], got["order_count"]) == totals


TINY_MODEL = """
entities:
  customers:
    primary_key: [id]
    columns: {id: {type: integer}, segment: {type: varchar}}
  orders:
    primary_key: [id]
    columns: {id: {type: integer}, customer_id: {type: integer}, amount: {type: integer}}
    relationships:
      - {to: customers, cardinality: many_to_one, keys: {customer_id: id}}
  items:
    primary_key: [order_id, n]
    columns: {order_id: {type: integer}, n: {type: integer}, price: {type: integer}}
    relationships:
      - {to: orders, cardinality: many_to_one, keys: {order_id: id}}
"""

TINY_GLOSSARY = """
domain: sales
terms:
  segment: {label: {en: Segment}, dimension: {entity: customers, expr: segment}}
  order_total: {label: {en: Order total}, metric: {entity: orders, expr: sum(amount)}}
  order_count: {label: {en: Order count}, metric: {entity: orders, expr: count(*)}}
  item_total: {label: {en: Item total}, metric: {entity: items, expr: sum(price)}}
"""


def tiny_project(tmp_path: Path) -> Project:
    """Customers A (2 orders, 3 items), B (1 order, no item), C (none); an order without
    customer (1 item)."""
    write_project(tmp_path, {"models/m.yml": TINY_MODEL, "glossary/g.yml": TINY_GLOSSARY})
    write_data(
        tmp_path,
        {
            "customers": "SELECT * FROM (VALUES (1, 'A'), (2, 'B'), (3, 'C')) t(id, segment)",
            "orders": "SELECT * FROM (VALUES (10, 1, 100), (11, 1, 50), (12, 2, 70), (13, NULL, 5))"
            " t(id, customer_id, amount)",
            "items": "SELECT * FROM (VALUES (10, 1, 30), (10, 2, 40), (11, 1, 20), (13, 1, 9))"
            " t(order_id, n, price)",
        },
    )
    return Project.load(tmp_path)


def test_chasm_keeps_groups_present_on_one_side_only(tmp_path: Path) -> None:
    project = tiny_project(tmp_path)
    got = project.query("SELECT segment, order_total, order_count, item_total ORDER BY segment")
    # by hand: A has orders 10 (100) and 11 (50) with items 30+40 and 20; B has order 12
    # (70) and no item; the order without customer (5, one item of 9) is the NULL group.
    assert [tuple(r.values()) for r in got.to_pylist()] == [
        ("A", 150, 2, 90),
        ("B", 70, 1, None),
        (None, 5, 1, 9),
    ]


def test_rows_without_a_match_are_not_dropped(tmp_path: Path) -> None:
    project = tiny_project(tmp_path)
    total = project.query("SELECT order_total").to_pylist()[0]["order_total"]
    by_segment = project.query("SELECT segment, order_total").to_pylist()
    assert total == 225 == sum(r["order_total"] for r in by_segment)


def test_duplicate_keys_on_the_one_side_are_reported(tmp_path: Path) -> None:
    """A customer id that appears twice would double every order joined to it: the model's
    promise (many_to_one) is checked against the data by `semantic check --data`."""
    tiny_project(tmp_path)
    write_data(
        tmp_path,
        {
            "customers": "SELECT * FROM (VALUES (1, 'A'), (1, 'A2'), (2, 'B')) t(id, segment)",
            "orders": "SELECT * FROM (VALUES (10, 1, 100), (11, 1, 50), (12, 2, 70), "
            "(13, NULL, 5), (14, 9, 1)) t(id, customer_id, amount)",
        },
    )
    found = {d.code: d for d in Project.load(tmp_path).check(data=True)}
    assert set(found) == {"SEM406", "SEM407"}
    assert found["SEM406"].severity == "error"
    assert found["SEM406"].message.startswith(
        "1 value(s) of id appear more than once in 'customers' (e.g. 1)"
    )
    # order 13 has no customer at all (NULL is not an orphan); order 14 points to customer 9
    assert found["SEM407"].severity == "warning"
    assert found["SEM407"].message.startswith("1 row(s) of 'orders' have a customer_id with no")


def test_division_by_zero_is_null_not_nan(project: Project) -> None:
    """Found by the differential test: a ratio of two empty groups (0 revenue / 0 orders,
    both filled with 0) gave NaN on DuckDB. Division by zero is NULL in every dialect."""
    got = project.query(
        "SELECT customer_region, order_count, "
        "MEASURE(net_revenue) FILTER (WHERE market_segment = 'NONE') "
        "/ MEASURE(order_count) FILTER (WHERE market_segment = 'NONE') AS ratio ORDER BY 1"
    ).to_pylist()
    assert len(got) == 5 and all(r["order_count"] > 0 for r in got)
    assert [r["ratio"] for r in got] == [None] * 5
