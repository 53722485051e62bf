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
