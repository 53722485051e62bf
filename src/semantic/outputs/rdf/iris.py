"""IRIs of everything the project publishes, built from stable ids (never from labels).

Every exporter (the vocabulary, R2RML mappings) and the importer use these functions, so
one project always names the same thing the same way.

>>> iris = Iris("https://data.example.com/tpch/")
>>> iris.term("net_revenue")
rdflib.term.URIRef('https://data.example.com/tpch/term/net_revenue')
>>> iris.column("lineitem", "l_quantity")
rdflib.term.URIRef('https://data.example.com/tpch/entity/lineitem/column/l_quantity')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from rdflib import URIRef

from semantic.files.schema import ProjectFile

#: The namespace of our own vocabulary (classes and properties no standard covers).
SEMANTIC_NS = "https://w3id.org/semantic-glossary/ns#"


def default_base(project_name: str) -> str:
    """The base IRI used when none is given: a placeholder to replace with the company's."""
    return f"https://example.org/semantic/{quote(project_name, safe='')}/"


def configured_base(config: ProjectFile) -> str:
    """The base IRI of a project's exports: `catalog.namespace` of semantic.yml, else the
    placeholder of `default_base`."""
    if config.catalog is not None and config.catalog.namespace:
        return config.catalog.namespace
    return default_base(config.name)


@dataclass(frozen=True)
class Iris:
    """IRIs under one base (ending with `/` or `#`); `terms` maps the id of a term that keeps
    the IRI of the vocabulary it was imported from (its `iri:` key) to that IRI.

    >>> Iris("https://data.example.com/", {"topic": "http://vocab.example.org/c12"}).term("topic")
    rdflib.term.URIRef('http://vocab.example.org/c12')
    """

    base: str
    terms: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    def _iri(self, *parts: str) -> URIRef:
        return URIRef(self.base + "/".join(quote(p, safe="") for p in parts))

    def catalog(self) -> URIRef:
        """The project as a dcat:Catalog."""
        return URIRef(self.base + "catalog")

    def publisher(self) -> URIRef:
        """The catalog's publisher, as a foaf:Agent (unless semantic.yml gives its IRI)."""
        return URIRef(self.base + "publisher")

    def contact(self) -> URIRef:
        """The contact point of the catalog's datasets, as a vcard:Kind."""
        return URIRef(self.base + "contact")

    def data_service(self) -> URIRef:
        """The service that serves the datasets (semantic.yml's `catalog.endpoint`)."""
        return URIRef(self.base + "service")

    def distribution(self, entity: str) -> URIRef:
        """An entity's table as published, as a dcat:Distribution of its dataset."""
        return self._iri("entity", entity, "distribution")

    def scheme(self, domain: str) -> URIRef:
        """A glossary domain, as a skos:ConceptScheme."""
        return self._iri("domain", domain)

    def term(self, term: str) -> URIRef:
        """A term, as a skos:Concept: its kept IRI, else one under the base."""
        kept = self.terms.get(term)
        return URIRef(kept) if kept is not None else self._iri("term", term)

    def subject_area(self, area: str) -> URIRef:
        """A subject area, as a skos:Collection of its terms."""
        return self._iri("subject-area", area)

    def entity(self, entity: str) -> URIRef:
        """An entity, as a dcat:Dataset."""
        return self._iri("entity", entity)

    def table_schema(self, entity: str) -> URIRef:
        """The CSVW table schema of an entity."""
        return self._iri("entity", entity, "schema")

    def column(self, entity: str, column: str) -> URIRef:
        """A column of an entity, as a csvw:Column."""
        return self._iri("entity", entity, "column", column)

    def relationship(self, entity: str, name: str) -> URIRef:
        """A declared relationship of an entity."""
        return self._iri("entity", entity, "relationship", name)

    def agent(self, owner: str) -> URIRef:
        """An owner or steward, as a prov:Agent."""
        return self._iri("agent", owner)

    def quality_metric(self, owner: str, rule: str) -> URIRef:
        """A quality rule of an entity or a term, as a dqv:Metric."""
        return self._iri("quality", owner, rule)

    def quality_dimension(self, name: str) -> URIRef:
        """A quality dimension (completeness, validity, ...), as a dqv:Dimension."""
        return self._iri("quality", "dimension", name)

    def measurement(self, owner: str, rule: str) -> URIRef:
        """The latest measurement of a quality rule on the data."""
        return self._iri("quality", owner, rule, "measurement")

    def row_class(self, entity: str) -> URIRef:
        """The class of the rows of an entity, for data materialised through R2RML."""
        return self._iri("class", entity)

    def row(self, entity: str) -> str:
        """The R2RML template prefix of an entity's rows (keys are appended)."""
        return self.base + "data/" + quote(entity, safe="")

    def property(self, entity: str, name: str) -> URIRef:
        """A property of an entity's rows: a column or a relationship."""
        return self._iri("property", entity, name)
