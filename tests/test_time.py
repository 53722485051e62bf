"""Time: grains, fiscal years, windows (trailing, to date) and shifts, against hand SQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from semantic.errors import SemanticError
from semantic.project import Project
from tests.compare import assert_same_rows
from tests.projects import write_data, write_project

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
        ("SELECT order_date.year, revenue_last_3_months", "finer than the query's"),
        ("SELECT order_date.week, revenue_previous_year", "does not land on"),
    ],
)
def test_time_metric_errors(project: Project, query: str, fragment: str) -> None:
    with pytest.raises(SemanticError) as caught:
        project.compile(query)
    (d,) = caught.value.diagnostics
    assert d.code == "SEM314" and fragment in d.message


MODEL = """
entities:
  sales:
    primary_key: [id]
    columns:
      id: {type: integer}
      day: {type: date}
      shop: {type: varchar}
      amount: {type: integer}
"""

GLOSSARY = """
domain: d
terms:
  day: {label: {en: Day}, time_dimension: {entity: sales, expr: day}}
  shop: {label: {en: Shop}, dimension: {entity: sales, expr: shop}}
  revenue: {label: {en: Revenue}, metric: {entity: sales, expr: sum(amount)}}
  sale_count: {label: {en: Sales}, metric: {entity: sales, expr: count(*)}}
  trailing:
    label: {en: Trailing revenue}
    metric: {expr: revenue, window: {time: day, last: 2, grain: month}}
  last_month:
    label: {en: Last month}
    metric: {expr: revenue, shift: {time: day, periods: 1, grain: month}}
  last_month_count:
    label: {en: Sales last month}
    metric: {expr: sale_count, shift: {time: day, periods: 1, grain: month}}
"""


@pytest.fixture(scope="module")
def gaps(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Shop A sells in Nov 2025, Jan 2026 and Mar 2026 (not in Dec nor Feb); shop B in
    Dec 2025 only."""
    root = tmp_path_factory.mktemp("gaps")
    write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY})
    write_data(
        root,
        {
            "sales": "SELECT id, day::DATE AS day, shop, amount FROM (VALUES "
            "(1, '2025-11-30', 'A', 10), (2, '2026-01-01', 'A', 20), (3, '2026-01-31', 'A', 5), "
            "(4, '2026-03-01', 'A', 40), (5, '2025-12-15', 'B', 7)) t(id, day, shop, amount)"
        },
    )
    return Project.load(root)


def test_windows_and_shifts_across_empty_periods(gaps: Project) -> None:
    rows = gaps.query(
        "SELECT day.month, shop, revenue, trailing, last_month, last_month_count ORDER BY 2, 1"
    ).to_pylist()
    # A: Nov 10; Jan 25 (window Dec-Jan: Dec empty); Mar 40 (window Feb-Mar: Feb empty).
    # last month: Jan's is Dec (no sale: NULL revenue, 0 sales), Mar's is Feb (same).
    # A period with no sale has no row: December and February do not appear for A.
    assert [tuple(r.values()) for r in rows] == [
        (date(2025, 11, 1), "A", 10, 10, None, 0),
        (date(2026, 1, 1), "A", 25, 25, None, 0),
        (date(2026, 3, 1), "A", 40, 40, None, 0),
        (date(2025, 12, 1), "B", 7, 7, None, 0),
    ]


def test_period_filter_keeps_the_window_before_it(gaps: Project) -> None:
    # the filter picks January; its window (December and January) and its last month
    # (December) still see the sales before the filter
    rows = gaps.query(
        "SELECT day.month, revenue, trailing, last_month WHERE day >= DATE '2026-01-01' "
        "AND day < DATE '2026-02-01'"
    ).to_pylist()
    assert [tuple(r.values()) for r in rows] == [(date(2026, 1, 1), 25, 32, 7)]


def test_trailing_window_at_a_year_boundary(gaps: Project) -> None:
    rows = gaps.query("SELECT day.month, trailing ORDER BY 1").to_pylist()
    # Dec 2025: Nov 10 + Dec 7; Jan 2026: Dec 7 + Jan 25; Mar 2026: Feb 0 + Mar 40
    assert [tuple(r.values()) for r in rows] == [
        (date(2025, 11, 1), 10),
        (date(2025, 12, 1), 17),
        (date(2026, 1, 1), 32),
        (date(2026, 3, 1), 40),
    ]


def test_window_of_an_average_is_refused(tmp_path: Path) -> None:
    glossary = GLOSSARY + (
        "  avg_amount: {label: {en: Avg}, metric: {entity: sales, expr: avg(amount)}}\n"
        "  trailing_avg:\n    label: {en: Trailing avg}\n"
        "    metric: {expr: avg_amount, window: {time: day, last: 2, grain: month}}\n"
    )
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": glossary})
    errors = [d for d in Project.inspect(tmp_path)[1] if d.severity == "error"]
    assert [d.code for d in errors] == ["SEM208"]
    assert "must sum one metric that is a sum or a count" in errors[0].message
