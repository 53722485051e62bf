"""The RDF of the kinds of metrics and dimensions beyond an expression over one entity:
semi-additive metrics, conversion metrics, and the terms that read `MEASURE(metric) PER
(...)` (a dimension per entity, a metric at another grain), in our vocabulary (`SEM`,
documented in docs/rdf.md, declared in ontology/semantic.ttl, checked by shapes.ttl).

A semi-additive metric is also a `sem:SemiAdditiveMetric`, with the time dimension it is
not summed over and how a period takes its value:

    <term/account_balance> a sem:Metric, sem:SemiAdditiveMetric ;
        sem:semiAdditiveOver <term/day> ; sem:periodValue "last" .

A term that reads `MEASURE(order_count) PER (customer)` has one `sem:measures` node per
construct: the metric, its FILTER, the form of PER and what it names:

    <term/customer_order_count> a sem:Dimension, sem:PerEntityDimension ;
        sem:measures [ a sem:MeasureAtGrain ; sem:measuredMetric <term/order_count> ;
                       sem:grainMode "ENTITY" ; sem:perEntity <dataset/customer> ] .
"""

from __future__ import annotations

import hashlib

from rdflib import RDF, BNode, Graph, Literal, URIRef
from sqlglot import exp

from semantic.model import Model, Term
from semantic.model.perterms import measured, per_entity, per_nodes
from semantic.model.types import FILE_DIALECT
from semantic.outputs.rdf.iris import Iris
from semantic.outputs.rdf.vocab import SEM, XSD


def add_kind_details(graph: Graph, iris: Iris, model: Model, concept: URIRef, term: Term) -> None:
    """The triples of `term`'s kind beyond its expression: semi-additive, conversion, and
    each `MEASURE(...) PER (...)` it reads."""
    if term.semi_additive is not None:
        graph.add((concept, RDF.type, SEM.SemiAdditiveMetric))
        graph.add((concept, SEM.semiAdditiveOver, iris.term(term.semi_additive.time)))
        graph.add((concept, SEM.periodValue, Literal(term.semi_additive.period_value)))
    if term.conversion is not None:
        _add_conversion(graph, iris, concept, term)
    nodes = per_nodes(term.expr)
    if not nodes:
        return
    per_row = any(per_entity(n) in model.entities for n in nodes)
    if term.kind == "dimension" and per_row:
        graph.add((concept, RDF.type, SEM.PerEntityDimension))
    elif term.is_metric:
        graph.add((concept, RDF.type, SEM.MetricAtAnotherGrain))
    distinct = {n.sql(dialect=FILE_DIALECT): n for n in nodes}  # a band repeats its PER
    for i, node in enumerate(distinct.values()):
        _add_measure(graph, iris, model, concept, node, i)


def _add_conversion(graph: Graph, iris: Iris, concept: URIRef, term: Term) -> None:
    conv = term.conversion
    assert conv is not None
    graph.add((concept, RDF.type, SEM.ConversionMetric))
    graph.add((concept, SEM.conversionMetric, iris.term(conv.metric)))
    graph.add((concept, SEM.conversionEntity, iris.entity(conv.entity)))
    graph.add((concept, SEM.baseTime, iris.term(conv.base_time)))
    graph.add((concept, SEM.conversionTime, iris.term(conv.time)))
    graph.add((concept, SEM.calculation, Literal(conv.calculation)))
    if conv.window is not None:
        graph.add(
            (concept, SEM.windowLast, Literal(conv.window.last, datatype=XSD.positiveInteger))
        )
        graph.add((concept, SEM.periodGrain, Literal(conv.window.grain)))
    for i, pair in enumerate(conv.constant_properties):
        node = _node(concept, "constant", str(i))
        graph.add((concept, SEM.constantProperty, node))
        graph.add((node, SEM.baseDimension, iris.term(pair.base)))
        graph.add((node, SEM.conversionDimension, iris.term(pair.conversion)))


def _add_measure(
    graph: Graph, iris: Iris, model: Model, concept: URIRef, node: exp.Per, i: int
) -> None:
    """One `MEASURE(metric) [FILTER (WHERE ...)] PER (...)` as a sem:MeasureAtGrain."""
    inside = measured(node)
    assert inside is not None  # checked with the glossary
    metric, condition = inside
    measure = _node(concept, "measure", str(i))
    graph.add((concept, SEM.measures, measure))
    graph.add((measure, RDF.type, SEM.MeasureAtGrain))
    for column in metric.find_all(exp.Column):
        graph.add((measure, SEM.measuredMetric, iris.term(column.name)))
    if condition is not None:
        graph.add((measure, SEM.measureFilter, Literal(condition.sql(dialect=FILE_DIALECT))))
    named = per_entity(node)
    items = list(node.expressions)
    if named is not None and named in model.entities:
        graph.add((measure, SEM.grainMode, Literal("ENTITY")))
        graph.add((measure, SEM.perEntity, iris.entity(named)))
        return
    if named is not None and named.casefold() == "all":
        graph.add((measure, SEM.grainMode, Literal("ALL")))
        return
    mode = "AT"
    if len(items) == 1 and isinstance(items[0], exp.Star):
        mode, items = "EXCLUDE", list(items[0].args.get("except_") or [])
    graph.add((measure, SEM.grainMode, Literal(mode)))
    for item in items:
        ident = item.table or item.name if isinstance(item, exp.Column) else None
        if ident:
            graph.add((measure, SEM.grainDimension, iris.term(ident)))


def _node(owner: URIRef, *parts: str) -> BNode:
    """A blank node named after its owner and role, the same in every export (as the
    export's own, `export._node`)."""
    digest = hashlib.sha256("\x1f".join((owner, *parts)).encode()).hexdigest()
    return BNode("n" + digest[:20])
