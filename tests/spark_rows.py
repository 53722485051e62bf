"""Tiny tables loaded into Spark from Python rows, for the soundness tests whose data is
made in the test (generated or pinned rows) rather than read from the project's files.

`spark_rows(request, project)` gives a `SparkRows`: a Spark session of its own on the test
session's one Spark context (see `tests.tiny_engines.spark_views`), where `load` makes a
temporary view of the rows under the table's name and `run` runs SQL. Use it from a
module-scoped fixture, so that a module opens one session; the tests that use it are marked
`slow` (`SPARK`), as every Spark test is, and skip without Spark (`tests.services`).

Spark runs few queries a second on tiny tables, so a module runs its compiled queries on a
few pinned data sets there, each chosen to hold the edges its property test draws (NULL
keys, rows of no parent, parents without rows, ties), rather than on generated examples.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from semantic.engines.spark import SparkEngine
from semantic.project import Project
from tests.tiny_engines import spark_views

#: the Spark engine as a parameter next to the others: slow, as starting Spark is
SPARK = pytest.param("spark", marks=pytest.mark.slow)

Rows = Sequence[tuple[Any, ...]]


class SparkRows:
    """A Spark session whose tables are temporary views over rows given in Python."""

    dialect = "spark"

    def __init__(self, engine: SparkEngine) -> None:
        self.engine = engine

    def load(self, table: str, columns: str, rows: Rows) -> None:
        """Make `table` the view of `rows`, typed by `columns` (Spark DDL: `id INT, day
        DATE`), replacing what it held."""
        frame = self.engine.session.createDataFrame(list(rows), schema=columns)
        frame.createOrReplaceTempView(table)

    def run(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of `sql`."""
        return self.engine.fetch(sql)


def spark_rows(request: pytest.FixtureRequest, project: Project) -> Iterator[SparkRows]:
    """A `SparkRows` for `project`'s queries (skips without Spark)."""
    for engine in spark_views(request, project):
        yield SparkRows(engine)
