"""The example projects under examples/ load, check and answer with hand-computed numbers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from semantic.project import Project
from tests.cli_runner import run_cli
from tests.conftest import ROOT

BOOKSHOP = ROOT / "examples" / "bookshop"


@pytest.fixture(scope="module")
def bookshop() -> Project:
    return Project.load(BOOKSHOP)


def rows(project: Project, query: str) -> list[tuple[object, ...]]:
    return [tuple(r.values()) for r in project.query(query).to_pylist()]


def test_bookshop_checks_clean_against_its_csv_data() -> None:
    result = run_cli("check", "--data", project=BOOKSHOP)
    assert result.exit_code == 0, result.stderr
    assert "ok: 5 entities, 12 terms, 0 warning(s)" in result.stderr


def test_bookshop_orders_and_lines_by_city(bookshop: Project) -> None:
    # by hand from data/*.csv: Madrid = Ana's orders 100 (18 + 2 x 12) and 102
    # (3 x 8.50 + 7.20) plus Sara's order 104, which has no line; Lyon = order 101 (9.50);
    # order 103 was paid without a loyalty card (12.95)
    assert rows(bookshop, "SELECT customer_city, order_count, revenue ORDER BY 1") == [
        ("Lyon", 1, Decimal("9.50")),
        ("Madrid", 3, Decimal("74.70")),
        (None, 1, Decimal("12.95")),
    ]
    basket = rows(bookshop, "SELECT average_basket WHERE customer_city = 'Madrid'")
    assert basket == [(pytest.approx(24.9),)]


def test_bookshop_in_spanish_with_a_segment(bookshop: Project) -> None:
    got = rows(
        bookshop,
        'SELECT "Género", "Ejemplares vendidos", facturación WHERE "Ventas web" ORDER BY 1',
    )
    assert got == [
        ("children", 3, Decimal("25.50")),
        ("essay", 1, Decimal("9.50")),
        ("novel", 1, Decimal("7.20")),
    ]


def test_bookshop_isbn_keeps_its_declared_type(bookshop: Project) -> None:
    got = rows(bookshop, "SELECT book_title, author_country, copies_sold WHERE genre = 'comics'")
    assert got == [("Tintin au Tibet", "Belgium", 3)]


def test_every_example_checks_clean() -> None:
    for config in sorted((ROOT / "examples").glob("*/semantic.yml")):
        _, diagnostics = Project.inspect(Path(config).parent)
        assert [d.render() for d in diagnostics] == []


APPENDED = """
  appended_term:
    label: {en: Appended term}
    dimension: {entity: ENTITY, expr: COLUMN}
"""


def _with_appended_term(tmp_path: Path, example: Path, file: str) -> tuple[Path, str]:
    """A copy of `example` whose glossary file `file` has a new term written at its end,
    as a modeler adds one (over the first column of the file's first term's entity)."""
    import shutil

    copy = tmp_path / example.name
    for folder in ("models", "glossary"):
        shutil.copytree(example / folder, copy / folder)
    shutil.copy(example / "semantic.yml", copy / "semantic.yml")
    project = Project.load(example)
    term = next(t for t in project.model.terms.values() if Path(t.span.file).name == file)
    entity = project.model.entities[term.entity or ""]
    text = APPENDED.replace("ENTITY", entity.id).replace("COLUMN", next(iter(entity.columns)))
    path = copy / "glossary" / file
    path.write_text(path.read_text() + text)
    return copy, term.domain


@pytest.mark.parametrize("file", sorted(p.name for p in (ROOT / "glossary").glob("*.yml")))
def test_a_term_appended_to_a_shipped_glossary_file_is_a_term(tmp_path: Path, file: str) -> None:
    """The TPC-H glossary keeps its subject areas in a file of their own: a term written at
    the end of any file of terms lands under that file's `terms:`."""
    if not any(Path(t.span.file).name == file for t in Project.load(ROOT).model.terms.values()):
        pytest.skip(f"{file} holds no terms")
    copy, domain = _with_appended_term(tmp_path, ROOT, file)
    term = Project.load(copy).model.terms["appended_term"]
    assert (term.kind, term.domain) == ("dimension", domain)


def test_a_term_appended_under_subject_areas_is_explained(tmp_path: Path) -> None:
    """The bookshop's sales.yml ends with its subject areas: a term appended there is refused
    with a hint that says where it belongs, not 'did you mean metrics?'."""
    copy, _ = _with_appended_term(tmp_path, BOOKSHOP, "sales.yml")
    result = run_cli("check", project=copy)
    assert result.exit_code == 1
    line = (copy / "glossary" / "sales.yml").read_text().splitlines().index("subject_areas:") + 1
    hint = (
        "help: 'appended_term' has `dimension:`, so it is a term, but it sits under "
        f"`subject_areas:` (line {line}): move it under `terms:`"
    )
    assert hint in result.stderr
    assert "did you mean" not in result.stderr
