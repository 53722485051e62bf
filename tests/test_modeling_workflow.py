"""docs/modeling-workflow.md tells the truth, and .pre-commit-hooks.yaml runs real commands.

The page's examples are rerun: the layout example is formatted, the pull-request patch is
applied with `git apply` to the bookshop in a fresh repository and `semantic diff` must print
the comment shown, the GitHub Actions steps are run, and the pre-commit hooks exist.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from semantic.files.fmt import format_text
from semantic.files.schema import GlossaryFile
from tests.cli_runner import run_cli
from tests.conftest import ROOT
from tests.test_diff import git, shop  # noqa: F401 - the fixture

DOC = ROOT / "docs" / "modeling-workflow.md"
HOOKS = ROOT / ".pre-commit-hooks.yaml"


def blocks(tag: str) -> list[str]:
    """The fenced blocks of the page with this tag, in order."""
    return re.findall(rf"^```{tag}\n(.*?)^```$", DOC.read_text(), flags=re.M | re.S)


def load(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def test_the_layout_example() -> None:
    before, after = blocks("yaml")[:2]
    assert format_text(before, GlossaryFile) == after
    assert format_text(after, GlossaryFile) == after


def test_the_pull_request_example(shop: Path) -> None:  # noqa: F811
    [patch] = blocks("diff")
    [comment] = blocks("markdown")
    subprocess.run(
        ["git", "apply", "--directory=shop", "-"],
        cwd=shop.parent,
        input=patch,
        text=True,
        check=True,
    )
    result = run_cli("diff", "main", "--format", "markdown", project=shop)
    assert result.exit_code == 1
    assert result.stdout == comment


def test_the_github_actions_steps_run(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    workflow = next(load(b) for b in blocks("yaml") if "jobs:" in b)
    steps = workflow["jobs"]["vocabulary"]["steps"]
    commands = [s["run"] for s in steps if s.get("run", "").startswith("semantic ")]
    assert len(commands) == 3
    monkeypatch.chdir(shop)
    for command in commands:
        command = command.replace('"origin/${{ github.base_ref }}"', "main")
        result = run_cli(*shlex.split(command)[1:], project=None)
        assert result.exit_code == 0, (command, result.stderr)
    assert (shop / "vocabulary-diff.md").read_text().endswith("No change to the vocabulary.\n")


def test_the_pre_commit_config_names_the_hooks() -> None:
    config = next(load(b) for b in blocks("yaml") if "repos:" in b)
    ids = {hook["id"] for hook in load(HOOKS.read_text())}
    assert (
        {h["id"] for h in config["repos"][0]["hooks"]}
        == ids
        == {
            "semantic-check",
            "semantic-fmt",
        }
    )


# --- .pre-commit-hooks.yaml -----------------------------------------------------------------


def hooks() -> dict[str, dict[str, Any]]:
    return {hook["id"]: hook for hook in load(HOOKS.read_text())}


def test_hooks_are_python_hooks_of_our_script() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for hook in hooks().values():
        assert hook["language"] == "python"
        assert shlex.split(hook["entry"])[0] in scripts
        assert set(hook) <= {"id", "name", "description", "entry", "language", "files"} | {
            "pass_filenames"
        }
    assert hooks()["semantic-check"]["pass_filenames"] is False
    assert hooks()["semantic-fmt"]["pass_filenames"] is True


@pytest.mark.parametrize(
    ("path", "matched"),
    [
        ("semantic.yml", True),
        ("models/tpch.yml", True),
        ("glossary/sales.yml", True),
        ("examples/bookshop/glossary/catalogue.yml", True),
        ("analytics/models/shop.yaml", True),
        (".pre-commit-hooks.yaml", False),
        (".github/workflows/ci.yml", False),
        ("schemas/glossary.schema.json", False),
        ("glossary/old/sales.yml", False),
    ],
)
def test_hooks_run_on_project_yaml_only(path: str, matched: bool) -> None:
    for hook in hooks().values():
        # pre-commit matches `files` with re.search on the path from the repository root
        assert bool(re.search(hook["files"], path)) is matched


def test_hook_entries_run_on_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    """As pre-commit runs them: from the repository root, fmt with the matching files."""
    monkeypatch.chdir(ROOT)
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for hook in hooks().values():
        files = [p for p in tracked if re.search(hook["files"], p)]
        assert "examples/bookshop/glossary/sales.yml" in files
        args = shlex.split(hook["entry"])[1:] + (files if hook["pass_filenames"] else [])
        before = {p: Path(p).read_bytes() for p in files}
        result = run_cli(*args, project=None)
        assert result.exit_code == 0, result.stderr
        assert {p: Path(p).read_bytes() for p in files} == before
    # 8 files at the root (glossary/subject_areas.yml among them) and 4 in the bookshop
    assert "12 unchanged" in result.stderr
