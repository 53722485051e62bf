"""`semantic show TERM`: the card of a term, its accepted dimensions as the compiler decides
them, and an example query that really runs on DuckDB."""

from __future__ import annotations

import json
import shlex

import pytest

from semantic.errors import SemanticError
from semantic.outputs.termcard import term_card
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.test_docs import blocks


def example_of(text: str) -> str:
    """The business query of the `semantic query "..."` line of a card's Example section."""
    line = next(line for line in text.splitlines() if line.startswith("  semantic query "))
    words = shlex.split(line)
    assert words[:2] == ["semantic", "query"] and len(words) == 3
    return words[2]


def test_show_by_french_label_prints_the_whole_card() -> None:
    code, out, err = run_cli("show", "chiffre d'affaires net")
    assert code == 0, err
    assert out.startswith("net_revenue (metric, domain sales)\n")
    for expected in (
        "owners           finance",
        "status           approved",
        "confidentiality  internal",
        "en  Net revenue (also: revenue; discounted revenue)",
        "fr  Chiffre d'affaires net (also: CA; CA net)",
        "en  Sum of the extended price of line items after discount, before tax.",
        "related   gross_revenue, discount_amount, charge",
        "expression    SUM(l_extendedprice * (1 - l_discount))",
        "aggregation      sum; partial results combine with sum",
        "reads    lineitem.l_extendedprice, lineitem.l_discount",
    ):
        assert expected in out
    assert "narrower  cumulative_revenue, revenue_last_3_months" in out
    assert "SELECT\n" not in out  # the SQL only with --sql


@pytest.mark.parametrize("term", ["CA N-1", "supplier_count", "customer_nation"])
def test_the_printed_example_runs_on_duckdb(project: Project, term: str) -> None:
    code, out, err = run_cli("show", term, "--sql")
    assert code == 0, err
    example = example_of(out)
    assert "\n\n" + project.compile(example) + "\n" in out  # --sql printed that very SQL
    code, rows, err = run_cli("query", example, "-f", "json")
    assert code == 0, err
    assert json.loads(rows)


def test_every_term_has_an_example_that_runs(project: Project) -> None:
    for term_id, term in project.model.terms.items():
        card = term_card(project, term_id)
        if term.kind == "concept":
            assert card.example is None
            continue
        assert card.example is not None, term_id
        assert project.query(card.example).num_rows > 0, card.example


def test_accepted_dimensions_are_what_the_compiler_accepts(project: Project) -> None:
    card = term_card(project, "supplier_count")
    refused = {r.id: r.code for r in card.refused}
    # supplier -> part goes through partsupp or through lineitem: the compiler refuses
    assert refused["part_name"] == "SEM307"
    with pytest.raises(SemanticError) as caught:
        project.compile("SELECT part_name, supplier_count")
    assert caught.value.code == "SEM307"
    accepted = {d.id: d for d in card.dimensions}
    assert not accepted["supplier_region"].through_one_to_many
    assert accepted["order_date"].through_one_to_many  # supplier -> lineitem -> orders
    assert set(accepted) | set(refused) == {
        t.id for t in project.model.terms.values() if t.kind in ("dimension", "time_dimension")
    }
    # every accepted dimension runs with the metric on DuckDB
    for dimension in accepted.values():
        written = dimension.id + (".year" if dimension.kind == "time_dimension" else "")
        assert project.query(f"SELECT {written}, supplier_count").num_rows > 0


def test_a_metric_along_time_needs_its_time_dimension(project: Project) -> None:
    card = term_card(project, "revenue_growth")
    assert card.aggregation == "derived" and card.requires == ("order_date.month",)
    assert set(card.inputs) == {"net_revenue", "revenue_previous_year"}
    assert {r.entity for r in card.reads} == {"lineitem", "orders"}
    assert "customer_region" in {d.id for d in card.dimensions}
    result = project.query("SELECT order_date.month, customer_region, revenue_growth")
    assert result.num_rows > 0


def test_json_is_the_card(project: Project) -> None:
    code, out, err = run_cli("show", "average_order_value", "--format", "json")
    assert code == 0, err
    shown = json.loads(out)
    expected = term_card(project, "average_order_value").as_dict()
    expected.pop("example_sql")
    assert shown == expected
    assert shown["labels"] == {"en": "Average order value", "fr": "Panier moyen"}
    assert shown["physical"]["computed from"] == "net_revenue, order_count"
    assert shown["not_additive"] == "a ratio of metrics"
    code, out, _ = run_cli("show", "average_order_value", "--format", "json", "--sql")
    shown = json.loads(out)
    assert shown["example_sql"] == project.compile(shown["example"])


def test_an_unknown_term_is_sem201_with_a_suggestion() -> None:
    code, out, err = run_cli("show", "net_revenux")
    assert code == 1 and out == ""
    assert err.startswith("<show>: SEM201 unknown term 'net_revenux'")
    assert "did you mean 'net_revenue'" in err and "Traceback" not in err


def test_the_show_example_of_the_catalog_doc_is_true() -> None:
    """Each `$ semantic show ...` line of docs/catalog.md prints exactly what the page shows."""
    commands = 0
    for block in blocks("docs/catalog.md"):
        lines = block.text.splitlines()
        for i, line in enumerate(lines):
            if block.tag != "console" or not line.startswith("$ semantic show "):
                continue
            shown = []
            for after in lines[i + 1 :]:
                if after.startswith("$ "):
                    break
                shown.append(after)
            code, out, err = run_cli(*shlex.split(line.removeprefix("$ semantic ")))
            assert code == 0, (line, err)
            assert out.rstrip("\n").splitlines() == shown, line
            commands += 1
    assert commands >= 1


@pytest.mark.parametrize(
    ("term", "expression"),
    [
        (
            "revenue_growth",
            "(net_revenue - revenue_previous_year) / NULLIF(revenue_previous_year, 0)",
        ),
        ("revenue_share", "net_revenue / NULLIF(MEASURE(net_revenue) PER (ALL), 0)"),
        ("average_order_value", "net_revenue / NULLIF(order_count, 0)"),
    ],
)
def test_a_division_is_guarded_once(project: Project, term: str, expression: str) -> None:
    """A divisor written `NULLIF(y, 0)` is already safe: the model does not guard it again,
    so neither the card nor the compiled SQL reads `NULLIF(NULLIF(y, 0), 0)`."""
    code, out, err = run_cli("show", term, "--format", "json", "--sql")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["physical"]["expression"] == expression
    flat = " ".join(project.compile(shown["example"], pretty=False).split())
    assert "NULLIF(NULLIF" not in flat and "NULLIF( NULLIF" not in flat
