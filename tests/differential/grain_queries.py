"""The differential test's pools and strategies for metrics at another grain, metrics per
entity and existence (the constructs of `reference_grain`), drawn into the queries of
`test_differential.queries` so that they compose with its fan-out paths, filters, grains,
HAVING, parameters, ORDER BY and LIMIT.

Each strategy draws nothing most of the time (the plain queries keep most of the examples)
and keeps to what the language answers with one meaning: an existence reads the many side
of the entity it is about (else SEM355), `THIS(d)` a dimension its row reaches to-one, PER
names dimensions the query selects (else SEM350).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from hypothesis import strategies as st

from tests.differential.reference import (
    DERIVED,
    LEVELS,
    METRICS,
    And,
    Cmp,
    D,
    Dim,
    Expr,
    Lit,
    Metric,
    Param,
    metric_entities,
    read_glossary,
)
from tests.differential.reference_grain import (
    ALL,
    EXCLUDE,
    NAMED,
    Any_,
    Band,
    Exists,
    GrainHaving,
    GrainMetric,
    PerEntity,
    This,
    Times,
    all_dims,
    grand_total,
    per_entity,
)

__all__ = ["EXCLUDE", "NAMED", "Band", "GrainMetric", "PerEntity", "all_dims", "per_entity"]

ROOT = Path(__file__).resolve().parents[2]
NODES = {term: info.node for term, info in read_glossary(ROOT / "glossary")[0].items()}


def d(term: str) -> D:
    return D(Dim(term))


AIR = Cmp("=", d("ship_mode"), Lit("AIR"))
URGENT = Cmp("=", d("order_priority"), Lit("1-URGENT"))

#: metrics per entity as group keys and in bands; a key is a count, which every engine holds
#: as an integer: an average's last digit may differ, and SQLite holds a sum of decimals as
#: a float (test_engines runs these queries too), so those are put in bands
PER_DIMS: tuple[Dim, ...] = (
    per_entity("order_count", "customer"),
    per_entity("order_count", "customer", URGENT),
    per_entity("line_count", "orders"),
    per_entity("line_count", "orders", AIR),
    Band("part_key", per=per_entity("quantity", "part"), cuts=(Decimal("600.5"),)),
    Band("customer_key", per=per_entity("order_count", "customer"), cuts=(1, 10)),
    Band("part_key", per=per_entity("average_quantity", "part"), cuts=(24.37, 26.37)),
    Band(
        "customer_key",
        per=per_entity("net_revenue", "customer"),
        cuts=(Decimal("1000000.5"), Decimal("2500000.5")),
    ),
    Band("order_key", per=per_entity("line_count", "orders", AIR), cuts=(1, 2)),
    Band("supplier_key", per=per_entity("net_revenue", "supplier"), cuts=(Decimal("2e7"),)),
)

#: row conditions on metrics per entity (TPC-H Q17's among them)
PER_CONDITIONS: tuple[Expr, ...] = (
    Cmp(
        "<",
        d("line_quantity"),
        Times(Lit(Decimal("0.2")), D(per_entity("average_quantity", "part"))),
    ),
    Cmp(
        ">",
        d("line_quantity"),
        Times(Lit(Decimal("1.5")), D(per_entity("average_quantity", "part"))),
    ),
    Cmp(">=", D(per_entity("order_count", "customer")), Lit(15)),
    Cmp("=", D(per_entity("order_count", "customer", URGENT)), Lit(0)),
    Cmp("<=", D(per_entity("line_count", "orders")), Param("lines", 2)),
    Cmp(">", D(per_entity("net_revenue", "supplier")), Lit(Decimal("20000000.5"))),
)

#: row conditions on grand totals (`PER (ALL)` read as a value of rows, TPC-H Q22's kind):
#: an average, a count's share, a metric per entity against a total, and totals whose FILTER
#: keeps no row (shows the fill: 0 for net revenue; NULL for quantity, which has none)
NOTHING = Cmp("=", d("ship_mode"), Lit("NONE"))
GRAND_CONDITIONS: tuple[Expr, ...] = (
    Cmp(">", d("line_quantity"), D(grand_total("average_quantity", "line_quantity"))),
    Cmp(
        "<",
        d("line_quantity"),
        Times(Lit(Decimal("0.2")), D(grand_total("average_quantity", "line_quantity", AIR))),
    ),
    Cmp(
        "<", d("part_size"), Times(Lit(Decimal("0.001")), D(grand_total("line_count", "part_size")))
    ),
    Cmp(
        ">",
        D(per_entity("order_count", "customer")),
        Times(Lit(Decimal("0.001")), D(grand_total("order_count", "customer_key"))),
    ),
    Cmp(">", d("line_quantity"), D(grand_total("net_revenue", "line_quantity", NOTHING))),
    Cmp("<", d("line_quantity"), D(grand_total("quantity", "line_quantity", NOTHING))),
    Cmp(
        ">=",
        d("discount"),
        Times(Lit(Decimal("0.5")), D(grand_total("average_discount", "discount", URGENT))),
    ),
)

#: existences: (condition, anchor or None for the metric's own entity)
EXISTENCES: tuple[tuple[Expr, Dim | None], ...] = (
    (AIR, None),
    (Cmp("=", d("return_flag"), Lit("R")), None),
    (Cmp(">", d("line_quantity"), Lit(45)), None),
    (Cmp("=", d("supplier_region"), d("customer_region")), None),
    (URGENT, None),
    (Any_(Dim("order_key")), None),
    (AIR, Dim("order_key")),
    (Cmp("<>", d("supplier_key"), This(Dim("supplier_key"))), Dim("order_key")),
    (
        And(
            (
                Cmp("<>", d("supplier_key"), This(Dim("supplier_key"))),
                Cmp(">", d("receipt_date"), d("commit_date")),
            )
        ),
        Dim("order_key"),
    ),
    (Cmp("=", d("return_flag"), This(Dim("return_flag"))), Dim("order_key")),
    (Cmp("<", d("ship_date"), Lit(dt.date(1993, 1, 1))), Dim("customer_key")),
    (Cmp("=", d("ship_mode"), Lit("RAIL")), Dim("customer_key")),
    (URGENT, Dim("customer_key")),
    (Cmp("=", d("customer_region"), Lit("ASIA")), Dim("supplier_key")),
    (Cmp("=", d("return_flag"), Lit("R")), Dim("supplier_key")),
)
FORMS = ("EXISTS", "NOT EXISTS", "ALL")


def _level(entity: str, node: str) -> int | None:
    for level, nodes in enumerate(LEVELS[entity]):
        if node in nodes:
            return level
    return None


def existence_fits(
    inner: Expr, anchor: Dim | None, entities: frozenset[str], nodes: frozenset[str]
) -> bool:
    """Whether the existence has one meaning for the metrics of `entities`, which reach
    `nodes`: its anchor reached, its condition on the anchor's many side, THIS to-one."""
    if anchor is not None and NODES[anchor.term] not in nodes:
        return False
    anchors = {NODES[anchor.term]} if anchor is not None else entities
    for entity in anchors:
        if entity not in LEVELS:
            return False
        levels = [_level(entity, NODES[dim.term]) for dim in inner.dims()]
        if any(level is None for level in levels) or not any(levels):
            return False
    probe = Exists(inner, anchor)
    return all(
        _level(entity, NODES[dim.term]) == 0 for dim in probe.this_dims() for entity in entities
    )


@st.composite
def row_conditions(draw: st.DrawFn, entities: frozenset[str], nodes: frozenset[str]) -> list[Expr]:
    """Maybe an existence, maybe a condition on a metric per entity, maybe one on a grand
    total."""
    found: list[Expr] = []
    if draw(st.sampled_from([False, False, True])):
        options = [(i, a) for i, a in EXISTENCES if existence_fits(i, a, entities, nodes)]
        if options:
            inner, anchor = draw(st.sampled_from(options))
            forms = FORMS[:2] if isinstance(inner, Any_) else FORMS
            found.append(Exists(inner, anchor, draw(st.sampled_from(forms))))
    if draw(st.sampled_from([False, False, False, True])):
        options2 = [c for c in PER_CONDITIONS if all(NODES[x.term] in nodes for x in c.dims())]
        if options2:
            found.append(draw(st.sampled_from(options2)))
    if draw(st.sampled_from([False, False, False, True])):
        options3 = [c for c in GRAND_CONDITIONS if all(NODES[x.term] in nodes for x in c.dims())]
        if options3:
            found.append(draw(st.sampled_from(options3)))
    return found


@st.composite
def per_dims(draw: st.DrawFn, nodes: frozenset[str]) -> list[Dim]:
    """Maybe a metric per entity, or a band of one, to group by."""
    options = [x for x in PER_DIMS if NODES[x.term] in nodes]
    if options and draw(st.sampled_from([False, False, False, True])):
        return [draw(st.sampled_from(options))]
    return []


def nameable(dims: list[Dim]) -> list[Dim]:
    """The query's dimensions a PER may name: as written, not a function nor a value."""
    return [x for x in dims if type(x) is Dim and x.func is None]


@st.composite
def per_grain(draw: st.DrawFn, dims: list[Dim]) -> tuple[str, tuple[Dim, ...]]:
    names = nameable(dims)
    mode = draw(st.sampled_from([ALL, EXCLUDE, NAMED])) if names else ALL
    if mode == ALL:
        return mode, ()
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
    return mode, tuple(chosen)


def exact(term: str) -> bool:
    """A base metric whose values are exact (a sum or a count): a condition on it has one
    answer."""
    return term in METRICS and METRICS[term].aggregate != "avg"


@st.composite
def grain_metric(
    draw: st.DrawFn, terms: list[str], dims: list[Dim], filters: list[Expr]
) -> list[Metric]:
    """Maybe a metric at another grain, alone or as the denominator of a share, of one of
    the query's metrics (`filters`: conditions it may filter on, for one meaning)."""
    if not draw(st.sampled_from([False, False, True])):
        return []
    term = draw(st.sampled_from(terms))
    mode, named = draw(per_grain(dims))
    share = term not in DERIVED and draw(st.booleans())
    condition = draw(st.sampled_from([None, None, *filters])) if filters else None
    numerator = None
    if share and filters and draw(st.booleans()):
        plain: list[Expr | None] = [f for f in filters if not f.params()]
        numerator = draw(st.sampled_from(plain or [None]))
        condition = None
    alias = "share_of" if share else "at_grain"
    return [GrainMetric(term, condition, alias, False, mode, named, share, numerator)]


@st.composite
def grain_having(draw: st.DrawFn, term: str, op: str, dims: list[Dim]) -> GrainHaving:
    """`HAVING term op MEASURE(term) PER (...) * factor`."""
    mode, named = draw(per_grain(dims))
    factor = draw(st.sampled_from([Decimal("0.0517"), Decimal("0.2317"), Decimal("0.7713")]))
    return GrainHaving(term, op, factor, False, mode, named)


def read_names(columns: list[Dim | Metric], where: list[Expr]) -> set[str]:
    """The terms the new constructs read, which an output name must not shadow."""
    found: set[str] = set()
    for condition in where:
        for dim in all_dims(condition):
            found.add(dim.term.casefold())
            if isinstance(dim, PerEntity):
                found.add(dim.metric.casefold())
    for column in columns:
        if isinstance(column, GrainMetric):
            found.add(column.term.casefold())
        if isinstance(column, Band) and column.per is not None:
            found.add(column.per.metric.casefold())
        if isinstance(column, PerEntity):
            found.add(column.metric.casefold())
    return found


def metric_nodes_entities(terms: list[str]) -> frozenset[str]:
    return frozenset().union(*(metric_entities(t) for t in terms))
