"""The functions a business query may call: each one listed runs, on every engine that runs
here, and the documentation lists exactly them."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from pathlib import Path
from typing import Any

import pytest

from semantic.compiler.allow import FUNCTIONS
from semantic.engines.postgres import PostgresEngine
from semantic.errors import SemanticError
from semantic.project import Project

ROOT = Path(__file__).resolve().parents[1]


def query_of(example: str) -> str:
    return f"SELECT {example} AS x, order_count ORDER BY 1 LIMIT 3"


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_listed_function_runs(project: Project, name: str) -> None:
    assert re.search(rf"\b{name}\b", FUNCTIONS[name], re.IGNORECASE)
    assert project.query(query_of(FUNCTIONS[name])).num_rows > 0


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_listed_function_gives_the_same_on_postgres(
    project: Project, postgres_engine: PostgresEngine, name: str
) -> None:
    query = query_of(FUNCTIONS[name])
    try:
        there = project.query(query, engine=postgres_engine)
    except SemanticError as exc:  # a dialect may refuse what it cannot compute as DuckDB does
        assert exc.code in ("SEM316", "SEM317"), exc
        return
    here = project.query(query)
    assert [comparable(r) for r in there.to_pylist()] == [comparable(r) for r in here.to_pylist()]


def comparable(row: dict[str, Any]) -> list[Any]:
    """A row's values, compared as the same value whatever each engine's type: floats to 12
    digits, a timestamp at midnight as its date (PostgreSQL truncates dates to timestamps)."""
    values: list[Any] = []
    for value in row.values():
        if isinstance(value, (float, decimal.Decimal)):
            value = float(f"{float(value):.12g}")
        elif isinstance(value, dt.datetime) and value.time() == dt.time(0):
            value = value.date()
        values.append(value)
    return values


def test_the_documentation_lists_every_function() -> None:
    doc = (ROOT / "docs" / "query-language.md").read_text()
    section = doc[doc.index("## What is allowed") : doc.index("## What is refused")]
    listed = [
        n
        for row in re.findall(r"^\| [a-z ]+ \| (.*) \|$", section, re.M)
        for n in re.findall(r"`(\w+)`", row)
    ]
    assert listed == list(FUNCTIONS)
