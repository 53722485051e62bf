"""The RDF export of the kinds of terms beyond an expression over one entity: semi-additive
metrics (their time dimension and period value), conversion metrics, dimensions and
segments per entity, metrics at another grain. Each export is written as Turtle, parsed
back with rdflib, read with SPARQL, and validated against the shipped SHACL shapes (which
refuse a broken one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal, URIRef

from semantic.outputs.rdf.export import export_graph, serialize
from semantic.outputs.rdf.iris import Iris, default_base
from semantic.outputs.rdf.validate import validate_graph
from semantic.outputs.rdf.vocab import SEM
from semantic.project import Project
from tests.projects import write_project
from tests.soundness.test_conversion import GLOSSARY as CONVERSION_GLOSSARY
from tests.soundness.test_conversion import MODEL as CONVERSION_MODEL

MODEL = """
entities:
  stock:
    primary_key: [id]
    columns: {id: {type: integer}, day: {type: date}, shop_id: {type: integer},
              quantity: {type: integer}}
    relationships:
      - {to: shops, cardinality: many_to_one, keys: {shop_id: id}}
  shops:
    primary_key: [id]
    columns: {id: {type: integer}, town: {type: varchar}}
"""

GLOSSARY = """
domain: d
terms:
  day: {label: {en: Day}, time_dimension: {entity: stock, expr: day}}
  town: {label: {en: Town}, dimension: {entity: shops, expr: town}}
  quantity: {label: {en: Quantity}, metric: {entity: stock, expr: sum(quantity)}}
  opening_stock:
    label: {en: Opening stock, fr: Stock d'ouverture}
    metric:
      entity: stock
      expr: sum(quantity)
      semi_additive: {time: day, period_value: first}
  shop_quantity:
    label: {en: Shop quantity, fr: Quantité du magasin}
    dimension:
      entity: shops
      expr: MEASURE(quantity) FILTER (WHERE day.year = DATE '2024-01-01') PER (shops)
  empty_shop:
    label: {en: Empty shop}
    segment: {entity: shops, condition: MEASURE(quantity) PER (shops) = 0}
  town_share:
    label: {en: Share of the town}
    metric: {expr: "quantity / MEASURE(quantity) PER (* EXCLUDE day)"}
"""


def _parsed_back(root: Path) -> tuple[Graph, Iris]:
    """The project's export written as Turtle and read back by rdflib."""
    graph = export_graph(Project.load(root).model)
    back = Graph().parse(data=serialize(graph, "turtle"), format="turtle")
    assert len(back) == len(graph)
    return back, Iris(default_base("tiny"))


@pytest.fixture(scope="module")
def stock(tmp_path_factory: pytest.TempPathFactory) -> tuple[Graph, Iris]:
    root = tmp_path_factory.mktemp("rdf-stock")
    write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY})
    return _parsed_back(root)


def test_a_semi_additive_metric_names_its_time_dimension_and_period_value(
    stock: tuple[Graph, Iris],
) -> None:
    graph, iris = stock
    metric = iris.term("opening_stock")
    assert (metric, RDF.type, SEM.SemiAdditiveMetric) in graph
    assert (metric, RDF.type, SEM.Metric) in graph
    assert graph.value(metric, SEM.semiAdditiveOver) == iris.term("day")
    assert graph.value(metric, SEM.periodValue) == Literal("first")
    assert (iris.term("quantity"), RDF.type, SEM.SemiAdditiveMetric) not in graph


def test_measures_per_entity_and_at_another_grain_are_read_back_with_sparql(
    stock: tuple[Graph, Iris],
) -> None:
    graph, iris = stock
    rows = graph.query(
        """
        SELECT ?term ?mode ?metric ?entity ?dimension ?filter WHERE {
            ?term sem:measures ?m .
            ?m a sem:MeasureAtGrain ; sem:grainMode ?mode ; sem:measuredMetric ?metric .
            OPTIONAL { ?m sem:perEntity ?entity }
            OPTIONAL { ?m sem:grainDimension ?dimension }
            OPTIONAL { ?m sem:measureFilter ?filter }
        }""",
        initNs={"sem": SEM._NS},
    )
    got = {
        tuple(str(v).rsplit("/", 1)[-1] if isinstance(v, URIRef) else v for v in row)  # type: ignore[union-attr]
        for row in rows
    }
    assert got == {
        (
            "shop_quantity",
            Literal("ENTITY"),
            "quantity",
            "shops",
            None,
            Literal("day.year = CAST('2024-01-01' AS DATE)"),
        ),
        ("empty_shop", Literal("ENTITY"), "quantity", "shops", None, None),
        ("town_share", Literal("EXCLUDE"), "quantity", None, "day", None),
    }
    assert (iris.term("shop_quantity"), RDF.type, SEM.PerEntityDimension) in graph
    assert (iris.term("town_share"), RDF.type, SEM.MetricAtAnotherGrain) in graph
    # what it measures is a term it derives from, not a column of its dataset
    assert graph.value(iris.term("shop_quantity"), SEM.representedBy) is None
    assert (
        iris.term("shop_quantity"),
        URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"),
        iris.term("quantity"),
    ) in graph


def test_the_shapes_accept_the_new_kinds_and_refuse_a_broken_one(
    stock: tuple[Graph, Iris],
) -> None:
    graph, iris = stock
    assert validate_graph(graph).conforms, validate_graph(graph).problems
    broken = Graph() + graph
    broken.remove((iris.term("opening_stock"), SEM.periodValue, None))
    broken.add((iris.term("opening_stock"), SEM.periodValue, Literal("median")))
    measure = broken.value(iris.term("town_share"), SEM.measures)
    broken.remove((measure, SEM.grainMode, None))
    result = validate_graph(broken)
    assert not result.conforms
    messages = " ".join(p.message for p in result.problems)
    assert "sem:periodValue" in messages and "sem:grainMode" in messages


def test_a_conversion_metric_names_its_events_times_and_window(tmp_path: Path) -> None:
    write_project(
        tmp_path, {"models/m.yml": CONVERSION_MODEL, "glossary/g.yml": CONVERSION_GLOSSARY}
    )
    graph, iris = _parsed_back(tmp_path)
    metric = iris.term("conversions_1w")
    assert (metric, RDF.type, SEM.ConversionMetric) in graph
    assert graph.value(metric, SEM.conversionMetric) == iris.term("order_count")
    assert graph.value(metric, SEM.conversionEntity) == iris.entity("customers")
    assert graph.value(metric, SEM.baseTime) == iris.term("visit_day")
    assert graph.value(metric, SEM.conversionTime) == iris.term("order_day")
    assert graph.value(metric, SEM.calculation) == Literal("conversions")
    assert graph.value(metric, SEM.windowLast).toPython() == 1  # type: ignore[union-attr]
    assert graph.value(metric, SEM.periodGrain) == Literal("week")
    assert validate_graph(graph).conforms, validate_graph(graph).problems
    pair = graph.value(iris.term("same_channel_buyers"), SEM.constantProperty)
    assert graph.value(pair, SEM.baseDimension) == iris.term("visit_channel")
    assert graph.value(pair, SEM.conversionDimension) == iris.term("order_channel")
