"""Queries composed of the plans of other queries, as the differential test found them on
Spark (1,000 examples, `make test-all`), each checked against its answer on DuckDB and by
its shape in every dialect:

- a metric at another grain beside metrics of two entities: the query's own plan and the
  grand total's each have a WITH of `orders_metrics` and `lineitem_metrics`; Spark's writer
  moves every CTE to the top, where Spark refuses a name given twice
  (DUPLICATED_CTE_NAMES): every CTE now has a name of its own (`compiler.ctenames`);
- an existence (`EXISTS(supplier_region = customer_region)`) beside a per-order value and a
  metric filtered on the order's lines: the existence's subquery reads the per-order value's
  own rows of `lineitem`, which were taken for the aggregate's, so the existence was put
  inside the lines' semi-join, an EXISTS inside an EXISTS referring two queries up, which
  Spark cannot resolve; an alias a subquery names itself now reads nothing of the
  aggregate's rows (`semijoins._aliases`).

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from semantic.engines.spark import SparkEngine
from semantic.project import Project
from tests.compare import assert_same_rows
from tests.test_dialects import GOLDEN_DIALECTS

CASES = [
    "SELECT order_count, order_value, line_count, "
    "MEASURE(average_order_value) FILTER (WHERE market_segment = 'BUILDING') AS filtered, "
    "MEASURE(average_order_value) PER (ALL) AS at_grain WHERE market_segment = 'BUILDING'",
    "SELECT MEASURE(line_count) PER (orders) AS lines, order_count, "
    "MEASURE(order_count) FILTER (WHERE ship_mode IN ('AIR', 'RAIL')) AS by_air_or_rail "
    "WHERE market_segment = 'BUILDING' AND EXISTS(supplier_region = customer_region)",
    "SELECT customer_region, net_revenue, order_count, "
    "net_revenue / MEASURE(net_revenue) PER (ALL) AS share, "
    "MEASURE(order_count) PER (customer_region) AS orders_there",
]


@pytest.mark.parametrize("query", CASES)
def test_every_cte_has_a_name_of_its_own(project: Project, query: str) -> None:
    for dialect in GOLDEN_DIALECTS:
        sql = project.compile(query, dialect)
        tree = sqlglot.parse_one(sql, read=dialect)
        names = [c.alias for c in tree.find_all(exp.CTE)]
        assert len(names) == len(set(names)), (dialect, names)


def test_an_existence_stays_beside_a_semi_join(project: Project) -> None:
    """The existence on the orders is a condition of the order rows, beside the semi-join
    of their lines (never inside it)."""
    sql = project.compile(CASES[1], "spark")
    tree = sqlglot.parse_one(sql, read="spark")
    for node in tree.find_all(exp.Exists):
        inner = node.this
        assert isinstance(inner, exp.Select)
        source = inner.args["from_"].this
        if isinstance(source, exp.Table) and source.name == "lineitem":
            # the lines' semi-join holds no existence of the query
            assert not any(re.match("has_", t.alias_or_name) for t in inner.find_all(exp.Table))


@pytest.mark.slow
@pytest.mark.parametrize("query", CASES)
def test_composed_queries_on_spark(project: Project, spark_engine: SparkEngine, query: str) -> None:
    expected = project.query(query).to_pylist()
    got = spark_engine.fetch(project.compile(query, "spark"))
    assert_same_rows(got, [tuple(r.values()) for r in expected], ordered=False)
