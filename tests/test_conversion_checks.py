"""`semantic check` on conversion metrics: events that are not a metric over an entity
(SEM266), and an entity, time or property that is not the events' own (SEM267), each at
its place in the glossary file."""

from __future__ import annotations

from pathlib import Path

import pytest

from semantic.project import Project
from tests.projects import write_project
from tests.soundness.test_conversion import GLOSSARY, MODEL


def _codes(root: Path, conversion: str) -> list[tuple[str, int, str]]:
    glossary = GLOSSARY + conversion
    write_project(root, {"models/m.yml": MODEL, "glossary/g.yml": glossary})
    found = Project.inspect(root)[1]
    return [(d.code, d.span.line, d.message) for d in found if d.severity == "error"]


def _probe(expr: str, **conversion: str) -> str:
    keys = {
        "metric": "order_count",
        "entity": "customers",
        "base_time": "visit_day",
        "time": "order_day",
        **conversion,
    }
    inner = ", ".join(f"{k}: {v}" for k, v in keys.items())
    return (
        "  probe:\n    label: {en: Probe}\n"
        f"    metric: {{expr: {expr}, conversion: {{{inner}}}}}\n"
    )


def test_the_fixture_glossary_is_sound(tmp_path: Path) -> None:
    assert _codes(tmp_path, "") == []


@pytest.mark.parametrize(
    ("expr", "conversion", "code", "fragment"),
    [
        ("conversion_3d", {}, "SEM266", "computed from other metrics"),
        ("region", {}, "SEM266", "not a metric"),
        ("visit_count + order_count", {}, "SEM266", "one metric's id"),
        ("visit_count", {"metric": "conversion_3d"}, "SEM266", "computed from other"),
        ("visit_count", {"entity": "orders"}, "SEM267", "do not name one 'orders'"),
        ("visit_count", {"base_time": "order_day"}, "SEM267", "a dimension of 'orders'"),
        ("visit_count", {"time": "order_channel"}, "SEM267", "a dimension, where a time"),
        (
            "visit_count",
            {"constant_properties": "[{base: region, conversion: order_channel}]"},
            "SEM267",
            "a dimension of 'customers'",
        ),
        ("visit_count", {"entity": "shops"}, "SEM202", "unknown entity 'shops'"),
        ("visit_count", {"time": "order_dya"}, "SEM201", "unknown term 'order_dya'"),
    ],
)
def test_a_conversion_metric_that_cannot_match_its_events_is_refused(
    tmp_path: Path, expr: str, conversion: dict[str, str], code: str, fragment: str
) -> None:
    found = _codes(tmp_path, _probe(expr, **conversion))
    assert [c for c, _, _ in found] == [code], found
    _, line, message = found[0]
    assert fragment in message and "probe" in message
    assert line == len(GLOSSARY.splitlines()) + 2  # the probe's metric line
