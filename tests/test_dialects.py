"""SQL dialects: every dialect compiles every query or refuses it clearly, golden SQL per
dialect, and the dialect-specific constructs (division, truncation, NULL order, LIMIT,
quoting) asserted on the SQL text and, for DuckDB and SQLite, by running it.

Golden files live in tests/fixtures/dialects/<dialect>/<query-id>.sql, one per TPC-H business
query of tests/fixtures/tpch/business-queries.yml. A change of the compiled SQL fails with a
unified diff; after checking the diff, regenerate them all with

    .venv/bin/pytest tests/test_dialects.py --update-goldens

(see docs/dialects.md).
"""

from __future__ import annotations

import datetime as dt
import difflib
import sqlite3

import pytest
from sqlglot import exp
from sqlglot.dialects.dialect import Dialects

from semantic.compiler.dialects import adapt
from semantic.errors import SemanticError
from semantic.files.atomic import write_atomically
from semantic.project import Project
from tests.compare import assert_same_rows
from tests.conftest import FIXTURES
from tests.test_docs import QUERY_DOCS, Block, blocks, params_of
from tests.test_tpch import QUERIES

GOLDENS = FIXTURES / "dialects"
#: dialects with golden files (the issue's list, then SQLite, which the tests run)
GOLDEN_DIALECTS = (
    "duckdb", "postgres", "snowflake", "bigquery", "spark", "databricks", "trino", "tsql",
    "mysql", "clickhouse", "oracle", "sqlite", "redshift",
)  # fmt: skip
ALL_DIALECTS = sorted(d.value for d in Dialects if d.value)


def documented_blocks() -> list[Block]:
    return [b for name in QUERY_DOCS for b in blocks(name) if b.tag == "sql"]


def documented_queries() -> list[str]:
    return [b.text for b in documented_blocks()]


# --- every dialect, every query ---------------------------------------------------------------


@pytest.mark.parametrize("dialect", ALL_DIALECTS)
def test_every_dialect_compiles_or_refuses_every_query(project: Project, dialect: str) -> None:
    texts = [t["en"] for t in QUERIES.values()] + documented_queries()
    compiled = 0
    for text in texts:
        try:
            sql = project.compile(text, dialect)
        except SemanticError as exc:
            (d,) = exc.diagnostics
            assert d.code in ("SEM316", "SEM317"), f"{dialect}: {d.render()}\n{text}"
            assert f"'{dialect}'" in d.message and d.hint
            continue
        assert sql.strip().upper().startswith(("SELECT", "WITH")), sql
        compiled += 1
    if dialect not in ("dax", "prql", "tableau"):
        assert compiled, f"{dialect} compiles nothing"


@pytest.mark.parametrize("dialect", ["dax", "prql", "tableau"])
def test_languages_that_are_not_sql_are_refused(project: Project, dialect: str) -> None:
    with pytest.raises(SemanticError) as caught:
        project.compile("SELECT order_count", dialect)
    assert caught.value.code == "SEM316"


# --- golden SQL -------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", GOLDEN_DIALECTS)
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_golden_sql(
    project: Project, request: pytest.FixtureRequest, dialect: str, name: str
) -> None:
    path = GOLDENS / dialect / f"{name}.sql"
    sql = project.compile(QUERIES[name]["en"], dialect) + "\n"
    if request.config.getoption("--update-goldens"):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, sql)
        return
    assert path.exists(), f"{path} is missing: run pytest {__file__} --update-goldens"
    expected = path.read_text()
    if sql != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            sql.splitlines(keepends=True),
            f"{path.relative_to(FIXTURES.parent.parent)} (golden)",
            "compiled now",
        )
        pytest.fail(
            "compiled SQL differs from the golden file (--update-goldens to accept):\n"
            + "".join(diff),
            pytrace=False,
        )


def test_every_golden_file_belongs_to_a_query() -> None:
    stale = [
        p
        for p in GOLDENS.rglob("*.sql")
        if p.parent.name not in GOLDEN_DIALECTS or p.stem not in QUERIES
    ]
    assert not stale, f"golden files of no query or dialect: {stale}"


# --- dialect constructs, on the SQL text ------------------------------------------------------

RATIO = "SELECT order_priority, order_count / line_count AS ratio ORDER BY order_priority"


@pytest.mark.parametrize(
    ("dialect", "division"),
    [
        ("duckdb", "COALESCE(orders_metrics.order_count, 0) / NULLIF("),
        ("postgres", "CAST(COALESCE(orders_metrics.order_count, 0) AS DOUBLE PRECISION) / NULLIF("),
        ("tsql", "CAST(COALESCE(orders_metrics.order_count, 0) AS FLOAT) / NULLIF("),
        ("trino", "CAST(COALESCE(orders_metrics.order_count, 0) AS DOUBLE) / NULLIF("),
        ("sqlite", "CAST(COALESCE(orders_metrics.order_count, 0) AS REAL) / COALESCE("),
        ("mysql", "CAST(COALESCE(orders_metrics.order_count, 0) AS DOUBLE) / COALESCE("),
        ("snowflake", "CAST(COALESCE(orders_metrics.order_count, 0) AS DOUBLE) / NULLIF("),
        ("druid", "CAST(COALESCE(orders_metrics.order_count, 0) AS DOUBLE) / NULLIF("),
        ("spark", "CAST(COALESCE(orders_metrics.order_count, 0) AS DOUBLE) / NULLIF("),
    ],
)
def test_division_is_true_division(project: Project, dialect: str, division: str) -> None:
    """Integer / integer truncates in PostgreSQL, T-SQL, Trino, SQLite, Druid and keeps 4 or 6
    decimals in MySQL and Snowflake: the dividend is cast to a floating type, as DuckDB's."""
    assert division in project.compile(RATIO, dialect)


GRAINS = ("day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year")


@pytest.mark.parametrize(
    ("dialect", "grain", "expected"),
    [
        ("tsql", "month", "DATETRUNC(MONTH, orders.o_orderdate)"),
        ("tsql", "week", "DATETRUNC(ISO_WEEK, orders.o_orderdate)"),
        ("tsql", "fiscal_year", "DATEADD(MONTH, 3, DATETRUNC(YEAR, DATEADD(MONTH, -3, "),
        ("oracle", "month", "TRUNC(orders.o_orderdate, 'MM')"),
        ("oracle", "week", "TRUNC(orders.o_orderdate, 'IW')"),
        ("oracle", "quarter", "TRUNC(orders.o_orderdate, 'Q')"),
        ("oracle", "fiscal_year", "ADD_MONTHS(TRUNC(ADD_MONTHS(orders.o_orderdate, -3), 'YYYY')"),
        ("spark", "quarter", "TRUNC(orders.o_orderdate, 'QUARTER')"),
        ("spark", "week", "TRUNC(orders.o_orderdate, 'WEEK')"),
        ("bigquery", "week", "DATE_TRUNC(orders.o_orderdate, ISOWEEK)"),
        ("clickhouse", "week", "toMonday(orders.o_orderdate)"),
        ("mysql", "week", "DATE_SUB(orders.o_orderdate, INTERVAL (WEEKDAY(orders.o_orderdate))"),
        ("postgres", "quarter", "DATE_TRUNC('QUARTER', orders.o_orderdate)"),
        ("snowflake", "fiscal_quarter", "DATE_TRUNC('QUARTER', DATEADD(MONTH, 3 * -1, "),
        ("sqlite", "year", "DATE(orders.o_orderdate, 'start of year')"),
        ("sqlite", "week", "DATE(orders.o_orderdate, '-6 days', 'weekday 1')"),
    ],
)
def test_date_truncation_per_dialect(
    project: Project, dialect: str, grain: str, expected: str
) -> None:
    sql = project.compile(f"SELECT order_date.{grain}, order_count", dialect, pretty=False)
    assert expected in sql
    assert "DATE_TRUNC('DAY'" not in sql and "'DAY')" not in sql


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("oracle", "TRUNC(d, 'DD')"),  # 'DAY' would be the start of the week
        ("teradata", "TRUNC(d, 'DD')"),
        ("spark", "CAST(d AS DATE)"),  # TRUNC(d, 'DAY') is NULL in Spark
        ("databricks", "CAST(d AS DATE)"),
        ("sqlite", "DATE(d)"),
        ("tsql", "DATETRUNC(DAY, d)"),
        ("postgres", "DATE_TRUNC('DAY', d)"),
    ],
)
def test_truncating_a_timestamp_to_a_day(dialect: str, expected: str) -> None:
    """A day grain truncates only timestamps (a DATE is its own day), hence not via a query."""
    tree = exp.DateTrunc(this=exp.column("d"), unit=exp.var("DAY"))
    assert adapt(tree, dialect).sql(dialect) == expected


@pytest.mark.parametrize("dialect", ["hive", "exasol", "drill", "dremio"])
def test_unknown_week_start_is_refused(project: Project, dialect: str) -> None:
    with pytest.raises(SemanticError) as caught:
        project.compile("SELECT order_date.week, order_count", dialect)
    assert caught.value.code == "SEM316" and "week" in caught.value.diagnostics[0].message
    project.compile("SELECT order_date.month, order_count", dialect)


@pytest.mark.parametrize(
    ("dialect", "order"),
    [
        ("duckdb", "ORDER BY order_priority ASC, ratio DESC"),
        ("postgres", "ORDER BY order_priority ASC, ratio DESC NULLS LAST"),
        ("oracle", 'ORDER BY "order_priority" ASC, "ratio" DESC NULLS LAST'),
        ("snowflake", 'ORDER BY "order_priority" ASC, "ratio" DESC NULLS LAST'),
        ("spark", "ORDER BY order_priority ASC NULLS LAST, ratio DESC"),
        ("sqlite", "ORDER BY order_priority ASC NULLS LAST, ratio DESC"),
        ("bigquery", "ORDER BY order_priority ASC NULLS LAST, ratio DESC"),
        ("tsql", "ORDER BY CASE WHEN keys.order_priority IS NULL THEN 1 ELSE 0 END, "),
        ("mysql", "ORDER BY CASE WHEN `keys`.order_priority IS NULL THEN 1 ELSE 0 END, "),
    ],
)
def test_nulls_sort_last_in_both_directions(project: Project, dialect: str, order: str) -> None:
    """DuckDB sorts NULLs last ascending and descending; each dialect is told so."""
    query = RATIO.replace("ORDER BY order_priority", "ORDER BY order_priority, ratio DESC")
    assert order in project.compile(query, dialect, pretty=False)


@pytest.mark.parametrize(
    ("dialect", "first_rows"),
    [
        ("duckdb", "LIMIT 3 OFFSET 2"),
        ("postgres", "LIMIT 3 OFFSET 2"),
        ("tsql", "OFFSET 2 ROWS FETCH FIRST 3 ROWS ONLY"),
        ("oracle", "OFFSET 2 ROWS FETCH FIRST 3 ROWS ONLY"),
        ("mysql", "LIMIT 3 OFFSET 2"),
    ],
)
def test_limit_offset_per_dialect(project: Project, dialect: str, first_rows: str) -> None:
    query = "SELECT order_priority, order_count ORDER BY 1 LIMIT 3 OFFSET 2"
    assert project.compile(query, dialect, pretty=False).endswith(first_rows)


def test_tsql_limit_is_top(project: Project) -> None:
    sql = project.compile("SELECT order_priority, order_count ORDER BY 1 LIMIT 3", "tsql")
    assert "SELECT\nTOP 3" in sql and "LIMIT" not in sql


ODD = (
    'SELECT order_priority AS "Priorité d\'expédition", order_count AS "say ""hi""", '
    'line_count AS "a]b", average_quantity AS Quantité, net_revenue AS Revenue '
    "ORDER BY Revenue DESC"
)


@pytest.mark.parametrize(
    ("dialect", "aliases"),
    [
        (
            "duckdb",
            ['"Priorité d\'expédition"', '"say ""hi"""', '"a]b"', "AS Revenue", '"Quantité"'],
        ),
        (
            "postgres",
            ['"Priorité d\'expédition"', '"say ""hi"""', '"a]b"', 'AS "Revenue"', '"Quantité"'],
        ),
        (
            "snowflake",
            ['"Priorité d\'expédition"', '"say ""hi"""', '"a]b"', 'AS "Revenue"', '"Quantité"'],
        ),
        (
            "oracle",
            ['"Priorité d\'expédition"', '"say ""hi"""', '"a]b"', 'AS "Revenue"', '"Quantité"'],
        ),
        ("tsql", ["[Priorité d'expédition]", '[say "hi"]', "[a]]b]", "AS Revenue", "[Quantité]"]),
        ("mysql", ["`Priorité d'expédition`", '`say "hi"`', "`a]b`", "AS Revenue", "`Quantité`"]),
        ("spark", ["`Priorité d'expédition`", "`Quantité`", "AS Revenue"]),
        ("trino", ['"Priorité d\'expédition"', '"Quantité"', "AS Revenue"]),
        (
            "bigquery",
            ["`Priorité d'expédition`", '`say "hi"`', "`a]b`", "AS Revenue", "`Quantité`"],
        ),
    ],
)
def test_odd_output_names_are_quoted(project: Project, dialect: str, aliases: list[str]) -> None:
    """Output names keep their spelling and case: Snowflake and Oracle would upper-case an
    unquoted `Revenue`, PostgreSQL lower-case it."""
    sql = project.compile(ODD, dialect, pretty=False)
    for alias in aliases:
        assert alias in sql
    if dialect in ("postgres", "snowflake", "oracle"):
        assert sql.count('"Revenue"') == 2  # the alias and the ORDER BY


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("postgres", "CAST(EXTRACT(QUARTER FROM orders.o_orderdate) AS BIGINT) AS q"),
        ("tsql", "DATEPART(QUARTER, orders.o_orderdate) AS q"),
        ("oracle", "TO_NUMBER(TO_CHAR(orders.o_orderdate, 'Q')) AS \"q\""),
        ("sqlite", "(CAST(STRFTIME('%m', orders.o_orderdate) AS INTEGER) + 2) / 3 AS q"),
        ("mysql", "QUARTER(orders.o_orderdate) AS q"),
    ],
)
def test_date_parts_per_dialect(project: Project, dialect: str, expected: str) -> None:
    sql = project.compile("SELECT quarter(order_date) AS q, order_count", dialect, pretty=False)
    assert expected in sql


@pytest.mark.parametrize(
    ("dialect", "dow"),
    [
        ("duckdb", "DAYOFWEEK(orders.o_orderdate)"),
        ("postgres", "EXTRACT(DOW FROM orders.o_orderdate)"),
        ("snowflake", "DAYOFWEEK(orders.o_orderdate)"),
        ("mysql", None),  # DAYOFWEEK is 1 = Sunday .. 7
        ("spark", None),
        ("bigquery", None),
        ("trino", None),  # day_of_week is ISO: 1 = Monday
        ("tsql", None),
    ],
)
def test_day_of_week_keeps_duckdbs_numbering(
    project: Project, dialect: str, dow: str | None
) -> None:
    query = "SELECT dayofweek(order_date) AS dow, order_count"
    if dow is None:
        with pytest.raises(SemanticError) as caught:
            project.compile(query, dialect)
        assert caught.value.code == "SEM316" and "day of the week" in str(caught.value)
    else:
        assert dow in project.compile(query, dialect, pretty=False)


@pytest.mark.parametrize(
    ("dialect", "average"),
    [
        ("duckdb", "AVG(lineitem.l_quantity)"),
        ("postgres", "CAST(AVG(lineitem.l_quantity) AS DOUBLE PRECISION)"),
        ("tsql", "AVG(CAST(lineitem.l_quantity AS FLOAT))"),
        ("redshift", "AVG(CAST(lineitem.l_quantity AS DOUBLE PRECISION))"),
    ],
)
def test_averages_are_not_integer_averages(project: Project, dialect: str, average: str) -> None:
    """T-SQL and Redshift average integers as integers (AVG of 1 and 2 is 1), PostgreSQL
    decimals as NUMERIC (exactly: its average is cast, not each row); DuckDB in DOUBLE."""
    assert average in project.compile("SELECT average_quantity", dialect, pretty=False)


def test_oracle_date_literals_do_not_depend_on_the_session(project: Project) -> None:
    """Oracle reads CAST('1995-03-15' AS DATE) with NLS_DATE_FORMAT (DD-MON-RR by default)."""
    sql = project.compile("SELECT order_count WHERE order_date < DATE '1995-03-15'", "oracle")
    assert "TO_DATE('1995-03-15', 'YYYY-MM-DD')" in sql and "CAST(" not in sql


# --- dialect constructs, run on DuckDB and SQLite ---------------------------------------------


@pytest.fixture(scope="module")
def sqlite_db(tpch_sqlite: sqlite3.Connection) -> sqlite3.Connection:
    return tpch_sqlite  # copied once per session (tests/conftest.py)


def duckdb_rows(project: Project, query: str) -> list[tuple[object, ...]]:
    rows = project.engine.connection.execute(project.compile(query, "duckdb")).fetchall()
    return [tuple(v.isoformat() if hasattr(v, "isoformat") else v for v in r) for r in rows]


RUN = [
    *(f"SELECT order_date.{g}, order_count, net_revenue ORDER BY 1" for g in GRAINS),
    RATIO,
    RATIO.replace("ORDER BY order_priority", "ORDER BY ratio DESC, order_priority"),
    ODD,
    "SELECT order_priority, order_count ORDER BY 1 LIMIT 3 OFFSET 2",
    "SELECT year(order_date) AS y, quarter(order_date) AS q, month(order_date) AS m, "
    "day(order_date) AS d, order_count ORDER BY 1, 2, 3, 4",
    # revenue_growth is NULL in the first year, which has no previous year: last both ways
    "SELECT order_date.year, revenue_growth ORDER BY revenue_growth",
    "SELECT order_date.year, revenue_growth ORDER BY revenue_growth DESC",
    "SELECT order_date.month AS month, net_revenue, revenue_last_3_months, "
    "revenue_year_to_date, revenue_previous_year, revenue_growth ORDER BY 1",
    "SELECT order_date.day, revenue_last_3_months, revenue_previous_year ORDER BY 1",
    "SELECT order_date.fiscal_quarter, revenue_previous_year ORDER BY 1",
]


@pytest.mark.parametrize("query", RUN)
def test_sqlite_gives_duckdb_rows(
    project: Project, sqlite_db: sqlite3.Connection, query: str
) -> None:
    got = sqlite_db.execute(project.compile(query, "sqlite")).fetchall()
    assert got
    assert_same_rows(got, duckdb_rows(project, query))


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_sqlite_runs_the_tpch_business_queries(
    project: Project, sqlite_db: sqlite3.Connection, name: str
) -> None:
    query = QUERIES[name]["en"]
    got = sqlite_db.execute(project.compile(query, "sqlite")).fetchall()
    assert got
    assert_same_rows(got, duckdb_rows(project, query))


@pytest.mark.parametrize("block", documented_blocks(), ids=lambda b: b.where)
def test_sqlite_runs_the_documented_queries(
    project: Project, sqlite_db: sqlite3.Connection, block: Block
) -> None:
    """Every query of README.md and docs/ (windows, shifts, filtered metrics, segments,
    semi-joins, parameters) gives on SQLite the rows it gives on DuckDB."""
    params = {
        k: v.isoformat() if isinstance(v, dt.date) else v for k, v in params_of(block).items()
    }
    got = sqlite_db.execute(project.compile(block.text, "sqlite"), params).fetchall()
    want = [
        tuple(v.isoformat() if isinstance(v, dt.date) else v for v in row.values())
        for row in project.query(block.text, params_of(block)).to_pylist()
    ]
    assert_same_rows(got, want, ordered="ORDER BY" in block.text.upper())
