"""The file formats, as pydantic models: `semantic.yml`, `models/*.yml`, `glossary/*.yml`.

These classes describe exactly what a modeler may write; unknown keys are refused.
They carry no behaviour: `files` reads YAML into them, `model` builds the catalog.

>>> ColumnSpec(type="bigint").type
'bigint'
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from semantic.files.levels import DEFAULT_LEVELS

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=128),
    Field(description="A stable snake_case id: lower-case letters, digits and underscores."),
]
#: how deep brackets may nest in an expression (sqlglot's parser recurses on each level;
#: the business query language has the same limit)
MAX_EXPR_DEPTH = 64


def _shallow(text: str) -> str:
    """`text`, if its brackets nest at most `MAX_EXPR_DEPTH` deep (quoted text aside)."""
    if text.count("(") + text.count("[") <= MAX_EXPR_DEPTH:
        return text  # the usual case, without a walk
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
            if depth > MAX_EXPR_DEPTH:
                raise ValueError(
                    f"the expression nests brackets more than {MAX_EXPR_DEPTH} levels deep"
                )
        elif char in ")]":
            depth -= 1
    return text


#: a SQL expression or condition written in a file
SqlText = Annotated[str, AfterValidator(_shallow)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
LangText = dict[Language, str]
Cardinality = Literal["many_to_one", "one_to_one", "one_to_many"]
Grain = Literal["day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year"]
Status = Literal["draft", "approved", "deprecated"]
#: a confidentiality level: a name among the project's `confidentiality_levels`
Confidentiality = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=128),
    Field(description="A confidentiality level of the project's `confidentiality_levels`."),
]
#: the levels of a project that does not name its own, from the least to the most secret
GRAINS: tuple[Grain, ...] = (
    "day",
    "week",
    "month",
    "quarter",
    "year",
    "fiscal_quarter",
    "fiscal_year",
)


class Strict(BaseModel):
    """Base of every file schema: unknown keys are errors, objects are immutable. A schema
    is built when a file is first validated, not when this module is imported: a kept load
    (`files.loadcache`) unpickles semantic.yml's object and never validates."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# --- models/*.yml ---------------------------------------------------------------------------


class ColumnSpec(Strict):
    """A physical column: its SQL type and what it holds."""

    type: str | None = Field(
        None, description="SQL type, e.g. bigint, varchar, decimal(15,2), date."
    )
    description: str | None = None


class RelationshipSpec(Strict):
    """A join from this entity to another, with its cardinality and (composite) join keys."""

    to: Id = Field(description="The target entity id.")
    cardinality: Cardinality
    keys: dict[str, str] = Field(
        min_length=1, description="This entity's columns mapped to the target entity's columns."
    )
    name: Id | None = Field(None, description="Defaults to the target entity id.")
    description: str | None = None


QualityDimension = Literal[
    "accuracy",
    "completeness",
    "consistency",
    "validity",
    "timeliness",
    "uniqueness",
    "integrity",
]
RuleKind = Literal[
    "check",
    "not_null",
    "unique",
    "accepted_values",
    "range",
    "pattern",
    "freshness",
    "row_count",
    "aggregate",
    "custom",
]
Bound = int | float | datetime | date


class QualityRuleSpec(Strict):
    """A data quality rule of an entity or a term: one of the kinds of `kind` (a row
    `check` when only `check:` is given), in a quality dimension, with a severity and the
    share of rows that must pass (docs/quality.md)."""

    kind: RuleKind | None = Field(None, description="The kind; `check` when `check` is given.")
    dimension: QualityDimension | None = Field(None, description="By default the kind's.")
    severity: Literal["error", "warning"] = Field(
        "error", description="error: fails quality and withholds views; warning: reported."
    )
    column: SqlText | None = Field(
        None, description="The column or row expression read; a term's own by default."
    )
    check: SqlText | None = Field(
        None, description="check: a condition on each row; aggregate: one over aggregates."
    )
    values: list[str | int | float | bool] | None = Field(None, description="accepted_values.")
    min: Bound | None = Field(None, description="range: lowest value; row_count: fewest rows.")
    max: Bound | None = Field(None, description="range: highest value; row_count: most rows.")
    pattern: str | None = Field(None, description="pattern: a regular expression, searched.")
    max_age: str | None = Field(None, description="freshness: e.g. `2 days`, `36 hours`.")
    as_of: datetime | date | None = Field(None, description="freshness: count the age at this.")
    sql: SqlText | None = Field(None, description="custom: a SELECT whose rows are failures.")
    description: str | None = None
    threshold: float = Field(
        1.0, ge=0, le=1, description="Share of rows that must pass for the rule to pass."
    )


class EntitySpec(Strict):
    """A table, view or file with its columns, primary key and relationships."""

    table: str | None = Field(None, description="Physical table name; defaults to the entity id.")
    description: str | None = None
    primary_key: list[str] = Field(default_factory=list)
    columns: dict[str, ColumnSpec] = Field(min_length=1)
    relationships: list[RelationshipSpec] = Field(default_factory=list)
    quality: dict[Id, QualityRuleSpec] = Field(
        default_factory=dict, description="Quality rules by id."
    )
    confidentiality: Confidentiality | None = Field(
        None, description="The entity's level: every term over its rows is at least this secret."
    )


class ModelFile(Strict):
    """A file under `models/`."""

    entities: dict[Id, EntitySpec]


# --- glossary/*.yml -------------------------------------------------------------------------


class DimensionSpec(Strict):
    """A dimension: an expression over one entity's columns."""

    entity: Id
    expr: SqlText
    path: list[str] = Field(
        default_factory=list,
        description="Hops `entity.relationship` the join path must end with (role-playing).",
    )


class TimeDimensionSpec(DimensionSpec):
    """A time dimension: a date or timestamp expression, truncatable to its grains."""

    grains: list[Grain] = Field(default_factory=lambda: list(GRAINS))


class WindowSpec(Strict):
    """A metric summed over a time window ending at each period of the query: the `last`
    periods, from the start of the `to_date` period, or, with neither, since the beginning
    (a running total)."""

    time: Id = Field(description="The time dimension the window runs along.")
    last: int | None = Field(None, ge=1, description="Trailing periods, the current included.")
    grain: Grain | None = Field(None, description="The unit of `last`, e.g. month.")
    to_date: Grain | None = Field(None, description="From the start of this period: year, ...")
    rolling: Literal["day"] | None = Field(
        None,
        description="`day`: the window ends on each day (trailing `last` `grain`s after the "
        "same day that many earlier, as MetricFlow), and each period takes `period_value`.",
    )
    period_value: Literal["first", "last", "average"] | None = Field(
        None,
        description="With `rolling: day`, a period's value: the daily window on its first "
        "day, its last day (the default), or the average of its days.",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> WindowSpec:
        if self.last is not None and self.to_date is not None:
            raise ValueError("a window has `last` (with `grain`) or `to_date`, not both")
        if self.last is not None and self.grain is None:
            raise ValueError("`last` needs a `grain`, e.g. last: 3, grain: month")
        if self.period_value is not None and self.rolling is None:
            raise ValueError("`period_value` needs `rolling: day`: the windows it picks from")
        return self

    @property
    def value_of_period(self) -> str:
        """With `rolling: day`, which day's window a period shows: first, last, average."""
        return self.period_value or "last"


class ShiftSpec(Strict):
    """A metric's value some periods earlier (same period last year, previous month), or
    at the start of the period (`to_start_of: month`: the value on the month's first day)."""

    time: Id = Field(description="The time dimension to shift along.")
    periods: int = Field(1, ge=1)
    grain: Grain | None = Field(None, description="The unit of `periods`, e.g. year.")
    to_start_of: Grain | None = Field(
        None, description="Instead of `periods`: the first period of this one, e.g. month."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> ShiftSpec:
        if (self.grain is None) == (self.to_start_of is None):
            raise ValueError("a shift has `grain` (with `periods`) or `to_start_of`, one")
        return self


class ConversionWindowSpec(Strict):
    """How long after a base event a conversion counts: `last: 7, grain: day`."""

    last: int = Field(ge=1)
    grain: Literal["day", "week", "month", "quarter", "year"]


class ConstantPropertySpec(Strict):
    """A dimension both events must share, e.g. the product viewed and the one bought."""

    base: Id = Field(description="A dimension of the base events.")
    conversion: Id = Field(description="The same property, a dimension of the conversions.")


class ConversionSpec(Strict):
    """A conversion metric (MetricFlow's): the base events (the metric's `expr`) of one
    `entity` that a conversion event (`metric`) follows within `window` (ever, without)."""

    metric: Id = Field(description="The conversion events: a count over an entity.")
    entity: Id = Field(description="Whose events are matched, e.g. customers.")
    base_time: Id = Field(description="When a base event happens: a time dimension.")
    time: Id = Field(description="When a conversion event happens: a time dimension.")
    window: ConversionWindowSpec | None = None
    calculation: Literal["conversion_rate", "conversions"] = "conversion_rate"
    constant_properties: list[ConstantPropertySpec] = Field(default_factory=list)


class MetricSpec(Strict):
    """An aggregate over one entity (`entity` + `expr`), or an expression over other metrics
    (optionally summed over a time `window`, `shift`ed to an earlier period, or the base
    events of a `conversion`)."""

    entity: Id | None = None
    expr: SqlText
    filter: SqlText | None = Field(
        None,
        description="A condition on dimensions and segments (by term id) that the rows must "
        "meet, e.g. part_type LIKE 'PROMO%'.",
    )
    window: WindowSpec | None = None
    shift: ShiftSpec | None = None
    conversion: ConversionSpec | None = None
    fill_null: float | None = Field(
        None,
        description="The value of a group that has no row for this metric (counts are 0 "
        "without saying so; `null` written makes a count NULL too), e.g. 0 for revenue.",
    )

    @model_validator(mode="after")
    def _window_or_shift(self) -> MetricSpec:
        if sum(k is not None for k in (self.window, self.shift, self.conversion)) > 1:
            raise ValueError(
                "a metric has a window, a shift or a conversion, one: define one on the other"
            )
        return self


class SegmentSpec(Strict):
    """A named boolean condition over one entity's columns."""

    entity: Id
    condition: SqlText
    path: list[str] = Field(default_factory=list)


class ConceptSpec(Strict):
    """A business concept the glossary names and defines but that has no physical meaning
    (yet): it cannot be queried. Written `concept: {}`."""


MEANINGS = ("dimension", "time_dimension", "metric", "segment", "concept")


class TermSpec(Strict):
    """A business term: names per language, governance, and exactly one meaning."""

    # editors learn "exactly one meaning" from the JSON Schema too
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        defer_build=True,
        json_schema_extra={
            "oneOf": [
                {"required": [m]}
                for m in ("dimension", "time_dimension", "metric", "segment", "concept")
            ]
        },
    )

    label: LangText = Field(min_length=1)
    synonyms: dict[Language, list[str]] = Field(default_factory=dict)
    definition: LangText = Field(default_factory=dict)
    owners: list[str] = Field(default_factory=list)
    status: Status = "draft"
    confidentiality: Confidentiality | None = Field(
        None, description="The term's level (`internal` unless given); see docs/governance.md."
    )
    tags: list[str] = Field(default_factory=list)
    hidden_labels: dict[Language, list[str]] = Field(
        default_factory=dict, description="Common misspellings: found by search, never shown."
    )
    scope_note: LangText = Field(default_factory=dict, description="How to use the term.")
    examples: dict[Language, list[str]] = Field(default_factory=dict)
    broader: list[Id] = Field(default_factory=list, description="More general terms (ids).")
    related: list[Id] = Field(default_factory=list, description="Associated terms (ids).")
    exact_match: list[str] = Field(
        default_factory=list, description="IRIs of the same concept in other vocabularies."
    )
    close_match: list[str] = Field(
        default_factory=list, description="IRIs of close concepts in other vocabularies."
    )
    replaced_by: Id | None = Field(None, description="The term that replaces a deprecated one.")
    iri: str | None = Field(
        None,
        description="The term's own IRI, kept from the vocabulary it was imported from "
        "(`semantic import skos --keep-iris`): the RDF export names the concept with it "
        "instead of an IRI under --base.",
    )
    created: datetime | date | None = Field(
        None, description="When the term was created (dct:created), e.g. 2024-03-01."
    )
    modified: datetime | date | None = Field(
        None, description="When the term was last changed (dct:modified), e.g. 2025-01-15."
    )
    quality: dict[Id, QualityRuleSpec] = Field(
        default_factory=dict, description="Quality rules on the term's entity, by id."
    )
    dimension: DimensionSpec | None = None
    time_dimension: TimeDimensionSpec | None = None
    metric: MetricSpec | None = None
    segment: SegmentSpec | None = None
    concept: ConceptSpec | None = Field(
        None, description="No physical meaning: a business concept that cannot be queried."
    )

    @model_validator(mode="after")
    def _one_meaning(self) -> TermSpec:
        given = [m for m in MEANINGS if getattr(self, m) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a term has exactly one of {', '.join(MEANINGS)}; found "
                + (", ".join(given) if given else "none")
            )
        return self


class SubjectAreaSpec(Strict):
    """A subject area: dimensions and metrics that belong together ("Sales by customer"),
    published as one view for BI tools by `semantic views apply`."""

    label: LangText = Field(min_length=1)
    definition: LangText = Field(default_factory=dict)
    owners: list[str] = Field(default_factory=list)
    dimensions: list[str] = Field(
        default_factory=list,
        description="Dimension and time dimension ids; `order_date.month` for a time grain.",
    )
    metrics: list[Id] = Field(min_length=1, description="Metric ids.")
    filter: SqlText | None = Field(
        None,
        description="A business condition on dimensions and segments (by term id) that the "
        "rows must meet, e.g. order_date >= DATE '1995-01-01'.",
    )
    segments: list[Id] = Field(
        default_factory=list, description="Segments (ids) every row must belong to."
    )


class GlossaryFile(Strict):
    """A file under `glossary/`: one domain of terms."""

    domain: Id
    label: LangText = Field(default_factory=dict)
    description: LangText = Field(default_factory=dict)
    terms: dict[Id, TermSpec] = Field(default_factory=dict)
    subject_areas: dict[Id, SubjectAreaSpec] = Field(
        default_factory=dict,
        description="Subject areas by id: views for BI tools (`semantic views apply`).",
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


# --- policies.yml ---------------------------------------------------------------------------

Mask = Literal["hash", "redact", "partial"]


class RoleSpec(Strict):
    """A role: what its users may see (`clearance`), which rows (`filters`), masked how."""

    description: str | None = None
    clearance: Confidentiality = Field(description="The most secret level the role may read.")
    filters: list[SqlText] = Field(
        default_factory=list,
        description="Business conditions every row read must meet, on dimensions and segments "
        "by term id; `$user.KEY` is the caller's attribute KEY, e.g. customer_nation = "
        "$user.nation.",
    )
    masks: dict[Id, Mask] = Field(
        default_factory=dict,
        description="Dimensions shown masked: hash (md5 of the text), redact (a constant), "
        "partial (all but the last 4 characters hidden).",
    )
    attributes: list[Id] = Field(
        default_factory=list, description="The caller's attributes the filters use ($user.KEY)."
    )
    database_role: str | None = Field(
        None, description="The database role granted this role's views (`views apply`)."
    )


class PolicyFile(Strict):
    """`policies.yml`: the roles that may query the project (docs/governance.md)."""

    require_role: bool = Field(
        False, description="Refuse queries that name no role (else: the owner's full access)."
    )
    roles: dict[Id, RoleSpec] = Field(default_factory=dict)


# --- the tokens file of `semantic serve` ----------------------------------------------------

#: a caller's name: what the audit records say (`user.name`)
CallerName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@+-]*$", max_length=128)
]


class TokenSpec(Strict):
    """A bearer token of `semantic serve`, stored as the SHA-256 of its text, never in clear."""

    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="The SHA-256 of the token, in hexadecimal: printf %s TOKEN | sha256sum.",
    )
    role: Id | None = Field(
        default=None,
        description="The role of the policy file its requests run as; none: the project owner's "
        "full access.",
    )
    user: dict[Id, str] = Field(
        default_factory=dict, description="The caller's attributes the role's filters read."
    )


class TokensFile(Strict):
    """The tokens file of `semantic serve` (semantic.yml's `serve.tokens`): each caller's
    name, the hash of its token, its role and attributes (docs/serve.md)."""

    tokens: dict[CallerName, TokenSpec] = Field(default_factory=dict)
