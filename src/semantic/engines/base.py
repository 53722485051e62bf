"""What every execution engine offers: run compiled SQL, read rows, publish DDL atomically.

An engine is chosen by URL (`duckdb:`, `duckdb:///path/file.duckdb`, `postgresql://...`,
`spark:local[*]`); each engine module implements this protocol, and code above the engines
(quality checks, views, the project) only speaks to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import pyarrow as pa

from semantic.errors import Diagnostic


class Engine(Protocol):
    """A connection to a database that runs the SQL the compiler writes."""

    #: the sqlglot dialect the engine's SQL is written in
    dialect: str

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Run a query with named parameters bound (never pasted into the text); SEM404 on
        failure."""
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
