"""Existence over a to-many path (issue #13): `EXISTS(c)` keeps the rows with at least one
related row meeting `c`, `NOT EXISTS(c)` those with none, `ALL(c)` those whose every related
row meets `c` (one without related rows included; a row where `c` is NULL does not meet
it); with a second argument, about the rows of that dimension's entity instead of the
metric's own.

Random tiny tables (NULL and repeated keys, notes of no sale, sales without notes, NULL tags)
and random queries, run on DuckDB and SQLite (each form on pinned tables on Spark) against
SQL written here by hand: `EXISTS` and `NOT EXISTS` over the notes of each sale, `ALL` as
two counts that must be equal, so that the oracle does not share the compiler's rewriting
of ALL.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from semantic.errors import SemanticError
from semantic.project import Project
from tests.budget import examples
from tests.compare import assert_same_rows
from tests.projects import write_project
from tests.soundness.test_one_pass_filters import GLOSSARY, MODEL, _duckdb, _fill
from tests.soundness.test_semi_joins import PINNED, data, load_pinned
from tests.spark_rows import SparkRows, spark_rows

NOTES = """
  note_count: {label: {en: Notes}, metric: {entity: notes, expr: count(*)}}
  tagged_notes: {label: {en: Tagged notes}, metric: {entity: notes, expr: count(tag)}}
  sale_key: {label: {en: Sale key}, dimension: {entity: sales, expr: sale_id}}
"""

#: (condition in the query, the same on the notes aliased n in the oracle)
TAGS = [
    ("tag = 'x'", "n.tag = 'x'"),
    ("tag <> 'x'", "n.tag <> 'x'"),
    ("tag IS NULL", "n.tag IS NULL"),
    ("tag = 'zzz'", "n.tag = 'zzz'"),
    ("tag = 'x' OR tag = 'y'", "(n.tag = 'x' OR n.tag = 'y')"),
]
#: (condition on the sale's row, the same in the oracle)
ROWS = [
    ("kind = 'a'", "s.kind = 'a'"),
    ("zone = 'north'", "r.zone = 'north'"),
    ("amount > 3", "s.amount > 3"),
]
#: sale metrics: term -> the oracle's aggregate (their fill over no rows is the aggregate's)
SALE_METRICS = {
    "sale_count": "COUNT(*)",
    "raw_total": "SUM(s.amount)",
    "biggest": "MAX(s.amount)",
    "kinds": "COUNT(DISTINCT s.kind)",
}
KEYS = {"kind": "s.kind", "zone": "r.zone"}


def _oracle_test(form: str, tag_sql: str, sale: str) -> str:
    """The hand-written test of one existence form on the sale aliased `sale`."""
    related = f"FROM notes AS n2 WHERE n2.sale_id = {sale}.sale_id"
    inner = tag_sql.replace("n.", "n2.")
    if form == "EXISTS":
        return f"EXISTS (SELECT 1 {related} AND {inner})"
    if form == "NOT EXISTS":
        return f"NOT EXISTS (SELECT 1 {related} AND {inner})"
    return f"(SELECT COUNT(*) {related} AND ({inner}) IS TRUE) = (SELECT COUNT(*) {related})"


def _query(form: str, condition: str, anchor: str = "") -> str:
    args = f"{condition}, {anchor}" if anchor else condition
    if form == "ALL":
        return f"ALL({args})"
    return f"{form}({args})"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("existence")
    files = {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY + NOTES}
    return Project.load(write_project(root, files))


def _run(project: Project, tables: Any, text: str, oracle: str) -> None:
    regions, sales, notes = tables
    con = _duckdb(regions, sales, notes)
    want = con.execute(oracle).fetchall()
    assert_same_rows(con.execute(project.compile(text)).fetchall(), want, ordered=False)
    lite = sqlite3.connect(":memory:")
    _fill(lite, regions, sales, notes)
    assert_same_rows(lite.execute(oracle).fetchall(), want, ordered=False)
    assert_same_rows(lite.execute(project.compile(text, "sqlite")).fetchall(), want, ordered=False)


FORMS = ["EXISTS", "NOT EXISTS", "ALL"]
SETTINGS = settings(
    max_examples=examples(full=300, fast=80),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(
    tables=data(),
    form=st.sampled_from(FORMS),
    tag=st.sampled_from(TAGS),
    row=st.one_of(st.none(), st.sampled_from(ROWS)),
    keys=st.lists(st.sampled_from(sorted(KEYS)), max_size=2, unique=True),
    metric=st.sampled_from(sorted(SALE_METRICS)),
)
def test_existence_about_the_metrics_entity(
    project: Project,
    tables: Any,
    form: str,
    tag: tuple[str, str],
    row: tuple[str, str] | None,
    keys: list[str],
    metric: str,
) -> None:
    where = [_query(form, tag[0])] + ([row[0]] if row else [])
    text = f"SELECT {', '.join([*keys, metric])} WHERE {' AND '.join(where)}"
    note(text)
    conditions = [_oracle_test(form, tag[1], "s")] + ([row[1]] if row else [])
    group = [KEYS[k] for k in keys]
    oracle = (
        f"SELECT {', '.join([*group, SALE_METRICS[metric]])} FROM sales AS s "
        "LEFT JOIN regions AS r ON s.region_id = r.region_id "
        f"WHERE {' AND '.join(conditions)}" + (f" GROUP BY {', '.join(group)}" if group else "")
    )
    _run(project, tables, text, oracle)


@SETTINGS
@given(
    tables=data(),
    form=st.sampled_from(FORMS),
    tag=st.sampled_from(TAGS),
    metric=st.sampled_from(["note_count", "tagged_notes"]),
    by_kind=st.booleans(),
)
def test_existence_about_the_entity_of_a_dimension(
    project: Project, tables: Any, form: str, tag: tuple[str, str], metric: str, by_kind: bool
) -> None:
    """A metric of notes, kept when the note's sale has (none, all) notes meeting `tag`:
    the other notes of the same sale count."""
    text = f"SELECT {'kind, ' if by_kind else ''}{metric} WHERE {_query(form, tag[0], 'sale_key')}"
    note(text)
    measure = "COUNT(*)" if metric == "note_count" else "COUNT(n.tag)"
    oracle = (
        f"SELECT {'s.kind, ' if by_kind else ''}{measure} FROM notes AS n "
        "LEFT JOIN sales AS s ON n.sale_id = s.sale_id "
        f"WHERE {_oracle_test(form, tag[1], 's')}" + (" GROUP BY s.kind" if by_kind else "")
    )
    _run(project, tables, text, oracle)


def test_an_existence_within_the_entity_itself_is_refused(project: Project) -> None:
    """`tag` is one value per note: which rows would a note have? The anchor must be said."""
    with pytest.raises(SemanticError) as caught:
        project.compile("SELECT note_count WHERE NOT EXISTS(tag = 'x')")
    assert caught.value.code == "SEM355"
    assert "sale_key" not in caught.value.diagnostics[0].message
    with pytest.raises(SemanticError) as caught:
        project.compile("SELECT sale_count WHERE EXISTS(tag = 'x', total)")
    assert caught.value.code in ("SEM354", "SEM305")
    with pytest.raises(SemanticError) as caught:
        project.compile("SELECT sale_count WHERE EXISTS(note_count > 1)")
    assert caught.value.code == "SEM354"


def test_a_bare_dimension_means_any_row(project: Project) -> None:
    """`NOT EXISTS(tag)`: sales without any note, whatever the notes' tags (NULL included)."""
    regions: list[dict[str, Any]] = []
    sales = [
        {"sale_id": 1, "region_id": None, "kind": "a", "amount": 1},
        {"sale_id": 2, "region_id": None, "kind": "a", "amount": 2},
        {"sale_id": 3, "region_id": None, "kind": "b", "amount": 4},
    ]
    notes = [(0, 1, None), (1, 2, "x")]
    con = _duckdb(regions, sales, notes)
    got = con.execute(project.compile("SELECT raw_total WHERE NOT EXISTS(tag)")).fetchall()
    assert got == [(4,)]
    got = con.execute(project.compile("SELECT raw_total WHERE EXISTS(tag)")).fetchall()
    assert got == [(3,)]


@SETTINGS
@given(tables=data(), form=st.sampled_from(FORMS), op=st.sampled_from(["<>", "=", "<"]))
def test_this_is_the_tested_rows_own_value(
    project: Project, tables: Any, form: str, op: str
) -> None:
    """`THIS(tag)` inside is the counted note's tag; `tag` alone, the sale's other notes'."""
    text = f"SELECT note_count WHERE {_query(form, f'tag {op} THIS(tag)', 'sale_key')}"
    note(text)
    oracle = (
        "SELECT COUNT(*) FROM notes AS n LEFT JOIN sales AS s ON n.sale_id = s.sale_id "
        f"WHERE {_oracle_test(form, f'n.tag {op} n_outer.tag', 's')}"
    ).replace("n_outer.", "n.")
    _run(project, tables, text, oracle)


def test_this_outside_an_existence_is_refused(project: Project) -> None:
    with pytest.raises(SemanticError) as caught:
        project.compile("SELECT note_count WHERE tag = THIS(tag)")
    assert caught.value.code == "SEM354"


def test_the_anchor_is_read_once_where_only_its_key_is_needed(project: Project) -> None:
    """The subquery matches the outer row on its key and goes down from it: it reads the
    notes alone, as TPC-H Q04's official SQL does (the answers are the random tests' above,
    with NULL and repeated keys); a condition on the sale's own columns keeps its copy."""
    sql = project.compile("SELECT sale_count WHERE EXISTS(tag = 'x')")
    inner = sql[sql.index("EXISTS") :]
    assert "has_sales" not in inner and "FROM notes AS has_notes" in inner
    sql = project.compile("SELECT note_count WHERE EXISTS(tag = 'x', sale_key)")
    assert "has_sales" not in sql
    sql = project.compile("SELECT sale_count WHERE EXISTS(tag = 'x' AND kind = 'a')")
    assert "has_sales" in sql


def test_a_required_hop_read_only_for_its_key_is_not_joined() -> None:
    """TPC-H Q21's `supplier_key <> THIS(supplier_key)`: every line finds its supplier
    (`required: true`), whose key is the line's `l_suppkey`, so the subquery reads that
    instead of joining `supplier` (tests/test_tpch.py checks the answer against the
    official one)."""
    from tests.conftest import ROOT

    project = Project.load(ROOT)
    sql = project.compile(
        "SELECT supplier_name, line_count WHERE EXISTS(supplier_key <> THIS(supplier_key), "
        "order_key)"
    )
    inner = sql[sql.index("EXISTS") :]
    assert "has_supplier" not in inner and "has_lineitem.l_suppkey <> supplier.s_suppkey" in inner


# --- Spark: each form once on pinned tables --------------------------------------------------


@pytest.fixture(scope="module")
def spark(project: Project, request: pytest.FixtureRequest) -> Iterator[SparkRows]:
    for engine in spark_rows(request, project):
        load_pinned(engine)
        yield engine


def _about_sales(
    form: str, tag: tuple[str, str], row: tuple[str, str], key: str, metric: str
) -> tuple[str, str]:
    """The business query and its oracle of `test_existence_about_the_metrics_entity`."""
    text = f"SELECT {key}, {metric} WHERE {_query(form, tag[0])} AND {row[0]}"
    oracle = (
        f"SELECT {KEYS[key]}, {SALE_METRICS[metric]} FROM sales AS s "
        "LEFT JOIN regions AS r ON s.region_id = r.region_id "
        f"WHERE {_oracle_test(form, tag[1], 's')} AND {row[1]} GROUP BY {KEYS[key]}"
    )
    return text, oracle


def _about_notes(form: str, tag: str, metric: str) -> tuple[str, str]:
    """The business query and its oracle of `test_existence_about_the_entity_of_a_dimension`
    (by kind), or with `THIS(tag)` in `tag` that of `test_this_is_the_tested_rows_own_value`."""
    text = f"SELECT kind, {metric} WHERE {_query(form, tag, 'sale_key')}"
    measure = "COUNT(*)" if metric == "note_count" else "COUNT(n.tag)"
    inner = "n." + tag.replace("THIS(tag)", "n_outer.tag")
    oracle = (
        f"SELECT s.kind, {measure} FROM notes AS n LEFT JOIN sales AS s ON n.sale_id = s.sale_id "
        f"WHERE {_oracle_test(form, inner, 's')} GROUP BY s.kind"
    ).replace("n_outer.", "n.")
    return text, oracle


SPARK_CASES = [
    _about_sales("EXISTS", TAGS[0], ROWS[2], "kind", "sale_count"),
    _about_sales("NOT EXISTS", TAGS[4], ROWS[2], "zone", "raw_total"),
    _about_sales("ALL", TAGS[1], ROWS[2], "zone", "kinds"),
    _about_notes("NOT EXISTS", "tag IS NULL", "tagged_notes"),
    _about_notes("ALL", "tag <> THIS(tag)", "note_count"),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", range(len(SPARK_CASES)))
def test_existence_on_spark(project: Project, spark: SparkRows, case: int) -> None:
    text, oracle = SPARK_CASES[case]
    regions, sales, notes = PINNED
    want = _duckdb(regions, sales, notes).execute(oracle).fetchall()
    assert want, oracle
    assert_same_rows(spark.run(project.compile(text, "spark")), want, ordered=False)
