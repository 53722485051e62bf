"""Shared fixtures: the default TPC-H project, with its scale-0.01 data generated once."""

from __future__ import annotations

from pathlib import Path

import pytest

from semantic.project import Project

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def project() -> Project:
    """The repository's own project (TPC-H, English and French), data ready."""
    loaded = Project.load(ROOT)
    loaded.prepare_data()
    return loaded


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--update-goldens` rewrites the golden SQL files of tests/test_dialects.py."""
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/fixtures/dialects/<dialect>/<query>.sql from the compiler",
    )


# PostgreSQL and Spark (local, cluster, Connect), shared by every test that runs on them
from tests.services import (  # noqa: E402, F401
    postgres_engine,
    postgres_url,
    spark_cluster_engine,
    spark_connect_engine,
    spark_connect_url,
    spark_engine,
    spark_masters,
)
