"""What a command loads before it does anything: `import semantic`, `semantic --help`,
`--version` and `compile` each run in a fresh process, and the libraries they do not use
(Arrow, DuckDB, RDF, the web and Spark stacks...) must not be in `sys.modules` when it
exits. Timings are never asserted: bench/startup_bench.py measures them (docs/benchmarks.md,
"Start-up"). Also here: --version, shell completion, and text printed as written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest

import semantic
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.conftest import ROOT

#: libraries that no command below uses
UNUSED = {
    "rdflib",
    "pyarrow",
    "duckdb",
    "fastapi",
    "mcp",
    "pyspark",
    "psycopg",
    "pyshacl",
    "jinja2",
    "openlineage",
}
#: what compiling loads (pydantic only to read a changed file): help and the version need none
COMPILING = {"sqlglot", "pydantic"}
#: what only writing YAML back (fmt) or a file libyaml cannot promise to read needs
ROUND_TRIP = {"ruamel"}

#: run in the child: `import semantic`, or the command of argv, then write the top-level
#: names of the modules loaded (and the full names of semantic's own) to the file
#: $STARTUP_MODULES when the process exits
PROBE = textwrap.dedent(
    """
    import atexit, json, os, sys

    def report():
        names = {name.split(".")[0] for name in sys.modules}
        names = sorted(names | {name for name in sys.modules if name.startswith("semantic.")})
        with open(os.environ["STARTUP_MODULES"], "w") as out:
            json.dump(names, out)

    atexit.register(report)
    if sys.argv[1:] == ["import"]:
        import semantic
    else:
        sys.argv = ["semantic", *sys.argv[1:]]
        from semantic.cli import main
        main()
    """
)


def child_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a child process that imports this checkout's `semantic`."""
    source = str(Path(semantic.__file__).resolve().parents[1])
    paths = [source, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def loaded(tmp_path: Path, *argv: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The top-level modules loaded by `semantic ARGV` (`import` for `import semantic`) run
    in the example project, and what it printed."""
    modules = tmp_path / f"modules-{len(list(tmp_path.glob('modules-*')))}.json"
    env = {**child_env(tmp_path), "STARTUP_MODULES": str(modules)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return set(json.loads(modules.read_text())), done


def test_import_semantic_loads_nothing_else(tmp_path: Path) -> None:
    modules, done = loaded(tmp_path, "import")
    assert done.returncode == 0, done.stderr
    assert modules & (UNUSED | COMPILING | ROUND_TRIP | {"typer", "rich"}) == set()


def test_the_public_names_are_there_when_asked_for() -> None:
    assert semantic.Project is Project
    assert semantic.SemanticError.__module__ == "semantic.errors"
    assert {"Project", "Diagnostic", "SemanticError", "__version__"} <= set(dir(semantic))
    with pytest.raises(AttributeError, match="no attribute 'Projet'"):
        semantic.Projet  # noqa: B018


def test_help_loads_no_library_of_the_commands(tmp_path: Path) -> None:
    modules, done = loaded(tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    assert "compile" in done.stdout and "--version" in done.stdout
    assert modules & (UNUSED | COMPILING | ROUND_TRIP) == set()


def test_version_is_the_package_version(tmp_path: Path) -> None:
    modules, done = loaded(tmp_path, "--version")
    assert (done.returncode, done.stdout) == (0, f"semantic {semantic.__version__}\n")
    assert semantic.__version__ == version("semantic")  # pyproject.toml's
    assert modules & (UNUSED | COMPILING | ROUND_TRIP | {"rich"}) == set()


def test_compile_loads_only_what_it_uses(tmp_path: Path) -> None:
    query = "SELECT customer_region, net_revenue"
    expected = Project.load(ROOT).compile(query) + "\n"
    # twice: once scanning the YAML files, once from the trees kept (semantic.files.cache)
    for _ in range(2):
        modules, done = loaded(tmp_path, "compile", query)
        assert (done.returncode, done.stdout) == (0, expected), done.stderr
        assert modules & (UNUSED | ROUND_TRIP) == set()
        assert modules >= {"sqlglot"}
    # the second time the load is kept (semantic.files.loadcache): no file is parsed, so
    # neither YAML reader is loaded, nor the reading of files and the steps of the build;
    # nor pydantic: typer's conversion of the command's values is spared it
    # (semantic.cli.coercion), semantic.yml's kept object is unpickled only when a nested
    # setting is read (semantic.files.keptconfig), and a query given as text needs no
    # schema of the JSON form (semantic.compiler.jsonspec)
    assert modules & (ROUND_TRIP | {"yaml", "pydantic", "pydantic_core"}) == set()
    assert (
        modules & {"semantic.files.read", "semantic.model.build", "semantic.model.terms"} == set()
    )


def test_views_commands_default_to_the_published_schema() -> None:
    """cli/views.py writes the default schema out so as not to import outputs.views."""
    from semantic.cli.views import DEFAULT_SCHEMA
    from semantic.outputs import views

    assert DEFAULT_SCHEMA == views.DEFAULT_SCHEMA


def test_docs_build_defaults_to_the_catalog_confidentiality() -> None:
    """cli/docs.py writes the default level out so as not to import the catalog's code."""
    from semantic.cli.docs import DEFAULT_LEVEL
    from semantic.outputs.catalog.samples import DEFAULT_MAX_CONFIDENTIALITY

    assert DEFAULT_LEVEL.value == DEFAULT_MAX_CONFIDENTIALITY


def test_completion_prints_a_script_for_each_shell() -> None:
    for shell in ("bash", "zsh", "fish", "powershell"):
        code, out, err = run_cli("completion", shell, project=None)
        assert code == 0, err
        assert "semantic" in out and "_SEMANTIC_COMPLETE" in out
    code, _, err = run_cli("completion", "tcsh", project=None)
    assert code == 2 and "tcsh" in err


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_commands_and_choices(tmp_path: Path) -> None:
    """The printed script, sourced by a real bash, completes through a real `semantic`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "semantic"
    # as pip writes the console script: the program's name is `semantic`
    script.write_text(f"#!{sys.executable}\nfrom semantic.cli import main\nmain()\n")
    script.chmod(0o755)
    env = {**child_env(tmp_path), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}

    def complete(*words: str) -> list[str]:
        line = " ".join(f"'{w}'" for w in words)
        done = subprocess.run(
            [
                "bash",
                "-c",
                f"source <(semantic completion bash); COMP_WORDS=(semantic {line}); "
                f"COMP_CWORD={len(words)}; _semantic_completion semantic; "
                'printf "%s\\n" "${COMPREPLY[@]}"',
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("comp") == ["compile", "completion"]
    assert complete("query", "x", "--format", "") == ["table", "csv", "json"]


def test_text_is_printed_as_written(project: Project) -> None:
    """`:name:` in a query is text: neither compile nor explain turn it into an emoji."""
    query = "SELECT customer_region, net_revenue WHERE customer_region = ':fire:'"
    for command in ("compile", "explain"):
        code, out, err = run_cli(command, query)
        assert code == 0, err
        assert "':fire:'" in out


@pytest.mark.parametrize(("before", "after"), [("", "True"), ("gc.disable(); ", "False")])
def test_the_collector_is_as_it_was_after_the_imports(
    tmp_path: Path, before: str, after: str
) -> None:
    """`semantic.project` pauses the garbage collector while it imports the compiler
    (`semantic.project.importing`), then leaves it as it found it."""
    code = f"import gc; {before}import semantic.project; print(gc.isenabled())"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=child_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout.strip()) == (0, after), done.stderr
