"""One parse serves a command: `Project` keeps the last query it parsed, so that compiling,
explaining and warning about one query parse it once; that is only right because planning
and rendering never change a parsed query, which the second test checks."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from semantic import project as project_module
from semantic.compiler.parse import parse_query
from semantic.compiler.plan import plan_query
from semantic.compiler.refs import BusinessQuery
from semantic.compiler.render import render_sql
from semantic.model import Model
from semantic.project import Project

TPCH = Path(__file__).resolve().parent / "fixtures" / "tpch" / "business-queries.yml"

#: a query of each shape the planner knows, besides the TPC-H ones
SHAPES = [
    "SELECT order_date.month, net_revenue, revenue_last_3_months, revenue_year_to_date, "
    "revenue_previous_year WHERE order_date >= DATE '1993-11-01' "
    "AND order_date < DATE '1994-04-01' ORDER BY 1",
    "SELECT order_date.year, cumulative_revenue WHERE order_date >= DATE '1995-01-01'",
    "SELECT part_type, MEASURE(net_revenue) FILTER (WHERE part_type LIKE 'PROMO%') AS promo, "
    "net_revenue WHERE ship_mode = $mode HAVING net_revenue > 0 ORDER BY net_revenue DESC "
    "LIMIT 5",
    "SELECT market_segment HAVING customer_count > 0 ORDER BY total_account_balance DESC",
    "SELECT customer_region, order_count, order_value, line_count, net_revenue, "
    "average_order_value",
]


def _queries() -> list[str]:
    tpch = YAML(typ="safe").load(TPCH)
    return [texts["en"] for texts in tpch.values()] + SHAPES


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The texts `Project` hands to the parser, in order."""
    seen: list[str] = []

    def counted(model: Model, text: str) -> BusinessQuery:
        seen.append(text)
        return parse_query(model, text)

    monkeypatch.setattr(project_module, "parse_query", counted)
    yield seen


def test_a_command_parses_its_query_once(project: Project, parses: list[str]) -> None:
    fresh = Project(project.root, project.config, project.model)
    text = "SELECT customer_region, net_revenue WHERE market_segment = 'BUILDING'"
    # what `semantic query --explain` and `semantic compile` ask of the project
    fresh.explain(text)
    fresh.compile(text)
    fresh.query_warnings(text)
    assert parses == [text]
    other = "SELECT order_count"
    fresh.compile(other)
    fresh.compile(text)
    assert parses == [text, other, text]  # the last query only is kept


def test_a_json_query_is_kept_by_its_value(project: Project, parses: list[str]) -> None:
    fresh = Project(project.root, project.config, project.model)
    query = {"select": ["customer_region", "order_count"], "where": ["market_segment = 'A'"]}
    fresh.compile(query)
    query["where"].append("customer_region = 'ASIA'")  # changed in place: a new query
    fresh.compile(query)
    fresh.query_warnings(query)
    assert len(parses) == 2 and parses[1].rstrip().endswith("customer_region = 'ASIA'")


def test_another_model_parses_again(project: Project, parses: list[str]) -> None:
    fresh = Project(project.root, project.config, project.model)
    fresh.compile("SELECT order_count")
    fresh.model = copy.copy(project.model)  # names may resolve otherwise in another model
    fresh.compile("SELECT order_count")
    assert len(parses) == 2


@pytest.mark.parametrize("text", _queries())
def test_planning_and_rendering_leave_the_parse_unchanged(project: Project, text: str) -> None:
    model = project.model
    parsed = parse_query(model, text)
    for dialect in ("duckdb", "postgres", "sqlite", "spark", "tsql"):
        render_sql(plan_query(model, parsed), dialect, schema=project.column_types)
    assert parsed == parse_query(model, text)
