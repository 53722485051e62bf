"""A loaded project kept between runs (semantic.files.loadcache): an unchanged project is not
built again, any change to its files is, a load with errors is never kept, and a kept load
gives exactly what a fresh load gives (model and diagnostics)."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

import semantic.project.loading
from semantic.project import Project

ROOT = Path(__file__).resolve().parents[1]

#: a derived metric with fill_null: warning SEM229, so that the load has a warning to keep
EXTRA = """\
domain: extra
label: {en: Extra, fr: Extra}
terms:
  order_ratio:
    label: {en: Order ratio, fr: Ratio de commandes}
    metric: {expr: "order_count / nullif(order_count, 0)", fill_null: 0}
"""


class Builds:
    """`build_model`, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.build = semantic.project.loading.build_model

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.build(*args, **kwargs)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Builds:
    counter = Builds()
    monkeypatch.setattr(semantic.project.loading, "build_model", counter)
    return counter


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository's project, with one more glossary file that warns."""
    monkeypatch.setenv("SEMANTIC_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(ROOT / "semantic.yml", root / "semantic.yml")
    shutil.copytree(ROOT / "models", root / "models")
    shutil.copytree(ROOT / "glossary", root / "glossary")
    (root / "glossary" / "extra.yml").write_text(EXTRA, encoding="utf-8")
    return root


def fresh(root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Any, Any]:
    """The load of `root` with an empty cache folder."""
    with monkeypatch.context() as patch:
        patch.setenv("SEMANTIC_CACHE_DIR", str(tmp_path / f"fresh{len(os.listdir(tmp_path))}"))
        return Project.inspect(root)


def slots(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "projects").glob("*.pickle"))


def test_an_unchanged_project_is_built_once(
    project: Path, builds: Builds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, first_diagnostics = Project.inspect(project)
    kept, kept_diagnostics = Project.inspect(project)
    assert builds.calls == 1 and len(slots(tmp_path)) == 1
    assert first is not None and kept is not None
    assert kept.model is not first.model  # read back from the slot, not shared in memory
    new, new_diagnostics = fresh(project, monkeypatch, tmp_path)
    assert builds.calls == 2 and new is not None
    assert kept.model == new.model == first.model
    assert kept_diagnostics == new_diagnostics == first_diagnostics
    assert kept.warnings == new.warnings and "SEM229" in {d.code for d in kept.warnings}
    # the kept model compiles as the fresh one does
    query = "SELECT order_date.year, order_ratio, order_count"
    assert kept.compile(query) == new.compile(query)
    # Project.load uses it too
    assert Project.load(project).model == new.model and builds.calls == 2


def test_any_change_to_the_files_builds_again(project: Path, builds: Builds) -> None:
    Project.inspect(project)
    extra = project / "glossary" / "extra.yml"
    extra.write_text(EXTRA.replace("Order ratio", "Orders ratio"), encoding="utf-8")
    changed, _ = Project.inspect(project)
    assert builds.calls == 2 and changed is not None
    assert changed.model.terms["order_ratio"].labels["en"] == "Orders ratio"
    Project.inspect(project)
    assert builds.calls == 2
    more = EXTRA.replace("xtra", "more").replace("rder ratio", "ther").replace("order_r", "other_r")
    (project / "glossary" / "more.yaml").write_text(more.replace("Ratio de", "Autre"), "utf-8")
    added, problems = Project.inspect(project)
    assert builds.calls == 3 and added is not None and "other_ratio" in added.model.terms
    assert not [d for d in problems if d.severity == "error"]  # so kept: the next is a change
    (project / "glossary" / "more.yaml").unlink()
    removed, _ = Project.inspect(project)
    assert builds.calls == 4 and removed is not None and "other_ratio" not in removed.model.terms
    config = project / "semantic.yml"
    config.write_text(config.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    Project.inspect(project)
    assert builds.calls == 5


def test_a_load_with_errors_is_never_kept(project: Path, builds: Builds, tmp_path: Path) -> None:
    extra = project / "glossary" / "extra.yml"
    extra.write_text(EXTRA.replace("nullif(order_count", "nullif(order_cnt"), encoding="utf-8")
    _, first = Project.inspect(project)
    _, second = Project.inspect(project)
    assert builds.calls == 2 and slots(tmp_path) == []
    assert first == second and "SEM201" in {d.code for d in first}


def test_a_slot_others_may_write_is_not_used(project: Path, builds: Builds, tmp_path: Path) -> None:
    Project.inspect(project)
    (slot,) = slots(tmp_path)
    slot.chmod(slot.stat().st_mode | stat.S_IWOTH)
    Project.inspect(project)
    assert builds.calls == 2
    # written again by this user, only for them: used
    assert not slot.stat().st_mode & stat.S_IWOTH
    Project.inspect(project)
    assert builds.calls == 2


def test_each_file_is_read_once_when_the_load_is_built(
    project: Path, builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bytes hashed for the key are the bytes parsed: a load that is built (nothing kept,
    or a file changed) opens each project file once."""
    opened: list[str] = []
    real_open = os.open

    def counting_open(path: Any, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith((".yml", ".yaml")):
            opened.append(os.path.relpath(path, project))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting_open)
    Project.inspect(project)  # nothing kept
    assert opened and len(opened) == len(set(opened)), sorted(opened)
    assert "semantic.yml" in opened and "glossary/extra.yml" in opened
    opened.clear()
    extra = project / "glossary" / "extra.yml"
    extra.write_text(EXTRA.replace("Order ratio", "Orders ratio"), encoding="utf-8")
    Project.inspect(project)  # kept, but a file changed
    assert builds.calls == 2 and len(opened) == len(set(opened)), sorted(opened)
