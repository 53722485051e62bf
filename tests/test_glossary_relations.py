"""Hierarchies, related terms, replacements, external matches, misspellings and quality
rules in the files: checked when loading, with positions."""

from __future__ import annotations

from pathlib import Path

from semantic.errors import Diagnostic
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.projects import write_project
from tests.test_errors import GLOSSARY, MODEL


def diagnostics(root: Path) -> list[Diagnostic]:
    return Project.inspect(root)[1]


def with_terms(tmp_path: Path, extra: str, model: str = MODEL) -> Path:
    return write_project(tmp_path, {"models/m.yml": model, "glossary/g.yml": GLOSSARY + extra})


def test_relations_are_checked(tmp_path: Path) -> None:
    extra = """
  region_group:
    label: {en: Region group}
    broader: [regoin]
    related: [region_group]
    close_match: [not an iri]
    dimension: {entity: customers, expr: region}
"""
    found = [d.render().splitlines()[0] for d in diagnostics(with_terms(tmp_path, extra))]
    assert found == [
        "glossary/g.yml:20:15: SEM201 broader of term 'region_group' names unknown term 'regoin'",
        "glossary/g.yml:21:15: SEM201 related of term 'region_group' names itself",
        "glossary/g.yml:22:19: SEM208 close_match of term 'region_group' is not an absolute "
        "IRI: 'not an iri'",
    ]


def test_hierarchy_cycles_are_errors(tmp_path: Path) -> None:
    extra = """
  a: {label: {en: A}, broader: [b], dimension: {entity: customers, expr: region}}
  b: {label: {en: B}, broader: [a], dimension: {entity: customers, expr: region}}
"""
    codes = [d.code for d in diagnostics(with_terms(tmp_path, extra))]
    assert codes == ["SEM205"]


def test_replacement_of_a_term_that_is_not_deprecated_is_a_warning(tmp_path: Path) -> None:
    extra = """
  old_revenue:
    label: {en: Old revenue}
    replaced_by: revenue
    metric: {entity: orders, expr: sum(amount)}
"""
    (d,) = diagnostics(with_terms(tmp_path, extra))
    assert (d.code, d.severity) == ("SEM208", "warning")
    assert d.message == "term 'old_revenue' names a replacement but is draft"


def test_misspellings_resolve_in_queries_but_may_not_clash(tmp_path: Path) -> None:
    extra = """
  sales:
    label: {en: Sales}
    hidden_labels: {en: [revnue]}
    metric: {entity: orders, expr: sum(amount)}
"""
    project = Project.load(with_terms(tmp_path, extra))
    assert "SUM(orders.amount) AS revnue" in project.compile("SELECT revnue")
    clash = extra.replace("[revnue]", "[Region]")
    codes = [d.code for d in diagnostics(with_terms(tmp_path, clash))]
    assert codes == ["SEM206"]


def test_quality_rules_are_parsed_and_checked(tmp_path: Path) -> None:
    model = MODEL.replace(
        "    relationships:",
        "    quality:\n"
        "      positive: {dimension: validity, check: amount > 0}\n"
        "      typo: {dimension: validity, check: amout > 0}\n"
        "      broken: {dimension: completeness, check: 'amount >'}\n"
        "    relationships:",
    )
    found = {d.code: d for d in diagnostics(with_terms(tmp_path, "", model))}
    assert set(found) == {"SEM203", "SEM104"}
    assert found["SEM203"].hint == "did you mean 'amount'?"
    model = MODEL.replace(
        "    relationships:",
        "    quality:\n"
        "      positive: {dimension: validity, check: amount > 0}\n"
        "    relationships:",
    )
    project = Project.load(with_terms(tmp_path, "", model))
    (rule,) = project.model.entities["orders"].quality
    assert (rule.id, rule.dimension, rule.text, rule.threshold) == (
        "positive",
        "validity",
        "amount > 0",
        1.0,
    )


def test_a_business_concept_has_no_physical_meaning(tmp_path: Path) -> None:
    from rdflib.namespace import RDF, SKOS

    from semantic.outputs.rdf.export import export_graph
    from semantic.outputs.rdf.iris import Iris, default_base
    from semantic.outputs.rdf.validate import validate_graph

    extra = """
  customer_value:
    label: {en: Customer value}
    definition: {en: What a customer brings over the whole relationship.}
    related: [revenue]
    concept: {}
"""
    project = Project.load(with_terms(tmp_path, extra))
    term = project.model.terms["customer_value"]
    assert term.kind == "concept" and term.entity is None
    graph = export_graph(project.model)
    iri = Iris(default_base("tiny")).term("customer_value")
    assert set(graph.objects(iri, RDF.type)) == {SKOS.Concept}
    assert validate_graph(graph).conforms
    broken = extra + (
        "  valuable:\n    label: {en: Valuable}\n"
        "    metric: {entity: orders, expr: count(*), filter: customer_value > 1}\n"
        "  per_value:\n    label: {en: Per value}\n    metric: {expr: revenue / customer_value}\n"
    )
    found = sorted(d.message for d in diagnostics(with_terms(tmp_path, broken)))
    assert found == [
        "metric 'per_value' uses 'customer_value', which is a concept, not a metric",
        "the filter of metric 'valuable' uses 'customer_value', a concept without physical meaning",
    ]


def test_a_deprecated_term_still_answers_with_a_warning(project: Project) -> None:
    query = "SELECT market_segment, sales_amount ORDER BY 1"
    (warning,) = project.query_warnings(query)
    assert warning.render() == (
        "<query>:1:24: warning: SEM215 term 'sales_amount' is deprecated\n"
        "  help: use 'gross_revenue' instead"
    )
    # same numbers as its replacement: deprecation changes the name, not the answer
    old = project.query(query).column("sales_amount").to_pylist()
    new = project.query("SELECT market_segment, gross_revenue ORDER BY 1")
    assert old == new.column("gross_revenue").to_pylist()
    result = run_cli("query", "-f", "csv", query)
    assert result.exit_code == 0 and "SEM215" in result.stderr
    assert project.query_warnings("SELECT gross_revenue") == []
