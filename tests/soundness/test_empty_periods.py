"""Empty periods (`all_periods(day.month)`, a date spine): every period from the first the
query's conditions allow (else the first with rows) to the last, a period without rows
showing what a group without rows shows (NULL for a sum without fill_null, 0 for a count),
each combination of the other dimensions that has rows getting every period, windows
carried through the empty periods. Compared with hand-written SQL (a recursive series of
months left-joined to the totals) on every engine, and on generated rows on DuckDB.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic.errors import SemanticError
from semantic.project import Project
from tests.projects import SALES_MODEL
from tests.tiny_engines import (
    ENGINES,
    Engine,
    Table,
    check_rows,
    engine_fixture,
    normal_rows,
    tiny_project,
)

GLOSSARY = """
domain: d
terms:
  day: {label: {en: Day}, time_dimension: {entity: sales, expr: day}}
  shop: {label: {en: Shop}, dimension: {entity: sales, expr: shop}}
  revenue: {label: {en: Revenue}, metric: {entity: sales, expr: sum(amount)}}
  filled_revenue:
    label: {en: Revenue or 0}
    metric: {entity: sales, expr: sum(amount), fill_null: 0}
  sale_count: {label: {en: Sales}, metric: {entity: sales, expr: count(*)}}
  running_revenue:
    label: {en: Running revenue}
    metric: {expr: filled_revenue, window: {time: day}}
  revenue_last_month:
    label: {en: Revenue a month earlier}
    metric: {expr: filled_revenue, shift: {time: day, periods: 1, grain: month}}
"""

D = dt.date
#: no sale in March 2024; shop B sells in January and May only
TABLES: dict[str, Table] = {
    "sales": (
        (("id", "integer"), ("day", "date"), ("shop", "varchar"), ("amount", "integer")),
        (
            (1, D(2024, 1, 1), "A", 10),
            (2, D(2024, 1, 29), "B", 20),
            (3, D(2024, 2, 15), "A", 40),
            (4, D(2024, 4, 10), "A", None),
            (5, D(2024, 5, 31), "B", 11),
        ),
    ),
}


@pytest.fixture(scope="module")
def sales(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return tiny_project(tmp_path_factory.mktemp("spine"), SALES_MODEL, GLOSSARY, TABLES)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, sales: Project, tmp_path: Path) -> Iterator[Engine]:
    yield from engine_fixture(request, sales, TABLES, tmp_path)


def by_hand(engine: Engine, first: str | None = None, last: str | None = None) -> str:
    """Every month from `first` (else the first month with a sale) to `last` (else the
    last), left-joined to the month's revenue and count of sales."""
    month = engine.month("day")
    low = f"DATE '{first}'" if first else f"(SELECT MIN({month}) FROM sales)"
    high = f"DATE '{last}'" if last else f"(SELECT MAX({month}) FROM sales)"
    if engine.dialect == "sqlite":
        low, high = low.replace("DATE ", "date("), high.replace("DATE ", "date(")
        low = low + ")" if first else low
        high = high + ")" if last else high
    return f"""
    WITH RECURSIVE months AS (
      SELECT {low} AS m
      UNION ALL
      SELECT {engine.next_month("m")} FROM months WHERE {engine.next_month("m")} <= {high}
    ), totals AS (
      SELECT {month} AS m, SUM(amount) AS revenue, COUNT(*) AS n FROM sales GROUP BY 1
    )
    SELECT months.m, totals.revenue, COALESCE(totals.n, 0)
    FROM months LEFT JOIN totals ON totals.m = months.m
    """


def test_every_month_between_the_first_and_the_last(engine: Engine, sales: Project) -> None:
    check_rows(
        engine,
        sales,
        "SELECT all_periods(day.month), revenue, sale_count",
        by_hand(engine),
        [
            (D(2024, 1, 1), 30, 2),
            (D(2024, 2, 1), 40, 1),
            (D(2024, 3, 1), None, 0),
            (D(2024, 4, 1), None, 1),
            (D(2024, 5, 1), 11, 1),
        ],
    )


def test_the_conditions_bound_the_periods(engine: Engine, sales: Project) -> None:
    check_rows(
        engine,
        sales,
        "SELECT all_periods(day.month), revenue, sale_count "
        "WHERE day >= DATE '2023-12-01' AND day <= DATE '2024-03-31'",
        by_hand(engine, "2023-12-01", "2024-03-01").replace(
            "FROM sales GROUP BY", "FROM sales WHERE day <= DATE '2024-03-31' GROUP BY"
        )
        if engine.dialect != "sqlite"
        else by_hand(engine, "2023-12-01", "2024-03-01").replace(
            "FROM sales GROUP BY", "FROM sales WHERE day <= date('2024-03-31') GROUP BY"
        ),
        [
            (D(2023, 12, 1), None, 0),
            (D(2024, 1, 1), 30, 2),
            (D(2024, 2, 1), 40, 1),
            (D(2024, 3, 1), None, 0),
        ],
    )


def test_no_row_at_all_and_conditions_on_metrics(engine: Engine, sales: Project) -> None:
    """Found by tests/differential/test_constructs.py, and said in docs/query-language.md:
    without other dimensions, the periods the conditions bound are shown when no row at
    all meets them; a condition on a metric is read on the empty periods too."""
    since = "DATE '2024-06-01'" if engine.dialect != "sqlite" else "date('2024-06-01')"
    check_rows(
        engine,
        sales,
        "SELECT all_periods(day.month), revenue, sale_count "
        "WHERE day >= DATE '2024-06-01' AND day <= DATE '2024-08-31'",
        by_hand(engine, "2024-06-01", "2024-08-01").replace(
            "FROM sales GROUP BY", f"FROM sales WHERE day >= {since} GROUP BY"
        ),
        [(D(2024, 6, 1), None, 0), (D(2024, 7, 1), None, 0), (D(2024, 8, 1), None, 0)],
    )
    check_rows(
        engine,
        sales,
        "SELECT all_periods(day.month), revenue, sale_count HAVING sale_count < 1",
        by_hand(engine) + " WHERE COALESCE(totals.n, 0) < 1",
        [(D(2024, 3, 1), None, 0)],
    )


def test_ranks_over_every_period(engine: Engine, sales: Project) -> None:
    """Found by tests/differential/test_constructs.py: a rank beside `all_periods(...)`
    without an alias named the column `ALL_PERIODS(day.month)` and the engine refused the
    SQL (SEM404); partitioned by the term at its grain, it was refused as another cut of
    the time dimension (SEM358, naming an internal column). The empty periods are ranked
    as the others."""
    hand = by_hand(engine).replace("COALESCE(totals.n, 0)", "COALESCE(totals.n, 0) AS n")
    check_rows(
        engine,
        sales,
        "SELECT all_periods(day.month), sale_count, RANK() OVER (ORDER BY sale_count DESC) AS r",
        f"SELECT m, n, RANK() OVER (ORDER BY n DESC) FROM ({hand}) AS t",
        [
            (D(2024, 1, 1), 2, 1),
            (D(2024, 2, 1), 1, 2),
            (D(2024, 3, 1), 0, 5),
            (D(2024, 4, 1), 1, 2),
            (D(2024, 5, 1), 1, 2),
        ],
    )
    got = _rows(
        engine,
        sales,
        "SELECT all_periods(day.month), shop, sale_count, "
        "RANK() OVER (PARTITION BY day.month ORDER BY sale_count DESC) AS r QUALIFY r = 1",
    )
    months = [(1, "A", 1), (1, "B", 1), (2, "A", 1), (3, "A", 0), (3, "B", 0), (4, "A", 1)]
    expected = [(D(2024, m, 1), shop, n, 1) for m, shop, n in [*months, (5, "B", 1)]]
    assert got == sorted(normal_rows(expected), key=repr)


def _rows(engine: Engine, project: Project, text: str) -> list[tuple]:
    return sorted(normal_rows(engine.query(project, text)), key=repr)


def test_other_dimensions_windows_and_shifts(engine: Engine, sales: Project) -> None:
    got = _rows(engine, sales, "SELECT all_periods(day.month), shop, filled_revenue")
    months = [D(2024, m, 1) for m in range(1, 6)]
    a = {1: 10, 2: 40, 4: None}
    b = {1: 20, 5: 11}
    expected = [(m, "A", a.get(m.month, 0)) for m in months]
    expected += [(m, "B", b.get(m.month, 0)) for m in months]
    assert got == sorted(normal_rows(expected), key=repr)
    # the running total is carried through March; April's sum is NULL (a NULL amount)
    got = _rows(
        engine,
        sales,
        "SELECT all_periods(day.month), filled_revenue, running_revenue, revenue_last_month",
    )
    assert got == sorted(
        normal_rows(
            [
                (D(2024, 1, 1), 30, 30, 0),
                (D(2024, 2, 1), 40, 70, 30),
                (D(2024, 3, 1), 0, 70, 40),
                (D(2024, 4, 1), None, 70, 0),
                (D(2024, 5, 1), 11, 81, None),
            ]
        ),
        key=repr,
    )
    # a coarser grain of the same time dimension follows each period
    got = _rows(engine, sales, "SELECT day.quarter, all_periods(day.month), sale_count")
    assert got == sorted(
        normal_rows(
            [
                (D(2024, 1, 1), D(2024, 1, 1), 2),
                (D(2024, 1, 1), D(2024, 2, 1), 1),
                (D(2024, 1, 1), D(2024, 3, 1), 0),
                (D(2024, 4, 1), D(2024, 4, 1), 1),
                (D(2024, 4, 1), D(2024, 5, 1), 1),
            ]
        ),
        key=repr,
    )


def _series(first: dt.date, step: int, last: dt.date) -> list[dt.date]:
    days = []
    while first <= last:
        days.append(first)
        first += dt.timedelta(days=step)
    return days


def test_days_weeks_quarters_and_years(engine: Engine, sales: Project) -> None:
    """The other grains' series, each bounded by a condition or by the rows (weeks start on
    Monday: 1 January 2024 is one), counted by hand from TABLES."""
    sale_days = [row[1] for row in TABLES["sales"][1]]
    weeks = _series(D(2024, 1, 1), 7, D(2024, 5, 27))
    expected = [(w, sum(w <= d < w + dt.timedelta(days=7) for d in sale_days)) for w in weeks]
    got = _rows(engine, sales, "SELECT all_periods(day.week), sale_count")
    assert got == sorted(normal_rows(expected), key=repr)
    days = _series(D(2024, 1, 27), 1, D(2024, 2, 2))
    got = _rows(
        engine,
        sales,
        "SELECT all_periods(day.day), sale_count "
        "WHERE day >= DATE '2024-01-27' AND day <= DATE '2024-02-02'",
    )
    assert got == sorted(normal_rows([(d, int(d in sale_days)) for d in days]), key=repr)
    got = _rows(
        engine, sales, "SELECT all_periods(day.quarter), revenue WHERE day >= DATE '2023-05-01'"
    )
    quarters = [(D(2023, 4, 1), None), (D(2023, 7, 1), None), (D(2023, 10, 1), None)]
    quarters += [(D(2024, 1, 1), 70), (D(2024, 4, 1), 11)]
    assert got == sorted(normal_rows(quarters), key=repr)
    got = _rows(
        engine, sales, "SELECT all_periods(day.year), sale_count WHERE day >= DATE '2022-03-01'"
    )
    expected = [(D(2022, 1, 1), 0), (D(2023, 1, 1), 0), (D(2024, 1, 1), 5)]
    assert got == sorted(normal_rows(expected), key=repr)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT all_periods(shop), revenue",
        "SELECT all_periods(day), revenue",
        "SELECT day.month, revenue WHERE all_periods(day.month) > DATE '2024-01-01'",
        "SELECT all_periods(day.month), all_periods(day.year), revenue",
        "SELECT all_periods(day.month), day.week, revenue",
    ],
)
def test_misuse_is_refused(sales: Project, text: str) -> None:
    with pytest.raises(SemanticError) as caught:
        sales.compile(text)
    assert caught.value.code == "SEM358", text


def test_a_dialect_without_a_known_series_is_refused(sales: Project) -> None:
    with pytest.raises(SemanticError) as caught:
        sales.compile("SELECT all_periods(day.month), revenue", "tsql")
    assert caught.value.code == "SEM316"
    assert "SEQUENCE(" in sales.compile("SELECT all_periods(day.month), revenue", "spark")


# --- generated rows, DuckDB --------------------------------------------------------------

_sales = st.lists(
    st.tuples(
        st.integers(0, 400),  # days after 1 January 2024: months and weeks without a sale
        st.sampled_from(["A", "B"]),
        st.one_of(st.none(), st.integers(-5, 20)),
    ),
    min_size=1,
    max_size=10,
)

_GRAINS = {"week": "7 DAY", "month": "1 MONTH", "quarter": "3 MONTH"}


@pytest.fixture(scope="module")
def compiled(sales: Project) -> dict[str, str]:
    return {
        g: sales.compile(f"SELECT all_periods(day.{g}), shop, revenue, sale_count") for g in _GRAINS
    }


@settings(max_examples=30, deadline=None, derandomize=True)
@given(rows=_sales)
def test_generated_rows_match_hand_written_sql(compiled: dict[str, str], rows: list) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE sales (id INTEGER, day DATE, shop VARCHAR, amount INTEGER)")
    con.executemany(
        "INSERT INTO sales VALUES (?, ?, ?, ?)",
        [(i, D(2024, 1, 1) + dt.timedelta(days=d), s, a) for i, (d, s, a) in enumerate(rows)],
    )
    for grain, step in _GRAINS.items():
        period = f"CAST(date_trunc('{grain}', day) AS DATE)"
        hand = f"""
        WITH RECURSIVE p AS (
          SELECT MIN({period}) AS p, MAX({period}) AS last FROM sales
          UNION ALL SELECT CAST(p + INTERVAL {step} AS DATE), last FROM p
          WHERE CAST(p + INTERVAL {step} AS DATE) <= last
        ), t AS (
          SELECT {period} AS p, shop, SUM(amount) AS r, COUNT(*) AS n FROM sales GROUP BY 1, 2
        )
        SELECT p.p, s.shop, t.r, COALESCE(t.n, 0)
        FROM p CROSS JOIN (SELECT DISTINCT shop FROM sales) AS s
        LEFT JOIN t ON t.p = p.p AND t.shop = s.shop
        """
        got = sorted(normal_rows(con.execute(compiled[grain]).fetchall()), key=repr)
        expected = sorted(normal_rows(con.execute(hand).fetchall()), key=repr)
        assert got == expected, f"{grain}\n{rows}"


def test_explain_says_which_periods(sales: Project) -> None:
    from tests.cli_runner import run_cli

    result = run_cli(
        "explain",
        "SELECT all_periods(day.month), revenue WHERE day >= DATE '2023-11-15'",
        project=sales.root,
    )
    assert result.exit_code == 0, result.stderr
    assert "every month of day.month from 2023-11-01 to the last with rows" in result.stdout
