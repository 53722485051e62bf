"""Quality rules measured on the data: the share of rows of an entity that meet each rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from semantic.compiler.dialects import column_types, to_sql
from semantic.engines.base import Engine
from semantic.engines.integrity import Fetch
from semantic.model import Model, QualityRule
from semantic.model.nodes import table
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
    for entity in model.entities.values():
        rules = [*entity.quality]
        rules += [r for t in model.terms.values() for r in t.quality if r.entity == entity.id]
        for rule in rules:
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


def project_quality(project: Project, engine: Engine | str | None = None) -> list[QualityResult]:
    """Every quality rule of `project`'s glossary and model measured on its data (on
    `engine`: an engine, or its name or URL; the project's default when None)."""
    target = project.engine_for(engine)
    return measure_quality(project.model, target.fetch, target.dialect)
