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


#: each construct of the query language in JSON, and the text query it means
CONSTRUCTS = {
    "share of the total": (
        {
            "select": ["Région client", "net_revenue / MEASURE(net_revenue) PER (ALL) AS share"],
            "order_by": ["Région client"],
        },
        'SELECT "Région client", net_revenue / MEASURE(net_revenue) PER (ALL) AS share '
        'ORDER BY "Région client"',
    ),
    "another grain in HAVING": (
        {
            "select": ["customer_nation", "net_revenue"],
            "having": ["net_revenue > 1.1 * MEASURE(net_revenue) PER (ALL) / 25"],
            "order_by": ["customer_nation"],
        },
        "SELECT customer_nation, net_revenue HAVING net_revenue > 1.1 * "
        "MEASURE(net_revenue) PER (ALL) / 25 ORDER BY customer_nation",
    ),
    "per entity in WHERE, saved band": (
        {
            "select": ["customer_order_count_band", "customer_count"],
            "where": ["MEASURE(order_count) FILTER (WHERE order_status = 'F') PER (customer) > 5"],
            "order_by": ["1"],
        },
        "SELECT customer_order_count_band, customer_count WHERE MEASURE(order_count) "
        "FILTER (WHERE order_status = 'F') PER (customer) > 5 ORDER BY 1",
    ),
    "existence": (
        {"select": ["ship_priority", "order_count"], "where": "NOT EXISTS(ship_mode = 'AIR')"},
        "SELECT ship_priority, order_count WHERE NOT EXISTS(ship_mode = 'AIR')",
    ),
    "rank and QUALIFY": (
        {
            "select": [
                "supplier_nation",
                "supplier_name",
                "RANK() OVER (PARTITION BY supplier_nation ORDER BY net_revenue DESC) AS r",
            ],
            "where": "supplier_region = 'EUROPE'",
            "qualify": ["r <= 2"],
            "order_by": ["supplier_nation", "r"],
        },
        "SELECT supplier_nation, supplier_name, RANK() OVER (PARTITION BY supplier_nation "
        "ORDER BY net_revenue DESC) AS r WHERE supplier_region = 'EUROPE' QUALIFY r <= 2 "
        "ORDER BY supplier_nation, r",
    ),
    "every period": (
        {
            "select": ["all_periods(order_date.month) AS m", "order_count"],
            "where": "customer_key = 1",
            "order_by": ["m"],
        },
        "SELECT all_periods(order_date.month) AS m, order_count WHERE customer_key = 1 ORDER BY m",
    ),
    "path in the query": (
        {"select": ["via(customer_region, supplier) AS r", "net_revenue"], "order_by": ["r"]},
        "SELECT via(customer_region, supplier) AS r, net_revenue ORDER BY r",
    ),
}


@pytest.mark.parametrize("name", list(CONSTRUCTS))
def test_every_construct_is_expressible_as_json(project: Project, name: str) -> None:
    query, text = CONSTRUCTS[name]
    got = rows(project.query(query))
    assert got, "no rows: the comparison would prove nothing"
    assert got == rows(project.query(text))


@pytest.mark.parametrize(
    ("query", "where"),
    [
        (  # a PER dimension the query does not group by
            {"select": ["customer_nation", "MEASURE(net_revenue) PER (customer_region) AS s"]},
            "$.select[1]:1:27: SEM350",
        ),
        (  # QUALIFY computing an aggregate
            {"select": ["supplier_name", "net_revenue AS v"], "qualify": ["v > 0", "sum(v) > 0"]},
            "$.qualify[1]:1:1: SEM365",
        ),
        (  # a rank by a dimension the query does not select
            {
                "select": ["supplier_name", "net_revenue"],
                "qualify": "RANK() OVER (PARTITION BY supplier_nation ORDER BY net_revenue) = 1",
            },
            "$.qualify:1:27: SEM366",
        ),
        (  # a window function that is no rank
            {"select": ["customer_nation"], "order_by": ["sum(net_revenue) OVER ()"]},
            "$.order_by[0]:1:1: SEM302",
        ),
        ({"select": ["order_count"], "where": "EXISTS(ship_mod = 'AIR')"}, "$.where:1:8: SEM303"),
        ({"select": ["via(customer_nation, suplier)", "net_revenue"]}, "$.select[0]:1:22: SEM367"),
        ({"select": ["supplier_name"], "qualify": "r <= (1"}, "$.qualify:1:7: SEM301"),
    ],
)
def test_the_new_constructs_errors_point_into_the_json(
    project: Project, query: dict[str, object], where: str
) -> None:
    with pytest.raises(SemanticError) as caught:
        project.compile(query)
    assert str(caught.value).startswith(where), str(caught.value)
