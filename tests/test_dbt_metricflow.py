"""The numbers of an imported dbt project are MetricFlow's: the jaffle-shop-like fixture
(tests/fixtures/dbt/jaffle_shop), imported with `semantic import dbt`, answers the business
queries below as `mf query` answered the same questions (recorded once in
tests/fixtures/dbt/metricflow_answers.json by record_metricflow.py, with the versions: the
suite never needs MetricFlow).

MetricFlow lists periods without rows that we do not list (the time spine of cumulative
metrics, offsets and join_to_timespine, reported as carried over differently): those rows
must be periods without any row of the metric's entity, and every period we list must be
MetricFlow's, with its numbers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from semantic.project import Project
from tests.cli_runner import run_cli
from tests.compare import same_value
from tests.dbt_project import write_dbt_project

ANSWERS = json.loads(
    (Path(__file__).parent / "fixtures" / "dbt" / "metricflow_answers.json").read_text()
)["answers"]

#: MetricFlow's recorded answer -> (our business query, the query listing the periods that
#: have rows of the metrics' entity)
CASES = {
    "cumulative_by_month": (
        "SELECT order_items_ordered_at.month, revenue, cumulative_revenue, "
        "cumulative_revenue_last, cumulative_revenue_average, revenue_mtd",
        "SELECT order_items_ordered_at.month, item_count",
        [
            "revenue",
            "cumulative_revenue",
            "cumulative_revenue_last",
            "cumulative_revenue_average",
            "revenue_mtd",
        ],
    ),
    # windows of a month and a quarter, ending on each day (rolling: day)
    "month_windows_by_month": (
        "SELECT order_items_ordered_at.month, revenue_month_window, "
        "revenue_month_window_last, revenue_quarter_window_average",
        "SELECT order_items_ordered_at.month, item_count",
        ["revenue_month_window", "revenue_month_window_last", "revenue_quarter_window_average"],
    ),
    "cumulative_by_quarter": (
        "SELECT order_items_ordered_at.quarter, revenue, cumulative_revenue, "
        "cumulative_revenue_average, revenue_month_window, revenue_month_window_last, "
        "revenue_quarter_window_average",
        "SELECT order_items_ordered_at.quarter, item_count",
        [
            "revenue",
            "cumulative_revenue",
            "cumulative_revenue_average",
            "revenue_month_window",
            "revenue_month_window_last",
            "revenue_quarter_window_average",
        ],
    ),
    "counts_and_fills_by_week": (
        "SELECT orders_ordered_at.week, order_total, northern_customers, northern_revenue",
        "SELECT orders_ordered_at.week, order_count",
        ["order_total", "northern_customers", "northern_revenue"],
    ),
    "offset_by_month": (
        "SELECT order_items_ordered_at.month, revenue, revenue_last_month",
        "SELECT order_items_ordered_at.month, item_count",
        ["revenue", "revenue_last_month"],
    ),
    "offset_by_day": (
        "SELECT order_items_ordered_at, revenue, revenue_growth",
        "SELECT order_items_ordered_at, item_count",
        ["revenue", "revenue_growth"],
    ),
    "window_by_day": (
        "SELECT order_items_ordered_at, revenue_7_days",
        "SELECT order_items_ordered_at, item_count",
        ["revenue_7_days"],
    ),
    "timespine_by_month": (
        "SELECT order_items_ordered_at.month, revenue_every_day",
        "SELECT order_items_ordered_at.month, item_count",
        ["revenue_every_day"],
    ),
    "saved_query": (
        "SELECT orders_ordered_at.month, region, order_total, order_count "
        "WHERE status = 'completed'",
        "SELECT orders_ordered_at.month, region, order_count",
        ["order_total", "order_count"],
    ),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("mf")
    dbt = write_dbt_project(root / "jaffle_shop")
    result = run_cli("import", "dbt", str(dbt), "--into", str(root / "p"), project=None)
    assert result.exit_code == 0, result.stderr
    return Project.load(root / "p")


def _key(value: Any) -> str:
    """A period or a dimension value as MetricFlow's CSV writes it."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return f"{value.isoformat()} 00:00:00"
    return str(value)


def _cell(text: str) -> float | None:
    return None if text == "" else float(text)


@pytest.mark.parametrize("name", sorted(CASES))
def test_imported_metrics_give_metricflow_numbers(project: Project, name: str) -> None:
    assert_metricflow_numbers(project, name)


def assert_metricflow_numbers(project: Project, name: str) -> None:
    """The answer of `project` to the business query of CASES[name] is MetricFlow's."""
    query, periods_query, metrics = CASES[name]
    header, *rows = ANSWERS[name]["rows"]
    keys = [c for c in header if "__" in c]  # metric_time__month, customer__region
    theirs = {
        tuple(row[header.index(k)] for k in keys): [_cell(row[header.index(m)]) for m in metrics]
        for row in rows
    }
    ours = {
        tuple(_key(v) for v in list(row.values())[: len(keys)]): list(row.values())[len(keys) :]
        for row in project.query(query).to_pylist()
    }
    with_rows = {
        tuple(_key(v) for v in list(row.values())[: len(keys)])
        for row in project.query(periods_query).to_pylist()
    }
    assert ours, name
    for key, values in ours.items():
        assert key in theirs, (name, key)
        for metric, mine, mf in zip(metrics, values, theirs[key], strict=True):
            assert same_value(mine, mf), (name, key, metric, mine, mf)
    for key in set(theirs) - set(ours):
        assert key not in with_rows, (name, key)  # only periods without rows are MF's alone


def test_what_would_give_other_numbers_is_not_imported(project: Project) -> None:
    """MetricFlow's period_agg first (its default) and average, and its windows of months
    and quarters, are windows per day (`rolling: day`), compared above; offset_to_grain has
    no equivalent: that metric is reported and left out, never imported with our numbers."""
    header, *rows = ANSWERS["cumulative_by_month"]["rows"]
    first = {r[0]: r[header.index("cumulative_revenue")] for r in rows}
    last = {r[0]: r[header.index("cumulative_revenue_last")] for r in rows}
    assert first["2024-02-01 00:00:00"] != last["2024-02-01 00:00:00"]  # they differ indeed
    for rolled, value in (
        ("cumulative_revenue", "first"),
        ("cumulative_revenue_average", "average"),
        ("revenue_month_window", "first"),
        ("revenue_month_window_last", "last"),
        ("revenue_quarter_window_average", "average"),
    ):
        window = project.model.terms[rolled].window
        assert window is not None and window.rolling == "day", rolled
        assert window.period_value == value, rolled
    assert project.model.terms["cumulative_revenue_last"].window.rolling is None  # type: ignore[union-attr]
    assert "revenue_month_start" not in project.model.terms
    area = project.model.subject_areas["revenue_by_region"]
    assert area.metrics == ("order_total", "order_count")
