"""`semantic export dbt`: the project as dbt semantic models and metrics that follow dbt's
specification (tests/dbt_spec.py) and that, read back by `semantic import dbt`, answer the
business queries with the numbers of the project they came from: on TPC-H (the repository's
project) and on the jaffle-shop-like fixture (tests/fixtures/dbt/jaffle_shop, itself imported
first). `dbt parse` and `mf validate-configs` on the export are recorded in
tests/fixtures/dbt/README.md (the suite never runs MetricFlow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from semantic.interchange.dbt import import_dbt
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.compare import same_value
from tests.dbt_project import write_dbt_project
from tests.dbt_spec import project_problems

#: business queries of TPC-H that use what MetricFlow carries
TPCH_QUERIES = [
    "SELECT market_segment, order_date.year, net_revenue, order_count, average_order_value "
    "WHERE order_status = 'F' ORDER BY 1, 2",
    "SELECT ship_mode, return_flag, quantity, average_discount, line_count, charge ORDER BY 1, 2",
    "SELECT part_brand, gross_revenue, discount_amount WHERE part_size > 40 ORDER BY 1",
    "SELECT ship_date.quarter, net_revenue, average_price ORDER BY 1",
    "SELECT order_priority, order_value, order_count "
    "WHERE order_date >= DATE '1995-01-01' ORDER BY 1",
    "SELECT supplier_name, net_revenue ORDER BY 2 DESC LIMIT 5",
]
#: business queries of the jaffle shop, its windows and offsets included
JAFFLE_QUERIES = [
    "SELECT order_items_ordered_at.month, revenue, cumulative_revenue_last, revenue_mtd, "
    "revenue_last_month ORDER BY 1",
    "SELECT order_items_ordered_at, revenue_7_days, revenue_growth ORDER BY 1",
    "SELECT order_items_ordered_at.quarter, cumulative_revenue, cumulative_revenue_average, "
    "revenue_month_window, revenue_month_window_last, revenue_quarter_window_average ORDER BY 1",
    "SELECT region, order_total, completed_orders, northern_customers, northern_revenue ORDER BY 1",
    "SELECT product_type, revenue, food_revenue, food_revenue_share, drink_revenue, "
    "large_order_revenue ORDER BY 1",
    "SELECT status, order_count, revenue_per_order, average_order, largest_order ORDER BY 1",
    "SELECT orders_ordered_at.week, customers_with_orders, recent_revenue ORDER BY 1",
    "SELECT visited_at.week, visit_conversion_7d, visit_conversions_7d, same_channel_buyers "
    "ORDER BY 1",
    "SELECT visits_channel, visit_conversion_7d, same_channel_buyers ORDER BY 1",
    "SELECT first_order_date.month, visit_to_order ORDER BY 1",
    "SELECT order_items_ordered_at, revenue_at_month_start ORDER BY 1",
    "SELECT orders_ordered_at.week, discounts, typical_discount ORDER BY 1",
]


def _yaml_files(folder: Path) -> dict[str, object]:
    yaml = YAML(typ="safe")
    return {str(p.relative_to(folder)): yaml.load(p.read_text()) for p in folder.rglob("*.yml")}


def _rows(project: Project, query: str) -> list[tuple[object, ...]]:
    return [tuple(row.values()) for row in project.query(query).to_pylist()]


def _assert_same_answers(original: Project, copy: Project, queries: list[str]) -> None:
    for query in queries:
        mine, theirs = _rows(original, query), _rows(copy, query)
        assert mine, query
        assert len(mine) == len(theirs), query
        for a, b in zip(mine, theirs, strict=True):
            assert len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True)), (
                query,
                a,
                b,
            )


@pytest.fixture(scope="module")
def tpch_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("dbt") / "tpch"
    result = run_cli("export", "dbt", "-o", str(out), "--format", "json")
    assert result.exit_code == 0, result.stderr
    return out, json.loads(result.stdout)["report"]


def test_the_export_follows_the_dbt_spec(tpch_export: tuple[Path, list[dict]]) -> None:
    out, _ = tpch_export
    files = _yaml_files(out)
    assert project_problems(files) == []
    assert (out / "dbt_project.yml").is_file()
    semantic = {m["name"] for tree in files.values() for m in tree.get("semantic_models") or []}
    assert semantic == {
        "region",
        "nation",
        "supplier",
        "part",
        "partsupp",
        "customer",
        "orders",
        "lineitem",
    }
    # each semantic model sits on a dbt model of its table, reading the source
    for name in semantic:
        sql = (out / "models" / f"{name}.sql").read_text()
        assert f"source('tpch', '{name}')" in sql
    assert "dbt.date_spine" in (out / "models" / "metricflow_time_spine.sql").read_text()


def test_what_metricflow_cannot_carry_is_reported(tpch_export: tuple[Path, list[dict]]) -> None:
    _, report = tpch_export
    lost = {r["message"].split(": ", 1)[1] for r in report}
    for what in (
        "metric 'customer_count'",  # customer has no time dimension
        "metric 'profit'",  # reads partsupp's column
        "metric 'revenue_last_3_months'",  # along order_date, not a lineitem date
        "metric 'revenue_growth'",
        "dimension 'customer_region'",  # role-playing
        "subject area 'sales_by_customer'",
        "labels and definitions in fr",
        "quality rules of lineitem, orders, customer_phone, market_segment",
    ):
        assert what in lost, what
    assert all(r["line"] > 0 or r["file"] == "semantic.yml" for r in report)
    why = {r["message"].split(": ", 1)[1]: r["hint"] for r in report}
    assert "agg_time_dimension" in why["metric 'customer_count'"]


def test_the_export_read_back_answers_like_tpch(
    project: Project, tpch_export: tuple[Path, list[dict]], tmp_path: Path
) -> None:
    out, _ = tpch_export
    result = run_cli("import", "dbt", str(out), "--into", str(tmp_path / "p"), project=None)
    assert result.exit_code == 0, result.stderr
    config = tmp_path / "p" / "semantic.yml"
    config.write_text(config.read_text() + f"data: {{dir: {project.data_dir}, format: parquet}}\n")
    copy = Project.load(tmp_path / "p")
    # composite keys come back as composite keys, column types as types
    assert copy.model.entities["lineitem"].primary_key == ("l_orderkey", "l_linenumber")
    assert copy.model.entities["orders"].columns["o_orderdate"].type == "date"
    _assert_same_answers(project, copy, TPCH_QUERIES)


def test_the_jaffle_shop_goes_round_trip(tmp_path: Path) -> None:
    dbt = write_dbt_project(tmp_path / "jaffle_shop")
    imported = run_cli("import", "dbt", str(dbt), "--into", str(tmp_path / "a"), project=None)
    assert imported.exit_code == 0, imported.stderr
    exported = run_cli("export", "dbt", "-o", str(tmp_path / "dbt"), project=tmp_path / "a")
    assert exported.exit_code == 0, exported.stderr
    assert project_problems(_yaml_files(tmp_path / "dbt")) == []
    again = import_dbt(tmp_path / "dbt")
    back = run_cli(
        "import", "dbt", str(tmp_path / "dbt"), "--into", str(tmp_path / "b"), project=None
    )
    assert back.exit_code == 0, back.stderr
    config = tmp_path / "b" / "semantic.yml"
    config.write_text(config.read_text() + f"data: {{dir: {dbt / 'seeds'}, format: csv}}\n")
    original, copy = Project.load(tmp_path / "a"), Project.load(tmp_path / "b")
    _assert_same_answers(original, copy, JAFFLE_QUERIES)
    # windows, offsets and filtered inputs came back as such
    metrics = {t: copy.model.terms[t] for t in ("revenue_7_days", "revenue_mtd")}
    assert all(t.window is not None for t in metrics.values())
    # windows per day came back with their period_agg
    for rolled in ("cumulative_revenue", "cumulative_revenue_average", "revenue_month_window"):
        before, after = original.model.terms[rolled].window, copy.model.terms[rolled].window
        assert before is not None and after is not None and after.rolling == "day"
        assert after.period_value == before.period_value, rolled
    assert any(t.shift is not None for t in copy.model.terms.values())
    # conversion metrics, offset_to_grain and fills of NULL aggregates came back as such
    for name in ("visit_to_order", "visit_conversion_7d", "same_channel_buyers"):
        before, after = original.model.terms[name], copy.model.terms[name]
        assert after.conversion is not None and before.conversion is not None, name
        assert after.conversion.window == before.conversion.window, name
        assert after.conversion.calculation == before.conversion.calculation, name
        assert after.conversion.constant_properties == before.conversion.constant_properties
    assert any(
        t.shift is not None and t.shift.to_start_of == "month" for t in copy.model.terms.values()
    )
    assert copy.model.terms["typical_discount"].expr.sql() == "COALESCE(AVG(discount), 0)"
    assert copy.model.subject_areas["revenue_by_region"].metrics == ("order_total", "order_count")
    assert [n.what for n in again.notices if n.kind == "unmapped"] == ["sources entry 'a'"]


def test_export_prints_the_files_without_a_folder() -> None:
    result = run_cli("export", "dbt")
    assert result.exit_code == 0, result.stderr
    assert "# ---- models/lineitem.yml\n" in result.stdout
    assert "semantic_models:" in result.stdout and "export dbt:" in result.stderr


def test_the_export_never_overwrites_without_replace(tmp_path: Path) -> None:
    first = run_cli("export", "dbt", "-o", str(tmp_path))
    assert first.exit_code == 0, first.stderr
    again = run_cli("export", "dbt", "-o", str(tmp_path))
    assert again.exit_code == 1 and "SEM220" in again.stderr
    assert run_cli("export", "dbt", "-o", str(tmp_path), "--replace").exit_code == 0
