"""A tiny project's tables on the engines the soundness tests run on: DuckDB (the project's
own data), SQLite (a copy, see tests/sqlite_db.py), PostgreSQL (a schema of its own per
test, dropped afterwards, since other tests share the database) and Spark (temporary views
over the project's parquet files, in a session of their own on the test session's one Spark
context: see `tests.services.spark_engine`; marked slow, as starting Spark is).

A test compiles a business query for each engine's dialect, runs it there, and compares the
rows with hand-written SQL run on the same engine (`Engine.run`). The hand-written SQL is
portable SQL; where engines differ (dates), `Engine.month` and `Engine.next_month` give
the expression to write.
"""

from __future__ import annotations

import datetime as dt
import decimal
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from semantic.engines.spark import SparkEngine
from semantic.project import Project
from tests.compare import Row, assert_same_rows
from tests.projects import write_data, write_project
from tests.services import SPARK_MASTER, require_spark
from tests.sqlite_db import copy_to_sqlite

#: a table: its columns (name, SQL type) and its rows
Table = tuple[tuple[tuple[str, str], ...], tuple[tuple[Any, ...], ...]]

#: the engines, as `pytest.fixture(params=ENGINES)` takes them
ENGINES = ("duckdb", "sqlite", "postgres", pytest.param("spark", marks=pytest.mark.slow))


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return str(value)


def _select(table: Table) -> str:
    """A DuckDB SELECT giving the rows of `table` with its column types."""
    columns, rows = table
    names = ", ".join(name for name, _ in columns)
    values = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
    casts = ", ".join(f"CAST({name} AS {kind}) AS {name}" for name, kind in columns)
    return f"SELECT {casts} FROM (VALUES {values}) t({names})"


def tiny_project(root: Path, model: str, glossary: str, tables: dict[str, Table]) -> Project:
    """A project in `root` with one model file, one glossary file and the tables' data."""
    write_project(root, {"models/m.yml": model, "glossary/g.yml": glossary})
    write_data(root, {name: _select(table) for name, table in tables.items()})
    return Project.load(root)


@dataclass
class Engine:
    """Where a test runs SQL: a dialect and a function from SQL text to rows."""

    dialect: str
    run: Callable[[str], list[Row]]

    def month(self, expr: str) -> str:
        """The first day of the month of the date `expr`, as the engine writes a date."""
        if self.dialect == "sqlite":
            return f"date({expr}, 'start of month')"
        return f"CAST(date_trunc('month', {expr}) AS DATE)"

    def next_month(self, expr: str) -> str:
        """The first day of the month after the month that starts on `expr`."""
        if self.dialect == "sqlite":
            return f"date({expr}, '+1 month')"
        return f"CAST({expr} + INTERVAL '1 month' AS DATE)"

    def query(self, project: Project, text: str) -> list[Row]:
        """The rows of business query `text`, compiled for this engine and run on it."""
        return self.run(project.compile(text, self.dialect))


def normal(value: Any) -> Any:
    """A cell as every engine can give it: numbers as decimals, dates as ISO text."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | decimal.Decimal):
        return decimal.Decimal(str(value)).normalize()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def normal_rows(rows: list[Row]) -> list[Row]:
    """`rows` with every cell `normal`."""
    return [tuple(normal(v) for v in row) for row in rows]


def check_rows(
    engine: Engine, project: Project, query: str, by_hand: str, expected: list[tuple]
) -> None:
    """The business query gives what the hand-written SQL gives, on `engine`; and the
    hand-written SQL gives `expected` (so that the pinned numbers are read, not assumed)."""
    got = engine.query(project, query)
    hand = engine.run(by_hand)
    assert_same_rows(normal_rows(hand), normal_rows(expected), ordered=False)
    assert_same_rows(normal_rows(got), normal_rows(hand), ordered=False)


def _postgres(
    request: pytest.FixtureRequest, project: Project, tables: dict[str, Table]
) -> Iterator[Engine]:
    import psycopg  # only when PostgreSQL tests run

    url = request.getfixturevalue("postgres_url")
    schema = f"tiny_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
        try:
            connection.execute(f"SET search_path TO {schema}")
            for name, (columns, rows) in tables.items():
                table = project.model.entities[name].table
                listing = ", ".join(f"{c} {kind}" for c, kind in columns)
                connection.execute(f"CREATE TABLE {table} ({listing})")
                marks = ", ".join("%s" for _ in columns)
                with connection.cursor() as cursor:
                    cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)

            def run(sql: str) -> list[Row]:
                return [tuple(r) for r in connection.execute(sql).fetchall()]

            yield Engine("postgres", run)
        finally:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


def engine_fixture(
    request: pytest.FixtureRequest,
    project: Project,
    tables: dict[str, Table],
    tmp_path: Path,
) -> Iterator[Engine]:
    """The engine named by `request.param` holding `tables` (see `ENGINES`)."""
    name = request.param
    if name == "duckdb":
        connection = project.engine.connection
        yield Engine("duckdb", lambda sql: [tuple(r) for r in connection.execute(sql).fetchall()])
    elif name == "sqlite":
        db: sqlite3.Connection = copy_to_sqlite(project, tmp_path / "tiny.sqlite")
        try:
            yield Engine("sqlite", lambda sql: [tuple(r) for r in db.execute(sql).fetchall()])
        finally:
            db.close()
    elif name == "spark":
        yield from spark_fixture(request, project)
    else:
        yield from _postgres(request, project, tables)


def spark_fixture(request: pytest.FixtureRequest, project: Project) -> Iterator[Engine]:
    """A Spark engine over `project`'s parquet files (see `spark_engine`)."""
    for spark in spark_views(request, project):
        yield Engine("spark", spark.fetch)


def spark_views(request: pytest.FixtureRequest, project: Project) -> Iterator[SparkEngine]:
    """A Spark engine with a temporary view per entity of `project`, over its parquet files.

    It is a session of its own on the test session's one Spark context, which
    `tests.services.spark_engine` starts once and keeps open (closing this engine leaves it
    running): a JVM start per test would take most of a minute. The session-scoped holder is
    asked directly, so module-scoped fixtures may call this too.
    """
    require_spark()
    request.getfixturevalue("spark_masters").on(SPARK_MASTER.removeprefix("spark:"))
    engine = SparkEngine(
        project.model, project.data_dir, master=SPARK_MASTER.removeprefix("spark:")
    )
    try:
        yield engine
    finally:
        engine.close()
