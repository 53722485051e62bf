"""The schema of `semantic.yml`: folders, data, engines, limits, audit, serve, quality and
the DCAT-AP catalog."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import (
    Field,
)

from semantic.files.levels import DEFAULT_LEVELS
from semantic.files.schema.base import (
    Id,
    LangText,
    Language,
    Strict,
)

# --- semantic.yml ---------------------------------------------------------------------------


class TpchGenerator(Strict):
    """Generate TPC-H data with the `tpchgen-cli` package when the files are missing."""

    scale: float = Field(0.01, gt=0)


class GenerateSpec(Strict):
    """How missing data files are made."""

    tpch: TpchGenerator


class DataSpec(Strict):
    """Where the embedded engine finds each entity's table: `<dir>/<table>.<format>`."""

    dir: str = Field("data", description="Folder of data files; `{scale}` is replaced.")
    format: Literal["parquet", "csv"] = "parquet"
    generate: GenerateSpec | None = None


class LimitsSpec(Strict):
    """How long a query may run and how large its result may be (0: no limit)."""

    timeout: float = Field(
        default=300, ge=0, description="Seconds a query may run (SEM434 past it)."
    )
    max_rows: int = Field(default=1_000_000, ge=0, description="Rows a result may have (SEM435).")
    max_megabytes: float = Field(
        default=1024, ge=0, description="Megabytes a result may take in memory (SEM435)."
    )


class AuditSpec(Strict):
    """Where each compile, query and explain writes its audit record (docs/audit.md)."""

    file: str = Field(
        min_length=1,
        description="The audit file (JSON lines), relative to the project root; created with "
        "mode 0600. SEMANTIC_AUDIT_FILE or `semantic --audit-file` name another file.",
    )


class ServeLimitsSpec(Strict):
    """What one request to `semantic serve` may ask (docs/serve.md); past them the answer is
    a 4xx with a coded body."""

    query_chars: int = Field(
        default=10_000,
        ge=1,
        description="Characters a query may have, as text or as JSON (SEM455).",
    )
    rows: int = Field(
        default=10_000,
        ge=0,
        description="Rows a query's result may have (SEM435; 0: limits.max_rows).",
    )
    timeout: float = Field(
        default=30, ge=0, description="Seconds a query may run (SEM434; 0: limits.timeout)."
    )
    concurrent: int = Field(
        default=4, ge=1, description="Queries one caller may have running at once (SEM456 past it)."
    )


class ServeSpec(Strict):
    """`semantic serve`: who may call it (tokens, the anonymous role) and what a request may
    ask (docs/serve.md)."""

    tokens: str | None = Field(
        default=None,
        description="The tokens file (hashed bearer tokens mapped to roles), from the project "
        "root; none: only anonymous requests, if `anonymous_role` allows them.",
    )
    anonymous_role: Id | None = Field(
        default=None,
        description="The role of a request without a token; none: such requests are refused "
        "(401, SEM121).",
    )
    limits: ServeLimitsSpec = Field(
        default=ServeLimitsSpec(), description="What one request may ask."
    )
    plan_cache: int = Field(
        default=4096, ge=0, description="Plans (and their SQL) kept in memory (0: no plan cache)."
    )
    reload_debounce: float = Field(
        default=0.3,
        gt=0,
        le=60,
        description="Seconds of quiet after a file change before reloading.",
    )


class EngineSpec(Strict):
    """A named execution engine: where queries run instead of the embedded DuckDB."""

    url: str = Field(
        description="duckdb:, duckdb:///file.duckdb, postgresql://USER@HOST:PORT/DB, "
        "spark:local[*], spark://HOST:7077 or sc://HOST:15002; ${VAR} reads an environment "
        "variable (passwords never go in this file)."
    )
    default: bool = Field(False, description="Run queries here when no --engine is given.")
    data: str | None = Field(
        None,
        description="Where this engine reads the data files (DuckDB, Spark): a folder or a "
        "URL every Spark executor can read; the project's data folder by default.",
    )
    storage_version: str | None = Field(
        None,
        pattern=r"^(v\d+\.\d+\.\d+|latest)$",
        description="(DuckDB files) The storage format of a file the engine creates, named "
        "by the oldest DuckDB release that must open it: v1.0.0 (the default: every DuckDB "
        "1.x and 2.x opens it), v1.4.0, ..., or latest. A file that exists keeps its own.",
    )
    description: str | None = None


class PublisherSpec(Strict):
    """Who publishes the catalog (a foaf:Agent in the RDF export)."""

    name: str = Field(description="The publisher's name, e.g. ACME Data Office.")
    iri: str | None = Field(
        None, description="The publisher's own IRI; by default one under the base IRI."
    )
    type: str | None = Field(
        None,
        description="The kind of publisher (dct:type), an IRI of the ADMS publisher types, "
        "e.g. http://purl.org/adms/publishertype/Company.",
    )


class ContactSpec(Strict):
    """Whom to ask about the data (a vcard:Kind in the RDF export); give at least one key."""

    name: str | None = None
    email: str | None = Field(None, description="An e-mail address, e.g. data@example.com.")
    url: str | None = Field(None, description="A contact page.")


class PeriodSpec(Strict):
    """The time the data covers (dct:temporal)."""

    start: date | None = None
    end: date | None = None


class CatalogSpec(Strict):
    """The project as a DCAT-AP catalog: what `semantic export rdf` says about the
    vocabulary and its datasets, and the IRIs it publishes them under (docs/rdf.md)."""

    title: LangText = Field(
        default_factory=dict, description="The catalog's title per language (the project name)."
    )
    description: LangText = Field(
        default_factory=dict, description="What the catalog holds, per language."
    )
    publisher: PublisherSpec | None = None
    license: str | None = Field(
        None,
        description="The licence of the vocabulary and the data, an IRI, e.g. "
        "https://creativecommons.org/licenses/by/4.0/.",
    )
    contact: ContactSpec | None = None
    themes: list[str] = Field(
        default_factory=list,
        description="Themes of the data, IRIs of the EU data themes, e.g. "
        "http://publications.europa.eu/resource/authority/data-theme/ECON.",
    )
    keywords: dict[Language, list[str]] = Field(
        default_factory=dict, description="Keywords per language."
    )
    namespace: str | None = Field(
        None,
        description="The base IRI of everything published (the default of `export rdf "
        "--base`); the concepts are `<namespace>term/<id>`.",
    )
    prefix: str | None = Field(
        None,
        description="The preferred prefix of the concepts' namespace "
        "(vann:preferredNamespacePrefix); the project name by default.",
    )
    homepage: str | None = Field(None, description="A web page about the catalog.")
    languages: list[str] = Field(
        default_factory=list,
        description="IRIs of the catalog's languages; by default the EU language table's "
        "entries for the project's `languages`.",
    )
    spatial: list[str] = Field(
        default_factory=list,
        description="Places the data covers, IRIs, e.g. "
        "http://publications.europa.eu/resource/authority/country/FRA.",
    )
    temporal: PeriodSpec | None = None
    issued: date | None = Field(None, description="When the catalog was first published.")
    modified: date | None = Field(
        None, description="When it last changed; by default the latest `modified` of a term."
    )
    endpoint: str | None = Field(
        None,
        description="The URL of a service that serves the data (`semantic serve`, a SQL "
        "endpoint): exported as a dcat:DataService.",
    )
    access_url: str | None = Field(
        None,
        description="Where the datasets' data can be reached (each distribution's "
        "dcat:accessURL); the endpoint, else the dataset's own IRI, by default.",
    )


class QualitySpec(Strict):
    """How quality results are kept and whether queries heed them (docs/quality.md)."""

    history: str = Field(
        default=".semantic/quality.duckdb",
        description="The DuckDB file, relative to the project, where `semantic quality` "
        "keeps each run's results (created on the first run).",
    )
    gate: Literal["strict", "warn", "off"] = Field(
        default="off",
        description="What a query over an entity whose latest results fail an error rule "
        "does: strict (refused, SEM451), warn (answered with a SEM451 warning), off.",
    )


class ProjectFile(Strict):
    """`semantic.yml`: the project configuration at the root of a project."""

    name: str
    description: str | None = None
    languages: list[Language] = Field(default_factory=lambda: ["en"], min_length=1)
    fiscal_year_start: int = Field(
        1, ge=1, le=12, description="Month the fiscal year starts in (1 = January)."
    )
    time_zone: str = Field(
        "UTC",
        description="IANA time zone (UTC, Europe/Paris, America/New_York, ...) in which the "
        "days, weeks, months and years of time dimensions on timestamptz columns are counted.",
    )
    dialect: str = "duckdb"
    models: str = "models"
    glossary: str = "glossary"
    data: DataSpec | None = None
    engines: dict[Id, EngineSpec] = Field(
        default_factory=dict, description="Named execution engines (see docs/engines.md)."
    )
    limits: LimitsSpec = Field(
        LimitsSpec(),
        description="Statement time-out and result-size limit of queries (docs/engines.md).",
    )
    broken_keys: Literal["warn", "refuse", "ignore"] = Field(
        "warn",
        description="What a query does when the data it reads breaks a declared key (NULL or "
        "repeated primary keys, repeated keys on the one side of a relationship): warn "
        "(SEM441 on stderr), refuse (SEM441 as an error), or ignore (the keys are not "
        "checked). See SEM441 in docs/errors.md.",
    )
    audit: AuditSpec | None = Field(
        None,
        description="An audit record (a JSON line) of every compile, query and explain, "
        "written to `file`; a query is refused when its record cannot be written (see "
        "docs/audit.md). Off when absent.",
    )
    quality: QualitySpec = Field(
        QualitySpec(),
        description="Where quality results are kept, and the query gate (docs/quality.md).",
    )
    catalog: CatalogSpec | None = Field(
        None,
        description="The project as a DCAT-AP catalog in the RDF export: title, publisher, "
        "licence, contact, themes, keywords, namespace (see docs/rdf.md).",
    )
    confidentiality_levels: list[Id] = Field(
        default_factory=lambda: list(DEFAULT_LEVELS),
        min_length=1,
        description="Confidentiality levels, from the least to the most secret.",
    )
    policies: str = Field(
        "policies.yml", description="The access policy file (roles), from the project root."
    )
    serve: ServeSpec | None = Field(
        None,
        description="`semantic serve`: the tokens file, the anonymous role and the limits of a "
        "request (docs/serve.md).",
    )
