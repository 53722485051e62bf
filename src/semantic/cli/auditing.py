"""The CLI's audit scope: the caller (`semantic --caller`), the file (`--audit-file`) and the
command of the records written while a command runs (see semantic.audit, docs/audit.md).

The library is imported only once a command runs, so that `semantic --help` never loads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def command_scope(
    caller: str | None, audit_file: Path | None, command: str | None
) -> Iterator[None]:
    """The records written inside name `caller` (the operating-system user when None), go to
    `audit_file` when given, and say they come from the CLI's `command`."""
    from semantic.audit import scope

    with scope(caller, file=audit_file, origin="--audit-file", surface="cli", command=command):
        yield
