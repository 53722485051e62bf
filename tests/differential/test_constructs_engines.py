"""The constructs of `test_constructs.py` (ranks, every period, semi-additive metrics, chosen
paths) on the other engines: compiled for SQLite (and PostgreSQL with
SEMANTIC_TEST_POSTGRES), run there over the same TPC-H tables, compared with the same
reference rows by the rules of `test_engines.py` (SQLite holds dates as text and decimals
as REAL).

DuckDB runs the most examples (`test_constructs.py`); here a few per construct and engine:
6 in `make test`, 40 in `make test-all` (SEMANTIC_DIFFERENTIAL_ENGINE_CONSTRUCTS sets it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.budget import examples
from tests.differential.conftest import Subject
from tests.differential.reference import Query
from tests.differential.reference_constructs import Bound, Ranked, Spine
from tests.differential.test_constructs import (
    Case,
    both,
    project,
    ranked_queries,
    ranks_case,
    semi_case,
    semi_queries,
    spine_case,
    spine_queries,
    via_case,
    via_queries,
)
from tests.differential.test_engines import Target, check, postgres, sqlite

__all__ = ["both", "postgres", "project", "sqlite"]  # fixtures, used by name

SETTINGS = settings(
    max_examples=examples(full=40, fast=6, variable="SEMANTIC_DIFFERENTIAL_ENGINE_CONSTRUCTS"),
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


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    yield request.getfixturevalue(request.param)


def agrees(target: Target, subject: Subject, case: Case) -> None:
    shape, text, params, expected = case
    sql = subject.project.compile(text, target.dialect, pretty=False)
    rows: Any = target.execute(sql, params)
    check(target, shape, rows, expected)


@SETTINGS
@given(ranked=ranked_queries())
def test_ranks_agree_on_other_engines(target: Target, both: Subject, ranked: Ranked) -> None:
    agrees(target, both, ranks_case(both, ranked))


@SETTINGS
@given(case=spine_queries())
def test_every_period_agrees_on_other_engines(
    target: Target, both: Subject, case: tuple[Query, Spine, tuple[Bound, ...]]
) -> None:
    agrees(target, both, spine_case(both, case))


@SETTINGS
@given(query=semi_queries())
def test_semi_additive_metrics_agree_on_other_engines(
    target: Target, both: Subject, query: Query
) -> None:
    agrees(target, both, semi_case(both, query))


@SETTINGS
@given(query=via_queries())
def test_chosen_paths_agree_on_other_engines(target: Target, both: Subject, query: Query) -> None:
    agrees(target, both, via_case(both, query))
