"""A quality run for other tools: JUnit XML for CI (one test case per rule), and the rows
`semantic quality --history` prints.

>>> import datetime as dt
>>> run = QualityRun((), dt.datetime(2025, 1, 2, tzinfo=dt.UTC), "duckdb:")
>>> print(junit_xml(run).splitlines()[1][:58])
<testsuites name="semantic quality" tests="0" failures="0"
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from semantic.engines.quality_store import StoredResult
from semantic.outputs.quality.results import QualityResult, QualityRun


def junit_xml(run: QualityRun) -> str:
    """The run as JUnit XML: a test suite per entity, a test case per rule (named by its
    key), a `failure` for a rule that fails (its type the rule's severity) and an `error`
    for one that could not be measured."""
    by_entity: dict[str, list[QualityResult]] = {}
    for result in run.results:
        by_entity.setdefault(result.rule.entity, []).append(result)
    stamp = run.at.isoformat(timespec="seconds")
    root = ET.Element("testsuites", _counts("semantic quality", run.results, stamp))
    for entity, results in by_entity.items():
        suite = ET.SubElement(root, "testsuite", _counts(entity, results, stamp))
        for result in results:
            rule = result.rule
            case = ET.SubElement(
                suite,
                "testcase",
                {"name": rule.key, "classname": f"quality.{entity}", "time": "0"},
            )
            if not result.measured:
                node = ET.SubElement(
                    case, "error", {"message": str(result.error), "type": "SEM450"}
                )
                node.text = rule.text
            elif not result.passed:
                node = ET.SubElement(
                    case, "failure", {"message": result.explain(), "type": rule.severity}
                )
                node.text = f"{rule.kind} rule ({rule.dimension}): {rule.text}"
            out = ET.SubElement(case, "system-out")
            out.text = _summary(result)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _counts(name: str, results: Sequence[QualityResult], stamp: str) -> dict[str, str]:
    return {
        "name": name,
        "tests": str(len(results)),
        "failures": str(sum(r.measured and not r.passed for r in results)),
        "errors": str(sum(not r.measured for r in results)),
        "timestamp": stamp,
    }


def _summary(result: QualityResult) -> str:
    text = f"score {result.score:.4f} (threshold {result.rule.threshold:g}) on {result.rows} rows"
    return text + (f"; {result.value}" if result.value else "")


def history_rows(stored: Sequence[StoredResult]) -> list[dict[str, Any]]:
    """The rows of `semantic quality --history`: one per rule per run, newest first."""
    return [
        {
            "run_at": s.run_at.isoformat(),
            "engine": s.engine,
            "rule": s.rule,
            "severity": s.severity,
            "rows": s.rows,
            "failing": s.failing,
            "score": s.score,
            "passed": s.passed,
            "value": s.value if s.measured else f"not measured: {s.message}",
        }
        for s in stored
    ]
