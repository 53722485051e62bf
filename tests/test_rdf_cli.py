"""`semantic export rdf|r2rml` as a user runs them: files written atomically, real RDF."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, SKOS

from semantic.outputs.rdf.document import project_rdf
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("fmt", "parser"), [("turtle", "turtle"), ("json-ld", "json-ld"), ("xml", "xml"), ("nt", "nt")]
)
def test_export_rdf_in_every_format_gives_the_same_graph(fmt: str, parser: str) -> None:
    code, out, err = run_cli(
        "export", "rdf", "--format", fmt, "--base", "https://data.example.com/"
    )
    assert code == 0, err
    graph = Graph().parse(data=out, format=parser)
    concept = URIRef("https://data.example.com/term/net_revenue")
    assert (concept, RDF.type, SKOS.Concept) in graph
    code, turtle, _ = run_cli("export", "rdf", "--base", "https://data.example.com/")
    assert isomorphic(graph, Graph().parse(data=turtle, format="turtle"))


def test_export_to_a_file_replaces_it_whole(tmp_path: Path) -> None:
    target = tmp_path / "out" / "glossary.ttl"
    target.parent.mkdir()
    target.write_text("old content")
    code, _, err = run_cli("export", "rdf", "--output", str(target))
    assert code == 0 and f"wrote {target}" in err
    assert target.read_text().startswith("BASE <https://example.org/semantic/tpch/>")
    assert [p.name for p in target.parent.iterdir()] == ["glossary.ttl"]  # no temporary left
    code, _, err = run_cli("export", "rdf", "--base", "nope", "--output", str(target))
    assert code == 1 and "SEM408" in err
    assert target.read_text().startswith("BASE <https://example.org/")  # untouched


def test_export_with_quality_measurements(project: Project) -> None:
    turtle = project_rdf(project, quality=True)
    assert "a dqv:QualityMeasurement ;" in turtle and "dqv:value 1e+00 ;" in turtle


def test_export_r2rml_is_a_mapping_per_entity() -> None:
    code, out, err = run_cli("export", "r2rml")
    assert code == 0, err
    graph = Graph().parse(data=out, format="turtle")
    maps = set(graph.subjects(RDF.type, URIRef("http://www.w3.org/ns/r2rml#TriplesMap")))
    assert len(maps) == 8


def test_unknown_format_is_a_clear_error() -> None:
    code, _, err = run_cli("export", "rdf", "--format", "turtel")
    assert code == 1
    assert err.splitlines() == [
        "SEM408 unknown RDF format 'turtel'",
        "  help: did you mean 'turtle'?",
    ]


def test_validate_runs_the_shapes_and_refuses_a_broken_graph(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli("export", "rdf", "--validate")
    assert code == 0, err
    assert out.startswith("BASE <")
    from semantic.errors import SemanticError
    from semantic.outputs.rdf import export

    real = export.export_graph

    def broken(model: object, base: str | None = None) -> Graph:
        graph = real(model, base)  # type: ignore[arg-type]
        concept = URIRef("https://example.org/semantic/tpch/term/net_revenue")
        graph.remove((concept, URIRef("http://purl.org/dc/terms/identifier"), None))
        return graph

    monkeypatch.setattr(export, "export_graph", broken)
    with pytest.raises(SemanticError) as caught:
        project_rdf(project, validate=True)
    assert {d.code for d in caught.value.diagnostics} == {"SEM409"}
    assert any("term/net_revenue" in d.message for d in caught.value.diagnostics)


VOCABULARY = """
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://vocab.example.com/> .
ex:retail a skos:ConceptScheme ; skos:prefLabel "Retail"@en .
ex:Churn a skos:Concept ; skos:inScheme ex:retail ;
    skos:prefLabel "Churn rate"@en , "Taux d'attrition"@fr ;
    skos:definition "Share of customers lost over a period."@en ;
    skos:broader ex:Kpi .
ex:Kpi a skos:Concept ; skos:inScheme ex:retail ;
    skos:prefLabel "Key performance indicator"@en ; ex:owner "bi" .
"""


def test_import_skos_writes_concepts_and_never_overwrites(tmp_path: Path) -> None:
    import shutil

    for folder in ("models", "glossary"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "semantic.yml", tmp_path / "semantic.yml")
    source = tmp_path / "retail.ttl"
    source.write_text(VOCABULARY)
    args = ["--project", str(tmp_path), "import", "skos", str(source)]
    result = run_cli(*args, "--format", "json", project=None)
    assert result.exit_code == 0, result.stderr
    import json

    report = json.loads(result.stdout)
    assert report["terms"] == ["churn", "kpi"]
    assert {(i["kind"], i["subject"]) for i in report["report"]} == {
        ("concept", "https://vocab.example.com/Churn"),
        ("concept", "https://vocab.example.com/Kpi"),
        ("unmapped", "https://vocab.example.com/Kpi"),
    }
    written = (tmp_path / "glossary" / "retail.yml").read_text()
    assert "  churn:\n" in written and "    broader: [kpi]\n" in written
    project = Project.load(tmp_path)
    assert project.model.terms["churn"].kind == "concept"
    again = run_cli(*args, project=None)
    assert again.exit_code == 1 and "SEM103 domain 'retail' is already defined" in again.stderr
    assert (tmp_path / "glossary" / "retail.yml").read_text() == written
