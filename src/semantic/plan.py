"""Decide what is aggregated where: one `Aggregate` per metric entity, each at its own grain.

A plan is made of small immutable nodes. Expressions inside them are already physical
(columns qualified by join aliases) except in `Plan.columns`, `Plan.having` and
`Plan.order`, which refer to group keys and measures through key and measure
references (`query.make_ref`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from semantic.errors import SemanticError, Span, error
from semantic.model import Edge, Model, Term
from semantic.query import (
    QUERY_DIALECT,
    QUERY_FILE,
    BusinessQuery,
    OrderItem,
    find_refs,
    make_ref,
    ref_of,
)
from semantic.resolve import describe_path, find_path


@dataclass(frozen=True, slots=True)
class Join:
    """A LEFT JOIN along a to-one edge: `alias` joins `parent` (an alias)."""

    alias: str
    parent: str
    edge: Edge
    table: str


@dataclass(frozen=True, slots=True)
class Aggregate:
    """Rows of `entity` joined to-one, filtered, grouped by `keys`, aggregated to `measures`."""

    entity: str
    table: str
    joins: tuple[Join, ...]
    keys: tuple[tuple[str, exp.Expression], ...]
    measures: tuple[tuple[str, exp.Expression], ...]
    filters: tuple[exp.Expression, ...]
    paths: tuple[str, ...]

    @property
    def description(self) -> str:
        """One line saying what this node computes."""
        keys = ", ".join(k for k, _ in self.keys) or "(all rows)"
        return f"{', '.join(m for m, _ in self.measures)} over {self.entity} by {keys}"


@dataclass(frozen=True, slots=True)
class Plan:
    """The aggregates and how their results become the answer."""

    aggregates: tuple[Aggregate, ...]
    columns: tuple[tuple[str, exp.Expression], ...]
    having: tuple[exp.Expression, ...]
    order: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
    params: tuple[str, ...]


def plan_query(model: Model, query: BusinessQuery) -> Plan:
    """Group the query's metrics by entity and plan each aggregate's joins and keys."""
    keys = [(c.name, c.expr) for c in query.columns if not c.is_metric]
    outputs = [
        (c.name, make_ref("key", c.name) if not c.is_metric else _expand(model, c.expr))
        for c in query.columns
    ]
    having = tuple(_expand(model, h) for h in query.having)
    order = tuple(
        OrderItem(
            o.column, _expand(model, o.expr) if o.expr is not None else None, o.desc, o.nulls_first
        )
        for o in query.order
    )
    base: dict[str, list[str]] = {}
    for node in [*(e for _, e in outputs), *having, *(o.expr for o in order if o.expr is not None)]:
        for ref in find_refs(node, "measure"):
            entity = model.terms[ref.ident].entity
            assert entity is not None
            if ref.ident not in base.setdefault(entity, []):
                base[entity].append(ref.ident)
    if not base:
        raise error(
            "SEM305",
            "the query selects no metric",
            Span(QUERY_FILE, 1, 1),
            "add a metric such as a count; a list of distinct values needs a metric to group",
        )
    aggregates = tuple(
        _plan_aggregate(model, entity, metrics, keys, query) for entity, metrics in base.items()
    )
    return Plan(aggregates, tuple(outputs), having, order, query.limit, query.offset, query.params)


def _expand(model: Model, expr: exp.Expression) -> exp.Expression:
    """Replace metric references by measure references to base metrics, inlining derived
    metrics."""

    def swap(node: exp.Expression) -> exp.Expression:
        ref = ref_of(node)
        if ref is not None and ref.kind == "term":
            return _metric(model, model.terms[ref.ident])
        return node

    return expr.copy().transform(swap, copy=False)


def _metric(model: Model, term: Term) -> exp.Expression:
    if not term.is_derived:
        return make_ref("measure", term.id)

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return _metric(model, model.terms[node.name])
        return node

    return exp.paren(term.expr.copy().transform(swap, copy=False), copy=False)


class _Joins:
    """The join tree of one aggregate: every path shares the prefixes it has in common.

    An entity reached by one path is aliased by its id; an entity reached by several paths
    (a role-playing entity such as the customer's and the supplier's nation) is aliased by
    the entity or relationship that leads to it: `customer_nation`, `supplier_nation`.
    """

    def __init__(
        self,
        model: Model,
        root: str,
        needs: list[tuple[Term, str, tuple[str, ...]]],
        query: BusinessQuery,
    ) -> None:
        self.model = model
        self.query = query
        self.root = root
        self.aliases: dict[tuple[Edge, ...], str] = {(): root}
        self.joins: list[Join] = []
        self.paths: list[str] = []
        self.chosen: dict[tuple[str, tuple[str, ...]], tuple[Edge, ...]] = {}
        for term, target, pinned in needs:
            self.chosen[(target, pinned)] = path = self._find(term, target, pinned)
            if path:
                self.paths.append(f"{term.id}: {describe_path(root, path)}")
        prefixes = {p[:i] for p in self.chosen.values() for i in range(1, len(p) + 1)}
        roles: dict[str, int] = {}
        for prefix in prefixes:
            roles[prefix[-1].target] = roles.get(prefix[-1].target, 0) + 1
        for prefix in sorted(prefixes, key=lambda p: (len(p), [e.hop for e in p])):
            edge = prefix[-1]
            name = edge.target
            if roles[name] > 1 or name == root:
                name = f"{edge.name if edge.name != edge.target else edge.source}_{edge.target}"
            alias, n = name, 2
            while alias in self.aliases.values():
                alias, n = f"{name}_{n}", n + 1
            self.aliases[prefix] = alias
            self.joins.append(
                Join(alias, self.aliases[prefix[:-1]], edge, model.entities[edge.target].table)
            )

    def _find(self, term: Term, target: str, pinned: tuple[str, ...]) -> tuple[Edge, ...]:
        try:
            return find_path(self.model, self.root, target, pinned)
        except SemanticError as exc:
            first = exc.diagnostics[0]
            raise error(
                first.code,
                f"{first.message} (needed for '{term.id}')",
                self.query.place(term.id),
                first.hint,
            ) from None

    def reach(self, term: Term, target: str, pinned: tuple[str, ...]) -> str:
        """The alias of `target` as reached for `term`."""
        return self.aliases[self.chosen[(target, pinned)]]


def _needs(model: Model, terms: list[Term]) -> list[tuple[Term, str, tuple[str, ...]]]:
    """The entities (with pinned paths) that the expressions of `terms` read columns of."""
    found: dict[tuple[str, tuple[str, ...]], Term] = {}
    for term in terms:
        assert term.entity is not None
        found.setdefault((term.entity, term.path), term)
        for column in term.expr.find_all(exp.Column):
            if column.table:
                found.setdefault((column.table, ()), term)
    return [(term, target, pinned) for (target, pinned), term in found.items()]


def _qualify(expr: exp.Expression, joins: _Joins, term: Term) -> exp.Expression:
    """`expr` of `term` with its columns qualified by the aliases of the entities they are on."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            if node.table:
                alias = joins.reach(term, node.table, ())
            else:
                assert term.entity is not None
                alias = joins.reach(term, term.entity, term.path)
            return exp.column(node.name, alias)
        return node

    return expr.copy().transform(swap, copy=False)


def _physical(model: Model, expr: exp.Expression, joins: _Joins) -> exp.Expression:
    """A row-level expression over term references made physical for `joins`' root."""

    def swap(node: exp.Expression) -> exp.Expression:
        ref = ref_of(node)
        if ref is None:
            return node
        term = model.terms[ref.ident]
        value = _qualify(term.expr, joins, term)
        is_date = _is_date(model, term)
        if ref.grain and not (ref.grain == "day" and is_date):
            value = exp.DateTrunc(this=value, unit=exp.var(ref.grain.upper()))
            if is_date:  # truncating a DATE gives a TIMESTAMP in some engines
                value = exp.cast(value, exp.DataType.Type.DATE)
        if not isinstance(value, (exp.Column, exp.Func, exp.Literal, exp.Paren)):
            value = exp.paren(value, copy=False)
        return value

    return expr.copy().transform(swap, copy=False)


def _is_date(model: Model, term: Term) -> bool:
    if not isinstance(term.expr, exp.Column) or term.entity is None:
        return False
    column = model.entities[term.entity].columns.get(term.expr.name)
    return column is not None and (column.type or "").strip().lower() == "date"


def _plan_aggregate(
    model: Model,
    entity: str,
    metrics: list[str],
    keys: list[tuple[str, exp.Expression]],
    query: BusinessQuery,
) -> Aggregate:
    used = [model.terms[r.ident] for _, e in keys for r in find_refs(e, "term")]
    filters = query.filters
    used += [model.terms[r.ident] for f in filters for r in find_refs(f, "term")]
    used += [model.terms[tid] for tid in metrics]
    joins = _Joins(model, entity, _needs(model, used), query)
    physical_keys = tuple((name, _physical(model, expr, joins)) for name, expr in keys)
    measures = tuple(
        (tid, _qualify(model.terms[tid].expr, joins, model.terms[tid])) for tid in metrics
    )
    physical_filters = tuple(_physical(model, f, joins) for f in filters)
    return Aggregate(
        entity=entity,
        table=model.entities[entity].table,
        joins=tuple(joins.joins),
        keys=physical_keys,
        measures=measures,
        filters=physical_filters,
        paths=tuple(dict.fromkeys(joins.paths)),
    )


def describe_plan(plan: Plan) -> str:
    """The plan in plain words, one aggregate per paragraph."""
    lines = []
    for agg in plan.aggregates:
        lines.append(f"aggregate {agg.description}")
        lines += [f"  path {p}" for p in agg.paths]
        lines += [f"  filter {f.sql(QUERY_DIALECT)}" for f in agg.filters]
    return "\n".join(lines)
