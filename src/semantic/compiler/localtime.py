"""Time dimensions as the project's wall-clock time: what a column's type says about periods.

A DATE is a day. A TIMESTAMP is a wall-clock time without a zone: its day, month and year
are read off it. A TIMESTAMPTZ is an instant: which day or month it falls in depends on a
time zone, and every engine would otherwise take its session's (the machine's, for
DuckDB). So a time dimension on a TIMESTAMPTZ column is read as the wall-clock time of the
project's `time_zone` (`semantic.yml`, UTC by default), written into the SQL as
`column AT TIME ZONE 'zone'`, before it is truncated, compared or shown.

>>> from sqlglot import exp
>>> local_time(exp.column("placed_at"), "Europe/Paris").sql("duckdb")
"placed_at AT TIME ZONE 'Europe/Paris'"
>>> time_type("timestamp with time zone")
'timestamptz'
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache
from typing import Literal

from sqlglot import exp
from sqlglot.errors import SqlglotError

from semantic.model import Model, Term

TimeType = Literal["date", "timestamp", "timestamptz"]

_TYPES: dict[object, TimeType] = {
    exp.DataType.Type.DATE: "date",
    exp.DataType.Type.DATE32: "date",
    exp.DataType.Type.TIMESTAMP: "timestamp",
    exp.DataType.Type.DATETIME: "timestamp",
    exp.DataType.Type.TIMESTAMP_S: "timestamp",
    exp.DataType.Type.TIMESTAMP_MS: "timestamp",
    exp.DataType.Type.TIMESTAMP_NS: "timestamp",
    exp.DataType.Type.TIMESTAMPNTZ: "timestamp",
    exp.DataType.Type.TIMESTAMPTZ: "timestamptz",
    exp.DataType.Type.TIMESTAMPLTZ: "timestamptz",
}


@lru_cache(maxsize=256)
def time_type(declared: str | None) -> TimeType | None:
    """Whether a declared column type (DuckDB spelling) is a date, a wall-clock timestamp or
    an instant (`timestamptz`); None when it is none of them or not declared."""
    if not declared:
        return None
    try:
        parsed = exp.DataType.build(declared, dialect="duckdb")
    except (SqlglotError, ValueError):
        return None
    return _TYPES.get(parsed.this)


def term_time_type(model: Model, term: Term) -> TimeType | None:
    """The time type of a term that states one column of its entity, else None."""
    if not isinstance(term.expr, exp.Column) or term.entity is None:
        return None
    column = model.entities[term.entity].columns.get(term.expr.name)
    return time_type(column.type) if column is not None else None


def local_time(value: exp.Expression, zone: str) -> exp.Expression:
    """An instant as the wall-clock time (a TIMESTAMP without zone) of `zone`."""
    return exp.AtTimeZone(this=value, zone=exp.Literal.string(zone))


def in_project_time(model: Model, term: Term, value: exp.Expression) -> exp.Expression:
    """`value` of time dimension `term`, as the project's wall-clock time when its column is
    an instant (TIMESTAMPTZ); unchanged otherwise."""
    if term.kind == "time_dimension" and term_time_type(model, term) == "timestamptz":
        return local_time(value, model.time_zone)
    return value


def known_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone (`UTC`, `Europe/Paris`, ...)."""
    return name in _zones()


def time_zone_names() -> list[str]:
    """Every IANA time zone name known to this machine, for suggestions."""
    return sorted(_zones())


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
