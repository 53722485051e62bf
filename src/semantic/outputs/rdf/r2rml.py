"""The entities as an R2RML mapping, so that any R2RML engine can publish the rows as RDF.

One `rr:TriplesMap` per entity with a primary key (a row needs a key to be named):

- subject: `<base>data/<entity>/{pk1}/{pk2}`, of class `<base>class/<entity>`; the engine
  percent-encodes the key values (R2RML templates are IRI-safe);
- one predicate per column, `<base>property/<entity>/<column>`, whose object is the value as
  a literal typed after the column's SQL type (see `literal_datatype`); a NULL gives no triple;
- one predicate per declared to-one relationship, `<base>property/<entity>/<relationship>`,
  whose object is the related row: a referencing object map that joins on the relationship's
  keys (one `rr:joinCondition` per key pair, so composite keys such as lineitem -> partsupp
  work); a row whose target is missing gets no link.

Every IRI comes from `Iris`, so the data links up with the rest of the export: the glossary
export describes column `c` of entity `e` as `iris.column(e, c)` and links terms to it, and the
data carries the same column's values under `iris.property(e, c)`, both named from the same
(entity, column) ids. The mapping itself stays pure R2RML: terms are not repeated as data
properties. The triples maps have IRIs (`<base>mapping/<entity>`) so the mapping can be diffed
and referenced; their inner term maps are blank nodes, as usual in R2RML.

>>> from semantic.project import Project
>>> graph = r2rml_graph(Project.load(".").model, "https://data.example.com/tpch/")
>>> lineitem = URIRef("https://data.example.com/tpch/mapping/lineitem")
>>> subject_map = graph.value(lineitem, RR.subjectMap)
>>> print(graph.value(subject_map, RR.template))
https://data.example.com/tpch/data/lineitem/{l_orderkey}/{l_linenumber}
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

# XSD is reached through `namespace`: held as a module global, this DefinedNamespace makes
# pytest's doctest collection warn (it probes every global for attributes it does not have).
from rdflib import BNode, Graph, Literal, URIRef, namespace
from rdflib.namespace import RDF
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.expressions import DType

from semantic.model import FILE_DIALECT, Model
from semantic.outputs.rdf.iris import Iris, default_base
from semantic.outputs.rdf.vocab import RR

__all__ = ["literal_datatype", "r2rml_graph"]


#: R2RML's natural mapping of SQL types (section 10.2), as sqlglot names them. Text types are
#: left out on purpose: they map to plain literals, which is what R2RML's natural mapping and
#: morph-kgc both produce when no datatype is given (RDF 1.1 reads them as xsd:string).
_DATATYPES: dict[DType, URIRef] = {
    **{t: namespace.XSD.integer for t in exp.DataType.INTEGER_TYPES - {DType.BIT}},
    **{
        t: namespace.XSD.decimal
        for t in (
            DType.DECIMAL,
            DType.DECIMAL32,
            DType.DECIMAL64,
            DType.DECIMAL128,
            DType.DECIMAL256,
            DType.UDECIMAL,
            DType.BIGDECIMAL,
            DType.MONEY,
            DType.SMALLMONEY,
        )
    },
    DType.FLOAT: namespace.XSD.double,
    DType.DOUBLE: namespace.XSD.double,
    DType.UDOUBLE: namespace.XSD.double,
    DType.BOOLEAN: namespace.XSD.boolean,
    DType.DATE: namespace.XSD.date,
    DType.DATE32: namespace.XSD.date,
    DType.TIME: namespace.XSD.time,
    **{
        t: namespace.XSD.dateTime
        for t in (
            DType.DATETIME,
            DType.DATETIME2,
            DType.DATETIME64,
            DType.SMALLDATETIME,
            DType.TIMESTAMP,
            DType.TIMESTAMPNTZ,
            DType.TIMESTAMPTZ,
            DType.TIMESTAMPLTZ,
            DType.TIMESTAMP_S,
            DType.TIMESTAMP_MS,
            DType.TIMESTAMP_NS,
        )
    },
}


def literal_datatype(sql_type: str | None, dialect: str = FILE_DIALECT) -> URIRef | None:
    """The XSD datatype of a column's values, or None for a plain literal.

    This is R2RML's natural mapping (every integer type is xsd:integer, whatever its width),
    not the CSVW column datatypes of the glossary export (xsd:long for bigint), which describe
    a column's range rather than its values. It is written into the mapping rather than left
    to the engine, which would need the database's column types: SQLite does not keep them,
    and morph-kgc only reads them when asked to. Types with no natural XSD counterpart (text,
    binary, JSON, unknown) stay plain literals.

    >>> literal_datatype("decimal(15,2)")
    rdflib.term.URIRef('http://www.w3.org/2001/XMLSchema#decimal')
    >>> literal_datatype("varchar") is None
    True
    """
    if not sql_type:
        return None
    try:
        parsed = exp.DataType.build(sql_type, dialect=dialect)
    except (ParseError, ValueError):
        return None
    return _DATATYPES.get(parsed.this) if isinstance(parsed.this, DType) else None


def r2rml_graph(model: Model, base: str | None = None) -> Graph:
    """The R2RML mapping of the model's entities (those with a primary key) under `base`.

    `base` defaults to the project's placeholder base (`iris.default_base`). The same model
    always gives the same graph, blank node labels included, so its Turtle is stable.
    """
    iris = Iris(base or default_base(model.name))
    graph = Graph()
    graph.bind("rr", RR._NS)
    graph.bind("xsd", namespace.XSD)
    mapped = {eid: entity for eid, entity in model.entities.items() if entity.primary_key}
    for eid, entity in mapped.items():
        node = _Nodes(_map_iri(iris, eid))
        graph.add((node.map, RDF.type, RR.TriplesMap))
        graph.add((node.map, RR.logicalTable, node("table")))
        graph.add((node("table"), RR.tableName, Literal(entity.table)))
        keys = "".join("/{" + _template_escape(key) + "}" for key in entity.primary_key)
        template = _template_escape(iris.row(eid)) + keys
        graph.add((node.map, RR.subjectMap, node("subject")))
        graph.add((node("subject"), RR.template, Literal(template)))
        graph.add((node("subject"), RR["class"], iris.row_class(eid)))
        relationships = [
            e for e in model.edges.get(eid, ()) if e.declared and e.to_one and e.target in mapped
        ]
        for i, (name, column) in enumerate(entity.columns.items()):
            object_map = _add_predicate_object_map(graph, node, i, iris.property(eid, name))
            graph.add((object_map, RR.column, Literal(name)))
            datatype = literal_datatype(column.type)
            if datatype is not None:
                graph.add((object_map, RR.datatype, datatype))
        for i, edge in enumerate(relationships, start=len(entity.columns)):
            object_map = _add_predicate_object_map(graph, node, i, iris.property(eid, edge.name))
            graph.add((object_map, RR.parentTriplesMap, _map_iri(iris, edge.target)))
            for j, (child, parent) in enumerate(edge.keys):
                condition = node(f"p{i:03d}", f"j{j}")
                graph.add((object_map, RR.joinCondition, condition))
                graph.add((condition, RR.child, Literal(child)))
                graph.add((condition, RR.parent, Literal(parent)))
    return graph


def _map_iri(iris: Iris, entity: str) -> URIRef:
    return URIRef(iris.base + "mapping/" + quote(entity, safe=""))


class _Nodes:
    """The blank nodes of one triples map, labelled by their place in it.

    Stable labels keep the Turtle output the same from run to run (rdflib orders blank nodes
    by label); the hash of the map's IRI keeps them apart from other mappings' when graphs
    are merged. Labels use only letters and digits, valid in every RDF syntax.
    """

    def __init__(self, triples_map: URIRef) -> None:
        self.map = triples_map
        self.prefix = "r" + hashlib.sha256(triples_map.encode()).hexdigest()[:12]

    def __call__(self, *path: str) -> BNode:
        return BNode(self.prefix + "".join(path))


def _add_predicate_object_map(graph: Graph, node: _Nodes, i: int, predicate: URIRef) -> BNode:
    """The `i`th predicate-object map of the triples map, for `predicate`; returns its object
    map."""
    predicate_object_map, object_map = node(f"p{i:03d}"), node(f"p{i:03d}", "o")
    graph.add((node.map, RR.predicateObjectMap, predicate_object_map))
    graph.add((predicate_object_map, RR.predicate, predicate))
    graph.add((predicate_object_map, RR.objectMap, object_map))
    return object_map


def _template_escape(text: str) -> str:
    """`text` as the literal part of an R2RML template, where braces delimit column names."""
    return text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")
