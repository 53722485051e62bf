"""Ranks over the query's groups (`RANK()`, `DENSE_RANK()`, `ROW_NUMBER()` with QUALIFY,
docs/query-language.md "Ranking") give what hand-written SQL gives, on random tiny tables
whose groups tie and whose metrics and dimensions are NULL, on DuckDB and SQLite, and on
PostgreSQL when SEMANTIC_TEST_POSTGRES is set; each case on pinned tables on Spark.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from semantic.project import Project
from tests.budget import examples
from tests.compare import assert_same_rows
from tests.projects import write_project
from tests.services import postgres_url  # noqa: F401 (a fixture)
from tests.soundness.test_per_grain import GLOSSARY, MODEL, PINNED, data
from tests.spark_rows import SparkRows, spark_rows

Rows = list[tuple[Any, ...]]
WHERES = ["", "amount > 3", "kind = 'a'"]

#: the groups of the hand-written SQL: zone and kind, as the compiler joins them
GROUPS = (
    "WITH s AS (SELECT s.*, r.zone FROM sales s LEFT JOIN regions r "
    "ON s.region_id = r.region_id{w}), "
    "g AS (SELECT zone, kind, SUM(amount) AS total, COUNT(*) AS n, AVG(amount) AS mean "
    "FROM s GROUP BY zone, kind{having}) "
)

#: (business query, hand-written SQL, whether the order is checked); `{where}` and
#: `{having}` are the business query's, `{w}` and `{having}` of GROUPS the hand SQL's
CASES = [
    (
        "SELECT zone, kind, total, "
        "RANK() OVER (PARTITION BY zone ORDER BY total DESC) AS r{where}{having} QUALIFY r <= 1",
        "SELECT zone, kind, total, r FROM (SELECT g.*, RANK() OVER (PARTITION BY zone "
        "ORDER BY total DESC NULLS LAST) AS r FROM g) k WHERE r <= 1",
        False,
    ),
    (
        "SELECT kind, zone, DENSE_RANK() OVER (ORDER BY mean DESC) AS d{where}{having} "
        "QUALIFY d <= 2",
        "SELECT kind, zone, d FROM (SELECT g.*, DENSE_RANK() OVER (ORDER BY mean DESC "
        "NULLS LAST) AS d FROM g) k WHERE d <= 2",
        False,
    ),
    (
        "SELECT zone, kind, ROW_NUMBER() OVER (PARTITION BY zone ORDER BY sale_count) AS n, "
        "mean{where}{having} QUALIFY n <= 2",
        "SELECT zone, kind, rn, mean FROM (SELECT g.*, ROW_NUMBER() OVER (PARTITION BY zone "
        "ORDER BY n NULLS LAST, kind NULLS LAST) AS rn FROM g) k WHERE rn <= 2",
        False,
    ),
    (
        "SELECT kind, zone, total{where}{having} "
        "QUALIFY RANK() OVER (ORDER BY total DESC) = 1 AND total > 0 "
        "ORDER BY kind DESC, zone LIMIT 2",
        "SELECT kind, zone, total FROM (SELECT g.*, RANK() OVER (ORDER BY total DESC "
        "NULLS LAST) AS r FROM g) k WHERE r = 1 AND total > 0 "
        "ORDER BY kind DESC NULLS LAST, zone NULLS LAST LIMIT 2",
        True,
    ),
]

Loader = Callable[[Rows, Rows], None]
Runner = Callable[[str], Rows]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("ranking")
    return Project.load(write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY}))


CREATE = (
    "CREATE TABLE regions (region_id INTEGER, zone VARCHAR)",
    "CREATE TABLE sales (sale_id INTEGER, region_id INTEGER, kind VARCHAR, amount INTEGER)",
)


def _fresh(execute: Callable[..., Any], many: Callable[[str, Rows], Any], mark: str) -> Loader:
    def load(regions: Rows, sales: Rows) -> None:
        for name, rows, width in (("regions", regions, 2), ("sales", sales, 4)):
            execute(f"DELETE FROM {name}")
            if rows:
                many(f"INSERT INTO {name} VALUES ({', '.join([mark] * width)})", rows)

    return load


def _postgres(url: str) -> Iterator[tuple[str, Loader, Runner]]:
    import psycopg

    schema = f"ranking_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
        try:
            connection.execute(f"SET search_path TO {schema}")
            for statement in CREATE:
                connection.execute(statement)

            def many(sql: str, rows: Rows) -> None:
                with connection.cursor() as cursor:
                    cursor.executemany(sql, rows)

            def run(sql: str) -> Rows:
                return [tuple(r) for r in connection.execute(sql).fetchall()]

            yield "postgres", _fresh(connection.execute, many, "%s"), run
        finally:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def other(request: pytest.FixtureRequest) -> Iterator[tuple[str, Loader, Runner]]:
    """The engine compared with DuckDB's hand-written answer."""
    if request.param == "sqlite":
        lite = sqlite3.connect(":memory:")
        for statement in CREATE:
            lite.execute(statement)
        yield (
            "sqlite",
            _fresh(lite.execute, lite.executemany, "?"),
            lambda sql: [tuple(r) for r in lite.execute(sql).fetchall()],
        )
        lite.close()
    else:
        yield from _postgres(request.getfixturevalue("postgres_url"))


@pytest.mark.parametrize("case", range(len(CASES)))
def test_ranks_match_hand_written_sql(
    project: Project, other: tuple[str, Loader, Runner], case: int
) -> None:
    dialect, load, run = other
    business, hand, ordered = CASES[case]
    con = duckdb.connect()
    for statement in CREATE:
        con.execute(statement)
    load_duckdb = _fresh(con.execute, con.executemany, "?")

    @settings(
        max_examples=examples(full=200, fast=40),
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(tables=data(), condition=st.sampled_from(WHERES), having=st.booleans())
    def check(tables: tuple[Rows, Rows], condition: str, having: bool) -> None:
        regions, sales = tables
        text = business.format(
            where=f" WHERE {condition}" if condition else "",
            having=" HAVING sale_count > 1" if having else "",
        )
        hand_condition = condition.replace("amount", "s.amount").replace("kind", "s.kind")
        sql = (
            GROUPS.format(
                w=f" WHERE {hand_condition}" if condition else "",
                having=" HAVING COUNT(*) > 1" if having else "",
            )
            + hand
        )
        note(text)
        load_duckdb(regions, sales)
        want = con.execute(sql).fetchall()
        got = con.execute(project.compile(text)).fetchall()
        assert_same_rows(got, want, ordered=ordered)
        load(regions, sales)
        assert_same_rows(run(project.compile(text, dialect)), want, ordered=ordered)

    check()


def test_a_dimension_the_query_does_not_group_by_is_refused(project: Project) -> None:
    with pytest.raises(Exception, match="SEM366"):
        project.compile(
            "SELECT kind, total QUALIFY RANK() OVER (PARTITION BY zone ORDER BY total) = 1"
        )


@pytest.mark.parametrize(
    "query",
    [
        "SELECT kind, RANK() OVER (ORDER BY total) + 1 AS r",
        "SELECT kind, RANK() OVER (PARTITION BY kind) AS r",
        "SELECT kind, total, RANK() OVER (ORDER BY total) AS r QUALIFY sum(total) > 1",
    ],
)
def test_what_is_not_a_rank_is_refused(project: Project, query: str) -> None:
    with pytest.raises(Exception, match="SEM365"):
        project.compile(query)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT kind, sum(total) OVER () AS s",
        "SELECT kind, total, RANK() OVER (ORDER BY total) AS r QUALIFY sum(total) OVER () > 1",
        "SELECT kind, total WHERE RANK() OVER (ORDER BY total) = 1",
    ],
)
def test_other_window_functions_are_refused_as_before(project: Project, query: str) -> None:
    with pytest.raises(Exception, match="SEM302"):
        project.compile(query)


@pytest.fixture(scope="module")
def spark(project: Project, request: pytest.FixtureRequest) -> Iterator[SparkRows]:
    for engine in spark_rows(request, project):
        regions, sales = PINNED[0]
        engine.load("regions", "region_id INT, zone STRING", regions)
        engine.load("sales", "sale_id INT, region_id INT, kind STRING, amount INT", sales)
        yield engine


#: (case, condition, HAVING) run on Spark, on test_per_grain's pinned tables (ties, NULL
#: zones, kinds and amounts)
SPARK_RUNS = [(0, "", False), (1, "amount > 3", False), (2, "", True), (3, "kind = 'a'", False)]


@pytest.mark.slow
@pytest.mark.parametrize(("case", "condition", "having"), SPARK_RUNS)
def test_ranks_on_spark(
    project: Project, spark: SparkRows, case: int, condition: str, having: bool
) -> None:
    business, hand, ordered = CASES[case]
    text = business.format(
        where=f" WHERE {condition}" if condition else "",
        having=" HAVING sale_count > 1" if having else "",
    )
    hand_condition = condition.replace("amount", "s.amount").replace("kind", "s.kind")
    sql = (
        GROUPS.format(
            w=f" WHERE {hand_condition}" if condition else "",
            having=" HAVING COUNT(*) > 1" if having else "",
        )
        + hand
    )
    con = duckdb.connect()
    for statement in CREATE:
        con.execute(statement)
    _fresh(con.execute, con.executemany, "?")(*PINNED[0])
    want = con.execute(sql).fetchall()
    assert want, sql
    assert_same_rows(spark.run(project.compile(text, "spark")), want, ordered=ordered)
