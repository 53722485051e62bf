"""A business query given as JSON, for programs: `query_text` turns it into the text of the
query language, which `parse.parse_query` reads like any other query."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from semantic.compiler.locate import QUERY_FILE
from semantic.compiler.refs import QUERY_DIALECT
from semantic.errors import Span, error, suggest


class JsonQuery(BaseModel):
    """A business query as JSON, for programs: each value is written as in the query
    language (`"customer_region"`, `"net_revenue DESC"`, `"order_date >= DATE '1995-01-01'"`);
    conditions given as a list are joined with AND."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    select: list[str] = Field(min_length=1)
    where: str | list[str] | None = None
    having: str | list[str] | None = None
    group_by: list[str] | None = None
    order_by: list[str] | None = None
    limit: int | None = Field(None, ge=0)
    offset: int | None = Field(None, ge=0)


QueryInput = str | Mapping[str, Any]


def query_text(query: QueryInput) -> str:
    """The text of a business query given as text or as JSON (see `JsonQuery`).

    >>> query_text({"select": ["customer_region", "net_revenue"], "where": ["a = 1", "b"],
    ...             "order_by": ["net_revenue DESC"], "limit": 5})
    'SELECT customer_region, net_revenue WHERE a = 1 AND b ORDER BY net_revenue DESC LIMIT 5'
    """
    if isinstance(query, str):
        return query
    try:
        spec = JsonQuery.model_validate(query)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "query"
        keys = list(JsonQuery.model_fields)
        unknown = first["type"] == "extra_forbidden"
        raise error(
            "SEM302",
            f"invalid JSON query: unknown key '{where}'"
            if unknown
            else f"invalid JSON query: {where}: {first['msg']}",
            Span(QUERY_FILE),
            (suggest(where, keys) if unknown else None) or "keys: " + ", ".join(keys),
        ) from None

    def conditions(value: str | list[str] | None) -> list[str]:
        return [] if value is None else [value] if isinstance(value, str) else value

    try:
        select = exp.select(*spec.select, dialect=QUERY_DIALECT)
        if conditions(spec.where):
            select = select.where(*conditions(spec.where), dialect=QUERY_DIALECT)
        if spec.group_by:
            select = select.group_by(*spec.group_by, dialect=QUERY_DIALECT)
        if conditions(spec.having):
            select = select.having(*conditions(spec.having), dialect=QUERY_DIALECT)
        if spec.order_by:
            select = select.order_by(*spec.order_by, dialect=QUERY_DIALECT)
        if spec.limit is not None:
            select = select.limit(spec.limit)
        if spec.offset is not None:
            select = select.offset(spec.offset)
    except (ParseError, TokenError, TypeError, ValueError) as exc:
        # a part that is SQL but not an expression (`"where": "*"`) fails with a TypeError
        lines = str(exc).splitlines() or [type(exc).__name__]
        detail = re.sub(r" into <class [^>]*>", "", lines[0])
        if isinstance(exc, (TypeError, ValueError)):
            detail = "a value is not an expression"
        raise error(
            "SEM301",
            f"a part of the JSON query is not valid SQL: {detail}",
            Span(QUERY_FILE),
            'each value is an expression of the query language, e.g. "net_revenue DESC"',
        ) from None
    return select.sql(QUERY_DIALECT)
