"""Shared fixtures: the default TPC-H project, with its scale-0.01 data generated once."""

from __future__ import annotations

import os
import pickle
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from sqlglot import exp

from semantic.compiler.dialects import core as dialect_pass
from semantic.compiler.naming import name_clashes
from semantic.compiler.plan import Plan
from semantic.files import read
from semantic.outputs import views
from semantic.project import Project
from tests.sqlite_db import copy_to_sqlite

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def repository_project() -> Project:
    """The repository's own project (TPC-H, English and French), data ready: `project`,
    under a name that no test module overrides, for the session's fixtures (the Spark
    engine) that a module with a `project` of its own reaches too."""
    loaded = Project.load(ROOT)
    loaded.prepare_data()
    return loaded


@pytest.fixture(scope="session")
def project(repository_project: Project) -> Project:
    """The repository's own project (TPC-H, English and French), data ready."""
    return repository_project


@pytest.fixture(scope="session")
def tpch_sqlite(project: Project, tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    """The default project's data copied into a SQLite file once per session (see
    tests/sqlite_db.py), for the modules that run SQLite-dialect SQL on it; read only."""
    return copy_to_sqlite(project, tmp_path_factory.mktemp("tpch-sqlite") / "tpch.sqlite")


def assert_names_unique(tree: exp.Expression) -> None:
    """No scope of `tree` holds two columns, tables or CTEs of one name (ignoring case)."""
    clashes = name_clashes(tree)
    assert not clashes, "\n".join(clashes)


@pytest.fixture(scope="session", autouse=True)
def key_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The measures of key integrity that queries keep (semantic.engines.integrity_cache)
    go to a folder of the test session, not to the user's cache."""
    patch = pytest.MonkeyPatch()
    patch.setenv("SEMANTIC_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield
    patch.undo()


@pytest.fixture(scope="session", autouse=True)
def names_checked() -> Iterator[None]:
    """Every SQL the tests compile is checked for names that clash (see semantic.compiler.naming):
    every tree on the one road to engine SQL (`to_sql`, after the dialect pass), and the
    query of every view."""
    patch = pytest.MonkeyPatch()
    adapt, build_tree = dialect_pass.adapt, views.build_tree

    def checked_adapt(
        tree: exp.Expression, dialect: str, schema: Mapping[str, Mapping[str, str]] | None = None
    ) -> exp.Expression:
        adapted = adapt(tree, dialect, schema)
        assert_names_unique(adapted)
        return adapted

    def checked_build_tree(plan: Plan) -> exp.Select:
        tree = build_tree(plan)
        assert_names_unique(tree)
        return tree

    checked_adapt.checks_names = True  # type: ignore[attr-defined]
    # `to_sql` calls the `adapt` of the module that defines both
    patch.setattr(dialect_pass, "adapt", checked_adapt)
    patch.setattr(views, "build_tree", checked_build_tree)
    yield
    patch.undo()


#: the largest file text `yaml_parsed_once` keeps (the tests' huge generated files are read once)
YAML_CACHED_UP_TO = 200_000


@pytest.fixture(scope="session", autouse=True)
def yaml_parsed_once() -> Iterator[None]:
    """Each distinct text of a project file is parsed once per test session: hundreds of tests
    load the repository's project, and ruamel's round-trip parser, pure Python, took a sixth
    of the CPU time of the test files that load it most. Every later read of the same text
    gets a copy of that first tree, unpickled (as `files.cache` keeps trees; ruamel's deep copy
    drops timestamps' zones; its pickles keep line, column and comments), so
    no test sees another's changes; everything after the parse (the schema, the checks)
    still runs on every read, and a text that does not parse is parsed again each time (its
    error is what such tests check)."""
    patch = pytest.MonkeyPatch()
    make = read._yaml
    trees: dict[str, Any] = {}

    def yaml_with_memory() -> YAML:
        yaml = make()
        load = yaml.load

        def load_once(text: Any) -> Any:
            if not isinstance(text, str) or len(text) > YAML_CACHED_UP_TO:
                return load(text)
            if text not in trees:
                trees[text] = pickle.dumps(load(text))
            return pickle.loads(trees[text])

        yaml.load = load_once  # type: ignore[method-assign]
        return yaml

    patch.setattr(read, "_yaml", yaml_with_memory)
    yield
    patch.undo()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `slow` run only with SEMANTIC_SLOW=1 (`make test-all` sets it)."""
    if os.environ.get("SEMANTIC_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: `make test-all` (SEMANTIC_SLOW=1) runs it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--update-goldens` rewrites the golden SQL files of tests/test_dialects.py and the
    plan shape snapshots of tests/test_shapes.py."""
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite the golden SQL (tests/fixtures/dialects) and shapes (tests/fixtures/shapes)",
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
