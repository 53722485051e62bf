"""The garbage collector paused while `semantic.project` imports the compiler and sqlglot.

Those imports make some 200,000 objects that all live on (functions, classes, sqlglot's
tables), and the collections they set off walk them again and again: 25 to 30 ms of the
0.2 s of CPU of `semantic compile` (docs/benchmarks.md, "Start-up without pydantic").
`semantic.project` imports them inside `collector_paused()`, which turns the collector
back on afterwards if it was on, an import that fails included.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No collection inside the block; the collector as it was after it, however it ends.

    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
