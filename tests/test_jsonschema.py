"""The JSON Schemas editors use agree with the files and with the loader."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from semantic.files.jsonschema import MODELINE, schemas
from tests.cli_runner import run_cli
from tests.conftest import ROOT

KINDS = {"semantic.yml": "project", "models": "model", "glossary": "glossary"}


def project_files() -> list[tuple[Path, str]]:
    found = []
    for root in (ROOT, ROOT / "examples" / "bookshop"):
        found.append((root / "semantic.yml", "project"))
        found += [(p, "model") for p in sorted((root / "models").glob("*.yml"))]
        found += [(p, "glossary") for p in sorted((root / "glossary").glob("*.yml"))]
    found.append((ROOT / "policies.yml", "policy"))
    return found


def test_committed_schemas_are_up_to_date() -> None:
    for name, text in schemas().items():
        assert (ROOT / "schemas" / name).read_text() == text, f"run `semantic schema` ({name})"


@pytest.mark.parametrize(("path", "kind"), project_files(), ids=lambda v: str(v))
def test_every_file_names_its_schema_and_follows_it(path: Path, kind: str) -> None:
    first = path.read_text().splitlines()[0]
    assert first.startswith(MODELINE.format(path="")), path
    target = (path.parent / first.split("$schema=", 1)[1]).resolve()
    assert target == (ROOT / "schemas" / f"{kind}.schema.json").resolve()
    document = json.loads(json.dumps(YAML(typ="safe").load(path.read_text())))
    jsonschema.validate(document, json.loads(target.read_text()))


def test_the_schema_refuses_what_the_loader_refuses() -> None:
    glossary = json.loads(schemas()["glossary.schema.json"])
    bad = {"domain": "d", "terms": {"t": {"label": {"en": "T"}, "metrik": {}}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, glossary)
    two_meanings = {
        "domain": "d",
        "terms": {"t": {"label": {"en": "T"}, "concept": {}, "metric": {"expr": "a"}}},
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(two_meanings, glossary)  # exactly one meaning, as the loader says
    description = glossary["$defs"]["TermSpec"]["properties"]["hidden_labels"]["description"]
    assert "misspellings" in description


def test_schema_command_writes_the_schemas(tmp_path: Path) -> None:
    result = run_cli("schema", "--into", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(schemas())
