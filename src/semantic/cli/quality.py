"""`semantic quality`: measure the quality rules, print the results and the scorecard, keep
the history, write JUnit XML and DQV; `--history` reads the history back."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from semantic.cli.app import (
    EngineOption,
    FormatOption,
    OutputFormat,
    print_diagnostics,
    reported,
    say,
    state,
)
from semantic.cli.printing import emit, print_result
from semantic.cli.roles import RoleOption

if TYPE_CHECKING:
    from semantic.engines.quality_store import StoredResult
    from semantic.outputs.quality import QualityRun
    from semantic.project import Project

# Each command imports the library it calls in its body (see `semantic.cli.query`).

_IDS = ("rule", "entity", "term", "dimension", "kind", "name", "level")


def quality(
    rules: Annotated[
        list[str] | None,
        typer.Argument(
            help="Rules to measure (or, with --history, to show): ids, or <term or entity>.<id>."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    engine: EngineOption = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write the results as JUnit XML here.")
    ] = None,
    dqv: Annotated[
        Path | None,
        typer.Option("--dqv", help="Also write the vocabulary with the DQV measurements here."),
    ] = None,
    history: Annotated[
        bool,
        typer.Option("--history", help="Show the recorded results instead of measuring."),
    ] = False,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Measure without recording in the history.")
    ] = False,
    role: RoleOption = None,
) -> None:
    """Measure every quality rule on the data and print a scorecard per entity, term and
    subject area; exit 1 when an error rule fails or cannot be measured. With --role, only
    the rules that role may see (refused for a role with row filters)."""
    from semantic.outputs.access import project_for
    from semantic.outputs.quality import quality_history, run_quality
    from semantic.project import Project

    with reported():
        project = Project.load(state.project_path)
        if history:
            _print_history(project, quality_history(project, rules or [], role), fmt)
            return
        try:
            run = run_quality(project, engine, only=rules or (), record=not no_record, role=role)
        finally:
            project.close()
        # what is shown beside the results (scorecard lines, the vocabulary of the DQV
        # file) is the model as the role sees it
        shown = project_for(project, role)
        print_diagnostics(list(run.notices))
        _print_run(shown, run, fmt)
        if junit is not None:
            from semantic.outputs.quality.reports import junit_xml

            emit(junit_xml(run), junit)
        if dqv is not None:
            from semantic.outputs.rdf.document import quality_rdf

            emit(quality_rdf(shown, run.results), dqv)
        if not run.ok:
            raise typer.Exit(1)


def _print_run(project: Project, run: QualityRun, fmt: OutputFormat) -> None:
    from semantic.outputs.quality.scorecard import scorecard

    rows = [r.as_dict() for r in run.results]
    card = [line.as_dict() for line in scorecard(project.model, run.results)]
    if fmt is OutputFormat.json:
        document = {
            "run_at": run.at.isoformat(timespec="seconds"),
            "engine": run.engine,
            "ok": run.ok,
            "rules": rows,
            "scorecard": card,
        }
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    _table(rows, fmt)
    if fmt is OutputFormat.table:
        _table([{**c, "failing": ", ".join(c["failing"])} for c in card], fmt)
    failed = sum(r.fails for r in run.results)
    warned = sum(not r.passed and not r.fails for r in run.results)
    say(
        f"{len(rows)} rule(s): {len(rows) - failed - warned} passed, {failed} failed, "
        f"{warned} warning(s)"
    )


def _print_history(project: Project, stored: list[StoredResult], fmt: OutputFormat) -> None:
    from semantic.outputs.quality.reports import history_rows

    rows = history_rows(stored)
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if not rows:
        say(f"no quality run recorded in {project.quality_history} yet")
    _table(rows, fmt)


def _table(rows: list[dict[str, Any]], fmt: OutputFormat) -> None:
    import pyarrow as pa

    table = pa.Table.from_pylist(rows) if rows else pa.table({"rule": pa.array([], pa.string())})
    print_result(table, fmt, fixed=[c for c in _IDS if c in table.column_names])
