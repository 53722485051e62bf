"""The default project's data copied into a SQLite database, to run SQLite-dialect SQL on.

SQLite has no DATE type: dates are stored as ISO text (`'1995-03-15'`), which SQLite's date
functions read and which compares in date order. Decimals become REAL.
"""

from __future__ import annotations

import datetime as dt
import decimal
import sqlite3
from pathlib import Path
from typing import Any

from semantic.project import Project


def _cell(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def copy_to_sqlite(project: Project, path: Path) -> sqlite3.Connection:
    """A SQLite database at `path` holding every entity table of `project`'s DuckDB data."""
    target = sqlite3.connect(path)
    source = project.engine.connection
    for entity in project.model.entities.values():
        result = source.execute(f"SELECT * FROM {entity.table}")
        names = [d[0] for d in result.description]
        rows = [tuple(_cell(v) for v in row) for row in result.fetchall()]
        columns = ", ".join(f'"{n}"' for n in names)
        target.execute(f"CREATE TABLE {entity.table} ({columns})")
        marks = ", ".join("?" for _ in names)
        target.executemany(f"INSERT INTO {entity.table} VALUES ({marks})", rows)
    # an index on the columns of each join, as a real database has: without them SQLite runs a
    # hand-written correlated EXISTS over lineitem once per order (most of a minute); an index
    # changes no row of any result
    joined = {
        (project.model.entities[edge.source].table, tuple(a for a, _ in edge.keys))
        for edges in project.model.edges.values()
        for edge in edges
    }
    for i, (table, columns) in enumerate(sorted(joined)):
        listing = ", ".join(f'"{c}"' for c in columns)
        target.execute(f'CREATE INDEX "join_{i}" ON {table} ({listing})')
    target.commit()
    return target
