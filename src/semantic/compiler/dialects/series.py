"""Every period between two dates (the date spine of `compiler.spine`), as each dialect
makes a series: the tree holds DuckDB's `UNNEST(GENERATE_SERIES(first, last, INTERVAL))` in
a SELECT marked `SERIES`; PostgreSQL calls `generate_series` in the SELECT list, Spark
explodes a `sequence` (sqlglot's own translation), SQLite counts in a recursive CTE. Any
other dialect is refused (SEM316): its series function is not known to keep DuckDB's
meaning."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from semantic.compiler.dialects.base import POSTGRES_LIKE, SPARKS, refuse
from semantic.model.nodes import column, identifier, table

#: the `meta` key of the SELECT that makes the periods (`compiler.spine.SERIES`)
SERIES = "date_series"


def _as_is(select: exp.Select) -> exp.Expression:
    return select


def _postgres(select: exp.Select) -> exp.Expression:
    """`generate_series(...)` itself in the SELECT list: a set-returning function there."""
    for node in list(select.find_all(exp.Explode)):
        if isinstance(node.this, exp.GenerateSeries):
            node.replace(node.this)
    return select


def _sqlite(select: exp.Select) -> exp.Expression:
    """SQLite has no date series: a recursive CTE adds one period at a time, from the
    first to the last, read from the same `bounds` the SELECT reads."""
    first, last, count, unit = select.meta[SERIES]
    source = select.args["from_"].this
    bounds = source.name
    step = exp.DateAdd(
        this=column("period", "s"), expression=exp.Literal.number(count), unit=exp.var(unit)
    )
    start = exp.Select(expressions=[exp.alias_(column(first, "b"), identifier("period"))])
    start.set("from_", exp.From(this=table(bounds, "b")))
    start.set("where", exp.Where(this=exp.not_(column(first, "b").is_(exp.null()))))
    more = exp.Select(expressions=[exp.alias_(step, identifier("period"))])
    more.set("from_", exp.From(this=table("series", "s")))
    more.set("joins", [exp.Join(this=table(bounds, "b"), on=step.copy() <= column(last, "b"))])
    recursive = exp.CTE(
        this=exp.Union(this=start, expression=more, distinct=False),
        alias=exp.TableAlias(this=identifier("series")),
    )
    made = exp.Select(expressions=[column("period", "series")])
    made.set("from_", exp.From(this=table("series")))
    made.set("with_", exp.With(expressions=[recursive], recursive=True))
    return made


#: how each dialect makes the series (a dialect not here is refused)
WRITERS: dict[str, Callable[[exp.Select], exp.Expression]] = {
    "duckdb": _as_is,
    **{d: _postgres for d in POSTGRES_LIKE if d != "redshift"},
    **{d: _as_is for d in SPARKS},
    "sqlite": _sqlite,
}


def adapt_series(tree: exp.Expression, dialect: str) -> None:
    """Each series of `tree` written for `dialect`, in place; SEM316 where it has none."""
    if WRITERS.get(dialect) is _as_is:
        return  # DuckDB's series as it is: no walk over the whole tree
    for node in list(tree.find_all(exp.Select)):
        if SERIES not in node.meta:
            continue
        writer = WRITERS.get(dialect)
        if writer is None:
            refuse(
                dialect,
                "every period of a time dimension (all_periods)",
                "its series of dates is not known to the compiler (duckdb, postgres, spark "
                "and sqlite have one)",
                "leave all_periods() out, or compile for one of those dialects",
            )
            return
        new = writer(node)
        if new is not node:
            node.replace(new)
