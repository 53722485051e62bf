"""Views published to a real PostgreSQL server, read back through psycopg as a BI tool would.

Each test publishes into a schema of its own (the test database is shared) and drops it at
the end: published views depend on the TPC-H tables that other tests reload.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from semantic.cli import app
from semantic.compiler.areas import subject_area_query
from semantic.engines.postgres import PostgresEngine
from semantic.errors import SemanticError
from semantic.outputs.publish import publish_views
from semantic.project import Project
from tests.conftest import ROOT
from tests.test_views import (
    FailingHalfway,
    assert_ship_mode_comments,
    normalized,
    query_rows,
    with_ship_mode_area,
)


@pytest.fixture
def schema(postgres_engine: PostgresEngine) -> Iterator[str]:
    """A fresh schema name for the views, dropped with everything in it afterwards."""
    name = f"views_test_{uuid.uuid4().hex[:8]}"
    yield name
    postgres_engine.publish([f'DROP SCHEMA IF EXISTS "{name}" CASCADE'])


def bi_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """What a BI tool reads: its own psycopg connection, plain SQL."""
    import psycopg

    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def bi_columns(url: str, schema: str, view: str) -> list[str]:
    rows = bi_rows(
        url,
        "SELECT column_name FROM information_schema.columns "
        f"WHERE table_schema = '{schema}' AND table_name = '{view}' ORDER BY ordinal_position",
    )
    return [str(r[0]) for r in rows]


def test_bi_tool_reads_the_numbers_of_semantic_query(
    project: Project, postgres_engine: PostgresEngine, postgres_url: str, schema: str
) -> None:
    plan = publish_views(project.model, postgres_engine, schema=schema, language="fr")
    assert len(plan.views) == 10 and plan.dropped == ()
    for area in project.model.subject_areas.values():
        view = bi_rows(postgres_url, f'SELECT * FROM "{schema}"."{area.id}"')
        expected = query_rows(project, subject_area_query(project.model, area))  # on DuckDB
        assert len(view) >= 4 and normalized(view) == normalized(expected)
    by_region = bi_rows(
        postgres_url,
        'SELECT "Région client", sum("Nombre de commandes"), sum("Chiffre d\'affaires net") '
        f'FROM "{schema}".sales_by_customer GROUP BY 1',
    )
    assert normalized(by_region) == normalized(
        query_rows(project, "SELECT customer_region, order_count, net_revenue")
    )
    hand = bi_rows(
        postgres_url,
        """
        SELECT make_date(extract(year FROM o_orderdate)::int, 1, 1), count(DISTINCT o_orderkey),
               sum(l_extendedprice * (1 - l_discount)), sum(l_extendedprice)
        FROM orders JOIN lineitem ON l_orderkey = o_orderkey
        WHERE o_orderstatus = 'F' GROUP BY 1
        """,
    )
    assert normalized(bi_rows(postgres_url, f'SELECT * FROM "{schema}".yearly_sales')) == (
        normalized(hand)
    )
    assert bi_columns(postgres_url, schema, "customer")[:3] == [
        "Clé client",
        "c_nationkey",
        "Nom du client",
    ]
    assert bi_rows(postgres_url, f'SELECT count(*) FROM "{schema}".customer') == [(1500,)]
    (comment,) = bi_rows(
        postgres_url, f"SELECT obj_description('\"{schema}\".sales_by_customer'::regclass)"
    )[0]
    assert comment.startswith("[semantic:tpch] subject area sales_by_customer: Ventes par client")


def test_column_comments_say_which_columns_do_not_add_up(
    project: Project, postgres_engine: PostgresEngine, postgres_url: str, schema: str
) -> None:
    """`COMMENT ON COLUMN` of a subject area's view, read back through the catalog as BI
    tools sync it: a sum of rows gets the order count wrong, and the comment says so."""
    model = with_ship_mode_area(project.model)
    publish_views(model, postgres_engine, schema=schema, language="en")
    rows = bi_rows(
        postgres_url,
        "SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a "
        f"WHERE a.attrelid = '\"{schema}\".orders_by_ship_mode'::regclass AND a.attnum > 0",
    )
    assert_ship_mode_comments({str(name): str(comment) for name, comment in rows})


def test_removal_drops_only_the_tools_views(
    project: Project, postgres_engine: PostgresEngine, postgres_url: str, schema: str
) -> None:
    publish_views(project.model, postgres_engine, schema=schema)
    postgres_engine.publish(
        [
            f'CREATE TABLE "{schema}".notes AS SELECT 1 AS n',
            f'CREATE VIEW "{schema}".mine AS SELECT 2 AS n',
        ]
    )
    areas = {k: v for k, v in project.model.subject_areas.items() if k != "yearly_sales"}
    smaller = dataclasses.replace(project.model, subject_areas=areas)
    plan = publish_views(smaller, postgres_engine, schema=schema, language="en")
    assert plan.dropped == ("yearly_sales",) and len(plan.replaced) == 9
    names = {
        r[0]
        for r in bi_rows(
            postgres_url,
            f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'",
        )
    }
    assert names == {*project.model.entities, "sales_by_customer", "notes", "mine"}
    assert bi_rows(postgres_url, f'SELECT n FROM "{schema}".notes') == [(1,)]
    assert bi_columns(postgres_url, schema, "sales_by_customer")[0] == "Customer region"
    # a user's view on a published one: PostgreSQL refuses the drop, and nothing changes
    postgres_engine.publish(
        [f'CREATE VIEW "{schema}".mine_too AS SELECT * FROM "{schema}".sales_by_customer']
    )
    with pytest.raises(SemanticError) as caught:
        publish_views(project.model, postgres_engine, schema=schema)
    assert caught.value.code == "SEM417" and "depend" in str(caught.value)
    assert bi_columns(postgres_url, schema, "sales_by_customer")[0] == "Customer region"


def test_a_failure_halfway_leaves_the_old_views_answering(
    project: Project, postgres_engine: PostgresEngine, postgres_url: str, schema: str
) -> None:
    publish_views(project.model, postgres_engine, schema=schema)
    before = {
        name: normalized(bi_rows(postgres_url, f'SELECT * FROM "{schema}"."{name}"'))
        for name in ("sales_by_customer", "yearly_sales", "orders")
    }
    areas = {k: v for k, v in project.model.subject_areas.items() if k != "yearly_sales"}
    smaller = dataclasses.replace(project.model, subject_areas=areas)
    failing = FailingHalfway(postgres_engine)  # type: ignore[arg-type]
    with pytest.raises(SemanticError) as caught:
        publish_views(smaller, failing, schema=schema, language="fr")
    assert caught.value.code == "SEM417" and "no_such_column" in str(caught.value)
    assert f'DROP VIEW "{schema}"."yearly_sales"' in failing.ran
    assert sum(s.startswith("CREATE VIEW") for s in failing.ran) >= 3
    for name, rows in before.items():
        assert normalized(bi_rows(postgres_url, f'SELECT * FROM "{schema}"."{name}"')) == rows
    assert bi_columns(postgres_url, schema, "sales_by_customer")[0] == "customer_region"


def test_cli_publishes_to_postgresql(
    postgres_engine: PostgresEngine, postgres_url: str, schema: str
) -> None:
    runner = CliRunner()
    args = ["--project", str(ROOT), "views"]
    result = runner.invoke(app, [*args, "apply", "--engine", postgres_url, "--schema", schema])
    assert result.exit_code == 0, result.stderr
    assert f"create 10, replace 0 and drop 0 view(s) in schema {schema}" in result.stderr
    result = runner.invoke(app, [*args, "plan", "--engine", postgres_url, "--schema", schema])
    assert result.exit_code == 0, result.stderr
    assert f'DROP VIEW "{schema}"."sales_by_customer";' in result.stdout
    assert "would create 0, replace 10 and drop 0" in result.stderr
    assert bi_rows(postgres_url, f'SELECT sum(order_count) FROM "{schema}".sales_by_customer') == [
        (15000,)
    ]
