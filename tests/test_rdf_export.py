"""The RDF export: real RDF, parsed back with rdflib; deterministic text; the profile of
docs/rdf.md, whose Turtle excerpts and SPARQL queries are checked against the real export."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import CSVW, DCTERMS, OWL, PROV, RDF, RDFS, SKOS
from rdflib.term import Node
from sqlglot import exp

from semantic.model import Model
from semantic.model.perterms import own_columns
from semantic.outputs.quality import project_quality
from semantic.outputs.rdf.export import FORMATS, export_graph, serialize
from semantic.outputs.rdf.iris import SEMANTIC_NS, Iris, default_base
from semantic.outputs.rdf.vocab import ACCESS_RIGHT, DCAT, RR, SEM, XSD
from semantic.project import Project
from tests.projects import write_project

# rdflib's own JSON-LD parser uses its deprecated ConjunctiveGraph
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated")

ROOT = Path(__file__).resolve().parents[1]
RDF_DOC = ROOT / "docs" / "rdf.md"
ONTOLOGY = ROOT / "ontology" / "semantic.ttl"
IRIS = Iris(default_base("tpch"))


@pytest.fixture(scope="module")
def model() -> Model:
    return Project.load(ROOT).model


@pytest.fixture(scope="module")
def graph(model: Model) -> Graph:
    return export_graph(model)


def term(tid: str) -> URIRef:
    return IRIS.term(tid)


def column(entity: str, name: str) -> URIRef:
    return IRIS.column(entity, name)


# --- formats and determinism ------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_parses_back_to_the_same_graph(graph: Graph, fmt: str) -> None:
    text = serialize(graph, fmt)  # type: ignore[arg-type]
    parsed = Graph().parse(data=text, format=fmt)
    assert len(parsed) == len(graph)
    assert isomorphic(parsed, graph)


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://data.example.com/tpch", "https://data.example.com/tpch/"),  # `/` added
        ("https://data.example.com/tpch#", "https://data.example.com/tpch#"),
        ("urn:example:tpch:", "urn:example:tpch:"),
    ],
)
def test_a_custom_base_names_everything_under_it(model: Model, base: str, expected: str) -> None:
    graph = export_graph(model, base)
    # Turtle writes IRIs relative to a hierarchical base only; each reads back the same
    assert isomorphic(Graph().parse(data=serialize(graph), format="turtle"), graph)
    ours = {str(n) for triple in graph for n in triple if isinstance(n, URIRef)}
    ours = {iri for iri in ours if "example." in iri or iri.startswith("urn:example")}
    assert ours and all(iri.startswith(expected) for iri in ours)
    assert (URIRef(expected + "term/net_revenue"), RDF.type, SEM.Metric) in graph


def test_a_relative_base_is_refused(model: Model) -> None:
    with pytest.raises(ValueError, match="not absolute"):
        export_graph(model, "tpch/")


def test_an_unknown_format_is_refused(graph: Graph) -> None:
    with pytest.raises(ValueError, match="turtle, json-ld, xml, nt"):
        serialize(graph, "yaml")  # type: ignore[arg-type]


EXPORT = """
import sys
from semantic.project import Project
from semantic.outputs.rdf.export import export_graph, serialize
graph = export_graph(Project.load(sys.argv[1]).model)
sys.stdout.write("\\x00".join(serialize(graph, fmt) for fmt in sys.argv[2:]))
"""


def test_output_is_byte_identical_across_processes(graph: Graph) -> None:
    """Each process salts str hashes differently: anything that leaks set order shows."""
    outputs = []
    for seed in ("1", "2", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", EXPORT, str(ROOT), *FORMATS],
            env=env,
            capture_output=True,
            check=True,
        )
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    here = "\x00".join(serialize(graph, fmt) for fmt in FORMATS).encode()
    assert outputs[0] == here


def test_turtle_has_no_trailing_spaces_and_names_our_iris_relative_to_the_base(
    graph: Graph,
) -> None:
    text = serialize(graph)
    assert text.startswith("BASE <https://example.org/semantic/tpch/>\n")
    assert not [line for line in text.splitlines() if line.endswith(" ")]
    assert "\n<term/net_revenue>\n" in text


# --- the glossary -----------------------------------------------------------------------


def test_one_concept_per_term(graph: Graph, model: Model) -> None:
    concepts = set(graph.subjects(RDF.type, SKOS.Concept))
    assert concepts == {term(t) for t in model.terms}
    assert len(concepts) == len(model.terms)


def test_each_term_has_its_kind_and_stable_id(graph: Graph, model: Model) -> None:
    kinds = {
        "dimension": SEM.Dimension,
        "time_dimension": SEM.TimeDimension,
        "metric": SEM.Metric,
        "segment": SEM.Segment,
    }
    for t in model.terms.values():
        types = set(graph.objects(term(t.id), RDF.type))
        extra = set()  # the kinds beyond an expression over one entity (`rdf.kinds`)
        if t.reads_per and t.kind in ("metric", "dimension"):
            extra.add(SEM.MetricAtAnotherGrain if t.is_metric else SEM.PerEntityDimension)
        assert types == {SKOS.Concept, kinds[t.kind], *extra}, t.id
        assert list(graph.objects(term(t.id), DCTERMS.identifier)) == [Literal(t.id)]


def test_net_revenue_labels(graph: Graph) -> None:
    labels = set(graph.objects(term("net_revenue"), SKOS.prefLabel))
    assert labels == {
        Literal("Chiffre d'affaires net", lang="fr"),
        Literal("Net revenue", lang="en"),
    }
    assert Literal("CA", lang="fr") in set(graph.objects(term("net_revenue"), SKOS.altLabel))


def test_exactly_one_pref_label_per_declared_language(graph: Graph, model: Model) -> None:
    for t in model.terms.values():
        labels = list(graph.objects(term(t.id), SKOS.prefLabel))
        by_language = Counter(label.language for label in labels)  # type: ignore[attr-defined]
        assert dict(by_language) == {language: 1 for language in t.labels}, t.id
        assert {str(label) for label in labels} == set(t.labels.values())


def test_synonyms_and_definitions_are_language_tagged(graph: Graph, model: Model) -> None:
    for t in model.terms.values():
        expected = {
            Literal(s, lang=lang)
            for lang, synonyms in t.synonyms.items()
            for s in synonyms
            if s != t.labels.get(lang)
        }
        assert set(graph.objects(term(t.id), SKOS.altLabel)) == expected
        definitions = {Literal(text, lang=lang) for lang, text in t.definition.items()}
        assert set(graph.objects(term(t.id), SKOS.definition)) == definitions


def test_domains_are_concept_schemes_of_their_terms(graph: Graph, model: Model) -> None:
    assert set(graph.subjects(RDF.type, SKOS.ConceptScheme)) == {
        IRIS.scheme(d) for d in model.domains
    }
    for domain in model.domains.values():
        scheme = IRIS.scheme(domain.id)
        titles = set(graph.objects(scheme, DCTERMS.title))
        assert titles == {Literal(text, lang=lang) for lang, text in domain.labels.items()}
        tops = {t for t in domain.terms if not model.terms[t].broader}
        assert set(graph.objects(scheme, SKOS.hasTopConcept)) == {term(t) for t in tops}
        for tid in domain.terms:
            assert (term(tid), SKOS.inScheme, scheme) in graph
            assert ((term(tid), SKOS.topConceptOf, scheme) in graph) == (tid in tops)


def test_owners_are_qualified_attributions(graph: Graph, model: Model) -> None:
    for t in model.terms.values():
        owners = set()
        for attribution in graph.objects(term(t.id), PROV.qualifiedAttribution):
            assert (attribution, RDF.type, PROV.Attribution) in graph
            assert list(graph.objects(attribution, DCAT.hadRole)) == [SEM.Owner]
            (agent,) = graph.objects(attribution, PROV.agent)
            assert (agent, RDF.type, PROV.Agent) in graph
            owners.add(str(graph.value(agent, DCTERMS.identifier)))
        assert owners == set(t.owners), t.id


# --- a tiny project for the mappings TPC-H does not show ----------------------------------

TINY_MODEL = """
entities:
  customers:
    primary_key: [id]
    columns:
      id: {type: integer}
      region: {type: varchar}
  orders:
    primary_key: [id]
    columns:
      id: {type: integer}
      customer_id: {type: integer}
      amount: {type: "decimal(10,2)"}
    relationships:
      - to: customers
        cardinality: many_to_one
        keys: {customer_id: id}
"""

TINY_GLOSSARY = """
domain: sales
label: {en: Sales, fr: Ventes}
terms:
  region:
    label: {en: Region, fr: Région}
    status: approved
    confidentiality: public
    dimension: {entity: customers, expr: region}
  revenue:
    label: {en: Revenue, fr: Chiffre d'affaires}
    synonyms: {en: [Revenue, Turnover]}
    owners: [finance, sales-ops]
    status: draft
    confidentiality: confidential
    metric: {entity: orders, expr: sum(amount), fill_null: -1.5}
  old_revenue:
    label: {en: Old revenue}
    status: deprecated
    confidentiality: restricted
    metric: {entity: orders, expr: sum(amount), filter: region = 'EMEA'}
  order_amount:
    label: {en: Order amount, fr: Montant de la commande}
    dimension: {entity: orders, expr: amount, path: [customers.orders]}
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Graph:
    root = tmp_path_factory.mktemp("tiny")
    write_project(root, {"models/m.yml": TINY_MODEL, "glossary/g.yml": TINY_GLOSSARY})
    return export_graph(Project.load(root).model, "https://data.example.com/tiny/")


TINY = Iris("https://data.example.com/tiny/")


def test_status_mapping(tiny: Graph) -> None:
    status = {t: tiny.value(TINY.term(t), SEM.status) for t in ("region", "revenue", "old_revenue")}
    assert status == {"region": SEM.Approved, "revenue": SEM.Draft, "old_revenue": SEM.Deprecated}
    assert set(tiny.subjects(OWL.deprecated, None)) == {TINY.term("old_revenue")}
    assert tiny.value(TINY.term("old_revenue"), OWL.deprecated) == Literal(True)


def test_confidentiality_mapping(tiny: Graph) -> None:
    expected = {
        "region": (ACCESS_RIGHT.PUBLIC, SEM.Public),
        "order_amount": (ACCESS_RIGHT.NON_PUBLIC, SEM.Internal),  # the default
        "revenue": (ACCESS_RIGHT.NON_PUBLIC, SEM.Confidential),
        "old_revenue": (ACCESS_RIGHT.NON_PUBLIC, SEM.Restricted),
    }
    for tid, (access, sensitivity) in expected.items():
        assert list(tiny.objects(TINY.term(tid), DCTERMS.accessRights)) == [access]
        assert list(tiny.objects(TINY.term(tid), SEM.sensitivity)) == [sensitivity]


def test_a_synonym_equal_to_the_label_is_not_an_alt_label(tiny: Graph) -> None:
    assert set(tiny.objects(TINY.term("revenue"), SKOS.altLabel)) == {
        Literal("Turnover", lang="en")
    }


def test_two_owners_give_two_attributions(tiny: Graph) -> None:
    agents = {
        tiny.value(a, PROV.agent)
        for a in tiny.objects(TINY.term("revenue"), PROV.qualifiedAttribution)
    }
    assert agents == {TINY.agent("finance"), TINY.agent("sales-ops")}


def test_a_filter_is_exported_and_is_part_of_the_lineage(tiny: Graph) -> None:
    old = TINY.term("old_revenue")
    assert tiny.value(old, SEM.filter) == Literal("region = 'EMEA'")
    assert set(tiny.objects(old, PROV.wasDerivedFrom)) == {
        TINY.column("orders", "amount"),
        TINY.term("region"),
    }


def test_a_declared_fill_value(tiny: Graph) -> None:
    assert tiny.value(TINY.term("revenue"), SEM.fillValue) == Literal("-1.5", datatype=XSD.decimal)
    assert tiny.value(TINY.term("old_revenue"), SEM.fillValue) is None


def test_a_path_through_a_reversed_relationship(tiny: Graph) -> None:
    path = tiny.value(TINY.term("order_amount"), SEM.path)
    assert path is not None
    (hop,) = list(Collection(tiny, path))
    assert hop == TINY.relationship("customers", "orders")
    declared = TINY.relationship("orders", "customers")
    assert tiny.value(hop, SEM.reverseOf) == declared
    assert tiny.value(hop, SEM.fromEntity) == TINY.entity("customers")
    assert tiny.value(hop, SEM.cardinality) == SEM.OneToMany
    assert (hop, RDF.type, CSVW.ForeignKey) not in tiny  # the foreign key is the declared one
    assert (declared, RDF.type, CSVW.ForeignKey) in tiny


def test_the_tiny_export_is_valid_rdf_in_every_format(tiny: Graph) -> None:
    for fmt in FORMATS:
        assert isomorphic(Graph().parse(data=serialize(tiny, fmt), format=fmt), tiny)


# --- meaning and lineage ----------------------------------------------------------------


def test_lineage_of_net_revenue(graph: Graph) -> None:
    assert set(graph.objects(term("net_revenue"), PROV.wasDerivedFrom)) == {
        column("lineitem", "l_extendedprice"),
        column("lineitem", "l_discount"),
    }


def test_lineage_of_profit_reaches_partsupp(graph: Graph) -> None:
    sources = set(graph.objects(term("profit"), PROV.wasDerivedFrom))
    assert sources == {
        column("lineitem", "l_extendedprice"),
        column("lineitem", "l_discount"),
        column("lineitem", "l_quantity"),
        column("partsupp", "ps_supplycost"),
    }
    assert set(graph.objects(term("profit"), SEM.representedBy)) == sources


def test_lineage_of_a_derived_metric_is_its_metrics(graph: Graph) -> None:
    assert set(graph.objects(term("average_order_value"), PROV.wasDerivedFrom)) == {
        term("net_revenue"),
        term("order_count"),
    }
    assert graph.value(term("average_order_value"), SEM.aggregatesEntity) is None


def test_a_term_that_reads_no_column_derives_from_its_dataset(graph: Graph) -> None:
    assert set(graph.objects(term("order_count"), PROV.wasDerivedFrom)) == {IRIS.entity("orders")}


def test_every_column_a_term_reads_is_exported(graph: Graph, model: Model) -> None:
    for t in model.terms.values():
        if t.entity is None:
            assert graph.value(term(t.id), SEM.representedBy) is None
            continue
        # the names inside MEASURE(...) PER (...) are terms, not columns (`model.perterms`)
        expected = {column(c.table or t.entity, c.name) for c in own_columns(t.expr)}
        assert set(graph.objects(term(t.id), SEM.representedBy)) == expected, t.id
        for iri in expected:
            assert (iri, RDF.type, CSVW.Column) in graph


def test_expressions_are_the_sql_as_written(graph: Graph) -> None:
    def expression(tid: str) -> str:
        return str(graph.value(term(tid), SEM.expression))

    assert expression("net_revenue") == "SUM(l_extendedprice * (1 - l_discount))"
    assert expression("average_order_value") == "net_revenue / order_count"  # no NULLIF
    assert expression("supplier_with_complaints") == "s_comment LIKE '%Customer%Complaints%'"
    assert graph.value(term("net_revenue"), SEM.aggregatesEntity) == IRIS.entity("lineitem")
    assert graph.value(term("customer_region"), SEM.describesEntity) == IRIS.entity("region")


def test_role_playing_path_and_grains(graph: Graph) -> None:
    path = graph.value(term("customer_region"), SEM.path)
    assert path is not None
    assert list(Collection(graph, path)) == [
        IRIS.relationship("customer", "nation"),
        IRIS.relationship("nation", "region"),
    ]
    grains = {str(g) for g in graph.objects(term("ship_date"), SEM.grain)}
    assert grains == {"day", "week", "month", "quarter", "year"}


def test_windows_and_shifts(graph: Graph) -> None:
    last3 = term("revenue_last_3_months")
    assert graph.value(last3, SEM.windowOver) == term("order_date")
    assert graph.value(last3, SEM.windowLast) == Literal(3, datatype=XSD.positiveInteger)
    assert graph.value(last3, SEM.periodGrain) == Literal("month")
    assert graph.value(term("revenue_year_to_date"), SEM.windowToDate) == Literal("year")
    running = term("cumulative_revenue")
    assert graph.value(running, SEM.windowOver) == term("order_date")
    assert graph.value(running, SEM.windowLast) is None
    assert graph.value(running, SEM.windowToDate) is None
    previous = term("revenue_previous_year")
    assert graph.value(previous, SEM.shiftAlong) == term("order_date")
    assert graph.value(previous, SEM.shiftPeriods) == Literal(1, datatype=XSD.positiveInteger)
    assert set(graph.objects(previous, PROV.wasDerivedFrom)) == {
        term("net_revenue"),
        term("order_date"),
    }


# --- the physical side ------------------------------------------------------------------


def test_entities_are_datasets_with_a_csvw_schema(graph: Graph, model: Model) -> None:
    assert set(graph.subjects(RDF.type, DCAT.Dataset)) == {IRIS.entity(e) for e in model.entities}
    for entity in model.entities.values():
        schema = graph.value(IRIS.entity(entity.id), CSVW.tableSchema)
        assert schema == IRIS.table_schema(entity.id)
        columns = list(Collection(graph, graph.value(schema, CSVW.column)))  # type: ignore[arg-type]
        assert columns == [column(entity.id, c) for c in entity.columns]
        keys = {str(k) for k in graph.objects(schema, CSVW.primaryKey)}
        assert keys == set(entity.primary_key)
        for name in entity.columns:
            assert graph.value(column(entity.id, name), CSVW.name) == Literal(name)


def test_column_datatypes(graph: Graph) -> None:
    def datatype(name: str) -> Node | None:
        return graph.value(column("lineitem", name), CSVW.datatype)

    assert datatype("l_quantity") == XSD.decimal
    assert datatype("l_orderkey") == XSD.long
    assert datatype("l_linenumber") == XSD.int
    assert datatype("l_shipdate") == XSD.date
    assert datatype("l_shipmode") == XSD.string
    sql_type = graph.value(column("lineitem", "l_quantity"), SEM.sqlType)
    assert sql_type == Literal("decimal(15,2)")


def join_pairs(graph: Graph, relationship: URIRef) -> set[tuple[str, str]]:
    pairs = set()
    for join in graph.objects(relationship, RR.joinCondition):
        assert (join, RDF.type, RR.Join) in graph
        pairs.add((str(graph.value(join, RR.child)), str(graph.value(join, RR.parent))))
    return pairs


def test_the_composite_relationship_has_two_join_conditions(graph: Graph) -> None:
    relationship = IRIS.relationship("lineitem", "partsupp")
    assert join_pairs(graph, relationship) == {
        ("l_partkey", "ps_partkey"),
        ("l_suppkey", "ps_suppkey"),
    }
    assert graph.value(relationship, SEM.fromEntity) == IRIS.entity("lineitem")
    assert graph.value(relationship, SEM.toEntity) == IRIS.entity("partsupp")
    assert graph.value(relationship, SEM.cardinality) == SEM.ManyToOne
    # as a CSVW foreign key, the two column lists stay paired by position
    assert (IRIS.table_schema("lineitem"), CSVW.foreignKey, relationship) in graph
    own = graph.value(relationship, CSVW.columnReference)
    reference = graph.value(relationship, CSVW.reference)
    theirs = graph.value(reference, CSVW.columnReference)
    assert [str(c) for c in Collection(graph, own)] == ["l_partkey", "l_suppkey"]  # type: ignore[arg-type]
    assert [str(c) for c in Collection(graph, theirs)] == ["ps_partkey", "ps_suppkey"]  # type: ignore[arg-type]
    target = graph.value(reference, CSVW.resource)
    assert target == Literal(str(IRIS.entity("partsupp")), datatype=XSD.anyURI)


def test_one_resource_per_declared_relationship(graph: Graph, model: Model) -> None:
    declared = [e for edges in model.edges.values() for e in edges if e.declared]
    assert set(graph.subjects(RDF.type, SEM.Relationship)) == {
        IRIS.relationship(e.source, e.name) for e in declared
    }
    for edge in declared:
        relationship = IRIS.relationship(edge.source, edge.name)
        assert join_pairs(graph, relationship) == set(edge.keys)
        assert graph.value(relationship, DCTERMS.identifier) == Literal(edge.hop)


def test_blank_nodes_are_few_and_each_belongs_to_one_resource(graph: Graph) -> None:
    blanks = {n for triple in graph for n in triple if isinstance(n, BNode)}
    for blank in blanks:
        assert len(list(graph.subjects(None, blank))) == 1, blank


# --- the vocabulary ---------------------------------------------------------------------


def ontology() -> Graph:
    return Graph().parse(ONTOLOGY, format="turtle")


def test_the_ontology_and_the_namespace_declare_the_same_terms() -> None:
    declared = {s for s in ontology().subjects() if str(s).startswith(SEMANTIC_NS)}
    in_python = set(dir(SEM))
    assert declared - in_python == set(), "in ontology/semantic.ttl, missing from SEM"
    assert in_python - declared == set(), "in SEM, missing from ontology/semantic.ttl"


def test_every_term_of_the_ontology_is_typed_labelled_and_commented() -> None:
    graph = ontology()
    allowed = {
        OWL.Class,
        OWL.ObjectProperty,
        OWL.DatatypeProperty,
        OWL.NamedIndividual,
        SKOS.Concept,
        SKOS.ConceptScheme,
        DCAT.Role,
        PROV.Role,
    }
    for iri in map(URIRef, dir(SEM)):
        types = set(graph.objects(iri, RDF.type))
        assert types and types <= allowed, iri
        (label,) = graph.objects(iri, RDFS.label)
        (comment,) = graph.objects(iri, RDFS.comment)
        assert label.language == comment.language == "en", iri  # type: ignore[attr-defined]
    for prop in graph.subjects(RDF.type, OWL.ObjectProperty):
        assert graph.value(prop, RDFS.range) is not None, prop


def test_the_export_uses_only_declared_terms_of_ours(graph: Graph) -> None:
    used = {n for triple in graph for n in triple if str(n).startswith(SEMANTIC_NS)}
    assert used <= set(dir(SEM))


def test_the_scheme_concepts_carry_the_file_keywords() -> None:
    graph = ontology()
    notation = {str(graph.value(c, SKOS.notation)): c for c in graph.subjects(SKOS.inScheme, None)}
    assert notation == {
        "draft": SEM.Draft,
        "approved": SEM.Approved,
        "deprecated": SEM.Deprecated,
        "public": SEM.Public,
        "internal": SEM.Internal,
        "confidential": SEM.Confidential,
        "restricted": SEM.Restricted,
        "many_to_one": SEM.ManyToOne,
        "one_to_one": SEM.OneToOne,
        "one_to_many": SEM.OneToMany,
    }


# --- docs/rdf.md tells the truth ----------------------------------------------------------


def fenced(tag: str) -> Iterator[str]:
    """The text of each ```tag block of docs/rdf.md."""
    text = RDF_DOC.read_text(encoding="utf-8")
    yield from re.findall(rf"^```{tag}\n(.*?)^```", text, flags=re.M | re.S)


def test_the_doc_documents_every_term_of_our_vocabulary() -> None:
    text = RDF_DOC.read_text(encoding="utf-8")
    missing = [iri for iri in dir(SEM) if f"sem:{iri.removeprefix(SEMANTIC_NS)}`" not in text]
    assert missing == []


def test_the_turtle_excerpts_of_the_doc_are_real_output(graph: Graph) -> None:
    header, *excerpts = fenced("turtle")
    turtle = serialize(graph)
    assert turtle.startswith(header + "\n")
    assert len(excerpts) == 4
    for excerpt in excerpts:
        shown = Graph().parse(data=header + excerpt, format="turtle")
        subjects = {s for s in shown.subjects() if isinstance(s, URIRef)}
        assert subjects
        real = Graph()
        for subject in subjects:
            real += graph.cbd(subject)
        assert isomorphic(shown, real), sorted(subjects)
        # and the text itself, comments aside, is what the export writes
        for block in excerpt.split("\n\n"):
            lines = [re.sub(r"\s+# .*$", "", line) for line in block.splitlines()]
            assert "\n".join(lines) in turtle


def finance_metrics(model: Model) -> set[str]:
    return {t.id for t in model.terms.values() if t.is_metric and "finance" in t.owners}


def without_french(model: Model) -> set[str]:
    return {t.id for t in model.terms.values() if not any(k.startswith("fr") for k in t.labels)}


def columns_behind(model: Model, tid: str) -> set[tuple[str, ...]]:
    """(entity, column) of the columns a term reads, through the metrics it combines."""
    t = model.terms[tid]
    found: set[tuple[str, ...]] = set()
    if t.entity is not None:
        found = {(c.table or t.entity, c.name) for c in t.expr.find_all(exp.Column)}
    for ref in t.refs:
        found |= columns_behind(model, ref)
    return found


#: What each query of docs/rdf.md (named by its first line) must return: a function of the
#: model, so that the expectation follows the glossary files.
QUERIES: dict[str, Callable[[Model], set[tuple[str, ...]]]] = {
    "# All metrics owned by finance": lambda m: {(t,) for t in finance_metrics(m)},
    "# Terms whose French label is missing": lambda m: {(t,) for t in without_french(m)},
    "# Columns a metric is computed from": lambda m: columns_behind(m, "average_order_value"),
}


def run(graph: Graph, query: str, width: int) -> set[tuple[str, ...]]:
    return {tuple(str(v) for v in row[:width]) for row in graph.query(query)}  # type: ignore[index]


def test_the_sparql_queries_of_the_doc_give_the_right_answers(graph: Graph, model: Model) -> None:
    queries = {q.splitlines()[0]: q for q in fenced("sparql")}
    assert set(queries) == set(QUERIES)
    for title, query in queries.items():
        expected = QUERIES[title](model)
        width = len(next(iter(expected))) if expected else 1
        assert run(graph, query, width) == expected, title
    assert len(QUERIES["# All metrics owned by finance"](model)) > 10  # a real check


def test_the_missing_french_label_query_finds_them(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/m.yml": TINY_MODEL, "glossary/g.yml": TINY_GLOSSARY})
    model = Project.load(tmp_path).model
    tiny = export_graph(model)
    query = next(q for q in fenced("sparql") if q.startswith("# Terms whose French"))
    assert run(tiny, query, 1) == {("old_revenue",)} == {(t,) for t in without_french(model)}


# --- hierarchy, matches, notes, replacements and quality --------------------------------------


def test_hierarchy_goes_both_ways_and_only_roots_are_top_concepts(
    graph: Graph, model: Model
) -> None:
    for t in model.terms.values():
        for parent in t.broader:
            assert (term(t.id), SKOS.broader, term(parent)) in graph
            assert (term(parent), SKOS.narrower, term(t.id)) in graph
    assert (term("customer_nation"), SKOS.topConceptOf, IRIS.scheme("customers")) not in graph
    assert (term("customer_region"), SKOS.topConceptOf, IRIS.scheme("customers")) in graph


def test_related_matches_notes_and_misspellings(graph: Graph) -> None:
    assert (term("gross_revenue"), SKOS.related, term("net_revenue")) in graph
    assert (term("net_revenue"), SKOS.related, term("gross_revenue")) in graph
    assert (term("order_date"), SKOS.closeMatch, URIRef("https://schema.org/orderDate")) in graph
    hidden = set(graph.objects(term("net_revenue"), SKOS.hiddenLabel))
    assert Literal("chiffre d'affaire net", lang="fr") in hidden
    assert len(set(graph.objects(term("net_revenue"), SKOS.scopeNote))) == 2
    assert len(set(graph.objects(term("net_revenue"), SKOS.example))) == 1


def test_deprecated_term_points_to_its_replacement(graph: Graph) -> None:
    old, new = term("sales_amount"), term("gross_revenue")
    assert (old, OWL.deprecated, Literal(True)) in graph
    assert (old, DCTERMS.isReplacedBy, new) in graph
    assert (new, DCTERMS.replaces, old) in graph


def test_quality_rules_are_dqv_metrics_in_their_dimensions(graph: Graph, model: Model) -> None:
    dqv = "http://www.w3.org/ns/dqv#"
    rules = [(e.id, r) for e in model.entities.values() for r in e.quality]
    rules += [(t.id, r) for t in model.terms.values() for r in t.quality]
    assert len(rules) == 12
    for owner, rule in rules:
        metric = IRIS.quality_metric(owner, rule.id)
        assert (metric, RDF.type, URIRef(dqv + "Metric")) in graph
        dimension = IRIS.quality_dimension(rule.dimension)
        assert (metric, URIRef(dqv + "inDimension"), dimension) in graph
        assert (dimension, RDF.type, URIRef(dqv + "Dimension")) in graph
        assert (metric, SEM.check, Literal(rule.text)) in graph
    assert (
        term("customer_phone"),
        SEM.qualityRule,
        IRIS.quality_metric("customer_phone", "phone_is_well_formed"),
    ) in graph


def test_measurements_carry_the_share_of_rows_that_pass(project: Project) -> None:
    from semantic.outputs.rdf.export import add_measurements

    graph = export_graph(project.model)
    add_measurements(graph, default_base("tpch"), project_quality(project))
    dqv = "http://www.w3.org/ns/dqv#"
    measurement = IRIS.measurement("lineitem", "discount_is_a_rate")
    assert (
        measurement,
        URIRef(dqv + "isMeasurementOf"),
        IRIS.quality_metric("lineitem", "discount_is_a_rate"),
    ) in graph
    assert (measurement, URIRef(dqv + "computedOn"), IRIS.entity("lineitem")) in graph
    assert graph.value(measurement, URIRef(dqv + "value")).toPython() == 1.0


# --- subject areas ----------------------------------------------------------------------


def test_each_subject_area_is_a_collection_of_its_terms(graph: Graph, model: Model) -> None:
    areas = set(graph.subjects(RDF.type, SEM.SubjectArea))
    assert areas == {IRIS.subject_area(sid) for sid in model.subject_areas} != set()
    for sid, area in model.subject_areas.items():
        node = IRIS.subject_area(sid)
        assert (node, RDF.type, SKOS.Collection) in graph
        assert graph.value(node, DCTERMS.identifier) == Literal(sid)
        assert graph.value(node, DCTERMS.isPartOf) == IRIS.scheme(area.domain)
        labels = {(o.language, str(o)) for o in graph.objects(node, SKOS.prefLabel)}  # type: ignore[attr-defined]
        assert labels == set(area.labels.items())
        definitions = {(o.language, str(o)) for o in graph.objects(node, SKOS.definition)}  # type: ignore[attr-defined]
        assert definitions == set(area.definition.items())
        named = {d.partition(".")[0] for d in area.dimensions} | {*area.metrics, *area.segments}
        assert set(graph.objects(node, SKOS.member)) == {term(t) for t in named}
        metrics = list(Collection(graph, graph.value(node, SEM.areaMetrics)))
        assert metrics == [term(m) for m in area.metrics]
        written = []
        for item in Collection(graph, graph.value(node, SEM.areaDimensions)):
            dimension = graph.value(item, SEM.dimensionTerm)
            grain = graph.value(item, SEM.areaGrain)
            text = str(graph.value(dimension, DCTERMS.identifier))
            written.append(f"{text}.{grain}" if grain is not None else text)
        assert written == list(area.dimensions)
        owners = {
            graph.value(a, PROV.agent) for a in graph.objects(node, PROV.qualifiedAttribution)
        }
        assert owners == {IRIS.agent(o) for o in area.owners}
        assert all((o, RDF.type, PROV.Agent) in graph for o in owners)


def test_a_subject_area_filter_grain_and_segments(graph: Graph, tmp_path: Path) -> None:
    yearly = IRIS.subject_area("yearly_sales")
    assert graph.value(yearly, SEM.areaFilter) == Literal("order_status = 'F'")
    (item,) = Collection(graph, graph.value(yearly, SEM.areaDimensions))
    assert graph.value(item, SEM.areaGrain) == Literal("year")
    assert graph.value(item, SEM.dimensionTerm) == term("order_date")
    bookshop = Project.load(ROOT / "examples" / "bookshop").model
    shop = export_graph(bookshop, "https://shop.example.com/")
    web = URIRef("https://shop.example.com/subject-area/web_sales_by_city")
    segments = list(Collection(shop, shop.value(web, SEM.areaSegments)))
    assert segments == [URIRef("https://shop.example.com/term/web_sales")]
    assert URIRef("https://shop.example.com/term/web_sales") in set(shop.objects(web, SKOS.member))
    labels = {str(o) for o in shop.objects(web, SKOS.prefLabel)}
    assert labels == {"Web sales by city", "Ventas web por ciudad"}
