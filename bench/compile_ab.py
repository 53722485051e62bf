"""Compile time of the TPC-H business queries, two versions of the code side by side.

Run from the repository root, with the `src` folder of another checkout (an older commit,
made with `git worktree add` or `git archive`) as `--before`:

    .venv/bin/python bench/compile_ab.py --before /tmp/old/src [--after src]
        [--rounds 6] [--repeat 40]

Each round runs one fresh process per version, one after the other (before, then after),
so that both see the same load of a shared machine. A process loads the project at the
repository root once (`Project.load`), compiles every query of
tests/fixtures/tpch/business-queries.yml once to warm up, then `--repeat` times more,
timing each `Project.compile` with `time.process_time_ns` (CPU time) and the project's
last parse cleared first (`_parsed`: nothing kept from the run before, as
bench/compile_bench.py and bench/issue20.py do; no plan cache). The samples of all rounds
are pooled; the table gives each query's median and 95th percentile in ms for both
versions and the ratio of the medians.

This is not a test; it only prints.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: what each process runs: prints {query: [ns, ...]} as JSON
CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import tpch_ratio_bench
from semantic.project import Project
project = Project.load(sys.argv[2])
queries = tpch_ratio_bench.business_queries()
samples = {name: [] for name in queries}
def once(text):
    project._parsed = None
    project.compile(text)
for text in queries.values():
    once(text)
for _ in range(int(sys.argv[3])):
    for name, text in queries.items():
        start = time.process_time_ns()
        once(text)
        samples[name].append(time.process_time_ns() - start)
print(json.dumps(samples))
"""


def run(src: Path, repeat: int) -> dict[str, list[int]]:
    """One process compiling every query `repeat` times with the code in `src`."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, "-c", CHILD, str(ROOT / "bench"), str(ROOT), str(repeat)]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def p95(values: list[int]) -> int:
    """The 95th percentile of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="src folder of the old code")
    parser.add_argument("--after", type=Path, default=ROOT / "src", help="src folder (new)")
    parser.add_argument("--rounds", type=int, default=6, help="alternated process pairs")
    parser.add_argument("--repeat", type=int, default=40, help="timed compiles per query")
    args = parser.parse_args()
    pooled: dict[str, dict[str, list[int]]] = {"before": {}, "after": {}}
    for _ in range(args.rounds):
        for label, src in (("before", args.before), ("after", args.after)):
            for name, values in run(src.resolve(), args.repeat).items():
                pooled[label].setdefault(name, []).extend(values)
    print(f"CPU ms per compile, median / p95 over {args.rounds} × {args.repeat} runs")
    print(f"{'query':6} {'before':>15} {'after':>15} {'after/before':>13}")
    sums = [0.0, 0.0]
    for name, before in pooled["before"].items():
        after = pooled["after"][name]
        b, a = statistics.median(before) / 1e6, statistics.median(after) / 1e6
        sums[0] += b
        sums[1] += a
        print(
            f"{name:6} {b:6.3f} / {p95(before) / 1e6:6.3f} {a:6.3f} / {p95(after) / 1e6:6.3f} "
            f"{a / b:13.2f}"
        )
    print(f"{'sum':6} {sums[0]:15.2f} {sums[1]:15.2f} {sums[1] / sums[0]:13.2f}")


if __name__ == "__main__":
    main()
