"""The server under load and under fuzzing, on a real uvicorn server on 127.0.0.1: concurrent
clients get every answer right while the project reloads in the middle, and requests
generated from the OpenAPI description (schemathesis) never get a 5xx."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from semantic.project import Project
from semantic.serve.http import make_app
from semantic.serve.service import Service
from tests.budget import examples
from tests.serving import TOKENS, auth, copy_project, free_port, running, wait_for
from tests.test_serve_core import EXTRA
from tests.test_startup import child_env

#: the mix of requests: (path, query); each is asked as each caller below
MIX = [
    ("/v1/compile", "SELECT customer_region, net_revenue ORDER BY customer_region"),
    ("/v1/query", "SELECT customer_region, net_revenue ORDER BY customer_region"),
    ("/v1/query", "SELECT order_priority, order_count ORDER BY order_priority"),
    ("/v1/compile", "SELECT part_brand, line_count WHERE ship_mode = 'AIR'"),
    ("/v1/query", "SELECT order_date.year, average_order_value ORDER BY 1"),
]
CALLERS = ["owner", "ann", "bob"]


def expected(root: Path) -> dict[tuple[str, str, str], Any]:
    """The answer of each request of the mix for each caller, from the project itself."""
    project = Project.load(root)
    found: dict[tuple[str, str, str], Any] = {}
    for path, query in MIX:
        for name in CALLERS:
            role = TOKENS[name][1]
            if path == "/v1/compile":
                found[path, query, name] = project.compile(query, role=role)
            else:
                rows = project.query(query, role=role).to_pylist()
                found[path, query, name] = [{k: _as_json(v) for k, v in r.items()} for r in rows]
    return found


def _as_json(value: Any) -> Any:
    """A value as the API's JSON reads back with decimals parsed exactly: dates as ISO text,
    floats by their shortest repr."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def hammer(
    url: str, clients: int, each: int, want: dict[Any, Any], middle: Any
) -> tuple[list[str], set[int], int]:
    """`clients` threads each sending `each` requests of the mix; `middle()` runs when half
    are done, and each client goes on until it is done too (so that some requests come
    after it). Every wrong answer or failure, described, and the versions that answered."""
    failures: list[str] = []
    versions: set[int] = set()
    done = [0]
    lock = threading.Lock()
    half, over = threading.Event(), threading.Event()

    def client(number: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            i = 0
            while i < each or (not over.is_set() and i < 50 * each):
                i += 1
                path, query = MIX[(number + i) % len(MIX)]
                name = CALLERS[(number * 7 + i) % len(CALLERS)]
                try:
                    answer = http.post(path, json={"query": query}, headers=auth(name))
                    if answer.status_code != 200:
                        failures.append(f"{path} {name}: {answer.status_code} {answer.text}")
                    else:
                        body = json.loads(answer.text, parse_float=Decimal)
                        got = body["sql"] if path == "/v1/compile" else body["rows"]
                        versions.add(body["version"])
                        if got != want[path, query, name]:
                            failures.append(f"{path} {name} {query}: wrong answer")
                except Exception as exc:  # noqa: BLE001 - each failure is reported
                    failures.append(f"{path} {name}: {exc!r}")
                with lock:
                    done[0] += 1
                    if done[0] == clients * each // 2:
                        half.set()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    half.wait(300)
    middle()
    over.set()
    for thread in threads:
        thread.join(600)
    return failures, versions, done[0]


@pytest.mark.parametrize(
    "clients, each",
    [(20, 10), pytest.param(20, 100, marks=pytest.mark.slow)],
    ids=["200-requests", "2000-requests"],
)
def test_concurrent_clients_during_a_reload(tmp_path: Path, clients: int, each: int) -> None:
    """The server runs in a process of its own (`semantic serve`, watching the files), so
    that the clients' threads do not slow down its reload."""
    root = copy_project(tmp_path, "  limits: {concurrent: 32}\n  reload_debounce: 0.05\n")
    want = expected(root)

    with serving_process(root, tmp_path) as url:

        def reload() -> None:
            (root / "glossary" / "extra.yml").write_text(EXTRA)
            status = lambda: httpx.get(f"{url}/v1/status", headers=auth("owner")).json()  # noqa: E731
            wait_for(lambda: status()["version"] == 2)

        started = time.monotonic()
        failures, versions, sent = hammer(url, clients, each, want, reload)
        took = time.monotonic() - started
        status = httpx.get(f"{url}/v1/status", headers=auth("owner")).json()
    assert failures == []
    assert status["version"] == 2 and status["healthy"]
    assert versions == {1, 2}  # answered before and after the reload, none lost
    assert status["plan_cache"]["hits"] > 0
    print(f"{sent} requests in {took:.1f} s")  # noqa: T201 - shown with -s


@contextmanager
def serving_process(root: Path, tmp_path: Path) -> Iterator[str]:
    """`semantic serve` run on the project at `root`, in a process of its own; its URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "semantic.cli", "serve", "--port", str(port)],
        cwd=root,
        env=child_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/v1/health").status_code == 200
        except httpx.TransportError:
            assert server.poll() is None, server.communicate()
            return False

    try:
        wait_for(up, 60)
        yield url
    finally:
        server.terminate()
        server.communicate(timeout=30)


# --- fuzzing from the OpenAPI description -----------------------------------------------------


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = copy_project(tmp_path_factory.mktemp("fuzzed"), "  anonymous_role: analyst\n")
    service = Service.open(root)
    with running(make_app(service)) as url:
        yield url
    service.close()


def test_no_request_gets_a_server_error(fuzzed: str) -> None:
    """Each operation of /openapi.json, called with requests generated from its schema (with
    and without a token): never a 5xx, and every refusal but a 404 carries a SEM code."""
    schema = schemathesis.openapi.from_url(f"{fuzzed}/openapi.json")
    calls = [0]
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples(full=100, fast=15),
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case: Any) -> None:
            for headers in (None, auth("owner")):
                calls[0] += 1
                response = case.call(headers=headers, timeout=60)
                assert response.status_code < 500, (case.as_curl_command(), response.text)
                if response.status_code >= 400 and response.status_code != 404:
                    assert response.json()["code"].startswith("SEM"), response.text

        call()
    assert calls[0] > 100
