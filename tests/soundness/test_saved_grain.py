"""Metrics per entity and at another grain saved as glossary terms (a dimension
`MEASURE(m) PER (entity)`, a band over it, a segment, a share of the total) give what
hand-written SQL gives, on random tiny tables (NULL keys, sales of a region that does not
exist, regions without sales, filters that match nothing), on DuckDB and SQLite; and the
query written out with `MEASURE(...) PER` gives the same rows as the saved terms.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from semantic.errors import SemanticError
from semantic.project import Project
from tests.budget import examples
from tests.compare import assert_same_rows
from tests.projects import write_project
from tests.soundness.test_per_grain import MODEL, _fill, _where, data

GLOSSARY = """
domain: shop
terms:
  zone: {label: {en: Zone}, dimension: {entity: regions, expr: zone}}
  kind: {label: {en: Kind}, dimension: {entity: sales, expr: kind}}
  amount: {label: {en: Amount}, dimension: {entity: sales, expr: amount}}
  total: {label: {en: Total}, metric: {entity: sales, expr: sum(amount)}}
  sale_count: {label: {en: Sales}, metric: {entity: sales, expr: count(*)}}
  region_count: {label: {en: Regions}, metric: {entity: regions, expr: count(*)}}
  region_sales:
    label: {en: Region sales, fr: Ventes de la région}
    dimension: {entity: regions, expr: MEASURE(sale_count) PER (regions)}
  region_band:
    label: {en: Region band, fr: Tranche de région}
    dimension:
      entity: regions
      expr: >-
        CASE WHEN MEASURE(sale_count) PER (regions) = 0 THEN 'none'
        WHEN MEASURE(total) FILTER (WHERE kind = 'a') PER (regions) > 3 THEN 'big'
        WHEN zone IS NULL THEN 'nowhere' ELSE 'small' END
  region_without_sales:
    label: {en: Region without sales}
    segment: {entity: regions, condition: MEASURE(sale_count) PER (regions) = 0}
  share:
    label: {en: Share of total, fr: Part du total}
    metric: {expr: "total / NULLIF(MEASURE(total) PER (ALL), 0)"}
  share_of_zone:
    label: {en: Share of the zone}
    metric: {expr: "total / NULLIF(MEASURE(total) PER (* EXCLUDE kind), 0)"}
  share_in_kind:
    label: {en: Share in the kind}
    metric: {expr: share_of_zone * 1}
"""

WHERES = ["", "amount > 3", "amount > 100", "kind = 'a'"]

#: the per-region values of the hand-written SQL
REGIONS = (
    "WITH p AS (SELECT region_id, COUNT(*) AS c, SUM(CASE WHEN kind = 'a' THEN amount END) "
    "AS a FROM sales GROUP BY region_id), b AS (SELECT r.region_id, r.zone, "
    "COALESCE(p.c, 0) AS n, p.a FROM regions r LEFT JOIN p ON r.region_id = p.region_id), "
    "s AS (SELECT s.*, b.zone, b.n, b.a FROM sales s LEFT JOIN b "
    "ON s.region_id = b.region_id{w}) "
)

#: the band, read off a region row (NULL-extended for a sale of no region: the dimension's
#: expression is read over the row the join gives, as any dimension's is)
BAND = (
    "CASE WHEN n = 0 THEN 'none' WHEN a > 3 THEN 'big' WHEN zone IS NULL THEN 'nowhere' "
    "ELSE 'small' END"
)

#: (business query with saved terms, hand-written SQL, the same query written out)
CASES = [
    (
        "SELECT region_sales, region_count",
        "SELECT n, COUNT(*) FROM b GROUP BY n",
        "SELECT MEASURE(sale_count) PER (regions) AS region_sales, region_count",
    ),
    (
        "SELECT region_band, region_count",
        f"SELECT {BAND}, COUNT(*) FROM b GROUP BY 1",
        None,
    ),
    (
        "SELECT region_band, total, sale_count{where}",
        f"SELECT {BAND}, SUM(amount), COUNT(*) FROM s GROUP BY 1",
        None,
    ),
    (
        "SELECT kind, total WHERE region_band = 'big'{and_where}",
        f"SELECT kind, SUM(amount) FROM s WHERE {BAND} = 'big' GROUP BY kind",
        None,
    ),
    (
        "SELECT region_count WHERE region_without_sales",
        "SELECT COUNT(*) FROM b WHERE n = 0",
        "SELECT region_count WHERE MEASURE(sale_count) PER (regions) = 0",
    ),
    (
        "SELECT zone, total, share{where}",
        "SELECT zone, SUM(amount), SUM(amount) * 1.0 / NULLIF((SELECT SUM(amount) FROM s), 0) "
        "FROM s GROUP BY zone",
        "SELECT zone, total, total / NULLIF(MEASURE(total) PER (ALL), 0) AS share{where}",
    ),
    (
        "SELECT zone, kind, share_of_zone, share_in_kind{where}",
        "SELECT zone, kind, SUM(amount) * 1.0 / NULLIF((SELECT SUM(amount) FROM s t WHERE "
        "t.zone IS NOT DISTINCT FROM s.zone), 0), SUM(amount) * 1.0 / NULLIF((SELECT "
        "SUM(amount) FROM s t WHERE t.zone IS NOT DISTINCT FROM s.zone), 0) "
        "FROM s GROUP BY zone, kind",
        None,
    ),
    (
        "SELECT region_band, share{where}",
        f"SELECT {BAND}, SUM(amount) * 1.0 / NULLIF((SELECT SUM(amount) FROM s), 0) "
        "FROM s GROUP BY 1",
        None,
    ),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("saved-grain")
    return Project.load(write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY}))


@settings(
    max_examples=examples(full=300, fast=60),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tables=data(), case=st.sampled_from(range(len(CASES))), condition=st.sampled_from(WHERES))
def test_saved_per_entity_and_other_grain_terms_match_hand_written_sql(
    project: Project,
    tables: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]],
    case: int,
    condition: str,
) -> None:
    regions, sales = tables
    business, hand, written = CASES[case]
    where = {"where": _where(condition), "and_where": f" AND {condition}" if condition else ""}
    text = business.format(**where)
    sql = REGIONS.format(w=_where(condition.replace("amount", "s.amount"))) + hand
    note(text)
    con = duckdb.connect()
    _fill(con, regions, sales)
    want = con.execute(sql).fetchall()
    assert_same_rows(con.execute(project.compile(text)).fetchall(), want, ordered=False)
    lite = sqlite3.connect(":memory:")
    _fill(lite, regions, sales)
    assert_same_rows(lite.execute(project.compile(text, "sqlite")).fetchall(), want, ordered=False)
    if written is not None:
        same = con.execute(project.compile(written.format(**where))).fetchall()
        assert_same_rows(same, want, ordered=False)


def test_a_saved_share_by_a_dimension_not_grouped_points_at_the_metric(
    project: Project,
) -> None:
    with pytest.raises(SemanticError) as caught:
        project.compile("SELECT zone,\n  share_of_zone")
    problem = caught.value.diagnostics[0]
    assert (problem.code, problem.span.line, problem.span.col) == ("SEM350", 2, 3)
    assert "'kind'" in problem.message
