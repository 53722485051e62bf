"""Everything about one term on one card: `semantic show`, and any front end that shows a
term (the catalog site, a server).

A card gathers what the glossary says (labels, synonyms and definitions in every language,
owners, status, confidentiality, domain, broader, narrower and related terms), what the
term means physically (its entity and table, expression, join path, filter, window or
shift), and for a metric what only the compiler knows: the dimensions a query may group it
by, found by compiling such a query (never by a second copy of the compiler's rules), how
its partial results combine (`compiler.additivity`), the columns and terms it reads
(`outputs.catalog.lineage`) and an example query that compiles (`outputs.catalog.examples`).

>>> from semantic.project import Project
>>> card = term_card(Project.load("."), "Chiffre d'affaires net")
>>> card.id, card.kind, card.aggregation, card.reaggregation
('net_revenue', 'metric', 'sum', ('sum',))
>>> [d.id for d in card.dimensions if d.through_one_to_many]
[]
>>> [r.code for r in term_card(Project.load("."), "supplier_count").refused][:1]
['SEM307']
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlglot import exp

from semantic.compiler.additivity import metric_aggregation
from semantic.compiler.resolve import resolve_name
from semantic.errors import SemanticError, Span, error
from semantic.model import Model, Term
from semantic.model.types import FILE_DIALECT
from semantic.outputs.access import project_for
from semantic.outputs.catalog.areas import areas_of_term
from semantic.outputs.catalog.examples import example_query
from semantic.outputs.catalog.lineage import term_lineage, term_sources, term_users
from semantic.project import Project

#: Grains tried for the time dimension a window or shift runs along, in this order.
BASE_GRAINS = ("month", "quarter", "year", "week", "day", "fiscal_quarter", "fiscal_year")
#: Where `semantic show` places an unknown term.
SHOW = Span("<show>")


@dataclass(frozen=True, slots=True)
class Dimension:
    """A dimension (or time dimension) a query may group a metric by.

    `through_one_to_many` is true when the dimension's rows are on the many side of the
    metric's entity: the compiler then counts each row of the entity once per group, so
    the groups overlap and do not add up to the total.
    """

    id: str
    kind: str
    through_one_to_many: bool = False

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"id": self.id, "kind": self.kind, "through_one_to_many": self.through_one_to_many}


@dataclass(frozen=True, slots=True)
class Refused:
    """A dimension the compiler refuses with a metric, and why (its diagnostic)."""

    id: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"id": self.id, "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Read:
    """What a term reads in the data: a column of an entity, or (`column` None) its rows
    as a whole (a `count(*)`), and the entity's table."""

    entity: str
    column: str | None
    table: str

    def __str__(self) -> str:
        return f"{self.entity}.{self.column}" if self.column else f"rows of {self.entity}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"entity": self.entity, "column": self.column, "table": self.table}


@dataclass(frozen=True, slots=True)
class TermCard:
    """What there is to know about one term; see the module's docstring."""

    id: str
    kind: str
    domain: str
    status: str
    confidentiality: str
    owners: tuple[str, ...]
    tags: tuple[str, ...]
    labels: Mapping[str, str]
    synonyms: Mapping[str, tuple[str, ...]]
    definitions: Mapping[str, str]
    scope_notes: Mapping[str, str]
    broader: tuple[str, ...]
    narrower: tuple[str, ...]
    related: tuple[str, ...]
    replaced_by: str | None
    #: (what, value) rows of the physical meaning: entity, table, expression, path...
    physical: tuple[tuple[str, str], ...]
    subject_areas: tuple[str, ...]
    #: a metric's aggregate function(s) (`sum`, `count distinct`...), or `derived`
    aggregation: str | None = None
    #: how a metric's partial results combine (`sum`, `max`, `min`), and why not, if none
    reaggregation: tuple[str, ...] = ()
    not_additive: str = ""
    #: the group keys a query of the metric must have (the time of a window or shift)
    requires: tuple[str, ...] = ()
    dimensions: tuple[Dimension, ...] = ()
    refused: tuple[Refused, ...] = ()
    #: the columns (and whole entities) read upstream, through every input
    reads: tuple[Read, ...] = ()
    #: the terms it reads (a derived metric's inputs, a filter's terms), and its users
    inputs: tuple[str, ...] = ()
    used_by: tuple[str, ...] = ()
    example: str | None = None
    example_sql: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for `semantic show --format json`."""
        return {
            "id": self.id,
            "kind": self.kind,
            "domain": self.domain,
            "status": self.status,
            "confidentiality": self.confidentiality,
            "owners": list(self.owners),
            "tags": list(self.tags),
            "labels": dict(self.labels),
            "synonyms": {lang: list(s) for lang, s in self.synonyms.items()},
            "definitions": dict(self.definitions),
            "scope_notes": dict(self.scope_notes),
            "broader": list(self.broader),
            "narrower": list(self.narrower),
            "related": list(self.related),
            "replaced_by": self.replaced_by,
            "physical": dict(self.physical),
            "subject_areas": list(self.subject_areas),
            "aggregation": self.aggregation,
            "reaggregation": list(self.reaggregation),
            "not_additive": self.not_additive or None,
            "requires": list(self.requires),
            "dimensions": [d.as_dict() for d in self.dimensions],
            "refused_dimensions": [r.as_dict() for r in self.refused],
            "lineage": {
                "reads": [r.as_dict() for r in self.reads],
                "inputs": list(self.inputs),
                "used_by": list(self.used_by),
            },
            "example": self.example,
            "example_sql": self.example_sql,
        }


def find_term(model: Model, text: str) -> Term:
    """The term `text` names: an id, or a label or synonym in any language, as a query
    resolves it. SEM201 (with a "did you mean") when it names none; SEM304 when it names
    several."""
    try:
        return resolve_name(model, text.strip(), SHOW)
    except SemanticError as exc:
        first = exc.diagnostics[0]
        if first.code != "SEM303":
            raise
        raise error(
            "SEM201",
            f"unknown term '{text}'",
            SHOW,
            first.hint or "list the terms with `semantic terms` or find one with `semantic search`",
        ) from None


def term_card(
    project: Project,
    text: str,
    role: str | None = None,
    user: Mapping[str, str] | None = None,
) -> TermCard:
    """The card of the term that `text` names (see `find_term`); with `role`, as that role
    sees the project (`outputs.access.project_for`): a term above its clearance is unknown
    (SEM201), and so are the terms it may not read among the card's relations, dimensions
    and lineage; the example queries run as the role (`user`: the caller's attributes)."""
    project = project_for(project, role, user)
    model = project.model
    term = find_term(model, text)
    card = TermCard(
        id=term.id,
        kind=term.kind,
        domain=term.domain,
        status=term.status,
        confidentiality=term.confidentiality,
        owners=term.owners,
        tags=term.tags,
        labels=dict(term.labels),
        synonyms=dict(term.synonyms),
        definitions=dict(term.definition),
        scope_notes=dict(term.scope_note),
        broader=term.broader,
        narrower=tuple(sorted(t.id for t in model.terms.values() if term.id in t.broader)),
        related=term.related,
        replaced_by=term.replaced_by,
        physical=tuple(physical_meaning(model, term)),
        subject_areas=tuple(a.id for a in areas_of_term(model, term.id)),
        reads=tuple(_reads(model, term)),
        inputs=tuple(n.key for n in term_sources(model, term) if n.kind == "term"),
        used_by=tuple(term_users(model, term.id)),
    )
    example = example_query(project, term.id)
    if example is not None:
        card = replace(card, example=example.query, example_sql=example.sql)
    if term.is_metric:
        card = _metric_card(project, term, card)
    return card


def physical_meaning(model: Model, term: Term) -> Iterator[tuple[str, str]]:
    """(what, value) rows of what `term` is in the data: its entity and table, expression
    (condition, for a segment), join path, grains, filter, value of empty groups, window,
    shift and the metrics it is computed from."""
    if term.kind == "concept":
        yield ("meaning", "a business concept, without a physical expression")
        return
    if term.entity is not None:
        yield ("entity", term.entity)
        yield ("table", model.entities[term.entity].table)
    what = "condition" if term.kind == "segment" else "expression"
    yield (what, term.expr.sql(FILE_DIALECT))
    if term.refs:
        yield ("computed from", ", ".join(term.refs))
    if term.path:
        yield ("join path", " -> ".join(term.path))
    if term.kind == "time_dimension" and term.grains:
        yield ("grains", ", ".join(term.grains))
    if term.filter is not None:
        yield ("filter", term.filter.sql(FILE_DIALECT))
    if term.fill_null is not None:
        yield ("empty groups", term.fill_null.sql(FILE_DIALECT))
    if term.window is not None:
        w = term.window
        text = (
            f"last {w.last} {w.grain}(s)"
            if w.last
            else f"{w.to_date} to date"
            if w.to_date
            else "running total"
        )
        if w.rolling:  # MetricFlow's: a window ending on each day, one day's per period
            pick = w.value_of_period
            text += ", ending on each day: " + (
                "the average over the period's days" if pick == "average" else f"the {pick} day's"
            )
        yield ("window", f"{text} along {w.time}")
    if term.shift is not None:
        s = term.shift
        if s.to_start_of is not None:
            yield ("shift", f"at the start of the {s.to_start_of} along {s.time}")
        else:
            yield ("shift", f"{s.periods} {s.grain}(s) earlier along {s.time}")


def aggregate_functions(term: Term) -> str:
    """The aggregate function(s) of a metric's expression (`sum`, `count distinct`...), or
    `derived` for a metric computed from other metrics."""
    if term.is_derived:
        return "derived"
    names: list[str] = []
    for node in term.expr.find_all(exp.AggFunc):
        name = node.key if not isinstance(node, exp.Anonymous) else str(node.this)
        name = name.lower()
        if isinstance(node.this, exp.Distinct):
            name += " distinct"
        names.append(name)
    return ", ".join(dict.fromkeys(names)) or term.expr.sql(FILE_DIALECT)


def _metric_card(project: Project, term: Term, card: TermCard) -> TermCard:
    """`card` with what the compiler says about metric `term`: its aggregation, the group
    keys it needs, and the dimensions it accepts or refuses."""
    model = project.model
    safe, why = metric_aggregation(model, term)
    base = _base_query(project, term)
    requires = tuple(base[:-1]) if base is not None else ()
    accepted: list[Dimension] = []
    refused: list[Refused] = []
    if base is not None:
        taken = {key.partition(".")[0] for key in requires}
        for candidate in sorted(model.terms.values(), key=lambda t: t.id):
            if candidate.kind not in ("dimension", "time_dimension") or candidate.id in taken:
                continue
            query = _select([*requires, _grouped(candidate), term.id])
            try:
                project.compile(query)
                plan = project.plan(query)  # parsed once: the project keeps the last query
            except SemanticError as exc:
                first = exc.diagnostics[0]
                refused.append(Refused(candidate.id, first.code, first.message))
                continue
            fanned = any(candidate.id in a.many_side for a in plan.aggregates)
            accepted.append(Dimension(candidate.id, candidate.kind, fanned))
    return replace(
        card,
        aggregation=aggregate_functions(term),
        reaggregation=safe,
        not_additive=why,
        requires=requires,
        dimensions=tuple(accepted),
        refused=tuple(refused),
    )


def _base_query(project: Project, term: Term) -> list[str] | None:
    """The shortest select list with metric `term` (last) that compiles: the metric alone,
    else with the time dimension its windows and shifts run along, at the first grain that
    compiles; None when none does."""
    tries = [[term.id]]
    for time in _times_along(project.model, term):
        tries += [[f"{time}.{grain}", term.id] for grain in BASE_GRAINS]
    for names in tries:
        try:
            project.compile(_select(names))
        except SemanticError:
            continue
        return names
    return None


def _times_along(model: Model, term: Term, seen: frozenset[str] = frozenset()) -> list[str]:
    """The time dimensions the windows and shifts of `term` and of the metrics it is
    computed from run along."""
    found = [spec.time for spec in (term.window, term.shift) if spec is not None]
    for ref in term.refs:
        if ref in model.terms and ref not in seen:
            found += _times_along(model, model.terms[ref], seen | {term.id})
    return list(dict.fromkeys(found))


def _grouped(term: Term) -> str:
    """`term` as a query groups by it: a time dimension at a grain it allows."""
    if term.kind != "time_dimension":
        return term.id
    grain = next((g for g in BASE_GRAINS if not term.grains or g in term.grains), "day")
    return f"{term.id}.{grain}"


def _select(names: list[str]) -> str:
    return "SELECT " + ", ".join(names)


def _reads(model: Model, term: Term) -> Iterator[Read]:
    """The columns and whole entities upstream of `term`, in the lineage graph's order."""
    for node in term_lineage(model, term.id).nodes:
        if node.kind == "column" and node.entity is not None:
            column = node.key.partition(".")[2]
            yield Read(node.entity, column, model.entities[node.entity].table)
        elif node.kind == "entity":
            yield Read(node.key, None, model.entities[node.key].table)
