"""A query that selects dimensions and no metric lists the distinct combinations of its
dimensions among the rows of the one entity it names from which every term is read through
to-one relationships (`compiler.listing`): checked against hand-written `SELECT DISTINCT` on
the TPC-H data (DuckDB, and PostgreSQL when SEMANTIC_TEST_POSTGRES is set), under a role's
rows, and on random tiny tables with NULL keys and sales of a region that does not exist
(DuckDB and SQLite). A query whose terms no one entity reaches that way is SEM371, at the
term that brings the other entity.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from semantic.errors import SemanticError
from semantic.project import Project
from tests.budget import examples
from tests.compare import assert_same_rows
from tests.projects import copy_to_postgres, write_project
from tests.services import postgres_url  # noqa: F401 (a fixture)
from tests.soundness.test_per_grain import MODEL, _fill, _where, data
from tests.soundness.test_saved_grain import BAND, GLOSSARY, REGIONS
from tests.test_saved_grain import ORDERS_PER_CUSTOMER

TPCH_BAND = (
    "CASE WHEN n = 0 THEN '0' WHEN n < 10 THEN '1-9' WHEN n < 20 THEN '10-19' ELSE '20+' END"
)
CUSTOMER_REGION = (
    "customer LEFT JOIN nation ON c_nationkey = n_nationkey "
    "LEFT JOIN region ON n_regionkey = r_regionkey"
)

#: (business query, hand-written SQL giving the same rows in the same order)
CASES = {
    "values of a dimension": (
        "SELECT market_segment ORDER BY 1",
        "SELECT DISTINCT c_mktsegment FROM customer ORDER BY 1",
    ),
    "a dimension through a path": (
        "SELECT customer_region ORDER BY 1",
        f"SELECT DISTINCT r_name FROM {CUSTOMER_REGION} ORDER BY 1",
    ),
    "among the rows a condition names (orders)": (
        "SELECT customer_name WHERE order_date >= DATE '1998-07-01' ORDER BY 1",
        "SELECT DISTINCT c_name FROM orders LEFT JOIN customer ON o_custkey = c_custkey "
        "WHERE o_orderdate >= DATE '1998-07-01' ORDER BY 1",
    ),
    "an existence": (
        "SELECT market_segment, customer_name WHERE NOT EXISTS(order_key) "
        "AND customer_nation = 'FRANCE' ORDER BY 2",
        "SELECT DISTINCT c_mktsegment, c_name FROM customer JOIN nation "
        "ON c_nationkey = n_nationkey WHERE n_name = 'FRANCE' AND NOT EXISTS (SELECT 1 "
        "FROM orders WHERE o_custkey = c_custkey) ORDER BY 2",
    ),
    "a saved per-entity band": (
        "SELECT market_segment, customer_order_count_band ORDER BY 1, 2",
        f"SELECT DISTINCT c_mktsegment, {TPCH_BAND} FROM customer JOIN {ORDERS_PER_CUSTOMER} c "
        "USING (c_custkey) ORDER BY 1, 2",
    ),
    "two roles of nation among line items": (
        "SELECT ship_mode, supplier_nation WHERE customer_region = 'EUROPE' "
        "AND ship_date >= DATE '1998-11-01' ORDER BY 1, 2",
        "SELECT DISTINCT l_shipmode, sn.n_name FROM lineitem "
        "LEFT JOIN orders ON l_orderkey = o_orderkey "
        "LEFT JOIN customer ON o_custkey = c_custkey "
        "LEFT JOIN nation cn ON c_nationkey = cn.n_nationkey "
        "LEFT JOIN region ON cn.n_regionkey = r_regionkey "
        "LEFT JOIN supplier ON l_suppkey = s_suppkey "
        "LEFT JOIN nation sn ON s_nationkey = sn.n_nationkey "
        "WHERE r_name = 'EUROPE' AND l_shipdate >= DATE '1998-11-01' ORDER BY 1, 2",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_list_of_values_is_select_distinct(project: Project, name: str) -> None:
    query, sql = CASES[name]
    got = [tuple(r.values()) for r in project.query(query).to_pylist()]
    want = project.engine.connection.execute(sql).fetchall()
    assert len(want) > 1, "too few rows: the comparison would prove little"
    assert_same_rows(got, want)


def test_a_list_of_values_reads_a_roles_rows_only(project: Project) -> None:
    query = "SELECT customer_nation ORDER BY 1"
    got = [tuple(r.values()) for r in project.query(query, role="emea_analyst").to_pylist()]
    want = project.engine.connection.execute(
        f"SELECT DISTINCT nation.n_name FROM {CUSTOMER_REGION} WHERE r_name = 'EUROPE' ORDER BY 1"
    ).fetchall()
    assert len(want) == 5 and got == want


def test_the_same_on_postgres(project: Project, postgres_url: str) -> None:  # noqa: F811
    schema = f"listing_{uuid.uuid4().hex[:12]}"
    connection = copy_to_postgres(project, postgres_url, schema)
    try:
        for query, sql in CASES.values():
            got = connection.execute(project.compile(query, "postgres")).fetchall()
            assert_same_rows(got, project.engine.connection.execute(sql).fetchall())
    finally:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        connection.close()


def test_terms_no_one_entity_reaches_are_sem371_at_the_other_term(project: Project) -> None:
    with pytest.raises(SemanticError) as caught:
        project.compile("SELECT customer_name,\n  part_name")
    (problem,) = caught.value.diagnostics
    assert problem.code == "SEM371"
    assert (problem.span.line, problem.span.col) == (2, 3)
    assert "customer, part" in problem.message
    assert problem.hint and "> 0" in problem.hint


#: (business query over the tiny shop, hand-written SQL over REGIONS' `b` and `s`)
TINY = [
    ("SELECT zone", "SELECT DISTINCT zone FROM regions"),
    # the rows of sales: a sale of no region, or of one that does not exist, has no zone
    ("SELECT zone, kind{where}", "SELECT DISTINCT zone, kind FROM s"),
    ("SELECT zone WHERE amount > 3", "SELECT DISTINCT zone FROM s WHERE amount > 3"),
    ("SELECT region_band", f"SELECT DISTINCT {BAND} FROM b"),
    ("SELECT region_band, kind{where}", f"SELECT DISTINCT {BAND}, kind FROM s"),
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("listing")
    return Project.load(write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY}))


@settings(
    max_examples=examples(full=200, fast=40),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tables=data(),
    case=st.sampled_from(range(len(TINY))),
    condition=st.sampled_from(["", "amount > 3", "kind = 'a'"]),
)
def test_a_list_of_values_on_random_tables(
    shop: Project,
    tables: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]],
    case: int,
    condition: str,
) -> None:
    regions, sales = tables
    business, hand = TINY[case]
    text = business.format(where=_where(condition))
    where = _where(condition.replace("amount", "s.amount")) if "{where}" in business else ""
    note(text)
    con = duckdb.connect()
    _fill(con, regions, sales)
    want = con.execute(REGIONS.format(w=where) + hand).fetchall()
    assert_same_rows(con.execute(shop.compile(text)).fetchall(), want, ordered=False)
    lite = sqlite3.connect(":memory:")
    _fill(lite, regions, sales)
    assert_same_rows(lite.execute(shop.compile(text, "sqlite")).fetchall(), want, ordered=False)


def test_explain_says_whose_rows_list_the_values(project: Project) -> None:
    from semantic.compiler.plan import describe_plan

    plan = project.plan("SELECT customer_name WHERE order_date >= DATE '1998-07-01'")
    text = describe_plan(plan)
    assert "the distinct values among rows of orders (one per o_orderkey)" in text
    assert "path customer_name: orders -> customer" in text
