"""What the warehouse-native exports share (`semantic export snowflake|databricks|lookml`,
see docs/exporting.md): the checked model walked once into tables, links, dimensions, time
dimensions, segments, measures and derived metrics, each expression a sqlglot tree whose
columns know the join route that reaches them from the object's home entity; and `render`,
the one way their SQL text is written for the target (through `to_sql`, the dialect pass).

A metric's own filter is folded into its aggregates (`SUM(CASE WHEN cond THEN x END)`), its
`fill_null` into `CASE WHEN COUNT(*) = 0 THEN fill ELSE ... END` (the count of the rows that
meet its filter), so that a target without either still computes our number.
What no target can carry (windows and shifts, concepts, filters that need a semi-join...)
is reported here, once, with the shared `Notice`; what only some targets lack is reported by
each target.

>>> from sqlglot import exp
>>> from semantic.model.nodes import column
>>> tree = exp.Sum(this=column("x"))
>>> render(tree, "snowflake", lambda col: f"t.{col.name}")
'SUM(t.x)'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types

from semantic.compiler.dialects import to_sql
from semantic.compiler.resolve import find_path
from semantic.errors import SemanticError
from semantic.interchange.common import Notice
from semantic.model import Model
from semantic.model.types import FILE_DIALECT, Edge, Term

__all__ = [
    "Derived",
    "Field",
    "Link",
    "Measure",
    "Named",
    "NotCarried",
    "Route",
    "Segment",
    "Warehouse",
    "entity_of",
    "render",
    "route_between",
    "route_of",
    "type_of",
    "walk_model",
]

#: the relationships followed from an object's home entity to one of its columns
Route = tuple[Edge, ...]
#: aggregates that skip NULLs: a filter folds into them as `CASE WHEN cond THEN x END`
_NULL_SKIPPING: tuple[type[exp.Expression], ...] = (
    exp.Sum,
    exp.Count,
    exp.Avg,
    exp.Min,
    exp.Max,
    exp.Median,
    exp.Stddev,
    exp.StddevPop,
    exp.StddevSamp,
    exp.Variance,
    exp.VariancePop,
    exp.ApproxDistinct,
)


@dataclass(frozen=True)
class Link:
    """A declared relationship, written from its many side: `many` rows reference one `one`
    row through `keys` (many column, one column)."""

    name: str
    many: str
    one: str
    keys: tuple[tuple[str, str], ...]
    cardinality: str  # many_to_one or one_to_one


@dataclass(frozen=True)
class Named:
    """What every exported object has: its term id, its home entity, its names and
    definition in the project's main language."""

    id: str
    home: str
    label: str
    description: str | None
    synonyms: tuple[str, ...]


@dataclass(frozen=True)
class Field(Named):
    """A dimension or time dimension: a row-level expression placed on `home` (the first
    entity of its path, for a role-playing dimension)."""

    kind: str = "dimension"
    expr: exp.Expression = field(default_factory=exp.Null)
    grains: tuple[str, ...] = ()
    type: exp.DataType | None = None


@dataclass(frozen=True)
class Segment(Named):
    """A named condition on `home`'s rows."""

    condition: exp.Expression = field(default_factory=exp.Null)


@dataclass(frozen=True)
class Measure(Named):
    """A metric aggregated over `home`'s rows, its filter and fill value folded in."""

    expr: exp.Expression = field(default_factory=exp.Null)
    type: exp.DataType | None = None


@dataclass(frozen=True)
class Derived(Named):
    """A metric over metrics: the columns of `expr` name the metrics it uses (`refs`)."""

    expr: exp.Expression = field(default_factory=exp.Null)
    refs: tuple[str, ...] = ()


@dataclass
class Warehouse:
    """The model as the warehouse exports see it, and the report of what it lost."""

    model: Model
    language: str
    links: list[Link] = field(default_factory=list)
    fields: dict[str, Field] = field(default_factory=dict)
    segments: dict[str, Segment] = field(default_factory=dict)
    measures: dict[str, Measure] = field(default_factory=dict)
    derived: dict[str, Derived] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)

    def lost(self, term: Term | None, what: str, why: str, prefix: str | None = None) -> None:
        """Report `what` (about `term`, or the project) as not carried over."""
        file, line = (term.span.file, term.span.line) if term else ("semantic.yml", 0)
        self.notices.append(Notice(file, line, what, why, prefix=prefix))

    def metric_home(self, tid: str) -> str:
        """The entity whose rows a carried metric aggregates (a derived metric: its first
        base metric's)."""
        if tid in self.measures:
            return self.measures[tid].home
        return self.metric_home(self.derived[tid].refs[0])

    def base_metrics(self, tid: str) -> set[str]:
        """The measures a carried metric is computed from."""
        if tid in self.measures:
            return {tid}
        return {m for ref in self.derived[tid].refs for m in self.base_metrics(ref)}


def route_of(col: exp.Column) -> Route:
    """The route recorded on a column of an exported expression."""
    return cast(Route, col.meta.get("route", ()))


def entity_of(col: exp.Column, home: str) -> str:
    """The entity whose column `col` is, for an expression placed on `home`."""
    route = route_of(col)
    return route[-1].target if route else home


_PLACEHOLDER = re.compile(r"\bwh_ref_(\d+)_\b")


def render(tree: exp.Expression, dialect: str, name: Callable[[exp.Column], str]) -> str:
    """The SQL text of an exported expression in `dialect`, through the dialect pass
    (`to_sql`), each column written as `name(column)` returns it (`orders.o_orderdate`,
    `${TABLE}.o_orderdate`...): placeholders survive the translation, then are replaced."""
    texts: list[str] = []

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            texts.append(name(node))
            return exp.column(f"wh_ref_{len(texts) - 1}_")
        return node

    placed = tree.copy().transform(swap, copy=False)
    sql = to_sql(placed, dialect, copy=False)
    return _PLACEHOLDER.sub(lambda m: texts[int(m.group(1))], sql)


def walk_model(model: Model) -> Warehouse:
    """The model's objects as the warehouse exports carry them, with the report of what
    none of them can carry."""
    main = model.languages[0]
    house = Warehouse(model, main)
    for edges in model.edges.values():
        for edge in edges:
            if not edge.declared:
                continue
            if edge.source == edge.target:
                house.lost(
                    None,
                    f"relationship {edge.hop} (entity '{edge.source}' to itself)",
                    "a warehouse semantic object joins a table to itself only under two names",
                )
                continue
            many, one, keys = edge.source, edge.target, edge.keys
            if edge.cardinality == "one_to_many":
                many, one, keys = one, many, tuple((b, a) for a, b in keys)
            cardinality = "one_to_one" if edge.cardinality == "one_to_one" else "many_to_one"
            house.links.append(Link(f"{edge.source}_{edge.name}", many, one, keys, cardinality))
    pending: dict[str, Term] = {}
    for term in model.terms.values():
        try:
            _place(house, term, pending)
        except NotCarried as why:
            house.lost(term, f"{_kind(term)} '{term.id}'", str(why))
    _place_derived(house, pending)
    _report_names(house)
    for area in model.subject_areas.values():
        house.notices.append(
            Notice(
                area.span.file,
                area.span.line,
                f"subject area '{area.id}'",
                "exported as the dimensions and metrics it names, not as one object",
            )
        )
    rules = sorted({e.id for e in model.entities.values() if e.quality})
    rules += sorted({t.id for t in model.terms.values() if t.quality})
    if rules:
        house.lost(None, f"quality rules of {', '.join(rules)}", "no data quality rules there")
    return house


class NotCarried(Exception):
    """Why a term cannot be carried by any warehouse export."""


def _kind(term: Term) -> str:
    if term.is_over_time:
        return "metric"
    if term.is_conversion:
        return "conversion metric"
    if term.is_derived:
        return "derived metric"
    return {"time_dimension": "time dimension", "concept": "business concept"}.get(
        term.kind, term.kind
    )


def _names(model: Model, term: Term, lang: str) -> dict[str, Any]:
    return {
        "id": term.id,
        "label": term.label(lang),
        "description": term.definition.get(lang),
        "synonyms": term.synonyms.get(lang, ()),
    }


def _place(house: Warehouse, term: Term, pending: dict[str, Term]) -> None:
    model, lang = house.model, house.language
    if term.kind == "concept":
        raise NotCarried("a business concept has no expression to export")
    if term.reads_per:
        raise NotCarried(
            "it reads a metric per entity or at another grain (MEASURE(...) PER), which has "
            "no equivalent there"
        )
    if term.kind in ("dimension", "time_dimension", "segment"):
        assert term.entity is not None
        home = term.path[0].split(".")[0] if term.path else term.entity
        route = route_between(model, home, term.entity, term.path)
        expr = _on_route(model, term.expr, term.entity, route)
        if term.kind == "segment":
            house.segments[term.id] = Segment(
                **_names(model, term, lang), home=home, condition=expr
            )
            return
        house.fields[term.id] = Field(
            **_names(model, term, lang),
            home=home,
            kind=term.kind,
            expr=expr,
            grains=term.grains,
            type=type_of(model, expr, home),
        )
        return
    if term.is_over_time:
        how = "a window" if term.window is not None else "a shift to an earlier period"
        raise NotCarried(f"a metric over time ({how}) has no equivalent there")
    if term.is_conversion:
        raise NotCarried("a conversion metric (events matched within a window) has none there")
    if term.is_derived:
        pending[term.id] = term
        return
    assert term.entity is not None
    expr = _on_route(model, term.expr, term.entity, ())
    if term.filter is not None:
        expr = _filtered(expr, _condition(model, term.filter, term.entity))
    expr = _fold_filter_clauses(expr)
    if term.fill_null is not None or isinstance(term.expr, exp.Count):
        expr = _filled(model, term, expr)
    house.measures[term.id] = Measure(
        **_names(model, term, lang),
        home=term.entity,
        expr=expr,
        type=type_of(model, expr, term.entity),
    )


def _filled(model: Model, term: Term, expr: exp.Expression) -> exp.Expression:
    """`expr` showing the metric's `fill_null` in a group without rows of the metric (none
    of the entity's rows, or none meeting its filter), as `semantic query` does: not a
    COALESCE, which would also replace the NULL of a group whose rows have only NULLs."""
    fill = exp.Null() if term.fill_null is None else term.fill_null  # a count's `fill_null: null`
    if isinstance(term.expr, exp.Count) and fill == exp.Literal.number(0):
        return expr  # a count of no rows is 0 already
    rows: exp.Expression = exp.Count(this=exp.Star())
    if term.filter is not None:
        assert term.entity is not None
        rows = _filtered(rows, _condition(model, term.filter, term.entity))
    none = exp.EQ(this=rows, expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=none, true=fill.copy())], default=expr)


def _place_derived(house: Warehouse, pending: dict[str, Term]) -> None:
    """Derived metrics whose metrics are all carried, in an order where each comes after
    the metrics it uses; the others are reported."""
    changed = True
    while changed:
        changed = False
        for tid, term in list(pending.items()):
            if term.filter is not None:
                del pending[tid]
                house.lost(
                    term,
                    f"derived metric '{tid}'",
                    "a filter on a metric over metrics has no equivalent there",
                )
                changed = True
            elif all(r in house.measures or r in house.derived for r in term.refs):
                del pending[tid]
                names = _names(house.model, term, house.language)
                home = house.metric_home(term.refs[0])
                house.derived[tid] = Derived(
                    **names, home=home, expr=term.expr.copy(), refs=term.refs
                )
                changed = True
    for tid, term in pending.items():
        lost = sorted(r for r in term.refs if r not in house.measures and r not in house.derived)
        house.lost(term, f"derived metric '{tid}'", f"it uses {', '.join(lost)}, not carried")


def _report_names(house: Warehouse) -> None:
    """Names and governance that have no place in a warehouse object: one notice each."""
    model, main = house.model, house.language
    others = model.languages_besides(main)
    if others:
        house.lost(
            None,
            f"labels, synonyms and definitions in {', '.join(others)}",
            f"one language is exported: {main}",
        )
    governed = [
        key
        for key in ("owners", "tags", "hidden_labels", "broader", "related", "exact_match")
        if any(getattr(t, key) for t in model.terms.values())
    ]
    if governed or any(t.status != "draft" for t in model.terms.values()):
        house.lost(
            None,
            "status, confidentiality, " + ", ".join(governed) + " of terms",
            "warehouse semantic objects have no governance metadata (see `semantic export rdf`)",
        )


def route_between(model: Model, start: str, target: str, pinned: tuple[str, ...] = ()) -> Route:
    """The to-one join route from `start` to `target` (ending with `pinned`), as the
    compiler chooses it; NotCarried when it would need a one-to-many join or is ambiguous."""
    if start == target and not pinned:
        return ()
    try:
        return tuple(find_path(model, start, target, pinned))
    except SemanticError as exc:
        raise NotCarried(
            f"no single to-one join route from '{start}' to '{target}': "
            + exc.diagnostics[0].message
        ) from None


def _on_route(model: Model, tree: exp.Expression, entity: str, route: Route) -> exp.Expression:
    """`tree` (over `entity`'s columns, reached from the home entity by `route`) with each
    column carrying its own route and bare name; `other.column` follows the compiler's
    route from `entity` to `other`."""

    def place(col: exp.Expression) -> exp.Expression:
        if not isinstance(col, exp.Column) or isinstance(col.this, exp.Star):
            return col
        owner = col.table or entity
        new = exp.column(col.name)
        new.meta["route"] = (
            route if owner == entity else route + route_between(model, entity, owner)
        )
        return new

    return tree.copy().transform(place, copy=False)


def _condition(model: Model, condition: exp.Expression, entity: str) -> exp.Expression:
    """A metric's filter (dimensions and segments by id) as an expression over columns
    reached from `entity`."""

    def swap(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Column):
            return node
        term = model.terms.get(node.name)
        if term is None or term.entity is None or term.is_metric or term.kind == "concept":
            raise NotCarried(f"its filter names '{node.name}', which is not a dimension")
        route = route_between(model, entity, term.entity, term.path)
        return exp.paren(_on_route(model, term.expr, term.entity, route), copy=False)

    return condition.copy().transform(swap, copy=False)


def _filtered(tree: exp.Expression, condition: exp.Expression) -> exp.Expression:
    """Each aggregate of `tree` restricted to the rows meeting `condition`."""

    def fold(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.AggFunc):
            return node
        if not isinstance(node, _NULL_SKIPPING):
            name = node.sql_name().lower()
            raise NotCarried(f"its filter cannot be folded into {name}(), which counts NULLs")
        arg = node.this
        distinct = isinstance(arg, exp.Distinct)
        inner = arg.expressions[0] if distinct else arg
        value = exp.Literal.number(1) if isinstance(inner, exp.Star) else inner
        case = exp.Case(ifs=[exp.If(this=condition.copy(), true=value.copy())])
        node.set("this", exp.Distinct(expressions=[case]) if distinct else case)
        return node

    return tree.transform(fold, copy=False)


def _fold_filter_clauses(tree: exp.Expression) -> exp.Expression:
    """`agg(x) FILTER (WHERE c)` written in a metric's own expression, as a CASE inside."""

    def fold(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Filter):
            return _filtered(node.this, node.expression.this)
        return node

    return tree.transform(fold, copy=False)


def type_of(model: Model, tree: exp.Expression, home: str) -> exp.DataType | None:
    """The SQL type of an exported expression, from the declared types of its columns
    (sqlglot's inference); None when a column is untyped or the type is unknown."""
    typed = tree.copy()
    for col in typed.find_all(exp.Column):
        if isinstance(col.this, exp.Star):
            continue
        column = model.entities[entity_of(col, home)].columns.get(col.name)
        if column is None or not column.type:
            return None
        col.type = exp.DataType.build(column.type, dialect=FILE_DIALECT)
    try:
        found = annotate_types(typed, dialect=FILE_DIALECT, overwrite_types=False).type
    except (SqlglotError, ValueError, KeyError):
        return None
    if found is None or found.is_type(exp.DataType.Type.UNKNOWN, exp.DataType.Type.NULL):
        return None
    return found


def ordered(objects: Iterable[Named]) -> list[Named]:
    """Objects by home entity, then id: a stable order for the files written."""
    return sorted(objects, key=lambda o: (o.home, o.id))
