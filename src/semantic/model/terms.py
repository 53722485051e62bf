"""Glossary files read into the draft: a domain per file, its terms with their expressions
parsed, and its subject areas set aside until every term is known (see `areas`).
"""

from __future__ import annotations

from sqlglot import exp

from semantic.errors import Span
from semantic.files.read import Document
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
        span = doc.span(("terms", tid))
        if tid in draft.terms:
            draft.defined_twice(f"term '{tid}'", span, draft.terms[tid].span)
            continue
        term = _read_term(draft, doc, tid, spec, span)
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
    draft: Draft, doc: Document[GlossaryFile], tid: str, spec: TermSpec, span: Span
) -> Term | None:
    """The term as written, its expression and filter parsed; None once SEM104 is reported."""
    kind = next(k for k in _KIND_KEYS if getattr(spec, k) is not None)
    meaning = getattr(spec, kind)
    if kind == "concept":  # no expression: NULL stands for it, and nothing ever compiles it
        key = "expr"
        parsed: exp.Expression | None = settle(exp.Null())
    else:
        key = "condition" if kind == "segment" else "expr"
        parsed = draft.parse(
            getattr(meaning, key),
            f"{key} of term '{tid}'",
            doc.span(("terms", tid, kind, key), value=True),
            "write a SQL expression, e.g. sum(l_extendedprice * (1 - l_discount))",
            at_error=True,
        )
    if parsed is None:
        return None
    condition = getattr(meaning, "filter", None)
    parsed_filter = None
    if condition is not None:
        parsed_filter = draft.parse(
            condition,
            f"filter of term '{tid}'",
            doc.span(("terms", tid, kind, "filter"), value=True),
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
            spec.confidentiality, doc.span(("terms", tid, "confidentiality"), value=True)
        ),
        tags=tuple(spec.tags),
        entity=getattr(meaning, "entity", None),
        expr=parsed,
        path=tuple(getattr(meaning, "path", ()) or ()),
        grains=tuple(getattr(meaning, "grains", ()) or ()),
        filter=parsed_filter,
        fill_null=_fill_value(meaning, parsed),
        window=_window(getattr(meaning, "window", None)),
        shift=_shift(getattr(meaning, "shift", None)),
        conversion=_conversion(getattr(meaning, "conversion", None)),
        semi_additive=_semi_additive(getattr(meaning, "semi_additive", None)),
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
        span=span,
        name_spans=_name_spans(doc, tid, spec),
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


def _name_spans(
    doc: Document[GlossaryFile], tid: str, spec: TermSpec
) -> dict[tuple[str, str, str], Span]:
    """Where each label, synonym and hidden label of a term is written."""
    found = {
        ("label", lang, text): doc.span(("terms", tid, "label", lang), value=True)
        for lang, text in spec.label.items()
    }
    for how, key, named in (
        ("synonym", "synonyms", spec.synonyms),
        ("misspelling", "hidden_labels", spec.hidden_labels),
    ):
        for lang, texts in named.items():
            for i, text in enumerate(texts):
                found.setdefault((how, lang, text), doc.span(("terms", tid, key, lang, i)))
    return found


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
