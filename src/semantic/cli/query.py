"""Commands that read the vocabulary: compile, query, explain, terms and search."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from semantic.cli.app import (
    EngineOption,
    FormatOption,
    OutputFormat,
    out,
    print_diagnostics,
    reported,
    say,
    state,
)
from semantic.cli.choices import checked_kind, checked_language
from semantic.cli.printing import print_result
from semantic.cli.roles import RoleOption, UserAttrOption, parse_user_attrs
from semantic.cli.tables import Column, print_table
from semantic.errors import Diagnostic, SemanticError, Span

if TYPE_CHECKING:
    from semantic.compiler.parse import QueryInput
    from semantic.compiler.refs import OutputColumn

# Each command imports the library it calls (the project, the compiler, Arrow) in its body,
# so that `semantic --help` and `semantic compile` load only what they use.

QueryArg = Annotated[str, typer.Argument(help="The business query ('-' reads standard input).")]
ParamOption = Annotated[
    list[str] | None, typer.Option("--param", help="Bind a parameter: --param region=ASIA.")
]


def read_query(text: str) -> QueryInput:
    """The query argument: text, or JSON (`{"select": [...]}`); `-` reads standard input."""
    if text == "-":
        text = sys.stdin.read()
    if not text.lstrip().startswith("{"):
        return text
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SemanticError(
            Diagnostic(
                "SEM301",
                f"the JSON query is not valid JSON: {exc.msg}",
                Span("<query>", exc.lineno, exc.colno),
                'write {"select": ["customer_region", "net_revenue"]}',
            )
        ) from None
    if not isinstance(parsed, dict):
        raise SemanticError(Diagnostic("SEM302", "a JSON query is an object", Span("<query>")))
    return parsed


def parse_params(values: list[str] | None) -> dict[str, str]:
    """`--param` values (`name=value`) as query parameters, as text: the query reads each
    as the type of what it is compared with (`Project.query`)."""
    bound: dict[str, str] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name.lstrip("$:"):
            raise typer.BadParameter(
                f"'{item}' is not NAME=VALUE: write --param region=ASIA", param_hint="--param"
            )
        bound[name.lstrip("$:")] = value
    return bound


def result_periods(columns: Sequence[OutputColumn]) -> dict[int, str]:
    """The grain of each result column that is a time dimension at a grain, by position."""
    from semantic.compiler.refs import ref_of

    periods = {}
    for i, column in enumerate(columns):
        ref = ref_of(column.expr)
        if ref is not None and ref.kind == "term" and ref.grain:
            periods[i] = ref.grain
    return periods


def compile(  # noqa: A001 - the command is called compile
    query: QueryArg,
    dialect: Annotated[
        str | None, typer.Option("--dialect", "-d", help="Any sqlglot dialect.")
    ] = None,
    role: RoleOption = None,
    user_attr: UserAttrOption = None,
) -> None:
    """Print the SQL of a business query (as --role may run it)."""
    from semantic.project import Project

    user = parse_user_attrs(user_attr)
    with reported() as report:
        project = Project.load(state.project_path)
        text = read_query(query)
        report.source = text if isinstance(text, str) else None
        sql = project.compile(text, dialect, role=role, user=user)
        print_diagnostics(project.query_warnings(text, role, user))
        print(sql)  # as is: rich would read `:name:` in a string literal as an emoji


def query(
    query: QueryArg,
    fmt: FormatOption = OutputFormat.table,
    param: ParamOption = None,
    explain_plan: Annotated[
        bool, typer.Option("--explain", help="Also say how each metric is computed (stderr).")
    ] = False,
    engine: EngineOption = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", help="Seconds the query may run (default: semantic.yml's limits, 0: none)."
        ),
    ] = None,
    max_rows: Annotated[
        int | None,
        typer.Option(
            "--max-rows", help="Rows the result may have (default: semantic.yml's limits, 0: none)."
        ),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            "-l",
            help="Head the columns with the terms' labels in this language of semantic.yml "
            "(default: the names as written in the query).",
        ),
    ] = None,
    role: RoleOption = None,
    user_attr: UserAttrOption = None,
) -> None:
    """Run a business query (on the embedded DuckDB engine unless --engine; as --role may
    run it) and print the result."""
    from semantic.outputs.headers import result_headers
    from semantic.project import Project

    params = parse_params(param)  # a usage error before anything is loaded
    user = parse_user_attrs(user_attr)
    with reported():
        project = Project.load(state.project_path)
    checked_language(language, project.model.languages)  # a usage error (exit 2)
    with reported() as report:
        text = read_query(query)
        report.source = text if isinstance(text, str) else None
        if explain_plan:
            say(project.explain(text, role, user))
        if project.config.data and project.config.data.generate and not project.data_dir.exists():
            say(f"generating demo data in {project.data_dir} ...")
        limits = project.limits
        if timeout is not None:
            limits = replace(limits, timeout=max(timeout, 0.0))
        if max_rows is not None:
            limits = replace(limits, max_rows=max(max_rows, 0))
        try:
            result = project.query(text, params, engine, limits=limits, role=role, user=user)
        finally:
            project.close()  # the engine --engine opened: a Spark context is per process
        print_diagnostics(project.query_warnings(text, role, user))
        columns = project.parse(text, role, user).columns
        print_result(
            result,
            fmt,
            headers=result_headers(project.model, columns, language) if language else None,
            periods=result_periods(columns),
            fiscal_year_start=project.model.fiscal_year_start,
        )


def explain(query: QueryArg, role: RoleOption = None, user_attr: UserAttrOption = None) -> None:
    """Say in words how a business query is computed: aggregates, join paths, filters (and,
    with --role, what the role's policy does to it)."""
    from semantic.project import Project

    user = parse_user_attrs(user_attr)
    with reported() as report:
        project = Project.load(state.project_path)
        text = read_query(query)
        report.source = text if isinstance(text, str) else None
        out.print(project.explain(text, role, user), markup=False, highlight=False)


def terms(
    language: Annotated[
        str | None, typer.Option("--language", "-l", help="Label language.")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            callback=checked_kind,
            help="dimension, time_dimension, metric, segment or concept (or plural: metrics).",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    role: RoleOption = None,
) -> None:
    """List the glossary's terms with their labels in one language (with --role, those the
    role may read)."""
    import pyarrow as pa

    from semantic.audit import recorded
    from semantic.outputs.search import list_terms
    from semantic.project import Project

    with reported():
        project = Project.load(state.project_path)
        model = project.model
        with recorded(project, "terms", role=role) as audit:
            rows = list_terms(model, checked_language(language, model.languages), kind, role)
            audit["terms"] = [r["id"] for r in rows]
        print_result(
            pa.Table.from_pylist(rows) if rows else pa.table({"id": pa.array([], pa.string())}),
            fmt,
            fixed=("id",),
        )


class SearchFormat(StrEnum):
    table = "table"
    json = "json"


def search(
    text: Annotated[str, typer.Argument(help="What to look for: words, a label, an id...")],
    language: Annotated[
        str | None,
        typer.Option("--language", "-l", help="Search and label in this language only."),
    ] = None,
    fmt: Annotated[
        SearchFormat, typer.Option("--format", "-f", help="table or json.")
    ] = SearchFormat.table,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Most results shown.")] = 20,
    role: RoleOption = None,
) -> None:
    """Find terms and entities by id, label, synonym or definition, in every language,
    forgiving case, accents and typos (the catalog site's search); with --role, among what
    the role may read only."""

    from semantic.audit import recorded
    from semantic.outputs.search import find_terms
    from semantic.project import Project

    with reported():
        project = Project.load(state.project_path)
        model = project.model
        with recorded(project, "search", text=text, form="search", role=role) as audit:
            language = checked_language(language, model.languages)
            hits = find_terms(model, text, language, limit, role)
            audit["terms"] = [h.id for h in hits if h.kind not in ("entity", "subject_area")]
        rows = [hit.as_dict() for hit in hits]
        if fmt is SearchFormat.json:
            sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
            return
        matched = [
            r["matched"].replace("_", " ") + (f" ({r['language']})" if r["language"] else "")
            for r in rows
        ]
        print_table(
            out,
            [
                Column("id", [r["id"] for r in rows], "fixed"),
                Column("kind", [r["kind"] for r in rows], "fixed"),
                Column("label", [r["label"] for r in rows]),
                Column("matched", matched),
                Column("text", [r["text"] for r in rows]),
            ],
        )
        say(f"{len(rows)} result(s)")
