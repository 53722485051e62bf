"""Commands that read the vocabulary: compile, query, explain, terms and search."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from enum import StrEnum
from typing import Annotated

import pyarrow as pa
import typer
from rich.table import Table

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
from semantic.cli.printing import print_result
from semantic.compiler.parse import QueryInput
from semantic.errors import Diagnostic, SemanticError, Span
from semantic.project import Project

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


def compile(  # noqa: A001 - the command is called compile
    query: QueryArg,
    dialect: Annotated[
        str | None, typer.Option("--dialect", "-d", help="Any sqlglot dialect.")
    ] = None,
) -> None:
    """Print the SQL of a business query."""
    with reported() as report:
        project = Project.load(state.project_path)
        text = read_query(query)
        report.source = text if isinstance(text, str) else None
        sql = project.compile(text, dialect)
        print_diagnostics(project.query_warnings(text))
        out.print(sql, markup=False, highlight=False)


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
) -> None:
    """Run a business query (on the embedded DuckDB engine unless --engine) and print the
    result."""
    params = parse_params(param)  # a usage error before anything is loaded
    with reported() as report:
        project = Project.load(state.project_path)
        text = read_query(query)
        report.source = text if isinstance(text, str) else None
        if explain_plan:
            say(project.explain(text))
        if project.config.data and project.config.data.generate and not project.data_dir.exists():
            say(f"generating demo data in {project.data_dir} ...")
        limits = project.limits
        if timeout is not None:
            limits = replace(limits, timeout=max(timeout, 0.0))
        if max_rows is not None:
            limits = replace(limits, max_rows=max(max_rows, 0))
        try:
            result = project.query(text, params, engine, limits=limits)
        finally:
            project.close()  # the engine --engine opened: a Spark context is per process
        print_diagnostics(project.query_warnings(text))
        print_result(result, fmt)


def explain(query: QueryArg) -> None:
    """Say in words how a business query is computed: aggregates, join paths, filters."""
    with reported() as report:
        project = Project.load(state.project_path)
        text = read_query(query)
        report.source = text if isinstance(text, str) else None
        out.print(project.explain(text), markup=False, highlight=False)


def terms(
    language: Annotated[
        str | None, typer.Option("--language", "-l", help="Label language.")
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="dimension, time_dimension, metric or segment.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List the glossary's terms with their labels in one language."""
    from semantic.outputs.search import list_terms

    with reported():
        rows = list_terms(Project.load(state.project_path).model, language, kind)
        print_result(
            pa.Table.from_pylist(rows) if rows else pa.table({"id": pa.array([], pa.string())}), fmt
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
) -> None:
    """Find terms and entities by id, label, synonym or definition, in every language,
    forgiving case, accents and typos (the catalog site's search)."""
    from semantic.outputs.search import find_terms

    with reported():
        hits = find_terms(Project.load(state.project_path).model, text, language, limit)
        rows = [hit.as_dict() for hit in hits]
        if fmt is SearchFormat.json:
            sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
            return
        table = Table("id", "kind", "label", "matched", show_lines=False)
        table.add_column("text", no_wrap=True, overflow="ellipsis", max_width=60)
        for row in rows:
            matched = row["matched"].replace("_", " ")
            matched += f" ({row['language']})" if row["language"] else ""
            table.add_row(row["id"], row["kind"], row["label"], matched, row["text"])
        out.print(table)
        say(f"{len(rows)} result(s)")
