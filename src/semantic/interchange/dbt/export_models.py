"""The semantic models of `semantic export dbt` (see `semantic.interchange.dbt.export`): the
walk of the checked model's entities, relationships, dimensions and segments, and the names
MetricFlow accepts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from semantic.compiler.dialects import to_sql
from semantic.files.schema import GRAINS
from semantic.interchange.common import Notice
from semantic.interchange.warehouse import NotCarried, route_between
from semantic.model import Model
from semantic.model.types import Entity, SubjectArea, Term

#: what a report can point at
Placed = Term | Entity | SubjectArea

__all__ = ["Exporter", "Placed", "Semantic", "mf_name_problem"]

#: MetricFlow's names (dbt-semantic-interfaces, UniqueAndValidNameRule)
_NAME = re.compile(r"\A[a-z]((?!__)[a-z0-9_])*[a-z0-9]\Z")
_RESERVED = frozenset({"metric_time", "mf_internal_uuid", *GRAINS})
_IDENTIFIER = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")
_PREFIX = "MetricFlow cannot carry"


def mf_name_problem(name: str) -> str | None:
    """Why `name` is not a MetricFlow name (lower snake case, no `__`, not reserved), or
    None.

    >>> mf_name_problem("net_revenue") is None, mf_name_problem("order__date") is not None
    (True, True)
    """
    if not _NAME.match(name):
        return "MetricFlow names are lower snake case without a double underscore"
    if name in _RESERVED:
        return f"'{name}' is reserved by MetricFlow"
    return None


@dataclass
class Semantic:
    """One semantic model being written: the entity, its MetricFlow entities, dimensions
    and measures, and its default agg_time_dimension."""

    entity: Entity
    entities: list[dict[str, Any]] = field(default_factory=list)
    dimensions: list[dict[str, Any]] = field(default_factory=list)
    measures: list[dict[str, Any]] = field(default_factory=list)
    time_dimensions: list[str] = field(default_factory=list)
    #: the names its fields take (entities, dimensions, measures), unique in the model
    taken: set[str] = field(default_factory=set)

    @property
    def agg_time(self) -> str | None:
        """The time dimension measures aggregate along by default: the first one."""
        return self.time_dimensions[0] if self.time_dimensions else None


class Exporter:
    """The walk of a checked model into semantic models; `export_metrics` adds metrics."""

    def __init__(self, model: Model, dialect: str) -> None:
        self.model, self.dialect = model, dialect
        self.language = model.languages[0]
        self.notices: list[Notice] = []
        self.semantic: dict[str, Semantic] = {}
        #: entity -> the name of its dbt model (its table)
        self.dbt_models: dict[str, str] = {}
        #: entity -> target entity -> the name of the MetricFlow entity that joins them
        self.links: dict[str, dict[str, str]] = {}
        #: term id -> (entity, MetricFlow name) of the dimensions carried
        self.dimensions: dict[str, tuple[str, str]] = {}

    # --- reporting ---------------------------------------------------------------------

    def lost(self, where: Placed | None, what: str, why: str) -> None:
        """Report `what` as not carried over (written at `where`, or about the project)."""
        file, line = (where.span.file, where.span.line) if where else ("semantic.yml", 0)
        self.notices.append(Notice(file, line, what, why, prefix=_PREFIX))

    def changed(self, where: Placed | None, what: str, why: str) -> None:
        """Report `what` as carried over in another form."""
        file, line = (where.span.file, where.span.line) if where else ("semantic.yml", 0)
        self.notices.append(Notice(file, line, what, why, "changed"))

    def names(self, term: Term) -> dict[str, Any]:
        """A term's label and description in the project's first language."""
        found: dict[str, Any] = {"label": term.label(self.language)}
        if term.definition.get(self.language):
            found["description"] = " ".join(term.definition[self.language].split())
        return found

    def in_dialect(self, tree: exp.Expression) -> str:
        """An expression of our files (DuckDB's SQL) in the dbt adapter's dialect."""
        return to_sql(tree.copy(), self.dialect)

    # --- entities ----------------------------------------------------------------------

    def entities(self) -> None:
        """A semantic model per entity whose table a dbt model can name."""
        seen: dict[str, str] = {}
        for eid, entity in self.model.entities.items():
            table = entity.table.split(".")[-1]
            problem = mf_name_problem(eid)
            if not all(_IDENTIFIER.match(p) for p in entity.table.split(".")):
                problem = f"its table '{entity.table}' is not a name a dbt source can hold"
            elif table in seen:
                problem = f"its table '{table}' is also entity '{seen[table]}''s"
            if problem:
                self.lost(None, f"entity '{eid}'", problem)
                continue
            seen[table] = eid
            self.dbt_models[eid] = table
            semantic = Semantic(entity)
            if entity.primary_key:
                semantic.entities.append(
                    {"name": eid, "type": "primary", "expr": self.key(entity.primary_key)}
                )
            semantic.taken.add(eid)
            self.semantic[eid] = semantic
            self.links[eid] = {eid: eid}
        for eid in self.semantic:
            self.relationships(eid)

    def key(self, columns: tuple[str, ...]) -> str:
        """The expression of a key: its column, or its columns as text joined by `|` (a
        composite key: MetricFlow joins on one expression)."""
        if len(columns) == 1:
            return columns[0]
        parts: list[exp.Expression] = []
        for i, col in enumerate(columns):
            if i:
                parts.append(exp.Literal.string("|"))
            parts.append(exp.cast(exp.column(col), exp.DataType.Type.VARCHAR))
        tree = parts[0]
        for part in parts[1:]:
            tree = exp.DPipe(this=tree, expression=part, safe=True)
        return self.in_dialect(tree)

    def relationships(self, eid: str) -> None:
        """A foreign entity per many-to-one (or one-to-one) relationship from `eid` to the
        primary key of another semantic model."""
        semantic = self.semantic[eid]
        for edge in self.model.edges.get(eid, ()):
            if not edge.declared and edge.cardinality == "one_to_many":
                continue  # the other side's relationship, read from there
            what = f"relationship {edge.hop}"
            span = self.model.entities[eid]
            if not edge.to_one:
                continue  # declared one_to_many: the many side's foreign entity carries it
            target = self.semantic.get(edge.target)
            if target is None or edge.target == eid:
                why = "to itself" if edge.target == eid else "its target is not carried"
                self.lost(span, what, f"{why}: MetricFlow joins distinct semantic models")
                continue
            keys = dict(edge.keys)
            primary = target.entity.primary_key
            if not primary or set(keys.values()) != set(primary):
                self.lost(span, what, "MetricFlow joins a foreign entity to a primary key")
                continue
            if edge.target in self.links[eid]:
                self.lost(
                    span,
                    what,
                    f"a second join to '{edge.target}': MetricFlow joins two semantic models "
                    "through one entity",
                )
                continue
            columns = tuple(next(m for m, o in edge.keys if o == p) for p in primary)
            semantic.entities.append(
                {"name": edge.target, "type": "foreign", "expr": self.key(columns)}
            )
            semantic.taken.add(edge.target)
            self.links[eid][edge.target] = edge.target
            if edge.cardinality == "one_to_one":
                self.changed(span, what, "one-to-one: a foreign entity, read back as many-to-one")

    # --- dimensions ----------------------------------------------------------------------

    def fields(self) -> None:
        """Dimensions, time dimensions and segments as dimensions of their entity's model."""
        for term in self.model.terms.values():
            if term.kind not in ("dimension", "time_dimension", "segment"):
                continue
            kind = {"time_dimension": "time dimension"}.get(term.kind, term.kind)
            what = f"{kind} '{term.id}'"
            semantic = self.semantic.get(term.entity or "")
            problem = mf_name_problem(term.id)
            if semantic is None:
                problem = f"its entity '{term.entity}' is not carried"
            elif term.reads_per:
                problem = (
                    "it reads a metric per entity (MEASURE(...) PER): MetricFlow's "
                    "dimensions are expressions of their semantic model's columns"
                )
            elif term.path:
                problem = (
                    "a dimension reached through a named path (role-playing): MetricFlow's "
                    "dimensions are expressions of their own semantic model, and the query "
                    "names the join path"
                )
            elif any(c.table for c in term.expr.find_all(exp.Column)):
                problem = "its expression reads another entity's columns"
            elif term.id in (semantic.taken if semantic else ()):
                problem = f"'{term.id}' already names an entity of the semantic model"
            if problem or semantic is None:
                self.lost(term, what, problem or "")
                continue
            item: dict[str, Any] = {"name": term.id, **self.names(term)}
            item["type"] = "time" if term.kind == "time_dimension" else "categorical"
            item["expr"] = self.in_dialect(term.expr)
            if term.kind == "time_dimension":
                item["type_params"] = {"time_granularity": term.grains[0]}
                fiscal = [g for g in term.grains if g.startswith("fiscal")]
                if fiscal:
                    self.changed(
                        term,
                        f"grains {', '.join(fiscal)} of '{term.id}'",
                        "MetricFlow has no fiscal calendar: the dimension is exported without them",
                    )
                if term.grains[0] not in ("day", "week", "month", "quarter", "year"):
                    self.lost(term, what, f"its finest grain {term.grains[0]} is not MetricFlow's")
                    continue
                semantic.time_dimensions.append(term.id)
            if term.kind == "segment":
                self.changed(
                    term,
                    what,
                    "MetricFlow has no segments: a categorical dimension holding the "
                    f"condition, filtered on as {{{{ Dimension('{term.entity}__{term.id}') }}}}",
                )
            semantic.dimensions.append(item)
            semantic.taken.add(term.id)
            self.dimensions[term.id] = (semantic.entity.id, term.id)

    def dimension_path(self, start: str, tid: str) -> str | None:
        """`entity__...__dimension` naming dimension `tid` from a metric of `start`: the
        MetricFlow entities joined on the way (the compiler's to-one route), or None."""
        placed = self.dimensions.get(tid)
        if placed is None:
            return None
        target, name = placed
        if start == target:
            return f"{start}__{name}"
        try:
            route = route_between(self.model, start, target)
        except NotCarried:
            return None
        links = []
        for edge in route:
            if self.links.get(edge.source, {}).get(edge.target) is None:
                return None
            links.append(edge.target)
        return "__".join([*links, name])
