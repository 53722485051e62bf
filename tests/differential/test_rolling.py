"""Differential property test of windows per day (`rolling: day`): hypothesis writes one or
two window metrics (`last` N days, weeks, months or quarters, to date of a week, month,
quarter, year or fiscal period, or a running total; each `period_value`, or the default),
a sales table with gaps (days without rows, rows on month ends such as 29 February and
31 January, NULL days, shops and amounts) and a query by day, week, month, quarter or year,
maybe by shop, maybe filtered on the rows or on the periods shown. The compiled query runs
on DuckDB, SQLite and PostgreSQL (each holding the generated rows), and its rows are
compared with `rolling_reference`, which walks the days one by one in Python.

Examples per engine (tests/budget.py), derandomized: DuckDB 40 in `make test`, 150 in
`make test-all` (SEMANTIC_DIFFERENTIAL_ROLLING); SQLite 10 and 60
(SEMANTIC_DIFFERENTIAL_SQLITE_ROLLING); PostgreSQL 10 and 60
(SEMANTIC_DIFFERENTIAL_POSTGRES_ROLLING; skipped without the service, see tests/services.py).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, cast

import duckdb
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from semantic import Project
from semantic.errors import SemanticError
from tests.budget import examples
from tests.compare import same_value
from tests.differential.reference import truncate
from tests.differential.rolling_reference import (
    BASES,
    Rolled,
    RollingQuery,
    Sale,
    before,
    evaluate,
)
from tests.projects import SALES_MODEL, write_data, write_project

BUDGETS = {
    "duckdb": examples(full=150, fast=40, variable="SEMANTIC_DIFFERENTIAL_ROLLING"),
    "sqlite": examples(full=60, fast=10, variable="SEMANTIC_DIFFERENTIAL_SQLITE_ROLLING"),
    "postgres": examples(full=60, fast=10, variable="SEMANTIC_DIFFERENTIAL_POSTGRES_ROLLING"),
}

MODEL = SALES_MODEL

GLOSSARY = """\
domain: d
terms:
  day: {label: {en: Day}, time_dimension: {entity: sales, expr: day}}
  shop: {label: {en: Shop}, dimension: {entity: sales, expr: shop}}
  amount: {label: {en: Amount}, dimension: {entity: sales, expr: amount}}
  revenue: {label: {en: Revenue}, metric: {entity: sales, expr: sum(amount)}}
  sale_count: {label: {en: Sales}, metric: {entity: sales, expr: count(*)}}
"""

COLUMNS = "id INTEGER, day DATE, shop VARCHAR, amount INTEGER"


# --- the engines, each holding the example's rows -------------------------------------------


class Target:
    """An engine: its dialect, how to replace the sales rows, how to run SQL."""

    def __init__(
        self,
        dialect: str,
        load: Callable[[Sequence[Sale]], None],
        run: Callable[[str], list[tuple[Any, ...]]],
    ) -> None:
        self.dialect = dialect
        self.load = load
        self.run = run

    def __repr__(self) -> str:
        return f"Target({self.dialect})"


def _duckdb() -> Iterator[Target]:
    with closing(duckdb.connect()) as con:

        def load(sales: Sequence[Sale]) -> None:
            con.execute(f"CREATE OR REPLACE TABLE sales ({COLUMNS})")
            if sales:
                con.executemany("INSERT INTO sales VALUES (?, ?, ?, ?)", list(sales))

        yield Target("duckdb", load, lambda sql: [tuple(r) for r in con.execute(sql).fetchall()])


def _sqlite() -> Iterator[Target]:
    """Days as ISO text, as tests/sqlite_db.py copies them (SQLite has no DATE)."""
    with closing(sqlite3.connect(":memory:")) as con:
        con.execute("CREATE TABLE sales (id, day, shop, amount)")

        def load(sales: Sequence[Sale]) -> None:
            con.execute("DELETE FROM sales")
            con.executemany(
                "INSERT INTO sales VALUES (?, ?, ?, ?)",
                [(i, None if d is None else d.isoformat(), s, a) for i, d, s, a in sales],
            )

        yield Target("sqlite", load, lambda sql: [tuple(r) for r in con.execute(sql).fetchall()])


def _postgres(url: str) -> Iterator[Target]:
    import psycopg  # only when PostgreSQL runs

    schema = f"rolling_{uuid.uuid4().hex[:12]}"  # the test database is shared
    with closing(psycopg.connect(url, autocommit=True)) as con:
        con.execute(f"CREATE SCHEMA {schema}")
        try:
            con.execute(f"SET search_path TO {schema}")
            con.execute(f"CREATE TABLE sales ({COLUMNS})")

            def load(sales: Sequence[Sale]) -> None:
                con.execute("TRUNCATE sales")
                with con.cursor() as cursor:
                    cursor.executemany("INSERT INTO sales VALUES (%s, %s, %s, %s)", list(sales))

            yield Target(
                "postgres", load, lambda sql: [tuple(r) for r in con.execute(sql).fetchall()]
            )
        finally:
            con.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(scope="module")
def duckdb_target() -> Iterator[Target]:
    yield from _duckdb()


@pytest.fixture(scope="module")
def sqlite_target() -> Iterator[Target]:
    yield from _sqlite()


@pytest.fixture(scope="module")
def postgres_target(postgres_url: str) -> Iterator[Target]:
    yield from _postgres(postgres_url)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's folder; each example writes its glossary and configuration."""
    root = tmp_path_factory.mktemp("rolling")
    write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY})
    write_data(
        root, {"sales": "SELECT 1 AS id, DATE '2024-01-01' AS day, 'A' AS shop, 1 AS amount"}
    )
    return root


# --- the examples ---------------------------------------------------------------------------

FIRST, LAST = dt.date(2023, 1, 1), dt.date(2025, 3, 31)

#: month ends and starts, leap days, quarter and year turns: where windows of months clamp
ANCHORS = tuple(
    sorted(
        {
            day + dt.timedelta(days=k)
            for year in (2023, 2024)
            for month in range(1, 13)
            for day in [dt.date(year, month, 1)]
            for k in (-3, -2, -1, 0, 1)
        }
        | {dt.date(2024, 2, 29), dt.date(2025, 2, 28), dt.date(2025, 3, 1), dt.date(2025, 3, 31)}
    )
)

days = st.one_of(
    st.sampled_from(ANCHORS),
    st.dates(dt.date(2023, 11, 1), dt.date(2024, 7, 31)),  # one busy stretch, with gaps
    st.dates(FIRST, LAST),
)


@st.composite
def sales_tables(draw: st.DrawFn) -> list[Sale]:
    count = draw(st.integers(1, 14))
    rows: list[Sale] = []
    for i in range(count):
        dated = [r[1] for r in rows if r[1] is not None]
        how = draw(st.integers(0, 9))
        day: dt.date | None
        if how == 0:
            day = None
        elif how <= 4 and dated:
            # on the edge of an earlier row's window: a few days, weeks or months (clamped
            # to the month's end, as the windows are) before or after it
            grain = draw(st.sampled_from(["day", "week", "month", "quarter"]))
            count_back = draw(st.sampled_from([-3, -2, -1, 1, 2, 3]))
            day = before(draw(st.sampled_from(dated)), count_back, grain)
        else:
            day = draw(days)
        shop = draw(st.sampled_from(["A", "A", "B", "B", None]))
        amount = draw(
            st.sampled_from([None]) if draw(st.integers(0, 9)) == 0 else st.integers(-5, 60)
        )
        rows.append((i + 1, day, shop, amount))
    return rows


@st.composite
def windows(draw: st.DrawFn, name: str) -> Rolled:
    base = draw(st.sampled_from(sorted(BASES)))
    value = draw(st.sampled_from([None, "first", "last", "average"]))
    kind = draw(st.sampled_from(["last", "last", "to_date", "running"]))
    if kind == "last":
        grain = draw(st.sampled_from(["day", "week", "month", "quarter"]))
        if grain == "day":
            last = draw(st.sampled_from([1, 2, 7, 28, 29, 30, 31, 45]))
        else:
            last = draw(st.integers(1, 3))
        return Rolled(name, base, last=last, grain=grain, period_value=value)
    if kind == "to_date":
        grain = draw(
            st.sampled_from(["week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year"])
        )
        return Rolled(name, base, to_date=grain, period_value=value)
    return Rolled(name, base, period_value=value)


#: conditions on the rows: (query text, the same as a Python predicate of a sale)
ROW_CONDITIONS: tuple[tuple[str, Callable[[Sale], bool]], ...] = (
    ("shop = 'A'", lambda s: s[2] == "A"),
    ("NOT shop = 'A'", lambda s: s[2] is not None and s[2] != "A"),
    ("shop IS NOT NULL", lambda s: s[2] is not None),
    ("amount > 10", lambda s: s[3] is not None and s[3] > 10),
    ("amount <= 30", lambda s: s[3] is not None and s[3] <= 30),
    ("amount IS NULL", lambda s: s[3] is None),
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[RollingQuery, list[Sale], int]:
    sales = draw(sales_tables())
    grain = draw(st.sampled_from(["day", "week", "month", "month", "quarter", "year"]))
    rolled = [draw(windows("w1"))]
    if draw(st.booleans()):
        rolled.append(draw(windows("w2")))
    bases = tuple(b for b in sorted(BASES) if draw(st.integers(0, 3)) == 0)
    conditions = tuple(
        draw(st.lists(st.sampled_from(ROW_CONDITIONS), max_size=2, unique_by=lambda c: c[0]))
    )
    period: tuple[str, Callable[[dt.date], bool]] | None = None
    if draw(st.integers(0, 3)) == 0:
        # a period's first day: the condition picks whole periods, the windows still see
        # the days before it
        edge = truncate(draw(days), grain)
        if draw(st.booleans()):
            period = (f"day >= DATE '{edge}'", lambda p: p >= edge)
        else:
            period = (f"day < DATE '{edge}'", lambda p: p < edge)
    query = RollingQuery(grain, draw(st.booleans()), bases, tuple(rolled), conditions, period)
    fiscal_start = draw(st.sampled_from([1, 2, 4, 7, 11]))
    return query, sales, fiscal_start


def project_for(root: Path, query: RollingQuery, fiscal_start: int) -> Project:
    (root / "semantic.yml").write_text(
        f"name: tiny\nfiscal_year_start: {fiscal_start}\ndata:\n  dir: data\n"
    )
    terms = "".join(w.yaml() for w in query.windows)
    (root / "glossary" / "g.yml").write_text(GLOSSARY + terms)
    return Project.load(root)


# --- comparing ------------------------------------------------------------------------------


def _key(value: Any) -> str:
    """A group's cell as text: dates as ISO text (SQLite's), NULL first."""
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def assert_same(query: RollingQuery, got: list[tuple], want: list[tuple]) -> None:
    keys = 2 if query.by_shop else 1
    got = sorted(got, key=lambda r: [_key(v) for v in r[:keys]])
    want = sorted(want, key=lambda r: [_key(v) for v in r[:keys]])
    assert [[_key(v) for v in r[:keys]] for r in got] == [
        [_key(v) for v in r[:keys]] for r in want
    ], f"groups differ\n got {got}\nwant {want}"
    for g, w in zip(got, want, strict=True):
        assert len(g) == len(w), f"{g} has not the columns of {w}"
        for a, b in zip(g[keys:], w[keys:], strict=True):
            assert same_value(a, b), f"{a!r} != {b!r}\n got {g}\nwant {w}"


def agrees(target: Target, root: Path, case: tuple[RollingQuery, list[Sale], int]) -> None:
    """The compiled query's rows on `target`, holding the example's sales, are the
    reference's."""
    query, sales, fiscal_start = case
    note(f"query: {query.text}\nwindows: {[w.yaml() for w in query.windows]}")
    note(f"sales: {sales}\nfiscal_year_start: {fiscal_start}")
    project = project_for(root, query, fiscal_start)
    try:
        sql = project.compile(query.text, target.dialect, pretty=False)
    except SemanticError as exc:
        pytest.fail(f"{query.text}\nrefused: {exc}", pytrace=False)
    note(f"{target.dialect} SQL: {sql}")
    target.load(sales)
    assert_same(query, target.run(sql), evaluate(query, sales, fiscal_start))


def settings_for(engine: str) -> Callable[[Any], Any]:
    return settings(
        max_examples=BUDGETS[engine],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@settings_for("duckdb")
@given(case=cases())
def test_duckdb_rolled_windows_agree_with_the_reference(
    duckdb_target: Target, root: Path, case: tuple[RollingQuery, list[Sale], int]
) -> None:
    agrees(duckdb_target, root, case)


@settings_for("sqlite")
@given(case=cases())
def test_sqlite_rolled_windows_agree_with_the_reference(
    sqlite_target: Target, root: Path, case: tuple[RollingQuery, list[Sale], int]
) -> None:
    agrees(sqlite_target, root, case)


@settings_for("postgres")
@given(case=cases())
def test_postgres_rolled_windows_agree_with_the_reference(
    postgres_target: Target, root: Path, case: tuple[RollingQuery, list[Sale], int]
) -> None:
    agrees(postgres_target, root, case)


# --- the reference, on numbers worked out by hand --------------------------------------------


def test_the_reference_gives_the_numbers_worked_out_by_hand() -> None:
    """The sales and the numbers of tests/soundness/test_rolling_windows.py (worked out
    there by hand): the reference reads the definition as they do."""
    from tests.soundness.test_rolling_windows import (
        AVERAGE_BY_MONTH,
        FIRST_BY_MONTH,
        LAST_BY_MONTH,
        TABLES,
    )

    sales = [cast(Sale, tuple(row)) for row in TABLES["sales"][1]]
    by_month: dict[str, list[tuple[dt.date, Any]]] = {
        "first": FIRST_BY_MONTH,
        "last": LAST_BY_MONTH,
        "average": AVERAGE_BY_MONTH,
    }
    for value, expected in by_month.items():
        month = Rolled("w", "revenue", last=1, grain="month", period_value=value)
        rows = evaluate(RollingQuery("month", False, (), (month,)), sales)
        got = sorted((p, round(v, 6) if isinstance(v, float) else v) for p, v in rows)
        assert got == [(p, float(v) if value == "average" else v) for p, v in expected]
    quarter = Rolled("w", "revenue", last=1, grain="month", period_value="average")
    rows = evaluate(RollingQuery("quarter", False, (), (quarter,)), sales)
    assert sorted((p, round(v, 6)) for p, v in rows) == [
        (dt.date(2024, 1, 1), 27.818182),
        (dt.date(2024, 4, 1), 7.065574),
    ]


def test_a_year_by_day_on_postgres_plans_small(postgres_target: Target, root: Path) -> None:
    """The days of a year, doubled nine times, once took PostgreSQL 25 seconds to compile
    (JIT) for one query: each doubling repeated the day before it twice, and PostgreSQL
    inlined the subqueries into one expression of 512 copies. Its plan then printed 350,000
    characters (EXPLAIN VERBOSE); each doubling as a CTE of its own, 14,000. The size of the
    plan is measured, not the time (timings are for bench/)."""
    window = Rolled("w1", "revenue", last=2, grain="month", period_value="average")
    query = RollingQuery("year", True, ("revenue",), (window,))
    sql = project_for(root, query, 1).compile(query.text, "postgres", pretty=False)
    postgres_target.load([(1, dt.date(2024, 2, 29), "A", 3), (2, dt.date(2023, 1, 31), "B", 4)])
    [(plan,)] = postgres_target.run("EXPLAIN (VERBOSE, FORMAT JSON) " + sql)
    assert len(str(plan)) < 50_000, len(str(plan))
    rows = postgres_target.run(sql)
    assert_same(
        query, rows, [(dt.date(2024, 1, 1), "A", 3, 3.0), (dt.date(2023, 1, 1), "B", 4, 4.0)]
    )
