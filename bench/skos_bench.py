"""`semantic import skos`, `check` and `search` on a large generated thesaurus: how their
times grow with the number of concepts.

Run from the repository root:

    .venv/bin/python bench/skos_bench.py [--concepts 1000,5000] [--profile]

For each size, `bench/skos_vocabulary.py` writes a thesaurus shaped like UNESCO's or
AGROVOC's (a hierarchy eight wide, labels and three synonyms in each of three languages,
dates, SKOS-XL labels, matches) and a small project is written next to it. Then, each in a
fresh process: `semantic import skos` into the project, `semantic check`, `semantic search`
of one label, `semantic export rdf`, then `check` and `search` again (warm: with the caches
the first runs wrote). The parse of the file by rdflib alone is timed
first (in this process), as the floor of the import. With `--profile`, the import of the
largest size is also run under cProfile and the 20 most expensive functions printed.

This is not a test; it only prints. See docs/benchmarks.md for a recorded run.
"""

from __future__ import annotations

import argparse
import cProfile
import platform
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from skos_vocabulary import vocabulary_turtle  # noqa: E402

CONFIG = "name: thesaurus\nlanguages: [en, fr, es]\n"
MODEL = "entities:\n  orders:\n    primary_key: [id]\n    columns:\n      id: {type: integer}\n"
GLOSSARY = "domain: base\nterms:\n  order_count:\n    label: {en: Order count}\n"
GLOSSARY += "    metric: {entity: orders, expr: count(*)}\n"


def write_project(root: Path) -> Path:
    """A project with one entity and one term, to import into."""
    for name, text in (
        ("semantic.yml", CONFIG),
        ("models/m.yml", MODEL),
        ("glossary/base.yml", GLOSSARY),
    ):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


#: CPU seconds of the commands run so far, one per command (wall times vary with the load of
#: the shared machine; CPU times much less)
CPU: list[float] = []


def run(root: Path, *args: str) -> tuple[float, int]:
    """Wall seconds and exit code of `semantic --project ROOT ARGS...` in a fresh process
    (its CPU seconds are appended to `CPU`)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "semantic.cli", "--project", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    if done.returncode != 0:
        print(done.stderr[-1500:], file=sys.stderr)
    return seconds, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concepts", default="1000,5000", help="comma-separated sizes")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest import")
    args = parser.parse_args()
    sizes = [int(s) for s in args.concepts.split(",")]
    from rdflib import Graph

    print(f"machine: {platform.platform()}, CPython {platform.python_version()}")
    print(
        f"{'concepts':>8} {'MB':>5} {'rdflib':>7} {'import':>7} {'check':>7} "
        f"{'search':>7} {'export':>7} {'check2':>7} {'search2':>7}  exit codes"
    )
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"thesaurus{size}.ttl"
            path.write_text(vocabulary_turtle(size), encoding="utf-8")
            started = time.perf_counter()
            Graph().parse(path)
            parse = time.perf_counter() - started
            root = write_project(Path(folder) / f"p{size}")
            imported, code1 = run(root, "import", "skos", str(path), "--format", "json")
            checked, code2 = run(root, "check")
            searched, code3 = run(root, "search", f"Topic {size - 1}")
            exported, code4 = run(root, "export", "rdf", "--output", str(root / "out.ttl"))
            # warm: the same again, with what the first runs kept (`.semantic/` caches)
            again, code5 = run(root, "check")
            found, code6 = run(root, "search", f"Topic {size - 1}")
            megabytes = path.stat().st_size / 1e6
            print(
                f"{size:>8} {megabytes:>5.1f} {parse:>7.1f} {imported:>7.1f} {checked:>7.1f} "
                f"{searched:>7.1f} {exported:>7.1f} {again:>7.1f} {found:>7.1f}  "
                f"{code1} {code2} {code3} {code4} {code5} {code6}"
            )
            print(f"{'cpu':>8} {'':>5} {'':>7} " + " ".join(f"{t:>7.1f}" for t in CPU[-6:]))
        if args.profile:
            from semantic.interchange.skos import import_skos

            path = Path(folder) / f"thesaurus{sizes[-1]}.ttl"
            profile = cProfile.Profile()
            profile.runcall(import_skos, path, language="en")
            pstats.Stats(profile).sort_stats("cumulative").print_stats(20)


if __name__ == "__main__":
    main()
