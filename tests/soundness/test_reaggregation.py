"""A BI tool sums a subject area's view again: the columns said to add up do, the others are
flagged (SEM232, SEM233, a column comment).

A subject area's view is read by BI tools, which aggregate its rows once more (a grand
total, a coarser chart), with `sum` unless told otherwise. That total is right only for
additive metrics whose every dimension is reached to-one: an order counted under each ship
mode of its lines is counted several times. Issue #12, class 8: `semantic check` said
nothing and docs/views.md said sums and counts always add up.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from semantic.compiler.additivity import reaggregation
from semantic.compiler.areas import check_subject_areas
from semantic.errors import SemanticError
from semantic.model import Model, SubjectArea
from semantic.outputs.views import subject_area_view
from semantic.project import Project
from tests.compare import same_value


def with_area(model: Model, dimensions: tuple[str, ...], metrics: tuple[str, ...]) -> Model:
    """The model with one more subject area, `probe`, over `dimensions` and `metrics`."""
    area = SubjectArea(
        id="probe",
        domain="sales",
        labels={"en": "Probe"},
        definition={},
        owners=(),
        dimensions=dimensions,
        metrics=metrics,
        filter=None,
        segments=(),
        span=model.subject_areas["sales_by_customer"].span,
    )
    return dataclasses.replace(model, subject_areas={"probe": area}, path_cache={})


def reaggregated(project: Project, model: Model, how: str = "sum") -> dict[str, Any]:
    """What a BI tool computes over the published view: `how` of each metric column."""
    area = model.subject_areas["probe"]
    view = subject_area_view(model, area, None, "[semantic:test]", "main")
    body = view.query.sql(dialect="duckdb")
    items = ", ".join(f'{how}("{m}")' for m in area.metrics)
    row = project.engine.fetch(f"SELECT {items} FROM ({body}) AS bi")[0]
    return dict(zip(area.metrics, row, strict=True))


def test_a_bi_tools_sum_by_ship_mode_is_flagged_and_really_wrong(project: Project) -> None:
    """The issue's case: orders and customers counted once per ship mode of their lines."""
    metrics = ("order_count", "customer_count", "order_value", "net_revenue")
    model = with_area(project.model, ("ship_mode",), metrics)
    flags = {r.metric: r for r in reaggregation(model, model.subject_areas["probe"])}
    assert {m for m, r in flags.items() if not r.adds_up} == {
        "order_count",
        "customer_count",
        "order_value",
    }
    assert flags["order_count"].many_side == ("ship_mode",)
    summed = reaggregated(project, model)
    expected = project.engine.fetch(
        "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM customer), "
        "(SELECT sum(o_totalprice) FROM orders), "
        "(SELECT sum(l_extendedprice * (1 - l_discount)) FROM lineitem)"
    )[0]
    right = dict(zip(metrics, expected, strict=True))
    # the flagged columns really are wrong once summed, the one said to add up is right
    for metric in ("order_count", "customer_count", "order_value"):
        assert summed[metric] > right[metric], metric
    # the numbers of the issue and of docs/views.md
    assert (summed["order_count"], right["order_count"]) == (45735, 15000)
    assert (summed["customer_count"], right["customer_count"]) == (7461, 1500)
    assert same_value(summed["net_revenue"], right["net_revenue"])
    # the BI tool's over-count is what hand-written SQL says: one order per ship mode it has
    per_mode = project.engine.fetch(
        "SELECT sum(n) FROM (SELECT l_shipmode, count(DISTINCT l_orderkey) AS n "
        "FROM lineitem GROUP BY l_shipmode)"
    )[0][0]
    assert summed["order_count"] == per_mode
    warned = check_subject_areas(model)
    assert [(d.code, d.severity) for d in warned] == [("SEM232", "warning")] * 3
    metrics_warned = ("order_count", "customer_count", "order_value")
    for diagnostic, metric in zip(warned, metrics_warned, strict=True):
        assert f"sum of '{metric}'" in diagnostic.message and "'ship_mode'" in diagnostic.message


def test_a_year_to_date_summed_to_the_year_is_flagged_and_really_wrong(
    project: Project,
) -> None:
    model = with_area(project.model, ("order_date.month",), ("revenue_year_to_date",))
    (flag,) = reaggregation(model, model.subject_areas["probe"])
    assert not flag.adds_up and flag.safe == ()
    summed = reaggregated(project, model)["revenue_year_to_date"]
    total = project.engine.fetch("SELECT sum(l_extendedprice * (1 - l_discount)) FROM lineitem")
    assert summed > 2 * total[0][0]
    assert [d.code for d in check_subject_areas(model)] == ["SEM233"]


# --- every metric by every dimension ----------------------------------------------------------


def _names(model: Model) -> tuple[list[str], list[str]]:
    dimensions = sorted(
        t.id for t in model.terms.values() if t.kind == "dimension" and t.status != "deprecated"
    )
    dimensions += sorted(
        f"{t.id}.{g}"
        for t in model.terms.values()
        if t.kind == "time_dimension"
        for g in t.grains
        if g in ("month", "year")
    )
    metrics = sorted(t.id for t in model.terms.values() if t.is_metric)
    return dimensions, metrics


def _grand_totals(project: Project, metrics: list[str]) -> dict[str, Any]:
    """Each metric's grand total as the compiler computes it (None when it needs a time
    dimension to be computed at all)."""
    totals = {}
    for metric in metrics:
        try:
            totals[metric] = project.query(f"SELECT {metric}").to_pylist()[0][metric]
        except SemanticError:
            totals[metric] = None
    return totals


def _check_area(project: Project, chosen: tuple[str, ...], metric: str, total: Any) -> bool:
    """Whether the area compiles; if it does, every aggregation said safe gives `total`."""
    model = with_area(project.model, chosen, (metric,))
    try:
        (flag,) = reaggregation(model, model.subject_areas["probe"])
        by_how = {how: reaggregated(project, model, how)[metric] for how in flag.safe}
    except SemanticError:  # no join path, a window without its time dimension: no view
        return False
    for how, value in by_how.items():
        assert same_value(value, total), f"{how}({metric}) over {chosen}: {value} != {total}"
    return True


def test_every_metric_by_every_dimension_adds_up_where_said(project: Project) -> None:
    """For every (dimension, metric) pair of the TPC-H glossary whose area compiles: flagged
    additive implies that the BI tool's sum over the view equals the grand total the
    compiler computes (and the same for max and min when those are said safe)."""
    dimensions, metrics = _names(project.model)
    totals = _grand_totals(project, metrics)
    checked = [
        (d, m) for d in dimensions for m in metrics if _check_area(project, (d,), m, totals[m])
    ]
    assert len(checked) > 500  # most pairs compile: the test is not vacuous


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_two_dimensions_add_up_where_said(project: Project, data: st.DataObject) -> None:
    """The same with two dimensions, one of which may be on the many side."""
    dimensions, metrics = _names(project.model)
    chosen = tuple(data.draw(st.lists(st.sampled_from(dimensions), min_size=2, max_size=2)))
    metric = data.draw(st.sampled_from(metrics))
    note(f"area: {chosen} x {metric}")
    if len(set(chosen)) == 2:
        total = _grand_totals(project, [metric])[metric]
        _check_area(project, chosen, metric, total)


@pytest.mark.parametrize(
    ("dimension", "metric"),
    [
        ("ship_mode", "order_count"),
        ("ship_mode", "customer_count"),
        ("part_brand", "order_value"),
        ("supplier_region", "customer_count"),
        ("ship_mode", "supplying_supplier_count"),
        ("customer_region", "average_order_value"),
        ("customer_region", "supplying_supplier_count"),
    ],
)
def test_a_flagged_column_really_differs_once_summed(
    project: Project, dimension: str, metric: str
) -> None:
    """The other direction, on cases where the data makes it visible: a flagged column's sum
    is not the grand total (so the flag is not raised for nothing)."""
    model = with_area(project.model, (dimension,), (metric,))
    (flag,) = reaggregation(model, model.subject_areas["probe"])
    assert not flag.adds_up
    total = project.query(f"SELECT {metric}").to_pylist()[0][metric]
    assert not same_value(reaggregated(project, model)[metric], total)
