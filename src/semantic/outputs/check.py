"""`semantic check`: every file of a project, the vocabulary lint on request, and the data
when it is there."""

from __future__ import annotations

from pathlib import Path

from semantic.engines.base import Engine
from semantic.errors import Diagnostic
from semantic.outputs.lint import lint_vocabulary
from semantic.project import Project


def check_project(
    path: str | Path,
    *,
    data: bool = False,
    lint: bool = False,
    engine: Engine | str | None = None,
) -> tuple[Project | None, list[Diagnostic]]:
    """The project at `path` (None when it does not load) and every diagnostic: of its files,
    then of the lint (`lint`), then of its data compared with the model, when the files are
    clean and the data is there (`data`: generate the demo data first if missing; on
    `engine`, see `Project.query`)."""
    project, diagnostics = Project.inspect(path)
    clean = not any(d.severity == "error" for d in diagnostics)
    if lint and project is not None:
        diagnostics += lint_vocabulary(project.model)
    if project is not None and clean and (data or project.has_data()):
        if data:
            project.prepare_data()
        try:
            diagnostics += project.check_data(engine)
        finally:
            project.close()  # the engine --engine opened: a Spark context is per process
    return project, diagnostics
