"""The join tree of one aggregate and its physical expressions: the paths from the
aggregate's entity to every entity its terms read, role-playing entities aliased apart, and
`plan_aggregate`, which makes one `Aggregate` of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from sqlglot import exp

from semantic.compiler.existence import existence_sql, is_existence, outer_refs
from semantic.compiler.keyjoins import without_key_joins
from semantic.compiler.localtime import in_project_time
from semantic.compiler.locate import QUERY_FILE
from semantic.compiler.naming import Names
from semantic.compiler.periods import truncate
from semantic.compiler.perrows import entity_rows
from semantic.compiler.plannodes import Aggregate, Join
from semantic.compiler.refs import BusinessQuery, Ref, find_refs, ref_of
from semantic.compiler.resolve import describe_path, find_path
from semantic.compiler.via import chosen_path_error, is_chosen
from semantic.errors import SemanticError, Span, error
from semantic.model import Edge, Model, Term
from semantic.model.nodes import column, table


class Joins:
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
        taken = Names([root])
        self.joins: list[Join] = []
        self.paths: list[str] = []
        #: terms reached through a one-to-many relationship
        self.fanned: set[str] = set()
        self.chosen: dict[tuple[str, tuple[str, ...]], tuple[Edge, ...]] = {}
        for term, target, pinned in needs:
            self.chosen[(target, pinned)] = path = self._find(term, target, pinned)
            if path:
                self.paths.append(f"{term.id}: {describe_path(root, path)}")
                if any(not e.to_one for e in path):
                    self.fanned.add(term.id)
        prefixes = {p[:i] for p in self.chosen.values() for i in range(1, len(p) + 1)}
        roles: dict[str, int] = {}
        for prefix in prefixes:
            roles[prefix[-1].target] = roles.get(prefix[-1].target, 0) + 1
        for prefix in sorted(prefixes, key=lambda p: (len(p), [e.hop for e in p])):
            edge = prefix[-1]
            name = edge.target
            if roles[name] > 1 or name == root:
                name = f"{edge.name if edge.name != edge.target else edge.source}_{edge.target}"
            self.aliases[prefix] = alias = taken.new(name)
            self.joins.append(
                Join(
                    alias,
                    self.aliases[prefix[:-1]],
                    edge,
                    model.entities[edge.target].table,
                    inner=_total(prefix, query),
                )
            )

    def _find(self, term: Term, target: str, pinned: tuple[str, ...]) -> tuple[Edge, ...]:
        try:
            return find_path(self.model, self.root, target, pinned, fan=True)
        except SemanticError as exc:
            if is_chosen(term):  # a path chosen in the query that this entity cannot take
                raise chosen_path_error(term, exc, self.query.place(term.id)) from None
            first = exc.diagnostics[0]
            raise error(
                first.code,
                f"{first.message} (needed for '{term.id}')",
                self.query.place(term.id),
                first.hint,
            ) from None

    def reach(self, target: str, pinned: tuple[str, ...]) -> str:
        """The alias of `target` as reached for `term`."""
        return self.aliases[self.chosen[(target, pinned)]]


def _total(path: tuple[Edge, ...], query: BusinessQuery) -> bool:
    """Whether each row of the path's first entity finds exactly one row at its end: every
    edge a `required` to-one relationship, none to an entity whose rows a role restricts
    (the row it would find may be one the role cannot read)."""
    return all(e.required and e.to_one and e.target not in query.restrict for e in path)


def _needs(terms: list[Term]) -> list[tuple[Term, str, tuple[str, ...]]]:
    """The entities (with pinned paths) that the expressions of `terms` read columns of."""
    found: dict[tuple[str, tuple[str, ...]], Term] = {}
    for term in terms:
        assert term.entity is not None
        found.setdefault((term.entity, term.path), term)
        for used in term.expr.find_all(exp.Column):
            if used.table:
                found.setdefault((used.table, ()), term)
    return [(term, target, pinned) for (target, pinned), term in found.items()]


def _qualify(expr: exp.Expression, joins: Joins, term: Term) -> exp.Expression:
    """`expr` of `term` with its columns qualified by the aliases of the entities they are on."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            if node.table:
                alias = joins.reach(node.table, ())
            else:
                assert term.entity is not None
                alias = joins.reach(term.entity, term.path)
            return column(node.name, alias)
        return node

    if isinstance(expr, exp.Column):  # most terms: a column, made anew without a copy
        return swap(expr)
    return expr.copy().transform(swap, copy=False)


def _physical(
    model: Model, expr: exp.Expression, joins: Joins, left_out: list[Join] | None = None
) -> exp.Expression:
    """A row-level expression over term references made physical for `joins`' root; the
    joins its existences' subqueries leave out are added to `left_out`."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Exists) and is_existence(node):
            return existence_sql(
                model,
                node,
                joins,
                _inner_joins(model, joins.query),
                _physical_of(model),
                lambda eid: rows_read(model, eid, joins.query),
                left_out,
            )
        ref = ref_of(node)
        if ref is None:
            return node
        return _term_value(model, model.terms[ref.ident], ref.grain, joins)

    if ref_of(expr) is not None:  # a term read alone: its value is made anew, not copied
        return swap(expr)
    copied = expr.copy()
    if copied.find(exp.Exists) is not None:
        return copied.transform(swap, copy=False)
    # without an existence only the references change: sqlglot's walk picks them out (a
    # reference holds no other node, and the values put in are not walked again)
    for node in list(copied.find_all(exp.Anonymous)):
        ref = ref_of(node)
        if ref is not None:
            node.replace(_term_value(model, model.terms[ref.ident], ref.grain, joins))
    return copied


#: the key of `_term_value`'s memo in `Model.path_cache`
_PHYSICAL = "physical term values"

#: at most this many terms in the memo: a server's queries may make terms of their own
_PHYSICAL_TERMS = 4096


def _term_value(model: Model, term: Term, grain: str | None, joins: Joins) -> exp.Expression:
    """The physical value of `term` (at `grain`) over `joins`' aliases, a tree of the
    caller's own.

    Made once per (term, grain, aliases) and kept per model in `path_cache`, shared by
    every query (a reload makes a new model): what a compile gets is a copy, so the kept
    tree is never part of a query's tree and no later pass can change it. An entry is
    used only for the very term it was made of (the models a query extends with terms of
    its own share `path_cache`, and their ids may name another expression there)."""
    memo = cast(
        dict[str, tuple[Term, tuple[str, ...], bool, dict[tuple[object, ...], exp.Expression]]],
        model.path_cache.setdefault(_PHYSICAL, {}),
    )
    entry = memo.get(term.id)
    if entry is None or entry[0] is not term:
        columns = (
            [term.expr] if isinstance(term.expr, exp.Column) else term.expr.find_all(exp.Column)
        )
        tables: dict[str, None] = {}
        bare = False
        for used in columns:
            if used.table:
                tables[used.table] = None
            else:
                bare = True
        entry = (term, tuple(tables), bare, {})
        if len(memo) < _PHYSICAL_TERMS:
            memo[term.id] = entry
    _, tables_read, bare, values = entry
    key = (
        grain,
        joins.reach(term.entity, term.path) if bare and term.entity is not None else None,
        *(joins.reach(t, ()) for t in tables_read),
    )
    value = values.get(key)
    if value is None:
        value = in_project_time(model, term, _qualify(term.expr, joins, term))
        is_date = _is_date(model, term)
        if grain and not (grain == "day" and is_date):
            value = truncate(value, grain, is_date, model.fiscal_year_start)
        if not isinstance(value, (exp.Column, exp.Func, exp.Literal, exp.Paren)):
            value = exp.paren(value, copy=False)
        values[key] = value
    if isinstance(value, exp.Column):  # most terms: a column, made anew more cheaply
        return column(value.name, value.table or None)
    return value.copy()


def _inner_joins(model: Model, query: BusinessQuery) -> Callable[[str, list[Ref]], Joins]:
    """How an existence's subquery joins its anchor `entity` to what its condition reads."""
    return lambda entity, refs: Joins(
        model, entity, _needs([model.terms[r.ident] for r in refs]), query
    )


def _physical_of(model: Model) -> Callable[[exp.Expression, Joins], exp.Expression]:
    return lambda expr, joins: _physical(model, expr, joins)


def _is_date(model: Model, term: Term) -> bool:
    if not isinstance(term.expr, exp.Column) or term.entity is None:
        return False
    column = model.entities[term.entity].columns.get(term.expr.name)
    return column is not None and (column.type or "").strip().lower() == "date"


def plan_aggregate(
    model: Model,
    name: str,
    entity: str,
    members: list[tuple[str, str]],
    keys: list[tuple[str, exp.Expression]],
    filters: tuple[exp.Expression, ...],
    query: BusinessQuery,
    conditions: tuple[tuple[str, tuple[exp.Expression, ...]], ...] = (),
) -> Aggregate:
    """The aggregate `name`: rows of `entity` joined to what the group `keys`, the `filters`
    and the measures `members` ((alias, metric id) each) read, with the paths taken and the
    one-to-many joins that make its rows repeat; SEM306 when they repeat and `entity` has no
    primary key to count each once.

    `conditions` gives measures a condition of their own ((alias, conditions) each): they
    aggregate only the rows that meet it (`FILTER (WHERE ...)`), the other measures every
    row; when every measure has one, the rows that meet none are filtered out."""
    # what an existence tests is read by its own subquery, not by these rows
    used = [model.terms[r.ident] for _, e in keys for r in outer_refs(e)]
    used += [model.terms[r.ident] for f in filters for r in outer_refs(f)]
    used += [model.terms[r.ident] for _, cs in conditions for c in cs for r in outer_refs(c)]
    used += [model.terms[tid] for _, tid in members]
    joins = Joins(model, entity, _needs(used), query)
    fanout = tuple(
        f"{j.edge.source} -> {j.edge.target} is {j.edge.cardinality.replace('_', '-')}"
        for j in joins.joins
        if not j.edge.to_one
    )
    primary_key = model.entities[entity].primary_key
    if fanout and not primary_key:
        raise error(
            "SEM306",
            f"'{entity}' has no primary key, so its rows cannot be counted once each across "
            f"a one-to-many join ({fanout[0]})",
            Span(QUERY_FILE, 1, 1),
            f"declare primary_key for entity '{entity}' in models/",
        )
    # the joins its existences leave out: relied on all the same (SEM441, `key_joins`)
    left_out: list[Join] = []
    physical_keys = tuple((key, _physical(model, expr, joins, left_out)) for key, expr in keys)
    read = [(entity, entity), *((j.alias, j.edge.target) for j in joins.joins)]
    own = tuple(
        (alias, _physical(model, _all(cs), joins, left_out)) for alias, cs in conditions if cs
    )
    physical = tuple(_physical(model, f, joins, left_out) for f in filters)
    # an inner join read only for its key reads the foreign key instead (TPC-H Q11)
    aggregate = Aggregate(
        name=name,
        entity=entity,
        table=model.entities[entity].table,
        joins=tuple(joins.joins),
        keys=physical_keys,
        measures=tuple(
            (alias, _qualify(model.terms[tid].expr, joins, model.terms[tid]))
            for alias, tid in members
        ),
        filters=physical,
        paths=tuple(dict.fromkeys(joins.paths)),
        fanout=fanout,
        entity_key=tuple(column(c, entity) for c in primary_key) if fanout else (),
        many_side=tuple(t for t in dict.fromkeys(t.id for t in used) if t in joins.fanned),
        grain=primary_key,
        restricted=tuple(
            (alias, rows_read(model, eid, query))
            for alias, eid in read
            if eid in query.restrict or eid in query.per_rows
        ),
        by_role=tuple(alias for alias, eid in read if eid in query.restrict),
        per_values=tuple(
            (alias, value.column, value.label)
            for alias, eid in read
            for value in query.per_rows.get(eid, ())
        ),
        conditions=own,
        not_null=tuple(
            key for key, expr in physical_keys if never_null(model, expr, entity, joins.joins)
        ),
        key_joins=tuple(left_out),
    )
    return without_key_joins(aggregate, query.per_rows)


def never_null(
    model: Model, expr: exp.Expression, root: str, joins: tuple[Join, ...] | list[Join]
) -> bool:
    """Whether the model promises that the group key `expr` (physical, over the aliases of
    an aggregate of `root` joined along `joins`) is never NULL: a column (or a period of
    one) of the aggregate's entity, or of an entity joined by an inner join (every row finds
    its row), that is a primary key column, declared `nullable: false`, or the foreign key
    of a `required` relationship of that entity. A role's mask is never a plain column."""
    while isinstance(expr, exp.Cast | exp.DateTrunc | exp.Paren):
        expr = expr.this
    if not isinstance(expr, exp.Column):
        return False
    entities = {root: root, **{j.alias: j.edge.target for j in joins if j.inner}}
    eid = entities.get(expr.table)
    if eid is None:
        return False
    if model.entities[eid].not_null(expr.name):
        return True
    return any(
        e.required and e.declared and expr.name in (s for s, _ in e.keys)
        for e in model.edges.get(eid, ())
    )


def rows_read(model: Model, eid: str, query: BusinessQuery) -> exp.Select:
    """The rows of `eid` read in place of its table: a role's restricted rows, with the
    query's per-entity values as columns (`perrows`) when it has some."""
    base = restricted_rows(model, eid, query) if eid in query.restrict else None
    values = query.per_rows.get(eid)
    if not values:
        assert base is not None
        return base
    return entity_rows(model, eid, values, base)


def restricted_rows(model: Model, eid: str, query: BusinessQuery) -> exp.Select:
    """The rows of entity `eid` that a role may read: its columns, from its rows that meet
    the role's condition (`query.restrict`), read through to-one joins only, so that each
    row is kept once or not at all. SEM335 when the condition reads an entity that `eid`
    reaches through no to-one path (it cannot tell which of several values to test)."""
    condition = query.restrict[eid]
    terms = [model.terms[r.ident] for r in find_refs(condition, "term")]
    needs = _needs(terms)
    for term, target, pinned in needs:
        try:
            find_path(model, eid, target, pinned)
        except SemanticError:
            raise error(
                "SEM335",
                f"a row filter of role '{query.decision.role if query.decision else '?'}' "
                f"cannot restrict the rows of '{eid}': '{term.id}' is not one value per row "
                f"of '{eid}' (no single to-one path to '{target}')",
                Span(QUERY_FILE, 1, 1),
                "leave out of the query what reads this entity, or split the role's filter "
                "into conditions on one entity each",
            ) from None
    joins = Joins(model, eid, needs, query)
    entity = model.entities[eid]
    rows = exp.Select(expressions=[column(c, eid) for c in entity.columns])
    rows.set("from_", exp.From(this=table(entity.table, eid)))
    rows.set(
        "joins",
        [
            exp.Join(
                this=table(j.table, j.alias),
                on=exp.and_(*(column(s, j.parent).eq(column(t, j.alias)) for s, t in j.edge.keys)),
                side="LEFT",
            )
            for j in joins.joins
        ],
    )
    rows.set("where", exp.Where(this=_physical(model, condition, joins)))
    return rows


def _all(conditions: tuple[exp.Expression, ...]) -> exp.Expression:
    """The conjunction of `conditions`, each in parentheses where it needs them."""
    if len(conditions) == 1:
        return conditions[0]
    return cast(exp.Expression, exp.and_(*conditions, copy=True))
