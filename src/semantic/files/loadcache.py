"""A whole loaded project kept between runs, so that checking an unchanged project does not
read, validate and build it again.

`semantic.files.cache` keeps each file's YAML tree, which spares scanning it; validating
the trees and building the model still take seconds on a glossary of 10,000 terms. So
`Project.inspect` keeps what it made of the project's files (the model and the diagnostics
of the load) in one slot per project folder, under `projects/` in the cache folder of
`semantic.files.cache`, with the same rules: a slot is read only when the current user owns
it and no one else may write it, and a slot that cannot be read only means building again.

A slot is used only when its key is `load_key` of the files as they are now: a hash of the
project folder's path, of the name and bytes of every file read (semantic.yml, the model
and glossary files), of semantic's own code (every module of the package), of the versions
of the libraries whose objects the model holds (sqlglot, pydantic, ruamel.yaml) and of
Python's version. So any file changed, added or removed, and any other version of the code,
builds again. A load that found an error is never kept.

>>> import tempfile, os
>>> before = os.environ.get("SEMANTIC_CACHE_DIR")
>>> os.environ["SEMANTIC_CACHE_DIR"] = tempfile.mkdtemp()
>>> project = Path(tempfile.mkdtemp())
>>> (project / "a.yml").write_text("a: 1")
4
>>> key = load_key(project, [project / "a.yml"])
>>> kept_load(project, key) is None
True
>>> keep_load(project, key, ("model", []))
>>> kept_load(project, key)
('model', [])
>>> (project / "a.yml").write_text("a: 2")
4
>>> kept_load(project, load_key(project, [project / "a.yml"])) is None
True
>>> os.environ["SEMANTIC_CACHE_DIR"] = before or ""
"""

from __future__ import annotations

import gc
import hashlib
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from semantic.files.cache import _read, _write, cache_dir

#: changes when what a slot holds changes
_VERSION = 1
#: the libraries whose objects a loaded model holds (a pickle refers to their classes)
_LIBRARIES = ("sqlglot", "pydantic", "pydantic-core", "ruamel.yaml")


def load_key(root: Path, files: Sequence[Path]) -> str:
    """The key of a load of the project at `root` from `files` (in the order they are read):
    see the module's doc. A file that cannot be read counts as its error's text."""
    digest = hashlib.sha256(f"{_VERSION}\0{_code_version()}\0{root.resolve()}\0".encode())
    for file in files:
        data = _content(file)
        digest.update(f"\0{file}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _content(file: Path) -> bytes:
    """The bytes of a regular file; for anything else (a directory, a named pipe, a file
    that cannot be opened), what it is, as `semantic.files.read.read_text` tells it: never
    opened for reading, so that a FIFO cannot block."""
    try:
        handle = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return f"\0cannot be opened: {exc.errno}".encode()
    kind = os.fstat(handle).st_mode
    if not stat.S_ISREG(kind):
        os.close(handle)
        return f"\0not a regular file: {stat.S_IFMT(kind)}".encode()
    with os.fdopen(handle, "rb") as stream:
        return stream.read()


def kept_load(root: Path, key: str) -> object | None:
    """What `keep_load` kept for the project at `root` under `key`; None when nothing was,
    or when the slot was made from other files or cannot be trusted or read."""
    slot = _slot(root)
    kept = _read(slot, key) if slot is not None else None
    return kept[0] if kept is not None else None


def keep_load(root: Path, key: str, value: object) -> None:
    """Keep `value` as what the project at `root` loads to under `key` (one slot a project:
    it replaces what was kept before)."""
    slot = _slot(root)
    if slot is not None:
        _write(slot, key, value)


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside: loading a large project makes millions of
    objects that all live on, and each full collection walks every one of them, so that the
    collections took two thirds of loading 10,000 terms (the load makes little cyclic
    garbage; whatever it makes is collected once it is over)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _slot(root: Path) -> Path | None:
    try:
        name = hashlib.sha256(os.fsencode(root.resolve())).hexdigest()[:32]
        return cache_dir() / "projects" / f"{name}.pickle"
    except (OSError, RuntimeError):  # no home folder to find the cache in
        return None


@cache
def _code_version() -> str:
    """A hash of semantic's modules and the versions of Python and the libraries a model
    holds objects of: a kept load is used only by the very code that made it."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"{sys.version}\0".encode())
    for library in _LIBRARIES:
        try:
            digest.update(f"{library} {version(library)}\0".encode())
        except PackageNotFoundError:
            digest.update(f"{library} none\0".encode())
    for module in sorted(package.rglob("*.py")):
        digest.update(f"{module.relative_to(package)}\0".encode())
        digest.update(module.read_bytes())
    return digest.hexdigest()
