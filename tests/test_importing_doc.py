"""docs/importing.md tells the truth: its dbt example, imported, writes exactly the files and
the report the page shows, and the files make a project that checks clean."""

from __future__ import annotations

import re
from pathlib import Path

from semantic.project import Project
from tests.cli_runner import run_cli
from tests.conftest import ROOT

DOC = ROOT / "docs" / "importing.md"
_BLOCK = re.compile(r"<!-- (dbt|writes): (\S+) -->\n```\w*\n(.*?)```", re.S)
_REPORT = re.compile(r"<!-- report -->\n```text\n(.*?)```", re.S)


def test_the_dbt_example_imports_as_shown(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    blocks = _BLOCK.findall(text)
    inputs = {path: body for kind, path, body in blocks if kind == "dbt"}
    outputs = {path: body for kind, path, body in blocks if kind == "writes"}
    assert len(inputs) == 2 and len(outputs) == 3
    for path, body in inputs.items():
        (tmp_path / "dbt" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "dbt" / path).write_text(body)
    result = run_cli(
        "import", "dbt", str(tmp_path / "dbt"), "--into", str(tmp_path / "p"), project=None
    )
    assert result.exit_code == 0, result.stderr
    report = [line for line in result.stderr.splitlines() if not line.startswith("import dbt")]
    (shown,) = _REPORT.findall(text)
    assert report == shown.splitlines()
    for path, body in outputs.items():
        assert (tmp_path / "p" / path).read_text() == body, path
    written = {str(p.relative_to(tmp_path / "p")) for p in (tmp_path / "p").rglob("*.yml")}
    assert written == {*outputs, "semantic.yml"}
    project = Project.load(tmp_path / "p")
    assert project.compile("SELECT status, completed_total")


def test_the_latest_spec_example_imports_into_the_same_files(tmp_path: Path) -> None:
    """The dbt example written in the latest spec (dbt 1.12) writes the files the classic
    example writes, with the report the page shows."""
    text = DOC.read_text(encoding="utf-8")
    blocks = _BLOCK.findall(text)
    outputs = {path: body for kind, path, body in blocks if kind == "writes"}
    project = {path: body for kind, path, body in blocks if kind == "dbt" and "/" not in path}
    latest = re.findall(r"<!-- dbt latest: (\S+) -->\n```yaml\n(.*?)```", text, re.S)
    assert len(latest) == 1
    for path, body in [*project.items(), *latest]:
        (tmp_path / "dbt" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "dbt" / path).write_text(body)
    result = run_cli(
        "import", "dbt", str(tmp_path / "dbt"), "--into", str(tmp_path / "p"), project=None
    )
    assert result.exit_code == 0, result.stderr
    report = [line for line in result.stderr.splitlines() if not line.startswith("import dbt")]
    (shown,) = re.findall(r"<!-- latest report -->\n```text\n(.*?)```", text, re.S)
    assert report == shown.splitlines()
    for path, body in outputs.items():
        assert (tmp_path / "p" / path).read_text() == body, path
    assert Project.load(tmp_path / "p").compile(
        "SELECT ordered_at.month, completed_total, order_total_mtd, order_total_so_far"
    )


def test_the_dbt_example_exports_back_as_shown(tmp_path: Path) -> None:
    """The project the dbt example imports into, exported with `semantic export dbt`,
    writes the files and the report the page shows."""
    text = DOC.read_text(encoding="utf-8")
    for kind, path, body in _BLOCK.findall(text):
        if kind == "dbt":
            (tmp_path / "dbt" / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / "dbt" / path).write_text(body)
    run_cli("import", "dbt", str(tmp_path / "dbt"), "--into", str(tmp_path / "p"), project=None)
    result = run_cli("export", "dbt", "-o", str(tmp_path / "out"), project=tmp_path / "p")
    assert result.exit_code == 0, result.stderr
    (shown,) = re.findall(r"<!-- export report -->\n```text\n(.*?)```", text, re.S)
    report = [line for line in result.stderr.splitlines() if not line.startswith("export dbt")]
    assert report == shown.splitlines()
    exports = re.findall(r"<!-- exports: (\S+) -->\n```yaml\n(.*?)```", text, re.S)
    assert len(exports) == 2
    for path, body in exports:
        assert (tmp_path / "out" / path).read_text() == body, path


def test_the_init_excerpt_is_what_init_writes(project: Project, tmp_path: Path) -> None:
    (excerpt,) = re.findall(r"<!-- init excerpt -->\n```yaml\n(.*?)```", DOC.read_text(), re.S)
    result = run_cli(
        "init", str(tmp_path / "tpch"), "--from-files", str(project.data_dir), project=None
    )
    assert result.exit_code == 0, result.stderr
    written = (tmp_path / "tpch" / "models" / "tpch.yml").read_text().splitlines()
    position = 0
    for line in excerpt.splitlines():
        if line.strip() == "...":
            continue
        position = written.index(line, position) + 1  # each line, in this order
