"""The report of `semantic import skos`: names that clash are settled by the rule every
importer shares (`semantic.interchange.names.settle_names`), so that the project passes
`semantic check`; and every item says where its resource is stated in the file
(`file:line:col`), in Turtle, N-Triples and RDF/XML alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph

from semantic.errors import SemanticError
from semantic.interchange.names import settle_names
from semantic.interchange.skos import import_skos, report_line
from tests.cli_runner import run_cli
from tests.projects import write_project
from tests.test_errors import MODEL

EX = "http://example.org/clash/"
#: two schemes, labels in three languages that clash across concepts and schemes, ids from
#: notations that equal other concepts' labels, a synonym two concepts share, a hidden label
#: that is another concept's label in the same language, and the same text in different
#: languages (which is no clash)
CLASHING = f"""@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <{EX}> .

ex:finance a skos:ConceptScheme ; skos:prefLabel "Finance"@en .
ex:geo a skos:ConceptScheme ; skos:prefLabel "Geography"@en .

ex:c1 a skos:Concept ; skos:inScheme ex:finance ; skos:notation "bank" ;
    skos:prefLabel "Bank"@en, "Banque"@fr, "Banco"@es ;
    skos:altLabel "Lender"@en .
ex:c2 a skos:Concept ; skos:inScheme ex:geo ; skos:notation "river_bank" ;
    skos:prefLabel "Bank"@en, "Rive"@fr, "Orilla"@es ;
    skos:altLabel "Shore"@en, "lender"@en .
ex:c3 a skos:Concept ; skos:inScheme ex:geo ; skos:notation "shore" ;
    skos:prefLabel "Coast"@en, "Banque"@fr ; skos:altLabel "Shore"@en ;
    skos:hiddenLabel "Orilla"@es .
ex:c4 a skos:Concept ; skos:inScheme ex:finance ; skos:notation "coast" ;
    skos:prefLabel "Credit"@en, "Coast"@de ; skos:hiddenLabel "Banque"@en .
"""
#: the line of each concept's first statement in CLASHING
LINES = {"c1": 7, "c2": 10, "c3": 13, "c4": 16}


def project(root: Path) -> Path:
    """A project in English, French, Spanish and German, with one entity."""
    root.mkdir()
    write_project(root, {"models/m.yml": MODEL}, "name: t\nlanguages: [en, fr, es, de]\n")
    return root


def test_clashing_names_are_settled_as_every_importer_settles_them(tmp_path: Path) -> None:
    path = tmp_path / "clash.ttl"
    path.write_text(CLASHING, encoding="utf-8")
    result = import_skos(path, language="en")
    # the same changes as the shared rule makes on the same terms, reported on the concepts
    graph_result = import_skos(Graph().parse(data=CLASHING, format="turtle"), language="en")
    assert [d.terms for d in graph_result.domains] == [d.terms for d in result.domains]
    labels = {t.id: dict(t.data["label"]) for d in result.domains for t in d.terms}
    assert labels == {
        "bank": {"en": "Bank", "fr": "Bank", "es": "Banco"},
        "river_bank": {"en": "River bank", "fr": "Rive", "es": "Orilla"},
        "shore": {"en": "Shore", "fr": "Shore"},
        "coast": {"en": "Credit", "de": "Coast"},
    }
    names = {
        (n.what.removeprefix(EX), n.predicate.rsplit("#")[-1] if n.predicate else None, n.object): (
            n.kind,
            n.reason,
        )
        for n in result.notices
        if "term '" in n.reason or "term's id" in n.reason
    }
    assert names == {
        ("c2", "prefLabel", '"Bank"@en'): (
            "changed",
            "also the id of term 'bank': the label is 'River bank' instead",
        ),
        ("c1", "prefLabel", '"Banque"@fr'): (
            "changed",
            "also the label of term 'shore': the label is 'Bank' instead",
        ),
        ("c3", "prefLabel", '"Banque"@fr'): (
            "changed",
            "also the label of term 'bank': the label is 'Shore' instead",
        ),
        ("c3", "prefLabel", '"Coast"@en'): (
            "changed",
            "also the id of term 'coast': the label is 'Shore' instead",
        ),
        ("c1", "altLabel", '"Lender"@en'): (
            "unmapped",
            "also a synonym of term 'river_bank': left out",
        ),
        ("c2", "altLabel", '"lender"@en'): ("unmapped", "also a synonym of term 'bank': left out"),
        ("c2", "altLabel", '"Shore"@en'): ("unmapped", "also the id of term 'shore': left out"),
        ("c3", "altLabel", '"Shore"@en'): (
            "unmapped",
            "also the label made from the term's id: left out",
        ),
        ("c3", "hiddenLabel", '"Orilla"@es'): (
            "unmapped",
            "also the label of term 'river_bank': left out",
        ),
    }
    # what the shared rule itself says of the same names
    terms = {
        "bank": {"label": {"en": "Bank"}, "synonyms": {"en": ["Lender"]}},
        "river_bank": {"label": {"en": "Bank"}, "synonyms": {"en": ["lender"]}},
    }
    shared = {(n.what, n.reason) for n in settle_names(terms, lambda tid: ("f", 1))}
    assert shared == {
        ("label 'Bank' (en) of term 'river_bank'", names[("c2", "prefLabel", '"Bank"@en')][1]),
        ("synonym 'Lender' (en) of term 'bank'", names[("c1", "altLabel", '"Lender"@en')][1]),
        ("synonym 'lender' (en) of term 'river_bank'", names[("c2", "altLabel", '"lender"@en')][1]),
    }
    for notice in result.notices:
        concept = notice.what.removeprefix(EX)
        if concept in LINES:
            assert (notice.file, notice.line, notice.column) == (str(path), LINES[concept], 1)


def test_the_imported_clashing_vocabulary_passes_check(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    path = tmp_path / "clash.ttl"
    path.write_text(CLASHING, encoding="utf-8")
    imported = run_cli("import", "skos", path, project=root)
    assert imported.exit_code == 0, imported.stderr
    line = (
        f"{path}:{LINES['c2']}:1: warning: SEM224 carried over differently: "
        f'<{EX}c2> skos:prefLabel "Bank"@en\n  help: also the id'
    )
    assert line in imported.stderr
    checked = run_cli("check", project=root)
    assert checked.exit_code == 0, checked.stderr
    assert "SEM206" not in checked.stderr and "SEM243" not in checked.stderr, checked.stderr


#: one vocabulary in RDF/XML: the report names the line and column of each rdf:about
RDF_XML = f"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE rdf:RDF [ <!ENTITY ex "{EX}"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:skos="http://www.w3.org/2004/02/skos/core#">
  <skos:ConceptScheme rdf:about="&ex;scheme"/>
  <skos:Concept rdf:about="&ex;a">
    <skos:inScheme rdf:resource="&ex;scheme"/>
    <skos:prefLabel xml:lang="en">Alpha</skos:prefLabel>
    <skos:changeNote xml:lang="en">Renamed in 2023.</skos:changeNote>
  </skos:Concept>
    <rdf:Description rdf:about="{EX}b">
      <rdf:type rdf:resource="http://www.w3.org/2004/02/skos/core#Concept"/>
      <skos:prefLabel xml:lang="en">Alpha</skos:prefLabel>
    </rdf:Description>
</rdf:RDF>
"""


def test_the_report_names_file_line_and_column_in_rdf_xml(tmp_path: Path) -> None:
    path = tmp_path / "vocab.rdf"
    path.write_text(RDF_XML, encoding="utf-8")
    lines = [report_line(n) for n in import_skos(path, language="en").notices]
    assert (
        f"{path}:6:3: warning: SEM224 not carried over: "
        f'<{EX}a> skos:changeNote "Renamed in 2023."@en\n  help: the glossary '
        "keeps definitions and scope notes only (history is in git)"
    ) in lines
    assert (
        f"{path}:11:5: warning: SEM224 carried over differently: "
        f'<{EX}b> skos:prefLabel "Alpha"@en\n  help: also the label of term '
        "'a': the label is 'B' instead"
    ) in lines
    root = project(tmp_path / "p")
    imported = run_cli("import", "skos", path, "--format", "json", project=root)
    assert imported.exit_code == 0, imported.stderr
    report = json.loads(imported.stdout)["report"]
    assert {(i["subject"], i["line"], i["column"]) for i in report} >= {
        (f"{EX}a", 6, 3),
        (f"{EX}b", 11, 5),
    }
    assert run_cli("check", project=root).exit_code == 0


@pytest.mark.parametrize("fmt", ["turtle", "nt", "xml", "json-ld"])
def test_every_format_imports_the_same_terms(tmp_path: Path, fmt: str) -> None:
    """Turtle, N-Triples and RDF/XML are parsed straight into the import's index, JSON-LD
    by rdflib's own store: the terms are the same either way, and the report names a
    line wherever the format has a scanner."""
    graph = Graph().parse(data=CLASHING, format="turtle")
    path = tmp_path / f"vocab.{ {'turtle': 'ttl', 'xml': 'rdf'}.get(fmt, fmt) }"
    path.write_text(graph.serialize(format=fmt), encoding="utf-8")
    result = import_skos(path, language="en")
    assert result.files == import_skos(graph, language="en").files
    placed = {n.line > 0 for n in result.notices}
    assert placed == ({False} if fmt == "json-ld" else {True})
    text = path.read_text(encoding="utf-8").splitlines()
    for notice in result.notices:
        if not notice.line:
            continue
        at = text[notice.line - 1][notice.column - 1 :]
        if fmt == "xml":  # the element that describes the resource
            assert at.startswith("<") and f'about="{notice.what}"' in at, at
        else:  # the resource's IRI, or its prefixed name, starts the statement
            name = at.split()[0]
            assert name == f"<{notice.what}>" or (
                ":" in name and notice.what.endswith(name.split(":", 1)[1])
            ), at


def test_a_refused_vocabulary_names_the_place_of_each_concept() -> None:
    """Without --repair, a break of SKOS integrity is refused at the concept's statement."""
    path = Path(__file__).parent / "fixtures" / "skos" / "s14-two-pref-labels.ttl"
    with pytest.raises(SemanticError) as caught:
        import_skos(path, language="en")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert caught.value.diagnostics
    for diagnostic in caught.value.diagnostics:
        assert diagnostic.span is not None and diagnostic.span.file == str(path)
        iri = diagnostic.message.split(">")[0].lstrip("<")
        stated = lines[diagnostic.span.line - 1][diagnostic.span.col - 1 :]
        assert stated.startswith("ex:" + iri.rsplit("/", 1)[-1]), (stated, iri)
