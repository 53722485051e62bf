"""The SHACL shapes of the RDF export (src/semantic/outputs/rdf/shapes.ttl), run with pyshacl: the
TPC-H export conforms, and copies of it broken on purpose fail with the expected message, on
the expected resource, and with nothing else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SH, SKOS
from rdflib.paths import MulPath, SequencePath

from semantic.outputs.quality import project_quality
from semantic.outputs.rdf.export import add_measurements, export_graph, serialize
from semantic.outputs.rdf.iris import Iris, default_base
from semantic.outputs.rdf.validate import Problem, ValidationResult, shapes_graph, validate_graph
from semantic.outputs.rdf.vocab import DQV, RR, SEM
from semantic.project import Project
from tests.projects import write_project

ROOT = Path(__file__).resolve().parents[1]
IRIS = Iris(default_base("tpch"))


@pytest.fixture(scope="module")
def export() -> Graph:
    """The TPC-H export, shared: every test breaks a copy of it."""
    return export_graph(Project.load(ROOT).model)


def term(tid: str) -> URIRef:
    return IRIS.term(tid)


def copy_of(graph: Graph) -> Graph:
    copy = Graph()
    for triple in graph:
        copy.add(triple)
    return copy


def add_broader(graph: Graph, narrower: str, broader: str) -> None:
    """`narrower` gets the broader term `broader`, both directions, as the export writes it: a
    term with a broader term is no longer a top concept."""
    graph.add((term(narrower), SKOS.broader, term(broader)))
    graph.add((term(broader), SKOS.narrower, term(narrower)))
    for scheme in list(graph.objects(term(narrower), SKOS.topConceptOf)):
        graph.remove((term(narrower), SKOS.topConceptOf, scheme))
        graph.remove((scheme, SKOS.hasTopConcept, term(narrower)))


def add_related(graph: Graph, one: str, other: str) -> None:
    graph.add((term(one), SKOS.related, term(other)))
    graph.add((term(other), SKOS.related, term(one)))


def replace(graph: Graph, subject: URIRef, predicate: URIRef, new: Literal | URIRef) -> None:
    graph.remove((subject, predicate, None))
    graph.add((subject, predicate, new))


def join_condition(graph: Graph, relationship: URIRef, child: str) -> BNode:
    node = next(
        j
        for j in graph.objects(relationship, RR.joinCondition)
        if (j, RR.child, Literal(child)) in graph
    )
    assert isinstance(node, BNode)
    return node


# --- the export conforms ------------------------------------------------------------------


def test_the_tpch_export_conforms(export: Graph) -> None:
    result = validate_graph(export)
    assert result == ValidationResult(conforms=True, problems=())


def test_the_turtle_file_conforms_too(export: Graph) -> None:
    """What a catalog reads back from `semantic export rdf --output tpch.ttl`."""
    parsed = Graph().parse(data=serialize(export), format="turtle")
    assert validate_graph(parsed).conforms


def test_validation_does_not_change_the_graph(export: Graph) -> None:
    before = set(export)
    validate_graph(export)
    assert set(export) == before


def test_every_shape_and_constraint_explains_itself() -> None:
    """A modeler reads the message of what failed, and the comment of the shape to know why."""
    shapes = shapes_graph()
    targets = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
    targeted = {s for target in targets for s in shapes.subjects(target, None)}
    named = {
        node
        for kind in (SH.NodeShape, SH.PropertyShape, SH.SPARQLConstraint)
        for node in shapes.subjects(RDF.type, kind)
        if isinstance(node, URIRef)
    }
    assert len(targeted) > 15 and len(named) > 40
    assert [n for n in named if shapes.value(n, RDFS.comment) is None] == []
    # what produces a result has a message: the property shapes of targeted shapes, targeted
    # shapes with constraints of their own, SPARQL constraints
    producing = {p for shape in targeted for p in shapes.objects(shape, SH.property)}
    producing |= {s for s in targeted if (s, SH["or"], None) in shapes}
    producing |= {s for s in targeted if (s, SH["not"], None) in shapes}
    producing |= set(shapes.subjects(RDF.type, SH.SPARQLConstraint))
    assert [n for n in producing if shapes.value(n, SH.message) is None] == []


def test_the_shapes_ship_with_the_package() -> None:
    """shapes.ttl is read with importlib.resources, as from an installed wheel."""
    assert (None, SH.targetClass, SKOS.Concept) in shapes_graph()


def test_the_export_with_quality_measurements_conforms(project: Project) -> None:
    """`semantic export rdf --quality` adds one dqv:QualityMeasurement per rule."""
    graph = export_graph(project.model)
    add_measurements(graph, default_base(project.model.name), project_quality(project))
    assert (None, RDF.type, DQV.QualityMeasurement) in graph
    assert validate_graph(graph) == ValidationResult(conforms=True, problems=())


#: What TPC-H does not show: a public term, a segment, several owners, a relationship followed
#: backwards in a path, a term in one language only, and a replacement on a term that is not
#: deprecated (the glossary only warns about it, SEM208).
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
      ordered_at: {type: date}
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
  ordered_at:
    label: {en: Order date}
    time_dimension: {entity: orders, expr: ordered_at, grains: [month, year]}
  revenue:
    label: {en: Revenue, fr: Chiffre d'affaires}
    synonyms: {en: [Revenue, Turnover]}
    owners: [finance, sales-ops]
    confidentiality: restricted
    metric: {entity: orders, expr: sum(amount), fill_null: 0}
  old_revenue:
    label: {en: Old revenue}
    status: approved
    replaced_by: revenue
    metric: {entity: orders, expr: sum(amount)}
  big_orders:
    label: {en: Big orders}
    segment: {entity: orders, condition: amount > 100}
  order_amount:
    label: {en: Order amount}
    dimension: {entity: orders, expr: amount, path: [customers.orders]}
"""


def test_a_tiny_export_conforms_with_one_warning(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"models/m.yml": TINY_MODEL, "glossary/g.yml": TINY_GLOSSARY})
    graph = export_graph(Project.load(root).model, "https://data.example.com/tiny/")
    assert (None, SEM.reverseOf, None) in graph
    result = validate_graph(graph)
    assert result.conforms
    [warning] = result.problems
    assert warning.severity == "warning"
    assert warning.focus_node == Iris("https://data.example.com/tiny/").term("old_revenue")


# --- broken copies fail -------------------------------------------------------------------


@dataclass(frozen=True)
class Broken:
    """A way to break the export, and the problems it must cause: (focus node, path, part of
    the message)."""

    name: str
    breaks: Callable[[Graph], object]
    expected: list[tuple[object, object, str]]


NET_REVENUE = term("net_revenue")
LINEITEM_ORDERS = IRIS.relationship("lineitem", "orders")
LINEITEM_PARTSUPP = IRIS.relationship("lineitem", "partsupp")


YEARLY_SALES = IRIS.subject_area("yearly_sales")
SALES_BY_CUSTOMER = IRIS.subject_area("sales_by_customer")
AREA_METRICS = SequencePath(SEM.areaMetrics, MulPath(RDF.rest, "*"), RDF.first)
AREA_DIMENSIONS = SequencePath(SEM.areaDimensions, MulPath(RDF.rest, "*"), RDF.first)


def _a_dimension_among_metrics(graph: Graph) -> None:
    head = graph.value(YEARLY_SALES, SEM.areaMetrics)
    replace(graph, head, RDF.first, term("customer_region"))  # type: ignore[arg-type]


def _a_metric_among_dimensions(graph: Graph) -> None:
    head = graph.value(SALES_BY_CUSTOMER, SEM.areaDimensions)
    item = graph.value(head, RDF.first)
    replace(graph, item, SEM.dimensionTerm, NET_REVENUE)  # type: ignore[arg-type]


def _without_parent(graph: Graph) -> None:
    graph.remove((join_condition(graph, LINEITEM_PARTSUPP, "l_suppkey"), RR.parent, None))


def _related_to_a_broader_term(graph: Graph) -> None:
    add_broader(graph, "line_count", "order_count")
    add_broader(graph, "order_count", "customer_count")
    add_related(graph, "line_count", "customer_count")


def _cycle(graph: Graph) -> None:
    add_broader(graph, "part_brand", "part_manufacturer")
    add_broader(graph, "part_manufacturer", "part_brand")


BROKEN = [
    Broken(
        "a subject area without metrics",
        lambda g: g.remove((YEARLY_SALES, SEM.areaMetrics, None)),
        [
            (YEARLY_SALES, SEM.areaMetrics, "exactly one list of metrics"),
            (YEARLY_SALES, AREA_METRICS, "is a metric (sem:Metric)"),
        ],
    ),
    Broken(
        "a dimension listed among the metrics of a subject area",
        _a_dimension_among_metrics,
        [(YEARLY_SALES, AREA_METRICS, "is a metric (sem:Metric)")],
    ),
    Broken(
        "a metric listed among the dimensions of a subject area",
        _a_metric_among_dimensions,
        [(SALES_BY_CUSTOMER, AREA_DIMENSIONS, "names one dimension or time dimension")],
    ),
    Broken(
        "a subject area in no domain",
        lambda g: g.remove((YEARLY_SALES, DCTERMS.isPartOf, None)),
        [(YEARLY_SALES, DCTERMS.isPartOf, "part of (dct:isPartOf) the domain")],
    ),
    Broken(
        "two English preferred labels",
        lambda g: g.add((NET_REVENUE, SKOS.prefLabel, Literal("Revenue", lang="en"))),
        [(NET_REVENUE, SKOS.prefLabel, "at most one per language")],
    ),
    Broken(
        "a preferred label that is also a synonym",
        lambda g: g.add((NET_REVENUE, SKOS.altLabel, Literal("Net revenue", lang="en"))),
        [(NET_REVENUE, SKOS.prefLabel, "preferred label (skos:prefLabel) and also a synonym")],
    ),
    Broken(
        "a synonym that is also a misspelling",
        lambda g: g.add((NET_REVENUE, SKOS.hiddenLabel, Literal("revenue", lang="en"))),
        [(NET_REVENUE, SKOS.altLabel, "both a synonym (skos:altLabel) and a misspelling")],
    ),
    Broken(
        "a preferred label without language",
        lambda g: (
            g.remove((NET_REVENUE, SKOS.prefLabel, Literal("Net revenue", lang="en"))),
            g.add((NET_REVENUE, SKOS.prefLabel, Literal("Net revenue"))),
        ),
        [(NET_REVENUE, SKOS.prefLabel, "tagged with its language")],
    ),
    Broken(
        "related to a term two levels up",
        _related_to_a_broader_term,
        [
            (
                term("line_count"),
                MulPath(SKOS.broader, "+"),
                "related (skos:related) to one of its",
            )
        ],
    ),
    Broken(
        "a cycle of broader terms",
        _cycle,
        [
            (term("part_brand"), None, "The term part_brand is broader than itself"),
            (term("part_manufacturer"), None, "The term part_manufacturer is broader than itself"),
        ],
    ),
    Broken(
        "a broader term without narrower back",
        lambda g: g.remove((term("net_revenue"), SKOS.narrower, term("cumulative_revenue"))),
        [(term("cumulative_revenue"), ~SKOS.narrower, "stated in one direction only")],
    ),
    Broken(
        "related in one direction",
        lambda g: g.remove((term("charge"), SKOS.related, NET_REVENUE)),
        [  # reported at both ends: each has the link in one direction only
            (term("charge"), ~SKOS.related, "related link between this term and the other one"),
            (NET_REVENUE, ~SKOS.related, "related link between this term and the other one"),
        ],
    ),
    Broken(
        "a top concept with a broader term",
        lambda g: (
            g.add((term("cumulative_revenue"), SKOS.topConceptOf, IRIS.scheme("sales"))),
            g.add((IRIS.scheme("sales"), SKOS.hasTopConcept, term("cumulative_revenue"))),
        ),
        [(term("cumulative_revenue"), SKOS.broader / SKOS.inScheme, "not one of its top")],
    ),
    Broken(
        "a term without identifier",
        lambda g: g.remove((NET_REVENUE, DCTERMS.identifier, None)),
        [(NET_REVENUE, DCTERMS.identifier, "exactly one dct:identifier")],
    ),
    Broken(
        "an identifier that is not snake_case",
        lambda g: replace(g, NET_REVENUE, DCTERMS.identifier, Literal("Net revenue")),
        [(NET_REVENUE, DCTERMS.identifier, "snake_case")],
    ),
    Broken(
        "a term without status",
        lambda g: g.remove((term("order_count"), SEM.status, None)),
        [(term("order_count"), SEM.status, "exactly one status")],
    ),
    Broken(
        "deprecated for OWL tools only",
        lambda g: replace(g, term("sales_amount"), SEM.status, SEM.Approved),
        [(term("sales_amount"), None, "deprecated in one place only")],
    ),
    Broken(
        "access rights that contradict the sensitivity",
        lambda g: replace(g, NET_REVENUE, SEM.sensitivity, SEM.Public),
        [(NET_REVENUE, None, "do not match its sensitivity")],
    ),
    Broken(
        "a metric without expression",
        lambda g: g.remove((NET_REVENUE, SEM.expression, None)),
        [(NET_REVENUE, SEM.expression, "exactly one SQL expression")],
    ),
    Broken(
        "a metric with neither dataset nor metrics",
        lambda g: g.remove((NET_REVENUE, SEM.aggregatesEntity, None)),
        [(NET_REVENUE, None, "either aggregates a dataset")],
    ),
    Broken(
        "a dimension without dataset",
        lambda g: g.remove((term("order_priority"), SEM.describesEntity, None)),
        [(term("order_priority"), SEM.describesEntity, "describes exactly one dataset")],
    ),
    Broken(
        "a relationship without cardinality",
        lambda g: g.remove((LINEITEM_ORDERS, SEM.cardinality, None)),
        [(LINEITEM_ORDERS, SEM.cardinality, "exactly one cardinality")],
    ),
    Broken(
        "a join condition without parent",
        _without_parent,
        [(LINEITEM_PARTSUPP, RR.joinCondition, "exactly one rr:child")],
    ),
    Broken(
        "a relationship without join condition",
        lambda g: g.remove((LINEITEM_ORDERS, RR.joinCondition, None)),
        [(LINEITEM_ORDERS, RR.joinCondition, "at least one join condition")],
    ),
    Broken(
        "a dataset without table",
        lambda g: g.remove((IRIS.entity("orders"), SEM.tableName, None)),
        [(IRIS.entity("orders"), SEM.tableName, "exactly one physical table")],
    ),
    Broken(
        "a quality rule outside any dimension",
        lambda g: g.remove(
            (IRIS.quality_metric("lineitem", "discount_is_a_rate"), DQV.inDimension, None)
        ),
        [
            (
                IRIS.quality_metric("lineitem", "discount_is_a_rate"),
                DQV.inDimension,
                "exactly one quality dimension",
            )
        ],
    ),
]


@pytest.mark.parametrize("broken", BROKEN, ids=lambda b: b.name)
def test_a_broken_export_fails(export: Graph, broken: Broken) -> None:
    graph = copy_of(export)
    broken.breaks(graph)
    result = validate_graph(graph)
    assert not result.conforms
    assert [(p.focus_node, p.path) for p in result.problems] == [
        (focus, path) for focus, path, _ in broken.expected
    ]
    for problem, (_, _, message) in zip(result.problems, broken.expected, strict=True):
        assert message in problem.message
        assert problem.severity == "violation"


def test_a_replaced_term_that_is_not_deprecated_is_only_a_warning(export: Graph) -> None:
    """The glossary only warns about it (SEM208), so the shapes do too: the export conforms."""
    graph = copy_of(export)
    graph.add((term("gross_revenue"), DCTERMS.isReplacedBy, NET_REVENUE))
    result = validate_graph(graph)
    assert result.conforms
    [warning] = result.problems
    assert warning.focus_node == term("gross_revenue")
    assert warning.path == OWL.deprecated
    assert warning.severity == "warning"
    assert "names a replacement (dct:isReplacedBy) but is not deprecated" in warning.message


def test_a_join_condition_problem_names_the_join(export: Graph) -> None:
    graph = copy_of(export)
    _without_parent(graph)
    [problem] = validate_graph(graph).problems
    assert problem.value == join_condition(graph, LINEITEM_PARTSUPP, "l_suppkey")


def test_problems_are_sorted_violations_first(export: Graph) -> None:
    graph = copy_of(export)
    graph.add((term("gross_revenue"), DCTERMS.isReplacedBy, NET_REVENUE))
    graph.remove((term("order_count"), SEM.status, None))
    graph.remove((NET_REVENUE, SEM.expression, None))
    problems = validate_graph(graph).problems
    assert [(p.severity, p.focus_node) for p in problems] == [
        ("violation", NET_REVENUE),
        ("violation", term("order_count")),
        ("warning", term("gross_revenue")),
    ]
    assert all(isinstance(p, Problem) for p in problems)
