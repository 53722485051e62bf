"""Quality rules measured on the data (docs/quality.md).

The rules the files declare are of ten kinds (`model.quality`); `measure` runs them as SQL,
one scan per table where it can. Besides them, every project has built-in rules of key
integrity, measured by `semantic.engines.integrity`: each primary key is never NULL and
unique (threshold 1: a broken key fails `semantic quality` and the views over its entity),
each key on the "one" side of a relationship is unique (threshold 1), each foreign key of a
many-to-one relationship finds its row, and each metric whose expression reads another
entity's column has that row (threshold 0, severity warning: measured and shown, never
failing, as the rows without a match are legal).

`run_quality` measures them all, records the run in the history (`engines.quality_store`)
and returns a `QualityRun`; `scorecard` sums results up per term, entity and subject area;
`gate` decides which views may be published; `reports` writes JUnit XML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

from semantic.audit import recorded
from semantic.engines.base import Engine
from semantic.engines.quality_store import StoredResult, record_run, stored_history
from semantic.errors import Diagnostic, SemanticError, error, suggest
from semantic.model import Model, QualityRule
from semantic.outputs.access import model_for
from semantic.outputs.quality.measure import (
    declared_rules,
    key_rule,
    measure_key_rules,
    measure_quality,
)
from semantic.outputs.quality.results import QualityResult, QualityRun, failing_rules
from semantic.project import Project

__all__ = [
    "QualityResult",
    "QualityRun",
    "declared_rules",
    "failing_rules",
    "key_rule",
    "measure_all",
    "measure_key_rules",
    "measure_quality",
    "project_quality",
    "quality_history",
    "role_model",
    "run_quality",
    "select_rules",
]


def measure_all(
    model: Model, engine: Engine, *, now: dt.datetime | None = None
) -> list[QualityResult]:
    """Every declared rule of `model`, then the built-in rules of key integrity, measured on
    `engine`'s data."""
    at = now or dt.datetime.now(dt.UTC)
    declared = measure_quality(model, engine.fetch, engine.dialect, now=at)
    return declared + measure_key_rules(model, engine.fetch, engine.dialect, now=at)


def project_quality(project: Project, engine: Engine | str | None = None) -> list[QualityResult]:
    """Every quality rule of `project`'s glossary and model measured on its data (on
    `engine`: an engine, or its name or URL; the project's default when None), then the
    built-in rules of key integrity."""
    return measure_all(project.model, project.engine_for(engine))


def run_quality(
    project: Project,
    engine: Engine | str | None = None,
    *,
    only: Sequence[str] = (),
    record: bool = True,
    role: str | None = None,
) -> QualityRun:
    """Measure the rules of `project` (those named in `only`, by id or key, when given) on
    `engine`, and record the run in the project's quality history unless `record` is
    False (a history that cannot be written is a SEM453 warning of the run). With `role`,
    only the rules that role may see (`role_model`); SEM338 for a role with row filters.
    The run writes an audit record (`quality`) when auditing is on."""
    with recorded(
        project,
        "quality",
        text=" ".join(only) or None,
        form="rules" if only else None,
        role=role,
        engine=engine,
    ) as audit:
        model = role_model(project, role)
        target = project.engine_for(engine)
        at = dt.datetime.now(dt.UTC)
        results = measure_all(model, target, now=at)
        if only:
            keys = set(select_rules(model, only, [r.rule for r in results]))
            results = [r for r in results if r.rule.key in keys]
        audit["terms"] = list(dict.fromkeys(r.rule.term for r in results if r.rule.term))
    label = project.engine_label(engine)
    notices = [_unmeasured(r) for r in results if not r.measured]
    if record:
        try:
            record_run(project.quality_history, [r.stored(label) for r in results])
        except SemanticError as exc:
            notices += [replace(d, severity="warning") for d in exc.diagnostics]
    return QualityRun(tuple(results), at, label, tuple(notices))


def role_model(project: Project, role: str | None) -> Model:
    """The model whose rules `role` may see measured: the model as the role sees it
    (`outputs.access.model_for`: no rule of a term above its clearance, of a column only
    such terms read, or of a column a masked term reads); the whole model without a role.
    SEM256 for an unknown role; SEM338 for a role with row filters, since every rule is
    measured over every row and its counts would tell of the rows the role may not read."""
    if role is None:
        return project.model
    found = project.model.policy.role(role)
    if found.filters:
        raise error(
            "SEM338",
            f"quality results cannot be shown to role '{role}': they are measured over every "
            "row, and the role's filters keep some rows from it",
            found.span,
            "measure the quality rules without --role, or as a role without row filters",
        )
    return model_for(project.model, role)


def select_rules(model: Model, names: Sequence[str], rules: Sequence[QualityRule]) -> list[str]:
    """The keys of the rules named (an id, or a key `<term or entity>.<id>`); SEM262 for a
    name that is neither."""
    keys: list[str] = []
    for name in names:
        found = [r.key for r in rules if name in (r.key, r.id)]
        if not found:
            raise error(
                "SEM262",
                f"unknown quality rule '{name}'",
                None,
                suggest(name, sorted({r.key for r in rules} | {r.id for r in rules}))
                or "`semantic quality` lists every rule; name one by its id or as "
                "<term or entity>.<id>",
            )
        keys += found
    return keys


def _unmeasured(result: QualityResult) -> Diagnostic:
    rule = result.rule
    return Diagnostic(
        "SEM450",
        f"quality rule '{rule.key}' could not be measured: {result.error}",
        rule.span,
        "write the rule in SQL that this engine runs (docs/quality.md says what each "
        "dialect supports); until then it fails, and withholds the views over its entity",
    )


def quality_history(
    project: Project, names: Sequence[str] = (), role: str | None = None
) -> list[StoredResult]:
    """What the project's quality history holds, newest run first: every rule's results,
    or those of the rules `names` (ids or keys; SEM262 for a rule never recorded); with
    `role`, those of the rules it may see (`role_model`, SEM338 as there)."""
    stored = stored_history(project.quality_history)
    if role is not None:
        stored = _seen(project.model, role_model(project, role), stored)
    if not names:
        return stored
    keys = {s.rule for s in stored}
    wanted: set[str] = set()
    for name in names:
        found = {k for k in keys if name in (k, k.partition(".")[2])}
        if not found:
            raise error(
                "SEM262",
                f"no quality rule '{name}' in the history {project.quality_history}",
                None,
                suggest(name, sorted(keys | {k.partition(".")[2] for k in keys}))
                or "run `semantic quality` first; name a rule by its id or as "
                "<term or entity>.<id>",
            )
        wanted |= found
    return [s for s in stored if s.rule in wanted]


def _seen(model: Model, seen: Model, stored: Sequence[StoredResult]) -> list[StoredResult]:
    """The `stored` results of the rules of `seen` (the model as a role sees it): the
    declared rules it keeps, and the built-in rules of key integrity over its entities and
    terms."""
    declared = {r.key for r in declared_rules(model)}
    kept = {r.key for r in declared_rules(seen)}
    return [
        s
        for s in stored
        if s.rule in kept
        or (
            s.rule not in declared
            and s.entity in seen.entities
            and (s.term is None or s.term in seen.terms)
        )
    ]
