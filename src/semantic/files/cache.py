"""The YAML trees of project files, kept between runs so that a command does not scan the
same unchanged text again.

Scanning YAML with positions is the slowest step of loading a project (about 130 ms for the
50 KB of the example project, in pure Python); unpickling the tree it made takes 3 ms. So
`read_file` asks `cached_tree`: each file has one slot in the cache, named after its
absolute path, holding the hash of the text it was made from and the tree. A slot whose
hash is not the text's (the file changed, or another version of semantic, ruamel.yaml or
Python wrote it) is made again and overwritten; so the cache holds one tree per file ever
read and never serves a stale one. Only trees that were read without error are kept.

The cache folder is `$SEMANTIC_CACHE_DIR`, else `$XDG_CACHE_HOME/semantic`, else
`~/.cache/semantic` (the trees go to its `yaml/` folder); a folder that cannot be written
only means scanning again. A tree is a pickle, which can run code when loaded, so a slot is
read only if the current user owns it and no one else may write it: the cache is the
user's own, never a file that came with a project.

>>> import tempfile, os
>>> before = os.environ.get("SEMANTIC_CACHE_DIR")
>>> os.environ["SEMANTIC_CACHE_DIR"] = tempfile.mkdtemp()
>>> scanned = []
>>> def scan(text: str) -> list[str]:
...     scanned.append(text)
...     return text.split()
>>> where = Path(tempfile.mkdtemp()) / "a.yml"
>>> cached_tree(where, "a b", "v1", scan), cached_tree(where, "a b", "v1", scan)
(['a', 'b'], ['a', 'b'])
>>> cached_tree(where, "a b c", "v1", scan), len(scanned)
(['a', 'b', 'c'], 2)
>>> os.environ["SEMANTIC_CACHE_DIR"] = before or ""
"""

from __future__ import annotations

import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar, cast

from semantic.files.digest import sha256

T = TypeVar("T")

#: changes when what a slot holds changes
_VERSION = 1
#: written before the pickle: the hash of the text and of what made the tree
_HASH_SIZE = 64


def cache_dir() -> Path:
    """Where semantic keeps what it can measure or read again (see the module's doc)."""
    if folder := os.environ.get("SEMANTIC_CACHE_DIR"):
        return Path(folder)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "semantic"


def cached_tree(path: Path, text: str, maker: str, scan: Callable[[str], T]) -> T:
    """`scan(text)`, the tree of the file at `path` whose content is `text`: from the
    file's slot when it was made from this very text by the same `maker` (a string that
    changes whenever `scan` would give another tree), else scanned now and kept.
    Exceptions of `scan` are not kept: a broken file is scanned each time."""
    data = f"{_VERSION}\0{sys.version_info[:2]}\0{maker}\0".encode() + text.encode("utf-8")
    hashed = sha256(len(data))
    hashed.update(data)
    digest = hashed.hexdigest()
    slot = _slot(path)
    if slot is not None:
        kept = _read(slot, digest)
        if kept is not None:
            return cast(T, kept[0])
    tree = scan(text)
    if slot is not None:
        _write(slot, digest, tree)
    return tree


def _slot(path: Path) -> Path | None:
    try:
        hashed = sha256()
        hashed.update(os.fsencode(os.path.abspath(path)))
        name = hashed.hexdigest()[:32]
        return cache_dir() / "yaml" / f"{name}.pickle"
    except (OSError, RuntimeError):  # no home folder to find the cache in
        return None


def _read(slot: Path, digest: str) -> tuple[object] | None:
    """The tree kept in `slot` (in a 1-tuple, since a tree may be None) when it was made
    from the text of hash `digest`; None when it was not, or cannot be trusted or read."""
    try:
        with slot.open("rb") as stream:
            if not _trusted(os.fstat(stream.fileno())):
                return None
            if stream.read(_HASH_SIZE + 1) != f"{digest}\n".encode():
                return None
            return (pickle.load(stream),)
    except Exception:  # missing, unreadable or damaged: scanned again and overwritten
        return None


def _trusted(status: os.stat_result) -> bool:
    """A slot is unpickled only if it is a file of the current user that no one else may
    write (a pickle runs code when loaded)."""
    mine = not hasattr(os, "getuid") or status.st_uid == os.getuid()
    return (
        stat.S_ISREG(status.st_mode) and mine and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _write(slot: Path, digest: str, tree: object) -> None:
    """Keep `tree` in `slot`, replacing it in one step (another process may be reading)."""
    try:
        data = pickle.dumps(tree, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # a tree that cannot be pickled: scanned again next time
        return
    _write_bytes(slot, digest, data)


def _write_bytes(slot: Path, digest: str, data: bytes) -> None:
    """Write `data` (pickles) after the header `digest` into `slot`, in one step."""
    try:
        slot.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=slot.parent)
        try:
            with os.fdopen(handle, "wb") as stream:  # mkstemp's file: mode 0600
                stream.write(f"{digest}\n".encode() + data)
            os.replace(temporary, slot)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except Exception:  # a read-only cache, a full disk
        pass  # scanned again next time
