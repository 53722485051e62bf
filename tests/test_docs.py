"""The documentation tells the truth: its queries run, its results and messages are real.

Conventions for fenced code blocks in README.md and docs/ (query-language, errors, tpch)
(the tag is the word after the opening three backticks):

- `sql`: a business query. Each one is run with `Project.query()` on the default project and
  must succeed. Bind `$parameters` in an HTML comment on the line just above the fence:
  `<!-- params: region=ASIA since=1998-01-01 -->` (shell-like NAME=VALUE words; quote a value
  with spaces: `region="MIDDLE EAST"`; each value is text, read as the type of what the
  parameter is compared with, as `semantic query --param` does).
- `csv`: when the previous fenced block is a `sql` block, its expected result, exactly as
  `semantic query --format csv` prints it. Rows are compared in order (numbers with a relative
  tolerance of 1e-9), so give such queries an ORDER BY. A last line `...` means "more rows
  follow" and only the rows shown are compared.
- `console` (docs/ only): a shell session. Each line `$ semantic query|compile|explain ...`
  (with only the options --format/-f, --param, --dialect/-d, --role, --user-attr) is rerun on
  the default project, and what is printed under it, if anything, is checked: an error's first line
  (`<query>:1:8: SEM303 unknown term ...`) must be identical, compiled SQL and explanations
  must be identical, and `--format csv` output is compared like a `csv` block. `\\$` in a
  command stands for `$`. Other commands are shown, not run.
- Anything else is shown, not run: `text` for errors from a modified project or a query with
  its message, `sql-output` for compiled SQL shown without its command, `yaml`, `python`...

docs/errors.md must have exactly one `## SEMnnn ...` heading per code of
`semantic.errors.CODES`, and no other heading naming a code.

In docs/quality.md, a `yaml` block just below `<!-- rules of entity ID -->` or
`<!-- rules of term ID -->` is a `quality:` mapping: it is added to that entity or term of a
copy of the default project, which must pass `semantic check`, and each of its rules must
pass on the data.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import math
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from semantic.cli import parse_params
from semantic.errors import CODES, SemanticError
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.test_tpch import CASES

ROOT = Path(__file__).resolve().parents[1]
QUERY_DOCS = ("README.md", "docs/query-language.md", "docs/errors.md", "docs/tpch.md")
CONSOLE_DOCS = (
    "docs/query-language.md",
    "docs/errors.md",
    "docs/dialects.md",
    "docs/engines.md",
    "docs/governance.md",
)
ERRORS_DOC = ROOT / "docs" / "errors.md"

ACCEPTANCE = {
    name.replace("q0", "Q").replace("q", "Q"): CASES[name][0]
    for name in ("q01", "q03", "q05", "q06", "q10")
}

_FENCE = re.compile(r"^```\s*([\w+-]*)")
_PARAMS = re.compile(r"^<!--\s*params:(.*?)-->\s*$")
_CODE_HEADING = re.compile(r"^## (SEM\d{3})\b")
_ANY_CODE = re.compile(r"\bSEM\d{3}\b")


# --- reading the documents -----------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, its tag, its text and the line just above it."""

    file: str
    line: int
    tag: str
    text: str
    above: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def blocks(name: str) -> list[Block]:
    """The fenced blocks of the document `name` (relative to ROOT), in order."""
    path = ROOT / name
    if not path.exists():
        return []
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        start, body = i, []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        above = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        found.append(Block(name, start + 1, match.group(1).lower(), "\n".join(body), above))
        i += 1
    return found


def params_of(block: Block) -> dict[str, Any]:
    match = _PARAMS.match(block.above.strip())
    if not match:
        return {}
    return parse_params(shlex.split(match.group(1)))


def query_cases() -> Iterator[Any]:
    for name in QUERY_DOCS:
        found = blocks(name)
        for i, block in enumerate(found):
            if block.tag != "sql":
                continue
            following = found[i + 1] if i + 1 < len(found) else None
            expected = following.text if following and following.tag == "csv" else None
            yield pytest.param(block, expected, id=block.where)


@dataclass(frozen=True)
class Command:
    """A `semantic` command of a console block and the output shown under it."""

    where: str
    argv: tuple[str, ...]
    output: str


def console_cases() -> Iterator[Any]:
    for name in CONSOLE_DOCS:
        for block in blocks(name):
            if block.tag != "console":
                continue
            for command in commands(block):
                yield pytest.param(command, id=f"{command.where} {command.argv[1]}")


def commands(block: Block, programs: tuple[str, ...] = ("semantic",)) -> list[Command]:
    """The commands of a console block that call one of `programs`, with what each prints."""
    found: list[Command] = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            i += 1
            continue
        start = i
        text = lines[i][2:]
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + lines[i]
        i += 1
        output = []
        while i < len(lines) and not lines[i].startswith("$ "):
            output.append(lines[i])
            i += 1
        argv = tuple(arg.replace("\\$", "$") for arg in shlex.split(text))
        if len(argv) > 1 and argv[0] in programs:
            found.append(
                Command(f"{block.file}:{block.line + 1 + start}", argv, "\n".join(output).strip())
            )
    return found


# --- running and comparing -----------------------------------------------------------------


def rendered(exc: SemanticError) -> str:
    return "\n".join(d.render() for d in exc.diagnostics)


def same_cell(expected: str, actual: Any) -> bool:
    if actual is None:
        return expected == ""
    if isinstance(actual, bool):
        return expected == str(actual)
    if isinstance(actual, int | float | decimal.Decimal):
        try:
            return math.isclose(float(expected), float(actual), rel_tol=1e-9, abs_tol=1e-12)
        except ValueError:
            return False
    if isinstance(actual, dt.date | dt.datetime):
        return expected == actual.isoformat()
    return expected == str(actual)


def assert_result(where: str, expected: str, result: pa.Table) -> None:
    rows = list(csv.reader(io.StringIO(expected.strip() + "\n")))
    assert rows, f"{where}: empty csv block"
    header, body = rows[0], rows[1:]
    assert header == result.column_names, f"{where}: documented columns differ"
    actual = result.to_pylist()
    if body and body[-1] == ["..."]:
        body = body[:-1]
        assert len(actual) >= len(body), f"{where}: fewer rows than documented"
        actual = actual[: len(body)]
    else:
        assert len(actual) == len(body), f"{where}: {len(actual)} rows, documented {len(body)}"
    for n, (want, got) in enumerate(zip(body, actual, strict=True), start=1):
        values = [got[c] for c in result.column_names]
        assert len(want) == len(values) and all(
            same_cell(w, v) for w, v in zip(want, values, strict=True)
        ), f"{where}: row {n} is {values}, documented {want}"


def run_command(project: Project, command: Command) -> tuple[str, Any]:
    """Run a console command through the Python API: ('ok', value) or ('error', text).

    Returns ('skip', None) for what the test does not run."""
    sub, *rest = command.argv[1:]
    options: dict[str, str] = {}
    params: dict[str, Any] = {}
    positional: list[str] = []
    role: str | None = None
    user: dict[str, str] = {}
    explained = False
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--explain" and sub == "query":
            explained = True
            i += 1
        elif arg in ("--format", "-f", "--dialect", "-d") and i + 1 < len(rest):
            options[arg.lstrip("-")[0]] = rest[i + 1]
            i += 2
        elif arg == "--param" and i + 1 < len(rest):
            params.update(parse_params([rest[i + 1]]))
            i += 2
        elif arg == "--role" and i + 1 < len(rest):
            role = rest[i + 1]
            i += 2
        elif arg == "--user-attr" and i + 1 < len(rest):
            key, _, value = rest[i + 1].partition("=")
            user[key] = value
            i += 2
        elif arg.startswith("-"):
            return "skip", None
        else:
            positional.append(arg)
            i += 1
    if sub not in ("query", "compile", "explain") or len(positional) != 1:
        return "skip", None
    text = positional[0]
    try:
        if sub == "query" and explained:
            return "ok", (
                project.explain(text, role, user),
                project.query(text, params, role=role, user=user),
            )
        if sub == "query":
            return "ok", project.query(text, params, role=role, user=user)
        if sub == "compile":
            return "ok", project.compile(text, options.get("d"), role=role, user=user)
        return "ok", project.explain(text, role, user)
    except SemanticError as exc:
        return "error", rendered(exc)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def docs_project(request: pytest.FixtureRequest) -> Project:
    """The `project` fixture of conftest.py when there is one, else the project at ROOT."""
    try:
        return request.getfixturevalue("project")
    except pytest.FixtureLookupError:
        loaded = Project.load(ROOT)
        loaded.prepare_data()
        return loaded


# --- (a) queries and results ---------------------------------------------------------------


@pytest.mark.parametrize(("block", "expected"), list(query_cases()))
def test_documented_query_runs(docs_project: Project, block: Block, expected: str | None) -> None:
    try:
        result = docs_project.query(block.text, params_of(block))
    except SemanticError as exc:
        pytest.fail(
            f"{block.where}: documented query fails (tag the block `text` if that is meant):\n"
            + rendered(exc)
        )
    if expected is not None:
        assert_result(block.where, expected, result)


@pytest.mark.parametrize("command", list(console_cases()))
def test_documented_command_prints_what_is_shown(docs_project: Project, command: Command) -> None:
    status, value = run_command(docs_project, command)
    if status == "skip":
        pytest.skip("not a command this test runs")
    shown = command.output
    if _ANY_CODE.search(shown.splitlines()[0] if shown else ""):
        assert status == "error", f"{command.where}: documented as an error, but it runs"
        assert value.splitlines()[0] == shown.splitlines()[0], command.where
        return
    assert status == "ok", f"{command.where}: documented command fails:\n{value}"
    if not shown:
        return
    if isinstance(value, tuple):  # query --explain: the explanation (stderr), then the rows
        explanation, value = value
        lines = shown.splitlines()
        told = explanation.splitlines()
        assert lines[: len(told)] == told, f"{command.where}: explanation differs"
        shown = "\n".join(lines[len(told) :])
    if isinstance(value, pa.Table):
        if command.argv.count("csv") and any(a in ("-f", "--format") for a in command.argv):
            assert_result(command.where, shown, value)
        return
    assert [line.rstrip() for line in value.strip().splitlines()] == [
        line.rstrip() for line in shown.splitlines()
    ], f"{command.where}: output differs from the documentation"


def test_the_documents_have_runnable_examples() -> None:
    """Guard against a parser change that silently finds nothing."""
    cases = list(query_cases())
    assert sum(c.values[0].file == "docs/query-language.md" for c in cases) >= 20
    assert sum(c.values[1] is not None for c in cases) >= 10
    assert len(list(console_cases())) >= 20


def test_acceptance_queries_are_documented() -> None:
    documented = {
        " ".join(b.text.split()) for b in blocks("docs/query-language.md") if b.tag == "sql"
    }
    missing = [name for name, text in ACCEPTANCE.items() if text not in documented]
    assert not missing, f"TPC-H queries missing from docs/query-language.md: {missing}"


# --- (c) key numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "column", "value"),
    [
        pytest.param(ACCEPTANCE["Q6"], "discount_amount", "1193053.2253", id="Q6"),
        pytest.param(ACCEPTANCE["Q5"], "net_revenue", "1000926.6999", id="Q5"),
        pytest.param(ACCEPTANCE["Q1"], "line_count", "14876", id="Q1"),
    ],
)
def test_key_numbers_are_documented_and_true(
    docs_project: Project, query: str, column: str, value: str
) -> None:
    """The headline numbers are in the document and are what the engine computes."""
    text = (ROOT / "docs" / "query-language.md").read_text(encoding="utf-8")
    assert value in text
    first = docs_project.query(query).to_pylist()[0]
    assert same_cell(value, first[column])


# --- (b) error codes -----------------------------------------------------------------------


def test_every_error_code_has_a_heading() -> None:
    headings = [
        m.group(1)
        for line in ERRORS_DOC.read_text(encoding="utf-8").splitlines()
        if (m := _CODE_HEADING.match(line))
    ]
    assert sorted(set(CODES) - set(headings)) == [], "codes without a `## SEMnnn` heading"
    assert sorted(set(headings) - set(CODES)) == [], "headings naming unknown codes"
    assert len(headings) == len(set(headings)), "a code has two headings"
    assert headings == sorted(headings), "keep the codes in order"


def test_no_other_heading_names_a_code() -> None:
    for line in ERRORS_DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") and _ANY_CODE.search(line):
            assert _CODE_HEADING.match(line), f"'{line}': write code headings as `## SEMnnn ...`"


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_between_the_docs_resolve() -> None:
    for name in ("docs/files.md", "docs/query-language.md", "docs/errors.md", "docs/lineage.md"):
        source = ROOT / name
        for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", source.read_text()):
            if target.startswith(("http:", "https:")):
                continue
            path = (source.parent / target).resolve() if target else source
            assert path.exists(), f"{name}: link to missing {target}"
            if anchor:
                headings = [
                    slug(line.lstrip("#"))
                    for line in path.read_text(encoding="utf-8").splitlines()
                    if line.startswith("#")
                ]
                assert anchor in headings, f"{name}: no heading #{anchor} in {path.name}"


def test_every_code_mentioned_in_the_docs_exists() -> None:
    for name in (
        "README.md",
        "docs/files.md",
        "docs/query-language.md",
        "docs/errors.md",
        "docs/tpch.md",
        "docs/lineage.md",
    ):
        path = ROOT / name
        if path.exists():
            unknown = set(_ANY_CODE.findall(path.read_text(encoding="utf-8"))) - set(CODES)
            assert not unknown, f"{name} mentions unknown codes {sorted(unknown)}"


# --- (d) lineage and translate, run through the command line --------------------------------

#: documents whose `console` blocks of these commands are rerun through the command line and
#: must print exactly what they show (standard output, then standard error)
CLI_DOCS = ("docs/lineage.md",)
CLI_COMMANDS = ("lineage", "translate")


def cli_cases() -> Iterator[Any]:
    for name in CLI_DOCS:
        for block in blocks(name):
            if block.tag == "console":
                for command in commands(block):
                    if command.argv[1] in CLI_COMMANDS:
                        yield pytest.param(command, id=f"{command.where} {command.argv[1]}")


@pytest.mark.parametrize("command", list(cli_cases()))
def test_documented_lineage_and_translate_print_what_is_shown(
    command: Command, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # `--file tests/fixtures/...` is relative to the project
    done = run_cli(*command.argv[1:])
    printed = (done.stdout + done.stderr).strip().splitlines()
    assert "\n".join(line.rstrip() for line in printed) == command.output, command.where


def test_the_readme_runs_lineage_and_translate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The "Using it" lines of README.md that call lineage and translate run and succeed."""
    monkeypatch.chdir(ROOT)
    ran = []
    for block in blocks("README.md"):
        for line in block.text.splitlines() if block.tag == "sh" else []:
            argv = shlex.split(line, comments=True)
            if len(argv) > 1 and argv[0] == "semantic" and argv[1] in CLI_COMMANDS:
                done = run_cli(*argv[1:])
                assert done.exit_code == 0, f"README.md: {line}\n{done.stderr}"
                ran.append(argv[1])
    assert sorted(set(ran)) == ["lineage", "translate"]


def test_the_readme_runs_its_role_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """The "Using it" lines of README.md that run with `--role` on the demo project run: they
    succeed, or fail with the code their comment names (`# SEM331: ...`)."""
    monkeypatch.chdir(ROOT)
    ran = []
    for block in blocks("README.md"):
        for line in block.text.splitlines() if block.tag == "sh" else []:
            argv = shlex.split(line, comments=True)
            if len(argv) < 2 or argv[0] != "semantic" or "--role" not in argv:
                continue
            # a site written, a server's engine: run by the tests of those surfaces
            if argv[1] == "docs" or "--engine" in argv:
                continue
            done = run_cli(*argv[1:])
            code = _ANY_CODE.search(line.partition("#")[2])
            if code:
                assert done.exit_code == 1 and code.group(0) in done.stderr, line
            else:
                assert done.exit_code == 0, f"README.md: {line}\n{done.stderr}"
            ran.append(argv[1])
    assert {"query", "search", "quality"} <= set(ran)


# --- (e) the quality rules of docs/quality.md ------------------------------------------------

QUALITY_DOC = "docs/quality.md"
_RULES_OF = re.compile(r"^<!--\s*rules of (entity|term) (\w+)\s*-->$")


def quality_cases() -> Iterator[Any]:
    for block in blocks(QUALITY_DOC):
        match = _RULES_OF.match(block.above.strip())
        if block.tag == "yaml" and match:
            yield pytest.param(block, match.group(1), match.group(2), id=block.where)


def test_the_quality_doc_has_examples() -> None:
    assert len(list(quality_cases())) >= 4


@pytest.mark.parametrize(("block", "kind", "owner"), list(quality_cases()))
def test_documented_quality_rules_check_and_pass(
    docs_project: Project, tmp_path: Path, block: Block, kind: str, owner: str
) -> None:
    """Each documented block of rules, added to a copy of the TPC-H project, passes
    `semantic check` and, measured on the data, every one of its rules passes."""
    import shutil

    from ruamel.yaml import YAML

    from semantic.outputs.quality import project_quality

    root = tmp_path / "tpch"
    root.mkdir()
    shutil.copy(ROOT / "semantic.yml", root / "semantic.yml")
    shutil.copytree(ROOT / "models", root / "models")
    shutil.copytree(ROOT / "glossary", root / "glossary")
    (root / "data").symlink_to(docs_project.data_dir.parent, target_is_directory=True)
    yaml = YAML()
    rules = yaml.load(block.text)["quality"]
    files = sorted((root / ("models" if kind == "entity" else "glossary")).glob("*.yml"))
    for path in files:
        data = yaml.load(path.read_text(encoding="utf-8"))
        owners = data.get("entities" if kind == "entity" else "terms") or {}
        if owner in owners:
            owners[owner].setdefault("quality", {}).update(rules)
            with path.open("w", encoding="utf-8") as out:
                yaml.dump(data, out)
            break
    else:
        pytest.fail(f"{block.where}: no {kind} '{owner}' in the project")
    project, found = Project.inspect(root)
    errors = [d.render() for d in found if d.severity == "error"]
    assert project is not None and not errors, f"{block.where}: {errors}"
    results = {r.rule.id: r for r in project_quality(project) if r.rule.id in rules}
    assert set(results) == set(rules)
    failing = {rid: r.as_dict() for rid, r in results.items() if not r.passed}
    assert not failing, f"{block.where}: {failing}"


# --- (f) the worked example of docs/governance.md --------------------------------------------

GOVERNANCE_DOC = "docs/governance.md"
WORKED_EXAMPLE = "## A worked example"
_ADDED_TO = re.compile(r"^<!--\s*added to term (\w+)\s*-->$")


def worked_example() -> tuple[list[Block], list[Command]]:
    """The blocks of docs/governance.md's worked example: the rules it adds (yaml blocks
    under `<!-- added to term ID -->`) and its commands (console blocks), in order."""
    text = (ROOT / GOVERNANCE_DOC).read_text(encoding="utf-8")
    first = text[: text.index(WORKED_EXAMPLE)].count("\n") + 1
    found = [b for b in blocks(GOVERNANCE_DOC) if b.line > first]
    added = [b for b in found if b.tag == "yaml" and _ADDED_TO.match(b.above.strip())]
    steps = [c for b in found if b.tag == "console" for c in commands(b, ("semantic", "jq"))]
    return added, steps


def test_the_governance_walk_through_prints_what_is_shown(
    docs_project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each command of the worked example, `semantic` through the command line and `jq` as a
    process, run in turn in a copy of the project with the rules it adds, prints exactly
    what the document shows (standard output, then standard error)."""
    import shutil
    import subprocess

    from ruamel.yaml import YAML

    added, steps = worked_example()
    assert added and len(steps) >= 8, "the worked example lost its blocks"
    root = tmp_path / "tpch"
    root.mkdir()
    for name in ("semantic.yml", "policies.yml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "models", root / "models")
    shutil.copytree(ROOT / "glossary", root / "glossary")
    (root / "data").symlink_to(docs_project.data_dir.parent, target_is_directory=True)
    (root / "tests").symlink_to(ROOT / "tests", target_is_directory=True)
    yaml = YAML()
    for block in added:
        owner = _ADDED_TO.match(block.above.strip()).group(1)  # type: ignore[union-attr]
        for path in sorted((root / "glossary").glob("*.yml")):
            data = yaml.load(path.read_text(encoding="utf-8"))
            if owner in (data.get("terms") or {}):
                data["terms"][owner].setdefault("quality", {}).update(
                    yaml.load(block.text)["quality"]
                )
                with path.open("w", encoding="utf-8") as out:
                    yaml.dump(data, out)
                break
        else:
            pytest.fail(f"{block.where}: no term '{owner}' in the project")
    monkeypatch.chdir(root)
    ran = set()
    for step in steps:
        if step.argv[0] == "semantic":
            done = run_cli(*step.argv[1:], project=root)
            printed = done.stdout + done.stderr
        else:
            assert step.argv[0] == "jq", f"{step.where}: a command the test cannot run"
            found = subprocess.run(step.argv, capture_output=True, text=True, timeout=30)
            printed = found.stdout + found.stderr
        lines = [line.rstrip() for line in printed.strip().splitlines()]
        assert "\n".join(lines) == step.output, step.where
        ran.add(step.argv[1] if step.argv[0] == "semantic" else "jq")
    assert {"query", "quality", "lineage", "translate", "jq", "--audit-file"} <= ran
