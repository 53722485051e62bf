"""PostgreSQL and Spark for real: time windows, bound parameters, schema checks, quality,
publication, engine URLs and settings, and their errors."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from semantic.engines.base import Engine
from semantic.engines.connect import interpolate, open_engine
from semantic.engines.postgres import PostgresEngine, _positional
from semantic.engines.spark import SparkEngine
from semantic.errors import SemanticError
from semantic.outputs.quality import project_quality
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.compare import assert_same_rows
from tests.conftest import ROOT
from tests.projects import write_project
from tests.test_engines_tpch import as_doubles, inexact_columns, rows_of

ENGINES = ["postgres_engine", "spark_engine"]

#: glossary metrics over time (windows, to-date, shifts, running totals) and grains that
#: engines truncate differently (weeks, quarters, fiscal years)
TIME_QUERIES = [
    "SELECT order_date.month, net_revenue, revenue_last_3_months, revenue_year_to_date, "
    "revenue_previous_year WHERE order_date >= DATE '1993-11-01' "
    "AND order_date < DATE '1994-04-01' ORDER BY 1",
    "SELECT order_date.year, cumulative_revenue WHERE order_date >= DATE '1995-01-01' ORDER BY 1",
    "SELECT order_date.year, customer_region, net_revenue, revenue_previous_year ORDER BY 1, 2",
    "SELECT order_date.fiscal_year, order_date.fiscal_quarter, order_count ORDER BY 1, 2",
    "SELECT order_date.week, order_count WHERE order_date < DATE '1992-03-01' ORDER BY 1",
    "SELECT order_date.quarter, average_order_value, order_count ORDER BY 1",
]


def same_result(project: Project, engine: Engine, query: str, **params: object) -> None:
    reference = project.query(query, params)
    expected = rows_of(reference)
    got = rows_of(project.query(query, params, engine))
    assert_same_rows(as_doubles(got, expected, inexact_columns(reference)), expected)


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("query", TIME_QUERIES)
def test_time_windows_and_grains_give_duckdb_rows(
    project: Project, request: pytest.FixtureRequest, engine_name: str, query: str
) -> None:
    assert project.query(query).num_rows > 1
    same_result(project, request.getfixturevalue(engine_name), query)


# --- parameters ------------------------------------------------------------------------------

PARAM_QUERY = (
    "SELECT customer_region, order_count WHERE market_segment = $segment "
    "AND order_date >= $since ORDER BY 1"
)


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize(
    "segment", ["BUILDING", "BUILD'ING", "x' OR '1' = '1", "50%", "%(segment)s $1 :segment"]
)
def test_parameters_are_bound_not_pasted(
    project: Project, request: pytest.FixtureRequest, engine_name: str, segment: str
) -> None:
    """Values that would break or change the SQL if pasted into it find exactly the rows
    DuckDB finds: the matching segment, or none."""
    engine = request.getfixturevalue(engine_name)
    since = dt.date(1997, 1, 1)
    same_result(project, engine, PARAM_QUERY, segment=segment, since=since)
    got = project.query(PARAM_QUERY, {"segment": segment, "since": since}, engine)
    assert got.num_rows == (5 if segment == "BUILDING" else 0)


@pytest.mark.parametrize("engine_name", ENGINES)
def test_an_empty_result_has_duckdb_column_types(
    project: Project, request: pytest.FixtureRequest, engine_name: str
) -> None:
    """Text, dates and counts (averages are decimals on PostgreSQL and Spark, of a scale
    an empty PostgreSQL result does not tell)."""
    query = "SELECT customer_region, order_date.month, order_count WHERE market_segment = 'NONE'"
    got = project.query(query, engine=request.getfixturevalue(engine_name))
    assert got.num_rows == 0
    assert got.schema.types == project.query(query).schema.types


def test_postgres_placeholders_become_numbered_parameters() -> None:
    text, values = _positional(
        "SELECT a FROM t WHERE b LIKE 'x%' AND c = %(c)s AND d = %(d)s OR e = %(c)s",
        {"c": 1, "d": "it's"},
    )
    assert text == "SELECT a FROM t WHERE b LIKE 'x%' AND c = $1 AND d = $2 OR e = $1"
    assert values == [1, "it's"]


def test_like_patterns_next_to_parameters_on_postgres(
    project: Project, postgres_engine: PostgresEngine
) -> None:
    query = (
        "SELECT part_type, net_revenue WHERE part_type LIKE 'PROMO%' AND ship_mode = $mode "
        "ORDER BY 1 LIMIT 5"
    )
    same_result(project, postgres_engine, query, mode="AIR")


# --- checks of the data --------------------------------------------------------------------


@pytest.mark.parametrize("engine_name", ENGINES)
def test_check_data_finds_nothing_wrong(
    project: Project, request: pytest.FixtureRequest, engine_name: str
) -> None:
    assert project.check_data(request.getfixturevalue(engine_name)) == []


@pytest.mark.parametrize("engine_name", ENGINES)
def test_quality_gives_duckdb_scores(
    project: Project, request: pytest.FixtureRequest, engine_name: str
) -> None:
    expected = [(r.rule.id, r.rows, r.passing) for r in project_quality(project)]
    got = [
        (r.rule.id, r.rows, r.passing)
        for r in project_quality(project, request.getfixturevalue(engine_name))
    ]
    assert got == expected and len(got) >= 5


@pytest.fixture()
def scratch_schema(postgres_url: str, postgres_engine: PostgresEngine) -> Iterator[str]:
    """A PostgreSQL URL whose unqualified tables live in a fresh schema of their own."""
    postgres_engine.fetch("SELECT 1")
    with postgres_engine.connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS scratch CASCADE")
        cursor.execute("CREATE SCHEMA scratch")
    separator = "&" if "?" in postgres_url else "?"
    yield f"{postgres_url}{separator}options=-csearch_path%3Dscratch"
    with postgres_engine.connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA scratch CASCADE")


def test_check_schema_on_postgres_names_what_differs(project: Project, scratch_schema: str) -> None:
    engine = PostgresEngine(project.model, scratch_schema)
    try:
        assert {d.code for d in engine.check_schema()} == {"SEM401"}
        project.load_data(engine)
        assert engine.check_schema() == []
        with engine.connection.cursor() as cursor:
            cursor.execute("DROP TABLE region")
            cursor.execute("ALTER TABLE nation DROP COLUMN n_comment")
            cursor.execute("ALTER TABLE part ALTER COLUMN p_size TYPE text")
        found = {(d.code, d.message.split(" ")[1]) for d in engine.check_schema()}
        assert found == {
            ("SEM401", "'region'"),
            ("SEM402", "'n_comment'"),
            ("SEM403", "'part.p_size'"),
        }
    finally:
        engine.close()


def test_load_replaces_tables_in_one_transaction(project: Project, scratch_schema: str) -> None:
    engine = PostgresEngine(project.model, scratch_schema)
    try:
        loaded = dict(project.load_data(engine))
        counts = {t: engine.fetch(f"SELECT count(*) FROM {t}")[0][0] for t in loaded}
        assert counts == loaded and loaded["lineitem"] == 60175
        # loading again replaces the tables rather than adding rows
        assert dict(project.load_data(engine)) == loaded
        assert engine.fetch("SELECT count(*) FROM lineitem") == [(60175,)]
        types = dict(
            engine.fetch(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'scratch' AND table_name = 'orders'"
            )
        )
        assert types["o_totalprice"] == "numeric" and types["o_orderdate"] == "date"
        assert types["o_orderkey"] == "bigint" and types["o_shippriority"] == "integer"
    finally:
        engine.close()


# --- publication -----------------------------------------------------------------------------


def test_publish_on_postgres_is_all_or_nothing(postgres_engine: PostgresEngine) -> None:
    view = "CREATE OR REPLACE VIEW {name} AS SELECT count(*) AS n FROM orders"
    postgres_engine.publish(["DROP VIEW IF EXISTS published_a", "DROP VIEW IF EXISTS published_b"])
    with pytest.raises(Exception, match="nonexistent"):
        postgres_engine.publish(
            [
                view.format(name="published_a"),
                "CREATE VIEW published_b AS SELECT * FROM nonexistent",
            ]
        )
    exists = "SELECT count(*) FROM information_schema.views WHERE table_name = 'published_a'"
    assert postgres_engine.fetch(exists) == [(0,)]
    postgres_engine.publish([view.format(name="published_a")])
    assert postgres_engine.fetch("SELECT n FROM published_a") == [(15000,)]
    postgres_engine.publish(["DROP VIEW published_a"])


def test_publish_on_spark_is_refused(spark_engine: SparkEngine) -> None:
    with pytest.raises(SemanticError) as caught:
        spark_engine.publish(["CREATE VIEW v AS SELECT 1"])
    assert caught.value.code == "SEM414"


# --- engine errors -------------------------------------------------------------------------


@pytest.mark.parametrize("engine_name", ENGINES)
def test_a_query_the_engine_refuses_is_sem404(
    request: pytest.FixtureRequest, engine_name: str
) -> None:
    engine = request.getfixturevalue(engine_name)
    with pytest.raises(SemanticError) as caught:
        engine.execute("SELECT no_such_column FROM orders")
    assert caught.value.code == "SEM404"
    assert "could not run the query" in caught.value.diagnostics[0].message
    assert engine.fetch("SELECT count(*) FROM orders") == [(15000,)]  # still usable


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_server_down_is_sem411_without_the_password(project: Project) -> None:
    url = f"postgresql://ann:s3cret@127.0.0.1:{unused_port()}/sales"
    with pytest.raises(SemanticError) as caught:
        project.engine_for(url)
    assert caught.value.code == "SEM411"
    assert "s3cret" not in str(caught.value) and "ann:***@" in str(caught.value)


def test_wrong_password_is_sem411(postgres_url: str, project: Project) -> None:
    head, _, host = postgres_url.rpartition("@")
    user = head.split("//", 1)[1].split(":")[0]
    with pytest.raises(SemanticError) as caught:
        PostgresEngine(project.model, f"postgresql://{user}:wrong@{host}")
    assert caught.value.code == "SEM411"
    assert "password authentication failed" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("mysql://db/sales", "SEM410"),
        ("warehouse", "SEM410"),
        ("postgresql://ann:${SEMANTIC_UNSET_VARIABLE}@db/sales", "SEM410"),
        ("postgresql://db/sales?nosuchoption=1", "SEM410"),
        ("postgresql://[::1/sales", "SEM410"),
    ],
)
def test_bad_engine_urls(project: Project, url: str, code: str) -> None:
    with pytest.raises(SemanticError) as caught:
        project.engine_for(url)
    assert caught.value.code == code


def test_unknown_engine_name_suggests_the_configured_ones(tmp_path: Path) -> None:
    root = _project_with_engines(tmp_path, "  warehouse:\n    url: postgresql://db/sales\n")
    with pytest.raises(SemanticError) as caught:
        Project.load(root).engine_for("warehuse")
    assert caught.value.diagnostics[0].hint == "did you mean 'warehouse'?"


def test_duckdb_database_file(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "tpch.duckdb"
    engine = open_engine(f"duckdb://{path}", project.model, project.data_dir)
    try:
        same_result(project, engine, "SELECT customer_region, order_count ORDER BY 1")
    finally:
        engine.close()
    assert path.exists()


def test_interpolation_reads_the_environment() -> None:
    assert interpolate("postgresql://${U}@h/${D}", {"U": "ann", "D": "sales"}) == (
        "postgresql://ann@h/sales"
    )


# --- engines in semantic.yml ---------------------------------------------------------------


def _project_with_engines(root: Path, engines: str) -> Path:
    config = (ROOT / "semantic.yml").read_text().replace("data/tpch", str(ROOT / "data/tpch"))
    files = {
        f"{folder}/{p.name}": p.read_text()
        for folder in ("models", "glossary")
        for p in sorted((ROOT / folder).glob("*.yml"))
    }
    return write_project(root, files, config + "engines:\n" + engines)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://analyst:s3cret@db.example.com/sales",
        "postgresql://analyst@db.example.com/sales?password=s3cret",
    ],
)
def test_a_password_in_semantic_yml_is_refused(tmp_path: Path, url: str) -> None:
    root = _project_with_engines(tmp_path, f"  warehouse:\n    url: {url}\n")
    # the url's line: the last of the file (the engines block ends it), its value at column 10
    line = len((root / "semantic.yml").read_text().splitlines())
    with pytest.raises(SemanticError) as caught:
        Project.load(root)
    (problem,) = caught.value.diagnostics
    assert (problem.code, str(problem.span)) == ("SEM413", f"semantic.yml:{line}:10")
    assert "s3cret" not in problem.render() and "${" in (problem.hint or "")


def test_an_unknown_url_in_semantic_yml_is_placed(tmp_path: Path) -> None:
    root = _project_with_engines(tmp_path, "  warehouse:\n    url: mysql://db/sales\n")
    line = len((root / "semantic.yml").read_text().splitlines())
    with pytest.raises(SemanticError) as caught:
        Project.load(root)
    (problem,) = caught.value.diagnostics
    assert (problem.code, str(problem.span)) == ("SEM410", f"semantic.yml:{line}:10")


def test_two_default_engines_are_refused(tmp_path: Path) -> None:
    engines = (
        "  a:\n    url: 'duckdb:'\n    default: true\n"
        "  b:\n    url: spark:local\n    default: true\n"
    )
    with pytest.raises(SemanticError) as caught:
        Project.load(_project_with_engines(tmp_path, engines))
    assert caught.value.code == "SEM410"


def test_the_default_engine_runs_queries(
    tmp_path: Path,
    postgres_url: str,
    postgres_engine: PostgresEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An engine read from the environment and marked default: `query` runs there."""
    monkeypatch.setenv("SEMANTIC_WAREHOUSE_URL", postgres_url)
    root = _project_with_engines(
        tmp_path, "  warehouse:\n    url: ${SEMANTIC_WAREHOUSE_URL}\n    default: true\n"
    )
    project = Project.load(root)
    try:
        assert isinstance(project.engine_for(), PostgresEngine)
        assert project.engine_for("warehouse") is project.engine_for()
        assert project.query("SELECT order_count").to_pylist() == [{"order_count": 15000}]
        assert project.engine_for("duckdb") is project.engine
    finally:
        project.close()


# --- the command line ----------------------------------------------------------------------


def test_cli_on_postgres(project: Project, scratch_schema: str) -> None:
    code, _, err = run_cli("load", "--engine", scratch_schema)
    assert code == 0, err
    assert "loaded lineitem: 60175 row(s)" in err
    code, out, err = run_cli(
        "query",
        "SELECT order_count WHERE market_segment = $s",
        "--param",
        "s=BUILDING",
        "--engine",
        scratch_schema,
        "--format",
        "csv",
    )
    expected = project.query("SELECT order_count WHERE market_segment = 'BUILDING'")
    assert (code, out) == (0, f"order_count\r\n{expected.column(0)[0]}\r\n"), err
    code, out, err = run_cli("check", "--data", "--engine", scratch_schema, "--format", "json")
    assert code == 0 and '"ok": true' in out, err
    code, out, err = run_cli("quality", "--engine", scratch_schema, "--format", "csv")
    # every rule, declared or built in (keys, not-null columns, required relationships),
    # measured on PostgreSQL as on DuckDB, and passing there too
    import csv

    here = list(csv.DictReader(run_cli("quality", "--format", "csv").stdout.splitlines()))
    rows = list(csv.DictReader(out.splitlines()))
    assert code == 0 and len(rows) == len(here) > 30, err
    assert all(row["passed"] == "True" for row in rows), out


def test_cli_engine_errors_are_diagnostics() -> None:
    code, _, err = run_cli("query", "SELECT order_count", "--engine", "mysql://db/sales")
    assert code == 1 and err.startswith("SEM410 unknown engine URL 'mysql://db/sales'")
    code, _, err = run_cli("load", "--engine", "duckdb:")
    assert code == 1 and err.startswith("SEM414 loading data is for PostgreSQL")


# --- docs/engines.md -------------------------------------------------------------------------

DOC_URL = "postgresql://analyst@localhost:5432/sales"


def doc_commands() -> list[tuple[list[str], str]]:
    """The `$ semantic ... --engine` commands of docs/engines.md's console blocks, with what
    they print."""
    import shlex

    found: list[tuple[list[str], str]] = []
    inside = False
    lines: list[str] = []
    for line in (ROOT / "docs" / "engines.md").read_text().splitlines():
        if line.startswith("```"):
            inside = line.strip() == "```console"
            continue
        if inside:
            lines.append(line)
    for i, line in enumerate(lines):
        if line.startswith("$ semantic ") and "--engine" in line:
            output = []
            for following in lines[i + 1 :]:
                if following.startswith("$ "):
                    break
                output.append(following)
            argv = [a.replace("\\$", "$") for a in shlex.split(line[2:])][1:]
            found.append((argv, "\n".join(output).strip()))
    return found


@pytest.mark.parametrize(("argv", "printed"), doc_commands())
def test_engine_examples_of_the_docs(
    argv: list[str], printed: str, request: pytest.FixtureRequest
) -> None:
    if DOC_URL in argv:
        url: str = request.getfixturevalue("postgres_url")
        request.getfixturevalue("postgres_engine")  # TPC-H loaded
        argv = [url if a == DOC_URL else a for a in argv]
    else:
        request.getfixturevalue("spark_engine")  # the command reuses the session's Spark
    code, out, err = run_cli(*argv)
    assert code == 0, err
    assert out.replace("\r\n", "\n").strip() == printed


def test_doc_examples_were_found() -> None:
    assert len(doc_commands()) == 3


# --- another project: CSV files, its own tables ----------------------------------------------

BOOKSHOP_QUERIES = [
    "SELECT customer_city, order_count, revenue ORDER BY 1",
    "SELECT author_country, revenue ORDER BY 1",
]


@pytest.fixture(scope="module")
def bookshop() -> Project:
    return Project.load(ROOT / "examples" / "bookshop")


def test_bookshop_csv_files_on_spark(bookshop: Project, spark_engine: SparkEngine) -> None:
    """Spark reads CSV with the model's types, in a session of its own: the bookshop's
    `orders` does not replace TPC-H's."""
    engine = SparkEngine(bookshop.model, bookshop.data_dir, "csv")
    try:
        assert engine.check_schema() == []
        for query in BOOKSHOP_QUERIES:
            same_result(bookshop, engine, query)
    finally:
        engine.close()
    assert spark_engine.fetch("SELECT count(*) FROM orders") == [(15000,)]


def test_bookshop_loaded_into_postgres(bookshop: Project, scratch_schema: str) -> None:
    engine = PostgresEngine(bookshop.model, scratch_schema)
    try:
        bookshop.load_data(engine)
        assert bookshop.check_data(engine) == []
        for query in BOOKSHOP_QUERIES:
            same_result(bookshop, engine, query)
    finally:
        engine.close()


def test_reloading_keeps_the_views_built_on_the_tables(
    project: Project, scratch_schema: str
) -> None:
    """A table whose columns and types are unchanged is refilled, not dropped: a BI view on
    it survives a reload and answers with the reloaded rows. A table that must be created
    anew while a view depends on it stops the load (SEM423), rolled back as a whole."""
    engine = PostgresEngine(project.model, scratch_schema)
    try:
        project.load_data(engine)
        with engine.connection.cursor() as cursor:
            cursor.execute("CREATE VIEW order_totals AS SELECT sum(o_totalprice) AS t FROM orders")
            cursor.execute("DELETE FROM orders WHERE o_orderkey % 2 = 0")
        assert engine.fetch("SELECT count(*) FROM orders") != [(15000,)]
        project.load_data(engine)
        expected = engine.fetch("SELECT sum(o_totalprice) FROM orders")
        assert engine.fetch("SELECT t FROM order_totals") == expected
        assert engine.fetch("SELECT count(*) FROM orders") == [(15000,)]

        with engine.connection.cursor() as cursor:  # the table drifts from the model
            cursor.execute("DROP VIEW order_totals")
            cursor.execute("ALTER TABLE orders ALTER COLUMN o_comment TYPE varchar(200)")
            cursor.execute("CREATE VIEW order_totals AS SELECT sum(o_totalprice) AS t FROM orders")
            cursor.execute("DELETE FROM customer WHERE c_custkey % 2 = 0")  # loaded before orders
        with pytest.raises(SemanticError) as caught:
            project.load_data(engine)
        [problem] = caught.value.diagnostics
        assert problem.code == "SEM423" and "order_totals" in problem.message
        # rolled back: the view, the drifted column and the earlier tables are as they were
        assert engine.fetch("SELECT t FROM order_totals") == expected
        assert engine.fetch("SELECT count(*) FROM customer") == [(750,)]
        assert engine.fetch(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = 'scratch' "
            "AND table_name = 'orders' AND column_name = 'o_comment'"
        ) == [("character varying",)]
    finally:
        engine.close()
