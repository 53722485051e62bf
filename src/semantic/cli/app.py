"""The `semantic` typer app: its global options, the shared option types and formats, and
how errors are printed (`path:line:col: CODE message` with a hint; no traceback unless
--debug). The commands live in the modules next to this one; `semantic.cli` registers them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from semantic.cli.metavars import HonestGroup
from semantic.errors import Diagnostic, SemanticError

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    rich_markup_mode="markdown",
    name="semantic",
    help="A business glossary that compiles to SQL.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion; `semantic completion`
    pretty_exceptions_enable=False,
    cls=HonestGroup,  # options show what to type, not Python types (cli/metavars.py)
)


class _LazyConsole:
    """A rich Console made when first used, so that a command that prints plain text
    (`semantic compile`, `--version`) does not import rich (about 10 ms)."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console(), name)

    def console(self) -> Console:
        """The rich Console itself, made now if not yet (for what needs the object, not an
        attribute: a progress display enters it as a context manager)."""
        if self._console is None:
            from rich.console import Console

            # no markup and no emoji codes: names, labels, values and file positions are
            # printed as they are (rich would read `sales.yml:100:22` as the :100: emoji and
            # `[b]` as markup)
            self._console = Console(stderr=self._stderr, soft_wrap=True, markup=False, emoji=False)
        return self._console


out = cast("Console", _LazyConsole(stderr=False))
err = cast("Console", _LazyConsole(stderr=True))


class State:
    project_path: Path = Path(".")
    debug: bool = False
    #: who the audit records name (`--caller`), where they go (`--audit-file`), the command
    caller: str | None = None
    audit_file: Path | None = None
    command: str | None = None


state = State()


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class CheckFormat(StrEnum):
    text = "text"
    json = "json"


ProjectOption = Annotated[
    Path, typer.Option("--project", "-p", help="Project folder (default: nearest semantic.yml).")
]
EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine",
        "-e",
        help="An engine of semantic.yml's `engines:`, or a URL: duckdb:, postgresql://..., "
        "spark:local[*], spark://HOST:7077, sc://HOST:15002.",
    ),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="table, csv or json.")]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (atomically).")
]


def print_version(value: bool) -> None:
    """`--version`: print `semantic X.Y.Z` and exit, before anything else is read."""
    if value:
        from semantic import __version__

        print(f"semantic {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    project: ProjectOption = Path("."),
    debug: Annotated[bool, typer.Option("--debug", help="Show Python tracebacks.")] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No progress on standard error (never shown when piped)."
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=print_version, is_eager=True
        ),
    ] = False,
    caller: Annotated[
        str | None,
        typer.Option(
            "--caller", help="Who the audit records name (default: the operating-system user)."
        ),
    ] = None,
    audit_file: Annotated[
        Path | None,
        typer.Option(
            "--audit-file",
            help="Write the audit records here (before SEMANTIC_AUDIT_FILE and semantic.yml's "
            "audit.file; see docs/audit.md).",
        ),
    ] = None,
) -> None:
    """A business glossary that compiles to SQL."""
    state.project_path = project
    state.debug = debug
    state.caller, state.audit_file, state.command = caller, audit_file, ctx.invoked_subcommand
    if quiet or not sys.stderr.isatty():  # no progress: and rich is not even imported
        return
    from semantic.cli.progress import TerminalProgress, shows_progress

    console = cast("_LazyConsole", err).console()
    if shows_progress(console, quiet):  # the command's long work shows, until it ends
        from semantic.progress import listening

        ctx.with_resource(listening(TerminalProgress(console)))


class Report:
    """What `reported` knows of the command: the query's text, to show under its errors."""

    source: str | None = None


@contextmanager
def reported() -> Iterator[Report]:
    """Print SemanticErrors as diagnostics and exit 1; a usage error (a bad option value,
    typer's BadParameter) is typer's to print, with exit code 2; anything else is a bug."""
    from semantic.cli.auditing import command_scope

    report = Report()
    try:
        with command_scope(state.caller, state.audit_file, state.command):
            yield report
    except SemanticError as exc:
        if state.debug:
            raise
        print_diagnostics(exc.diagnostics, report.source)
        raise typer.Exit(1) from None
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise  # a usage error (BadParameter, exit 2) is typer's to print
    except Exception as exc:
        if state.debug:
            raise
        err.print(f"internal error: {type(exc).__name__}: {exc}", markup=False, highlight=False)
        err.print("  help: rerun with --debug and report the traceback", markup=False)
        raise typer.Exit(2) from None


def print_diagnostics(
    diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], source: str | None = None
) -> None:
    """Each diagnostic on standard error, as `path:line:col: CODE message` and its hint;
    with the query's `source`, one placed in it shows its line and a caret."""
    sources = {"<query>": source} if source is not None else None
    for d in diagnostics:
        err.print(d.render(sources), markup=False, highlight=False)


def say(text: str) -> None:
    """A line for the user on standard error (standard output keeps the result)."""
    err.print(text, markup=False, highlight=False)
