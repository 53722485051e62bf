"""A metric read next to dimensions is a value of every row (docs/query-language.md, "Next to
dimensions, a metric is a value of every row"): the grand total `MEASURE(m) PER (ALL)` in
WHERE, in an existence, in a band of SELECT, and a metric per entity inside an existence,
give what hand-written SQL gives, the query's WHERE never applied to the value (its own
FILTER only), alone and combined with a metric of the one side (fan-out: regions counted
through their sales), on random tiny tables, on DuckDB and SQLite, and on PostgreSQL when
SEMANTIC_TEST_POSTGRES is set.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

from collections.abc import Callable
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
from tests.soundness.test_per_grain import GLOSSARY, MODEL, data
from tests.soundness.test_ranking import CREATE, _fresh, other  # noqa: F401 (a fixture)

Rows = list[tuple[Any, ...]]
Loader = Callable[[Rows, Rows], None]
Runner = Callable[[str], Rows]
WHERES = ["", "amount > 3", "kind = 'a'"]

#: the grand total of the hand-written SQL: every sale, only the metric's own FILTER
MEAN = "(SELECT AVG(amount) FROM sales)"
MEAN_OF_A = "(SELECT AVG(amount) FROM sales WHERE kind = 'a')"

#: (business query, hand-written SQL); `{and_where}` / `{where}` is the business query's
#: condition, `{and_w}` / `{w}` the hand SQL's, on the sales `s`
CASES = [
    (
        "SELECT kind, sale_count, total "
        "WHERE amount > MEASURE(mean) FILTER (WHERE kind = 'a') PER (ALL){and_where}",
        f"SELECT s.kind, COUNT(*), SUM(s.amount) FROM sales s WHERE s.amount > {MEAN_OF_A}"
        "{and_w} GROUP BY s.kind",
    ),
    (
        # fan-out: a metric of the one side (regions) with a condition on the many side
        # (sales), next to a metric of the many side
        "SELECT zone, region_count, total WHERE amount >= MEASURE(mean) PER (ALL){and_where}",
        "WITH r AS (SELECT zone, COUNT(*) AS n FROM regions r WHERE EXISTS (SELECT 1 FROM "
        f"sales s WHERE s.region_id = r.region_id AND s.amount >= {MEAN}{{and_w}}) "
        "GROUP BY zone), "
        "t AS (SELECT g.zone, SUM(s.amount) AS t FROM sales s LEFT JOIN regions g "
        f"ON s.region_id = g.region_id WHERE s.amount >= {MEAN}{{and_w}} GROUP BY g.zone), "
        "k AS (SELECT zone FROM r UNION SELECT zone FROM t) "
        "SELECT k.zone, COALESCE(r.n, 0), t.t FROM k LEFT JOIN r ON k.zone IS NOT DISTINCT "
        "FROM r.zone LEFT JOIN t ON k.zone IS NOT DISTINCT FROM t.zone",
    ),
    (
        "SELECT CASE WHEN amount > MEASURE(mean) PER (ALL) THEN 'above' ELSE 'other' END "
        "AS band, sale_count{where}",
        f"SELECT CASE WHEN s.amount > {MEAN} THEN 'above' ELSE 'other' END, COUNT(*) "
        "FROM sales s{w} GROUP BY 1",
    ),
    (
        "SELECT zone, region_count WHERE NOT EXISTS(amount > MEASURE(mean) PER (ALL))",
        "SELECT zone, COUNT(*) FROM regions r WHERE NOT EXISTS (SELECT 1 FROM sales s "
        f"WHERE s.region_id = r.region_id AND s.amount > {MEAN}) GROUP BY zone",
    ),
    (
        # each region's own mean, inside an existence about regions
        "SELECT zone, region_count WHERE EXISTS(amount > MEASURE(mean) PER (regions))",
        "SELECT zone, COUNT(*) FROM regions r WHERE EXISTS (SELECT 1 FROM sales s "
        "WHERE s.region_id = r.region_id AND s.amount > (SELECT AVG(amount) FROM sales t "
        "WHERE t.region_id = r.region_id)) GROUP BY zone",
    ),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("grand-total-rows")
    return Project.load(write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY}))


@pytest.mark.parametrize("case", range(len(CASES)))
def test_values_of_rows_match_hand_written_sql(
    project: Project,
    other: tuple[str, Loader, Runner],  # noqa: F811 (the fixture imported above)
    case: int,
) -> None:
    dialect, load, run = other
    business, hand = CASES[case]
    con = duckdb.connect()
    for statement in CREATE:
        con.execute(statement)
    load_duckdb = _fresh(con.execute, con.executemany, "?")

    @settings(
        max_examples=examples(full=200, fast=30),
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(tables=data(), condition=st.sampled_from(WHERES))
    def check(tables: tuple[Rows, Rows], condition: str) -> None:
        regions, sales = tables
        text = business.format(
            where=f" WHERE {condition}" if condition else "",
            and_where=f" AND {condition}" if condition else "",
        )
        mine = f"s.{condition}"
        sql = hand.format(
            w=f" WHERE {mine}" if condition else "", and_w=f" AND {mine}" if condition else ""
        )
        note(text)
        load_duckdb(regions, sales)
        want = con.execute(sql).fetchall()
        assert_same_rows(con.execute(project.compile(text)).fetchall(), want, ordered=False)
        load(regions, sales)
        assert_same_rows(run(project.compile(text, dialect)), want, ordered=False)

    check()


@pytest.mark.parametrize(
    "query",
    [
        "SELECT kind, sale_count WHERE amount > MEASURE(mean) PER (zone)",
        "SELECT zone, kind, sale_count WHERE amount > MEASURE(mean) PER (* EXCLUDE kind)",
        "SELECT CASE WHEN amount > MEASURE(mean) PER (kind) THEN 1 END AS b, kind, sale_count",
    ],
)
def test_a_metric_at_the_groups_grain_next_to_dimensions_is_refused(
    project: Project, query: str
) -> None:
    with pytest.raises(Exception, match="SEM369"):
        project.compile(query)


def test_the_grand_total_next_to_metrics_is_still_the_filtered_total(project: Project) -> None:
    """Next to metrics (HAVING), PER (ALL) stays the total of the query's rows."""
    con = duckdb.connect()
    for statement in CREATE:
        con.execute(statement)
    con.execute("INSERT INTO sales VALUES (1, 0, 'a', 10), (2, 0, 'b', 1), (3, 0, 'b', 2)")
    got = con.execute(
        project.compile(
            "SELECT kind, total WHERE kind = 'b' HAVING total >= MEASURE(total) PER (ALL)"
        )
    ).fetchall()
    # the total of the b sales is 3 (the WHERE applies): b keeps its group
    assert got == [("b", 3)]
