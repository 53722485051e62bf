"""`semantic init`: a project scaffolded from TPC-H in a DuckDB file (with and without
declared keys) and from a folder of parquet files checks clean, guesses the TPC-H
relationships right, and answers business queries like hand-written SQL."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from semantic.engines.describe import duckdb_source, read_catalog
from semantic.engines.duckdb import DuckDBEngine
from semantic.errors import SemanticError
from semantic.interchange.database import scaffold
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.compare import assert_same_rows

#: TPC-H's keys, as the benchmark declares them (and models/tpch.yml has them).
PRIMARY_KEYS = {
    "region": ["r_regionkey"],
    "nation": ["n_nationkey"],
    "supplier": ["s_suppkey"],
    "part": ["p_partkey"],
    "partsupp": ["ps_partkey", "ps_suppkey"],
    "customer": ["c_custkey"],
    "orders": ["o_orderkey"],
    "lineitem": ["l_orderkey", "l_linenumber"],
}
FOREIGN_KEYS = {
    ("nation", "region", (("n_regionkey", "r_regionkey"),)),
    ("supplier", "nation", (("s_nationkey", "n_nationkey"),)),
    ("customer", "nation", (("c_nationkey", "n_nationkey"),)),
    ("partsupp", "part", (("ps_partkey", "p_partkey"),)),
    ("partsupp", "supplier", (("ps_suppkey", "s_suppkey"),)),
    ("orders", "customer", (("o_custkey", "c_custkey"),)),
    ("lineitem", "orders", (("l_orderkey", "o_orderkey"),)),
    ("lineitem", "part", (("l_partkey", "p_partkey"),)),
    ("lineitem", "supplier", (("l_suppkey", "s_suppkey"),)),
    ("lineitem", "partsupp", (("l_partkey", "ps_partkey"), ("l_suppkey", "ps_suppkey"))),
}
ORDER = ["region", "nation", "supplier", "part", "partsupp", "customer", "orders", "lineitem"]

#: business queries of the scaffolded glossary, and the SQL that answers each by hand
QUERIES = [
    (
        "SELECT region_name, orderdate.year, orders_count WHERE mktsegment = 'BUILDING' "
        "ORDER BY 1, 2",
        """SELECT r_name, make_date(year(o_orderdate), 1, 1), count(*) FROM orders
        JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey
        JOIN region ON n_regionkey = r_regionkey WHERE c_mktsegment = 'BUILDING'
        GROUP BY 1, 2 ORDER BY 1, 2""",
    ),
    (
        "SELECT returnflag, linestatus, lineitem_count WHERE shipdate <= DATE '1998-09-02' "
        "ORDER BY 1, 2",
        """SELECT l_returnflag, l_linestatus, count(*) FROM lineitem
        WHERE l_shipdate <= DATE '1998-09-02' GROUP BY 1, 2 ORDER BY 1, 2""",
    ),
]


def _tpch_database(path: Path, data: Path, *, constraints: bool) -> Path:
    """TPC-H in a DuckDB file, its tables created with or without PRIMARY/FOREIGN KEY."""
    con = duckdb.connect(str(path))
    source = duckdb.connect()
    for table in ORDER:
        parquet = data / f"{table}.parquet"
        columns = source.execute(f"DESCRIBE SELECT * FROM read_parquet('{parquet}')").fetchall()
        defs = [f"{name} {kind}" for name, kind, *_ in columns]
        if constraints:
            defs.append(f"PRIMARY KEY ({', '.join(PRIMARY_KEYS[table])})")
            for src, dst, keys in sorted(FOREIGN_KEYS):
                if src == table:
                    mine = ", ".join(a for a, _ in keys)
                    theirs = ", ".join(b for _, b in keys)
                    defs.append(f"FOREIGN KEY ({mine}) REFERENCES {dst} ({theirs})")
        con.execute(f"CREATE TABLE {table} ({', '.join(defs)})")
        con.execute(f"INSERT INTO {table} SELECT * FROM read_parquet('{parquet}')")
    con.close()
    return path


def _relationships(project: Project) -> set[tuple[str, str, tuple[tuple[str, str], ...]]]:
    return {
        (edge.source, edge.target, edge.keys)
        for edges in project.model.edges.values()
        for edge in edges
        if edge.declared
    }


@pytest.mark.parametrize("constraints", [True, False], ids=["declared", "guessed"])
def test_init_from_a_duckdb_file(project: Project, tmp_path: Path, constraints: bool) -> None:
    database = _tpch_database(tmp_path / "tpch.duckdb", project.data_dir, constraints=constraints)
    result = run_cli("init", str(tmp_path / "shop"), "--from-duckdb", str(database), project=None)
    assert result.exit_code == 0, result.stderr
    guessed = result.stderr.count("SEM225")
    assert guessed == (0 if constraints else len(FOREIGN_KEYS)), result.stderr

    shop = Project.load(tmp_path / "shop")
    assert _relationships(shop) == FOREIGN_KEYS
    keys = {e.id: list(e.primary_key) for e in shop.model.entities.values()}
    assert keys == PRIMARY_KEYS
    assert all(t.status == "draft" for t in shop.model.terms.values())
    assert shop.model.terms["orders_count"].kind == "metric"
    assert shop.model.terms["orderdate"].kind == "time_dimension"
    model_text = (tmp_path / "shop" / "models" / "shop.yml").read_text()
    assert ("# guessed from names: o_custkey -> customer.c_custkey" in model_text) is not (
        constraints
    )

    # the project runs on the database it describes, and agrees with hand-written SQL
    assert run_cli("check", project=tmp_path / "shop").exit_code == 0
    engine = DuckDBEngine(shop.model, tmp_path / "no-files", database=str(database))
    assert engine.check_schema() == []
    for query, hand in QUERIES:
        got = engine.execute(shop.compile(query)).to_pylist()
        want = engine.fetch(hand)
        assert len(want) > 3
        assert_same_rows([tuple(r.values()) for r in got], want)


def test_init_from_a_folder_of_parquet_files(project: Project, tmp_path: Path) -> None:
    result = run_cli(
        "init",
        str(tmp_path / "p"),
        "--from-files",
        str(project.data_dir),
        "--name",
        "t",
        project=None,
    )
    assert result.exit_code == 0, result.stderr
    shop = Project.load(tmp_path / "p")
    assert shop.config.data is not None and shop.config.data.format == "parquet"
    assert _relationships(shop) == FOREIGN_KEYS
    assert shop.check_data() == []
    for query, hand in QUERIES:
        got = shop.query(query).to_pylist()
        assert_same_rows([tuple(r.values()) for r in got], shop.engine.fetch(hand))


def test_init_never_overwrites_a_project(project: Project, tmp_path: Path) -> None:
    (tmp_path / "semantic.yml").write_text("name: mine\n")
    result = run_cli("init", str(tmp_path), "--from-files", str(project.data_dir), project=None)
    assert result.exit_code == 1
    assert "SEM220" in result.stderr
    assert (tmp_path / "semantic.yml").read_text() == "name: mine\n"
    assert not (tmp_path / "models").exists()


def test_init_sources_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(SemanticError) as caught:
        duckdb_source(tmp_path / "missing.duckdb")
    assert caught.value.code == "SEM221"
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(SemanticError) as caught:
        read_catalog(duckdb_source(empty))
    assert caught.value.code == "SEM221"
    (tmp_path / "files").mkdir()
    result = run_cli("init", str(tmp_path / "p"), "--from-files", str(tmp_path), project=None)
    assert result.exit_code == 1 and "SEM221" in result.stderr


def test_naming_guesses_jaffle_style_ids_and_skips_orphans(tmp_path: Path) -> None:
    """`customer_id` -> customers.id; a column whose values have no match is not a key."""
    path = tmp_path / "shop.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE customers AS SELECT * FROM (VALUES (1, 'Ann'), (2, 'Bo')) t(id, name)"
    )
    con.execute(
        "CREATE TABLE orders AS SELECT * FROM "
        "(VALUES (10, 1, 7, DATE '2024-01-02'), (11, 2, 8, DATE '2024-02-03')) "
        "t(id, customer_id, store_id, ordered_at)"
    )
    con.execute("CREATE TABLE stores AS SELECT * FROM (VALUES (7), (9)) t(id)")
    con.close()
    written, notices = scaffold(duckdb_source(path), tmp_path / "p")
    shop = Project.load(tmp_path / "p")
    assert _relationships(shop) == {("orders", "customers", (("customer_id", "id"),))}
    assert [n.what for n in notices] == ["relationship orders -> customers"]
    model_lines = (tmp_path / "p" / "models" / "p.yml").read_text().splitlines()
    assert model_lines[notices[0].line - 1].strip() == "- to: customers"
    assert shop.model.terms["ordered_at"].kind == "time_dimension"
    assert shop.model.terms["name"].kind == "dimension"
    # semantic.yml, a model file, three glossary files and the three JSON Schemas
    assert len(written) == 8


def test_init_from_csv_files_reads_them_with_their_types(tmp_path: Path) -> None:
    data = tmp_path / "csv"
    data.mkdir()
    (data / "stores.csv").write_text("id,city\n1,Lyon\n2,Nantes\n")
    (data / "sales.csv").write_text(
        "sale_id,store_id,sold_on,amount\n"
        "1,1,2024-01-05,10.5\n2,1,2024-02-01,4.25\n3,2,2024-02-03,7.0\n"
    )
    result = run_cli("init", str(tmp_path / "p"), "--from-files", str(data), project=None)
    assert result.exit_code == 0, result.stderr
    project = Project.load(tmp_path / "p")
    assert project.config.data is not None and project.config.data.format == "csv"
    assert _relationships(project) == {("sales", "stores", (("store_id", "id"),))}
    assert project.model.entities["sales"].columns["sold_on"].type == "date"
    assert project.check_data() == []
    got = project.query("SELECT city, sales_count ORDER BY 1").to_pylist()
    assert got == [{"city": "Lyon", "sales_count": 2}, {"city": "Nantes", "sales_count": 1}]


def test_init_finds_the_bookshop_relationships_from_its_csv_files(tmp_path: Path) -> None:
    """Keys named alike in two tables (`isbn`, `author_id`) join them, as the hand-written
    bookshop model says."""
    bookshop = Project.load(Path(__file__).resolve().parents[1] / "examples" / "bookshop")
    result = run_cli(
        "init", str(tmp_path / "b"), "--from-files", str(bookshop.data_dir), project=None
    )
    assert result.exit_code == 0, result.stderr
    scaffolded = Project.load(tmp_path / "b")
    assert _relationships(scaffolded) == _relationships(bookshop)
    assert {e.id: e.primary_key for e in scaffolded.model.entities.values()} == {
        e.id: e.primary_key for e in bookshop.model.entities.values()
    }
    assert scaffolded.check_data() == []


def test_a_self_referencing_foreign_key_is_named_after_its_column(tmp_path: Path) -> None:
    """`employees.manager_id -> employees.emp_id` becomes a relationship named `manager`,
    which `semantic check` requires of a relationship to the same entity (SEM230)."""
    path = tmp_path / "staff.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE employees (emp_id INTEGER PRIMARY KEY, name VARCHAR, manager_id INTEGER, "
        "FOREIGN KEY (manager_id) REFERENCES employees (emp_id))"
    )
    con.execute("INSERT INTO employees VALUES (1, 'Ada', NULL)")
    con.execute("INSERT INTO employees VALUES (2, 'Bob', 1)")
    con.close()
    scaffold(duckdb_source(path), tmp_path / "p")
    staff = Project.load(tmp_path / "p")
    (edge,) = [e for e in staff.model.edges["employees"] if e.declared]
    assert (edge.name, edge.target, edge.keys) == (
        "manager",
        "employees",
        (("manager_id", "emp_id"),),
    )
