"""Eager aggregation (issue #20): an entity's rows summed by the foreign key first, then
joined and summed again by the query's keys, give what the join first gives: rows whose key
is NULL or matches nothing together under the NULL keys, a repeated key on the joined side
doubling what joins it (in one group or in two), MIN and MAX, counts summed back to
integers, conditions on the entity's own columns applied before.

Random tiny tables (NULL and dangling foreign keys, repeated region keys) and random
queries grouped by the region's key, run on DuckDB and SQLite against an evaluator in
Python that joins each sale to every region of its key (or to none).

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from semantic.compiler.shape import EagerRows, format_shape, shape_plan
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
      price: {type: "decimal(8,2)"}
    relationships:
      - {to: regions, cardinality: many_to_one, keys: {region_id: region_id}}
"""

GLOSSARY = """
domain: shop
terms:
  region: {label: {en: Region}, dimension: {entity: regions, expr: region_id}}
  zone: {label: {en: Zone}, dimension: {entity: regions, expr: zone}}
  kind: {label: {en: Kind}, dimension: {entity: sales, expr: kind}}
  revenue: {label: {en: Revenue}, metric: {entity: sales, expr: sum(price), fill_null: 0}}
  sale_count: {label: {en: Sales}, metric: {entity: sales, expr: count(*)}}
  priced: {label: {en: Priced}, metric: {entity: sales, expr: count(price)}}
  top_price: {label: {en: Top price}, metric: {entity: sales, expr: max(price)}}
  price_range:
    label: {en: Price range}
    metric: {entity: sales, expr: max(price) - min(price)}
  average_price: {label: {en: Average price}, metric: {entity: sales, expr: avg(price)}}
"""

Row = dict[str, Any]


def _prices(rows: list[Row]) -> list[Decimal]:
    return [r["price"] for r in rows if r["price"] is not None]


METRICS: dict[str, Any] = {
    "revenue": lambda rows: sum(_prices(rows)) if _prices(rows) else None,
    "sale_count": len,
    "priced": lambda rows: len(_prices(rows)),
    "top_price": lambda rows: max(_prices(rows), default=None),
    "price_range": lambda rows: max(_prices(rows)) - min(_prices(rows)) if _prices(rows) else None,
    "average_price": lambda rows: (
        sum(_prices(rows)) / len(_prices(rows)) if _prices(rows) else None
    ),
}
#: (text, test on a sale joined to a region or to none: True, False or None)
WHERE: list[tuple[str, Any]] = [
    ("kind = 'a'", lambda s, r: None if s["kind"] is None else s["kind"] == "a"),
    ("kind IS NULL", lambda s, r: s["kind"] is None),
    (
        "zone = 'north'",
        lambda s, r: None if r is None or r["zone"] is None else r["zone"] == "north",
    ),
]


@st.composite
def data(draw: st.DrawFn) -> tuple[list[Row], list[Row]]:
    regions = [
        {
            "region_id": draw(st.sampled_from([0, 1, 2])),
            "zone": draw(st.sampled_from(["north", "south", None])),
        }
        for _ in range(draw(st.integers(0, 4)))
    ]
    sales = [
        {
            "sale_id": i,
            "region_id": draw(st.sampled_from([0, 1, 2, 7, None])),
            "kind": draw(st.sampled_from(["a", "b", None])),
            "price": draw(
                st.one_of(st.none(), st.integers(-300, 900).map(lambda c: Decimal(c) / 100))
            ),
        }
        for i in range(draw(st.integers(0, 7)))
    ]
    return regions, sales


def expected(
    regions: list[Row], sales: list[Row], keys: list[str], terms: list[str], where: Any
) -> list[tuple[Any, ...]]:
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for sale in sales:
        matches = [
            r
            for r in regions
            if sale["region_id"] is not None and r["region_id"] == sale["region_id"]
        ]
        for region in matches or [None]:
            if where is not None and where(sale, region) is not True:
                continue
            values = (
                {"region": None, "zone": None}
                if region is None
                else {"region": region["region_id"], "zone": region["zone"]}
            )
            groups.setdefault(tuple(values[k] for k in keys), []).append(sale)
    return [(*g, *(METRICS[t](rows) for t in terms)) for g, rows in groups.items()]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("eager")
    return Project.load(write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY}))


def _fill(con: Any, regions: list[Row], sales: list[Row]) -> None:
    con.execute("CREATE TABLE regions (region_id INTEGER, zone VARCHAR)")
    con.execute(
        "CREATE TABLE sales (sale_id INTEGER, region_id INTEGER, kind VARCHAR, price DECIMAL(8,2))"
    )
    for name, rows in (("regions", regions), ("sales", sales)):
        values = [tuple(str(v) if isinstance(v, Decimal) else v for v in r.values()) for r in rows]
        if values:
            marks = ", ".join("?" * len(values[0]))
            con.executemany(f"INSERT INTO {name} VALUES ({marks})", values)


@settings(
    max_examples=examples(full=400, fast=100),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tables=data(),
    keys=st.sampled_from([["region"], ["region", "zone"], ["zone", "region"]]),
    terms=st.lists(st.sampled_from(sorted(METRICS)), min_size=1, max_size=3, unique=True),
    where=st.one_of(st.none(), st.sampled_from(WHERE)),
)
def test_summed_by_the_foreign_key_first_as_after_the_join(
    project: Project,
    tables: tuple[list[Row], list[Row]],
    keys: list[str],
    terms: list[str],
    where: tuple[str, Any] | None,
) -> None:
    regions, sales = tables
    text = "SELECT " + ", ".join([*keys, *terms])
    if where is not None:
        text += f" WHERE {where[0]}"
    note(text)
    note(format_shape(shape_plan(project.plan(text))))
    want = expected(regions, sales, keys, terms, where[1] if where else None)
    con = duckdb.connect()
    _fill(con, regions, sales)
    assert_same_rows(con.execute(project.compile(text)).fetchall(), want, ordered=False)
    lite = sqlite3.connect(":memory:")
    _fill(lite, regions, sales)
    got = lite.execute(project.compile(text, "sqlite")).fetchall()
    # SQLite computes decimals in doubles: compare them as such
    assert_same_rows(
        got,
        [tuple(float(v) if isinstance(v, Decimal) else v for v in r) for r in want],
        ordered=False,
    )


def test_eager_only_where_it_applies(project: Project) -> None:
    """Grouped by the region's key, nothing filtered on the region: eager; a filter on the
    region, no region key, an average, or a key of the sale itself: the join first."""

    def eager(query: str) -> bool:
        source = shape_plan(project.plan(query)).source
        return isinstance(getattr(source, "source", None), EagerRows)

    assert eager("SELECT region, zone, revenue, sale_count, price_range WHERE kind = 'a'")
    assert not eager("SELECT region, revenue WHERE zone = 'north'")
    assert not eager("SELECT zone, revenue")
    assert not eager("SELECT region, average_price")
    assert not eager("SELECT region, kind, revenue")
