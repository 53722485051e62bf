"""`semantic import skos`: a SKOS vocabulary becomes glossary YAML, and nothing is lost
silently.

Round trips: the TPC-H glossary exported then imported gives back an isomorphic graph and a
project that answers every business query the same; a public-style vocabulary (two schemes,
three languages, no physical meaning) imported, exported and imported again is stable.
Conflicts with existing terms are reported and never overwrite anything.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import DCTERMS, RDF, SKOS

from semantic.compiler.areas import subject_area_query
from semantic.errors import SemanticError
from semantic.files.read import read_file
from semantic.files.schema import GlossaryFile
from semantic.interchange.skos import (
    DEFAULT_DOMAIN,
    SkosImport,
    glossary_terms,
    import_skos,
    report_line,
    write_import,
)
from semantic.outputs.rdf.export import export_graph
from semantic.outputs.rdf.iris import default_base
from semantic.outputs.rdf.vocab import SEM
from semantic.project import Project
from tests.compare import assert_same_rows
from tests.conftest import ROOT
from tests.projects import write_data, write_project
from tests.test_tpch import QUERIES

EX = "https://vocab.example.org/retail/"

#: A public-style vocabulary: two schemes, English/French/German, a hierarchy stated from
#: both ends, related terms, matches to other vocabularies, a deprecated concept with its
#: replacement, an id from dct:identifier and one from skos:notation, a label without
#: language, a predicate the glossary has no key for, a note it does not keep, two English
#: prefLabels on one concept, a broader concept outside the vocabulary and a match between
#: two of its own concepts.
VOCABULARY = """
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix ex: <https://vocab.example.org/retail/> .

ex:customers a skos:ConceptScheme ;
    dct:title "Customers"@en, "Clients"@fr, "Kunden"@de ;
    dct:description "Who buys from the company, and where."@en ;
    skos:hasTopConcept ex:Customer, ex:Region .

ex:sales a skos:ConceptScheme ;
    skos:prefLabel "Sales"@en, "Ventes"@fr, "Verkauf"@de ;
    skos:hasTopConcept ex:Revenue .

ex:Customer a skos:Concept ;
    skos:inScheme ex:customers ;
    skos:topConceptOf ex:customers ;
    skos:prefLabel "Customer"@en, "Client"@fr, "Kunde"@de ;
    skos:altLabel "Buyer"@en, "Acheteur"@fr ;
    skos:definition "A person or company that buys from us."@en,
        "Une personne ou une entreprise qui nous achète."@fr ;
    skos:exactMatch <http://www.wikidata.org/entity/Q852835> .

ex:KeyAccount a skos:Concept ;
    skos:inScheme ex:customers ;
    dct:identifier "key_account" ;
    skos:prefLabel "Key account"@en, "Grand compte"@fr, "Großkunde"@de ;
    skos:broader ex:Customer ;
    skos:related ex:CustomerSegment .

ex:CustomerSegment a skos:Concept ;
    skos:inScheme ex:customers ;
    skos:notation "CUST-SEG" ;
    skos:prefLabel "Customer segment"@en, "Segment de clientèle"@fr ;
    skos:broader ex:Customer ;
    skos:scopeNote "Segments are set by marketing once a year."@en .

ex:Region a skos:Concept ;
    skos:inScheme ex:customers ;
    skos:prefLabel "Region"@en, "Région"@fr, "Region"@de ;
    skos:hiddenLabel "Regoin"@en ;
    skos:closeMatch <https://schema.org/AdministrativeArea> .

ex:Revenue a skos:Concept ;
    skos:inScheme ex:sales ;
    skos:prefLabel "Revenue"@en, "Turnover"@en, "Chiffre d'affaires"@fr, "Umsatz"@de ;
    skos:narrower ex:NetRevenue ;
    skos:exactMatch <http://www.wikidata.org/entity/Q850283> ;
    ex:internalCode "R-17" .

ex:NetRevenue a skos:Concept ;
    skos:inScheme ex:sales ;
    skos:prefLabel "Net revenue"@en, "Chiffre d'affaires net"@fr, "Nettoumsatz"@de ;
    skos:definition "Revenue after discounts, before tax."@en,
        "Chiffre d'affaires après remises, hors taxes."@fr,
        "Umsatz nach Rabatten, vor Steuern."@de ;
    skos:example "Net revenue by region in 2024"@en .

ex:GrossMargin a skos:Concept ;
    skos:inScheme ex:sales ;
    skos:prefLabel "Gross margin"@en, "Marge brute"@fr, "Bruttomarge"@de ;
    skos:related ex:NetRevenue ;
    skos:closeMatch <http://www.wikidata.org/entity/Q1126576> ;
    skos:changeNote "Renamed from 'margin' in 2023."@en .

ex:SalesAmount a skos:Concept ;
    skos:inScheme ex:sales ;
    skos:prefLabel "Sales amount"@en, "Montant des ventes"@fr ;
    owl:deprecated true ;
    dct:isReplacedBy ex:NetRevenue .

ex:OrderCount a skos:Concept ;
    skos:inScheme ex:sales ;
    skos:prefLabel "Number of orders"@en, "Nombre de commandes"@fr ;
    skos:definition "How many orders were placed." .

ex:AverageBasket a skos:Concept ;
    skos:inScheme ex:sales ;
    skos:prefLabel "Average basket"@en, "Panier moyen"@fr, "Durchschnittlicher Warenkorb"@de ;
    skos:broader <https://kpi.example.net/vocab/Kpi> ;
    skos:closeMatch ex:Revenue .
"""
CONCEPTS = {
    "AverageBasket": "average_basket",
    "Customer": "customer",
    "CustomerSegment": "cust_seg",
    "GrossMargin": "gross_margin",
    "KeyAccount": "key_account",
    "NetRevenue": "net_revenue",
    "OrderCount": "order_count",
    "Region": "region",
    "Revenue": "revenue",
    "SalesAmount": "sales_amount",
}
SKOS_NS = str(SKOS)
#: Exactly what the import of VOCABULARY reports, besides one `concept` item per concept.
EXPECTED_REPORT = {
    (
        "unmapped",
        EX + "AverageBasket",
        SKOS_NS + "broader",
        "<https://kpi.example.net/vocab/Kpi>",
    ),
    ("changed", EX + "AverageBasket", SKOS_NS + "closeMatch", f"<{EX}Revenue>"),
    ("changed", EX + "CustomerSegment", SKOS_NS + "notation", '"CUST-SEG"'),
    (
        "unmapped",
        EX + "GrossMargin",
        SKOS_NS + "changeNote",
        """"Renamed from 'margin' in 2023."@en""",
    ),
    ("changed", EX + "Revenue", SKOS_NS + "prefLabel", '"Turnover"@en'),
    ("unmapped", EX + "Revenue", EX + "internalCode", '"R-17"'),
}
TINY_MODEL = """
entities:
  orders:
    primary_key: [id]
    columns:
      id: {type: integer}
      amount: {type: integer}
"""
TINY_CONFIG = "name: retail\nlanguages: [en, fr, de]\ndata:\n  dir: data\n"


def vocabulary() -> Graph:
    return Graph().parse(data=VOCABULARY, format="turtle")


def tiny_project(root: Path, result: SkosImport, extra: dict[str, str] | None = None) -> Path:
    """A project with one entity and the imported glossary."""
    root.mkdir(parents=True, exist_ok=True)
    write_project(root, {"models/m.yml": TINY_MODEL, **(extra or {})}, TINY_CONFIG)
    write_import(result, root / "glossary")
    return root


def differences(first: Graph, second: Graph) -> str:
    """The triples of one graph and not the other, for a readable failure."""
    _, only_first, only_second = graph_diff(to_isomorphic(first), to_isomorphic(second))
    lines = [f"- {t}" for t in sorted(only_first)][:20]
    lines += [f"+ {t}" for t in sorted(only_second)][:20]
    return "\n".join(lines)


def copy_of_tpch(root: Path, data_dir: Path, *, glossary: bool) -> Path:
    """The TPC-H project in `root` (its glossary only when `glossary`), reading the data of
    the original project."""
    shutil.copytree(ROOT / "models", root / "models")
    if glossary:
        shutil.copytree(ROOT / "glossary", root / "glossary")
    config = (ROOT / "semantic.yml").read_text()
    (root / "semantic.yml").write_text(config.replace("data/tpch-sf{scale}", str(data_dir)))
    return root


# --- TPC-H: export, import, export -----------------------------------------------------


@pytest.fixture(scope="module")
def exported(project: Project) -> Graph:
    return export_graph(project.model)


@pytest.fixture(scope="module")
def tpch_import(exported: Graph) -> SkosImport:
    return import_skos(exported, language="en", base=default_base("tpch"))


@pytest.fixture(scope="module")
def reimported(
    tmp_path_factory: pytest.TempPathFactory, project: Project, tpch_import: SkosImport
) -> Project:
    """A copy of the TPC-H project whose glossary is the imported one."""
    root = copy_of_tpch(tmp_path_factory.mktemp("tpch"), project.data_dir, glossary=False)
    written = write_import(tpch_import, root / "glossary")
    assert [p.name for p in written] == sorted(p.name for p in (ROOT / "glossary").glob("*.yml"))
    return Project.load(root)


def test_tpch_export_import_export_is_isomorphic(exported: Graph, reimported: Project) -> None:
    again = export_graph(reimported.model)
    assert isomorphic(exported, again), differences(exported, again)


def test_tpch_reimported_has_no_new_warning(project: Project, reimported: Project) -> None:
    assert [d.render() for d in reimported.warnings] == []
    assert sorted(reimported.model.terms) == sorted(project.model.terms)


def test_tpch_import_reports_only_the_physical_model(tpch_import: SkosImport) -> None:
    """Every term maps with its meaning: the report only names the datasets, columns,
    relationships and entity quality rules of models/, which the import does not write."""
    assert {item.kind for item in tpch_import.notices} == {"unmapped"}
    for item in tpch_import.notices:
        assert item.predicate is None
        assert item.reason.startswith("not a concept or concept scheme ("), report_line(item)
        assert "/term/" not in item.what and "/domain/" not in item.what
    assert any(item.what.endswith("/entity/lineitem") for item in tpch_import.notices)


@pytest.mark.parametrize(
    ("name", "language"),
    [(name, language) for name, texts in sorted(QUERIES.items()) for language in texts],
)
def test_tpch_reimported_answers_business_queries_the_same(
    project: Project, reimported: Project, name: str, language: str
) -> None:
    query = QUERIES[name][language]
    assert_same_rows(reimported.query(query).to_pylist(), project.query(query).to_pylist())


@pytest.mark.parametrize(
    "query",
    [
        "SELECT order_date.month, revenue_last_3_months, revenue_year_to_date, "
        "cumulative_revenue WHERE order_date.year = DATE '1996-01-01' ORDER BY 1",
        "SELECT order_date.quarter, revenue_previous_year, revenue_growth, average_order_value "
        "WHERE order_date.year = DATE '1997-01-01' ORDER BY 1",
        "SELECT supplier_region, supplier_count WHERE NOT supplier_with_complaints ORDER BY 1",
    ],
)
def test_tpch_reimported_windows_shifts_and_segments(
    project: Project, reimported: Project, query: str
) -> None:
    assert_same_rows(reimported.query(query).to_pylist(), project.query(query).to_pylist())


def test_tpch_terms_read_like_the_hand_written_files(tpch_import: SkosImport) -> None:
    sales = tpch_import.files["sales.yml"]
    start = sales.index("  net_revenue:\n")
    assert sales[start : sales.index("\n\n", start)] == (
        "  net_revenue:\n"
        "    label: {en: Net revenue, fr: Chiffre d'affaires net}\n"
        "    synonyms: {en: [discounted revenue, revenue], fr: [CA, CA net]}\n"
        "    definition:\n"
        "      en: Sum of the extended price of line items after discount, before tax.\n"
        "      fr: Somme des prix étendus des lignes de commande après remise, hors taxes.\n"
        "    owners: [finance]\n"
        "    status: approved\n"
        "    confidentiality: internal\n"
        "    tags: [finance, revenue]\n"
        "    hidden_labels: {en: [net revenu, nett revenue], fr: [chiffre d'affaire net]}\n"
        "    scope_note:\n"
        "      en: Use for what the company earns on its sales; taxes are not revenue "
        "(see charge).\n"
        "      fr: Pour ce que l'entreprise gagne sur ses ventes ; les taxes n'en font pas "
        "partie (voir le montant facturé).\n"
        "    examples:\n"
        '      en: ["SELECT customer_region, net_revenue WHERE order_date.year = '
        "DATE '1995-01-01'\"]\n"
        "    related: [charge, discount_amount, gross_revenue, revenue_share]\n"
        "    metric:\n"
        "      entity: lineitem\n"
        "      expr: SUM(l_extendedprice * (1 - l_discount))\n"
        "      fill_null: 0"
    )


def test_tpch_meanings_are_restored(reimported: Project, project: Project) -> None:
    """Counts keep their implicit fill value; paths, grains, windows, shifts and quality
    rules come back."""
    for tid, term in project.model.terms.items():
        again = reimported.model.terms[tid]
        assert (again.kind, again.entity, again.path, again.grains) == (
            term.kind,
            term.entity,
            term.path,
            term.grains,
        )
        assert (again.window, again.shift) == (term.window, term.shift)
        assert again.expr.sql() == term.expr.sql()
        assert [(q.id, q.text, q.threshold) for q in again.quality] == [
            (q.id, q.text, q.threshold) for q in term.quality
        ]
    text = (reimported.root / "glossary" / "orders.yml").read_text()
    order_count = text[text.index("  order_count:") :].split("\n\n")[0]
    assert "fill_null" not in order_count


def test_tpch_subject_areas_come_back(
    tpch_import: SkosImport, reimported: Project, project: Project
) -> None:
    """The subject areas read back as written by hand, and their queries give the same rows."""
    text = tpch_import.files["subject_areas.yml"]
    original = (ROOT / "glossary" / "subject_areas.yml").read_text()
    block = text[text.index("\nsubject_areas:\n") :]
    assert original.endswith(block)
    assert set(reimported.model.subject_areas) == set(project.model.subject_areas) != set()
    for sid, area in project.model.subject_areas.items():
        query = subject_area_query(project.model, area)
        assert subject_area_query(reimported.model, reimported.model.subject_areas[sid]) == query
        assert_same_rows(reimported.query(query).to_pylist(), project.query(query).to_pylist())


def test_subject_areas_merge_into_an_existing_domain(tmp_path: Path, project: Project) -> None:
    root = copy_of_tpch(tmp_path, project.data_dir, glossary=True)
    sales = root / "glossary" / "subject_areas.yml"
    original = sales.read_text()
    without = original[: original.index("\nsubject_areas:\n")] + "\n"
    sales.write_text(without)
    exported = export_graph(project.model)
    areas = Graph()  # the subject areas alone, and their domain
    for area in exported.subjects(RDF.type, SEM.SubjectArea):
        areas += exported.cbd(area)
    scheme = next(exported.subjects(DCTERMS.identifier, Literal("subject_areas")))
    areas += exported.cbd(scheme).triples((scheme, None, Literal("subject_areas")))
    areas.add((scheme, RDF.type, SKOS.ConceptScheme))
    result = import_skos(areas, language="en")
    assert [(d.id, len(d.terms), len(d.subject_areas)) for d in result.domains] == [
        ("subject_areas", 0, 2)
    ]
    assert result.notices == ()
    with pytest.raises(SemanticError):
        write_import(result, root / "glossary")
    write_import(result, root / "glossary", replace=True)
    merged = sales.read_text()
    assert merged.startswith(without) and "\nsubject_areas:\n  sales_by_customer:" in merged
    assert set(Project.load(root).model.subject_areas) == set(project.model.subject_areas)
    write_import(result, root / "glossary", replace=True)  # again: replaced, not doubled
    again = Project.load(root).model.subject_areas
    assert set(again) == set(project.model.subject_areas)
    assert again["yearly_sales"].dimensions == ("order_date.year",)


# --- a public-style vocabulary ----------------------------------------------------------


def test_vocabulary_yaml_reads_with_our_loader(tmp_path: Path) -> None:
    result = import_skos(vocabulary(), language="en", repair=True)
    assert sorted(result.files) == ["customers.yml", "sales.yml"]
    terms: dict[str, object] = {}
    for name, text in result.files.items():
        path = tmp_path / name
        path.write_text(text)
        doc, problems = read_file(path, GlossaryFile, name)
        assert problems == []
        assert doc is not None
        terms.update(doc.data.terms)
    assert sorted(terms) == sorted(CONCEPTS.values())
    customers = ("cust_seg", "customer", "key_account", "region")
    assert result.terms[:4] == customers  # domain by domain, then by id


def test_vocabulary_report_lists_exactly_what_did_not_map() -> None:
    result = import_skos(vocabulary(), language="en", repair=True)
    found = {(i.kind, i.what, i.predicate, i.object) for i in result.notices}
    concepts = {("concept", EX + concept, None, None) for concept in CONCEPTS}
    assert found == EXPECTED_REPORT | concepts


def test_vocabulary_maps_labels_hierarchy_matches_and_governance(tmp_path: Path) -> None:
    root = tiny_project(tmp_path, import_skos(vocabulary(), language="en", repair=True))
    model = Project.load(root).model
    terms = model.terms
    assert terms["customer"].labels == {"en": "Customer", "de": "Kunde", "fr": "Client"}
    assert terms["customer"].synonyms == {"en": ("Buyer",), "fr": ("Acheteur",)}
    assert terms["revenue"].labels["en"] == "Revenue"
    assert terms["revenue"].synonyms == {"en": ("Turnover",)}  # the second prefLabel
    assert terms["net_revenue"].broader == ("revenue",)  # stated as skos:narrower
    assert terms["key_account"].broader == ("customer",)
    assert terms["key_account"].related == ("cust_seg",)
    assert terms["average_basket"].broader == ()  # its broader concept is elsewhere
    assert terms["average_basket"].related == ("revenue",)  # a match inside the vocabulary
    # the source's own IRI too: the glossary links back to the vocabulary
    assert terms["customer"].exact_match == (
        "http://www.wikidata.org/entity/Q852835",
        EX + "Customer",
    )
    assert terms["region"].close_match == ("https://schema.org/AdministrativeArea",)
    assert terms["region"].hidden_labels == {"en": ("Regoin",)}
    assert terms["cust_seg"].scope_note == {"en": "Segments are set by marketing once a year."}
    assert terms["net_revenue"].examples == {"en": ("Net revenue by region in 2024",)}
    assert (terms["sales_amount"].status, terms["sales_amount"].replaced_by) == (
        "deprecated",
        "net_revenue",
    )
    assert terms["order_count"].definition == {"en": "How many orders were placed."}
    assert (terms["revenue"].status, terms["revenue"].confidentiality) == ("draft", "internal")
    assert model.domains["customers"].labels == {"en": "Customers", "de": "Kunden", "fr": "Clients"}
    assert model.domains["sales"].labels == {"en": "Sales", "de": "Verkauf", "fr": "Ventes"}
    assert model.domains["customers"].description == {"en": "Who buys from the company, and where."}
    assert all(t.kind == "concept" for t in terms.values())


def test_vocabulary_import_export_import_is_stable(tmp_path: Path) -> None:
    first = import_skos(vocabulary(), language="en", repair=True)
    exported = export_graph(Project.load(tiny_project(tmp_path / "a", first)).model)
    second = import_skos(exported, language="en")
    assert {i.kind for i in second.notices if i.kind != "concept"} == {"unmapped"}
    assert {i.what.rsplit("/", 1)[-1] for i in second.notices if i.kind == "unmapped"} == {
        "orders",
        "schema",
        "id",
        "amount",
    }
    again = export_graph(Project.load(tiny_project(tmp_path / "b", second)).model)
    assert isomorphic(exported, again), differences(exported, again)
    assert isomorphic(skos_subset(exported), skos_subset(again))


def skos_subset(graph: Graph) -> Graph:
    subset = Graph()
    for triple in graph:
        if str(triple[1]).startswith((str(SKOS), str(DCTERMS))):
            subset.add(triple)
    return subset


def test_a_concept_is_refused_by_every_query_that_uses_it(tmp_path: Path) -> None:
    metric = "domain: counts\nterms:\n  row_count:\n    label: {en: Rows}\n"
    metric += "    metric: {entity: orders, expr: count(*)}\n"
    root = tiny_project(
        tmp_path,
        import_skos(vocabulary(), language="en", repair=True),
        {"glossary/counts.yml": metric},
    )
    write_data(root, {"orders": "SELECT 1 AS id, 10 AS amount"})
    project = Project.load(root)
    assert project.query("SELECT row_count").to_pylist() == [{"row_count": 1}]
    for query in (
        "SELECT revenue",
        "SELECT row_count, revenue",
        "SELECT row_count, revenue / row_count AS share",
        "SELECT row_count WHERE revenue > 0",
        "SELECT row_count ORDER BY revenue",
    ):
        with pytest.raises(SemanticError) as caught:
            project.compile(query)
        (d,) = caught.value.diagnostics
        assert d.code == "SEM315", query
        assert "'revenue' is a business concept without physical meaning" in d.message
    assert "    concept: {}\n" in (root / "glossary" / "sales.yml").read_text()


def test_literals_without_language_get_the_given_language() -> None:
    result = import_skos(vocabulary(), language="fr", repair=True)
    assert "definition:\n      fr: How many orders were placed." in result.files["sales.yml"]


# --- ids, names, domains ----------------------------------------------------------------


def test_ids_come_from_identifier_then_notation_then_iri_never_from_a_label() -> None:
    graph = Graph()
    cases = {
        "a": (["Order Date"], None),  # dct:identifier, normalised
        "b": (None, "42"),  # notation: an id starts with a letter
        "NetRevenue": (None, None),  # the IRI's last segment
        "c": (["zeta", "alpha"], "ignored"),  # the first identifier; notation reported
    }
    for name, (identifiers, notation) in cases.items():
        concept = URIRef(EX + name)
        graph.add((concept, SKOS.prefLabel, Literal("A label, never the id", lang="en")))
        graph.add((concept, SKOS.inScheme, URIRef(EX + "s")))
        graph.add((concept, SKOS.prefLabel, Literal(f"Label {name}", lang="fr")))
        for identifier in identifiers or []:
            graph.add((concept, DCTERMS.identifier, Literal(identifier)))
        if notation:
            graph.add((concept, SKOS.notation, Literal(notation)))
    for name in cases:
        graph.add((URIRef(EX + name), RDF.type, SKOS.Concept))
    result = import_skos(graph, language="en")
    (domain,) = result.domains
    assert {t.iri.rsplit("/", 1)[-1]: t.id for t in domain.terms} == {
        "a": "order_date",
        "b": "term_42",
        "NetRevenue": "net_revenue",
        "c": "alpha",
    }
    reasons = {(i.what.rsplit("/", 1)[-1], i.object): i.reason for i in result.notices}
    assert reasons[("a", '"Order Date"')] == "not a snake_case id: written as 'order_date'"
    assert reasons[("b", '"42"')] == "not a snake_case id: written as 'term_42'"
    assert reasons[("c", '"zeta"')] == "a second id: the first is kept"
    assert reasons[("c", '"ignored"')].startswith("the id comes from dct:identifier")


def test_id_collisions_are_numbered_and_reported() -> None:
    graph = Graph().parse(
        format="turtle",
        data=f"""
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        <{EX}one/Region> a skos:Concept ; skos:prefLabel "Region"@en .
        <{EX}two/region> a skos:Concept ; skos:prefLabel "Sales region"@en .
        """,
    )
    result = import_skos(graph, language="en")
    (domain,) = result.domains
    assert domain.id == DEFAULT_DOMAIN
    assert [(t.id, t.iri) for t in domain.terms] == [
        ("region", EX + "one/Region"),
        ("region_2", EX + "two/region"),
    ]
    changed = [i for i in result.notices if i.kind == "changed"]
    assert [i.reason for i in changed if i.what == EX + "two/region"] == [
        f"id 'region' is already the id of <{EX}one/Region>: written as 'region_2'",
        f"in no concept scheme: written to domain '{DEFAULT_DOMAIN}'",
    ]


def test_names_that_name_two_terms_are_left_out_and_reported(tmp_path: Path) -> None:
    graph = Graph().parse(
        format="turtle",
        data=f"""
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        @prefix ex: <{EX}> .
        ex:s a skos:ConceptScheme .
        ex:Margin a skos:Concept ; skos:inScheme ex:s ;
            skos:prefLabel "Margin"@en, "Marge"@fr ; skos:altLabel "Profit"@en .
        ex:Profit a skos:Concept ; skos:inScheme ex:s ;
            skos:prefLabel "Profit"@en ; skos:altLabel "Gain"@en, "margin"@en .
        ex:Gain a skos:Concept ; skos:inScheme ex:s ; skos:prefLabel "Margin"@en .
        """,
    )
    result = import_skos(graph, language="en")
    unmapped = {(i.what[len(EX) :], i.object, i.reason) for i in result.notices}
    assert ("Margin", '"Profit"@en', "also the id of term 'profit': left out") in unmapped
    assert ("Profit", '"Gain"@en', "also the id of term 'gain': left out") in unmapped
    assert ("Profit", '"margin"@en', "also the id of term 'margin': left out") in unmapped
    assert ("Gain", '"Margin"@en', "also the id of term 'margin': the label is 'Gain' instead") in (
        unmapped
    )
    root = tiny_project(tmp_path, result)
    assert Project.load(root).model.terms["gain"].labels == {"en": "Gain"}


def test_one_domain_for_everything(tmp_path: Path) -> None:
    result = import_skos(vocabulary(), language="en", repair=True, domain="retail")
    assert list(result.files) == ["retail.yml"]
    assert sorted(result.terms) == sorted(CONCEPTS.values())
    merged = [i.what for i in result.notices if i.reason.startswith("merged into domain")]
    assert merged == [EX + "customers", EX + "sales"]


def test_a_file_that_is_not_rdf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vocab.ttl"
    path.write_text("this is not turtle")
    with pytest.raises(SemanticError) as caught:
        import_skos(path, language="en")
    assert caught.value.code == "SEM101"


# --- conflicts: nothing is overwritten unless asked -------------------------------------


CLASHING = f"""
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix ex: <{EX}> .
ex:finance a skos:ConceptScheme ; dct:title "Finance"@en .
ex:c1 a skos:Concept ; skos:inScheme ex:finance ; dct:identifier "customer_comment" ;
    skos:prefLabel "Customer remark"@en .
ex:c2 a skos:Concept ; skos:inScheme ex:finance ; dct:identifier "cash_flow" ;
    skos:prefLabel "Cash flow"@en .
"""


def glossary_texts(root: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((root / "glossary").glob("*.yml"))}


def test_an_existing_term_is_reported_and_not_written(tmp_path: Path, project: Project) -> None:
    root = copy_of_tpch(tmp_path, project.data_dir, glossary=True)
    before = glossary_texts(root)
    existing = glossary_terms(root / "glossary")
    result = import_skos(
        Graph().parse(data=CLASHING, format="turtle"), existing=existing, language="en"
    )
    assert result.conflicts == {"customer_comment": "customers"}
    (conflict,) = [i for i in result.notices if i.kind == "conflict"]
    assert conflict.what == EX + "c1"
    assert "customer_comment" not in result.files["finance.yml"]
    assert result.terms == ("cash_flow",)
    assert write_import(result, root / "glossary") == (root / "glossary" / "finance.yml",)
    after = glossary_texts(root)
    assert {k: v for k, v in after.items() if k != "finance.yml"} == before
    assert Project.load(root).model.terms["customer_comment"].kind == "dimension"


def test_writing_without_the_project_ids_still_refuses(tmp_path: Path, project: Project) -> None:
    root = copy_of_tpch(tmp_path, project.data_dir, glossary=True)
    before = glossary_texts(root)
    result = import_skos(Graph().parse(data=CLASHING, format="turtle"), language="en")
    with pytest.raises(SemanticError) as caught:
        write_import(result, root / "glossary")
    assert [d.code for d in caught.value.diagnostics] == ["SEM103"]
    assert "term 'customer_comment' is already defined" in str(caught.value)
    assert glossary_texts(root) == before  # nothing written, not even finance.yml


CONCEPT_TAIL = """\
    # TODO(import): a business concept without physical meaning, which queries cannot
    # use: give it a dimension, time_dimension, metric or segment instead.
    concept: {}
"""


def test_an_existing_domain_is_merged_only_when_replacing(tmp_path: Path, project: Project) -> None:
    root = copy_of_tpch(tmp_path, project.data_dir, glossary=True)
    before = glossary_texts(root)
    existing = glossary_terms(root / "glossary")
    result = import_skos(
        Graph().parse(data=CLASHING, format="turtle"),
        language="en",
        existing=existing,
        domain="customers",
    )
    with pytest.raises(SemanticError) as caught:
        write_import(result, root / "glossary")
    assert "domain 'customers' is already defined" in str(caught.value)
    assert glossary_texts(root) == before
    written = write_import(result, root / "glossary", replace=True)
    assert written == (root / "glossary" / "customers.yml",)
    text = (root / "glossary" / "customers.yml").read_text()
    old = before["customers.yml"]
    start = old.index("  customer_comment:\n")
    assert text.startswith(old[:start] + "  customer_comment:\n    label: {en: Customer remark}")
    assert old[old.index("\n\n", start) :] in text  # every other line as it was
    assert text.endswith(
        f"  cash_flow:\n    label: {{en: Cash flow}}\n    exact_match: [{EX}c2]\n{CONCEPT_TAIL}"
    )
    terms = Project.load(root).model.terms
    assert terms["customer_comment"].labels == {"en": "Customer remark"}
    assert terms["cash_flow"].domain == "customers"


def test_a_file_with_no_terms_yet_is_merged_too(tmp_path: Path) -> None:
    glossary = tmp_path / "glossary"
    glossary.mkdir()
    (glossary / "finance.yml").write_text(
        "# Money.\ndomain: finance\nterms: {}\nlabel: {en: Money}\n"
    )
    result = import_skos(Graph().parse(data=CLASHING, format="turtle"), language="en")
    write_import(result, glossary, replace=True)
    doc, problems = read_file(glossary / "finance.yml", GlossaryFile, "finance.yml")
    assert problems == [] and doc is not None
    assert sorted(doc.data.terms) == ["cash_flow", "customer_comment"]
    assert doc.data.label == {"en": "Money"}
    assert (glossary / "finance.yml").read_text().startswith("# Money.\n")


def test_a_subject_area_of_another_vocabulary_is_read_and_what_does_not_map_is_reported() -> None:
    graph = Graph().parse(
        format="turtle",
        data=f"""
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        @prefix sem: <https://w3id.org/semantic-glossary/ns#> .
        @prefix ex: <{EX}> .
        ex:Region a skos:Concept ; skos:prefLabel "Region"@en .
        ex:Revenue a skos:Concept ; skos:prefLabel "Revenue"@en .
        ex:RevenueByRegion a skos:Collection , sem:SubjectArea ;
            skos:prefLabel "Revenue by region"@en ;
            skos:member ex:Region , ex:Revenue ;
            skos:note "Reviewed yearly."@en ;
            sem:areaDimensions ( [ sem:dimensionTerm ex:Region ] ) ;
            sem:areaMetrics ( ex:Revenue ) ;
            sem:areaFilter "region <> 'NONE'" .
        """,
    )
    result = import_skos(graph, language="en")
    (domain,) = result.domains
    assert domain.id == DEFAULT_DOMAIN
    (area,) = domain.subject_areas
    assert (area.id, area.iri) == ("revenue_by_region", EX + "RevenueByRegion")
    assert area.data == {
        "label": {"en": "Revenue by region"},
        "dimensions": ["region"],
        "metrics": ["revenue"],
        "filter": "region <> 'NONE'",
    }
    about = {(i.kind, i.predicate, i.reason) for i in result.notices if i.what == area.iri}
    assert about == {
        ("changed", None, f"part of no concept scheme: written to domain '{DEFAULT_DOMAIN}'"),
        ("unmapped", SKOS_NS + "note", "the glossary keeps definitions and scope notes only"),
    }
    text = result.files[f"{DEFAULT_DOMAIN}.yml"]
    assert text.endswith(
        "subject_areas:\n"
        "  revenue_by_region:\n"
        "    label: {en: Revenue by region}\n"
        "    dimensions: [region]\n"
        "    metrics: [revenue]\n"
        "    filter: region <> 'NONE'\n"
    )
