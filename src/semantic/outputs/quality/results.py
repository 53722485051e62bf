"""What measuring a quality rule found (`QualityResult`), and one run of them all
(`QualityRun`): when, on which engine, and what the history kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from semantic.engines.quality_store import StoredResult
from semantic.errors import Diagnostic
from semantic.model import QualityRule


@dataclass(frozen=True, slots=True)
class QualityResult:
    """How the rows of an entity fare against one quality rule.

    A rule measured on each row (`rule.per_row`) passes `passing` of `rows`; a custom rule's
    query returned `rows - passing` failures; a rule on the whole table (aggregate,
    freshness, row_count) `holds` or not. A rule the engine could not run is not `measured`,
    and `error` says why (SEM450).
    """

    rule: QualityRule
    rows: int
    passing: int
    measured: bool = True
    #: freshness: the latest value; row_count: the rows; custom: the failures returned
    value: str | None = None
    #: aggregate, freshness, row_count: whether the condition holds
    holds: bool | None = None
    #: why the rule could not be measured
    error: str | None = None
    #: when the run that measured it started
    at: dt.datetime | None = field(default=None, compare=False)

    @property
    def score(self) -> float:
        """The share of rows that meet the rule (1.0 for an empty table); for a rule on the
        whole table, 1.0 when it holds, else 0.0; 0.0 when not measured."""
        if not self.measured:
            return 0.0
        if self.holds is not None:
            return 1.0 if self.holds else 0.0
        if self.rows:
            return self.passing / self.rows
        return 1.0 if self.passing >= 0 and self.value in (None, "0") else 0.0

    @property
    def failing(self) -> int | None:
        """The rows that do not meet the rule (None for a rule on the whole table)."""
        if self.holds is not None or not self.measured:
            return None
        if self.rule.kind == "custom" and self.value is not None:
            return int(self.value)
        return self.rows - self.passing

    @property
    def passed(self) -> bool:
        """Whether the rule was measured and its score reaches its threshold."""
        return self.measured and self.score >= self.rule.threshold

    @property
    def fails(self) -> bool:
        """Whether the result blocks what an error rule guards (views, strict queries):
        an error rule that failed or could not be measured."""
        return self.rule.severity == "error" and not self.passed

    def as_dict(self) -> dict[str, Any]:
        """The result as a row of `semantic quality`'s table."""
        return {
            "rule": self.rule.id,
            "entity": self.rule.entity,
            "term": self.rule.term,
            "kind": self.rule.kind,
            "dimension": self.rule.dimension,
            "severity": self.rule.severity,
            "check": self.rule.text,
            "rows": self.rows,
            "failing": self.failing,
            "score": self.score,
            "threshold": self.rule.threshold,
            "passed": self.passed,
            "value": self.value if self.error is None else f"not measured: {self.error}",
        }

    def stored(self, engine: str) -> StoredResult:
        """The result as the history keeps it."""
        rule = self.rule
        return StoredResult(
            self.at or dt.datetime.now(dt.UTC),
            engine,
            rule.key,
            rule.entity,
            rule.term,
            rule.kind,
            rule.dimension,
            rule.severity,
            rule.threshold,
            self.rows,
            self.failing,
            self.score if self.measured else None,
            self.passed,
            self.measured,
            self.value,
            self.error,
        )

    def explain(self) -> str:
        """Why the rule fails, in words: its score against its threshold, or why it could
        not be measured."""
        rule = self.rule
        if not self.measured:
            return f"quality rule '{rule.key}' could not be measured: {self.error}"
        if rule.per_row or rule.kind == "custom":
            return (
                f"quality rule '{rule.key}' holds for {self.score:.1%} of {self.rows} rows, "
                f"below its threshold of {rule.threshold:.0%}"
            )
        value = f" ({self.value})" if self.value is not None else ""
        return f"quality rule '{rule.key}' does not hold: {rule.text}{value}"


@dataclass(frozen=True, slots=True)
class QualityRun:
    """One run of every rule: its results, when it started, on which engine (as the
    history names it), and what went wrong along the way (SEM450, SEM453)."""

    results: tuple[QualityResult, ...]
    at: dt.datetime
    engine: str
    notices: tuple[Diagnostic, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether no error rule failed or went unmeasured."""
        return not any(r.fails for r in self.results)


def failing_rules(results: Sequence[QualityResult]) -> list[QualityResult]:
    """The results that block what error rules guard (see `QualityResult.fails`)."""
    return [r for r in results if r.fails]
