"""The join path chosen in the query: `via(term, through)` reads a dimension's expression on
its entity reached through `through`, in place of the path the glossary pins for the term.

>>> from semantic.project import Project
>>> from semantic.compiler.parse import parse_query
>>> from semantic.compiler.refs import show
>>> model = Project.load(".").model
>>> q = parse_query(model, "SELECT via(customer_nation, supplier) AS nation, net_revenue")
>>> show(q.columns[0].expr)
'VIA(customer_nation, supplier)'
>>> pin_of(model, model.terms["customer_nation"], "supplier")
('supplier.nation',)

`through` names, in this order of precedence:

- an entity id (`supplier`): the path passes through that entity, then takes its one to-one
  path to the term's entity;
- a relationship, `entity.relationship` (`lineitem.supplier`): the path ends with that hop,
  then takes the one to-one path from where it leads;
- a glossary term (any language, `"Nom du fournisseur"`): the path passes through the row
  that term describes (its own pinned path included: `via(nation_name, supplier_nation)` is
  the supplier's nation).

The result is a pin (the hops the path must end with), exactly what a term's `path:` says,
so that the planner finds the rest of the path (from each metric's entity) by the usual rule
(`resolve.find_path`): shortest to-one path, else refused when ambiguous.

The parser keeps the node `via(<reference>, <through>)`, the reference being the term's own,
so that a role's policy sees the term (clearance; a masked term is refused in `via`). Before
planning, `with_paths` makes each distinct one a dimension of this query only, the term with
its pin replaced (id `'customer_nation via supplier'`: no glossary id holds a space), read
like any other term through `compiler.joins` and `compiler.sources`, a role's restricted rows
included. SEM367: `via` not written as one; SEM368: no such path, or more than one meaning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeGuard

from sqlglot import exp

from semantic.compiler.refs import QUERY_DIALECT, BusinessQuery, make_ref, ref_of
from semantic.compiler.resolve import describe_path, find_path, resolve_name
from semantic.errors import SemanticError, Span, error, suggest
from semantic.model import Edge, Model, Term

#: the function of the query language that chooses a path
VIA = "via"
#: between a term's id and what it goes through, in the id of a term made for one query
SEPARATOR = " via "
#: the kinds of terms a path may be chosen for (values of one row of their entity)
_ROW_KINDS = ("dimension", "time_dimension")
_USAGE = "write via(dimension, entity), e.g. via(customer_nation, supplier)"


def is_via(node: exp.Expression) -> TypeGuard[exp.Anonymous]:
    """Whether `node` is a `via(...)` call (as written, or as the parser keeps it)."""
    return isinstance(node, exp.Anonymous) and str(node.this).casefold() == VIA


def is_chosen(term: Term) -> bool:
    """Whether `term` was made for one query by `with_paths`."""
    return SEPARATOR in term.id


def resolve_via(
    model: Model,
    node: exp.Anonymous,
    resolve: Callable[[exp.Expression], exp.Expression],
    span: Callable[[exp.Expression], Span],
) -> exp.Expression:
    """The parser's node of `via(term, through)` (`resolve` resolves the term in place):
    SEM367 when it is not written as one, SEM368 when `through` leads to the term's entity
    by no to-one path or by several."""
    place = span(node)
    if len(node.expressions) != 2:
        raise error(
            "SEM367", f"via takes two arguments, not {len(node.expressions)}", place, _USAGE
        )
    written, through = node.expressions
    resolved = resolve(written) if isinstance(written, exp.Column) else written
    ref = ref_of(resolved)
    term = model.terms[ref.ident] if ref is not None and ref.kind == "term" else None
    if term is None or term.kind not in _ROW_KINDS or term.entity is None:
        what = f"the {term.kind.replace('_', ' ')} '{term.id}'" if term else "not one term"
        raise error(
            "SEM367",
            f"via chooses the path of a dimension, and its first argument is {what}",
            place,
            _USAGE + "; a metric's path is chosen by the dimensions it is grouped by",
        )
    name = _through_name(through, place)
    pin_of(model, term, name, span(through))  # the errors, at the query's place
    return exp.Anonymous(this=VIA, expressions=[resolved, exp.var(_canonical(model, name))])


def _through_name(node: exp.Expression, place: Span) -> str:
    if isinstance(node, exp.Column) and len(node.parts) <= 2:
        return ".".join(p.name for p in node.parts)
    if isinstance(node, exp.Literal) and node.is_string:
        return node.name
    raise error(
        "SEM367",
        f"via goes through an entity, a relationship or a term, not '{node.sql(QUERY_DIALECT)}'",
        place,
        _USAGE,
    )


def _canonical(model: Model, name: str) -> str:
    """What `name` names, as the node keeps it: an entity or relationship as written in
    models/, a term by its id."""
    if name.casefold() in {e.casefold() for e in model.entities}:
        return next(e for e in model.entities if e.casefold() == name.casefold())
    if _edge(model, name) is not None:
        return name
    return resolve_name(model, name).id


def pin_of(model: Model, term: Term, through: str, place: Span | None = None) -> tuple[str, ...]:
    """The hops a path to `term`'s entity must end with to pass through `through` (an
    entity, `entity.relationship` or a term): SEM367 when `through` names none of these or
    the term's own entity, SEM368 when it leads to the term's entity by no to-one path or by
    several with different meanings."""
    assert term.entity is not None
    start, prefix = _start(model, through, place)
    hops: tuple[str, ...] = ()
    if start != term.entity:
        try:
            hops = tuple(e.hop for e in find_path(model, start, term.entity))
        except SemanticError:
            found = _to_one_paths(model, start, term.entity)
            listing = "; ".join(describe_path(start, p) for p in found)
            raise error(
                "SEM368",
                f"via({term.id}, {through}): "
                + (
                    f"'{start}' leads to '{term.entity}' by several paths with different "
                    f"meanings: {listing}"
                    if found
                    else f"'{start}' leads to no row of '{term.entity}' (no to-one path)"
                ),
                place,
                f"name a relationship of one path, e.g. via({term.id}, {found[0][0].hop})"
                if found
                else f"name an entity on the way to '{term.entity}' (from which each row has "
                "one row of it)",
            ) from None
    if not prefix and not hops:
        raise error(
            "SEM367",
            f"via({term.id}, {through}) names the entity of '{term.id}' itself: it chooses no path",
            place,
            f"name an entity on the way to '{term.entity}', e.g. via({term.id}, "
            f"{_example(model, term.entity)})",
        )
    return (*prefix, *hops)


def _start(model: Model, through: str, place: Span | None) -> tuple[str, tuple[str, ...]]:
    """Where the chosen part of the path starts, and the hops that lead there."""
    by_case = {e.casefold(): e for e in model.entities}
    if through.casefold() in by_case:
        return by_case[through.casefold()], ()
    edge = _edge(model, through)
    if edge is not None:
        return edge.target, (edge.hop,)
    try:
        other = resolve_name(model, through)
    except SemanticError as exc:
        if "." in through:
            names = [e.hop for edges in model.edges.values() for e in edges]
            raise error(
                "SEM367",
                f"'{through}' is no relationship of the model",
                place,
                suggest(through, names) or "write entity.relationship as in models/",
            ) from None
        hint = suggest(through, list(model.entities))
        first = exc.diagnostics[0]
        raise error(
            "SEM367",
            f"via goes through '{through}', which is no entity, relationship or term",
            place,
            hint or first.hint or f"entities: {', '.join(sorted(model.entities))}",
        ) from None
    if other.kind not in _ROW_KINDS or other.entity is None:
        raise error(
            "SEM367",
            f"via goes through '{other.id}', a {other.kind.replace('_', ' ')}: not a row",
            place,
            "name an entity, a relationship or a dimension of the row the path passes through",
        )
    return other.entity, other.path


def _edge(model: Model, hop: str) -> Edge | None:
    source, dot, name = hop.partition(".")
    if not dot:
        return None
    for eid, edges in model.edges.items():
        if eid.casefold() == source.casefold():
            return next((e for e in edges if e.name.casefold() == name.casefold()), None)
    return None


def _to_one_paths(model: Model, start: str, target: str) -> list[tuple[Edge, ...]]:
    """Every to-one path from `start` to `target` visiting no entity twice, shortest first."""
    found: list[tuple[Edge, ...]] = []

    def walk(entity: str, trail: tuple[Edge, ...], seen: frozenset[str]) -> None:
        if entity == target:
            found.append(trail)
            return
        for edge in model.edges.get(entity, ()):
            if edge.to_one and edge.target not in seen and len(trail) < 8:
                walk(edge.target, (*trail, edge), seen | {edge.target})

    walk(start, (), frozenset({start}))
    return sorted(found, key=lambda p: (len(p), [e.hop for e in p]))


def _example(model: Model, target: str) -> str:
    """An entity with a to-one relationship to `target`, for a hint."""
    for eid, edges in sorted(model.edges.items()):
        if eid != target and any(e.to_one and e.target == target for e in edges):
            return eid
    return "entity"


def with_paths(model: Model, query: BusinessQuery) -> tuple[Model, BusinessQuery]:
    """`model` with a term made for each distinct `via(term, through)` of `query` (the term
    with the chosen pin), and `query` reading them."""
    trees = [c.expr for c in query.columns] + [*query.filters, *query.having]
    trees += [o.expr for o in query.order if o.expr is not None]
    if not any(is_via(n) for t in trees for n in t.find_all(exp.Anonymous)):
        return model, query
    terms = dict(model.terms)
    places = dict(query.places)

    def swap(node: exp.Expression) -> exp.Expression:
        if not is_via(node):
            return node
        ref = ref_of(node.expressions[0])
        assert ref is not None
        base, through = model.terms[ref.ident], node.expressions[1].name
        tid = f"{base.id}{SEPARATOR}{through}"
        if tid not in terms:
            terms[tid] = replace(base, id=tid, path=pin_of(model, base, through))
            places.setdefault(tid, query.places.get(base.id, (0, 1)))
        return make_ref("term", tid, ref.grain)

    def swapped(tree: exp.Expression) -> exp.Expression:
        return tree.transform(swap)

    query = replace(
        query,
        columns=tuple(replace(c, expr=swapped(c.expr)) for c in query.columns),
        filters=tuple(swapped(f) for f in query.filters),
        having=tuple(swapped(h) for h in query.having),
        order=tuple(
            replace(o, expr=swapped(o.expr) if o.expr is not None else None) for o in query.order
        ),
        places=places,
    )
    return replace(model, terms=terms, path_cache=model.path_cache), query


def chosen_path_error(term: Term, problem: SemanticError, place: Span) -> SemanticError:
    """SEM368 for a path chosen in the query that a metric's entity cannot take (`problem`:
    SEM306 or SEM307 of `find_path`), at the query's place."""
    first = problem.diagnostics[0]
    base, through = term.id.split(SEPARATOR, 1)
    listing = first.message.partition(" with different meanings: ")[2]
    hint = (
        f"candidate paths: {listing}; name an entity or relationship that only one of them "
        f"passes through: via({base}, ...)"
        if listing
        else "group a metric whose rows reach it, or choose another path: via(" + base + ", ...)"
    )
    return error(
        "SEM368",
        f"via({base}, {through}): {first.message} (needed for '{base}' through '{through}')",
        place,
        hint,
    )
