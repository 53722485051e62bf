"""A request's query stopped at its client's request (engines.cancel): DuckDB's cursor is
interrupted, the query fails with SEM469, and the engine answers the next one."""

from __future__ import annotations

import threading
import time

import pytest

from semantic.engines.base import Limits
from semantic.engines.cancel import Cancellation, cancellable
from semantic.errors import SemanticError
from semantic.project import Project

#: a query DuckDB takes minutes over
SLOW = "SELECT count(*) FROM range(100000000) a, range(100000) b WHERE a.range + b.range = -1"


@pytest.mark.parametrize("timeout", [0, 600], ids=["no-time-out", "a-time-out"])
def test_cancel_interrupts_duckdb(project: Project, timeout: float) -> None:
    engine = project.engine_for(None)
    handle = Cancellation()
    found: list[BaseException] = []

    def run() -> None:
        with cancellable(handle):
            try:
                engine.execute(SLOW, limits=Limits(timeout, 0, 0))
            except BaseException as exc:  # noqa: BLE001 - read by the test
                found.append(exc)

    thread = threading.Thread(target=run)
    started = time.monotonic()
    thread.start()
    time.sleep(0.3)
    handle.cancel()
    thread.join(60)
    assert not thread.is_alive() and time.monotonic() - started < 60
    assert isinstance(found[0], SemanticError)
    assert [d.code for d in found[0].diagnostics] == ["SEM469"]
    assert engine.execute("SELECT 42 AS n", limits=Limits(5, 0, 0)).to_pylist() == [{"n": 42}]


def test_without_a_request_nothing_is_cancelled(project: Project) -> None:
    engine = project.engine_for(None)
    Cancellation().cancel()  # a handle no query runs under
    assert engine.execute("SELECT 1 AS n", limits=Limits(5, 0, 0)).to_pylist() == [{"n": 1}]
