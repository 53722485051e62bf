"""What a query's plan reads of the data, and the warning of a key its data breaks."""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from semantic.compiler.plan import Plan
from semantic.compiler.plannodes import entities_relied_on
from semantic.compiler.render import build_tree
from semantic.engines.integrity import KeyMeasure
from semantic.errors import Diagnostic
from semantic.model.nodes import table
from semantic.model.types import Model


def read_by(plan: Plan, named: Iterable[str], model: Model) -> tuple[set[str], set[str]]:
    """The entities whose rows `plan` reads, and the metrics among the terms a query
    `named` (with those that its derived metrics, windows and shifts are made of).

    The entities are those whose tables its SQL reads anywhere: the aggregates' rows and
    joins (those left out too, read through their foreign key), and also semi-joins
    (EXISTS), per-entity values, metrics at another grain and a role's restricted rows,
    which live in subqueries the aggregates do not list."""
    aggregates = [*plan.aggregates, *(ot.rows for ot in plan.over_time if ot.rows is not None)]
    entities = {a.entity for a in aggregates}
    entities |= {j.edge.target for a in aggregates for j in a.joins}
    entities |= entities_relied_on(plan)  # joins left out, in subqueries too
    tables = {_table_key(t) for t in build_tree(plan).find_all(exp.Table)}
    entities |= {eid for eid, e in model.entities.items() if _table_key(table(e.table)) in tables}
    metrics: set[str] = set()
    todo = list(named)
    while todo:
        tid = todo.pop()
        if tid in metrics or tid not in model.terms or not model.terms[tid].is_metric:
            continue
        metrics.add(tid)
        todo += model.terms[tid].refs
    return entities, metrics


def _table_key(node: exp.Table) -> tuple[str, str, str]:
    """A table as (catalog, schema, name), compared without letter case (how an unquoted
    name is read)."""
    return (node.catalog.lower(), node.db.lower(), node.name.lower())


def broken_key(model: Model, measure: KeyMeasure) -> Diagnostic:
    """SEM441: a query reads an entity whose data breaks a declared key, a column declared
    `nullable: false` or a `required` relationship."""
    entity = model.entities[measure.entity]
    columns = ", ".join(measure.columns)
    if measure.declared_not_null:
        what = f"{measure.failing} row(s) have a NULL in {columns}, declared `nullable: false`"
        effect = "the SQL is compiled on that promise (plain equality, inner joins)"
    elif measure.kind == "total":
        what = (
            f"{measure.failing} row(s) have a {columns} that is NULL or finds no row in "
            f"'{measure.detail}', yet {measure.why} is declared `required: true`"
        )
        effect = (
            "the SQL joins them with an inner join, which leaves them out, or reads the "
            "foreign key in place of the key it would find"
        )
    elif measure.kind == "not_null":
        what = f"{measure.failing} row(s) have a NULL in its primary key ({columns})"
        effect = "each counts as a row of its own and matches no relationship"
    else:
        what = (
            f"{measure.detail} value(s) of ({columns}) appear more than once "
            f"(e.g. {measure.example}) in {measure.failing} rows, yet {measure.why} says each "
            "is unique"
        )
        effect = "each copy counts, and joins to them multiply rows"
    return Diagnostic(
        "SEM441",
        f"this query reads '{entity.id}', whose data breaks a declared key: {what}; {effect}, "
        "so the answer may not be what the model promises",
        entity.span,
        "run `semantic check --data` and fix the data or the key; `broken_keys: refuse` in "
        "semantic.yml refuses such queries",
        severity="warning",
    )
