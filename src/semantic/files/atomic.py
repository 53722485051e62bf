"""Writing files so that a reader never sees half of one: a temporary file in the same
folder, then one rename.

Every file the tool writes has the mode a user expects: an existing file keeps its own
(a committed 0644 file stays 0644, a private 0640 one stays 0640), and a new file gets
what `open()` would give it, 0666 less the umask (0644 under the usual umask 022). The
temporary file is created with that mode, never with `mkstemp`'s private 0600.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "out.ttl"
>>> write_atomically(path, "hello\\n"); path.read_text()
'hello\\n'
>>> rewrite_file(path, "hello again\\n"); path.read_text()
'hello again\\n'
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from semantic.errors import Span, error


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step (the old file stays if anything fails).

    An existing file keeps its mode bits (and its owner, where allowed) and a symbolic link
    stays a link, its target rewritten; a new file gets 0666 less the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        status: os.stat_result | None = target.stat()
    except FileNotFoundError:
        status = None
    handle, temporary = create_temporary(target)
    try:
        if status is not None:
            _keep_mode_and_owner(handle, status)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def create_temporary(target: Path) -> tuple[int, str]:
    """A new, empty hidden file next to `target`, open for writing: its handle and path.

    It is created with mode 0666 so that the umask decides, as for any file a program
    writes; `tempfile.mkstemp` would make it 0600, and the rename would carry that over."""
    import secrets  # here: it loads OpenSSL (hmac), which a command that writes nothing spares

    for _ in range(100):
        name = target.parent / f".{target.name}.{secrets.token_hex(4)}"
        try:
            handle = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            continue
        return handle, str(name)
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(target.parent))


def new_folder_mode() -> int:
    """The mode of a folder made now: 0777 less the umask (for a folder built under a
    private temporary name, then renamed into place)."""
    return 0o777 & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux), since
    another thread may create a file meanwhile; elsewhere set and put back at once."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _keep_mode_and_owner(handle: int, status: os.stat_result) -> None:
    """Give the open file `handle` the mode bits and, where allowed, the owner of the file
    that `status` describes."""
    os.fchmod(handle, stat.S_IMODE(status.st_mode))
    with contextlib.suppress(OSError):  # only root may give a file away
        os.fchown(handle, status.st_uid, status.st_gid)


def rewrite_file(path: Path, text: str, name: str | None = None) -> None:
    """Replace the content of the existing file `path` with `text`, keeping what the file
    is: a symbolic link stays a link (its target is rewritten), the mode bits and, where
    allowed, the owner are kept, and a file with several hard links keeps its inode.

    The new text is first written and synced to a temporary file next to the target, so a
    full disk or a read-only folder is found before the file is touched. A file with one
    link is then replaced by a rename (atomic); a hard-linked file is written in place from
    there, since a rename would give it a new inode and cut it from its other names.

    Raise SemanticError SEM438, naming the file (`name`), when the file is read-only (no
    write bit: it is left alone on purpose, even for root) or cannot be written; the
    original is then intact.
    """
    shown = name or str(path)
    target = Path(os.path.realpath(path))  # write through symbolic links
    try:
        status = target.stat()
    except OSError as exc:
        raise _cannot_write(shown, exc) from None
    if not status.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise error(
            "SEM438",
            "the file is read-only: not rewritten",
            Span(shown),
            "make it writable (chmod u+w) if it should be formatted",
        )
    data = text.encode("utf-8")
    temporary: str | None = None
    try:
        handle, temporary = create_temporary(target)
        try:
            _write_bytes(handle, data)
            os.fsync(handle)
            _keep_mode_and_owner(handle, status)
        finally:
            os.close(handle)
        if status.st_nlink > 1:
            _write_in_place(target, data)
        else:
            os.replace(temporary, target)
            temporary = None
    except OSError as exc:
        raise _cannot_write(shown, exc) from None
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def _write_bytes(handle: int, data: bytes) -> None:
    """Write all of `data` to the open file `handle` (os.write may write less)."""
    view = memoryview(data)
    while view:
        written = os.write(handle, view)
        view = view[written:]


def _write_in_place(target: Path, data: bytes) -> None:
    """Overwrite `target`'s content, keeping its inode; put the old content back if the
    write fails halfway."""
    old = target.read_bytes()
    handle = os.open(target, os.O_WRONLY)
    try:
        try:
            _write_bytes(handle, data)
            os.ftruncate(handle, len(data))
            os.fsync(handle)
        except OSError:
            with contextlib.suppress(OSError):
                os.lseek(handle, 0, os.SEEK_SET)
                _write_bytes(handle, old)
                os.ftruncate(handle, len(old))
            raise
    finally:
        os.close(handle)


def _cannot_write(name: str, exc: OSError) -> Exception:
    reason = exc.strerror or str(exc)
    hint = {
        errno.ENOSPC: "free some disk space and run it again",
        errno.EDQUOT: "free some disk space and run it again",
        errno.EACCES: "the file or its folder is not writable: check its permissions",
        errno.EPERM: "the file or its folder is not writable: check its permissions",
        errno.EROFS: "the file system is mounted read-only",
    }.get(exc.errno or 0, "check that the file and its folder can be written")
    return error(
        "SEM438", f"cannot write the file: {reason}; it was left as it was", Span(name), hint
    )
