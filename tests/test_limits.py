"""Statement time-out (SEM434) and result-size limit (SEM435): a query that would run for
minutes, or return far too much, stops in bounded time with a coded error.

The functions that make a query slow (`sleep_ms`, `repeat`, `range`) are refused in business
queries (SEM325), so the slow and large queries here come from the glossary itself: a metric
whose definition sleeps, and a dimension with one value per row.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from semantic.engines.base import Limits
from semantic.engines.postgres import PostgresEngine
from semantic.errors import SemanticError
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.projects import write_data, write_project

SCHEMA = "limits_test"

MODEL = f"""
entities:
  events:
    table: {SCHEMA}.events
    primary_key: [id]
    columns: {{id: {{type: integer}}, kind: {{type: varchar}}}}
"""

# each metric sleeps a minute per row, in the function of its engine
GLOSSARY = """
domain: ops
terms:
  event_id: {label: {en: Event}, dimension: {entity: events, expr: id}}
  event_kind: {label: {en: Kind}, dimension: {entity: events, expr: kind}}
  event_count: {label: {en: Events}, metric: {entity: events, expr: count(*)}}
  slow_count: {label: {en: Slow count}, metric: {entity: events, expr: count(sleep_ms(60000))}}
  slow_count_pg: {label: {en: Slow count pg}, metric: {entity: events, expr: count(pg_sleep(60))}}
"""

ROWS = 5000


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = write_project(
        tmp_path_factory.mktemp("limits"), {"models/ops.yml": MODEL, "glossary/ops.yml": GLOSSARY}
    )
    write_data(
        root, {"events": f"SELECT range AS id, 'k' || (range % 3) AS kind FROM range({ROWS})"}
    )
    return Project.load(root)


def test_a_slow_query_stops_at_the_time_out(events: Project) -> None:
    started = time.monotonic()
    with pytest.raises(SemanticError) as caught:
        events.query("SELECT event_kind, slow_count", limits=Limits(timeout=0.5))
    assert caught.value.code == "SEM434"
    assert time.monotonic() - started < 10


def test_a_large_result_is_refused(events: Project) -> None:
    with pytest.raises(SemanticError) as caught:
        events.query("SELECT event_id, event_count", limits=Limits(max_rows=100))
    assert caught.value.code == "SEM435"
    assert "100 rows" in caught.value.diagnostics[0].message
    with pytest.raises(SemanticError) as caught:
        events.query("SELECT event_id, event_count", limits=Limits(max_megabytes=0.01))
    assert caught.value.code == "SEM435"


def test_within_the_limits_nothing_changes(events: Project) -> None:
    limited = events.query(
        "SELECT event_kind, event_count ORDER BY 1", limits=Limits(timeout=30, max_rows=3)
    )
    assert limited == events.engine.execute(
        events.compile("SELECT event_kind, event_count ORDER BY 1")
    )
    assert limited.to_pylist() == [
        {"event_kind": "k0", "event_count": 1667},
        {"event_kind": "k1", "event_count": 1667},
        {"event_kind": "k2", "event_count": 1666},
    ]


def test_semantic_yml_sets_the_limits(events: Project, tmp_path: Path) -> None:
    assert events.limits == Limits()
    text = (events.root / "semantic.yml").read_text()
    (tmp_path / "semantic.yml").write_text(text + "limits: {timeout: 2, max_rows: 10}\n")
    for folder in ("models", "glossary", "data"):
        (tmp_path / folder).symlink_to(events.root / folder)
    configured = Project.load(tmp_path)
    assert configured.limits == Limits(timeout=2, max_rows=10)
    with pytest.raises(SemanticError) as caught:
        configured.query("SELECT event_id, event_count")
    assert caught.value.code == "SEM435"


def test_the_cli_takes_the_limits(events: Project) -> None:
    result = run_cli(
        "query", "--max-rows", "2", "SELECT event_kind, event_count", project=events.root
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("SEM435 the result has more than 2 rows")
    started = time.monotonic()
    result = run_cli(
        "query", "--timeout", "0.5", "SELECT event_kind, slow_count", project=events.root
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("SEM434 DuckDB stopped the query after the time-out")
    assert time.monotonic() - started < 10


@pytest.fixture(scope="module")
def events_postgres(events: Project, postgres_url: str) -> Iterator[PostgresEngine]:
    engine = PostgresEngine(events.model, postgres_url)
    events.load_data(engine)
    yield engine
    engine.publish([f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"])
    engine.close()


def test_postgres_stops_a_slow_query(events: Project, events_postgres: PostgresEngine) -> None:
    started = time.monotonic()
    with pytest.raises(SemanticError) as caught:
        events.query(
            "SELECT event_kind, slow_count_pg", engine=events_postgres, limits=Limits(timeout=0.5)
        )
    assert caught.value.code == "SEM434"
    assert time.monotonic() - started < 10
    # the connection is still good, and the time-out was for that statement only
    assert events.query("SELECT event_count", engine=events_postgres).to_pylist() == [
        {"event_count": ROWS}
    ]


def test_postgres_refuses_a_large_result(events: Project, events_postgres: PostgresEngine) -> None:
    with pytest.raises(SemanticError) as caught:
        events.query(
            "SELECT event_id, event_count", engine=events_postgres, limits=Limits(max_rows=100)
        )
    assert caught.value.code == "SEM435"
    rows = events.query(
        "SELECT event_kind, event_count ORDER BY 1",
        engine=events_postgres,
        limits=Limits(max_rows=3),
    )
    assert rows.to_pylist()[0] == {"event_kind": "k0", "event_count": 1667}
