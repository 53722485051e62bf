"""Each function means on PostgreSQL, SQLite and Spark what it means on DuckDB, or is refused.

For every case of `function_meaning.CASES` the business query using the term is compiled
for DuckDB and run there (the reference), then compiled for each engine and run on it (same
rows), or expected to stop with SEM316. PostgreSQL's string columns are given an ICU
collation (`en-US-x-icu`, which sorts 'apple' before 'Banana') so that string order is
tested against a database that does not sort bytes. The table of docs/dialects.md is
written from the same cases (`--update-goldens` rewrites it).
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from semantic.errors import SemanticError
from semantic.project import Project
from tests.compare import same_value
from tests.conftest import ROOT
from tests.services import unavailable
from tests.soundness.function_meaning import CASES, COLUMNS, SAMPLES, Case, meaning_table
from tests.tiny_engines import spark_views

Row = tuple[Any, ...]
DOCS = ROOT / "docs" / "dialects.md"
START, END = "<!-- function-meaning:start -->", "<!-- function-meaning:end -->"
ICU = "en-US-x-icu"


def _write_project(root: Path) -> Project:
    """A one-table project whose terms are the cases, its data a parquet file."""
    (root / "models").mkdir()
    (root / "glossary").mkdir()
    (root / "data").mkdir()
    (root / "semantic.yml").write_text(
        "name: meaning\nlanguages: [en]\ndialect: duckdb\nmodels: models\nglossary: glossary\n"
        "data: {dir: data, format: parquet}\n"
    )
    columns = "\n".join(f"      {n}: {{type: '{t}'}}" for n, t in COLUMNS.items())
    (root / "models" / "samples.yml").write_text(
        "entities:\n  samples:\n    table: samples\n    primary_key: [sample_id]\n"
        f"    columns:\n{columns}\n"
    )
    terms = [("sample_id", "dimension", "sample_id"), ("row_count", "metric", "count(*)")]
    terms += [(c.id, c.kind, c.expr) for c in CASES]
    body = "".join(
        f"  {tid}:\n    label: {{en: {tid}}}\n    definition: {{en: The {tid}.}}\n"
        f"    status: approved\n    {kind}: {{entity: samples, expr: {_yaml(expr)}}}\n"
        for tid, kind, expr in terms
    )
    (root / "glossary" / "samples.yml").write_text(f"domain: samples\nterms:\n{body}")
    values = ", ".join(
        "(" + ", ".join(_literal(v, t) for v, t in zip(row, COLUMNS.values(), strict=True)) + ")"
        for row in SAMPLES
    )
    names = ", ".join(COLUMNS)
    duckdb.sql(
        f"COPY (SELECT * FROM (VALUES {values}) AS t({names})) "
        f"TO '{root / 'data' / 'samples.parquet'}' (FORMAT parquet)"
    )
    return Project.load(root)


def _yaml(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _literal(value: object, kind: str) -> str:
    if value is None:
        return "NULL"
    if kind in ("date", "varchar"):
        return f"CAST('{value}' AS {kind.upper()})"
    return f"CAST({value} AS {kind.upper()})"


@pytest.fixture(scope="module")
def meaning(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return _write_project(tmp_path_factory.mktemp("meaning"))


def _query(case: Case) -> str:
    return case.query.format(id=case.id)


def _normal(value: Any) -> Any:
    """One spelling per value across engines: dates (SQLite: ISO text; DuckDB: a midnight
    timestamp for date_trunc) as dates, booleans as 0/1, decimals as floats."""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date()
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return dt.date.fromisoformat(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _assert_same(actual: list[Row], expected: list[Row], where: str) -> None:
    got = [tuple(_normal(v) for v in row) for row in actual]
    want = [tuple(_normal(v) for v in row) for row in expected]
    same = len(got) == len(want) and all(
        len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
        for a, b in zip(got, want, strict=True)
    )
    assert same, f"{where}\n got {got}\nwant {want}"


def _duckdb_rows(project: Project, case: Case) -> list[Row]:
    return [tuple(r.values()) for r in project.query(_query(case)).to_pylist()]


def _check(project: Project, case: Case, engine: str, run: Callable[[str], list[Row]]) -> None:
    """Run the case on `engine` and compare with DuckDB, or expect SEM316."""
    how = case.how[engine]
    if how == "SEM316":
        with pytest.raises(SemanticError) as caught:
            project.compile(_query(case), engine)
        assert caught.value.code == "SEM316", caught.value
        return
    sql = project.compile(_query(case), engine)
    _assert_same(run(sql), _duckdb_rows(project, case), f"{case.id} on {engine}:\n{sql}")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_sqlite_means_what_duckdb_means(meaning: Project, case: Case, tmp_path: Path) -> None:
    connection = _sqlite(meaning, tmp_path)
    _check(meaning, case, "sqlite", lambda sql: connection.execute(sql).fetchall())


def _sqlite(project: Project, folder: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(folder / "meaning.sqlite")
    rows = project.engine.fetch("SELECT * FROM samples")
    connection.execute(f"CREATE TABLE samples ({', '.join(COLUMNS)})")

    def cell(v: Any) -> Any:
        return (
            v.isoformat()
            if isinstance(v, dt.date)
            else float(v)
            if isinstance(v, decimal.Decimal)
            else v
        )

    connection.executemany(
        f"INSERT INTO samples VALUES ({', '.join('?' for _ in COLUMNS)})",
        [tuple(cell(v) for v in row) for row in rows],
    )
    return connection


@pytest.fixture(scope="module")
def postgres_meaning(meaning: Project, postgres_url: str) -> Iterator[Any]:
    """The samples in a schema of their own, their strings in an ICU collation."""
    import psycopg

    from semantic.engines.postgres import PostgresEngine

    schema = f"meaning_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        collations = admin.execute("SELECT 1 FROM pg_collation WHERE collname = %s", (ICU,))
        has_icu = collations.fetchone() is not None
    separator = "&" if "?" in postgres_url else "?"
    engine = PostgresEngine(
        meaning.model, f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
    )
    try:
        meaning.load_data(engine)
        if not has_icu:
            unavailable(f"PostgreSQL has no collation {ICU}")
        for name, kind in COLUMNS.items():
            if kind == "varchar":
                engine.publish(
                    [f'ALTER TABLE samples ALTER COLUMN {name} TYPE varchar COLLATE "{ICU}"']
                )
        ordered = engine.fetch("SELECT name FROM samples ORDER BY name")
        assert [r[0] for r in ordered][:2] == ["apple", "Apple"], "not an ICU order"
        yield engine
    finally:
        engine.publish([f"DROP SCHEMA {schema} CASCADE"])
        engine.close()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_postgres_means_what_duckdb_means(
    meaning: Project, postgres_meaning: Any, case: Case
) -> None:
    _check(meaning, case, "postgres", postgres_meaning.fetch)


@pytest.fixture(scope="module")
def spark_meaning(meaning: Project, request: pytest.FixtureRequest) -> Iterator[Any]:
    # on the test session's one Spark context (tests.services.spark_engine)
    yield from spark_views(request, meaning)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_spark_means_what_duckdb_means(meaning: Project, spark_meaning: Any, case: Case) -> None:
    _check(meaning, case, "spark", spark_meaning.fetch)


def test_docs_table_is_written_from_the_cases(request: pytest.FixtureRequest) -> None:
    """docs/dialects.md's table of function meanings is `meaning_table()`, between markers."""
    text = DOCS.read_text()
    head, start, rest = text.partition(START + "\n")
    body, end, tail = rest.partition(END)
    assert start and end, f"docs/dialects.md has no {START} ... {END} section"
    if request.config.getoption("--update-goldens"):
        DOCS.write_text(head + start + meaning_table() + end + tail)
        return
    assert body == meaning_table(), "run pytest tests/soundness --update-goldens"


#: an average inside an aggregate call's FILTER and OVER: PostgreSQL's cast to DOUBLE goes
#: around the whole call (a cast between AVG and its FILTER is a syntax error there)
AVERAGE_CALLS = (
    "SELECT sample_id, AVG(amount) FILTER (WHERE x > 1) OVER () AS a,"
    " AVG(amount) OVER (ORDER BY sample_id) AS b,"
    " AVG(amount) FILTER (WHERE x > 1) OVER (PARTITION BY count > 0 ORDER BY sample_id) AS c"
    " FROM samples ORDER BY sample_id",
    "SELECT AVG(amount) FILTER (WHERE x > 1) AS a, AVG(DISTINCT count) AS b FROM samples",
)


@pytest.mark.parametrize("sql", AVERAGE_CALLS, ids=["over", "filter"])
def test_an_average_call_is_cast_whole(meaning: Project, postgres_meaning: Any, sql: str) -> None:
    from semantic.compiler.dialects import to_sql

    duck = duckdb.connect()
    duck.execute(f"CREATE TABLE samples ({', '.join(f'{n} {t}' for n, t in COLUMNS.items())})")
    duck.executemany(f"INSERT INTO samples VALUES ({', '.join('?' * len(COLUMNS))})", SAMPLES)
    expected = duck.execute(sql).fetchall()
    written = to_sql(sqlglot.parse_one(sql, read="duckdb"), "postgres")
    assert not re.search(r"DOUBLE PRECISION\) (FILTER|OVER)", written), written
    _assert_same(postgres_meaning.fetch(written), expected, written)
