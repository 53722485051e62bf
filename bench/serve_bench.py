"""Server benchmark: requests per second and latency of `semantic serve` over HTTP.

Run from the repository root:

    .venv/bin/python bench/serve_bench.py [--requests N] [--clients C]

`semantic serve` runs the repository's project in a process of its own on 127.0.0.1 (a free
port), without the file watcher. For compile and for a small query (`SELECT
customer_region, net_revenue`: five rows), two cases:

- cold     each request a query text the server has not seen (`... LIMIT k`, k new each
           time): the plan cache misses, the query is parsed, planned and rendered
- cached   the same query text each time: the plan cache hits

Each case is sent N times by one client in a row (the latencies: median and 95th percentile,
in milliseconds, and the requests per second of one client), then N times by C clients at
once (the requests per second of the server). The client is httpx, in this process.

This is not a test; it only prints. See docs/benchmarks.md for a recorded run.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from itertools import count
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BASE = "SELECT customer_region, net_revenue"
#: the LIMIT of the next cold query: never the same text twice in a run
FRESH = count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen(
        [sys.executable, "-m", "semantic.cli", "serve", "--port", str(port), "--no-watch"],
        cwd=ROOT,
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
    with httpx.Client(base_url=url) as http:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    port = free_port()
    server = start_server(port)
    url = f"http://127.0.0.1:{port}"
    try:
        print(
            f"python {platform.python_version()}, {os.cpu_count()} CPUs, {args.requests} "
            f"requests a case, {args.clients} clients at once"
        )
        print(
            f"{'case':<16} {'p50 ms':>8} {'p95 ms':>8} {'1 client/s':>11} "
            f"{f'{args.clients} clients/s':>13}"
        )
        for path, name in (("/v1/compile", "compile"), ("/v1/query", "query")):
            for cold in (True, False):
                one_client(url, case(path, cold), 20)  # warm-up (and, cached, the first miss)
                times = one_client(url, case(path, cold), args.requests)
                rate = many_clients(url, case(path, cold), args.requests, args.clients)
                p50 = statistics.median(times) * 1000
                p95 = statistics.quantiles(times, n=20)[-1] * 1000
                label = f"{name} {'cold' if cold else 'cached'}"
                print(
                    f"{label:<16} {p50:>8.2f} {p95:>8.2f} {len(times) / sum(times):>11.0f} "
                    f"{rate:>13.0f}"
                )
        status = httpx.get(f"{url}/v1/status").json()["plan_cache"]
        print(f"plan cache: {status['hits']} hits, {status['misses']} misses")
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
