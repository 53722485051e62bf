"""The plan cache: what the compiler made of the queries a server was asked (parses, plans,
SQL texts), kept for the next caller who asks the same, with its hit rate.

A cache belongs to one loaded version of the project (`Project.plans`): a reload starts a new,
empty one, so nothing compiled against older files is ever served. Its keys hold the query as
written, the role and the caller's attributes (`compiler.memo`), and the model's hash is the
cache's own. Bounded: past `size` entries, the least recently used goes.

>>> cache = PlanCache(2, "abc")
>>> cache.get(("sql", "SELECT 1")) is None
True
>>> cache.put(("sql", "SELECT 1"), "SELECT 1")
>>> cache.get(("sql", "SELECT 1"))
'SELECT 1'
>>> cache.stats()["hits"], cache.stats()["misses"], cache.stats()["hit_rate"]
(1, 1, 0.5)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class PlanCache:
    """A bounded, thread-safe LRU map of the compiler's work (a `compiler.memo.PlanMemo`).
    Hits and misses are counted on the SQL texts, what a request asks for in the end."""

    def __init__(self, size: int, model_hash: str) -> None:
        self.size = size
        #: the hash of the project's files this cache holds the plans of
        self.model_hash = model_hash
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        """What is kept under `key`, or None."""
        counted = isinstance(key, tuple) and key[:1] == ("sql",)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            if counted:
                if found is None:
                    self.misses += 1
                else:
                    self.hits += 1
            return found

    def put(self, key: Hashable, value: Any) -> None:
        """Keep `value` under `key` (the oldest entry goes past `size`)."""
        if self.size <= 0:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def stats(self) -> dict[str, Any]:
        """Entries, hits, misses and hit rate (of SQL lookups), for the status endpoint."""
        with self._lock:
            asked = self.hits + self.misses
            return {
                "entries": len(self._entries),
                "size": self.size,
                "hits": self.hits,
                "misses": self.misses,
                "hit_rate": round(self.hits / asked, 4) if asked else 0.0,
                "model_hash": self.model_hash,
            }
