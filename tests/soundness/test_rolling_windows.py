"""Windows per day (`rolling: day`, MetricFlow's cumulative metrics): each day's window
runs from after the same day a month earlier to the day; a period shows the window of its
first day, of its last day, or the average over its days, and a day whose window holds no
row has no value. Compared with hand-written SQL (a recursive spine of days joined to the
sales rows themselves, not to daily totals) and with numbers worked out by hand.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from semantic.errors import SemanticError
from semantic.project import Project
from tests.projects import SALES_MODEL
from tests.tiny_engines import ENGINES, Engine, Table, check_rows, engine_fixture, tiny_project

MODEL = SALES_MODEL

GLOSSARY = """
domain: d
terms:
  day: {label: {en: Day}, time_dimension: {entity: sales, expr: day}}
  shop: {label: {en: Shop}, dimension: {entity: sales, expr: shop}}
  revenue: {label: {en: Revenue}, metric: {entity: sales, expr: sum(amount)}}
  sale_count: {label: {en: Sales}, metric: {entity: sales, expr: count(*)}}
  shop_count: {label: {en: Shops}, metric: {entity: sales, expr: count(DISTINCT shop)}}
  month_first:
    label: {en: Month on the first day}
    metric:
      expr: revenue
      window: {time: day, last: 1, grain: month, rolling: day, period_value: first}
  month_last:
    label: {en: Month on the last day}
    metric:
      expr: revenue
      window: {time: day, last: 1, grain: month, rolling: day, period_value: last}
  month_average:
    label: {en: Month on average}
    metric:
      expr: revenue
      window: {time: day, last: 1, grain: month, rolling: day, period_value: average}
  count_first:
    label: {en: Sales in a month on the first day}
    metric:
      expr: sale_count
      window: {time: day, last: 1, grain: month, rolling: day, period_value: first}
  mtd_first:
    label: {en: Month to date on the first day}
    metric:
      expr: revenue
      window: {time: day, to_date: month, rolling: day, period_value: first}
  shops_rolled:
    label: {en: Shops in a month}
    metric:
      expr: shop_count
      window: {time: day, last: 1, grain: month, rolling: day}
"""

#: Jan 29 and 30 pin MetricFlow's boundary: 29 February's month starts after 29 January
TABLES: dict[str, Table] = {
    "sales": (
        (("id", "integer"), ("day", "date"), ("shop", "varchar"), ("amount", "integer")),
        (
            (1, dt.date(2024, 1, 1), "A", 10),
            (2, dt.date(2024, 1, 29), "A", 20),
            (3, dt.date(2024, 1, 30), "B", 5),
            (4, dt.date(2024, 2, 15), "A", 40),
            (5, dt.date(2024, 2, 29), "B", 7),
            (6, dt.date(2024, 4, 10), "A", 3),
            (7, dt.date(2024, 5, 31), "B", 11),
        ),
    ),
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return tiny_project(tmp_path_factory.mktemp("rolling"), MODEL, GLOSSARY, TABLES)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, shop: Project, tmp_path: Path) -> Iterator[Engine]:
    yield from engine_fixture(request, shop, TABLES, tmp_path)


def _shift(engine: Engine, expr: str, step: str) -> str:
    """`expr` moved by `step` ('+1 day', '-1 month', '+3 months'), as DuckDB moves it (a
    month back from 31 March is 29 February: SQLite's own modifier would roll over)."""
    count, unit = step.split()
    if engine.dialect != "sqlite":
        sign = "-" if count.startswith("-") else "+"
        return f"CAST({expr} {sign} INTERVAL '{count.lstrip('+-')} {unit}' AS DATE)"
    if not unit.startswith("month"):
        return f"date({expr}, '{step}')"
    months = int(count)
    day = f"(CAST(strftime('%d', {expr}) AS INTEGER) - 1)"
    moved = f"date({expr}, 'start of month', '{months:+d} months', '+' || {day} || ' days')"
    end = f"date({expr}, 'start of month', '{months + 1:+d} months', '-1 days')"
    return f"min({moved}, {end})"


def _start(engine: Engine, expr: str, grain: str) -> str:
    if engine.dialect == "sqlite":
        if grain == "quarter":
            back = f"((CAST(strftime('%m', {expr}) AS INTEGER) - 1) % 3)"
            return f"date({expr}, 'start of month', '-' || {back} || ' months')"
        return f"date({expr}, 'start of {grain}')"
    return f"CAST(date_trunc('{grain}', {expr}) AS DATE)"


def by_hand(
    engine: Engine,
    grain: str,
    value: str,
    *,
    where: str = "1 = 1",
    by_shop: bool = False,
    to_date: bool = False,
) -> str:
    """Each day of each period shown, its window's revenue from the sales rows, then the
    period's first, last or average day (days whose window has no sale left out)."""
    months = 3 if grain == "quarter" else 1
    shop_col = ", shop" if by_shop else ""
    same_shop = "AND s.shop = p.shop" if by_shop else ""
    if to_date:
        lower = f"s.day >= {_start(engine, 'd.d', 'month')}"
    else:
        lower = f"s.day > {_shift(engine, 'd.d', '-1 month')}"
    day_value = f"""
      SELECT d.period{", d.shop" if by_shop else ""}, d.d, SUM(s.amount) AS v
      FROM days AS d JOIN sales AS s ON s.day <= d.d AND {lower} AND {where}
        {same_shop.replace("p.", "d.")}
      GROUP BY d.period{", d.shop" if by_shop else ""}, d.d"""
    keys = "period" + shop_col
    if value == "average":
        pick = f"SELECT {keys}, ROUND(AVG(v), 6) FROM values_by_day GROUP BY {keys}"
    else:
        agg = "MIN" if value == "first" else "MAX"
        on = " AND ".join(f"v.{k.strip()} = e.{k.strip()}" for k in keys.split(","))
        pick = f"""
          SELECT v.{keys.replace(", ", ", v.")}, v.v FROM values_by_day AS v
          JOIN (SELECT {keys}, {agg}(d) AS d FROM values_by_day GROUP BY {keys}) AS e
            ON {on} AND v.d = e.d"""
    return f"""
    WITH RECURSIVE periods AS (
      SELECT DISTINCT {_start(engine, "day", grain)} AS period{shop_col}
      FROM sales AS s WHERE {where}
    ), days AS (
      SELECT period{shop_col}, period AS d FROM periods
      UNION ALL
      SELECT period{shop_col}, {_shift(engine, "d", "+1 day")} FROM days
      WHERE {_shift(engine, "d", "+1 day")} < {_shift(engine, "period", f"+{months} month")}
    ), values_by_day AS ({day_value})
    {pick}
    """


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# by hand: Jan 1's month (1 Dec, 1 Jan] holds 10; Jan 31's (31 Dec, 31 Jan] 35. Feb 1's
# (1 Jan, 1 Feb] 25; Feb 29's (29 Jan, 29 Feb] 5 + 40 + 7 = 52 (29 January is out). April
# 1-9 have no sale in their month: April's first value is on the 10th, 3. May 1-9 see
# April 10th (3); May 10-30 nothing; May 31 11.
FIRST_BY_MONTH = [
    (_d("2024-01-01"), 10),
    (_d("2024-02-01"), 25),
    (_d("2024-04-01"), 3),
    (_d("2024-05-01"), 3),
]
LAST_BY_MONTH = [
    (_d("2024-01-01"), 35),
    (_d("2024-02-01"), 52),
    (_d("2024-04-01"), 3),
    (_d("2024-05-01"), 11),
]
# January: 28 days of 10, 29th 30, 30th and 31st 35: 380 / 31. February: 1-14 25, 15-28
# 65, 29th 52: 1312 / 29. April: 21 days of 3. May: 9 days of 3 and the 31st 11: 38 / 10
AVERAGE_BY_MONTH = [
    (_d("2024-01-01"), Decimal("12.258065")),
    (_d("2024-02-01"), Decimal("45.241379")),
    (_d("2024-04-01"), Decimal("3")),
    (_d("2024-05-01"), Decimal("3.8")),
]


@pytest.mark.parametrize(
    ("metric", "value", "expected"),
    [
        ("month_first", "first", FIRST_BY_MONTH),
        ("month_last", "last", LAST_BY_MONTH),
        ("round(month_average, 6)", "average", AVERAGE_BY_MONTH),
    ],
)
def test_by_month(engine: Engine, shop: Project, metric: str, value: str, expected: list) -> None:
    query = f"SELECT day.month, {metric}"
    check_rows(engine, shop, query, by_hand(engine, "month", value), expected)


def test_by_quarter(engine: Engine, shop: Project) -> None:
    # Q1: 1 January's month is 10; 29 to 31 March start after 29 February and hold
    # nothing, so the last value is 28 March's, (28 Feb, 28 Mar]: 7. Q2: 10 April's 3
    # first; every day of June still sees 31 May: 11 last. Average: Q1 is January's 380,
    # February's 1312 and March's 1-14 at 47 and 15-28 at 7 (756) over 88 days; Q2 is
    # April's 63 (21 days), May's 38 (10 days) and June's 30 days of 11, over 61 days
    check_rows(
        engine,
        shop,
        "SELECT day.quarter, month_first",
        by_hand(engine, "quarter", "first"),
        [(_d("2024-01-01"), 10), (_d("2024-04-01"), 3)],
    )
    check_rows(
        engine,
        shop,
        "SELECT day.quarter, month_last",
        by_hand(engine, "quarter", "last"),
        [(_d("2024-01-01"), 7), (_d("2024-04-01"), 11)],
    )
    check_rows(
        engine,
        shop,
        "SELECT day.quarter, round(month_average, 6)",
        by_hand(engine, "quarter", "average"),
        [(_d("2024-01-01"), Decimal("27.818182")), (_d("2024-04-01"), Decimal("7.065574"))],
    )


def test_with_a_filter_and_by_shop(engine: Engine, shop: Project) -> None:
    # shop A alone: February 1st's month (1 Jan, 1 Feb] holds 20; 29 February's 40
    check_rows(
        engine,
        shop,
        "SELECT day.month, month_first, month_last WHERE shop = 'A'",
        _first_last(engine, where="s.shop = 'A'"),
        [
            (_d("2024-01-01"), 10, 30),
            (_d("2024-02-01"), 20, 40),
            (_d("2024-04-01"), 3, 3),
        ],
    )
    check_rows(
        engine,
        shop,
        "SELECT day.month, shop, month_first",
        by_hand(engine, "month", "first", by_shop=True),
        [
            (_d("2024-01-01"), "A", 10),
            (_d("2024-01-01"), "B", 5),
            (_d("2024-02-01"), "A", 20),
            (_d("2024-02-01"), "B", 5),
            (_d("2024-04-01"), "A", 3),
            (_d("2024-05-01"), "B", 11),
        ],
    )


def _first_last(engine: Engine, where: str) -> str:
    first = by_hand(engine, "month", "first", where=where)
    last = by_hand(engine, "month", "last", where=where)
    return f"SELECT f.*, l.v FROM ({first}) AS f JOIN ({last}) AS l ON f.period = l.period"


def test_month_to_date_and_counts(engine: Engine, shop: Project) -> None:
    # to date: each day from the first of its month; February 1st has no sale (first value
    # on the 15th, 40); counts stay integers
    check_rows(
        engine,
        shop,
        "SELECT day.month, mtd_first",
        by_hand(engine, "month", "first", to_date=True),
        [
            (_d("2024-01-01"), 10),
            (_d("2024-02-01"), 40),
            (_d("2024-04-01"), 3),
            (_d("2024-05-01"), 11),
        ],
    )
    rows = engine.query(shop, "SELECT day.month, count_first ORDER BY 1")
    assert [(str(m)[:10], n) for m, n in rows] == [
        ("2024-01-01", 1),
        ("2024-02-01", 2),
        ("2024-04-01", 1),
        ("2024-05-01", 1),
    ]
    assert all(isinstance(n, int) for _, n in rows)


def test_a_metric_that_does_not_add_up_over_days_is_refused(shop: Project) -> None:
    with pytest.raises(SemanticError) as info:
        shop.compile("SELECT day.month, shops_rolled")
    assert info.value.diagnostics[0].code == "SEM253"
