"""The one way tests run the `semantic` command: in-process, through typer's runner.

`run_cli("query", "SELECT order_count", "-f", "csv")` runs `semantic --project ROOT query ...`
and gives back the exit code, standard output exactly as written (CSV's CRLF line ends kept:
the runner's text view would fold them into LF) and standard error. `project=None` leaves
`--project` out, for commands that name their folders themselves (init, import) or whose
arguments already carry it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from typer.testing import CliRunner

from semantic.cli import app
from tests.conftest import ROOT

_RUNNER = CliRunner()


class CliResult(NamedTuple):
    """What a command did: a tuple `(exit_code, stdout, stderr)`."""

    exit_code: int
    stdout: str
    stderr: str


def run_cli(
    *args: str | Path,
    project: Path | None = ROOT,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
) -> CliResult:
    """Run `semantic --project PROJECT ARGS...` (no `--project` when `project` is None), with
    `input` as standard input and `env` added to the environment."""
    argv = (["--project", str(project)] if project is not None else []) + [str(a) for a in args]
    result = _RUNNER.invoke(app, argv, input=input, env=env)
    return CliResult(result.exit_code, result.stdout_bytes.decode(), result.stderr)


def unboxed(text: str) -> str:
    """`text` without the frame typer draws around a usage error, on one line: the
    message as written, however the box wrapped it."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())
