"""Commands that put the vocabulary into a database: views plan and apply, load."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from semantic.cli.app import EngineOption, out, reported, say, state
from semantic.cli.choices import checked_language
from semantic.cli.roles import RoleOption, UserAttrOption, parse_user_attrs

if TYPE_CHECKING:
    from semantic.outputs.publish import PlanOptions
    from semantic.outputs.views import ViewPlan

# Each command imports the library it calls in its body (see `semantic.cli.query`); so the
# default schema is written here too: `semantic.outputs.views.DEFAULT_SCHEMA`, which
# tests/test_startup.py keeps equal.
DEFAULT_SCHEMA = "semantic"

views_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Views for BI tools: one per entity and one per subject area.",
    no_args_is_help=True,
)


class PlanFormat(StrEnum):
    sql = "sql"
    json = "json"


SchemaOption = Annotated[
    str, typer.Option("--schema", help="The schema the tool owns and publishes to.")
]
LanguageOption = Annotated[
    str | None,
    typer.Option("--language", "-l", help="Name columns by labels in this language (else ids)."),
]
ConfidentialityOption = Annotated[
    str | None,
    typer.Option(
        "--max-confidentiality",
        help="Leave out terms above this level: public, internal, confidential, restricted.",
    ),
]

SkipQualityOption = Annotated[
    bool,
    typer.Option("--skip-quality", help="Do not measure the quality rules: publish every view."),
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Publish the views the quality gate withholds, with a warning in their comment.",
    ),
]


def load(
    engine: Annotated[
        str, typer.Option("--engine", "-e", help="A PostgreSQL engine: its name or URL.")
    ],
) -> None:
    """Copy the project's data files into PostgreSQL as typed tables (refilled in place, in
    one transaction), so queries can run there with --engine."""
    from semantic.project import Project

    with reported():
        project = Project.load(state.project_path)
        try:
            loaded = project.load_data(engine)
        finally:
            project.close()
        for table, rows in loaded:
            say(f"loaded {table}: {rows} row(s)")


@views_app.command("plan")
def views_plan(
    engine: EngineOption = None,
    fmt: Annotated[
        PlanFormat, typer.Option("--format", help="sql (a script) or json.")
    ] = PlanFormat.sql,
    schema: SchemaOption = DEFAULT_SCHEMA,
    language: LanguageOption = None,
    max_confidentiality: ConfidentialityOption = None,
    skip_quality: SkipQualityOption = False,
    force: ForceOption = False,
    role: RoleOption = None,
    user_attr: UserAttrOption = None,
) -> None:
    """Print the DDL that `views apply` would run (the views it would drop, and those the
    quality gate withholds, measuring the rules as apply does); change nothing."""
    from semantic.outputs.publish import gated_plan

    user = parse_user_attrs(user_attr)
    with reported():
        options = _options(schema, language, max_confidentiality, role, user)
        step = functools.partial(gated_plan, check_quality=not skip_quality, force=force)
        plan = _on_target(engine, step, options, write=False)
        if fmt is PlanFormat.json:
            sys.stdout.write(json.dumps(plan.as_dict(), ensure_ascii=False, indent=2) + "\n")
        else:
            out.print(plan.script(), markup=False, highlight=False, end="")
        _print_summary(plan, "would ")


@views_app.command("apply")
def views_apply(
    engine: EngineOption = None,
    schema: SchemaOption = DEFAULT_SCHEMA,
    language: LanguageOption = None,
    max_confidentiality: ConfidentialityOption = None,
    skip_quality: SkipQualityOption = False,
    force: ForceOption = False,
    role: RoleOption = None,
    user_attr: UserAttrOption = None,
) -> None:
    """Publish the views in one transaction and drop those the glossary no longer declares;
    a view whose data fails an error quality rule is withheld (its previous version kept);
    exit 1 when one is. With --role, the views show what that role may read, and on
    PostgreSQL each is granted to the role's database role."""
    from semantic.outputs.publish import publish_views

    user = parse_user_attrs(user_attr)
    with reported():
        publish = functools.partial(publish_views, check_quality=not skip_quality, force=force)
        options = _options(schema, language, max_confidentiality, role, user)
        plan = _on_target(engine, publish, options, write=True)
        _print_summary(plan, "")
        if plan.gated:
            raise typer.Exit(1)


def _options(
    schema: str,
    language: str | None,
    max_confidentiality: str | None,
    role: str | None,
    user: dict[str, str],
) -> PlanOptions:
    return {
        "schema": schema,
        "language": language,
        "max_confidentiality": max_confidentiality,
        "role": role,
        "user": user,
    }


def _on_target(
    engine: str | None,
    step: Callable[..., ViewPlan],
    options: PlanOptions,
    *,
    write: bool,
) -> ViewPlan:
    """Run a publication step (plan or publish) with `options` on the project's target
    engine, closed afterwards."""
    from semantic.audit import recorded
    from semantic.outputs.publish import publication_engine
    from semantic.project import Project

    project = Project.load(state.project_path)
    checked_language(options["language"], project.model.languages)
    role, user = options["role"], options["user"]
    with (
        recorded(
            project, "views-apply" if write else "views-plan", role=role, user=user, engine=engine
        ),
        publication_engine(project, engine, write=write) as target,
    ):
        return step(project.model, target, **options)


def _print_summary(plan: ViewPlan, mood: str) -> None:
    created = len(plan.views) - len(plan.replaced)
    text = (
        f"{mood}create {created}, replace {len(plan.replaced)} and drop {len(plan.dropped)} "
        f"view(s) in schema {plan.schema}"
    )
    if plan.dropped:
        text += f" (dropped: {', '.join(plan.dropped)})"
    if plan.withheld:
        text += f"; withheld as too confidential: {', '.join(a for a, _ in plan.withheld)}"
    if plan.gated:
        text += f"; withheld by the quality gate: {', '.join(v for v, _ in plan.gated)}"
    if plan.role is not None:
        text += f"; for role {plan.role}"
    if plan.grantee is not None and plan.views:
        text += f", granted to {plan.grantee}"
    say(text)
    # SEM436: views left without columns; SEM252: file format; SEM415, SEM452: the gate;
    # SEM446, SEM447: grants
    for notice in plan.notices:
        say(notice.render())
