"""Existence over a to-many path: `EXISTS(condition [, anchor])` ("has at least one"),
`NOT EXISTS(...)` ("has none") and `ALL(condition [, anchor])` ("all of its rows").

A condition on the many side of a metric's entity written plainly is a semi-join (the rows
with at least one match: `compiler.semijoins`). These forms say it in words and add what the
plain form cannot: "has none" and "every one". The existence is about the rows of an
*anchor* entity: the metric's own entity by default, or the entity of the dimension named as
the second argument (`EXISTS(ship_mode = 'AIR', order_key)`: the line's order has an AIR
line). Its SQL is a correlated subquery over the anchor entity again, matched on its primary
key, joined down to the rows the condition reads:

    EXISTS (SELECT 1 FROM orders AS has_orders
            JOIN lineitem AS has_lineitem ON has_orders.o_orderkey = has_lineitem.l_orderkey
            WHERE has_orders.o_orderkey = orders.o_orderkey AND has_lineitem.l_shipmode = 'AIR')

`ALL(c)` is `NOT EXISTS(NOT COALESCE(c, FALSE))`: a row where `c` is unknown (NULL) does not
meet it, and an anchor without any row meets it (nothing contradicts it).

>>> tree = exp.Anonymous(this="ALL", expressions=[exp.column("x").eq(1)])
>>> spelled(tree).sql("duckdb")
'NOT EXISTS(NOT COALESCE((x = 1), FALSE))'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Protocol, TypeVar

from sqlglot import exp

from semantic.compiler.keyjoins import key_reads
from semantic.compiler.naming import Names
from semantic.compiler.plannodes import Join
from semantic.compiler.refs import BusinessQuery, Ref, ref_nodes, ref_of, show
from semantic.errors import Span, error
from semantic.model import Model
from semantic.model.nodes import column, identifier, table


class Joins(Protocol):
    """What an existence reads of a join tree (`compiler.joins.Joins`, which imports this
    module where it makes an existence physical)."""

    root: str
    joins: list[Join]
    query: BusinessQuery

    def reach(self, target: str, pinned: tuple[str, ...]) -> str:
        """The alias of `target`, reached by the pinned hops."""
        ...


#: the join tree type of the caller
J = TypeVar("J", bound=Joins)


#: the name of "all of its rows" in a query
ALL = "all"
#: the name of "the value of the row the existence is tested for", inside an existence
THIS = "this"


def is_this(node: exp.Expr) -> bool:
    """Whether `node` is `THIS(dimension)`: inside an existence, the dimension's value on
    the row the existence is tested for, not on the related rows."""
    return isinstance(node, exp.Anonymous) and str(node.this).casefold() == THIS


def is_existence(node: exp.Expr) -> bool:
    """Whether `node` is an existence of the business query (not a subquery's EXISTS)."""
    return isinstance(node, exp.Exists) and not isinstance(node.this, exp.Query)


def is_all(node: exp.Expr) -> bool:
    """Whether `node` is `ALL(condition [, anchor])`."""
    return isinstance(node, exp.Anonymous) and str(node.this).casefold() == ALL


def spelled(tree: exp.Expression) -> exp.Expression:
    """`tree` with each `ALL(c [, anchor])` written `NOT EXISTS(NOT COALESCE(c, FALSE) [,
    anchor])` (in place)."""

    def swap(node: exp.Expression) -> exp.Expression:
        if not is_all(node):
            return node
        condition, *anchor = node.expressions
        unmet = exp.Not(
            this=exp.Coalesce(this=exp.paren(condition, copy=False), expressions=[exp.false()])
        )
        return exp.Not(this=exp.Exists(this=unmet, expression=anchor[0] if anchor else None))

    return tree.transform(swap, copy=False)


def prepared(model: Model, query: BusinessQuery) -> BusinessQuery:
    """`query` with `ALL(...)` spelled as `NOT EXISTS(...)`, every existence checked: SEM354
    for a metric or another existence inside, an anchor that is not one dimension, or a
    wrong number of arguments."""
    if not any(
        is_existence(n) or is_all(n) or is_this(n)
        for tree in _trees(query)
        for n in tree.find_all(exp.Exists, exp.Anonymous)
    ):
        return query
    for tree in _trees(query):
        for call in tree.find_all(exp.Anonymous):
            if is_all(call) and len(call.expressions) not in (1, 2):
                raise error(
                    "SEM354",
                    f"ALL takes a condition and, optionally, the dimension of the entity it "
                    f"is about, not {len(call.expressions)} arguments",
                    _place(query, call),
                    "write ALL(ship_status = 'F') or ALL(ship_status = 'F', order_key)",
                )
        for call in tree.find_all(exp.Anonymous):
            if not is_this(call):
                continue
            holder = call.find_ancestor(exp.Exists, exp.Anonymous)
            inside = holder is not None and (is_existence(holder) or is_all(holder))
            if not inside or len(call.expressions) != 1 or ref_of(call.expressions[0]) is None:
                raise error(
                    "SEM354",
                    f"'{show(call)}' is the value of one dimension on the row an existence "
                    "is tested for: it takes one dimension, inside EXISTS(...) or ALL(...)",
                    _place(query, call),
                    "write EXISTS(supplier_key <> THIS(supplier_key), order_key): the order "
                    "has a line of another supplier than this line's",
                )
    query = replace(
        query,
        filters=tuple(spelled(f.copy()) for f in query.filters),
        having=tuple(spelled(h.copy()) for h in query.having),
        columns=tuple(replace(c, expr=spelled(c.expr.copy())) for c in query.columns),
    )
    for tree in _trees(query):
        for found in tree.find_all(exp.Exists):
            if is_existence(found):
                _check(model, query, found)
    return query


def _trees(query: BusinessQuery) -> list[exp.Expression]:
    return [*query.filters, *query.having, *(c.expr for c in query.columns)]


def _place(query: BusinessQuery, node: exp.Expression) -> Span:
    refs = [ref for ref, _ in ref_nodes(node, "term")]
    return query.place(refs[0].ident) if refs else query.place("")


def _check(model: Model, query: BusinessQuery, node: exp.Exists) -> None:
    written = show(node)
    inner = node.this
    if inner.find(exp.Exists) is not None and any(
        is_existence(n) for n in inner.find_all(exp.Exists)
    ):
        raise error(
            "SEM354",
            f"'{written}' has an existence inside another",
            _place(query, node),
            "write each existence as a condition of its own, joined with AND",
        )
    for ref, found in ref_nodes(node, "term"):
        # a metric per entity or the grand total is a value of each row (`compiler.perentity`)
        if model.terms[ref.ident].is_metric and found.find_ancestor(exp.Per) is None:
            raise error(
                "SEM354",
                f"'{written}' reads the metric '{ref.ident}': an existence tests rows",
                query.place(ref.ident),
                "test dimensions and segments inside EXISTS(...); compare metrics in HAVING",
            )
    anchor = node.expression
    if anchor is not None:
        named = ref_of(anchor)
        if named is None or model.terms[named.ident].kind not in ("dimension", "time_dimension"):
            raise error(
                "SEM354",
                f"the second argument of '{written}' must name one dimension of the entity "
                "the existence is about",
                _place(query, anchor),
                "name its key: EXISTS(ship_mode = 'AIR', order_key) is about orders",
            )


def outer_refs(tree: exp.Expression) -> list[Ref]:
    """The term references of `tree` that its own rows read: those inside an existence's
    condition are read by the existence's subquery, its anchor by the rows."""
    existences: list[exp.Exists] = []
    refs: list[tuple[Ref, exp.Expr]] = []
    for node in tree.find_all(exp.Exists, exp.Anonymous):  # one walk: most trees have no EXISTS
        if isinstance(node, exp.Exists):
            if is_existence(node):
                existences.append(node)
        elif (ref := ref_of(node)) is not None and ref.kind == "term":
            refs.append((ref, node))
    if not existences:
        return [ref for ref, _ in refs]
    inside = {id(n) for e in existences for _, n in ref_nodes(e.this, "term")}
    for call in tree.find_all(exp.Anonymous):
        if is_this(call):  # THIS(x): the tested row's own value
            inside -= {id(n) for _, n in ref_nodes(call, "term")}
    return [ref for ref, node in refs if id(node) not in inside]


def existence_sql(
    model: Model,
    node: exp.Exists,
    outer: J,
    make_joins: Callable[[str, list[Ref]], J],
    physical: Callable[[exp.Expression, J], exp.Expression],
    restricted_rows: Callable[[str], exp.Select],
    left_out: list[Join] | None = None,
) -> exp.Exists:
    """The correlated `EXISTS (SELECT 1 ...)` of an existence, for the rows joined as
    `outer`: SEM355 when its condition reads no row on the many side of its anchor, SEM306
    when the anchor entity has no primary key to match its rows on. The joins its subquery
    leaves out (read for their key only) are added to `left_out`: their promise is still
    relied on (SEM441)."""
    query = outer.query
    anchor_ref = ref_of(node.expression) if node.expression is not None else None
    if anchor_ref is not None:
        anchor = model.terms[anchor_ref.ident]
        assert anchor.entity is not None
        entity, outer_alias = anchor.entity, outer.reach(anchor.entity, anchor.path)
    else:
        entity, outer_alias = outer.root, outer.root
    # THIS(x) is read on the outer rows: held apart as placeholders while the inside is
    # made physical and renamed, then put back
    tested = node.this.copy()
    outside: dict[str, exp.Expression] = {}
    for call in list(tested.find_all(exp.Anonymous)):
        if is_this(call):
            mark = f"__this_{len(outside)}"
            outside[mark] = physical(call.expressions[0], outer)
            call.replace(exp.Placeholder(this=mark))
    refs = [ref for ref, _ in ref_nodes(tested, "term")]
    inner = make_joins(entity, refs)
    if not any(not j.edge.to_one for j in inner.joins):
        first = refs[0].ident if refs else "the condition"
        raise error(
            "SEM355",
            f"'{show(node)}' is about rows of '{entity}', and '{first}' is one value per row "
            f"of '{entity}': there is no many side to look for rows in",
            query.place(refs[0].ident) if refs else query.place(""),
            "name the entity the existence is about as a second argument, by one of its "
            "dimensions (EXISTS(ship_mode = 'AIR', order_key): the line's order has an AIR "
            "line), or write the condition without EXISTS",
        )
    key = model.entities[entity].primary_key
    if not key:
        raise error(
            "SEM306",
            f"'{entity}' has no primary key, so '{show(node)}' cannot find the rows of each "
            f"'{entity}'",
            query.place(refs[0].ident) if refs else query.place(""),
            f"declare primary_key for entity '{entity}' in models/",
        )
    # the subquery's aliases are apart from the outer query's (it reads the anchor again)
    taken = Names([outer.root, *(j.alias for j in outer.joins)])
    renamed = {entity: taken.new(f"has_{entity}")}
    for join in inner.joins:
        renamed[join.alias] = taken.new(f"has_{join.alias}")

    def rename(n: exp.Expression) -> exp.Expression:
        # a grand total's subquery (`compiler.perentity`) reads its own rows, not these
        if (
            isinstance(n, exp.Column)
            and n.table in renamed
            and n.find_ancestor(exp.Subquery) is None
        ):
            return column(n.name, renamed[n.table])
        return n

    bare = ref_of(tested)
    if bare is not None and model.terms[bare.ident].kind != "segment":
        # EXISTS(order_key): any row of the dimension's entity, whatever its value
        condition: exp.Expression = exp.true()
    else:
        condition = physical(tested, inner).transform(rename, copy=False)

    def put_back(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Placeholder) and n.name in outside:
            return outside[n.name].copy()
        return n

    condition = condition.transform(put_back, copy=False)

    def read(eid: str, alias: str) -> exp.Expression:
        # a role's rows, with the query's per-entity values, read inside the subquery too
        if eid in query.restrict or eid in query.per_rows:
            rows = restricted_rows(eid)
            return exp.Subquery(this=rows, alias=exp.TableAlias(this=identifier(alias)))
        return table(model.entities[eid].table, alias)

    select = exp.Select(expressions=[exp.Literal.number(1)])
    select.set("from_", exp.From(this=read(entity, renamed[entity])))
    joins = []
    for join in inner.joins:
        # EQ nodes of new columns, not `.eq()`, which copies both sides
        on = exp.and_(
            *(
                exp.EQ(
                    this=column(s, renamed[join.parent]), expression=column(t, renamed[join.alias])
                )
                for s, t in join.edge.keys
            ),
            copy=False,
        )
        # down the to-many hops a row must exist; up a to-one hop a missing row is NULLs
        side = "LEFT" if join.edge.to_one else None
        joins.append(exp.Join(this=read(join.edge.target, renamed[join.alias]), on=on, side=side))
    select.set("joins", joins)
    match = [
        exp.EQ(this=column(c, renamed[entity]), expression=column(c, outer_alias)) for c in key
    ]
    select.set("where", exp.Where(this=exp.and_(*match, condition.copy(), copy=False)))
    # a hop to one row that every row finds and no role restricts, read only for the key it
    # joins on, reads the foreign key instead (TPC-H Q21's supplier_key <> THIS(...))
    select = without_key_joins(
        select,
        [
            (renamed[j.alias], renamed[j.parent], j.edge.keys)
            for j in inner.joins
            if j.edge.to_one and j.edge.required and j.edge.target not in query.restrict
        ],
    )
    if left_out is not None:
        joined = {j.this.alias_or_name for j in select.args.get("joins") or ()}
        left_out += [j for j in inner.joins if renamed[j.alias] not in joined]
    if entity not in query.restrict:  # a role's rows stay read as they are
        select = without_anchor(select, renamed[entity], outer_alias, key)
    return exp.Exists(this=select)


def without_key_joins(
    select: exp.Select, hops: list[tuple[str, str, tuple[tuple[str, str], ...]]]
) -> exp.Select:
    """`select` without the joins of `hops` ((alias, parent alias, keys) of `required`
    to-one joins) that nothing reads but the columns they join on and nothing joins from:
    every row finds its one row there, whose key *is* the foreign key, so the foreign key is
    read instead (`keyjoins.key_reads` decides, as for an aggregate's own joins).

    >>> s = exp.select("1").from_("l").join("s", on="l.sk = s.k", join_type="left")
    >>> s = s.where("s.k <> 3")
    >>> without_key_joins(s, [("s", "l", (("sk", "k"),))]).sql()
    'SELECT 1 FROM l WHERE l.sk <> 3'
    """
    for alias, parent, keys in reversed(hops):
        joins = list(select.args.get("joins") or [])
        found = [j for j in joins if j.this.alias_or_name == alias]
        if len(found) != 1:
            continue
        join = found[0]
        used = [
            c
            for c in select.find_all(exp.Column)
            if c.table == alias and c.find_ancestor(exp.Join) is not join
        ]
        others = any(
            c.table == alias for j in joins if j is not join for c in j.find_all(exp.Column)
        )
        source = key_reads(alias, keys, used)
        if others or source is None:
            continue
        for c in used:
            c.replace(column(source[c.name], parent))
        select.set("joins", [j for j in joins if j is not join])
    return select


def without_anchor(
    select: exp.Select, anchor: str, outer: str, key: list[str] | tuple[str, ...]
) -> exp.Select:
    """`select` without its copy of the anchor entity (alias `anchor`), where the subquery
    reads nothing of it but its primary key and its first join goes down from that whole
    key: the anchor's row matched on its key *is* the outer row (`outer`), so the join
    reads the outer row's key instead. TPC-H Q04's `EXISTS (SELECT 1 FROM orders JOIN
    lineitem ... WHERE has_orders.o_orderkey = orders.o_orderkey ...)` becomes the
    official `EXISTS (SELECT 1 FROM lineitem WHERE lineitem.l_orderkey = orders.o_orderkey
    ...)`: the same rows (a NULL key matches nothing either way; a repeated key finds its
    own row among the copies), one scan and one join fewer. Otherwise `select` as it is.

    >>> s = exp.select("1").from_("a AS has_a").join("b AS has_b", on="has_a.k = has_b.k")
    >>> s = s.where("has_a.k = a.k AND has_b.x = 1")
    >>> without_anchor(s, "has_a", "a", ["k"]).sql()
    'SELECT 1 FROM b AS has_b WHERE a.k = has_b.k AND has_b.x = 1'
    """
    joins = select.args.get("joins") or []
    if not joins:
        return select
    where = select.args["where"].this
    used = [c for c in select.find_all(exp.Column) if c.table == anchor]
    first_keys = {c.name for c in joins[0].args["on"].find_all(exp.Column) if c.table == anchor}
    if (
        joins[0].side
        or any(c.name not in key for c in used)
        or first_keys != set(key)
        or any(c.table == anchor for j in joins[1:] for c in j.find_all(exp.Column))
    ):
        return select
    # the key match (has_a.k = a.k for each key column) goes: the join now reads a.k
    match = {column(c, anchor).eq(column(c, outer)) for c in key}
    kept = [c for c in where.flatten() if c not in match] if isinstance(where, exp.And) else []
    if len(kept) != len(list(where.flatten())) - len(key):
        return select

    def outer_key(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and n.table == anchor:
            return column(n.name, outer)
        return n

    first = joins[0]
    found = exp.Select(expressions=select.expressions)
    found.set("from_", exp.From(this=first.this))
    found.set("joins", joins[1:])
    found.set("where", exp.Where(this=exp.and_(first.args["on"], *kept)))
    found.transform(outer_key, copy=False)  # a Column is never the root: `found` stays
    return found
