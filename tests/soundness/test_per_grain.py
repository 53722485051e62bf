"""Metrics at another grain (`MEASURE(m) PER (ALL | * EXCLUDE dims | dims)`) and metrics per
entity (`MEASURE(m) PER (entity)`) give what hand-written SQL gives, on random tiny tables
(NULL keys, sales of a region that does not exist, regions without sales, filters that
match nothing), on DuckDB and SQLite, and on Spark on pinned tables.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from semantic.project import Project
from tests.budget import examples
from tests.compare import assert_same_rows
from tests.projects import write_project
from tests.spark_rows import SparkRows, spark_rows

MODEL = """
entities:
  regions:
    primary_key: [region_id]
    columns: {region_id: {type: integer}, zone: {type: varchar}}
  sales:
    primary_key: [sale_id]
    columns:
      sale_id: {type: integer}
      region_id: {type: integer}
      kind: {type: varchar}
      amount: {type: integer}
    relationships:
      - {to: regions, cardinality: many_to_one, keys: {region_id: region_id}}
"""

GLOSSARY = """
domain: shop
terms:
  zone: {label: {en: Zone}, dimension: {entity: regions, expr: zone}}
  kind: {label: {en: Kind}, dimension: {entity: sales, expr: kind}}
  amount: {label: {en: Amount}, dimension: {entity: sales, expr: amount}}
  total: {label: {en: Total}, metric: {entity: sales, expr: sum(amount)}}
  sale_count: {label: {en: Sales}, metric: {entity: sales, expr: count(*)}}
  mean: {label: {en: Mean}, metric: {entity: sales, expr: avg(amount)}}
  region_count: {label: {en: Regions}, metric: {entity: regions, expr: count(*)}}
"""

WHERES = ["", "amount > 3", "amount > 100", "kind = 'a'"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("per-grain")
    return Project.load(write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY}))


@st.composite
def data(draw: st.DrawFn) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    zones = st.sampled_from(["north", "south", None])
    regions = [(i, draw(zones)) for i in range(draw(st.integers(0, 3)))]
    sales = [
        (
            i,
            draw(st.sampled_from([0, 1, 2, 3, None])),  # 3: no such region
            draw(st.sampled_from(["a", "b", None])),
            draw(st.one_of(st.none(), st.integers(-2, 9))),
        )
        for i in range(draw(st.integers(0, 7)))
    ]
    return regions, sales


def _fill(con: Any, regions: list[Any], sales: list[Any]) -> None:
    con.execute("CREATE TABLE regions (region_id INTEGER, zone VARCHAR)")
    con.execute(
        "CREATE TABLE sales (sale_id INTEGER, region_id INTEGER, kind VARCHAR, amount INTEGER)"
    )
    if regions:
        con.executemany("INSERT INTO regions VALUES (?, ?)", regions)
    if sales:
        con.executemany("INSERT INTO sales VALUES (?, ?, ?, ?)", sales)


def _where(condition: str) -> str:
    return f" WHERE {condition}" if condition else ""


#: (business query, hand-written SQL) for each WHERE; `{w}` is the WHERE of the hand SQL
CASES = [
    (
        "SELECT zone, kind, total, MEASURE(total) PER (ALL) AS g, "
        "MEASURE(sale_count) PER (* EXCLUDE kind) AS z, MEASURE(mean) PER (kind) AS k{where}",
        "WITH s AS (SELECT s.*, r.zone FROM sales s LEFT JOIN regions r "
        "ON s.region_id = r.region_id{w}) "
        "SELECT zone, kind, SUM(amount), (SELECT SUM(amount) FROM s), "
        "(SELECT COUNT(*) FROM s t WHERE t.zone IS NOT DISTINCT FROM s.zone), "
        "(SELECT AVG(amount) FROM s t WHERE t.kind IS NOT DISTINCT FROM s.kind) "
        "FROM s GROUP BY zone, kind",
    ),
    (
        "SELECT MEASURE(sale_count) PER (regions) AS n, region_count",
        "SELECT COALESCE(p.c, 0), COUNT(*) FROM regions r LEFT JOIN (SELECT region_id, "
        "COUNT(*) AS c FROM sales GROUP BY region_id) p ON r.region_id = p.region_id "
        "GROUP BY 1",
    ),
    (
        "SELECT kind, sale_count WHERE amount < MEASURE(mean) PER (regions){and_where}",
        "SELECT s.kind, COUNT(*) FROM sales s LEFT JOIN (SELECT region_id, AVG(amount) AS a "
        "FROM sales GROUP BY region_id) p ON s.region_id = p.region_id "
        "AND s.region_id IN (SELECT region_id FROM regions) "
        "WHERE s.amount < p.a{and_w} GROUP BY s.kind",
    ),
]


@settings(
    max_examples=examples(full=300, fast=60),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tables=data(), case=st.sampled_from(range(len(CASES))), condition=st.sampled_from(WHERES))
def test_per_grain_and_per_entity_match_hand_written_sql(
    project: Project,
    tables: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]],
    case: int,
    condition: str,
) -> None:
    regions, sales = tables
    business, hand = CASES[case]
    text = business.format(
        where=_where(condition), and_where=f" AND {condition}" if condition else ""
    )
    sql = hand.format(
        w=_where(condition.replace("amount", "s.amount").replace("kind", "s.kind")),
        and_w=f" AND s.{condition}" if condition else "",
    )
    note(text)
    con = duckdb.connect()
    _fill(con, regions, sales)
    want = con.execute(sql).fetchall()
    assert_same_rows(con.execute(project.compile(text)).fetchall(), want, ordered=False)
    lite = sqlite3.connect(":memory:")
    _fill(lite, regions, sales)
    assert_same_rows(lite.execute(project.compile(text, "sqlite")).fetchall(), want, ordered=False)


def test_a_dimension_the_query_does_not_group_by_is_refused(project: Project) -> None:
    with pytest.raises(Exception, match="SEM350"):
        project.compile("SELECT kind, MEASURE(total) PER (zone) AS z")


# --- Spark: the same cases on pinned tables ----------------------------------------------

#: regions: one without sales, one of NULL zone; sales: of no region (3), of a NULL region,
#: NULL kinds and amounts, two zones tying
PINNED = [
    (
        [(0, "north"), (1, "south"), (2, None), (4, "north")],
        [
            (0, 0, "a", 5),
            (1, 0, "b", 2),
            (2, 1, "a", None),
            (3, 1, None, 9),
            (4, 3, "a", 4),
            (5, None, "b", 7),
            (6, 2, "a", -2),
            (7, 0, "a", 5),
            (8, 1, "a", 3),
        ],
    ),
    ([(0, None)], []),  # no sales at all
]


@pytest.fixture(scope="module")
def spark(project: Project, request: pytest.FixtureRequest) -> Iterator[SparkRows]:
    yield from spark_rows(request, project)


#: (case, condition, pinned tables) run on Spark: each case once, with and without conditions
SPARK_RUNS = [(0, "amount > 3", 0), (0, "", 0), (1, "", 0), (1, "", 1), (2, "kind = 'a'", 0)]


@pytest.mark.slow
@pytest.mark.parametrize(("case", "condition", "tables"), SPARK_RUNS)
def test_per_grain_on_spark(
    project: Project, spark: SparkRows, case: int, condition: str, tables: int
) -> None:
    business, hand = CASES[case]
    regions, sales = PINNED[tables]
    spark.load("regions", "region_id INT, zone STRING", regions)
    spark.load("sales", "sale_id INT, region_id INT, kind STRING, amount INT", sales)
    con = duckdb.connect()
    _fill(con, regions, sales)
    text = business.format(
        where=_where(condition), and_where=f" AND {condition}" if condition else ""
    )
    sql = hand.format(
        w=_where(condition.replace("amount", "s.amount").replace("kind", "s.kind")),
        and_w=f" AND s.{condition}" if condition else "",
    )
    want = con.execute(sql).fetchall()
    assert want, "the hand-written SQL finds rows"
    assert_same_rows(spark.run(project.compile(text, "spark")), want, ordered=False)
