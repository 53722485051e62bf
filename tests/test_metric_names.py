"""A metric's `expr` reads its entity's rows, so it names columns; its `filter` is a business
condition, so it names terms (dimensions and segments), as a query does. Writing one form in
the other place is refused with a hint that gives the text to write instead, and what the
hint says compiles to the same numbers as the form that was refused meant."""

from __future__ import annotations

from pathlib import Path

import pytest

from semantic.errors import Diagnostic, SemanticError
from semantic.project import Project
from tests.projects import write_data, write_project

MODEL = """
    entities:
      item:
        table: item
        primary_key: [id]
        columns:
          id: {type: integer}
          shade: {type: varchar}
          price: {type: double}
          discount: {type: double}
"""
TERMS = """
    domain: shop
    terms:
      colour:
        label: {en: Colour}
        dimension: {entity: item, expr: shade}
      net_price:
        label: {en: Net price}
        dimension: {entity: item, expr: price * (1 - discount)}
      revenue:
        label: {en: Revenue}
        metric: {entity: item, expr: sum(price)}
"""
ROWS = """SELECT * FROM (VALUES (1, 'red', 10.0, 0.5), (2, 'red', 4.0, 0.0),
    (3, 'blue', 8.0, 0.25)) t(id, shade, price, discount)"""


def _shop(root: Path, metric: str) -> Path:
    """The shop with one more metric, `probe` (YAML lines under `metric:`)."""
    glossary = TERMS + "      probe:\n        label: {en: Probe}\n        metric:\n"
    glossary += "".join(f"          {line}\n" for line in metric.splitlines())
    root.mkdir(exist_ok=True)
    write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": glossary})
    write_data(root, {"item": ROWS})
    return root


def _refusal(root: Path) -> Diagnostic:
    with pytest.raises(SemanticError) as caught:
        Project.load(root)
    (found,) = caught.value.diagnostics
    return found


def _probe(root: Path) -> float:
    (row,) = Project.load(root).query("SELECT probe").to_pylist()
    return float(row["probe"])


def test_a_column_in_a_filter_names_the_dimension_to_write(tmp_path: Path) -> None:
    found = _refusal(_shop(tmp_path / "a", "entity: item\nexpr: sum(price)\nfilter: shade = 'red'"))
    assert found.code == "SEM201"
    assert found.message == "unknown term 'shade' in the filter of metric 'probe'"
    assert (
        found.hint
        == "a filter names terms, not columns: write colour (the dimension over item.shade)"
    )
    # what the hint says, written, gives the numbers the column meant: 10 + 4
    fixed = _shop(tmp_path / "b", "entity: item\nexpr: sum(price)\nfilter: colour = 'red'")
    assert _probe(fixed) == 14.0


def test_a_column_no_dimension_maps_says_to_define_one(tmp_path: Path) -> None:
    found = _refusal(_shop(tmp_path, "entity: item\nexpr: sum(price)\nfilter: discount > 0"))
    assert found.code == "SEM201"
    assert found.hint == (
        "a filter names terms, not columns: 'discount' is a column of 'item' that no "
        "dimension maps; define a dimension over it and filter on that"
    )


def test_a_dimension_in_an_expr_gives_its_expression(tmp_path: Path) -> None:
    found = _refusal(_shop(tmp_path / "a", "entity: item\nexpr: sum(net_price)"))
    assert found.code == "SEM203"
    assert found.message == "unknown column 'net_price' of entity 'item' in term 'probe'"
    assert found.hint == (
        "`expr` names columns of 'item', not terms: write the dimension 'net_price' as its "
        "expression, price * (1 - discount)"
    )
    # what the hint says, written, sums the net prices: 5 + 4 + 6
    assert _probe(_shop(tmp_path / "b", "entity: item\nexpr: sum(price * (1 - discount))")) == 15.0


def test_a_metric_in_a_base_metric_says_to_derive(tmp_path: Path) -> None:
    found = _refusal(_shop(tmp_path / "a", "entity: item\nexpr: sum(revenue) / 2"))
    assert found.code == "SEM203"
    assert "'revenue' is a metric, and `expr` names columns of 'item'" in (found.hint or "")
    assert _probe(_shop(tmp_path / "b", "expr: revenue / 2")) == 11.0


def test_a_misspelt_column_still_gets_did_you_mean(tmp_path: Path) -> None:
    found = _refusal(_shop(tmp_path, "entity: item\nexpr: sum(prise)"))
    assert found.code == "SEM203" and found.hint == "did you mean 'price'?"
