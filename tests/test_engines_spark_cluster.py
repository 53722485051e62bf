"""Spark beyond one process: a Spark Connect server (sc://) and the URLs that reach a cluster.

The TPC-H suite itself runs on the cluster and through Spark Connect in
tests/test_engines_tpch.py. These tests pin what happens around it: a Spark Connect engine
opens beside the local session, an engine on a second master is refused rather than silently
run on the first, an unreachable server fails at once, and a relative data folder of an engine
is the project's, not the working folder's.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from semantic.cli import app
from semantic.engines.spark import SparkEngine
from semantic.errors import SemanticError
from semantic.project import Project
from tests.conftest import ROOT

BOOKSHOP = ROOT / "examples" / "bookshop"


def test_a_connect_engine_and_a_local_engine_open_side_by_side(
    project: Project, spark_engine: SparkEngine, spark_connect_url: str
) -> None:
    """A Spark Connect engine is a client of its server: it opens while a local session runs
    (pyspark's own builder refuses), and a local engine opens after it (pyspark's builder
    would have switched the whole process to Spark Connect)."""
    remote = SparkEngine(project.model, project.data_dir, remote=spark_connect_url)
    try:
        bookshop = Project.load(BOOKSHOP)
        local = SparkEngine(bookshop.model, bookshop.data_dir, "csv", master="local[*]")
        try:
            assert local.fetch("SELECT count(*) FROM orders") == [(5,)]
        finally:
            local.close()
        assert remote.fetch("SELECT count(*) FROM orders") == [(15000,)]
        assert spark_engine.fetch("SELECT count(*) FROM orders") == [(15000,)]
    finally:
        remote.close()


def test_query_by_a_connect_url(spark_connect_url: str) -> None:
    """`--engine sc://...` opens a Spark Connect engine, which reads the project's files."""
    project = Project.load(ROOT)
    try:
        table = project.query("SELECT order_count", engine=spark_connect_url)
        assert table.column(0).to_pylist() == [15000]
    finally:
        project.close()


def test_an_engine_on_a_second_master_is_refused(
    project: Project, spark_engine: SparkEngine
) -> None:
    """Spark runs one master per process: a spark:// engine opened beside a local one would be
    handed the local context and run there, so it is refused."""
    with pytest.raises(SemanticError) as caught:
        SparkEngine(project.model, project.data_dir, master="spark://127.0.0.1:7")
    assert caught.value.code == "SEM432"
    assert "spark://127.0.0.1:7" in str(caught.value) and "local[2]" in str(caught.value)
    assert spark_engine.fetch("SELECT count(*) FROM region") == [(5,)]


@pytest.mark.parametrize("command", [["query", "SELECT order_count"], ["check", "--data"]])
def test_the_cli_closes_the_spark_engine_it_opens(
    spark_engine: SparkEngine, command: list[str]
) -> None:
    """A command's engine is closed when it ends: one left open would hold this process's
    Spark context on its master, and the next engine on another master would be refused."""
    before = SparkEngine._open
    result = CliRunner().invoke(
        app, ["--project", str(ROOT), *command, "--engine", "spark:local[2]"]
    )
    assert result.exit_code == 0, result.stderr
    assert SparkEngine._open == before


def test_an_unreachable_connect_server_fails_at_once(project: Project) -> None:
    """pyspark's client retries a server for ten minutes; opening an engine asks once."""
    pytest.importorskip("grpc", reason="the Spark Connect client is not installed")
    started = time.monotonic()
    with pytest.raises(SemanticError) as caught:
        SparkEngine(project.model, project.data_dir, remote="sc://127.0.0.1:9")
    assert caught.value.code == "SEM411"
    assert "Connection refused" in str(caught.value)
    assert time.monotonic() - started < 60


def test_a_missing_connect_client_is_sem412(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setitem(sys.modules, "pyspark.sql.connect.session", None)
    with pytest.raises(SemanticError) as caught:
        SparkEngine(project.model, project.data_dir, remote="sc://127.0.0.1:15002")
    assert caught.value.code == "SEM412"
    assert "semantic[spark-connect]" in (caught.value.diagnostics[0].hint or "")


def test_a_relative_engine_data_folder_is_the_projects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An engine's `data:` folder is relative to semantic.yml, like `data: dir:`: Spark
    executors and a Spark Connect server do not share the working folder, nor does a
    command run from elsewhere."""
    root = tmp_path / "bookshop"
    shutil.copytree(BOOKSHOP, root)
    config = root / "semantic.yml"
    config.write_text(config.read_text() + "engines:\n  files:\n    url: duckdb\n    data: data\n")
    monkeypatch.chdir(tmp_path)
    project = Project.load(root)
    try:
        assert project.query("SELECT order_count", engine="files").column(0).to_pylist() == [5]
    finally:
        project.close()
