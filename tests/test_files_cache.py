"""The YAML trees kept between runs (semantic.files.cache): an unchanged file is not scanned
again, a changed one always is, and a slot that cannot be trusted or read is never used."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from semantic.files import cache, read
from semantic.files.cache import cached_tree
from semantic.files.read import read_file
from semantic.files.schema import GlossaryFile

GLOSSARY = """\
domain: sales
terms:
  revenue:
    label: {en: Revenue}
    metric: {entity: orders, expr: sum(amount)}
  order_day:
    label: {en: Order day}
    dimension: {entity: orders, expr: order_date}
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SEMANTIC_CACHE_DIR", str(folder))
    return folder


class Scanner:
    """A scan that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: str) -> list[str]:
        self.calls += 1
        return text.split()


def slots(folder: Path) -> list[Path]:
    return sorted((folder / "yaml").glob("*.pickle"))


def test_an_unchanged_text_is_scanned_once(folder: Path, tmp_path: Path) -> None:
    scan, file = Scanner(), tmp_path / "g.yml"
    assert cached_tree(file, "a b", "m", scan) == ["a", "b"]
    assert cached_tree(file, "a b", "m", scan) == ["a", "b"]
    assert scan.calls == 1 and len(slots(folder)) == 1
    # another text, another maker: scanned again, in the same slot (one per file)
    assert cached_tree(file, "a b c", "m", scan) == ["a", "b", "c"]
    assert cached_tree(file, "a b c", "m2", scan) == ["a", "b", "c"]
    assert scan.calls == 3 and len(slots(folder)) == 1
    # another file: a slot of its own
    cached_tree(tmp_path / "h.yml", "a b c", "m2", scan)
    assert scan.calls == 4 and len(slots(folder)) == 2


def test_a_slot_others_may_write_is_not_read(folder: Path, tmp_path: Path) -> None:
    scan, file = Scanner(), tmp_path / "g.yml"
    cached_tree(file, "a", "m", scan)
    (slot,) = slots(folder)
    assert stat.S_IMODE(slot.stat().st_mode) & 0o077 == 0  # the user's own
    slot.chmod(0o666)
    cached_tree(file, "a", "m", scan)
    assert scan.calls == 2
    assert stat.S_IMODE(slot.stat().st_mode) & 0o077 == 0  # rewritten as the user's own


def test_a_damaged_slot_is_scanned_again(folder: Path, tmp_path: Path) -> None:
    scan, file = Scanner(), tmp_path / "g.yml"
    cached_tree(file, "a", "m", scan)
    (slot,) = slots(folder)
    slot.write_bytes(slot.read_bytes()[:-5])  # a pickle cut short
    assert cached_tree(file, "a", "m", scan) == ["a"]
    assert cached_tree(file, "a", "m", scan) == ["a"]
    assert scan.calls == 2


def test_a_failed_scan_is_not_kept(folder: Path, tmp_path: Path) -> None:
    def broken(text: str) -> object:
        raise ValueError(text)

    with pytest.raises(ValueError):
        cached_tree(tmp_path / "g.yml", "a", "m", broken)
    assert slots(folder) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anyway")
def test_a_cache_that_cannot_be_written_is_only_slower(folder: Path, tmp_path: Path) -> None:
    folder.mkdir()
    folder.chmod(0o500)
    try:
        scan = Scanner()
        assert cached_tree(tmp_path / "g.yml", "a", "m", scan) == ["a"]
        assert cached_tree(tmp_path / "g.yml", "a", "m", scan) == ["a"]
        assert scan.calls == 2
    finally:
        folder.chmod(0o700)


def test_a_cache_folder_that_is_a_file_is_only_slower(folder: Path, tmp_path: Path) -> None:
    folder.write_text("not a folder")
    scan = Scanner()
    assert cached_tree(tmp_path / "g.yml", "a", "m", scan) == ["a"]
    assert cached_tree(tmp_path / "g.yml", "a", "m", scan) == ["a"]
    assert scan.calls == 2


def test_read_file_gives_the_same_document_from_the_cache(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read, "FAST", False)  # trees are kept when ruamel reads the file
    file = tmp_path / "g.yml"
    file.write_text(GLOSSARY)
    first, problems = read_file(file, GlossaryFile, "g.yml")
    assert first is not None and problems == [] and len(slots(folder)) == 1

    def no_scan() -> object:
        raise AssertionError("an unchanged file was scanned again")

    with monkeypatch.context() as patch:
        patch.setattr(read, "_yaml", no_scan)
        again, problems = read_file(file, GlossaryFile, "g.yml")
    assert again is not None and problems == []
    assert again.data == first.data
    for path in [("terms", "revenue"), ("terms", "order_day", "dimension", "expr")]:
        assert again.span(path) == first.span(path)
        assert again.span(path, value=True) == first.span(path, value=True)
    assert again.span(("terms", "order_day"), value=True).line == 7


@pytest.mark.parametrize("fast", [True, False])
def test_a_changed_file_is_read_again_with_its_problems(
    folder: Path, tmp_path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read, "FAST", fast)
    file = tmp_path / "g.yml"
    file.write_text(GLOSSARY)
    read_file(file, GlossaryFile, "g.yml")
    file.write_text(GLOSSARY.replace("label: {en: Order day}", "lable: {en: Order day}"))
    for _ in range(2):  # the second time from the kept tree: the same message, same place
        doc, problems = read_file(file, GlossaryFile, "g.yml")
        assert doc is None
        assert [p.render().splitlines()[0] for p in problems] == [
            "g.yml:6:3: SEM102 missing key 'label' in terms.order_day",
            "g.yml:7:5: SEM102 unknown key 'lable' in terms.order_day",
        ]
    # broken YAML is never kept: each read says so
    file.write_text("terms: [\n")
    for _ in range(2):
        _, problems = read_file(file, GlossaryFile, "g.yml")
        assert [p.code for p in problems] == ["SEM101"]


def test_a_tree_libyaml_read_is_not_kept(folder: Path, tmp_path: Path) -> None:
    """libyaml reads a file about as fast as a kept tree is unpickled: its trees are not
    kept; a file only ruamel can read (here a merge key) is."""
    file = tmp_path / "g.yml"
    file.write_text(GLOSSARY)
    doc, problems = read_file(file, GlossaryFile, "g.yml")
    assert doc is not None and problems == [] and slots(folder) == []
    merged = tmp_path / "merged.yml"
    merged.write_text(
        GLOSSARY + "  other: &o {label: {en: Other}, concept: {}}\n  more:\n    <<: *o\n"
    )
    read_file(merged, GlossaryFile, "merged.yml")
    assert len(slots(folder)) == (1 if read.fastyaml.AVAILABLE else 2)


def test_the_cache_folder_is_the_users(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SEMANTIC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "semantic"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.cache_dir() == Path.home() / ".cache" / "semantic"


def test_a_timestamp_comes_back_as_it_was_written(folder: Path, tmp_path: Path) -> None:
    """ruamel's timestamps keep how they were written through the cache (a pickle):
    datetime's own pickle dropped it."""
    import pickle

    from ruamel.yaml import YAML

    text = "created: 2024-08-23T10:00:00Z\nmodified: 2024-08-24 11:30:00+02:00\n"
    tree = YAML().load(text)
    for again in (pickle.loads(pickle.dumps(tree)),):
        for key in ("created", "modified"):
            assert again[key] == tree[key] and again[key].tzinfo == tree[key].tzinfo
            assert again[key]._yaml == tree[key]._yaml
    file = tmp_path / "dated.yml"
    file.write_text(text)
    scanned, kept = (cached_tree(file, text, read._tree_maker(), read._scan) for _ in range(2))
    assert len(slots(folder)) == 1  # the second came from the slot
    for key in ("created", "modified"):
        assert kept[key] == scanned[key] and kept[key].tzinfo == scanned[key].tzinfo
        assert kept[key]._yaml == scanned[key]._yaml
