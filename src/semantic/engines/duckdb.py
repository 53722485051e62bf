"""The embedded default engine: DuckDB over the project's data files, or over the tables of
a DuckDB database file.

With data files, each entity's table is a view over `<data dir>/<table>.<format>`, so
compiled SQL runs unchanged against the files here and against real tables elsewhere. Those
views live in the connection's in-memory database and are never written into a database
file: a file named with data files is attached as catalog `semantic_target`, which only a
publication (`outputs.publish`) writes, in one transaction, once the data passed its quality
gate. Without data files the entities are the database's own tables: nothing is registered,
and a file opened `read_only` is never modified (DuckDB refuses every write, and writes
nothing back on close).

A file the engine creates is written in the storage format of `storage_version`, by default
`DEFAULT_STORAGE_VERSION`, so that the DuckDB drivers of BI tools open it whatever DuckDB
this process runs; a file that exists keeps its own format, which `storage_warning` reports
when it is newer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from semantic.compiler.dialects import to_sql
from semantic.engines.base import Limits, collect, deadline, too_slow
from semantic.engines.catalog import compare_schema
from semantic.errors import Diagnostic, SemanticError, error
from semantic.model import Column, Entity, Model

#: rows read at a time, so that a result past its size limit is refused early
_BATCH_ROWS = 100_000
#: the catalog name of an attached database file (publications name it; the views they
#: store name no catalog, so the file reads the same under any name)
TARGET_CATALOG = "semantic_target"
#: DuckDB's name for a database that lives in memory, the engine's default
IN_MEMORY = ":memory:"
#: The storage format of the database files the engine creates, named by the oldest DuckDB
#: release that opens them. DuckDB 2.0 writes by default a format that no DuckDB 1.x opens,
#: and BI tools ship 1.x drivers (Metabase's, duckdb-engine under Superset, JDBC, ODBC):
#: v1.0.0 files open in every DuckDB from 1.0 on, and hold all a publication writes.
DEFAULT_STORAGE_VERSION = "v1.0.0"
_RELEASE = re.compile(r"v(\d+)\.(\d+)\.(\d+)")


class DuckDBEngine:
    """A DuckDB connection with a view per entity over the data files, in memory. A database
    file (`database`) that other programs, BI tools among them, open is attached beside it as
    catalog `TARGET_CATALOG` (`self.target`), which publications write to and nothing else
    does. Without data files (no `data_dir`, or none of its files there) the entities are
    tables of the database file, which is the connection's own database (`target` is None),
    and `read_only` opens it so that reading never changes it.

    A database file that does not exist yet is created in the storage format of
    `storage_version` (a DuckDB release, `vX.Y.Z`, or `latest`); one that exists keeps its
    own, which `stored_version` says (never upgraded: DuckDB writes into a file in its
    format)."""

    dialect = "duckdb"

    def __init__(
        self,
        model: Model,
        data_dir: Path | None,
        fmt: str = "parquet",
        database: str = IN_MEMORY,
        *,
        read_only: bool = False,
        storage_version: str = DEFAULT_STORAGE_VERSION,
    ) -> None:
        self.model = model
        self.data_dir = data_dir
        self.fmt = fmt
        #: the data file of each entity table read from one, by the table's `table:` name
        self.data_files = _data_files(model, data_dir, fmt)
        self.database = database
        self.read_only = read_only
        #: the catalog of the attached database file that publications write to; None when
        #: they write to the connection's own database
        self.target: str | None = None
        #: the storage format of the files the engine creates
        self.storage_version = storage_version
        # the format of every database created on this connection, the attached file's too;
        # DuckDB reads a file that exists in its own format and never changes it on writes
        config: dict[str, Any] = {"storage_compatibility_version": storage_version}
        try:
            if not self.data_files or database == IN_MEMORY:
                self.connection = duckdb.connect(database, read_only=read_only, config=config)
            else:
                # the views over the data files stay in memory, out of the file: a BI tool
                # opening the file reads only what a publication put there
                self.connection = duckdb.connect(IN_MEMORY, config=config)
                self.target = TARGET_CATALOG
                path = to_sql(exp.Literal.string(database), "duckdb")
                alias = to_sql(exp.to_identifier(self.target, quoted=True), "duckdb")
                self.connection.execute(f"ATTACH {path} AS {alias}")
        except duckdb.InvalidInputException as exc:
            if "version string" not in str(exc):
                raise _not_opened(database, exc) from None
            raise error(
                "SEM411",
                f"storage_version '{storage_version}' is not a DuckDB release that DuckDB "
                f"{duckdb.__version__} knows",
                None,
                f"write {DEFAULT_STORAGE_VERSION} (every DuckDB from 1.0 on opens the file), a "
                "later release such as v1.4.0, or latest",
            ) from None
        except duckdb.Error as exc:
            raise _not_opened(database, exc) from None
        #: the storage format of the database file, as DuckDB names it (`v1.0.0+`: DuckDB
        #: 1.0 and later open it); None in memory, or when DuckDB does not say (before 1.2,
        #: which writes the format every 1.x reads)
        self.stored_version = self._stored_version()
        self._register()

    def _stored_version(self) -> str | None:
        if self.database == IN_MEMORY:
            return None
        catalog = "current_database()"
        if self.target is not None:
            catalog = to_sql(exp.Literal.string(self.target), "duckdb")
        ((tags,),) = self.fetch(
            f"SELECT tags FROM duckdb_databases() WHERE database_name = {catalog}"
        )
        version = (tags or {}).get("storage_version")
        return None if version is None else str(version)

    def storage_warning(self) -> Diagnostic | None:
        """SEM252 when the database file is in a storage format newer than `storage_version`:
        the BI tools the engine writes for cannot open it, and it stays in that format."""
        wanted, stored = _release(self.storage_version), _release(self.stored_version or "")
        if wanted is None or stored is None or stored <= wanted:
            return None
        wanted_name, oldest = self.storage_version, str(self.stored_version).rstrip("+")
        if self.target is not None:  # the file holds publications only: it can be made anew
            remedy = f"move it away and publish again to create it in {wanted_name}"
        else:
            remedy = (
                f"copy its tables into a new file (ATTACH 'new.duckdb' AS new (STORAGE_VERSION "
                f"'{wanted_name}'); COPY FROM DATABASE <its name> TO new)"
            )
        return Diagnostic(
            "SEM252",
            f"{self.database} is in the storage format of DuckDB {self.stored_version}, newer "
            f"than storage_version {wanted_name}: DuckDB drivers older than {oldest} cannot "
            "open it",
            None,
            f"a file keeps its format: {remedy}; or set the engine's storage_version to "
            f"{oldest} if every BI tool reading the file has such a driver",
            "warning",
        )

    def _register(self) -> None:
        for entity in self.model.entities.values():
            path = self.data_files.get(entity.table)
            if path is None:
                continue  # the database's own table
            table = exp.to_table(entity.table)
            if table.db:
                self.connection.execute(
                    to_sql(
                        exp.Create(
                            this=exp.Table(this=table.args["db"]), kind="SCHEMA", exists=True
                        ),
                        "duckdb",
                    )
                )
            source = exp.select("*").from_(_reader(self.fmt, path, entity.columns))
            view = exp.Create(this=table, kind="VIEW", expression=source, replace=True)
            self.connection.execute(to_sql(view, "duckdb"))

    def execute(
        self, sql: str, params: Mapping[str, Any] | None = None, limits: Limits | None = None
    ) -> pa.Table:
        """Run `sql` with named parameters bound (never pasted into the text), interrupted
        after `limits.timeout` (SEM434) and read batch by batch up to its size limits
        (SEM435)."""
        try:
            # a cursor of its own, so a result left open elsewhere on the connection is no matter
            with self.connection.cursor() as cursor:
                relation = cursor.sql(sql, params=dict(params) if params else None)
                if limits is None:
                    return relation.to_arrow_table()
                # DuckDB has no statement time-out: a timer interrupts the cursor, which
                # DuckDB notices between two chunks of rows
                with deadline(limits.timeout, cursor.interrupt) as fired:
                    try:
                        reader = relation.to_arrow_reader(_BATCH_ROWS)
                        return collect(reader, reader.schema, limits)
                    except duckdb.Error:
                        if fired.is_set():
                            raise too_slow(limits, "DuckDB") from None
                        raise
        except duckdb.Error as exc:
            raise error(
                "SEM404",
                f"DuckDB could not run the query: {str(exc).splitlines()[0]}",
                None,
                "run `semantic check --data` to compare the model with the data",
            ) from None

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of `sql`, for checks."""
        with self.connection.cursor() as cursor:
            return cursor.execute(sql).fetchall()

    def publish(self, statements: Sequence[str]) -> None:
        """Run DDL statements in one transaction: all take effect or none does."""
        with self.connection.cursor() as cursor:
            cursor.execute("BEGIN TRANSACTION")
            try:
                for statement in statements:
                    cursor.execute(statement)
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    def close(self) -> None:
        """Release the connection."""
        self.connection.close()

    def check_schema(self) -> list[Diagnostic]:
        """Tables and columns of the model that the data lacks or types that differ."""
        return compare_schema(
            self.model,
            self._columns,
            dialect="duckdb",
            where=str(self.data_dir or self.database),
            reload="generate or copy the data" if self.data_dir else "load the table",
        )

    def _columns(self, entity: Entity) -> dict[str, str] | None:
        try:
            with self.connection.cursor() as cursor:
                described = cursor.execute(
                    f"DESCRIBE {to_sql(exp.to_table(entity.table), 'duckdb')}"
                ).fetchall()
        except duckdb.Error:
            return None
        return {str(row[0]): str(row[1]) for row in described}


def storage_version_or_default(version: str | None) -> str:
    """`version`, or `DEFAULT_STORAGE_VERSION` when None (an engine that names none)."""
    return DEFAULT_STORAGE_VERSION if version is None else version


def _not_opened(database: str, exc: duckdb.Error) -> SemanticError:
    return error(
        "SEM411",
        f"cannot open the DuckDB database {database}: {str(exc).splitlines()[0]}",
        None,
        "check the path of duckdb:///path/file.duckdb, and that no other program has "
        "the file open for writing",
    )


def _release(name: str) -> tuple[int, ...] | None:
    """The numbers of a DuckDB release named `vX.Y.Z` (or `vX.Y.Z+`); None for `latest`.

    >>> _release("v1.0.0+"), _release("v1.10.2") > _release("v1.4.0"), _release("latest")
    ((1, 0, 0), True, None)
    """
    match = _RELEASE.match(name)
    return None if match is None else tuple(int(n) for n in match.groups())


def _data_files(model: Model, data_dir: Path | None, fmt: str) -> dict[str, Path]:
    """`<data_dir>/<table>.<fmt>` of each entity table, for those that exist."""
    if data_dir is None:
        return {}
    found = {}
    for entity in model.entities.values():
        path = data_dir / f"{entity.table.split('.')[-1]}.{fmt}"
        if path.exists():
            found[entity.table] = path
    return found


def _reader(fmt: str, path: Path, columns: Mapping[str, Column]) -> exp.Func:
    """The DuckDB table function reading one data file. CSV columns are read with the types
    the model declares (a code such as an ISBN would otherwise be guessed a number)."""
    if fmt == "parquet":
        return exp.func("read_parquet", exp.Literal.string(str(path)))
    declared = [
        exp.PropertyEQ(this=exp.to_identifier(c.name), expression=exp.Literal.string(c.type))
        for c in columns.values()
        if c.type
    ]
    options = [exp.EQ(this=exp.column("header"), expression=exp.true())]
    if declared:
        options.append(
            exp.EQ(this=exp.column("types"), expression=exp.Struct(expressions=declared))
        )
    return exp.func("read_csv", exp.Literal.string(str(path)), *options)
