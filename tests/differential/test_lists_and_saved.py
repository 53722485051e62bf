"""Differential property tests of two more constructs, against the meaning of
`reference_listing.py`, on DuckDB and on SQLite (and PostgreSQL with SEMANTIC_TEST_POSTGRES):

- **lists of values**: dimensions and no metric (`compiler.listing`), one to three of them
  (metrics per entity and their bands among them), under row conditions of the main
  generator's pools (on metrics per entity and on grand totals too, some true of every
  row), maybe with a grand total alone in a condition (`MEASURE(net_revenue) PER (ALL) >
  0`: on the groups, computed under the other conditions, all of the list or none of it,
  whose metric never says whose rows are listed), ordered and limited or not; a query
  whose terms no one entity reaches through to-one relationships is refused (SEM371), as
  the reference decides;
- **saved per-entity terms**: the main generator's queries (`test_differential.queries`)
  with each metric per entity, in SELECT, in a band or in a row condition, read through a
  glossary dimension that holds it (`MEASURE(m) PER (customer)` saved as a term of
  `customer`): the same rows as the expression written in the query.

Derandomized examples: 20 per construct and engine in `make test`, 100 in `make test-all`;
SEMANTIC_DIFFERENTIAL_CONSTRUCTS sets the number.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from semantic import Project
from semantic.errors import SemanticError
from tests.budget import examples
from tests.differential.conftest import Subject
from tests.differential.grain_queries import (
    AIR,
    GRAND_CONDITIONS,
    PER_CONDITIONS,
    PER_DIMS,
    per_entity,
)
from tests.differential.reference import METRICS, Cmp, D, Dim, Expr, Lit, Order, Query, Reference
from tests.differential.reference_grain import GrainReference
from tests.differential.reference_listing import (
    TO_ONE,
    GroupTotal,
    as_saved,
    evaluate_listing,
    per_values,
    saved_glossary,
    saved_name,
)
from tests.differential.test_constructs import ordered
from tests.differential.test_differential import CONDITIONS, DIMENSIONS, node, queries, rows_of
from tests.differential.test_engines import Target, check, postgres, run_on, sqlite

__all__ = ["postgres", "sqlite"]  # the engines' fixtures, used by name

EXAMPLES = examples(full=100, fast=20, variable="SEMANTIC_DIFFERENTIAL_CONSTRUCTS")
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)

#: every metric per entity the main generator draws, each saved as a glossary term
SAVED = {per: saved_name(i) for i, per in enumerate(per_values([*PER_DIMS, *PER_CONDITIONS]))}
SAVED_CONDITIONS = [*PER_CONDITIONS, *GRAND_CONDITIONS]


@pytest.fixture(scope="module")
def project(tpch_project: Project, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The test project with the saved per-entity terms in a glossary file."""
    root = tmp_path_factory.mktemp("tpch-saved")
    for item in ("models", "glossary", "semantic.yml"):
        source = tpch_project.root / item
        if source.is_dir():
            shutil.copytree(source, root / item)
        else:
            shutil.copy(source, root / item)
    (root / "glossary" / "saved.yml").write_text(saved_glossary(list(SAVED)))
    return Project.load(Path(root))


@pytest.fixture(scope="module")
def both(project: Project, reference: Reference) -> Subject:
    return Subject(project, reference)


@pytest.fixture(params=["duckdb", "sqlite", "postgres"])
def target(request: pytest.FixtureRequest, project: Project) -> Iterator[Target]:
    """The engine a test runs on: DuckDB (the project's own), SQLite, PostgreSQL."""
    if request.param == "duckdb":
        engine = project.engine
        yield Target("duckdb", lambda sql, params: rows_of(engine.execute(sql, params)))
    else:
        yield request.getfixturevalue(request.param)


# --- lists of values --------------------------------------------------------------------------

LIST_DIMS: tuple[Dim, ...] = (*DIMENSIONS, *PER_DIMS)
#: values per entity true of every row of their entity: they list what the query would
#: without them, among the rows of that entity
EVERY_ROW: tuple[Expr, ...] = (
    Cmp(">=", D(per_entity("order_count", "customer")), Lit(0)),
    Cmp(">=", D(per_entity("line_count", "orders", AIR)), Lit(0)),
)
LIST_CONDITIONS = (*CONDITIONS, *SAVED_CONDITIONS, *EVERY_ROW)


def _group(metric: str, beside: str, op: str, value: object, keep: Expr | None = None) -> Expr:
    return Cmp(op, D(GroupTotal(beside, metric=metric, filter=keep)), Lit(value))


#: grand totals alone in a condition (on the groups: the metric under the other conditions),
#: true or false; the reference reads their metric over rows that reach the other
#: conditions' terms to-one
GROUP_CONDITIONS: tuple[Expr, ...] = (
    _group("net_revenue", "line_quantity", ">", 0),
    _group("line_count", "line_quantity", ">=", 0),
    _group("net_revenue", "line_quantity", ">", Decimal("1000000.5"), AIR),
    _group("average_quantity", "line_quantity", "<", 10),
    _group("order_count", "order_priority", ">", 100),
)


def _metric_of(condition: Expr) -> str:
    (total,) = condition.dims()
    assert isinstance(total, GroupTotal)
    return total.metric


@st.composite
def listing_queries(draw: st.DrawFn) -> Query:
    """Dimensions alone: mostly of the terms one entity reaches to-one, sometimes any."""
    entity = draw(st.sampled_from(sorted(TO_ONE)))
    near = draw(st.sampled_from([True, True, True, False]))
    dim_pool = [x for x in LIST_DIMS if not near or node(x) in TO_ONE[entity]]
    n = min(len(dim_pool), draw(st.sampled_from([1, 2, 3])))
    dims = draw(st.lists(st.sampled_from(dim_pool), min_size=n, max_size=n, unique=True))
    cond_pool = [
        c for c in LIST_CONDITIONS if not near or all(node(x) in TO_ONE[entity] for x in c.dims())
    ]
    n = min(len(cond_pool), draw(st.sampled_from([0, 1, 2])))
    where = draw(st.lists(st.sampled_from(cond_pool), min_size=n, max_size=n, unique=True))
    read = {node(x) for c in where for x in c.dims()}
    groups = [c for c in GROUP_CONDITIONS if read <= TO_ONE[METRICS[_metric_of(c)].entity]]
    if groups and draw(st.sampled_from([False, False, True])):
        at = draw(st.integers(0, len(where)))
        where.insert(at, draw(st.sampled_from(groups)))
    aliases = tuple(f"per_key_{i}" if type(x) is not Dim else None for i, x in enumerate(dims))
    order: tuple[Order, ...] = ()
    limit = None
    if draw(st.booleans()):
        positions = draw(st.permutations(range(1, len(dims) + 1)))
        order = tuple(Order(p, draw(st.booleans())) for p in positions)
        limit = draw(st.sampled_from([None, 3, 10]))
    return Query(
        tuple(dims),
        tuple(where),
        order=order,
        limit=limit,
        aliases=aliases if any(aliases) else (),
    )


@SETTINGS
@given(query=listing_queries())
def test_lists_of_values_agree_with_the_reference(
    both: Subject, target: Target, query: Query
) -> None:
    reference = both.reference
    assert isinstance(reference, GrainReference)
    note(f"query: {query.text}")
    expected = evaluate_listing(reference, query)
    if expected is None:
        with pytest.raises(SemanticError) as refused:
            both.project.compile(query.text, target.dialect)
        assert refused.value.code == "SEM371", refused.value
        return
    if query.order:
        expected = ordered(query, expected)
    check(target, query, run_on(target, both.project, query), expected)


# --- saved per-entity terms -------------------------------------------------------------------


@SETTINGS
@given(query=queries())
def test_saved_per_entity_terms_agree_with_the_reference(
    both: Subject, target: Target, query: Query
) -> None:
    saved = as_saved(query, SAVED)
    assume(saved != query)  # a query without a metric per entity says nothing here
    note(f"query: {saved.text}")
    note(f"params: {saved.params}")
    check(target, saved, run_on(target, both.project, saved), both.reference.evaluate(query))
