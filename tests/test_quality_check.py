"""`semantic check` refuses a quality rule that cannot run, with a code at file:line:col,
for every kind; `semantic quality` then never fails with an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest

from semantic.project import Project
from tests.cli_runner import run_cli
from tests.projects import write_data, write_project
from tests.test_quality_kinds import DATA, GLOSSARY, MODEL

HEAD = MODEL[: MODEL.index("    quality:\n")] + "    quality:\n"

#: (rule as written under `orders: quality:`, code, where the error points: the text there)
BROKEN = [
    # the issue's freshness written as a row check: an aggregate in a row condition
    ("r: {check: max(day) > current_date - INTERVAL 2 DAY}", "SEM116", "max(day)"),
    ("r: {kind: aggregate, check: amount > 0}", "SEM116", "amount"),
    ("r: {kind: aggregate, check: sum(amount) > amount}", "SEM116", "sum"),
    ("r: {kind: not_null}", "SEM115", "r"),
    ("r: {kind: accepted_values, column: status}", "SEM115", "r"),
    ("r: {kind: range, column: amount}", "SEM115", "r"),
    ("r: {kind: range, column: amount, min: 5, max: 1}", "SEM115", "5"),
    ("r: {kind: row_count, values: [1]}", "SEM115", "[1]"),
    ("r: {kind: pattern, column: status, pattern: '[0-9'}", "SEM117", "'[0-9'"),
    ("r: {kind: pattern, column: status, pattern: '(?=a)b'}", "SEM117", "'(?=a)b'"),
    ("r: {kind: freshness, column: day, max_age: soon}", "SEM117", "soon"),
    ("r: {kind: unique, column: no_such}", "SEM203", "no_such"),
    ("r: {kind: unique, column: sum(amount)}", "SEM116", "sum"),
    ("r: {kind: custom, sql: SELECT id FROM order_lines}", "SEM260", "SELECT"),
    ("r: {kind: custom, sql: SELECT nope FROM orders}", "SEM203", "SELECT"),
    ("r: {kind: custom, sql: DELETE FROM orders}", "SEM116", "DELETE"),
    ("r: {kind: custom, sql: 'SELECT 1 FROM orders; SELECT 2'}", "SEM116", "'SELECT"),
    ("r: {kind: accepted_values, column: 'status IN (', values: [a]}", "SEM104", "'status"),
    ("r: {dimension: validity}", "SEM115", "r"),
]


@pytest.mark.parametrize(("rule", "code", "at"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_rule_is_an_error_at_its_place(
    tmp_path: Path, rule: str, code: str, at: str
) -> None:
    model = HEAD + f"      {rule}\n"
    write_project(tmp_path, {"models/m.yml": model, "glossary/g.yml": GLOSSARY})
    errors = [d for d in Project.inspect(tmp_path)[1] if d.severity == "error"]
    assert [d.code for d in errors] == [code], [d.render() for d in errors]
    written = (tmp_path / "models" / "m.yml").read_text().splitlines()
    line = written.index(f"      {rule}") + 1
    col = 7 + rule.index(at)
    assert str(errors[0].span) == f"models/m.yml:{line}:{col}", errors[0].render()
    assert errors[0].hint


TERM_BROKEN = [
    ("phone", "r: {kind: freshness, max_age: 2 days}", "SEM261"),
    ("order_count", "r: {kind: not_null}", "SEM261"),
]


@pytest.mark.parametrize(("term", "rule", "code"), TERM_BROKEN)
def test_a_rule_that_does_not_fit_its_term_is_an_error(
    tmp_path: Path, term: str, rule: str, code: str
) -> None:
    if term == "phone":  # which has rules already
        marker = "      bad_pattern: {kind: pattern, pattern: '^[0-9]{2}-[0-9]{3}$'}\n"
        glossary = GLOSSARY.replace(marker, f"{marker}      {rule}\n")
    else:
        glossary = GLOSSARY.replace(
            f"  {term}:\n    label:", f"  {term}:\n    quality:\n      {rule}\n    label:"
        )
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": glossary})
    errors = [d for d in Project.inspect(tmp_path)[1] if d.severity == "error"]
    assert [d.code for d in errors] == [code]
    written = (tmp_path / "glossary" / "g.yml").read_text().splitlines()
    line = written.index(f"      {rule}") + 1
    assert str(errors[0].span) == f"glossary/g.yml:{line}:7"


def test_a_rule_on_a_metric_over_metrics_is_an_error(tmp_path: Path) -> None:
    glossary = GLOSSARY + (
        "  doubled:\n    label: {en: Doubled}\n    quality:\n"
        "      r: {kind: row_count, min: 1}\n    metric: {expr: order_count * 2}\n"
    )
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": glossary})
    (error,) = [d for d in Project.inspect(tmp_path)[1] if d.severity == "error"]
    assert error.code == "SEM261" and "no rows of its own" in error.message


def test_the_issue_rule_is_refused_by_check_and_runs_as_an_aggregate(tmp_path: Path) -> None:
    """Issue #14: `max(l_shipdate) > current_date - INTERVAL 2 DAY` as a row check passed
    `semantic check`, then `semantic quality` failed with an internal BinderException."""
    model = HEAD + "      fresh: {check: max(day) > current_date - INTERVAL 2 DAY}\n"
    write_project(tmp_path, {"models/m.yml": model, "glossary/g.yml": GLOSSARY})
    write_data(tmp_path, DATA)
    result = run_cli("check", project=tmp_path)
    assert result.exit_code == 1
    assert "SEM116 the check of quality rule 'fresh' has an aggregate (MAX(day))" in result.stderr
    assert "kind: aggregate" in result.stderr
    fixed = (
        HEAD + "      fresh: {kind: aggregate, check: max(day) > current_date - INTERVAL 2 DAY}\n"
    )
    write_project(tmp_path, {"models/m.yml": fixed, "glossary/g.yml": GLOSSARY})
    result = run_cli("quality", "--no-record", "fresh", project=tmp_path)
    assert result.exit_code == 1  # 2024 data is not fresh today
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert "0 passed, 1 failed" in result.stderr
