"""Which term an expression over physical columns is: the index `semantic translate` looks
expressions up in.

An expression is compared by its structure, once each column is replaced by the place of
its table (the relationships followed from the query's root table, `lineitem.orders >
orders.customer`), parentheses are dropped and the operands of `+`, `*`, `AND`, `OR` and
`=` are put in one order. A term's own expression is placed the same way: its unqualified
columns at the place its path leads to from the root, so `customer_nation` (`n_name` on
`nation`, path `customer.nation`) is `n_name` at `lineitem.orders > orders.customer >
customer.nation` when the root is `lineitem`.

>>> from semantic.project import Project
>>> from sqlglot import parse_one
>>> index = TermIndex(Project.load(".").model, "lineitem")
>>> customer_nation = ("lineitem.orders", "orders.customer", "customer.nation")
>>> at = lambda c: customer_nation if c.table == "n" else ()
>>> index.find(parse_one("SUM((1 - l.l_discount) * l.l_extendedprice)"), at)
'net_revenue'
>>> index.find(parse_one("n.n_name"), at)
'customer_nation'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import reduce

from sqlglot import exp

from semantic.compiler.resolve import find_path
from semantic.errors import SemanticError
from semantic.model import Model, Term

#: The place of a table in a query: the relationships (`entity.relationship`) followed from
#: the root table to reach it; the root is ().
Place = tuple[str, ...]
#: How a physical column is placed: its place, or None when it has none (then nothing matches).
PlaceOf = Callable[[exp.Column], Place | None]

#: Operators whose operands may come in any order.
COMMUTATIVE = (exp.Add, exp.Mul, exp.And, exp.Or)


def canonical(node: exp.Expression) -> exp.Expression:
    """`node` without parentheses or aliases, with commutative operands in one order."""

    def strip(n: exp.Expression) -> exp.Expression:
        while isinstance(n, (exp.Paren, exp.Alias)):
            n = n.this
        return n

    def sort(n: exp.Expression) -> exp.Expression:
        n = strip(n)
        if isinstance(n, COMMUTATIVE):
            operands = sorted((sort(o) for o in _chain(n, type(n))), key=lambda o: o.sql())
            return reduce(lambda a, b: type(n)(this=a, expression=b), operands)
        if isinstance(n, exp.Count):  # COUNT(*) read as BIGINT by some dialects: one count
            n.set("big_int", None)
        if isinstance(n, exp.EQ):
            a, b = sorted((sort(n.this), sort(n.expression)), key=lambda o: o.sql())
            return exp.EQ(this=a, expression=b)
        for key, value in list(n.args.items()):
            if isinstance(value, exp.Expression):
                n.set(key, sort(value))
            elif isinstance(value, list):
                n.set(key, [sort(v) if isinstance(v, exp.Expression) else v for v in value])
        return n

    return sort(node.copy())


def _chain(node: exp.Expression, kind: type[exp.Expression]) -> Iterator[exp.Expression]:
    for side in (node.this, node.expression):
        while isinstance(side, exp.Paren):
            side = side.this
        if isinstance(side, kind):
            yield from _chain(side, kind)
        else:
            yield side


def placed(node: exp.Expression, place_of: PlaceOf) -> exp.Expression | None:
    """`node` with each column's table replaced by its place; None if a column has none."""
    found = True

    def put(n: exp.Expression) -> exp.Expression:
        nonlocal found
        if isinstance(n, exp.Column) and not isinstance(n.this, exp.Star):
            place = place_of(n)
            if place is None:
                found = False
                return n
            return exp.column(n.name, table=place_key(place))
        return n

    result = node.copy().transform(put)
    return result if found else None


def place_key(place: Place) -> str:
    """A place as one identifier: `^` for the root, else its hops joined by `>`."""
    return ">".join(place) or "^"


class TermIndex:
    """The terms that apply to queries rooted at entity `root`, by placed expression:
    dimensions, time dimensions and segments reached from it (through to-one paths, and
    through one-to-many paths for conditions that become semi-joins), metrics of `root`
    itself without a filter, window or shift, and derived metrics (by their formula over
    metric ids). A deprecated term is found only where no other term has its expression."""

    def __init__(self, model: Model, root: str) -> None:
        self.model = model
        self.root = root
        self.rows: dict[exp.Expression, str] = {}  # dimensions and segments
        self.metrics: dict[exp.Expression, str] = {}
        self.derived: dict[exp.Expression, str] = {}
        #: the dimensions reached at each place, per entity, in glossary order
        self.at: dict[tuple[Place, str], list[Term]] = {}
        ordered = sorted(model.terms.values(), key=lambda t: t.status == "deprecated")
        for term in ordered:
            self._add(term)

    def _add(self, term: Term) -> None:
        if term.is_metric:
            if term.filter is not None or term.is_over_time or term.is_conversion:
                return
            if term.is_derived:
                self.derived.setdefault(canonical(term.expr), term.id)
            elif term.entity == self.root:
                key = placed(term.expr, lambda c: self._metric_place(c))
                if key is not None:
                    self.metrics.setdefault(canonical(key), term.id)
            return
        if term.entity is None or term.kind == "concept":
            return
        place = self.place_of_term(term)
        if place is None:
            return
        key = placed(term.expr, lambda c: place if not c.table else None)
        if key is not None:
            self.rows.setdefault(canonical(key), term.id)
        if term.kind in ("dimension", "time_dimension"):
            self.at.setdefault((place, term.entity), []).append(term)

    def _metric_place(self, column: exp.Column) -> Place | None:
        if not column.table or column.table == self.root:
            return ()
        if column.table not in self.model.entities:
            return None
        try:
            return tuple(e.hop for e in find_path(self.model, self.root, column.table))
        except SemanticError:
            return None

    def place_of_term(self, term: Term) -> Place | None:
        """Where the rows of a dimension or segment are, seen from the root; None when no
        path leads there, or more than one with different meanings."""
        assert term.entity is not None
        if term.entity == self.root and not term.path:
            return ()
        try:
            path = find_path(self.model, self.root, term.entity, term.path, fan=True)
        except SemanticError:
            return None
        return tuple(e.hop for e in path)

    def find(self, node: exp.Expression, place_of: PlaceOf) -> str | None:
        """The term whose expression `node` is (a metric if `node` aggregates), or None."""
        key = placed(node, place_of)
        if key is None:
            return None
        key = canonical(key)
        return self.metrics.get(key) or self.rows.get(key)

    def find_derived(self, node: exp.Expression) -> str | None:
        """The derived metric whose formula `node` is (over metric ids), or None."""
        return self.derived.get(canonical(node))

    def identity(self, entity: str, place: Place) -> Term | None:
        """The dimension that stands for a row of `entity` at `place`: the one over its
        one-column primary key, else its first plain dimension there (which identifies the
        row only if its values are unique: the comparison of rows then proves it)."""
        terms = self.at.get((place, entity), [])
        key = self.model.entities[entity].primary_key
        for term in terms:
            if len(key) == 1 and isinstance(term.expr, exp.Column) and term.expr.name == key[0]:
                return term
        return next((t for t in terms if t.kind == "dimension"), None)
