"""What the model declares about its data (issue #20): a column `nullable: false` and a
relationship `required: true` let the compiler join with inner joins, combine aggregates
with plain `=` and keep the groups of a `HAVING` before the joins (eager aggregation). Over
data that keeps the promises, the answers are those of the same model without them (LEFT
joins, null-safe combination, the join first), on DuckDB and SQLite; data that breaks a
promise is never answered silently: a query that reads it warns (SEM441) or, with
`broken_keys: refuse`, is refused, and `semantic check --data` reports it (SEM276).

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
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
from tests.tiny_engines import tiny_project

MODEL = """
entities:
  customers:
    primary_key: [customer_id]
    columns:
      customer_id: {type: integer}
      region: {type: varchar, nullable: false}
      channel: {type: varchar}
  orders:
    primary_key: [order_id]
    columns:
      order_id: {type: integer}
      customer_id: {type: integer}
      status: {type: varchar, nullable: false}
    relationships:
      - {to: customers, cardinality: many_to_one, keys: {customer_id: customer_id}, required: true}
  lines:
    primary_key: [line_id]
    columns:
      line_id: {type: integer}
      order_id: {type: integer}
      qty: {type: "decimal(8,2)"}
    relationships:
      - {to: orders, cardinality: many_to_one, keys: {order_id: order_id}, required: true}
"""

#: the same model, promising nothing
PLAIN = MODEL.replace(", nullable: false", "").replace(", required: true", "")

GLOSSARY = """
domain: shop
terms:
  region: {label: {en: Region}, dimension: {entity: customers, expr: region}}
  customer: {label: {en: Customer}, dimension: {entity: customers, expr: customer_id}}
  channel: {label: {en: Channel}, dimension: {entity: customers, expr: channel}}
  order_key: {label: {en: Order}, dimension: {entity: orders, expr: order_id}}
  status: {label: {en: Status}, dimension: {entity: orders, expr: status}}
  quantity: {label: {en: Quantity}, metric: {entity: lines, expr: sum(qty), fill_null: 0}}
  line_count: {label: {en: Lines}, metric: {entity: lines, expr: count(*)}}
  top_qty: {label: {en: Top quantity}, metric: {entity: lines, expr: max(qty)}}
  order_count: {label: {en: Orders}, metric: {entity: orders, expr: count(*)}}
"""

QUERIES = [
    "SELECT region, quantity",
    "SELECT region, status, line_count, top_qty",
    "SELECT order_key, region, quantity HAVING quantity > 3",
    "SELECT order_key, customer, status, quantity, line_count "
    "HAVING quantity > 2 AND line_count >= 2",
    "SELECT order_key, top_qty HAVING top_qty > 4 OR top_qty IS NULL",
    "SELECT region, order_count, quantity",
    "SELECT status, order_count, line_count",
    "SELECT customer, order_count, quantity HAVING quantity > 1",
    "SELECT quantity, order_count",
    "SELECT customer, quantity HAVING quantity > 5",
    "SELECT channel, region, order_count, top_qty",
]

Row = dict[str, Any]


@st.composite
def kept(draw: st.DrawFn) -> dict[str, list[tuple[Any, ...]]]:
    """Tables that keep every promise: each foreign key finds its row, no NULL region or
    status; quantities may be NULL (nothing declares them)."""
    customers = [
        (i, draw(st.sampled_from(["east", "west"])), draw(st.sampled_from(["web", None])))
        for i in range(draw(st.integers(0, 3)))
    ]
    orders = []
    if customers:
        for i in range(draw(st.integers(0, 5))):
            who = draw(st.sampled_from([c[0] for c in customers]))
            orders.append((10 + i, who, draw(st.sampled_from(["open", "done"]))))
    lines = []
    if orders:
        for i in range(draw(st.integers(0, 8))):
            order = draw(st.sampled_from([o[0] for o in orders]))
            qty = draw(st.one_of(st.none(), st.integers(0, 600).map(lambda c: Decimal(c) / 100)))
            lines.append((100 + i, order, qty))
    return {"customers": customers, "orders": orders, "lines": lines}


COLUMNS = {
    "customers": "customer_id INTEGER, region VARCHAR, channel VARCHAR",
    "orders": "order_id INTEGER, customer_id INTEGER, status VARCHAR",
    "lines": "line_id INTEGER, order_id INTEGER, qty DECIMAL(8,2)",
}


def _fill(con: Any, tables: dict[str, list[tuple[Any, ...]]]) -> None:
    for name, rows in tables.items():
        con.execute(f"CREATE TABLE {name} ({COLUMNS[name]})")
        values = [tuple(str(v) if isinstance(v, Decimal) else v for v in r) for r in rows]
        if values:
            marks = ", ".join("?" * len(values[0]))
            con.executemany(f"INSERT INTO {name} VALUES ({marks})", values)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Project]:
    made = []
    for name, model in (("declared", MODEL), ("plain", PLAIN)):
        root = tmp_path_factory.mktemp(name)
        files = {"models/m.yml": model, "glossary/g.yml": GLOSSARY}
        made.append(Project.load(write_project(root, files)))
    return made[0], made[1]


def test_the_declarations_change_the_sql(projects: tuple[Project, Project]) -> None:
    """What the rows test below compares is two different SQL texts."""
    declared, plain = projects
    sql = declared.compile("SELECT region, quantity")
    assert "LEFT JOIN" not in sql and "JOIN orders" in sql
    assert plain.compile("SELECT region, quantity").count("LEFT JOIN") == 2
    combined = declared.compile("SELECT region, order_count, quantity")
    assert "IS NOT DISTINCT FROM" not in combined
    assert "IS NOT DISTINCT FROM" in plain.compile("SELECT region, order_count, quantity")
    # the groups of the HAVING kept per order before the joins: a HAVING inside the partials
    having = declared.compile("SELECT order_key, region, quantity HAVING quantity > 3")
    assert having.count("HAVING") == 2
    assert (
        plain.compile("SELECT order_key, region, quantity HAVING quantity > 3").count("HAVING") == 1
    )
    # the null-safe match stays where a key may be NULL (a channel is not declared)
    mixed = declared.compile("SELECT channel, region, order_count, top_qty")
    assert mixed.count("IS NOT DISTINCT FROM") == 2 and "keys.region = " in mixed


@settings(
    max_examples=examples(full=300, fast=60),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tables=kept(), query=st.sampled_from(QUERIES))
def test_kept_promises_give_the_rows_of_a_model_without_them(
    projects: tuple[Project, Project], tables: dict[str, list[tuple[Any, ...]]], query: str
) -> None:
    declared, plain = projects
    note(query)
    note(repr(tables))
    con = duckdb.connect()
    _fill(con, tables)
    want = con.execute(plain.compile(query)).fetchall()
    assert_same_rows(con.execute(declared.compile(query)).fetchall(), want, ordered=False)
    lite = sqlite3.connect(":memory:")
    _fill(lite, tables)
    assert_same_rows(
        lite.execute(declared.compile(query, "sqlite")).fetchall(),
        lite.execute(plain.compile(query, "sqlite")).fetchall(),
        ordered=False,
    )


# --- data that breaks a promise ----------------------------------------------------------------

CUSTOMERS = (
    (("customer_id", "integer"), ("region", "varchar"), ("channel", "varchar")),
    ((1, "east", "web"), (2, "west", None)),
)
ORDERS = (
    (("order_id", "integer"), ("customer_id", "integer"), ("status", "varchar")),
    ((10, 1, "open"), (11, 2, "done")),
)
LINES = (
    (("line_id", "integer"), ("order_id", "integer"), ("qty", "decimal(8,2)")),
    ((100, 10, 4), (101, 11, 2), (102, 11, 3)),
)


def _broken(tmp_path: Path, **tables: Any) -> Project:
    root = tmp_path / "shop"
    root.mkdir()
    data = {"customers": CUSTOMERS, "orders": ORDERS, "lines": LINES, **tables}
    return tiny_project(root, MODEL, GLOSSARY, data)


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEMANTIC_CACHE_DIR", str(tmp_path / "cache"))


BREAKS = {
    # a line whose order is NULL, and one whose order does not exist
    "dangling": {"lines": (LINES[0], (*LINES[1], (103, None, 5), (104, 99, 7)))},
    # a customer without the region the model says every customer has
    "null region": {"customers": (CUSTOMERS[0], (*CUSTOMERS[1], (3, None, "web")))},
}


@pytest.mark.parametrize(
    ("broken", "query", "said"),
    [
        ("dangling", "SELECT region, quantity", "declared `required: true`"),
        ("dangling", "SELECT order_key, quantity HAVING quantity > 1", "required: true"),
        ("null region", "SELECT region, order_count, quantity", "declared `nullable: false`"),
    ],
)
def test_broken_promises_warn_or_refuse(tmp_path: Path, broken: str, query: str, said: str) -> None:
    project = _broken(tmp_path, **BREAKS[broken])
    project.query(query)
    warnings = [d for d in project.query_warnings(query) if d.code == "SEM441"]
    assert len(warnings) == 1 and said in warnings[0].message
    assert warnings[0].severity == "warning"
    config = project.root / "semantic.yml"
    config.write_text(config.read_text() + "broken_keys: refuse\n")
    with pytest.raises(SemanticError) as caught:
        Project.load(project.root).query(query)
    assert [d.code for d in caught.value.diagnostics] == ["SEM441"]
    # and `check --data` names what is broken
    codes = [d.code for d in Project.load(project.root).check(data=True)]
    assert "SEM276" in codes


def test_a_query_that_joins_nothing_broken_does_not_warn(tmp_path: Path) -> None:
    """Lines without their order break nothing a query of lines alone relies on."""
    project = _broken(tmp_path, **BREAKS["dangling"])
    project.query("SELECT line_count")
    assert project.query_warnings("SELECT line_count") == []
