"""Subqueries that `semantic translate` reads inside row conditions: values of rows (for
`compiler.translate`, next to `compiler.translategrain`).

- A scalar subquery over tables joined along to-one relationships from one table, tied to
  the primary key of a table of the query (or of a semi-join's table) by the keys of a
  to-one relationship, is the metric per that entity, its own conditions the metric's
  FILTER: TPC-H Q2's `ps_supplycost = (SELECT min(ps_supplycost) FROM partsupp, supplier,
  nation, region WHERE p_partkey = ps_partkey AND ... AND r_name = 'EUROPE')` is
  `supply_cost = MEASURE(minimum_supply_cost) FILTER (WHERE supplier_region = 'EUROPE') PER
  (part)`.
- The same subquery uncorrelated, compared in a row condition, is the grand total `PER
  (ALL)` with its own conditions as FILTER (Q22's average of the positive balances).
- Compared in WHERE, an aggregate over no rows is NULL and the comparison drops the row,
  where a metric that fills (`fill_null: 0`) gives a value: the count of the same rows being
  above 0 is added, `MEASURE(line_count) FILTER (...) PER (partsupp) > 0` (Q20).
- `col IN (SELECT key ...)` and `EXISTS` inside a semi-join's own conditions are semi-joins
  from the semi-join's table (Q20's parts named `forest%`).
- `NOT EXISTS (SELECT * FROM t WHERE t.fk = outer.pk AND c)` over the many side of a
  relationship is `NOT EXISTS(c, anchor)` about the outer row (`NOT EXISTS(order_key,
  customer_key)` when there is no `c`: Q22's customers without orders).
"""

from __future__ import annotations

from typing import cast

from sqlglot import exp

from semantic.compiler.joingraph import (
    Match,
    conjuncts,
    entity_of_table,
    refusal,
    tied_subquery,
)
from semantic.compiler.resolve import find_path
from semantic.compiler.termmatch import Place, PlaceOf
from semantic.compiler.translategrain import Translator, filled_metrics, per
from semantic.errors import SemanticError

#: the tables a subquery may be tied to: alias -> (entity, place from the query's root)
Scope = dict[str, tuple[str, Place]]

#: the comparisons a scalar subquery may be an operand of in a row condition
COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def scope_of(tr: Translator) -> Scope:
    """The query's own tables."""
    return {a: (tr.joins.entities[a], p) for a, p in tr.joins.places.items()}


def is_comparison(node: exp.Expression) -> bool:
    """A comparison with a scalar subquery as an operand and no other subquery."""
    return (
        isinstance(node, COMPARISONS)
        and any(isinstance(s, exp.Subquery) for s in (node.this, node.expression))
        and not any(
            not isinstance(s, exp.Subquery) and s.find(exp.Select)
            for s in (node.this, node.expression)
        )
    )


def own_conditions(
    tr: Translator, own: list[exp.Expression], place_of: PlaceOf, scope: Scope
) -> exp.Expression:
    """The conditions of a subquery on its own rows (a semi-join's), in business terms:
    a nested semi-join or a compared value of rows each read as such."""
    found = []
    for conjunct in own:
        negated = isinstance(conjunct, exp.Not)
        body = conjunct.this if negated else conjunct
        while isinstance(body, exp.Paren):
            body = body.this
        if isinstance(body, exp.Exists) or (isinstance(body, exp.In) and body.args.get("query")):
            found.append(semijoin(tr, body, negated, scope))
        elif is_comparison(conjunct):
            found.append(compared(tr, conjunct, place_of, scope))
        else:
            found.append(tr.rows(conjunct, place_of))
    return cast(exp.Expression, exp.and_(*found)) if len(found) > 1 else found[0]


def compared(
    tr: Translator, node: exp.Expression, place_of: PlaceOf | None, scope: Scope
) -> exp.Expression:
    """A comparison of a row's value with a scalar subquery, in a row condition (a
    conjunct of WHERE: a NULL comparison drops the row there)."""
    guards: list[exp.Expression] = []

    def side(operand: exp.Expression) -> exp.Expression:
        if isinstance(operand, exp.Subquery):
            value, guard = row_value(tr, operand, scope, guarded=True)
            guards.extend(guard)
            return value
        return tr.rows(operand, place_of)

    business = type(node)(this=side(node.this), expression=side(node.expression))
    tr.matches.append(Match("where", node.sql(), business.sql()))
    return cast(exp.Expression, exp.and_(business, *guards)) if guards else business


def _split(
    node: exp.Expression, inner: exp.Select, aliases: set[str]
) -> tuple[list[exp.Expression], list[tuple[exp.Column, exp.Column]]]:
    """A subquery's conditions on its own rows and its ties to outer columns."""
    own: list[exp.Expression] = []
    tied: list[tuple[exp.Column, exp.Column]] = []
    for conjunct in conjuncts(inner.args.get("where")):
        outside = [c for c in conjunct.find_all(exp.Column) if c.table not in aliases]
        if not outside:
            own.append(conjunct)
            continue
        a, b = conjunct.this, conjunct.expression
        if not (
            isinstance(conjunct, exp.EQ)
            and isinstance(a, exp.Column)
            and isinstance(b, exp.Column)
            and len(outside) == 1
        ):
            raise refusal(
                node, "a scalar subquery", "it compares its rows with the outer row beyond keys"
            )
        tied.append((b, a) if a.table in aliases else (a, b))
    return own, tied


def row_value(
    tr: Translator, node: exp.Subquery, scope: Scope, *, guarded: bool
) -> tuple[exp.Expression, list[exp.Expression]]:
    """A scalar subquery read as a value of rows: the metric per the entity it is tied to
    (`PER (entity)`), or the grand total when it is not tied (`PER (ALL)`), its own
    conditions the FILTER; with the count of its rows above 0 when its metric fills a
    value where the SQL's aggregate over no rows is NULL (`guarded`: compared in WHERE)."""
    why = "a scalar subquery"
    inner = node.this
    assert isinstance(inner, exp.Select)
    value = inner.expressions[0].unalias()
    aliases = {t.alias_or_name for t in inner.find_all(exp.Table)}
    own, tied = _split(node, inner, aliases)
    own_tree = inner.copy()
    own_tree.set("expressions", [value.copy()])
    own_tree.set("where", exp.Where(this=exp.and_(*own)) if own else None)
    sub = tr.spawn(own_tree)
    if sub.joins.subqueries or sub.joins.existences or sub.joins.absences:
        raise refusal(node, why, "its conditions read another subquery")
    business = sub.measures(value)
    found = [sub.rows(c) for c in sub.joins.conditions] + sub.joins.residual(sub)
    condition: exp.Expression | None = None
    if found:
        condition = cast(exp.Expression, exp.and_(*found)) if len(found) > 1 else found[0]
    grain: exp.Expression = exp.Var(this="ALL")
    entity = "the query"
    if tied:
        entity = _tied_entity(tr, node, sub, tied, scope)
        grain = exp.column(entity)
    guards: list[exp.Expression] = []
    for metric in filled_metrics(tr.model, business):
        count = sub.index.find(exp.Count(this=exp.Star()), lambda c: ())
        fill = tr.model.terms[metric].fill_null
        if not guarded or count is None:
            raise refusal(
                node,
                why,
                f"{metric} fills a {entity if tied else 'query'} without rows with "
                f"{fill.sql() if fill is not None else ''}, the SQL's aggregate over no rows is "
                "NULL",
            )
        guard = exp.GT(
            this=per(tr.model, exp.column(count), grain, condition),
            expression=exp.Literal.number(0),
        )
        guards.append(guard)
        tr.note(
            f"{metric} fills {fill.sql() if fill is not None else ''} where the SQL's aggregate "
            f"over no rows is NULL and its comparison drops the row: the business query also "
            f"asks for some rows ({guard.sql()}); the comparison of rows checks it on the data"
        )
    result = per(tr.model, business, grain, condition)
    tr.matches.append(Match("subquery", node.sql(), result.sql()))
    return result, guards


def _tied_entity(
    tr: Translator,
    node: exp.Subquery,
    sub: Translator,
    tied: list[tuple[exp.Column, exp.Column]],
    scope: Scope,
) -> str:
    """The entity a correlated subquery is the value of: the outer table it is tied to, by
    its primary key and a to-one relationship from the subquery's root table."""
    why = "a scalar subquery"
    outer = {o.table for o, _ in tied}
    if len(outer) != 1 or next(iter(outer)) not in scope:
        raise refusal(node, why, "it is tied to no single table of the query")
    entity, place = scope[next(iter(outer))]
    key = set(tr.model.entities[entity].primary_key)
    pairs = {(i.name, o.name) for o, i in tied}
    if (
        {o.name for o, _ in tied} != key
        or {i.table for _, i in tied} != {sub.joins.root}
        or not any(
            e.target == entity and e.to_one and set(e.keys) == pairs
            for e in tr.model.edges.get(sub.joins.root_entity, ())
        )
    ):
        raise refusal(
            node, why, f"it is not tied to the primary key of '{entity}' by a relationship"
        )
    try:
        default: Place | None = tuple(
            e.hop for e in find_path(tr.model, tr.joins.root_entity, entity, fan=True)
        )
    except SemanticError:
        default = None
    if place not in ((), default):
        raise refusal(
            node,
            "a value per entity of a table the query reaches by another path than the model's",
        )
    return entity


def _tie(
    tr: Translator, node: exp.Expression, scope: Scope
) -> tuple[str, str, list[exp.Expression], tuple[str, Place], bool]:
    """A subquery of an EXISTS or IN over one table: its alias and entity, its own
    conditions, the place of the outer table it is tied to, and whether the relationship
    it follows is to-one."""
    inner = node.this if isinstance(node, exp.Exists) else node.args["query"].this
    if not isinstance(inner, exp.Select):
        raise refusal(node, "a subquery over several tables")
    alias, own, tied = tied_subquery(node, inner, scope)
    source, place = scope[tied[0][0].table]
    entity = entity_of_table(tr.model, inner)
    pairs = {(o.name, i.name) for o, i in tied}
    for edge in tr.model.edges.get(source, ()):
        if edge.target == entity and set(edge.keys) == pairs:
            return alias, entity, own, (source, (*place, edge.hop)), edge.to_one
    raise refusal(node, "a subquery tied to the query by no relationship of the model")


def semijoin(tr: Translator, node: exp.Expression, negated: bool, scope: Scope) -> exp.Expression:
    """`[NOT] EXISTS` or `[NOT] IN` inside a semi-join's conditions: the condition on the
    rows of the table it reaches from the semi-join's table."""
    alias, entity, own, (_, place), to_one = _tie(tr, node, scope)
    if negated and not to_one:
        raise refusal(
            node, "NOT EXISTS / NOT IN over the many side of a relationship inside a subquery"
        )
    if not own:
        raise refusal(node, "a subquery with no condition of its own")

    def inside(column: exp.Column) -> Place | None:
        return place if column.table == alias else None

    try:
        business = own_conditions(tr, own, inside, {**scope, alias: (entity, place)})
    except SemanticError as exc:
        if exc.diagnostics[0].code != "SEM265":
            raise
        # no term is there from the query's root (several paths lead there: supplier to
        # part through partsupp and lineitem): the table's own terms, which the compiler
        # reads from the semi-join's table; the comparison of rows checks the path
        table = tr.model.entities[entity].table
        sub = tr.spawn(exp.select("*").from_(exp.alias_(exp.to_table(table), alias, table=True)))
        business = own_conditions(sub, own, lambda c: () if c.table == alias else None, {})
        tr.note(
            f"the conditions on {entity} inside the subquery at {node.sql()[:40]}... are read "
            f"with {entity}'s own terms: the compiler reaches them from the query's rows by its "
            "own path; the comparison of rows checks it"
        )
    if negated:
        business = exp.Not(this=exp.Paren(this=business))
    tr.matches.append(Match("where", ("NOT " if negated else "") + node.sql(), business.sql()))
    return business


def absence(tr: Translator, node: exp.Exists) -> exp.Expression:
    """`NOT EXISTS (SELECT * FROM t WHERE t.fk = outer.pk AND c)` over the many side of a
    relationship: `NOT EXISTS(c, anchor)` about the outer row."""
    what = "NOT EXISTS"
    scope = scope_of(tr)
    alias, entity, own, (source, place), to_one = _tie(tr, node, scope)
    if to_one:
        raise refusal(node, what, "over the one side of a relationship: a row with no such row")
    outer_place = place[:-1]
    anchor = tr.index.identity(source, outer_place)
    if anchor is None:
        raise refusal(node, what, f"about a row of '{source}' that no dimension stands for")

    def inside(column: exp.Column) -> Place | None:
        return place if column.table == alias else None

    if own:
        condition = own_conditions(tr, own, inside, {**scope, alias: (entity, place)})
    else:  # no related row at all: a dimension of the related rows stands for any of them
        any_row = tr.index.identity(entity, place)
        if any_row is None:
            raise refusal(node, what, f"about rows of '{entity}' that no dimension stands for")
        condition = tr.term(any_row.id)
    business = exp.Not(
        this=exp.Anonymous(this="EXISTS", expressions=[condition, tr.term(anchor.id)])
    )
    tr.matches.append(Match("where", "NOT " + node.sql(), business.sql()))
    return business
