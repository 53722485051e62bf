r"""The model as RDF: SKOS concepts for terms, DCAT datasets with CSVW schemas for entities,
PROV lineage and attribution, R2RML-style join conditions; see docs/rdf.md for the profile.

`export_graph` builds the graph, `serialize` writes it. Turtle output is byte-identical for
the same model on every run, so exports can be diffed in git: blank nodes are few and named
after what they belong to, and every prefix is bound explicitly.

>>> from semantic.project import Project
>>> graph = export_graph(Project.load(".").model, "https://data.example.com/tpch/")
>>> net_revenue = URIRef("https://data.example.com/tpch/term/net_revenue")
>>> print(*sorted(label.n3() for label in graph.objects(net_revenue, SKOS.prefLabel)))
"Chiffre d'affaires net"@fr "Net revenue"@en
>>> turtle = serialize(graph, "turtle")
>>> print(next(line for line in turtle.splitlines() if "Chiffre d'affaires net\"" in line))
        "Chiffre d'affaires net"@fr ;
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from urllib.parse import urlsplit

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import CSVW, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, VANN
from rdflib.term import Node
from sqlglot import exp

from semantic.model import FILE_DIALECT, Edge, Entity, Model, QualityRule, SubjectArea, Term
from semantic.model.perterms import own_columns
from semantic.outputs.quality import QualityResult
from semantic.outputs.rdf.iris import SEMANTIC_NS, Iris, default_base
from semantic.outputs.rdf.kinds import add_kind_details
from semantic.outputs.rdf.text import FORMATS, serialize
from semantic.outputs.rdf.vocab import ACCESS_RIGHT, DCAT, DCATAP, DQV, RR, SEM, VCARD, XSD

__all__ = ["FORMATS", "export_graph", "serialize", "xsd_datatype"]

KIND_CLASSES = {
    "dimension": SEM.Dimension,
    "time_dimension": SEM.TimeDimension,
    "metric": SEM.Metric,
    "segment": SEM.Segment,
}
STATUSES = {"draft": SEM.Draft, "approved": SEM.Approved, "deprecated": SEM.Deprecated}
SENSITIVITIES = {
    "public": SEM.Public,
    "internal": SEM.Internal,
    "confidential": SEM.Confidential,
    "restricted": SEM.Restricted,
}
#: Confidentiality -> the EU access-right authority table, with DCAT-AP's three values only.
#: Internal, confidential and restricted data are all closed to the public: NON_PUBLIC. The
#: EU RESTRICTED means "open under conditions" (registration, a licence), a different thing
#: from our highest level; the finer level is in `sem:sensitivity`.
ACCESS_RIGHTS = {
    "public": ACCESS_RIGHT.PUBLIC,
    "internal": ACCESS_RIGHT.NON_PUBLIC,
    "confidential": ACCESS_RIGHT.NON_PUBLIC,
    "restricted": ACCESS_RIGHT.NON_PUBLIC,
}
CARDINALITIES = {
    "many_to_one": SEM.ManyToOne,
    "one_to_one": SEM.OneToOne,
    "one_to_many": SEM.OneToMany,
}
_T = exp.DType
_DT = exp.DataType
#: SQL types (as sqlglot reads them) -> XML Schema datatypes, as CSVW uses them: the exact
#: integer type where XML Schema has one, xsd:integer or xsd:nonNegativeInteger otherwise.
DATATYPES: dict[exp.DType, URIRef] = {
    **{t: XSD.integer for t in _DT.SIGNED_INTEGER_TYPES},
    **{t: XSD.nonNegativeInteger for t in _DT.UNSIGNED_INTEGER_TYPES},
    _T.BIGINT: XSD.long,
    _T.INT: XSD.int,
    _T.SMALLINT: XSD.short,
    _T.TINYINT: XSD.byte,
    _T.UBIGINT: XSD.unsignedLong,
    _T.UINT: XSD.unsignedInt,
    _T.USMALLINT: XSD.unsignedShort,
    _T.UTINYINT: XSD.unsignedByte,
    **{t: XSD.decimal for t in _DT.REAL_TYPES - {_T.DOUBLE, _T.UDOUBLE, _T.FLOAT}},
    _T.DOUBLE: XSD.double,
    _T.UDOUBLE: XSD.double,
    _T.FLOAT: XSD.float,
    **{t: XSD.string for t in _DT.TEXT_TYPES | {_T.UUID}},
    _T.BOOLEAN: XSD.boolean,
    _T.DATE: XSD.date,
    _T.DATE32: XSD.date,
    _T.TIME: XSD.time,
    _T.TIMETZ: XSD.time,
    **{
        t: XSD.dateTime
        for t in (
            _T.TIMESTAMP,
            _T.TIMESTAMPNTZ,
            _T.TIMESTAMP_S,
            _T.TIMESTAMP_MS,
            _T.TIMESTAMP_NS,
            _T.DATETIME,
            _T.DATETIME2,
            _T.DATETIME64,
            _T.SMALLDATETIME,
        )
    },
    _T.TIMESTAMPTZ: XSD.dateTimeStamp,
    _T.TIMESTAMPLTZ: XSD.dateTimeStamp,
    _T.INTERVAL: XSD.duration,
    _T.BINARY: XSD.hexBinary,
    _T.VARBINARY: XSD.hexBinary,
    _T.BLOB: XSD.hexBinary,
    _T.JSON: CSVW.JSON,
    _T.JSONB: CSVW.JSON,
}
#: Prefixes of the output, bound explicitly so that the text never depends on rdflib's
#: defaults.
PREFIXES = {
    "access": ACCESS_RIGHT,
    "csvw": CSVW,
    "dcat": DCAT,
    "dcatap": DCATAP,
    "dct": DCTERMS,
    "dqv": DQV,
    "foaf": FOAF,
    "owl": OWL,
    "prov": PROV,
    "rdf": RDF,
    "rdfs": RDFS,
    "rr": RR,
    "sem": SEMANTIC_NS,
    "skos": SKOS,
    "vann": VANN,
    "vcard": VCARD,
    "xsd": XSD,
}


def export_graph(model: Model, base: str | None = None) -> Graph:
    """The whole model as one RDF graph, every IRI under `base` (by default a placeholder
    under example.org named after the project; give the company's own). The project's
    DCAT-AP catalog is added by `semantic.outputs.rdf.dcat.add_catalog`."""
    kept = {t.id: t.iri for t in model.terms.values() if t.iri is not None}
    iris = Iris(_checked_base(base or default_base(model.name)), kept)
    graph = Graph(bind_namespaces="none", base=iris.base)
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, str(namespace))
    language = model.languages[0]  # what models/ descriptions are written in
    for domain in model.domains.values():
        _add_scheme(
            graph,
            iris,
            domain.id,
            domain.labels,
            domain.description,
            [t for t in domain.terms if t in model.terms and not model.terms[t].broader],
        )
    reverse: dict[URIRef, Edge] = {}
    for term in model.terms.values():
        _add_term(graph, iris, model, term)
        reverse.update(_reverse_hops(iris, model, term))
    for area in model.subject_areas.values():
        _add_subject_area(graph, iris, area)
    owners = {owner for term in model.terms.values() for owner in term.owners}
    owners |= {owner for area in model.subject_areas.values() for owner in area.owners}
    for owner in sorted(owners):
        agent = iris.agent(owner)
        graph.add((agent, RDF.type, PROV.Agent))
        graph.add((agent, DCTERMS.identifier, Literal(owner)))
        graph.add((agent, RDFS.label, Literal(owner)))
    for entity in model.entities.values():
        _add_dataset(graph, iris, entity, language)
        for rule in entity.quality:
            _add_quality_rule(graph, iris, iris.entity(entity.id), entity.id, rule)
    for edges in model.edges.values():
        for edge in edges:
            if edge.declared:
                _add_relationship(graph, iris, edge)
                _add_foreign_key(graph, iris, edge)
    for iri, edge in reverse.items():
        _add_relationship(graph, iris, edge)
        graph.add((iri, SEM.reverseOf, _relationship_iri(iris, _declared(model, edge))))
    return graph


def xsd_datatype(sql_type: str) -> URIRef | None:
    """The XML Schema datatype of a SQL type (in the files' dialect), or None when there is
    none (nested types, geometry) or the type cannot be read.

    >>> print(xsd_datatype("decimal(15,2)"), xsd_datatype("timestamp"), xsd_datatype("int[]"))
    http://www.w3.org/2001/XMLSchema#decimal http://www.w3.org/2001/XMLSchema#dateTime None
    """
    try:
        parsed = exp.DataType.build(sql_type, dialect=FILE_DIALECT)
    except Exception:  # sqlglot raises several error types for what it cannot read
        return None
    return DATATYPES.get(parsed.this)


# --- the glossary -----------------------------------------------------------------------


def _add_scheme(
    graph: Graph,
    iris: Iris,
    domain: str,
    titles: Mapping[str, str],
    descriptions: Mapping[str, str],
    terms: Sequence[str],
) -> None:
    """A domain as a skos:ConceptScheme; its top concepts are its terms without a broader
    term."""
    scheme = iris.scheme(domain)
    graph.add((scheme, RDF.type, SKOS.ConceptScheme))
    graph.add((scheme, DCTERMS.identifier, Literal(domain)))
    _add_texts(graph, scheme, DCTERMS.title, titles)
    _add_texts(graph, scheme, DCTERMS.description, descriptions)
    for tid in terms:
        graph.add((scheme, SKOS.hasTopConcept, iris.term(tid)))


def _add_term(graph: Graph, iris: Iris, model: Model, term: Term) -> None:
    """A term as a skos:Concept of its kind: names, governance, meaning and lineage."""
    concept = iris.term(term.id)
    scheme = iris.scheme(term.domain)
    graph.add((concept, RDF.type, SKOS.Concept))
    if term.kind in KIND_CLASSES:  # a plain business concept is only a skos:Concept
        graph.add((concept, RDF.type, KIND_CLASSES[term.kind]))
    graph.add((concept, DCTERMS.identifier, Literal(term.id)))
    graph.add((concept, SKOS.inScheme, scheme))
    if not term.broader:
        graph.add((concept, SKOS.topConceptOf, scheme))
    _add_texts(graph, concept, SKOS.prefLabel, term.labels)
    for language, synonyms in term.synonyms.items():
        for synonym in synonyms:
            if synonym != term.labels.get(language):  # SKOS: labels of one kind per text
                graph.add((concept, SKOS.altLabel, Literal(synonym, lang=language)))
    for language, misspellings in term.hidden_labels.items():
        for misspelling in misspellings:
            graph.add((concept, SKOS.hiddenLabel, Literal(misspelling, lang=language)))
    _add_texts(graph, concept, SKOS.definition, term.definition)
    _add_texts(graph, concept, SKOS.scopeNote, term.scope_note)
    for language, examples in term.examples.items():
        for example in examples:
            graph.add((concept, SKOS.example, Literal(example, lang=language)))
    for tag in term.tags:
        graph.add((concept, DCAT.keyword, Literal(tag)))
    for predicate, when in ((DCTERMS.created, term.created), (DCTERMS.modified, term.modified)):
        if when is not None:
            graph.add((concept, predicate, Literal(when)))
    _add_relations(graph, iris, concept, term)
    _add_governance(graph, iris, concept, term)
    if term.kind != "concept":
        _add_meaning(graph, iris, model, concept, term)
        _add_lineage(graph, iris, concept, term)
    for rule in term.quality:
        _add_quality_rule(graph, iris, concept, term.id, rule)


def _add_subject_area(graph: Graph, iris: Iris, area: SubjectArea) -> None:
    """A subject area as a skos:Collection of the terms it names (typed sem:SubjectArea too),
    with what its query selects, in order: dimensions (and their grains), metrics, segments
    and its filter."""
    collection = iris.subject_area(area.id)
    graph.add((collection, RDF.type, SKOS.Collection))
    graph.add((collection, RDF.type, SEM.SubjectArea))
    graph.add((collection, DCTERMS.identifier, Literal(area.id)))
    graph.add((collection, DCTERMS.isPartOf, iris.scheme(area.domain)))
    _add_texts(graph, collection, SKOS.prefLabel, area.labels)
    _add_texts(graph, collection, SKOS.definition, area.definition)
    dimensions: list[Node] = []
    for i, written in enumerate(area.dimensions):
        name, _, grain = written.partition(".")
        item = _node(collection, "dimension", str(i))
        graph.add((item, SEM.dimensionTerm, iris.term(name)))
        if grain:
            graph.add((item, SEM.areaGrain, Literal(grain)))
        dimensions.append(item)
    for predicate, role, items in (
        (SEM.areaDimensions, "dimensions", dimensions),
        (SEM.areaMetrics, "metrics", [iris.term(m) for m in area.metrics]),
        (SEM.areaSegments, "segments", [iris.term(s) for s in area.segments]),
    ):
        if items:
            graph.add((collection, predicate, _add_list(graph, collection, role, items)))
    names = [d.partition(".")[0] for d in area.dimensions] + [*area.metrics, *area.segments]
    for name in dict.fromkeys(names):
        graph.add((collection, SKOS.member, iris.term(name)))
    if area.filter is not None:
        graph.add((collection, SEM.areaFilter, Literal(_sql(area.filter))))
    _add_owners(graph, iris, collection, area.owners)


def _add_relations(graph: Graph, iris: Iris, concept: URIRef, term: Term) -> None:
    """Hierarchy and associations, both directions; matches to other vocabularies; the
    replacement of a deprecated term."""
    for parent in term.broader:
        graph.add((concept, SKOS.broader, iris.term(parent)))
        graph.add((iris.term(parent), SKOS.narrower, concept))
    for other in term.related:
        graph.add((concept, SKOS.related, iris.term(other)))
        graph.add((iris.term(other), SKOS.related, concept))
    for iri in term.exact_match:
        if URIRef(iri) != concept:  # the source's IRI, when the term is exported under it
            graph.add((concept, SKOS.exactMatch, URIRef(iri)))
    for iri in term.close_match:
        graph.add((concept, SKOS.closeMatch, URIRef(iri)))
    if term.replaced_by:
        graph.add((concept, DCTERMS.isReplacedBy, iris.term(term.replaced_by)))
        graph.add((iris.term(term.replaced_by), DCTERMS.replaces, concept))


def _add_quality_rule(
    graph: Graph, iris: Iris, owner: URIRef, owner_id: str, rule: QualityRule
) -> None:
    """A quality rule as a dqv:Metric in its dimension, attached to its term or dataset."""
    metric = iris.quality_metric(owner_id, rule.id)
    dimension = iris.quality_dimension(rule.dimension)
    graph.add((owner, SEM.qualityRule, metric))
    graph.add((metric, RDF.type, DQV.Metric))
    graph.add((metric, DCTERMS.identifier, Literal(rule.id)))
    graph.add((metric, DQV.inDimension, dimension))
    graph.add((metric, DQV.expectedDataType, XSD.double))
    graph.add((metric, SEM.check, Literal(rule.text)))
    graph.add((metric, SEM.threshold, _decimal(str(rule.threshold))))
    graph.add((metric, DCTERMS.subject, iris.entity(rule.entity)))
    if rule.description:
        graph.add((metric, SKOS.definition, Literal(rule.description, lang="en")))
    graph.add((dimension, RDF.type, DQV.Dimension))
    graph.add((dimension, SKOS.prefLabel, Literal(rule.dimension, lang="en")))


def add_measurements(graph: Graph, base: str, results: Sequence[QualityResult]) -> None:
    """The latest measurement of each quality rule (the share of rows that pass it) as
    dqv:QualityMeasurement on the rule's dataset, with the time of its run
    (prov:generatedAtTime). A rule that could not be measured has no measurement."""
    iris = Iris(_checked_base(base))
    for result in results:
        if not result.measured:
            continue
        rule = result.rule
        owner = rule.term or rule.entity
        if (iris.quality_metric(owner, rule.id), RDF.type, DQV.Metric) not in graph:
            # a built-in rule (key integrity), which no file declares
            owner_iri = iris.term(rule.term) if rule.term else iris.entity(rule.entity)
            _add_quality_rule(graph, iris, owner_iri, owner, rule)
        node = iris.measurement(owner, rule.id)
        graph.add((node, RDF.type, DQV.QualityMeasurement))
        graph.add((node, DQV.isMeasurementOf, iris.quality_metric(owner, rule.id)))
        graph.add((node, DQV.computedOn, iris.entity(rule.entity)))
        graph.add((node, DQV.value, Literal(result.score, datatype=XSD.double)))
        if result.at is not None:
            graph.add((node, PROV.generatedAtTime, Literal(result.at, datatype=XSD.dateTime)))


def _add_governance(graph: Graph, iris: Iris, concept: URIRef, term: Term) -> None:
    """Status, confidentiality and owners (PROV qualified attribution with a DCAT role)."""
    graph.add((concept, SEM.status, STATUSES[term.status]))
    if term.status == "deprecated":
        graph.add((concept, OWL.deprecated, Literal(True)))
    graph.add((concept, DCTERMS.accessRights, ACCESS_RIGHTS[term.confidentiality]))
    graph.add((concept, SEM.sensitivity, SENSITIVITIES[term.confidentiality]))
    _add_owners(graph, iris, concept, term.owners)


def _add_owners(graph: Graph, iris: Iris, subject: URIRef, owners: Iterable[str]) -> None:
    """Each owner as a PROV qualified attribution with the DCAT role `sem:Owner`."""
    for owner in owners:
        attribution = _node(subject, "owner", owner)
        graph.add((subject, PROV.qualifiedAttribution, attribution))
        graph.add((attribution, RDF.type, PROV.Attribution))
        graph.add((attribution, PROV.agent, iris.agent(owner)))
        graph.add((attribution, DCAT.hadRole, SEM.Owner))


def _add_meaning(graph: Graph, iris: Iris, model: Model, concept: URIRef, term: Term) -> None:
    """What the term computes: its SQL, its entity, the columns it reads, its path, grains,
    filter, window or shift."""
    graph.add((concept, SEM.expression, Literal(_sql(term.expr))))
    if term.entity is not None:
        entity = SEM.aggregatesEntity if term.is_metric else SEM.describesEntity
        graph.add((concept, entity, iris.entity(term.entity)))
    for entity_id, column in _columns_read(term):
        graph.add((concept, SEM.representedBy, iris.column(entity_id, column)))
    if term.path:
        hops = [_relationship_iri(iris, _edge(model, hop)) for hop in term.path]
        graph.add((concept, SEM.path, _add_list(graph, concept, "path", hops)))
    for grain in term.grains:
        graph.add((concept, SEM.grain, Literal(grain)))
    if term.filter is not None:
        graph.add((concept, SEM.filter, Literal(_sql(term.filter))))
    if term.fill_null is not None:
        graph.add((concept, SEM.fillValue, _decimal(term.fill_null.sql())))
    if term.window is not None:
        window = term.window
        graph.add((concept, SEM.windowOver, iris.term(window.time)))
        if window.last is not None:
            graph.add((concept, SEM.windowLast, _count(window.last)))
        if window.grain is not None:
            graph.add((concept, SEM.periodGrain, Literal(window.grain)))
        if window.to_date is not None:
            graph.add((concept, SEM.windowToDate, Literal(window.to_date)))
    if term.shift is not None:
        shift = term.shift
        graph.add((concept, SEM.shiftAlong, iris.term(shift.time)))
        if shift.grain is not None:  # else the start of the period (`to_start_of`)
            graph.add((concept, SEM.shiftPeriods, _count(shift.periods)))
        graph.add((concept, SEM.periodGrain, Literal(shift.grain or shift.to_start_of)))
    add_kind_details(graph, iris, model, concept, term)


def _add_lineage(graph: Graph, iris: Iris, concept: URIRef, term: Term) -> None:
    """prov:wasDerivedFrom what the term is computed from: the columns it reads (its
    entity when it reads none, as count(*)), the metrics it combines, the terms of its
    filter and the time dimension of its window or shift."""
    sources: list[URIRef] = [iris.column(e, c) for e, c in _columns_read(term)]
    sources += [iris.term(ref) for ref in term.refs]
    if term.filter is not None:
        sources += [iris.term(c.table or c.name) for c in term.filter.find_all(exp.Column)]
    for spec in (term.window, term.shift):
        if spec is not None:
            sources.append(iris.term(spec.time))
    if not sources and term.entity is not None:
        sources.append(iris.entity(term.entity))
    for source in sources:
        graph.add((concept, PROV.wasDerivedFrom, source))


# --- the physical side ------------------------------------------------------------------


def _add_dataset(graph: Graph, iris: Iris, entity: Entity, language: str) -> None:
    """An entity as a dcat:Dataset with its CSVW table schema: columns in order, their
    datatypes and the primary key (foreign keys are added with the relationships)."""
    dataset = iris.entity(entity.id)
    schema = iris.table_schema(entity.id)
    graph.add((dataset, RDF.type, DCAT.Dataset))
    graph.add((dataset, DCTERMS.identifier, Literal(entity.id)))
    graph.add((dataset, DCTERMS.title, Literal(entity.id)))
    if entity.description:
        graph.add((dataset, DCTERMS.description, Literal(entity.description, lang=language)))
    graph.add((dataset, SEM.tableName, Literal(entity.table)))
    graph.add((dataset, CSVW.tableSchema, schema))
    graph.add((schema, RDF.type, CSVW.Schema))
    columns = [iris.column(entity.id, name) for name in entity.columns]
    graph.add((schema, CSVW.column, _add_list(graph, schema, "columns", columns)))
    for key in entity.primary_key:
        graph.add((schema, CSVW.primaryKey, Literal(key)))
    for name, column in entity.columns.items():
        node = iris.column(entity.id, name)
        graph.add((node, RDF.type, CSVW.Column))
        graph.add((node, CSVW.name, Literal(name)))
        if column.type:
            graph.add((node, SEM.sqlType, Literal(column.type)))
            datatype = xsd_datatype(column.type)
            if datatype is not None:
                graph.add((node, CSVW.datatype, datatype))
        if column.description:
            graph.add((node, DCTERMS.description, Literal(column.description, lang=language)))


def _add_relationship(graph: Graph, iris: Iris, edge: Edge) -> None:
    """A relationship: its ends, cardinality and one rr:joinCondition per key pair (child:
    a column of the entity it starts from, parent: of the one it leads to)."""
    relationship = _relationship_iri(iris, edge)
    graph.add((relationship, RDF.type, SEM.Relationship))
    graph.add((relationship, DCTERMS.identifier, Literal(edge.hop)))
    graph.add((relationship, SEM.fromEntity, iris.entity(edge.source)))
    graph.add((relationship, SEM.toEntity, iris.entity(edge.target)))
    graph.add((relationship, SEM.cardinality, CARDINALITIES[edge.cardinality]))
    for child, parent in edge.keys:
        join = _node(relationship, "join", child, parent)
        graph.add((relationship, RR.joinCondition, join))
        graph.add((join, RDF.type, RR.Join))
        graph.add((join, RR.child, Literal(child)))
        graph.add((join, RR.parent, Literal(parent)))


def _add_foreign_key(graph: Graph, iris: Iris, edge: Edge) -> None:
    """A declared relationship is also a csvw:ForeignKey of the table whose columns refer to
    the other's: the source's, except for one_to_many where the target holds the key."""
    relationship = _relationship_iri(iris, edge)
    keys = list(edge.keys)
    owner, other = edge.source, edge.target
    if edge.cardinality == "one_to_many":
        owner, other = other, owner
        keys = [(parent, child) for child, parent in keys]
    reference = _node(relationship, "reference")
    graph.add((iris.table_schema(owner), CSVW.foreignKey, relationship))
    graph.add((relationship, RDF.type, CSVW.ForeignKey))
    names = [Literal(own) for own, _ in keys]
    graph.add((relationship, CSVW.columnReference, _add_list(graph, relationship, "fk", names)))
    graph.add((relationship, CSVW.reference, reference))
    graph.add((reference, RDF.type, CSVW.TableReference))
    graph.add((reference, CSVW.resource, Literal(iris.entity(other), datatype=XSD.anyURI)))
    referenced = [Literal(theirs) for _, theirs in keys]
    graph.add((reference, CSVW.columnReference, _add_list(graph, reference, "fk", referenced)))


# --- helpers ----------------------------------------------------------------------------


def _checked_base(base: str) -> str:
    """`base` as an absolute IRI ending with `/`, `#` or `:` (a `/` is added otherwise)."""
    if not urlsplit(base).scheme:
        raise ValueError(f"base IRI {base!r} is not absolute: give e.g. https://data.example.com/")
    return base if base.endswith(("/", "#", ":")) else base + "/"


def _add_texts(graph: Graph, subject: URIRef, predicate: URIRef, texts: Mapping[str, str]) -> None:
    """One language-tagged literal per language of `texts` (language -> text)."""
    for language, text in texts.items():
        graph.add((subject, predicate, Literal(text, lang=language)))


def _node(owner: URIRef | BNode, *parts: str) -> BNode:
    """A blank node named after the resource it belongs to and its role there, so that it is
    the same in every export (rdflib would draw a random name)."""
    digest = hashlib.sha256("\x1f".join((owner, *parts)).encode()).hexdigest()
    return BNode("n" + digest[:20])


def _add_list(graph: Graph, owner: URIRef | BNode, role: str, items: Sequence[Node]) -> Node:
    """An rdf:List of `items` with named blank nodes; its head."""
    if not items:
        return RDF.nil
    cells = [_node(owner, role, str(i)) for i in range(len(items))]
    for i, (cell, item) in enumerate(zip(cells, items, strict=True)):
        graph.add((cell, RDF.first, item))
        graph.add((cell, RDF.rest, cells[i + 1] if i + 1 < len(cells) else RDF.nil))
    return cells[0]


def _decimal(text: str) -> Literal:
    """An xsd:decimal written with a decimal point, as Turtle writes it back (0 -> 0.0)."""
    lexical = format(Decimal(text), "f")
    return Literal(lexical if "." in lexical else lexical + ".0", datatype=XSD.decimal)


def _count(value: int) -> Literal:
    return Literal(value, datatype=XSD.positiveInteger)


def _sql(tree: exp.Expression) -> str:
    """An expression as the modeler wrote it, in the files' dialect (the model makes every
    division safe with NULLIF; that is how it runs, not what it means)."""
    tree = tree.copy()
    for division in tree.find_all(exp.Div):
        division.set("safe", None)
    return tree.sql(dialect=FILE_DIALECT)


def _columns_read(term: Term) -> list[tuple[str, str]]:
    """(entity, column) of each column the term's expression reads, once each, in order; a
    qualified column (partsupp.ps_supplycost in a metric) belongs to the entity it names."""
    if term.entity is None:
        return []
    found: dict[tuple[str, str], None] = {}
    for column in own_columns(term.expr):  # those of MEASURE(...) PER are terms (`kinds`)
        found[(column.table or term.entity, column.name)] = None
    return list(found)


def _edge(model: Model, hop: str) -> Edge:
    source, _, name = hop.partition(".")
    return next(e for e in model.edges[source] if e.name == name)


def _relationship_iri(iris: Iris, edge: Edge) -> URIRef:
    return iris.relationship(edge.source, edge.name)


def _declared(model: Model, edge: Edge) -> Edge:
    """The declared relationship that `edge` follows backwards."""
    flipped = tuple((t, s) for s, t in edge.keys)
    return next(
        e
        for e in model.edges[edge.target]
        if e.declared and e.target == edge.source and e.keys == flipped
    )


def _reverse_hops(iris: Iris, model: Model, term: Term) -> Iterable[tuple[URIRef, Edge]]:
    """The hops of a term's path that follow a declared relationship backwards: they are
    exported too, so that every hop of a path is a resource."""
    for hop in term.path:
        edge = _edge(model, hop)
        if not edge.declared:
            yield _relationship_iri(iris, edge), edge
