"""A condition on the many side of a metric's entity, written `EXISTS` (issue #20), keeps the
rows that the distinct joined rows kept: each row of the entity once, when one of its
matching rows meets the condition, and an entity row without any match only where the
condition holds on NULLs (`tag IS NULL`: those keep their distinct rows, as does a group key
or a condition across two branches of the many side).

Random tiny tables (NULL keys on both sides, notes of no sale, sales without notes) and
random queries, run on DuckDB and SQLite (a few, on pinned tables, on Spark) against the
evaluator of test_one_pass_filters.py, which joins each sale to its notes (or to none) and
keeps it when one joined row meets every condition.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from semantic.compiler.shape import DistinctRows, format_shape, shape_plan
from semantic.project import Project
from tests.budget import examples
from tests.compare import assert_same_rows
from tests.projects import write_project
from tests.soundness.test_one_pass_filters import (
    AGGREGATES,
    CONDITIONS,
    GLOSSARY,
    KEYS,
    MODEL,
    Cond,
    Measure,
    Sale,
    _and,
    _duckdb,
    _fill,
    expected,
)
from tests.spark_rows import SparkRows, spark_rows


def _or(*values: bool | None) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _both(a: Cond, b: Cond) -> Cond:
    return Cond(f"({a.text}) AND ({b.text})", lambda s, t: _and(a.test(s, t), b.test(s, t)))


def _either(a: Cond, b: Cond) -> Cond:
    return Cond(f"({a.text}) OR ({b.text})", lambda s, t: _or(a.test(s, t), b.test(s, t)))


TAG_X, KIND_A = CONDITIONS[-1], CONDITIONS[0]
MANY = [
    TAG_X,
    Cond("tag <> 'x'", lambda s, t: None if t is None else t != "x"),
    Cond("tag IS NULL", lambda s, t: t is None),  # holds on a sale without notes
    Cond("tag LIKE 'y%'", lambda s, t: None if t is None else t.startswith("y")),
    Cond("tag = 'zzz'", lambda s, t: None if t is None else t == "zzz"),  # matches nothing
    _either(TAG_X, KIND_A),  # holds on a sale of kind a without notes
    _both(TAG_X, KIND_A),
]
WHERE = st.one_of(
    st.sampled_from(MANY),
    st.builds(_both, st.sampled_from(MANY), st.sampled_from(CONDITIONS)),
    st.builds(_both, st.sampled_from(MANY), st.sampled_from(MANY)),
)


@st.composite
def data(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[Sale], list[tuple[Any, ...]]]:
    regions = [
        {"region_id": i, "zone": draw(st.sampled_from(["north", "south", None]))}
        for i in range(draw(st.integers(0, 2)))
    ]
    sales = [
        {
            "sale_id": draw(st.sampled_from([i, i, None])),  # a NULL key now and then
            "region_id": draw(st.sampled_from([0, 1, None])),
            "kind": draw(st.sampled_from(["a", "b", None])),
            "amount": draw(st.one_of(st.none(), st.integers(-2, 9))),
        }
        for i in range(draw(st.integers(0, 6)))
    ]
    notes = [
        (n, draw(st.sampled_from([0, 1, 2, 3, 9, None])), draw(st.sampled_from(["x", "y", None])))
        for n in range(draw(st.integers(0, 6)))
    ]
    return regions, sales, notes


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("semi-joins")
    return Project.load(write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY}))


@settings(
    max_examples=examples(full=400, fast=120),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tables=data(),
    keys=st.sampled_from(KEYS),
    terms=st.lists(st.sampled_from(sorted(AGGREGATES)), min_size=1, max_size=3, unique=True),
    where=st.one_of(st.none(), WHERE),
    filtered=st.one_of(st.none(), st.sampled_from(MANY)),
)
def test_many_side_conditions_keep_each_row_once(
    project: Project,
    tables: tuple[list[dict[str, Any]], list[Sale], list[tuple[Any, ...]]],
    keys: tuple[str, ...],
    terms: list[str],
    where: Cond | None,
    filtered: Cond | None,
) -> None:
    regions, sales, notes = tables
    measures = [Measure(t, None) for t in terms]
    if filtered is not None:  # one metric more, filtered on the many side
        measures.append(Measure(terms[0], filtered))
    text = "SELECT " + ", ".join([*keys, *(m.text(i) for i, m in enumerate(measures))])
    if where is not None:
        text += f" WHERE {where.text}"
    note(text)
    note(format_shape(shape_plan(project.plan(text))))
    zones = {r["region_id"]: r["zone"] for r in regions}
    joined = [{**s, "zone": zones.get(s["region_id"])} for s in sales]
    tags: dict[int, list[str | None]] = {}
    for _, sale_id, tag in notes:
        if sale_id is not None:
            tags.setdefault(sale_id, []).append(tag)
    want = expected(joined, tags, keys, measures, where)
    con = _duckdb(regions, sales, notes)
    assert_same_rows(con.execute(project.compile(text)).fetchall(), want, ordered=False)
    lite = sqlite3.connect(":memory:")
    _fill(lite, regions, sales, notes)
    assert_same_rows(lite.execute(project.compile(text, "sqlite")).fetchall(), want, ordered=False)


def test_conditions_that_hold_on_nulls_keep_distinct_rows(project: Project) -> None:
    """The shape: `tag = 'x'` is a semi-join; `tag IS NULL` (true for a sale without notes)
    and `tag = 'x' OR kind = 'a'` keep the distinct joined rows."""

    def source(query: str) -> object:
        shape = shape_plan(project.plan(query)).source
        return getattr(shape, "source", None)

    semi = source("SELECT kind, total WHERE tag = 'x'")
    assert not isinstance(semi, DistinctRows) and getattr(semi, "exists", ())
    assert isinstance(source("SELECT kind, total WHERE tag IS NULL"), DistinctRows)
    assert isinstance(source("SELECT kind, total WHERE tag = 'x' OR kind = 'a'"), DistinctRows)
    assert isinstance(source("SELECT tag, total"), DistinctRows)


def test_a_sale_without_notes_is_kept_by_a_condition_on_nulls(project: Project) -> None:
    """By hand: sale 1 has no notes, sale 2 a note tagged x, sale 3 a NULL key."""
    con = _duckdb(
        [],
        [
            {"sale_id": 1, "region_id": None, "kind": "a", "amount": 1},
            {"sale_id": 2, "region_id": None, "kind": "a", "amount": 10},
            {"sale_id": None, "region_id": None, "kind": "a", "amount": 100},
        ],
        [(1, 2, "x"), (2, 2, "x"), (3, None, "x")],
    )
    rows = {
        q: con.execute(project.compile(f"SELECT kind, total WHERE {q}")).fetchall()
        for q in ("tag = 'x'", "tag IS NULL", "tag <> 'y'")
    }
    assert rows == {
        "tag = 'x'": [("a", 10)],
        "tag IS NULL": [("a", 101)],
        "tag <> 'y'": [("a", 10)],
    }


# --- Spark: a few of the same queries on pinned tables -------------------------------------

#: a NULL sale key, a sale of no region, a sale without notes (4), notes of no sale (9) and
#: of a NULL sale, NULL tags, a sale with notes of two tags (0)
PINNED: tuple[list[dict[str, Any]], list[Sale], list[tuple[Any, ...]]] = (
    [{"region_id": 0, "zone": "north"}, {"region_id": 1, "zone": None}],
    [
        {"sale_id": s, "region_id": r, "kind": k, "amount": a}
        for s, r, k, a in [
            (0, 0, "a", 5),
            (1, 1, "b", 2),
            (2, None, "a", 7),
            (None, 0, "b", 4),
            (4, 1, None, None),
            (5, 0, "a", 9),
        ]
    ],
    [
        (0, 0, "x"),
        (1, 0, "y"),
        (2, 1, None),
        (3, 2, "x"),
        (4, 9, "x"),
        (5, None, "y"),
        (6, 5, "y"),
        (7, 5, "y"),
    ],
)


def load_pinned(spark: SparkRows) -> None:
    """The pinned tables, as Spark views."""
    regions, sales, notes = PINNED
    spark.load("regions", "region_id INT, zone STRING", [tuple(r.values()) for r in regions])
    spark.load(
        "sales",
        "sale_id INT, region_id INT, kind STRING, amount INT",
        [tuple(s.values()) for s in sales],
    )
    spark.load("notes", "note_id INT, sale_id INT, tag STRING", notes)


@pytest.fixture(scope="module")
def spark(project: Project, request: pytest.FixtureRequest) -> Iterator[SparkRows]:
    for engine in spark_rows(request, project):
        load_pinned(engine)
        yield engine


#: (keys, metrics, WHERE, the filter of one metric more): a semi-join, a condition on NULLs
#: that keeps distinct rows, a condition across both sides, a filtered metric
SPARK_QUERIES = [
    (("kind",), ["total", "kinds"], TAG_X, None),
    (("zone",), ["sale_count", "average"], MANY[2], MANY[1]),
    ((), ["raw_total", "spread"], _either(TAG_X, KIND_A), None),
    (("zone", "kind"), ["biggest"], _both(MANY[3], CONDITIONS[3]), TAG_X),
]


@pytest.mark.slow
@pytest.mark.parametrize("query", range(len(SPARK_QUERIES)))
def test_many_side_conditions_on_spark(project: Project, spark: SparkRows, query: int) -> None:
    keys, terms, where, filtered = SPARK_QUERIES[query]
    measures = [Measure(t, None) for t in terms]
    if filtered is not None:
        measures.append(Measure(terms[0], filtered))
    text = "SELECT " + ", ".join([*keys, *(m.text(i) for i, m in enumerate(measures))])
    text += f" WHERE {where.text}"
    regions, sales, notes = PINNED
    zones = {r["region_id"]: r["zone"] for r in regions}
    joined = [{**s, "zone": zones.get(s["region_id"])} for s in sales]
    tags: dict[int, list[str | None]] = {}
    for _, sale_id, tag in notes:
        if sale_id is not None:
            tags.setdefault(sale_id, []).append(tag)
    want = expected(joined, tags, keys, measures, where)
    assert want, text
    assert_same_rows(spark.run(project.compile(text, "spark")), want, ordered=False)
