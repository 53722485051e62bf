"""Commands that check and maintain a project: check, fmt, diff and schema."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from semantic.cli.app import (
    CheckFormat,
    EngineOption,
    OutputOption,
    err,
    out,
    print_diagnostics,
    reported,
    say,
    state,
)
from semantic.cli.printing import emit
from semantic.files.root import find_root

# Each command imports the library it calls in its body (see `semantic.cli.query`).


def check(
    fmt: Annotated[CheckFormat, typer.Option("--format", help="text or json.")] = CheckFormat.text,
    data: Annotated[
        bool, typer.Option("--data", help="Compare with the data, generating demo data if missing.")
    ] = False,
    engine: EngineOption = None,
    lint: Annotated[
        bool, typer.Option("--lint", help="Also lint the vocabulary (warnings, qSKOS style).")
    ] = False,
) -> None:
    """Validate every model and glossary file, and the data when it is there; exit 1 on any
    error."""
    from semantic.outputs.check import check_project

    with reported():
        project, diagnostics = check_project(
            state.project_path, data=data, lint=lint, engine=engine
        )
        errors = [d for d in diagnostics if d.severity == "error"]
        if fmt is CheckFormat.json:
            out.print_json(
                json.dumps({"ok": not errors, "diagnostics": [d.as_dict() for d in diagnostics]})
            )
        else:
            print_diagnostics(diagnostics)
            if project is not None and not errors:
                model = project.model
                say(
                    f"ok: {len(model.entities)} entities, {len(model.terms)} terms, "
                    f"{len(diagnostics)} warning(s)"
                )
            else:
                say(f"{len(errors)} error(s)")
        if errors:
            raise typer.Exit(1)


def schema(
    into: Annotated[
        Path | None, typer.Option("--into", help="Folder to write to (the project's schemas/).")
    ] = None,
) -> None:
    """Write the JSON Schema of semantic.yml, models/ and glossary/ files, for editors."""
    from semantic.files.jsonschema import SCHEMA_DIR, write_schemas

    with reported():
        folder = into or find_root(state.project_path) / SCHEMA_DIR
        for path in write_schemas(folder):
            say(f"wrote {path}")


def format_files(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Files to format (default: every file of the project)."),
    ] = None,
    check_only: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if a file would change.")
    ] = False,
    show_diff: Annotated[
        bool, typer.Option("--diff", help="With --check, print the changes as a unified diff.")
    ] = False,
) -> None:
    """Rewrite semantic.yml, models/ and glossary/ files in the canonical layout, keeping
    comments; a file that does not parse is reported and left alone."""
    from semantic.files.fmt import format_files as format_paths
    from semantic.files.fmt import format_project, unified_diff

    with reported():
        results = (
            format_paths(files, check=check_only)
            if files
            else format_project(find_root(state.project_path), check=check_only)
        )
        for result in results:
            print_diagnostics(list(result.diagnostics))
            if result.changed and not check_only:
                say(f"formatted {result.name}")
            if result.changed and check_only and show_diff:
                sys.stdout.write(unified_diff(result))
        changed = sum(r.changed for r in results)
        broken = sum(
            1
            for r in results
            if not r.changed and any(d.severity == "error" for d in r.diagnostics)
        )
        verb = "would be reformatted" if check_only else "formatted"
        summary = f"{changed} file(s) {verb}, {len(results) - changed - broken} unchanged"
        err.print(summary + (f", {broken} not parsed" if broken else ""), highlight=False)
        if broken or (check_only and changed):
            raise typer.Exit(1)


class DiffFormat(StrEnum):
    """How `diff` prints the changes."""

    text = "text"
    markdown = "markdown"
    json = "json"


DiffFormatOption = Annotated[
    DiffFormat, typer.Option("--format", "-f", help="text, markdown or json.")
]


class FailOn(StrEnum):
    """Which changes make `diff` exit 1."""

    breaking = "breaking"
    any = "any"
    never = "never"


FailOnOption = Annotated[
    FailOn, typer.Option("--fail-on", help="Exit 1 on breaking changes, on any, or never.")
]


def diff(
    revision: Annotated[
        str, typer.Argument(help="The git revision to compare the working tree with.")
    ] = "HEAD",
    fmt: DiffFormatOption = DiffFormat.text,
    fail_on: FailOnOption = FailOn.breaking,
    output: OutputOption = None,
) -> None:
    """What changed in the vocabulary since a git revision, in business terms, and what
    breaks; exit 1 on a breaking change (see --fail-on)."""
    from semantic.outputs.diff import diff_revision, render_json, render_markdown, render_text

    with reported():
        found = diff_revision(state.project_path, revision)
        print_diagnostics(list(found.problems))
        render = {"text": render_text, "markdown": render_markdown, "json": render_json}[fmt]
        emit(render(found), output)
        failing = {"breaking": found.breaking, "any": found.changes, "never": ()}[fail_on]
        if failing:
            raise typer.Exit(1)
