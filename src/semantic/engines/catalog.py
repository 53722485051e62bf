"""The model compared with a database's catalog, for engines that describe tables as text.

Each engine says which columns a table has (name -> type as the engine spells it); this
module turns the differences into SEM401/402/403 diagnostics. Types are compared by family
(integer, number, text, date, timestamp, boolean), read with sqlglot in each side's dialect.

>>> type_family("character varying", "postgres"), type_family("string", "spark")
('text', 'text')
>>> type_family("decimal(15,2)", "duckdb") == type_family("numeric", "postgres")
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError

from semantic.errors import Diagnostic, suggest
from semantic.model import Entity, Model

T = exp.DataType.Type
_FAMILIES: dict[str, set[Any]] = {
    "integer": set(exp.DataType.INTEGER_TYPES),
    "number": set(exp.DataType.REAL_TYPES),
    "text": set(exp.DataType.TEXT_TYPES),
    "date": {T.DATE, T.DATE32},
    "timestamp": {T.TIMESTAMP, T.TIMESTAMPTZ, T.TIMESTAMPLTZ, T.TIMESTAMPNTZ, T.DATETIME},
    "boolean": {T.BOOLEAN},
}


def type_family(type_text: str, dialect: str) -> str:
    """The family of a type written in `dialect`, or the type itself when none fits."""
    try:
        kind = exp.DataType.build(type_text, dialect=dialect).this
    except (SqlglotError, ValueError):
        return type_text.upper()
    return next((f for f, kinds in _FAMILIES.items() if kind in kinds), str(kind.value))


def compare_schema(
    model: Model,
    columns_of: Callable[[Entity], Mapping[str, str] | None],
    *,
    dialect: str,
    where: str,
    reload: str = "load the data (`semantic load --engine ...`)",
) -> list[Diagnostic]:
    """SEM401 for each entity's missing table, SEM402 for missing columns, SEM403 for types
    of another family; `columns_of` gives a table's columns, or None when it is missing;
    `reload` says how the data gets there."""
    found: list[Diagnostic] = []
    for entity in model.entities.values():
        actual = columns_of(entity)
        if actual is None:
            found.append(
                Diagnostic(
                    "SEM401",
                    f"table '{entity.table}' of entity '{entity.id}' is missing from {where}",
                    entity.span,
                    f"{reload}, or fix `table:`",
                )
            )
            continue
        for column in entity.columns.values():
            if column.name not in actual:
                found.append(
                    Diagnostic(
                        "SEM402",
                        f"column '{column.name}' of entity '{entity.id}' is missing from "
                        f"table '{entity.table}' in {where}",
                        entity.span,
                        suggest(column.name, actual),
                    )
                )
            elif column.type and type_family(column.type, "duckdb") != type_family(
                actual[column.name], dialect
            ):
                found.append(
                    Diagnostic(
                        "SEM403",
                        f"column '{entity.id}.{column.name}' is {actual[column.name]} in "
                        f"{where}, not {column.type}",
                        entity.span,
                        f"fix the type in models/, or {reload}",
                    )
                )
    return found
