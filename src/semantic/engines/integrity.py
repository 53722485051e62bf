"""Checks of the data against what the model declares about keys.

Primary keys must be unique, and so must the keys on the "one" side of every relationship:
a duplicate there would multiply rows in every join and inflate totals. Foreign keys with no
match are legal (those rows are grouped under NULL) but worth knowing about.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlglot import exp

from semantic.compiler.dialects import column_types, to_sql
from semantic.errors import Diagnostic
from semantic.model import Edge, Entity, Model
from semantic.model.nodes import table

#: runs a SELECT and returns its rows
Fetch = Callable[[str], list[tuple[Any, ...]]]


def check_keys(model: Model, fetch: Fetch, dialect: str = "duckdb") -> list[Diagnostic]:
    """Duplicate keys on the one side (SEM406) and unmatched foreign keys (SEM407)."""
    found: list[Diagnostic] = []
    types = column_types(model)
    unique: dict[tuple[str, tuple[str, ...]], str] = {}
    for entity in model.entities.values():
        if entity.primary_key:
            unique[(entity.id, entity.primary_key)] = "its primary key"
    for edges in model.edges.values():
        for edge in edges:
            if edge.to_one:
                columns = tuple(target for _, target in edge.keys)
                unique.setdefault((edge.target, columns), f"the relationship {edge.hop}")
    for (eid, columns), why in unique.items():
        entity = model.entities[eid]
        duplicates = fetch(to_sql(_duplicates(entity, columns), dialect, schema=types))
        count, example = duplicates[0] if duplicates else (0, None)
        if count:
            found.append(
                Diagnostic(
                    "SEM406",
                    f"{count} value(s) of {_name(columns)} appear more than once in "
                    f"'{entity.table}' (e.g. {example}), yet {why} says each is unique: joins "
                    "to it would multiply rows",
                    entity.span,
                    "fix the data, or declare the relationship one_to_many / the right key",
                )
            )
    for edges in model.edges.values():
        for edge in edges:
            if edge.declared and edge.cardinality == "many_to_one":
                rows = fetch(to_sql(_orphans(model, edge), dialect, schema=types))
                if rows and rows[0][0]:
                    source = model.entities[edge.source]
                    found.append(
                        Diagnostic(
                            "SEM407",
                            f"{rows[0][0]} row(s) of '{edge.source}' have a "
                            f"{'/'.join(s for s, _ in edge.keys)} with no match in "
                            f"'{edge.target}': metrics keep them, under a NULL "
                            f"{edge.target}",
                            source.span,
                            "expected for optional relationships; otherwise fix the data",
                            severity="warning",
                        )
                    )
    return found


def _name(columns: Sequence[str]) -> str:
    inner = ", ".join(columns)
    return f"({inner})" if len(columns) > 1 else inner


def _duplicates(entity: Entity, columns: Sequence[str]) -> exp.Select:
    """SELECT how many key values repeat, and one of them."""
    keys = [exp.column(c) for c in columns]
    example = cast(
        exp.Expression,
        keys[0] if len(keys) == 1 else exp.func("concat_ws", exp.Literal.string(", "), *keys),
    )
    repeated = (
        exp.select(*keys, exp.alias_(exp.cast(example, exp.DataType.Type.TEXT), "example"))
        .from_(table(entity.table))
        .where(exp.and_(*(k.copy().is_(exp.null()).not_() for k in keys)))
        .group_by(*(k.copy() for k in keys))
        .having(exp.Count(this=exp.Star()) > 1)
    )
    return exp.select(exp.Count(this=exp.Star()), exp.func("min", exp.column("example"))).from_(
        repeated.subquery("repeated")
    )


def _orphans(model: Model, edge: Edge) -> exp.Select:
    """SELECT how many rows have a non-NULL foreign key that matches nothing."""
    source, target = model.entities[edge.source], model.entities[edge.target]
    on = exp.and_(*(exp.column(s, "s").eq(exp.column(t, "t")) for s, t in edge.keys))
    return (
        exp.select(exp.Count(this=exp.Star()))
        .from_(table(source.table, "s"))
        .join(table(target.table, "t"), on=on, join_type="left")
        .where(
            exp.and_(
                *(exp.column(s, "s").is_(exp.null()).not_() for s, _ in edge.keys),
                exp.column(edge.keys[0][1], "t").is_(exp.null()),
            )
        )
    )
