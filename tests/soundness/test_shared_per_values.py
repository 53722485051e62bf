"""Per-entity values of one entity whose subqueries read the same rows are columns of one
subquery (`compiler.pershare`, TPC-H Q20's quantity and line count per offer under one
FILTER): each value is still its value over the entity's rows, checked against SQL written
here by hand on random tiny tables (NULL keys and amounts, sales of a region that does not
exist, regions without sales), on DuckDB and SQLite, and on PostgreSQL when
SEMANTIC_TEST_POSTGRES is set: values under the same FILTER and under others, in SELECT,
WHERE, a glossary dimension, narrowed by the WHERE (`compiler.perkept`), under a role's row
filter, each with its own fill (0, -1, NULL) where a region has no row for it. A structural
check counts the subqueries reading `sales`: one per entity and FILTER.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import re
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
from tests.soundness.test_narrowed_subqueries import tables
from tests.soundness.test_one_pass_filters import GLOSSARY, MODEL
from tests.soundness.test_ranking import CREATE, Loader, Runner, _fresh, other  # noqa: F401

MORE = """
  region_count: {label: {en: Regions}, metric: {entity: regions, expr: count(*)}}
  a_sales:
    label: {en: A sales}
    dimension:
      entity: regions
      expr: "MEASURE(sale_count) FILTER (WHERE kind = 'a') PER (regions)"
"""
POLICIES = "roles: {no_b: {clearance: internal, filters: [\"kind <> 'b'\"]}}"


def _of(value: str, where: str = "") -> str:
    """A region's value over its sales (`{sales}`: all of them, or a role's)."""
    return f"(SELECT {value} FROM {{sales}} t WHERE t.region_id = r.region_id{where})"


A = " AND t.kind = 'a'"
B = " AND t.kind = 'b'"
#: each region with values over its sales of kind 'a', of kind 'b', and all: with fills
REGIONS = (
    "WITH rv AS (SELECT r.*, "
    f"{_of('CASE WHEN COUNT(*) > 0 THEN SUM(amount) ELSE 0 END', A)} AS ta, "
    f"{_of('COUNT(*)', A)} AS na, "
    f"{_of('CASE WHEN COUNT(*) > 0 THEN AVG(amount) ELSE -1 END', A)} AS ma, "
    f"{_of('SUM(amount)', A)} AS ra, "
    f"{_of('COUNT(*)', B)} AS nb, "
    f"{_of('CASE WHEN COUNT(*) > 0 THEN AVG(amount) ELSE -1 END', B)} AS mb, "
    f"{_of('SUM(amount)')} AS rt, "
    f"{_of('CASE WHEN COUNT(*) > 0 THEN SUM(amount) ELSE 0 END', A + ' AND t.amount > 5')} AS ba, "
    f"{_of('COUNT(*) * 2 + CASE WHEN COUNT(*) > 0 THEN SUM(amount) ELSE 0 END', A)} AS da, "
    f"{_of('MAX(amount)', A)} AS xa "
    "FROM regions r) "
)
SALES = "sales"
NOT_B = "(SELECT * FROM sales WHERE kind <> 'b')"

#: (business query, the same by hand, subqueries reading sales, the role or None)
CASES: list[tuple[str, str, int, str | None]] = [
    (
        # TPC-H Q20's shape: two values of one FILTER in WHERE (one subquery), one of another
        "SELECT kind, sale_count WHERE amount * 2 > MEASURE(total) FILTER (WHERE kind = 'a') "
        "PER (regions) AND MEASURE(sale_count) FILTER (WHERE kind = 'a') PER (regions) > 0 "
        "AND MEASURE(average) FILTER (WHERE kind = 'b') PER (regions) < 5",
        f"{REGIONS} SELECT s.kind, COUNT(*) FROM {{sales}} s "
        "LEFT JOIN rv ON s.region_id = rv.region_id "
        "WHERE s.amount * 2 > rv.ta AND rv.na > 0 AND rv.mb < 5 GROUP BY s.kind",
        1 + 2,
        None,
    ),
    (
        # as dimensions: four values of one FILTER, one of another, one without
        "SELECT zone, MEASURE(total) FILTER (WHERE kind = 'a') PER (regions) AS t, "
        "MEASURE(sale_count) FILTER (WHERE kind = 'a') PER (regions) AS n, "
        "MEASURE(average) FILTER (WHERE kind = 'a') PER (regions) AS m, "
        "MEASURE(raw_total) FILTER (WHERE kind = 'a') PER (regions) AS r, "
        "MEASURE(sale_count) FILTER (WHERE kind = 'b') PER (regions) AS nb, "
        "MEASURE(raw_total) PER (regions) AS rt, region_count",
        f"{REGIONS} SELECT zone, ta, na, ma, ra, nb, rt, COUNT(*) FROM rv "
        "GROUP BY zone, ta, na, ma, ra, nb, rt",
        3,
        None,
    ),
    (
        # narrowed to the regions kept by the WHERE: the same narrowing for both values
        "SELECT zone, MEASURE(total) FILTER (WHERE kind = 'a') PER (regions) AS t, "
        "MEASURE(average) FILTER (WHERE kind = 'a') PER (regions) AS m, region_count "
        "WHERE zone <> 'south'",
        f"{REGIONS} SELECT zone, ta, ma, COUNT(*) FROM rv WHERE zone <> 'south' "
        "GROUP BY zone, ta, ma",
        1,
        None,
    ),
    (
        # a glossary dimension holding a value, and the same FILTER written in the query
        "SELECT zone, a_sales, MEASURE(raw_total) FILTER (WHERE kind = 'a') PER (regions) AS r, "
        "total WHERE MEASURE(average) FILTER (WHERE kind = 'a') PER (regions) > 0",
        f"{REGIONS} SELECT rv.zone, rv.na, rv.ra, "
        "CASE WHEN COUNT(s.sale_id) > 0 THEN SUM(s.amount) ELSE 0 END "
        "FROM {sales} s LEFT JOIN rv ON s.region_id = rv.region_id WHERE rv.ma > 0 "
        "GROUP BY rv.zone, rv.na, rv.ra",
        1 + 1,
        None,
    ),
    (
        # a metric with a filter of its own (a subquery of its own, its filter in the WHERE),
        # an expression of metrics and a metric without fill (one subquery): each value
        # with its own fill where a region has no such sale
        "SELECT zone, MEASURE(big_total) FILTER (WHERE kind = 'a') PER (regions) AS bt, "
        "MEASURE(sale_count * 2 + total) FILTER (WHERE kind = 'a') PER (regions) AS d, "
        "MEASURE(biggest) FILTER (WHERE kind = 'a') PER (regions) AS x, region_count",
        f"{REGIONS} SELECT zone, ba, da, xa, COUNT(*) FROM rv GROUP BY zone, ba, da, xa",
        2,
        None,
    ),
    (
        # under a role's row filter: every value is over the rows the role reads
        "SELECT zone, MEASURE(sale_count) FILTER (WHERE kind = 'a') PER (regions) AS n, "
        "MEASURE(raw_total) FILTER (WHERE kind = 'a') PER (regions) AS r, "
        "MEASURE(sale_count) PER (regions) AS c, region_count",
        f"{REGIONS.replace('AS rt,', 'AS rt, ' + _of('COUNT(*)') + ' AS nt,')} "
        "SELECT zone, na, ra, nt, COUNT(*) FROM rv GROUP BY zone, na, ra, nt",
        2,
        "no_b",
    ),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("shared-per-values")
    files = {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY + MORE, "policies.yml": POLICIES}
    return Project.load(write_project(root, files))


def _hand(case: tuple[str, str, int, str | None]) -> str:
    business, hand, _, role = case
    return hand.format(sales=NOT_B if role else SALES)


def test_shared_per_entity_values_match_hand_written_sql(
    project: Project,
    other: tuple[str, Loader, Runner],  # noqa: F811 (the fixture imported above)
) -> None:
    dialect, load, run = other
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
    @given(data=tables(False), case=st.sampled_from(range(len(CASES))))
    def check(data: tuple[list[Any], list[Any]], case: int) -> None:
        business, _, _, role = CASES[case]
        note(business)
        load_duckdb(*data)
        want = con.execute(_hand(CASES[case])).fetchall()
        got = con.execute(project.compile(business, role=role)).fetchall()
        assert_same_rows(got, want, ordered=False)
        load(*data)
        assert_same_rows(run(project.compile(business, dialect, role=role)), want, ordered=False)

    check()


@pytest.mark.parametrize("case", range(len(CASES)))
def test_values_of_one_entity_and_filter_share_one_subquery(project: Project, case: int) -> None:
    """The work the values above do not show: `sales` is read once per entity and FILTER
    (and once by the query's own rows when it aggregates sales)."""
    business, _, scans, role = CASES[case]
    sql = project.compile(business, pretty=False, role=role)
    assert len(re.findall(r"\bsales AS sales\b", sql)) == scans, sql


def test_values_under_different_filters_stay_apart(project: Project) -> None:
    """Two FILTERs, two subqueries, each with its own filter in its WHERE: no value is
    computed over the other's rows."""
    sql = project.compile(
        "SELECT zone, MEASURE(sale_count) FILTER (WHERE kind = 'a') PER (regions) AS a, "
        "MEASURE(sale_count) FILTER (WHERE kind = 'b') PER (regions) AS b, region_count",
        pretty=False,
    )
    assert len(re.findall(r"\bsales AS sales\b", sql)) == 2
    assert " AS v2" not in sql
