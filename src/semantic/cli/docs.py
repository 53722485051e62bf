"""`semantic docs`: the vocabulary as a browsable catalog site."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from semantic.cli.app import print_diagnostics, reported, say, state

docs_app = typer.Typer(
    rich_markup_mode="markdown",
    help="The vocabulary as a browsable catalog site.",
    no_args_is_help=True,
)


@docs_app.command("build")
def docs_build(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Folder of the site (default: the project's site/)."),
    ] = None,
    with_quality: Annotated[
        bool,
        typer.Option("--quality", help="Measure the quality rules on the data and show results."),
    ] = False,
) -> None:
    """Build the static catalog site: search, a page per term, entity and domain."""
    from semantic.outputs.catalog.site import build_site
    from semantic.project import Project

    with reported():
        report = build_site(Project.load(state.project_path), output, quality=with_quality)
        print_diagnostics(report.warnings)
        say(
            f"wrote {len(report.pages)} files to {report.output}; open "
            f"{report.output / 'index.html'}"
        )
