"""Broken projects (issue #19): whatever is wrong with a project's files, `semantic check`
and `Project.inspect` end, in bounded time, with coded diagnostics placed inside the file
(file:line:col, or the file alone when no line applies), and never with a traceback or an
"internal error".

Each case starts from a small valid project and breaks it in one way. Cases marked as
warnings only (a directory or a FIFO called *.yml, skipped with SEM109) end with exit 0;
every other case ends with exit 1 and its expected code.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from semantic.errors import CODES, Diagnostic, SemanticError
from semantic.files import read as read_module
from semantic.project import Project
from tests.cli_runner import run_cli

#: seconds one case may take, for `inspect` and again for the CLI (they take well under one
#: second each; the bound is loose because the test machines are shared)
BOUND = 10.0

CONFIG = "name: tiny\nlanguages: [en]\n"
MODEL = """\
entities:
  customers:
    primary_key: [id]
    columns:
      id: {type: integer}
      region: {type: varchar}
"""
GLOSSARY = """\
domain: sales
terms:
  region:
    label: {en: Region}
    dimension: {entity: customers, expr: region}
  customer_count:
    label: {en: Customers}
    metric: {entity: customers, expr: count(*)}
"""


@dataclass(frozen=True)
class Case:
    """A way to break the valid project, and the code (and place) it must be reported with."""

    name: str
    breaks: Callable[[Path], None]
    code: str
    at: str  # the diagnostic's place starts with this: a file, or file:line:col
    warning_only: bool = False


def write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


def glossary(text: str | bytes) -> Callable[[Path], None]:
    return lambda root: write(root / "glossary" / "g.yml", text)


def model(text: str | bytes) -> Callable[[Path], None]:
    return lambda root: write(root / "models" / "m.yml", text)


def config(text: str | bytes) -> Callable[[Path], None]:
    return lambda root: write(root / "semantic.yml", text)


def laughs(levels: int, indent: str = "") -> str:
    """A "billion laughs" file: each anchor names ten aliases of the one before."""
    lines = [f"{indent}a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"{indent}a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def nested_block(levels: int) -> str:
    return "domain: s\nterms:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, levels))


def replace_by_link(target: str) -> Callable[[Path], None]:
    def breaks(root: Path) -> None:
        (root / "glossary" / "g.yml").unlink()
        os.symlink(root / target, root / "glossary" / "g.yml")

    return breaks


def link_loop(root: Path) -> None:
    os.symlink(root / "glossary" / "b.yml", root / "glossary" / "a.yml")
    os.symlink(root / "glossary" / "a.yml", root / "glossary" / "b.yml")


def fifo(name: str) -> Callable[[Path], None]:
    def breaks(root: Path) -> None:
        path = root / name
        path.unlink(missing_ok=True)
        os.mkfifo(path)

    return breaks


def directory(name: str) -> Callable[[Path], None]:
    def breaks(root: Path) -> None:
        path = root / name
        path.unlink(missing_ok=True)
        path.mkdir()

    return breaks


def many_broken_terms(root: Path) -> None:
    terms = "".join(f"  t{i}: {{labl: x}}\n" for i in range(2000))
    write(root / "glossary" / "g.yml", "domain: s\nterms:\n" + terms)


def wide_alias_bomb(root: Path) -> None:
    # every term is an alias of one term with 300 bad labels: 300 x 300 schema errors
    labels = ", ".join(f"L{i}: x" for i in range(300))
    terms = "".join(f"  t{i}: *bad\n" for i in range(300))
    write(
        root / "glossary" / "g.yml",
        f"domain: s\nbad: &bad {{label: {{{labels}}}}}\nterms:\n{terms}",
    )


def term_twice(root: Path) -> None:
    write(root / "glossary" / "h.yml", GLOSSARY.replace("domain: sales", "domain: other"))


def entity_twice(root: Path) -> None:
    write(root / "models" / "n.yml", MODEL)


G = "glossary/g.yml"
CASES = [
    # empty files
    Case("empty glossary file", glossary(""), "SEM102", f"{G}:1:1"),
    Case("comments-only glossary file", glossary("# nothing\n# here\n"), "SEM102", f"{G}:1:1"),
    Case("document markers only", glossary("---\n...\n"), "SEM102", f"{G}:1:1"),
    Case("empty model file", model(""), "SEM102", "models/m.yml:1:1"),
    Case("empty semantic.yml", config(""), "SEM102", "semantic.yml:1:1"),
    Case("comments-only semantic.yml", config("# c\n"), "SEM102", "semantic.yml:1:1"),
    # characters and encodings
    Case("NUL byte", glossary(GLOSSARY.replace("Region", "Re\x00gion")), "SEM101", f"{G}:4:19"),
    Case(
        "control character",
        glossary(GLOSSARY.replace("Region", "Re\x07gion")),
        "SEM101",
        f"{G}:4:19",
    ),
    Case(
        "escape character",
        glossary(GLOSSARY.replace("Customers", "\x1b[31m")),
        "SEM101",
        f"{G}:7:17",
    ),
    Case("byte order mark", glossary("\ufeff" + GLOSSARY + "  bad: 1\n"), "SEM102", f"{G}:9:"),
    Case(
        "latin-1 file",
        glossary(GLOSSARY.replace("Region", "Région").encode("latin-1")),
        "SEM101",
        f"{G}:4:18",
    ),
    Case("UTF-16 file", glossary(GLOSSARY.encode("utf-16")), "SEM101", G),
    Case(
        "UTF-8 surrogate",
        glossary(GLOSSARY.encode().replace(b"Region", b"R\xed\xa0\x80")),
        "SEM101",
        f"{G}:4:",
    ),
    Case(
        "tab indentation", glossary(GLOSSARY.replace("    label", "\tlabel")), "SEM101", f"{G}:4:"
    ),
    Case(
        "CRLF line ends",
        glossary(GLOSSARY.replace("\n", "\r\n") + "  bad: 1\r\n"),
        "SEM102",
        f"{G}:9:",
    ),
    # YAML features
    Case(
        "merge key with an unknown key",
        glossary(GLOSSARY + "  base: &b\n    labl: x\n  other:\n    <<: *b\n    label: {en: O}\n"),
        "SEM102",
        f"{G}:10:5",
    ),
    Case(
        "merge key of an undefined alias",
        model(MODEL + "  orders:\n    <<: *x\n"),
        "SEM101",
        "models/m.yml:8:",
    ),
    Case(
        "billion laughs", glossary("domain: s\n" + laughs(12) + "terms: *a11\n"), "SEM108", f"{G}:"
    ),
    Case(
        "billion laughs inside a term",
        glossary("domain: s\nterms:\n  t:\n    label: {en: T}\n" + laughs(9, "    ")),
        "SEM108",
        f"{G}:",
    ),
    Case(
        "alias of its own mapping", glossary("domain: s\nterms: &t\n  a: *t\n"), "SEM102", f"{G}:2:"
    ),
    Case("alias bomb through the schema", wide_alias_bomb, "SEM102", G),
    Case(
        "tag !!python/object",
        glossary(GLOSSARY.replace("{en: Region}", "!!python/object:os.system {en: R}")),
        "SEM110",
        f"{G}:4:12",
    ),
    Case(
        "tag !!binary",
        glossary(GLOSSARY.replace("Region", "!!binary aGVsbG8=")),
        "SEM110",
        f"{G}:4:",
    ),
    Case(
        "custom tag",
        glossary(GLOSSARY.replace("{en: Region}", "!label {en: Region}")),
        "SEM110",
        f"{G}:4:",
    ),
    Case(
        "duplicate key",
        glossary(GLOSSARY + "  region:\n    label: {en: X}\n"),
        "SEM101",
        f"{G}:9:3",
    ),
    Case("two documents", glossary(GLOSSARY + "---\ndomain: x\n"), "SEM101", f"{G}:9:"),
    Case("bad YAML directive", glossary("%YAML 9.9\n---\n" + GLOSSARY), "SEM101", f"{G}:1:"),
    Case("unterminated quote", glossary(GLOSSARY + "  x: 'abc\n"), "SEM101", f"{G}:10:"),
    Case("undefined alias", glossary(GLOSSARY + "  x: *nope\n"), "SEM101", f"{G}:9:"),
    # nesting
    Case(
        "2,000 nested lists",
        glossary("domain: s\nterms: " + "[" * 2000 + "]" * 2000 + "\n"),
        "SEM108",
        f"{G}:2:",
    ),
    Case(
        "2,000 nested flow mappings",
        glossary("domain: s\nterms: " + "{a: " * 2000 + "1" + "}" * 2000 + "\n"),
        "SEM108",
        f"{G}:2:",
    ),
    Case("2,000 nested block mappings", glossary(nested_block(2000)), "SEM108", f"{G}:"),
    Case(
        "2,000 nested block lists",
        glossary("domain: s\nterms:\n" + "".join(" " * i + "-\n" for i in range(1, 2000))),
        "SEM108",
        f"{G}:",
    ),
    Case(
        "2,000 brackets in an expression",
        glossary(GLOSSARY.replace("count(*)", "(" * 2000 + "count(*)" + ")" * 2000)),
        "SEM102",
        f"{G}:8:",
    ),
    Case(
        "1,000 nested functions",
        glossary(
            GLOSSARY.replace("expr: region", "expr: " + "abs(" * 1000 + "region" + ")" * 1000)
        ),
        "SEM102",
        f"{G}:5:",
    ),
    # files that are not plain files
    Case("broken symbolic link", replace_by_link("nowhere.yml"), "SEM101", G),
    Case("symbolic link loop", link_loop, "SEM101", "glossary/a.yml"),
    Case(
        "directory named x.yml",
        directory("glossary/x.yml"),
        "SEM109",
        "glossary/x.yml",
        warning_only=True,
    ),
    Case("FIFO named x.yml", fifo("glossary/x.yml"), "SEM109", "glossary/x.yml", warning_only=True),
    Case("FIFO as the only glossary file", fifo(G), "SEM109", G, warning_only=True),
    Case("semantic.yml is a FIFO", fifo("semantic.yml"), "SEM105", ""),
    Case("semantic.yml is a directory", directory("semantic.yml"), "SEM105", ""),
    # sizes
    Case(
        "1 MB label",
        glossary(GLOSSARY.replace("Region", "R" * 1_000_000) + "  bad: 1\n"),
        "SEM102",
        f"{G}:9:",
    ),
    Case(
        "5,000-character key", glossary(GLOSSARY + "  " + "k" * 5000 + ": 1\n"), "SEM101", f"{G}:9:"
    ),
    Case(
        "5,000-digit integer",
        model(
            MODEL
            + "    quality:\n      q: {dimension: validity, check: id > 0, threshold: "
            + "9" * 5000
            + "}\n"
        ),
        "SEM101",
        "models/m.yml:8:",
    ),
    Case("2,000 broken terms", many_broken_terms, "SEM102", f"{G}:3:"),
    # wrong types and shapes
    Case("a list at the top", glossary("- a\n- b\n"), "SEM102", f"{G}:1:1"),
    Case("a string at the top", glossary("hello\n"), "SEM102", f"{G}:1:1"),
    Case("terms is a number", glossary("domain: [1]\nterms: 5\n"), "SEM102", f"{G}:1:9"),
    Case(
        "wrong types in semantic.yml",
        config("name: [x]\nlanguages: en\nmodels: 5\n"),
        "SEM102",
        "semantic.yml:1:7",
    ),
    Case(
        "wrong types in a model",
        model("entities:\n  c: 5\n  d: {columns: [a, b]}\n"),
        "SEM102",
        "models/m.yml:2:",
    ),
    Case(
        "a list as a key",
        glossary(GLOSSARY + "  ? [a, b]\n  : {label: {en: X}}\n"),
        "SEM102",
        f"{G}:",
    ),
    Case("a null key", glossary(GLOSSARY + "  ~: {label: {en: X}}\n"), "SEM102", f"{G}:"),
    Case(
        "a number as a column name",
        model(MODEL.replace("region:", "12:")),
        "SEM102",
        "models/m.yml:6:7",
    ),
    Case(
        "an impossible date",
        glossary(GLOSSARY.replace("Region", "2024-13-45")),
        "SEM101",
        f"{G}:4:",
    ),
    Case(
        "NaN threshold",
        model(
            MODEL + "    quality:\n      q: {dimension: validity, check: id > 0, threshold: .nan}\n"
        ),
        "SEM102",
        "models/m.yml:8:",
    ),
    Case(
        "unknown keys",
        glossary(GLOSSARY.replace("    label", "    labl: 1\n    label")),
        "SEM102",
        f"{G}:4:5",
    ),
    Case(
        "unknown language in semantic.yml",
        config("name: t\nlanguages: [EN, 5, ~]\n"),
        "SEM102",
        "semantic.yml:2:",
    ),
    # ids and references
    Case("a term defined twice", term_twice, "SEM103", "glossary/"),
    Case("an entity defined twice", entity_twice, "SEM103", "models/"),
    Case(
        "models folder missing", config(CONFIG + "models: nowhere\n"), "SEM105", "semantic.yml:1:1"
    ),
    Case(
        "models folder is a file",
        config(CONFIG + "models: semantic.yml\n"),
        "SEM105",
        "semantic.yml:1:1",
    ),
]


def build(root: Path, case: Case) -> Path:
    write(root / "semantic.yml", CONFIG)
    write(root / "models" / "m.yml", MODEL)
    write(root / "glossary" / "g.yml", GLOSSARY)
    case.breaks(root)
    return root


def bounded(work: Callable[[], Any], seconds: float = BOUND) -> Any:
    """The result of `work()`, which must end within `seconds` (in a thread, so that a hang
    fails the test instead of stopping the suite)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the test below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    assert time.monotonic() - started < seconds
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def inspect(root: Path) -> list[Diagnostic]:
    try:
        return Project.inspect(root)[1]
    except SemanticError as exc:  # no project at all (SEM105): raised, as Project.load does
        return list(exc.diagnostics)


def assert_placed(root: Path, diagnostic: Diagnostic) -> None:
    """A coded diagnostic whose place is a project file, and a line and column inside it."""
    assert diagnostic.code in CODES, diagnostic.render()
    assert diagnostic.span is not None, diagnostic.render()
    path = Path(diagnostic.span.file)
    path = path if path.is_absolute() else root / path
    assert path == root / "semantic.yml" or root in path.parents, diagnostic.render()
    if diagnostic.span.line > 0:
        data = path.read_bytes()
        assert diagnostic.span.line <= data.count(b"\n") + data.count(b"\r") + 1
        assert diagnostic.span.col >= 1


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_inspect_ends_with_coded_placed_diagnostics(case: Case, tmp_path: Path) -> None:
    root = build(tmp_path, case)
    found = bounded(lambda: inspect(root))
    assert found, "no diagnostic"
    for diagnostic in found:
        assert_placed(tmp_path, diagnostic)
    assert any(d.code == case.code and str(d.span).startswith(case.at) for d in found), "\n".join(
        d.render() for d in found
    )
    errors = [d for d in found if d.severity == "error"]
    assert bool(errors) != case.warning_only, "\n".join(d.render() for d in found)
    assert len([d for d in found if d.span and d.span.file == "glossary/g.yml"]) <= 201


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_check_command_exits_1_without_a_traceback(case: Case, tmp_path: Path) -> None:
    root = build(tmp_path, case)
    result = bounded(lambda: run_cli("check", project=root))
    output = result.stdout + result.stderr
    assert result.exit_code == (0 if case.warning_only else 1), output[-3000:]
    assert "internal error" not in output
    assert "Traceback" not in output
    assert case.code in output


def test_an_unreadable_file_is_sem101(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 000 does not stop root (the tests run as root in CI): the refusal of the
    operating system is simulated where the file is opened."""
    root = build(tmp_path, CASES[0])
    write(root / "glossary" / "g.yml", GLOSSARY)
    real_open = os.open

    def refusing_open(path: Any, flags: int, *args: Any) -> int:
        if str(path).endswith("g.yml"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(read_module.os, "open", refusing_open)
    found = inspect(root)
    (problem,) = [d for d in found if d.code == "SEM101"]
    assert str(problem.span) == "glossary/g.yml"
    assert "permission denied" in problem.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file")
def test_a_chmod_000_file_is_sem101(tmp_path: Path) -> None:
    root = build(tmp_path, CASES[0])
    write(root / "glossary" / "g.yml", GLOSSARY)
    (root / "glossary" / "g.yml").chmod(0)
    try:
        found = inspect(root)
    finally:
        (root / "glossary" / "g.yml").chmod(0o644)
    assert [str(d.span) for d in found if d.code == "SEM101"] == ["glossary/g.yml"]


def test_at_most_200_problems_of_a_file_are_listed(tmp_path: Path) -> None:
    root = build(tmp_path, next(c for c in CASES if c.name == "2,000 broken terms"))
    found = [d for d in inspect(root) if d.span and d.span.file == "glossary/g.yml"]
    assert len(found) == 201
    assert found[-1].message == "3,800 more problems in this file are not shown"


# --- semantic fmt: writing keeps what the file is, and a failed write loses nothing --------

UNFORMATTED = GLOSSARY.replace("expr: count(*)", "expr: 'count(*)'")


def fmt(root: Path, *args: str) -> tuple[int, str]:
    result = bounded(lambda: run_cli("fmt", *args, project=root))
    output = result.stdout + result.stderr
    assert "internal error" not in output and "Traceback" not in output, output
    return result.exit_code, output


def unformatted_project(root: Path) -> Path:
    write(root / "semantic.yml", CONFIG)
    write(root / "models" / "m.yml", MODEL)
    write(root / "glossary" / "g.yml", UNFORMATTED)
    return root


@pytest.mark.parametrize("mode", [0o644, 0o664, 0o640, 0o600, 0o755])
def test_fmt_keeps_the_mode_bits(tmp_path: Path, mode: int) -> None:
    path = unformatted_project(tmp_path) / "glossary" / "g.yml"
    path.chmod(mode)
    code, output = fmt(tmp_path)
    assert code == 0, output
    assert path.read_text() == GLOSSARY
    assert path.stat().st_mode & 0o7777 == mode


def test_fmt_leaves_a_read_only_file_alone(tmp_path: Path) -> None:
    path = unformatted_project(tmp_path) / "glossary" / "g.yml"
    path.chmod(0o444)
    code, output = fmt(tmp_path)
    assert code == 1
    assert "glossary/g.yml: SEM438 the file is read-only: not rewritten" in output
    assert path.read_text() == UNFORMATTED
    assert path.stat().st_mode & 0o7777 == 0o444
    code, output = fmt(tmp_path, "--check")  # still said to be unformatted
    assert code == 1 and "SEM106" in output


def test_fmt_writes_through_a_symbolic_link(tmp_path: Path) -> None:
    root = unformatted_project(tmp_path / "project")
    shared = tmp_path / "shared" / "sales.yml"
    write(shared, UNFORMATTED)
    shared.chmod(0o664)
    link = root / "glossary" / "g.yml"
    link.unlink()
    link.symlink_to(shared)
    code, output = fmt(root)
    assert code == 0, output
    assert link.is_symlink() and link.resolve() == shared.resolve()
    assert shared.read_text() == GLOSSARY
    assert shared.stat().st_mode & 0o7777 == 0o664


def test_fmt_keeps_hard_links(tmp_path: Path) -> None:
    path = unformatted_project(tmp_path / "project") / "glossary" / "g.yml"
    other = tmp_path / "elsewhere.yml"
    os.link(path, other)
    inode = path.stat().st_ino
    code, output = fmt(tmp_path / "project")
    assert code == 0, output
    assert path.stat().st_ino == inode == other.stat().st_ino
    assert path.stat().st_nlink == 2
    assert other.read_text() == GLOSSARY
    assert sorted(p.name for p in path.parent.iterdir()) == ["g.yml"]  # no temporary left


def failing_writes(monkeypatch: pytest.MonkeyPatch, fail_on: set[int]) -> None:
    """The `fail_on` calls (1-based) of the atomic module's write raise ENOSPC."""
    from semantic.files import atomic

    real, calls = atomic._write_bytes, [0]

    def write_bytes(handle: int, data: bytes) -> None:
        calls[0] += 1
        if calls[0] in fail_on:
            os.write(handle, data[: len(data) // 2])  # a half-written file, then the disk is full
            raise OSError(28, "No space left on device")
        real(handle, data)

    monkeypatch.setattr(atomic, "_write_bytes", write_bytes)


def test_fmt_on_a_full_disk_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = unformatted_project(tmp_path) / "glossary" / "g.yml"
    failing_writes(monkeypatch, {1})
    code, output = fmt(tmp_path)
    assert code == 1
    assert "glossary/g.yml: SEM438 cannot write the file: No space left on device" in output
    assert "free some disk space" in output
    assert path.read_text() == UNFORMATTED
    assert sorted(p.name for p in path.parent.iterdir()) == ["g.yml"]


def test_fmt_of_a_hard_link_on_a_full_disk_restores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = unformatted_project(tmp_path / "project") / "glossary" / "g.yml"
    os.link(path, tmp_path / "elsewhere.yml")
    failing_writes(monkeypatch, {2})  # the temporary file is written, writing in place fails
    code, output = fmt(tmp_path / "project")
    assert code == 1 and "SEM438" in output
    assert path.read_text() == UNFORMATTED == (tmp_path / "elsewhere.yml").read_text()


def test_fmt_in_a_read_only_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root may write into a read-only folder: the refusal is simulated where the temporary
    file is made (the next test does it for real when not root)."""
    from semantic.files import atomic

    path = unformatted_project(tmp_path) / "glossary" / "g.yml"

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic, "create_temporary", refuse)
    code, output = fmt(tmp_path)
    assert code == 1
    assert "glossary/g.yml: SEM438 cannot write the file: Permission denied" in output
    assert path.read_text() == UNFORMATTED


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_fmt_in_a_really_read_only_folder(tmp_path: Path) -> None:
    path = unformatted_project(tmp_path) / "glossary" / "g.yml"
    path.parent.chmod(0o555)
    try:
        code, output = fmt(tmp_path)
    finally:
        path.parent.chmod(0o755)
    assert code == 1 and "glossary/g.yml: SEM438" in output
    assert path.read_text() == UNFORMATTED


def test_fmt_skips_a_fifo(tmp_path: Path) -> None:
    unformatted_project(tmp_path)
    os.mkfifo(tmp_path / "glossary" / "x.yml")
    code, output = fmt(tmp_path)
    assert code == 0, output
    assert "glossary/x.yml: warning: SEM109" in output
    assert (tmp_path / "glossary" / "g.yml").read_text() == GLOSSARY
