"""`via(term, through)`, the join path chosen in the query: its refusals (SEM367, SEM368) at
the query's place with the candidate paths, its JSON form, what `explain` says, and a role's
policy seeing the term inside it. The numbers are in tests/soundness/test_chosen_paths.py."""

from __future__ import annotations

import pytest

from semantic.errors import SemanticError
from semantic.project import Project
from tests.test_paths import with_unpinned  # noqa: F401  (the fixture)


def refusal(project: Project, query: str, **options: object) -> tuple[str, str, int, str]:
    with pytest.raises(SemanticError) as caught:
        project.compile(query, **options)  # type: ignore[arg-type]
    (d,) = caught.value.diagnostics
    assert d.span is not None
    return d.code, d.message, d.span.col, d.hint or ""


@pytest.mark.parametrize(
    ("query", "code", "col", "words"),
    [
        ("SELECT via(customer_nation), net_revenue", "SEM367", 12, "two arguments"),
        ("SELECT via(net_revenue, supplier), order_count", "SEM367", 12, "the metric"),
        ("SELECT via(customer_nation, suplier), net_revenue", "SEM367", 29, "no entity"),
        ("SELECT via(customer_nation, lineitem.suplier), net_revenue", "SEM367", 29, "no rel"),
        ("SELECT via(customer_nation, nation), net_revenue", "SEM367", 29, "itself"),
        ("SELECT via(customer_nation, order_count), net_revenue", "SEM367", 29, "a metric"),
        ("SELECT via(customer_nation, 1), net_revenue", "SEM367", 12, "not '1'"),
        ("SELECT via(customer_nation, region), net_revenue", "SEM368", 29, "no to-one path"),
        # from lineitem, the region of a nation is the supplier's or the customer's
        ("SELECT via(customer_region, nation), net_revenue", "SEM368", 12, "lineitem -> supplier"),
        ("SELECT net_revenue WHERE via(customer_region, nation) = 'ASIA'", "SEM368", 30, "region"),
        # a customer reaches no nation through an order without counting it twice
        ("SELECT via(customer_nation, orders), customer_count", "SEM368", 12, "many side"),
    ],
)
def test_refusals_are_coded_and_placed(
    project: Project, query: str, code: str, col: int, words: str
) -> None:
    got_code, message, got_col, hint = refusal(project, query)
    assert (got_code, got_col) == (code, col), message
    assert words in message
    assert hint


def test_an_ambiguous_choice_lists_the_candidate_paths_in_the_hint(project: Project) -> None:
    _, _, _, hint = refusal(project, "SELECT via(customer_region, nation), net_revenue")
    assert "lineitem -> supplier -> nation -> region" in hint
    assert "lineitem -> orders -> customer -> nation -> region" in hint
    assert "via(customer_region, ...)" in hint


def test_an_unknown_entity_gets_a_did_you_mean(project: Project) -> None:
    _, _, _, hint = refusal(project, "SELECT via(customer_nation, suplier), net_revenue")
    assert "supplier" in hint


def test_a_term_without_a_pin_is_disambiguated(with_unpinned: Project) -> None:  # noqa: F811
    """`nation_name` pins no path (SEM307 from lineitem): via chooses one."""
    got = with_unpinned.query("SELECT via(nation_name, supplier) AS n, net_revenue ORDER BY 1")
    want = with_unpinned.query("SELECT supplier_nation AS n, net_revenue ORDER BY 1")
    assert got.to_pylist() == want.to_pylist()
    by_customer = with_unpinned.query("SELECT via(nation_name, customer) AS n, net_revenue")
    assert sorted(by_customer.to_pylist(), key=str) == sorted(
        with_unpinned.query("SELECT customer_nation AS n, net_revenue").to_pylist(), key=str
    )
    # through a term on the same entity: its own pin is the path
    same = with_unpinned.query("SELECT via(nation_name, supplier_nation) AS n, net_revenue")
    assert sorted(same.to_pylist(), key=str) == sorted(want.to_pylist(), key=str)


def test_json_query(project: Project) -> None:
    got = project.query(
        {
            "select": ["via(customer_nation, supplier) AS n", "net_revenue"],
            "where": "via(customer_nation, supplier) = 'FRANCE'",
        }
    )
    want = project.query(
        "SELECT supplier_nation AS n, net_revenue WHERE supplier_nation = 'FRANCE'"
    )
    assert got.to_pylist() == want.to_pylist()


def test_a_parameter_compared_with_a_chosen_path(project: Project) -> None:
    query = "SELECT net_revenue WHERE via(customer_nation, supplier) = $n"
    got = project.query(query, params={"n": "FRANCE"})
    want = project.query("SELECT net_revenue WHERE supplier_nation = 'FRANCE'")
    assert got.to_pylist() == want.to_pylist()


def test_explain_shows_the_chosen_path(project: Project) -> None:
    text = project.explain("SELECT customer_nation, via(customer_nation, supplier), net_revenue")
    assert "path customer_nation via supplier: lineitem -> supplier -> nation" in text
    assert "path customer_nation: lineitem -> orders -> customer -> nation" in text


def test_group_by_must_name_the_same_path(project: Project) -> None:
    code, *_ = refusal(
        project, "SELECT via(customer_nation, supplier), net_revenue GROUP BY customer_nation"
    )
    assert code == "SEM310"


def test_the_policy_sees_the_term_inside(project: Project) -> None:
    """Clearance and masks judge the term a path is chosen for."""
    code, message, *_ = refusal(
        project, "SELECT via(customer_name, orders), order_count", role="support_agent"
    )
    assert code == "SEM332" and "customer_name" in message
