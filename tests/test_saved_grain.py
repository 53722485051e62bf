"""The TPC-H glossary's terms that save `MEASURE(...) PER`: `customer_order_count` (a
metric per customer, as a dimension), `customer_order_count_band` (a band over it, in
CASE) and `revenue_share` (the share of the total), checked against hand-written SQL on
DuckDB and on PostgreSQL (when SEMANTIC_TEST_POSTGRES is set), in English and in French;
and the checks of such terms (SEM235, SEM236, SEM201, SEM237) with their places."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from semantic.errors import SemanticError
from semantic.project import Project
from tests.compare import assert_same_rows
from tests.projects import copy_to_postgres, write_project
from tests.services import postgres_url  # noqa: F401 (a fixture)

#: each customer's number of orders, all of them
ORDERS_PER_CUSTOMER = (
    "(SELECT c_custkey, c_nationkey, count(o_orderkey) AS n FROM customer "
    "LEFT JOIN orders ON o_custkey = c_custkey GROUP BY c_custkey, c_nationkey)"
)
BAND = "CASE WHEN n = 0 THEN '0' WHEN n < 10 THEN '1-9' WHEN n < 20 THEN '10-19' ELSE '20+' END"
REVENUE = "l_extendedprice * (1 - l_discount)"

#: (business query, hand-written SQL giving the same rows in the same order)
CASES = {
    "orders-per-customer (Q13)": (
        "SELECT customer_order_count, customer_count ORDER BY customer_count DESC, 1 DESC",
        f"SELECT n, count(*) FROM {ORDERS_PER_CUSTOMER} c GROUP BY n ORDER BY 2 DESC, 1 DESC",
    ),
    "band": (
        "SELECT customer_order_count_band, customer_count ORDER BY 1",
        f"SELECT {BAND}, count(*) FROM {ORDERS_PER_CUSTOMER} c GROUP BY 1 ORDER BY 1",
    ),
    "band-and-revenue-share under WHERE": (
        "SELECT customer_order_count_band, net_revenue, revenue_share "
        "WHERE ship_mode = 'AIR' ORDER BY 1",
        f"SELECT {BAND}, sum({REVENUE}), sum({REVENUE}) / (SELECT sum({REVENUE}) FROM lineitem "
        f"WHERE l_shipmode = 'AIR') FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
        f"JOIN {ORDERS_PER_CUSTOMER} c ON o_custkey = c_custkey WHERE l_shipmode = 'AIR' "
        "GROUP BY 1 ORDER BY 1",
    ),
    "revenue-share by region": (
        "SELECT customer_region, revenue_share "
        "WHERE order_date >= DATE '1995-01-01' AND order_date < DATE '1996-01-01' ORDER BY 1",
        f"WITH s AS (SELECT r_name, {REVENUE} AS v FROM lineitem JOIN orders "
        "ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey JOIN nation "
        "ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey "
        "WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01') "
        "SELECT r_name, sum(v) / (SELECT sum(v) FROM s) FROM s GROUP BY 1 ORDER BY 1",
    ),
    "band as a condition": (
        "SELECT market_segment, order_count WHERE customer_order_count_band = '20+' ORDER BY 1",
        f"SELECT c_mktsegment, count(*) FROM orders JOIN customer ON o_custkey = c_custkey "
        f"JOIN {ORDERS_PER_CUSTOMER} c ON c.c_custkey = customer.c_custkey "
        f"WHERE {BAND} = '20+' GROUP BY 1 ORDER BY 1",
    ),
}

#: the same questions in French: the terms' French labels and synonyms
FRENCH = {
    "band": 'SELECT "Tranche de nombre de commandes du client", "Nombre de clients" ORDER BY 1',
    "revenue-share by region": (
        'SELECT "Région client", "Part du CA" WHERE "Date de commande" >= DATE \'1995-01-01\' '
        "AND \"Date de commande\" < DATE '1996-01-01' ORDER BY 1"
    ),
}


def _rows(project: Project, text: str) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in project.query(text).to_pylist()]


@pytest.mark.parametrize("name", list(CASES))
def test_saved_terms_equal_hand_written_sql(project: Project, name: str) -> None:
    query, sql = CASES[name]
    got = _rows(project, query)
    assert got, "no rows: the comparison would prove nothing"
    assert_same_rows(got, project.engine.connection.execute(sql).fetchall())


@pytest.mark.parametrize("name", list(FRENCH))
def test_the_french_labels_ask_the_same(project: Project, name: str) -> None:
    assert_same_rows(_rows(project, FRENCH[name]), _rows(project, CASES[name][0]))


def test_saved_terms_equal_hand_written_sql_on_postgres(
    project: Project,
    postgres_url: str,  # noqa: F811
) -> None:
    schema = f"saved_grain_{uuid.uuid4().hex[:12]}"
    connection = copy_to_postgres(project, postgres_url, schema)
    try:
        for query, sql in CASES.values():
            got = connection.execute(project.compile(query, "postgres")).fetchall()
            want = project.engine.connection.execute(sql).fetchall()
            assert got
            assert_same_rows(got, want)
    finally:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        connection.close()


MODEL = """
entities:
  regions:
    primary_key: [region_id]
    columns: {region_id: {type: integer}, zone: {type: varchar}}
  sales:
    primary_key: [sale_id]
    columns: {sale_id: {type: integer}, region_id: {type: integer}, amount: {type: integer}}
    relationships:
      - {to: regions, cardinality: many_to_one, keys: {region_id: region_id}}
"""

GLOSSARY = """
domain: shop
terms:
  zone: {label: {en: Zone}, dimension: {entity: regions, expr: zone}}
  total: {label: {en: Total}, metric: {entity: sales, expr: sum(amount)}}
  bad1: {label: {en: B1}, metric: {expr: "MEASURE(total) PER (regions)"}}
  bad2: {label: {en: B2}, dimension: {entity: regions, expr: "MEASURE(zone) PER (regions)"}}
  bad3: {label: {en: B3}, dimension: {entity: sales, expr: "MEASURE(total) PER (regions)"}}
  bad4: {label: {en: B4}, metric: {expr: "MEASURE(total) PER (total)"}}
  bad5: {label: {en: B5}, dimension: {entity: regions, expr: "MEASURE(totl) PER (regions)"}}
  bad6: {label: {en: B6}, dimension: {entity: regions, expr: "count(*) PER (regions)"}}
"""


def test_saved_per_terms_are_checked_where_they_are_written(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY})
    with pytest.raises(SemanticError) as caught:
        Project.load(tmp_path)
    got = sorted((d.code, d.span.line, d.span.col) for d in caught.value.diagnostics)
    assert got == [
        ("SEM201", 9, 62),  # MEASURE(totl): did you mean total
        ("SEM208", 10, 62),  # a dimension that aggregates
        ("SEM235", 5, 42),  # a metric per entity saved as a metric
        ("SEM235", 7, 60),  # a dimension of sales per regions
        ("SEM235", 10, 62),  # no MEASURE(...) before PER
        ("SEM236", 6, 62),  # MEASURE(zone): a dimension
        ("SEM236", 8, 42),  # PER (total): a metric
    ]


def test_a_saved_share_under_a_filter_is_refused_at_its_place(tmp_path: Path) -> None:
    glossary = GLOSSARY.split("  bad1")[0] + (
        '  share: {label: {en: Share}, metric: {expr: "total / MEASURE(total) PER (ALL)"}}\n'
        "  big_share: {label: {en: Big}, metric: {expr: share, filter: zone = 'N'}}\n"
    )
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": glossary})
    project = Project.load(tmp_path)
    with pytest.raises(SemanticError) as caught:
        project.compile("SELECT zone,\n big_share")
    problem = caught.value.diagnostics[0]
    assert (problem.code, problem.span.line, problem.span.col) == ("SEM237", 2, 2)


def test_a_role_cannot_read_a_saved_value_of_a_metric_above_its_clearance(
    tmp_path: Path,
) -> None:
    glossary = GLOSSARY.split("  bad1")[0].replace(
        "total: {label: {en: Total},", "total: {label: {en: Total}, confidentiality: restricted,"
    ) + (
        "  region_count:\n"
        "    label: {en: Regions}\n"
        "    confidentiality: public\n"
        "    metric: {entity: regions, expr: count(*)}\n"
        "  zone_total:\n"
        "    label: {en: Zone total}\n"
        "    confidentiality: public\n"
        "    dimension: {entity: regions, expr: MEASURE(total) PER (regions)}\n"
    )
    policies = "roles:\n  viewer: {description: Public only, clearance: public}\n"
    write_project(
        tmp_path,
        {"models/m.yml": MODEL, "glossary/g.yml": glossary, "policies.yml": policies},
    )
    project = Project.load(tmp_path)
    project.compile("SELECT zone_total, region_count")  # the owner reads it
    project.compile("SELECT region_count", role="viewer")
    with pytest.raises(SemanticError) as caught:
        project.compile("SELECT region_count,\n  zone_total", role="viewer")
    problem = caught.value.diagnostics[0]
    assert problem.code == "SEM331" and (problem.span.line, problem.span.col) == (2, 3)
    assert "term 'total' is restricted" in problem.message


def test_a_subject_area_view_computes_the_saved_band_and_share(project: Project) -> None:
    """An entity view leaves a metric per entity out (only a query computes it); a subject
    area's view, a compiled query, gives what the query gives."""
    import dataclasses

    from semantic.outputs.views import entity_view, subject_area_view

    model = project.model
    base = model.subject_areas["sales_by_customer"]
    area = dataclasses.replace(
        base,
        id="by_band",
        dimensions=("customer_order_count_band",),
        metrics=("customer_count", "revenue_share"),
        filter=None,
        segments=(),
        places={},
    )
    view = subject_area_view(model, area, None, "", "main")
    got = project.engine.connection.execute(
        f"SELECT * FROM ({view.query.sql('duckdb')}) ORDER BY 1"
    )
    want = project.query(
        "SELECT customer_order_count_band, customer_count, revenue_share ORDER BY 1"
    )
    assert_same_rows(got.fetchall(), [tuple(r.values()) for r in want.to_pylist()])
    customer = entity_view(model, model.entities["customer"], None, "", "main")
    assert "customer_order_count" not in {c.name for c in customer.columns}
