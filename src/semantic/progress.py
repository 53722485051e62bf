"""Long work says what it is doing: starting Spark, measuring quality rules and keys,
reading the files of an import, generating the demo data.

The library announces its work with `task`; nothing is shown unless a front end listens
(`listening`): the command line does, on standard error, when it is a terminal and
`--quiet` is not given. Announcing costs nothing when no one listens.

This module sits at the bottom of the package, next to `errors`, and imports nothing of ours.

>>> seen = []
>>> class Notes:
...     def begin(self, what, total): seen.append(f"{what} (of {total})")
...     def advance(self, detail): seen.append(detail)
...     def end(self): seen.append("done")
>>> with listening(Notes()):
...     with task("measuring rules", total=2) as step:
...         for rule in ("a", "b"):
...             step(rule)
>>> seen
['measuring rules (of 2)', 'a', 'b', 'done']
>>> with task("unheard") as step:  # no one listens: nothing happens
...     step("x")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol


class Listener(Protocol):
    """What a front end implements to show the work under way."""

    def begin(self, what: str, total: int | None) -> None:
        """A piece of work starts: `total` steps, or an unknown number (None)."""

    def advance(self, detail: str) -> None:
        """The current piece of work moves on to its next step, `detail`."""

    def end(self) -> None:
        """The current piece of work is over (done or failed)."""


_LISTENER: ContextVar[Listener | None] = ContextVar("semantic_progress", default=None)


def _unheard(detail: str) -> None:  # noqa: ARG001 - the step of a task no one listens to
    return None


@contextmanager
def task(what: str, total: int | None = None) -> Iterator[Callable[[str], None]]:
    """Announce a piece of work (`starting Spark on local[*]`) for the time of the `with`;
    it gives a function to call at each of its steps with what the step is about."""
    listener = _LISTENER.get()
    if listener is None:
        yield _unheard
        return
    listener.begin(what, total)
    try:
        yield listener.advance
    finally:
        listener.end()


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send the work announced within the `with` to `listener`."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)
