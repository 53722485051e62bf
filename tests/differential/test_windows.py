"""Differential property test of windows: running totals, trailing months and weeks, and year
to date of every base metric of the reference, along every time dimension its entity reaches
(to-one, as net revenue along the order date, or through one-to-many relationships, as
customers along the ship date of their orders' lines), by a grain, maybe split by another
dimension, maybe filtered, against the reference evaluator.

The reference knows nothing of how the compiler computes a window. Its meaning: for each
group of the query (the periods, and the other dimensions, that have a row for the metric),
the metric over the distinct rows of its entity whose period lies in the window of the
group's period and that share the group's other dimensions; conditions on the time dimension
alone pick the periods shown (the compiler refuses those that cut periods: such examples are
left out), other conditions filter the rows.

The window metrics are generated into a copy of the test project. 20 examples in `make test`,
50 in `make test-all` (tests/budget.py), derandomized; SEMANTIC_DIFFERENTIAL_WINDOWS sets more.
"""

from __future__ import annotations

import datetime as dt
import decimal
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, reject, settings
from hypothesis import strategies as st

from semantic import Project
from semantic.errors import SemanticError
from tests.budget import examples
from tests.differential.reference import METRICS, Dim, Expr, Metric, Query, Reference, reachable
from tests.differential.test_differential import (
    CONDITIONS,
    DIMENSIONS,
    GLOSSARY_DIMS,
    assert_same,
    fits,
    node,
    rows_of,
)

EXAMPLES = examples(full=50, fast=20, variable="SEMANTIC_DIFFERENTIAL_WINDOWS")
TIMES = ("order_date", "ship_date", "commit_date", "receipt_date")
RANK = {"day": 0, "week": 1, "month": 2, "quarter": 3, "year": 4, "fiscal_quarter": 3}
RANK["fiscal_year"] = 4

#: kind -> (the window of the glossary, the grains a query may group by)
KINDS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "so_far": ({}, ("week", "month", "quarter", "year")),
    "3_months": ({"last": 3, "grain": "month"}, ("week", "month")),
    "2_weeks": ({"last": 2, "grain": "week"}, ("week",)),
    "to_date": ({"to_date": "year"}, ("month", "quarter", "year")),
}

#: every (metric, time dimension, kind) whose time dimension the metric's entity reaches
WINDOWS = tuple(
    (metric, time, kind)
    for metric, definition in METRICS.items()
    for time in TIMES
    if node(Dim(time)) in reachable(definition.entity)
    for kind in KINDS
)


def term_of(metric: str, time: str, kind: str) -> str:
    return f"w_{metric}_{time}_{kind}"


def glossary() -> str:
    lines = ["domain: windows", "label: {en: Windows}", "terms:"]
    for metric, time, kind in WINDOWS:
        spec = ", ".join([f"time: {time}", *(f"{k}: {v}" for k, v in KINDS[kind][0].items())])
        term = term_of(metric, time, kind)
        lines.append(f"  {term}:")
        lines.append(f"    label: {{en: {term.replace('_', ' ')}}}")
        lines.append(f"    metric: {{expr: {metric}, window: {{{spec}}}}}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def windows_project(tpch_project: Project, tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("tpch-windows")
    for item in ("models", "glossary", "semantic.yml"):
        source = tpch_project.root / item
        if source.is_dir():
            shutil.copytree(source, root / item)
        else:
            shutil.copy(source, root / item)
    (root / "glossary" / "windows.yml").write_text(glossary())
    return Project.load(Path(root))


# --- the reference's windows ----------------------------------------------------------------


def _months_before(day: dt.date, months: int) -> dt.date:
    """`day` minus `months` months, clamped to the month's end (as DuckDB does)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def in_window(kind: str, period: dt.date, current: dt.date) -> bool:
    if period > current:
        return False
    if kind == "3_months":
        return period > _months_before(current, 3)
    if kind == "2_weeks":
        return period > current - dt.timedelta(weeks=2)
    if kind == "to_date":
        return period >= current.replace(month=1, day=1)
    return True


def on_time_alone(condition: Expr, time: str) -> bool:
    return all(d.term == time for d in condition.dims())


def period_values(condition: Expr, period: dt.date, grain: str, fiscal: int) -> dict[Dim, Any]:
    """The dimensions of a condition on the time dimension alone, read off a period."""
    from tests.differential.reference import truncate

    values: dict[Dim, Any] = {}
    for dim in condition.dims():
        value = period
        if dim.grain and RANK[dim.grain] > RANK[grain]:
            value = truncate(period, dim.grain, fiscal)
        values[dim] = Dim(dim.term, None, dim.func).apply(value)
    return values


def evaluate(reference: Reference, window: tuple[str, str, str], query: Query) -> list[Any]:
    """The rows of a window query: [time at a grain, other dims..., (metric), window]."""
    metric, time, kind = window
    dims = list(query.dims)
    grain = dims[0].grain
    assert grain is not None and dims[0].term == time
    fiscal = reference.fiscal_start
    rows_conditions = [c for c in query.where if not on_time_alone(c, time)]
    periods = [c for c in query.where if on_time_alone(c, time)]
    definition = METRICS[metric]
    entity = definition.entity
    with decimal.localcontext() as context:
        context.prec = 60
        base = reference.aggregate(metric, dims, rows_conditions)
        depth = reference.depth(entity, set(dims).union(*(c.dims() for c in rows_conditions)))
        combined = reference.combined(entity, depth)
        masks = [reference.kept(entity, depth, c) for c in rows_conditions]
        columns = [reference.column(entity, depth, d) for d in dims]
        buckets: dict[tuple[Any, ...], dict[dt.date, set[int]]] = defaultdict(
            lambda: defaultdict(set)
        )
        for i, (number, _) in enumerate(combined):
            if all(mask[i] for mask in masks) and columns[0][i] is not None:
                others = tuple(column[i] for column in columns[1:])
                buckets[others][columns[0][i]].add(number)
        values = reference.values(metric) if definition.value is not None else None
        empty = reference.empty(metric)
        result = []
        for group, plain in base.items():
            current = group[0]
            if current is not None and not all(
                c.eval(period_values(c, current, grain, fiscal)) is True for c in periods
            ):
                continue
            if current is None and periods:
                continue  # a condition on a NULL period is not true
            members: set[int] = set()
            if current is not None:
                for period, numbers in buckets[group[1:]].items():
                    if in_window(kind, period, current):
                        members |= numbers
            total: Any = None
            if definition.aggregate == "count":
                total = len(members)
            else:
                assert values is not None
                present = [values[n] for n in members if values[n] is not None]
                if present and definition.aggregate == "sum":
                    total = sum(present, decimal.Decimal(0))
                elif present:
                    total = float(sum(present, decimal.Decimal(0)) / len(present))
            if total is None:
                total = empty
            shown = {m: plain for m in query.metrics if m.term == metric}
            shown.update({m: total for m in query.metrics if m.term != metric})
            row = dict(zip(dims, group, strict=True)) | shown
            result.append(tuple(row[c] for c in query.columns))
        return result


# --- the queries ----------------------------------------------------------------------------

PARTITIONS = tuple(dim for dim in DIMENSIONS if dim.term not in TIMES)


@st.composite
def window_queries(draw: st.DrawFn) -> tuple[tuple[str, str, str], Query]:
    window = draw(st.sampled_from(WINDOWS))
    metric, time, kind = window
    nodes = reachable(METRICS[metric].entity)
    grain = draw(st.sampled_from(KINDS[kind][1]))
    if grain not in GLOSSARY_DIMS[time].grains and GLOSSARY_DIMS[time].grains:
        reject()
    columns: list[Dim | Metric] = [Dim(time, grain)]
    partitions = [d for d in PARTITIONS if fits(d, nodes)]
    if partitions and draw(st.sampled_from([False, True, False])):
        columns.append(draw(st.sampled_from(partitions)))
    if draw(st.booleans()):
        columns.append(Metric(metric))
    columns.append(Metric(term_of(metric, time, kind)))
    conditions = [c for c in CONDITIONS if fits(c, nodes) and not c.params()]
    where: tuple[Expr, ...] = ()
    if draw(st.sampled_from([False, True])):
        where = (draw(st.sampled_from(conditions)),)
    return window, Query(tuple(columns), where)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(case=window_queries())
def test_windows_agree_with_the_reference(
    windows_project: Project, reference: Reference, case: tuple[tuple[str, str, str], Query]
) -> None:
    window, query = case
    note(f"query: {query.text}")
    try:
        table = windows_project.query(query.text)
    except SemanticError as exc:
        # a condition on the time dimension alone that cuts a period is refused on purpose
        if exc.code == "SEM314" and any(on_time_alone(c, window[1]) for c in query.where):
            reject()
        pytest.fail(f"{query.text}\nrefused: {exc}", pytrace=False)
    assert_same(query, rows_of(table), evaluate(reference, window, query))


def test_every_time_dimension_is_windowed() -> None:
    assert {time for _, time, _ in WINDOWS} == set(TIMES)
    assert {METRICS[m].entity for m, _, _ in WINDOWS} == {
        "orders",
        "lineitem",
        "customer",
        "supplier",
        "partsupp",
    }
