"""The publication gate, per view: a view is withheld when an error rule of what it uses
fails or could not be measured; the others are published.

What a view uses: the entities whose tables its SELECT reads (an entity's own rules and the
built-in rules of key integrity guard them), and the terms it shows or computes from (a
term's rules). A withheld view is neither created nor replaced: the version published
before, if any, stays as it was, with its copy of the data (SEM415, a warning per view).
With `force`, it is published anyway and its comment says which rules fail (SEM452).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlglot import exp

from semantic.errors import Diagnostic, Span
from semantic.model import Model, SubjectArea
from semantic.outputs.quality.results import QualityResult
from semantic.outputs.views import View, ViewPlan

_ROW_KINDS = ("dimension", "time_dimension", "segment")


def area_terms(model: Model, area: SubjectArea) -> set[str]:
    """The terms a subject area's numbers depend on: those it names and those they are
    computed from."""
    names = [w.partition(".")[0] for w in (*area.dimensions, *area.metrics, *area.segments)]
    if area.filter is not None:
        names += [c.table or c.name for c in area.filter.find_all(exp.Column)]
    return model.terms_read(names)


def view_uses(model: Model, view: View) -> tuple[set[str], set[str]]:
    """The entities a view reads and the terms it uses."""
    tables = {t.name for t in view.query.find_all(exp.Table)}
    entities = {e.id for e in model.entities.values() if e.table.split(".")[-1] in tables}
    if view.source == "entity":
        terms = {
            t.id
            for t in model.terms.values()
            if t.entity == view.name and t.kind in _ROW_KINDS and not t.path
        }
    else:
        terms = area_terms(model, model.subject_areas[view.name])
    return entities, terms


def guards(result: QualityResult, entities: set[str], terms: set[str]) -> bool:
    """Whether `result`'s rule guards what uses `entities` and `terms`: a rule of one of the
    entities, or of one of the terms."""
    rule = result.rule
    if rule.term is not None:
        return rule.term in terms
    return rule.entity in entities


def view_failures(
    model: Model, views: Sequence[View], results: Sequence[QualityResult]
) -> dict[str, list[QualityResult]]:
    """For each view that an error rule stops, the results that stop it."""
    failing = [r for r in results if r.fails]
    found: dict[str, list[QualityResult]] = {}
    for view in views:
        entities, terms = view_uses(model, view)
        stopping = [r for r in failing if guards(r, entities, terms)]
        if stopping:
            found[view.name] = stopping
    return found


def gate_plan(
    model: Model, plan: ViewPlan, results: Sequence[QualityResult], *, force: bool = False
) -> ViewPlan:
    """`plan` with the views whose data fails withheld (or, with `force`, published with a
    warning in their comment)."""
    stopped = view_failures(model, plan.views, results)
    if not stopped:
        return plan
    reasons = {name: "; ".join(r.explain() for r in found) for name, found in stopped.items()}
    if force:
        views = tuple(
            dataclasses.replace(v, comment=f"{v.comment} {_forced_note(stopped[v.name])}")
            if v.name in stopped
            else v
            for v in plan.views
        )
        notices = tuple(_forced(plan.schema, n, reasons[n]) for n in stopped)
        return dataclasses.replace(
            plan,
            views=views,
            forced=tuple(reasons.items()),
            notices=(*plan.notices, *notices),
        )
    return dataclasses.replace(
        plan,
        views=tuple(v for v in plan.views if v.name not in stopped),
        replaced=tuple(n for n in plan.replaced if n not in stopped),
        data_dropped=tuple(n for n in plan.data_dropped if n not in stopped),
        gated=tuple(reasons.items()),
        notices=(
            *plan.notices,
            *(_withheld(plan.schema, n, reasons[n], stopped[n][0].rule.span) for n in stopped),
        ),
    )


def _forced_note(found: Sequence[QualityResult]) -> str:
    keys = ", ".join(r.rule.key for r in found)
    return f"WARNING: published with --force while quality rule(s) {keys} fail (SEM452)."


def _withheld(schema: str, name: str, reason: str, span: Span | None) -> Diagnostic:
    return Diagnostic(
        "SEM415",
        f"view '{schema}.{name}' withheld: {reason}; the version published before, if "
        "any, stays as it was",
        span,
        "fix the data and apply again, or publish it anyway with --force",
        severity="warning",
    )


def _forced(schema: str, name: str, reason: str) -> Diagnostic:
    return Diagnostic(
        "SEM452",
        f"view '{schema}.{name}' published with --force: {reason}; its comment says so",
        None,
        "fix the data and apply again without --force",
        severity="warning",
    )
