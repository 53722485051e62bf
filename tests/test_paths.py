"""The join path rule: to-one paths only, pinned roles, shortest only when provably the same."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from semantic.errors import SemanticError
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.compare import assert_same_rows
from tests.conftest import ROOT
from tests.projects import write_project

UNPINNED = """
domain: test
terms:
  nation_name:
    label: {en: Nation name}
    dimension: {entity: nation, expr: n_name}
"""


@pytest.fixture
def with_unpinned(tmp_path: Path, project: Project) -> Project:
    """The TPC-H project plus a nation dimension that pins no path."""
    for folder in ("models", "glossary"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    config = (ROOT / "semantic.yml").read_text()
    (tmp_path / "semantic.yml").write_text(
        config.replace("data/tpch-sf{scale}", str(project.data_dir))
    )
    (tmp_path / "glossary" / "test.yml").write_text(UNPINNED)
    return Project.load(tmp_path)


def test_two_roles_with_different_meanings_are_refused(with_unpinned: Project) -> None:
    with pytest.raises(SemanticError) as caught:
        with_unpinned.compile("SELECT nation_name, net_revenue")
    (d,) = caught.value.diagnostics
    assert d.code == "SEM307"
    assert "lineitem -> supplier -> nation" in d.message
    assert "lineitem -> orders -> customer -> nation" in d.message
    assert d.hint and "path:" in d.hint


def test_a_single_path_needs_no_pin(with_unpinned: Project) -> None:
    got = with_unpinned.query("SELECT nation_name, customer_count ORDER BY 1")
    expected = with_unpinned.engine.connection.execute(
        "SELECT n_name, count(*) FROM customer JOIN nation ON c_nationkey = n_nationkey "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert_same_rows([tuple(r.values()) for r in got.to_pylist()], expected)


def test_provably_equal_paths_take_the_shortest(project: Project) -> None:
    """lineitem -> part and lineitem -> partsupp -> part reach the same part (l_partkey)."""
    (agg,) = project.plan("SELECT part_brand, net_revenue").aggregates
    assert agg.paths == ("part_brand: lineitem -> part",)
    (agg,) = project.plan("SELECT supplier_nation, net_revenue").aggregates
    assert agg.paths == ("supplier_nation: lineitem -> supplier -> nation",)


def test_comparing_two_roles_joins_each_role_once(project: Project) -> None:
    got = project.query(
        "SELECT supplier_region, line_count WHERE supplier_region = customer_region ORDER BY 1"
    )
    expected = project.engine.connection.execute(
        """SELECT sr.r_name, count(*) FROM lineitem
        JOIN supplier ON l_suppkey = s_suppkey
        JOIN nation sn ON s_nationkey = sn.n_nationkey
        JOIN region sr ON sn.n_regionkey = sr.r_regionkey
        JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey
        JOIN nation cn ON c_nationkey = cn.n_nationkey
        JOIN region cr ON cn.n_regionkey = cr.r_regionkey
        WHERE sr.r_name = cr.r_name GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    assert_same_rows([tuple(r.values()) for r in got.to_pylist()], expected)
    assert len(expected) == 5


def test_many_side_paths_go_down_then_up(project: Project) -> None:
    """orders -> customer -> nation -> supplier would relate orders to suppliers that merely
    share the customer's nation: only down-then-up paths are taken."""
    (agg,) = project.plan("SELECT supplier_nation, order_count").aggregates
    assert agg.paths == ("supplier_nation: orders -> lineitem -> supplier -> nation",)
    assert agg.fanout == ("orders -> lineitem is one-to-many",)
    (agg,) = project.plan("SELECT part_brand, customer_count").aggregates
    assert agg.paths == ("part_brand: customer -> orders -> lineitem -> part",)


def test_many_side_needs_a_primary_key(tmp_path: Path) -> None:
    model = """
entities:
  orders:
    columns: {id: {type: integer}}
  lines:
    primary_key: [order_id, n]
    columns: {order_id: {type: integer}, n: {type: integer}, mode: {type: varchar}}
    relationships:
      - {to: orders, cardinality: many_to_one, keys: {order_id: id}}
"""
    glossary = """
domain: d
terms:
  mode: {label: {en: Mode}, dimension: {entity: lines, expr: mode}}
  order_count: {label: {en: Orders}, metric: {entity: orders, expr: count(*)}}
"""
    write_project(tmp_path, {"models/m.yml": model, "glossary/g.yml": glossary})
    with pytest.raises(SemanticError) as caught:
        Project.load(tmp_path).compile("SELECT mode, order_count")
    assert caught.value.diagnostics[0].render() == (
        "<query>:1:1: SEM306 'orders' has no primary key, so its rows cannot be counted once "
        "each across a one-to-many join (orders -> lines is one-to-many)\n"
        "  help: declare primary_key for entity 'orders' in models/"
    )


def test_explain_names_entities_paths_and_filters(project: Project) -> None:
    text = project.explain(
        "SELECT customer_region, order_count, net_revenue WHERE market_segment = 'BUILDING'"
    )
    assert text.splitlines() == [
        "result: one row per customer_region",
        "order_count: aggregated over rows of orders (one per o_orderkey)",
        "  path customer_region: orders -> customer -> nation -> region",
        "  path market_segment: orders -> customer",
        "  filter customer.c_mktsegment = 'BUILDING'",
        "net_revenue: aggregated over rows of lineitem (one per l_orderkey, l_linenumber)",
        "  path customer_region: lineitem -> orders -> customer -> nation -> region",
        "  path market_segment: lineitem -> orders -> customer",
        "  filter customer.c_mktsegment = 'BUILDING'",
    ]


def test_explain_says_when_the_many_side_rule_applies() -> None:
    result = run_cli(
        "query", "--explain", "-f", "csv", "SELECT ship_mode, order_count WHERE ship_mode = 'AIR'"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [
        "result: one row per ship_mode",
        "order_count: aggregated over rows of orders (one per o_orderkey)",
        "  path ship_mode: orders -> lineitem",
        "  filter lineitem.l_shipmode = 'AIR'",
        "  many side: ship_mode (orders -> lineitem is one-to-many): each orders row counts "
        "once per group; a filter there keeps the rows that have at least one match (semi-join)",
    ]
    # orders with at least one line shipped by air, each once
    assert result.stdout.splitlines() == ["ship_mode,order_count", "AIR,6514"]
