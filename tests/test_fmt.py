"""`semantic fmt`: canonical, idempotent, comment-keeping, and never touching a broken file."""

from __future__ import annotations

import dataclasses
import io
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from semantic.errors import SemanticError, Span
from semantic.files.fmt import (
    _check_same,
    _put_before,
    _reorder,
    format_project,
    format_text,
    project_files,
)
from semantic.files.schema import GlossaryFile, ModelFile
from semantic.model import Model
from semantic.project import Project
from tests.budget import examples
from tests.cli_runner import run_cli
from tests.conftest import ROOT

BOOKSHOP = ROOT / "examples" / "bookshop"
#: messy versions of the repository's files per property test (tests/budget.py)
SHUFFLES = examples(full=25, fast=10)
REPOSITORY_FILES = [
    (path, schema) for root in (ROOT, BOOKSHOP) for path, schema in project_files(root)
]


def fmt(project: Path, *args: str) -> tuple[int, str, str]:
    return run_cli("fmt", *args, project=project)


def copy_project(source: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in ("semantic.yml", "models", "glossary"):
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name)
        else:
            shutil.copy(source / name, target / name)
    return target


def comparable(model: Model) -> dict[str, Any]:
    """The model without source positions (formatting moves lines, never meanings)."""

    def strip(items: Any) -> dict[str, Any]:
        return {k: dataclasses.replace(v, span=Span("")) for k, v in items.items()}

    return {
        "terms": strip(model.terms),
        "entities": strip(model.entities),
        "domains": strip(model.domains),
        "edges": model.edges,
        "names": model.names,
        "languages": model.languages,
    }


# --- the repository -------------------------------------------------------------------------


@pytest.mark.parametrize("root", [ROOT, BOOKSHOP], ids=["tpch", "bookshop"])
def test_repository_files_are_canonical(root: Path) -> None:
    code, _, err = fmt(root, "--check")
    assert code == 0, err
    assert "0 file(s) would be reformatted" in err
    assert all(not r.changed and not r.diagnostics for r in format_project(root, check=True))


@pytest.mark.parametrize(
    ("path", "schema"),
    REPOSITORY_FILES,
    ids=[str(p.relative_to(ROOT)) for p, _ in REPOSITORY_FILES],
)
def test_repository_files_are_fixed_points_and_keep_their_schema_comment(
    path: Path, schema: type[BaseModel]
) -> None:
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert format_text(text, schema) == text


# --- a messy file ---------------------------------------------------------------------------

MESSY = """\
# yaml-language-server: $schema=../schemas/glossary.schema.json
# Head comment of the file.

terms:
    net_sales:    # the main metric
        # about the meaning
        metric:
            expr: "sum(amount)"
            entity: 'sales'
        status: approved
        label: {en: "Net sales", fr: 'Ventes nettes'}

    # the next term
    sale_date:
        time_dimension: {entity: sales, expr: sold_on, grains: [month, 'year']}
        owners:
        - finance   # who answers questions
        - "sales-ops"
        label:
            en: "Sale date: the day"
            fr: "1995"
domain: sales  # one file, one domain
"""

CANONICAL = """\
# yaml-language-server: $schema=../schemas/glossary.schema.json
# Head comment of the file.

domain: sales  # one file, one domain
terms:
  net_sales:  # the main metric
    label: {en: Net sales, fr: Ventes nettes}
    status: approved
    # about the meaning
    metric:
      entity: sales
      expr: sum(amount)

  # the next term
  sale_date:
    label:
      en: "Sale date: the day"
      fr: "1995"
    owners:
      - finance  # who answers questions
      - sales-ops
    time_dimension: {entity: sales, expr: sold_on, grains: [month, year]}
"""


def test_a_messy_file_gets_the_canonical_layout() -> None:
    assert format_text(MESSY, GlossaryFile) == CANONICAL
    assert format_text(CANONICAL, GlossaryFile) == CANONICAL


def test_comments_and_blank_lines_survive_reordering() -> None:
    text = format_text(MESSY, GlossaryFile)
    comments = [line.strip() for line in MESSY.splitlines() if "#" in line]
    for comment in comments:
        assert comment.split("#", 1)[1] in text
    assert text.count("\n\n") == MESSY.count("\n\n")


def test_quotes_stay_where_they_are_needed() -> None:
    text = format_text(
        textwrap.dedent("""\
            domain: d
            terms:
              t:
                label: {en: "a, b", fr: 'yes', de: "# not a comment", es: "x: y"}
                synonyms: {en: ["007", "true", "null", "1.5", "it's"]}
                concept: {}
            """),
        GlossaryFile,
    )
    # YAML 1.2, as the loader and editors read it: yes is a string
    assert 'label: {en: "a, b", fr: yes, de: "# not a comment", es: "x: y"}' in text
    assert 'synonyms: {en: ["007", "true", "null", "1.5", it\'s]}' in text


def test_a_change_of_comments_is_refused() -> None:
    with pytest.raises(SemanticError) as caught:
        _check_same("a: 1  # kept\n", "a: 1\n")
    assert caught.value.code == "SEM107"
    with pytest.raises(SemanticError):
        _check_same("a: '1'\n", "a: 1\n")


# --- property: shuffled keys and any indentation format back to the canonical file -----------


def _messy(text: str, schema: type[BaseModel], seed: int, indent: tuple[int, int, int]) -> str:
    """`text` with the keys of every schema object shuffled and another indentation."""
    import random

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1_000_000
    yaml.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    tree = yaml.load(text)
    shuffle = random.Random(seed).shuffle

    def walk(node: Any, root: bool = False) -> list[str]:
        first: list[str] = []
        if isinstance(node, CommentedMap):
            keys = list(node)
            # a comment before the first key of a file is its head comment: keep that key first
            head, rest = (keys[:1], keys[1:]) if root else ([], keys)
            shuffle(rest)
            first = _reorder(node, head + rest, root=root)
            for key in list(node):
                _put_before(node, key, walk(node[key]))
        elif isinstance(node, CommentedSeq):
            for index, item in enumerate(node):
                _put_before(node, index, walk(item))
        return first

    walk(tree, root=True)
    buffer = io.StringIO()
    yaml.dump(tree, buffer)
    return buffer.getvalue()


@settings(
    max_examples=SHUFFLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    index=st.integers(0, len(REPOSITORY_FILES) - 1),
    seed=st.integers(0, 2**32),
    indent=st.sampled_from([(2, 4, 2), (4, 4, 2), (2, 2, 0), (4, 6, 4), (3, 3, 1)]),
)
def test_shuffled_and_reindented_files_format_back(
    index: int, seed: int, indent: tuple[int, int, int]
) -> None:
    path, schema = REPOSITORY_FILES[index]
    canonical = path.read_text()
    messy = _messy(canonical, schema, seed, indent)
    once = format_text(messy, schema)
    assert format_text(once, schema) == once
    # the id-keyed maps (terms, columns) were shuffled too: only they may differ in order
    safe = YAML(typ="safe", pure=True)
    assert safe.load(once) == safe.load(canonical)
    if schema in (GlossaryFile, ModelFile):
        return
    assert once == canonical


# --- the project after fmt ------------------------------------------------------------------


def test_the_project_loads_to_the_same_model_after_fmt(tmp_path: Path) -> None:
    root = copy_project(ROOT, tmp_path)
    for path, schema in project_files(root):
        path.write_text(_messy(path.read_text(), schema, 7, (4, 4, 2)))
    before = Project.load(root).model
    code, _, err = fmt(root, "--check")
    assert code == 1 and "SEM106" in err
    code, _, err = fmt(root)
    assert code == 0, err
    assert comparable(Project.load(root).model) == comparable(before)
    code, _, err = fmt(root, "--check")
    assert code == 0, err


# --- broken files and the command line -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [("domain: d\nterms: {t: [\n", "SEM101"), ("domain: d\nterms: {}\ncolor: red\n", "SEM102")],
)
def test_a_broken_file_is_reported_and_left_untouched(tmp_path: Path, text: str, code: str) -> None:
    root = copy_project(BOOKSHOP, tmp_path)
    broken = root / "glossary" / "broken.yml"
    broken.write_text(text)
    messy = root / "glossary" / "sales.yml"
    messy.write_text(messy.read_text().replace("label: {en: Revenue", "label: {en: 'Revenue'"))
    status, _, err = fmt(root)
    assert status == 1
    assert "glossary/broken.yml:" in err and code in err
    assert broken.read_text() == text
    # the other files are still formatted
    assert "label: {en: Revenue" in messy.read_text() and "formatted" in err


def test_check_lists_the_files_and_shows_a_diff(tmp_path: Path) -> None:
    root = copy_project(BOOKSHOP, tmp_path)
    sales = root / "glossary" / "sales.yml"
    messy = sales.read_text().replace("expr: sum(quantity)}", "expr: 'sum(quantity)'}")
    sales.write_text(messy)
    code, out, err = fmt(root, "--check", "--diff")
    assert code == 1
    assert "glossary/sales.yml: SEM106 file is not formatted" in err
    assert "-    metric: {entity: order_lines, expr: 'sum(quantity)'}" in out
    assert "+    metric: {entity: order_lines, expr: sum(quantity)}" in out
    assert sales.read_text() == messy
    assert fmt(root)[0] == 0
    assert fmt(root, "--check")[0] == 0


def test_files_given_are_formatted_in_their_own_project(tmp_path: Path) -> None:
    """As pre-commit calls it: changed files, from the repository root, other YAML too."""
    root = copy_project(BOOKSHOP, tmp_path / "shop")
    sales = root / "glossary" / "sales.yml"
    sales.write_text(sales.read_text().replace("status: approved", "status: 'approved'"))
    other = tmp_path / "ci.yml"
    other.write_text("on: 'push'\n")
    code, _, err = fmt(root, str(sales), str(other), str(root / "semantic.yml"))
    assert code == 0, err
    assert "'approved'" not in sales.read_text()
    assert other.read_text() == "on: 'push'\n"
    assert "1 file(s) formatted, 1 unchanged" in err


def _commented(text: str, seed: int) -> str:
    """`text` with comment lines and end-of-line comments sprinkled over it."""
    import random

    pick = random.Random(seed).random
    lines = []
    for number, line in enumerate(text.split("\n")):
        if number and line.strip() and pick() < 0.1:
            lines.append(" " * (len(line) - len(line.lstrip())) + f"# note {number}")
        if number and line.strip() and "#" not in line and pick() < 0.08:
            line += f"  # about {number}"
        lines.append(line)
    return "\n".join(lines)


@settings(max_examples=SHUFFLES, deadline=None)
@given(
    index=st.integers(0, len(REPOSITORY_FILES) - 1),
    seed=st.integers(0, 2**32),
    indent=st.sampled_from([(2, 4, 2), (4, 4, 2), (4, 6, 4)]),
)
def test_commented_shuffled_files_keep_every_comment(
    index: int, seed: int, indent: tuple[int, int, int]
) -> None:
    path, schema = REPOSITORY_FILES[index]
    commented = _commented(path.read_text(), seed)
    messy = _messy(commented, schema, seed, indent)
    once = format_text(messy, schema)  # SEM107 if a comment were lost or the data changed
    assert format_text(once, schema) == once
    assert sorted(line.strip() for line in once.splitlines() if "# note" in line) == sorted(
        line.strip() for line in commented.splitlines() if "# note" in line
    )
    assert once.count("# about") == commented.count("# about")
