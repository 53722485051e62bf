"""The reference evaluator's newer constructs: metrics at another grain, metrics per entity
and existence, computed by brute force over the reference's Python rows (no SQL, no part of
the compiler), as docs/query-language.md describes them:

- `MEASURE(m) [FILTER (WHERE f)] PER (ALL | * EXCLUDE d, ... | d, ...)` (`GrainMetric`, in
  SELECT alone or as the denominator of a share, and `GrainHaving`, in HAVING) is m, with f
  added to the query's WHERE, grouped by the query's dimensions that the PER keeps (none for
  ALL, all but the named ones for EXCLUDE, the named ones otherwise); each group of the
  query takes the value of the group it falls in at that grain. A group of that grain
  without rows shows what m shows in a group without rows (0 for a count, else its fill):
  `PER (d)` at the query's own grain `d` is m itself. m counts among the query's metrics for
  the groups of the answer, like every metric the query names.
- `MEASURE(m) [FILTER (WHERE f)] PER (entity)` (`PerEntity`, a dimension) is, on each row
  of the entity, m over all the rows related to it (f applies, the query's WHERE does not),
  or m's value over no rows when it has none; NULL where the row reaches no such entity.
  `Band` puts it in a CASE of three bands (a NULL value falls in the last, SQL's ELSE).
- `MEASURE(m) [FILTER (WHERE f)] PER (ALL)` in a row condition (`GrandTotal`, beside a
  dimension: `line_quantity > MEASURE(average_quantity) PER (ALL)`) is one value for every
  row: m over all the rows (f applies, the query's WHERE does not), m's value over no rows
  when none counts (a NULL aggregate over rows that exist stays NULL).
- `EXISTS(c [, anchor])` is true on a row when the row of the anchor entity (the entity of
  the anchor dimension on that row, else the metric's own entity) has at least one related
  row on its many side (rows that exist: an inner join down) where c is true; `NOT EXISTS`
  when it has none (none at all included); `ALL(c)` when c is true on every one of them (a
  NULL c is not). Inside c, `THIS(d)` is d on the row tested, other names are read on the
  related rows; a bare dimension (`Any`) is any related row, whatever its value.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.differential.reference import (
    DERIVED,
    Combined,
    Dim,
    Expr,
    Having,
    Metric,
    Query,
    Reference,
    _compare,
    _Composite,
    _having,
    _ratio,
    literal,
)

#: the dimension term of each entity's key, which a metric per entity is grouped by
KEYS = {"customer": "customer_key", "orders": "order_key", "part": "part_key"}
KEYS["supplier"] = "supplier_key"

#: the node whose row must exist on each level down from an entity (an inner join)
DOWN = {
    ("orders", 1): "lineitem",
    ("customer", 1): "orders",
    ("customer", 2): "lineitem",
    ("supplier", 1): "lineitem",
    ("partsupp", 1): "lineitem",
}


def _measure(term: str, condition: Expr | None) -> str:
    text = f"MEASURE({term})"
    return text + (f" FILTER (WHERE {condition.sql()})" if condition is not None else "")


# --- metrics per entity: dimensions --------------------------------------------------------


@dataclass(frozen=True)
class PerEntity(Dim):
    """`MEASURE(metric) [FILTER (WHERE filter)] PER (entity)`: `term` is the entity's key
    term, which says where the value lives (the entity's node)."""

    metric: str = ""
    entity: str = ""
    filter: Expr | None = None

    @property
    def sql(self) -> str:
        return f"{_measure(self.metric, self.filter)} PER ({self.entity})"


def per_entity(metric: str, entity: str, condition: Expr | None = None) -> PerEntity:
    return PerEntity(KEYS[entity], metric=metric, entity=entity, filter=condition)


@dataclass(frozen=True)
class GrandTotal(Dim):
    """`MEASURE(metric) [FILTER (WHERE filter)] PER (ALL)` read as a value of rows, in a row
    condition: `term` is the dimension it is compared with (where the value is read, for the
    reference's paths); the value is one number, whatever the row."""

    metric: str = ""
    filter: Expr | None = None

    @property
    def sql(self) -> str:
        return f"{_measure(self.metric, self.filter)} PER (ALL)"


def grand_total(metric: str, beside: str, condition: Expr | None = None) -> GrandTotal:
    return GrandTotal(beside, metric=metric, filter=condition)


@dataclass(frozen=True)
class Band(Dim):
    """`CASE WHEN per < cuts[0] THEN 'low' WHEN per < cuts[1] THEN 'mid' ELSE 'high' END`."""

    per: PerEntity | None = None
    cuts: tuple[Any, ...] = ()

    LABELS = ("low", "mid", "high")

    @property
    def sql(self) -> str:
        assert self.per is not None
        whens = " ".join(
            f"WHEN {self.per.sql} < {literal(c)} THEN '{label}'"
            for c, label in zip(self.cuts, self.LABELS, strict=False)
        )
        return f"CASE {whens} ELSE '{self.LABELS[len(self.cuts)]}' END"

    def band(self, value: Any) -> str:
        for cut, label in zip(self.cuts, self.LABELS, strict=False):
            if value is not None and value < cut:
                return label
        return self.LABELS[len(self.cuts)]


@dataclass(frozen=True)
class Times(_Composite):
    """`left * right` (a float when either side is one, as SQL's DECIMAL * DOUBLE)."""

    left: Expr
    right: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)

    def sql(self) -> str:
        return f"{self.left.sql()} * {self.right.sql()}"

    def eval(self, values: Mapping[Any, Any]) -> Any:
        a, b = self.left.eval(values), self.right.eval(values)
        if a is None or b is None:
            return None
        if isinstance(a, float) or isinstance(b, float):
            return float(a) * float(b)
        return a * b


# --- existence ----------------------------------------------------------------------------


@dataclass(frozen=True)
class This(Expr):
    """`THIS(dim)` inside an existence: `dim` on the row tested."""

    dim: Dim

    def sql(self) -> str:
        return f"THIS({self.dim.sql})"

    def eval(self, values: Mapping[Any, Any]) -> Any:
        return values[("this", self.dim)]


@dataclass(frozen=True)
class Any_(Expr):
    """A dimension alone inside an existence: any related row, whatever its value."""

    dim: Dim

    def sql(self) -> str:
        return self.dim.sql

    def eval(self, values: Mapping[Any, Any]) -> Any:
        return True

    def dims(self) -> frozenset[Dim]:
        return frozenset({self.dim})


def walk(expr: Expr) -> Iterator[Expr]:
    """`expr` and every node below it."""
    yield expr
    if isinstance(expr, _Composite):
        for child in expr.children():
            yield from walk(child)


@dataclass(frozen=True)
class Exists(Expr):
    """`EXISTS(inner [, anchor])`, `NOT EXISTS(...)` or `ALL(...)` (`form`)."""

    inner: Expr
    anchor: Dim | None = None
    form: str = "EXISTS"

    def sql(self) -> str:
        anchor = f", {self.anchor.sql}" if self.anchor is not None else ""
        return f"{self.form}({self.inner.sql()}{anchor})"

    def this_dims(self) -> frozenset[Dim]:
        return frozenset(n.dim for n in walk(self.inner) if isinstance(n, This))

    def dims(self) -> frozenset[Dim]:
        """What the tested row reads: THIS's dimensions and the anchor."""
        anchor = {self.anchor} if self.anchor is not None else set()
        return self.this_dims() | anchor

    def inner_dims(self) -> frozenset[Dim]:
        return self.inner.dims()

    def params(self) -> dict[str, Any]:
        return self.inner.params()

    def eval(self, values: Mapping[Any, Any]) -> Any:
        assert isinstance(values, RowValues), "an existence is evaluated on combined rows"
        return values.reference.existence(self, values)


class RowValues(dict[Any, Any]):
    """A combined row's dimension values, with the row itself (an existence reads it)."""

    def __init__(
        self, items: Any, reference: GrainReference, entity: str, number: int, row: Combined
    ) -> None:
        super().__init__(items)
        self.reference, self.entity, self.number, self.row = reference, entity, number, row


def has_existence(expr: Expr) -> bool:
    return any(isinstance(n, Exists) for n in walk(expr))


def all_dims(expr: Expr) -> frozenset[Dim]:
    """Every dimension a condition names, inside existences too."""
    found = set(expr.dims())
    for n in walk(expr):
        if isinstance(n, Exists):
            found |= n.inner_dims() | n.this_dims()
    return frozenset(found)


# --- metrics at another grain --------------------------------------------------------------

ALL, EXCLUDE, NAMED = "ALL", "EXCLUDE", "NAMED"


def _per(mode: str, named: tuple[Dim, ...]) -> str:
    if mode == ALL:
        return "PER (ALL)"
    names = ", ".join(d.sql for d in named)
    return f"PER (* EXCLUDE {names})" if mode == EXCLUDE else f"PER ({names})"


def kept(mode: str, named: tuple[Dim, ...], dims: Sequence[Dim]) -> list[int]:
    """The positions in `dims` of the dimensions a PER keeps."""
    if mode == ALL:
        return []
    if mode == EXCLUDE:
        return [i for i, d in enumerate(dims) if d not in named]
    return [i for i, d in enumerate(dims) if d in named]


@dataclass(frozen=True)
class GrainMetric(Metric):
    """`MEASURE(term) [FILTER (WHERE filter)] PER (...) AS alias`; with `share`, the column
    is `numerator / MEASURE(term) ... PER (...)`, the numerator `term` or `MEASURE(term)
    FILTER (WHERE numerator_filter)` at the query's grain."""

    mode: str = ALL
    named: tuple[Dim, ...] = ()
    share: bool = False
    numerator_filter: Expr | None = None

    @property
    def name(self) -> str:
        assert self.alias
        return self.alias

    def sql_as(self, alias: str | None) -> str:
        text = f"{_measure(self.term, self.filter)} {_per(self.mode, self.named)}"
        if self.share:
            top = _measure(self.term, self.numerator_filter)
            text = f"{top if self.numerator_filter else self.term} / {text}"
        name = f'"{alias}"' if alias else self.alias
        return f"{text} AS {name}"


@dataclass(frozen=True)
class GrainHaving(Having):
    """`HAVING term op MEASURE(term) PER (...) * value`."""

    mode: str = ALL
    named: tuple[Dim, ...] = ()

    def sql_on(self, name: str) -> str:
        per = f"MEASURE({self.term}) {_per(self.mode, self.named)}"
        return f"{name} {self.op} {per} * {literal(self.value)}"


# --- the evaluator -------------------------------------------------------------------------

Group = tuple[Any, ...]


class GrainReference(Reference):
    """The reference evaluator, knowing the constructs of this module."""

    def column(self, entity: str, depth: int, dim: Dim) -> list[Any]:
        if isinstance(dim, GrandTotal):
            return [self.grand_value(dim)] * len(self.combined(entity, depth))
        if not isinstance(dim, (PerEntity, Band)):
            return super().column(entity, depth, dim)
        key = (entity, depth, dim)
        if key not in self._cache:
            per = dim if isinstance(dim, PerEntity) else dim.per
            assert per is not None
            values = [self.per_value(per, k) for k in super().column(entity, depth, Dim(per.term))]
            self._cache[key] = [dim.band(v) for v in values] if isinstance(dim, Band) else values
        return self._cache[key]

    def per_value(self, per: PerEntity, key: Any) -> Any:
        """The metric of `per` on the entity row of key `key` (None: no such row)."""
        if key is None:
            return None
        cached = ("per", per)
        if cached not in self._cache:
            conditions = [per.filter] if per.filter is not None else []
            self._cache[cached] = [self._filled_any(per.metric, [Dim(per.term)], conditions)]
        return self._cache[cached][0]((key,))

    def grand_value(self, total: GrandTotal) -> Any:
        """The grand total of `total`: its metric over all the rows (its FILTER applies, the
        query's WHERE does not), or its value over no rows when none counts."""
        cached = ("grand", total)
        if cached not in self._cache:
            conditions = [total.filter] if total.filter is not None else []
            self._cache[cached] = [self._filled_any(total.metric, [], conditions)(())]
        return self._cache[cached][0]

    def total_under(self, total: GrandTotal, conditions: Sequence[Expr]) -> Any:
        """The grand total of `total` over the rows that meet `conditions` (and its own
        FILTER): a grand total alone in a condition, on the groups, under the query's WHERE."""
        own = [total.filter] if total.filter is not None else []
        return self._filled_any(total.metric, [], [*conditions, *own])(())

    def _filled_any(
        self,
        term: str,
        dims: Sequence[Dim],
        conditions: Sequence[Expr],
        groups: set[Group] | None = None,
    ) -> Callable[[Group], Any]:
        """Base or derived metric `term` by group (its groups with rows added to `groups`)."""
        groups = set() if groups is None else groups
        if term in DERIVED:
            numerator, denominator, _ = DERIVED[term]
            top = self._filled(numerator, dims, conditions, groups)
            bottom = self._filled(denominator, dims, conditions, groups)
            return functools.partial(_ratio, top, bottom)
        return self._filled(term, dims, conditions, groups)

    # existence

    def kept(self, entity: str, depth: int, condition: Expr) -> list[bool]:
        if not has_existence(condition):
            return super().kept(entity, depth, condition)
        key = (entity, depth, condition)
        if key not in self._cache:
            dims = sorted(condition.dims(), key=repr)
            columns = [self.column(entity, depth, d) for d in dims]
            result = []
            for i, (number, row) in enumerate(self.combined(entity, depth)):
                values = RowValues(
                    ((d, c[i]) for d, c in zip(dims, columns, strict=True)),
                    self,
                    entity,
                    number,
                    row,
                )
                result.append(condition.eval(values) is True)
            self._cache[key] = result
        return self._cache[key]

    def _number(self, entity: str, row: Any) -> int:
        """The position of `row` among `entity`'s rows."""
        key = ("numbers", entity)
        if key not in self._cache:
            index = {id(c[entity]): n for n, c in enumerate(self._closures[entity])}
            self._cache[key] = [index]
        return self._cache[key][0][id(row)]

    def _related(self, entity: str, inner: Expr) -> tuple[dict[int, list[int]], list[Dim], int]:
        """The related rows of each row of `entity` that an existence's condition reads:
        positions in `combined(entity, depth)` (rows that exist), by the entity row."""
        key = ("related", entity, inner)
        if key not in self._cache:
            self._cache[key] = [self._find_related(entity, inner)]
        return self._cache[key][0]  # type: ignore[no-any-return]

    def _find_related(
        self, entity: str, inner: Expr
    ) -> tuple[dict[int, list[int]], list[Dim], int]:
        dims = sorted(inner.dims(), key=repr)
        depth = self.depth(entity, dims)
        assert depth >= 1, "an existence reads the many side of its anchor (else SEM355)"
        down = DOWN[entity, depth]
        related: dict[int, list[int]] = defaultdict(list)
        for i, (number, row) in enumerate(self.combined(entity, depth)):
            if row[down] is not None:
                related[number].append(i)
        return related, dims, depth

    def existence(self, node: Exists, values: RowValues) -> bool:
        """`node` on the combined row of `values`."""
        number: int | None
        if node.anchor is None:
            entity, number = values.entity, values.number
        else:
            entity = self.node_of(node.anchor)
            row = values.row[entity]
            number = None if row is None else self._number(entity, row)
        this: dict[Any, Any] = {("this", d): values[d] for d in node.this_dims()}
        key = ("exists", entity, node, number, tuple(sorted(this.items(), key=repr)))
        if key not in self._cache:
            related, dims, depth = self._related(entity, node.inner)
            columns = [self.column(entity, depth, d) for d in dims]
            results = []
            for i in [] if number is None else related.get(number, []):
                on_related: dict[Any, Any] = {d: c[i] for d, c in zip(dims, columns, strict=True)}
                results.append(node.inner.eval({**on_related, **this}))
            if node.form == "EXISTS":
                found = any(r is True for r in results)
            elif node.form == "NOT EXISTS":
                found = not any(r is True for r in results)
            else:
                found = all(r is True for r in results)
            self._cache[key] = [found]
        return bool(self._cache[key][0])

    # the query

    def _evaluate(self, query: Query) -> list[tuple[Any, ...]]:
        dims = query.dims
        per_metric: dict[Metric, Callable[[Group], Any]] = {}
        groups: set[Group] = set() if dims else {()}
        where = list(query.where)
        for metric in query.metrics:
            conditions = [*where, *([metric.filter] if metric.filter else [])]
            if isinstance(metric, GrainMetric):
                per_metric[metric] = self._grain_metric(metric, dims, where, groups)
            else:
                per_metric[metric] = self._filled_any(metric.term, dims, conditions, groups)
        plain = {m.term: m for m in query.metrics if m.filter is None and m.alias is None}
        assert all(h.term in plain for h in query.having), "conditions on selected metrics only"
        tests: list[Callable[[Group, Any], bool]] = []
        for h in query.having:
            if isinstance(h, GrainHaving):
                at_grain = self._at_grain(h.term, h.mode, h.named, dims, where, groups)
                tests.append(functools.partial(_grain_having, h, at_grain))
            else:
                tests.append(functools.partial(_plain_having, h))
        results = []
        for group in groups:
            values: dict[Dim | Metric, Any] = dict(zip(dims, group, strict=True))
            values.update({m: per_metric[m](group) for m in query.metrics})
            if all(
                t(group, values[plain[h.term]]) for t, h in zip(tests, query.having, strict=True)
            ):
                results.append(tuple(values[c] for c in query.columns))
        if query.order:
            results.sort(key=functools.cmp_to_key(functools.partial(_compare, query.order)))
        if query.offset is not None:
            results = results[query.offset :]
        if query.limit is not None:
            results = results[: query.limit]
        return results

    def _at_grain(
        self,
        term: str,
        mode: str,
        named: tuple[Dim, ...],
        dims: Sequence[Dim],
        conditions: Sequence[Expr],
        groups: set[Group],
    ) -> Callable[[Group], Any]:
        """`term` at the grain of a PER, by group of the query: the groups where it has rows
        at the query's own grain are added to `groups`."""
        self._filled_any(term, dims, conditions, groups)
        positions = kept(mode, named, dims)
        values = self._filled_any(term, [dims[i] for i in positions], conditions)
        return lambda group: values(tuple(group[i] for i in positions))

    def _grain_metric(
        self, metric: GrainMetric, dims: Sequence[Dim], where: list[Expr], groups: set[Group]
    ) -> Callable[[Group], Any]:
        conditions = [*where, *([metric.filter] if metric.filter else [])]
        at_grain = self._at_grain(metric.term, metric.mode, metric.named, dims, conditions, groups)
        if not metric.share:
            return at_grain
        top = [*where, *([metric.numerator_filter] if metric.numerator_filter else [])]
        numerator = self._filled_any(metric.term, dims, top, groups)
        return functools.partial(_ratio, numerator, at_grain)


def _plain_having(having: Having, group: Group, value: Any) -> bool:
    return _having(having, value) is True


def _grain_having(
    having: GrainHaving, at_grain: Callable[[Group], Any], group: Group, value: Any
) -> bool:
    total = at_grain(group)
    if value is None or total is None:
        return False
    return _having(Having(having.term, having.op, total * having.value), value) is True


def grain_reads(query: Query) -> Iterator[Dim]:
    """Every dimension the constructs of this module read in `query`."""
    for metric in query.metrics:
        if isinstance(metric, GrainMetric):
            yield from metric.named
            if metric.numerator_filter is not None:
                yield from metric.numerator_filter.dims()
    for condition in query.where:
        yield from all_dims(condition)
