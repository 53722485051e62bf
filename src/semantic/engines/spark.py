"""Apache Spark: compiled SQL runs in a Spark session over the project's data files.

Each entity is a temporary view over its data file (`<data>/<table>.parquet` or `.csv`), so
the same files serve DuckDB here and Spark on a laptop (`spark:local[*]`), a cluster
(`spark://host:7077`, the files on storage every executor reads) or a Spark Connect server
(`sc://host:15002`, the files on the server's storage). Parameters are Spark's named
parameter markers (`:name`), bound by Spark. Install the driver with
`pip install semantic[spark]` (Spark needs Java 17 or later), and for Spark Connect
`pip install semantic[spark-connect]`.
"""

from __future__ import annotations

import logging
import re
import warnings
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
    _quiet_query_errors()
    return SparkSession


def connect_driver() -> Any:
    """pyspark's Spark Connect SparkSession, or SEM412 saying which extra installs its client
    (gRPC, protobuf, pandas: not needed by a local session, so not in `semantic[spark]`)."""
    driver()
    try:
        from pyspark.sql.connect.session import SparkSession
    except ImportError as exc:
        raise error(
            "SEM412",
            f"a Spark Connect engine (sc://) needs more packages: {_reason(exc)}",
            None,
            "pip install 'semantic[spark-connect]'",
        ) from None
    return SparkSession


class SparkEngine:
    """A Spark session with a temporary view per entity over the data files.

    `master` is a Spark master (`local[*]`, `spark://host:7077`); `remote` a Spark Connect
    URL (`sc://host:15002`) used instead. Spark keeps one context, on one master, per
    process: engines on a master share it, each with a session and views of its own, and
    closing the last one stops it. A Spark Connect engine has a server session of its own.
    """

    dialect = "spark"
    #: engines on a master open in this process, which share one Spark context
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
        self.model = model
        self.data = data_location(data)
        self.fmt = fmt
        self.remote = remote
        self.where = remote or master
        self.session = _connect(remote) if remote else _start(master)
        if not remote:
            SparkEngine._open += 1
        self.views: list[str] = []
        self.closed = False
        try:
            self._register()
        except BaseException:
            self.close()  # or the process's Spark context would stay counted as in use
            raise

    def _register(self) -> None:
        for entity in self.model.entities.values():
            table = exp.to_table(entity.table)
            if table.db:
                raise error(
                    "SEM414",
                    f"entity '{entity.id}': the Spark engine reads files into temporary views, "
                    f"which have no schema ('{entity.table}')",
                    entity.span,
                    f"name the table without a schema: the engine reads "
                    f"<data>/{table.name}.{self.fmt} into a view called {table.name}",
                )
            location = f"{self.data}/{table.name}.{self.fmt}"
            # a Spark Connect server reads its own disks, which this process may not see
            if not self.remote and "://" not in location and not Path(location).exists():
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
                # Spark Connect reads lazily: the view's creation is what finds a missing file
                reader.format(self.fmt).load(location).createOrReplaceTempView(table.name)
            except Exception:
                continue  # unreadable or absent file: check_schema reports it
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
                f"Spark could not run the query: {_reason(exc)}",
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
            raise error("SEM404", f"Spark could not run a check: {_reason(exc)}") from None

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
        """Drop this engine's views; stop its Spark Connect session, or Spark when no other
        engine of the process uses it."""
        if self.closed:
            return
        self.closed = True
        for view in self.views:
            self.session.catalog.dropTempView(view)
        self.views = []
        if self.remote:
            self.session.stop()
            return
        SparkEngine._open -= 1
        if SparkEngine._open == 0:
            self.session.stop()


def data_location(data: str | Path) -> str:
    """Where Spark reads the data files: a URL as written, a folder as an absolute path, since
    executors and a Spark Connect server do not share this process's working directory.

    >>> data_location("s3a://lake/tpch/"), data_location("/srv/data/")
    ('s3a://lake/tpch', '/srv/data')
    """
    text = str(data)
    if "://" in text:
        return text.rstrip("/")
    return str(Path(text).resolve())


def same_master(running: str, wanted: str) -> bool:
    """Whether a Spark context on `running` serves an engine that asked for `wanted`: the same
    URL, or two local masters (they differ only in threads, and give the same rows).

    >>> same_master("local[2]", "local[*]"), same_master("local[2]", "spark://h:7077")
    (True, False)
    """
    return running == wanted or (running.startswith("local") and wanted.startswith("local"))


def _start(master: str) -> Any:
    """A session of its own on this process's Spark context, started on `master` (SEM432
    when the context runs on another master: Spark has one per process)."""
    session_class = driver()
    from pyspark import SparkContext

    context = SparkContext._active_spark_context
    running = str(context.master) if context is not None else None
    if running is not None and not same_master(running, master):
        # getOrCreate would hand back the running context: the queries would run there
        raise error(
            "SEM432",
            f"cannot open a Spark engine on {master}: this process already runs Spark on "
            f"{running}, and Spark runs one master per process",
            None,
            f"close the engines on {running} first, or query {master} from another "
            "process (or through a Spark Connect server: sc://HOST:15002)",
        )
    builder = (
        session_class.builder.appName("semantic")
        .master(master)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # no progress bars on stderr
    )
    if master.startswith("local"):
        # the data of one machine: a few partitions, not the default two hundred; and the
        # loopback address, which needs no host name resolution
        builder = (
            builder.config("spark.sql.shuffle.partitions", "4")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
        )
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # pyspark raises many kinds: no Java, no master
        raise error(
            "SEM411",
            f"cannot start a Spark session on {master}: {_reason(exc)}",
            None,
            "check that Java 17+ is installed (`java -version`) and the master is reachable",
        ) from None
    session.sparkContext.setLogLevel("ERROR")  # warnings would drown our output
    # a session of its own on the shared Spark context: its temporary views are apart from
    # other engines' (two projects may both have an `orders` table)
    return session.newSession()


def _connect(remote: str) -> Any:
    """A new session on the Spark Connect server at `remote` (SEM411 when it does not
    answer within a few seconds)."""
    session_class = connect_driver()
    from pyspark.sql.connect.client.retries import DefaultPolicy

    try:
        # create, not getOrCreate: getOrCreate hands every engine on one server the same
        # session, and a second project's views would replace the first one's; nor the
        # classic builder's remote(), which switches the whole process to Spark Connect
        session = session_class.builder.remote(remote).create()
        # the client retries an unreachable server for ten minutes: ask once, briefly
        retries = session.client.get_retry_policies()
        session.client.set_retry_policies([DefaultPolicy(max_retries=3)])
        with warnings.catch_warnings():  # its RETRIES_EXCEEDED warning says it again
            warnings.simplefilter("ignore")
            try:
                session.version  # noqa: B018 (a round trip to the server)
            except Exception:
                session.stop()  # now, briefly, rather than retried when Python exits
                raise
        session.client.set_retry_policies(retries)
    except Exception as exc:
        raise error(
            "SEM411",
            f"cannot open a Spark Connect session on {remote}: {_reason(exc)}",
            None,
            "check that the Spark Connect server runs and is reachable "
            "(sbin/start-connect-server.sh of a Spark distribution)",
        ) from None
    return session


def _quiet_query_errors() -> None:
    """pyspark logs each failed query's error as JSON on stderr; the engine raises it as
    SEM404 with the same message, so the log is only noise."""
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # pyspark before 4
        return
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)


def _reason(exc: BaseException) -> str:
    """The useful line of a pyspark or gRPC error."""
    text = str(exc).strip()
    # gRPC's errors print as `<_InactiveRpcError ...>` with the reason on a `details` line
    details = re.search(r'details = "([^"\n]*)', text)
    if details:
        return details.group(1)
    return text.splitlines()[0] if text else type(exc).__name__
