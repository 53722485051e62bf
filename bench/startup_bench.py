"""Start-up time of the `semantic` command: whole processes, from exec to exit.

Run from the repository root (the example project):

    .venv/bin/python bench/startup_bench.py [--repeat 15] [--against OTHER/src] [--importtime]

Each command below is run `--repeat` times in a fresh process (after one run to warm the
disk cache and semantic's cache of YAML trees), and the median wall time and the median CPU
time (user + system, of the child process) are printed, in milliseconds. On a machine busy
with other work the wall time waits for a free CPU; the CPU time moves much less. With
`--against`, each command is also run with another checkout's `src` folder first on
PYTHONPATH (`git worktree add /tmp/old REV`), the two taking turns so that both see the same
load, each with a cache folder of its own (`SEMANTIC_CACHE_DIR`: the kept load of a project
is one slot, which the other checkout's code would replace at each turn); a failing
command (an option the other version lacks) is marked `!`. With
`--importtime`, the modules that each command imports are listed too (the ten slowest, from
`python -X importtime`), and which of the heavy libraries are loaded.

With `--instructions`, each command is also run once under valgrind's callgrind and the
number of instructions it executed is printed, in millions: slow (about 50 times slower),
but the same from one run to the next however busy the machine is.

The commands run with bytecode caching on (PYTHONDONTWRITEBYTECODE is removed from their
environment): an installed package has its `.pyc` files, and compiling every module of
semantic from source at each start would add about 50 ms that no user pays.

The `semantic` script next to the Python running this is used when there is one (it runs
the code that Python imports: set PYTHONPATH to time another checkout); else
`python -m semantic.cli`.

This is not a test; it only prints. See docs/benchmarks.md ("Start-up") for a recorded run.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
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
        ("semantic compile <query>", [*semantic, "compile", QUERY]),
        ("semantic check", [*semantic, "check"]),
    ]


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float, bool]:
    """Wall and CPU seconds of one run of `argv` (its output thrown away), and whether it
    succeeded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode == 0


def summary(times: list[tuple[float, float, bool]]) -> str:
    """Median wall, least wall and median CPU of `times`, in ms (`!`: the command failed)."""
    walls = [w * 1000 for w, _, _ in times]
    cpus = [c * 1000 for _, c, _ in times]
    mark = "" if all(ok for _, _, ok in times) else "!"
    return (
        f"{statistics.median(walls):>12.0f}{min(walls):>10.0f}"
        f"{statistics.median(cpus):>12.0f}{mark:1}"
    )


def instructions(argv: list[str], env: dict[str, str]) -> float:
    """Millions of instructions one run of `argv` executes, counted by valgrind's callgrind
    (NaN without valgrind)."""
    if shutil.which("valgrind") is None:
        return math.nan
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    return int(found.group(1)) / 1e6 if found else math.nan


def import_profile(argv: list[str], env: dict[str, str]) -> tuple[list[tuple[int, str]], list[str]]:
    """The ten imports of `argv` with the largest cumulative time (µs, module), and which
    of `HEAVY` it loaded, from `python -X importtime`."""
    if argv[0] != sys.executable:  # the script: run its code under this Python
        argv = [sys.executable, "-m", "semantic.cli", *argv[1:]]
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]],
        cwd=ROOT,
        env=env,
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
    parser.add_argument("--against", type=Path, help="another checkout's src folder")
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions (valgrind)"
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.platform()} ({os.cpu_count()} CPUs), "
        f"{platform.python_implementation()} {platform.python_version()}"
    )
    print(f"semantic: {' '.join(semantic_command())}; repeat: {args.repeat}; times in ms")
    print(f"query: {QUERY}\n")
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    envs = [base]
    header = f"{'command':<48}{'wall median':>12}{'wall min':>10}{'CPU median':>12} "
    if args.against:
        other = [str(args.against.resolve()), os.environ.get("PYTHONPATH", "")]
        envs.append({**base, "PYTHONPATH": os.pathsep.join(filter(None, other))})
        # a kept load is one slot per project folder, keyed by the code: two checkouts
        # taking turns on one cache would each find the other's slot and load cold
        for env in envs:
            env["SEMANTIC_CACHE_DIR"] = tempfile.mkdtemp(prefix="startup-bench-")
        print(f"left: this checkout; right: {args.against}\n")
        header += header[48:]
    if args.instructions:
        header += "".join(f"{'M instr.':>10}" for _ in envs)
    print(header)
    for label, argv in commands():
        for env in envs:
            run(argv, env)  # warm: the disk cache, and the YAML trees a command keeps
        times: list[list[tuple[float, float, bool]]] = [[] for _ in envs]  # by checkout
        for _ in range(args.repeat):
            for kept, env in zip(times, envs, strict=True):
                kept.append(run(argv, env))
        line = f"{label[:47]:<48}" + "".join(summary(kept) for kept in times)
        if args.instructions:
            line += "".join(f"{instructions(argv, env):>10.0f}" for env in envs)
        print(line)
    if args.importtime:
        for label, argv in commands()[1:]:
            slowest, loaded = import_profile(argv, base)
            print(f"\n{label}: loads {', '.join(loaded) or 'none of ' + ', '.join(HEAVY)}")
            for micros, name in slowest:
                print(f"  {micros / 1000:8.1f} ms  {name.strip()}")


if __name__ == "__main__":
    main()
