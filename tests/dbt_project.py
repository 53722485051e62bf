"""A jaffle-shop-like dbt project written by the tests: customers, orders and order items as
CSV seeds, semantic models and metrics in MetricFlow YAML, and what a dbt user would ask of
it with the SQL MetricFlow's semantics give by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

REGIONS = ["north", "south", "east"]
PRODUCTS = [("jaffle", "food", 12.0), ("toast", "food", 6.5), ("coffee", "drink", 3.0)]
STATUSES = ["completed", "completed", "returned", "placed"]
CHANNELS = ["web", "app"]

#: the dbt project's YAML, in tests/fixtures/dbt/jaffle_shop (see its README): the
#: structure of dbt-labs/jaffle-sl-template (semantic models per mart, metrics beside
#: them), written small by hand; `dbt parse` and `mf validate-configs` accept it
FIXTURE = Path(__file__).parent / "fixtures" / "dbt" / "jaffle_shop"
#: the same semantic layer in the latest spec (dbt 1.12 and Fusion: semantic models inside
#: `models:`, simple metrics instead of measures; see tests/dbt_spec.py)
LATEST = FIXTURE.with_name("jaffle_shop_latest")


def fixture_files(fixture: Path) -> dict[str, str]:
    """The YAML files of a fixture project: path relative to it -> text."""
    return {str(p.relative_to(fixture)): p.read_text() for p in sorted(fixture.rglob("*.yml"))}


FILES = fixture_files(FIXTURE)

#: what the report must say was not carried over: file, and the start of the message
NOT_CARRIED = [
    ("models/metrics.yml", "'exports' of saved query 'revenue_by_region'"),
    ("models/metrics.yml", "config of 'order_total'"),
    ("models/metrics.yml", "groups entry 'finance'"),
    ("models/metrics.yml", "offset_to_grain of input 'revenue_mtd' of 'revenue_month_start'"),
    ("models/orders.yml", "measure 'open_balance' of 'orders'"),
    ("models/orders.yml", "measure 'p90_order' of 'orders'"),
]


def _seeds() -> dict[str, str]:
    customers = ["id,name,region,first_order_date"]
    orders = ["id,customer_id,ordered_at,status,amount,channel,discount"]
    items = ["id,order_id,ordered_at,product,product_type,price"]
    item_id = 0
    start = dt.date(2024, 1, 1)
    for c in range(1, 10):
        customers.append(f"{c},Customer {c},{REGIONS[c % 3]},{start + dt.timedelta(days=c)}")
    for o in range(1, 61):
        customer = 1 + (o * 7) % 8  # customer 9 never orders
        day = start + dt.timedelta(days=(o * 3) % 90)
        total = 0.0
        lines = []
        for k in range(1 + o % 4):
            item_id += 1
            product, kind, price = PRODUCTS[(o + k) % 3]
            total += price
            lines.append(f"{item_id},{o},{day},{product},{kind},{price}")
        if o % 11 == 0:  # an order without items
            lines, total = [], 0.0
        items += lines
        # most orders have no discount: weeks whose discounts are all NULL
        discount = f"{(o % 5) * 1.5}" if o % 7 == 0 else ""
        orders.append(
            f"{o},{customer},{day},{STATUSES[o % 4]},{total},{CHANNELS[o % 2]},{discount}"
        )
    # visits of the customers (customer 9 visits and never orders): the base events of the
    # conversion metrics, before, after and on the days of orders
    visits = ["id,customer_id,visited_at,channel"]
    for v in range(1, 81):
        day = start + dt.timedelta(days=(v * 5) % 97)
        visits.append(f"{v},{1 + (v * 4) % 9},{day},{CHANNELS[(v // 3) % 2]}")
    return {
        "seeds/customers.csv": "\n".join(customers) + "\n",
        "seeds/orders.csv": "\n".join(orders) + "\n",
        "seeds/order_items.csv": "\n".join(items) + "\n",
        "seeds/visits.csv": "\n".join(visits) + "\n",
    }


def write_dbt_project(root: Path, files: dict[str, str] | None = None) -> Path:
    """The dbt project (its YAML `files`, the classic fixture's by default), seeds included,
    under `root`."""
    for name, text in {**(FILES if files is None else files), **_seeds()}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


_ITEMS = "read_csv('{seeds}/order_items.csv')"
_ORDERS = "read_csv('{seeds}/orders.csv')"
_CUSTOMERS = "read_csv('{seeds}/customers.csv')"
_VISITS = "read_csv('{seeds}/visits.csv')"

#: business queries on the imported project, and the SQL MetricFlow's semantics give
CASES = [
    (
        "SELECT region, order_count, order_total, customers_with_orders ORDER BY 1",
        f"""SELECT c.region, count(*), sum(o.amount), count(DISTINCT o.customer_id)
        FROM {_ORDERS} o JOIN {_CUSTOMERS} c ON o.customer_id = c.id GROUP BY 1 ORDER BY 1""",
    ),
    (
        "SELECT status, completed_orders, average_order, largest_order ORDER BY 1",
        f"""SELECT status, sum(1) FILTER (WHERE status = 'completed'), avg(amount),
        max(amount) FROM {_ORDERS} GROUP BY 1 ORDER BY 1""",
    ),
    (
        "SELECT status, revenue, food_revenue, food_revenue_share, drink_revenue ORDER BY 1",
        f"""SELECT o.status, sum(i.price), coalesce(sum(i.price) FILTER (WHERE product_type =
        'food'), 0), coalesce(sum(i.price) FILTER (WHERE product_type = 'food'), 0)
        / sum(i.price), sum(i.price) - coalesce(sum(i.price) FILTER (WHERE product_type =
        'food'), 0)
        FROM {_ITEMS} i JOIN {_ORDERS} o ON i.order_id = o.id GROUP BY 1 ORDER BY 1""",
    ),
    (
        "SELECT product_type, item_count, food_items, large_order_revenue ORDER BY 1",
        f"""SELECT product_type, count(i.id), sum(CASE WHEN product_type = 'food' THEN 1
        ELSE 0 END), sum(price) FILTER (WHERE o.amount >= 30) / sum(price)
        FROM {_ITEMS} i JOIN {_ORDERS} o ON i.order_id = o.id GROUP BY 1 ORDER BY 1""",
    ),
    (
        "SELECT revenue_per_order, customer_count, recent_revenue",
        f"""SELECT (SELECT sum(price) FROM {_ITEMS}) / (SELECT count(*) FROM {_ORDERS}),
        (SELECT count(DISTINCT id) FROM {_CUSTOMERS}),
        (SELECT sum(price) FROM {_ITEMS} WHERE ordered_at >= DATE '2024-03-01')""",
    ),
    (
        "SELECT order_items_ordered_at.month, revenue, revenue_mtd ORDER BY 1",
        f"""SELECT date_trunc('month', ordered_at)::date, sum(price), sum(price)
        FROM {_ITEMS} GROUP BY 1 ORDER BY 1""",
    ),
    (  # offset_to_grain: each day shows the revenue of its month's first day
        "SELECT order_items_ordered_at, revenue, revenue_at_month_start ORDER BY 1",
        f"""WITH d AS (SELECT ordered_at AS day, sum(price) AS r FROM {_ITEMS} GROUP BY 1)
        SELECT d.day, d.r, f.r FROM d LEFT JOIN d AS f
          ON f.day = CAST(date_trunc('month', d.day) AS DATE) ORDER BY 1""",
    ),
    (  # fill_nulls_with: a week whose discounts are all NULL shows 0, as MetricFlow
        "SELECT orders_ordered_at.week, discounts, typical_discount ORDER BY 1",
        f"""SELECT CAST(date_trunc('week', ordered_at) AS DATE), coalesce(sum(discount), 0),
        coalesce(avg(discount), 0) FROM {_ORDERS} GROUP BY 1 ORDER BY 1""",
    ),
    (  # an order is credited to its customer's latest visit within 7 days
        "SELECT visited_at.month, visit_count, visit_conversions_7d ORDER BY 1",
        f"""WITH v AS (SELECT * FROM {_VISITS}), credited AS (
          SELECT (SELECT max(visited_at) FROM v WHERE v.customer_id = o.customer_id
            AND v.visited_at <= o.ordered_at AND v.visited_at > o.ordered_at - 7) AS day
          FROM {_ORDERS} AS o)
        SELECT b.m, b.n, c.n FROM (SELECT date_trunc('month', visited_at)::date AS m,
          sum(1) AS n FROM v GROUP BY 1) AS b
        LEFT JOIN (SELECT date_trunc('month', day)::date AS m, sum(1) AS n FROM credited
          WHERE day IS NOT NULL GROUP BY 1) AS c ON b.m = c.m ORDER BY 1""",
    ),
    (
        "SELECT order_items_ordered_at, revenue_7_days ORDER BY 1",
        f"""WITH d AS (SELECT ordered_at AS day, sum(price) AS r FROM {_ITEMS} GROUP BY 1)
        SELECT day, (SELECT sum(r) FROM d AS w WHERE w.day > d.day - 7 AND w.day <= d.day)
        FROM d ORDER BY 1""",
    ),
]
