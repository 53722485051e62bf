"""Server benchmark: requests per second and latency of `semantic serve` over HTTP, over the
PostgreSQL wire endpoint and over MCP (streamable HTTP).

Run from the repository root:

    .venv/bin/python bench/serve_bench.py [--requests N] [--clients C]

`semantic serve --pg-port` runs a copy of the repository's project with the tests' tokens file
(tests/serving.py; every request with the owner's token) in a process of its own on 127.0.0.1
(free ports), without the file watcher. For compile and for a small query (`SELECT
customer_region, net_revenue`: five rows) over HTTP, for the query over the wire endpoint
(psycopg, one connection per client, the extended protocol) and for compile and the query over
MCP (the SDK's client, `compile_query` and `run_query`), two cases:

- cold     each request a query text the server has not seen (`... LIMIT k`, k new each
           time): the plan cache misses, the query is parsed, planned and rendered
- cached   the same query text each time: the plan cache hits

Each case is sent N times by one client in a row (the latencies: median and 95th percentile,
in milliseconds, and the requests per second of one client), then, over HTTP and the wire,
N times by C clients at once (the requests per second of the server). The clients (httpx,
psycopg, the MCP SDK) run in this process.

This is not a test; it only prints. See docs/benchmarks.md for a recorded run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from itertools import count
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.serving import TOKENS, copy_project  # noqa: E402 - the tests' project and tokens

TOKEN = TOKENS["owner"][0]
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
BASE = "SELECT customer_region, net_revenue"
#: the LIMIT of the next cold query: never the same text twice in a run
FRESH = count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(root: Path, port: int, pg_port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = ["serve", "--port", str(port), "--pg-port", str(pg_port), "--no-watch"]
    server = subprocess.Popen(
        [sys.executable, "-m", "semantic.cli", *command],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def case(path: str, cold: bool) -> Callable[[], tuple[str, dict[str, str]]]:
    """A maker of the next request of a case: its path and its body."""

    def next_request() -> tuple[str, dict[str, str]]:
        query = f"{BASE} LIMIT {next(FRESH)}" if cold else BASE
        return path, {"query": query}

    return next_request


def one_client(url: str, make: Callable[[], tuple[str, dict[str, str]]], n: int) -> list[float]:
    times = []
    with httpx.Client(base_url=url, headers=HEADERS) as http:
        for _ in range(n):
            path, body = make()
            start = time.perf_counter()
            answer = http.post(path, json=body)
            times.append(time.perf_counter() - start)
            if answer.status_code != 200:
                raise SystemExit(f"{path}: {answer.status_code} {answer.text}")
    return times


def many_clients(
    url: str, make: Callable[[], tuple[str, dict[str, str]]], n: int, clients: int
) -> float:
    """Requests per second of `n` requests sent by `clients` threads at once."""
    lock = threading.Lock()

    def safe() -> tuple[str, dict[str, str]]:
        with lock:
            return make()

    threads = [
        threading.Thread(target=one_client, args=(url, safe, n // clients)) for _ in range(clients)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (n // clients * clients) / (time.perf_counter() - start)


def wire_client(
    pg_port: int, make: Callable[[], tuple[str, dict[str, str]]], n: int
) -> list[float]:
    """Latencies of `n` queries over one connection to the wire endpoint."""
    import psycopg

    times = []
    dsn = f"host=127.0.0.1 port={pg_port} user=bench password={TOKEN} dbname=semantic"
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(n):
            _, body = make()
            start = time.perf_counter()
            conn.execute(body["query"]).fetchall()
            times.append(time.perf_counter() - start)
    return times


def wire_clients(
    pg_port: int, make: Callable[[], tuple[str, dict[str, str]]], n: int, clients: int
) -> float:
    """Requests per second of `n` queries sent over `clients` connections at once."""
    lock = threading.Lock()

    def safe() -> tuple[str, dict[str, str]]:
        with lock:
            return make()

    threads = [
        threading.Thread(target=wire_client, args=(pg_port, safe, n // clients))
        for _ in range(clients)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (n // clients * clients) / (time.perf_counter() - start)


def mcp_client(
    url: str, tool: str, make: Callable[[], tuple[str, dict[str, str]]], n: int
) -> list[float]:
    """Latencies of `n` calls of `tool` by one MCP client over streamable HTTP."""
    import anyio
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    times: list[float] = []

    async def run() -> None:
        http = httpx2.AsyncClient(headers=HEADERS)
        async with Client(streamable_http_client(f"{url}/mcp/", http_client=http)) as client:
            for _ in range(n):
                _, body = make()
                start = time.perf_counter()
                result = await client.call_tool(tool, {"query": body["query"]})
                times.append(time.perf_counter() - start)
                if result.is_error:
                    raise SystemExit(f"{tool}: {result.content}")

    anyio.run(run)
    return times


def row(label: str, times: list[float], rate: float | None) -> None:
    p50 = statistics.median(times) * 1000
    p95 = statistics.quantiles(times, n=20)[-1] * 1000
    many = f"{rate:>13.0f}" if rate is not None else f"{'-':>13}"
    print(f"{label:<20} {p50:>8.2f} {p95:>8.2f} {len(times) / sum(times):>11.0f} {many}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    port, pg_port = free_port(), free_port()
    work = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    # as many queries at once as there are clients (the default allows a caller 4)
    root = copy_project(work, f"  limits: {{concurrent: {max(args.clients, 4)}}}\n")
    server = start_server(root, port, pg_port)
    url = f"http://127.0.0.1:{port}"
    n, clients = args.requests, args.clients
    try:
        print(
            f"python {platform.python_version()}, {os.cpu_count()} CPUs, {n} "
            f"requests a case, {clients} clients at once"
        )
        print(
            f"{'case':<20} {'p50 ms':>8} {'p95 ms':>8} {'1 client/s':>11} "
            f"{f'{clients} clients/s':>13}"
        )
        for path, name in (("/v1/compile", "compile"), ("/v1/query", "query")):
            for cold in (True, False):
                one_client(url, case(path, cold), 20)  # warm-up (and, cached, the first miss)
                times = one_client(url, case(path, cold), n)
                rate = many_clients(url, case(path, cold), n, clients)
                row(f"http {name} {'cold' if cold else 'cached'}", times, rate)
        for cold in (True, False):
            wire_client(pg_port, case("", cold), 20)
            times = wire_client(pg_port, case("", cold), n)
            rate = wire_clients(pg_port, case("", cold), n, clients)
            row(f"wire query {'cold' if cold else 'cached'}", times, rate)
        for tool, name in (("compile_query", "compile"), ("run_query", "query")):
            for cold in (True, False):
                mcp_client(url, tool, case("", cold), 20)
                times = mcp_client(url, tool, case("", cold), n)
                row(f"mcp {name} {'cold' if cold else 'cached'}", times, None)
        status = httpx.get(f"{url}/v1/status", headers=HEADERS).json()["plan_cache"]
        print(f"plan cache: {status['hits']} hits, {status['misses']} misses")
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
