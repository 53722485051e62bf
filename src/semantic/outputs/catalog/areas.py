"""The subject areas in the catalog site: what the page of each one shows, and which subject
areas a term belongs to (the "In subject areas" of its page).

A page shows what `semantic views apply` publishes: the view's name and columns (named by
ids, and by labels in each language with `--language`), the business query and the SQL it
compiles to in the project's dialect.

>>> from semantic.project import Project
>>> project = Project.load(".")
>>> page = area_page(project, project.model.subject_areas["yearly_sales"])
>>> page.view
'semantic.yearly_sales'
>>> page.query.split(" WHERE ")[1]
"order_status = 'F'"
>>> [(c.term.id, c.grain, c.name) for c in page.dimensions]
[('order_date', 'year', 'order_date_year')]
>>> [a.id for a in areas_of_term(project.model, "net_revenue")]
['sales_by_customer', 'yearly_sales']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot import exp

from semantic.compiler.areas import subject_area_query
from semantic.errors import SemanticError
from semantic.model import FILE_DIALECT, Model, SubjectArea, Term
from semantic.outputs.views import DEFAULT_SCHEMA, subject_area_columns
from semantic.project import Project

__all__ = ["AreaColumn", "AreaPage", "area_page", "areas_of_term", "members"]


@dataclass(frozen=True, slots=True)
class AreaColumn:
    """One column of a subject area's view: its term, the grain of a truncated time
    dimension, its name with ids, and its name with labels per language."""

    term: Term
    grain: str | None
    name: str
    labels: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class AreaPage:
    """What the page of a subject area shows: the view it publishes, the business query of
    that view and its SQL, the view's columns and which rows it keeps."""

    area: SubjectArea
    view: str
    query: str
    sql: str
    dimensions: tuple[AreaColumn, ...]
    metrics: tuple[AreaColumn, ...]
    segments: tuple[Term, ...]
    filter: str | None


def members(area: SubjectArea) -> list[str]:
    """The ids of the terms a subject area names, once each, in order: dimensions, metrics,
    segments (its filter's terms are conditions, not members)."""
    names = [w.partition(".")[0] for w in (*area.dimensions, *area.metrics)]
    return list(dict.fromkeys([*names, *area.segments]))


def areas_of_term(model: Model, term_id: str) -> list[SubjectArea]:
    """The subject areas that name `term_id`, by id."""
    return sorted(
        (a for a in model.subject_areas.values() if term_id in members(a)), key=lambda a: a.id
    )


def area_page(project: Project, area: SubjectArea) -> AreaPage:
    """The page of `area`: its view as `semantic views apply` publishes it (in the default
    schema), its query and the SQL it compiles to in the project's dialect."""
    model = project.model
    names = _column_names(model, area)
    columns = [
        AreaColumn(
            model.terms[written.partition(".")[0]],
            written.partition(".")[2] or None,
            names[None][i],
            {lang: found[i] for lang, found in names.items() if lang is not None},
        )
        for i, written in enumerate((*area.dimensions, *area.metrics))
    ]
    query = subject_area_query(model, area)
    return AreaPage(
        area=area,
        view=f"{DEFAULT_SCHEMA}.{area.id}",
        dimensions=tuple(columns[: len(area.dimensions)]),
        metrics=tuple(columns[len(area.dimensions) :]),
        segments=tuple(model.terms[s] for s in area.segments),
        filter=_sql(area.filter) if area.filter is not None else None,
        query=query,
        sql=project.compile(query),
    )


def _column_names(model: Model, area: SubjectArea) -> dict[str | None, list[str]]:
    """The view's column names with ids (key None) and with labels in each language; a
    language whose labels would give two columns one name (SEM418) is left out."""
    found: dict[str | None, list[str]] = {None: subject_area_columns(model, area, None)}
    for language in model.languages:
        try:
            found[language] = subject_area_columns(model, area, language)
        except SemanticError:
            continue
    return found


def _sql(tree: exp.Expression) -> str:
    return tree.sql(dialect=FILE_DIALECT)
