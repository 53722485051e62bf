"""PostgreSQL: compiled SQL runs on a real server through psycopg 3.

Parameters are sent to the server apart from the SQL text (`$1`, `$2`, ... placeholders,
PostgreSQL's own), so a value never becomes SQL. Connection settings come from the URL and
from libpq's environment variables (PGPASSWORD, PGSSLMODE, ...), so secrets stay out of files.
Install the driver with `pip install semantic[postgres]`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
from sqlglot import exp, parse_one
from sqlglot.errors import SqlglotError

from semantic.compiler.dialects import to_sql
from semantic.engines.base import Limits, collect_batches, too_slow
from semantic.engines.catalog import compare_schema
from semantic.engines.urls import redact
from semantic.errors import Diagnostic, SemanticError, error
from semantic.model import Entity, Model

#: Arrow types of PostgreSQL's built-in types by OID, so that even an empty result is typed
#: as DuckDB would type it; numeric is left to Arrow, which reads each column's scale
_ARROW: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    25: pa.string(),
    700: pa.float32(),
    701: pa.float64(),
    1042: pa.string(),
    1043: pa.string(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
}


#: rows fetched from the server at a time, so that a result past its size limit is refused early
_BATCH_ROWS = 10_000


def driver() -> Any:
    """The psycopg module, or SEM412 saying which extra installs it."""
    try:
        import psycopg
    except ImportError:
        raise error(
            "SEM412",
            "the PostgreSQL engine needs the psycopg driver, which is not installed",
            None,
            "pip install 'semantic[postgres]'",
        ) from None
    return psycopg


class PostgresEngine:
    """A connection to a PostgreSQL database whose tables hold the model's entities."""

    dialect = "postgres"

    def __init__(self, model: Model, url: str, *, connect_timeout: int = 10) -> None:
        psycopg = driver()
        self.model = model
        self.url = url
        try:
            self.connection: Any = psycopg.connect(
                url, autocommit=True, connect_timeout=connect_timeout
            )
        except psycopg.ProgrammingError as exc:  # the URL itself does not parse
            raise error(
                "SEM410",
                f"invalid PostgreSQL URL '{redact(url)}': {_first_line(exc)}",
                None,
                "write postgresql://USER@HOST:PORT/DATABASE?OPTION=VALUE",
            ) from None
        except psycopg.Error as exc:
            raise error(
                "SEM411",
                f"cannot connect to PostgreSQL at {redact(url)}: {_first_line(exc)}",
                None,
                "check that the server runs and accepts connections, and the user, "
                "database and password (PGPASSWORD or ${VAR} in the URL)",
            ) from None

    def execute(
        self, sql: str, params: Mapping[str, Any] | None = None, limits: Limits | None = None
    ) -> pa.Table:
        """Run `sql` with named parameters bound by the server (never pasted into the text).

        With `limits`, the server stops a statement after `statement_timeout` (SEM434) and
        rows are read through a server-side cursor, a batch at a time, up to the size limits
        (SEM435), so a huge result never reaches this process whole.
        """
        psycopg = driver()
        text, values = _positional(sql, params or {})
        try:
            if limits is not None:
                return self._bounded(text, values, limits)
            with psycopg.RawCursor(self.connection) as cursor:
                cursor.execute(text, values or None)
                if cursor.description is None:
                    return pa.table({})
                names = [c.name for c in cursor.description]
                kinds = [_ARROW.get(c.type_code) for c in cursor.description]
                rows = cursor.fetchall()
        except psycopg.errors.QueryCanceled:
            raise too_slow(limits or Limits(), "PostgreSQL") from None
        except psycopg.OperationalError as exc:
            raise _lost(self.url, exc) from None
        except psycopg.Error as exc:
            raise error(
                "SEM404",
                f"PostgreSQL could not run the query: {_first_line(exc)}",
                None,
                "run `semantic check --data --engine ...` to compare the model with the tables",
            ) from None
        columns = [pa.array([row[i] for row in rows], kind) for i, kind in enumerate(kinds)]
        return pa.Table.from_arrays(columns, names=names)

    def _bounded(self, text: str, values: list[Any], limits: Limits) -> pa.Table:
        psycopg = driver()
        # a server-side cursor lives in a transaction, and SET LOCAL ends with it
        with self.connection.transaction():
            with psycopg.RawCursor(self.connection) as setter:
                setter.execute(f"SET LOCAL statement_timeout = {int(limits.timeout * 1000)}")
            with psycopg.RawServerCursor(self.connection, "semantic_result") as cursor:
                cursor.execute(text, values or None)
                if cursor.description is None:
                    return pa.table({})
                names = [c.name for c in cursor.description]
                kinds = [_ARROW.get(c.type_code) for c in cursor.description]

                def batches() -> Iterator[pa.RecordBatch]:
                    while rows := cursor.fetchmany(_BATCH_ROWS):
                        yield pa.RecordBatch.from_arrays(
                            [pa.array([r[i] for r in rows], k) for i, k in enumerate(kinds)],
                            names=names,
                        )

                parts = [pa.Table.from_batches([b]) for b in collect_batches(batches(), limits)]
        if not parts:
            return pa.Table.from_arrays([pa.array([], k) for k in kinds], names=names)
        # numeric columns are typed by Arrow from their values, batch by batch
        return pa.concat_tables(parts, promote_options="permissive")

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of `sql`, for checks."""
        psycopg = driver()
        try:
            with psycopg.RawCursor(self.connection) as cursor:
                cursor.execute(sql)
                return cursor.fetchall()
        except psycopg.OperationalError as exc:
            raise _lost(self.url, exc) from None
        except psycopg.Error as exc:
            raise error("SEM404", f"PostgreSQL could not run a check: {_first_line(exc)}") from None

    def publish(self, statements: Sequence[str]) -> None:
        """Run DDL statements in one transaction: all take effect or none does (PostgreSQL's
        DDL is transactional)."""
        with self.connection.transaction(), driver().RawCursor(self.connection) as cursor:
            for statement in statements:
                cursor.execute(statement)

    def check_schema(self) -> list[Diagnostic]:
        """Tables and columns of the model that the database lacks, or whose types differ,
        read from information_schema."""
        return compare_schema(
            self.model, self._columns, dialect="postgres", where=f"database {redact(self.url)}"
        )

    def _columns(self, entity: Entity) -> dict[str, str] | None:
        table = exp.to_table(entity.table)
        schema = to_sql(
            exp.Literal.string(table.db) if table.db else exp.func("current_schema"), "postgres"
        )
        rows = self.fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            f"WHERE table_schema = {schema} "
            f"AND table_name = {to_sql(exp.Literal.string(table.name), 'postgres')} "
            "ORDER BY ordinal_position"
        )
        return {str(name): str(kind) for name, kind in rows} or None

    def close(self) -> None:
        """Release the connection."""
        self.connection.close()


def _positional(sql: str, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """`sql` with named placeholders (`%(name)s`, `$name`, `:name`) turned into PostgreSQL's
    `$1`, `$2`... and the values in that order."""
    if not params:
        return sql, []
    try:
        tree = parse_one(sql, read="postgres")
    except SqlglotError:
        return sql, []  # the server will say what is wrong with it
    order: list[str] = []

    def number(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name in params:
            if node.name not in order:
                order.append(node.name)
            return exp.Parameter(this=exp.Literal.number(order.index(node.name) + 1))
        return node

    text = tree.transform(number).sql("postgres")
    return text, [params[name] for name in order]


def _lost(url: str, exc: Exception) -> SemanticError:
    return error(
        "SEM411",
        f"lost the connection to PostgreSQL at {redact(url)}: {_first_line(exc)}",
        None,
        "check that the server is still running, then retry",
    )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
