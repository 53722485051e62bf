"""The meaning `reference_constructs.py` gives ranks, every period, semi-additive metrics
and paths chosen in the query, pinned against SQL written by hand on the TPC-H tables (so
that test_constructs.py compares the compiler with a reference that is itself checked)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from tests.differential.reference import Cmp, Dim, Lit, Metric, Order, Query, Reference
from tests.differential.reference_constructs import (
    Bound,
    Spine,
    evaluate_ranked,
    evaluate_semi,
    fill_periods,
    via,
    with_via,
)
from tests.differential.test_constructs import FUNCTIONS, _ties, check
from tests.differential.test_differential import d

# --- the reference, pinned against hand-written SQL -----------------------------------------

REGION = """
    JOIN customer ON o_custkey = c_custkey
    JOIN nation ON c_nationkey = n_nationkey
    JOIN region ON n_regionkey = r_regionkey
"""


def pinned(
    con: duckdb.DuckDBPyConnection, shape: Query, sql: str, expected: list[tuple[Any, ...]]
) -> None:
    """The reference's rows (`expected`) are those of `sql`."""
    by_hand = [tuple(row) for row in con.execute(sql).fetchall()]
    assert by_hand, "the hand-written SQL should find rows"
    check(shape, sql, {}, expected, by_hand)


def test_reference_semi_additive(reference: Reference, tpch_sql: duckdb.DuckDBPyConnection) -> None:
    """Each region's orders of its last order date, their value summed; the average over
    the dates of each date's count."""
    query = Query((Dim("customer_region"), Metric("order_value_last"), Metric("orders_average")))
    pinned(
        tpch_sql,
        query,
        f"""
        WITH o AS (SELECT r_name, o_orderdate, o_totalprice FROM orders {REGION}),
        days AS (SELECT r_name, o_orderdate, count(*) AS n FROM o GROUP BY ALL)
        SELECT r_name, sum(o_totalprice),
               (SELECT avg(n) FROM days WHERE days.r_name = o.r_name)
        FROM o WHERE o_orderdate = (SELECT max(o_orderdate) FROM o AS t WHERE t.r_name = o.r_name)
        GROUP BY r_name
        """,
        evaluate_semi(reference, query),
    )


def test_reference_ranks(reference: Reference, tpch_sql: duckdb.DuckDBPyConnection) -> None:
    for function in FUNCTIONS:
        ranked = _ties(function)
        tie_break = ", r_name, l_returnflag, o_orderstatus" if function == "ROW_NUMBER" else ""
        pinned(
            tpch_sql,
            Query((*ranked.base.columns, Metric("r")), order=(Order(1),)),
            f"""
            SELECT * FROM (
                SELECT r_name, l_returnflag, o_orderstatus, count(*) AS n,
                       {function}() OVER (
                           PARTITION BY r_name ORDER BY l_returnflag DESC{tie_break}) AS r
                FROM lineitem JOIN orders ON l_orderkey = o_orderkey {REGION}
                GROUP BY 1, 2, 3)
            WHERE r <= 3 ORDER BY r_name, r, l_returnflag, o_orderstatus
            """,
            evaluate_ranked(reference, ranked, reference.evaluate),
        )


def test_reference_via(reference: Reference, tpch_sql: duckdb.DuckDBPyConnection) -> None:
    """Orders by the nations of their lines' suppliers: each order once per nation."""
    query = Query((via("customer_nation", "supplier"), Metric("order_count")))
    reference = with_via(reference)
    pinned(
        tpch_sql,
        query,
        """
        SELECT n_name, count(DISTINCT o_orderkey)
        FROM orders LEFT JOIN lineitem ON l_orderkey = o_orderkey
        LEFT JOIN supplier ON l_suppkey = s_suppkey
        LEFT JOIN nation ON s_nationkey = n_nationkey
        GROUP BY n_name
        """,
        reference.evaluate(query),
    )


def test_reference_every_period(reference: Reference, tpch_sql: duckdb.DuckDBPyConnection) -> None:
    """French customers' orders of 1995 by month, every month: a series left-joined."""
    bound = Bound("order_date", "=", dt.date(1995, 1, 1), grain="year")
    query = Query(
        (Dim("order_date", "month"), Dim("market_segment"), Metric("order_count")),
        (bound.condition(), Cmp("=", d("customer_nation"), Lit("FRANCE"))),
    )
    spine = Spine("order_date", "month")
    rows = fill_periods(reference, query, spine, (bound,), reference.evaluate(query), lambda m: 0)
    assert any(row[2] == 0 for row in rows)
    pinned(
        tpch_sql,
        query,
        f"""
        WITH o AS (
            SELECT date_trunc('month', o_orderdate)::DATE AS m, c_mktsegment, o_orderkey
            FROM orders {REGION}
            WHERE n_name = 'FRANCE' AND year(o_orderdate) = 1995),
        months AS (
            SELECT m::DATE AS m
            FROM generate_series(DATE '1995-01-01', DATE '1995-12-01', INTERVAL 1 MONTH) s(m)),
        segments AS (SELECT DISTINCT c_mktsegment FROM o)
        SELECT months.m, segments.c_mktsegment, count(o.o_orderkey)
        FROM months CROSS JOIN segments
        LEFT JOIN o ON o.m = months.m AND o.c_mktsegment = segments.c_mktsegment
        GROUP BY ALL
        """,
        rows,
    )
