"""Inner joins written as a FROM list where the WHERE tests an existence (DuckDB only:
`compiler.dialects.flatjoins`, TPC-H Q21). `a JOIN b ON c WHERE e` and `a, b WHERE c AND e`
are the same rows for any data, promises kept or not: the test runs the flattened DuckDB
SQL and the `JOIN ... ON` SQL compiled for SQLite on the same random tables, orphans and
NULL keys included (where a `required` promise is broken both drop the row: the inner join
is the promise's, SEM441 warns of it), and both against SQL written here by hand where the
data keeps the promises. A LEFT join (a relationship that is not `required`) keeps every
join written with `JOIN ... ON`: `FROM a, b LEFT JOIN c ON ... a ...` could not read `a`.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlglot import exp

from semantic.project import Project
from tests.budget import examples
from tests.compare import assert_same_rows
from tests.projects import write_project

MODEL = """
entities:
  regions:
    primary_key: [region_id]
    columns: {region_id: {type: integer}, zone: {type: varchar}}
  shops:
    primary_key: [shop_id]
    columns: {shop_id: {type: integer}, city: {type: varchar}}
  sales:
    primary_key: [sale_id]
    columns:
      sale_id: {type: integer}
      region_id: {type: integer, nullable: false}
      shop_id: {type: integer}
      amount: {type: integer}
    relationships:
      - {to: regions, cardinality: many_to_one, keys: {region_id: region_id}, required: true}
      - {to: shops, cardinality: many_to_one, keys: {shop_id: shop_id}}
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
  region_key: {label: {en: Region}, dimension: {entity: regions, expr: region_id}}
  city: {label: {en: City}, dimension: {entity: shops, expr: city}}
  amount: {label: {en: Amount}, dimension: {entity: sales, expr: amount}}
  tag: {label: {en: Tag}, dimension: {entity: notes, expr: tag}}
  sale_count: {label: {en: Sales}, metric: {entity: sales, expr: count(*)}}
  total: {label: {en: Total}, metric: {entity: sales, expr: sum(amount)}}
"""

#: (existence in the query, the same in the oracle over sales s, regions r, shops h)
EXISTENCES = [
    (
        "EXISTS(tag = 'x')",
        "EXISTS (SELECT 1 FROM notes n WHERE n.sale_id = s.sale_id AND n.tag = 'x')",
    ),
    (
        "NOT EXISTS(tag = 'x' OR tag IS NULL)",
        "NOT EXISTS (SELECT 1 FROM notes n WHERE n.sale_id = s.sale_id "
        "AND (n.tag = 'x' OR n.tag IS NULL))",
    ),
    (
        "EXISTS(tag = 'y' AND amount > 2)",
        "EXISTS (SELECT 1 FROM notes n JOIN sales s2 ON n.sale_id = s2.sale_id "
        "WHERE n.sale_id = s.sale_id AND n.tag = 'y' AND s2.amount > 2)",
    ),
]
#: (row condition, the same in the oracle): on the joined region, on the sale, an OR
ROWS = [
    ("zone = 'north'", "r.zone = 'north'"),
    ("amount > 3 OR zone IS NULL", "(s.amount > 3 OR r.zone IS NULL)"),
    ("city = 'paris'", "h.city = 'paris'"),
]
KEYS = {"zone": "r.zone", "region_key": "r.region_id", "city": "h.city"}
METRICS = {"sale_count": "COUNT(*)", "total": "SUM(s.amount)"}


@st.composite
def tables(draw: st.DrawFn, keep_promises: bool) -> dict[str, list[tuple[Any, ...]]]:
    """Tiny tables; with `keep_promises`, every sale's region exists (`required`)."""
    regions = [
        (i, draw(st.sampled_from(["north", "south", None]))) for i in range(draw(st.integers(0, 3)))
    ]
    shops = [(i, draw(st.sampled_from(["paris", "lyon", None]))) for i in range(2)]
    ids = [r[0] for r in regions]
    region_ids = st.sampled_from(ids) if keep_promises else st.sampled_from([*ids, 7, None])
    if keep_promises and not ids:
        sales: list[tuple[Any, ...]] = []
    else:
        sales = [
            (
                i,
                draw(region_ids),
                draw(st.sampled_from([0, 1, 5, None])),  # 5: a shop that does not exist
                draw(st.one_of(st.none(), st.integers(-1, 6))),
            )
            for i in range(draw(st.integers(0, 6)))
        ]
    notes = [
        (n, draw(st.sampled_from([0, 1, 2, 3, 9, None])), draw(st.sampled_from(["x", "y", None])))
        for n in range(draw(st.integers(0, 6)))
    ]
    return {"regions": regions, "shops": shops, "sales": sales, "notes": notes}


DDL = {
    "regions": "region_id INTEGER, zone VARCHAR",
    "shops": "shop_id INTEGER, city VARCHAR",
    "sales": "sale_id INTEGER, region_id INTEGER, shop_id INTEGER, amount INTEGER",
    "notes": "note_id INTEGER, sale_id INTEGER, tag VARCHAR",
}


def _load(con: Any, data: dict[str, list[tuple[Any, ...]]]) -> Any:
    for name, columns in DDL.items():
        con.execute(f"CREATE TABLE {name} ({columns})")
        if data[name]:
            marks = ", ".join("?" * len(data[name][0]))
            con.executemany(f"INSERT INTO {name} VALUES ({marks})", data[name])
    return con


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("flat-joins")
    return Project.load(write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY}))


def _outer(sql: str) -> exp.Select:
    tree = sqlglot.parse_one(sql, read="duckdb")
    assert isinstance(tree, exp.Select)
    return tree


QUERY = st.tuples(
    st.sampled_from(EXISTENCES),
    st.one_of(st.none(), st.sampled_from(ROWS)),
    st.lists(st.sampled_from(sorted(KEYS)), min_size=1, max_size=2, unique=True),
    st.sampled_from(sorted(METRICS)),
)
SETTINGS = settings(
    max_examples=examples(full=300, fast=60),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _text(query: Any) -> str:
    (existence, _), row, keys, metric = query
    where = [existence] + ([f"({row[0]})"] if row else [])
    return f"SELECT {', '.join([*keys, metric])} WHERE {' AND '.join(where)}"


@SETTINGS
@given(data=tables(keep_promises=False), query=QUERY)
def test_flat_joins_give_the_rows_of_the_joins_written_on(
    project: Project, data: dict[str, list[tuple[Any, ...]]], query: Any
) -> None:
    text = _text(query)
    note(text)
    flat = project.compile(text)
    written_on = project.compile(text, "sqlite")
    outer = _outer(flat)
    joins = outer.args.get("joins") or []
    if "city" in text:  # the shop is a LEFT join: every join keeps its ON
        assert all(j.args.get("on") is not None for j in joins), flat
    else:  # inner joins only (regions, required), an EXISTS in the WHERE: a FROM list
        assert all(j.args.get("on") is None for j in joins), flat
        assert joins or "zone" not in text, flat  # a zone is read from the joined region
    assert "JOIN" in written_on or not joins, written_on
    got = _load(duckdb.connect(), data).execute(flat).fetchall()
    want = _load(sqlite3.connect(":memory:"), data).execute(written_on).fetchall()
    assert_same_rows(got, want, ordered=False)


@SETTINGS
@given(data=tables(keep_promises=True), query=QUERY)
def test_flat_joins_against_hand_written_sql(
    project: Project, data: dict[str, list[tuple[Any, ...]]], query: Any
) -> None:
    (_, existence), row, keys, metric = query
    text = _text(query)
    note(text)
    group = [KEYS[k] for k in keys]
    where = [existence] + ([row[1]] if row else [])
    oracle = (
        f"SELECT {', '.join([*group, METRICS[metric]])} FROM sales s "
        "JOIN regions r ON s.region_id = r.region_id "
        "LEFT JOIN shops h ON s.shop_id = h.shop_id "
        f"WHERE {' AND '.join(where)} GROUP BY {', '.join(group)}"
    )
    con = _load(duckdb.connect(), data)
    assert_same_rows(
        con.execute(project.compile(text)).fetchall(), con.execute(oracle).fetchall(), ordered=False
    )
