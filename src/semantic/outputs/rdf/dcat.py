r"""The project as a DCAT-AP 3 catalog in the RDF export: a dcat:Catalog with its publisher
(foaf:Agent), licence, contact point (vCard), themes, keywords, languages, places and
dates from `catalog:` of semantic.yml; a dcat:Distribution for each entity's dataset; a
dcat:DataService when the project names an endpoint; and the namespace of the concepts on
each concept scheme (vann), with the licence. See docs/rdf.md#dcat-ap.

`catalog_warnings` says which fields DCAT-AP requires or recommends that semantic.yml does
not give (SEM245): the export is written all the same.

>>> from semantic.files.schema import CatalogSpec
>>> [warning] = catalog_warnings(CatalogSpec(license="https://x.org/l"), None, "parquet")
>>> print(warning.message.replace(", s", ",\ns"))
the DCAT-AP catalog has no description, publisher, contact, themes, keywords, homepage,
spatial, temporal, issued, modified (catalog: in semantic.yml)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, VANN

from semantic.errors import Diagnostic, Span
from semantic.files.schema import CatalogSpec
from semantic.model import Model
from semantic.outputs.rdf.iris import Iris
from semantic.outputs.rdf.vocab import DCAT, DCATAP, VCARD, XSD

#: The EU authority tables DCAT-AP asks for.
EU = "http://publications.europa.eu/resource/authority/"
DATA_THEMES = URIRef(EU + "data-theme")
FILE_TYPES = {"parquet": URIRef(EU + "file-type/PARQUET"), "csv": URIRef(EU + "file-type/CSV")}
STABLE = URIRef(EU + "planned-availability/STABLE")
#: ISO 639-1 codes -> the EU language table's codes (the languages of the EU and a few more)
LANGUAGES = {
    "bg": "BUL", "cs": "CES", "da": "DAN", "de": "DEU", "el": "ELL", "en": "ENG",
    "es": "SPA", "et": "EST", "fi": "FIN", "fr": "FRA", "ga": "GLE", "hr": "HRV",
    "hu": "HUN", "it": "ITA", "lt": "LIT", "lv": "LAV", "mt": "MLT", "nl": "NLD",
    "pl": "POL", "pt": "POR", "ro": "RON", "sk": "SLK", "sl": "SLV", "sv": "SWE",
    "no": "NOR", "nb": "NOB", "is": "ISL", "ru": "RUS", "uk": "UKR", "tr": "TUR",
    "ar": "ARA", "zh": "ZHO", "ja": "JPN", "ko": "KOR", "ca": "CAT", "eu": "EUS",
}  # fmt: skip


def add_catalog(
    graph: Graph,
    iris: Iris,
    model: Model,
    catalog: CatalogSpec | None,
    *,
    description: str | None = None,
    data_format: str | None = None,
) -> None:
    """The catalog of `model` (its datasets are the entities, already in `graph`), with
    what `catalog` gives; `description` is the project's, `data_format` that of its data
    files (parquet or csv), None when it has none."""
    spec = catalog or CatalogSpec.model_validate({})
    language = model.languages[0]
    node = iris.catalog()
    graph.add((node, RDF.type, DCAT.Catalog))
    _texts(graph, node, DCTERMS.title, spec.title or {language: model.name})
    descriptions = spec.description or ({language: description} if description else {})
    _texts(graph, node, DCTERMS.description, descriptions)
    publisher = _add_publisher(graph, iris, spec)
    contact = _add_contact(graph, iris, spec)
    for iri in spec.languages or [
        EU + "language/" + LANGUAGES[lang] for lang in model.languages if lang in LANGUAGES
    ]:
        graph.add((node, DCTERMS.language, URIRef(iri)))
    if spec.license:
        graph.add((node, DCTERMS.license, URIRef(spec.license)))
    if spec.homepage:
        graph.add((node, FOAF.homepage, URIRef(spec.homepage)))
    if spec.themes:
        graph.add((node, DCAT.themeTaxonomy, DATA_THEMES))
    for place in spec.spatial:
        graph.add((node, DCTERMS.spatial, URIRef(place)))
    modified = spec.modified or _latest_change(model)
    for predicate, when in ((DCTERMS.issued, spec.issued), (DCTERMS.modified, modified)):
        if when is not None:
            graph.add((node, predicate, Literal(when.isoformat()[:10], datatype=XSD.date)))
    period = _add_period(graph, node, spec)
    service = iris.data_service() if spec.endpoint else None
    for entity in model.entities.values():
        dataset = iris.entity(entity.id)
        graph.add((node, DCAT.dataset, dataset))
        if not entity.description:  # DCAT-AP requires a description
            text = f"The rows of the table {entity.table} (entity {entity.id})."
            graph.add((dataset, DCTERMS.description, Literal(text, lang=language)))
        if publisher is not None:
            graph.add((dataset, DCTERMS.publisher, publisher))
        if contact is not None:
            graph.add((dataset, DCAT.contactPoint, contact))
        for lang, words in spec.keywords.items():
            for word in words:
                graph.add((dataset, DCAT.keyword, Literal(word, lang=lang)))
        for theme in spec.themes:
            graph.add((dataset, DCAT.theme, URIRef(theme)))
        for place in spec.spatial:
            graph.add((dataset, DCTERMS.spatial, URIRef(place)))
        if period is not None:
            graph.add((dataset, DCTERMS.temporal, period))
        distribution = iris.distribution(entity.id)
        graph.add((dataset, DCAT.distribution, distribution))
        graph.add((distribution, RDF.type, DCAT.Distribution))
        graph.add((distribution, DCTERMS.title, Literal(entity.table)))
        text = f"The table {entity.table}, as the project publishes it."
        graph.add((distribution, DCTERMS.description, Literal(text, lang=language)))
        access = spec.access_url or spec.endpoint
        graph.add((distribution, DCAT.accessURL, URIRef(access) if access else dataset))
        if data_format in FILE_TYPES:
            graph.add((distribution, DCTERMS["format"], FILE_TYPES[data_format]))
        graph.add((distribution, DCATAP.availability, STABLE))
        if spec.license:
            graph.add((distribution, DCTERMS.license, URIRef(spec.license)))
        if service is not None:
            graph.add((distribution, DCAT.accessService, service))
    if service is not None and spec.endpoint:
        graph.add((node, DCAT.service, service))
        graph.add((service, RDF.type, DCAT.DataService))
        _texts(graph, service, DCTERMS.title, {language: f"{model.name} data service"})
        graph.add((service, DCAT.endpointURL, URIRef(spec.endpoint)))
        for entity in model.entities.values():
            graph.add((service, DCAT.servesDataset, iris.entity(entity.id)))
    for domain in model.domains:
        scheme = iris.scheme(domain)
        graph.add((scheme, VANN.preferredNamespaceUri, Literal(iris.base + "term/")))
        prefix = spec.prefix or _prefix(model.name)
        graph.add((scheme, VANN.preferredNamespacePrefix, Literal(prefix)))
        if spec.license:
            graph.add((scheme, DCTERMS.license, URIRef(spec.license)))
        if publisher is not None:
            graph.add((scheme, DCTERMS.publisher, publisher))


def catalog_warnings(
    catalog: CatalogSpec | None, description: str | None, data_format: str | None
) -> list[Diagnostic]:
    """SEM245 when `catalog:` (with the project's `description` and its data files'
    format) lacks a field DCAT-AP requires or recommends; nothing when it has them all."""
    spec = catalog or CatalogSpec.model_validate({})
    missing = [
        name
        for name, given in (
            ("description", spec.description or description),
            ("publisher", spec.publisher),
            ("license", spec.license),
            ("contact", spec.contact),
            ("themes", spec.themes),
            ("keywords", spec.keywords),
            ("homepage", spec.homepage),
            ("spatial", spec.spatial),
            ("temporal", spec.temporal),
            ("issued", spec.issued),
            ("modified", spec.modified),
            ("data format", data_format in FILE_TYPES),
        )
        if not given
    ]
    if not missing:
        return []
    return [
        Diagnostic(
            "SEM245",
            f"the DCAT-AP catalog has no {', '.join(missing)} (catalog: in semantic.yml)",
            Span("semantic.yml"),
            "add them under catalog: in semantic.yml (the data format comes from data:); "
            "see docs/rdf.md#dcat-ap",
            severity="warning",
        )
    ]


def _add_publisher(graph: Graph, iris: Iris, spec: CatalogSpec) -> URIRef | None:
    if spec.publisher is None:
        return None
    agent = URIRef(spec.publisher.iri) if spec.publisher.iri else iris.publisher()
    graph.add((iris.catalog(), DCTERMS.publisher, agent))
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, FOAF.name, Literal(spec.publisher.name)))
    if spec.publisher.type:
        graph.add((agent, DCTERMS.type, URIRef(spec.publisher.type)))
    return agent


def _add_contact(graph: Graph, iris: Iris, spec: CatalogSpec) -> URIRef | None:
    contact = spec.contact
    if contact is None or not (contact.name or contact.email or contact.url):
        return None
    node = iris.contact()
    graph.add((node, RDF.type, VCARD.Kind))
    if contact.name:
        graph.add((node, VCARD.fn, Literal(contact.name)))
    if contact.email:
        email = contact.email if contact.email.startswith("mailto:") else "mailto:" + contact.email
        graph.add((node, VCARD.hasEmail, URIRef(email)))
    if contact.url:
        graph.add((node, VCARD.hasURL, URIRef(contact.url)))
    return node


def _add_period(graph: Graph, catalog: URIRef, spec: CatalogSpec) -> BNode | None:
    period = spec.temporal
    if period is None or (period.start is None and period.end is None):
        return None
    node = BNode(f"period{len(str(catalog))}")  # one per export, named the same each time
    graph.add((node, RDF.type, DCTERMS.PeriodOfTime))
    for predicate, when in ((DCAT.startDate, period.start), (DCAT.endDate, period.end)):
        if when is not None:
            graph.add((node, predicate, Literal(when.isoformat(), datatype=XSD.date)))
    return node


def _latest_change(model: Model) -> date | None:
    """The latest `modified` date of a term, if any term states one."""
    dates = [t.modified for t in model.terms.values() if t.modified is not None]
    return max(dates, key=lambda d: d.isoformat()) if dates else None


def _texts(graph: Graph, node: URIRef, predicate: URIRef, texts: Mapping[str, str]) -> None:
    for lang, text in texts.items():
        graph.add((node, predicate, Literal(text, lang=lang)))


def _prefix(name: str) -> str:
    """A prefix made of a project name: letters, digits, `-` and `_` only."""
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.lower())
    return cleaned if cleaned[:1].isalpha() else "p" + cleaned
