"""The audit file: opened for appending before the audited work runs, one line written after.

Every record is one `os.write` of a whole line to a file opened with `O_APPEND`, so the
lines of concurrent threads and processes never interleave (the kernel moves to the end and
writes in one step; on a local file system). A new file is created with mode 0600: the
records name who asked what. Auditing fails closed: a file that cannot be opened refuses the
work before it runs (SEM114, SEM448), and a record that cannot be written withholds the
result (SEM449).

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "audit.jsonl"
>>> with Sink.open(path, "--audit-file") as sink:
...     sink.write({"event": {"action": "compile"}})
>>> path.read_text()
'{"event":{"action":"compile"}}\\n'
>>> oct(path.stat().st_mode & 0o777)
'0o600'
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from semantic.errors import Diagnostic, SemanticError, Span

#: how the file is opened: appending, created if missing, never blocking (a named pipe
#: would wait for a reader), not inherited by child processes
_FLAGS = (
    os.O_WRONLY
    | os.O_APPEND
    | os.O_CREAT
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NONBLOCK", 0)
)
#: a new audit file is readable by its owner only
MODE = 0o600


class Sink:
    """An audit file open for appending (see the module's doc); a context manager that
    closes it."""

    def __init__(self, fd: int, path: Path, origin: str, place: Span | None) -> None:
        self.fd = fd
        self.path = path
        #: where the file was named: semantic.yml's `audit.file`, SEMANTIC_AUDIT_FILE, ...
        self.origin = origin
        self.place = place

    @classmethod
    def open(cls, path: Path, origin: str, place: Span | None = None) -> Sink:
        """The audit file at `path` open for appending (created with mode 0600); SEM114
        when it is not a regular file, SEM448 when it cannot be opened. `origin` says where
        it was named and `place` is that setting's position, for the error."""
        try:
            fd = os.open(path, _FLAGS, MODE)
        except OSError as exc:
            if exc.errno == errno.EISDIR:
                raise not_a_file(path, "a folder", origin, place) from None
            if exc.errno == errno.ENXIO:  # a named pipe that no process reads
                raise not_a_file(path, "a named pipe (FIFO)", origin, place) from None
            raise SemanticError(
                Diagnostic(
                    "SEM448",
                    f"cannot open the audit file {path} ({origin}): {exc.strerror}; auditing "
                    "is on, so nothing is compiled or run without its record",
                    place,
                    "create its folder or let this user write there, or name another file "
                    "(SEMANTIC_AUDIT_FILE or `semantic --audit-file`)",
                )
            ) from None
        kind = os.fstat(fd).st_mode
        if not stat.S_ISREG(kind):
            os.close(fd)
            raise not_a_file(path, _kind_name(kind), origin, place)
        return cls(fd, path, origin, place)

    def write(self, record: Mapping[str, Any]) -> None:
        """Append `record` as one JSON line, in one write; SEM449 when the whole line
        cannot be written (a full disk, a file-size limit, an I/O error)."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
        data = (line + "\n").encode("utf-8")
        try:
            written = os.write(self.fd, data)
        except OSError as exc:
            raise self._unwritten(exc.strerror or str(exc)) from None
        if written != len(data):
            # a part of the line is in the file: end it, so that the next record starts on
            # a line of its own (the part is not valid JSON, which a reader will notice)
            with contextlib.suppress(OSError):
                os.write(self.fd, b"\n")
            raise self._unwritten(f"only {written} of {len(data)} bytes were written")

    def _unwritten(self, why: str) -> SemanticError:
        return SemanticError(
            Diagnostic(
                "SEM449",
                f"the audit record could not be written to {self.path} ({self.origin}): {why}; "
                "the result is withheld",
                self.place,
                "free space on its disk or lift the file-size limit, then run it again",
            )
        )

    def close(self) -> None:
        """Close the file (once)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Sink:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def not_a_file(path: Path, what: str, origin: str, place: Span | None) -> SemanticError:
    """SEM114: the audit setting names something that is not a regular file."""
    return SemanticError(
        Diagnostic(
            "SEM114",
            f"the audit file {path} ({origin}) is {what}, not a regular file",
            place,
            "name a file (it is created if missing), e.g. logs/audit.jsonl: records are "
            "appended to a regular file only, so that they never interleave",
        )
    )


def _kind_name(mode: int) -> str:
    """What a file of mode `mode` is, in words."""
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"
