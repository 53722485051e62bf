"""Load a project's data files into PostgreSQL: typed tables filled with COPY.

DuckDB reads each entity's file and writes it as CSV; PostgreSQL's COPY reads that stream,
the fastest way in. All tables are filled in one transaction, so a failed load leaves the
database as it was. A table that exists with exactly the columns and types to load is
emptied (TRUNCATE) and refilled, so views built on it (BI views among them), grants and
comments stay; any other is dropped and created anew, and if objects of the database
depend on it, nothing is dropped and the load stops (SEM423) rather than dropping them too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sqlglot import exp

from semantic.compiler.dialects import to_sql
from semantic.engines.duckdb import DuckDBEngine
from semantic.engines.postgres import PostgresEngine, driver
from semantic.errors import SemanticError, error
from semantic.model import Column

CHUNK = 1 << 20


def load_postgres(source: DuckDBEngine, target: PostgresEngine) -> list[tuple[str, int]]:
    """Copy every entity's table from `source` (the data files) into `target`, replacing
    the tables there; the tables and their row counts."""
    psycopg = driver()
    loaded: list[tuple[str, int]] = []
    with tempfile.TemporaryDirectory(prefix="semantic-load-") as folder:
        try:
            with target.connection.transaction(), psycopg.RawCursor(target.connection) as cur:
                for entity in source.model.entities.values():
                    table = exp.to_table(entity.table)
                    described = source.fetch(f"DESCRIBE {to_sql(table, 'duckdb')}")
                    columns = [
                        (str(row[0]), _type(entity.columns.get(str(row[0])), str(row[1])))
                        for row in described
                    ]
                    if table.db:
                        schema = to_sql(exp.to_identifier(table.db), "postgres")
                        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                    if _existing(cur, table) == [(n, to_sql(t, "postgres")) for n, t in columns]:
                        cur.execute(f"TRUNCATE {to_sql(table, 'postgres')}")
                    else:
                        _drop(cur, table, psycopg)
                        create = exp.Create(
                            this=exp.Schema(
                                this=table,
                                expressions=[
                                    exp.ColumnDef(this=exp.to_identifier(n), kind=t)
                                    for n, t in columns
                                ],
                            ),
                            kind="TABLE",
                        )
                        cur.execute(to_sql(create, "postgres"))
                    rows = _copy(source, table, Path(folder) / f"{entity.id}.csv", cur)
                    cur.execute(f"ANALYZE {to_sql(table, 'postgres')}")
                    loaded.append((entity.table, rows))
        except SemanticError:
            raise
        except psycopg.Error as exc:
            raise error(
                "SEM404",
                f"PostgreSQL refused the data: {str(exc).strip().splitlines()[0]}",
                None,
                "check the column types in models/ against the data files",
            ) from None
    return loaded


def _existing(cursor: Any, table: exp.Table) -> list[tuple[str, str]]:
    """The columns of `table` in the database, in order, with their types as PostgreSQL
    writes them read back through sqlglot (empty when there is no such table)."""
    regclass = to_sql(exp.Literal.string(to_sql(table, "postgres")), "postgres")
    cursor.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        f"WHERE attrelid = to_regclass({regclass}) AND attnum > 0 AND NOT attisdropped "
        "ORDER BY attnum"
    )
    return [
        (str(name), to_sql(exp.DataType.build(str(kind), dialect="postgres"), "postgres"))
        for name, kind in cursor.fetchall()
    ]


def _drop(cursor: Any, table: exp.Table, psycopg: Any) -> None:
    """Drop `table` if it exists, never what depends on it: SEM423 names those instead."""
    try:
        with cursor.connection.transaction():  # a savepoint, to read the dependents after
            cursor.execute(f"DROP TABLE IF EXISTS {to_sql(table, 'postgres')}")
    except psycopg.errors.DependentObjectsStillExist:
        regclass = to_sql(exp.Literal.string(to_sql(table, "postgres")), "postgres")
        cursor.execute(
            "SELECT DISTINCT dependent.relname FROM pg_depend d "
            "JOIN pg_rewrite r ON r.oid = d.objid "
            "JOIN pg_class dependent ON dependent.oid = r.ev_class "
            f"WHERE d.refobjid = to_regclass({regclass}) AND dependent.oid <> d.refobjid "
            "ORDER BY 1"
        )
        names = ", ".join(str(row[0]) for row in cursor.fetchall()) or "other objects"
        raise error(
            "SEM423",
            f"table '{to_sql(table, 'postgres')}' must be created anew (its columns or types "
            f"changed), and {names} depend on it; nothing was loaded",
            None,
            "drop those views, load again, then create them again "
            "(`semantic views apply` recreates the tool's own)",
        ) from None


def _type(column: Column | None, actual: str) -> exp.DataType:
    """The type of a column: the model's declared type, else the one DuckDB reads."""
    return exp.DataType.build((column and column.type) or actual, dialect="duckdb")


def _copy(source: DuckDBEngine, table: exp.Table, path: Path, cursor: Any) -> int:
    """Write `table` as CSV with DuckDB, stream it into PostgreSQL's COPY; the row count."""
    out = to_sql(exp.Literal.string(str(path)), "duckdb")
    source.fetch(
        f"COPY (SELECT * FROM {to_sql(table, 'duckdb')}) TO {out} (FORMAT csv, HEADER false)"
    )
    copy_sql = f"COPY {to_sql(table, 'postgres')} FROM STDIN (FORMAT csv)"
    with cursor.copy(copy_sql) as copy, path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            copy.write(chunk)
    return int(cursor.rowcount)
