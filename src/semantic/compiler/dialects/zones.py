"""The wall-clock time of an instant in the project's time zone (`instant AT TIME ZONE
'zone'`), per dialect, where sqlglot's translation does not compute it."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from semantic.compiler.dialects.base import ZoneRewrite, fn, refuse, string


def _zone(node: exp.Expression) -> str:
    return node.args["zone"].name


def _zone_utc_only(convert: Callable[[exp.Expression], exp.Expression], why: str) -> ZoneRewrite:
    """The rewrite of an engine that reads instants in UTC only: `convert` for UTC, SEM316
    for another zone (`why`)."""

    def rewrite(node: exp.Expression, dialect: str) -> exp.Expression:
        if _zone(node).upper() not in ("UTC", "ETC/UTC"):
            refuse(
                dialect,
                f"reading a timestamptz in time zone '{_zone(node)}'",
                why,
                "set time_zone: UTC in semantic.yml, or run the query on another engine",
            )
        return convert(node.this)

    return rewrite


#: SQLite stores an instant as ISO text with its offset; DATETIME() gives it in UTC, and
#: SQLite knows no other zone than UTC and the machine's
ZONE_SQLITE = _zone_utc_only(
    lambda value: fn("DATETIME", value), "SQLite converts times to UTC only"
)
#: T-SQL's AT TIME ZONE takes Windows zone names ('Romance Standard Time'), not IANA ones
ZONE_TSQL = _zone_utc_only(
    lambda value: exp.AtTimeZone(this=value, zone=string("UTC")),
    "SQL Server names time zones the Windows way, not by IANA names",
)


def zone_spark(node: exp.Expression, dialect: str) -> exp.Expression:
    """Spark shows and truncates a TIMESTAMP in its session time zone: move the instant so
    that its session wall clock is the wall clock of the zone."""
    utc = fn("TO_UTC_TIMESTAMP", node.this, fn("CURRENT_TIMEZONE"))
    return fn("FROM_UTC_TIMESTAMP", utc, string(_zone(node)))
