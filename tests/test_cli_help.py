"""Every command's `--help` says what to type: no Python types (`<bool>`, `<str>`,
`list[str]`) where a metavar belongs (semantic.cli.metavars)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import typer
from typer.main import get_command

from semantic.cli import app
from semantic.cli.metavars import METAVARS
from tests.cli_runner import run_cli

#: What typer writes when it shows a Python type instead of a metavar.
GARBAGE = re.compile(r"<(bool|str|int|float|path|file|dir|list|tuple|dict|datetime)\b|list\[")


def commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command and group of the tree, by its path of names."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from commands(sub, (*path, name))


def test_every_help_shows_metavars_not_types() -> None:
    tree = list(commands(get_command(app)))
    assert len(tree) > 20  # every command, the groups' too
    for path, command in tree:
        code, out, err = run_cli(*path, "--help", project=None)
        assert code == 0, (path, err)
        assert not GARBAGE.search(out), (path, GARBAGE.findall(out), out)
        # get_params: what --help lists, the options typer adds late (completion) included
        for param in command.get_params(typer.Context(command)):
            long_name = next((o for o in param.opts if o.startswith("--")), None)
            if long_name is None:  # an argument: its name in capitals
                assert param.metavar == param.name.upper(), path
            elif getattr(param, "is_flag", False):
                assert param.metavar == "", (path, long_name)
            elif long_name in METAVARS and not param.metavar.startswith("["):
                assert param.metavar == METAVARS[long_name], (path, long_name)


def test_query_help_reads_like_a_man_page() -> None:
    code, out, _ = run_cli("query", "--help", project=None)
    assert code == 0
    lines = out.splitlines()

    def row(option: str) -> str:
        return next(line for line in lines if f" {option} " in line)

    assert "NAME=VALUE" in row("--param")
    assert "[table|csv|json]" in row("--format")
    assert re.search(r"--explain\s+Also say", row("--explain"))  # a flag takes no value
    assert "SECONDS" in row("--timeout") and " N " in row("--max-rows")
    assert "QUERY" in out and "<str>" not in out
    code, out, _ = run_cli("--help", project=None)
    assert re.search(r"--debug\s+Show Python tracebacks", out)
    assert re.search(r"--project\s+-p\s+DIR", out)
