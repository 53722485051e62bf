"""Two shapes of issue #20 that change where work is done, never a value, each checked
against SQL written here by hand on random tiny tables (NULL keys, sales of a region that
does not exist, regions without sales), on DuckDB and SQLite, and on PostgreSQL when
SEMANTIC_TEST_POSTGRES is set:

- a metric per entity is computed only for the entities that the query's conditions on the
  entity's own columns (AND-ed at the top of its WHERE) can keep (`perentity.kept_entities`,
  TPC-H Q17): the value of each entity kept is its value over all its rows; a condition in
  an OR, or one that holds on the NULLs of a sale without its region, changes nothing;
- an inner join read only for the key it joins on reads the foreign key instead
  (`keyjoins`, TPC-H Q11), only along a `required` relationship: along one that is not, a
  sale whose region is missing shows NULL for the region's key, never its foreign key.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import os
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
from tests.soundness.test_per_grain import GLOSSARY, MODEL
from tests.soundness.test_ranking import CREATE, Loader, Runner, _fresh, other  # noqa: F401

MORE = """
  region_key: {label: {en: Region key}, dimension: {entity: regions, expr: region_id}}
"""
REQUIRED = MODEL.replace(
    "keys: {region_id: region_id}}", "keys: {region_id: region_id}, required: true}"
)

#: each region with the value of a metric over all its sales (`{v}`), as the hand SQL reads it
REGION = "WITH rv AS (SELECT r.*, ({v}) AS v FROM regions r) "
MEAN = REGION.format(v="SELECT AVG(amount) FROM sales t WHERE t.region_id = r.region_id")
COUNT = REGION.format(v="SELECT COUNT(*) FROM sales t WHERE t.region_id = r.region_id")
TOTAL = REGION.format(v="SELECT SUM(amount) FROM sales t WHERE t.region_id = r.region_id")
JOINED = "FROM sales s LEFT JOIN rv ON s.region_id = rv.region_id"

#: (business query, the same by hand) on either model
PER_CASES = [
    (
        "SELECT sale_count, total WHERE zone = 'north' AND amount < MEASURE(mean) PER (regions)",
        f"{MEAN} SELECT COUNT(*), SUM(s.amount) {JOINED} "
        "WHERE rv.zone = 'north' AND s.amount < rv.v",
    ),
    (
        "SELECT zone, MEASURE(sale_count) PER (regions) AS n, region_count WHERE zone <> 'south'",
        f"{COUNT} SELECT zone, v, COUNT(*) FROM rv WHERE zone <> 'south' GROUP BY zone, v",
    ),
    (
        # holds on the NULLs of a sale without its region: that sale's value is NULL
        "SELECT kind, sale_count "
        "WHERE COALESCE(zone, 'none') <> 'south' AND MEASURE(total) PER (regions) > 3",
        f"{TOTAL} SELECT s.kind, COUNT(*) {JOINED} "
        "WHERE COALESCE(rv.zone, 'none') <> 'south' AND rv.v > 3 GROUP BY s.kind",
    ),
    (
        # in an OR: every region's value may be read
        "SELECT sale_count WHERE zone = 'north' OR amount < MEASURE(mean) PER (regions)",
        f"{MEAN} SELECT COUNT(*) {JOINED} WHERE rv.zone = 'north' OR s.amount < rv.v",
    ),
    (
        # a list of values among the regions (no metric): narrowed by the region's own zone
        "SELECT zone WHERE zone <> 'south' AND MEASURE(total) PER (regions) > 3",
        f"{TOTAL} SELECT DISTINCT zone FROM rv WHERE zone <> 'south' AND v > 3",
    ),
    (
        # a list of values among the sales: narrowed through the sale's region (to-one)
        "SELECT kind WHERE zone = 'north' AND MEASURE(total) PER (sales) > 3",
        "SELECT DISTINCT s.kind FROM sales s LEFT JOIN regions r ON s.region_id = r.region_id "
        "WHERE r.zone = 'north' AND (SELECT SUM(t.amount) FROM sales t "
        "WHERE t.sale_id = s.sale_id) > 3",
    ),
    (
        "SELECT MEASURE(mean) PER (regions) AS m, sale_count WHERE zone = 'north' AND kind = 'a'",
        f"{MEAN} SELECT rv.v, COUNT(*) {JOINED} WHERE rv.zone = 'north' AND s.kind = 'a' "
        "GROUP BY rv.v",
    ),
]

#: (business query, the same by hand, whether the join to regions is left out when required)
KEY_CASES = [
    (
        "SELECT region_key, sale_count, total",
        "SELECT r.region_id, COUNT(*), SUM(s.amount) FROM sales s "
        "LEFT JOIN regions r ON s.region_id = r.region_id GROUP BY r.region_id",
        True,
    ),
    (
        "SELECT kind, sale_count WHERE region_key <> 1",
        "SELECT s.kind, COUNT(*) FROM sales s LEFT JOIN regions r ON s.region_id = r.region_id "
        "WHERE r.region_id <> 1 GROUP BY s.kind",
        True,
    ),
    (
        "SELECT region_key, zone, total",
        "SELECT r.region_id, r.zone, SUM(s.amount) FROM sales s "
        "LEFT JOIN regions r ON s.region_id = r.region_id GROUP BY r.region_id, r.zone",
        False,
    ),
    (
        "SELECT region_key, region_count, sale_count",
        "WITH a AS (SELECT region_id AS k, COUNT(*) AS n FROM regions GROUP BY region_id), "
        "b AS (SELECT r.region_id AS k, COUNT(*) AS n FROM sales s "
        "LEFT JOIN regions r ON s.region_id = r.region_id GROUP BY r.region_id), "
        "g AS (SELECT k FROM a UNION SELECT k FROM b) "
        "SELECT g.k, COALESCE((SELECT n FROM a WHERE a.k IS NOT DISTINCT FROM g.k), 0), "
        "COALESCE((SELECT n FROM b WHERE b.k IS NOT DISTINCT FROM g.k), 0) FROM g",
        True,
    ),
]


def _project(tmp_path_factory: pytest.TempPathFactory, model: str, name: str) -> Project:
    root = tmp_path_factory.mktemp(name)
    files = {"models/m.yml": model, "glossary/g.yml": GLOSSARY + MORE}
    return Project.load(write_project(root, files))


@pytest.fixture(scope="module")
def loose(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return _project(tmp_path_factory, MODEL, "narrowed-loose")


@pytest.fixture(scope="module")
def required(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return _project(tmp_path_factory, REQUIRED, "narrowed-required")


Rows = list[tuple[Any, ...]]


@st.composite
def tables(draw: st.DrawFn, kept: bool) -> tuple[Rows, Rows]:
    """Regions and sales; with `kept` (the `required` promise) every sale finds its region,
    else a sale's region may be NULL or missing (3)."""
    zones = st.sampled_from(["north", "south", None])
    regions = [(i, draw(zones)) for i in range(draw(st.integers(0, 3)))]
    ids = [r[0] for r in regions] if kept else [0, 1, 2, 3, None]
    count = draw(st.integers(0, 7)) if ids else 0
    sales = [
        (
            i,
            draw(st.sampled_from(ids)),
            draw(st.sampled_from(["a", "b", None])),
            draw(st.one_of(st.none(), st.integers(-2, 9))),
        )
        for i in range(count)
    ]
    return regions, sales


def _check(
    project: Project, engine: tuple[str, Loader, Runner], cases: list[Any], kept: bool
) -> None:
    dialect, load, run = engine
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
    @given(data=tables(kept), case=st.sampled_from(range(len(cases))))
    def check(data: tuple[Rows, Rows], case: int) -> None:
        business, hand = cases[case][:2]
        note(business)
        load_duckdb(*data)
        want = con.execute(hand).fetchall()
        assert_same_rows(con.execute(project.compile(business)).fetchall(), want, ordered=False)
        load(*data)
        assert_same_rows(run(project.compile(business, dialect)), want, ordered=False)

    check()


def test_per_entity_values_of_the_kept_entities_match_hand_written_sql(
    loose: Project,
    other: tuple[str, Loader, Runner],  # noqa: F811 (the fixture imported above)
) -> None:
    _check(loose, other, PER_CASES, kept=False)


def test_per_entity_values_with_the_key_read_from_the_foreign_key(
    required: Project,
    other: tuple[str, Loader, Runner],  # noqa: F811
) -> None:
    _check(required, other, PER_CASES, kept=True)


def test_keys_read_from_the_foreign_key_match_hand_written_sql(
    required: Project,
    loose: Project,
    other: tuple[str, Loader, Runner],  # noqa: F811
) -> None:
    _check(required, other, KEY_CASES, kept=True)
    _check(loose, other, KEY_CASES, kept=False)


def test_the_shapes_are_narrowed(loose: Project, required: Project) -> None:
    """What the values above do not show: the work is left out where it may be."""
    narrowed = loose.compile(PER_CASES[0][0])
    assert narrowed.count("zone = 'north'") == 2  # the outer WHERE, and the per-region subquery
    assert loose.compile(PER_CASES[3][0]).count("zone = 'north'") == 1  # an OR: all regions
    # lists of values (no metric): the regions', and the sales' through their region
    assert loose.compile(PER_CASES[4][0]).count("zone <> 'south'") == 2
    assert loose.compile(PER_CASES[5][0]).count("zone = 'north'") == 2
    for business, _, dropped in KEY_CASES:
        assert ("JOIN regions AS" not in required.compile(business)) == dropped
        assert "JOIN regions AS" in loose.compile(business)


# --- a condition on an entity reached to-one from the entity of the value -----------------

#: each sale with its number of notes; a sale whose key is NULL (or repeats) is a row too
NOTED = (
    "WITH sv AS (SELECT s.*, (SELECT COUNT(*) FROM notes n WHERE n.sale_id = s.sale_id) AS v "
    "FROM sales s) "
)
THREE = (
    MORE
    + """
  note_count: {label: {en: Notes}, metric: {entity: notes, expr: count(*)}}
  shop_zone: {label: {en: Shop zone}, dimension: {entity: regions, expr: zone}}
"""
)

#: (business query, the same by hand): values of sales, conditions on their regions
TO_ONE_CASES = [
    (
        "SELECT kind, sale_count WHERE zone = 'north' AND MEASURE(note_count) PER (sales) > 0",
        f"{NOTED} SELECT sv.kind, COUNT(*) FROM sv LEFT JOIN regions r "
        "ON sv.region_id = r.region_id WHERE r.zone = 'north' AND sv.v > 0 GROUP BY sv.kind",
    ),
    (
        "SELECT zone, total "
        "WHERE COALESCE(zone, 'none') <> 'south' AND MEASURE(note_count) PER (sales) < 2",
        f"{NOTED} SELECT r.zone, SUM(sv.amount) FROM sv LEFT JOIN regions r "
        "ON sv.region_id = r.region_id WHERE COALESCE(r.zone, 'none') <> 'south' AND sv.v < 2 "
        "GROUP BY r.zone",
    ),
    (
        # the query's metric is of notes: each note's region is its sale's, yet the value
        # is computed for every sale (the query's rows are not the sales')
        "SELECT note_count WHERE zone = 'north' AND MEASURE(note_count) PER (sales) > 1",
        f"{NOTED} SELECT COUNT(*) FROM notes n LEFT JOIN sv ON n.sale_id = sv.sale_id "
        "LEFT JOIN regions r ON sv.region_id = r.region_id WHERE r.zone = 'north' AND sv.v > 1",
    ),
]


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Project:
    from tests.soundness.test_one_pass_filters import GLOSSARY as SHOP
    from tests.soundness.test_one_pass_filters import MODEL as SHOP_MODEL

    root = tmp_path_factory.mktemp("narrowed-three")
    files = {"models/m.yml": SHOP_MODEL, "glossary/g.yml": SHOP + THREE}
    return Project.load(write_project(root, files))


def test_values_narrowed_by_an_entity_reached_to_one_match_hand_written_sql(
    three: Project, request: pytest.FixtureRequest
) -> None:
    import sqlite3

    from tests.soundness.test_one_pass_filters import _duckdb, _fill
    from tests.soundness.test_semi_joins import data

    runs: list[tuple[str, Any]] = [("sqlite", None)]
    if os.environ.get("SEMANTIC_TEST_POSTGRES"):
        runs.append(("postgres", request.getfixturevalue("postgres_url")))

    @settings(
        max_examples=examples(full=300, fast=60),
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(tables=data(), case=st.sampled_from(range(len(TO_ONE_CASES))))
    def check(tables: Any, case: int) -> None:
        regions, sales, notes = tables
        business, hand = TO_ONE_CASES[case]
        note(business)
        con = _duckdb(regions, sales, notes)
        want = con.execute(hand).fetchall()
        assert_same_rows(con.execute(three.compile(business)).fetchall(), want, ordered=False)
        lite = sqlite3.connect(":memory:")
        _fill(lite, regions, sales, notes)
        got = lite.execute(three.compile(business, "sqlite")).fetchall()
        assert_same_rows(got, want, ordered=False)

    check()
    assert three.compile(TO_ONE_CASES[0][0]).count("zone = 'north'") == 2
    assert three.compile(TO_ONE_CASES[2][0]).count("zone = 'north'") == 1
    if len(runs) > 1:
        _on_postgres(three, runs[1][1])


def _on_postgres(project: Project, url: str) -> None:
    """The cases on PostgreSQL, on a few fixed tables with NULL keys and orphans."""
    import uuid

    import psycopg

    regions = [{"region_id": 0, "zone": "north"}, {"region_id": 1, "zone": None}]
    sales = [
        {"sale_id": i, "region_id": r, "kind": k, "amount": a}
        for i, r, k, a in [
            (0, 0, "a", 3),
            (1, 0, "b", None),
            (None, 0, "a", 2),
            (2, 3, "a", 1),
            (3, None, "b", 5),
            (4, 1, "a", 4),
            (0, 1, "b", 7),
        ]
    ]
    notes = [(0, 0, "x"), (1, 0, "y"), (2, 2, None), (3, None, "x"), (4, 9, "y"), (5, 4, "x")]
    con = duckdb.connect()
    from tests.soundness.test_one_pass_filters import _fill

    _fill(con, regions, sales, notes)
    schema = f"narrowed_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute(f"CREATE SCHEMA {schema}")
        try:
            pg.execute(f"SET search_path TO {schema}")

            class Lite:  # the loader's DuckDB-style calls, on PostgreSQL
                def execute(self, sql: str) -> None:
                    pg.execute(sql)

                def executemany(self, sql: str, rows: list[Any]) -> None:
                    with pg.cursor() as cursor:
                        cursor.executemany(sql.replace("?", "%s"), rows)

            _fill(Lite(), regions, sales, notes)
            for business, hand in TO_ONE_CASES:
                want = con.execute(hand).fetchall()
                got = pg.execute(project.compile(business, "postgres")).fetchall()
                assert_same_rows(got, want, ordered=False)
        finally:
            pg.execute(f"DROP SCHEMA {schema} CASCADE")
