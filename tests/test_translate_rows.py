"""`semantic translate` reading values of rows in row conditions (compiler.translaterows):
a scalar subquery per an entity's key (`PER (entity)`, over joined tables, with its FILTER),
an uncorrelated one (`PER (ALL)`), `NOT EXISTS` on a key, semi-joins inside semi-joins, and
lists of values. Each translation is run next to its SQL on DuckDB and the rows compared."""

from __future__ import annotations

import pytest

from semantic.project import Project
from tests.test_translate import official


def test_tpch_q2_q20_q22_official_texts(project: Project) -> None:
    """The three official texts translate to the business queries of the suite, and their
    rows are equal (the suite's own comparison: test_translate)."""
    expected = {
        "q02": "supply_cost = MEASURE(minimum_supply_cost) FILTER(WHERE supplier_region = "
        "'EUROPE') PER (part)",
        "q20": "MEASURE(line_count) FILTER(WHERE ship_date >= CAST('1994-01-01' AS DATE) AND "
        "ship_date < CAST('1995-01-01' AS DATE)) PER (partsupp) > 0",
        "q22": "customer_account_balance > MEASURE(average_account_balance) FILTER(WHERE "
        "customer_account_balance > 0.00 AND SUBSTRING(customer_phone, 1, 2) IN ('13', '31', "
        "'23', '29', '30', '18', '17')) PER (ALL) AND NOT EXISTS(order_key, customer_key)",
    }
    for name, fragment in expected.items():
        found = project.translate(official(name))
        assert found.refusal is None, found.refusal
        assert fragment in (found.business or ""), found.business
        assert found.compared and found.equal, found.difference
        assert found.rows is not None and found.rows[0] > 0


#: SQL, its business form; each is run on DuckDB and its rows compared (and not empty)
CASES = [
    (  # a value per part over joined tables, its conditions the FILTER; a list of values
        "SELECT p_name, p_retailprice FROM part WHERE p_size < 5 AND p_retailprice < (SELECT "
        "2 * min(ps_supplycost) FROM partsupp, supplier, nation WHERE ps_partkey = p_partkey "
        "AND ps_suppkey = s_suppkey AND s_nationkey = n_nationkey AND n_name = 'FRANCE') "
        "ORDER BY 1",
        "SELECT part_name, part_retail_price WHERE part_size < 5 AND part_retail_price < 2 * "
        "MEASURE(minimum_supply_cost) FILTER(WHERE supplier_nation = 'FRANCE') PER (part) "
        "ORDER BY part_name",
    ),
    (  # an uncorrelated subquery in WHERE: the grand total with its own FILTER
        "SELECT l_returnflag, count(*) FROM lineitem WHERE l_quantity > (SELECT "
        "avg(l_quantity) FROM lineitem WHERE l_shipmode = 'AIR') GROUP BY l_returnflag",
        "SELECT return_flag, line_count WHERE line_quantity > MEASURE(average_quantity) "
        "FILTER(WHERE ship_mode = 'AIR') PER (ALL)",
    ),
    (  # the same inside a derived table merged into its query
        "SELECT cc, count(*) FROM (SELECT c_mktsegment AS cc FROM customer WHERE c_acctbal > "
        "(SELECT avg(c_acctbal) FROM customer)) AS t GROUP BY cc ORDER BY 1",
        "SELECT market_segment, customer_count WHERE customer_account_balance > "
        "MEASURE(average_account_balance) PER (ALL) ORDER BY market_segment",
    ),
    (  # a sum that fills 0 compared in WHERE: the row needs some orders, as in the SQL
        "SELECT c_mktsegment, count(*) FROM customer WHERE c_acctbal > (SELECT "
        "sum(o_totalprice) / 100 FROM orders WHERE o_custkey = c_custkey) GROUP BY 1",
        "SELECT market_segment, customer_count WHERE customer_account_balance > "
        "MEASURE(order_value) PER (customer) / 100 AND MEASURE(order_count) PER (customer) > 0",
    ),
    (  # NOT EXISTS on the key of a one-to-many relationship, with and without a condition
        "SELECT c_mktsegment, count(*) FROM customer WHERE NOT EXISTS (SELECT * FROM orders "
        "WHERE o_custkey = c_custkey) GROUP BY 1 ORDER BY 1",
        "SELECT market_segment, customer_count WHERE NOT EXISTS(order_key, customer_key) "
        "ORDER BY market_segment",
    ),
    (
        "SELECT o_orderpriority, count(*) FROM orders WHERE NOT EXISTS (SELECT * FROM lineitem "
        "WHERE l_orderkey = o_orderkey AND l_shipmode = 'AIR') GROUP BY 1 ORDER BY 1",
        "SELECT order_priority, order_count WHERE NOT EXISTS(ship_mode = 'AIR', order_key) "
        "ORDER BY order_priority",
    ),
    (  # IN semi-joins inside an IN semi-join, and a value per offer inside
        "SELECT s_name FROM supplier WHERE s_suppkey IN (SELECT ps_suppkey FROM partsupp WHERE "
        "ps_partkey IN (SELECT p_partkey FROM part WHERE p_size = 3) AND ps_availqty > (SELECT "
        "sum(l_quantity) FROM lineitem WHERE l_partkey = ps_partkey AND l_suppkey = ps_suppkey "
        "AND l_shipmode = 'AIR')) ORDER BY 1",
        "SELECT supplier_name WHERE part_size = 3 AND (available_quantity > MEASURE(quantity) "
        "FILTER(WHERE ship_mode = 'AIR') PER (partsupp) AND MEASURE(line_count) FILTER(WHERE "
        "ship_mode = 'AIR') PER (partsupp) > 0) ORDER BY supplier_name",
    ),
    (
        "SELECT s_name FROM supplier WHERE s_suppkey IN (SELECT ps_suppkey FROM partsupp WHERE "
        "ps_partkey NOT IN (SELECT p_partkey FROM part WHERE p_size = 3) AND ps_availqty > "
        "9990) ORDER BY 1",
        "SELECT supplier_name WHERE NOT (part_size = 3) AND available_quantity > 9990 "
        "ORDER BY supplier_name",
    ),
    (  # a list of values: no GROUP BY, no DISTINCT, no aggregate
        "SELECT c_name, c_mktsegment FROM customer WHERE c_acctbal > 9900 ORDER BY c_name",
        "SELECT customer_name, market_segment WHERE customer_account_balance > 9900 "
        "ORDER BY customer_name",
    ),
]


@pytest.mark.parametrize(("sql", "business"), CASES)
def test_values_of_rows_are_read_and_proven_equal(
    project: Project, sql: str, business: str
) -> None:
    found = project.translate(sql)
    assert found.refusal is None, found.refusal
    assert found.business == business
    assert found.compared and found.equal, found.difference
    assert found.rows is not None and found.rows[0] > 0


def test_a_listing_with_repeated_rows_is_caught_by_the_comparison(project: Project) -> None:
    """A list of values has each row once; the SQL repeats a segment per customer: the
    translation says so in a note, and the comparison of rows finds the difference."""
    found = project.translate("SELECT c_mktsegment FROM customer")
    assert found.business == "SELECT market_segment"
    assert any("each distinct row once" in n for n in found.notes)
    assert found.equal is False and found.rows == (1500, 5)
    assert project.translate("SELECT DISTINCT c_mktsegment FROM customer").equal is True


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        (  # NOT EXISTS tied by no relationship
            "SELECT o_orderpriority, count(*) FROM orders WHERE NOT EXISTS (SELECT * FROM "
            "lineitem WHERE l_suppkey = o_custkey) GROUP BY 1",
            "a subquery tied to the query by no relationship of the model",
        ),
        (  # a correlation beyond keys
            "SELECT c_mktsegment, count(*) FROM customer WHERE c_acctbal > (SELECT "
            "avg(o_totalprice) FROM orders WHERE o_custkey = c_custkey AND o_totalprice > "
            "c_acctbal) GROUP BY 1",
            "it compares its rows with the outer row beyond keys",
        ),
        (  # tied to a column that is not the entity's key
            "SELECT s_name FROM supplier WHERE s_acctbal > (SELECT avg(c_acctbal) FROM "
            "customer WHERE c_nationkey = s_nationkey)",
            "it is not tied to the primary key of 'supplier' by a relationship",
        ),
        (  # NOT EXISTS over the many side inside a semi-join
            "SELECT s_name FROM supplier WHERE s_suppkey IN (SELECT ps_suppkey FROM partsupp "
            "WHERE NOT EXISTS (SELECT * FROM lineitem WHERE l_partkey = ps_partkey AND "
            "l_suppkey = ps_suppkey))",
            "NOT EXISTS / NOT IN over the many side of a relationship inside a subquery",
        ),
        (  # an uncorrelated subquery inside a larger condition
            "SELECT l_returnflag, count(*) FROM lineitem WHERE l_quantity > (SELECT "
            "avg(l_quantity) FROM lineitem) OR l_discount > 0.05 GROUP BY 1",
            "a scalar subquery",
        ),
    ],
)
def test_what_has_no_counterpart_is_still_refused(
    project: Project, sql: str, fragment: str
) -> None:
    found = project.translate(sql)
    assert found.business is None and found.refusal is not None
    assert found.refusal.code == "SEM340"
    assert fragment in found.refusal.message, found.refusal.message
