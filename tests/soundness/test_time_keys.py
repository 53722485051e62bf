"""Wrong answers once given by windows and shifts, each pinned (found by the docs review
and the differential test). Never weaken these tests (see README.md in this folder)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from semantic.errors import SemanticError
from semantic.project import Project
from tests.compare import assert_same_rows
from tests.conftest import ROOT

QUARTERS = """
SELECT date_trunc('quarter', o_orderdate)::DATE AS q, sum(l_extendedprice * (1 - l_discount))
FROM lineitem JOIN orders ON l_orderkey = o_orderkey GROUP BY 1
"""


def revenue_by(project: Project, sql: str) -> dict[object, object]:
    return dict(project.engine.connection.execute(sql).fetchall())


def test_a_coarser_grain_beside_the_period_does_not_split_the_window(project: Project) -> None:
    # order_date.year beside order_date.month: the window still runs over months
    # (November and December 1993 count in January 1994's three months)
    got = project.query(
        "SELECT order_date.year, order_date.month, revenue_last_3_months "
        "WHERE order_date.year = DATE '1994-01-01' ORDER BY 2 LIMIT 1"
    ).to_pylist()
    months = revenue_by(
        project,
        "SELECT date_trunc('month', o_orderdate)::DATE, sum(l_extendedprice * (1 - l_discount))"
        " FROM lineitem JOIN orders ON l_orderkey = o_orderkey GROUP BY 1",
    )
    expected = sum(v for k, v in months.items() if date(1993, 11, 1) <= k <= date(1994, 1, 1))
    assert [r["revenue_last_3_months"] for r in got] == [expected]


def test_fiscal_year_beside_quarters_shifts_by_quarter(project: Project) -> None:
    got = project.query(
        "SELECT order_date.fiscal_year AS fy, order_date.quarter AS q, revenue_previous_year "
        "WHERE order_date >= DATE '1995-01-01' AND order_date < DATE '1995-07-01' ORDER BY q"
    )
    quarters = revenue_by(project, QUARTERS)
    expected = [
        (date(1994, 4, 1), date(1995, 1, 1), quarters[date(1994, 1, 1)]),
        (date(1995, 4, 1), date(1995, 4, 1), quarters[date(1994, 4, 1)]),
    ]
    assert_same_rows([tuple(r.values()) for r in got.to_pylist()], expected)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        (
            "SELECT month(order_date) AS m, order_date.month, revenue_last_3_months",
            "select order_date as grains only",
        ),
        (
            "SELECT order_date.month, net_revenue, revenue_last_3_months "
            "WHERE order_date < DATE '1992-01-16'",
            "1992-01-16 falls inside a period of month",
        ),
        (
            "SELECT order_date.month, revenue_previous_year WHERE order_date <= DATE '1995-03-30'",
            "1995-03-30 falls inside a period of month",
        ),
        (
            "SELECT order_date.month, revenue_previous_year WHERE order_date >= $start",
            "compares with something that is not a date",
        ),
    ],
)
def test_conditions_or_keys_that_would_cut_periods_are_refused(
    project: Project, query: str, fragment: str
) -> None:
    with pytest.raises(SemanticError) as caught:
        project.compile(query)
    (d,) = caught.value.diagnostics
    assert d.code == "SEM314" and fragment in d.message


def test_conditions_on_period_boundaries_are_accepted(project: Project) -> None:
    whole = project.query(
        "SELECT order_date.month, net_revenue, revenue_last_3_months "
        "WHERE order_date >= DATE '1994-01-01' AND order_date <= DATE '1994-01-31'"
    ).to_pylist()
    assert len(whole) == 1 and whole[0]["revenue_last_3_months"] > whole[0]["net_revenue"]


def test_calendar_year_to_date_by_misaligned_fiscal_quarters_is_refused(
    tmp_path: Path, project: Project
) -> None:
    for folder in ("models", "glossary"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    config = (
        (ROOT / "semantic.yml").read_text().replace("fiscal_year_start: 4", "fiscal_year_start: 2")
    )
    (tmp_path / "semantic.yml").write_text(
        config.replace("data/tpch-sf{scale}", str(project.data_dir))
    )
    february = Project.load(tmp_path)
    with pytest.raises(SemanticError) as caught:
        february.compile("SELECT order_date.fiscal_quarter, revenue_year_to_date")
    assert caught.value.code == "SEM314"


def test_grand_total_of_an_empty_selection_is_filled(project: Project) -> None:
    # the same sum alone or beside another entity's metric: 0 both times (fill_null: 0)
    where = "WHERE customer_region = 'ASIA' AND customer_nation = 'FRANCE'"
    alone = project.query(f"SELECT net_revenue, line_count {where}").to_pylist()
    mixed = project.query(f"SELECT net_revenue, order_count {where}").to_pylist()
    assert [tuple(r.values()) for r in alone] == [(0, 0)]
    assert [tuple(r.values()) for r in mixed] == [(0, 0)]
    kept = project.query(f"SELECT net_revenue {where} HAVING net_revenue = 0").to_pylist()
    assert len(kept) == 1
