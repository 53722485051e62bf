"""Quality rules measured on the data: the share of rows of an entity that meet each rule.

Besides the rules the model and glossary declare, every project has built-in rules of key
integrity, measured by `semantic.engines.integrity`: each primary key is never NULL and
unique (threshold 1: a broken key fails `semantic quality` and the publication gate), each
key on the "one" side of a relationship is unique (threshold 1), each foreign key of a
many-to-one relationship finds its row, and each metric whose expression reads another
entity's column has that row (threshold 0: measured and shown, never failing, as the rows
without a match are legal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlglot import exp

from semantic.compiler.dialects import column_types, to_sql
from semantic.compiler.naming import readable
from semantic.engines.base import Engine
from semantic.engines.integrity import Fetch, KeyMeasure, measure_keys
from semantic.model import Model, QualityRule
from semantic.model.nodes import column, table
from semantic.progress import task
from semantic.project import Project


@dataclass(frozen=True, slots=True)
class QualityResult:
    """How the rows of an entity fare against one quality rule."""

    rule: QualityRule
    rows: int
    passing: int

    @property
    def score(self) -> float:
        """The share of rows that meet the rule (1.0 for an empty table)."""
        return self.passing / self.rows if self.rows else 1.0

    @property
    def passed(self) -> bool:
        """Whether the share reaches the rule's threshold."""
        return self.score >= self.rule.threshold

    def as_dict(self) -> dict[str, Any]:
        """The result as a row of `semantic quality`'s table."""
        return {
            "rule": self.rule.id,
            "entity": self.rule.entity,
            "term": self.rule.term,
            "dimension": self.rule.dimension,
            "check": self.rule.text,
            "rows": self.rows,
            "failing": self.rows - self.passing,
            "score": self.score,
            "threshold": self.rule.threshold,
            "passed": self.passed,
        }


def measure_quality(model: Model, fetch: Fetch, dialect: str = "duckdb") -> list[QualityResult]:
    """Every quality rule of the model measured on the data. A row meets a rule when its
    check is true (a NULL result does not count as met)."""
    results = []
    types = column_types(model)
    rules = [
        rule
        for entity in model.entities.values()
        for rule in [
            *entity.quality,
            *(r for t in model.terms.values() for r in t.quality if r.entity == entity.id),
        ]
    ]
    with task("measuring quality rules", total=len(rules)) as step:
        for rule in rules:
            step(f"{rule.entity}: {rule.id}")
            entity = model.entities[rule.entity]
            met = exp.Sum(
                this=exp.Case(
                    ifs=[exp.If(this=rule.check.copy(), true=exp.Literal.number(1))],
                    default=exp.Literal.number(0),
                )
            )
            sql = exp.select(exp.Count(this=exp.Star()), met).from_(table(entity.table))
            ((rows, passing),) = fetch(to_sql(sql, dialect, schema=types, copy=False))
            results.append(QualityResult(rule, int(rows), int(passing or 0)))
    return results


def measure_key_rules(model: Model, fetch: Fetch, dialect: str = "duckdb") -> list[QualityResult]:
    """The built-in rules of key integrity measured on the data (see the module's doc)."""
    return [_key_result(m) for m in measure_keys(model, fetch, dialect)]


def key_rule(measure: KeyMeasure) -> QualityRule:
    """The built-in quality rule that `measure` measures."""
    columns = [column(c) for c in measure.columns]
    cols = ", ".join(measure.columns)
    shown = f"({cols})" if len(measure.columns) > 1 else cols
    present = cast(exp.Expression, exp.and_(*(c.is_(exp.null()).not_() for c in columns)))
    if measure.kind == "not_null":
        return QualityRule(
            "primary_key_not_null",
            measure.entity,
            "completeness",
            present,
            f"{shown} IS NOT NULL",
            f"No part of the primary key {shown} is NULL (built-in).",
            1.0,
        )
    if measure.kind == "unique":
        primary = measure.why == "its primary key"
        return QualityRule(
            "primary_key_unique" if primary else f"key_unique_{readable(cols)}",
            measure.entity,
            "uniqueness",
            present,
            f"each value of {shown} appears once",
            f"Each value of {shown} appears in one row only, as {measure.why} says (built-in).",
            1.0,
        )
    if measure.kind == "match":
        return QualityRule(
            f"{readable(measure.relationship)}_found",
            measure.entity,
            "consistency",
            present,
            f"{shown} is NULL or matches a row of {measure.detail}",
            f"A row's {shown} finds its row in {measure.path} (built-in, measured only).",
            0.0,
        )
    return QualityRule(
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
    )


def _key_result(measure: KeyMeasure) -> QualityResult:
    return QualityResult(key_rule(measure), measure.rows, measure.rows - measure.failing)


def project_quality(project: Project, engine: Engine | str | None = None) -> list[QualityResult]:
    """Every quality rule of `project`'s glossary and model measured on its data (on
    `engine`: an engine, or its name or URL; the project's default when None), then the
    built-in rules of key integrity."""
    target = project.engine_for(engine)
    declared = measure_quality(project.model, target.fetch, target.dialect)
    return declared + measure_key_rules(project.model, target.fetch, target.dialect)
