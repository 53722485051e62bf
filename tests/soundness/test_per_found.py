"""What the differential test found in metrics at another grain and per entity, each checked
against SQL written here by hand, on random tiny tables (NULL keys, NULL values, sales of a
region that does not exist, notes of no sale), on DuckDB and SQLite:

- a group that the other grain has no row for (the metric's FILTER matches nothing there,
  the group comes from another metric) shows the metric over no rows: its fill, 0 for a
  count; the join left it NULL, so `PER (zone)` at the query's own grain `zone` differed from
  the metric itself;
- the same for an expression of metrics (`MEASURE(a * 2 + b) ... PER (zone)`): the
  expression over the metrics' fills, as at the query's own grain (it was NULL);
- `PER (* EXCLUDE a, b)` leaves out both dimensions, as documented (the second name was
  refused, SEM351);
- a metric per entity in WHERE, beside a metric whose rows fan out (a dimension on its many
  side): the numbered rows of the metric's entity read the columns that the per-entity
  subquery's own rows of that entity have (invalid SQL).

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from semantic.project import Project
from tests.budget import examples
from tests.compare import assert_same_rows
from tests.projects import write_project
from tests.soundness.test_one_pass_filters import GLOSSARY, MODEL, _duckdb, _fill
from tests.soundness.test_semi_joins import data

MORE = """
  region_count: {label: {en: Regions}, metric: {entity: regions, expr: count(*)}}
"""

SALES = (
    "WITH s AS (SELECT s.*, r.zone FROM sales s LEFT JOIN regions r ON s.region_id = r.region_id)"
)

#: (business query, the same by hand)
CASES = [
    (
        "SELECT zone, region_count, MEASURE(sale_count) FILTER (WHERE kind = 'a') PER (zone) AS n, "
        "MEASURE(total) FILTER (WHERE kind = 'a') PER (zone) AS t, "
        "MEASURE(raw_total) FILTER (WHERE kind = 'a') PER (zone) AS r",
        f"{SALES}, g AS (SELECT zone FROM regions UNION SELECT zone FROM s WHERE kind = 'a') "
        "SELECT g.zone, "
        "(SELECT COUNT(*) FROM regions r WHERE r.zone IS NOT DISTINCT FROM g.zone), "
        "(SELECT COUNT(*) FROM s WHERE kind = 'a' AND s.zone IS NOT DISTINCT FROM g.zone), "
        "(SELECT CASE WHEN COUNT(*) > 0 THEN SUM(amount) ELSE 0 END FROM s "
        "WHERE kind = 'a' AND s.zone IS NOT DISTINCT FROM g.zone), "
        "(SELECT SUM(amount) FROM s WHERE kind = 'a' AND s.zone IS NOT DISTINCT FROM g.zone) "
        "FROM g",
    ),
    (
        # an expression of metrics: a group without rows there shows the expression over
        # its metrics' fills (0 * 2 + 0), as at the query's own grain; NULL when one is NULL
        "SELECT zone, region_count, "
        "MEASURE(sale_count * 2 + total) FILTER (WHERE kind = 'a') PER (zone) AS n, "
        "MEASURE(sale_count + raw_total) FILTER (WHERE kind = 'a') PER (zone) AS r",
        f"{SALES}, g AS (SELECT zone FROM regions UNION SELECT zone FROM s WHERE kind = 'a') "
        "SELECT g.zone, "
        "(SELECT COUNT(*) FROM regions r WHERE r.zone IS NOT DISTINCT FROM g.zone), "
        "(SELECT COUNT(*) * 2 + CASE WHEN COUNT(*) > 0 THEN SUM(amount) ELSE 0 END FROM s "
        "WHERE kind = 'a' AND s.zone IS NOT DISTINCT FROM g.zone), "
        "(SELECT COUNT(*) + SUM(amount) FROM s "
        "WHERE kind = 'a' AND s.zone IS NOT DISTINCT FROM g.zone) "
        "FROM g",
    ),
    (
        "SELECT zone, kind, raw_total, MEASURE(sale_count) PER (* EXCLUDE zone, kind) AS a, "
        "MEASURE(sale_count) PER (* EXCLUDE kind) AS z",
        f"{SALES} SELECT zone, kind, SUM(amount), (SELECT COUNT(*) FROM s), "
        "(SELECT COUNT(*) FROM s t WHERE t.zone IS NOT DISTINCT FROM s.zone) "
        "FROM s GROUP BY zone, kind",
    ),
    (
        "SELECT tag, sale_count WHERE MEASURE(sale_count) PER (regions) > 1",
        "SELECT n.tag, COUNT(DISTINCT s.rowid) FROM sales s "
        "JOIN regions r ON s.region_id = r.region_id "
        "LEFT JOIN notes n ON n.sale_id = s.sale_id "
        "WHERE (SELECT COUNT(*) FROM sales s2 WHERE s2.region_id = r.region_id) > 1 "
        "GROUP BY n.tag",
    ),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("per-found")
    files = {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY + MORE}
    return Project.load(write_project(root, files))


@settings(
    max_examples=examples(full=300, fast=60),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tables=data(), case=st.sampled_from(range(len(CASES))))
def test_found_per_queries_match_hand_written_sql(project: Project, tables: Any, case: int) -> None:
    regions, sales, notes = tables
    business, hand = CASES[case]
    note(business)
    con = _duckdb(regions, sales, notes)
    want = con.execute(hand).fetchall()
    assert_same_rows(con.execute(project.compile(business)).fetchall(), want, ordered=False)
    lite = sqlite3.connect(":memory:")
    _fill(lite, regions, sales, notes)
    assert_same_rows(lite.execute(hand).fetchall(), want, ordered=False)
    got = lite.execute(project.compile(business, "sqlite")).fetchall()
    assert_same_rows(got, want, ordered=False)
