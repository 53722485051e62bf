"""Our own RDF export read back by `semantic import skos` keeps what a term's kind says beyond
its expression: a semi-additive metric stays semi-additive (its stock levels are not summed
over time on the way back) and a conversion metric keeps its events, times, window and
constant properties. The same business queries give the same numbers before and after."""

from __future__ import annotations

from pathlib import Path

import pytest

from semantic.interchange.skos import import_skos, write_import
from semantic.outputs.rdf.export import export_graph
from semantic.project import Project
from tests.compare import assert_same_rows
from tests.soundness import test_conversion, test_semi_additive
from tests.tiny_engines import tiny_project

_EVENTS = (("id", "integer"), ("customer_id", "integer"), ("day", "date"), ("channel", "varchar"))
#: the conversion test's edge cases: visits and orders of customers on two channels
SHOP = {
    "customers": ((("id", "integer"), ("region", "varchar")), test_conversion.CUSTOMERS),
    "visits": (_EVENTS, tuple(test_conversion.EDGES_VISITS)),
    "orders": (_EVENTS, tuple(test_conversion.EDGES_ORDERS)),
    "lines": (
        (("id", "integer"), ("order_id", "integer"), ("product", "varchar")),
        ((1, 1, "jaffle"), (2, 3, "jaffle")),
    ),
}
CONVERSIONS = [
    "conversion_3d",
    "conversions_1w",
    "same_channel_buyers",
    "same_channel_rate",
]

CASES = {
    "semi_additive": (
        test_semi_additive.MODEL,
        test_semi_additive.GLOSSARY,
        test_semi_additive.TABLES,
        [
            "SELECT day.month, stock_level, opening_stock, average_stock, stocked_products "
            "ORDER BY 1",
            "SELECT day.month, product, stock_level, stock_previous_month ORDER BY 1, 2",
            "SELECT stock_level, opening_stock",
        ],
    ),
    "conversion": (
        test_conversion.MODEL,
        test_conversion.GLOSSARY,
        SHOP,
        [f"SELECT visit_channel, {name} ORDER BY 1" for name in CONVERSIONS],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_kinds_survive_an_rdf_round_trip(tmp_path: Path, case: str) -> None:
    model, glossary, tables, queries = CASES[case]
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    before = tiny_project(tmp_path / "before", model, glossary, tables)
    result = import_skos(export_graph(before.model), language="en")
    lost = [n for n in result.notices if "/term/" in n.what]
    assert lost == [], [f"{n.what} {n.predicate} {n.reason}" for n in lost]
    after_root = tmp_path / "after"
    after = tiny_project(after_root, model, "domain: empty\nterms: {}\n", tables)
    (after_root / "glossary" / "g.yml").unlink()
    write_import(result, after_root / "glossary")
    after = Project.load(after_root)
    assert [d.render() for d in after.warnings] == []
    for tid, term in before.model.terms.items():
        again = after.model.terms[tid]
        assert (again.semi_additive, again.conversion) == (term.semi_additive, term.conversion)
    for query in queries:
        assert_same_rows(after.query(query).to_pylist(), before.query(query).to_pylist())
