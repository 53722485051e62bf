"""The record of a query's ranking (`compiler.ranking`), apart so that `refs`, which every
stage reads, can hold it without importing the ranking's planning."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp


@dataclass(frozen=True, slots=True)
class Ranking:
    """What a query computes over its own result: ranks, the QUALIFY condition, the order.

    Every expression here reads the columns of the query's result by their output name
    (`exp.Column` nodes), the ranks written inline as `exp.Window` nodes over them.
    """

    #: (output name, value) of each column shown, in the order written: a column of the
    #: result, or a rank (a window)
    shown: tuple[tuple[str, exp.Expression], ...]
    #: the QUALIFY condition, None when there is none
    condition: exp.Expression | None
    #: the ORDER BY, over the result's columns and the ranks
    order: tuple[exp.Ordered, ...]
    #: the result's columns added for the ranking only (metrics it orders by), never shown
    hidden: tuple[str, ...]
    limit: int | None = None
    offset: int | None = None
