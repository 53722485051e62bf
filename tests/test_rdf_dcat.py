"""The RDF export as a DCAT-AP 3 catalog: with `catalog:` filled in semantic.yml, it
conforms to DCAT-AP's mandatory and recommended constraints (transcribed in
tests/fixtures/dcat-ap/dcat-ap-3-shapes.ttl) without a single warning; without it, the
export still passes our own shapes but says what is missing (SEM245)."""

from __future__ import annotations

from pathlib import Path

import pyshacl
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, SH, SKOS, VANN

from semantic.outputs.rdf.vocab import DCAT
from tests.cli_runner import run_cli
from tests.conftest import ROOT
from tests.projects import write_project
from tests.test_errors import GLOSSARY, MODEL

SHAPES = Path(__file__).parent / "fixtures" / "dcat-ap" / "dcat-ap-3-shapes.ttl"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
#: the example of docs/rdf.md#dcat-ap, in a project with parquet data files
EXAMPLE = (ROOT / "docs" / "rdf.md").read_text(encoding="utf-8").split("## DCAT-AP\n", 1)[1]
CATALOG = (
    "name: shop\ndescription: A small shop.\nlanguages: [en, fr]\n"
    "data:\n  dir: data\n  format: parquet\n" + EXAMPLE.split("```yaml\n", 1)[1].split("```", 1)[0]
)
PLAIN = "name: shop\nlanguages: [en, fr]\n"


def export(root: Path) -> tuple[Graph, str]:
    done = run_cli("export", "rdf", "--validate", project=root)
    assert done.exit_code == 0, done.stderr
    return Graph().parse(data=done.stdout, format="turtle"), done.stderr


def dcat_ap(graph: Graph) -> list[tuple[str, str, str]]:
    """(severity, focus node, path) of every DCAT-AP result on `graph`."""
    _, report, _ = pyshacl.validate(graph, shacl_graph=str(SHAPES), inference="none")
    assert isinstance(report, Graph)
    return sorted(
        (
            str(report.value(r, SH.resultSeverity)).rsplit("#", 1)[-1],
            str(report.value(r, SH.focusNode)),
            str(report.value(r, SH.resultPath)),
        )
        for r in report.subjects(RDF.type, SH.ValidationResult)
    )


def project(tmp_path: Path, config: str) -> Path:
    return write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY}, config)


def test_a_full_catalog_conforms_to_dcat_ap_without_a_warning(tmp_path: Path) -> None:
    assert f"license: {LICENSE}\n" in CATALOG
    graph, stderr = export(project(tmp_path, CATALOG))
    assert "SEM245" not in stderr
    assert dcat_ap(graph) == []
    catalog = URIRef("https://data.example.com/shop/catalog")
    assert (catalog, RDF.type, DCAT.Catalog) in graph
    datasets = set(graph.objects(catalog, DCAT.dataset))
    assert datasets == set(graph.subjects(RDF.type, DCAT.Dataset)) and len(datasets) == 2
    for dataset in datasets:
        (distribution,) = graph.objects(dataset, DCAT.distribution)
        assert (distribution, DCTERMS.license, URIRef(LICENSE)) in graph
    publisher = graph.value(catalog, DCTERMS.publisher)
    assert graph.value(publisher, FOAF.name) == Literal("ACME Data Office")
    (service,) = graph.subjects(RDF.type, DCAT.DataService)
    assert set(graph.objects(service, DCAT.servesDataset)) == datasets


def test_the_concept_scheme_says_its_namespace_and_licence(tmp_path: Path) -> None:
    graph, _ = export(project(tmp_path, CATALOG))
    (scheme,) = graph.subjects(RDF.type, SKOS.ConceptScheme)
    namespace = str(graph.value(scheme, VANN.preferredNamespaceUri))
    assert namespace == "https://data.example.com/shop/term/"
    assert graph.value(scheme, VANN.preferredNamespacePrefix) == Literal("shop")
    assert (scheme, DCTERMS.license, URIRef(LICENSE)) in graph
    # every concept is in that namespace: the default --base is catalog.namespace
    for concept in graph.subjects(RDF.type, SKOS.Concept):
        assert str(concept).startswith(namespace)


def test_without_catalog_fields_the_export_warns_and_dcat_ap_complains(tmp_path: Path) -> None:
    graph, stderr = export(project(tmp_path, PLAIN))
    assert "warning: SEM245 the DCAT-AP catalog has no description, publisher, license" in stderr
    found = dcat_ap(graph)
    catalog = "https://example.org/semantic/shop/catalog"
    assert ("Violation", catalog, str(DCTERMS.publisher)) in found
    assert ("Violation", catalog, str(DCTERMS.description)) in found
    assert ("Warning", catalog, str(DCTERMS.license)) in found
