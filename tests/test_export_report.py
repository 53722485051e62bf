"""`semantic export osi` reports what OSI's core cannot carry as one line per reason with a
count, not one warning per construct (83 on the TPC-H project, nearly one per term): each
construct, with its file and line, is listed with --verbose and in the JSON report."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from tests.cli_runner import run_cli

_SUMMARY_LINE = re.compile(r"^  +(\d+) (SEM\d{3}) (.+)$")


def _json_report(out: Path) -> list[dict]:
    """The JSON report of `export osi -o out` (on standard error, after `wrote ...`)."""
    result = run_cli("export", "osi", "-o", out, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stderr[result.stderr.index("{") :])["report"]


def test_the_export_report_is_a_count_per_reason(tmp_path: Path) -> None:
    out = tmp_path / "tpch.osi.yml"
    summary = run_cli("export", "osi", "-o", out)
    assert summary.exit_code == 0, summary.stderr
    report = _json_report(out)
    assert len(report) > 20, "the TPC-H project has much that OSI cannot carry"
    want = Counter((r["code"], r["hint"]) for r in report)
    lines = summary.stderr.splitlines()
    assert lines[0] == f"wrote {out}"
    assert lines[1] == (
        f"export osi: {len(report)} item(s) reported, by reason (--verbose lists each):"
    )
    got: Counter[tuple[str, str]] = Counter()
    for line in lines[2:]:
        match = _SUMMARY_LINE.match(line)
        assert match, line
        got[(match[2], match[3])] = int(match[1])
    assert got == want
    assert len(lines) == 2 + len(want) < 15
    assert "warning:" not in summary.stderr


def test_verbose_lists_each_construct_with_its_place(tmp_path: Path) -> None:
    out = tmp_path / "tpch.osi.yml"
    report = _json_report(out)
    verbose = run_cli("export", "osi", "-o", out, "--verbose")
    assert verbose.exit_code == 0, verbose.stderr
    warnings = [line for line in verbose.stderr.splitlines() if ": warning: SEM" in line]
    assert len(warnings) == len(report)
    first = report[0]
    assert warnings[0].startswith(f"{first['file']}:{first['line']}:1: warning: {first['code']}")
    assert verbose.stderr.splitlines()[-1] == f"export osi: {len(report)} item(s) reported"
