"""A jaffle-shop-like dbt project written by the tests: customers, orders and order items as
CSV seeds, semantic models and metrics in MetricFlow YAML, and what a dbt user would ask of
it with the SQL MetricFlow's semantics give by hand."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

REGIONS = ["north", "south", "east"]
PRODUCTS = [("jaffle", "food", 12.0), ("toast", "food", 6.5), ("coffee", "drink", 3.0)]
STATUSES = ["completed", "completed", "returned", "placed"]

FILES = {
    "dbt_project.yml": """
        name: jaffle_shop
        version: "1.0.0"
        config-version: 2
        profile: jaffle_shop
        model-paths: ["models"]
        seed-paths: ["seeds"]
    """,
    "models/customers.yml": """
        version: 2
        models:
          - name: customers
            columns:
              - name: id
                data_type: integer
              - name: name
                data_type: varchar
        semantic_models:
          - name: customers
            description: One row per customer.
            model: ref('customers')
            entities:
              - name: customer
                type: primary
                expr: id
            dimensions:
              - name: customer_name
                type: categorical
                expr: name
              - name: region
                type: categorical
                label: Customer region
              - name: first_order_date
                type: time
                type_params:
                  time_granularity: day
            measures:
              - name: customer_count
                agg: count_distinct
                expr: id
    """,
    "models/orders.yml": """
        version: 2
        semantic_models:
          - name: orders
            description: One row per order, with its total and status.
            model: ref('orders')
            defaults:
              agg_time_dimension: ordered_at
            entities:
              - name: order
                type: primary
                expr: id
              - name: customer
                type: foreign
                expr: customer_id
            dimensions:
              - name: ordered_at
                type: time
                type_params:
                  time_granularity: day
              - name: status
                type: categorical
              - name: is_large
                type: categorical
                expr: amount >= 30
            measures:
              - name: order_count
                agg: sum
                expr: 1
              - name: order_total
                description: Sum of the order amounts.
                agg: sum
                expr: amount
              - name: average_order
                agg: average
                expr: amount
              - name: largest_order
                agg: max
                expr: amount
              - name: customers_with_orders
                agg: count_distinct
                expr: customer_id
              - name: p90_order
                agg: percentile
                expr: amount
                agg_params:
                  percentile: 0.9
              - name: open_balance
                agg: sum
                expr: amount
                non_additive_dimension:
                  name: ordered_at
                  window_choice: max
    """,
    "models/order_items.yml": """
        version: 2
        semantic_models:
          - name: order_items
            model: ref('order_items')
            defaults:
              agg_time_dimension: ordered_at
            entities:
              - name: order_item
                type: primary
                expr: id
              - name: order
                type: foreign
                expr: order_id
            dimensions:
              - name: ordered_at
                type: time
                type_params:
                  time_granularity: day
              - name: product_type
                type: categorical
              - name: product_name
                type: categorical
                expr: product
            measures:
              - name: revenue
                agg: sum
                expr: price
              - name: item_count
                agg: count
                expr: id
              - name: food_items
                agg: sum_boolean
                expr: product_type = 'food'
    """,
    "models/metrics.yml": """
        version: 2
        metrics:
          - name: order_count
            label: Orders
            description: Number of orders placed.
            type: simple
            type_params:
              measure: order_count
          - name: order_total
            label: Order total
            type: simple
            type_params:
              measure: order_total
          - name: completed_orders
            label: Completed orders
            type: simple
            type_params:
              measure: order_count
            filter: |
              {{ Dimension('order__status') }} = 'completed'
          - name: revenue
            label: Revenue
            type: simple
            type_params:
              measure: revenue
          - name: food_revenue
            label: Food revenue
            type: simple
            type_params:
              measure:
                name: revenue
                fill_nulls_with: 0
            filter: "{{ Dimension('order_item__product_type') }} = 'food'"
          - name: food_revenue_share
            label: Food revenue share
            type: ratio
            type_params:
              numerator: food_revenue
              denominator: revenue
          - name: drink_revenue
            label: Drink revenue
            type: derived
            type_params:
              expr: total - food
              metrics:
                - name: revenue
                  alias: total
                - name: food_revenue
                  alias: food
          - name: revenue_per_order
            label: Revenue per order
            type: derived
            type_params:
              expr: revenue / order_count
              metrics: [revenue, order_count]
          - name: large_order_revenue
            label: Large order revenue
            type: ratio
            type_params:
              numerator:
                name: revenue
                filter: "{{ Dimension('order__is_large') }}"
              denominator: revenue
          - name: revenue_7_days
            label: Revenue over 7 days
            type: cumulative
            type_params:
              measure: revenue
              window: 7 days
          - name: revenue_mtd
            label: Revenue month to date
            type: cumulative
            type_params:
              measure: revenue
              grain_to_date: month
          - name: revenue_growth
            label: Revenue growth
            type: derived
            type_params:
              expr: revenue - revenue_last_week
              metrics:
                - name: revenue
                - name: revenue
                  alias: revenue_last_week
                  offset_window: 1 week
          - name: visit_to_order
            type: conversion
            type_params:
              conversion_type_params:
                entity: customer
                calculation: conversion_rate
                base_measure: customer_count
                conversion_measure: order_count
          - name: recent_revenue
            type: simple
            type_params:
              measure: revenue
            filter: "{{ TimeDimension('metric_time', 'day') }} >= '2024-03-01'"
    """,
}

#: what the report must say was not carried over: file, and the start of the message
NOT_CARRIED = [
    ("models/metrics.yml", "metric 'visit_to_order'"),
    ("models/metrics.yml", "offset_window of input 'revenue' of 'revenue_growth'"),
    ("models/orders.yml", "measure 'open_balance' of 'orders'"),
    ("models/orders.yml", "measure 'p90_order' of 'orders'"),
]


def _seeds() -> dict[str, str]:
    customers = ["id,name,region,first_order_date"]
    orders = ["id,customer_id,ordered_at,status,amount"]
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
        orders.append(f"{o},{customer},{day},{STATUSES[o % 4]},{total}")
    return {
        "seeds/customers.csv": "\n".join(customers) + "\n",
        "seeds/orders.csv": "\n".join(orders) + "\n",
        "seeds/order_items.csv": "\n".join(items) + "\n",
    }


def write_dbt_project(root: Path) -> Path:
    """The dbt project, seeds included, under `root`."""
    for name, text in {**FILES, **_seeds()}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


_ITEMS = "read_csv('{seeds}/order_items.csv')"
_ORDERS = "read_csv('{seeds}/orders.csv')"
_CUSTOMERS = "read_csv('{seeds}/customers.csv')"

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
    (
        "SELECT order_items_ordered_at, revenue_7_days ORDER BY 1",
        f"""WITH d AS (SELECT ordered_at AS day, sum(price) AS r FROM {_ITEMS} GROUP BY 1)
        SELECT day, (SELECT sum(r) FROM d AS w WHERE w.day > d.day - 7 AND w.day <= d.day)
        FROM d ORDER BY 1""",
    ),
]
