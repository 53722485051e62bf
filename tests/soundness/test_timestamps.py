"""Time dimensions on TIMESTAMP and TIMESTAMPTZ columns: periods, conditions and time zones
(issue #12, class 3), worked out by hand.

- On a TIMESTAMP, `<= DATE '2025-03-31'` stops at midnight at the start of 31 March. With a
  window in the query, such a condition picks periods instead of rows, and it was read as
  "the whole of March": the plain metric beside the window changed. It is refused (SEM314).
- A TIMESTAMPTZ holds instants: which month an instant falls in depends on a time zone, and
  the engines used their session's (the machine's). The project's `time_zone` (UTC by
  default) is now written into the SQL, so the session's no longer matters.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from semantic.engines.spark import SparkEngine
from semantic.errors import SemanticError
from semantic.project import Project
from tests.projects import CONFIG, copy_to_postgres, write_data, write_project
from tests.sqlite_db import copy_to_sqlite
from tests.tiny_engines import spark_views

MODEL = """
entities:
  events:
    primary_key: [id]
    columns:
      id: {type: integer}
      placed: {type: timestamptz}
      wall: {type: timestamp}
      amount: {type: integer}
"""

GLOSSARY = """
domain: d
terms:
  placed: {label: {en: Placed}, time_dimension: {entity: events, expr: placed}}
  wall: {label: {en: Wall clock}, time_dimension: {entity: events, expr: wall}}
  total: {label: {en: Total}, metric: {entity: events, expr: sum(amount)}}
  event_count: {label: {en: Events}, metric: {entity: events, expr: count(*)}}
  total_so_far: {label: {en: Total so far}, metric: {expr: total, window: {time: wall}}}
  placed_so_far: {label: {en: Placed so far}, metric: {expr: total, window: {time: placed}}}
  total_year_to_date:
    label: {en: Total this year}
    metric: {expr: total, window: {time: wall, to_date: year}}
"""

#: instants in UTC; Paris is UTC+1 until 30 March 2025 and UTC+2 from then on. `wall` holds
#: the same times as wall-clock times.
ROWS = [
    (1, "2025-03-31 21:30:00", 1),  # Paris: 31 March, 23:30
    (2, "2025-03-31 22:30:00", 10),  # Paris: 1 April, 00:30
    (3, "2025-04-01 00:30:00", 100),
    (4, "2025-02-28 23:30:00", 1000),  # Paris: 1 March, 00:30
    (5, "2025-01-15 12:00:00", 10000),
]
DATA = {
    "events": "SELECT id, (moment || '+00')::TIMESTAMPTZ AS placed, "
    "moment::TIMESTAMP AS wall, amount FROM (VALUES "
    + ", ".join(f"({i}, '{at}', {amount})" for i, at, amount in ROWS)
    + ") t(id, moment, amount)"
}

UTC_MONTHS = [
    (dt.date(2025, 1, 1), 10000),
    (dt.date(2025, 2, 1), 1000),
    (dt.date(2025, 3, 1), 11),
    (dt.date(2025, 4, 1), 100),
]
PARIS_MONTHS = [
    (dt.date(2025, 1, 1), 10000),
    (dt.date(2025, 3, 1), 1001),
    (dt.date(2025, 4, 1), 110),
]
BY_MONTH = "SELECT placed.month, total ORDER BY 1"


def _project(root: Path, zone: str | None = None) -> Project:
    config = CONFIG + (f"time_zone: {zone}\n" if zone else "")
    write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY}, config)
    write_data(root, DATA)
    return Project.load(root)


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return _project(tmp_path_factory.mktemp("timestamps"))


@pytest.fixture(scope="module")
def paris(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return _project(tmp_path_factory.mktemp("timestamps_paris"), "Europe/Paris")


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-":
        return _cell(dt.datetime.fromisoformat(value))  # SQLite's times are text
    if isinstance(value, decimal.Decimal | float):
        return int(value)
    return value


def rows(result: Any) -> list[tuple[Any, ...]]:
    """Rows of an Arrow table or a DB-API fetchall, dates as dates, sums as integers."""
    raw = (
        [tuple(r.values()) for r in result.to_pylist()] if hasattr(result, "to_pylist") else result
    )
    return [tuple(_cell(v) for v in row) for row in raw]


# --- TIMESTAMP: a date compared with a time of day ---------------------------------------------


def test_a_condition_that_stops_at_midnight_is_refused_beside_a_window(events: Project) -> None:
    # alone, the condition keeps the rows up to 31 March at midnight: January and February
    alone = rows(
        events.query("SELECT wall.month, total WHERE wall <= DATE '2025-03-31' ORDER BY 1")
    )
    assert alone == [(dt.date(2025, 1, 1), 10000), (dt.date(2025, 2, 1), 1000)]
    # with a window it would pick the periods up to March, the whole of it: refused
    for condition in (
        "wall <= DATE '2025-03-31'",
        "wall > DATE '2025-02-28'",
        "wall = DATE '2025-03-01'",
        "wall BETWEEN DATE '2025-01-01' AND DATE '2025-03-31'",
        "wall IN (DATE '2025-03-01')",
    ):
        with pytest.raises(SemanticError) as caught:
            events.compile(f"SELECT wall.month, total, total_so_far WHERE {condition}")
        (d,) = caught.value.diagnostics
        assert d.code == "SEM314" and "midnight" in d.message, condition


def test_conditions_on_period_starts_keep_the_plain_metric(events: Project) -> None:
    query = (
        "SELECT wall.month, total{} WHERE wall >= DATE '2025-02-01' AND wall < DATE '2025-04-01'"
    )
    plain = rows(events.query(query.format("") + " ORDER BY 1"))
    windowed = rows(events.query(query.format(", total_so_far") + " ORDER BY 1"))
    assert plain == [(dt.date(2025, 2, 1), 1000), (dt.date(2025, 3, 1), 11)]
    # the running total still sees January, which the condition hides
    assert windowed == [(dt.date(2025, 2, 1), 1000, 11000), (dt.date(2025, 3, 1), 11, 11011)]


def test_a_day_grain_compares_whole_days(events: Project) -> None:
    got = rows(
        events.query("SELECT wall.month, total, total_so_far WHERE wall.day <= DATE '2025-03-31'")
    )
    assert sorted(got) == [
        (dt.date(2025, 1, 1), 10000, 10000),
        (dt.date(2025, 2, 1), 1000, 11000),
        (dt.date(2025, 3, 1), 11, 11011),
    ]


# --- TIMESTAMPTZ: the project's time zone, not the session's ------------------------------------


@pytest.mark.parametrize("session", ["UTC", "Europe/Paris", "America/Los_Angeles"])
def test_months_do_not_depend_on_the_session_time_zone(
    events: Project, paris: Project, session: str
) -> None:
    for project in (events, paris):
        project.engine.connection.execute(f"SET TimeZone = '{session}'")
    try:
        assert rows(events.query(BY_MONTH)) == UTC_MONTHS
        assert rows(paris.query(BY_MONTH)) == PARIS_MONTHS
        # a date compared with an instant is midnight in the project's time zone
        assert rows(events.query("SELECT total WHERE placed >= DATE '2025-04-01'")) == [(100,)]
        assert rows(paris.query("SELECT total WHERE placed >= DATE '2025-04-01'")) == [(110,)]
        # and so are the periods of windows
        assert rows(paris.query("SELECT placed.month, placed_so_far ORDER BY 1")) == [
            (dt.date(2025, 1, 1), 10000),
            (dt.date(2025, 3, 1), 11001),
            (dt.date(2025, 4, 1), 11111),
        ]
    finally:
        for project in (events, paris):
            project.engine.connection.execute("SET TimeZone = 'UTC'")


def test_months_do_not_depend_on_the_machine_time_zone(events: Project, paris: Project) -> None:
    """A fresh process under TZ=Europe/Paris: DuckDB's session takes the machine's zone."""
    program = (
        "import json, sys\nfrom semantic.project import Project\n"
        "for root in sys.argv[1:]:\n"
        "    table = Project.load(root).query(" + repr(BY_MONTH) + ")\n"
        "    print(json.dumps([[str(v) for v in r.values()] for r in table.to_pylist()]))\n"
    )
    env = {**os.environ, "TZ": "Europe/Paris"}
    done = subprocess.run(
        [sys.executable, "-c", program, str(events.root), str(paris.root)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    utc, local = (json.loads(line) for line in done.stdout.splitlines())
    assert utc == [[f"{m} 00:00:00", str(v)] for m, v in UTC_MONTHS]
    assert local == [[f"{m} 00:00:00", str(v)] for m, v in PARIS_MONTHS]


def test_entity_views_show_the_project_time(paris: Project) -> None:
    from semantic.outputs.views import entity_view

    view = entity_view(paris.model, paris.model.entities["events"], None, "m", "main")
    sql = view.query.sql("duckdb")
    assert "placed AT TIME ZONE 'Europe/Paris' AS \"placed\"" in sql


@pytest.fixture(scope="module")
def lite(events: Project, tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    return copy_to_sqlite(events, tmp_path_factory.mktemp("timestamps_lite") / "events.sqlite")


def test_sqlite_reads_instants_in_utc(events: Project, lite: sqlite3.Connection) -> None:
    assert rows(lite.execute(events.compile(BY_MONTH, "sqlite")).fetchall()) == UTC_MONTHS


def test_sqlite_cannot_read_another_time_zone(paris: Project) -> None:
    with pytest.raises(SemanticError) as caught:
        paris.compile(BY_MONTH, "sqlite")
    assert caught.value.code == "SEM316" and "Europe/Paris" in caught.value.diagnostics[0].message


@pytest.fixture(scope="module")
def pg(events: Project) -> Iterator[Any]:
    url = os.environ.get("SEMANTIC_TEST_POSTGRES")
    if not url:
        pytest.skip("SEMANTIC_TEST_POSTGRES is not set")
    pytest.importorskip("psycopg")
    schema = f"timestamps_{uuid.uuid4().hex[:8]}"
    connection = copy_to_postgres(events, url, schema)
    yield connection
    connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    connection.close()


@pytest.mark.parametrize("session", ["UTC", "Europe/Paris"])
def test_postgres_months_do_not_depend_on_the_session(
    events: Project, paris: Project, pg: Any, session: str
) -> None:
    pg.execute(f"SET TIME ZONE '{session}'")
    assert rows(pg.execute(events.compile(BY_MONTH, "postgres")).fetchall()) == UTC_MONTHS
    assert rows(pg.execute(paris.compile(BY_MONTH, "postgres")).fetchall()) == PARIS_MONTHS


@pytest.fixture(scope="module")
def spark_events(events: Project, request: pytest.FixtureRequest) -> Iterator[SparkEngine]:
    yield from spark_views(request, events)


@pytest.fixture(scope="module")
def spark_paris(paris: Project, request: pytest.FixtureRequest) -> Iterator[SparkEngine]:
    yield from spark_views(request, paris)


@pytest.mark.slow
@pytest.mark.parametrize("session", ["UTC", "Europe/Paris", "America/Los_Angeles"])
def test_spark_months_do_not_depend_on_the_session(
    events: Project,
    paris: Project,
    spark_events: SparkEngine,
    spark_paris: SparkEngine,
    session: str,
) -> None:
    def run(project: Project, spark: SparkEngine, query: str) -> list[tuple[Any, ...]]:
        return rows(spark.fetch(project.compile(query, "spark")))

    key = "spark.sql.session.timeZone"
    before = spark_events.session.conf.get(key)
    for spark in (spark_events, spark_paris):
        spark.session.conf.set(key, session)
    try:
        assert run(events, spark_events, BY_MONTH) == UTC_MONTHS
        assert run(paris, spark_paris, BY_MONTH) == PARIS_MONTHS
        # a date compared with an instant is midnight in the project's time zone
        placed = "SELECT total WHERE placed >= DATE '2025-04-01'"
        assert run(events, spark_events, placed) == [(100,)]
        assert run(paris, spark_paris, placed) == [(110,)]
        # and so are the periods of windows
        assert run(paris, spark_paris, "SELECT placed.month, placed_so_far ORDER BY 1") == [
            (dt.date(2025, 1, 1), 10000),
            (dt.date(2025, 3, 1), 11001),
            (dt.date(2025, 4, 1), 11111),
        ]
    finally:
        for spark in (spark_events, spark_paris):
            spark.session.conf.set(key, before)


# --- the time zone setting ----------------------------------------------------------------------


def test_an_unknown_time_zone_is_reported(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY},
        CONFIG + "time_zone: Europe/Pari\n",
    )
    errors = [d for d in Project.inspect(tmp_path)[1] if d.severity == "error"]
    assert [d.code for d in errors] == ["SEM227"]
    assert errors[0].span is not None and errors[0].span.line == 5
    assert "Europe/Paris" in (errors[0].hint or "")


# --- windows by week ----------------------------------------------------------------------------


def test_year_to_date_by_week_is_refused_with_its_window(events: Project) -> None:
    with pytest.raises(SemanticError) as caught:
        events.compile("SELECT wall.week, total_year_to_date")
    (d,) = caught.value.diagnostics
    assert d.code == "SEM314"
    assert "sums the year to date" in d.message and "week" in d.message
    assert "day, month, quarter" in (d.hint or "")


@pytest.mark.parametrize(
    ("dialect", "fragment"),
    [
        # Spark truncates in its session time zone: the instant is moved so that its session
        # wall clock is the project zone's
        ("spark", "FROM_UTC_TIMESTAMP(TO_UTC_TIMESTAMP(events.placed, CURRENT_TIMEZONE()), "),
        ("snowflake", "CONVERT_TIMEZONE('Europe/Paris', events.placed)"),
        ("trino", "AT_TIMEZONE(events.placed, 'Europe/Paris')"),
    ],
)
def test_other_engines_name_the_project_time_zone(
    paris: Project, dialect: str, fragment: str
) -> None:
    assert fragment in paris.compile(BY_MONTH, dialect)


def test_tsql_takes_utc_only(events: Project, paris: Project) -> None:
    """SQL Server names zones the Windows way ('Romance Standard Time'), not by IANA names."""
    assert "events.placed AT TIME ZONE 'UTC'" in events.compile(BY_MONTH, "tsql")
    with pytest.raises(SemanticError) as caught:
        paris.compile(BY_MONTH, "tsql")
    assert caught.value.code == "SEM316"
