"""`semantic import skos` keeps the links to the source vocabulary: every concept's IRI comes
back in the RDF export (as skos:exactMatch, or as the concept's own IRI with --keep-iris),
with its creation and modification dates and the literal forms of its SKOS-XL labels.

The vocabulary is the generated one of `bench/skos_vocabulary.py` (UNESCO/AGROVOC-shaped:
hierarchy, three languages, dates, SKOS-XL labels, matches), at a small size.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from semantic.interchange.skos import import_skos
from semantic.outputs.rdf.vocab import SKOSXL
from tests.cli_runner import run_cli
from tests.conftest import ROOT
from tests.projects import write_project
from tests.test_errors import MODEL

BASE = "domain: base\nterms:\n  revenue:\n    label: {en: Revenue}\n"
BASE += "    metric: {entity: orders, expr: sum(amount)}\n"
CONFIG = "name: thesaurus\nlanguages: [en, fr, es]\n"


def bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "skos_vocabulary", ROOT / "bench/skos_vocabulary.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def source(tmp_path: Path, concepts: int = 60) -> tuple[Path, Graph]:
    path = tmp_path / "thesaurus.ttl"
    path.write_text(bench_module().vocabulary_turtle(concepts), encoding="utf-8")
    return path, Graph().parse(path)


def imported_export(tmp_path: Path, *options: str) -> tuple[Graph, Graph]:
    """The source graph, and the export of a project that imported it with `options`."""
    path, graph = source(tmp_path)
    (tmp_path / "p").mkdir()
    root = write_project(tmp_path / "p", {"models/m.yml": MODEL, "glossary/base.yml": BASE}, CONFIG)
    done = run_cli("import", "skos", path, *options, project=root)
    assert done.exit_code == 0, done.stderr
    exported = run_cli("export", "rdf", "--validate", project=root)
    assert exported.exit_code == 0, exported.stderr
    return graph, Graph().parse(data=exported.stdout, format="turtle")


def concepts(graph: Graph) -> set[URIRef]:
    return {c for c in graph.subjects(RDF.type, SKOS.Concept) if isinstance(c, URIRef)}


def test_every_source_iri_is_an_exact_match_of_the_export(tmp_path: Path) -> None:
    graph, exported = imported_export(tmp_path)
    matched = set(exported.objects(None, SKOS.exactMatch))
    assert concepts(graph) <= matched
    assert len(concepts(graph)) == 60
    # the matches the source states to other vocabularies are kept too
    assert set(graph.objects(None, SKOS.exactMatch)) <= matched


def test_with_keep_iris_the_export_names_the_concepts_with_the_source_iris(
    tmp_path: Path,
) -> None:
    graph, exported = imported_export(tmp_path, "--keep-iris")
    assert concepts(graph) <= concepts(exported)
    assert set(graph.subject_objects(SKOS.broader)) == set(exported.subject_objects(SKOS.broader))
    assert set(graph.subject_objects(SKOS.related)) <= set(exported.subject_objects(SKOS.related))
    for concept in concepts(graph):
        assert (concept, SKOS.exactMatch, concept) not in exported  # never a link to itself


def test_dates_and_skos_xl_labels_come_back(tmp_path: Path) -> None:
    graph, exported = imported_export(tmp_path, "--keep-iris")
    for concept in concepts(graph):
        for predicate in (DCTERMS.created, DCTERMS.modified):
            before = graph.value(concept, predicate)
            after = exported.value(concept, predicate)
            assert isinstance(before, Literal) and isinstance(after, Literal)
            assert (after.toPython(), after.datatype) == (before.toPython(), before.datatype)
        for label in graph.objects(concept, SKOSXL.altLabel):
            form = graph.value(label, SKOSXL.literalForm)
            assert (concept, SKOS.altLabel, form) in exported


def test_the_project_own_iris_are_not_matches() -> None:
    """An export of the project coming back: its concepts are at the IRIs the export gives
    them under the project's base, so no link is added."""
    graph = Graph().parse(
        format="turtle",
        data="""
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        <https://data.example.com/term/revenue> a skos:Concept ; skos:prefLabel "Revenue"@en .
        """,
    )
    ours = import_skos(graph, language="en", base="https://data.example.com/")
    theirs = import_skos(graph, language="en", base="https://elsewhere.example.com/")
    assert "exact_match" not in ours.files["imported.yml"]
    assert "exact_match: [https://data.example.com/term/revenue]" in theirs.files["imported.yml"]


@pytest.mark.slow
def test_five_thousand_concepts_import_check_and_search(tmp_path: Path) -> None:
    """The importer, `check` and `search` on 5,000 concepts (times are in bench/skos_bench.py
    and docs/benchmarks.md; this test only checks that they finish and agree)."""
    path = tmp_path / "thesaurus.ttl"
    path.write_text(bench_module().vocabulary_turtle(5000), encoding="utf-8")
    (tmp_path / "p").mkdir()
    root = write_project(tmp_path / "p", {"models/m.yml": MODEL, "glossary/base.yml": BASE}, CONFIG)
    assert run_cli("import", "skos", path, project=root).exit_code == 0
    checked = run_cli("check", project=root)
    assert checked.exit_code == 0, checked.stderr[-2000:]
    assert "5001 terms" in checked.stderr.replace(",", "")
    found = run_cli("search", "Topic 4999", "--format", "json", project=root)
    assert '"concept4999"' in found.stdout


@pytest.mark.parametrize("keep_iris", [False, True])
def test_imported_files_are_already_formatted(tmp_path: Path, keep_iris: bool) -> None:
    """The import writes its files with one YAML dump, keys in the schema's order: `semantic
    fmt` must leave them exactly as they are."""
    from semantic.files.fmt import format_text
    from semantic.files.schema import GlossaryFile
    from tests.test_skos_import import VOCABULARY

    for graph in (source(tmp_path, 40)[1], Graph().parse(data=VOCABULARY, format="turtle")):
        result = import_skos(graph, language="en", keep_iris=keep_iris, repair=True)
        for text in result.files.values():
            assert format_text(text, GlossaryFile) == text


def test_imported_files_are_read_by_the_fast_reader(tmp_path: Path) -> None:
    """What the import writes (dates and `dct:modified` timestamps in every term) is read by
    libyaml's reader, never handed to ruamel's pure-Python loader: that fallback made `check`
    and `search` on 5,000 imported concepts take 12 to 20 s (docs/benchmarks.md)."""
    from semantic.files import fastyaml

    result = import_skos(source(tmp_path, 40)[1], language="en")
    for name, text in result.files.items():
        tree = fastyaml.compose(text)  # raises Unusual on anything it hands to ruamel
        modified = [t.get("modified") for t in tree["terms"].values()]
        assert modified and all(m is not None for m in modified), name
