"""The join path chosen in the query (`via(term, through)`, issue #13): revenue by the
supplier's nation with the one nation term the glossary has for the customer's, compared
with SQL written by hand on the TPC-H data, on DuckDB and on PostgreSQL (when
SEMANTIC_TEST_POSTGRES is set), and a few on Spark, in SELECT, WHERE and GROUP BY, with
French labels, next to the glossary's own path, on the many side, and with a role's
restricted rows.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from semantic.engines.spark import SparkEngine
from semantic.project import Project
from tests.compare import assert_same_rows
from tests.projects import copy_to_postgres

REVENUE = "SUM(l_extendedprice * (1 - l_discount))"
SUPPLIER_NATION = (
    "FROM lineitem JOIN supplier ON l_suppkey = s_suppkey "
    "JOIN nation sn ON s_nationkey = sn.n_nationkey"
)
BOTH_NATIONS = (
    SUPPLIER_NATION + " JOIN orders ON l_orderkey = o_orderkey "
    "JOIN customer ON o_custkey = c_custkey JOIN nation cn ON c_nationkey = cn.n_nationkey"
)
BY_SUPPLIER_NATION = f"SELECT sn.n_name, {REVENUE} {SUPPLIER_NATION} GROUP BY 1"

#: business query -> the same question in hand-written SQL over the TPC-H tables
CASES: dict[str, str] = {
    # SELECT, every way of naming what the path goes through
    "SELECT via(customer_nation, supplier) AS nation, net_revenue": BY_SUPPLIER_NATION,
    "SELECT via(customer_nation, lineitem.supplier), net_revenue": BY_SUPPLIER_NATION,
    "SELECT via(customer_nation, supplier_name), net_revenue": BY_SUPPLIER_NATION,
    # French labels: the customer's nation term, through the supplier's name term
    'SELECT via("Pays client", "Nom du fournisseur") AS pays, "Chiffre d\'affaires net"': (
        BY_SUPPLIER_NATION
    ),
    # GROUP BY that names the chosen path
    "SELECT via(customer_nation, supplier) AS n, net_revenue "
    "GROUP BY via(customer_nation, supplier)": BY_SUPPLIER_NATION,
    # a term with a pin of its own as what the path goes through: the supplier's region
    "SELECT via(customer_region, supplier_nation) AS r, net_revenue": (
        f"SELECT r_name, {REVENUE} {SUPPLIER_NATION} "
        "JOIN region ON sn.n_regionkey = r_regionkey GROUP BY 1"
    ),
    # both nations in one query: the glossary's path and the chosen one
    "SELECT customer_nation, via(customer_nation, supplier) AS supplier_side, net_revenue": (
        f"SELECT cn.n_name, sn.n_name, {REVENUE} {BOTH_NATIONS} GROUP BY 1, 2"
    ),
    # WHERE: local supplier volume (TPC-H Q5's condition)
    "SELECT customer_nation, net_revenue WHERE via(customer_nation, supplier) = customer_nation": (
        f"SELECT cn.n_name, {REVENUE} {BOTH_NATIONS} WHERE sn.n_name = cn.n_name GROUP BY 1"
    ),
    "SELECT customer_region, net_revenue WHERE via(customer_nation, supplier) = 'FRANCE'": (
        f"SELECT r_name, {REVENUE} {BOTH_NATIONS} "
        "JOIN region ON cn.n_regionkey = r_regionkey WHERE sn.n_name = 'FRANCE' GROUP BY 1"
    ),
    # the many side: each order counted once under each nation of its lines' suppliers
    "SELECT via(customer_nation, supplier) AS n, order_count": (
        "SELECT n_name, COUNT(DISTINCT o_orderkey) FROM orders "
        "JOIN lineitem ON l_orderkey = o_orderkey JOIN supplier ON l_suppkey = s_suppkey "
        "JOIN nation ON s_nationkey = n_nationkey GROUP BY 1"
    ),
    # two metrics of two entities, each taking the chosen path from its own rows
    "SELECT via(customer_nation, supplier) AS n, net_revenue, supplier_count": (
        f"SELECT n_name, r.v, COUNT(*) FROM supplier JOIN nation ON s_nationkey = n_nationkey "
        f"LEFT JOIN (SELECT sn.n_name AS k, {REVENUE} AS v {SUPPLIER_NATION} GROUP BY 1) r "
        "ON r.k = n_name GROUP BY 1, 2"
    ),
}

#: the same, as role `emea_analyst` (European customers' orders and lines only)
EUROPE = (
    " JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
    "JOIN nation cn ON c_nationkey = cn.n_nationkey "
    "JOIN region cr ON cn.n_regionkey = cr.r_regionkey WHERE cr.r_name = 'EUROPE'"
)
ROLE_CASES: dict[str, str] = {
    "SELECT via(customer_nation, supplier) AS n, net_revenue": (
        f"SELECT sn.n_name, {REVENUE} {SUPPLIER_NATION}{EUROPE} GROUP BY 1"
    ),
    "SELECT market_segment, net_revenue WHERE via(customer_nation, supplier) = 'GERMANY'": (
        f"SELECT c_mktsegment, {REVENUE} {SUPPLIER_NATION}{EUROPE} AND sn.n_name = 'GERMANY' "
        "GROUP BY 1"
    ),
}


def _rows(table: Any) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in table.to_pylist()]


@pytest.mark.parametrize("query", list(CASES))
def test_chosen_path_on_duckdb(project: Project, query: str) -> None:
    expected = project.engine.connection.execute(CASES[query]).fetchall()
    assert expected, "the hand-written SQL finds rows"
    assert_same_rows(_rows(project.query(query)), expected, ordered=False)


@pytest.mark.parametrize("query", list(ROLE_CASES))
def test_chosen_path_reads_a_roles_rows(project: Project, query: str) -> None:
    expected = project.engine.connection.execute(ROLE_CASES[query]).fetchall()
    assert expected
    assert_same_rows(_rows(project.query(query, role="emea_analyst")), expected, ordered=False)
    # the role's rows are fewer than the owner's: the restriction was applied
    assert _rows(project.query(query)) != _rows(project.query(query, role="emea_analyst"))


@pytest.fixture(scope="module")
def pg(project: Project) -> Iterator[Any]:
    url = os.environ.get("SEMANTIC_TEST_POSTGRES")
    if not url:
        pytest.skip("SEMANTIC_TEST_POSTGRES is not set")
    pytest.importorskip("psycopg")
    schema = f"chosen_paths_{uuid.uuid4().hex[:8]}"
    connection = copy_to_postgres(project, url, schema)
    yield connection
    connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    connection.close()


@pytest.mark.parametrize("query", list(CASES))
def test_chosen_path_on_postgres(project: Project, pg: Any, query: str) -> None:
    expected = pg.execute(CASES[query]).fetchall()
    assert expected
    got = pg.execute(project.compile(query, "postgres")).fetchall()
    assert_same_rows(got, expected, ordered=False)


#: on Spark: each way of choosing a path once (SELECT, French labels, WHERE, the many side,
#: two entities)
SPARK_CASES = [
    "SELECT via(customer_nation, supplier) AS nation, net_revenue",
    'SELECT via("Pays client", "Nom du fournisseur") AS pays, "Chiffre d\'affaires net"',
    "SELECT customer_nation, net_revenue WHERE via(customer_nation, supplier) = customer_nation",
    "SELECT via(customer_nation, supplier) AS n, order_count",
    "SELECT via(customer_nation, supplier) AS n, net_revenue, supplier_count",
]


@pytest.mark.slow
@pytest.mark.parametrize("query", SPARK_CASES)
def test_chosen_path_on_spark(project: Project, spark_engine: SparkEngine, query: str) -> None:
    expected = project.engine.connection.execute(CASES[query]).fetchall()
    assert expected
    got = spark_engine.fetch(project.compile(query, "spark"))
    assert_same_rows(got, expected, ordered=False)
