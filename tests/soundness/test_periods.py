"""Windows and shifts across empty periods and boundaries, worked out by hand.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

from datetime import date

import pytest

from semantic.project import Project
from tests.projects import SALES_MODEL, write_data, write_project

GAPS_MODEL = SALES_MODEL

GAPS_GLOSSARY = """
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
    write_project(root, {"models/m.yml": GAPS_MODEL, "glossary/g.yml": GAPS_GLOSSARY})
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
