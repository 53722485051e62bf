"""`semantic docs`: the vocabulary as a browsable catalog site."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from semantic.cli.app import print_diagnostics, reported, say, state
from semantic.cli.roles import RoleOption, UserAttrOption, parse_user_attrs


class Level(StrEnum):
    """Confidentiality levels, from the least to the most confidential."""

    public = "public"
    internal = "internal"
    confidential = "confidential"
    restricted = "restricted"


# outputs.catalog.samples.DEFAULT_MAX_CONFIDENTIALITY, written here too so that the command's
# help imports no catalog code (tests/test_startup.py keeps the two equal)
DEFAULT_LEVEL = Level.internal

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
    samples: Annotated[
        bool | None,
        typer.Option(
            "--samples/--no-samples",
            help="Show sample values of each dimension and metric, read on the default "
            "engine (default: when the data is there; --samples also generates the demo data).",
            show_default=False,
        ),
    ] = None,
    max_confidentiality: Annotated[
        Level | None,
        typer.Option(
            "--max-confidentiality",
            help=f"Show the values of terms up to this level (default: {DEFAULT_LEVEL.value}, "
            "or with --role its clearance).",
            show_default=False,
        ),
    ] = None,
    role: RoleOption = None,
    user_attr: UserAttrOption = None,
) -> None:
    """Build the static catalog site: search, a page per term, entity and domain, in each
    language of the project. With --role, the site of that role: no term above its
    clearance anywhere in it, sample values read with its row filters and masks."""
    from semantic.outputs.catalog.site import build_site
    from semantic.project import Project

    user = parse_user_attrs(user_attr)
    with reported():
        report = build_site(
            Project.load(state.project_path),
            output,
            quality=with_quality,
            samples=samples,
            max_confidentiality=max_confidentiality.value if max_confidentiality else None,
            role=role,
            user=user,
        )
        print_diagnostics(report.warnings)
        say(
            f"wrote {len(report.pages)} files to {report.output}; open "
            f"{report.output / 'index.html'}"
        )
