"""Closed namespaces: our own vocabulary (`SEM`), a standard rdflib does not ship (`RR`),
and closed versions of the two rdflib namespaces that only warn on an unknown term (`DCAT`,
`XSD`).

Every term is declared, so a typo is an `AttributeError` instead of a silently wrong IRI.
`SEM` is published, with a label and a comment per term, as `ontology/semantic.ttl` at the
repository root; a test keeps the two in step.

>>> SEM.Metric
rdflib.term.URIRef('https://w3id.org/semantic-glossary/ns#Metric')
>>> SEM.metirc
Traceback (most recent call last):
...
AttributeError: term 'metirc' not in namespace 'https://w3id.org/semantic-glossary/ns#'
"""

# No `from __future__ import annotations`: DefinedNamespace reads the annotations as classes.

# `namespace.DefinedNamespace`, not the bare name: as a module global, an open
# DefinedNamespace makes pytest's doctest collection warn (it probes globals for attributes).
from rdflib import URIRef, namespace
from rdflib.namespace import Namespace

from semantic.outputs.rdf.iris import SEMANTIC_NS

#: The EU access-right authority table, the values of `dct:accessRights` (DCAT-AP).
ACCESS_RIGHT = Namespace("http://publications.europa.eu/resource/authority/access-right/")


class SEM(namespace.DefinedNamespace):
    """The semantic-glossary vocabulary: what no standard vocabulary covers."""

    _NS = Namespace(SEMANTIC_NS)
    _fail = True

    # classes: the kind of a term (each a subclass of skos:Concept), and relationships
    Dimension: URIRef  # a term describing rows: an expression over one entity's columns
    TimeDimension: URIRef  # a dimension holding a date or timestamp, truncatable to grains
    Metric: URIRef  # a term aggregating rows, or combining other metrics
    Segment: URIRef  # a named boolean condition over one entity's rows
    Relationship: URIRef  # a join between two datasets, with cardinality and join keys
    SubjectArea: URIRef  # a skos:Collection of dimensions and metrics, published as one view
    SemiAdditiveMetric: URIRef  # a metric not summed over a time dimension (a balance)
    ConversionMetric: URIRef  # a metric of base events followed by conversion events
    MetricAtAnotherGrain: URIRef  # a metric reading a metric at another grain (share of total)
    PerEntityDimension: URIRef  # a dimension reading a metric per row of its entity
    MeasureAtGrain: URIRef  # one MEASURE(metric) PER (...) a term reads

    # what a term means
    expression: URIRef  # SQL text (DuckDB dialect) of a value, aggregate, formula or condition
    filter: URIRef  # SQL condition on dimensions and segments a metric's rows must meet
    aggregatesEntity: URIRef  # metric -> the dataset whose rows it aggregates
    describesEntity: URIRef  # dimension or segment -> the dataset whose rows it describes
    representedBy: URIRef  # term -> a column its expression reads
    path: URIRef  # term -> the list of relationships its join path must end with
    grain: URIRef  # a grain a time dimension can be truncated to
    fillValue: URIRef  # the value of a metric for a group without rows
    windowOver: URIRef  # metric -> the time dimension along which it is summed over a window
    windowLast: URIRef  # number of trailing periods in the window, the current one included
    windowToDate: URIRef  # the window runs from the start of this period (year, quarter...)
    shiftAlong: URIRef  # metric -> the time dimension along which it is shifted
    shiftPeriods: URIRef  # how many periods earlier a shifted metric is taken
    periodGrain: URIRef  # the unit of windowLast or shiftPeriods
    semiAdditiveOver: URIRef  # metric -> the time dimension it is not summed over
    periodValue: URIRef  # a semi-additive period's value: "last", "first" or "average"
    conversionMetric: URIRef  # conversion metric -> the metric of the conversion events
    conversionEntity: URIRef  # conversion metric -> the dataset whose events are matched
    baseTime: URIRef  # conversion metric -> the time dimension of the base events
    conversionTime: URIRef  # conversion metric -> the time dimension of the conversions
    calculation: URIRef  # conversion metric: "conversion_rate" or "conversions"
    constantProperty: URIRef  # conversion metric -> a pair of dimensions both events share
    baseDimension: URIRef  # a constant property -> its dimension on the base events
    conversionDimension: URIRef  # a constant property -> its dimension on the conversions
    measures: URIRef  # term -> a sem:MeasureAtGrain it reads
    measuredMetric: URIRef  # MeasureAtGrain -> the metric inside MEASURE(...)
    measureFilter: URIRef  # MeasureAtGrain -> SQL condition of its FILTER (WHERE ...)
    grainMode: URIRef  # MeasureAtGrain: "ALL", "EXCLUDE", "AT" (dimensions) or "ENTITY"
    grainDimension: URIRef  # MeasureAtGrain -> a dimension PER names (kept, or left out)
    perEntity: URIRef  # MeasureAtGrain -> the dataset of whose rows it is a value

    # what a subject area selects
    areaDimensions: URIRef  # subject area -> rdf:List of its dimensions, in column order
    dimensionTerm: URIRef  # an item of areaDimensions -> its dimension or time dimension
    areaGrain: URIRef  # an item of areaDimensions -> the grain its time dimension is cut to
    areaMetrics: URIRef  # subject area -> rdf:List of its metrics, in column order
    areaSegments: URIRef  # subject area -> rdf:List of the segments its rows belong to
    areaFilter: URIRef  # SQL condition on dimensions and segments the area's rows must meet

    # governance
    status: URIRef  # term -> its status in the StatusScheme
    sensitivity: URIRef  # term -> its level in the SensitivityScheme

    # the physical side
    tableName: URIRef  # the physical table or view of a dataset
    sqlType: URIRef  # the SQL type of a column as declared in the model
    fromEntity: URIRef  # relationship -> the dataset it starts from
    toEntity: URIRef  # relationship -> the dataset it leads to
    cardinality: URIRef  # relationship -> its cardinality in the CardinalityScheme
    reverseOf: URIRef  # relationship followed backwards -> the declared relationship

    # data quality (DQV)
    qualityRule: URIRef  # term or dataset -> a dqv:Metric that checks its rows
    check: URIRef  # SQL condition a row must meet to pass a quality rule
    threshold: URIRef  # share of rows (0 to 1) that must pass a quality rule

    # individuals: concept schemes and their concepts, roles
    StatusScheme: URIRef
    Draft: URIRef
    Approved: URIRef
    Deprecated: URIRef
    SensitivityScheme: URIRef
    Public: URIRef
    Internal: URIRef
    Confidential: URIRef
    Restricted: URIRef
    CardinalityScheme: URIRef
    ManyToOne: URIRef
    OneToOne: URIRef
    OneToMany: URIRef
    Owner: URIRef  # the role of an agent accountable for a term
    Steward: URIRef  # the role of an agent caring for a term's quality and definition


class DQV(namespace.DefinedNamespace):
    """The W3C Data Quality Vocabulary (the terms we use; rdflib does not ship it)."""

    _NS = Namespace("http://www.w3.org/ns/dqv#")
    _fail = True

    Metric: URIRef
    Dimension: URIRef
    Category: URIRef
    QualityMeasurement: URIRef
    inDimension: URIRef
    inCategory: URIRef
    expectedDataType: URIRef
    isMeasurementOf: URIRef
    computedOn: URIRef
    value: URIRef
    hasQualityMeasurement: URIRef


class RR(namespace.DefinedNamespace):
    """R2RML, the W3C mapping language from relational databases to RDF."""

    _NS = Namespace("http://www.w3.org/ns/r2rml#")
    _fail = True
    _extras = ["class"]  # a Python keyword: RR["class"]

    BaseTableOrView: URIRef
    GraphMap: URIRef
    Join: URIRef
    LogicalTable: URIRef
    ObjectMap: URIRef
    PredicateMap: URIRef
    PredicateObjectMap: URIRef
    R2RMLView: URIRef
    RefObjectMap: URIRef
    SubjectMap: URIRef
    TermMap: URIRef
    TriplesMap: URIRef

    child: URIRef
    column: URIRef
    constant: URIRef
    datatype: URIRef
    graph: URIRef
    graphMap: URIRef
    inverseExpression: URIRef
    joinCondition: URIRef
    language: URIRef
    logicalTable: URIRef
    object: URIRef
    objectMap: URIRef
    parent: URIRef
    parentTriplesMap: URIRef
    predicate: URIRef
    predicateMap: URIRef
    predicateObjectMap: URIRef
    sqlQuery: URIRef
    sqlVersion: URIRef
    subject: URIRef
    subjectMap: URIRef
    tableName: URIRef
    template: URIRef
    termType: URIRef

    BlankNode: URIRef
    IRI: URIRef
    Literal: URIRef
    SQL2008: URIRef
    defaultGraph: URIRef


class SKOSXL(namespace.DefinedNamespace):
    """SKOS eXtension for Labels: labels as resources (read by `semantic import skos`)."""

    _NS = Namespace("http://www.w3.org/2008/05/skos-xl#")
    _fail = True

    Label: URIRef
    literalForm: URIRef
    prefLabel: URIRef
    altLabel: URIRef
    hiddenLabel: URIRef
    labelRelation: URIRef


class VCARD(namespace.DefinedNamespace):
    """vCard in RDF: the contact point of a DCAT-AP catalog's datasets (the terms we use)."""

    _NS = Namespace("http://www.w3.org/2006/vcard/ns#")
    _fail = True

    Kind: URIRef
    Organization: URIRef
    fn: URIRef
    hasEmail: URIRef
    hasURL: URIRef


class DCATAP(namespace.DefinedNamespace):
    """DCAT-AP's own properties (the terms we use)."""

    _NS = Namespace("http://data.europa.eu/r5r/")
    _fail = True

    availability: URIRef
    applicableLegislation: URIRef


class DCAT(namespace.DCAT):
    """DCAT 3, closed."""

    _fail = True


class XSD(namespace.XSD):
    """XML Schema datatypes, closed."""

    _fail = True
