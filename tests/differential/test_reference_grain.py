"""The reference's metrics at another grain, per entity and existence (`reference_grain`),
pinned against SQL written here by hand on the TPC-H tables: the differential test trusts
the reference, so its meaning of each construct is checked once without the compiler."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb

from tests.differential.reference import And, Cmp, D, Dim, Lit, Metric, Query, Reference
from tests.differential.reference_grain import (
    EXCLUDE,
    NAMED,
    Any_,
    Band,
    Exists,
    GrainHaving,
    GrainMetric,
    This,
    Times,
    per_entity,
)
from tests.differential.test_differential import REGION_OF_CUSTOMER, pin


def d(term: str) -> D:
    return D(Dim(term))


def test_share_of_a_total_under_the_where(
    reference: Reference, tpch_sql: duckdb.DuckDBPyConnection
) -> None:
    """Orders with an AIR line by region and segment, over those of the region (EXCLUDE)."""
    query = Query(
        (
            Dim("customer_region"),
            Dim("market_segment"),
            Metric("order_count"),
            GrainMetric(
                "order_count", None, "share_of", False, EXCLUDE, (Dim("market_segment"),), True
            ),
        ),
        (Cmp("=", d("ship_mode"), Lit("AIR")),),
    )
    pin(
        reference,
        tpch_sql,
        query,
        f"""
        WITH o AS (
            SELECT r_name, c_mktsegment FROM orders {REGION_OF_CUSTOMER}
            WHERE EXISTS (SELECT 1 FROM lineitem WHERE l_orderkey = o_orderkey
                          AND l_shipmode = 'AIR'))
        SELECT r_name, c_mktsegment, count(*), count(*) / any_value(total)
        FROM (SELECT *, count(*) OVER (PARTITION BY r_name) AS total FROM o)
        GROUP BY r_name, c_mktsegment
        """,
    )


def test_a_filtered_metric_at_a_grain_with_groups_of_its_own(
    reference: Reference, tpch_sql: duckdb.DuckDBPyConnection
) -> None:
    """A nation whose customers have no urgent order of March 1995 shows 0 (a count over no
    rows), next to its customers."""
    urgent = And(
        (
            Cmp("=", d("order_priority"), Lit("1-URGENT")),
            Cmp("=", D(Dim("order_date", "month")), Lit(dt.date(1995, 3, 1))),
        )
    )
    nation = Dim("customer_nation")
    query = Query(
        (
            nation,
            Metric("customer_count"),
            GrainMetric("order_count", urgent, "at_grain", False, NAMED, (nation,)),
        )
    )
    pin(
        reference,
        tpch_sql,
        query,
        """
        SELECT n_name, count(*),
               (SELECT count(*) FROM orders JOIN customer c2 ON o_custkey = c2.c_custkey
                WHERE c2.c_nationkey = n_nationkey AND o_orderpriority = '1-URGENT'
                  AND date_trunc('month', o_orderdate) = DATE '1995-03-01')
        FROM customer JOIN nation ON c_nationkey = n_nationkey
        GROUP BY n_name, n_nationkey
        """,
    )
    assert any(row[2] == 0 for row in reference.evaluate(query))


def test_groups_kept_by_a_share_of_the_total(
    reference: Reference, tpch_sql: duckdb.DuckDBPyConnection
) -> None:
    query = Query(
        (Dim("part_brand"), Metric("quantity")),
        having=(GrainHaving("quantity", ">", Decimal("0.0517")),),
    )
    pin(
        reference,
        tpch_sql,
        query,
        """
        SELECT p_brand, sum(l_quantity) FROM lineitem JOIN part ON l_partkey = p_partkey
        GROUP BY p_brand
        HAVING sum(l_quantity) > 0.0517 * (SELECT sum(l_quantity) FROM lineitem)
        """,
    )


def test_bands_of_a_metric_per_customer(
    reference: Reference, tpch_sql: duckdb.DuckDBPyConnection
) -> None:
    band = Band("customer_key", per=per_entity("order_count", "customer"), cuts=(1, 10))
    query = Query((band, Metric("customer_count")))
    pin(
        reference,
        tpch_sql,
        query,
        """
        SELECT CASE WHEN n < 1 THEN 'low' WHEN n < 10 THEN 'mid' ELSE 'high' END, count(*)
        FROM (SELECT c_custkey, (SELECT count(*) FROM orders WHERE o_custkey = c_custkey) AS n
              FROM customer)
        GROUP BY 1
        """,
    )


def test_lines_below_a_fifth_of_their_parts_average(
    reference: Reference, tpch_sql: duckdb.DuckDBPyConnection
) -> None:
    """TPC-H Q17's condition, the average over all the part's lines whatever the WHERE."""
    small = Cmp(
        "<",
        d("line_quantity"),
        Times(Lit(Decimal("0.2")), D(per_entity("average_quantity", "part"))),
    )
    query = Query(
        (Dim("ship_mode"), Metric("line_count")), (small, Cmp("=", d("return_flag"), Lit("R")))
    )
    pin(
        reference,
        tpch_sql,
        query,
        """
        SELECT l_shipmode, count(*) FROM lineitem AS l
        WHERE l_returnflag = 'R' AND l_quantity < 0.2 * (
            SELECT avg(l_quantity) FROM lineitem AS p WHERE p.l_partkey = l.l_partkey)
        GROUP BY l_shipmode
        """,
    )


def test_lines_waiting_in_orders_of_several_suppliers(
    reference: Reference, tpch_sql: duckdb.DuckDBPyConnection
) -> None:
    """TPC-H Q21's existences: another supplier's line in the order, no late one."""
    other = Cmp("<>", d("supplier_key"), This(Dim("supplier_key")))
    late = Cmp(">", d("receipt_date"), d("commit_date"))
    query = Query(
        (Dim("supplier_region"), Metric("line_count")),
        (
            late,
            Exists(other, Dim("order_key")),
            Exists(And((other, late)), Dim("order_key"), "NOT EXISTS"),
        ),
    )
    pin(
        reference,
        tpch_sql,
        query,
        """
        SELECT r_name, count(*) FROM lineitem AS l1
        JOIN supplier ON l1.l_suppkey = s_suppkey
        JOIN nation ON s_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey
        WHERE l1.l_receiptdate > l1.l_commitdate
          AND EXISTS (SELECT 1 FROM lineitem l2
                      WHERE l2.l_orderkey = l1.l_orderkey AND l2.l_suppkey <> l1.l_suppkey)
          AND NOT EXISTS (SELECT 1 FROM lineitem l3
                          WHERE l3.l_orderkey = l1.l_orderkey AND l3.l_suppkey <> l1.l_suppkey
                            AND l3.l_receiptdate > l3.l_commitdate)
        GROUP BY r_name
        """,
    )


def test_customers_without_orders_and_orders_all_by_air(
    reference: Reference, tpch_sql: duckdb.DuckDBPyConnection
) -> None:
    query = Query(
        (Dim("market_segment"), Metric("customer_count")),
        (Exists(Any_(Dim("order_key")), None, "NOT EXISTS"),),
    )
    pin(
        reference,
        tpch_sql,
        query,
        """
        SELECT c_mktsegment, count(*) FROM customer
        WHERE NOT EXISTS (SELECT 1 FROM orders WHERE o_custkey = c_custkey)
        GROUP BY c_mktsegment
        """,
    )
    modes = Cmp("=", d("return_flag"), Lit("R"))
    query = Query((Dim("order_priority"), Metric("order_count")), (Exists(modes, None, "ALL"),))
    pin(
        reference,
        tpch_sql,
        query,
        """
        SELECT o_orderpriority, count(*) FROM orders
        WHERE (SELECT count(*) FILTER (WHERE l_returnflag = 'R') FROM lineitem
               WHERE l_orderkey = o_orderkey)
            = (SELECT count(*) FROM lineitem WHERE l_orderkey = o_orderkey)
        GROUP BY o_orderpriority
        """,
    )
