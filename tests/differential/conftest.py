"""TPC-H at scale 0.001, generated once per session, as a project and as reference rows."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from ruamel.yaml import YAML

from semantic import Project
from tests.differential.reference import TABLES, Reference
from tests.differential.reference_grain import GrainReference

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tpch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The eight TPC-H tables at scale 0.001 (1,500 orders, 6,005 lines), as parquet.

    At this scale (10 suppliers) the TPC-H rule that gives each part its four suppliers
    repeats a supplier for 100 of the 200 parts: partsupp has 800 rows but 700 distinct
    (ps_partkey, ps_suppkey), against the primary key the model declares, and every line of
    such a part and supplier would join two offers. The compiler trusts declared keys (that
    is the model's contract), so the test data is made to meet it: the first offer of each
    pair is kept. `test_the_data_meets_the_declared_keys` checks every table."""
    out = tmp_path_factory.mktemp("tpch-sf0.001")
    program = Path(sys.executable).with_name("tpchgen-cli")
    subprocess.run(
        [str(program), "parquet", "-s", "0.001", f"--output-dir={out}"],
        check=True,
        capture_output=True,
    )
    offers = out / "partsupp.parquet"
    kept = out / "partsupp-unique.parquet"
    con = duckdb.connect()
    try:
        con.execute(
            f"""
            COPY (
                SELECT * EXCLUDE (file_row_number)
                FROM read_parquet('{offers}', file_row_number = true)
                QUALIFY row_number() OVER (
                    PARTITION BY ps_partkey, ps_suppkey ORDER BY file_row_number) = 1
                ORDER BY file_row_number
            ) TO '{kept}' (FORMAT parquet)
            """
        )
    finally:
        con.close()
    kept.replace(offers)
    return out


@pytest.fixture(scope="session")
def tpch_project(tpch_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The repository's model and glossary over the scale-0.001 data."""
    root = tmp_path_factory.mktemp("tpch-project")
    shutil.copytree(ROOT / "models", root / "models")
    shutil.copytree(ROOT / "glossary", root / "glossary")
    yaml = YAML()
    config = yaml.load((ROOT / "semantic.yml").read_text())
    config["data"] = {"dir": str(tpch_dir), "format": "parquet"}
    text = io.StringIO()
    yaml.dump(config, text)
    (root / "semantic.yml").write_text(text.getvalue())
    return Project.load(root)


@pytest.fixture(scope="session")
def reference(tpch_dir: Path, tpch_project: Project) -> Reference:
    """The reference evaluator over the same data and glossary (knowing metrics at another
    grain, per entity and existence)."""
    config = YAML(typ="safe").load((tpch_project.root / "semantic.yml").read_text())
    return GrainReference.load(
        tpch_dir, tpch_project.root / "glossary", config.get("fiscal_year_start", 1)
    )


class Subject:
    """The project and the reference, shown briefly: hypothesis prints the arguments of a
    failing example, and a project's fields hold its whole model."""

    def __init__(self, project: Project, reference: Reference) -> None:
        self.project = project
        self.reference = reference

    def __repr__(self) -> str:
        return f"Subject({self.project.root})"


@pytest.fixture(scope="session")
def subject(tpch_project: Project, reference: Reference) -> Subject:
    return Subject(tpch_project, reference)


@pytest.fixture(scope="session")
def tpch_sql(tpch_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection of our own with a view per table, for hand-written SQL."""
    con = duckdb.connect()
    for name in TABLES:
        con.execute(
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{tpch_dir / name}.parquet')"
        )
    yield con
    con.close()
