"""The time grains a term may be read at (`order_date.month`): here, apart from the file
schemas, so that parsing a query (and `semantic compile`) needs nothing of pydantic's to
know them. `semantic.files.schema` re-exports both names."""

from __future__ import annotations

from typing import Literal

Grain = Literal["day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year"]

#: every grain, from the finest to the coarsest
GRAINS: tuple[Grain, ...] = (
    "day",
    "week",
    "month",
    "quarter",
    "year",
    "fiscal_quarter",
    "fiscal_year",
)
