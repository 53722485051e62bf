"""The dialect pass as data: tests/fixtures/passes/adapt.sql holds DuckDB SQL and what each
dialect gets from `semantic.compiler.dialects.to_sql` (sqlglot's own optimizer fixtures are
the model). A pure pass, so its cases are pairs of text; what each rewrite means on the real
engines is run by tests/soundness/test_function_meaning.py.

    .venv/bin/pytest tests/test_dialect_pass.py --update-goldens
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlglot

from semantic.compiler.dialects import to_sql
from semantic.errors import SemanticError
from semantic.files.atomic import write_atomically
from tests.conftest import FIXTURES

CASES_FILE = FIXTURES / "passes" / "adapt.sql"


@dataclass(frozen=True)
class Case:
    """One case of the fixture file: its dialect, DuckDB SQL, expected text and line."""

    dialect: str
    source: str
    expected: str
    line: int


def read_cases(path: Path) -> tuple[str, list[Case]]:
    """The header comment of the fixture file and its cases, in order."""
    text = path.read_text(encoding="utf-8")
    header, _, body = text.partition("\n\n")
    cases = []
    line = header.count("\n") + 3
    for block in body.strip("\n").split("\n\n"):
        head, source, expected = block.split("\n")
        match = re.fullmatch(r"-- (\w+)", head)
        assert match, f"{path}:{line}: a case starts with `-- <dialect>`"
        cases.append(Case(match.group(1), source, expected, line))
        line += block.count("\n") + 2
    return header, cases


def adapted(case: Case) -> str:
    """What the pass gives for `case`: the dialect's SQL, or the refusal's code and message."""
    try:
        return to_sql(sqlglot.parse_one(case.source, read="duckdb"), case.dialect)
    except SemanticError as exc:
        first = exc.diagnostics[0]
        return f"{first.code} {first.message}"


HEADER, CASES = read_cases(CASES_FILE)


def test_update_goldens(request: pytest.FixtureRequest) -> None:
    """With --update-goldens, rewrite the expected lines from the pass."""
    if not request.config.getoption("--update-goldens"):
        pytest.skip("rewrites the fixture file only with --update-goldens")
    blocks = [f"-- {c.dialect}\n{c.source}\n{adapted(c)}" for c in CASES]
    write_atomically(CASES_FILE, HEADER + "\n\n" + "\n\n".join(blocks) + "\n")


@pytest.mark.parametrize("case", CASES, ids=[f"{c.dialect}-{c.line}" for c in CASES])
def test_the_pass_gives_what_the_fixture_says(case: Case, request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--update-goldens"):
        pytest.skip("the fixture file is being rewritten")
    assert adapted(case) == case.expected, f"{CASES_FILE}:{case.line}"


def test_every_case_parses_as_duckdb_sql() -> None:
    for case in CASES:
        sqlglot.parse_one(case.source, read="duckdb")
