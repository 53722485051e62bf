"""The business query language on TPC-H, each query checked against hand-written SQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from semantic.project import Project
from tests.compare import assert_same_rows
from tests.projects import write_data, write_project

# (business query, hand-written SQL giving the same rows in the same order)
CASES = {
    "grain-quarter": (
        "SELECT order_date.quarter, order_count WHERE order_date < DATE '1993-01-01' ORDER BY 1",
        "SELECT date_trunc('quarter', o_orderdate)::DATE, count(*) FROM orders "
        "WHERE o_orderdate < DATE '1993-01-01' GROUP BY 1 ORDER BY 1",
    ),
    "grain-week-of-lines": (
        "SELECT ship_date.week, line_count WHERE ship_date < DATE '1992-02-15' ORDER BY 1",
        "SELECT date_trunc('week', l_shipdate)::DATE, count(*) FROM lineitem "
        "WHERE l_shipdate < DATE '1992-02-15' GROUP BY 1 ORDER BY 1",
    ),
    "function-on-dimension": (
        "SELECT year(order_date) AS y, order_value ORDER BY y DESC",
        "SELECT year(o_orderdate), sum(o_totalprice) FROM orders GROUP BY 1 ORDER BY 1 DESC",
    ),
    "having-on-metric": (
        "SELECT customer_nation, order_count WHERE order_count > 620 ORDER BY 2 DESC, 1",
        "SELECT n_name, count(*) FROM orders JOIN customer ON o_custkey = c_custkey "
        "JOIN nation ON c_nationkey = n_nationkey GROUP BY 1 HAVING count(*) > 620 "
        "ORDER BY 2 DESC, 1",
    ),
    "having-keyword-and-hidden-order": (
        "SELECT market_segment HAVING customer_count > 0 ORDER BY total_account_balance DESC",
        "SELECT c_mktsegment FROM customer GROUP BY 1 ORDER BY sum(c_acctbal) DESC",
    ),
    "limit-offset": (
        "SELECT part_brand, quantity ORDER BY quantity DESC, part_brand LIMIT 3 OFFSET 2",
        "SELECT p_brand, sum(l_quantity) FROM lineitem JOIN part ON l_partkey = p_partkey "
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3 OFFSET 2",
    ),
    "group-by-agrees": (
        "SELECT ship_mode, line_count GROUP BY ship_mode ORDER BY 1",
        "SELECT l_shipmode, count(*) FROM lineitem GROUP BY 1 ORDER BY 1",
    ),
    "ad-hoc-ratio-across-entities": (
        "SELECT customer_region, line_count / order_count AS lines_per_order ORDER BY 1",
        "SELECT r_name, sum(l.n) / sum(o.n) FROM "
        "(SELECT c_nationkey, count(*) AS n FROM lineitem JOIN orders ON l_orderkey = o_orderkey"
        " JOIN customer ON o_custkey = c_custkey GROUP BY 1) l "
        "JOIN (SELECT c_nationkey, count(*) AS n FROM orders JOIN customer ON o_custkey = c_custkey"
        " GROUP BY 1) o USING (c_nationkey) JOIN nation ON c_nationkey = n_nationkey "
        "JOIN region ON n_regionkey = r_regionkey GROUP BY r_name ORDER BY 1",
    ),
    "profit-through-composite-key": (
        "SELECT supplier_region, profit ORDER BY 1",
        "SELECT r_name, sum(l_extendedprice * (1 - l_discount) - ps_supplycost * l_quantity) "
        "FROM lineitem JOIN partsupp ON l_partkey = ps_partkey AND l_suppkey = ps_suppkey "
        "JOIN supplier ON l_suppkey = s_suppkey JOIN nation ON s_nationkey = n_nationkey "
        "JOIN region ON n_regionkey = r_regionkey GROUP BY 1 ORDER BY 1",
    ),
    "distinct-customers-across-a-path": (
        "SELECT customer_region, customer_count, total_account_balance "
        "WHERE part_type LIKE 'ECONOMY%' AND ship_date >= DATE '1998-01-01' ORDER BY 1",
        "SELECT r_name, count(*), sum(c_acctbal) FROM customer "
        "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey "
        "WHERE c_custkey IN (SELECT o_custkey FROM orders JOIN lineitem ON l_orderkey = "
        "o_orderkey JOIN part ON l_partkey = p_partkey WHERE p_type LIKE 'ECONOMY%' "
        "AND l_shipdate >= DATE '1998-01-01') GROUP BY 1 ORDER BY 1",
    ),
    "orders-grouped-by-line-attribute": (
        "SELECT ship_mode, order_count, order_value, line_count ORDER BY 1",
        "SELECT l_shipmode, count(DISTINCT o_orderkey), "
        "(SELECT sum(o_totalprice) FROM orders o2 WHERE o2.o_orderkey IN "
        "(SELECT l2.l_orderkey FROM lineitem l2 WHERE l2.l_shipmode = l.l_shipmode)), "
        "count(*) FROM lineitem l JOIN orders ON l_orderkey = o_orderkey GROUP BY 1 ORDER BY 1",
    ),
    "inventory-by-part-type-in": (
        "SELECT part_size, inventory_value WHERE part_size IN (1, 2) ORDER BY 1",
        "SELECT p_size, sum(ps_supplycost * ps_availqty) "
        "FROM partsupp JOIN part ON ps_partkey = p_partkey WHERE p_size IN (1, 2) "
        "GROUP BY 1 ORDER BY 1",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_business_query_equals_hand_written_sql(project: Project, name: str) -> None:
    query, sql = CASES[name]
    got = [tuple(r.values()) for r in project.query(query).to_pylist()]
    expected = project.engine.connection.execute(sql).fetchall()
    assert got, "no rows: the comparison would prove nothing"
    assert_same_rows(got, expected)


def test_names_ignore_case_accents_and_spaces(project: Project) -> None:
    a = project.query('SELECT "CHIFFRE D\'AFFAIRES NET", "nombre_de_commandes"').to_pylist()
    b = project.query("SELECT net_revenue, order_count").to_pylist()
    assert [tuple(r.values()) for r in a] == [tuple(r.values()) for r in b]
    c = project.query('SELECT "Region client", ca ORDER BY 1').to_pylist()
    d = project.query("SELECT customer_region, net_revenue ORDER BY 1").to_pylist()
    assert [tuple(r.values()) for r in c] == [tuple(r.values()) for r in d]


SEGMENTS_MODEL = """
entities:
  customers:
    primary_key: [id]
    columns: {id: {type: integer}, balance: {type: integer}, country: {type: varchar}}
  orders:
    primary_key: [id]
    columns: {id: {type: integer}, customer_id: {type: integer}, amount: {type: integer}}
    relationships:
      - {to: customers, cardinality: many_to_one, keys: {customer_id: id}}
"""

SEGMENTS_GLOSSARY = """
domain: sales
terms:
  country: {label: {en: Country}, dimension: {entity: customers, expr: country}}
  revenue: {label: {en: Revenue}, metric: {entity: orders, expr: sum(amount)}}
  big_orders:
    label: {en: Big orders, fr: Grosses commandes}
    segment: {entity: orders, condition: amount >= 100}
  rich_customers:
    label: {en: Rich customers}
    segment: {entity: customers, condition: balance > 1000}
"""


def test_segments_filter_rows_on_their_own_entity_or_another(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/m.yml": SEGMENTS_MODEL, "glossary/g.yml": SEGMENTS_GLOSSARY})
    write_data(
        tmp_path,
        {
            "customers": "SELECT * FROM (VALUES (1, 5000, 'FR'), (2, 10, 'FR'), (3, 2000, 'DE')) "
            "t(id, balance, country)",
            "orders": "SELECT * FROM (VALUES (1, 1, 150), (2, 1, 20), (3, 2, 300), (4, 3, 99)) "
            "t(id, customer_id, amount)",
        },
    )
    project = Project.load(tmp_path)
    rows = project.query("SELECT country, revenue WHERE big_orders ORDER BY 1").to_pylist()
    assert [tuple(r.values()) for r in rows] == [("FR", 450)]
    rows = project.query(
        'SELECT country, revenue WHERE rich_customers AND NOT "Grosses commandes" ORDER BY 1'
    ).to_pylist()
    assert [tuple(r.values()) for r in rows] == [("DE", 99), ("FR", 20)]


def test_grain_and_label_keys_across_entities(project: Project) -> None:
    """Regression: key names such as `order_date.year` or `Région client` in the combined
    query (union of keys) were once parsed as table.column and failed."""
    got = project.query(
        'SELECT order_date.year, "Région client", order_count, net_revenue '
        "WHERE order_date < DATE '1994-01-01' ORDER BY 1, 2"
    )
    expected = project.engine.connection.execute(
        """
        WITH o AS (SELECT date_trunc('year', o_orderdate)::DATE AS y, r_name, count(*) AS n
            FROM orders JOIN customer ON o_custkey = c_custkey
            JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey
            WHERE o_orderdate < DATE '1994-01-01' GROUP BY 1, 2),
        l AS (SELECT date_trunc('year', o_orderdate)::DATE AS y, r_name,
                     sum(l_extendedprice * (1 - l_discount)) AS rev
            FROM lineitem JOIN orders ON l_orderkey = o_orderkey
            JOIN customer ON o_custkey = c_custkey
            JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey
            WHERE o_orderdate < DATE '1994-01-01' GROUP BY 1, 2)
        SELECT y, r_name, n, rev FROM o JOIN l USING (y, r_name) ORDER BY 1, 2"""
    ).fetchall()
    assert got.column_names == ["order_date.year", "Région client", "order_count", "net_revenue"]
    assert_same_rows([tuple(r.values()) for r in got.to_pylist()], expected)
    assert len(expected) == 10
