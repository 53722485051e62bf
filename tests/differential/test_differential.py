"""Differential property test: random business queries over the TPC-H glossary, compiled and
run, against the independent reference evaluator of `reference.py`.

Columns get aliases now and then (`aliases`): other term ids, the names the compiler uses
inside its SQL, either in other letter cases. Output names must never change a number.

Queries mix dimensions reached by several paths (the customer's nation and the supplier's,
the part, the order, the line), metrics of several entities (orders, lines, customers,
suppliers, offers), row conditions on both sides of a metric's entity, time grains (fiscal
ones too), parameters, conditions on metrics (in WHERE or HAVING), filtered metrics
(`MEASURE(m) FILTER (WHERE ...)`), ratios written by hand, GROUP BY, ORDER BY, LIMIT and
OFFSET. Dimensions and conditions on the many side of a metric's entity (the ship mode of an
order's lines, the orders of a customer) are included on purpose; only paths with two
meanings (a supplier's parts: offered or sold?) are left out.

The newer constructs are drawn into the same queries (`grain_queries`, answered by
`reference_grain`), so that they meet all of the above:

- metrics at another grain, `MEASURE(m) [FILTER (WHERE ...)] PER (ALL)`, `PER (* EXCLUDE
  d, ...)` and `PER (d, ...)`, as a column, as the denominator of a share (`m / MEASURE(m)
  PER (...)`, its numerator maybe filtered) and in HAVING (`m > MEASURE(m) PER (...) * k`);
- metrics per entity, `MEASURE(m) [FILTER (WHERE ...)] PER (customer | orders | part |
  supplier)`, as a group key, inside a CASE of bands, and in row conditions (TPC-H Q17's
  `line_quantity < 0.2 * MEASURE(average_quantity) PER (part)` among them);
- grand totals in row conditions, `line_quantity > MEASURE(average_quantity) PER (ALL)`
  (filtered too, and filtered to no row: the fill, or NULL);
- existence, `EXISTS(c [, anchor])`, `NOT EXISTS(...)` and `ALL(...)`, about the metric's
  own entity or an anchor's (an order, a customer, a supplier, reached through a fan-out
  too), with a bare dimension for "any row" and `THIS(d)` (TPC-H Q21's tests).

Derandomized examples (the same queries on every run): 100 in `make test`, 1,000 in `make
test-all` (CI), which sets SEMANTIC_DIFFERENTIAL_EXAMPLES (300 with SEMANTIC_SLOW=1 alone: see
tests/budget.py). A failing query is printed with its parameters and the rows that differ.
Every mismatch found is kept in FOUND, as its smallest query, and belongs in tests/soundness too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from semantic import Project
from semantic.errors import SemanticError
from tests.budget import examples
from tests.compare import Row, same_value
from tests.differential import grain_queries as grain
from tests.differential.conftest import Subject
from tests.differential.reference import (
    DERIVED,
    LEVELS,
    METRICS,
    PRIMARY_KEYS,
    And,
    Between,
    Cmp,
    D,
    Dim,
    Expr,
    Having,
    In,
    Like,
    Lit,
    Metric,
    Not,
    Or,
    Order,
    Param,
    Query,
    Reference,
    iter_reads,
    metric_entities,
    reachable,
    read_glossary,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = examples(full=300, fast=100, variable="SEMANTIC_DIFFERENTIAL_EXAMPLES")

# Where each dimension term lives, read from the repository's glossary (the same files the
# test project copies), so the pools below can be matched against each metric's entity.
GLOSSARY_DIMS, _ = read_glossary(ROOT / "glossary")


def d(term: str, grain: str | None = None, func: str | None = None) -> D:
    return D(Dim(term, grain, func))


# --- the pools ----------------------------------------------------------------------------

DIMENSIONS = (
    Dim("market_segment"),
    Dim("customer_region"),
    Dim("customer_nation"),
    Dim("supplier_nation"),
    Dim("supplier_region"),
    Dim("part_brand"),
    Dim("part_size"),
    Dim("ship_mode"),
    Dim("return_flag"),
    Dim("order_status"),
    Dim("order_priority"),
    Dim("order_date", "year"),
    Dim("order_date", "month"),
    Dim("order_date", "week"),
    Dim("order_date", "fiscal_quarter"),
    Dim("order_date", "fiscal_year"),
    Dim("ship_date", "quarter"),
    Dim("ship_date", func="year"),
)

METRIC_TERMS = (
    "order_count",
    "order_value",
    "line_count",
    "net_revenue",
    "quantity",
    "average_discount",
    "profit",
    "customer_count",
    "total_account_balance",
    "supplier_count",
    "inventory_value",
    "average_order_value",
)

CONDITIONS: tuple[Expr, ...] = (
    Cmp("=", d("market_segment"), Lit("BUILDING")),
    In(d("ship_mode"), ("AIR", "RAIL")),
    Cmp(">=", d("order_date"), Lit(dt.date(1995, 1, 1))),
    Cmp("=", d("customer_region"), Lit("ASIA")),
    Cmp("=", d("supplier_nation"), d("customer_nation")),
    Cmp("=", d("supplier_region"), d("customer_region")),
    Cmp("<", d("part_size"), Lit(10)),
    Cmp("=", d("return_flag"), Lit("R")),
    Cmp("=", d("order_priority"), Lit("1-URGENT")),
    Cmp("<>", d("supplier_region"), Lit("EUROPE")),
    Like(d("part_type"), "PROMO%"),
    Like(d("part_brand"), "Brand#1%"),
    Cmp("<", d("ship_date"), Lit(dt.date(1994, 6, 1))),
    Cmp("=", d("order_status"), Lit("F")),
    Cmp("=", d("order_date", func="year"), Lit(1996)),
    Cmp("=", d("order_date", "quarter"), Lit(dt.date(1995, 4, 1))),
    Cmp("<", d("order_date", "fiscal_year"), Lit(dt.date(1994, 4, 1))),
    Cmp("=", d("ship_date", "year"), d("order_date", "year")),
    In(d("customer_nation"), ("FRANCE", "GERMANY", "BRAZIL", "CANADA")),
    In(d("supplier_nation"), ("PERU", "IRAN")),
    Between(d("discount"), Decimal("0.05"), Decimal("0.07")),
    Or((Cmp("=", d("market_segment"), Lit("MACHINERY")), Cmp("=", d("ship_mode"), Lit("MAIL")))),
    Not(Cmp("=", d("ship_mode"), Lit("TRUCK"))),
    And((Cmp(">", d("line_quantity"), Lit(25)), Cmp("=", d("line_status"), Lit("O")))),
    Cmp("=", d("customer_region"), Param("region", "EUROPE")),
    Cmp("=", d("ship_mode"), Param("mode", "MAIL")),
    Cmp("<=", d("part_size"), Param("size", 20)),
)

# Output names that could be confused with something else: other terms' ids, the names the
# compiler gives (or gave) its columns, tables and CTEs, physical names; each may be drawn in
# other letter cases.
ALIASES = (
    "net_revenue",
    "order_count",
    "line_count",
    "market_segment",
    "ship_mode",
    "order_date",
    "order_date_year",
    "__key_0",
    "__value_0",
    "keys",
    "entity_rows",
    "periods",
    "current_period",
    "orders_metrics",
    "lineitem_metrics",
    "lineitem_metrics_2",
    "net_revenue_filtered",
    "order_count_filtered",
    "year_ship_date",
    "o_orderkey",
    "o_totalprice",
    "l_extendedprice",
    "orders",
    "customer",
)
CASES = (str, str.upper, str.title)


def output_names(query: Query) -> list[str]:
    """The output column names of `query`, as compared (ignoring case and quotes)."""
    return [query.output_name(i).strip('"').casefold() for i in range(len(query.columns))]


def where_terms(where: list[Expr], having: list[Having]) -> set[str]:
    """The names WHERE reads: terms, which an output name must not shadow (SEM318)."""
    names = {dim.term.casefold() for condition in where for dim in grain.all_dims(condition)}
    return names | {h.term.casefold() for h in having if h.in_where}


@st.composite
def aliases(
    draw: st.DrawFn, columns: list[Dim | Metric], taken_by_where: set[str]
) -> tuple[str | None, ...]:
    """An alias or None for each column: the output names stay distinct (SEM313), and none
    is a term that WHERE reads with another meaning (SEM318)."""
    if not draw(st.sampled_from([False, True])):
        return ()
    chosen: list[str | None] = [None] * len(columns)
    for i in range(len(columns)):
        if not draw(st.sampled_from([False, True])):
            continue
        alias = draw(st.sampled_from(CASES))(draw(st.sampled_from(ALIASES)))
        trial = Query(tuple(columns), aliases=tuple(chosen[:i] + [alias] + chosen[i + 1 :]))
        names = output_names(trial)
        if names.count(alias.casefold()) == 1 and alias.casefold() not in taken_by_where:
            chosen[i] = alias
    return tuple(chosen)


# Thresholds for conditions on metrics, chosen so that no group sits exactly on one.
THRESHOLDS: dict[str, tuple[Any, ...]] = {
    "order_count": (1, 8, 60),
    "order_value": (Decimal("150000.5"), Decimal("3000000.5")),
    "line_count": (3, 30, 300),
    "net_revenue": (Decimal("150000.5"), Decimal("3000000.5")),
    "quantity": (Decimal("100.5"), Decimal("2000.5")),
    "average_discount": (Decimal("0.0487654"), Decimal("0.0512345")),
    "profit": (Decimal("50000.5"), Decimal("1000000.5")),
    "customer_count": (2, 12),
    "total_account_balance": (Decimal("0.5"), Decimal("40000.5")),
    "supplier_count": (1, 4),
    "inventory_value": (Decimal("1000000.5"), Decimal("10000000.5")),
    "average_order_value": (Decimal("100000.5"), Decimal("160000.5")),
}


def node(dim: Dim) -> str:
    return GLOSSARY_DIMS[dim.term].node


def allowed_nodes(terms: list[str], *, fanout: bool) -> frozenset[str]:
    """The nodes every metric of `terms` reaches with one meaning (to-one only unless
    `fanout`)."""
    nodes: frozenset[str] | None = None
    for term in terms:
        for entity in metric_entities(term):
            here = reachable(entity) if fanout else LEVELS[entity][0]
            nodes = here if nodes is None else nodes & here
    assert nodes is not None
    return nodes


def fits(expr: Expr | Dim, nodes: frozenset[str]) -> bool:
    dims = {expr} if isinstance(expr, Dim) else expr.dims()
    return all(node(dim) in nodes for dim in dims)


@st.composite
def queries(draw: st.DrawFn, *, fanout: bool = True, filtered: bool = True) -> Query:
    """A random business query the reference can answer with one meaning."""
    # counts drawn from lists of choices (hypothesis favours small integers and short lists;
    # these keep most queries rich, and shrink towards the first choice)
    n = draw(st.sampled_from([1, 2, 3]))
    terms = draw(st.lists(st.sampled_from(METRIC_TERMS), min_size=n, max_size=n, unique=True))
    metrics = [
        Metric(t, alias="by_hand", by_hand=True)
        if t in DERIVED and draw(st.sampled_from([False, True]))
        else Metric(t)
        for t in terms
    ]
    extra: Metric | None = None
    if filtered and draw(st.sampled_from([False, True, False])):
        term = draw(st.sampled_from(METRIC_TERMS))
        nodes = allowed_nodes([term], fanout=fanout)
        options = [c for c in CONDITIONS if fits(c, nodes)]
        if options:
            extra = Metric(term, draw(st.sampled_from(options)), f"filtered_{term}")
            terms = [*terms, term]
    nodes = allowed_nodes(terms, fanout=fanout)
    dim_pool = [x for x in DIMENSIONS if fits(x, nodes)]
    n = min(len(dim_pool), draw(st.sampled_from([1, 2, 0])))
    dims = draw(st.lists(st.sampled_from(dim_pool), min_size=n, max_size=n, unique=True))
    dims += draw(grain.per_dims(nodes))  # a metric per entity, maybe
    cond_pool = [c for c in CONDITIONS if fits(c, nodes)]
    n = min(len(cond_pool), draw(st.sampled_from([1, 0, 2])))
    where = draw(st.lists(st.sampled_from(cond_pool), min_size=n, max_size=n, unique=True))
    entities = grain.metric_nodes_entities(terms)
    where += [c for c in draw(grain.row_conditions(entities, nodes)) if c not in where]
    having: list[Having] = []
    plain = [m.term for m in metrics if m.alias is None]
    if plain and draw(st.sampled_from([False, True, False])):
        term = draw(st.sampled_from(plain))
        op = draw(st.sampled_from([">", ">=", "<", "<="]))
        if grain.exact(term) and draw(st.sampled_from([False, False, True])):
            having.append(draw(grain.grain_having(term, op, dims)))  # a share of a total
        else:
            value = draw(st.sampled_from(THRESHOLDS[term]))
            having.append(Having(term, op, value, in_where=draw(st.booleans())))
    at_grain = draw(grain.grain_metric(terms, dims, [c for c in CONDITIONS if fits(c, nodes)]))
    columns: list[Dim | Metric] = [*dims, *metrics, *([extra] if extra else []), *at_grain]
    columns = draw(st.permutations(columns))
    taken = where_terms(where, having) | grain.read_names(columns, where)
    named = list(draw(aliases(columns, taken)) or [None] * len(columns))
    for i, column in enumerate(columns):  # a metric per entity is named by its alias
        if isinstance(column, (grain.PerEntity, grain.Band)):
            named[i] = f"per_key_{i}"
    order: list[Order] = []
    limit = offset = None
    if dims and draw(st.booleans()):
        # first, maybe, an exact metric (not a float, whose last digit may differ), then
        # every dimension: a total order, so LIMIT and OFFSET have one answer
        exact = [
            i + 1
            for i, c in enumerate(columns)
            if isinstance(c, Metric) and not c.by_hand and c.term in METRICS
            if METRICS[c.term].aggregate != "avg" and not getattr(c, "share", False)
        ]
        if exact and draw(st.booleans()):
            order.append(Order(draw(st.sampled_from(exact)), draw(st.booleans())))
        positions = [i + 1 for i, c in enumerate(columns) if isinstance(c, Dim)]
        for position in draw(st.permutations(positions)):
            order.append(Order(position, draw(st.booleans()), draw(st.booleans())))
        if draw(st.booleans()):
            limit = draw(st.integers(1, 12))
        if draw(st.sampled_from([False, True, False])):
            offset = draw(st.integers(0, 5))
    group_by = draw(st.sampled_from([None, None, None, True, False])) if dims else None
    return Query(
        tuple(columns),
        tuple(where),
        tuple(having),
        tuple(order),
        limit,
        offset,
        group_by,
        tuple(named) if any(named) else (),
    )


# --- comparing ----------------------------------------------------------------------------


def rows_of(table: pa.Table) -> list[Row]:
    """The rows of an Arrow table as tuples (by position: names may repeat)."""
    columns = [column.to_pylist() for column in table.columns]
    return list(zip(*columns, strict=True)) if columns else []


def differences(query: Query, actual: list[Row], expected: list[Row]) -> list[str]:
    """What differs between the compiler's rows and the reference's, in words."""
    problems: list[str] = []
    width = len(query.columns)
    if any(len(row) != width for row in actual):
        return [f"expected {width} columns, got rows {actual[:3]}"]
    if query.order:
        if len(actual) != len(expected):
            problems.append(f"{len(actual)} rows, expected {len(expected)}")
        for i, (got, want) in enumerate(zip(actual, expected, strict=False)):
            if not all(same_value(a, b, same_kind=True) for a, b in zip(got, want, strict=True)):
                problems.append(f"row {i}: got {got}, expected {want}")
        return problems
    keys = [i for i, c in enumerate(query.columns) if isinstance(c, Dim)]

    def key(row: Row) -> Row:
        return tuple(row[i] for i in keys)

    got_rows: dict[Row, Row] = {}
    for row in actual:
        if key(row) in got_rows:
            problems.append(f"group {key(row)} appears twice: {got_rows[key(row)]} and {row}")
        got_rows[key(row)] = row
    want_rows = {key(row): row for row in expected}
    for k in want_rows.keys() - got_rows.keys():
        problems.append(f"missing row {want_rows[k]}")
    for k in got_rows.keys() - want_rows.keys():
        problems.append(f"unexpected row {got_rows[k]}")
    for k in want_rows.keys() & got_rows.keys():
        got, want = got_rows[k], want_rows[k]
        if not all(same_value(a, b, same_kind=True) for a, b in zip(got, want, strict=True)):
            problems.append(f"got {got}, expected {want}")
    return problems


def assert_same(query: Query, actual: list[Row], expected: list[Row]) -> None:
    problems = differences(query, actual, expected)
    if problems:
        shown = "\n  ".join(sorted(problems)[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        pytest.fail(
            f"{query.text}\nparams: {query.params}\n"
            f"{len(actual)} rows, expected {len(expected)}:\n  {shown}{more}",
            pytrace=False,
        )


def run(project: Project, query: Query) -> list[Row]:
    try:
        return rows_of(project.query(query.text, query.params))
    except SemanticError as exc:
        codes = ", ".join(d.code for d in exc.diagnostics)
        pytest.fail(f"{query.text}\nparams: {query.params}\nrefused: {codes}\n{exc}", pytrace=False)


# --- the property -------------------------------------------------------------------------


# Mismatches this test found, each as its smallest query, checked on every run (by
# `test_found_mismatches`, so that the random queries still run while one is open).
EMPTY = (Cmp("=", d("customer_region"), Lit("ASIA")), Cmp("=", d("customer_nation"), Lit("FRANCE")))
FOUND = (
    # 0/0 gave NaN (not NULL) for a country whose customers never ordered, and NaN passed
    # `average_order_value > x` (fixed in 6bee055)
    pytest.param(
        Query((Dim("customer_nation"), Metric("average_order_value"), Metric("customer_count"))),
        id="ratio-of-empty-group",
    ),
    # a sum with fill_null over no rows: NULL when its entity is the only one of the query,
    # 0 beside a metric of another entity (so `HAVING net_revenue = 0` keeps or drops the
    # row depending on the other columns)
    pytest.param(Query((Metric("net_revenue"), Metric("line_count")), EMPTY), id="fill-one-entity"),
    pytest.param(
        Query((Metric("net_revenue"),), EMPTY, (Having("net_revenue", "=", 0),)),
        id="fill-one-entity-having",
    ),
    # a metric at another grain in a group that grain has no row for was NULL, not its
    # fill: `PER (customer_nation)` at the query's own grain differed from the metric
    pytest.param(
        Query(
            (
                Dim("customer_nation"),
                Metric("customer_count"),
                grain.GrainMetric(
                    "net_revenue",
                    And((Cmp("=", d("order_priority"), Lit("1-URGENT")), *EMPTY[:1])),
                    "at_grain",
                    False,
                    grain.NAMED,
                    (Dim("customer_nation"),),
                ),
            )
        ),
        id="per-grain-fill",
    ),
    # `PER (* EXCLUDE a, b)` refused its second name (SEM351)
    pytest.param(
        Query(
            (
                Dim("customer_region"),
                Dim("ship_mode"),
                Metric("line_count"),
                grain.GrainMetric(
                    "line_count",
                    None,
                    "at_grain",
                    False,
                    grain.EXCLUDE,
                    (Dim("customer_region"), Dim("ship_mode")),
                ),
            )
        ),
        id="per-exclude-two",
    ),
    # a metric per entity in WHERE beside a fan-out: invalid SQL (the numbered rows read a
    # column of the per-entity subquery's own rows)
    pytest.param(
        Query(
            (Dim("supplier_nation"), Metric("order_count")),
            (Cmp(">=", D(grain.per_entity("order_count", "customer")), Lit(15)),),
        ),
        id="per-entity-fan-out",
    ),
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(query=queries())
def test_compiler_agrees_with_the_reference(subject: Subject, query: Query) -> None:
    note(f"query: {query.text}")
    note(f"params: {query.params}")
    expected = subject.reference.evaluate(query)
    assert_same(query, run(subject.project, query), expected)


@pytest.mark.parametrize("query", FOUND)
def test_found_mismatches(subject: Subject, query: Query) -> None:
    assert_same(query, run(subject.project, query), subject.reference.evaluate(query))


def test_the_pools_name_glossary_terms() -> None:
    """Every term of the pools exists in the glossary with the meaning the reference knows."""
    for dim in DIMENSIONS:
        info = GLOSSARY_DIMS[dim.term]
        assert dim.grain is None or dim.grain in info.grains, dim
    for condition in CONDITIONS:
        for dim in condition.dims():
            assert dim.term in GLOSSARY_DIMS, dim
    for term in METRIC_TERMS:
        assert term in METRICS or term in DERIVED, term
        assert term in THRESHOLDS, term
    # a query reads only what the reference knows, whatever is drawn
    query = Query((*DIMENSIONS, *(Metric(t) for t in METRIC_TERMS)), CONDITIONS)
    assert {dim.term for dim in iter_reads(query)} <= GLOSSARY_DIMS.keys()


# --- the reference, pinned against hand-written SQL ---------------------------------------

REGION_OF_CUSTOMER = """
    JOIN customer ON o_custkey = c_custkey
    JOIN nation ON c_nationkey = n_nationkey
    JOIN region ON n_regionkey = r_regionkey
"""


def pin(reference: Reference, con: duckdb.DuckDBPyConnection, query: Query, sql: str) -> None:
    """The reference's answer to `query` is the answer of `sql` (same columns, any order)."""
    expected = [tuple(row) for row in con.execute(sql).fetchall()]
    assert expected, "the hand-written SQL should find rows"
    assert_same(query, reference.evaluate(query), expected)


def test_reference_to_one_grouping(
    reference: Reference, tpch_sql: duckdb.DuckDBPyConnection
) -> None:
    query = Query(
        (Dim("customer_region"), Metric("order_count"), Metric("net_revenue")),
        (Cmp("=", d("market_segment"), Lit("BUILDING")),),
    )
    pin(
        reference,
        tpch_sql,
        query,
        f"""
        WITH o AS (
            SELECT r_name, count(*) AS n FROM orders {REGION_OF_CUSTOMER}
            WHERE c_mktsegment = 'BUILDING' GROUP BY r_name),
        l AS (
            SELECT r_name, sum(l_extendedprice * (1 - l_discount)) AS revenue
            FROM lineitem JOIN orders ON l_orderkey = o_orderkey {REGION_OF_CUSTOMER}
            WHERE c_mktsegment = 'BUILDING' GROUP BY r_name)
        SELECT coalesce(o.r_name, l.r_name), n, revenue FROM o FULL JOIN l USING (r_name)
        """,
    )


def test_reference_fan_out_grouping(
    reference: Reference, tpch_sql: duckdb.DuckDBPyConnection
) -> None:
    """Each order counted once per ship mode of its lines, never once per line."""
    query = Query((Dim("ship_mode"), Metric("order_count")))
    pin(
        reference,
        tpch_sql,
        query,
        """
        SELECT l_shipmode, count(DISTINCT o_orderkey)
        FROM orders LEFT JOIN lineitem ON l_orderkey = o_orderkey
        GROUP BY l_shipmode
        """,
    )
    total = sum(row[1] for row in reference.evaluate(query))
    assert total > len(reference.tables["orders"])  # an order has several modes
    assert total < len(reference.tables["lineitem"])  # but is not counted once per line


def test_reference_fan_out_filter(
    reference: Reference, tpch_sql: duckdb.DuckDBPyConnection
) -> None:
    """A condition on the lines of an order keeps the orders with at least one such line."""
    query = Query(
        (Dim("customer_region"), Metric("order_count")),
        (Cmp("=", d("ship_mode"), Lit("AIR")),),
    )
    pin(
        reference,
        tpch_sql,
        query,
        f"""
        SELECT r_name, count(*) FROM orders {REGION_OF_CUSTOMER}
        WHERE EXISTS (SELECT 1 FROM lineitem WHERE l_orderkey = o_orderkey AND l_shipmode = 'AIR')
        GROUP BY r_name
        """,
    )


def test_reference_two_levels_down_with_empty_side(
    reference: Reference, tpch_sql: duckdb.DuckDBPyConnection
) -> None:
    """Customers by the priority of their orders and the mode of their lines; customers who
    never ordered are one group of NULLs (LEFT JOIN)."""
    query = Query(
        (Dim("order_priority"), Dim("ship_mode"), Metric("customer_count")),
    )
    pin(
        reference,
        tpch_sql,
        query,
        """
        SELECT o_orderpriority, l_shipmode, count(DISTINCT c_custkey)
        FROM customer
        LEFT JOIN orders ON o_custkey = c_custkey
        LEFT JOIN lineitem ON l_orderkey = o_orderkey
        GROUP BY ALL
        """,
    )
    rows = reference.evaluate(query)
    assert (None, None, 50) in rows


def test_reference_filtered_metric_and_having(
    reference: Reference, tpch_sql: duckdb.DuckDBPyConnection
) -> None:
    """A filtered metric beside the unfiltered one, groups kept by a condition on a metric,
    and a metric grouped through the supplier's lines."""
    query = Query(
        (
            Dim("supplier_region"),
            Metric("order_count"),
            Metric("order_count", Cmp("=", d("ship_mode"), Lit("AIR")), "air_orders"),
            Metric("profit"),
        ),
        (Cmp(">=", d("order_date"), Lit(dt.date(1995, 1, 1))),),
        (Having("order_count", ">", 100),),
    )
    pin(
        reference,
        tpch_sql,
        query,
        """
        WITH lines AS (
            SELECT o_orderkey, r_name, l_shipmode,
                   l_extendedprice * (1 - l_discount) - ps_supplycost * l_quantity AS profit
            FROM lineitem
            JOIN orders ON l_orderkey = o_orderkey
            JOIN partsupp ON l_partkey = ps_partkey AND l_suppkey = ps_suppkey
            JOIN supplier ON l_suppkey = s_suppkey
            JOIN nation ON s_nationkey = n_nationkey
            JOIN region ON n_regionkey = r_regionkey
            WHERE o_orderdate >= DATE '1995-01-01')
        SELECT r_name, count(DISTINCT o_orderkey),
               count(DISTINCT o_orderkey) FILTER (WHERE l_shipmode = 'AIR'), sum(profit)
        FROM lines GROUP BY r_name HAVING count(DISTINCT o_orderkey) > 100
        """,
    )


def test_reference_supplier_through_its_lines(
    reference: Reference, tpch_sql: duckdb.DuckDBPyConnection
) -> None:
    query = Query((Dim("customer_region"), Metric("supplier_count")))
    pin(
        reference,
        tpch_sql,
        query,
        """
        SELECT r_name, count(DISTINCT s_suppkey)
        FROM supplier
        LEFT JOIN lineitem ON l_suppkey = s_suppkey
        LEFT JOIN orders ON l_orderkey = o_orderkey
        LEFT JOIN customer ON o_custkey = c_custkey
        LEFT JOIN nation ON c_nationkey = n_nationkey
        LEFT JOIN region ON n_regionkey = r_regionkey
        GROUP BY r_name
        """,
    )


def test_reference_order_and_limit(
    reference: Reference, tpch_sql: duckdb.DuckDBPyConnection
) -> None:
    query = Query(
        (Metric("line_count"), Dim("return_flag"), Dim("order_status")),
        order=(Order(3, descending=True, nulls_first=True), Order(2)),
        limit=4,
    )
    pin(
        reference,
        tpch_sql,
        query,
        """
        SELECT count(*), l_returnflag, o_orderstatus
        FROM lineitem JOIN orders ON l_orderkey = o_orderkey
        GROUP BY ALL
        ORDER BY 3 DESC NULLS FIRST, 2 ASC NULLS LAST
        LIMIT 4
        """,
    )


def test_the_data_meets_the_declared_keys(tpch_sql: duckdb.DuckDBPyConnection) -> None:
    for table, key in PRIMARY_KEYS.items():
        rows, distinct = tpch_sql.execute(
            f"SELECT count(*), count(DISTINCT ({key})) FROM {table}"
        ).fetchone() or (0, 0)
        assert rows == distinct > 0, table
