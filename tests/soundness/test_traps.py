"""One tiny data set per classic trap, each answer worked out by hand in the comments.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

from datetime import date

import pytest

from semantic.errors import SemanticError
from semantic.project import Project
from tests.projects import write_data, write_project

MODEL = """
entities:
  customers:
    primary_key: [id]
    columns: {id: {type: integer}, city: {type: varchar}}
  products:
    primary_key: [sku]
    columns: {sku: {type: varchar}, kind: {type: varchar}}
  offers:
    primary_key: [sku, vendor]
    columns: {sku: {type: varchar}, vendor: {type: varchar}, cost: {type: integer}}
    relationships:
      - {to: products, cardinality: many_to_one, keys: {sku: sku}}
  orders:
    primary_key: [id]
    columns:
      id: {type: integer}
      bill_to: {type: integer}
      ship_to: {type: integer}
      amount: {type: integer}
      day: {type: date}
    relationships:
      - {to: customers, name: bill_to_customer, cardinality: many_to_one, keys: {bill_to: id}}
      - {to: customers, name: ship_to_customer, cardinality: many_to_one, keys: {ship_to: id}}
  items:
    primary_key: [order_id, n]
    columns:
      order_id: {type: integer}
      n: {type: integer}
      sku: {type: varchar}
      vendor: {type: varchar}
      mode: {type: varchar}
      qty: {type: integer}
      price: {type: integer}
    relationships:
      - {to: orders, cardinality: many_to_one, keys: {order_id: id}}
      - {to: products, cardinality: many_to_one, keys: {sku: sku}}
      - {to: offers, cardinality: many_to_one, keys: {sku: sku, vendor: vendor}}
"""

GLOSSARY = """
domain: shop
terms:
  bill_to_city:
    label: {en: Billing city}
    dimension: {entity: customers, expr: city, path: [orders.bill_to_customer]}
  ship_to_city:
    label: {en: Shipping city}
    dimension: {entity: customers, expr: city, path: [orders.ship_to_customer]}
  mode: {label: {en: Mode}, dimension: {entity: items, expr: mode}}
  kind: {label: {en: Kind}, dimension: {entity: products, expr: kind}}
  order_day: {label: {en: Day}, time_dimension: {entity: orders, expr: day}}
  order_total: {label: {en: Order total}, metric: {entity: orders, expr: sum(amount)}}
  order_count: {label: {en: Orders}, metric: {entity: orders, expr: count(*)}}
  average_amount: {label: {en: Average amount}, metric: {entity: orders, expr: avg(amount)}}
  largest_amount: {label: {en: Largest amount}, metric: {entity: orders, expr: max(amount)}}
  sales: {label: {en: Sales}, metric: {entity: items, expr: sum(qty * price)}}
  margin:
    label: {en: Margin}
    metric: {entity: items, expr: sum(qty * (price - offers.cost))}
  customer_count: {label: {en: Customers}, metric: {entity: customers, expr: count(*)}}
"""

# customers: 1 Paris, 2 Lyon, 3 Nice (never orders)
# orders: 10 billed to 1, shipped to 1, amount 100
#         11 billed to 1, shipped to 2, amount 40
#         12 billed to 2, shipped to 2, amount 60, no items
#         13 billed to 9 (no such customer), shipped to NULL, amount 7
# items:  10/1 widget AIR 2 x 10 from v1; 10/2 gadget RAIL 1 x 30 from v1;
#         10/3 widget AIR 1 x 10 from v2 (no such offer); 11/1 gadget AIR 4 x 5 from v1
#         13/1 widget RAIL 1 x 7 from v1
TABLES = {
    "customers": "SELECT * FROM (VALUES (1, 'Paris'), (2, 'Lyon'), (3, 'Nice')) t(id, city)",
    "products": "SELECT * FROM (VALUES ('W', 'widget'), ('G', 'gadget')) t(sku, kind)",
    "offers": "SELECT * FROM (VALUES ('W', 'v1', 6), ('G', 'v1', 20)) t(sku, vendor, cost)",
    "orders": "SELECT id, bill_to, ship_to, amount, day::DATE AS day FROM (VALUES "
    "(10, 1, 1, 100, '2026-01-31'), (11, 1, 2, 40, '2026-02-01'), "
    "(12, 2, 2, 60, '2026-03-15'), (13, 9, NULL, 7, '2026-03-16')) "
    "t(id, bill_to, ship_to, amount, day)",
    "items": "SELECT * FROM (VALUES (10, 1, 'W', 'v1', 'AIR', 2, 10), "
    "(10, 2, 'G', 'v1', 'RAIL', 1, 30), (10, 3, 'W', 'v2', 'AIR', 1, 10), "
    "(11, 1, 'G', 'v1', 'AIR', 4, 5), (13, 1, 'W', 'v1', 'RAIL', 1, 7)) "
    "t(order_id, n, sku, vendor, mode, qty, price)",
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("shop")
    write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY})
    write_data(root, TABLES)
    return Project.load(root)


def rows(project: Project, query: str) -> list[tuple[object, ...]]:
    return [tuple(r.values()) for r in project.query(query).to_pylist()]


def test_fan_out_grouping_counts_each_order_once_per_group(shop: Project) -> None:
    # AIR: orders 10 and 11 (order 10 has two AIR lines: still once) -> 2 orders, 140
    # RAIL: orders 10 and 13 -> 2 orders, 107; order 12 has no line: NULL mode, 60
    assert rows(shop, "SELECT mode, order_count, order_total, largest_amount ORDER BY 1") == [
        ("AIR", 2, 140, 100),
        ("RAIL", 2, 107, 100),
        (None, 1, 60, 60),
    ]


def test_fan_out_average_is_not_weighted_by_lines(shop: Project) -> None:
    # the average order amount of orders with an AIR line: (100 + 40) / 2, not
    # (100 + 100 + 40) / 3 as a plain join of orders to their AIR lines would give
    assert rows(shop, "SELECT mode, average_amount WHERE mode = 'AIR'") == [("AIR", 70.0)]


def test_many_side_filter_is_a_semi_join(shop: Project) -> None:
    # orders with at least one AIR line: 10 and 11, each once: 140 (not 100 + 100 + 40)
    assert rows(shop, "SELECT order_total, order_count WHERE mode = 'AIR'") == [(140, 2)]


def test_many_side_conditions_hold_on_the_same_row(shop: Project) -> None:
    # a line that is both AIR and a gadget: only order 11's line
    assert rows(shop, "SELECT order_count WHERE mode = 'AIR' AND kind = 'gadget'") == [(1,)]


def test_two_roles_towards_the_many_side_are_refused(shop: Project) -> None:
    # "customers with a widget order": billed or shipped to? Two equally short paths with
    # different meanings: refused, never guessed
    with pytest.raises(SemanticError) as caught:
        shop.compile("SELECT customer_count WHERE kind = 'widget'")
    (d,) = caught.value.diagnostics
    assert d.code == "SEM307"
    assert d.message.endswith(
        "customers -> orders (orders_bill_to_customer) -> items -> products; "
        "customers -> orders (orders_ship_to_customer) -> items -> products (needed for 'kind')"
    )
    assert d.hint is not None and d.hint.startswith(
        "the paths part at 'customers': customers.orders_bill_to_customer or "
        "customers.orders_ship_to_customer;"
    )


def test_unmatched_and_null_keys_are_kept_under_null(shop: Project) -> None:
    # order 13 is billed to customer 9, who does not exist: kept under a NULL city
    assert rows(shop, "SELECT bill_to_city, order_total, order_count ORDER BY 1") == [
        ("Lyon", 60, 1),
        ("Paris", 140, 2),
        (None, 7, 1),
    ]
    assert rows(shop, "SELECT order_total") == [(207,)]


def test_role_playing_paths_are_kept_apart(shop: Project) -> None:
    # billed to Paris and shipped to Lyon: order 11 only
    got = rows(
        shop,
        "SELECT bill_to_city, ship_to_city, order_total "
        "WHERE bill_to_city <> ship_to_city ORDER BY 1",
    )
    assert got == [("Paris", "Lyon", 40)]


def test_composite_key_metric_keeps_lines_without_an_offer(shop: Project) -> None:
    # margin = qty * (price - cost): 10/1 2 * (10 - 6) = 8; 10/2 1 * (30 - 20) = 10;
    # 10/3 has no offer (v2): its margin is unknown and left out of the sum;
    # 11/1 4 * (5 - 20) = -60; 13/1 1 * (7 - 6) = 1. Sales keep every line.
    assert rows(shop, "SELECT kind, margin, sales ORDER BY 1") == [
        ("gadget", -50, 50),
        ("widget", 9, 37),
    ]


def test_months_at_a_month_boundary(shop: Project) -> None:
    # order 10 on Jan 31 and order 11 on Feb 1 fall in different months
    assert rows(shop, "SELECT order_day.month, order_total ORDER BY 1") == [
        (date(2026, 1, 1), 100),
        (date(2026, 2, 1), 40),
        (date(2026, 3, 1), 67),
    ]
    assert rows(shop, "SELECT order_day.year, order_total") == [(date(2026, 1, 1), 207)]


def test_sums_of_integers_stay_exact(shop: Project) -> None:
    # 2 * 10 + 1 * 30 + 1 * 10 + 4 * 5 + 1 * 7
    ((total,),) = rows(shop, "SELECT sales")
    assert total == 87 and not isinstance(total, float)
