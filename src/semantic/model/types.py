"""What the catalog is made of: frozen records of entities, relationships, terms, domains,
subject areas and the names that point to terms. `build` makes them; nothing changes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Any, Literal, TypeVar

from sqlglot import exp

from semantic.errors import Span
from semantic.files.levels import DEFAULT_LEVELS
from semantic.model.policy import Policy

Kind = Literal["dimension", "time_dimension", "metric", "segment", "concept"]
Cardinality = Literal["many_to_one", "one_to_one", "one_to_many"]
#: The dialect that expressions in files are written in.
FILE_DIALECT = "duckdb"

_C = TypeVar("_C", bound=type)


def _tuple_state(cls: _C) -> _C:
    """`cls` (a frozen slotted dataclass) pickled as the tuple of its fields, read and set
    by C-level getters and slot setters: the pickle dataclasses give a slotted class asks
    `fields()` for the names on every object, and a loaded model keeps 10,000 terms and
    their columns (`files.loadcache`). The state is the same values in the same order."""
    names = tuple(f.name for f in fields(cls))
    getter = attrgetter(*names)
    setters = tuple(vars(cls)[name].__set__ for name in names)

    def __getstate__(self: Any) -> tuple[Any, ...]:
        return getter(self)  # type: ignore[no-any-return]

    def __setstate__(self: Any, state: tuple[Any, ...]) -> None:
        for setter, value in zip(setters, state, strict=True):
            setter(self, value)

    setattr(cls, "__getstate__", __getstate__)  # noqa: B010 - mypy refuses a method assigned
    setattr(cls, "__setstate__", __setstate__)  # noqa: B010
    return cls


@_tuple_state
@dataclass(frozen=True, slots=True)
class Column:
    """A physical column of an entity."""

    name: str
    type: str | None
    description: str | None
    #: False: declared never NULL (`nullable: false`); primary key columns are never NULL
    #: by declaration whatever this says (`Entity.not_null`)
    nullable: bool = True


@dataclass(frozen=True, slots=True)
class Edge:
    """One direction of a relationship: from `source` to `target` joining on `keys`.

    `to_one` is true when each `source` row matches at most one `target` row, so the join
    can never multiply the source's rows.
    """

    source: str
    name: str
    target: str
    cardinality: Cardinality
    keys: tuple[tuple[str, str], ...]
    declared: bool
    #: declared `required: true`: every source row's key is not NULL and finds its target
    #: row (only on the declared, to-one direction)
    required: bool = False

    @property
    def to_one(self) -> bool:
        """Whether following this edge keeps the source's grain."""
        return self.cardinality in ("many_to_one", "one_to_one")

    @property
    def hop(self) -> str:
        """The edge as written in a term's `path`: `source.name`."""
        return f"{self.source}.{self.name}"


#: quality rules measured on each row: their score is the share of rows that pass
ROW_RULES = (
    "check",
    "not_null",
    "unique",
    "accepted_values",
    "range",
    "pattern",
    "relationship",
    "coverage",
)


@dataclass(frozen=True, slots=True)
class QualityRule:
    """A quality rule of `entity` (and of `term`, when a term declares it), in a DQV
    quality dimension. `check` is the SQL the rule evaluates, by `kind`:

    - check, not_null, accepted_values, range, pattern: a condition true for good rows;
    - unique, freshness: the column or expression whose values are compared or dated;
    - row_count: COUNT(*); aggregate: a condition over aggregates of the entity's rows;
    - custom: a SELECT whose rows are failures.
    """

    id: str
    entity: str
    dimension: str
    check: exp.Expression
    text: str
    description: str | None
    threshold: float
    term: str | None = None
    kind: str = "check"
    severity: str = "error"
    #: row_count: the fewest and the most rows allowed
    minimum: float | None = None
    maximum: float | None = None
    #: freshness: the longest age allowed, and the time it is counted at (now when None)
    max_age: timedelta | None = None
    as_of: datetime | None = None
    #: where the rule is written (None for the built-in rules of key integrity)
    span: Span | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """The rule's name in the project: `<term or entity>.<id>` (ids repeat across
        owners: every entity has a `primary_key_unique`)."""
        return f"{self.term or self.entity}.{self.id}"

    @property
    def per_row(self) -> bool:
        """Whether the rule's score is the share of rows that pass it."""
        return self.kind in ROW_RULES


@_tuple_state
@dataclass(frozen=True, slots=True)
class Entity:
    """A table, view or file and what is known about it."""

    id: str
    table: str
    description: str | None
    primary_key: tuple[str, ...]
    columns: Mapping[str, Column]
    span: Span
    quality: tuple[QualityRule, ...] = ()
    #: the entity's own confidentiality level: every term over its rows is at least as secret
    confidentiality: str | None = None

    def not_null(self, name: str) -> bool:
        """Whether the model promises column `name` is never NULL: a primary key column, or
        one declared `nullable: false` (a required relationship's foreign key is another
        promise: see `Edge.required`)."""
        found = self.columns.get(name)
        return name in self.primary_key or (found is not None and not found.nullable)


@dataclass(frozen=True, slots=True)
class Window:
    """A metric summed over a time window ending at each period of the query (as written
    under `window:`, see `files.schema.WindowSpec`): the `last` periods of `grain`, from the
    start of the `to_date` period, or, with neither, since the beginning. A plain record, so
    that a kept model (`files.loadcache`) holds nothing of pydantic's."""

    time: str
    last: int | None = None
    grain: str | None = None
    to_date: str | None = None
    rolling: str | None = None
    period_value: str | None = None

    @property
    def value_of_period(self) -> str:
        """With `rolling: day`, which day's window a period shows: first, last, average."""
        return self.period_value or "last"


@dataclass(frozen=True, slots=True)
class Shift:
    """A metric's value `periods` `grain`s earlier, or at the start of the `to_start_of`
    period (as written under `shift:`, see `files.schema.ShiftSpec`): one of `grain` and
    `to_start_of` is set."""

    time: str
    periods: int
    grain: str | None
    to_start_of: str | None = None


@dataclass(frozen=True, slots=True)
class SemiAdditive:
    """A metric not summed over the time dimension `time` (as written under
    `semi_additive:`, see `compiler.semiadditive`): a period shows the metric over the rows
    of its `last` or `first` instant, or the `average` of its instants' values."""

    time: str
    period_value: str = "last"


@dataclass(frozen=True, slots=True)
class ConversionWindow:
    """How long after a base event a conversion counts: `last` `grain`s."""

    last: int
    grain: str


@dataclass(frozen=True, slots=True)
class ConstantProperty:
    """A dimension both events of a conversion share: `base` on the base events, `conversion`
    on the conversions."""

    base: str
    conversion: str


@dataclass(frozen=True, slots=True)
class Conversion:
    """A conversion metric as written under `conversion:` (see `files.schema.ConversionSpec`
    and `compiler.conversion`): a plain record, so that a kept model holds nothing of
    pydantic's."""

    metric: str
    entity: str
    base_time: str
    time: str
    window: ConversionWindow | None = None
    calculation: str = "conversion_rate"
    constant_properties: tuple[ConstantProperty, ...] = ()


class NameSpans(Mapping[tuple[str, str, str], Span]):
    """Where each label, synonym and hidden label of a term is written, (how, language,
    text) -> span, all in the term's file: kept as one flat tuple of `(how, language, text,
    line, col)` items, each `Span` made when asked for. A model keeps one for each term
    (`files.loadcache`): 60,000 spans and their keys for 10,000 terms took a fifth of
    pickling it.

    >>> spans = NameSpans("g.yml", ("label", "en", "Revenue", 3, 5))
    >>> spans.get(("label", "en", "Revenue")), spans.get(("label", "fr", "CA"))
    (Span(file='g.yml', line=3, col=5), None)
    """

    __slots__ = ("_file", "_flat")

    def __init__(self, file: str, flat: tuple[str | int, ...] = ()) -> None:
        self._file = file
        self._flat = flat

    def __getitem__(self, key: tuple[str, str, str]) -> Span:
        flat = self._flat
        for at in range(0, len(flat), 5):
            if (flat[at], flat[at + 1], flat[at + 2]) == key:
                return Span(self._file, flat[at + 3], flat[at + 4])  # type: ignore[arg-type]
        raise KeyError(key)

    def __iter__(self) -> Iterator[tuple[str, str, str]]:
        flat = self._flat
        for at in range(0, len(flat), 5):
            yield flat[at], flat[at + 1], flat[at + 2]  # type: ignore[misc]

    def __len__(self) -> int:
        return len(self._flat) // 5

    def __reduce__(self) -> tuple[type[NameSpans], tuple[str, tuple[str | int, ...]]]:
        return NameSpans, (self._file, self._flat)


@_tuple_state
@dataclass(frozen=True, slots=True)
class Term:
    """A business term and its physical meaning.

    `expr` is the parsed expression (a dimension's value, a metric's aggregate or formula,
    a segment's condition). A derived metric has no entity; `refs` names the metrics it uses.
    """

    id: str
    kind: Kind
    domain: str
    labels: Mapping[str, str]
    synonyms: Mapping[str, tuple[str, ...]]
    definition: Mapping[str, str]
    owners: tuple[str, ...]
    status: str
    confidentiality: str
    tags: tuple[str, ...]
    entity: str | None
    expr: exp.Expression
    path: tuple[str, ...] = ()
    grains: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    #: a metric's own condition on rows, naming dimensions and segments by id
    filter: exp.Expression | None = None
    #: value of a group without rows (COUNT metrics: 0)
    fill_null: exp.Expression | None = None
    #: a metric summed over a time window, or shifted to an earlier period
    window: Window | None = None
    shift: Shift | None = None
    #: a conversion metric: `expr` names the base events' metric (see `compiler.conversion`)
    conversion: Conversion | None = None
    #: not summed over a time dimension (a balance, a stock level)
    semi_additive: SemiAdditive | None = None
    hidden_labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    scope_note: Mapping[str, str] = field(default_factory=dict)
    examples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    broader: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    exact_match: tuple[str, ...] = ()
    close_match: tuple[str, ...] = ()
    replaced_by: str | None = None
    #: the concept IRI kept from an imported vocabulary (else one under the export's base)
    iri: str | None = None
    #: dct:created and dct:modified, as the glossary states them
    created: date | None = None
    modified: date | None = None
    quality: tuple[QualityRule, ...] = ()
    span: Span = field(default_factory=lambda: Span("<unknown>"))
    #: where each label, synonym and hidden label is written: (how, language, text) -> span
    name_spans: Mapping[tuple[str, str, str], Span] = field(default_factory=dict, compare=False)

    @property
    def is_metric(self) -> bool:
        """Metrics aggregate; everything else describes rows."""
        return self.kind == "metric"

    @property
    def is_over_time(self) -> bool:
        """A metric computed across periods: a window or a shift."""
        return self.window is not None or self.shift is not None

    @property
    def is_conversion(self) -> bool:
        """A conversion metric: base events followed by conversion events of one entity."""
        return self.conversion is not None

    @property
    def reads_per(self) -> bool:
        """Whether its expression reads a metric per entity or at another grain,
        `MEASURE(metric) PER (...)` (`model.perterms`): the query language's, which other
        tools' files cannot carry."""
        return self.expr.find(exp.Per) is not None

    @property
    def is_derived(self) -> bool:
        """A metric computed from other metrics rather than from rows."""
        return self.kind == "metric" and self.entity is None

    def label(self, language: str) -> str:
        """The label in `language`, else the first label, else the id."""
        return self.labels.get(language) or next(iter(self.labels.values()), self.id)


@dataclass(frozen=True, slots=True)
class Domain:
    """A group of terms, one per glossary file."""

    id: str
    labels: Mapping[str, str]
    description: Mapping[str, str]
    terms: tuple[str, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class SubjectArea:
    """Dimensions and metrics that belong together, published as one view for BI tools.

    `dimensions` are term ids, or `term.grain` for a time dimension truncated to a grain;
    `filter` is a condition on dimensions and segments by id; every row belongs to each of
    `segments`.
    """

    id: str
    domain: str
    labels: Mapping[str, str]
    definition: Mapping[str, str]
    owners: tuple[str, ...]
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    filter: exp.Expression | None
    segments: tuple[str, ...]
    span: Span
    #: where each dimension and metric is written (as written: `order_date.year`)
    places: Mapping[str, Span] = field(default_factory=dict, compare=False)

    def label(self, language: str) -> str:
        """The label in `language`, else the first label, else the id."""
        return self.labels.get(language) or next(iter(self.labels.values()), self.id)


@dataclass(frozen=True, slots=True)
class NameEntry:
    """One way of naming a term: its id, or a label or synonym in a language."""

    term: str
    how: Literal["id", "label", "synonym", "misspelling"]
    language: str | None
    text: str

    def __reduce__(self) -> tuple[type[NameEntry], tuple[str, str, str | None, str]]:
        # pickled by the tens of thousands with a loaded model: see `Span.__reduce__`
        return NameEntry, (self.term, self.how, self.language, self.text)


@dataclass(frozen=True)
class Model:
    """The whole vocabulary, immutable once built."""

    name: str
    languages: tuple[str, ...]
    dialect: str
    fiscal_year_start: int
    entities: Mapping[str, Entity]
    edges: Mapping[str, tuple[Edge, ...]]
    terms: Mapping[str, Term]
    domains: Mapping[str, Domain]
    names: Mapping[str, tuple[NameEntry, ...]]
    #: memo of path searches (see `resolve.find_path`); the model itself never changes
    path_cache: dict[object, object] = field(default_factory=dict, compare=False, repr=False)
    #: subject areas by id: views for BI tools
    subject_areas: Mapping[str, SubjectArea] = field(default_factory=dict)
    #: IANA time zone in which time dimensions on instants (TIMESTAMPTZ) are read
    time_zone: str = "UTC"
    #: confidentiality levels, from the least to the most secret
    levels: tuple[str, ...] = DEFAULT_LEVELS
    #: the roles of the access policy file (none: only the owner's full access)
    policy: Policy = field(default_factory=Policy)

    def level_of(self, term_id: str) -> str:
        """A term's effective confidentiality: the most secret of its own level, its
        entity's and those of the entities whose columns its expression reads."""
        term = self.terms[term_id]
        found = [term.confidentiality]
        entities = {term.entity, *(c.table for c in term.expr.find_all(exp.Column))}
        for eid in entities:
            entity = self.entities.get(eid) if eid else None
            if entity is not None and entity.confidentiality is not None:
                found.append(entity.confidentiality)
        return max(found, key=self.rank_of)

    def rank_of(self, level: str) -> int:
        """The place of `level` among the project's levels (0: the least secret); an
        unknown level ranks as the most secret."""
        return self.levels.index(level) if level in self.levels else len(self.levels)

    def languages_besides(self, language: str) -> list[str]:
        """The other languages the terms' labels, definitions and synonyms are written in,
        sorted (what an export to a one-language format reports as not carried)."""
        return sorted(
            {
                lang
                for t in self.terms.values()
                for names in (t.labels, t.definition, t.synonyms)
                for lang in names
                if lang != language
            }
        )

    def terms_read(self, ids: Iterable[str]) -> set[str]:
        """The terms the given ones read: themselves, the metrics a derived metric is
        computed from, the terms of a metric's filter, the time dimension of a window or
        shift, and so on down (unknown ids are left out)."""
        names = list(ids)
        seen: set[str] = set()
        while names:
            tid = names.pop()
            term = self.terms.get(tid)
            if term is None or tid in seen:
                continue
            seen.add(tid)
            names += term.refs
            if term.filter is not None:
                names += [c.table or c.name for c in term.filter.find_all(exp.Column)]
            names += [spec.time for spec in (term.window, term.shift) if spec is not None]
            names += conversion_terms(term)
        return seen


def conversion_terms(term: Term) -> list[str]:
    """The time dimensions and dimensions a conversion metric reads besides its metrics."""
    spec = term.conversion
    if spec is None:
        return []
    names = [spec.base_time, spec.time]
    for same in spec.constant_properties:
        names += [same.base, same.conversion]
    return names


def name_entries(term: Term) -> list[NameEntry]:
    """The labels, synonyms and hidden labels (misspellings) of `term`, in that order.

    >>> term = Term("revenue", "metric", "sales", {"en": "Revenue"}, {"en": ("Sales",)},
    ...             {}, (), "approved", "internal", (), "orders", exp.Null())
    >>> [(e.how, e.text) for e in name_entries(term)]
    [('label', 'Revenue'), ('synonym', 'Sales')]
    """
    entries = [NameEntry(term.id, "label", lang, text) for lang, text in term.labels.items()]
    entries += [
        NameEntry(term.id, "synonym", lang, text)
        for lang, texts in term.synonyms.items()
        for text in texts
    ]
    entries += [
        NameEntry(term.id, "misspelling", lang, text)
        for lang, texts in term.hidden_labels.items()
        for text in texts
    ]
    return entries
