"""Business queries given as JSON, for programs: the same answers as the query text."""

from __future__ import annotations

import json

import pytest

from semantic.errors import SemanticError
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.test_tpch import QUERIES, official_rows

Q3 = {
    "select": ["order_key", "net_revenue", "order_date", "ship_priority"],
    "where": [
        "market_segment = 'BUILDING'",
        "order_date < DATE '1995-03-15'",
        "ship_date > DATE '1995-03-15'",
    ],
    "order_by": ["net_revenue DESC", "order_date"],
    "limit": 10,
}


def rows(table: object) -> list[tuple[object, ...]]:
    return [tuple(r.values()) for r in table.to_pylist()]  # type: ignore[attr-defined]


def test_json_query_equals_the_text_query_and_the_official_answer(project: Project) -> None:
    got = rows(project.query(Q3))
    assert got == rows(project.query(QUERIES["q03"]["en"]))
    assert got == official_rows(project, "q03")
    assert project.compile(Q3) == project.compile(QUERIES["q03"]["en"])


def test_a_grand_total_in_a_json_condition_reads_as_in_the_text(project: Project) -> None:
    """TPC-H Q22 as JSON: the grand total next to dimensions in a `where` item is a value of
    every row there too (its own FILTER only), and gives the official rows."""
    codes = "('13', '31', '23', '29', '30', '18', '17')"
    q22 = {
        "select": [
            "left(customer_phone, 2) AS cntrycode",
            "customer_count AS numcust",
            "total_account_balance AS totacctbal",
        ],
        "where": [
            f"left(customer_phone, 2) IN {codes}",
            "customer_account_balance > MEASURE(average_account_balance) FILTER (WHERE "
            f"customer_account_balance > 0.00 AND left(customer_phone, 2) IN {codes}) PER (ALL)",
            "NOT EXISTS(order_key)",
        ],
        "order_by": ["cntrycode"],
    }
    assert project.compile(q22) == project.compile(QUERIES["q22"]["en"])
    assert rows(project.query(q22)) == official_rows(project, "q22")


def test_json_query_from_the_command_line(project: Project) -> None:
    query = {
        "select": ["customer_region", "order_count"],
        "having": "order_count > 3000",
        "order_by": ["1"],
    }
    result = run_cli("query", "-f", "json", json.dumps(query))
    assert result.exit_code == 0, result.stderr
    expected = project.query(
        "SELECT customer_region, order_count HAVING order_count > 3000 ORDER BY 1"
    )
    assert json.loads(result.stdout) == expected.to_pylist()
    assert len(expected) == 2


@pytest.mark.parametrize(
    ("query", "code", "fragment"),
    [
        ({"select": []}, "SEM302", "select: List should have at least 1 item"),
        ({"select": ["net_revenue"], "wher": "x"}, "SEM302", "unknown key 'wher'"),
        ({"select": ["net_revenue"], "limit": -1}, "SEM302", "limit"),
        (
            {"select": ["net_revenue"], "order_by": ["net_revenue DESC DESC"]},
            "SEM301",
            "$.order_by[0]:1:18: SEM301",
        ),
        ({"select": ["net_revenue FROM lineitem"]}, "SEM301", "net_revenue FROM lineitem"),
        ({"select": ["net_revnue"]}, "SEM303", "unknown term 'net_revnue'"),
    ],
)
def test_json_query_errors(
    project: Project, query: dict[str, object], code: str, fragment: str
) -> None:
    with pytest.raises(SemanticError) as caught:
        project.compile(query)
    assert caught.value.code == code and fragment in str(caught.value)


def test_invalid_json_on_the_command_line() -> None:
    result = run_cli("compile", '{"select": [')
    assert result.exit_code == 1
    assert result.stderr.startswith("<query>:1:13: SEM301 the JSON query is not valid JSON")
