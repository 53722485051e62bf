"""Metrics of one entity under different filters, computed in one pass (`FILTER (WHERE ...)`)
give what an aggregate per filter gives (issue #20): the same groups, each measure over the
rows that meet its own filter, NULL or its `fill_null` in a group where no row does, a count
0 only where its fill says so, and a filter through a one-to-many relationship still a
semi-join (those stay one aggregate each).

Random tiny tables (NULL keys, NULL values, sales without a region or with a region that
does not exist, filters that match nothing) and random queries are run on DuckDB and SQLite
and compared with an evaluator written here in Python, which knows nothing of the SQL's
shape. The same trees with FILTER written as `CASE` (the form for engines without FILTER)
run on DuckDB too.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from semantic.compiler.dialects import to_sql
from semantic.compiler.dialects.functions import filters_as_case
from semantic.compiler.render import build_tree
from semantic.compiler.shape import format_shape, shape_plan
from semantic.project import Project
from tests.budget import examples
from tests.compare import assert_same_rows
from tests.projects import write_project

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
  notes:
    primary_key: [note_id]
    columns: {note_id: {type: integer}, sale_id: {type: integer}, tag: {type: varchar}}
    relationships:
      - {to: sales, cardinality: many_to_one, keys: {sale_id: sale_id}}
"""

GLOSSARY = """
domain: shop
terms:
  zone: {label: {en: Zone}, dimension: {entity: regions, expr: zone}}
  kind: {label: {en: Kind}, dimension: {entity: sales, expr: kind}}
  amount: {label: {en: Amount}, dimension: {entity: sales, expr: amount}}
  tag: {label: {en: Tag}, dimension: {entity: notes, expr: tag}}
  total: {label: {en: Total}, metric: {entity: sales, expr: sum(amount), fill_null: 0}}
  raw_total: {label: {en: Raw total}, metric: {entity: sales, expr: sum(amount)}}
  sale_count: {label: {en: Sales}, metric: {entity: sales, expr: count(*)}}
  bare_count:
    label: {en: Bare count}
    metric: {entity: sales, expr: count(*), fill_null: null}
  counted_amounts:
    label: {en: Counted amounts}
    metric: {entity: sales, expr: count(amount), fill_null: 7}
  kinds: {label: {en: Kinds}, metric: {entity: sales, expr: count(DISTINCT kind)}}
  average: {label: {en: Average}, metric: {entity: sales, expr: avg(amount), fill_null: -1}}
  biggest: {label: {en: Biggest}, metric: {entity: sales, expr: max(amount)}}
  spread:
    label: {en: Spread}
    metric: {entity: sales, expr: max(amount) - min(amount), fill_null: 0}
  big_total:
    label: {en: Big total}
    metric: {entity: sales, expr: sum(amount), filter: amount > 5, fill_null: 0}
"""

# --- the evaluator ---------------------------------------------------------------------------

Sale = dict[str, Any]


@dataclass(frozen=True)
class Cond:
    """A row condition: its text in the query and its value (True, False or None: SQL's
    three-valued logic) on a sale joined to its region and one of its notes (or none)."""

    text: str
    test: Callable[[Sale, str | None], bool | None]


def _cmp(column: str, op: Callable[[Any, Any], bool], value: Any) -> Callable[..., bool | None]:
    def test(sale: Sale, tag: str | None) -> bool | None:
        got = tag if column == "tag" else sale[column]
        return None if got is None else op(got, value)

    return test


CONDITIONS = [
    Cond("kind = 'a'", _cmp("kind", lambda a, b: a == b, "a")),
    Cond("kind <> 'a'", _cmp("kind", lambda a, b: a != b, "a")),
    Cond("kind IS NULL", lambda s, t: s["kind"] is None),
    Cond("zone = 'north'", _cmp("zone", lambda a, b: a == b, "north")),
    Cond("zone IN ('south', 'east')", _cmp("zone", lambda a, b: a in b, ("south", "east"))),
    Cond("amount > 3", _cmp("amount", lambda a, b: a > b, 3)),
    Cond("amount > 1000", _cmp("amount", lambda a, b: a > b, 1000)),  # matches nothing
    Cond("tag = 'x'", _cmp("tag", lambda a, b: a == b, "x")),  # through a to-many join
]
KEYS = [(), ("kind",), ("zone",), ("zone", "kind")]


def _and(*values: bool | None) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


@dataclass(frozen=True)
class Measure:
    term: str
    condition: Cond | None

    def text(self, i: int) -> str:
        if self.condition is None:
            return self.term
        return f"MEASURE({self.term}) FILTER (WHERE {self.condition.text}) AS m{i}"


#: term -> (aggregate of the values of the rows, value of a group without rows)
AGGREGATES: dict[str, tuple[Callable[[list[Sale]], Any], Any]] = {}


def _values(rows: list[Sale]) -> list[int]:
    return [r["amount"] for r in rows if r["amount"] is not None]


def _sum(rows: list[Sale]) -> Any:
    values = _values(rows)
    return sum(values) if values else None


def _spread(rows: list[Sale]) -> Any:
    values = _values(rows)
    return max(values) - min(values) if values else None


AGGREGATES.update(
    total=(_sum, 0),
    raw_total=(_sum, None),
    sale_count=(len, 0),
    bare_count=(len, None),
    counted_amounts=(lambda rows: len(_values(rows)), 7),
    kinds=(lambda rows: len({r["kind"] for r in rows if r["kind"] is not None}), 0),
    average=(lambda rows: sum(_values(rows)) / len(_values(rows)) if _values(rows) else None, -1),
    biggest=(lambda rows: max(_values(rows)) if _values(rows) else None, None),
    spread=(_spread, 0),
    big_total=(_sum, 0),
)
#: the metrics that are counts: 0 over no rows, never NULL
COUNTS = {"sale_count", "bare_count", "counted_amounts", "kinds"}
#: the metric's own filter
OWN = {"big_total": Cond("amount > 5", _cmp("amount", lambda a, b: a > b, 5))}


def expected(
    sales: list[Sale],
    notes: dict[int, list[str | None]],
    keys: tuple[str, ...],
    measures: list[Measure],
    where: Cond | None,
) -> list[tuple[Any, ...]]:
    """The answer, aggregate by aggregate: each measure over the sales for which some row
    of the sale joined to its notes (or to none) meets the query's and its own conditions;
    the groups of all measures; a group without rows for a measure shows its fill."""
    per_measure: list[dict[tuple[Any, ...], list[Sale]]] = []
    for m in measures:
        conds = [c for c in (where, m.condition, OWN.get(m.term)) if c is not None]
        groups: dict[tuple[Any, ...], list[Sale]] = {}
        for sale in sales:
            tags = notes.get(sale["sale_id"]) or [None]
            if any(_and(*(c.test(sale, t) for c in conds)) is True for t in tags):
                groups.setdefault(tuple(sale[k] for k in keys), []).append(sale)
        per_measure.append(groups)
    found = {g for groups in per_measure for g in groups} if keys else {()}
    rows = []
    for group in found:
        row: list[Any] = list(group)
        for m, groups in zip(measures, per_measure, strict=True):
            aggregate, fill = AGGREGATES[m.term]
            if group in groups:
                value = aggregate(groups[group])
            elif keys:
                value = fill
            else:  # the grand total of no rows: a count's 0, else the fill
                value = aggregate([]) if m.term in COUNTS else fill
            row.append(value)
        rows.append(tuple(row))
    return rows


# --- the data and the queries ------------------------------------------------------------------

KINDS = st.sampled_from(["a", "b", None])
ZONES = st.sampled_from(["north", "south", "east", None])


@st.composite
def data(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[Sale], list[tuple[int, int, Any]]]:
    regions = [{"region_id": i, "zone": draw(ZONES)} for i in range(draw(st.integers(0, 3)))]
    sales = [
        {
            "sale_id": i,
            # 3 is a region that does not exist, None no region at all
            "region_id": draw(st.sampled_from([0, 1, 2, 3, None])),
            "kind": draw(KINDS),
            "amount": draw(st.one_of(st.none(), st.integers(-2, 9))),
        }
        for i in range(draw(st.integers(0, 7)))
    ]
    notes = [
        (n, draw(st.integers(0, 7)), draw(st.sampled_from(["x", "y", None])))
        for n in range(draw(st.integers(0, 6)))
    ]
    return regions, sales, notes


QUERIES = st.tuples(
    st.sampled_from(KEYS),
    st.lists(
        st.builds(
            Measure,
            st.sampled_from(sorted(AGGREGATES)),
            st.one_of(st.none(), st.sampled_from(CONDITIONS)),
        ),
        min_size=1,
        max_size=4,
        unique_by=lambda m: (m.term, m.condition),
    ),
    st.one_of(st.none(), st.sampled_from(CONDITIONS)),
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("one-pass")
    return Project.load(write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY}))


def _duckdb(regions: list[dict[str, Any]], sales: list[Sale], notes: list[Any]) -> Any:
    con = duckdb.connect()
    _fill(con, regions, sales, notes)
    return con


def _fill(con: Any, regions: list[Any], sales: list[Sale], notes: list[Any]) -> None:
    con.execute("CREATE TABLE regions (region_id INTEGER, zone VARCHAR)")
    con.execute(
        "CREATE TABLE sales (sale_id INTEGER, region_id INTEGER, kind VARCHAR, amount INTEGER)"
    )
    con.execute("CREATE TABLE notes (note_id INTEGER, sale_id INTEGER, tag VARCHAR)")
    rows = {
        "regions": [(r["region_id"], r["zone"]) for r in regions],
        "sales": [(s["sale_id"], s["region_id"], s["kind"], s["amount"]) for s in sales],
        "notes": notes,
    }
    for name, values in rows.items():
        if values:  # DuckDB's executemany refuses no rows
            marks = ", ".join("?" * len(values[0]))
            con.executemany(f"INSERT INTO {name} VALUES ({marks})", values)


@settings(
    max_examples=examples(full=400, fast=150),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tables=data(), query=QUERIES)
def test_filtered_metrics_in_one_pass_count_as_one_aggregate_each(
    project: Project,
    tables: tuple[list[dict[str, Any]], list[Sale], list[Any]],
    query: tuple[tuple[str, ...], list[Measure], Cond | None],
) -> None:
    regions, sales, notes = tables
    keys, measures, where = query
    text = "SELECT " + ", ".join([*keys, *(m.text(i) for i, m in enumerate(measures))])
    if where is not None:
        text += f" WHERE {where.text}"
    plan = project.plan(text)
    note(text)
    note(format_shape(shape_plan(plan)))
    zones = {r["region_id"]: r["zone"] for r in regions}
    joined = [{**s, "zone": zones.get(s["region_id"])} for s in sales]
    tags: dict[int, list[str | None]] = {}
    for _, sale_id, tag in notes:
        tags.setdefault(sale_id, []).append(tag)
    want = expected(joined, tags, keys, measures, where)
    con = _duckdb(regions, sales, notes)
    assert_same_rows(con.execute(project.compile(text)).fetchall(), want, ordered=False)
    # FILTER written as CASE, for the engines without FILTER, on DuckDB
    cased = to_sql(filters_as_case(build_tree(plan)), "duckdb")
    assert_same_rows(con.execute(cased).fetchall(), want, ordered=False)
    lite = sqlite3.connect(":memory:")
    _fill(lite, regions, sales, notes)
    assert_same_rows(lite.execute(project.compile(text, "sqlite")).fetchall(), want, ordered=False)


def test_filters_of_one_entity_make_one_aggregate(project: Project) -> None:
    """The shape itself: two filters of one entity, a to-one join in one of them, one
    aggregate with FILTER; a filter through a one-to-many join stays an aggregate of its own
    (its rows are the distinct sales that have a matching note)."""
    one = project.plan("SELECT kind, MEASURE(total) FILTER (WHERE zone = 'north') AS n, sale_count")
    assert len(one.aggregates) == 1 and one.aggregates[0].conditions
    two = project.plan("SELECT kind, MEASURE(total) FILTER (WHERE tag = 'x') AS x, sale_count")
    assert len(two.aggregates) == 2


def test_a_count_without_fill_is_null_where_its_filter_matches_nothing(
    project: Project, tmp_path: Path
) -> None:
    """By hand: kind b has rows, none in the north: the filtered count without fill is NULL
    there, the one with the default fill 0, the filtered sum NULL (no fill) or 0."""
    con = _duckdb(
        [{"region_id": 0, "zone": "north"}],
        [
            {"sale_id": 1, "region_id": 0, "kind": "a", "amount": None},
            {"sale_id": 2, "region_id": None, "kind": "b", "amount": 4},
        ],
        [],
    )
    sql = project.compile(
        "SELECT kind, MEASURE(bare_count) FILTER (WHERE zone = 'north') AS bare, "
        "MEASURE(sale_count) FILTER (WHERE zone = 'north') AS counted, "
        "MEASURE(raw_total) FILTER (WHERE zone = 'north') AS raw, "
        "MEASURE(total) FILTER (WHERE zone = 'north') AS filled, total ORDER BY kind"
    )
    # kind a: one row in the north whose amount is NULL: the sum stays NULL, not the fill
    assert con.execute(sql).fetchall() == [
        ("a", 1, 1, None, None, None),
        ("b", None, 0, None, 0, 4),
    ]


def test_a_group_where_no_filter_matches_is_no_group(project: Project) -> None:
    """By hand: every measure filtered, kind b has rows but none meets a filter: no row for
    kind b, as no aggregate of one filter has a group there."""
    con = _duckdb(
        [{"region_id": 0, "zone": "north"}],
        [
            {"sale_id": 1, "region_id": 0, "kind": "a", "amount": 2},
            {"sale_id": 2, "region_id": None, "kind": "b", "amount": 4},
            {"sale_id": 3, "region_id": 0, "kind": None, "amount": 1},
        ],
        [],
    )
    sql = project.compile(
        "SELECT kind, MEASURE(total) FILTER (WHERE zone = 'north') AS north, "
        "MEASURE(sale_count) FILTER (WHERE amount > 1000) AS huge ORDER BY kind"
    )
    assert con.execute(sql).fetchall() == [("a", 2, 0), (None, 1, 0)]
