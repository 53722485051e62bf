"""Every command that writes files gives them the mode a user expects: a new file gets 0666
less the umask (0644 under umask 022, 0640 under 027), a new folder 0777 less the umask, and
a file that exists keeps its own mode (a private 0640 file stays private, a 0755 one stays
executable). The writes go through a temporary file and a rename; `mkstemp`'s private 0600
must never leak into the project (it did: `semantic fmt` and `export -o` made files 0600)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_runner import run_cli
from tests.dbt_project import write_dbt_project
from tests.projects import write_data, write_project

MODEL = """
    entities:
      item:
        table: item
        primary_key: [id]
        columns:
          id: {type: integer}
          colour: {type: varchar}
          price: {type: double}
"""
GLOSSARY = """
    domain: shop
    label: {en: Shop, fr: Boutique}
    terms:
      colour:
        label: {en: Colour, fr: Couleur}
        dimension: {entity: item, expr: colour}
      revenue:
        label: {en: Revenue, fr: Recette}
        metric:
          entity: item
          expr: sum(price)
"""
SKOS = """
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://vocab.example.com/> .
ex:finance a skos:ConceptScheme ; skos:prefLabel "Finance"@en .
ex:Margin a skos:Concept ; skos:inScheme ex:finance ; skos:prefLabel "Margin"@en .
"""


@pytest.fixture(params=[0o022, 0o027], ids=["umask022", "umask027"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The process's umask set for the test, put back after it."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _shop(root: Path) -> Path:
    root.mkdir()
    write_project(root, {"models/shop.yml": MODEL, "glossary/shop.yml": GLOSSARY})
    write_data(root, {"item": "SELECT 1 AS id, 'red' AS colour, 2.5 AS price"})
    return root


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _assert_new(paths: list[Path], umask: int) -> None:
    """Each path has the mode a new file (or folder) gets under `umask`."""
    assert paths
    for path in paths:
        want = (0o777 if path.is_dir() else 0o666) & ~umask
        assert _mode(path) == want, f"{path}: {oct(_mode(path))}, not {oct(want)}"


def _ok(*args: str | Path, project: Path | None = None) -> None:
    result = run_cli(*args, project=project)
    assert result.exit_code == 0, result.stderr


def test_export_and_docs_write_files_and_folders_under_the_umask(
    tmp_path: Path, umask: int
) -> None:
    root = _shop(tmp_path / "shop")
    _ok("export", "rdf", "-o", tmp_path / "out" / "shop.ttl", project=root)
    _ok("export", "osi", "-o", tmp_path / "out" / "shop.osi.yml", project=root)
    _ok("docs", "build", "-o", tmp_path / "site", project=root)
    site = tmp_path / "site"
    _assert_new(
        [
            tmp_path / "out" / "shop.ttl",
            tmp_path / "out" / "shop.osi.yml",
            site,
            site / "index.html",
            *[p for p in site.rglob("*") if p.is_dir()],
        ],
        umask,
    )


def test_init_and_imports_write_new_files_under_the_umask(tmp_path: Path, umask: int) -> None:
    data = tmp_path / "data"
    data.mkdir()
    write_data(tmp_path, {"item": "SELECT 1 AS id, 'red' AS colour"})
    _ok("init", tmp_path / "fromfiles", "--from-files", data)
    dbt = write_dbt_project(tmp_path / "jaffle")
    _ok("import", "dbt", dbt, "--into", tmp_path / "fromdbt")
    root = _shop(tmp_path / "shop")
    _ok("export", "osi", "-o", tmp_path / "shop.osi.yml", project=root)
    _ok("import", "osi", tmp_path / "shop.osi.yml", "--into", tmp_path / "fromosi")
    (tmp_path / "v.ttl").write_text(SKOS)
    _ok("import", "skos", tmp_path / "v.ttl", project=root)
    written = [
        *(tmp_path / "fromfiles").rglob("*"),
        *(tmp_path / "fromdbt").rglob("*"),
        *(tmp_path / "fromosi").rglob("*"),
        root / "glossary" / "finance.yml",
    ]
    _assert_new(written, umask)


def test_fmt_and_schema_keep_the_mode_of_existing_files(tmp_path: Path, umask: int) -> None:
    root = _shop(tmp_path / "shop")
    private, executable = root / "glossary" / "shop.yml", root / "models" / "shop.yml"
    # not in the canonical layout, so that fmt rewrites both
    private.write_text(private.read_text().replace("label: {en: Shop", "label: {en: 'Shop'"))
    executable.write_text(executable.read_text().replace("{type: integer}", "{type: 'integer'}"))
    private.chmod(0o640)
    executable.chmod(0o755)
    _ok("fmt", project=root)
    assert "'Shop'" not in private.read_text() and "'integer'" not in executable.read_text()
    assert _mode(private) == 0o640
    assert _mode(executable) == 0o755
    _ok("schema", project=root)
    schemas = sorted((root / "schemas").iterdir())
    _assert_new([root / "schemas", *schemas], umask)
    schemas[0].chmod(0o640)
    _ok("schema", project=root)
    assert _mode(schemas[0]) == 0o640


def test_exports_keep_the_mode_of_the_file_they_replace(tmp_path: Path, umask: int) -> None:
    root = _shop(tmp_path / "shop")
    for name, mode, command in [
        ("shop.ttl", 0o640, ("export", "rdf")),
        ("shop.osi.yml", 0o755, ("export", "osi")),
    ]:
        target = tmp_path / name
        target.write_text("old\n")
        target.chmod(mode)
        _ok(*command, "-o", target, project=root)
        assert target.read_text() != "old\n"
        assert _mode(target) == mode, name
    site = tmp_path / "site"
    _ok("docs", "build", "-o", site, project=root)
    site.chmod(0o750)
    _ok("docs", "build", "-o", site, project=root)
    assert _mode(site) == 0o750


def test_an_export_through_a_symbolic_link_rewrites_its_target(tmp_path: Path) -> None:
    root = _shop(tmp_path / "shop")
    target = tmp_path / "real.ttl"
    target.write_text("old\n")
    target.chmod(0o640)
    (tmp_path / "link.ttl").symlink_to(target)
    _ok("export", "rdf", "-o", tmp_path / "link.ttl", project=root)
    assert (tmp_path / "link.ttl").is_symlink()
    assert "skos" in target.read_text()
    assert _mode(target) == 0o640
