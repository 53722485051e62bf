"""Apache Spark: compiled SQL runs in a Spark session over the project's data files.

Each entity is a temporary view over its data file (`<data>/<table>.parquet` or `.csv`), so
the same files serve DuckDB here and Spark on a laptop (`spark:local[*]`), a cluster
(`spark://host:7077`, the files on storage every executor reads) or a Spark Connect server
(`sc://host:15002`). Parameters are Spark's named parameter markers (`:name`), bound by
Spark. Install the driver with `pip install semantic[spark]`; Spark needs Java 17 or later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
from sqlglot import exp

from semantic.compiler.dialects import to_sql
from semantic.engines.base import Limits, collect, deadline, too_slow
from semantic.engines.catalog import compare_schema
from semantic.errors import Diagnostic, SemanticError, error
from semantic.model import Entity, Model


def driver() -> Any:
    """pyspark's SparkSession, or SEM412 saying which extra installs it."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise error(
            "SEM412",
            "the Spark engine needs pyspark, which is not installed",
            None,
            "pip install 'semantic[spark]' (and Java 17 or later)",
        ) from None
    return SparkSession


class SparkEngine:
    """A Spark session with a temporary view per entity over the data files.

    `master` is a Spark master (`local[*]`, `spark://host:7077`); `remote` a Spark Connect
    URL (`sc://host:15002`) used instead. Spark keeps one context per process: engines share
    it, each with a session and views of its own, and closing the last one stops it.
    """

    dialect = "spark"
    #: engines open in this process, which share one Spark context
    _open: ClassVar[int] = 0

    def __init__(
        self,
        model: Model,
        data: str | Path,
        fmt: str = "parquet",
        master: str = "local[*]",
        *,
        remote: str | None = None,
    ) -> None:
        session_class = driver()
        self.model = model
        self.data = str(data).rstrip("/")
        self.fmt = fmt
        self.where = remote or master
        builder = session_class.builder.appName("semantic")
        if remote:
            builder = builder.remote(remote)
        else:
            builder = (
                builder.master(master)
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")  # no progress bars on stderr
            )
            if master.startswith("local"):
                # the data of one machine: a few partitions, not the default two hundred; and
                # the loopback address, which needs no host name resolution
                builder = (
                    builder.config("spark.sql.shuffle.partitions", "4")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                )
        try:
            self.session = builder.getOrCreate()
        except ImportError as exc:  # Spark Connect's own dependencies
            raise error(
                "SEM412",
                f"Spark Connect needs more packages: {_first_line(exc)}",
                None,
                "pip install 'pyspark[connect]'",
            ) from None
        except Exception as exc:  # pyspark raises many kinds: no Java, no master, no server
            raise error(
                "SEM411",
                f"cannot start a Spark session on {self.where}: {_first_line(exc)}",
                None,
                "check that Java 17+ is installed (`java -version`) and the master or Spark "
                "Connect server is reachable",
            ) from None
        if not remote:
            self.session.sparkContext.setLogLevel("ERROR")  # warnings would drown our output
            # a session of its own on the shared Spark context: its temporary views are apart
            # from other engines' (two projects may both have an `orders` table)
            self.session = self.session.newSession()
        SparkEngine._open += 1
        self.views: list[str] = []
        self.closed = False
        self._register()

    def _register(self) -> None:
        for entity in self.model.entities.values():
            location = f"{self.data}/{entity.table.split('.')[-1]}.{self.fmt}"
            if "://" not in location and not Path(location).exists():
                continue  # check_schema reports the missing table
            reader = self.session.read
            if self.fmt == "csv":
                reader = reader.option("header", True)
                typed = [c for c in entity.columns.values() if c.type]
                if len(typed) == len(entity.columns):
                    reader = reader.schema(
                        ", ".join(
                            f"{to_sql(exp.to_identifier(c.name), 'spark')} "
                            f"{to_sql(exp.DataType.build(c.type or '', dialect='duckdb'), 'spark')}"
                            for c in typed
                        )
                    )
                else:
                    reader = reader.option("inferSchema", True)
            try:
                frame = reader.format(self.fmt).load(location)
            except Exception:
                continue  # unreadable or absent remote file: check_schema reports it
            table = exp.to_table(entity.table)
            if table.db:
                raise error(
                    "SEM414",
                    f"entity '{entity.id}': the Spark engine reads files into temporary views, "
                    f"which have no schema ('{entity.table}')",
                    entity.span,
                    "name the table without a schema, or run the model on a Spark catalog "
                    "through Spark Connect",
                )
            frame.createOrReplaceTempView(table.name)
            self.views.append(table.name)

    def execute(
        self, sql: str, params: Mapping[str, Any] | None = None, limits: Limits | None = None
    ) -> pa.Table:
        """Run `sql` with named parameters bound by Spark (never pasted into the text); with
        `limits`, its jobs are cancelled after the time-out (SEM434) and at most one row more
        than the limit is brought back (SEM435)."""
        fired = None
        try:
            frame = self.session.sql(sql, args=dict(params) if params else None)
            if limits is None:
                return frame.toArrow()
            if limits.max_rows:
                frame = frame.limit(limits.max_rows + 1)
            with deadline(limits.timeout, self._cancel) as fired:
                table = frame.toArrow()
            return collect(table.to_batches(), table.schema, limits)
        except SemanticError:
            raise
        except Exception as exc:  # AnalysisException, ParseException, Py4JJavaError...
            if fired is not None and fired.is_set() and limits is not None:
                raise too_slow(limits, "Spark") from None
            raise error(
                "SEM404",
                f"Spark could not run the query: {_first_line(exc)}",
                None,
                "run `semantic check --data --engine ...` to compare the model with the data",
            ) from None

    def _cancel(self) -> None:
        """Stop the running jobs: Spark Connect interrupts its operations, a classic session
        cancels its jobs."""
        interrupt = getattr(self.session, "interruptAll", None)
        if interrupt is not None:
            try:
                interrupt()
                return
            except Exception:  # a classic session may not support it
                pass
        self.session.sparkContext.cancelAllJobs()

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of `sql`, for checks."""
        try:
            return [tuple(row) for row in self.session.sql(sql).collect()]
        except Exception as exc:
            raise error("SEM404", f"Spark could not run a check: {_first_line(exc)}") from None

    def publish(self, statements: Sequence[str]) -> None:
        """Refused: Spark runs each statement on its own, so views could be left half
        replaced."""
        raise error(
            "SEM414",
            "Spark cannot publish statements atomically (it has no transactions)",
            None,
            "publish views to DuckDB or PostgreSQL, or create them in Spark yourself",
        )

    def check_schema(self) -> list[Diagnostic]:
        """Tables and columns of the model that the session lacks, or whose types differ."""
        return compare_schema(self.model, self._columns, dialect="spark", where=self.data)

    def _columns(self, entity: Entity) -> dict[str, str] | None:
        try:
            schema = self.session.table(to_sql(exp.to_table(entity.table), "spark")).schema
        except Exception:
            return None
        return {f.name: f.dataType.simpleString() for f in schema.fields}

    def close(self) -> None:
        """Drop this engine's views; stop Spark when no other engine of the process uses it."""
        if self.closed:
            return
        self.closed = True
        for view in self.views:
            self.session.catalog.dropTempView(view)
        self.views = []
        SparkEngine._open -= 1
        if SparkEngine._open == 0:
            self.session.stop()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
