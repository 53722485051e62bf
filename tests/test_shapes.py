"""Plan shapes: the tree of nodes that `semantic.compiler.shape.shape_plan` decides for a
query (one SELECT, aggregates combined on keys, DISTINCT fan-out, windows and shifts over
periods), printed by `format_shape` and compared with tests/fixtures/shapes/<name>.txt.

The snapshots are the 14 TPC-H business queries (tests/fixtures/tpch/business-queries.yml)
and a few shapes they do not show. A change fails with a unified diff; after checking it,
regenerate them with the flag of the SQL goldens:

    .venv/bin/pytest tests/test_shapes.py --update-goldens
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from semantic.compiler.shape import format_shape, shape_plan
from semantic.files.atomic import write_atomically
from semantic.project import Project
from tests.conftest import FIXTURES
from tests.projects import write_project
from tests.soundness.test_self_relationships import GLOSSARY, MODEL, TABLES
from tests.test_time import GAPS_GLOSSARY, GAPS_MODEL
from tests.test_tpch import QUERIES
from tests.tiny_engines import tiny_project

SHAPES = FIXTURES / "shapes"

#: shapes the TPC-H business queries do not show, on the TPC-H project
MORE = {
    "window": "SELECT order_date.month, net_revenue, revenue_last_3_months "
    "WHERE order_date >= DATE '1994-01-01' AND order_date < DATE '1994-07-01' ORDER BY 1",
    "shift": "SELECT order_date.year, customer_region, revenue_growth ORDER BY 1, 2",
    "fill-null-grand-total": "SELECT net_revenue, order_count WHERE ship_mode = 'NONE'",
    "fan-out-distinct": "SELECT ship_mode, order_count, net_revenue ORDER BY 1",
}
#: shapes on the self-relationship project of tests/soundness/test_self_relationships.py
SELF = {"self-relationship": "SELECT mentor_name, mentor_country, author_count ORDER BY 1"}
#: a window over the rows of its periods (an average), on the project of tests/test_time.py
ROWS = {"window-over-rows": "SELECT day.month, trailing_avg ORDER BY 1"}
TRAILING_AVG = (
    "  avg_amount: {label: {en: Avg}, metric: {entity: sales, expr: avg(amount)}}\n"
    "  trailing_avg:\n    label: {en: Trailing avg}\n"
    "    metric: {expr: avg_amount, window: {time: day, last: 2, grain: month}}\n"
)


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return tiny_project(tmp_path_factory.mktemp("shapes"), MODEL, GLOSSARY, TABLES)


@pytest.fixture(scope="module")
def sales(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("shapes-sales")
    glossary = GAPS_GLOSSARY + TRAILING_AVG
    return Project.load(
        write_project(root, {"models/m.yml": GAPS_MODEL, "glossary/g.yml": glossary})
    )


def check(request: pytest.FixtureRequest, name: str, project: Project, query: str) -> None:
    text = f"# {query}\n{format_shape(shape_plan(project.plan(query)))}\n"
    path: Path = SHAPES / f"{name}.txt"
    if request.config.getoption("--update-goldens"):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, text)
        return
    assert path.exists(), f"{path} is missing: run pytest {__file__} --update-goldens"
    expected = path.read_text()
    if text != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            text.splitlines(keepends=True),
            f"{path.relative_to(FIXTURES.parent.parent)} (snapshot)",
            "shaped now",
        )
        pytest.fail(
            "plan shape differs from the snapshot (--update-goldens to accept):\n" + "".join(diff),
            pytrace=False,
        )


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_business_query_shapes(project: Project, request: pytest.FixtureRequest, name: str) -> None:
    check(request, name, project, QUERIES[name]["en"])


@pytest.mark.parametrize("name", sorted(MORE))
def test_more_shapes(project: Project, request: pytest.FixtureRequest, name: str) -> None:
    check(request, name, project, MORE[name])


@pytest.mark.parametrize("name", sorted(SELF))
def test_self_relationship_shape(
    people: Project, request: pytest.FixtureRequest, name: str
) -> None:
    check(request, name, people, SELF[name])


@pytest.mark.parametrize("name", sorted(ROWS))
def test_window_over_rows_shape(sales: Project, request: pytest.FixtureRequest, name: str) -> None:
    check(request, name, sales, ROWS[name])


def test_every_snapshot_belongs_to_a_query() -> None:
    known = {*QUERIES, *MORE, *SELF, *ROWS}
    stale = [p for p in SHAPES.glob("*.txt") if p.stem not in known]
    assert not stale, f"shape snapshots of no query: {stale}"


def test_rows_say_a_roles_rows_apart_from_per_entity_values(project: Project) -> None:
    """A role's restricted rows and the per-entity values read in their place both come
    from `Aggregate.restricted`, but mean different things: the shape names each."""
    query = QUERIES["q13"]["en"]
    owner = format_shape(shape_plan(project.plan(query)))
    assert "Rows of customer (customer, with per_1 = MEASURE(order_count)" in owner
    assert "restricted" not in owner
    emea = format_shape(shape_plan(project.plan(query, role="emea_analyst")))
    assert "Rows of customer (customer, restricted by role, with per_1 = " in emea
