"""Fixtures for tests that need a real PostgreSQL server, a Spark session, a Spark cluster or
a Spark Connect server.

`.ci/services` installs and starts them and exports SEMANTIC_TEST_POSTGRES (a PostgreSQL
URL), SEMANTIC_TEST_SPARK_MASTER (a standalone master, spark://...), SEMANTIC_TEST_SPARK_CONNECT
(a Spark Connect server, sc://...) and SEMANTIC_REQUIRE_SERVICES=1. Without them these tests
skip and say why; with SEMANTIC_REQUIRE_SERVICES=1 a missing service fails them instead, so CI
cannot pass by skipping. TPC-H is loaded into PostgreSQL once per session; the Spark engines
are started once per session, except that Spark runs one master per process: asking for the
cluster closes the local engine, and the other way round.

The local Spark session (`spark:local[2]`, no service) starts only when SEMANTIC_SLOW=1 (`make
test-all`) or a Spark service variable is set: Java being installed is not enough, so that
`make test` never starts a JVM.

Use them from any test module: `def test_x(postgres_engine: PostgresEngine) -> None`.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from typing import NoReturn

import pytest

from semantic.engines.postgres import PostgresEngine
from semantic.engines.spark import SparkEngine
from semantic.project import Project

#: the variable .ci/services exports with the test database's URL
POSTGRES_VARIABLE = "SEMANTIC_TEST_POSTGRES"
#: the master of the tests' Spark session: two cores, as on CI
SPARK_MASTER = "spark:local[2]"
#: the variables .ci/services exports with the cluster's master and the Connect server's URL
SPARK_MASTER_VARIABLE = "SEMANTIC_TEST_SPARK_MASTER"
SPARK_CONNECT_VARIABLE = "SEMANTIC_TEST_SPARK_CONNECT"


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail when the services are required (CI)."""
    if os.environ.get("SEMANTIC_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}, and SEMANTIC_REQUIRE_SERVICES=1 requires it")
    pytest.skip(f'{reason}: run `eval "$(bash .ci/services)"` first')


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The URL of the test database (.ci/services creates it)."""
    url = os.environ.get(POSTGRES_VARIABLE)
    if not url:
        unavailable(f"{POSTGRES_VARIABLE} is not set")
    if importlib.util.find_spec("psycopg") is None:
        unavailable("psycopg is not installed")
    return url


@pytest.fixture(scope="session")
def postgres_engine(project: Project, postgres_url: str) -> Iterator[PostgresEngine]:
    """A PostgreSQL engine on the test database, with TPC-H scale 0.01 loaded."""
    engine = PostgresEngine(project.model, postgres_url)
    project.load_data(engine)
    yield engine
    engine.close()


def spark_wanted() -> bool:
    """Whether this run is meant to start Spark: the slow tier (SEMANTIC_SLOW=1, as `make
    test-all` sets) or a Spark service exported by .ci/services. Not merely Java: the first
    Spark test starts a JVM, minutes on a busy machine, which `make test` does not spend."""
    return os.environ.get("SEMANTIC_SLOW") == "1" or any(
        os.environ.get(name) for name in (SPARK_MASTER_VARIABLE, SPARK_CONNECT_VARIABLE)
    )


def require_spark() -> None:
    """Skip unless this run starts Spark (`spark_wanted`); then skip (or fail) unless pyspark
    and Java are there."""
    if not spark_wanted():
        pytest.skip(
            "Spark starts a JVM: set SEMANTIC_SLOW=1 (`make test-all`) or run "
            '`eval "$(bash .ci/services)"` first'
        )
    if importlib.util.find_spec("pyspark") is None:
        unavailable("pyspark is not installed")
    if shutil.which("java") is None:
        unavailable("java is not installed (Spark needs Java 17+)")


class SparkMasters:
    """The session's Spark engine on a master, one master at a time: Spark runs one per
    process, so asking for another master closes the engine on the current one."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.engine: SparkEngine | None = None

    def on(self, master: str) -> SparkEngine:
        """The engine on `master` over the TPC-H parquet files, started when needed."""
        if self.engine is not None and not self.engine.closed and self.engine.where == master:
            return self.engine
        self.close()
        self.project.prepare_data()
        self.engine = SparkEngine(self.project.model, self.project.data_dir, master=master)
        return self.engine

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None


@pytest.fixture(scope="session")
def spark_masters(repository_project: Project) -> Iterator[SparkMasters]:
    """The session's classic Spark engine (local or on the cluster), stopped at the end; on
    the repository's project, even when asked from a module whose `project` is its own."""
    masters = SparkMasters(repository_project)
    yield masters
    masters.close()


@pytest.fixture
def spark_engine(spark_masters: SparkMasters) -> SparkEngine:
    """The session's local Spark engine over the TPC-H parquet files."""
    require_spark()
    return spark_masters.on(SPARK_MASTER.removeprefix("spark:"))


@pytest.fixture
def spark_cluster_engine(spark_masters: SparkMasters) -> SparkEngine:
    """A Spark engine whose driver is this process and whose executors run on the standalone
    cluster of SEMANTIC_TEST_SPARK_MASTER; they read the parquet files at their absolute
    paths (the cluster is on this machine)."""
    require_spark()
    master = os.environ.get(SPARK_MASTER_VARIABLE)
    if not master:
        unavailable(f"{SPARK_MASTER_VARIABLE} is not set")
    return spark_masters.on(master)


@pytest.fixture(scope="session")
def spark_connect_url() -> str:
    """The URL of the Spark Connect server (.ci/services starts it)."""
    url = os.environ.get(SPARK_CONNECT_VARIABLE)
    if not url:
        unavailable(f"{SPARK_CONNECT_VARIABLE} is not set")
    require_spark()
    if importlib.util.find_spec("grpc") is None:
        unavailable(
            "the Spark Connect client is not installed (pip install 'semantic[spark-connect]')"
        )
    return url


@pytest.fixture(scope="session")
def spark_connect_engine(project: Project, spark_connect_url: str) -> Iterator[SparkEngine]:
    """A session on the Spark Connect server, which reads the TPC-H parquet files at their
    absolute paths (the server is on this machine)."""
    project.prepare_data()
    engine = SparkEngine(project.model, project.data_dir, remote=spark_connect_url)
    yield engine
    engine.close()
