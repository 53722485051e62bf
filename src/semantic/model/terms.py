"""Glossary files read into the draft: a domain per file, its terms with their expressions
parsed, and its subject areas set aside until every term is known (see `areas`).
"""

from __future__ import annotations

from sqlglot import exp

from semantic.errors import Span
from semantic.files.read import Below, Document
from semantic.files.schema import (
    ConversionSpec,
    GlossaryFile,
    SemiAdditiveSpec,
    ShiftSpec,
    TermSpec,
    WindowSpec,
)
from semantic.model.draft import Draft
from semantic.model.nodes import settle
from semantic.model.types import (
    ConstantProperty,
    Conversion,
    ConversionWindow,
    Domain,
    Kind,
    NameSpans,
    SemiAdditive,
    Shift,
    Term,
    Window,
)

_KIND_KEYS: tuple[Kind, ...] = ("dimension", "time_dimension", "metric", "segment", "concept")


def add_domain(draft: Draft, doc: Document[GlossaryFile]) -> None:
    """The domain of one glossary file and its terms, each defined once (SEM103) with valid
    SQL (SEM104); a term with invalid SQL is left out and marked broken."""
    data = doc.data
    if data.domain in draft.domains:
        draft.defined_twice(
            f"domain '{data.domain}'",
            doc.span(("domain",), value=True),
            draft.domains[data.domain].span,
        )
        return
    ids: list[str] = []
    for tid, spec in data.terms.items():
        # the term's keys are found from its place, not from the top of the file each time
        place = doc.below(("terms", tid))
        span = place.here
        if tid in draft.terms:
            draft.defined_twice(f"term '{tid}'", span, draft.terms[tid].span)
            continue
        term = _read_term(draft, doc, tid, spec, place)
        if term is None:
            draft.broken.add(tid)
            continue
        draft.terms[tid] = term
        draft.term_docs[tid] = doc
        if spec.quality:
            draft.pending_quality[tid] = spec.quality
        ids.append(tid)
    draft.domains[data.domain] = Domain(
        data.domain,
        dict(data.label),
        dict(data.description),
        tuple(ids),
        doc.span(("domain",), value=True),
    )
    draft.area_docs += [(sid, spec, doc) for sid, spec in data.subject_areas.items()]


def _read_term(
    draft: Draft, doc: Document[GlossaryFile], tid: str, spec: TermSpec, place: Below
) -> Term | None:
    """The term as written, its expression and filter parsed; None once SEM104 is reported."""
    kind = next(k for k in _KIND_KEYS if getattr(spec, k) is not None)
    meaning = getattr(spec, kind)
    # the keys of this kind of meaning, by name: `getattr` of a key another kind has (a
    # dimension's `filter`) goes through pydantic's `__getattr__` and an exception
    given = vars(meaning)
    if kind == "concept":  # no expression: NULL stands for it, and nothing ever compiles it
        key = "expr"
        parsed: exp.Expression | None = settle(exp.Null())
    else:
        key = "condition" if kind == "segment" else "expr"
        parsed = draft.parse(
            getattr(meaning, key),
            f"{key} of term '{tid}'",
            place.span((kind, key), value=True),
            "write a SQL expression, e.g. sum(l_extendedprice * (1 - l_discount))",
            at_error=True,
        )
    if parsed is None:
        return None
    condition = given.get("filter")
    parsed_filter = None
    if condition is not None:
        parsed_filter = draft.parse(
            condition,
            f"filter of term '{tid}'",
            place.span((kind, "filter"), value=True),
            "write a condition on terms, e.g. part_type LIKE 'PROMO%'",
        )
        if parsed_filter is None:
            return None
    return Term(
        id=tid,
        kind=kind,
        domain=doc.data.domain,
        labels=dict(spec.label),
        synonyms={lang: tuple(v) for lang, v in spec.synonyms.items()},
        definition=dict(spec.definition),
        owners=tuple(spec.owners),
        status=spec.status,
        confidentiality=draft.level(
            spec.confidentiality, place.span(("confidentiality",), value=True)
        ),
        tags=tuple(spec.tags),
        entity=given.get("entity"),
        expr=parsed,
        path=tuple(given.get("path") or ()),
        grains=tuple(given.get("grains") or ()),
        filter=parsed_filter,
        fill_null=_fill_value(meaning, parsed),
        window=_window(given.get("window")),
        shift=_shift(given.get("shift")),
        conversion=_conversion(given.get("conversion")),
        semi_additive=_semi_additive(given.get("semi_additive")),
        hidden_labels={lang: tuple(v) for lang, v in spec.hidden_labels.items()},
        scope_note=dict(spec.scope_note),
        examples={lang: tuple(v) for lang, v in spec.examples.items()},
        broader=tuple(spec.broader),
        related=tuple(spec.related),
        exact_match=tuple(spec.exact_match),
        close_match=tuple(spec.close_match),
        replaced_by=spec.replaced_by,
        iri=spec.iri,
        created=spec.created,
        modified=spec.modified,
        span=place.here,
        name_spans=_name_spans(place, spec),
    )


def _window(spec: WindowSpec | None) -> Window | None:
    """The model's record of a `window:` as validated."""
    if spec is None:
        return None
    return Window(spec.time, spec.last, spec.grain, spec.to_date, spec.rolling, spec.period_value)


def _shift(spec: ShiftSpec | None) -> Shift | None:
    """The model's record of a `shift:` as validated."""
    return None if spec is None else Shift(spec.time, spec.periods, spec.grain, spec.to_start_of)


def _semi_additive(spec: SemiAdditiveSpec | None) -> SemiAdditive | None:
    """The model's record of a `semi_additive:` as validated."""
    return None if spec is None else SemiAdditive(spec.time, spec.period_value)


def _conversion(spec: ConversionSpec | None) -> Conversion | None:
    """The model's record of a `conversion:` as validated."""
    if spec is None:
        return None
    window = spec.window
    return Conversion(
        spec.metric,
        spec.entity,
        spec.base_time,
        spec.time,
        None if window is None else ConversionWindow(window.last, window.grain),
        spec.calculation,
        tuple(ConstantProperty(p.base, p.conversion) for p in spec.constant_properties),
    )


def _name_spans(place: Below, spec: TermSpec) -> NameSpans:
    """Where each label, synonym and hidden label of a term is written (`place`: the
    term's); a name written twice is where it is first written."""
    flat: list[str | int] = []
    seen: set[tuple[str, str, str]] = set()

    def add(how: str, lang: str, text: str, span: Span) -> None:
        if (how, lang, text) not in seen:
            seen.add((how, lang, text))
            flat.extend((how, lang, text, span.line, span.col))

    labels = place.below(("label",))
    for lang, text in spec.label.items():
        add("label", lang, text, labels.span((lang,), value=True))
    for how, key, named in (
        ("synonym", "synonyms", spec.synonyms),
        ("misspelling", "hidden_labels", spec.hidden_labels),
    ):
        if not named:
            continue
        names = place.below((key,))
        for lang, texts in named.items():
            written = names.below((lang,))
            for i, text in enumerate(texts):
                add(how, lang, text, written.span((i,)))
    return NameSpans(place.name, tuple(flat))


def _fill_value(meaning: object, parsed: exp.Expression) -> exp.Expression | None:
    """What a group with no row shows for a metric: the declared `fill_null`, NULL when
    `fill_null: null` is written, else 0 for a count (as SQL's COUNT over no rows), else
    nothing (NULL).

    >>> class Count:
    ...     entity, fill_null = "orders", None
    >>> _fill_value(Count(), exp.Count(this=exp.Star())).sql()
    '0'
    """
    declared = getattr(meaning, "fill_null", None)
    if declared is not None:
        return exp.Literal.number(int(declared) if float(declared).is_integer() else declared)
    if "fill_null" in getattr(meaning, "model_fields_set", ()):
        return None  # `fill_null: null` written: NULL, a count's 0 included (as MetricFlow)
    if isinstance(parsed, exp.Count) and getattr(meaning, "entity", None) is not None:
        return exp.Literal.number(0)
    return None
