"""The `semantic` command: thin shells over the Python API.

Each command parses its arguments, calls one library function and prints. Errors are
printed as `path:line:col: CODE message` with a hint; no traceback unless --debug.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import typer
from rich.console import Console
from rich.table import Table

from semantic.atomic import write_atomically
from semantic.engines.base import Engine
from semantic.errors import Diagnostic, SemanticError, Span
from semantic.lint import lint_vocabulary
from semantic.project import Project, find_root
from semantic.query import QueryInput
from semantic.views import DEFAULT_SCHEMA, ViewPlan

app = typer.Typer(
    rich_markup_mode="markdown",
    name="semantic",
    help="A business glossary that compiles to SQL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class State:
    project_path: Path = Path(".")
    debug: bool = False


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


@app.callback()
def main_options(
    project: ProjectOption = Path("."),
    debug: Annotated[bool, typer.Option("--debug", help="Show Python tracebacks.")] = False,
) -> None:
    """A business glossary that compiles to SQL."""
    state.project_path = project
    state.debug = debug


@contextmanager
def _reported() -> Iterator[None]:
    """Print SemanticErrors as diagnostics and exit 1; anything else is a bug."""
    try:
        yield
    except SemanticError as exc:
        if state.debug:
            raise
        _print_diagnostics(exc.diagnostics)
        raise typer.Exit(1) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if state.debug:
            raise
        err.print(f"internal error: {type(exc).__name__}: {exc}", markup=False, highlight=False)
        err.print("  help: rerun with --debug and report the traceback", markup=False)
        raise typer.Exit(2) from None


def _print_diagnostics(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
    for d in diagnostics:
        err.print(d.render(), markup=False, highlight=False)


def _read_query(text: str) -> QueryInput:
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


def parse_params(values: list[str] | None) -> dict[str, Any]:
    """`--param` values (`name=value`) as query parameters: numbers when they read as one."""
    bound: dict[str, Any] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"'{item}' is not NAME=VALUE", param_hint="--param")
        bound[name.lstrip("$")] = _typed(value)
    return bound


def _typed(value: str) -> Any:
    for convert in (int, decimal.Decimal):
        try:
            return convert(value)
        except (ValueError, decimal.InvalidOperation):
            continue
    return value


QueryArg = Annotated[str, typer.Argument(help="The business query ('-' reads standard input).")]
ParamOption = Annotated[
    list[str] | None, typer.Option("--param", help="Bind a parameter: --param region=ASIA.")
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


@app.command()
def check(
    fmt: Annotated[CheckFormat, typer.Option("--format", help="text or json.")] = CheckFormat.text,
    data: Annotated[
        bool, typer.Option("--data", help="Compare with the data, generating demo data if missing.")
    ] = False,
    lint: Annotated[
        bool, typer.Option("--lint", help="Also lint the vocabulary (warnings, qSKOS style).")
    ] = False,
    engine: EngineOption = None,
) -> None:
    """Validate every model and glossary file, and the data when it is there; exit 1 on any
    error."""
    with _reported():
        project, diagnostics = Project.inspect(state.project_path)
        clean = not any(d.severity == "error" for d in diagnostics)
        if lint and project is not None:
            diagnostics += lint_vocabulary(project.model)
        if project is not None and clean and (data or project.has_data()):
            if data:
                project.prepare_data()
            try:
                diagnostics += project.check_data(engine)
            finally:
                project.close()
        errors = [d for d in diagnostics if d.severity == "error"]
        if fmt is CheckFormat.json:
            out.print_json(
                json.dumps({"ok": not errors, "diagnostics": [d.as_dict() for d in diagnostics]})
            )
        else:
            _print_diagnostics(diagnostics)
            if project is not None and not errors:
                model = project.model
                err.print(
                    f"ok: {len(model.entities)} entities, {len(model.terms)} terms, "
                    f"{len(diagnostics)} warning(s)",
                    markup=False,
                    highlight=False,
                )
            else:
                err.print(f"{len(errors)} error(s)", markup=False, highlight=False)
        if errors:
            raise typer.Exit(1)


@app.command()
def compile(  # noqa: A001 - the command is called compile
    query: QueryArg,
    dialect: Annotated[
        str | None, typer.Option("--dialect", "-d", help="Any sqlglot dialect.")
    ] = None,
) -> None:
    """Print the SQL of a business query."""
    with _reported():
        project = Project.load(state.project_path)
        text = _read_query(query)
        sql = project.compile(text, dialect)
        _print_diagnostics(project.query_warnings(text))
        out.print(sql, markup=False, highlight=False)


@app.command()
def query(
    query: QueryArg,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, csv or json.")
    ] = OutputFormat.table,
    param: ParamOption = None,
    explain_plan: Annotated[
        bool, typer.Option("--explain", help="Also say how each metric is computed (stderr).")
    ] = False,
    engine: EngineOption = None,
) -> None:
    """Run a business query (on the embedded DuckDB engine unless --engine) and print the
    result."""
    with _reported():
        project = Project.load(state.project_path)
        text = _read_query(query)
        if explain_plan:
            err.print(project.explain(text), markup=False, highlight=False)
        if project.config.data and project.config.data.generate and not project.data_dir.exists():
            err.print(
                f"generating demo data in {project.data_dir} ...", markup=False, highlight=False
            )
        try:
            result = project.query(text, parse_params(param), engine)
        finally:
            project.close()  # the engine --engine opened: a Spark context is per process
        _print_diagnostics(project.query_warnings(text))
        _print_result(result, fmt)


export_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Publish the vocabulary in standard formats.",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")

OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (atomically).")
]
BaseOption = Annotated[str | None, typer.Option("--base", help="Base IRI of everything published.")]


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomically(output, text)
        err.print(f"wrote {output}", markup=False, highlight=False)


@export_app.command("rdf")
def export_rdf(
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="turtle, json-ld, xml or nt.")
    ] = "turtle",
    base: BaseOption = None,
    output: OutputOption = None,
    with_quality: Annotated[
        bool,
        typer.Option("--quality", help="Also measure the quality rules and export the results."),
    ] = False,
    validate: Annotated[
        bool, typer.Option("--validate", help="Check against the SHACL shapes before writing.")
    ] = False,
) -> None:
    """The glossary and model as RDF: SKOS, DCAT, CSVW, DQV and PROV."""
    with _reported():
        project = Project.load(state.project_path)
        _emit(project.rdf(fmt, base, quality=with_quality, validate=validate), output)


@export_app.command("r2rml")
def export_r2rml(base: BaseOption = None, output: OutputOption = None) -> None:
    """An R2RML mapping that turns the entities' rows into RDF in our vocabulary."""
    with _reported():
        _emit(Project.load(state.project_path).r2rml(base), output)


import_app = typer.Typer(
    rich_markup_mode="markdown", help="Bring vocabularies from other systems.", no_args_is_help=True
)
app.add_typer(import_app, name="import")


@import_app.command("skos")
def import_skos_file(
    file: Annotated[Path, typer.Argument(help="A SKOS vocabulary: .ttl, .rdf, .jsonld, .nt...")],
    into: Annotated[
        Path | None, typer.Option("--into", help="Glossary folder to write to (the project's).")
    ] = None,
    domain: Annotated[
        str | None, typer.Option("--domain", help="Put every concept into this one domain.")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="Language of literals without a tag.")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace existing terms (else they are skipped).")
    ] = False,
    fmt: Annotated[CheckFormat, typer.Option("--format", help="text or json report.")] = (
        CheckFormat.text
    ),
) -> None:
    """Turn a SKOS vocabulary into glossary files, reporting what could not be mapped."""
    from semantic.rdf.skos_import import glossary_terms, import_skos, write_import

    with _reported():
        project = Project.load(state.project_path)
        glossary = into or project.root / project.config.glossary
        existing = glossary_terms(project.root / project.config.glossary) | glossary_terms(glossary)
        result = import_skos(
            file,
            language=language or project.config.languages[0],
            existing={} if replace else existing,
            domain=domain,
        )
        written = write_import(result, glossary, replace=replace)
        if fmt is CheckFormat.json:
            out.print_json(
                json.dumps(
                    {
                        "written": [str(p) for p in written],
                        "terms": list(result.terms),
                        "report": [item.as_dict() for item in result.report],
                    }
                )
            )
        else:
            for item in result.report:
                err.print(item.render(), markup=False, highlight=False)
            err.print(
                f"imported {len(result.terms)} term(s) into {len(written)} file(s); "
                f"{len(result.report)} item(s) reported",
                markup=False,
                highlight=False,
            )


@app.command()
def schema(
    into: Annotated[
        Path | None, typer.Option("--into", help="Folder to write to (the project's schemas/).")
    ] = None,
) -> None:
    """Write the JSON Schema of semantic.yml, models/ and glossary/ files, for editors."""
    from semantic.jsonschema import SCHEMA_DIR, write_schemas

    with _reported():
        folder = into or find_root(state.project_path) / SCHEMA_DIR
        for path in write_schemas(folder):
            err.print(f"wrote {path}", markup=False, highlight=False)


@app.command()
def quality(
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, csv or json.")
    ] = OutputFormat.table,
    engine: EngineOption = None,
) -> None:
    """Measure every quality rule on the data; exit 1 when one falls below its threshold."""
    with _reported():
        project = Project.load(state.project_path)
        try:
            results = project.quality(engine)
        finally:
            project.close()
        rows = [
            {
                "rule": r.rule.id,
                "entity": r.rule.entity,
                "term": r.rule.term,
                "dimension": r.rule.dimension,
                "check": r.rule.text,
                "rows": r.rows,
                "failing": r.rows - r.passing,
                "score": r.score,
                "threshold": r.rule.threshold,
                "passed": r.passed,
            }
            for r in results
        ]
        _print_result(pa.Table.from_pylist(rows) if rows else pa.table({"rule": []}), fmt)
        if not all(r.passed for r in results):
            raise typer.Exit(1)


@app.command()
def explain(query: QueryArg) -> None:
    """Say in words how a business query is computed: aggregates, join paths, filters."""
    with _reported():
        project = Project.load(state.project_path)
        out.print(project.explain(_read_query(query)), markup=False, highlight=False)


@app.command()
def terms(
    language: Annotated[
        str | None, typer.Option("--language", "-l", help="Label language.")
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="dimension, time_dimension, metric or segment.")
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, csv or json.")
    ] = OutputFormat.table,
) -> None:
    """List the glossary's terms with their labels in one language."""
    with _reported():
        project = Project.load(state.project_path)
        lang = language or project.model.languages[0]
        rows = [
            {
                "id": t.id,
                "kind": t.kind,
                "label": t.label(lang),
                "synonyms": ", ".join(t.synonyms.get(lang, ())),
                "domain": t.domain,
                "status": t.status,
                "definition": t.definition.get(lang, ""),
            }
            for t in sorted(project.model.terms.values(), key=lambda t: (t.domain, t.id))
            if kind is None or t.kind == kind
        ]
        _print_result(
            pa.Table.from_pylist(rows) if rows else pa.table({"id": pa.array([], pa.string())}), fmt
        )


class SearchFormat(StrEnum):
    table = "table"
    json = "json"


@app.command()
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
    from semantic.search import find_terms

    with _reported():
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
        err.print(f"{len(rows)} result(s)", markup=False, highlight=False)


docs_app = typer.Typer(
    rich_markup_mode="markdown",
    help="The vocabulary as a browsable catalog site.",
    no_args_is_help=True,
)
app.add_typer(docs_app, name="docs")


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
    from semantic.catalog.site import build_site

    with _reported():
        report = build_site(Project.load(state.project_path), output, quality=with_quality)
        _print_diagnostics(report.warnings)
        err.print(
            f"wrote {len(report.pages)} files to {report.output}; open "
            f"{report.output / 'index.html'}",
            markup=False,
            highlight=False,
        )


@app.command()
def load(
    engine: Annotated[
        str, typer.Option("--engine", "-e", help="A PostgreSQL engine: its name or URL.")
    ],
) -> None:
    """Copy the project's data files into PostgreSQL as typed tables (refilled in place, in
    one transaction), so queries can run there with --engine."""
    with _reported():
        project = Project.load(state.project_path)
        try:
            loaded = project.load_data(engine)
        finally:
            project.close()
        for table, rows in loaded:
            err.print(f"loaded {table}: {rows} row(s)", markup=False, highlight=False)


views_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Views for BI tools: one per entity and one per subject area.",
    no_args_is_help=True,
)
app.add_typer(views_app, name="views")


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


@contextmanager
def _views_engine(project: Project, name_or_url: str | None, *, required: bool) -> Iterator[Engine]:
    """The engine to publish to (see `Project.engine_for`), closed afterwards. The embedded
    in-memory engine serves for planning only: views there would vanish with the command."""
    try:
        target = project.engine_for(name_or_url, write=required)
        if required and getattr(target, "database", None) == ":memory:":
            raise SemanticError(
                Diagnostic(
                    "SEM419",
                    "views apply needs a database that outlives the command",
                    None,
                    "pass --engine duckdb:///path/file.duckdb or --engine postgresql://..., "
                    "or mark an engine of semantic.yml `default: true`",
                )
            )
        yield target
    finally:
        project.close()


@views_app.command("plan")
def views_plan(
    engine: EngineOption = None,
    schema: SchemaOption = DEFAULT_SCHEMA,
    language: LanguageOption = None,
    max_confidentiality: ConfidentialityOption = None,
    fmt: Annotated[
        PlanFormat, typer.Option("--format", help="sql (a script) or json.")
    ] = PlanFormat.sql,
) -> None:
    """Print the DDL that `views apply` would run (and the views it would drop); change
    nothing."""
    from semantic.publish import plan_publication

    with _reported():
        project = Project.load(state.project_path)
        with _views_engine(project, engine, required=False) as target:
            plan = plan_publication(
                project.model,
                target,
                schema=schema,
                language=language,
                max_confidentiality=max_confidentiality,
            )
        if fmt is PlanFormat.json:
            sys.stdout.write(json.dumps(plan.as_dict(), ensure_ascii=False, indent=2) + "\n")
        else:
            out.print(plan.script(), markup=False, highlight=False, end="")
        _print_views_summary(plan, "would ")


@views_app.command("apply")
def views_apply(
    engine: EngineOption = None,
    schema: SchemaOption = DEFAULT_SCHEMA,
    language: LanguageOption = None,
    max_confidentiality: ConfidentialityOption = None,
    skip_quality: Annotated[
        bool,
        typer.Option("--skip-quality", help="Publish even when the data fails quality rules."),
    ] = False,
) -> None:
    """Publish the views in one transaction, once the data passes its quality rules; drop
    the views the glossary no longer declares."""
    from semantic.publish import publish_views

    with _reported():
        project = Project.load(state.project_path)
        with _views_engine(project, engine, required=True) as target:
            plan = publish_views(
                project.model,
                target,
                schema=schema,
                language=language,
                check_quality=not skip_quality,
                max_confidentiality=max_confidentiality,
            )
        _print_views_summary(plan, "")


def _print_views_summary(plan: ViewPlan, mood: str) -> None:
    created = len(plan.views) - len(plan.replaced)
    text = (
        f"{mood}create {created}, replace {len(plan.replaced)} and drop {len(plan.dropped)} "
        f"view(s) in schema {plan.schema}"
    )
    if plan.dropped:
        text += f" (dropped: {', '.join(plan.dropped)})"
    if plan.withheld:
        text += f"; withheld as too confidential: {', '.join(a for a, _ in plan.withheld)}"
    err.print(text, markup=False, highlight=False)


@app.command("fmt")
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
    from semantic.fmt import format_files as format_paths
    from semantic.fmt import format_project, unified_diff

    with _reported():
        results = (
            format_paths(files, check=check_only)
            if files
            else format_project(find_root(state.project_path), check=check_only)
        )
        for result in results:
            _print_diagnostics(list(result.diagnostics))
            if result.changed and not check_only:
                err.print(f"formatted {result.name}", markup=False, highlight=False)
            if result.changed and check_only and show_diff:
                sys.stdout.write(unified_diff(result))
        changed = sum(r.changed for r in results)
        broken = sum(1 for r in results if r.diagnostics and not r.changed)
        verb = "would be reformatted" if check_only else "formatted"
        summary = f"{changed} file(s) {verb}, {len(results) - changed - broken} unchanged"
        err.print(summary + (f", {broken} not parsed" if broken else ""), highlight=False)
        if broken or (check_only and changed):
            raise typer.Exit(1)


class DiffFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


class FailOn(StrEnum):
    breaking = "breaking"
    any = "any"
    never = "never"


@app.command()
def diff(
    revision: Annotated[
        str, typer.Argument(help="The git revision to compare the working tree with.")
    ] = "HEAD",
    fmt: Annotated[
        DiffFormat, typer.Option("--format", "-f", help="text, markdown or json.")
    ] = DiffFormat.text,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 on breaking changes, on any, or never.")
    ] = FailOn.breaking,
    output: OutputOption = None,
) -> None:
    """What changed in the vocabulary since a git revision, in business terms, and what
    breaks; exit 1 on a breaking change (see --fail-on)."""
    from semantic.vocabdiff import diff_revision, render_json, render_markdown, render_text

    with _reported():
        found = diff_revision(state.project_path, revision)
        _print_diagnostics(list(found.problems))
        render = {"text": render_text, "markdown": render_markdown, "json": render_json}[fmt]
        _emit(render(found), output)
        failing = {"breaking": found.breaking, "any": found.changes, "never": ()}[fail_on]
        if failing:
            raise typer.Exit(1)


def _print_result(result: pa.Table, fmt: OutputFormat) -> None:
    rows = result.to_pylist()
    names = result.column_names
    if fmt is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow([_csv_value(row[n]) for n in names])
        sys.stdout.write(buffer.getvalue())
    elif fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(rows, default=_json_value, ensure_ascii=False, indent=2) + "\n")
    else:
        table = Table(*names, show_lines=False)
        for row in rows:
            table.add_row(*(_display(row[n]) for n in names))
        out.print(table)
        err.print(f"{len(rows)} row(s)", markup=False, highlight=False)


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


_JSON: dict[type, Callable[[Any], Any]] = {
    decimal.Decimal: lambda v: int(v) if v == v.to_integral_value() else float(v),
    dt.date: lambda v: v.isoformat(),
    dt.datetime: lambda v: v.isoformat(),
}


def _json_value(value: Any) -> Any:
    for kind, convert in _JSON.items():
        if isinstance(value, kind):
            return convert(value)
    return str(value)


def _display(value: Any) -> str:
    if value is None:
        return "∅"
    if isinstance(value, float):
        return f"{value:,.4f}"
    if isinstance(value, decimal.Decimal):
        return f"{value:,}"
    return str(value)


# --- init, and importing from and exporting to other semantic layers (docs/importing.md) ---


def _print_notices(notices: Any, written: list[Path], fmt: CheckFormat, what: str) -> None:
    if fmt is CheckFormat.json:
        out.print_json(
            json.dumps(
                {"written": [str(p) for p in written], "report": [n.as_dict() for n in notices]}
            )
        )
        return
    _print_diagnostics([n.diagnostic() for n in notices])
    err.print(
        f"{what}: wrote {len(written)} file(s); {len(notices)} item(s) reported",
        markup=False,
        highlight=False,
    )


ReportFormat = Annotated[CheckFormat, typer.Option("--format", help="text or json report.")]
ReplaceOption = Annotated[
    bool, typer.Option("--replace", help="Overwrite files that exist (else refuse).")
]


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Folder of the new project.")] = Path("."),
    from_duckdb: Annotated[
        Path | None, typer.Option("--from-duckdb", help="A DuckDB database file to describe.")
    ] = None,
    from_files: Annotated[
        Path | None,
        typer.Option("--from-files", help="A folder of parquet or CSV files, one per table."),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Project name.")] = None,
    schema: Annotated[
        str | None,
        typer.Option("--schema", help="Only the tables of this schema (default: main, or public)."),
    ] = None,
    fmt: ReportFormat = CheckFormat.text,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            "-e",
            help="An engine URL to describe: duckdb:///path/file.duckdb or "
            "postgresql://USER@HOST:PORT/DATABASE; it becomes the project's default engine.",
        ),
    ] = None,
) -> None:
    """Scaffold a new project from an existing database: entities, keys, relationships
    (declared, or guessed from names and checked on the data) and a draft glossary."""
    import os

    from semantic.engines.postgres import redact
    from semantic.scaffold import engine_source, files_source, scaffold

    with _reported():
        if [from_duckdb, from_files, engine].count(None) != 2:
            raise typer.BadParameter(
                "give one of --engine URL, --from-duckdb FILE or --from-files DIR"
            )
        if from_files is not None:
            source, file_format = files_source(from_files)
            where = os.path.relpath(from_files.resolve(), folder.resolve())
            data, origin = {"dir": where, "format": file_format}, str(from_files)
            written, notices = scaffold(
                source, folder, name=name, schema=schema, data=data, origin=origin
            )
        else:
            # --from-duckdb FILE is --engine duckdb:///FILE
            url = engine or f"duckdb://{Path(str(from_duckdb)).resolve()}"
            opened = engine_source(url)
            try:
                written, notices = scaffold(
                    opened.source,
                    folder,
                    name=name,
                    schema=schema or opened.schema,
                    origin=str(from_duckdb) if from_duckdb else redact(url),
                    engine=opened.url,
                )
            finally:
                opened.source.close()
            notices = (*notices, *opened.notices)
        _print_notices(notices, written, fmt, "init")


@import_app.command("dbt")
def import_dbt_project(
    path: Annotated[Path, typer.Argument(help="The folder of the dbt project.")],
    into: Annotated[
        Path | None, typer.Option("--into", help="Project folder to write to (the project's).")
    ] = None,
    replace: ReplaceOption = False,
    fmt: ReportFormat = CheckFormat.text,
) -> None:
    """Turn dbt semantic models and metrics (MetricFlow YAML) into models and glossary files,
    reporting every construct that could not be carried over. Writes a semantic.yml too
    when the folder has none."""
    from semantic.dbt_import import import_dbt
    from semantic.interchange import write_files

    with _reported():
        root = into or state.project_path
        result = import_dbt(path)
        files = dict(result.files)
        if not (root / "semantic.yml").exists():
            files["semantic.yml"] = _new_config(root, result.data)
        written = write_files(root, files, replace=replace)
        _print_notices(result.notices, written, fmt, "import dbt")


@export_app.command("osi")
def export_osi_file(
    output: OutputOption = None,
    fmt: ReportFormat = CheckFormat.text,
) -> None:
    """The models and glossary as Apache Ossie (Open Semantic Interchange) YAML, reporting
    what OSI cannot carry (kept in a SEMANTIC custom extension)."""
    from semantic.osi import export_osi

    with _reported():
        project = Project.load(state.project_path)
        text, notices = export_osi(project.root, project.config)
        _emit(text, output)
        if fmt is CheckFormat.json:
            err.print_json(json.dumps({"report": [n.as_dict() for n in notices]}))
        else:
            _print_diagnostics([n.diagnostic() for n in notices])
            err.print(f"export osi: {len(notices)} item(s) reported", markup=False, highlight=False)


@import_app.command("osi")
def import_osi_file(
    file: Annotated[Path, typer.Argument(help="An Apache Ossie (OSI) YAML file.")],
    into: Annotated[
        Path | None, typer.Option("--into", help="Project folder to write to (the project's).")
    ] = None,
    replace: ReplaceOption = False,
    fmt: ReportFormat = CheckFormat.text,
) -> None:
    """Turn an Apache Ossie (Open Semantic Interchange) semantic model into models and
    glossary files, reporting every construct that could not be carried over."""
    from semantic.interchange import dump_yaml, write_files
    from semantic.osi import import_osi

    with _reported():
        root = into or state.project_path
        result = import_osi(file)
        files = dict(result.files)
        if not (root / "semantic.yml").exists():
            files["semantic.yml"] = dump_yaml(
                result.project, "yaml-language-server: $schema=schemas/project.schema.json"
            )
        written = write_files(root, files, replace=replace)
        _print_notices(result.notices, written, fmt, "import osi")


def _new_config(root: Path, data: dict[str, str] | None) -> str:
    import os

    from semantic.interchange import dump_yaml, flow

    config: dict[str, Any] = {"name": root.resolve().name, "languages": flow(["en"])}
    if data:
        where = os.path.relpath(data["dir"], root.resolve())
        config["data"] = flow({**data, "dir": where})
    return dump_yaml(config, "yaml-language-server: $schema=schemas/project.schema.json")


def main() -> None:
    """Entry point of the `semantic` script."""
    app()


if __name__ == "__main__":
    main()
