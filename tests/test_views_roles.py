"""Views published for a role of the policy file (`semantic views apply --role`), read back
from a fresh DuckDB connection as a BI tool reads them: only the role's rows (its filters
inside every entity view and every subject area's aggregates: Europe's totals, not the
world's), its masked dimensions masked, each compared with hand-written SQL over the data
files. PostgreSQL, with its grants: test_views_roles_postgres.py.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pytest

from semantic.engines.duckdb import DuckDBEngine
from semantic.errors import SemanticError
from semantic.outputs.publish import plan_publication, publish_views
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.compare import assert_same_rows
from tests.test_access_surfaces import with_role
from tests.test_views import bi_columns, bi_rows

#: the customers of a region (hand-written: the data files, no semantic code)
CUSTOMERS_OF = """
    SELECT c.* FROM customer AS c
    JOIN nation AS n ON c.c_nationkey = n.n_nationkey
    JOIN region AS r ON n.n_regionkey = r.r_regionkey
    WHERE r.r_name = 'EUROPE'
"""
EUROPE_YEARLY = f"""
    SELECT make_date(year(o.o_orderdate), 1, 1), count(*), sum(l.net), sum(l.gross)
    FROM orders AS o
    JOIN ({CUSTOMERS_OF}) AS c ON o.o_custkey = c.c_custkey
    JOIN (
        SELECT l_orderkey, sum(l_extendedprice * (1 - l_discount)) AS net,
               sum(l_extendedprice) AS gross
        FROM lineitem GROUP BY l_orderkey
    ) AS l ON l.l_orderkey = o.o_orderkey
    WHERE o.o_orderstatus = 'F'
    GROUP BY 1
"""


def hand(project: Project, sql: str) -> list[tuple[Any, ...]]:
    """`sql` over the TPC-H data files, each table a view of its Parquet file."""
    project.prepare_data()
    with duckdb.connect() as connection:
        for entity in project.model.entities.values():
            connection.execute(
                f"CREATE VIEW {entity.table} AS SELECT * FROM "
                f"read_parquet('{project.data_dir / entity.table}.parquet')"
            )
        return connection.execute(sql).fetchall()


def publish_as(project: Project, path: Path, role: str, **options: Any) -> Any:
    project.prepare_data()
    engine = DuckDBEngine(project.model, project.data_dir, "parquet", str(path))
    try:
        return publish_views(project.model, engine, role=role, **options)
    finally:
        engine.close()


@pytest.fixture(scope="module")
def emea(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("emea") / "bi.duckdb"
    publish_as(project, path, "emea_analyst")
    return path


def test_the_views_of_a_filtered_role_hold_its_rows_only(project: Project, emea: Path) -> None:
    """Europe's customers, orders and order lines; the whole of part (its rows are no
    customer's); the numbers of the subject areas are Europe's, also in yearly_sales, which
    has no region column to filter on."""
    (customers,) = hand(project, f"SELECT count(*) FROM ({CUSTOMERS_OF})")[0]
    assert 0 < customers < 1500
    assert bi_rows(emea, "SELECT count(*) FROM semantic.customer") == [(customers,)]
    assert bi_rows(emea, "SELECT count(*) FROM semantic.orders") == hand(
        project, f"SELECT count(*) FROM orders JOIN ({CUSTOMERS_OF}) ON o_custkey = c_custkey"
    )
    assert bi_rows(emea, "SELECT count(*) FROM semantic.lineitem") == hand(
        project,
        f"SELECT count(*) FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
        f"JOIN ({CUSTOMERS_OF}) ON o_custkey = c_custkey",
    )
    assert bi_rows(emea, "SELECT count(*) FROM semantic.part") == [(2000,)]
    assert bi_rows(emea, "SELECT DISTINCT customer_region FROM semantic.sales_by_customer") == [
        ("EUROPE",)
    ]
    assert_same_rows(
        bi_rows(emea, "SELECT * FROM semantic.yearly_sales"),
        hand(project, EUROPE_YEARLY),
        ordered=False,
    )
    total = bi_rows(emea, "SELECT sum(order_count) FROM semantic.sales_by_customer")
    assert total == bi_rows(emea, "SELECT count(*) FROM semantic.orders")
    # the same numbers as `semantic query --role emea_analyst`
    query = project.query(
        "SELECT order_date.year, order_count, net_revenue, gross_revenue WHERE order_status = 'F'",
        role="emea_analyst",
    )
    assert_same_rows(
        bi_rows(emea, "SELECT * FROM semantic.yearly_sales"),
        list(zip(*(c.to_pylist() for c in query.columns), strict=True)),
        ordered=False,
    )


def test_the_views_of_a_role_leave_out_its_hidden_columns(emea: Path) -> None:
    columns = bi_columns(emea, "customer")
    assert "customer_region" not in columns  # a role-playing dimension: nation's
    assert {"customer_key", "market_segment"} <= set(columns)
    assert not {"customer_name", "customer_phone", "c_custkey"} & set(columns)
    copies = bi_columns(emea, "customer", "semantic_data")
    assert copies == columns  # the file holds nothing more than the views show
    (comment,) = bi_rows(
        emea,
        "SELECT comment FROM duckdb_views() WHERE schema_name = 'semantic' "
        "AND view_name = 'customer'",
    )[0]
    assert comment.startswith("[semantic:tpch] role emea_analyst: entity customer")


def test_masked_dimensions_are_masked_in_the_views(project: Project, tmp_path: Path) -> None:
    """support_agent: names hashed (md5), phones cut to their last 4 characters, addresses
    redacted; the file holds no clear name, phone or address anywhere."""
    path = tmp_path / "support.duckdb"
    publish_as(project, path, "support_agent")
    shown = bi_rows(
        path,
        "SELECT customer_key, customer_name, customer_phone, customer_address "
        "FROM semantic.customer",
    )
    clear = {
        key: (name, phone)
        for key, name, phone in hand(project, "SELECT c_custkey, c_name, c_phone FROM customer")
    }
    assert len(shown) == len(clear) == 1500
    for key, name, phone, address in shown:
        assert name == hashlib.md5(clear[key][0].encode()).hexdigest()
        assert phone == "****" + clear[key][1][-4:]
        assert address == "[redacted]"
    everything = {
        str(v)
        for schema in ("semantic", "semantic_data")
        for row in bi_rows(path, f"SELECT * FROM {schema}.customer")
        for v in row
    }
    assert not everything & {v for pair in clear.values() for v in pair}


def test_a_role_with_attributes_needs_them(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "manager.duckdb"
    with pytest.raises(SemanticError) as caught:
        publish_as(project, path, "country_manager")
    assert caught.value.diagnostics[0].code == "SEM257"
    publish_as(project, path, "country_manager", user={"nation": "FRANCE"})
    assert bi_rows(path, "SELECT DISTINCT customer_nation FROM semantic.sales_by_customer") == [
        ("FRANCE",)
    ]
    assert bi_rows(path, "SELECT count(*) FROM semantic.customer") == hand(
        project,
        "SELECT count(*) FROM customer JOIN nation ON c_nationkey = n_nationkey "
        "WHERE n_name = 'FRANCE'",
    )
    # a value is a literal of the SQL tree, never pasted text
    publish_as(project, path, "country_manager", user={"nation": "FRANCE' OR 'x' = 'x"})
    assert bi_rows(path, "SELECT count(*) FROM semantic.customer") == [(0,)]


def test_role_views_in_a_file_that_holds_the_tables_are_refused(
    project: Project, tmp_path: Path
) -> None:
    """DuckDB has no privileges: row filters and masks in a file that also holds the
    source tables would hide nothing (SEM437), whatever the role's clearance."""
    project.prepare_data()
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        for entity in project.model.entities.values():
            connection.execute(
                f"CREATE TABLE {entity.table} AS SELECT * FROM "
                f"'{project.data_dir / (entity.table + '.parquet')}'"
            )
    emea = project.model.policy.role("emea_analyst")
    model = with_role(project.model, "europe_steward", "restricted", filters=emea.filters)
    engine = DuckDBEngine(model, None, database=str(path))
    try:
        for role, what in (("europe_steward", "its filters and masks"), ("analyst", "hide")):
            with pytest.raises(SemanticError) as caught:
                plan_publication(model, engine, role=role)
            (found,) = caught.value.diagnostics
            assert found.code == "SEM437" and f"--role {role}" in found.message
            assert what in found.message
        # the steward sees everything, unfiltered: nothing to hide, a SEM447 warning
        plan = plan_publication(model, engine, role="steward")
        assert "SEM447" in [n.code for n in plan.notices]
    finally:
        engine.close()


def test_cli_views_for_a_role(project: Project, tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path / 'bi.duckdb'}"
    result = run_cli("views", "plan", "-e", url, "--role", "emea_analyst", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert '"role": "emea_analyst"' in result.stdout and "r_name = 'EUROPE'" in result.stdout
    result = run_cli("views", "apply", "-e", url, "--role", "emea_analyst")
    assert result.exit_code == 0, result.stderr
    assert "for role emea_analyst" in result.stderr
    assert (
        "warning: SEM447 the views for role 'emea_analyst' are granted to no database role: "
        "duckdb has no privileges to grant" in result.stderr
    )
    path = tmp_path / "bi.duckdb"
    assert bi_rows(path, "SELECT DISTINCT customer_region FROM semantic.sales_by_customer") == [
        ("EUROPE",)
    ]
    result = run_cli("views", "plan", "-e", url, "--role", "country_manager")
    assert result.exit_code == 1 and "SEM257" in result.stderr
    result = run_cli(
        "views", "plan", "-e", url, "--role", "country_manager", "--user-attr", "nation"
    )
    assert result.exit_code == 2 and "is not KEY=VALUE" in result.stderr
