"""The SKOS integrity conditions, one table (`semantic.model.skos.RULES`) for `semantic check`,
`semantic import skos` and the SHACL shapes of `export rdf --validate`: on each broken
vocabulary of tests/fixtures/skos (W3C-like examples written for these tests, each saying
which pattern of the SKOS Reference it follows), all three find the same rule; on the valid
one, none does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from semantic.errors import SemanticError
from semantic.interchange.skos import import_skos
from semantic.model.skos import RULES
from semantic.outputs.rdf.validate import shapes_graph, validate_graph
from tests.cli_runner import run_cli
from tests.projects import write_project
from tests.test_errors import MODEL

FIXTURES = Path(__file__).parent / "fixtures" / "skos"
SEMSH = "https://w3id.org/semantic-glossary/shapes#"
#: each broken vocabulary and the rule it breaks
BROKEN = {
    "s13-pref-alt.ttl": "pref_not_alt",
    "s13-pref-hidden.ttl": "pref_not_hidden",
    "s13-alt-hidden.ttl": "alt_not_hidden",
    "s14-two-pref-labels.ttl": "one_pref_label",
    "s27-related-broader.ttl": "related_not_broader",
    "s27-related-ancestor.ttl": "related_not_broader",
    "broader-cycle.ttl": "no_broader_cycle",
}
#: the shapes of the table: the ones these tests compare
RULE_SHAPES = {URIRef(SEMSH + rule.shape) for rule in RULES.values()}
BASE = """
domain: base
terms:
  revenue:
    label: {en: Revenue}
    metric: {entity: orders, expr: sum(amount)}
"""


def project(root: Path) -> Path:
    return write_project(root, {"models/m.yml": MODEL, "glossary/base.yml": BASE})


def shapes_that_fire(graph: Graph) -> set[URIRef]:
    """The shapes of the table that find a violation in `graph`."""
    found = {p.shape for p in validate_graph(graph).problems if p.severity == "violation"}
    # a property shape is named; pyshacl names the property shape as the source
    return {s for s in found if isinstance(s, URIRef)} & RULE_SHAPES


def test_every_rule_names_a_shape_of_the_export() -> None:
    shapes = shapes_graph()
    for rule in RULES.values():
        assert (URIRef(SEMSH + rule.shape), None, None) in shapes, rule.name


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_the_shapes_and_the_import_find_the_same_rule(name: str) -> None:
    rule = RULES[BROKEN[name]]
    graph = Graph().parse(FIXTURES / name)
    assert shapes_that_fire(graph) == {URIRef(SEMSH + rule.shape)}
    with pytest.raises(SemanticError) as caught:
        import_skos(FIXTURES / name, language="en")
    codes = {d.code for d in caught.value.diagnostics}
    assert codes == {rule.code}
    for diagnostic in caught.value.diagnostics:
        assert diagnostic.span is not None and diagnostic.span.file == str(FIXTURES / name)
        assert re.match(r"<http://example\.org/vocab/\w+>: ", diagnostic.message)
        assert rule.repair in (diagnostic.hint or "")


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_vocabulary_fails_import_and_repaired_passes_check_and_validate(
    tmp_path: Path, name: str
) -> None:
    rule = RULES[BROKEN[name]]
    root = project(tmp_path)
    refused = run_cli("import", "skos", FIXTURES / name, project=root)
    assert refused.exit_code == 1
    assert f"{rule.code} <http://example.org/vocab/" in refused.stderr
    assert not (root / "glossary" / "vocab.yml").exists()
    assert sorted(p.name for p in (root / "glossary").iterdir()) == ["base.yml"]
    repaired = run_cli("import", "skos", FIXTURES / name, "--repair", project=root)
    assert repaired.exit_code == 0, repaired.stderr
    assert (
        "breaks SKOS" in repaired.stderr
        or "left out" in repaired.stderr
        or ("written as a synonym" in repaired.stderr)
    )
    checked = run_cli("check", project=root)
    assert checked.exit_code == 0, checked.stderr
    assert rule.code not in checked.stderr
    validated = run_cli("export", "rdf", "--validate", project=root)
    assert validated.exit_code == 0, validated.stderr


def test_the_valid_vocabulary_passes_every_side(tmp_path: Path) -> None:
    graph = Graph().parse(FIXTURES / "valid.ttl")
    assert shapes_that_fire(graph) == set()
    root = project(tmp_path)
    imported = run_cli("import", "skos", FIXTURES / "valid.ttl", project=root)
    assert imported.exit_code == 0, imported.stderr
    checked = run_cli("check", project=root)
    assert (checked.exit_code, "warning:" in checked.stderr) == (0, False), checked.stderr
    validated = run_cli("export", "rdf", "--validate", project=root)
    assert validated.exit_code == 0, validated.stderr


#: the same breaks written in a glossary file: (term keys, code, where, severity)
GLOSSARY_BREAKS = [
    ("hidden_labels: {en: [Zone]}", "SEM243", "5:26", "error"),
    ("synonyms: {en: [Region]}\n    hidden_labels: {en: [Region]}", "SEM243", "6:26", "error"),
    ("synonyms: {en: [Zone]}", "SEM243", "5:21", "warning"),
    ("broader: [area]\n    related: [area]", "SEM214", "6:15", "error"),
]


@pytest.mark.parametrize(("keys", "code", "where", "severity"), GLOSSARY_BREAKS)
def test_check_reports_each_break_where_it_is_written(
    tmp_path: Path, keys: str, code: str, where: str, severity: str
) -> None:
    glossary = (
        "domain: g\nterms:\n"
        f"  zone:\n    label: {{en: Zone}}\n    {keys}\n"
        "    dimension: {entity: customers, expr: region}\n"
        "  area:\n    label: {en: Area}\n    dimension: {entity: customers, expr: region}\n"
    )
    root = write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": glossary})
    checked = run_cli("check", project=root)
    prefix = "warning: " if severity == "warning" else ""
    assert f"glossary/g.yml:{where}: {prefix}{code} " in checked.stderr, checked.stderr
    assert checked.exit_code == (0 if severity == "warning" else 1)
    validated = run_cli("export", "rdf", "--validate", project=root)
    # an error stops the export; a synonym equal to the label is not exported
    assert validated.exit_code == checked.exit_code, validated.stderr
