"""Views published to a real PostgreSQL server, read back through psycopg as a BI tool would.

Each test publishes into a schema of its own (the test database is shared) and drops it at
the end: published views depend on the TPC-H tables that other tests reload.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from semantic.compiler.areas import subject_area_query
from semantic.engines.postgres import PostgresEngine
from semantic.errors import SemanticError
from semantic.outputs.publish import publish_views
from semantic.outputs.quality import project_quality
from semantic.project import Project
from tests.cli_runner import run_cli
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
    assert len(plan.views) == 10 and plan.dropped == (), plan.gated
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
    result = run_cli("views", "apply", "--engine", postgres_url, "--schema", schema)
    assert result.exit_code == 0, result.stderr
    assert f"create 10, replace 0 and drop 0 view(s) in schema {schema}" in result.stderr
    result = run_cli("views", "plan", "--engine", postgres_url, "--schema", schema)
    assert result.exit_code == 0, result.stderr
    assert f'DROP VIEW "{schema}"."sales_by_customer";' in result.stdout
    assert "would create 0, replace 10 and drop 0" in result.stderr
    assert bi_rows(postgres_url, f'SELECT sum(order_count) FROM "{schema}".sales_by_customer') == [
        (15000,)
    ]


# --- the view and quality SQL of the test projects, run on PostgreSQL -------------------------

#: terms whose functions PostgreSQL spells or computes otherwise than DuckDB, so that a view
#: or rule written without the dialect pass fails or answers differently
FUNCTION_TERMS = """\
  order_weekday:
    label: {en: Order weekday, es: Día de la semana}
    definition: {en: Day of the week of the sale (0 is Sunday)., es: Día de la semana.}
    status: approved
    quality:
      weekday_in_range:
        dimension: validity
        check: dayofweek(ordered_on) BETWEEN 0 AND 6
        description: A day of the week.
    dimension: {entity: orders, expr: dayofweek(ordered_on)}
  order_day_name:
    label: {en: Order day name, es: Nombre del día}
    definition: {en: English name of the day of the sale., es: Nombre del día.}
    status: approved
    dimension: {entity: orders, expr: dayname(ordered_on)}
  channel_initial:
    label: {en: Channel initial, es: Inicial del canal}
    definition: {en: The first letter of the channel in capitals., es: Inicial del canal.}
    status: approved
    quality:
      channel_is_lower_case:
        dimension: validity
        check: "contains(channel, 'o') OR channel > 'Z'"
        description: Channels are lower-case words.
    dimension: {entity: orders, expr: "upper(substr(channel, 0, 2))"}
  weeks_to_year_end:
    label: {en: Weeks to the year end, es: Semanas hasta fin de año}
    definition: {en: Whole weeks from the sale to 31 December., es: Semanas enteras.}
    status: approved
    dimension:
      entity: orders
      expr: "date_diff('week', ordered_on, last_day(ordered_on + INTERVAL 11 MONTH))"
"""
FUNCTION_AREA = """\
  sales_by_weekday:
    label: {en: Sales by weekday, es: Ventas por día}
    dimensions: [order_weekday, order_day_name, channel_initial, weeks_to_year_end]
    metrics: [revenue, order_count]
"""


@pytest.fixture
def bookshop_with_functions(tmp_path: Path) -> Project:
    """The bookshop, with dimensions and quality rules that use functions."""
    root = tmp_path / "bookshop"
    shutil.copytree(ROOT / "examples" / "bookshop", root)
    sales = root / "glossary" / "sales.yml"
    text = sales.read_text().replace("terms:\n", "terms:\n" + FUNCTION_TERMS, 1)
    sales.write_text(text.replace("subject_areas:\n", "subject_areas:\n" + FUNCTION_AREA, 1))
    return Project.load(root)


def _same(actual: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> bool:
    def cell(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.date()
        return round(float(value), 4) if isinstance(value, decimal.Decimal | float) else value

    return sorted((tuple(map(cell, r)) for r in actual), key=repr) == sorted(
        (tuple(map(cell, r)) for r in expected), key=repr
    )


def test_views_and_quality_rules_mean_on_postgresql_what_they_mean_on_duckdb(
    bookshop_with_functions: Project, postgres_url: str, postgres_engine: PostgresEngine
) -> None:
    """Every entity and subject-area view of the bookshop, and every quality rule, run on
    PostgreSQL with DuckDB's answer: `dayofweek`, `dayname`, `contains`, `substr` from 0,
    `date_diff` by week and string comparison are written for PostgreSQL, as in compiled
    queries, not copied from DuckDB (`DAY_OF_WEEK(...)`, `CONTAINS(...)`: no such
    functions)."""
    project = bookshop_with_functions
    tables = f"bookshop_{uuid.uuid4().hex[:8]}"
    postgres_engine.publish([f'CREATE SCHEMA "{tables}"'])
    separator = "&" if "?" in postgres_url else "?"
    engine = PostgresEngine(
        project.model, f"{postgres_url}{separator}options=-csearch_path%3D{tables}"
    )
    try:
        project.load_data(engine)
        on_postgres = publish_views(project.model, engine, schema=f"{tables}_views")
        on_duckdb = publish_views(project.model, project.engine, schema="views_test")
        assert [v.name for v in on_postgres.views] == [v.name for v in on_duckdb.views]
        for view in on_postgres.views:
            rows = bi_rows(postgres_url, f'SELECT * FROM "{tables}_views"."{view.name}"')
            expected = project.engine.fetch(f'SELECT * FROM views_test."{view.name}"')
            assert rows and _same(rows, expected), f"view {view.name}: {rows} != {expected}"
        scores = {(r.rule.id, r.rows, r.passing) for r in project_quality(project, engine)}
        assert scores == {(r.rule.id, r.rows, r.passing) for r in project_quality(project)}
        assert {"weekday_in_range", "channel_is_lower_case"} <= {s[0] for s in scores}
        weekdays = bi_rows(
            postgres_url,
            f'SELECT DISTINCT order_day_name, order_weekday FROM "{tables}_views".sales_by_weekday',
        )
        assert ("Monday", 1) in weekdays
    finally:
        engine.close()
        postgres_engine.publish(
            [f'DROP SCHEMA IF EXISTS "{tables}_views" CASCADE', f'DROP SCHEMA "{tables}" CASCADE']
        )
