"""Quality rules measured on the data, as SQL: one scan per table for every rule that one
SELECT of aggregates can answer (each row rule as a SUM(CASE ...), an aggregate rule's
condition, a freshness rule's MAX, the row count), then one query per unique and per custom
rule.

A rule the dialect cannot write (a pattern on SQLite: SEM316) or the engine cannot run is
not measured, and says why (SEM450): the others still are. When the scan fails as a whole,
its rules are measured one by one to find the one at fault.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlglot import exp

from semantic.compiler.dialects import column_types, to_sql
from semantic.compiler.naming import readable
from semantic.engines.integrity import PRIMARY_KEY, Fetch, KeyMeasure, measure_keys
from semantic.errors import SemanticError
from semantic.model import Entity, Model, QualityRule
from semantic.model.nodes import column, table
from semantic.outputs.quality.results import QualityResult
from semantic.progress import task

#: rules answered by the table's scan: each adds one aggregate to it
_SCANNED = ("check", "not_null", "accepted_values", "range", "pattern", "aggregate", "freshness")


def declared_rules(model: Model) -> list[QualityRule]:
    """The rules the files declare, entity by entity: the entity's, then its terms'."""
    return [
        rule
        for entity in model.entities.values()
        for rule in [
            *entity.quality,
            *(r for t in model.terms.values() for r in t.quality if r.entity == entity.id),
        ]
    ]


def measure_quality(
    model: Model,
    fetch: Fetch,
    dialect: str = "duckdb",
    *,
    rules: Sequence[QualityRule] | None = None,
    now: dt.datetime | None = None,
) -> list[QualityResult]:
    """The declared quality rules of `model` (or `rules`) measured on the data, in their
    order. A row meets a row rule when its condition is true (NULL does not count as met;
    the kinds other than `check` let NULL values pass, as not_null is the rule for them).
    `now` is when the run started (freshness counts ages from it)."""
    chosen = declared_rules(model) if rules is None else list(rules)
    at = now or dt.datetime.now(dt.UTC)
    by_entity: dict[str, list[QualityRule]] = {}
    for rule in chosen:
        by_entity.setdefault(rule.entity, []).append(rule)
    alone = [r for r in chosen if r.kind in ("unique", "custom")]
    found: dict[int, QualityResult] = {}
    measurer = _Measurer(model, fetch, dialect, at)
    with task("measuring quality rules", total=len(by_entity) + len(alone)) as step:
        for eid, rules in by_entity.items():
            entity = model.entities[eid]
            scanned = [r for r in rules if r.kind not in ("unique", "custom")]
            step(f"{eid}: {len(scanned)} rule(s) in one scan")
            rows, results = measurer.scan(entity, scanned)
            found.update((id(r), res) for r, res in zip(scanned, results, strict=True))
            for rule in rules:
                if rule.kind in ("unique", "custom"):
                    step(f"{eid}: {rule.id}")
                    found[id(rule)] = measurer.alone(entity, rule, rows)
    return [found[id(rule)] for rule in chosen]


class _Measurer:
    def __init__(self, model: Model, fetch: Fetch, dialect: str, at: dt.datetime) -> None:
        self.model, self.fetch, self.dialect, self.at = model, fetch, dialect, at
        self.types = column_types(model)

    def sql(self, tree: exp.Expression) -> str:
        return to_sql(tree, self.dialect, schema=self.types)

    def run(self, tree: exp.Expression) -> list[tuple[Any, ...]]:
        return self.fetch(self.sql(tree))

    def scan(self, entity: Entity, rules: list[QualityRule]) -> tuple[int, list[QualityResult]]:
        """The row count of `entity` and the results of `rules`, in one SELECT (rules the
        dialect cannot write, or that the engine refuses, measured apart or not at all)."""
        source = table(entity.table)
        count = exp.Count(this=exp.Star())
        written: dict[int, str] = {}  # rule -> why it cannot be written
        for rule in rules:
            try:
                self.sql(exp.select(_aggregate(rule)).from_(source.copy()))
            except SemanticError as exc:
                written[id(rule)] = exc.diagnostics[0].message
        runnable = [r for r in rules if id(r) not in written]
        # each aggregate named, as result columns should be: rule_1, rule_2...
        query = exp.select(
            exp.alias_(count, "row_count"),
            *(exp.alias_(_aggregate(r), f"rule_{i}") for i, r in enumerate(runnable, 1)),
        ).from_(source)
        values: dict[int, Any] = {}
        try:
            (row,) = self.run(query)
            rows = int(row[0] or 0)
            values = {id(r): v for r, v in zip(runnable, row[1:], strict=True)}
        except Exception:  # noqa: BLE001 - the engine's own errors: find the rule at fault
            rows = int(self.run(exp.select(count.copy()).from_(source.copy()))[0][0] or 0)
            for rule in runnable:
                try:
                    ((value,),) = self.run(exp.select(_aggregate(rule)).from_(source.copy()))
                    values[id(rule)] = value
                except Exception as exc:  # noqa: BLE001
                    written[id(rule)] = _first_line(exc)
        results = []
        for rule in rules:
            if id(rule) in written:
                results.append(self.unmeasured(rule, rows, written[id(rule)]))
            else:
                results.append(self.judged(rule, rows, values.get(id(rule))))
        return rows, results

    def judged(self, rule: QualityRule, rows: int, value: Any) -> QualityResult:
        if rule.kind == "row_count":
            low, high = rule.minimum, rule.maximum
            holds = (low is None or rows >= low) and (high is None or rows <= high)
            return QualityResult(rule, rows, rows, value=str(rows), holds=holds, at=self.at)
        if rule.kind == "aggregate":
            return QualityResult(rule, rows, rows, holds=bool(value), at=self.at)
        if rule.kind == "freshness":
            return self.fresh(rule, rows, value)
        return QualityResult(rule, rows, int(value or 0), at=self.at)

    def fresh(self, rule: QualityRule, rows: int, latest: Any) -> QualityResult:
        """Whether the latest value of a freshness rule is recent enough."""
        if latest is None:
            return QualityResult(rule, rows, rows, value="no value", holds=False, at=self.at)
        if isinstance(latest, dt.datetime):
            moment = latest
        elif isinstance(latest, dt.date):
            moment = dt.datetime(latest.year, latest.month, latest.day)
        else:
            return self.unmeasured(
                rule, rows, f"its latest value {latest!r} is not a date or a timestamp"
            )
        zone = ZoneInfo(self.model.time_zone)
        if rule.as_of is not None:
            now = rule.as_of.replace(tzinfo=zone) if moment.tzinfo else rule.as_of
        else:
            local = self.at.astimezone(zone)
            now = local if moment.tzinfo else local.replace(tzinfo=None)
        age = now - moment
        assert rule.max_age is not None
        shown = f"{latest.isoformat()}, {_age(age)} old"
        return QualityResult(rule, rows, rows, value=shown, holds=age <= rule.max_age, at=self.at)

    def unmeasured(self, rule: QualityRule, rows: int, why: str) -> QualityResult:
        return QualityResult(rule, rows, 0, measured=False, error=why, at=self.at)

    def alone(self, entity: Entity, rule: QualityRule, rows: int) -> QualityResult:
        """A unique or custom rule, by a query of its own."""
        if rule.kind == "unique":
            query = _repeated(entity, rule.check)
        else:
            query = exp.select(exp.Count(this=exp.Star())).from_(
                cast(exp.Query, rule.check.copy()).subquery("failures")
            )
        try:
            (row,) = self.run(query)
        except SemanticError as exc:
            return self.unmeasured(rule, rows, exc.diagnostics[0].message)
        except Exception as exc:  # noqa: BLE001 - the engine's own error type
            return self.unmeasured(rule, rows, _first_line(exc))
        failing = int(row[0] or 0)
        if rule.kind == "custom":
            return QualityResult(rule, rows, max(rows - failing, 0), value=str(failing), at=self.at)
        return QualityResult(rule, rows, rows - failing, at=self.at)


def _aggregate(rule: QualityRule) -> exp.Expression:
    """The aggregate that the table's scan computes for `rule`."""
    if rule.kind == "aggregate":
        return _case(rule.check.copy())
    if rule.kind == "freshness":
        return exp.Max(this=rule.check.copy())
    if rule.kind == "row_count":
        return exp.Count(this=exp.Star())
    return exp.Sum(this=_case(rule.check.copy()))


def _case(condition: exp.Expression) -> exp.Expression:
    return exp.Case(
        ifs=[exp.If(this=condition, true=exp.Literal.number(1))],
        default=exp.Literal.number(0),
    )


def _repeated(entity: Entity, value: exp.Expression) -> exp.Select:
    """SELECT how many rows have a (non-NULL) value that another row has too."""
    inner = (
        exp.select(exp.alias_(exp.Count(this=exp.Star()), "copies"))
        .from_(table(entity.table))
        .where(value.copy().is_(exp.null()).not_())
        .group_by(value.copy())
        .having(exp.Count(this=exp.Star()) > 1)
    )
    return exp.select(exp.func("sum", exp.column("copies"))).from_(inner.subquery("repeated"))


def _age(age: dt.timedelta) -> str:
    days = age.total_seconds() / 86400
    return f"{days:.1f} days" if abs(days) >= 1 else f"{age.total_seconds() / 3600:.1f} hours"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --- the built-in rules of key integrity ------------------------------------------------------


def measure_key_rules(
    model: Model, fetch: Fetch, dialect: str = "duckdb", *, now: dt.datetime | None = None
) -> list[QualityResult]:
    """The built-in rules of key integrity measured on the data (see the package's doc)."""
    at = now or dt.datetime.now(dt.UTC)
    return [
        QualityResult(key_rule(m, model), m.rows, m.rows - m.failing, at=at)
        for m in measure_keys(model, fetch, dialect)
    ]


def key_rule(measure: KeyMeasure, model: Model | None = None) -> QualityRule:
    """The built-in quality rule that `measure` measures (its span: the entity's, when
    `model` is given)."""
    columns = [column(c) for c in measure.columns]
    cols = ", ".join(measure.columns)
    shown = f"({cols})" if len(measure.columns) > 1 else cols
    present = cast(exp.Expression, exp.and_(*(c.is_(exp.null()).not_() for c in columns)))
    span = model.entities[measure.entity].span if model is not None else None

    def rule(*args: Any, **named: Any) -> QualityRule:
        return replace(QualityRule(*args, **named), span=span)

    if measure.declared_not_null:
        return rule(
            f"{readable(cols)}_not_null",
            measure.entity,
            "completeness",
            present,
            f"{shown} IS NOT NULL",
            f"{shown} is never NULL, as the model declares (`nullable: false`, built-in).",
            1.0,
            kind="not_null",
        )
    if measure.kind == "total":
        return rule(
            f"{readable(measure.relationship)}_required",
            measure.entity,
            "integrity",
            present,
            f"{shown} is not NULL and matches a row of {measure.detail}",
            f"Every row's {shown} finds its row in {measure.path}, as the relationship "
            "declares (`required: true`, built-in).",
            1.0,
            kind="relationship",
        )
    if measure.kind == "not_null":
        return rule(
            "primary_key_not_null",
            measure.entity,
            "completeness",
            present,
            f"{shown} IS NOT NULL",
            f"No part of the primary key {shown} is NULL (built-in).",
            1.0,
            kind="not_null",
        )
    if measure.kind == "unique":
        primary = measure.why == PRIMARY_KEY
        return rule(
            "primary_key_unique" if primary else f"key_unique_{readable(cols)}",
            measure.entity,
            "uniqueness",
            present,
            f"each value of {shown} appears once",
            f"Each value of {shown} appears in one row only, as {measure.why} says (built-in).",
            1.0,
            kind="unique",
        )
    if measure.kind == "match":
        return rule(
            f"{readable(measure.relationship)}_found",
            measure.entity,
            "integrity",
            present,
            f"{shown} is NULL or matches a row of {measure.detail}",
            f"A row's {shown} finds its row in {measure.path} (built-in, measured only).",
            0.0,
            kind="relationship",
            severity="warning",
        )
    return rule(
        f"{readable(measure.detail)}_found",
        measure.entity,
        "completeness",
        present,
        f"the row reached by {measure.path} exists",
        f"The rows of {measure.entity} that {measure.why} reads through {measure.path} find "
        f"their row of {measure.detail}; the others are left out of the metric (built-in, "
        "measured only).",
        0.0,
        term=measure.metric,
        kind="coverage",
        severity="warning",
    )
