"""Hot reload: a thread that watches the project's YAML files (semantic.yml, the model and
glossary folders, the policy file, the tokens file) with `watchfiles` and reloads the
service when one changes (`Service.reload`: the new version is served when the files load,
the last good one, with the errors, when they do not).

watchfiles waits for `debounce` seconds of quiet before it reports, so an editor that
writes a file in several steps, or a `git checkout` of many files, makes one reload.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from watchfiles import Change


class Reloadable(Protocol):
    """What the watcher reloads (a `Service`)."""

    root: Path

    def reload(self) -> bool: ...


#: the files a change of which reloads the project
WATCHED = (".yml", ".yaml")


class Watcher:
    """Watches the project of `service` from a daemon thread until `stop`."""

    def __init__(self, service: Reloadable, debounce: float) -> None:
        self.service = service
        self.debounce = debounce
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="semantic-watch", daemon=True)
        #: set once watchfiles watches the files (a change before it is not seen)
        self.ready = threading.Event()

    def start(self) -> None:
        """Start watching, and return once the watch is in place."""
        self._thread.start()
        self.ready.wait(10)

    def stop(self) -> None:
        """Stop watching (the thread ends within a fraction of a second)."""
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        from watchfiles import watch

        root = self.service.root.resolve()
        changes = watch(
            root,
            watch_filter=lambda change, path: self._watched(change, path),
            debounce=int(self.debounce * 1000),
            step=min(50, int(self.debounce * 1000)),
            stop_event=self._stop,
            rust_timeout=200,
            yield_on_timeout=True,
            raise_interrupt=False,
        )
        for found in changes:
            self.ready.set()
            if found and not self._stop.is_set():
                self.service.reload()

    def _watched(self, change: Change, path: str) -> bool:
        """Whether a change of `path` can change what the project loads to: a YAML file of
        the project, not one in a hidden folder (the cache, .git)."""
        try:
            parts = Path(path).relative_to(self.service.root.resolve()).parts
        except ValueError:
            return False
        if not parts or any(p.startswith(".") for p in parts):
            return False
        return parts[-1].endswith(WATCHED)
