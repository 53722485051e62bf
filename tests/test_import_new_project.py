"""The first imports of a new project: into an empty folder, a project whose glossary is still
empty, or from a file that is not there. Each works, or says what to do next; and the
`$schema` comment of every file written points at a JSON Schema that exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from semantic.files.jsonschema import schemas
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.dbt_project import write_dbt_project
from tests.projects import write_data, write_project

VOCABULARY = """
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://vocab.example.com/> .
ex:finance a skos:ConceptScheme ; skos:prefLabel "Finance"@en .
ex:Margin a skos:Concept ; skos:inScheme ex:finance ; skos:prefLabel "Margin"@en ;
    skos:definition "What is left of revenue once costs are paid."@en .
"""
MODEL = """
    entities:
      item:
        table: item
        primary_key: [id]
        columns:
          id: {type: integer}
"""
POINTER = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)


def _assert_schemas_exist(root: Path) -> None:
    """Every `$schema` comment under `root` points at a file holding that schema."""
    pointed = 0
    for path in [root / "semantic.yml", *root.glob("*/*.yml")]:
        for pointer in POINTER.findall(path.read_text()):
            target = (path.parent / pointer).resolve()
            assert target.is_file(), f"{path} points at {pointer}, which is missing"
            assert target.read_text() == schemas()[target.name]
            pointed += 1
    assert pointed


def test_a_missing_vocabulary_is_named_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # rdflib read a relative path as a URL and named the folder above the current one
    root = write_project(tmp_path, {"models/m.yml": MODEL})
    (root / "work").mkdir()
    monkeypatch.chdir(root / "work")
    result = run_cli("import", "skos", "missing.ttl", project=None)
    assert result.exit_code == 1
    assert result.stderr.startswith("missing.ttl: SEM101 cannot read the vocabulary: no such file")
    assert f"a relative path is read from {root / 'work'}" in result.stderr
    assert str(tmp_path.parent / "missing.ttl") not in result.stderr
    outside = run_cli("import", "skos", "missing.ttl", project=tmp_path.parent)
    assert outside.stderr.startswith("missing.ttl: SEM101"), "the file is named first"


def test_skos_into_a_folder_without_project_says_to_create_one(tmp_path: Path) -> None:
    (tmp_path / "v.ttl").write_text(VOCABULARY)
    result = run_cli("import", "skos", tmp_path / "v.ttl", project=tmp_path)
    assert result.exit_code == 1
    assert "SEM105 no semantic.yml in" in result.stderr
    assert "`semantic init --from-duckdb FILE`" in result.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "v.ttl"], "nothing written"


def test_skos_into_a_project_whose_glossary_is_still_empty(tmp_path: Path) -> None:
    # the project does not load (SEM105: no glossary file), which the import must not need
    root = tmp_path / "p"
    root.mkdir()
    write_project(root, {"models/m.yml": MODEL})
    (root / "glossary").mkdir()
    write_data(root, {"item": "SELECT 1 AS id"})
    assert "SEM105" in run_cli("check", project=root).stderr
    (tmp_path / "v.ttl").write_text(VOCABULARY)
    result = run_cli("import", "skos", tmp_path / "v.ttl", project=root / "glossary")
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in (root / "glossary").iterdir()] == ["finance.yml"]
    project = Project.load(root)
    assert project.model.terms["margin"].labels == {"en": "Margin"}


@pytest.mark.parametrize("kind", ["dbt", "osi"])
def test_dbt_and_osi_make_a_new_project_in_an_empty_folder(tmp_path: Path, kind: str) -> None:
    source = _source(tmp_path, kind)
    target = tmp_path / "new"
    target.mkdir()
    result = run_cli("import", kind, source, "--format", "json", project=target)
    assert result.exit_code == 0, result.stderr
    written = {Path(p).relative_to(target).parts[0] for p in json.loads(result.stdout)["written"]}
    assert written == {"semantic.yml", "models", "glossary", "schemas"}
    _assert_schemas_exist(target)
    assert Project.load(target).model.terms


@pytest.mark.parametrize("kind", ["dbt", "osi"])
def test_an_import_from_inside_a_project_writes_into_that_project(
    tmp_path: Path, kind: str
) -> None:
    source = _source(tmp_path, kind)
    root = tmp_path / "p"
    root.mkdir()
    (root / "semantic.yml").write_text("name: p\nlanguages: [en]\n")
    (root / "glossary").mkdir()  # empty: the import fills it
    result = run_cli("import", kind, source, project=root / "glossary")
    assert result.exit_code == 0, result.stderr
    assert not (root / "glossary" / "semantic.yml").exists()
    assert not (root / "glossary" / "models").exists()
    assert list((root / "models").glob("*.yml")) and list((root / "glossary").glob("*.yml"))
    assert (root / "semantic.yml").read_text() == "name: p\nlanguages: [en]\n"


def test_init_writes_the_schemas_its_files_point_at(tmp_path: Path) -> None:
    write_data(tmp_path, {"item": "SELECT 1 AS id, 'red' AS colour"})
    result = run_cli("init", tmp_path / "p", "--from-files", tmp_path / "data", project=None)
    assert result.exit_code == 0, result.stderr
    _assert_schemas_exist(tmp_path / "p")
    # a project's own schemas are left alone (`semantic schema` refreshes them)
    (tmp_path / "q" / "schemas").mkdir(parents=True)
    (tmp_path / "q" / "schemas" / "model.schema.json").write_text("{}\n")
    result = run_cli("init", tmp_path / "q", "--from-files", tmp_path / "data", project=None)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "q" / "schemas" / "model.schema.json").read_text() == "{}\n"
    assert (tmp_path / "q" / "schemas" / "glossary.schema.json").is_file()


def _source(tmp_path: Path, kind: str) -> Path:
    """A dbt project, or an OSI file exported from a small project."""
    if kind == "dbt":
        return write_dbt_project(tmp_path / "jaffle")
    shop = tmp_path / "shop"
    shop.mkdir()
    write_project(
        shop,
        {
            "models/m.yml": MODEL,
            "glossary/g.yml": """
                domain: shop
                label: {en: Shop}
                terms:
                  item_count:
                    label: {en: Items}
                    metric: {entity: item, expr: count(*)}
            """,
        },
    )
    out = tmp_path / "shop.osi.yml"
    result = run_cli("export", "osi", "-o", out, project=shop)
    assert result.exit_code == 0, result.stderr
    return out
