"""What every execution engine offers: run compiled SQL, read rows, publish DDL atomically.

An engine is chosen by URL (`duckdb:`, `duckdb:///path/file.duckdb`, `postgresql://...`,
`spark:local[*]`); each engine module implements this protocol, and code above the engines
(quality checks, views, the project) only speaks to it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from semantic.errors import Diagnostic, SemanticError, error

if TYPE_CHECKING:
    import pyarrow as pa  # imported where tables are made: loading a project needs none


@dataclass(frozen=True, slots=True)
class Limits:
    """How long one query may run and how large its result may be; 0 means no limit.

    Set in semantic.yml (`limits:`), on the command line (`--timeout`, `--max-rows`) or in
    `Project.query(limits=...)`; a query past them stops with SEM434 or SEM435.
    """

    #: seconds a query may run
    timeout: float = 300.0
    #: rows a result may have
    max_rows: int = 1_000_000
    #: megabytes a result may take in memory (as Arrow)
    max_megabytes: float = 1024.0


def too_slow(limits: Limits, engine: str) -> SemanticError:
    """SEM434: the query ran past `limits.timeout`."""
    return error(
        "SEM434",
        f"{engine} stopped the query after the time-out of {limits.timeout:g} s",
        None,
        "filter or group more coarsely; or raise `limits: timeout:` in semantic.yml "
        "(or --timeout), 0 for none",
    )


def collect(batches: Iterable[pa.RecordBatch], schema: pa.Schema, limits: Limits) -> pa.Table:
    """The table of `batches`, read only while it stays within `limits` (SEM435 past them),
    so that a huge result is refused before it is all in memory."""
    import pyarrow as pa

    return pa.Table.from_batches(collect_batches(batches, limits), schema=schema)


def collect_batches(batches: Iterable[pa.RecordBatch], limits: Limits) -> list[pa.RecordBatch]:
    """`batches` read while they stay within `limits`; SEM435 as soon as they do not."""
    kept: list[pa.RecordBatch] = []
    rows = size = 0
    for batch in batches:
        rows += batch.num_rows
        size += batch.nbytes
        if limits.max_rows and rows > limits.max_rows:
            raise error(
                "SEM435",
                f"the result has more than {limits.max_rows:,} rows (the limit)",
                None,
                "add a filter or a LIMIT, or group more coarsely; or raise `limits: max_rows:` "
                "in semantic.yml (or --max-rows), 0 for none",
            )
        if limits.max_megabytes and size > limits.max_megabytes * 1e6:
            raise error(
                "SEM435",
                f"the result takes more than {limits.max_megabytes:g} MB (the limit)",
                None,
                "select fewer or shorter columns, or add a filter or a LIMIT; or raise "
                "`limits: max_megabytes:` in semantic.yml, 0 for none",
            )
        kept.append(batch)
    return kept


@contextmanager
def deadline(seconds: float, stop: Callable[[], object]) -> Iterator[threading.Event]:
    """Call `stop` from a timer thread if the block runs longer than `seconds` (0: never),
    or when the request it runs for is cancelled (`engines.cancel`: SEM469 then); the event
    yielded is set once the timer called it."""
    from semantic.engines.cancel import stopping

    fired = threading.Event()
    if not seconds:
        with stopping(stop):
            yield fired
        return

    def expire() -> None:
        fired.set()
        stop()

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        with stopping(stop):
            yield fired
    finally:
        timer.cancel()


class Engine(Protocol):
    """A connection to a database that runs the SQL the compiler writes."""

    #: the sqlglot dialect the engine's SQL is written in
    dialect: str

    def execute(
        self, sql: str, params: Mapping[str, Any] | None = None, limits: Limits | None = None
    ) -> pa.Table:
        """Run a query with named parameters bound (never pasted into the text), within
        `limits` (no limit when None); SEM404 on failure, SEM434/SEM435 past the limits."""
        ...

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of `sql`, for checks."""
        ...

    def check_schema(self) -> list[Diagnostic]:
        """Tables and columns of the model that the database lacks, or whose types differ."""
        ...

    def publish(self, statements: Sequence[str]) -> None:
        """Run DDL statements in one transaction: all take effect or none does."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
