"""Start-up time of the `semantic` command: whole processes, from exec to exit.

Run from the repository root (the example project):

    .venv/bin/python bench/startup_bench.py [--repeat 15] [--importtime]

Each command below is run `--repeat` times in a fresh process (after one run to warm the
disk cache and semantic's cache of YAML trees), and the median wall time and the median CPU
time (user + system, of the child process) are printed, in milliseconds. On a machine busy
with other work the wall time waits for a free CPU; the CPU time moves much less. With
`--importtime`, the modules that each command imports are listed too (the ten slowest, from
`python -X importtime`), and which of the heavy libraries are loaded.

The `semantic` script next to the Python running this is used when there is one (it runs
the code that Python imports: set PYTHONPATH to time another checkout); else
`python -m semantic.cli`.

This is not a test; it only prints. See docs/benchmarks.md ("Start-up") for a recorded run.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUERY = "SELECT customer_region, net_revenue"
#: libraries that a command should load only when it uses them
HEAVY = ("sqlglot", "pydantic", "ruamel", "pyarrow", "duckdb", "rdflib", "pyshacl", "jinja2")


def semantic_command() -> list[str]:
    """How to run `semantic`: its script next to this Python, else `python -m semantic.cli`."""
    script = Path(sys.executable).with_name("semantic")
    return [str(script)] if script.exists() else [sys.executable, "-m", "semantic.cli"]


def commands() -> list[tuple[str, list[str]]]:
    """(label, argv) of each command timed."""
    semantic = semantic_command()
    return [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("python -c 'import semantic'", [sys.executable, "-c", "import semantic"]),
        ("semantic --help", [*semantic, "--help"]),
        ("semantic --version", [*semantic, "--version"]),
        (f"semantic compile '{QUERY}'", [*semantic, "compile", QUERY]),
        ("semantic check", [*semantic, "check"]),
    ]


def run(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `argv` (its output thrown away)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def import_profile(argv: list[str]) -> tuple[list[tuple[int, str]], list[str]]:
    """The ten imports of `argv` with the largest cumulative time (µs, module), and which
    of `HEAVY` it loaded, from `python -X importtime`."""
    if argv[0] != sys.executable:  # the script: run its code under this Python
        argv = [sys.executable, "-m", "semantic.cli", *argv[1:]]
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|")
            if cumulative.strip().isdigit():
                rows.append((int(cumulative), name.rstrip()))
    loaded = sorted({name.strip().split(".")[0] for _, name in rows} & set(HEAVY))
    return sorted(rows, reverse=True)[:10], loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command")
    parser.add_argument("--importtime", action="store_true", help="also list slow imports")
    args = parser.parse_args()
    print(
        f"machine: {platform.platform()} ({os.cpu_count()} CPUs), "
        f"{platform.python_implementation()} {platform.python_version()}"
    )
    print(f"semantic: {' '.join(semantic_command())}; repeat: {args.repeat}; times in ms\n")
    print(f"{'command':<58}{'wall median':>12}{'wall min':>10}{'CPU median':>12}")
    for label, argv in commands():
        run(argv)  # warm: the disk cache, and the YAML trees a command keeps
        times = [run(argv) for _ in range(args.repeat)]
        walls = [w * 1000 for w, _ in times]
        cpus = [c * 1000 for _, c in times]
        print(
            f"{label:<58}{statistics.median(walls):>12.0f}{min(walls):>10.0f}"
            f"{statistics.median(cpus):>12.0f}"
        )
    if args.importtime:
        for label, argv in commands()[1:]:
            slowest, loaded = import_profile(argv)
            print(f"\n{label}: loads {', '.join(loaded) or 'none of ' + ', '.join(HEAVY)}")
            for micros, name in slowest:
                print(f"  {micros / 1000:8.1f} ms  {name.strip()}")


if __name__ == "__main__":
    main()
