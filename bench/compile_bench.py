"""Compile-time benchmark: what a business query costs on top of sqlglot itself.

Run from the repository root:

    .venv/bin/python bench/compile_bench.py [--repeat N] [--dialect D] [--cpu]

The project at the repository root is loaded once. For each query, every stage is timed
N times in a row after a warm-up, and the median and 95th percentile are printed in
microseconds:

- sg parse     `sqlglot.parse_one` of the query text
- sg floor     `sqlglot.parse_one` of the query text and generating it back
- parse        `semantic.compiler.parse.parse_query` (parse and resolve names)
- plan         `semantic.compiler.plan.plan_query`
- render       `semantic.compiler.render.render_sql` (pretty=True)
- sg gen out   generating the final tree alone: `build_tree(plan).sql(...)`, tree built once
- compile      `Project.compile`, the whole thing (the project's parse cache cleared first)
- cli compile  what `semantic compile` does once the project is loaded: `Project.compile`
               and `Project.query_warnings` of one text, the project's parse cache cold
- cli query    what `semantic query --explain` compiles before the engine runs:
               `Project.explain`, `Project.compile` and `Project.query_warnings`, cache cold
- overhead     median compile - median sg parse - median sg gen out: our own work

Before the table, the time of `Project.load` (read and check every file) is printed, median
and 95th percentile of 20 loads, in milliseconds.

This is not a test; it only prints. See docs/benchmarks.md for a recorded run.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import sqlglot
import sqlglot.parser
from ruamel.yaml import YAML

from semantic.compiler.dialects import dialect_of
from semantic.compiler.parse import parse_query
from semantic.compiler.plan import plan_query
from semantic.compiler.refs import QUERY_DIALECT
from semantic.compiler.render import build_tree, render_sql
from semantic.errors import SemanticError
from semantic.project import Project

ROOT = Path(__file__).resolve().parents[1]

_TPCH = YAML(typ="safe").load(ROOT / "tests" / "fixtures" / "tpch" / "business-queries.yml")
QUERIES: dict[str, str] = {
    **{name.upper().replace("Q0", "Q"): texts["en"] for name, texts in _TPCH.items()},
    "Q5-fr": _TPCH["q05"]["fr"],
    "multi-entity": "SELECT customer_region, order_count, order_value, line_count, net_revenue, "
    "average_order_value",
}

STAGES = (
    "sg parse",
    "sg floor",
    "parse",
    "plan",
    "render",
    "sg gen out",
    "compile",
    "cli compile",
    "cli query",
)


def measure(
    fn: Callable[[], object], repeat: int, clock: Callable[[], int] = time.perf_counter_ns
) -> tuple[float, float]:
    """Median and 95th percentile of `fn`'s run time in microseconds, after a warm-up."""
    for _ in range(max(10, repeat // 10)):
        fn()
    samples = []
    for _ in range(repeat):
        start = clock()
        fn()
        samples.append(clock() - start)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples) / 1000, p95 / 1000


def machine() -> str:
    """Platform, Python, sqlglot and whether its compiled (sqlglotc) modules are loaded."""
    version = importlib.metadata.version
    try:
        sqlglotc = f"sqlglotc {version('sqlglotc')}"
    except importlib.metadata.PackageNotFoundError:
        sqlglotc = "sqlglotc not installed"
    compiled = (sqlglot.parser.__file__ or "").endswith((".so", ".pyd"))
    loaded = "compiled parser loaded" if compiled else "pure-Python parser"
    return (
        f"{platform.platform()} ({os.cpu_count()} CPUs), {platform.python_implementation()} "
        f"{platform.python_version()}, sqlglot {version('sqlglot')}, {sqlglotc} ({loaded})"
    )


def bench(
    project: Project,
    text: str,
    dialect: str,
    repeat: int,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> dict[str, tuple[float, float]]:
    """Every stage of one query, timed."""
    model = project.model
    query = parse_query(model, text)
    plan = plan_query(model, query)
    tree = build_tree(plan)

    def compile_cold() -> None:
        project._parsed = None  # the project keeps its last parse: time the whole thing
        project.compile(text, dialect, pretty=True)

    def cli_compile() -> None:
        project._parsed = None  # each command runs in a new process: nothing parsed yet
        project.compile(text, dialect, pretty=True)
        project.query_warnings(text)

    def cli_query() -> None:
        project._parsed = None
        project.explain(text)
        project.compile(text, dialect, pretty=False)
        project.query_warnings(text)

    stages: dict[str, Callable[[], object]] = {
        "sg parse": lambda: sqlglot.parse_one(text, read=QUERY_DIALECT),
        "sg floor": lambda: sqlglot.parse_one(text, read=QUERY_DIALECT).sql(
            dialect=dialect, pretty=True
        ),
        "parse": lambda: parse_query(model, text),
        "plan": lambda: plan_query(model, query),
        "render": lambda: render_sql(plan, dialect, pretty=True),
        "sg gen out": lambda: tree.sql(dialect=dialect, pretty=True),
        "compile": compile_cold,
        "cli compile": cli_compile,
        "cli query": cli_query,
    }
    return {name: measure(fn, repeat, clock) for name, fn in stages.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300, help="timed runs per stage")
    parser.add_argument("--dialect", default=None, help="target dialect (project default)")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time this thread's CPU time, not wall time (steadier on a busy machine)",
    )
    args = parser.parse_args()

    project = Project.load(ROOT)
    dialect = args.dialect or project.config.dialect
    try:
        dialect_of(dialect)
    except SemanticError as exc:
        parser.error(exc.diagnostics[0].message)
    load, load_p95 = measure(lambda: Project.load(ROOT), 20)
    print(f"machine: {machine()}")
    print(f"load: {load / 1000:.1f} / {load_p95 / 1000:.1f} ms (Project.load, median / p95)")
    clock = time.thread_time_ns if args.cpu else time.perf_counter_ns
    kind = "CPU time of this thread" if args.cpu else "wall time"
    print(f"dialect: {dialect}, repeat: {args.repeat}; {kind} in µs, median / p95\n")

    header = ["query", *STAGES, "our overhead"]
    rows = []
    for name, text in QUERIES.items():
        times = bench(project, text, dialect, args.repeat, clock)
        overhead = times["compile"][0] - times["sg parse"][0] - times["sg gen out"][0]
        rows.append([name, *(f"{m:.0f} / {p:.0f}" for m, p in times.values()), f"{overhead:.0f}"])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


if __name__ == "__main__":
    main()
