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

from semantic.compiler.additivity import Reaggregation, reaggregation
from semantic.compiler.parse import parse_query
from semantic.compiler.plan import plan_query
from semantic.compiler.refs import QUERY_DIALECT
from semantic.errors import Diagnostic, SemanticError
from semantic.model import Model, SubjectArea
from semantic.model.grains import grain_heading


def subject_area_query(model: Model, area: SubjectArea, language: str | None = None) -> str:
    """The business query of a subject area: its dimensions and metrics, named by ids or by
    labels in `language` when given, filtered by its condition and segments."""
    return area_select(area, area_names(model, area, language)).sql(dialect=QUERY_DIALECT)


def area_names(model: Model, area: SubjectArea, language: str | None) -> dict[str, str]:
    """The column name of each dimension and metric as written in the subject area: the id,
    or the label in `language`; a time grain is added, named in that language too
    (`order_date_year`, `Order date (year)`, `Date de commande (année)`), since a dot in a
    column name is awkward in BI tools."""
    names = {}
    for written in (*area.dimensions, *area.metrics):
        tid, _, grain = written.partition(".")
        if language is None:
            names[written] = f"{tid}_{grain}" if grain else tid
        else:
            label = model.terms[tid].label(language)
            names[written] = grain_heading(label, grain, language) if grain else label
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
    """Every subject area's query compiles (SEM218, at the subject area), and each metric
    column that a BI tool's `sum` would get wrong is warned of (SEM232, SEM233)."""
    found: list[Diagnostic | None] = []
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
            continue
        found += [_reaggregation_warning(area, r) for r in reaggregation(model, area)]
    return [d for d in found if d is not None]


def _reaggregation_warning(area: SubjectArea, column: Reaggregation) -> Diagnostic | None:
    """SEM232 for a sum or count repeated by a many-side dimension, SEM233 for a metric that
    no sum of rows gives (an average, a ratio, a distinct count, a window, a shift)."""
    if column.adds_up:
        return None
    where = area.places.get(column.metric, area.span)
    if column.many_side:
        kept = ", ".join(f"'{d}'" for d in column.many_side)
        return Diagnostic(
            "SEM232",
            f"subject area '{area.id}': a BI tool's sum of '{column.metric}' over the view's "
            f"rows counts a row of '{column.entity}' once per value of {kept}, on the many "
            f"side of '{column.entity}'",
            where,
            f"remove {kept} from the subject area (or publish it in an area of its own); "
            f"as it is, a sum is right only in groups that keep {kept}, and no other "
            "aggregation gives the total",
            severity="warning",
        )
    safe = " or ".join(column.safe)
    return Diagnostic(
        "SEM233",
        f"subject area '{area.id}': '{column.metric}' does not add up across the view's "
        f"rows: {column.reason}",
        where,
        f"a BI tool may re-aggregate it with {safe} only"
        if safe
        else "no aggregation of its rows is safe: read it at the view's grain (one row per "
        "combination of the area's dimensions); for a ratio or an average, list its parts "
        "(sums and counts) and let the BI tool divide their sums",
        severity="warning",
    )
