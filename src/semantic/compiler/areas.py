"""Subject areas as business queries: the query a subject area stands for, and whether it
compiles (a subject area is published as a view of that query).

>>> from semantic.project import Project
>>> model = Project.load(".").model
>>> print(subject_area_query(model, model.subject_areas["sales_by_customer"]))
SELECT customer_region, customer_nation, market_segment, order_count, net_revenue
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from semantic.compiler.parse import QUERY_DIALECT, parse_query
from semantic.compiler.plan import plan_query
from semantic.errors import Diagnostic, SemanticError
from semantic.model import Model, SubjectArea


def subject_area_query(model: Model, area: SubjectArea, language: str | None = None) -> str:
    """The business query of a subject area: its dimensions and metrics, named by ids or by
    labels in `language` when given, filtered by its condition and segments."""
    return area_select(area, area_names(model, area, language)).sql(dialect=QUERY_DIALECT)


def area_names(model: Model, area: SubjectArea, language: str | None) -> dict[str, str]:
    """The column name of each dimension and metric as written in the subject area: the id,
    or the label in `language`; a time grain is added (`order_date_year`, `Order date
    (year)`), since a dot in a column name is awkward in BI tools."""
    names = {}
    for written in (*area.dimensions, *area.metrics):
        tid, _, grain = written.partition(".")
        if language is None:
            names[written] = f"{tid}_{grain}" if grain else tid
        else:
            label = model.terms[tid].label(language)
            names[written] = f"{label} ({grain})" if grain else label
    return names


def area_select(area: SubjectArea, names: Mapping[str, str]) -> exp.Select:
    items: list[exp.Expr] = []
    for written in (*area.dimensions, *area.metrics):
        tid, _, grain = written.partition(".")
        column = exp.column(grain, table=tid) if grain else exp.column(tid)
        alias = names[written]
        items.append(column if alias == written else exp.alias_(column, alias, quoted=True))
    conditions = [area.filter.copy()] if area.filter is not None else []
    conditions += [exp.column(s) for s in area.segments]
    select = exp.select(*items)
    return select.where(exp.and_(*conditions)) if conditions else select


def check_subject_areas(model: Model) -> list[Diagnostic]:
    """Every subject area's query compiles (SEM218, at the subject area)."""
    found = []
    for area in model.subject_areas.values():
        try:
            plan_query(model, parse_query(model, subject_area_query(model, area)))
        except SemanticError as exc:
            first = exc.diagnostics[0]
            found.append(
                Diagnostic(
                    "SEM218",
                    f"the query of subject area '{area.id}' does not compile: "
                    f"{first.code} {first.message}",
                    area.span,
                    first.hint,
                )
            )
    return found
