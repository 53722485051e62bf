"""A `required` to-one join read only for its key is left out (the foreign key is read
instead: `compiler.keyjoins`), and the promise it relies on is checked all the same: data
that breaks it (a line whose product does not exist) makes a query that relies on it warn
(SEM441), also when the join is left out inside a subquery the query holds: a metric per
entity, a saved per-entity dimension, a grand total in a row condition, a metric at another
grain, an existence (`EXISTS(...)`). Before, those subqueries' left-out joins went unrecorded
and the warning was silent: the line of no product was counted with nothing said.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from semantic.errors import SemanticError
from semantic.project import Project
from tests.tiny_engines import Table, tiny_project

MODEL = """
entities:
  orders:
    primary_key: [order_id]
    columns: {order_id: {type: integer}, status: {type: varchar}}
  products:
    primary_key: [product_id]
    columns: {product_id: {type: integer}, kind: {type: varchar}}
  lines:
    primary_key: [line_id]
    columns: {line_id: {type: integer}, order_id: {type: integer}, product_id: {type: integer}}
    relationships:
      - {to: orders, cardinality: many_to_one, keys: {order_id: order_id}, required: true}
      - {to: products, cardinality: many_to_one, keys: {product_id: product_id}, required: true}
"""

GLOSSARY = """
domain: shop
terms:
  order_key: {label: {en: Order}, dimension: {entity: orders, expr: order_id}}
  product_key: {label: {en: Product}, dimension: {entity: products, expr: product_id}}
  order_count: {label: {en: Orders}, metric: {entity: orders, expr: count(*)}}
  line_count: {label: {en: Lines}, metric: {entity: lines, expr: count(*)}}
  product_lines:
    label: {en: Lines of a product}
    metric: {entity: lines, expr: count(*), filter: product_key > 0}
  order_product_lines:
    label: {en: Lines of a product of the order}
    dimension: {entity: orders, expr: "MEASURE(product_lines) PER (orders)"}
"""

# line 102 names product 99, which does not exist: `required: true` is broken
TABLES: dict[str, Table] = {
    "orders": ((("order_id", "integer"), ("status", "varchar")), ((1, "open"), (2, "done"))),
    "products": ((("product_id", "integer"), ("kind", "varchar")), ((1, "tool"),)),
    "lines": (
        (("line_id", "integer"), ("order_id", "integer"), ("product_id", "integer")),
        ((100, 1, 1), (101, 2, 1), (102, 2, 99)),
    ),
}

RELYING = [
    # a metric per entity: lines by order, filtered on the product's key
    "SELECT order_key, MEASURE(product_lines) PER (orders) AS n",
    # the same, saved in the glossary
    "SELECT order_key, order_product_lines",
    # a grand total in a row condition
    "SELECT order_key WHERE order_key < MEASURE(product_lines) PER (ALL)",
    # a metric at another grain
    "SELECT order_key, order_count, MEASURE(product_lines) PER (ALL) AS t",
    # an existence, beside a metric and in a list of values
    "SELECT order_key, order_count WHERE EXISTS(product_key > 0)",
    "SELECT order_key WHERE EXISTS(product_key > 0)",
]


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEMANTIC_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def shop(tmp_path: Path) -> Project:
    root = tmp_path / "shop"
    root.mkdir()
    return tiny_project(root, MODEL, GLOSSARY, TABLES)


@pytest.mark.parametrize("query", RELYING)
def test_a_subquery_relying_on_a_broken_promise_warns(shop: Project, query: str) -> None:
    assert "JOIN products" not in shop.compile(query)  # the join is left out...
    shop.query(query)
    warnings = [d for d in shop.query_warnings(query) if d.code == "SEM441"]
    # ...and its promise still checked
    assert len(warnings) == 1, shop.query_warnings(query)
    assert "'lines'" in warnings[0].message and "required: true" in warnings[0].message
    config = shop.root / "semantic.yml"
    config.write_text(config.read_text() + "broken_keys: refuse\n")
    with pytest.raises(SemanticError) as caught:
        Project.load(shop.root).query(query)
    assert [d.code for d in caught.value.diagnostics] == ["SEM441"]


def test_a_subquery_that_relies_on_no_broken_promise_does_not_warn(shop: Project) -> None:
    """Lines by order read no product: the broken product key is not relied on."""
    query = "SELECT order_key, MEASURE(line_count) PER (orders) AS n"
    shop.query(query)
    assert shop.query_warnings(query) == []
