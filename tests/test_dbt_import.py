"""`semantic import dbt`: a jaffle-shop-like dbt project becomes a project whose business
queries give what MetricFlow's semantics give by hand-written SQL, and whose report names
every construct it could not carry over, with its file and line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from semantic.errors import SemanticError
from semantic.interchange.dbt import import_dbt
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.compare import assert_same_rows
from tests.dbt_project import CASES, NOT_CARRIED, write_dbt_project


def _day(value: object) -> object:
    """A period start as a date (engines give a timestamp at midnight, or a date)."""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date()
    return value


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Path, list[dict]]:
    root = tmp_path_factory.mktemp("dbt")
    dbt = write_dbt_project(root / "jaffle_shop")
    target = root / "analytics"
    result = run_cli(
        "import", "dbt", str(dbt), "--into", str(target), "--format", "json", project=None
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)["report"]
    return Project.load(target), dbt / "seeds", report


@pytest.mark.parametrize("case", range(len(CASES)))
def test_imported_metrics_answer_like_metricflow(
    imported: tuple[Project, Path, list[dict]], case: int
) -> None:
    project, seeds, _ = imported
    query, hand = CASES[case]
    got = [tuple(map(_day, row.values())) for row in project.query(query).to_pylist()]
    want = duckdb.connect().execute(hand.format(seeds=seeds)).fetchall()
    assert len(want) >= 1
    assert_same_rows(got, want)


def test_the_model_has_the_keys_and_joins_of_the_entities(
    imported: tuple[Project, Path, list[dict]],
) -> None:
    project, _, _ = imported
    model = project.model
    assert {e.id: e.primary_key for e in model.entities.values()} == {
        "customers": ("id",),
        "orders": ("id",),
        "order_items": ("id",),
        "visits": ("id",),
    }
    joins = {
        (e.source, e.target, e.keys, e.cardinality)
        for edges in model.edges.values()
        for e in edges
        if e.declared
    }
    assert joins == {
        ("orders", "customers", (("customer_id", "id"),), "many_to_one"),
        ("order_items", "orders", (("order_id", "id"),), "many_to_one"),
        ("visits", "customers", (("customer_id", "id"),), "many_to_one"),
    }
    assert project.check_data() == []
    terms = model.terms
    assert terms["order_count"].labels == {"en": "Orders"}
    assert terms["order_count"].definition == {"en": "Number of orders placed."}
    assert terms["region"].labels == {"en": "Customer region"}
    assert terms["orders_ordered_at"].kind == "time_dimension"
    assert terms["orders_ordered_at"].labels == {"en": "Orders ordered at"}
    assert terms["order_items_ordered_at"].entity == "order_items"
    assert all(t.status == "draft" for t in terms.values())


def test_every_construct_not_carried_over_is_reported_with_its_place(
    imported: tuple[Project, Path, list[dict]],
) -> None:
    project, seeds, report = imported
    dbt = seeds.parent
    skipped = [r for r in report if r["message"].startswith("not carried over: ")]
    found = [(r["file"], r["message"].removeprefix("not carried over: ")) for r in skipped]
    assert sorted(found) == sorted(NOT_CARRIED)
    for item in skipped:
        assert item["hint"] and item["line"] > 0
        lines = (dbt / item["file"]).read_text().splitlines()
        # the line reported is the construct's own
        name = item["message"].split("'")[1]
        assert name in "\n".join(lines[item["line"] - 4 : item["line"] + 6]), item
    # and what is reported is not in the glossary
    for missing in (
        "p90_order",
        "open_balance",
        "revenue_month_start",
    ):
        assert missing not in project.model.terms
    changed = [r["message"] for r in report if r not in skipped]
    assert changed == [
        "carried over differently: cumulative metric 'revenue_7_days'",
        "carried over differently: cumulative metric 'revenue_mtd'",
        "carried over differently: cumulative metric 'cumulative_revenue'",
        "carried over differently: cumulative metric 'cumulative_revenue_last'",
        "carried over differently: cumulative metric 'cumulative_revenue_average'",
        "carried over differently: cumulative metric 'revenue_month_window'",
        "carried over differently: cumulative metric 'revenue_month_window_last'",
        "carried over differently: cumulative metric 'revenue_quarter_window_average'",
        "carried over differently: join_to_timespine of simple metric 'revenue_every_day'",
    ]


def test_the_import_never_overwrites_without_replace(tmp_path: Path) -> None:
    dbt = write_dbt_project(tmp_path / "dbt")
    target = tmp_path / "p"
    first = run_cli("import", "dbt", str(dbt), "--into", str(target), project=None)
    assert first.exit_code == 0, first.stderr
    before = (target / "glossary" / "metrics.yml").read_text()
    (target / "glossary" / "metrics.yml").write_text(before + "# mine\n")
    again = run_cli("import", "dbt", str(dbt), "--into", str(target), project=None)
    assert again.exit_code == 1 and "SEM220" in again.stderr
    assert (target / "glossary" / "metrics.yml").read_text().endswith("# mine\n")
    replaced = run_cli("import", "dbt", str(dbt), "--into", str(target), "--replace", project=None)
    assert replaced.exit_code == 0
    assert (target / "glossary" / "metrics.yml").read_text() == before


def test_what_is_not_a_dbt_project(tmp_path: Path) -> None:
    with pytest.raises(SemanticError) as caught:
        import_dbt(tmp_path)
    assert caught.value.code == "SEM222"
    (tmp_path / "dbt_project.yml").write_text("name: x\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.yml").write_text("semantic_models: [\n")
    with pytest.raises(SemanticError) as caught:
        import_dbt(tmp_path)
    assert caught.value.code == "SEM222" and "models/a.yml:" in str(caught.value)
    (tmp_path / "models" / "a.yml").write_text("models: []\n")
    with pytest.raises(SemanticError) as caught:
        import_dbt(tmp_path)
    assert "no semantic_models" in str(caught.value)


def test_an_import_never_defines_a_term_twice(tmp_path: Path) -> None:
    dbt = write_dbt_project(tmp_path / "dbt")
    target = tmp_path / "p"
    (target / "glossary").mkdir(parents=True)
    mine = "domain: mine\nterms:\n  revenue:\n    label: {en: Mine}\n    concept: {}\n"
    (target / "glossary" / "mine.yml").write_text(mine)
    result = run_cli("import", "dbt", str(dbt), "--into", str(target), project=None)
    # the project's term keeps its id: the imported one is renamed, and says so
    assert result.exit_code == 0, result.stderr
    assert (target / "glossary" / "mine.yml").read_text() == mine
    assert "SEM224 carried over differently: term 'revenue'" in result.stderr
    assert "written as term 'revenue_2'" in result.stderr
    assert "revenue_2:" in (target / "glossary" / "metrics.yml").read_text()
    checked = run_cli("check", project=target)
    assert checked.exit_code == 0, checked.stderr


#: jaffle-sl-template's shapes (dbt-labs/jaffle-sl-template, models/marts/customer360/*.yml),
#: written small by hand: a metric named like its measure but with fill_nulls_with, groups,
#: unit tests, a newer-spec simple metric with its own agg, a 140-character name and a
#: grain_to_date MetricFlow has and our windows lack
_SL_TEMPLATE = """
semantic_models:
  - name: order_item
    model: ref('order_items')
    defaults:
      agg_time_dimension: ordered_at
    entities:
      - name: order_item
        type: primary
        expr: order_item_id
    dimensions:
      - name: ordered_at
        type: time
        type_params:
          time_granularity: day
    measures:
      - name: revenue
        agg: sum
        expr: product_price
groups:
  - name: finance
    owner:
      email: finance@example.com
unit_tests:
  - name: test_order_items
    model: order_items
metrics:
  - name: revenue
    label: Revenue
    type: simple
    type_params:
      measure:
        name: revenue
        fill_nulls_with: 0
  - name: item_count
    label: Items
    type: simple
    type_params:
      agg: count
      expr: order_item_id
      metric_aggregation_params:
        semantic_model: order_item
  - name: LONG_NAME
    label: A very long metric
    type: simple
    type_params:
      measure: revenue
    filter: "{{ Dimension('order_item__ordered_at') }} >= '2024-01-01'"
  - name: revenue_this_hour
    label: Revenue this hour
    type: cumulative
    type_params:
      measure: revenue
      cumulative_type_params:
        grain_to_date: hour
        period_agg: last
"""


def test_names_ids_and_sections_of_the_sl_template_shape(tmp_path: Path) -> None:
    dbt = tmp_path / "dbt"
    (dbt / "models").mkdir(parents=True)
    (dbt / "dbt_project.yml").write_text("name: sl\nmodel-paths: [models]\n")
    long_name = "revenue_" + "x" * 132
    (dbt / "models" / "order_items.yml").write_text(_SL_TEMPLATE.replace("LONG_NAME", long_name))
    result = run_cli(
        "import", "dbt", str(dbt), "--into", str(tmp_path / "p"), "--format", "json", project=None
    )
    assert result.exit_code == 0, result.stderr
    messages = [r["message"] for r in json.loads(result.stdout)["report"]]
    check = run_cli("check", project=tmp_path / "p")
    assert check.exit_code == 0, check.stdout + check.stderr
    terms = Project.load(tmp_path / "p").model.terms
    # the metric keeps its name and label; the measure it does more than expose steps aside
    assert terms["revenue"].labels == {"en": "Revenue"} and terms["revenue"].entity
    assert "revenue_2" not in terms and "order_item_revenue" in terms
    assert terms["item_count"].kind == "metric" and terms["item_count"].entity == "order_item"
    assert all(len(tid) <= 128 for tid in terms)
    assert any(tid.startswith("revenue_xxx") for tid in terms)
    assert "revenue_this_hour" not in terms
    for said in (
        "not carried over: groups entry 'finance'",
        "not carried over: unit_tests entry 'test_order_items'",
        "not carried over: grain_to_date 'hour' of cumulative metric 'revenue_this_hour'",
    ):
        assert said in messages


def test_windows_metricflow_counts_otherwise_are_left_out(tmp_path: Path) -> None:
    """MetricFlow's window of months (or quarters, years) starts on the same day months
    earlier, inside a month (checked with MetricFlow 0.211: tests/fixtures/dbt/README.md):
    it is imported as a window per day (`rolling: day`), whose numbers are MetricFlow's
    (tests/test_dbt_metricflow.py); MetricFlow reads no option on a cumulative metric's
    measure: such a metric is reported, not imported; a window of weeks, counted in whole
    weeks by both, is imported as a plain window."""
    (tmp_path / "dbt_project.yml").write_text("name: shop\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "shop.yml").write_text(
        """semantic_models:
  - name: orders
    model: ref('orders')
    defaults: {agg_time_dimension: ordered_at}
    entities: [{name: order, type: primary, expr: id}]
    dimensions:
      - {name: ordered_at, type: time, type_params: {time_granularity: day}}
      - {name: status, type: categorical}
    measures: [{name: amount, agg: sum}]
metrics:
  - name: amount_3_months
    label: A
    type: cumulative
    type_params:
      measure: amount
      cumulative_type_params: {window: 3 months, period_agg: last}
  - name: amount_filtered
    label: B
    type: cumulative
    type_params:
      measure: {name: amount, filter: "{{ Dimension('order__status') }} = 'paid'"}
      cumulative_type_params: {period_agg: last}
  - name: amount_2_weeks
    label: C
    type: cumulative
    type_params:
      measure: amount
      cumulative_type_params: {window: 2 weeks, period_agg: last}
"""
    )
    result = import_dbt(tmp_path)
    reported = {n.what: n.reason for n in result.notices if n.kind == "unmapped"}
    assert "filter" in reported["cumulative metric 'amount_filtered'"]
    assert "amount_2_weeks" in result.terms and "amount_3_months" in result.terms
    assert "amount_filtered" not in result.terms
    written = "\n".join(result.files.values())
    assert (
        "window: {time: ordered_at, last: 3, grain: month, rolling: day, period_value: last}"
        in (written)
    )
    assert "window: {time: ordered_at, last: 2, grain: week}" in written
