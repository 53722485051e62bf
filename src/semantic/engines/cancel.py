"""Stopping a running query at a client's request: a server gives each request a
`Cancellation` (`cancellable`), and what runs the query in that request's thread registers how
to stop it (`stopping`: the DuckDB cursor's interrupt, Spark's job cancel); `cancel()`, from
another thread, calls them. The query then fails with SEM469 and the connection it came on
goes on serving.

>>> handle = Cancellation()
>>> stopped = []
>>> with cancellable(handle), stopping(lambda: stopped.append(1)):
...     handle.cancel()
>>> stopped, handle.requested
([1], True)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from semantic.errors import SemanticError, error


class Cancellation:
    """One request's handle: `cancel()` stops what runs for it now (and what starts later)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stops: list[Callable[[], object]] = []
        self.requested = False

    def cancel(self) -> None:
        """Stop what runs for this request (callable from any thread, any number of times)."""
        with self._lock:
            self.requested = True
            stops = list(self._stops)
        for stop in stops:
            stop()

    def add(self, stop: Callable[[], object]) -> None:
        """Call `stop` on cancel (now, when cancel was already asked)."""
        with self._lock:
            self._stops.append(stop)
            asked = self.requested
        if asked:
            stop()

    def remove(self, stop: Callable[[], object]) -> None:
        """Stop calling `stop` on cancel."""
        with self._lock:
            if stop in self._stops:
                self._stops.remove(stop)


_CURRENT: ContextVar[Cancellation | None] = ContextVar("semantic_cancellation", default=None)


@contextmanager
def cancellable(handle: Cancellation) -> Iterator[Cancellation]:
    """Run the block as the request `handle` cancels."""
    token = _CURRENT.set(handle)
    try:
        yield handle
    finally:
        _CURRENT.reset(token)


@contextmanager
def stopping(stop: Callable[[], object]) -> Iterator[None]:
    """Run the block (a query) so that cancelling the current request calls `stop`; when it
    was cancelled, whatever the block raises becomes SEM469. Outside a request, nothing."""
    handle = _CURRENT.get()
    if handle is None:
        yield
        return
    handle.add(stop)
    try:
        yield
    except Exception:
        if handle.requested:
            raise cancelled() from None
        raise
    finally:
        handle.remove(stop)


def cancelled() -> SemanticError:
    """SEM469: the query was stopped at its client's request."""
    return error(
        "SEM469",
        "the query was cancelled at the client's request",
        None,
        "run it again when its answer is wanted",
    )
