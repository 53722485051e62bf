"""Publication into a DuckDB file is atomic in every case, and leaves in the file only what
the publication allows (issue #19, section 2).

Every check reads the file as a BI tool does: a fresh `duckdb.connect(path)`, after the
publishing engine is closed (or killed). `contents` reads everything the file holds (every
table and view of every schema: its columns, and a checksum of its rows, or the error that
reading it gives), so "the file is exactly as it was" is one comparison.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from semantic.engines.duckdb import DuckDBEngine
from semantic.errors import SemanticError
from semantic.outputs.publish import plan_publication, publish_views
from semantic.outputs.views import plan_views
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.test_views import bi_rows, bookshop

Contents = dict[tuple[str, str], tuple[tuple[str, ...], Any]]


def contents(path: Path) -> Contents:
    """Every table and view of the file: (schema, name) -> (columns, (row count, sum of row
    hashes)), or the error a BI tool gets when it reads it."""
    found: Contents = {}
    with duckdb.connect(str(path), read_only=True) as connection:
        objects = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() ORDER BY 1, 2"
        ).fetchall()
        for schema, name in objects:
            columns = tuple(
                str(c[0])
                for c in connection.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_catalog = "
                    "current_database() AND table_schema = ? AND table_name = ? "
                    "ORDER BY ordinal_position",
                    [schema, name],
                ).fetchall()
            )
            try:
                rows: Any = connection.execute(
                    f'SELECT count(*), sum(hash(x)) FROM "{schema}"."{name}" AS x'
                ).fetchall()
            except duckdb.Error as exc:
                rows = f"error: {str(exc).splitlines()[0]}"
            found[(str(schema), str(name))] = (columns, rows)
    return found


def tpch_copy(project: Project, tmp_path: Path) -> Path:
    """The TPC-H data files, copied so that a test may change them."""
    project.prepare_data()
    data = tmp_path / "data"
    shutil.copytree(project.data_dir, data)
    return data


def tpch_file(project: Project, data: Path, path: Path) -> DuckDBEngine:
    return DuckDBEngine(project.model, data, "parquet", str(path))


def publish_tpch(project: Project, data: Path, path: Path, **options: Any) -> Any:
    engine = tpch_file(project, data, path)
    try:
        return publish_views(project.model, engine, **options)
    finally:
        engine.close()


def asia_orders(path: Path) -> list[tuple[Any, ...]]:
    return bi_rows(
        path,
        "SELECT sum(order_count) FROM semantic.sales_by_customer WHERE customer_region = 'ASIA'",
    )


def double_the_orders(data: Path) -> None:
    """New, bad data: every order twice (its key repeats, SEM406)."""
    orders = data / "orders.parquet"
    doubled = data / "orders2.parquet"
    with duckdb.connect() as connection:
        connection.execute(
            f"COPY (SELECT * FROM '{orders}' UNION ALL SELECT * FROM '{orders}') TO '{doubled}'"
        )
    doubled.replace(orders)


# --- a refused apply (the quality gate) -------------------------------------------------------


def test_a_refused_apply_leaves_the_file_exactly_as_it_was(
    project: Project, tmp_path: Path
) -> None:
    """Issue #19: after SEM415 "nothing was published", a dashboard read 5,918 ASIA orders
    (the new, bad data) instead of 2,959: opening the file redefined `main.orders` over the
    data files, outside the publication and before its quality gate. The gate now decides
    per view (issue #14): the views over the doubled orders are withheld and keep their
    previous version and data; the others are published again, with the same data."""
    data = tpch_copy(project, tmp_path)
    path = tmp_path / "bi.duckdb"
    publish_tpch(project, data, path)
    before = contents(path)
    assert asia_orders(path) == [(2959,)]

    double_the_orders(data)
    plan = publish_tpch(project, data, path)
    withheld = dict(plan.gated)
    assert set(withheld) == {"orders", "sales_by_customer", "yearly_sales"}
    assert all("orders.primary_key_unique" in why for why in withheld.values())
    assert {n.code for n in plan.notices} == {"SEM415"}
    assert "region" in {v.name for v in plan.views}
    assert asia_orders(path) == [(2959,)]
    assert contents(path) == before


def test_the_quality_gate_runs_before_anything_is_written(tmp_path: Path) -> None:
    """A first publication writes nothing of the views the gate withholds: no view, no copy
    of its data (the engine itself writes nothing into the file either); the others are
    published."""
    shop = bookshop(tmp_path)
    models = shop.root / "models" / "shop.yml"
    line = "      city: {type: varchar, description: City of the postal address.}\n"
    models.write_text(
        models.read_text().replace(
            line,
            line + "    quality:\n      no_city: {dimension: validity, check: city IS NULL}\n",
        )
    )
    shop = Project.load(shop.root)
    assert shop.config.data is not None
    shop.prepare_data()
    path = tmp_path / "shop.duckdb"
    engine = DuckDBEngine(shop.model, shop.data_dir, shop.config.data.format, str(path))
    try:
        assert contents_of(engine) == []  # opening the file wrote nothing
        plan = publish_views(shop.model, engine)
    finally:
        engine.close()
    withheld = {name for name, _ in plan.gated}
    assert withheld == {"customers", "web_sales_by_city"}
    written = {name for _, name in contents(path)}
    assert not withheld & written
    assert {"books", "orders", "order_lines", "sales_by_channel"} <= written


def contents_of(engine: DuckDBEngine) -> list[tuple[Any, ...]]:
    """What the engine's attached file holds, seen from the engine."""
    return engine.fetch(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = "
        f"'{engine.target}' UNION ALL SELECT schema_name, view_name FROM duckdb_views() "
        f"WHERE database_name = '{engine.target}' AND NOT internal"
    )


# --- a failed apply ---------------------------------------------------------------------------


class RaisingAfter:
    """A DuckDB connection whose cursors raise at the `limit`-th statement: a failure in the
    middle of a publication, after drops, copies and views have run."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, limit: int) -> None:
        self.connection = connection
        self.limit = limit
        self.ran: list[str] = []

    def cursor(self) -> Any:
        outer = self

        class Cursor:
            def __init__(self) -> None:
                self.cursor = outer.connection.cursor()

            def __enter__(self) -> Cursor:
                return self

            def __exit__(self, *exc: object) -> None:
                self.cursor.close()

            def execute(self, sql: str, *args: Any) -> Any:
                if sql.startswith(("CREATE", "DROP", "COMMENT")):
                    if len(outer.ran) == outer.limit:
                        raise RuntimeError("injected failure")
                    outer.ran.append(sql)
                return self.cursor.execute(sql, *args)

            def __getattr__(self, name: str) -> Any:
                return getattr(self.cursor, name)

        return Cursor()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)


def test_a_failed_apply_leaves_the_file_exactly_as_it_was(project: Project, tmp_path: Path) -> None:
    """Issue #19: after SEM417 "nothing was changed", `semantic.orders` stopped answering.
    Here the data changed, the next publication renames every column and drops a subject
    area, and it fails after half of its statements: the file is as before, to the row."""
    data = tpch_copy(project, tmp_path)
    path = tmp_path / "bi.duckdb"
    publish_tpch(project, data, path)
    before = contents(path)
    with duckdb.connect() as connection:  # the next publication reads other data
        connection.execute(
            f"COPY (SELECT * FROM '{data}/orders.parquet' WHERE o_orderkey % 2 = 0) "
            f"TO '{data}/orders_even.parquet'"
        )
    (data / "orders_even.parquet").replace(data / "orders.parquet")
    areas = {k: v for k, v in project.model.subject_areas.items() if k != "yearly_sales"}
    smaller = dataclasses.replace(project.model, subject_areas=areas)
    engine = tpch_file(project, data, path)
    statements = plan_publication(smaller, engine, language="fr").statements()
    failing = RaisingAfter(engine.connection, len(statements) // 2)
    engine.connection = failing  # type: ignore[assignment]
    try:
        with pytest.raises(SemanticError) as caught:
            publish_views(smaller, engine, language="fr")
    finally:
        failing.connection.close()
    assert caught.value.code == "SEM417" and "injected failure" in str(caught.value)
    assert asia_orders(path) == [(2959,)]
    assert contents(path) == before
    ran = " ".join(failing.ran)
    assert 'DROP VIEW "semantic_target"."semantic"."yearly_sales"' in ran
    assert ran.count("CREATE TABLE") >= 3 and ran.count("CREATE VIEW") >= 3


KILLED_PUBLICATION = """
import os, signal, sys
from semantic.engines.duckdb import DuckDBEngine
from semantic.outputs.publish import publish_views
from semantic.project import Project

project = Project.load(sys.argv[1])
engine = DuckDBEngine(project.model, project.data_dir, sys.argv[3], sys.argv[2])
limit, ran = int(sys.argv[4]), []
connection = engine.connection

class Cursor:
    def __init__(self):
        self.cursor = connection.cursor()
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self.cursor.close()
    def execute(self, sql, *args):
        if sql.startswith(("CREATE", "DROP", "COMMENT")):
            if len(ran) == limit:
                os.kill(os.getpid(), signal.SIGKILL)  # no rollback, no close: a crash
            ran.append(sql)
        return self.cursor.execute(sql, *args)
    def __getattr__(self, name):
        return getattr(self.cursor, name)

class Connection:
    def cursor(self):
        return Cursor()
    def __getattr__(self, name):
        return getattr(connection, name)

engine.connection = Connection()
publish_views(project.model, engine, language="es")
"""


def test_a_publication_killed_halfway_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    """The process dies in the middle of the transaction (SIGKILL, no rollback, no close):
    the next program to open the file reads the previous publication."""
    shop = bookshop(tmp_path)
    path = tmp_path / "shop.duckdb"
    assert shop.config.data is not None
    shop.prepare_data()
    engine = DuckDBEngine(shop.model, shop.data_dir, shop.config.data.format, str(path))
    try:
        publish_views(shop.model, engine)
        statements = plan_publication(shop.model, engine, language="es").statements()
    finally:
        engine.close()
    before = contents(path)
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(KILLED_PUBLICATION))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    limit = len(statements) * 2 // 3
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            str(shop.root),
            str(path),
            shop.config.data.format,
            str(limit),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert contents(path) == before


# --- what the file holds ----------------------------------------------------------------------


def old_layout(project: Project, data: Path, path: Path) -> None:
    """What earlier versions left in the file: `main.<table>`, every column of the data
    file, created when the engine opened the file."""
    with duckdb.connect(str(path)) as connection:
        for entity in project.model.entities.values():
            connection.execute(
                f"CREATE VIEW {entity.table} AS SELECT * FROM "
                f"read_parquet('{data / (entity.table + '.parquet')}')"
            )


def test_the_file_holds_only_what_the_publication_allows(project: Project, tmp_path: Path) -> None:
    """Issue #19: with `--max-confidentiality internal` the file still answered
    `SELECT c_name, c_phone, c_acctbal FROM main.customer`. Now the file holds the views and
    a copy of each view's result, nothing else: no customer name or phone anywhere in it,
    and the views over the data files that earlier versions left in `main` are dropped."""
    data = tpch_copy(project, tmp_path)
    path = tmp_path / "bi.duckdb"
    old_layout(project, data, path)
    assert bi_rows(path, "SELECT count(c_phone) FROM main.customer") == [(1500,)]

    engine = tpch_file(project, data, path)
    try:
        script = plan_publication(project.model, engine, max_confidentiality="internal").script()
    finally:
        engine.close()
    assert "-- dropped, left by an earlier version: main.customer, main.lineitem" in script
    publish_tpch(project, data, path, max_confidentiality="internal")
    with pytest.raises(duckdb.CatalogException):
        bi_rows(path, "SELECT c_name, c_phone, c_acctbal FROM main.customer")
    held = contents(path)
    assert {schema for schema, _ in held} == {"semantic", "semantic_data"}
    published = {name for schema, name in held if schema == "semantic"}
    assert {name for schema, name in held if schema == "semantic_data"} == published
    for name in published:  # a copy holds exactly the columns of its view
        assert held[("semantic_data", name)][0] == held[("semantic", name)][0]
        assert held[("semantic_data", name)][1] == held[("semantic", name)][1]
    assert "c_acctbal" not in str(held) and "customer_account_balance" not in str(held)
    with duckdb.connect() as connection:
        secrets = {
            str(v)
            for row in connection.execute(
                f"SELECT c_name, c_phone, c_address FROM '{data}/customer.parquet'"
            ).fetchall()
            for v in row
        }
    assert len(secrets) == 4500
    assert not secrets & text_values(path)
    assert asia_orders(path) == [(2959,)]


def text_values(path: Path) -> set[str]:
    """Every value of every column of every table and view of the file, as text."""
    found: set[str] = set()
    with duckdb.connect(str(path), read_only=True) as connection:
        columns = connection.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = current_database()"
        ).fetchall()
        for schema, table, column in columns:
            rows = connection.execute(
                f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{schema}"."{table}"'
            ).fetchall()
            found |= {str(r[0]) for r in rows}
    return found


def test_hiding_terms_in_a_file_that_holds_the_tables_is_refused(
    project: Project, tmp_path: Path
) -> None:
    """DuckDB has no privileges: a file that holds the source tables shows all of them to
    whoever opens it, so `--max-confidentiality` there would promise what it cannot keep
    (SEM437). Nothing is written; without the option the views are published."""
    project.prepare_data()
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        for entity in project.model.entities.values():
            connection.execute(
                f"CREATE TABLE {entity.table} AS SELECT * FROM "
                f"'{project.data_dir / (entity.table + '.parquet')}'"
            )
    before = contents(path)
    engine = DuckDBEngine(project.model, None, database=str(path))
    try:
        with pytest.raises(SemanticError) as caught:
            publish_views(project.model, engine, max_confidentiality="internal")
    finally:
        engine.close()
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "SEM437"
    assert diagnostic.message.startswith(
        "--max-confidentiality internal cannot hide 'average_account_balance'"
    )
    assert "reads every column of them" in diagnostic.message
    assert contents(path) == before
    engine = DuckDBEngine(project.model, None, database=str(path))
    try:
        publish_views(project.model, engine, max_confidentiality="restricted")
    finally:
        engine.close()
    assert asia_orders(path) == [(2959,)]
    assert ("main", "customer") in contents(path)


# --- a view without any column ------------------------------------------------------------------


def parses(statements: Sequence[str]) -> None:
    for statement in statements:
        sqlglot.parse_one(statement, read="duckdb")


def test_a_view_left_without_columns_is_skipped_with_a_warning(
    project: Project, tmp_path: Path
) -> None:
    """Issue #14: `views apply --max-confidentiality public` failed with SEM417 "SELECT
    clause without selection list": every column of `part` is internal. The view is left
    out, with a SEM436 warning in the plan, its script and the command's output."""
    plan = plan_views(
        project.model, dialect="duckdb", source_schema="main", max_confidentiality="public"
    )
    assert "part" not in {v.name for v in plan.views} and "orders" in {v.name for v in plan.views}
    (notice,) = plan.notices
    assert notice.code == "SEM436" and notice.severity == "warning"
    assert notice.message == (
        "view 'semantic.part' has no column left at confidentiality 'public': it is not published"
    )
    assert "-- warning: SEM436 view 'semantic.part' has no column left" in plan.script()
    assert not any('"part"' in s for s in plan.statements())
    parses(plan.statements())
    assert plan.as_dict()["notices"][0]["code"] == "SEM436"  # type: ignore[index]

    data = tpch_copy(project, tmp_path)
    path = tmp_path / "bi.duckdb"
    publish_tpch(project, data, path)
    assert ("semantic", "part") in contents(path)
    url = f"duckdb://{path}"
    result = run_cli("views", "plan", "-e", url, "--max-confidentiality", "public")
    assert result.exit_code == 0, result.stderr
    assert "warning: SEM436 view 'semantic.part' has no column left" in result.stderr
    assert "-- warning: SEM436" in result.stdout
    # apply reads the data files of the project, whose data is the same as the copy's
    result = run_cli("views", "apply", "-e", url, "--max-confidentiality", "public")
    assert result.exit_code == 0, result.stderr
    assert "warning: SEM436 view 'semantic.part' has no column left" in result.stderr
    assert "(dropped: part, sales_by_customer, yearly_sales)" in result.stderr
    held = contents(path)
    assert ("semantic", "part") not in held and ("semantic_data", "part") not in held
    assert ("semantic", "orders") in held


def test_a_foreign_table_in_the_data_schema_stops_everything(tmp_path: Path) -> None:
    """The tool owns the copies it made (their comment carries its mark), nothing else."""
    shop = bookshop(tmp_path)
    path = tmp_path / "shop.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE SCHEMA semantic_data")
        connection.execute("CREATE TABLE semantic_data.books AS SELECT 'not yours' AS note")
    before = contents(path)
    assert shop.config.data is not None
    shop.prepare_data()
    engine = DuckDBEngine(shop.model, shop.data_dir, shop.config.data.format, str(path))
    try:
        with pytest.raises(SemanticError) as caught:
            publish_views(shop.model, engine)
    finally:
        engine.close()
    assert caught.value.code == "SEM416"
    assert "table 'semantic_data.books' exists and was not created by semantic" in str(caught.value)
    assert contents(path) == before
