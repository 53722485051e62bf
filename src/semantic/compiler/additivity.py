"""Whether a subject area's metric columns add up when a BI tool aggregates them again.

A subject area's view has one row per combination of its dimensions. BI tools aggregate
those rows again (a total, a coarser chart), usually with `sum`. That gives the total of
the metric over the same rows only when two things hold:

- the metric is *additive*: a sum or a count (not a distinct count), or a sum or
  difference of such metrics, scaled by constants. An average, a ratio, a distinct count,
  a window (running, trailing, to-date), a shift or a semi-additive metric (a stock
  level: each group's rows of its own last day) never adds up; a maximum or minimum adds
  up with `max` or `min`, never with `sum`;
- every dimension of the area is reached *to-one* from the metric's entity. A dimension
  on the many side (an order's lines' ship mode, for an order count) puts each row of the
  entity in several view rows: a sum over them counts it several times. Within groups
  that keep every such dimension the sum is still right.

Pure functions over a `Model`; no SQL here.

>>> from semantic.project import Project
>>> model = Project.load(".").model
>>> [(r.metric, r.safe) for r in reaggregation(model, model.subject_areas["yearly_sales"])]
[('order_count', ('sum',)), ('net_revenue', ('sum',)), ('gross_revenue', ('sum',))]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from sqlglot import exp

from semantic.compiler.resolve import find_path
from semantic.errors import SemanticError
from semantic.model import Model, SubjectArea, Term

__all__ = ["Reaggregation", "metric_aggregation", "reaggregation"]


@dataclass(frozen=True, slots=True)
class Reaggregation:
    """How one metric column of a subject area's view may be aggregated again.

    `safe` lists the aggregations (`sum`, `max`, `min`) that give, over any set of the
    view's rows, the metric's value for the union of those rows; empty when none does.
    `many_side` lists the area's dimensions (as written) that repeat the metric's rows.
    """

    metric: str
    safe: tuple[str, ...]
    #: why `sum` does not add up, in words; empty when it does
    reason: str = ""
    many_side: tuple[str, ...] = ()
    #: the entity whose rows repeat across `many_side` (the metric's, or one of its parts')
    entity: str | None = None

    @property
    def adds_up(self) -> bool:
        """Whether a BI tool's `sum` over the view's rows gives the right total."""
        return "sum" in self.safe

    def note(self, names: Mapping[str, str] | None = None) -> str:
        """One sentence for the column's comment, which BI tools show: empty when `sum`
        adds up, else why it does not and what to do instead. `names` gives the view's
        column name of each dimension (as written), when it is not the id."""
        if self.adds_up:
            return ""
        if self.many_side:
            kept = ", ".join(f'"{(names or {}).get(d, d)}"' for d in self.many_side)
            return (
                f"Does not add up across rows: a row of {self.entity} counts once per value "
                f"of {kept} it has ({kept} is on the many side of {self.entity}); "
                f"a sum is right only in groups that keep {kept}."
            )
        instead = (
            f"re-aggregate it with {' or '.join(self.safe)} only"
            if self.safe
            else "read it at the view's rows, never sum or average it again"
        )
        return f"Does not add up across rows: {self.reason}; {instead}."


def reaggregation(model: Model, area: SubjectArea) -> tuple[Reaggregation, ...]:
    """For each metric of `area`, in order, whether a BI tool's re-aggregation of its view
    column adds up, and with which aggregation."""
    found = []
    for tid in area.metrics:
        safe, reason = metric_aggregation(model, model.terms[tid])
        entity, many = _many_side(model, model.terms[tid], area)
        if many and "sum" in safe:
            # max and min are still right: each entity row sits in one view row at least
            found.append(Reaggregation(tid, (), "", many, entity))
        else:
            found.append(Reaggregation(tid, safe, reason))
    return tuple(found)


def metric_aggregation(model: Model, term: Term) -> tuple[tuple[str, ...], str]:
    """The aggregations that combine partial results of metric `term` into the whole:
    `("sum",)` for sums and counts, `("max",)` or `("min",)` for extremes, `()` otherwise,
    with the reason in words when `sum` is not among them."""
    if term.window is not None:
        kind = (
            f"a total since the start of each {term.window.to_date}"
            if term.window.to_date
            else f"a total over the last {term.window.last} {term.window.grain} periods"
            if term.window.last
            else "a running total"
        )
        return (), f"{kind} along {term.window.time}, so each row already holds several periods"
    if term.shift is not None:
        return (), f"the value of an earlier period ({term.shift.time} shifted)"
    if term.conversion is not None:
        return (), "a conversion of events matched across the whole of each group"
    if term.semi_additive is not None:
        spec = term.semi_additive
        which = (
            "the average over its days"
            if spec.period_value == "average"
            else f"the value at its {spec.period_value} {spec.time}"
        )
        return (), (
            f"semi-additive over {spec.time}: each row holds {which}, so rows of several "
            f"periods of {spec.time} (or other groups with another {spec.period_value} "
            f"{spec.time}) do not add up"
        )
    if term.fill_null is not None and not _is_zero(term.fill_null):
        fill = term.fill_null.sql()
        return (), f"groups without rows show {fill}, which a sum would add"
    if term.is_derived:
        parts = {ref: metric_aggregation(model, model.terms[ref]) for ref in term.refs}
        if isinstance(term.expr, exp.Column) and term.expr.name in parts:
            return parts[term.expr.name]
        if _linear(term.expr, lambda node: isinstance(node, exp.Column)):
            broken = [(ref, why) for ref, (safe, why) in parts.items() if "sum" not in safe]
            if not broken:
                return ("sum",), ""
            ref, why = broken[0]
            return (), f"it is computed from '{ref}', {why}"
        if isinstance(_unwrap(term.expr), exp.Div):
            return (), "a ratio of metrics"
        return (), "a non-additive expression of metrics"
    leaf = _unwrap(term.expr)
    if isinstance(leaf, (exp.Max, exp.Min)) and not isinstance(leaf.this, exp.Distinct):
        name = "max" if isinstance(leaf, exp.Max) else "min"
        return (name,), f"a {'maximum' if name == 'max' else 'minimum'}"
    if _linear(term.expr, _additive_aggregate):
        return ("sum",), ""
    return (), _why_not(term.expr)


def _many_side(model: Model, metric: Term, area: SubjectArea) -> tuple[str | None, tuple[str, ...]]:
    """The first base entity of `metric` that some dimension of `area` lies on the many side
    of, and those dimensions (as written)."""
    for entity in _entities(model, metric):
        many = tuple(
            written for written in area.dimensions if _fans(model, entity, written.split(".")[0])
        )
        if many:
            return entity, many
    return None, ()


def _entities(model: Model, term: Term) -> Iterator[str]:
    """The entities whose rows a metric aggregates, through derived metrics."""
    if term.entity is not None:
        yield term.entity
        return
    for ref in term.refs:
        yield from _entities(model, model.terms[ref])


def _fans(model: Model, entity: str, dimension: str) -> bool:
    """Whether the compiler reaches `dimension` from `entity` through a one-to-many join
    (as `plan` does: `find_path` with `fan`, to the entities its expression reads)."""
    term = model.terms[dimension]
    if term.entity is None:
        return False
    targets = [(term.entity, term.path)]
    targets += [(c.table, ()) for c in term.expr.find_all(exp.Column) if c.table]
    for target, pinned in targets:
        try:
            path = find_path(model, entity, target, pinned, fan=True)
        except SemanticError:  # the area does not compile: SEM218 says so
            return False
        if any(not edge.to_one for edge in path):
            return True
    return False


def _unwrap(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _additive_aggregate(node: exp.Expr) -> bool:
    """A sum or count of rows (a filtered one too), without DISTINCT."""
    if isinstance(node, exp.Filter):
        node = node.this
    if isinstance(node, (exp.Sum, exp.Count)):
        return not isinstance(node.this, exp.Distinct)
    return isinstance(node, exp.CountIf)


def _linear(node: exp.Expr, leaf: Callable[[exp.Expr], bool]) -> bool:
    """Whether `node` is a sum or difference of `leaf`s, each scaled by constants: such an
    expression of additive parts is additive."""
    node = _unwrap(node)
    if leaf(node):
        return True
    if isinstance(node, exp.Neg):
        return _linear(node.this, leaf)
    if isinstance(node, (exp.Add, exp.Sub)):
        return _linear(node.this, leaf) and _linear(node.expression, leaf)
    if isinstance(node, exp.Mul):
        left, right = _unwrap(node.this), _unwrap(node.expression)
        return (_is_number(left) and _linear(right, leaf)) or (
            _is_number(right) and _linear(left, leaf)
        )
    if isinstance(node, exp.Div):
        right = _unwrap(node.expression)
        return _is_number(right) and not _is_zero(right) and _linear(node.this, leaf)
    return False


def _is_number(node: exp.Expr) -> bool:
    node = _unwrap(node)
    if isinstance(node, exp.Neg):
        node = _unwrap(node.this)
    return isinstance(node, exp.Literal) and not node.is_string


def _is_zero(node: exp.Expr) -> bool:
    node = _unwrap(node)
    try:
        return isinstance(node, exp.Literal) and float(node.this) == 0
    except ValueError:
        return False


def _why_not(expr: exp.Expression) -> str:
    """The first part of a base metric's expression that keeps it from adding up."""
    for div in expr.find_all(exp.Div):
        if div.expression.find(exp.AggFunc) is not None:
            return "a ratio"
    for node in expr.find_all(exp.AggFunc):
        if isinstance(node, exp.Avg):
            return "an average"
        if isinstance(node.this, exp.Distinct) or isinstance(node, exp.ApproxDistinct):
            return "a distinct count"
        if not _additive_aggregate(node):
            return f"{node.sql_name().lower()}() does not add up"
    return "not a sum or difference of sums and counts"
