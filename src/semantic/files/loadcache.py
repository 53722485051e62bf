"""A whole loaded project kept between runs, so that checking an unchanged project does not
read, validate and build it again.

`semantic.files.cache` keeps each file's YAML tree, which spares scanning it; validating
the trees and building the model still take seconds on a glossary of 10,000 terms. So
`Project.inspect` keeps what it made of the project's files (the model and the diagnostics
of the load) in one slot per project folder, under `projects/` in the cache folder of
`semantic.files.cache`, with the same rules: a slot is read only when the current user owns
it and no one else may write it, and a slot that cannot be read only means building again.

A slot is used only when its key is the project's as it is now. The key has two parts,
so that an unchanged project is recognised without reading semantic.yml as YAML (no YAML
reader is then loaded, and no schema of pydantic built): `config_key`, a hash of the project
folder's path, of semantic.yml's bytes, of semantic's own code (the path, size and time
of change of every module of the package), of the libraries the model is made with
(sqlglot, pydantic, the YAML readers: the size and time of change of their `__init__.py`,
which any install or upgrade writes anew) and of Python's version, heads the slot; then
`files_key`, a hash of the name and bytes of every model and glossary file, is checked
against the files the folders named in that semantic.yml hold now (the slot keeps the
folders' names). So any file changed, added or removed, and any other version of the
code, builds again. A load that found an error is never kept. Each file is read once: the
bytes hashed are the bytes then parsed.

>>> import tempfile, os
>>> before = os.environ.get("SEMANTIC_CACHE_DIR")
>>> os.environ["SEMANTIC_CACHE_DIR"] = tempfile.mkdtemp()
>>> project = Path(tempfile.mkdtemp())
>>> (project / "a.yml").write_text("a: 1")
4
>>> key = config_key(project, b"name: x")
>>> files = lambda: files_key({project / "a.yml": file_content(project / "a.yml")})
>>> kept_load(project, key, lambda kept_files: kept_files == files()) is None
True
>>> keep_load(project, key, files(), ("model", []))
>>> kept_load(project, key, lambda kept_files: kept_files == files())
('model', [])
>>> (project / "a.yml").write_text("a: 2")
4
>>> kept_load(project, key, lambda kept_files: kept_files == files()) is None
True
>>> os.environ["SEMANTIC_CACHE_DIR"] = before or ""
"""

from __future__ import annotations

import gc
import os
import pickle
import stat
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from semantic.files.cache import _trusted, _write_bytes, cache_dir
from semantic.files.digest import sha256

#: changes when what a slot holds changes
_VERSION = 3
#: the libraries whose objects a loaded model holds (a pickle refers to their classes), and
#: the YAML readers (what the model is made of)
_LIBRARIES = ("sqlglot", "pydantic", "pydantic_core", "ruamel.yaml", "yaml")


def config_key(root: Path, config: bytes | str) -> str:
    """The first part of the key of a load of the project at `root` whose semantic.yml is
    `config` (`file_content`): see the module's doc."""
    data = config if isinstance(config, bytes) else config.encode()
    digest = sha256(len(data))
    digest.update(f"{_VERSION}\0{_code_version()}\0{root.resolve()}\0".encode())
    digest.update(data)
    return digest.hexdigest()


def files_key(contents: Mapping[Path, bytes | str]) -> object:
    """The second part: the name and content (`file_content`) of each model and glossary
    file, in the order they are read."""
    digest = sha256(sum(len(content) for content in contents.values()))
    for file, content in contents.items():
        data = content if isinstance(content, bytes) else content.encode()
        digest.update(f"\0{file}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def file_content(file: Path) -> bytes | str:
    """The bytes of a regular file; for anything else (a directory, a named pipe, a file
    that cannot be opened), what it is, as `semantic.files.read.read_text` tells it: never
    opened for reading, so that a FIFO cannot block."""
    try:
        handle = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return f"\0cannot be opened: {exc.errno}"
    kind = os.fstat(handle).st_mode
    if not stat.S_ISREG(kind):
        os.close(handle)
        return f"\0not a regular file: {stat.S_IFMT(kind)}"
    with os.fdopen(handle, "rb") as stream:
        return stream.read()


def kept_load(root: Path, key: str, unchanged: Callable[[object], bool]) -> object | None:
    """What `keep_load` kept for the project at `root` under `key`, if `unchanged(files)`
    says the files it was made from are still those (`files` as given to `keep_load`);
    None when nothing was kept, the slot was made from other files, or it cannot be trusted
    or read. What the files were is read first, the load only if they are unchanged."""
    slot = _slot(root)
    if slot is None:
        return None
    try:
        with slot.open("rb") as stream:
            if not _trusted(os.fstat(stream.fileno())):
                return None
            if stream.read(len(key) + 1) != f"{key}\n".encode():
                return None
            if not unchanged(pickle.load(stream)):
                return None
            return pickle.load(stream)
    except Exception:  # missing, unreadable or damaged: built again and overwritten
        return None


def keep_load(root: Path, key: str, files: object, value: object) -> None:
    """Keep `value` as what the project at `root` loads to under `key` while its files are
    `files` (one slot a project: it replaces what was kept before)."""
    slot = _slot(root)
    if slot is None:
        return
    try:
        data = pickle.dumps(files, protocol=pickle.HIGHEST_PROTOCOL) + pickle.dumps(
            value, protocol=pickle.HIGHEST_PROTOCOL
        )
    except Exception:  # something that cannot be pickled: built again next time
        return
    _write_bytes(slot, key, data)


#: how many loads `paused_gc` has seen in this process
_loads = [0]


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside: loading a large project makes millions of
    objects that all live on, and each full collection walks every one of them, so that the
    collections took two thirds of loading 10,000 terms.

    The load makes almost no cyclic garbage (20 objects for 10,000 terms), so the first load
    of a process (a command's one load) ends by freezing what it made (`gc.freeze`: later
    collections skip it) instead of a full collection that would walk it all to free
    nothing (0.3 to 1 s at 10,000 terms, on the way out). A later load in the same process
    (a server, the tests) unfreezes instead and leaves collections to Python, as before:
    frozen objects are freed when no longer referenced, but cycles among them (sqlglot
    trees point to their parents) only by a collection of unfrozen objects."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        _loads[0] += 1
        if _loads[0] == 1:
            gc.freeze()
        else:
            gc.unfreeze()
        if enabled:
            gc.enable()


def _slot(root: Path) -> Path | None:
    try:
        digest = sha256()
        digest.update(os.fsencode(root.resolve()))
        name = digest.hexdigest()[:32]
        return cache_dir() / "projects" / f"{name}.pickle"
    except (OSError, RuntimeError):  # no home folder to find the cache in
        return None


@cache
def _code_version() -> str:
    """A hash of semantic's modules and the libraries a model holds objects of, and Python's
    version: a kept load is used only by the very code that made it. Modules are known by
    their path, size and time of change (stat, not read: reading and hashing 2 MB of source
    and asking importlib.metadata for the libraries' versions took about a tenth of a
    `semantic compile`)."""
    package = Path(__file__).resolve().parents[1]
    digest = sha256()
    digest.update(f"{sys.version}\0".encode())
    for library in _LIBRARIES:
        origin = _library_file(library)
        digest.update(f"{library} {_stamp(origin) if origin else 'none'}\0".encode())
    for module in sorted(_modules(str(package))):
        digest.update(f"{os.path.relpath(module, package)} {_stamp(module)}\0".encode())
    return digest.hexdigest()


def _library_file(name: str) -> str | None:
    """The `__init__.py` of the installed package `name` (`ruamel.yaml`), found without
    importing anything (`find_spec` of a dotted name would import its parent)."""
    top, _, rest = name.partition(".")
    try:
        spec = find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not rest:
        return spec.origin if spec is not None else None
    for folder in spec.submodule_search_locations or ():
        candidate = os.path.join(folder, *rest.split("."), "__init__.py")
        if os.path.exists(candidate):
            return candidate
    return None


def _stamp(path: str) -> str:
    """The path, size and time of change of a file (`?` when it cannot be read)."""
    try:
        found = os.stat(path)
    except OSError:
        return f"{path} ?"
    return f"{path} {found.st_size} {found.st_mtime_ns}"


def _modules(folder: str) -> list[str]:
    """Every .py file under `folder`."""
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                found += _modules(entry.path)
            elif entry.name.endswith(".py"):
                found.append(entry.path)
    return found
