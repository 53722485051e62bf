"""Differential property tests of four constructs of issue #13, each composed with the
ingredients of `test_differential.py` (dimensions reached through one-to-many paths, row
conditions, time grains, filtered metrics, conditions on metrics, ORDER BY and LIMIT) and
with each other, compiled and run on DuckDB, against the independent meaning of
`reference_constructs.py`:

- **ranks**: `RANK()`, `DENSE_RANK()` or `ROW_NUMBER()` `OVER (PARTITION BY dims ORDER BY
  key, dim)` over a query of the main generator (HAVING, aliases, parameters included), of
  the `via` generator, of the semi-additive one or of every period; the key a selected
  exact metric, one not selected, or a dimension (ties: every group of a flag); kept by
  `QUALIFY` (ties kept), the rank shown or written in QUALIFY only, then ORDER BY and
  LIMIT. Three pinned examples rank tied groups with each function;
- **every period**: `all_periods(time.grain)` (week to year, fiscal quarters) for metrics of
  every entity that reaches the time dimension (customers by the month of their orders
  too) and for semi-additive ones, with other dimensions, a coarser grain beside it,
  filtered metrics, conditions on metrics (read on the empty periods too), and conditions
  on the time dimension that bound the periods (`>=`, `>`, `<`, `<=`, `BETWEEN`, `.year =
  DATE ...`) or other conditions; pinned: no row at all in bounded periods;
- **semi-additive metrics**: last, first and average periods of sums and counts, over the
  order date and the ship and receipt dates of lines (and the order date of lines, a time
  dimension of another entity), under every grain or none, by other dimensions, beside
  additive metrics of the same entity, filtered, with row conditions, ordered and limited.
  TPC-H has no snapshot table, so the test project adds these metrics (`SEMI`) in a
  glossary file of its own, over the real rows;
- **via(term, through)**: the nation and region terms through an entity, a relationship or
  a term (`supplier`, `lineitem.supplier`, `supplier_name`, `supplier_nation`...), for
  metrics of every entity (on the many side: orders by the nation of their lines'
  suppliers), in SELECT, in WHERE (`via(customer_nation, supplier) = customer_nation`) and
  in a metric's FILTER, beside the term on its own path. Paths that would visit an entity
  twice, or mean another row than the reference's graph, are left out (`OFF_PATH`).

Found: a rank beside `all_periods(...)` without an alias gave SQL the engine refused, and
one partitioned by the spine's term was refused (fixed; tests/soundness/test_empty_periods.py).
The same constructs run on SQLite (and PostgreSQL with SEMANTIC_TEST_POSTGRES) in
test_constructs_engines.py, fewer examples each. Not covered: windows and shifts with
`all_periods` (test_windows.py has windows).

Derandomized examples: 25 per construct in `make test` (about 100 in all, some 20 s), 100
each in `make test-all`; SEMANTIC_DIFFERENTIAL_CONSTRUCTS sets the number per construct.
Every mismatch found is pinned with `@example` and its fix, in the docs or in src/, has
a test in tests/soundness/.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from semantic import Project
from semantic.errors import SemanticError
from tests.budget import examples
from tests.differential.conftest import Subject
from tests.differential.reference import (
    LEVELS,
    METRICS,
    Cmp,
    D,
    Dim,
    Expr,
    Having,
    In,
    Lit,
    Metric,
    Order,
    Query,
    Reference,
    metric_entities,
    reachable,
)
from tests.differential.reference_constructs import (
    OFF_PATH,
    SEMI,
    VIA,
    Bound,
    Key,
    Rank,
    Ranked,
    Spine,
    by_keys,
    evaluate_ranked,
    evaluate_semi,
    evaluate_spine,
    exact,
    semi_glossary,
    via,
    with_via,
)
from tests.differential.test_differential import (
    CONDITIONS,
    DIMENSIONS,
    GLOSSARY_DIMS,
    METRIC_TERMS,
    THRESHOLDS,
    allowed_nodes,
    d,
    differences,
    fits,
    queries,
    rows_of,
)

EXAMPLES = examples(full=100, fast=25, variable="SEMANTIC_DIFFERENTIAL_CONSTRUCTS")
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


@pytest.fixture(scope="module")
def project(tpch_project: Project, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The test project with the semi-additive metrics of SEMI in a glossary file."""
    root = tmp_path_factory.mktemp("tpch-constructs")
    for item in ("models", "glossary", "semantic.yml"):
        source = tpch_project.root / item
        if source.is_dir():
            shutil.copytree(source, root / item)
        else:
            shutil.copy(source, root / item)
    (root / "glossary" / "constructs.yml").write_text(semi_glossary())
    return Project.load(Path(root))


@pytest.fixture(scope="module")
def both(project: Project, reference: Reference) -> Subject:
    """The project with SEMI, and the reference knowing the `via(...)` dimensions (shown
    briefly: hypothesis prints a failing example's arguments)."""
    return Subject(project, with_via(reference))


def node(dim: Dim) -> str:
    if dim.term.startswith("via("):
        return next(info.node for (t, th), info in VIA.items() if via(t, th) == dim)
    return GLOSSARY_DIMS[dim.term].node


def fit(expr: Expr | Dim, nodes: frozenset[str]) -> bool:
    dims = {expr} if isinstance(expr, Dim) else expr.dims()
    return all(node(dim) in nodes for dim in dims)


def total_order(draw: st.DrawFn, columns: tuple[Any, ...]) -> tuple[Order, ...]:
    """Every dimension, in any order and direction (NULL last): one answer for LIMIT."""
    positions = [i + 1 for i, c in enumerate(columns) if isinstance(c, Dim)]
    return tuple(Order(p, draw(st.booleans())) for p in draw(st.permutations(positions)))


def ordered(query: Query, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """`rows` in the query's ORDER BY (NULLS LAST everywhere), then LIMIT."""
    keys = tuple(Key("", o.position - 1, o.descending) for o in query.order)
    rows = sorted(rows, key=functools.cmp_to_key(functools.partial(by_keys, keys)))
    return rows if query.limit is None else rows[: query.limit]


# --- ranks ----------------------------------------------------------------------------------

FUNCTIONS = ("RANK", "DENSE_RANK", "ROW_NUMBER")
FEW_VALUES = (
    Dim("return_flag"),
    Dim("order_status"),
    Dim("customer_region"),
    Dim("supplier_region"),
    Dim("market_segment"),
    Dim("order_date", "year"),
)


@st.composite
def ranked_queries(draw: st.DrawFn) -> Ranked:
    # a query of the main generator, or one with paths chosen, or with semi-additive metrics
    source = draw(st.sampled_from(["main", "main", "via", "semi", "spine"]))
    spine: Spine | None = None
    bounds: tuple[Bound, ...] = ()
    if source == "spine":
        plain, spine, bounds = draw(spine_queries())
        base = spine_text(plain, spine)
    else:
        base = draw({"main": queries(), "via": via_queries(), "semi": semi_queries()}[source])
    dims = [i for i, c in enumerate(base.columns) if isinstance(c, Dim)]
    if not dims:
        column = draw(st.sampled_from([c for c in DIMENSIONS if fits(c, _nodes(base))]))
        base = dataclasses.replace(base, columns=(column, *base.columns), aliases=())
        dims = [0]
    coarse = [
        c
        for c in FEW_VALUES
        if fits(c, _nodes(base)) and c not in base.columns and (not spine or c.term != spine.term)
    ]
    if len(dims) == 1 and coarse and draw(st.booleans()):
        # a second dimension of few values: groups that tie, ranked within or across it
        column = draw(st.sampled_from(coarse))
        aliases = (*base.aliases, None) if base.aliases else ()
        trial = dataclasses.replace(base, columns=(*base.columns, column), aliases=aliases)
        names = [trial.output_name(i).strip('"').casefold() for i in range(len(trial.columns))]
        if len(set(names)) == len(names):
            base, dims = trial, [*dims, len(base.columns)]
    base = dataclasses.replace(base, order=(), limit=None, offset=None, group_by=None)
    # the spine's column is named by its term at its grain (`order_date.month`)
    names = [
        c.plain.sql if isinstance(c, Spine) else base.output_name(i)
        for i, c in enumerate(base.columns)
    ]
    partition = tuple(
        (names[i], i) for i in draw(st.lists(st.sampled_from(dims), max_size=2, unique=True))
    )
    # the metrics a rank may order by: selected exact ones, or one of an entity the query
    # already reads (so that it adds no group), not selected
    selected = [
        i
        for i, c in enumerate(base.columns)
        if isinstance(c, Metric) and not c.by_hand and exact_term(c.term)
    ]
    entities = frozenset().union(*(entities_of(c.term) for c in base.metrics if c.filter is None))
    taken = {n.strip('"').casefold() for n in names} | {c.term for c in base.metrics}
    hidden_pool = [
        t
        for t in METRIC_TERMS
        if exact(t) and METRICS[t].entity in entities and t.casefold() not in taken
    ]
    hidden = None
    # a dimension not partitioned by, first, makes ties (every group of a ship mode)
    free = [i for i in dims if i not in {p for _, p in partition}]
    kinds = [
        k
        for k, pool in (
            ("dim", free if len(dims) > 1 else []),
            ("shown", selected),
            ("hidden", hidden_pool),
        )
        if pool
    ]
    kind = draw(st.sampled_from(kinds)) if kinds else "any"
    if kind == "hidden":
        hidden = draw(st.sampled_from(hidden_pool))
        first = Key(hidden, len(base.columns), draw(st.booleans()))
    else:
        which = draw(st.sampled_from({"dim": free, "shown": selected, "any": dims}[kind]))
        first = Key(names[which], which, draw(st.booleans()))
    keys: tuple[Key, ...] = (first,)
    if draw(st.sampled_from([False, True, False])):
        second = draw(st.sampled_from(dims))
        keys += (Key(names[second], second, draw(st.booleans())),)
    rank = Rank(draw(st.sampled_from(FUNCTIONS)), partition, keys)
    qualify = draw(st.sampled_from([("<=", 3), ("=", 1), ("<=", 1), ("<", 3), None]))
    shown = qualify is None or draw(st.sampled_from([True, True, False]))
    width = len(base.columns) + (1 if shown else 0)
    order: tuple[tuple[int, bool], ...] = ()
    limit = None
    if draw(st.booleans()):
        if shown and draw(st.booleans()):
            order += ((width - 1, False),)
        order += tuple((i, draw(st.booleans())) for i in draw(st.permutations(dims)))
        if draw(st.booleans()):
            limit = draw(st.integers(1, 12))
    return Ranked(base, rank, qualify, shown, "r", hidden, order, limit, bounds)


def _nodes(query: Query) -> frozenset[str]:
    return frozenset.intersection(*(nodes_of(m.term) for m in query.metrics))


def entities_of(term: str) -> frozenset[str]:
    return frozenset({SEMI[term].entity}) if term in SEMI else metric_entities(term)


def exact_term(term: str) -> bool:
    """A metric a rank may order by: a count or a sum, not an average (whose last digit
    may differ, and decide a tie)."""
    return exact(term) or (term in SEMI and SEMI[term].period_value != "average")


def _ties(function: str) -> Ranked:
    """Groups that tie on the rank's first key: lines by return flag and order status,
    ranked by flag within the customer's region, three kept (ties kept)."""
    base = Query(
        (Dim("customer_region"), Dim("return_flag"), Dim("order_status"), Metric("line_count"))
    )
    rank = Rank(function, (("customer_region", 0),), (Key("return_flag", 1, True),))
    return Ranked(base, rank, ("<=", 3), order=((0, False), (4, False), (1, False), (2, False)))


@SETTINGS
@given(ranked=ranked_queries())
@example(ranked=_ties("RANK"))
@example(ranked=_ties("DENSE_RANK"))
@example(ranked=_ties("ROW_NUMBER"))
def test_ranks_agree_with_the_reference(both: Subject, ranked: Ranked) -> None:
    shape, text, params, expected = ranks_case(both, ranked)
    check(shape, text, params, answer(both.project, text, params), expected)


#: what a construct's test compares: the query's shape (its keys, whether ordered), its text,
#: its parameters, the reference's rows
Case = tuple[Query, str, dict[str, Any], list[tuple[Any, ...]]]


def ranks_case(both: Subject, ranked: Ranked) -> Case:
    reference = both.reference
    note(f"query: {ranked.text}")
    # compared as a query whose keys are the base's dimensions, in order when ordered
    columns = (*ranked.base.columns, *((Metric("r"),) if ranked.shown else ()))
    shape = Query(columns, order=(Order(1),) if ranked.order else ())
    params = ranked.base.params
    spine = next((c for c in ranked.base.columns if isinstance(c, Spine)), None)
    if spine is not None:

        def periods(query: Query) -> list[tuple[Any, ...]]:
            columns = tuple(c.plain if isinstance(c, Spine) else c for c in query.columns)
            plain = dataclasses.replace(query, columns=columns)
            return evaluate_spine(reference, plain, spine, ranked.bounds)

        expected = evaluate_ranked(reference, ranked, periods)
    elif any(m.term in SEMI for m in ranked.base.metrics):
        expected = evaluate_ranked(reference, ranked, functools.partial(evaluate_semi, reference))
    else:
        expected = evaluate_ranked(reference, ranked, reference.evaluate)
    return shape, ranked.text, params, expected


# --- comparing --------------------------------------------------------------------------------


def answer(project: Project, text: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    try:
        return rows_of(project.query(text, params))
    except SemanticError as exc:
        codes = ", ".join(d.code for d in exc.diagnostics)
        pytest.fail(f"{text}\nparams: {params}\nrefused: {codes}\n{exc}", pytrace=False)


def check(
    shape: Query,
    text: str,
    params: dict[str, Any],
    actual: list[tuple[Any, ...]],
    expected: list[tuple[Any, ...]],
) -> None:
    """The rows agree (`shape` says which columns are keys, and whether order counts)."""
    problems = differences(shape, actual, expected)
    if problems:
        shown = "\n  ".join(sorted(problems)[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        pytest.fail(
            f"{text}\nparams: {params}\n"
            f"{len(actual)} rows, expected {len(expected)}:\n  {shown}{more}",
            pytrace=False,
        )


# --- every period ---------------------------------------------------------------------------

#: time dimension -> the grains a spine is drawn at
SPINES = {
    "order_date": ("week", "month", "quarter", "year", "fiscal_quarter"),
    "ship_date": ("month", "quarter", "year"),
}
#: conditions on the time dimension that bound the periods shown
BOUNDS = tuple(
    bound
    for time in SPINES
    for bound in (
        Bound(time, ">=", dt.date(1994, 3, 15)),
        Bound(time, ">", dt.date(1995, 5, 31)),
        Bound(time, "<", dt.date(1996, 1, 1)),
        Bound(time, "<=", dt.date(1995, 2, 10)),
        Bound(time, "between", dt.date(1993, 11, 2), dt.date(1994, 7, 20)),
        Bound(time, "=", dt.date(1995, 1, 1), grain="year"),
    )
)


def coarser(time: str, grain: str) -> list[Dim]:
    """The grains of `time` coarser than `grain` a query may select beside its spine."""
    found = {"week": [], "month": ["quarter", "year"], "quarter": ["year"], "year": []}
    found["fiscal_quarter"] = ["fiscal_year"]
    return [Dim(time, g) for g in found[grain]]


@st.composite
def spine_queries(draw: st.DrawFn) -> tuple[Query, Spine, tuple[Bound, ...]]:
    time = draw(st.sampled_from(sorted(SPINES)))
    spine = Spine(time, draw(st.sampled_from(SPINES[time])))
    semis = [t for t, x in SEMI.items() if node(spine) in LEVELS[x.entity][0]]
    if draw(st.sampled_from([False, True, False])):
        # a semi-additive metric by every period: its dimensions to-one only (SEM359)
        chosen = [draw(st.sampled_from(semis))]
        entity = SEMI[chosen[0]].entity
        if draw(st.booleans()):
            chosen.append("line_count" if entity == "lineitem" else "order_value")
    else:
        terms = [
            t for t in METRIC_TERMS if all(node(spine) in reachable(e) for e in metric_entities(t))
        ]
        n = draw(st.sampled_from([1, 2]))
        chosen = draw(st.lists(st.sampled_from(terms), min_size=n, max_size=n, unique=True))
    nodes = frozenset.intersection(*(nodes_of(t) for t in chosen))
    metrics = [Metric(t) for t in chosen]
    others = [c for c in CONDITIONS if fits(c, nodes) and all(x.term != time for x in c.dims())]
    if draw(st.sampled_from([False, True, False])):
        term = draw(st.sampled_from(chosen))
        pool = [c for c in others if fits(c, nodes_of(term))]
        metrics.append(Metric(term, draw(st.sampled_from(pool)), f"filtered_{term}"))
    columns: list[Dim | Metric] = [spine.plain]
    if draw(st.sampled_from([False, True, False])) and coarser(time, spine.grain or ""):
        columns.append(draw(st.sampled_from(coarser(time, spine.grain or ""))))
    pool_dims = [x for x in DIMENSIONS if fits(x, nodes) and x.term != time]
    if draw(st.sampled_from([False, True])):
        columns.append(draw(st.sampled_from(pool_dims)))
    columns = [*draw(st.permutations(columns)), *metrics]
    bounds = tuple(
        draw(st.lists(st.sampled_from([b for b in BOUNDS if b.term == time]), max_size=2))
    )
    where: list[Expr] = [b.condition() for b in bounds]
    if draw(st.booleans()):
        where.append(draw(st.sampled_from(others)))
    having: tuple[Having, ...] = ()
    if draw(st.sampled_from([False, True, False])) and chosen[-1] in THRESHOLDS:
        term = chosen[-1]
        op = draw(st.sampled_from(["<", ">=", "<=", ">"]))
        threshold = draw(st.sampled_from(THRESHOLDS[term]))
        having = (Having(term, op, threshold, in_where=draw(st.booleans())),)
    query = Query(tuple(columns), tuple(where), having)
    if draw(st.booleans()):
        query = dataclasses.replace(
            query, order=total_order(draw, query.columns), limit=draw(st.sampled_from([None, 10]))
        )
    return query, spine, bounds


def nodes_of(term: str) -> frozenset[str]:
    """The nodes a metric may be grouped or filtered by: to-one only for a semi-additive one."""
    if term in SEMI:
        return LEVELS[SEMI[term].entity][0]
    return allowed_nodes([term], fanout=True)


def spine_text(query: Query, spine: Spine) -> Query:
    """The query with its spine's dimension written `all_periods(...)`."""
    columns = tuple(spine if c == spine.plain else c for c in query.columns)
    return dataclasses.replace(query, columns=columns)


#: found by this test: no row at all meets the conditions, and without other dimensions every
#: period the conditions allow is still shown (as a query without dimensions has its row)
SHIPPED_1994 = Bound("ship_date", "between", dt.date(1993, 11, 2), dt.date(1994, 7, 20))
NO_ROWS_BOUNDED = (
    Query(
        (Dim("ship_date", "month"), Metric("order_count")),
        (
            SHIPPED_1994.condition(),
            Cmp("=", d("order_date", func="year"), Lit(1996)),
        ),
    ),
    Spine("ship_date", "month"),
    (SHIPPED_1994,),
)


@SETTINGS
@given(case=spine_queries())
@example(case=NO_ROWS_BOUNDED)
def test_every_period_agrees_with_the_reference(
    both: Subject, case: tuple[Query, Spine, tuple[Bound, ...]]
) -> None:
    shape, text, params, expected = spine_case(both, case)
    check(shape, text, params, answer(both.project, text, params), expected)


def spine_case(both: Subject, case: tuple[Query, Spine, tuple[Bound, ...]]) -> Case:
    query, spine, bounds = case
    shown = spine_text(query, spine)
    note(f"query: {shown.text}")
    expected = ordered(query, evaluate_spine(both.reference, query, spine, bounds))
    return shown, shown.text, shown.params, expected


# --- semi-additive metrics ------------------------------------------------------------------


@st.composite
def semi_queries(draw: st.DrawFn) -> Query:
    entity = draw(st.sampled_from(["orders", "lineitem"]))
    semis = [t for t, s in SEMI.items() if s.entity == entity]
    n = draw(st.sampled_from([1, 2]))
    chosen = draw(st.lists(st.sampled_from(semis), min_size=n, max_size=n, unique=True))
    metrics = [Metric(t) for t in chosen]
    nodes = LEVELS[entity][0]  # a dimension on the many side is refused (SEM359)
    conditions = [c for c in CONDITIONS if fits(c, nodes)]
    if draw(st.booleans()):
        additive = [t for t in METRIC_TERMS if t in METRICS and METRICS[t].entity == entity]
        metrics.append(Metric(draw(st.sampled_from(additive))))
    if draw(st.sampled_from([False, True, False])):
        term = draw(st.sampled_from(semis))
        metrics.append(Metric(term, draw(st.sampled_from(conditions)), f"filtered_{term}"))
    times = [Dim(SEMI[chosen[0]].time, g) for g in ("day", "month", "quarter", "year")]
    pool = [x for x in (*DIMENSIONS, *times) if fits(x, nodes)]
    n = draw(st.sampled_from([1, 0, 2]))
    dims = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n, unique=True))
    where = draw(st.lists(st.sampled_from(conditions), max_size=1))
    columns: tuple[Dim | Metric, ...] = tuple(draw(st.permutations([*dims, *metrics])))
    query = Query(columns, tuple(where))
    if draw(st.booleans()) and dims:
        query = dataclasses.replace(
            query, order=total_order(draw, columns), limit=draw(st.sampled_from([None, 4]))
        )
    return query


@SETTINGS
@given(query=semi_queries())
def test_semi_additive_metrics_agree_with_the_reference(both: Subject, query: Query) -> None:
    shape, text, params, expected = semi_case(both, query)
    check(shape, text, params, answer(both.project, text, params), expected)


def semi_case(both: Subject, query: Query) -> Case:
    note(f"query: {query.text}")
    plain = dataclasses.replace(query, order=(), limit=None)
    return query, query.text, query.params, ordered(query, evaluate_semi(both.reference, plain))


# --- via --------------------------------------------------------------------------------------


@st.composite
def via_queries(draw: st.DrawFn) -> Query:
    n = draw(st.sampled_from([1, 2]))
    terms = draw(st.lists(st.sampled_from(METRIC_TERMS), min_size=n, max_size=n, unique=True))
    nodes = allowed_nodes(terms, fanout=True)
    entities = frozenset().union(*(metric_entities(t) for t in terms))
    vias = [
        via(t, th)
        for t, th in VIA
        if fit(via(t, th), nodes) and not any((e, th) in OFF_PATH for e in entities)
    ]
    plain = [x for x in DIMENSIONS if fit(x, nodes)]
    dims = [draw(st.sampled_from(vias))]
    if draw(st.booleans()):
        dims.append(draw(st.sampled_from([x for x in (*vias, *plain) if x not in dims])))
    chosen = draw(st.sampled_from(vias))
    pairs = {
        "nation": ("customer_nation", "supplier_nation"),
        "region": ("customer_region", "supplier_region"),
    }
    kind = "nation" if node(chosen).endswith("nation") else "region"
    values = {"nation": ("FRANCE", "GERMANY", "CHINA"), "region": ("ASIA", "EUROPE")}[kind]
    via_conditions: list[Expr] = [
        *(Cmp("=", D(chosen), d(t)) for t in pairs[kind] if fit(Dim(t), nodes)),
        Cmp("<>", D(chosen), Lit(values[0])),
        In(D(chosen), values),
    ]
    others = [c for c in CONDITIONS if fit(c, nodes) and not c.params()]
    where: list[Expr] = []
    if draw(st.booleans()):
        where.append(draw(st.sampled_from(via_conditions)))
    if draw(st.sampled_from([False, True, False])):
        where.append(draw(st.sampled_from(others)))
    metrics = [Metric(t) for t in terms]
    if draw(st.sampled_from([False, True, False])):
        term = draw(st.sampled_from(terms))
        pool = [c for c in via_conditions if fit(c, allowed_nodes([term], fanout=True))]
        metrics.append(Metric(term, draw(st.sampled_from(pool)), f"filtered_{term}"))
    columns: tuple[Dim | Metric, ...] = tuple(draw(st.permutations([*dims, *metrics])))
    # GROUP BY names the same path: by position, or as written (`via(...)`)
    query = Query(columns, tuple(where), group_by=draw(st.sampled_from([None, True, False])))
    if draw(st.booleans()):
        query = dataclasses.replace(
            query, order=total_order(draw, columns), limit=draw(st.sampled_from([None, 5]))
        )
    return query


@SETTINGS
@given(query=via_queries())
def test_chosen_paths_agree_with_the_reference(both: Subject, query: Query) -> None:
    shape, text, params, expected = via_case(both, query)
    check(shape, text, params, answer(both.project, text, params), expected)


def via_case(both: Subject, query: Query) -> Case:
    note(f"query: {query.text}")
    return query, query.text, query.params, both.reference.evaluate(query)
