"""`semantic init --engine URL`: a project scaffolded from a DuckDB file or a PostgreSQL schema
runs right away through the `engines:` default init writes (no `data:` section), reads a
user's DuckDB file without changing a byte of it, and answers business queries like
hand-written SQL on the database it describes; `url: duckdb` names the embedded engine."""

from __future__ import annotations

import hashlib
import re
import shlex
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest

from semantic.engines.duckdb import DuckDBEngine
from semantic.engines.postgres import PostgresEngine
from semantic.errors import SemanticError
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.compare import assert_same_rows
from tests.test_init import FOREIGN_KEYS, ORDER, PRIMARY_KEYS, _relationships

DOC = Path(__file__).resolve().parents[1] / "docs" / "importing.md"

#: business queries of the scaffolded TPC-H glossary and the PostgreSQL that answers each
PG_QUERIES = [
    (
        "SELECT region_name, orderdate.year, orders_count WHERE mktsegment = 'BUILDING' "
        "ORDER BY 1, 2",
        """SELECT r_name, date_trunc('year', o_orderdate)::date, count(*) FROM {s}.orders
        JOIN {s}.customer ON o_custkey = c_custkey JOIN {s}.nation ON c_nationkey = n_nationkey
        JOIN {s}.region ON n_regionkey = r_regionkey WHERE c_mktsegment = 'BUILDING'
        GROUP BY 1, 2 ORDER BY 1, 2""",
    ),
    (
        "SELECT returnflag, linestatus, lineitem_count WHERE shipdate <= DATE '1998-09-02' "
        "ORDER BY 1, 2",
        """SELECT l_returnflag, l_linestatus, count(*) FROM {s}.lineitem
        WHERE l_shipdate <= DATE '1998-09-02' GROUP BY 1, 2 ORDER BY 1, 2""",
    ),
]


def _doc_block(tag: str) -> str:
    """A fenced block of docs/importing.md, found by the HTML comment above it."""
    (body,) = re.findall(rf"<!-- {tag} -->\n```\w+\n(.*?)```", DOC.read_text(), re.S)
    return str(body)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cli(root: Path, *args: str) -> tuple[int, str, str]:
    return run_cli(*args, project=root)


# --- DuckDB files ----------------------------------------------------------------------------


@pytest.fixture
def shop_file(tmp_path: Path) -> Path:
    """A user's small DuckDB database, with its own tables and no declared keys."""
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE customers AS SELECT * FROM (VALUES (1, 'Ann', 'Lyon'), (2, 'Bo', 'Nantes'),"
        " (3, 'Cy', 'Lyon')) t(id, name, city)"
    )
    con.execute(
        "CREATE TABLE orders AS SELECT * FROM (VALUES (10, 1, DATE '2024-01-02', 5.5),"
        " (11, 2, DATE '2024-02-03', 7.25), (12, 2, DATE '2024-03-03', 1.0),"
        " (13, 3, DATE '2025-01-09', 2.0)) t(id, customer_id, ordered_at, amount)"
    )
    con.close()
    return path


def test_a_project_from_a_duckdb_file_runs_on_it_and_never_changes_it(
    shop_file: Path, tmp_path: Path
) -> None:
    before = _digest(shop_file)
    root = tmp_path / "shop"
    code, _, err = _cli(root, "init", str(root), "--engine", f"duckdb://{shop_file}")
    assert code == 0, err
    shown = _doc_block("init semantic.yml: duckdb")
    assert (root / "semantic.yml").read_text() == shown.replace(
        "/srv/warehouse.duckdb", str(shop_file.resolve())
    )
    project = Project.load(root)
    assert project.config.data is None
    source = project.config.engines["source"]
    assert source.url == f"duckdb://{shop_file.resolve()}" and source.default
    assert _relationships(project) == {("orders", "customers", (("customer_id", "id"),))}

    # query, check --data and quality run through the default engine, with no data: section
    code, out, err = _cli(root, "query", "SELECT city, orders_count ORDER BY 1", "-f", "csv")
    assert code == 0, err
    con = duckdb.connect(str(shop_file), read_only=True)
    want = con.execute(
        "SELECT city, count(*) FROM orders JOIN customers ON customer_id = customers.id "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    con.close()
    assert out.splitlines() == ["city,orders_count", *(f"{c},{n}" for c, n in want)]
    code, _, err = _cli(root, "check", "--data")
    assert code == 0 and "ok: 2 entities" in err, err
    code, _, err = _cli(root, "quality", "-f", "json")
    assert code == 0, err
    assert _digest(shop_file) == before  # init, query, check and quality only read

    # a table missing from the file is reported against the file, not a data folder
    (root / "models" / "shop.yml").write_text(
        (root / "models" / "shop.yml").read_text().replace("table: orders", "table: sales")
    )
    code, _, err = _cli(root, "check", "--data")
    assert code == 1 and f"table 'sales' of entity 'orders' is missing from {shop_file}" in err
    assert _digest(shop_file) == before


def test_the_documented_session_runs_as_shown(shop_file: Path, tmp_path: Path) -> None:
    """docs/importing.md's `init --engine duckdb:///...` session, on the same small file:
    each command's output (stderr for init, stdout for query) is what the page shows."""
    steps: list[tuple[str, list[str]]] = []
    for line in _doc_block("init session").splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    folder = tmp_path
    for command, shown in steps:
        words = shlex.split(command.replace("/srv/warehouse.duckdb", str(shop_file)))
        if words[0] == "cd":
            folder = folder / words[1]
            continue
        if words[:2] == ["semantic", "init"]:
            words[2] = str(folder / words[2])
        code, out, err = _cli(folder, *words[1:])
        assert code == 0, err
        assert (err if words[1] == "init" else out).splitlines() == shown, command


def test_reading_a_duckdb_file_opens_it_read_only_and_views_apply_writes(
    shop_file: Path, tmp_path: Path
) -> None:
    root = tmp_path / "shop"
    assert _cli(root, "init", str(root), "--from-duckdb", str(shop_file))[0] == 0
    assert "default: true" in (root / "semantic.yml").read_text()
    (root / "glossary" / "orders.yml").write_text(
        (root / "glossary" / "orders.yml").read_text()
        + "subject_areas:\n  orders_by_city:\n    label: {en: Orders by city}\n"
        "    dimensions: [city]\n    metrics: [orders_count]\n"
    )
    project = Project.load(root)
    reader = project.engine_for()
    assert isinstance(reader, DuckDBEngine) and reader.read_only
    with pytest.raises(duckdb.Error, match="read-only"):
        reader.connection.execute("CREATE TABLE t (x INTEGER)")
    # the same engine reopened to write, as `views apply` asks
    writer = project.engine_for(write=True)
    assert isinstance(writer, DuckDBEngine) and not writer.read_only
    assert project.engine_for("source", write=True) is writer
    project.close()

    code, _, err = _cli(root, "views", "apply", "--skip-quality")
    assert code == 0, err
    con = duckdb.connect(str(shop_file), read_only=True)
    rows = con.execute("SELECT * FROM semantic.orders_by_city ORDER BY 1").fetchall()
    con.close()
    assert rows == [("Lyon", 2), ("Nantes", 2)]


def test_init_refuses_engines_without_tables_of_their_own(tmp_path: Path) -> None:
    for url, words in (
        ("duckdb:", "in-memory DuckDB database has no tables"),
        ("spark:local[1]", "not of a spark engine"),
        (f"duckdb://{tmp_path}/missing.duckdb", "no DuckDB database at"),
    ):
        code, _, err = _cli(tmp_path, "init", str(tmp_path / "p"), "--engine", url)
        assert code == 1 and "SEM221" in err and words in err, err
    code, _, err = _cli(tmp_path, "init", str(tmp_path / "p"))
    assert code != 0 and "--engine URL" in err
    assert not (tmp_path / "p").exists()


def test_init_names_the_schemas_that_have_tables(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA sales")
    con.execute("CREATE TABLE sales.stores AS SELECT 1 AS id, 'Lyon' AS city")
    con.close()
    code, _, err = _cli(tmp_path, "init", str(tmp_path / "p"), "--engine", f"duckdb://{path}")
    assert code == 1 and "no tables in schema 'main'" in err and "--schema sales" in err, err
    args = ["init", str(tmp_path / "p"), "--engine", f"duckdb://{path}", "--schema", "sales"]
    assert _cli(tmp_path, *args)[0] == 0
    assert _cli(tmp_path / "p", "query", "SELECT city, stores_count", "-f", "csv")[1] == (
        "city,stores_count\r\nLyon,1\r\n"
    )


def test_the_engine_url_duckdb_names_the_embedded_engine(project: Project, tmp_path: Path) -> None:
    """`url: duckdb:` unquoted is a YAML error; `url: duckdb` is the embedded engine."""
    root = tmp_path / "p"
    assert _cli(tmp_path, "init", str(root), "--from-files", str(project.data_dir))[0] == 0
    config = root / "semantic.yml"
    config.write_text(
        config.read_text() + "engines:\n  laptop:\n    url: duckdb\n    default: true\n"
    )
    code, out, err = _cli(root, "query", "SELECT orders_count", "-f", "csv")
    assert code == 0, err
    assert out == f"orders_count\r\n{project.engine.fetch('SELECT count(*) FROM orders')[0][0]}\r\n"
    assert _cli(root, "check", "--data")[0] == 0
    code, out, _ = _cli(root, "query", "SELECT orders_count", "-f", "csv", "--engine", "duckdb")
    assert code == 0 and out.startswith("orders_count\r\n")
    config.write_text(config.read_text().replace("url: duckdb", "url: duckdb:"))
    code, _, err = _cli(root, "check")
    assert code == 1 and "SEM101" in err and "may be written duckdb" in err


def test_a_duckdb_file_with_data_files_is_written_only_by_a_publication(
    project: Project, tmp_path: Path
) -> None:
    """With `data:`, queries read the data files through views kept in memory; the file,
    opened to publish into, gets nothing until `views apply` (issue #19: views over the data
    files written into the file showed every column, and new data, outside any
    publication)."""
    database = tmp_path / "bi.duckdb"
    engine = project.engine_for(f"duckdb://{database}")
    try:
        assert isinstance(engine, DuckDBEngine) and not engine.read_only
        assert engine.fetch("SELECT count(*) FROM region") == [(5,)]
    finally:
        project.close()
    with duckdb.connect(str(database), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM information_schema.tables").fetchall() == [
            (0,)
        ]


# --- PostgreSQL ------------------------------------------------------------------------------


@pytest.fixture(params=[True, False], ids=["declared", "guessed"])
def pg_schema(
    request: pytest.FixtureRequest, postgres_engine: PostgresEngine
) -> Iterator[tuple[str, bool]]:
    """TPC-H copied into a fresh schema of the test database, with or without PRIMARY and
    FOREIGN KEY constraints; dropped afterwards (other tests share the database)."""
    schema = f"init_{uuid.uuid4().hex[:10]}"
    statements = [f"CREATE SCHEMA {schema}"]
    statements += [f"CREATE TABLE {schema}.{t} AS SELECT * FROM public.{t}" for t in ORDER]
    if request.param:
        for table in ORDER:
            keys = ", ".join(PRIMARY_KEYS[table])
            statements.append(f"ALTER TABLE {schema}.{table} ADD PRIMARY KEY ({keys})")
        for src, dst, pairs in sorted(FOREIGN_KEYS):
            mine = ", ".join(a for a, _ in pairs)
            theirs = ", ".join(b for _, b in pairs)
            statements.append(
                f"ALTER TABLE {schema}.{src} ADD FOREIGN KEY ({mine}) "
                f"REFERENCES {schema}.{dst} ({theirs})"
            )
    postgres_engine.publish(statements)
    try:
        yield schema, request.param
    finally:
        postgres_engine.publish([f"DROP SCHEMA {schema} CASCADE"])


def test_a_project_from_postgresql_runs_on_postgresql(
    pg_schema: tuple[str, bool],
    postgres_engine: PostgresEngine,
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schema, declared = pg_schema
    root = tmp_path / "warehouse"
    code, _, err = _cli(tmp_path, "init", str(root), "--engine", postgres_url, "--schema", schema)
    assert code == 0, err
    assert err.count("SEM225") == (0 if declared else len(FOREIGN_KEYS)), err

    # the password is not written: semantic.yml reads ${PGPASSWORD} (SEM226 says so)
    password = urlsplit(postgres_url).password
    text = (root / "semantic.yml").read_text()
    assert password and f":{password}@" not in text and "${PGPASSWORD}" in text
    assert ("SEM226" in err) == (password is not None)
    monkeypatch.setenv("PGPASSWORD", password)

    parts = urlsplit(postgres_url)
    shown = _doc_block("init semantic.yml: postgres")
    assert text == shown.replace("analyst", str(parts.username)).replace(
        "db.example.com:5432/sales", f"{parts.hostname}:{parts.port}{parts.path}"
    )
    project = Project.load(root)
    assert project.config.data is None
    assert _relationships(project) == FOREIGN_KEYS
    assert {e.id: list(e.primary_key) for e in project.model.entities.values()} == PRIMARY_KEYS
    assert project.model.entities["orders"].table == f"{schema}.orders"
    assert project.model.entities["orders"].columns["o_totalprice"].type == "decimal(15,2)"
    assert project.model.terms["orderdate"].kind == "time_dimension"

    code, _, err = _cli(root, "check", "--data")
    assert code == 0 and "ok: 8 entities" in err, err
    code, _, err = _cli(root, "quality")
    assert code == 0, err
    # business queries run on PostgreSQL (the default engine) and match hand-written SQL
    engine = project.engine_for()
    assert isinstance(engine, PostgresEngine)
    for query, hand in PG_QUERIES:
        got = project.query(query).to_pylist()
        want = postgres_engine.fetch(hand.format(s=schema))
        assert len(want) > 3
        assert_same_rows([tuple(r.values()) for r in got], want)
    project.close()
    code, out, err = _cli(root, "query", "SELECT region_name, orders_count ORDER BY 1", "-f", "csv")
    assert code == 0, err
    want = postgres_engine.fetch(
        f"SELECT r_name, count(*) FROM {schema}.orders "
        f"JOIN {schema}.customer ON o_custkey = c_custkey "
        f"JOIN {schema}.nation ON c_nationkey = n_nationkey "
        f"JOIN {schema}.region ON n_regionkey = r_regionkey GROUP BY 1 ORDER BY 1"
    )
    assert out.splitlines() == ["region_name,orders_count", *(f"{r},{n}" for r, n in want)]


def test_init_reads_postgresql_in_a_read_only_session(postgres_url: str) -> None:
    from semantic.engines.describe import engine_source

    opened = engine_source(postgres_url)
    assert opened.schema == "public"
    try:
        with pytest.raises(SemanticError, match="read-only transaction"):
            opened.source.fetch("CREATE TABLE init_must_not_write (x integer)")
    finally:
        opened.source.close()


def test_foreign_keys_of_one_name_on_two_tables(
    postgres_engine: PostgresEngine, postgres_url: str, tmp_path: Path
) -> None:
    """PostgreSQL names a foreign key per table: `fk_customer` on orders and on invoices are
    two keys, which information_schema lists under one name."""
    schema = f"init_{uuid.uuid4().hex[:10]}"
    postgres_engine.publish(
        [
            f"CREATE SCHEMA {schema}",
            f"CREATE TABLE {schema}.customers (id integer PRIMARY KEY, name text)",
            *(
                f"CREATE TABLE {schema}.{table} (id integer PRIMARY KEY, customer_id integer, "
                f"CONSTRAINT fk_customer FOREIGN KEY (customer_id) "
                f"REFERENCES {schema}.customers (id))"
                for table in ("orders", "invoices")
            ),
            f"INSERT INTO {schema}.customers VALUES (1, 'Ann'), (2, 'Bo')",
            f"INSERT INTO {schema}.orders VALUES (10, 1), (11, 2), (12, 2)",
            f"INSERT INTO {schema}.invoices VALUES (20, 2)",
        ]
    )
    try:
        root = tmp_path / "p"
        args = ["init", str(root), "--engine", postgres_url, "--schema", schema]
        code, _, err = _cli(tmp_path, *args)
        assert code == 0 and "SEM225" not in err, err
        project = Project.load(root)
        assert _relationships(project) == {
            ("orders", "customers", (("customer_id", "id"),)),
            ("invoices", "customers", (("customer_id", "id"),)),
        }
    finally:
        postgres_engine.publish([f"DROP SCHEMA {schema} CASCADE"])
