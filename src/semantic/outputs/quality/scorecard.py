"""The quality scorecard: results summed up per term, entity and subject area.

A line covers the rules that guard its subject, as the publication gate counts them
(`gate.guards`): an entity's own rules, its terms' rules and the built-in rules of its keys;
a term's own rules and those of the entities and terms it is computed from; a subject
area's, those of every entity its view reads and every term it uses. Its score is the mean
of their scores; its status `fail` when an error rule fails (or was not measured), `warn`
when only warning rules fail, else `pass`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from semantic.errors import SemanticError
from semantic.model import Model
from semantic.outputs.quality.gate import guards, view_uses
from semantic.outputs.quality.results import QualityResult
from semantic.outputs.views import subject_area_view


@dataclass(frozen=True, slots=True)
class ScoreLine:
    """One line of the scorecard."""

    level: str  # "entity", "term" or "subject_area"
    name: str
    rules: int
    passed: int
    score: float
    status: str
    #: the keys of the rules that fail, errors first
    failing: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The line as JSON and table rows show it."""
        return {**asdict(self), "failing": list(self.failing)}


def scorecard(model: Model, results: Sequence[QualityResult]) -> list[ScoreLine]:
    """The scorecard of `results`: entities, then terms, then subject areas, by id."""
    lines = []
    for entity in sorted(model.entities):
        found = [r for r in results if r.rule.entity == entity]
        lines.append(_line("entity", entity, found))
    for tid in sorted(model.terms):
        term = model.terms[tid]
        if term.kind == "concept":
            continue
        terms = model.terms_read([tid])
        entities = {e for t in terms if (e := model.terms[t].entity) is not None}
        found = [r for r in results if guards(r, entities, terms)]
        lines.append(_line("term", tid, found))
    for aid in sorted(model.subject_areas):
        try:
            view = subject_area_view(model, model.subject_areas[aid], None, "", "main")
        except SemanticError:  # an area that does not compile is SEM218 of `check`
            continue
        entities, terms = view_uses(model, view)
        found = [r for r in results if guards(r, entities, terms)]
        lines.append(_line("subject_area", aid, found))
    return lines


def _line(level: str, name: str, found: Sequence[QualityResult]) -> ScoreLine:
    errors = [r.rule.key for r in found if r.fails]
    warnings = [r.rule.key for r in found if not r.passed and not r.fails]
    score = sum(r.score for r in found) / len(found) if found else 1.0
    status = "fail" if errors else "warn" if warnings else "pass"
    return ScoreLine(
        level,
        name,
        len(found),
        sum(r.passed for r in found),
        score,
        status,
        tuple(errors + warnings),
    )
