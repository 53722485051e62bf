"""`semantic lineage TERM` and `Project.lineage`: a term traced through derived metrics,
filters, segments and join paths down to physical columns and tables, as a tree, JSON and an
OpenLineage run event (checked with the openlineage package's own classes)."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from semantic.project import Project
from tests.cli_runner import run_cli
from tests.conftest import ROOT
from tests.test_startup import loaded

#: A filtered metric whose filter names a segment and a role-playing dimension, and a
#: derived metric over it: what the lineage of `complaint_share` must go through.
EXTRA = """\
domain: complaints
label: {en: Complaints}
terms:
  complaint_revenue:
    label: {en: Revenue from suppliers with complaints}
    metric:
      entity: lineitem
      expr: sum(l_extendedprice * (1 - l_discount))
      filter: supplier_with_complaints AND customer_region = 'ASIA'
  complaint_share:
    label: {en: Share of revenue from suppliers with complaints}
    metric:
      expr: complaint_revenue / net_revenue
"""


@pytest.fixture(scope="module")
def extended(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default project with the terms of EXTRA."""
    root = tmp_path_factory.mktemp("lineage")
    shutil.copy(ROOT / "semantic.yml", root)
    shutil.copytree(ROOT / "models", root / "models")
    shutil.copytree(ROOT / "glossary", root / "glossary")
    (root / "glossary" / "complaints.yml").write_text(EXTRA)
    return root


def test_the_tree_goes_down_to_columns_and_whole_tables() -> None:
    done = run_cli("lineage", "average_order_value")
    assert done.exit_code == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "average_order_value (metric) net_revenue / NULLIF(order_count, 0)"
    assert "├── net_revenue (metric) SUM(l_extendedprice * (1 - l_discount)) on lineitem" in lines
    assert "│   ├── column lineitem.l_extendedprice" in lines
    assert "    └── rows of orders" in lines
    assert lines[-1] == "tables: lineitem, orders"


def test_a_label_in_french_names_the_term_and_its_join_path() -> None:
    done = run_cli("lineage", "Région client", "--format", "json")
    assert done.exit_code == 0, done.stderr
    tree = json.loads(done.stdout)
    assert tree["term"] == "customer_region" and tree["path"] == [
        "customer.nation",
        "nation.region",
    ]
    assert [j["on"] for j in tree["joins"]] == [
        [["customer.c_nationkey", "nation.n_nationkey"]],
        [["nation.n_regionkey", "region.r_regionkey"]],
    ]
    assert tree["tables"] == ["customer", "nation", "region"]
    roles = {(c["table"], c["column"]): c["role"] for c in tree["all_columns"]}
    assert roles[("region", "r_name")] == "value"
    assert roles[("customer", "c_nationkey")] == "join"


def test_lineage_goes_through_a_derived_metric_a_filter_and_a_segment(extended: Path) -> None:
    tree = Project.load(extended).lineage("complaint_share")
    assert tree["kind"] == "metric" and tree["entity"] is None
    filtered, net = tree["inputs"]
    assert (filtered["term"], filtered["role"]) == ("complaint_revenue", "metric")
    assert (net["term"], net["role"]) == ("net_revenue", "metric")
    segment, region = filtered["inputs"]
    assert (segment["term"], segment["role"], segment["kind"]) == (
        "supplier_with_complaints",
        "filter",
        "segment",
    )
    assert segment["columns"] == [
        {"entity": "supplier", "table": "supplier", "column": "s_comment", "role": "value"}
    ]
    # the joins from the metric's rows to the filter's: lineitem -> supplier
    assert [j["relationship"] for j in segment["via"]] == ["lineitem.supplier"]
    assert [j["relationship"] for j in region["via"]] == [
        "lineitem.orders",
        "orders.customer",
        "customer.nation",
        "nation.region",
    ]
    roles = {(c["table"], c["column"], c["role"]) for c in tree["all_columns"]}
    assert ("supplier", "s_comment", "filter") in roles
    assert ("region", "r_name", "filter") in roles
    assert ("lineitem", "l_extendedprice", "value") in roles
    assert ("lineitem", "l_suppkey", "join") in roles
    assert tree["tables"] == ["customer", "lineitem", "nation", "orders", "region", "supplier"]


def test_the_tree_shows_a_filter_and_its_joins(extended: Path) -> None:
    done = run_cli("lineage", "complaint_revenue", project=extended)
    assert done.exit_code == 0, done.stderr
    assert (
        "├── filter: supplier_with_complaints (segment) "
        "s_comment LIKE '%Customer%Complaints%' on supplier" in done.stdout
    )
    assert (
        "join lineitem.l_suppkey = supplier.s_suppkey (lineitem.supplier, many_to_one)"
        in done.stdout
    )


def test_the_openlineage_event_parses_with_the_package_classes() -> None:
    from openlineage.client.facet_v2 import column_lineage_dataset as cl

    done = run_cli("lineage", "net_revenue", "--format", "openlineage")
    assert done.exit_code == 0, done.stderr
    event = json.loads(done.stdout)
    assert event["eventType"] == "COMPLETE"
    assert event["schemaURL"].startswith("https://openlineage.io/spec/")
    uuid.UUID(event["run"]["runId"])
    assert event["job"] == {
        "facets": {},
        "name": "tpch.net_revenue",
        "namespace": "semantic://tpch",
    }
    [source] = event["inputs"]
    assert source["name"] == "lineitem"
    assert [f["name"] for f in source["facets"]["schema"]["fields"]] == [
        "l_discount",
        "l_extendedprice",
    ]
    [output] = event["outputs"]
    assert output["name"] == "glossary.net_revenue"
    facet = output["facets"]["columnLineage"]
    assert facet["_schemaURL"].endswith(
        "ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
    )
    # rebuilt with the package's own classes: every key is one they know
    fields = {
        name: cl.Fields(
            inputFields=[
                cl.InputField(
                    namespace=f["namespace"],
                    name=f["name"],
                    field=f["field"],
                    transformations=[cl.Transformation(**t) for t in f["transformations"]],
                )
                for f in value["inputFields"]
            ],
            transformationDescription=value["transformationDescription"],
            transformationType=value.get("transformationType"),
        )
        for name, value in facet["fields"].items()
    }
    read = fields["net_revenue"].inputFields
    assert {(f.name, f.field) for f in read} == {
        ("lineitem", "l_extendedprice"),
        ("lineitem", "l_discount"),
    }
    assert {(t.type, t.subtype) for f in read for t in f.transformations or []} == {
        ("DIRECT", "AGGREGATION")
    }


def test_openlineage_names_join_columns_as_indirect() -> None:
    done = run_cli(
        "lineage", "customer_nation", "-f", "openlineage", "--namespace", "duckdb://tpch"
    )
    event = json.loads(done.stdout)
    facet = event["outputs"][0]["facets"]["columnLineage"]
    indirect = {(f["name"], f["field"]) for f in facet["dataset"]}
    assert indirect == {("customer", "c_nationkey"), ("nation", "n_nationkey")}
    assert {f["transformations"][0]["subtype"] for f in facet["dataset"]} == {"JOIN"}
    assert facet["fields"]["customer_nation"]["transformationType"] == "IDENTITY"
    assert {d["namespace"] for d in event["inputs"]} == {"duckdb://tpch"}


def test_an_unknown_term_is_a_coded_error() -> None:
    done = run_cli("lineage", "gross_revenu")
    assert done.exit_code == 1
    assert "SEM303 unknown term 'gross_revenu'" in done.stderr
    assert "gross_revenue" in done.stderr


def test_the_python_api_returns_plain_data(project: Project) -> None:
    tree = project.lineage("CA")
    assert tree["term"] == "net_revenue"
    assert json.loads(json.dumps(tree)) == tree
    assert tree == json.loads(run_cli("lineage", "net_revenue", "-f", "json").stdout)


def test_only_the_openlineage_format_imports_the_package(tmp_path: Path) -> None:
    modules, done = loaded(tmp_path, "lineage", "net_revenue", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert "openlineage" not in modules
    modules, done = loaded(tmp_path, "lineage", "net_revenue", "--format", "openlineage")
    assert done.returncode == 0, done.stderr
    assert "openlineage" in modules
