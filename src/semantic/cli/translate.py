"""`semantic translate "PHYSICAL SQL"`: SQL over the model's tables back to business terms,
then both run and their rows compared (`Project.translate`; this module only prints)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from semantic.cli.app import CheckFormat, EngineOption, out, reported, state
from semantic.errors import Diagnostic, SemanticError, Span

if TYPE_CHECKING:
    from semantic.compiler.translate import Translation


def translate(
    sql: Annotated[
        str | None,
        typer.Argument(
            metavar="SQL", help="A SELECT over the model's tables ('-' reads standard input)."
        ),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Read the SQL from this file.")
    ] = None,
    engine: EngineOption = None,
    no_run: Annotated[
        bool, typer.Option("--no-run", help="Translate only: do not run the two queries.")
    ] = False,
    dialect: Annotated[
        str | None,
        typer.Option("--dialect", "-d", help="The SQL's dialect (default: the project's)."),
    ] = None,
    fmt: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="text or json.")
    ] = CheckFormat.text,
) -> None:
    """Name the business terms of SQL written against the physical tables, print the
    equivalent business query, then run both (on the embedded DuckDB engine unless
    --engine) and say whether their rows are equal."""
    if (sql is None) == (file is None):
        raise typer.BadParameter("give the SQL or --file, not both", param_hint="SQL")
    from semantic.project import Project

    with reported():
        text = _read(sql, file)
        project = Project.load(state.project_path)
        try:
            found = project.translate(text, engine, run=not no_run, dialect=dialect)
        finally:
            project.close()
        if fmt is CheckFormat.json:
            sys.stdout.write(json.dumps(found.as_dict(), ensure_ascii=False, indent=2) + "\n")
        else:
            _print(found, ran=not no_run)
        if found.refusal is not None:
            raise SemanticError(found.refusal)
        if found.equal is False:
            raise SemanticError(_differs(found))


def _read(sql: str | None, file: Path | None) -> str:
    if file is not None:
        try:
            return file.read_text()
        except OSError as exc:
            raise SemanticError(
                Diagnostic("SEM339", f"cannot read {file}: {exc.strerror}", Span(str(file)))
            ) from None
    assert sql is not None
    return sys.stdin.read() if sql == "-" else sql


def _print(found: Translation, *, ran: bool) -> None:
    from semantic.cli.tables import Column, print_table

    write = sys.stdout.write
    write("terms: " + (", ".join(found.terms) or "none") + "\n")
    if found.matches:
        write("\n")
        print_table(
            out,
            [
                Column("clause", [m.clause for m in found.matches], "fixed"),
                Column("SQL", [m.sql for m in found.matches]),
                Column("business", [m.business for m in found.matches]),
            ],
        )
    for note in found.notes:
        write(f"note: {note}\n")
    if found.business is None:
        write("\nno business query: see the error below\n")
        return
    write("\nbusiness query:\n" + found.business + "\n\n")
    if not ran:
        write("rows: not compared (--no-run)\n")
    elif found.compared and found.rows is not None:
        order = "in order" if found.ordered else "in any order"
        verdict = "equal" if found.equal else "different"
        write(f"rows: compared on {found.engine} ({order}): {verdict}, ")
        write(f"{found.rows[0]} from the SQL, {found.rows[1]} from the business query\n")


def _differs(found: Translation) -> Diagnostic:
    """SEM454: the business query found does not give the SQL's rows."""
    return Diagnostic(
        "SEM454",
        f"the business query's rows differ from the SQL's on {found.engine}: {found.difference}",
        Span("<sql>"),
        "the translation holds only if its notes hold on the data (and a NULL of the SQL "
        "may be a metric's fill_null); compare the two queries' results with semantic query",
    )
