"""The interchange kit: one way to make ids, one report type, one writer. Every importer's
files are already in the layout `semantic fmt` gives, and every importer is an `Importer`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from semantic.engines.describe import files_source
from semantic.files.fmt import format_text
from semantic.files.schema import GlossaryFile, ModelFile, ProjectFile
from semantic.interchange.common import Importer, Notice, new_id, snake_id
from semantic.interchange.database import DatabaseImporter
from semantic.interchange.dbt import DbtImporter
from semantic.interchange.osi_export import export_osi
from semantic.interchange.osi_import import OsiImporter
from semantic.interchange.skos import SkosImporter
from semantic.outputs.rdf.export import export_graph
from semantic.project import Project
from tests.conftest import ROOT
from tests.dbt_project import write_dbt_project

BOOKSHOP = ROOT / "examples" / "bookshop"
#: the schema's `Id`
ID = re.compile(r"^[a-z][a-z0-9_]{0,127}$")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Order Items", "order_items"),
        ("orderDate", "order_date"),
        ("HTTPServer", "http_server"),
        ("2019 sales", "n_2019_sales"),
        ("Chiffre d'affaires", "chiffre_d_affaires"),
        ("Région", "region"),
        ("net-revenue", "net_revenue"),
        ("__", "unnamed"),
        ("日本", "unnamed"),
        ("x" * 200, "x" * 128),
    ],
)
def test_snake_id_gives_a_schema_id(name: str, expected: str) -> None:
    assert snake_id(name) == expected
    assert ID.match(snake_id(name))


def test_snake_id_prefix_and_new_id() -> None:
    assert snake_id("1.2", prefix="term", empty="term") == "term_1_2"
    assert snake_id("", prefix="term", empty="term") == "term"
    assert new_id({"a", "a_2"}, "a") == "a_3"
    assert new_id(set(), "a", "b") == "b"
    long = "y" * 128
    assert new_id({long}, long) == "y" * 126 + "_2"


def test_a_notice_kind_gives_its_code_and_words() -> None:
    def shown(notice: Notice) -> tuple[str, str]:
        return notice.code, notice.diagnostic().message

    assert shown(Notice("f", 1, "x", "why")) == ("SEM224", "not carried over: x")
    assert shown(Notice("f", 1, "x", "why", "changed")) == ("SEM224", "carried over differently: x")
    assert shown(Notice("f", 1, "x", "why", "guessed")) == ("SEM225", "guessed: x")
    assert shown(Notice("f", 0, "x", "why", "withheld")) == ("SEM226", "not written: x")
    assert shown(Notice("f", 1, "x", "why", prefix="OSI cannot carry")) == (
        "SEM224",
        "OSI cannot carry: x",
    )


def _schema(name: str) -> type[BaseModel]:
    if name.endswith("semantic.yml"):
        return ProjectFile
    return ModelFile if name.startswith("models/") else GlossaryFile


def _assert_formatted(files: dict[str, str], schema: type[BaseModel] | None = None) -> None:
    assert files
    for name, text in files.items():
        assert format_text(text, schema or _schema(name)) == text, name


def test_every_importer_writes_what_fmt_would_leave(tmp_path: Path) -> None:
    dbt = DbtImporter()
    source, _ = files_source(BOOKSHOP / "data")
    try:
        database = DatabaseImporter("bookshop", data={"dir": "data", "format": "csv"})
        _assert_formatted(dict(database.read(source).files))
    finally:
        source.close()
    _assert_formatted(dict(dbt.read(write_dbt_project(tmp_path / "dbt")).files))
    bookshop = Project.load(BOOKSHOP)
    osi_file = tmp_path / "bookshop.osi.yml"
    osi_file.write_text(export_osi(BOOKSHOP, bookshop.config)[0])
    _assert_formatted(dict(OsiImporter().read(osi_file).files))
    skos = SkosImporter(language="en").read(export_graph(bookshop.model))
    _assert_formatted(dict(skos.files), GlossaryFile)
    for importer in (dbt, database, OsiImporter(), SkosImporter(language="en")):
        assert isinstance(importer, Importer)
