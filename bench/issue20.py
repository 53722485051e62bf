"""Every figure of the performance issue (#20) against its target, in one table.

Run from the repository root:

    .venv/bin/python bench/issue20.py [--repeat 300] [--rounds 5] [--scale 1]
        [--postgres URL --pg-scale 0.1] [--skip compile,ratios,duckdb,glossary,startup]

Each row is measured here, the same way as the benchmark that studies it in detail
(docs/benchmarks.md):

- **compile** (`bench/compile_bench.py`): `Project.compile` of each TPC-H business query of
  tests/fixtures/tpch/business-queries.yml (read from the file: a query added there is
  measured too), the model loaded, nothing parsed yet; median and 95th percentile of the
  thread's CPU time over `--repeat` runs, beside sqlglot's own part (parsing the query text
  plus generating the SQL from the tree built, the floor of any compiler built on sqlglot).
  **From a cache**: the same with the project's plan cache (`semantic.serve.cache.PlanCache`,
  the server's) holding the query.
- **generated vs official SQL** (`bench/tpch_ratio_bench.py`): run time ratio of each business
  query's SQL to the official TPC-H SQL on DuckDB at `--scale` (data made by tpchgen-cli),
  alternated, `--rounds` rounds; with `--postgres`, the same on PostgreSQL at `--pg-scale`,
  and every generated query's PostgreSQL plan (`EXPLAIN`) searched for a join that cannot
  hash: a `Nested Loop` over two inputs estimated above 1,000 rows each, or a join
  condition with `IS NOT DISTINCT FROM`.
- **load + check of 10,000 terms** (`bench/glossary_gen.py`): `semantic check` of a generated
  project of 10,000 terms over 1,000 entities in a fresh process, cold then warm; and
  `Project.compile` of one query over it.
- **start-up and memory** (`bench/startup_bench.py`): `semantic compile` of one query in the
  example project, in fresh processes (median wall and CPU time), and the resident memory of
  a process after `Project.load` and one compile.

The bytecode of the semantic measured is written first (`compileall`), as an installed
package has it. The machine is shared: a wall time waits for a free CPU. The CPU times and
the ratios of alternated runs move less; see the spreads printed above the table.

This is not a test; it only prints.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import glossary_gen  # noqa: E402
import sqlglot  # noqa: E402
import tpch_ratio_bench  # noqa: E402

from semantic.compiler.refs import QUERY_DIALECT  # noqa: E402
from semantic.compiler.render import build_tree  # noqa: E402
from semantic.project import Project  # noqa: E402
from semantic.serve.cache import PlanCache  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUERY = "SELECT customer_region, net_revenue"
#: prints the resident memory (kB) of a process that loaded a project and compiled one query
RSS_PROBE = (
    "import sys; from semantic.project import Project; p = Project.load(sys.argv[1]); "
    "p.compile(sys.argv[2]); "
    "print([int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS')][0])"
)


class Row:
    """One figure: what, the value measured, the target and whether it is met."""

    def __init__(self, figure: str, measured: str, target: str, met: bool | None) -> None:
        self.figure, self.measured, self.target, self.met = figure, measured, target, met


def samples(fn: Any, repeat: int) -> list[float]:
    """CPU times of `fn` in ms (this thread's: steadier than wall time on a shared machine),
    after a warm-up, sorted."""
    for _ in range(max(10, repeat // 10)):
        fn()
    times = []
    for _ in range(repeat):
        start = time.thread_time_ns()
        fn()
        times.append((time.thread_time_ns() - start) / 1e6)
    return sorted(times)


def p95(times: list[float]) -> float:
    """The 95th percentile of sorted `times`."""
    return times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def compile_rows(repeat: int) -> list[Row]:
    """Compile latency of every TPC-H business query, cold and from the plan cache."""
    project = Project.load(ROOT)
    queries = tpch_ratio_bench.business_queries()
    cold: dict[str, list[float]] = {}
    cached: dict[str, list[float]] = {}
    floor: dict[str, float] = {}
    for name, text in queries.items():

        def fresh(text: str = text) -> None:
            project._parsed = None  # the project keeps its last parse: time the whole thing
            project.compile(text)

        cold[name] = samples(fresh, repeat)
        project.plans = PlanCache(1000, "bench")
        cached[name] = samples(lambda text=text: project.compile(text), repeat)
        project.plans = None
        # sqlglot's own part: parsing the query text and generating the SQL from our tree
        tree = build_tree(project.plan(text))
        parse = samples(lambda text=text: sqlglot.parse_one(text, read=QUERY_DIALECT), repeat)
        generate = samples(lambda tree=tree: tree.sql(dialect="duckdb", pretty=True), repeat)
        floor[name] = statistics.median(parse) + statistics.median(generate)
    print(f"\ncompile, ms of CPU, median / p95 over {repeat} runs (model loaded)")
    print(f"{'query':6} {'cold':>14} {'cached':>16} {'sqlglot floor':>14} {'ours':>6}")
    for name in queries:
        c, k = cold[name], cached[name]
        print(
            f"{name:6} {statistics.median(c):6.3f} / {p95(c):5.3f} "
            f"{statistics.median(k):7.4f} / {p95(k):6.4f} {floor[name]:14.3f} "
            f"{statistics.median(c) - floor[name]:6.3f}"
        )
    medians = {n: statistics.median(t) for n, t in cold.items()}
    cache_medians = {n: statistics.median(t) for n, t in cached.items()}
    under = sum(m < 0.5 for m in medians.values())
    floors = sum(f >= 0.5 for f in floor.values())
    rows = [
        Row(
            f"compile, the {len(queries)} TPC-H business queries (median)",
            f"{min(medians.values()):.2f}-{max(medians.values()):.2f} ms, "
            f"{under} under 0.5 (median of medians {statistics.median(medians.values()):.2f})",
            "< 0.5 ms each",
            under == len(medians),
        ),
        Row(
            "  sqlglot's own parse + generate of the same",
            f"{min(floor.values()):.2f}-{max(floor.values()):.2f} ms, "
            f"{floors} at or over 0.5 by itself",
            "(the floor)",
            None,
        ),
        Row(
            "compile, the same, p95",
            f"{min(p95(t) for t in cold.values()):.2f}-{max(p95(t) for t in cold.values()):.2f} ms",
            "(not set)",
            None,
        ),
        Row(
            "compile from the plan cache (median)",
            f"{min(cache_medians.values()) * 1000:.0f}-{max(cache_medians.values()) * 1000:.0f} µs",
            "< 0.05 ms",
            max(cache_medians.values()) < 0.05,
        ),
    ]
    for label, text in (
        ("revenue by region", QUERY),
        ("Q01", queries["q01"]),
        ("Q05", queries["q05"]),
    ):

        def fresh_one(text: str = text) -> None:
            project._parsed = None
            project.compile(text)

        times = samples(fresh_one, repeat)
        rows.append(
            Row(
                f"compile, {label} (median / p95)",
                f"{statistics.median(times):.2f} / {p95(times):.2f} ms",
                "< 0.5 ms",
                statistics.median(times) < 0.5,
            )
        )
    return rows


def hash_defeats(cursor: Any, sql: str) -> list[str]:
    """The joins of `sql`'s PostgreSQL plan that cannot hash: a Nested Loop over two inputs
    estimated above 1,000 rows each, a join condition with IS NOT DISTINCT FROM."""
    cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        children = node.get("Plans", [])
        big = len(children) == 2 and all(c.get("Plan Rows", 0) > 1000 for c in children)
        if node["Node Type"] == "Nested Loop" and big:
            found.append(f"Nested Loop over {[c['Plan Rows'] for c in children]} rows")
        for key in ("Hash Cond", "Merge Cond", "Join Filter"):
            if "IS NOT DISTINCT FROM" in str(node.get(key, "")).upper():
                found.append(f"{node['Node Type']} on {node[key]}")
        for child in children:
            walk(child)

    walk(cursor.fetchone()[0][0]["Plan"])
    return found


def ratio_rows(
    scale: float, rounds: int, postgres: str | None, pg_scale: float, skip: set[str]
) -> list[Row]:
    """Generated / official run time on DuckDB (and PostgreSQL) per query, geometric mean
    (`skip` holding `duckdb`: PostgreSQL only)."""
    from semantic.engines.datagen import ensure_tpch
    from semantic.engines.duckdb import DuckDBEngine
    from semantic.files.cache import cache_dir

    project = Project.load(ROOT)
    queries = tpch_ratio_bench.business_queries()
    rows = []
    for engine, url, at in (("DuckDB", None, scale), ("PostgreSQL", postgres, pg_scale)):
        if engine == "DuckDB" and "duckdb" in skip:
            continue
        if engine == "PostgreSQL" and url is None:
            rows.append(Row("generated vs official, PostgreSQL", "not run", "<= 1.10", None))
            continue
        folder = cache_dir() / "bench" / f"tpch-sf{at:g}"
        ensure_tpch(folder, at)
        duck = DuckDBEngine(project.model, folder, "parquet")
        if url is None:
            pairs = {
                n: (project.compile(t), tpch_ratio_bench.official(n)) for n, t in queries.items()
            }
            run = runner(duck.connection)
        else:
            cursor = tpch_ratio_bench.postgres_cursor(project, url, duck, at)
            run = runner(cursor)
            pairs = {
                n: (
                    project.compile(t, "postgres"),
                    tpch_ratio_bench.sqlglot.transpile(
                        tpch_ratio_bench.official(n), read="duckdb", write="postgres"
                    )[0],
                )
                for n, t in queries.items()
            }
        ratios = tpch_ratio_bench.compare(f"{engine}, scale {at:g}", run, pairs, rounds)
        mean = tpch_ratio_bench.geomean(ratios.values())
        worst = max(ratios, key=lambda n: ratios[n])
        over = sorted(n for n, r in ratios.items() if r > 1.10)
        target = "<= 1.02 geomean" if url is None else "<= 1.10 geomean"
        rows.append(
            Row(
                f"generated vs official, {engine} SF{at:g} ({len(ratios)} queries, geomean)",
                f"{mean:.3f}",
                target,
                mean <= (1.02 if url is None else 1.10),
            )
        )
        rows.append(
            Row(
                f"  highest ratio, {engine}",
                f"{worst} {ratios[worst]:.2f}; over 1.10: {', '.join(over) or 'none'}",
                "no query above 1.10",
                not over,
            )
        )
        if url is not None:
            defeats = {n: hash_defeats(cursor, g) for n, (g, _) in pairs.items()}
            bad = {n: d for n, d in defeats.items() if d}
            for name, found in bad.items():
                print(f"{name}: {'; '.join(found)}")
            rows.append(
                Row(
                    "  PostgreSQL plans: joins that cannot hash",
                    ", ".join(sorted(bad)) or "none",
                    "none",
                    not bad,
                )
            )
    return rows


def runner(cursor: Any) -> Callable[[str], Any]:
    """A function that runs SQL on `cursor` (DuckDB's connection or a psycopg cursor) and
    fetches every row."""

    def run(sql: str) -> Any:
        cursor.execute(sql)
        return cursor.fetchall()

    return run


def child_check(root: Path, cache: Path) -> tuple[float, float]:
    """Wall and CPU seconds of `semantic check` of `root` in a fresh process."""
    seconds, cpu, code, last = glossary_gen.run_check(root, cache)
    if code != 0:
        raise SystemExit(f"semantic check failed: {last}")
    return seconds, cpu


def glossary_rows() -> list[Row]:
    """Load + check of 10,000 generated terms, cold and warm; compile over them."""
    with tempfile.TemporaryDirectory(prefix="issue20-") as folder:
        root = glossary_gen.write_project(Path(folder) / "p", 10_000, 1_000)
        cache = Path(folder) / "cache"
        cold = child_check(root, cache)
        warm = [child_check(root, cache) for _ in range(3)]
        os.environ["SEMANTIC_CACHE_DIR"] = str(cache)
        project = Project.load(root)
        text = "SELECT term_0, term_2, term_5002"

        def fresh() -> None:
            project._parsed = None
            project.compile(text)

        times = samples(fresh, 200)
    wall = statistics.median(w for w, _ in warm)
    cpu = statistics.median(c for _, c in warm)
    print(
        f"\n10,000 terms: cold {cold[0]:.2f} s ({cold[1]:.2f} CPU), "
        f"warm {[round(w, 2) for w, _ in warm]} s"
    )
    return [
        Row(
            "load + check, 10,000 terms, warm (fresh process)",
            f"{wall:.2f} s wall, {cpu:.2f} s CPU",
            "< 1 s (CPU: wall waits on a busy machine)",
            cpu < 1.0,
        ),
        Row(
            "  the same, cold (first run, no cache)",
            f"{cold[0]:.2f} s wall, {cold[1]:.2f} s CPU",
            "< 1 s (CPU)",
            cold[1] < 1.0,
        ),
        Row(
            "compile over 10,000 terms (median / p95)",
            f"{statistics.median(times):.2f} / {p95(times):.2f} ms",
            "< 1 ms",
            statistics.median(times) < 1.0,
        ),
    ]


def startup_rows(repeat: int) -> list[Row]:
    """`semantic compile` in fresh processes, and the memory of load + one compile."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    script = Path(sys.executable).with_name("semantic")
    semantic = [str(script)] if script.exists() else [sys.executable, "-m", "semantic.cli"]
    argv = [*semantic, "compile", QUERY]
    subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=True)  # warm caches
    walls, cpus, peaks = [], [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", WRAP, *argv], cwd=ROOT, env=env, capture_output=True
        )
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        peaks.append(json.loads(done.stdout.splitlines()[-1])["maxrss_kb"] / 1024)
    rss = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, str(ROOT), QUERY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    resident = int(rss.stdout.split()[-1]) / 1024
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    return [
        Row(
            f"CLI cold start, `semantic compile` (median of {repeat} fresh processes)",
            f"{wall:.2f} s wall (least {min(walls):.2f}), {cpu:.2f} s CPU",
            "< 0.3 s (CPU)",
            cpu < 0.3,
        ),
        Row(
            "RSS after load and one compile",
            f"{resident:.1f} MB (Project.load + compile); "
            f"`semantic compile` peak {statistics.median(peaks):.1f} MB",
            "< 60 MB",
            resident < 60,
        ),
    ]


#: runs the command of argv in a child and prints its peak memory: the parent's
#: RUSAGE_CHILDREN keeps the largest child ever, not this one's
WRAP = (
    "import json, resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
    "print(json.dumps({'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))"
)


def _compile_bytecode() -> None:
    """Write the `.pyc` files of the semantic being measured: an installed package has them,
    and where PYTHONDONTWRITEBYTECODE is set (this machine) every fresh process would
    otherwise compile semantic's modules from source, about 0.2 s that no user pays."""
    import compileall

    import semantic

    compileall.compile_dir(str(Path(semantic.__file__).parent), quiet=1)


def main() -> None:
    """Measure each figure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=300, help="timed compiles per query")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each TPC-H pair")
    parser.add_argument("--scale", type=float, default=1.0, help="TPC-H scale on DuckDB")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL (its own schema)")
    parser.add_argument("--pg-scale", type=float, default=0.1, help="TPC-H scale there")
    parser.add_argument("--starts", type=int, default=9, help="fresh processes timed")
    parser.add_argument("--skip", default="", help="compile,ratios,duckdb,glossary,startup")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    rows: list[Row] = []
    _compile_bytecode()
    if "compile" not in skip:
        rows += compile_rows(args.repeat)
    if "ratios" not in skip:
        rows += ratio_rows(args.scale, args.rounds, args.postgres, args.pg_scale, skip)
    if "glossary" not in skip:
        rows += glossary_rows()
    if "startup" not in skip:
        rows += startup_rows(args.starts)

    print(f"\nissue #20, {time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.1f}")
    widths = [max(len(r.figure) for r in rows), max(len(r.measured) for r in rows)]
    widths.append(max(len(r.target) for r in rows))
    for row in rows:
        verdict = {True: "met", False: "MISSED", None: "-"}[row.met]
        print(
            f"{row.figure:{widths[0]}}  {row.measured:{widths[1]}}  "
            f"{row.target:{widths[2]}}  {verdict}"
        )


if __name__ == "__main__":
    main()
