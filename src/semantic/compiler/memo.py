"""What a long-running caller keeps of the compiler's work on the queries it saw: parses,
plans and SQL texts, by key (the server's plan cache, `semantic.serve.cache`, is one).
Parsing, planning and rendering are pure given the query, the role, the caller's attributes
and the model, and never change what they are given, so what they made can be reused.

>>> memo_key("sql", {"select": ["net_revenue"]}, "analyst", {"nation": "FRANCE"}, "duckdb")
('sql', '{"select": ["net_revenue"]}', 'analyst', (('nation', 'FRANCE'),), 'duckdb')
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from typing import Any, Protocol

from semantic.compiler.jsonquery import QueryInput


class PlanMemo(Protocol):
    """Parses, plans and SQL texts by key. A memo belongs to one loaded project: its keys
    name no model."""

    def get(self, key: Hashable) -> Any | None:
        """What was put under `key`, or None."""
        ...

    def put(self, key: Hashable, value: Any) -> None:
        """Keep `value` under `key`."""
        ...


def memo_key(
    kind: str, query: QueryInput, role: str | None, user: Mapping[str, str] | None, *more: Any
) -> Hashable | None:
    """The key of what the compiler made of `query` (`kind`: a parse, a plan, SQL): the
    query as written (a JSON query as canonical JSON), the role, the caller's attributes and
    `more` (a dialect); None for a query with no canonical text (it is then not kept)."""
    if isinstance(query, str):
        text = query
    else:
        try:
            text = json.dumps(query, sort_keys=True, ensure_ascii=False)
        except (TypeError, ValueError):
            return None
    return (kind, text, role, tuple(sorted((user or {}).items())), *more)
