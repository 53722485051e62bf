"""The schema of `glossary/*.yml`: terms, their meanings (dimension, metric...) and subject
areas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import (
    ConfigDict,
    Field,
    model_validator,
)

from semantic.files.schema.base import (
    GRAINS,
    Confidentiality,
    Grain,
    Id,
    LangText,
    Language,
    SqlText,
    Status,
    Strict,
)
from semantic.files.schema.models import (
    QualityRuleSpec,
)

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


class SemiAdditiveSpec(Strict):
    """A metric that must not be summed over a time dimension (a balance, a stock level):
    each period takes the value of one of its instants, or the average of them."""

    time: Id = Field(description="The time dimension the metric is not summed over.")
    period_value: Literal["first", "last", "average"] = Field(
        "last",
        description="A period's value: the metric over the rows of its last instant (the "
        "default), of its first, or the average of its instants' values.",
    )


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
    semi_additive: SemiAdditiveSpec | None = Field(
        None,
        description="Not summed over this time dimension: each period shows the value at "
        "its last (first) instant, or the average of its instants' values.",
    )
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
