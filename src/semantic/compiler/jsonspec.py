"""The fields of a business query given as JSON (`semantic.compiler.jsonquery`), checked by
pydantic: a module of its own so that a query given as text imports no pydantic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class JsonQuery(BaseModel):
    """A business query as JSON, for programs: each value is written as in the query
    language (`"customer_region"`, `"net_revenue DESC"`, `"order_date >= DATE '1995-01-01'"`),
    or, where a name goes, as a label (`"Région client"`); conditions given as a list are
    joined with AND."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    select: list[str] = Field(min_length=1)
    where: str | list[str] | None = None
    having: str | list[str] | None = None
    #: conditions on the ranks of `select` (`QUALIFY r <= 3`), after HAVING
    qualify: str | list[str] | None = None
    group_by: list[str] | None = None
    order_by: list[str] | None = None
    limit: int | None = Field(None, ge=0)
    offset: int | None = Field(None, ge=0)
