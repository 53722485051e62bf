"""The checks of a conversion metric (`metric: {expr: <base metric>, conversion: {...}}`):
its two kinds of events are metrics over an entity, each reaching the entity whose events
are matched in one step, with a time dimension and the constant properties of its own.

What it computes is `semantic.compiler.conversion`'s; here only what the glossary says is
checked, so that the compiler can take it as sound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from semantic.errors import suggest
from semantic.model.types import Edge, Term

if TYPE_CHECKING:  # the compiler imports `key_columns` to compile: never the build's draft
    from semantic.model.draft import Draft


def check_conversion(draft: Draft, term: Term) -> bool:
    """Check conversion metric `term`; its two metrics become its `refs`."""
    spec = term.conversion
    assert spec is not None
    ok = True
    if term.fill_null is not None:
        draft.warn(
            "SEM229",
            f"fill_null of metric '{term.id}' has no effect: a conversion metric has no rows "
            "of its own; the fill_null of its conversion metric applies to its conversions",
            draft.term_span(term, "fill_null", value=True),
            "remove it",
        )
    base = _events(draft, term, term.expr, ("expr",), "base events")
    conversion = _events(
        draft, term, exp.column(spec.metric), ("conversion", "metric"), "conversion events"
    )
    if base is None or conversion is None:
        return False
    if spec.entity not in draft.entities:
        draft.report(
            "SEM202",
            f"conversion metric '{term.id}' matches the events of unknown entity '{spec.entity}'",
            draft.term_span(term, "conversion", "entity", value=True),
            suggest(spec.entity, draft.entities),
        )
        return False
    primary_key = draft.entities[spec.entity].primary_key
    for events in (base, conversion):
        assert events.entity is not None
        if key_columns(draft.edges, primary_key, events.entity, spec.entity) is None:
            ok = False
            draft.report(
                "SEM267",
                f"conversion metric '{term.id}': the rows of '{events.entity}' ({events.id}) "
                f"do not name one '{spec.entity}'",
                draft.term_span(term, "conversion", "entity", value=True),
                f"match events of an entity that '{events.entity}' is, or has a many_to_one "
                f"relationship to on its whole primary key",
            )
    pairs: list[tuple[str, Term, tuple[str | int, ...]]] = [
        (spec.base_time, base, ("base_time",)),
        (spec.time, conversion, ("time",)),
    ]
    for i, same in enumerate(spec.constant_properties):
        where = ("constant_properties", i)
        pairs += [(same.base, base, where), (same.conversion, conversion, where)]
    for name, events, path in pairs:
        ok = _own_dimension(draft, term, name, events, path) and ok
    if ok:
        draft.terms[term.id] = replace(term, refs=(base.id, conversion.id))
    return ok


def key_columns(
    edges: Mapping[str, Sequence[Edge]], primary_key: tuple[str, ...], source: str, entity: str
) -> tuple[str, ...] | None:
    """The columns of `source`'s rows that name one row of `entity`, in the order of its
    primary key: the key itself when `source` is `entity`, else the source columns of a
    to-one relationship onto that whole key; None when there is none (or no key)."""
    if not primary_key:
        return None
    if source == entity:
        return primary_key
    for edge in edges.get(source, ()):
        if edge.target != entity or not edge.to_one:
            continue
        target = {tgt: src for src, tgt in edge.keys}
        if set(target) == set(primary_key):
            return tuple(target[k] for k in primary_key)
    return None


def _events(
    draft: Draft, term: Term, named: exp.Expression, path: tuple[str, ...], what: str
) -> Term | None:
    """The metric over an entity that `named` (a bare term id) is, or None when reported."""
    span = draft.term_span(term, *path, value=True)
    if not isinstance(named, exp.Column) or named.table:
        draft.report(
            "SEM266",
            f"the {what} of conversion metric '{term.id}' must be one metric's id",
            span,
            "write the id of a metric over an entity, e.g. expr: visit_count",
        )
        return None
    other = draft.terms.get(named.name)
    if other is None:
        if named.name not in draft.broken:
            draft.report(
                "SEM201",
                f"unknown term '{named.name}' in conversion metric '{term.id}'",
                span,
                suggest(named.name, [t for t, x in draft.terms.items() if x.is_metric]),
            )
        return None
    if not other.is_metric or other.entity is None or other.is_over_time:
        draft.report(
            "SEM266",
            f"the {what} of conversion metric '{term.id}' must be a metric over an entity's "
            f"rows, but '{other.id}' is "
            + ("not a metric" if not other.is_metric else "computed from other metrics"),
            span,
            "name a metric with `entity:` that counts (or aggregates) the events",
        )
        return None
    return other


def _own_dimension(
    draft: Draft, term: Term, name: str, events: Term, path: tuple[str | int, ...]
) -> bool:
    """Whether `name` is a dimension of the events' own entity (no path): their time, or a
    constant property."""
    timed = path in (("base_time",), ("time",))
    other = draft.terms.get(name)
    span = draft.term_span(term, "conversion", *path, value=True)
    if other is None:
        if name not in draft.broken:
            kinds = ("time_dimension",) if timed else ("dimension", "time_dimension")
            draft.report(
                "SEM201",
                f"unknown term '{name}' in conversion metric '{term.id}'",
                span,
                suggest(name, [t for t, x in draft.terms.items() if x.kind in kinds]),
            )
        return False
    wanted = "time_dimension" if timed else other.kind
    if other.kind != wanted or other.kind not in ("dimension", "time_dimension"):
        draft.report(
            "SEM267",
            f"conversion metric '{term.id}' uses '{name}', a {other.kind.replace('_', ' ')}, "
            f"where a {'time ' if timed else ''}dimension of '{events.entity}' is needed",
            span,
            f"name a {'time ' if timed else ''}dimension of '{events.entity}'",
        )
        return False
    if other.entity != events.entity or other.path:
        draft.report(
            "SEM267",
            f"conversion metric '{term.id}' uses '{name}', a dimension of '{other.entity}', "
            f"for events of '{events.entity}' ({events.id})",
            span,
            f"name a dimension defined on '{events.entity}' itself (no path)",
        )
        return False
    return True
