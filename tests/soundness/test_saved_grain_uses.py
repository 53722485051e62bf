"""A saved per-entity value (`region_sales: MEASURE(sale_count) PER (regions)`, the band
`region_band` over it, the segment `region_without_sales`) used where a modeler writes terms
rather than a query: in another glossary metric's `filter:`, in a subject area's dimensions
and `filter:`. Each gives what hand-written SQL gives, on random tiny tables (NULL keys, a
sale of a region that does not exist, regions without sales) on DuckDB and SQLite, and on
PostgreSQL when SEMANTIC_TEST_POSTGRES is set. A role's row filter may not name one: SEM370
at its place in policies.yml (a value counted over other rows would be counted over rows
the role may not read).

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from semantic.errors import SemanticError
from semantic.outputs.views import subject_area_view
from semantic.project import Project
from tests.budget import examples
from tests.compare import assert_same_rows
from tests.projects import write_project
from tests.services import postgres_url  # noqa: F401 (a fixture)
from tests.soundness.test_per_grain import MODEL, _fill, _where, data
from tests.soundness.test_saved_grain import BAND, GLOSSARY, REGIONS

USES = """
  busy_total:
    label: {en: Busy total}
    metric: {expr: total, filter: region_sales > 1}
  big_region_count:
    label: {en: Big regions}
    metric: {entity: regions, expr: count(*), filter: "region_band = 'big'"}
  quiet_total:
    label: {en: Quiet total}
    metric: {expr: total, filter: region_without_sales}
subject_areas:
  by_band:
    label: {en: By band}
    dimensions: [region_band, zone]
    metrics: [total, sale_count]
  busy_regions:
    label: {en: Busy regions}
    dimensions: [zone]
    metrics: [total]
    filter: region_sales > 1
"""

#: (business query, hand-written SQL over REGIONS' `b` (regions) and `s` (sales))
CASES = [
    # a metric whose filter reads a per-entity value: the rows of the regions with > 1 sale
    ("SELECT zone, busy_total{where}", "SELECT zone, SUM(amount) FROM s WHERE n > 1 GROUP BY 1"),
    ("SELECT big_region_count", f"SELECT COUNT(*) FROM b WHERE {BAND} = 'big'"),
    (
        "SELECT kind, total, quiet_total{where}",
        "SELECT kind, SUM(amount), SUM(amount) FILTER (WHERE n = 0) FROM s GROUP BY 1",
    ),
    (
        "SELECT zone, busy_total, region_count",
        "SELECT b.zone, t.v, COUNT(*) FROM b LEFT JOIN (SELECT zone, SUM(amount) AS v "
        "FROM s WHERE n > 1 GROUP BY zone) t ON t.zone IS NOT DISTINCT FROM b.zone "
        "GROUP BY b.zone, t.v",
    ),
]

#: (subject area, hand-written SQL its view gives)
AREAS = {
    "by_band": f"SELECT {BAND}, zone, SUM(amount), COUNT(*) FROM s GROUP BY 1, 2",
    "busy_regions": "SELECT zone, SUM(amount) FROM s WHERE n > 1 GROUP BY 1",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("saved-grain-uses")
    files = {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY + USES}
    return Project.load(write_project(root, files))


def _view(project: Project, area: str) -> str:
    model = project.model
    return subject_area_view(model, model.subject_areas[area], None, "", "main").query.sql("duckdb")


@settings(
    max_examples=examples(full=200, fast=40),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tables=data(),
    case=st.sampled_from(range(len(CASES) + len(AREAS))),
    condition=st.sampled_from(["", "amount > 3", "kind = 'a'"]),
)
def test_a_per_entity_value_in_a_metric_filter_and_a_subject_area_matches_sql(
    project: Project,
    tables: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]],
    case: int,
    condition: str,
) -> None:
    regions, sales = tables
    con = duckdb.connect()
    _fill(con, regions, sales)
    if case >= len(CASES):  # a subject area's view: no query condition
        area, hand = list(AREAS.items())[case - len(CASES)]
        want = con.execute(REGIONS.format(w="") + hand).fetchall()
        assert_same_rows(con.execute(_view(project, area)).fetchall(), want, ordered=False)
        return
    business, hand = CASES[case]
    text = business.format(where=_where(condition))
    where = _where(condition.replace("amount", "s.amount")) if "{where}" in business else ""
    note(text)
    want = con.execute(REGIONS.format(w=where) + hand).fetchall()
    assert_same_rows(con.execute(project.compile(text)).fetchall(), want, ordered=False)
    lite = sqlite3.connect(":memory:")
    _fill(lite, regions, sales)
    assert_same_rows(lite.execute(project.compile(text, "sqlite")).fetchall(), want, ordered=False)


#: a fixed data set with every case in it: a busy region, a quiet one, one without sales, a
#: sale of no region and one of a region that does not exist
REGION_ROWS = [(0, "north"), (1, "south"), (2, None)]
SALE_ROWS = [
    (0, 0, "a", 5),
    (1, 0, "b", 2),
    (2, 0, "a", None),
    (3, 1, "a", 4),
    (4, None, "a", 1),
    (5, 3, "b", 7),
]


def test_the_same_on_postgres(project: Project, postgres_url: str) -> None:  # noqa: F811
    import psycopg

    schema = f"saved_grain_uses_{uuid.uuid4().hex[:12]}"
    con = duckdb.connect()
    _fill(con, REGION_ROWS, SALE_ROWS)
    with psycopg.connect(postgres_url, autocommit=True) as pg:
        pg.execute(f'CREATE SCHEMA "{schema}"')
        try:
            pg.execute(f'SET search_path TO "{schema}"')
            pg.execute("CREATE TABLE regions (region_id INTEGER, zone VARCHAR)")
            pg.execute(
                "CREATE TABLE sales (sale_id INTEGER, region_id INTEGER, kind VARCHAR, "
                "amount INTEGER)"
            )
            with pg.cursor() as cursor:
                cursor.executemany("INSERT INTO regions VALUES (%s, %s)", REGION_ROWS)
                cursor.executemany("INSERT INTO sales VALUES (%s, %s, %s, %s)", SALE_ROWS)
            for business, hand in CASES:
                text = business.format(where="")
                want = con.execute(REGIONS.format(w="") + hand).fetchall()
                assert want, f"no rows for {text}: the comparison would prove nothing"
                got = pg.execute(project.compile(text, "postgres")).fetchall()
                assert_same_rows(got, want, ordered=False)
            for area, hand in AREAS.items():
                want = con.execute(REGIONS.format(w="") + hand).fetchall()
                sql = subject_area_view(
                    project.model, project.model.subject_areas[area], None, "", schema
                ).query.sql("postgres")
                assert_same_rows(pg.execute(sql).fetchall(), want, ordered=False)
        finally:
            pg.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_a_role_filter_on_a_per_entity_value_is_sem370_at_its_place(tmp_path: Path) -> None:
    policies = (
        "roles:\n"
        "  busy:\n"
        "    clearance: internal\n"
        "    filters:\n"
        "      - zone = 'north'\n"
        "      - region_band <> 'none'\n"
    )
    files = {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY, "policies.yml": policies}
    with pytest.raises(SemanticError) as caught:
        Project.load(write_project(tmp_path, files))
    (problem,) = caught.value.diagnostics
    assert problem.code == "SEM370"
    assert (problem.span.file, problem.span.line, problem.span.col) == ("policies.yml", 6, 9)
    assert "'region_band'" in problem.message and "PER (regions)" in problem.message
    assert problem.hint
