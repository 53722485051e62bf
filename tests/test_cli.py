"""The command line, run as a user would, with results checked against hand-written SQL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest

from semantic.project import Project
from tests.cli_runner import run_cli
from tests.projects import write_project
from tests.test_errors import GLOSSARY, MODEL


def hand(project: Project, sql: str) -> list[tuple[object, ...]]:
    return project.engine.connection.execute(sql).fetchall()


def test_check_passes_on_the_default_project(project: Project) -> None:
    code, _, err = run_cli("check")
    assert code == 0, err
    assert "ok: 8 entities, 78 terms" in err
    code, out, _ = run_cli("check", "--data", "--format", "json")
    assert code == 0 and json.loads(out) == {"ok": True, "diagnostics": []}


def test_check_data_reports_what_the_data_contradicts(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY})
    (tmp_path / "data").mkdir()
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT 1 AS id, DATE '2020-01-01' AS region) TO '{tmp_path}/data/customers.parquet'"
    )
    result = run_cli("check", "--data", project=tmp_path)
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if ": SEM" in line]
    assert lines == [
        f"models/m.yml:2:3: SEM403 column 'customers.region' is DATE in {tmp_path / 'data'}, "
        "not varchar",
        "models/m.yml:7:3: SEM401 table 'orders' of entity 'orders' is missing from "
        f"{tmp_path / 'data'}",
    ]


def test_query_csv_is_rfc4180_with_unrounded_numbers_and_iso_dates(project: Project) -> None:
    code, out, err = run_cli(
        "query",
        "--format",
        "csv",
        "SELECT order_date.month, net_revenue, average_discount "
        "WHERE order_date < DATE '1992-04-01' ORDER BY 1",
    )
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert out.endswith("\r\n") and out.count("\r\n") == 4
    assert rows[0] == ["order_date.month", "net_revenue", "average_discount"]
    expected = hand(
        project,
        """
        SELECT date_trunc('month', o_orderdate)::DATE, sum(l_extendedprice * (1 - l_discount)),
               avg(l_discount)
        FROM lineitem JOIN orders ON l_orderkey = o_orderkey
        WHERE o_orderdate < DATE '1992-04-01' GROUP BY 1 ORDER BY 1""",
    )
    assert len(rows) == 1 + len(expected) == 4
    for row, (month, revenue, discount) in zip(rows[1:], expected, strict=True):
        assert row == [month.isoformat(), str(revenue), repr(discount)]


def test_query_json_and_parameters(project: Project) -> None:
    code, out, err = run_cli(
        "query",
        "--format",
        "json",
        "--param",
        "segment=BUILDING",
        "--param",
        "n=3",
        "SELECT customer_region, order_count WHERE market_segment = $segment "
        "AND ship_priority < $n ORDER BY 1",
    )
    assert code == 0, err
    expected = hand(
        project,
        """
        SELECT r_name, count(*) FROM orders JOIN customer ON o_custkey = c_custkey
        JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey
        WHERE c_mktsegment = 'BUILDING' AND o_shippriority < 3 GROUP BY 1 ORDER BY 1""",
    )
    assert [tuple(r.values()) for r in json.loads(out)] == expected


def test_parameters_are_bound_not_pasted(project: Project) -> None:
    sneaky = "x' OR '1'='1"
    got = project.query("SELECT order_count WHERE market_segment = $s", {"s": sneaky})
    assert got.to_pylist() == [{"order_count": 0}]
    assert sneaky not in project.compile("SELECT order_count WHERE market_segment = $s")


def test_missing_parameter_is_an_error() -> None:
    code, _, err = run_cli("query", "SELECT order_count WHERE market_segment = $segment")
    assert code == 1
    assert "SEM309 parameter $segment has no value" in err and "--param segment=VALUE" in err


def test_table_output_and_french_labels() -> None:
    code, out, err = run_cli("query", 'SELECT "Région client", "Nombre de commandes" ORDER BY 1')
    assert code == 0, err
    assert "Région client" in out and "AFRICA" in out and "5 row(s)" in err


@pytest.mark.parametrize(
    "dialect", ["duckdb", "postgres", "snowflake", "bigquery", "tsql", "spark"]
)
def test_compile_for_dialects(dialect: str) -> None:
    code, out, err = run_cli(
        "compile", "--dialect", dialect, "SELECT customer_name, net_revenue LIMIT 5"
    )
    assert code == 0, err
    assert ("TOP 5" if dialect == "tsql" else "LIMIT 5") in out


def test_compiled_sql_runs_unchanged_on_plain_duckdb(project: Project) -> None:
    """What `compile` prints is what a user pastes elsewhere: run it on a fresh connection."""
    code, sql, _ = run_cli("compile", "SELECT customer_region, order_count, net_revenue ORDER BY 1")
    assert code == 0
    con = duckdb.connect()
    for entity in project.model.entities.values():
        path = project.data_dir / f"{entity.table}.parquet"
        con.execute(f"CREATE VIEW {entity.table} AS SELECT * FROM '{path}'")
    got = con.execute(sql).fetchall()
    assert got == [
        tuple(r.values())
        for r in project.query(
            "SELECT customer_region, order_count, net_revenue ORDER BY 1"
        ).to_pylist()
    ]
    assert len(got) == 5


def test_terms_in_french() -> None:
    code, out, err = run_cli("terms", "--language", "fr", "--kind", "metric", "--format", "csv")
    assert code == 0, err
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["net_revenue"]["label"] == "Chiffre d'affaires net"
    assert "CA" in rows["net_revenue"]["synonyms"]
    assert set(r["kind"] for r in rows.values()) == {"metric"}


def test_query_from_standard_input() -> None:
    result = run_cli("query", "-f", "csv", "-", input="SELECT order_count")
    assert result.exit_code == 0 and result.stdout == "order_count\r\n15000\r\n"
