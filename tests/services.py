"""Fixtures for tests that need a real PostgreSQL server or a Spark session.

`.ci/services` installs and starts them and exports SEMANTIC_TEST_POSTGRES (a PostgreSQL
URL) and SEMANTIC_REQUIRE_SERVICES=1. Without them these tests skip and say why; with
SEMANTIC_REQUIRE_SERVICES=1 a missing service fails them instead, so CI cannot pass by
skipping. TPC-H is loaded into PostgreSQL once per session, and the Spark session is
started once per session.

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


@pytest.fixture(scope="session")
def spark_engine(project: Project) -> Iterator[SparkEngine]:
    """The session's one local Spark engine over the TPC-H parquet files."""
    if importlib.util.find_spec("pyspark") is None:
        unavailable("pyspark is not installed")
    if shutil.which("java") is None:
        unavailable("java is not installed (Spark needs Java 17+)")
    project.prepare_data()
    engine = SparkEngine(
        project.model, project.data_dir, master=SPARK_MASTER.removeprefix("spark:")
    )
    yield engine
    engine.close()
