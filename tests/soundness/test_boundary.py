"""The glossary boundary: a business query reads only what the glossary exposes.

A tiny project whose unexposed columns (a supplier's phone and address, an order's comment,
a foreign key) hold marker values. Every escape route found so far is tried: each must be
refused with a code and a place in the query, or, when it is a legitimate query after all
(a comment, a synonym equal to a physical name), return no marker. Runs on DuckDB and, when
the test database is there, on PostgreSQL. Add each new route here, per dialect that runs.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from semantic.engines.postgres import PostgresEngine
from semantic.errors import SemanticError
from semantic.project import Project
from tests.projects import write_data, write_project

SCHEMA = "boundary_escape"

MODEL = f"""
entities:
  supplier:
    table: {SCHEMA}.supplier
    primary_key: [s_suppkey]
    columns:
      s_suppkey: {{type: integer}}
      s_name: {{type: varchar}}
      s_phone: {{type: varchar}}
      s_address: {{type: varchar}}
  orders:
    table: {SCHEMA}.orders
    primary_key: [o_orderkey]
    columns:
      o_orderkey: {{type: integer}}
      o_suppkey: {{type: integer}}
      o_custkey: {{type: integer}}
      o_status: {{type: varchar}}
      o_flag: {{type: boolean}}
      o_comment: {{type: varchar}}
    relationships:
      - {{to: supplier, cardinality: many_to_one, keys: {{o_suppkey: s_suppkey}}}}
"""

# `s_phone` is a synonym of supplier_name: the name of a physical column that a label
# happens to take must give the term, never the column
GLOSSARY = """
domain: trade
terms:
  supplier_key: {label: {en: Supplier key}, dimension: {entity: supplier, expr: s_suppkey}}
  supplier_name:
    label: {en: Supplier name, fr: Nom du fournisseur}
    synonyms: {en: [s_phone]}
    dimension: {entity: supplier, expr: s_name}
  supplier_count: {label: {en: Suppliers}, metric: {entity: supplier, expr: count(*)}}
  order_key: {label: {en: Order key}, dimension: {entity: orders, expr: o_orderkey}}
  order_status: {label: {en: Order status}, dimension: {entity: orders, expr: o_status}}
  urgent: {label: {en: Urgent}, dimension: {entity: orders, expr: o_flag}}
  order_count: {label: {en: Orders}, metric: {entity: orders, expr: count(*)}}
"""

#: what the unexposed columns hold: none of it may ever come out of a business query
MARKERS = ("PHONE-MARKER", "ADDRESS-MARKER", "COMMENT-MARKER", "987654321")

TABLES = {
    "supplier": "SELECT * FROM (VALUES (1, 'Acme', '+1-PHONE-MARKER-1', 'ADDRESS-MARKER 1'), "
    "(2, 'Bolt', '+1-PHONE-MARKER-2', 'ADDRESS-MARKER 2')) "
    "AS t(s_suppkey, s_name, s_phone, s_address)",
    "orders": "SELECT * FROM (VALUES (10, 1, 987654321, 'open', true, 'COMMENT-MARKER a'), "
    "(11, 2, 987654321, 'done', false, 'COMMENT-MARKER b')) "
    "AS t(o_orderkey, o_suppkey, o_custkey, o_status, o_flag, o_comment)",
}

#: every escape route tried so far: query -> the code that refuses it
REFUSED: dict[str, str] = {
    # method calls on a physical column, a table alias or a term
    "SELECT supplier_key, supplier_name || s_phone.trim() AS c, supplier_count": "SEM324",
    "SELECT order_key || orders.to_json() AS x, order_count": "SEM324",
    "SELECT supplier.to_json() AS x, supplier_count": "SEM324",
    "SELECT supplier_name.upper() AS x, supplier_count": "SEM324",
    "SELECT order_status, order_count WHERE s_phone.contains('1')": "SEM324",
    # positional columns
    "SELECT supplier_name, json_group_array(#3) AS x, supplier_count": "SEM325",
    "SELECT supplier_name || #3 AS x, supplier_count": "SEM324",
    "SELECT order_status, order_count WHERE #6 LIKE 'COMMENT%'": "SEM324",
    # star expressions
    "SELECT COLUMNS('o_comment'), order_count": "SEM324",
    "SELECT order_status, COLUMNS($re), order_count": "SEM324",
    "SELECT order_status || COLUMNS('s_.*') AS x, order_count": "SEM324",
    "SELECT *": "SEM302",
    "SELECT orders.*, order_count": "SEM302",
    "SELECT * EXCLUDE (o_comment), order_count": "SEM302",
    "SELECT COLUMNS(*), order_count": "SEM302",
    # aggregates sqlglot does not know (and those it knows)
    "SELECT order_status, json_group_array(order_key) AS x, order_count": "SEM325",
    "SELECT order_status, histogram(order_key) AS x, order_count": "SEM325",
    "SELECT order_status, list(order_key) AS x, order_count": "SEM305",
    "SELECT order_status, list_agg(order_key) AS x, order_count": "SEM325",
    "SELECT order_status, json_group_object(order_key, order_key) AS x, order_count": "SEM325",
    "SELECT order_status, string_agg(order_status, ',') AS x, order_count": "SEM305",
    "SELECT order_status, array_agg(order_key) AS x, order_count": "SEM305",
    "SELECT order_status, arg_max(order_key, order_key) AS x, order_count": "SEM305",
    # the session, the environment, files and other tables
    "SELECT current_setting('threads') AS x, order_count": "SEM325",
    "SELECT getvariable('x') AS x, order_count": "SEM325",
    "SELECT current_query() AS x, order_count": "SEM325",
    "SELECT getenv('HOME') AS x, order_count": "SEM325",
    "SELECT version() AS x, order_count": "SEM325",
    "SELECT read_csv('/etc/passwd') AS x, order_count": "SEM325",
    "SELECT query('SELECT s_phone FROM supplier') AS x, order_count": "SEM325",
    "SELECT read_text('/etc/passwd') AS x, order_count": "SEM325",
    "SELECT order_count WHERE order_key IN (SELECT o_custkey FROM orders)": "SEM302",
    "SELECT order_count WHERE EXISTS (SELECT 1 FROM supplier)": "SEM302",
    "SELECT order_count UNION SELECT s_phone FROM supplier": "SEM302",
    "SELECT order_count FROM supplier": "SEM302",
    "SELECT unnest([order_status]) AS x, order_count": "SEM325",
    # work without end
    "SELECT sleep_ms(20000) AS x, order_count": "SEM325",
    "SELECT order_status, repeat(order_status, 100000000) AS x, order_count": "SEM325",
    "SELECT range(100000000) AS x, order_count": "SEM325",
    "SELECT generate_series(1, 100000000) AS x, order_count": "SEM325",
    "SELECT lpad(order_status, 100000000, 'x') AS x, order_count": "SEM325",
    # lambdas, structs, subscripts, JSON operators
    "SELECT list_transform([1], x -> s_phone) AS x, order_count": "SEM325",
    "SELECT list_transform([order_status], x -> x) AS x, order_count": "SEM325",
    "SELECT struct_pack(a := s_phone) AS x, order_count": "SEM324",
    "SELECT {'a': order_status} AS x, order_count": "SEM324",
    "SELECT order_status[1] AS x, order_count": "SEM324",
    "SELECT order_status -> '$.a' AS x, order_count": "SEM324",
    "SELECT order_status ->> '$.a' AS x, order_count": "SEM324",
    # physical names, however written
    "SELECT s_address, supplier_count": "SEM303",
    'SELECT "o_comment", order_count': "SEM303",
    # `orders` is a label of order_count: a metric has no grain `o_comment`
    'SELECT "orders"."o_comment", order_count': "SEM308",
    "SELECT orders.o_comment, order_count": "SEM308",
    "SELECT supplier.s_phone, supplier_count": "SEM302",
    "SELECT main.orders.o_comment, order_count": "SEM324",
    "SELECT o_custkey, order_count": "SEM303",
    "SELECT order_count WHERE o_comment LIKE 'COMMENT%'": "SEM303",
    "SELECT MEASURE(order_count) FILTER (WHERE o_comment <> '') AS x": "SEM303",
    "SELECT order_status, order_count ORDER BY o_comment": "SEM303",
    "SELECT order_status, order_count GROUP BY o_comment": "SEM303",
    'SELECT U&"\\0073_address", supplier_count': "SEM324",
    # casts that would read a table or a row
    "SELECT CAST(o_comment AS VARCHAR) AS x, order_count": "SEM303",
    "SELECT TRY_CAST(s_address AS VARCHAR) AS x, supplier_count": "SEM303",
    "SELECT CAST(order_status AS orders) AS x, order_count": "SEM326",
    "SELECT order_key::JSON || o_comment AS x, order_count": "SEM303",
    # a window, DISTINCT, WITH
    "SELECT first(o_comment) OVER () AS x, order_count": "SEM302",
    "SELECT DISTINCT order_status, order_count": "SEM302",
    "WITH t AS (SELECT 1) SELECT order_count": "SEM302",
}

#: queries that look like escapes but are legitimate: they run, and return no marker
ALLOWED: dict[str, dict[str, Any]] = {
    "SELECT supplier_name, supplier_count ORDER BY 1": {},
    'SELECT "s_phone", supplier_count ORDER BY 1': {},  # the synonym: names, not phones
    "SELECT s_phone, supplier_count ORDER BY 1": {},
    "SELECT order_count /* , o_comment */": {},
    "SELECT order_count -- , o_comment": {},
    "SELECT concat($p, order_status) AS x, order_count ORDER BY 1": {"p": "o_comment"},
    "SELECT order_status, order_count WHERE order_status <> $p": {"p": "s_phone"},
    # `orders` is a label of order_count: the count, not the table
    "SELECT CAST(orders AS VARCHAR) AS x": {},
    "SELECT order_status, order_count WHERE urgent ORDER BY 1": {},
    "SELECT lower(order_status) AS x, order_count ORDER BY 1": {},
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = write_project(
        tmp_path_factory.mktemp("boundary"),
        {"models/trade.yml": MODEL, "glossary/trade.yml": GLOSSARY},
    )
    write_data(root, TABLES)
    return Project.load(root)


def leaked(table: pa.Table) -> list[str]:
    """Every marker value found in `table`, in any cell, however it is rendered."""
    text = repr(table.to_pylist())
    return [m for m in MARKERS if m in text]


def test_markers_are_there_to_be_found(tiny: Project) -> None:
    """The markers are in the data: physical SQL reads them (so `leaked` can see a leak)."""
    table = tiny.engine.execute(
        f"SELECT s_phone, o_comment, o_custkey FROM {SCHEMA}.orders "
        f"JOIN {SCHEMA}.supplier ON o_suppkey = s_suppkey"
    )
    assert leaked(table) == list(MARKERS[:1]) + list(MARKERS[2:])


@pytest.mark.parametrize("query", list(REFUSED))
def test_escape_route_is_refused(tiny: Project, query: str) -> None:
    with pytest.raises(SemanticError) as caught:
        leaks = leaked(tiny.query(query, {"re": "o_comment", "p": "x"}))
        pytest.fail(f"not refused; leaked {leaks}")
    first = caught.value.diagnostics[0]
    assert first.code == REFUSED[query], first.render()
    assert first.span is not None and first.span.line >= 1 and first.span.col >= 1
    lines = query.splitlines() or [""]
    assert first.span.line <= len(lines) and first.span.col <= len(lines[first.span.line - 1]) + 1


@pytest.mark.parametrize("query", list(ALLOWED))
def test_lookalike_runs_without_leaking(tiny: Project, query: str) -> None:
    table = tiny.query(query, ALLOWED[query])
    assert table.num_rows > 0
    assert leaked(table) == []


def test_the_synonym_equal_to_a_column_name_gives_the_term(tiny: Project) -> None:
    assert tiny.query('SELECT "s_phone", supplier_count ORDER BY 1').to_pylist() == [
        {"s_phone": "Acme", "supplier_count": 1},
        {"s_phone": "Bolt", "supplier_count": 1},
    ]


@pytest.fixture(scope="module")
def tiny_postgres(tiny: Project, postgres_url: str) -> Iterator[PostgresEngine]:
    engine = PostgresEngine(tiny.model, postgres_url)
    tiny.load_data(engine)
    yield engine
    engine.publish([f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"])
    engine.close()


@pytest.mark.parametrize("query", list(ALLOWED))
def test_lookalike_leaks_nothing_on_postgres(
    tiny: Project, tiny_postgres: PostgresEngine, query: str
) -> None:
    if "$p" in query and re.search(r"concat\(\$", query):
        pytest.skip("PostgreSQL cannot infer the type of a parameter given to concat()")
    table = tiny.query(query, ALLOWED[query], engine=tiny_postgres)
    assert table.num_rows > 0
    assert leaked(table) == []


@pytest.mark.parametrize("query", list(REFUSED))
def test_escape_route_is_refused_for_postgres(tiny: Project, query: str) -> None:
    """The routes are refused before any dialect is chosen: compiling for PostgreSQL too."""
    with pytest.raises(SemanticError) as caught:
        tiny.compile(query, "postgres")
    assert caught.value.code == REFUSED[query]


def test_every_refusal_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "errors.md").read_text()
    for code in set(REFUSED.values()):
        assert f"## {code} " in doc
