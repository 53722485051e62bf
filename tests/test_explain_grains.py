"""`semantic explain` of metrics at another grain, metrics per entity (written in the query
or saved in the glossary) and ranks says what they are in business names: no internal id,
and a per-entity value is not called a role's restricted rows."""

from __future__ import annotations

from semantic.project import Project
from tests.cli_runner import run_cli


def test_other_grains_are_described_by_their_metrics_and_dimensions(project: Project) -> None:
    told = project.explain(
        "SELECT customer_region, market_segment, order_count / MEASURE(order_count) "
        "PER (customer_region) AS s, MEASURE(order_count) PER (ALL) AS total"
    )
    assert (
        "at another grain: order_count by customer_region only (under the same WHERE), "
        "joined to each group on customer_region"
    ) in told
    assert "at another grain: order_count over all the query's groups (the grand total" in told
    assert "grain_" not in told and "k0" not in told


def test_a_saved_share_is_explained_as_the_metric_it_reads(project: Project) -> None:
    told = project.explain("SELECT market_segment, revenue_share")
    assert "at another grain: net_revenue over all the query's groups" in told


def test_per_entity_values_have_their_own_line_not_the_role_s(project: Project) -> None:
    told = project.explain(
        "SELECT market_segment, order_count "
        "WHERE line_quantity < 0.2 * MEASURE(average_quantity) PER (part)"
    )
    assert "__per" not in told
    assert "only the role's rows" not in told
    assert "path MEASURE(average_quantity) PER (part): orders -> lineitem -> part" in told
    assert (
        "  each part row reads MEASURE(average_quantity) PER (part) as part.per_1 (computed "
        "per part row over all the rows it reads, the query's WHERE aside)"
    ) in told
    saved = project.explain("SELECT customer_order_count_band, customer_count")
    assert (
        "each customer row reads customer_order_count_band: MEASURE(order_count) PER "
        "(customer) as customer.per_1"
    ) in saved
    filtered = project.explain(
        "SELECT MEASURE(order_count) FILTER (WHERE order_status = 'F') PER (customer) AS n, "
        "customer_count"
    )
    assert "MEASURE(order_count) FILTER (WHERE order_status = 'F') PER (customer)" in filtered


def test_a_role_s_rows_and_per_entity_values_are_told_apart(project: Project) -> None:
    told = project.explain("SELECT customer_order_count_band, customer_count", role="emea_analyst")
    assert "only the role's rows of customer" in told
    assert "each customer row reads customer_order_count_band" in told


def test_ranks_are_explained_over_the_result_s_names() -> None:
    code, out, err = run_cli(
        "explain",
        "SELECT supplier_name, ROW_NUMBER() OVER (ORDER BY profit DESC) AS n QUALIFY n <= 3",
    )
    assert code == 0, err
    assert (
        "n: ROW_NUMBER() OVER (ORDER BY profit DESC) among the query's groups (ties broken "
        "by the query's dimensions, ascending)"
    ) in out
    assert "groups kept after ranking: n <= 3" in out
    assert "ranked_by" not in out
