"""Each kind of quality rule, passing and failing, on small hand-made data, measured on
DuckDB and on PostgreSQL: the scores are the counts made by hand below."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from semantic.engines.postgres import PostgresEngine
from semantic.outputs.quality import QualityResult, project_quality
from semantic.project import Project
from tests.projects import copy_to_postgres, write_data, write_project
from tests.sqlite_db import copy_to_sqlite

MODEL = """
entities:
  customers:
    primary_key: [id]
    columns:
      id: {type: integer}
      region: {type: varchar}
      phone: {type: varchar}
  orders:
    primary_key: [id]
    columns:
      id: {type: integer}
      customer_id: {type: integer}
      amount: {type: integer}
      status: {type: varchar}
      day: {type: date}
    relationships:
      - to: customers
        cardinality: many_to_one
        keys: {customer_id: id}
    quality:
      ok_not_null: {kind: not_null, column: id}
      bad_not_null: {kind: not_null, column: amount}
      ok_unique: {kind: unique, column: id}
      bad_unique: {kind: unique, column: customer_id}
      ok_values: {kind: accepted_values, column: status, values: [F, O, X]}
      bad_values: {kind: accepted_values, column: status, values: [F, O]}
      ok_range: {kind: range, column: amount, min: -10, max: 10}
      bad_range: {kind: range, column: amount, min: 0}
      ok_date_range: {kind: range, column: day, min: 2024-01-01, max: 2024-12-31}
      ok_fresh: {kind: freshness, column: day, max_age: 10 days, as_of: 2024-01-15}
      bad_fresh: {kind: freshness, column: day, max_age: 2 days, as_of: 2024-01-15}
      ok_count: {kind: row_count, min: 1, max: 10}
      bad_count: {kind: row_count, min: 5}
      ok_aggregate: {kind: aggregate, check: sum(amount) > 0}
      bad_aggregate: {kind: aggregate, check: max(day) > current_date - INTERVAL 2 DAY}
      ok_custom:
        kind: custom
        sql: >-
          SELECT o.id FROM orders AS o LEFT JOIN customers AS c ON o.customer_id = c.id
          WHERE o.customer_id IS NOT NULL AND c.id IS NULL AND o.id < 0
      bad_custom:
        kind: custom
        sql: >-
          SELECT o.id FROM orders AS o LEFT JOIN customers AS c ON o.customer_id = c.id
          WHERE o.customer_id IS NOT NULL AND c.id IS NULL
      ok_check: {dimension: validity, check: amount > -100, threshold: 0.75}
      bad_check: {check: amount > 0}
      soft_check: {check: amount > 0, severity: warning}
"""

GLOSSARY = """
domain: sales
terms:
  phone:
    label: {en: Phone}
    quality:
      ok_pattern: {kind: pattern, pattern: '^.+$'}
      bad_pattern: {kind: pattern, pattern: '^[0-9]{2}-[0-9]{3}$'}
    dimension: {entity: customers, expr: phone}
  status:
    label: {en: Status}
    quality:
      ok_term_values: {kind: accepted_values, values: [F, O, X]}
    dimension: {entity: orders, expr: status}
  order_day:
    label: {en: Order day}
    quality:
      ok_term_fresh: {kind: freshness, max_age: 1 week, as_of: 2024-01-15}
    time_dimension: {entity: orders, expr: day}
  order_count:
    label: {en: Order count}
    metric: {entity: orders, expr: count(*)}
"""

DATA = {
    "customers": "SELECT * FROM (VALUES (1, 'EUROPE', '12-345'), (2, 'ASIA', '99-999'), "
    "(3, NULL, 'bad')) t(id, region, phone)",
    "orders": "SELECT id, customer_id, amount, status, CAST(day AS DATE) AS day FROM (VALUES "
    "(1, 1, 10, 'F', '2024-01-01'), (2, 1, -5, 'O', '2024-01-03'), "
    "(3, 2, NULL, 'X', '2024-01-05'), (4, 9, 7, 'F', '2024-01-10')) "
    "t(id, customer_id, amount, status, day)",
}

#: rule -> (rows, rows failing, passed); None failing for a rule on the whole table
EXPECTED: dict[str, tuple[int, int | None, bool]] = {
    "ok_not_null": (4, 0, True),
    "bad_not_null": (4, 1, False),  # order 3 has no amount
    "ok_unique": (4, 0, True),
    "bad_unique": (4, 2, False),  # customer 1 has two orders
    "ok_values": (4, 0, True),
    "bad_values": (4, 1, False),  # status X
    "ok_range": (4, 0, True),  # NULL is no value to judge
    "bad_range": (4, 1, False),  # -5
    "ok_date_range": (4, 0, True),
    "ok_fresh": (4, None, True),  # 2024-01-10 is 5 days before 2024-01-15
    "bad_fresh": (4, None, False),
    "ok_count": (4, None, True),
    "bad_count": (4, None, False),
    "ok_aggregate": (4, None, True),  # 10 - 5 + 7 = 12
    "bad_aggregate": (4, None, False),  # the freshness as an aggregate: 2024 is old
    "ok_custom": (4, 0, True),
    "bad_custom": (4, 1, False),  # order 4's customer 9 does not exist
    "ok_check": (4, 1, True),  # 3 of 4 (NULL is not met), threshold 0.75
    "bad_check": (4, 2, False),
    "soft_check": (4, 2, False),
    "ok_pattern": (3, 0, True),
    "bad_pattern": (3, 1, False),  # 'bad'
    "ok_term_values": (4, 0, True),
    "ok_term_fresh": (4, None, True),
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("kinds")
    write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY})
    write_data(root, DATA)
    return Project.load(root)


def declared(results: list[QualityResult]) -> dict[str, QualityResult]:
    return {r.rule.id: r for r in results if r.rule.id in EXPECTED}


def assert_expected(found: dict[str, QualityResult]) -> None:
    assert set(found) == set(EXPECTED)
    for rid, (rows, failing, passed) in EXPECTED.items():
        result = found[rid]
        assert result.measured, f"{rid}: {result.error}"
        assert (result.rows, result.failing, result.passed) == (rows, failing, passed), rid


def test_every_kind_passes_and_fails_on_duckdb(shop: Project) -> None:
    found = declared(project_quality(shop))
    assert_expected(found)
    assert found["bad_fresh"].value == "2024-01-10, 5.0 days old"
    assert found["bad_count"].value == "4"
    assert found["bad_custom"].value == "1"
    assert found["bad_unique"].score == 0.5
    assert found["soft_check"].rule.severity == "warning" and not found["soft_check"].fails
    assert found["bad_check"].fails
    kinds = {r.rule.kind for r in found.values()}
    assert len(kinds) == 10
    # dimensions by kind, unless given
    assert found["ok_fresh"].rule.dimension == "timeliness"
    assert found["bad_unique"].rule.dimension == "uniqueness"
    assert found["ok_pattern"].rule.term == "phone"


def test_a_rule_the_dialect_cannot_write_is_not_measured_and_says_why(
    shop: Project, tmp_path: Path
) -> None:
    """SQLite has no regular expressions: the pattern rules are not measured (SEM450 in
    `semantic quality`), and every other rule still is, in one scan per table."""
    from semantic.outputs.quality.measure import measure_quality

    connection = copy_to_sqlite(shop, tmp_path / "kinds.sqlite")
    sql: list[str] = []

    def fetch(text: str) -> list[tuple[object, ...]]:
        sql.append(text)
        return connection.execute(text).fetchall()

    try:
        found = {r.rule.id: r for r in measure_quality(shop.model, fetch, "sqlite")}
    finally:
        connection.close()
    for rid in ("ok_pattern", "bad_pattern"):
        assert not found[rid].measured and not found[rid].passed and found[rid].fails
        assert "SQLite has no regular expressions" in str(found[rid].error)
    for rid in ("bad_not_null", "bad_unique", "bad_values", "bad_range", "bad_custom", "ok_check"):
        rows, failing, passed = EXPECTED[rid]
        assert (found[rid].rows, found[rid].failing, found[rid].passed) == (rows, failing, passed)
    # one scan per table (customers, orders), then one query per unique and custom rule
    assert len(sql) == 2 + 4


def test_every_kind_means_the_same_on_postgresql(shop: Project, postgres_url: str) -> None:
    schema = f"quality_kinds_{uuid.uuid4().hex[:8]}"
    connection = copy_to_postgres(shop, postgres_url, schema)
    separator = "&" if "?" in postgres_url else "?"
    engine = PostgresEngine(
        shop.model, f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
    )
    try:
        found = declared(project_quality(shop, engine))
        assert_expected(found)
        assert found["bad_fresh"].value == "2024-01-10, 5.0 days old"
    finally:
        engine.close()
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        connection.close()
