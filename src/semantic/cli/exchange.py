"""Commands that exchange the vocabulary with other systems: export (RDF, R2RML, OSI,
Snowflake, Databricks, LookML), import (SKOS, dbt, OSI) and init (a new project from a
database); see docs/importing.md and docs/exporting.md."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from semantic.cli.app import (
    CheckFormat,
    OutputOption,
    out,
    print_diagnostics,
    reported,
    say,
    state,
)
from semantic.cli.choices import checked_language
from semantic.cli.printing import emit, print_json_data, print_notices

# Each command imports the library it calls in its body (rdflib, pyshacl: only for RDF).

export_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Publish the vocabulary in standard formats.",
    no_args_is_help=True,
)
import_app = typer.Typer(
    rich_markup_mode="markdown", help="Bring vocabularies from other systems.", no_args_is_help=True
)

BaseOption = Annotated[str | None, typer.Option("--base", help="Base IRI of everything published.")]
ReportFormat = Annotated[CheckFormat, typer.Option("--format", help="text or json report.")]
ReplaceOption = Annotated[
    bool, typer.Option("--replace", help="Overwrite files that exist (else refuse).")
]
#: `import dbt`'s argument
DbtFolder = Annotated[Path, typer.Argument(help="The folder of the dbt project.")]
IntoOption = Annotated[
    Path | None, typer.Option("--into", help="Project folder to write to (the project's).")
]


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
    from semantic.outputs.rdf.document import catalog_notices, project_rdf
    from semantic.project import Project

    with reported():
        project = Project.load(state.project_path)
        emit(project_rdf(project, fmt, base, quality=with_quality, validate=validate), output)
        print_diagnostics(catalog_notices(project))


@export_app.command("r2rml")
def export_r2rml(base: BaseOption = None, output: OutputOption = None) -> None:
    """An R2RML mapping that turns the entities' rows into RDF in our vocabulary."""
    from semantic.outputs.rdf.document import project_r2rml
    from semantic.project import Project

    with reported():
        emit(project_r2rml(Project.load(state.project_path), base), output)


@export_app.command("osi")
def export_osi_file(
    output: OutputOption = None,
    fmt: ReportFormat = CheckFormat.text,
    version: Annotated[
        str | None,
        typer.Option(
            "--osi-version",
            help="The Ossie version to write: 0.1.1 or 0.2.0.dev0 (the default, the newest).",
        ),
    ] = None,
    base: BaseOption = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="List each construct OSI cannot carry, with its file and line."
        ),
    ] = False,
) -> None:
    """The models and glossary as Apache Ossie (Open Semantic Interchange) YAML, valid
    against the version's JSON Schema, reporting what Ossie cannot carry (kept in our
    custom extension, with the concept IRIs under --base): a count per reason, or each
    construct with --verbose or --format json."""
    from semantic.interchange.osi_export import export_osi
    from semantic.interchange.osi_spec import OSI_VERSION
    from semantic.project import Project

    with reported():
        project = Project.load(state.project_path)
        text, notices = export_osi(project.root, project.config, version or OSI_VERSION, base)
        emit(text, output)
        if verbose or fmt is CheckFormat.json or not notices:
            print_notices(notices, None, fmt, "export osi")
        else:
            _print_notice_summary(notices, "export osi")


def _print_notice_summary(notices: Sequence[Any], what: str) -> None:
    """An export's notices as one line per reason, with how many constructs it holds: a
    successful export of a rich project has a notice for nearly every term (its other
    languages, its owners...), which nobody reads one by one."""
    counts = Counter((n.code, n.reason) for n in notices)
    say(f"{what}: {len(notices)} item(s) reported, by reason (--verbose lists each):")
    width = len(str(max(counts.values())))
    for (code, reason), count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        say(f"  {count:>{width}} {code} {reason}")


@export_app.command("snowflake")
def export_snowflake_view(
    output: OutputOption = None,
    yaml: Annotated[
        bool, typer.Option("--yaml", help="The semantic model YAML (Cortex Analyst), not DDL.")
    ] = False,
    database: Annotated[
        str | None, typer.Option("--database", help="Database of the tables.")
    ] = None,
    schema: Annotated[str | None, typer.Option("--schema", help="Schema of the tables.")] = None,
    fmt: ReportFormat = CheckFormat.text,
) -> None:
    """A Snowflake semantic view: CREATE SEMANTIC VIEW, or its YAML with --yaml; reports
    what it cannot carry."""
    from semantic.interchange.snowflake import export_snowflake
    from semantic.project import Project

    with reported():
        project = Project.load(state.project_path)
        text, notices = export_snowflake(
            project.model,
            yaml=yaml,
            database=database,
            schema=schema,
            description=project.config.description,
        )
        emit(text, output)
        print_notices(notices, None, fmt, "export snowflake")


@export_app.command("databricks")
def export_databricks_views(
    output: OutputOption = None,
    catalog: Annotated[str | None, typer.Option("--catalog", help="Catalog of the tables.")] = None,
    schema: Annotated[str | None, typer.Option("--schema", help="Schema of the tables.")] = None,
    fmt: ReportFormat = CheckFormat.text,
) -> None:
    """Unity Catalog metric views, one per entity with metrics, as CREATE VIEW ... WITH
    METRICS statements; reports what they cannot carry."""
    from semantic.interchange.databricks import export_databricks
    from semantic.project import Project

    with reported():
        project = Project.load(state.project_path)
        text, notices = export_databricks(project.model, catalog=catalog, schema=schema)
        emit(text, output)
        print_notices(notices, None, fmt, "export databricks")


@export_app.command("lookml")
def export_lookml_project(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Folder to write the LookML files to.")
    ] = None,
    dialect: Annotated[
        str, typer.Option("--dialect", help="SQL dialect of the Looker connection.")
    ] = "duckdb",
    connection: Annotated[
        str | None, typer.Option("--connection", help="Looker connection (the project's name).")
    ] = None,
    replace: ReplaceOption = False,
    fmt: ReportFormat = CheckFormat.text,
) -> None:
    """A LookML project: a view per entity, a model with an explore per entity with metrics;
    reports what it cannot carry."""
    from semantic.interchange.lookml import export_lookml
    from semantic.project import Project

    with reported():
        project = Project.load(state.project_path)
        files, notices = export_lookml(project.model, dialect=dialect, connection=connection)
        _emit_files(files, notices, output, replace, fmt, "export lookml")


@export_app.command("dbt")
def export_dbt_project(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Folder to write the dbt project to.")
    ] = None,
    dialect: Annotated[
        str, typer.Option("--dialect", help="SQL dialect of the dbt adapter.")
    ] = "duckdb",
    replace: ReplaceOption = False,
    fmt: ReportFormat = CheckFormat.text,
) -> None:
    """A dbt project whose semantic models and metrics (MetricFlow YAML) MetricFlow parses;
    reports what it cannot carry."""
    from semantic.interchange.dbt.export import export_dbt
    from semantic.project import Project

    with reported():
        project = Project.load(state.project_path)
        result = export_dbt(project.model, dialect=dialect)
        _emit_files(result.files, result.notices, output, replace, fmt, "export dbt")


def _emit_files(
    files: Mapping[str, str],
    notices: Sequence[Any],
    output: Path | None,
    replace: bool,
    fmt: CheckFormat,
    what: str,
) -> None:
    """An export of several files: written into the folder `output` (never over existing
    files unless `replace`), or printed one after the other, each under a `# ---- NAME`
    line; then what it could not carry."""
    from semantic.interchange.common import write_files

    if output is None:
        emit("".join(f"# ---- {name}\n{text}" for name, text in files.items()), None)
        print_notices(notices, None, fmt, what)
    else:
        print_notices(notices, write_files(output, files, replace=replace), fmt, what)


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
        str | None,
        typer.Option(
            "--language",
            help="Language of literals without a tag: one of semantic.yml's languages "
            "(default: the first).",
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace existing terms (else they are skipped).")
    ] = False,
    fmt: Annotated[CheckFormat, typer.Option("--format", help="text or json report.")] = (
        CheckFormat.text
    ),
    keep_iris: Annotated[
        bool,
        typer.Option(
            "--keep-iris",
            help="Keep each concept's IRI as its term's `iri` (the export uses it); by "
            "default it becomes an `exact_match` link.",
        ),
    ] = False,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Repair what breaks the SKOS integrity conditions, reporting each repair "
            "(else such a vocabulary is refused).",
        ),
    ] = False,
) -> None:
    """Turn a SKOS vocabulary into glossary files, reporting what could not be mapped."""
    from semantic.interchange.skos import (
        import_skos_into,
        project_config,
        report_dict,
        report_line,
    )

    with reported():
        if language is not None:  # only semantic.yml is read: the glossary may be empty
            checked_language(language, project_config(state.project_path)[1].languages)
        result, written = import_skos_into(
            state.project_path,
            file,
            into=into,
            domain=domain,
            language=language,
            replace=replace,
            keep_iris=keep_iris,
            repair=repair,
        )
        if fmt is CheckFormat.json:
            print_json_data(
                out,
                {
                    "written": [str(p) for p in written],
                    "terms": list(result.terms),
                    "report": [report_dict(item) for item in result.notices],
                },
            )
        else:
            for item in result.notices:
                say(report_line(item))
            say(
                f"imported {len(result.terms)} term(s) into {len(written)} file(s); "
                f"{len(result.notices)} item(s) reported"
            )


@import_app.command("dbt")
def import_dbt_project(
    path: DbtFolder,
    into: IntoOption = None,
    replace: ReplaceOption = False,
    fmt: ReportFormat = CheckFormat.text,
) -> None:
    """Turn dbt semantic models and metrics (MetricFlow YAML) into models and glossary files,
    reporting every construct that could not be carried over. Writes a semantic.yml too
    when the folder has none."""
    from semantic.interchange.dbt import import_dbt_into

    _import_into(import_dbt_into, path, into, replace, fmt, "import dbt")


@import_app.command("osi")
def import_osi_file(
    file: Annotated[Path, typer.Argument(help="An Apache Ossie (OSI) YAML file.")],
    into: IntoOption = None,
    replace: ReplaceOption = False,
    fmt: ReportFormat = CheckFormat.text,
) -> None:
    """Turn an Apache Ossie (Open Semantic Interchange) semantic model into models and
    glossary files, reporting every construct that could not be carried over."""
    from semantic.interchange.osi_import import import_osi_into

    _import_into(import_osi_into, file, into, replace, fmt, "import osi")


def _import_into(
    importer: Callable[..., tuple[Any, list[Path]]],
    source: Path,
    into: Path | None,
    replace: bool,
    fmt: CheckFormat,
    what: str,
) -> None:
    """Run an importer of model and glossary files (dbt, OSI) into `into` (by default the
    project at or above the current folder, else the current folder, which becomes one) and
    report its notices."""
    from semantic.errors import SemanticError
    from semantic.files.root import find_root

    with reported():
        if into is None:
            try:
                into = find_root(state.project_path)
            except SemanticError:  # no project yet: the import makes one here
                into = state.project_path
        result, written = importer(source, into, replace=replace)
        print_notices(result.notices, written, fmt, what)


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
    from semantic.engines.postgres import redact
    from semantic.interchange.database import scaffold_from_engine, scaffold_from_files

    with reported():
        if [from_duckdb, from_files, engine].count(None) != 2:
            raise typer.BadParameter(
                "give one of --engine URL, --from-duckdb FILE or --from-files DIR"
            )
        if from_files is not None:
            written, notices = scaffold_from_files(from_files, folder, name=name, schema=schema)
        else:
            # --from-duckdb FILE is --engine duckdb:///FILE
            url = engine or f"duckdb://{Path(str(from_duckdb)).resolve()}"
            origin = str(from_duckdb) if from_duckdb else redact(url)
            written, notices = scaffold_from_engine(
                url, folder, name=name, schema=schema, origin=origin
            )
        print_notices(notices, written, fmt, "init")
