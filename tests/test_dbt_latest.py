"""`semantic import dbt` reads the latest dbt semantic layer spec (dbt 1.12 and Fusion:
`semantic_model:` inside `models:`, entities and dimensions on columns, simple metrics with
their own `agg` instead of measures, metric parameters without `type_params`; transcribed in
tests/dbt_spec.py) as it reads the classic one: the jaffle-shop fixture written in the
latest spec (tests/fixtures/dbt/jaffle_shop_latest), and a project mixing both layouts,
import into the glossary the classic fixture imports into, answer the business queries with
the same rows, and MetricFlow's recorded answers."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from ruamel.yaml import YAML

from semantic.interchange.dbt import import_dbt
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.compare import assert_same_rows, same_value
from tests.dbt_project import CASES, FILES, LATEST, fixture_files, write_dbt_project
from tests.dbt_spec import latest_project_problems
from tests.test_dbt_metricflow import CASES as MF_CASES
from tests.test_dbt_metricflow import assert_metricflow_numbers

LATEST_FILES = fixture_files(LATEST)
_SAFE = YAML(typ="safe")

#: the classic metrics over the classic orders measures, for the mixed project
_ORDERS_METRICS = {
    "order_count",
    "order_total",
    "completed_orders",
    "northern_customers",
    "northern_revenue",
    "discounts",
    "typical_discount",
}

#: what the latest fixture's report must say was not carried over: file, message
NOT_CARRIED_LATEST = [
    ("models/metrics.yml", "'exports' of saved query 'revenue_by_region'"),
    ("models/metrics.yml", "groups entry 'finance'"),
    ("models/metrics.yml", "offset_to_grain of input 'revenue_mtd' of 'revenue_month_start'"),
    ("models/orders.yml", "config of 'order_total'"),
    ("models/orders.yml", "simple metric 'open_balance' of 'orders'"),
    ("models/orders.yml", "simple metric 'p90_order' of 'orders'"),
]


def _mixed_files() -> dict[str, str]:
    """Customers and orders in the classic layout (semantic models, measures and the
    classic metrics over them), order items and every other metric in the latest one."""
    rt = YAML()
    classic = rt.load(FILES["models/metrics.yml"])
    kept = [m for m in classic["metrics"] if m["name"] in _ORDERS_METRICS]
    out = io.StringIO()
    rt.dump({"version": 2, "metrics": kept}, out)
    return {
        "dbt_project.yml": FILES["dbt_project.yml"],
        "models/customers.yml": FILES["models/customers.yml"],
        "models/orders.yml": FILES["models/orders.yml"],
        "models/orders_metrics.yml": out.getvalue(),
        "models/order_items.yml": LATEST_FILES["models/order_items.yml"],
        "models/visits.yml": LATEST_FILES["models/visits.yml"],
        "models/metrics.yml": LATEST_FILES["models/metrics.yml"],
    }


def _import(root: Path, files: dict[str, str]) -> tuple[Project, list[dict[str, Any]]]:
    dbt = write_dbt_project(root / "dbt", files)
    result = run_cli(
        "import", "dbt", str(dbt), "--into", str(root / "p"), "--format", "json", project=None
    )
    assert result.exit_code == 0, result.stderr
    check = run_cli("check", project=root / "p")
    assert check.exit_code == 0, check.stdout + check.stderr
    return Project.load(root / "p"), json.loads(result.stdout)["report"]


@pytest.fixture(scope="module")
def imports(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Project, list[dict[str, Any]]]]:
    root = tmp_path_factory.mktemp("latest")
    layouts = {"classic": FILES, "latest": LATEST_FILES, "mixed": _mixed_files()}
    return {name: _import(root / name, files) for name, files in layouts.items()}


def test_the_latest_fixture_follows_the_spec() -> None:
    trees = {p: _SAFE.load(t) for p, t in LATEST_FILES.items() if p.startswith("models/")}
    assert latest_project_problems(trees) == []


def _glossary(project: Project) -> dict[str, Any]:
    """Every term of the project's glossary files as written, tags aside (a measure's term
    is tagged dbt-measure; the latest spec has no measures)."""
    terms: dict[str, Any] = {}
    for path in sorted((project.root / "glossary").glob("*.yml")):
        for tid, term in (_SAFE.load(path.read_text())["terms"] or {}).items():
            terms[tid] = {k: v for k, v in term.items() if k != "tags"}
    return terms


@pytest.mark.parametrize("layout", ["latest", "mixed"])
def test_both_layouts_import_into_the_same_project(
    imports: dict[str, tuple[Project, list[dict[str, Any]]]], layout: str
) -> None:
    classic, _ = imports["classic"]
    project, _ = imports[layout]
    model = (project.root / "models" / "dbt.yml").read_text()
    if layout == "latest":
        # customers' column types come from the columns of its model in both fixtures
        assert model == (classic.root / "models" / "dbt.yml").read_text()
    assert _glossary(project) == _glossary(classic)
    assert project.model.subject_areas == classic.model.subject_areas
    assert project.check_data() == []


def _day(value: object) -> object:
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date()
    return value


@pytest.mark.parametrize("layout", ["latest", "mixed"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_the_business_queries_give_the_classic_rows(
    imports: dict[str, tuple[Project, list[dict[str, Any]]]], layout: str, case: int
) -> None:
    query, hand = CASES[case]
    classic, _ = imports["classic"]
    project, _ = imports[layout]
    got = [tuple(map(_day, r.values())) for r in project.query(query).to_pylist()]
    theirs = [tuple(map(_day, r.values())) for r in classic.query(query).to_pylist()]
    assert len(got) == len(theirs) >= 1
    for mine, other in zip(got, theirs, strict=True):
        assert all(same_value(a, b) for a, b in zip(mine, other, strict=True)), (mine, other)
    seeds = project.root.parent / "dbt" / "seeds"
    assert_same_rows(got, duckdb.connect().execute(hand.format(seeds=seeds)).fetchall())


@pytest.mark.parametrize("layout", ["latest", "mixed"])
@pytest.mark.parametrize("name", sorted(MF_CASES))
def test_the_latest_layout_gives_metricflow_numbers(
    imports: dict[str, tuple[Project, list[dict[str, Any]]]], layout: str, name: str
) -> None:
    assert_metricflow_numbers(imports[layout][0], name)


def test_what_the_latest_layout_does_not_carry_is_reported_with_its_place(
    imports: dict[str, tuple[Project, list[dict[str, Any]]]],
) -> None:
    project, report = imports["latest"]
    dbt = project.root.parent / "dbt"
    skipped = [r for r in report if r["message"].startswith("not carried over: ")]
    found = [(r["file"], r["message"].removeprefix("not carried over: ")) for r in skipped]
    assert sorted(found) == sorted(NOT_CARRIED_LATEST)
    for item in skipped:
        assert item["hint"] and item["line"] > 0
        lines = (dbt / item["file"]).read_text().splitlines()
        name = item["message"].split("'")[1]
        assert name in "\n".join(lines[item["line"] - 4 : item["line"] + 6]), item
    changed = sorted(r["message"] for r in report if r not in skipped)
    assert changed == [
        "carried over differently: cumulative metric 'cumulative_revenue'",
        "carried over differently: cumulative metric 'cumulative_revenue_average'",
        "carried over differently: cumulative metric 'cumulative_revenue_last'",
        "carried over differently: cumulative metric 'revenue_7_days'",
        "carried over differently: cumulative metric 'revenue_month_window'",
        "carried over differently: cumulative metric 'revenue_month_window_last'",
        "carried over differently: cumulative metric 'revenue_mtd'",
        "carried over differently: cumulative metric 'revenue_quarter_window_average'",
        "carried over differently: join_to_timespine of simple metric 'revenue_every_day'",
    ]


_SHAPES = """version: 2
models:
  - name: stg_payments
    config:
      alias: payments
    description: One row per payment.
    semantic_model:
      enabled: true
      name: payment
      group: finance
    agg_time_dimension: paid_at
    columns:
      - name: payment_id
        data_type: integer
        entity: primary
      - name: order_id
        entity:
          type: foreign
          name: order
      - name: paid_at
        granularity: month
        dimension:
          type: time
          label: Paid at
          granularity: day
      - name: method
        description: How it was paid.
        dimension: categorical
    metrics:
      - name: paid
        type: simple
        agg: sum
        expr: amount
      - name: card_paid
        type: simple
        agg: sum
        expr: amount
        filter: "{{ Dimension('payment_id__method') }} = 'card'"
      - name: secret_paid
        type: simple
        agg: sum
        expr: amount
        hidden: true
      - name: card_paid_so_far
        type: cumulative
        input_metric: card_paid
        period_agg: last
      - name: paid_so_far
        type: cumulative
        input_metric: paid
        period_agg: last
  - name: orders
    semantic_model: false
    metrics:
      - name: order_count
        type: simple
        agg: count
        expr: 1
metrics:
  - name: loose
    type: simple
    agg: count
    expr: 1
  - name: paid_share
    type: ratio
    numerator: card_paid
    denominator: paid
"""


def test_the_shapes_of_the_latest_spec(tmp_path: Path) -> None:
    """Shorthands (`entity: primary`, `dimension: categorical`), a semantic model's own name,
    the model's alias as the table, a granularity on the column; and reported: settings
    with no equivalent, a granularity written inside `dimension:`, a hidden metric, a
    running total over a filtered metric, simple metrics outside a semantic model."""
    (tmp_path / "dbt_project.yml").write_text("name: shop\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "payments.yml").write_text(_SHAPES)
    result = import_dbt(tmp_path)
    files = {path: _SAFE.load(text) for path, text in result.files.items()}
    entity = files["models/dbt.yml"]["entities"]["payment"]
    assert entity["table"] == "payments" and entity["primary_key"] == ["payment_id"]
    assert entity["columns"]["payment_id"] == {"type": "integer"}
    assert entity["description"] == "One row per payment."
    terms = files["glossary/payment.yml"]["terms"]
    assert terms["paid_at"]["time_dimension"]["grains"] == ["month", "quarter", "year"]
    assert terms["paid_at"]["label"] == {"en": "Paid at"}
    assert terms["method"]["definition"] == {"en": "How it was paid."}
    assert terms["paid"]["metric"] == {"entity": "payment", "expr": "SUM(amount)"}
    metrics = files["glossary/metrics.yml"]["terms"]
    assert metrics["card_paid"]["metric"]["filter"] == "method = 'card'"
    assert metrics["paid_share"]["metric"]["expr"] == "card_paid / paid"
    assert metrics["paid_so_far"]["metric"]["window"] == {"time": "paid_at"}
    assert "payment_card_paid" not in result.terms  # the helper measure is not written
    assert not {"card_paid_so_far", "order_count", "loose"} & set(result.terms)
    reported = {(n.what, n.line) for n in result.notices}
    for said in [
        ("'group' of the semantic model of 'stg_payments'", 10),
        ("'granularity' of dimension of column 'paid_at' of 'payment'", 25),
        ("hidden of simple metric 'secret_paid'", 43),
        ("cumulative metric 'card_paid_so_far'", 46),
        ("simple metric 'order_count'", 57),
        ("simple metric 'loose'", 62),
    ]:
        assert said in reported, (said, sorted(reported))
