"""The audit trail: each compile, query and explain of a project writes one JSON line, and
so does each other read of its data or vocabulary (`recorded`: a lineage, a translation,
quality results, views, a catalog site, a term's card, a search).

`Project.compile`, `query` and `explain` are wrapped by `audited`: when auditing is on
(semantic.yml's `audit: {file: ...}`, the environment variable SEMANTIC_AUDIT_FILE, or a
`scope(file=...)` such as `semantic --audit-file`), the file is opened before the work runs
and the record (`record.audit_record`, fields in docs/audit.md) is appended after it, with
its outcome, duration and row count. Auditing fails closed: when the file cannot be opened
nothing runs (SEM114, SEM448), and when the record cannot be written the result is withheld
(SEM449). A `scope` names the caller and where the calls come from:

>>> import tempfile, pathlib, json
>>> from semantic import Project
>>> project = Project.load(".")
>>> path = pathlib.Path(tempfile.mkdtemp()) / "audit.jsonl"
>>> with scope(caller="ann", file=path):
...     sql = project.compile("SELECT order_count")
>>> line = json.loads(path.read_text())
>>> line["user"]["name"], line["event"]["action"], line["semantic"]["terms"]
('ann', 'compile', ['order_count'])
"""

from __future__ import annotations

import functools
import inspect
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from semantic.audit.record import DATA_ACTIONS, Action, audit_record, engine_facts, model_hash
from semantic.audit.sink import Sink
from semantic.errors import Diagnostic, SemanticError, Span
from semantic.files.root import CONFIG_FILE

__all__ = ["ENV", "Action", "Scope", "audited", "current", "note", "recorded", "scope"]

#: the environment variable that names the audit file (before semantic.yml's)
ENV = "SEMANTIC_AUDIT_FILE"


@dataclass(frozen=True)
class Scope:
    """Who calls and from where, for the records written inside a `scope`."""

    caller: str | None = None
    file: Path | None = None
    #: how the file was named, for errors: `--audit-file`, `scope(file=...)`
    origin: str = "scope(file=...)"
    surface: str = "api"
    command: str | None = None


#: the scope in force (a frozen value: a new scope sets another, never changes this one)
_SCOPE: ContextVar[Scope] = ContextVar("semantic_audit_scope", default=Scope())  # noqa: B039
#: what the audited call under way has noted (`note`), None outside one
_NOTES: ContextVar[dict[str, Any] | None] = ContextVar("semantic_audit_notes", default=None)


@contextmanager
def scope(
    caller: str | None = None,
    *,
    file: str | Path | None = None,
    origin: str | None = None,
    surface: str | None = None,
    command: str | None = None,
) -> Iterator[None]:
    """Inside the block, records name `caller` as `user.name` and are written to `file`
    (before SEMANTIC_AUDIT_FILE and semantic.yml; `origin` says how it was named, for
    errors); `surface` (`api`, `cli`) and `command` (the CLI command) say where the calls
    come from. What is not given is kept from the enclosing scope. A scope holds in its
    thread (and the asyncio tasks it starts): a server opens one per request."""
    current = _SCOPE.get()
    if caller is not None:
        current = replace(current, caller=caller)
    if file is not None:
        named = Path(file).expanduser()
        current = replace(current, file=named, origin=origin or "scope(file=...)")
    if surface is not None:
        current = replace(current, surface=surface)
    if command is not None:
        current = replace(current, command=command)
    token = _SCOPE.set(current)
    try:
        yield
    finally:
        _SCOPE.reset(token)


def current() -> Scope:
    """The scope in force here: what a server captures when it starts, so that the requests
    it serves in threads of their own (which do not inherit it) write where it was told."""
    return _SCOPE.get()


def note(*, decisions: Mapping[str, Any]) -> None:
    """Add the policy `decisions` taken (row filters applied, terms refused, masks) to the
    record of the audited call under way; nothing outside one."""
    notes = _NOTES.get()
    if notes is not None:
        notes["decisions"] = decisions


class Audited(Protocol):
    """What `audited` reads of a project."""

    root: Path
    config: Any
    model: Any

    def parse(self, query: Any) -> Any: ...

    def query_warnings(self, query: Any) -> list[Diagnostic]: ...


P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound=Audited)


def audited(
    action: Action,
) -> Callable[[Callable[Concatenate[S, P], R]], Callable[Concatenate[S, P], R]]:
    """A method of the project (`compile`, `query`, `explain`) that writes its record when
    auditing is on. It reads its arguments by name: `query`, `dialect`, `params` (names
    only), `engine`, and `role` and `user` when the method has them."""

    def decorate(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
        signature = inspect.signature(method)

        @functools.wraps(method)
        def run(project: S, *args: P.args, **kwargs: P.kwargs) -> R:
            sink = open_sink(project)
            if sink is None:
                return method(project, *args, **kwargs)
            try:
                given = dict(signature.bind(project, *args, **kwargs).arguments)
            except TypeError:  # the method itself says what is wrong
                given = {}
            with sink:
                notes: dict[str, Any] = {}
                token = _NOTES.set(notes)
                start, clock = time.time_ns(), time.perf_counter_ns()
                try:
                    result = method(project, *args, **kwargs)
                except BaseException as exc:
                    took = time.perf_counter_ns() - clock
                    _NOTES.reset(token)
                    _write_failure(sink, exc, _facts(action, project, given, notes, start, took))
                    raise
                took = time.perf_counter_ns() - clock
                _NOTES.reset(token)
                facts = _facts(action, project, given, notes, start, took)
                facts["rows"] = getattr(result, "num_rows", None) if action == "query" else None
                facts["warnings"] = _warning_codes(project, given.get("query"))
                sink.write(audit_record(**facts))
                return result

        return run

    return decorate


@contextmanager
def recorded(
    project: Audited,
    action: Action,
    *,
    text: str | None = None,
    form: str | None = None,
    role: str | None = None,
    user: Mapping[str, str] | None = None,
    engine: Any = None,
) -> Iterator[dict[str, Any]]:
    """One record of `action` on `project` around the block, when auditing is on: the
    reads that are no business query (a lineage, a translation, quality, views, a catalog
    site, the glossary's terms). `text` is what was asked (a term's name, a search, physical
    SQL), `form` what kind of text it is; `engine` the engine argument of a call that reads
    data. The block fills the mapping it is given: `terms` (the term ids it read or
    showed), `rows`, `decisions`. As with `audited`, the file is opened before the block
    runs (nothing runs when it cannot be) and a failure is recorded with its code."""
    sink = open_sink(project)
    if sink is None:
        yield {}
        return
    current = _SCOPE.get()
    base: dict[str, Any] = {
        "action": action,
        "query": text,
        "form": form,
        "model": {"name": project.model.name, "hash": _model_hash(project)},
        "caller": current.caller,
        "role": role,
        "user": user,
        "surface": current.surface,
        "command": current.command,
    }
    if action in DATA_ACTIONS:
        base["engine"], base["dialect"] = engine_facts(project.config.engines, engine)
    with sink:
        found: dict[str, Any] = {}
        start, clock = time.time_ns(), time.perf_counter_ns()
        try:
            yield found
        except BaseException as exc:
            took = time.perf_counter_ns() - clock
            facts = {**base, **_filled(found), "start_ns": start, "duration_ns": took}
            _write_failure(sink, exc, facts)
            raise
        took = time.perf_counter_ns() - clock
        sink.write(audit_record(**base, **_filled(found), start_ns=start, duration_ns=took))


def _filled(found: Mapping[str, Any]) -> dict[str, Any]:
    """What a `recorded` block filled in, as arguments of `audit_record`."""
    return {k: found[k] for k in ("terms", "rows", "decisions") if found.get(k) is not None}


def destination(project: Audited) -> tuple[Path, str] | None:
    """The audit file and how it was named: a `scope`'s file, else SEMANTIC_AUDIT_FILE
    (relative to the working folder), else semantic.yml's `audit.file` (relative to the
    project); None when auditing is off."""
    current = _SCOPE.get()
    if current.file is not None:
        return current.file, current.origin
    named = os.environ.get(ENV)
    if named:  # set but empty is unset: it cannot turn off what semantic.yml turns on
        return Path(named).expanduser(), ENV
    spec = getattr(project.config, "audit", None)
    if spec is not None:
        return project.root / Path(spec.file).expanduser(), f"{CONFIG_FILE} audit.file"
    return None


def open_sink(project: Audited) -> Sink | None:
    """The audit file of `project` open for appending (see `destination`), or None; SEM114
    or SEM448, at semantic.yml's setting when it is named there, when it cannot be."""
    found = destination(project)
    if found is None:
        return None
    path, origin = found
    try:
        return Sink.open(path, origin)
    except SemanticError as exc:
        if origin.startswith(CONFIG_FILE):
            place = _setting_place(project)
            raise SemanticError([replace(d, span=place) for d in exc.diagnostics]) from None
        raise


def _setting_place(project: Audited) -> Span | None:
    """Where semantic.yml names the audit file (read again: only an error needs it)."""
    from semantic.files.read import read_file
    from semantic.files.schema import ProjectFile

    doc, _ = read_file(project.root / CONFIG_FILE, ProjectFile, CONFIG_FILE)
    return doc.span(("audit", "file"), value=True) if doc is not None else Span(CONFIG_FILE)


def _facts(
    action: Action,
    project: Audited,
    given: Mapping[str, Any],
    notes: Mapping[str, Any],
    start: int,
    took: int,
) -> dict[str, Any]:
    """The arguments of `audit_record` that do not depend on the outcome."""
    current = _SCOPE.get()
    query = given.get("query")
    engine, dialect = None, None
    if action == "compile":
        dialect = given.get("dialect") or project.config.dialect
    elif action == "query":
        engine, dialect = engine_facts(project.config.engines, given.get("engine"))
    return {
        "action": action,
        "start_ns": start,
        "duration_ns": took,
        "query": query,
        "model": {"name": project.model.name, "hash": _model_hash(project)},
        "caller": current.caller,
        "role": given.get("role"),
        "user": given.get("user"),
        "decisions": notes.get("decisions"),
        "params": list(given.get("params") or ()),
        "terms": _terms(project, query),
        "dialect": dialect,
        "engine": engine,
        "surface": current.surface,
        "command": current.command,
    }


def _write_failure(sink: Sink, failure: BaseException, facts: dict[str, Any]) -> None:
    """Append the record of a call that failed with `failure`; when it cannot be written,
    SEM449 joins the failure's own errors."""
    try:
        sink.write(audit_record(**facts, failure=failure))
    except SemanticError as unwritten:
        if not isinstance(failure, Exception):
            return  # an interrupt stays an interrupt
        if isinstance(failure, SemanticError):
            raise SemanticError([*failure.diagnostics, *unwritten.diagnostics]) from None
        raise unwritten from failure


def _terms(project: Audited, query: Any) -> list[str]:
    """The term ids `query` names, in the order written (none when it does not parse)."""
    if query is None:
        return []
    try:
        return list(project.parse(query).places)
    except Exception:  # the query does not parse: its error is the record's
        return []


def _warning_codes(project: Audited, query: Any) -> list[str]:
    """The codes of the warnings about `query` (a deprecated term, data that breaks a key)."""
    try:
        return [d.code for d in project.query_warnings(query)]
    except Exception:
        return []


def _model_hash(project: Audited) -> str:
    """The hash of the project's files (`record.model_hash`), computed once a model."""
    kept = project.__dict__.get("_audit_model_hash")
    if kept is not None and kept[0] is project.model:
        return str(kept[1])
    found = model_hash(project.root, (project.config.models, project.config.glossary))
    project.__dict__["_audit_model_hash"] = (project.model, found)
    return found
