"""A DuckDB file that `semantic views apply` writes opens in the DuckDB 1.x that BI tools ship
(issue #16), whatever DuckDB semantic itself runs with (2.x writes by default a storage
format that no 1.x opens).

The fast tests read the storage format DuckDB records for the file (`duckdb_databases()`
tags, DuckDB 1.2 and later). The slow test opens the published files with real older
DuckDB clients, each a Python whose `duckdb` is such a release, listed in
SEMANTIC_DUCKDB_CLIENT (paths separated by `:`). `.ci/duckdb-client` creates them from
PyPI, as `.ci/run` does before the tests: DuckDB 1.1.3, the last 1.1 release, which is what
the older BI drivers still bundle and which reads the v1.0.0 format only (the strictest
1.x reader), and DuckDB 1.4.3, of the 1.4 long-term-support line that Metabase's DuckDB
driver image pins. Nothing is downloaded at test time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pytest

from semantic.engines.duckdb import DEFAULT_STORAGE_VERSION, DuckDBEngine
from semantic.outputs.publish import publish_views
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.compare import same_value
from tests.conftest import ROOT
from tests.test_docs import blocks

#: the variable .ci/duckdb-client exports: Pythons whose duckdb is an older release
CLIENT_VARIABLE = "SEMANTIC_DUCKDB_CLIENT"

#: What a BI tool sees of a file, as a DuckDB client reads it (run by each client's Python,
#: and by ours): the version, every table and view with its columns and their comments, and
#: the rows of each view of `semantic`, ordered, as JSON (decimals and dates as text).
READER = textwrap.dedent(
    """
    import json, sys
    import duckdb

    with duckdb.connect(sys.argv[1], read_only=True) as connection:
        run = lambda sql, *params: connection.execute(sql, list(params)).fetchall()
        objects = run(
            "SELECT table_schema, table_name, table_type FROM information_schema.tables "
            "ORDER BY 1, 2"
        )
        seen = {"version": duckdb.__version__, "objects": {}, "rows": {}}
        for schema, name, kind in objects:
            columns = run(
                "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = ? "
                "AND table_name = ? ORDER BY column_index", schema, name
            )
            seen["objects"][f"{schema}.{name}"] = [kind, columns]
            if schema == "semantic":
                rows = run(f'SELECT * FROM "{schema}"."{name}" ORDER BY ALL')
                seen["rows"][name] = rows
    print(json.dumps(seen, default=str))
    """
)


def stored_version(path: Path) -> str | None:
    """The storage format DuckDB records for the file (`v1.0.0+`: DuckDB 1.0 and later open
    it); None when our DuckDB does not say (before 1.2)."""
    with duckdb.connect(str(path), read_only=True) as connection:
        ((tags,),) = connection.execute(
            "SELECT tags FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()
    return (tags or {}).get("storage_version")


def needs_storage_tags() -> None:
    with duckdb.connect() as connection:
        columns = {r[0] for r in connection.execute("DESCRIBE FROM duckdb_databases()").fetchall()}
    if "tags" not in columns:
        pytest.skip(f"DuckDB {duckdb.__version__} does not say a file's storage format")


def bookshop(tmp_path: Path, engines: str = "") -> Path:
    """A copy of examples/bookshop with `engines` added to its semantic.yml."""
    root = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "bookshop", root)
    if engines:
        config = root / "semantic.yml"
        config.write_text(config.read_text() + "engines:\n" + engines)
    return root


# --- the storage format of the files written ---------------------------------------------------


def test_a_new_file_is_in_the_format_of_duckdb_1_0(tmp_path: Path) -> None:
    needs_storage_tags()
    root = bookshop(tmp_path)
    path = tmp_path / "bi.duckdb"
    code, _, err = run_cli("views", "apply", "--engine", f"duckdb:///{path}", project=root)
    assert code == 0, err
    assert DEFAULT_STORAGE_VERSION == "v1.0.0"
    assert stored_version(path) == "v1.0.0+"
    assert "SEM252" not in err


def test_storage_version_in_semantic_yml(tmp_path: Path) -> None:
    needs_storage_tags()
    path = tmp_path / "bi.duckdb"
    root = bookshop(tmp_path, f"  bi:\n    url: duckdb:///{path}\n    storage_version: v1.2.0\n")
    code, _, err = run_cli("views", "apply", "--engine", "bi", project=root)
    assert code == 0, err
    assert stored_version(path) == "v1.2.0+"


def test_an_unknown_or_malformed_storage_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bi.duckdb"
    root = bookshop(tmp_path, f"  bi:\n    url: duckdb:///{path}\n    storage_version: v0.0.0\n")
    code, _, err = run_cli("views", "apply", "--engine", "bi", project=root)
    assert code == 1
    assert "SEM411 storage_version 'v0.0.0' is not a DuckDB release that DuckDB" in err
    assert "help: write v1.0.0" in err
    assert not path.exists()

    config = root / "semantic.yml"
    config.write_text(config.read_text().replace("v0.0.0", "1.0"))
    code, _, err = run_cli("views", "apply", "--engine", "bi", project=root)
    assert code == 1 and "SEM102" in err and "storage_version" in err
    assert not path.exists()


def test_an_existing_file_keeps_its_format_either_way(tmp_path: Path) -> None:
    """A file is never converted: one in a newer format than the BI tools' drivers read is
    reported (SEM252) and stays as it is; an older one is not upgraded by an engine whose
    storage_version is newer."""
    needs_storage_tags()
    newer = tmp_path / "newer.duckdb"
    duckdb.connect(str(newer), config={"storage_compatibility_version": "latest"}).close()
    made = stored_version(newer)
    if made == "v1.0.0+":
        pytest.skip(f"DuckDB {duckdb.__version__} writes no format newer than v1.0.0")
    root = bookshop(tmp_path)
    for command in ("plan", "apply"):
        code, out, err = run_cli("views", command, "--engine", f"duckdb:///{newer}", project=root)
        assert code == 0, err
        assert (
            f"warning: SEM252 /{newer} is in the storage format of DuckDB {made}, newer than "
            "storage_version v1.0.0" in err
        )
        assert "help: a file keeps its format: move it away and publish again" in err
        assert command == "apply" or "-- warning: SEM252" in out  # plan's script says it too
    assert stored_version(newer) == made
    # docs/views.md shows the warning as apply prints it (with DuckDB 2.0's format)
    (shown,) = (b.text for b in blocks("docs/views.md") if "SEM252" in b.text)
    shown = shown.replace("/srv/bi/tpch.duckdb", f"/{newer}").replace("v2.0.0+", made)
    assert shown.replace("v2.0.0", made.rstrip("+")) in err

    older = tmp_path / "older.duckdb"
    duckdb.connect(str(older), config={"storage_compatibility_version": "v1.0.0"}).close()
    engines = f"  bi:\n    url: duckdb:///{older}\n    storage_version: latest\n"
    config = root / "semantic.yml"
    config.write_text(config.read_text() + "engines:\n" + engines)
    code, _, err = run_cli("views", "apply", "--engine", "bi", project=root)
    assert code == 0, err
    assert "SEM252" not in err
    assert stored_version(older) == "v1.0.0+"


def test_a_file_that_holds_the_tables_is_reported_with_how_to_copy_it(
    project: Project, tmp_path: Path
) -> None:
    needs_storage_tags()
    path = tmp_path / "warehouse.duckdb"
    tables_file(project, path, "latest")
    made = stored_version(path)
    if made == "v1.0.0+":
        pytest.skip(f"DuckDB {duckdb.__version__} writes no format newer than v1.0.0")
    engine = DuckDBEngine(project.model, None, database=str(path))
    try:
        warning = publish_views(project.model, engine, check_quality=False).notices[-1]
    finally:
        engine.close()
    assert warning.code == "SEM252" and warning.severity == "warning"
    assert "COPY FROM DATABASE" in (warning.hint or "")
    assert stored_version(path) == made


def tables_file(project: Project, path: Path, storage_version: str) -> None:
    """A DuckDB file that holds the TPC-H tables in `main`, in that storage format."""
    project.prepare_data()
    config = {"storage_compatibility_version": storage_version}
    with duckdb.connect(str(path), config=config) as connection:
        for entity in project.model.entities.values():
            source = project.data_dir / f"{entity.table}.parquet"
            connection.execute(f"CREATE TABLE {entity.table} AS FROM read_parquet('{source}')")


# --- real older DuckDB clients ----------------------------------------------------------------


def clients() -> list[str]:
    return [p for p in os.environ.get(CLIENT_VARIABLE, "").split(os.pathsep) if p]


def read_as(python: str, path: Path) -> dict[str, Any]:
    """What a DuckDB client, run by `python`, reads of the file (see READER)."""
    done = subprocess.run(
        [python, "-c", READER, str(path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{python} cannot read {path}:\n{done.stderr}"
    seen: dict[str, Any] = json.loads(done.stdout)
    return seen


def assert_same_reading(client: dict[str, Any], ours: dict[str, Any]) -> None:
    assert client["objects"] == ours["objects"]
    assert client["rows"].keys() == ours["rows"].keys()
    for view, rows in ours["rows"].items():
        got = client["rows"][view]
        assert len(got) == len(rows), view
        for i, (a, b) in enumerate(zip(got, rows, strict=True)):
            assert all(same_value(x, y) for x, y in zip(a, b, strict=True)), (view, i, a, b)


@pytest.mark.slow
@pytest.mark.parametrize("client", clients() or [None], ids=lambda c: str(c))
def test_older_duckdb_clients_read_the_published_views(
    client: str | None, project: Project, tmp_path: Path
) -> None:
    """TPC-H published both ways, as BI tools open it: from the data files (the views read
    copies of their results, in the file) and into a file that holds the tables (the views
    compute their numbers in the client, from SQL the client must parse). Each client opens
    the file read-only, finds the same tables, views, columns and comments, and reads the
    same rows as our DuckDB."""
    if client is None:
        reason = f"{CLIENT_VARIABLE} is not set"
        if os.environ.get("SEMANTIC_REQUIRE_SERVICES") == "1":  # CI: never pass by skipping
            pytest.fail(f"{reason}, and SEMANTIC_REQUIRE_SERVICES=1 requires it")
        pytest.skip(f'{reason}: run `eval "$(bash .ci/duckdb-client)"` first')
    version = subprocess.run(
        [client, "-c", "import duckdb; print(duckdb.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version.startswith("1."), f"{client} runs DuckDB {version}, not a 1.x"

    copies = tmp_path / "copies.duckdb"
    code, _, err = run_cli("views", "apply", "--engine", f"duckdb:///{copies}")
    assert code == 0, err

    tables = tmp_path / "tables.duckdb"
    tables_file(project, tables, DEFAULT_STORAGE_VERSION)
    engine = DuckDBEngine(project.model, None, database=str(tables))
    try:
        publish_views(project.model, engine)
    finally:
        engine.close()

    for path in (copies, tables):
        ours = read_as(sys.executable, path)
        seen = read_as(client, path)
        assert seen["version"] == version
        assert len(ours["rows"]) == 10 and all(ours["rows"].values())
        assert_same_reading(seen, ours)
        comments = [c for name, (_, columns) in seen["objects"].items() for _, c in columns if c]
        assert len(comments) > 50  # the terms' definitions, which BI tools show
