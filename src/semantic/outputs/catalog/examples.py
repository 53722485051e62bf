"""An example business query for each term, with its compiled SQL, for the catalog pages.

The term's own `examples` come first when one compiles. Otherwise one is made up and kept
only if it compiles: a metric with a dimension it reaches (a time dimension by year first;
a window or shift along its own time dimension, at a grain it allows), a dimension or time
dimension with a metric that reaches it, a segment as the condition of such a metric.
Candidates are tried in a stable order (dimensions the metric's rows reach through to-one
relationships first, the farthest first: an order line's order date before its ship date),
so the site is the same at every build.

>>> from semantic.project import Project
>>> example = example_query(Project.load("."), "order_count")
>>> example.query
'SELECT order_date.year, order_count'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from semantic.compiler.resolve import find_path
from semantic.errors import SemanticError
from semantic.model import Model, Term
from semantic.project import Project

#: Grains tried for a time dimension, coarsest first: a year makes the shortest example.
GRAINS = ("year", "quarter", "month", "week", "day")
#: Made-up candidates tried per term before giving up (each one is a compilation).
MAX_TRIES = 60


@dataclass(frozen=True, slots=True)
class Example:
    """A business query about a term, and its SQL in the project's dialect."""

    query: str
    sql: str
    own: bool  # written by the modeler in the glossary, not made up


def example_query(project: Project, term_id: str) -> Example | None:
    """A business query that uses `term_id` and compiles, or None (a concept has none)."""
    term = project.model.terms[term_id]
    if term.kind == "concept":
        return None
    for own in term.examples.values():
        for text in own:
            sql = _compiled(project, text)
            if sql is not None:
                return Example(text, sql, True)
    for tries, text in enumerate(_candidates(project.model, term)):
        if tries >= MAX_TRIES:
            break
        sql = _compiled(project, text)
        if sql is not None:
            return Example(text, sql, False)
    return None


def _compiled(project: Project, text: str) -> str | None:
    try:
        return project.compile(text)
    except SemanticError:
        return None


def metric_dimensions(model: Model, term: Term) -> Iterator[str]:
    """What to show a metric by, the most telling first, as written in a query
    (`order_date.year`): a window or shift along its own time dimension, at a grain it
    allows; then time dimensions by year and dimensions that its rows reach (see
    `_dimensions`). Not each one compiles with the metric."""
    for spec in (term.window, term.shift):
        if spec is not None:
            for grain in GRAINS:
                yield f"{spec.time}.{grain}"
    yield from _dimensions(model, _home(model, term))


def _candidates(model: Model, term: Term) -> Iterator[str]:
    home = _home(model, term)
    if term.kind == "metric":
        for dimension in metric_dimensions(model, term):
            yield f"SELECT {dimension}, {term.id}"
        yield f"SELECT {term.id}"
    elif term.kind == "segment":
        for metric in _metrics(model, home):
            yield f"SELECT {metric} WHERE {term.id}"
    else:
        selected = (
            [f"{term.id}.{g}" for g in GRAINS if not term.grains or g in term.grains]
            if term.kind == "time_dimension"
            else [term.id]
        )
        for metric in _metrics(model, home):
            for column in selected:
                yield f"SELECT {column}, {metric}"


def _home(model: Model, term: Term, depth: int = 0) -> str | None:
    """The entity a term is about: its own, or for a derived metric its first metric's."""
    if term.entity is not None or depth > 8:
        return term.entity
    for ref in term.refs:
        if ref in model.terms:
            return _home(model, model.terms[ref], depth + 1)
    return None


def _near_first(model: Model, entity: str | None, kinds: tuple[str, ...]) -> list[Term]:
    """Terms of `kinds` that are queryable, those of `entity` first, then by id."""
    terms = [
        t
        for t in model.terms.values()
        if t.kind in kinds and t.status != "deprecated" and not t.is_over_time
    ]
    return sorted(terms, key=lambda t: (t.entity != entity, t.entity is None, t.id))


def _dimensions(model: Model, entity: str | None) -> Iterator[str]:
    """Time dimensions, then dimensions, each that the entity's rows reach through to-one
    relationships first (the farthest first), then the others."""
    times = _near_first(model, entity, ("time_dimension",))
    dimensions = _near_first(model, entity, ("dimension",))
    reached = {t.id: _hops(model, entity, t) for t in [*times, *dimensions]}
    for terms in (
        [t for t in times if reached[t.id] >= 0],
        [t for t in dimensions if reached[t.id] >= 0],
        [t for t in times if reached[t.id] < 0],
        [t for t in dimensions if reached[t.id] < 0],
    ):
        for term in sorted(terms, key=lambda t: -reached[t.id]):
            if term.kind == "dimension":
                yield term.id
                continue
            for grain in GRAINS:
                if not term.grains or grain in term.grains:
                    yield f"{term.id}.{grain}"


def _hops(model: Model, start: str | None, term: Term) -> int:
    """How many to-one relationships lead from `start` to the term's entity (-1: none), so
    that the time of the broadest thing a row belongs to comes first (an order line's
    order date before its ship date)."""
    if start is None or term.entity is None:
        return -1
    try:
        return len(find_path(model, start, term.entity, term.path))
    except SemanticError:
        return -1


def _metrics(model: Model, entity: str | None) -> Iterator[str]:
    for metric in _near_first(model, entity, ("metric",)):
        yield metric.id
