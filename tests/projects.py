"""Tiny projects written into a temporary folder, for error and soundness tests."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import duckdb

CONFIG = """\
name: tiny
languages: [en, fr]
data:
  dir: data
"""


#: A day-grained sales table, the model of the windows tests (soundness and differential).
SALES_MODEL = """
entities:
  sales:
    primary_key: [id]
    columns:
      id: {type: integer}
      day: {type: date}
      shop: {type: varchar}
      amount: {type: integer}
"""


def write_project(root: Path, files: dict[str, str], config: str = CONFIG) -> Path:
    """Write `semantic.yml` and the given files (path -> YAML text, dedented) under `root`."""
    (root / "semantic.yml").write_text(config)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def write_data(root: Path, tables: dict[str, str]) -> None:
    """Write each table (name -> a SELECT giving its rows) as `root/data/<name>.parquet`."""
    data = root / "data"
    data.mkdir(exist_ok=True)
    con = duckdb.connect()
    for name, rows in tables.items():
        con.execute(f"COPY ({rows}) TO '{data / name}.parquet' (FORMAT parquet)")


def copy_to_postgres(project: Any, url: str, schema: str) -> Any:
    """A psycopg connection (autocommit) whose search path is a new `schema` holding a copy
    of every entity table of `project`'s DuckDB data, typed as DuckDB types them (DuckDB's
    names are PostgreSQL's: INTEGER, VARCHAR, DATE, TIMESTAMP, TIMESTAMP WITH TIME ZONE).
    Drop the schema when done: the test database is shared."""
    import psycopg

    connection = psycopg.connect(url, autocommit=True)
    connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    connection.execute(f'CREATE SCHEMA "{schema}"')
    connection.execute(f'SET search_path TO "{schema}"')
    source = project.engine.connection
    for entity in project.model.entities.values():
        result = source.execute(f"SELECT * FROM {entity.table}")
        names = [d[0] for d in result.description]
        types = [str(d[1]) for d in result.description]
        columns = ", ".join(f'"{n}" {t}' for n, t in zip(names, types, strict=True))
        connection.execute(f"CREATE TABLE {entity.table} ({columns})")
        marks = ", ".join("%s" for _ in names)
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {entity.table} VALUES ({marks})", result.fetchall())
    return connection
