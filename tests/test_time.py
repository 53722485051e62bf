"""Time: grains, fiscal years, windows (trailing, to date) and shifts, against hand SQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from semantic.errors import SemanticError
from semantic.project import Project
from tests.compare import assert_same_rows
from tests.projects import write_data, write_project
from tests.soundness.test_periods import GAPS_GLOSSARY, GAPS_MODEL

MONTHLY = """
WITH m AS (
    SELECT date_trunc('month', o_orderdate)::DATE AS month,
           sum(l_extendedprice * (1 - l_discount)) AS revenue
    FROM lineitem JOIN orders ON l_orderkey = o_orderkey GROUP BY 1),
w AS (
    SELECT month, revenue,
           sum(revenue) OVER (ORDER BY month RANGE BETWEEN INTERVAL 2 MONTH PRECEDING
                              AND CURRENT ROW) AS trailing,
           sum(revenue) OVER (PARTITION BY year(month) ORDER BY month) AS ytd,
           lag(revenue, 12) OVER (ORDER BY month) AS last_year
    FROM m)
SELECT * FROM w WHERE month >= DATE '1993-11-01' AND month < DATE '1994-04-01' ORDER BY month
"""


def test_windows_and_shift_by_month(project: Project) -> None:
    got = project.query(
        "SELECT order_date.month, net_revenue, revenue_last_3_months, revenue_year_to_date, "
        "revenue_previous_year WHERE order_date >= DATE '1993-11-01' "
        "AND order_date < DATE '1994-04-01' ORDER BY 1"
    )
    expected = project.engine.connection.execute(MONTHLY).fetchall()
    assert len(expected) == 5
    assert_same_rows([tuple(r.values()) for r in got.to_pylist()], expected)


def test_running_total_since_the_first_period(project: Project) -> None:
    got = project.query(
        "SELECT order_date.year, cumulative_revenue WHERE order_date >= DATE '1995-01-01' "
        "ORDER BY 1"
    )
    expected = project.engine.connection.execute(
        """
        WITH y AS (SELECT date_trunc('year', o_orderdate)::DATE AS year,
                          sum(l_extendedprice * (1 - l_discount)) AS revenue
                   FROM lineitem JOIN orders ON l_orderkey = o_orderkey GROUP BY 1),
        c AS (SELECT year, sum(revenue) OVER (ORDER BY year) AS running FROM y)
        SELECT * FROM c WHERE year >= DATE '1995-01-01' ORDER BY 1"""
    ).fetchall()
    assert len(expected) == 4
    assert_same_rows([tuple(r.values()) for r in got.to_pylist()], expected)


def test_growth_against_last_year_by_year_and_region(project: Project) -> None:
    got = project.query(
        "SELECT order_date.year, customer_region, revenue_growth "
        "WHERE customer_region IN ('ASIA', 'EUROPE') ORDER BY 1, 2"
    )
    expected = project.engine.connection.execute(
        """
        WITH y AS (
            SELECT date_trunc('year', o_orderdate)::DATE AS year, r_name,
                   sum(l_extendedprice * (1 - l_discount)) AS revenue
            FROM lineitem JOIN orders ON l_orderkey = o_orderkey
            JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey
            JOIN region ON n_regionkey = r_regionkey
            WHERE r_name IN ('ASIA', 'EUROPE') GROUP BY 1, 2)
        SELECT cur.year, cur.r_name, (cur.revenue - prev.revenue) / prev.revenue
        FROM y cur LEFT JOIN y prev
          ON prev.year = cur.year - INTERVAL 1 YEAR AND prev.r_name = cur.r_name
        ORDER BY 1, 2"""
    ).fetchall()
    assert len(expected) == 14 and expected[0][2] is None  # 1992 has no previous year
    assert_same_rows([tuple(r.values()) for r in got.to_pylist()], expected)


def test_fiscal_year_starts_in_april(project: Project) -> None:
    got = project.query("SELECT order_date.fiscal_year, order_count ORDER BY 1")
    expected = project.engine.connection.execute(
        "SELECT (date_trunc('year', o_orderdate - INTERVAL 3 MONTH) + INTERVAL 3 MONTH)::DATE, "
        "count(*) FROM orders GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert expected[0][0] == date(1991, 4, 1)
    assert_same_rows([tuple(r.values()) for r in got.to_pylist()], expected)
    quarters = project.query(
        "SELECT order_date.fiscal_quarter, order_count WHERE order_date < DATE '1992-07-01' "
        "ORDER BY 1"
    ).to_pylist()
    # fiscal quarters from April: January to March 1992 and April to June 1992
    assert [r["order_date.fiscal_quarter"] for r in quarters] == [
        date(1992, 1, 1),
        date(1992, 4, 1),
    ]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("SELECT revenue_last_3_months", "the query must group by it"),
        ("SELECT order_date.year, revenue_last_3_months", "does not line up with periods"),
        ("SELECT order_date.week, revenue_previous_year", "does not land on"),
    ],
)
def test_time_metric_errors(project: Project, query: str, fragment: str) -> None:
    with pytest.raises(SemanticError) as caught:
        project.compile(query)
    (d,) = caught.value.diagnostics
    assert d.code == "SEM314" and fragment in d.message


def test_window_of_a_ratio_is_refused(tmp_path: Path) -> None:
    # a window computes one metric over the rows of several periods: a ratio of two has no
    # rows of its own (window the parts, then divide)
    glossary = GAPS_GLOSSARY + (
        "  per_sale: {label: {en: Per sale}, metric: {expr: revenue / sale_count}}\n"
        "  trailing_ratio:\n    label: {en: Trailing ratio}\n"
        "    metric: {expr: per_sale, window: {time: day, last: 2, grain: month}}\n"
    )
    write_project(tmp_path, {"models/m.yml": GAPS_MODEL, "glossary/g.yml": glossary})
    errors = [d for d in Project.inspect(tmp_path)[1] if d.severity == "error"]
    assert [d.code for d in errors] == ["SEM208"]
    assert "must name one metric with an entity" in errors[0].message


def test_window_of_an_average_is_the_average_of_its_rows(tmp_path: Path) -> None:
    glossary = GAPS_GLOSSARY + (
        "  avg_amount: {label: {en: Avg}, metric: {entity: sales, expr: avg(amount)}}\n"
        "  trailing_avg:\n    label: {en: Trailing avg}\n"
        "    metric: {expr: avg_amount, window: {time: day, last: 2, grain: month}}\n"
    )
    write_project(tmp_path, {"models/m.yml": GAPS_MODEL, "glossary/g.yml": glossary})
    write_data(
        tmp_path,
        {
            "sales": "SELECT id, day::DATE AS day, shop, amount FROM (VALUES "
            "(1, '2025-11-30', 'A', 10), (2, '2025-12-01', 'A', 20), (3, '2025-12-31', 'A', 60))"
            " t(id, day, shop, amount)"
        },
    )
    rows = Project.load(tmp_path).query("SELECT day.month, trailing_avg ORDER BY 1").to_pylist()
    # December's window holds the three sales: 30, not the mean of the months' means (25)
    assert [tuple(r.values()) for r in rows] == [(date(2025, 11, 1), 10), (date(2025, 12, 1), 30)]


def test_explain_tells_windows_shifts_and_periods(project: Project) -> None:
    text = project.explain(
        "SELECT order_date.month, revenue_last_3_months, revenue_growth "
        "WHERE order_date >= DATE '1994-01-01'"
    )
    lines = text.splitlines()
    assert lines[0] == "result: one row per order_date.month"
    assert lines[3:] == [
        "revenue_last_3_months: sum of (net_revenue) over the periods after "
        'CAST("order_date.month" - INTERVAL 3 MONTH AS DATE) to order_date.month',
        "revenue_previous_year: (net_revenue) of the period "
        'CAST("order_date.month" - INTERVAL 1 YEAR AS DATE), by order_date.month',
        "periods shown: \"order_date.month\" >= CAST('1994-01-01' AS DATE)",
    ]
