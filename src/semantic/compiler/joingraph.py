"""The tables of a physical query and how they are joined, read against the model's
relationships (for `compiler.translate`).

The equalities between columns of two tables (in WHERE or ON, and those common to every
branch of an OR) are grouped into classes of equal columns. A relationship of the model
joins two tables when each of its key pairs is in one class. The root is the table from
which every other is reached along to-one relationships (the grain of the query's
metrics); each other table's place is the relationships followed from the root. When a
table can be reached in two ways (a nation equal to both the customer's and the
supplier's), the model's own path wins, else the first table of the FROM clause. Equalities
that no relationship on the way accounts for stay as conditions (`customer_nation =
supplier_nation`). Conditions with a subquery become semi-joins (`EXISTS`, `IN`) or group
conditions (`IN` over a grouped subquery) when they follow a relationship.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass, field
from typing import Protocol, cast

from sqlglot import exp

from semantic.compiler.resolve import find_path
from semantic.compiler.termmatch import Place
from semantic.errors import SemanticError, Span, error
from semantic.model import Edge, Model


class Translator(Protocol):
    """What the joins ask of a translation (`compiler.translate.Translator`): conditions
    and aggregates in business terms, and the list of matches to add to."""

    matches: list[Match]

    def rows(
        self, node: exp.Expression, place_of: Callable[[exp.Column], Place | None] | None = None
    ) -> exp.Expression: ...

    def measures(
        self, node: exp.Expression, place_of: Callable[[exp.Column], Place | None] | None = None
    ) -> exp.Expression: ...

    def condition(self, node: exp.Expression) -> exp.Expression: ...

    def own_conditions(
        self,
        own: list[exp.Expression],
        place_of: Callable[[exp.Column], Place | None],
        scope: dict[str, tuple[str, Place]],
    ) -> exp.Expression: ...


#: Where translate places what it says about the SQL it was given.
SQL = "<sql>"


@dataclass(frozen=True, slots=True)
class Match:
    """A piece of the physical SQL (`sql`, in clause `clause`) and its business form."""

    clause: str
    sql: str
    business: str

    def as_dict(self) -> dict[str, str]:
        """A JSON-ready form."""
        return {"clause": self.clause, "sql": self.sql, "business": self.business}


def refusal(node: exp.Expression, what: str, why: str = "") -> SemanticError:
    """SEM340: a construct the business language has no counterpart for, named."""
    shown = node.copy()
    for sub in shown.find_all(exp.Select):
        if isinstance(sub.parent, exp.Exists):  # as written, not as qualify spelled it out
            sub.set("expressions", [exp.Star()])
    text = " ".join(shown.sql().split())
    text = text if len(text) <= 70 else text[:67] + "..."
    return error(
        "SEM340",
        f"cannot translate {what}: `{text}`" + (f" ({why})" if why else ""),
        position(node),
        "the business language has dimensions, metrics, conditions on rows and on groups, "
        "semi-joins and filtered metrics; docs/lineage.md says what translate reads",
    )


def position(node: exp.Expression) -> Span:
    """Where `node` is in the SQL: the position of its first identifier."""
    for n in node.walk():
        meta = n.meta if isinstance(n, exp.Identifier) else {}
        if "line" in meta:
            return Span(SQL, int(meta["line"]), int(meta["col"]))
    return Span(SQL)


#: A column of the query: (table alias, column name).
Col = tuple[str, str]


def _col(node: exp.Column) -> Col:
    return (node.table, node.name)


class _Classes:
    """Union-find over columns."""

    def __init__(self) -> None:
        self.parent: dict[Col, Col] = {}

    def find(self, c: Col) -> Col:
        self.parent.setdefault(c, c)
        while self.parent[c] != c:
            self.parent[c] = self.parent[self.parent[c]]
            c = self.parent[c]
        return c

    def union(self, a: Col, b: Col) -> None:
        self.parent[self.find(a)] = self.find(b)


@dataclass
class Joins:
    """The tables of a query: entity and place of each alias, the root, the conditions
    that are not joins, and the subquery conditions to translate."""

    model: Model
    order: list[str]
    entities: dict[str, str]
    root: str = ""
    places: dict[str, Place] = field(default_factory=dict)
    conditions: list[exp.Expression] = field(default_factory=list)
    equalities: list[tuple[exp.Column, exp.Column]] = field(default_factory=list)
    tree_edges: list[tuple[str, str, Edge]] = field(default_factory=list)
    subqueries: list[tuple[exp.Expression, bool]] = field(default_factory=list)
    #: `[NOT] EXISTS` over the root's own table, tied on a to-one key (`compiler.translategrain`)
    existences: list[tuple[exp.Exists, bool]] = field(default_factory=list)
    #: `NOT EXISTS` over another table (`compiler.translaterows`)
    absences: list[exp.Exists] = field(default_factory=list)

    @property
    def root_entity(self) -> str:
        """The entity of the root table."""
        return self.entities[self.root]

    def key_target(self, entity: str, column: str, place: Place) -> tuple[str, Place] | None:
        """The row a key column identifies: its own table's (the primary key), or the one
        its to-one relationship leads to (a foreign key), with its place."""
        if list(self.model.entities[entity].primary_key) == [column]:
            return entity, place
        for edge in self.model.edges.get(entity, ()):
            if edge.to_one and [a for a, _ in edge.keys] == [column]:
                return edge.target, (*place, edge.hop)
        return None

    def aggregates(self, tree: exp.Select) -> list[exp.AggFunc]:
        """The aggregates of the SELECT list."""
        return [a for e in tree.expressions for a in e.find_all(exp.AggFunc)]

    # --- conditions made of what is left of the joins ------------------------------------

    def residual(self, translator: Translator) -> list[exp.Expression]:
        """Equalities between columns that the joins followed do not imply."""
        classes = _Classes()
        for a, b in self.equalities:
            classes.union(_col(a), _col(b))
        followed = _Classes()
        for parent, child, edge in self.tree_edges:
            for x, y in edge.keys:
                followed.union((parent, x), (child, y))
        nodes = {_col(c): c for pair in self.equalities for c in pair}
        found = []
        for members in _groups(classes, list(nodes)).values():
            parts = _groups(followed, members)
            heads = [nodes[part[0]] for part in parts.values()]
            for other in heads[1:]:
                equal = exp.EQ(this=heads[0].copy(), expression=other.copy())
                found.append(translator.condition(equal))
        return found

    def semijoin_conditions(self, translator: Translator) -> list[exp.Expression]:
        """EXISTS and IN conditions that follow a relationship, as conditions on the rows
        of the table they reach (a semi-join when it is on the many side)."""
        found = []
        for node, negated in self.subqueries:
            inner = _subselect(node)
            if isinstance(node, exp.In) and inner.args.get("group"):
                continue  # a group condition (having_conditions)
            tie = self._inner(node, inner)
            place = self._reached(node, tie, negated)
            if not tie.own:
                raise refusal(node, "a subquery with no condition of its own")

            def inside(column: exp.Column, tie: _Tie = tie, place: Place = place) -> Place | None:
                return place if column.table == tie.alias else None

            scope = {tie.alias: (tie.entity, place)}
            business = translator.own_conditions(tie.own, inside, scope)
            if negated:
                business = exp.Not(this=exp.Paren(this=business))
            translator.matches.append(_match("where", node, business, negated))
            found.append(business)
        return found

    def having_conditions(
        self, translator: Translator
    ) -> list[tuple[exp.Expression, tuple[str, Place]]]:
        """`key IN (SELECT fk FROM t GROUP BY fk HAVING c)`: the condition `c` on each
        group of a query grouped by `key` (returned with the entity and place the query
        must be grouped at), when nothing else filters the rows of `t`."""
        found = []
        for node, negated in self.subqueries:
            if not isinstance(node, exp.In):
                continue
            inner = _subselect(node)
            if not inner.args.get("group"):
                continue
            tie = self._inner(node, inner)
            group = inner.args["group"].expressions
            having = inner.args.get("having")
            key = inner.expressions[0].unalias()
            if negated or tie.own or having is None or len(group) != 1 or group[0] != key:
                raise refusal(node, "a grouped subquery other than `key IN (... HAVING ...)`")
            outer = tie.outer
            entity, place = self.entities[outer[0]], self.places[outer[0]]
            if tie.entity != self.root_entity or list(self.model.entities[entity].primary_key) != [
                outer[1]
            ]:
                raise refusal(
                    node, "a condition on groups of another table than the query's metrics"
                )
            for condition in self.conditions:
                for column in condition.find_all(exp.Column):
                    if self.places[column.table][: len(place)] != place:
                        raise refusal(
                            node, "a condition on groups whose rows other conditions filter"
                        )
            business = translator.measures(having.this, lambda c: ())
            translator.matches.append(_match("having", node, business, False))
            found.append((business, (entity, place)))
        return found

    def _inner(self, node: exp.Expression, inner: exp.Select) -> _Tie:
        """The subquery's one table, its own conditions, and the outer column it is tied to
        (by the correlation of an EXISTS, or the left side of an IN)."""
        alias, own, tied = tied_subquery(node, inner, self.places)
        outer = tied[0][0]
        pairs = frozenset((o.name, i.name) for o, i in tied)
        entity = entity_of_table(self.model, inner)
        return _Tie(alias, entity, own, (outer.table, outer.name), pairs)

    def _reached(self, node: exp.Expression, tie: _Tie, negated: bool) -> Place:
        """The place of the subquery's table: along the relationship its tie follows."""
        outer = tie.outer
        source = self.entities[outer[0]]
        for edge in self.model.edges.get(source, ()):
            if edge.target == tie.entity and set(edge.keys) == tie.pairs:
                if negated and not edge.to_one:
                    raise refusal(
                        node,
                        "NOT EXISTS / NOT IN over the many side of a relationship (rows with "
                        "no such row)",
                    )
                return (*self.places[outer[0]], edge.hop)
        raise refusal(node, "a subquery tied to the query by no relationship of the model")


@dataclass(frozen=True)
class _Tie:
    """A subquery's one table (`alias`, of `entity`), its own conditions, and the outer
    column it is tied to with the key pairs (outer, inner) that tie it."""

    alias: str
    entity: str
    own: list[exp.Expression]
    outer: Col
    pairs: frozenset[tuple[str, str]]


def _subselect(node: exp.Expression) -> exp.Select:
    """The SELECT of an EXISTS or of an IN's subquery."""
    inner = node.this if isinstance(node, exp.Exists) else node.args.get("query")
    inner = inner.this if isinstance(inner, exp.Subquery) else inner
    if not isinstance(inner, exp.Select):
        raise refusal(node, "a subquery that is not one SELECT")
    return inner


def _match(clause: str, node: exp.Expression, business: exp.Expression, negated: bool) -> Match:
    return Match(clause, ("NOT " if negated else "") + node.sql(), business.sql())


def entity_of_table(model: Model, inner: exp.Select) -> str:
    """The entity whose table the subquery `inner` reads."""
    table = inner.args["from_"].this.name
    return next(e.id for e in model.entities.values() if e.table == table)


def _groups(classes: _Classes, members: list[Col]) -> dict[Col, list[Col]]:
    found: dict[Col, list[Col]] = {}
    for m in members:
        found.setdefault(classes.find(m), []).append(m)
    return found


def _conjuncts(node: exp.Expression | None) -> list[exp.Expression]:
    if node is None:
        return []
    if isinstance(node, exp.Where):
        node = node.this
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    return [node]


#: the conjuncts of a condition (AND), without parentheses
conjuncts = _conjuncts


def _scalar_comparison(conjunct: exp.Expression) -> bool:
    """A comparison with a scalar subquery as an operand (`compiler.translategrain`)."""
    return (
        isinstance(conjunct, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE))
        and any(isinstance(s, exp.Subquery) for s in (conjunct.this, conjunct.expression))
        and not any(
            not isinstance(s, exp.Subquery) and s.find(exp.Select)
            for s in (conjunct.this, conjunct.expression)
        )
    )


def _same_fact(model: Model, entities: dict[str, str], node: exp.Exists) -> bool:
    """An EXISTS over one table of an entity of the query, tied to it by an equality of
    one column with itself (`l2.l_orderkey = l1.l_orderkey`)."""
    inner = node.this
    if not isinstance(inner, exp.Select) or inner.args.get("joins"):
        return False
    table = inner.args["from_"].this
    if not isinstance(table, exp.Table):
        return False
    entity = next((e.id for e in model.entities.values() if e.table == table.name), None)
    for conjunct in _conjuncts(inner.args.get("where")):
        a, b = conjunct.this, conjunct.expression
        if (
            isinstance(conjunct, exp.EQ)
            and isinstance(a, exp.Column)
            and isinstance(b, exp.Column)
            and a.name == b.name
            and table.alias_or_name in (a.table, b.table)
            and entities.get(b.table if a.table == table.alias_or_name else a.table) == entity
        ):
            return True
    return False


def _disjuncts(node: exp.Expression) -> list[exp.Expression]:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Or):
        return _disjuncts(node.this) + _disjuncts(node.expression)
    return [node]


def _factored(conjunct: exp.Expression) -> list[exp.Expression]:
    """An OR whose every branch holds the same conditions (a join repeated in each, as in
    TPC-H Q19) as those conditions and the OR of what is left."""
    branches = [_conjuncts(b) for b in _disjuncts(conjunct)]
    if len(branches) < 2:
        return [conjunct]
    common = [c for c in branches[0] if all(c.sql() in {d.sql() for d in b} for b in branches)]
    if not common:
        return [conjunct]
    keys = {c.sql() for c in common}
    rest = [[c for c in b if c.sql() not in keys] for b in branches]
    if any(not r for r in rest):
        return common  # one branch is the common part: the OR holds
    branch: list[exp.Expression] = [exp.Paren(this=exp.and_(*r)) for r in rest]
    return [*common, cast(exp.Expression, exp.or_(*branch))]


def join_tables(model: Model, tree: exp.Select) -> Joins:
    """The tables of `tree` (qualified, its derived tables merged), their places from the
    root, and its conditions sorted into joins, semi-joins and conditions."""
    sources = [tree.args["from_"].this, *(j.this for j in tree.args.get("joins") or [])]
    by_table = {e.table.lower(): e.id for e in model.entities.values()}
    order = [s.alias_or_name for s in sources if isinstance(s, exp.Table)]
    entities = {
        s.alias_or_name: by_table[s.name.lower()] for s in sources if isinstance(s, exp.Table)
    }
    joins = Joins(model, order, entities)
    conjuncts = _conjuncts(tree.args.get("where"))
    for join in tree.args.get("joins") or []:
        conjuncts += _conjuncts(join.args.get("on"))
        if join.args.get("using"):
            raise refusal(join, "a join USING columns")
    for conjunct in [f for c in conjuncts for f in _factored(c)]:
        negated = isinstance(conjunct, exp.Not)
        body = conjunct.this if negated else conjunct
        while isinstance(body, exp.Paren):
            body = body.this
        if isinstance(body, exp.Exists) and _same_fact(model, entities, body):
            joins.existences.append((body, negated))
        elif isinstance(body, exp.Exists) or (isinstance(body, exp.In) and body.args.get("query")):
            if negated and isinstance(body, exp.Exists):
                joins.absences.append(body)
            else:
                joins.subqueries.append((body, negated))
        elif _scalar_comparison(conjunct):
            joins.conditions.append(conjunct)
        elif conjunct.find(exp.Select, exp.Exists):
            raise refusal(conjunct, "a subquery inside a larger condition")
        elif (
            isinstance(conjunct, exp.EQ)
            and isinstance(conjunct.this, exp.Column)
            and isinstance(conjunct.expression, exp.Column)
            and conjunct.this.table != conjunct.expression.table
        ):
            joins.equalities.append((conjunct.this, conjunct.expression))
        else:
            joins.conditions.append(conjunct)
    _place_tables(joins, tree)
    return joins


def _place_tables(joins: Joins, tree: exp.Select) -> None:
    """Choose the root and the place of every table (see the module's docstring)."""
    model, order = joins.model, joins.order
    classes = _Classes()
    for a, b in joins.equalities:
        classes.union(_col(a), _col(b))
    parents: dict[str, list[tuple[str, Edge]]] = {alias: [] for alias in order}
    for source in order:
        for target in order:
            if source == target:
                continue
            for edge in model.edges.get(joins.entities[source], ()):
                if (
                    edge.to_one
                    and edge.target == joins.entities[target]
                    and all(
                        classes.find((source, a)) == classes.find((target, b)) for a, b in edge.keys
                    )
                ):
                    parents[target].append((source, edge))
    read = {c.table for a in joins.aggregates(tree) for c in a.find_all(exp.Column)}
    roots = [a for a in order if _reach(a, parents, order) == set(order)]
    if not roots:
        raise error(
            "SEM342",
            "the tables are not joined along the model's relationships from one table: "
            + _unjoined(order, parents),
            Span(SQL),
            "join each table on the keys of a relationship (semantic show TERM lists the "
            "paths); a join that multiplies rows (the many side of a relationship) has no "
            "business form",
        )
    joins.root = next((r for r in roots if r in read), roots[0])
    placed: dict[str, Place] = {joins.root: ()}
    stuck = False
    while len(placed) < len(order):
        progress = False
        for alias in order:
            if alias in placed:
                continue
            options = [(p, e) for p, e in parents[alias] if p != alias]
            ready = [(p, e) for p, e in options if p in placed]
            if not ready or (len(ready) < len(options) and not stuck):
                continue
            default = _default_place(joins, alias)
            parent, edge = min(
                ready,
                key=lambda pe: ((*placed[pe[0]], pe[1].hop) != default, order.index(pe[0])),
            )
            placed[alias] = (*placed[parent], edge.hop)
            joins.tree_edges.append((parent, alias, edge))
            progress = True
        stuck = not progress
    joins.places = placed


def _default_place(joins: Joins, alias: str) -> Place | None:
    try:
        path = find_path(joins.model, joins.root_entity, joins.entities[alias])
    except SemanticError:
        return None
    return tuple(e.hop for e in path)


def _reach(root: str, parents: dict[str, list[tuple[str, Edge]]], order: list[str]) -> set[str]:
    seen = {root}
    changed = True
    while changed:
        changed = False
        for alias in order:
            if alias not in seen and any(p in seen for p, _ in parents[alias]):
                seen.add(alias)
                changed = True
    return seen


def _unjoined(order: list[str], parents: dict[str, list[tuple[str, Edge]]]) -> str:
    best = max(order, key=lambda a: len(_reach(a, parents, order)))
    missing = [a for a in order if a not in _reach(best, parents, order)]
    return f"from '{best}', no to-one relationship reaches {', '.join(repr(m) for m in missing)}"


def tied_subquery(
    node: exp.Expression, inner: exp.Select, outer_tables: Container[str]
) -> tuple[str, list[exp.Expression], list[tuple[exp.Column, exp.Column]]]:
    """The subquery `inner` of an EXISTS or IN (`node`) over one table: its alias, its
    conditions on its own rows, and the (outer, inner) column pairs that tie it to one
    table of `outer_tables` (the correlation of an EXISTS, the left side of an IN), or
    SEM340 naming what it is not."""
    table = inner.args["from_"].this
    if not isinstance(table, exp.Table) or inner.args.get("joins"):
        raise refusal(node, "a subquery over several tables")
    alias = table.alias_or_name
    split = correlation(inner, alias)
    if split is None:
        raise refusal(
            node,
            "a correlated subquery that compares its rows with the outer row beyond a "
            "relationship's keys",
        )
    own, tied = split
    if isinstance(node, exp.In):
        if tied:
            raise refusal(node, "a correlated IN subquery")
        column = node.this
        key = inner.expressions[0].unalias() if len(inner.expressions) == 1 else None
        if not isinstance(column, exp.Column) or not isinstance(key, exp.Column):
            raise refusal(node, "an IN subquery that is not `column IN (SELECT key ...)`")
        tied = [(column, key)]
    tables = {o.table for o, _ in tied}
    if len(tables) != 1 or next(iter(tables)) not in outer_tables:
        raise refusal(node, "a subquery tied to no single table of the query")
    return alias, own, tied


def correlation(
    inner: exp.Select, alias: str
) -> tuple[list[exp.Expression], list[tuple[exp.Column, exp.Column]]] | None:
    """The conditions of subquery `inner` (over its table `alias`) on its own rows, and its
    ties to the outer query (outer column, inner column: `outer.k = alias.k`); None when a
    condition compares its rows with the outer row otherwise than by such an equality."""
    own: list[exp.Expression] = []
    tied: list[tuple[exp.Column, exp.Column]] = []
    for conjunct in conjuncts(inner.args.get("where")):
        outside = [  # a nested subquery's columns are its own to read
            c
            for c in conjunct.find_all(exp.Column)
            if c.table != alias and c.parent_select is inner
        ]
        if not outside:
            own.append(conjunct)
        elif (
            isinstance(conjunct, exp.EQ)
            and isinstance(conjunct.this, exp.Column)
            and isinstance(conjunct.expression, exp.Column)
            and len(outside) == 1
        ):
            a, b = conjunct.this, conjunct.expression
            tied.append((b, a) if a.table == alias else (a, b))
        else:
            return None
    return own, tied


def mapped(node: exp.Expression, fun: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    """A copy of `node` with `fun` applied to each child expression."""
    copy = node.copy()
    for key, value in list(copy.args.items()):
        if isinstance(value, exp.Expression):
            copy.set(key, fun(value))
        elif isinstance(value, list):
            copy.set(key, [fun(v) if isinstance(v, exp.Expression) else v for v in value])
    return copy
