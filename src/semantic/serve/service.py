"""The service every front end of `semantic serve` calls (HTTP, MCP, the PostgreSQL wire):
the last good version of the project, who the caller is, the plan cache, and compile, query,
explain and the glossary's reads, each in an audit scope.

A `Version` is one load of the project's files, with its tokens and its plan cache. A request
takes the version in force when it starts (`Service.request`) and finishes on it whatever
happens meanwhile; a reload (`Service.reload`, or the watcher of `semantic.serve.watch`)
loads the files again and swaps the version in one assignment when they load, and keeps the
last good one, with the errors found (file:line:col) for the status, when they do not. A
version that was replaced is closed when its last request is done.

>>> service = Service.open(".")
>>> caller = service.authenticate(None)  # semantic.yml: serve.anonymous_role: analyst
>>> caller.role
'analyst'
>>> print(service.compile(caller, "SELECT order_count").sql)
SELECT
  COUNT(*) AS order_count
FROM orders AS orders
>>> service.query(caller, "SELECT order_count").table.to_pylist()
[{'order_count': 15000}]
>>> service.close()
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from semantic.audit import current, scope
from semantic.audit.record import model_hash
from semantic.compiler.jsonquery import QueryInput
from semantic.compiler.params import bind_params
from semantic.engines.base import Limits
from semantic.errors import Diagnostic, SemanticError, Span, error
from semantic.files.root import find_root
from semantic.files.schema import ServeSpec
from semantic.outputs.headers import result_headers
from semantic.project import Project
from semantic.serve.cache import PlanCache
from semantic.serve.config import Caller, authenticate, check_anonymous, read_tokens, serve_spec

if TYPE_CHECKING:
    import pyarrow as pa

    from semantic.serve.watch import Watcher

#: the surfaces a request comes from, as the audit records name them
SURFACES = ("http", "mcp", "pgwire", "api")
#: where a query's own errors are placed when it has no place of its own
QUERY = Span("<query>", 1, 1)


@dataclass
class Version:
    """One load of the project's files: the project, its tokens, its plan cache."""

    number: int
    project: Project
    spec: ServeSpec
    #: the callers of the tokens file, by the SHA-256 of their token
    tokens: dict[str, Caller]
    cache: PlanCache
    model_hash: str
    loaded_at: float
    #: what this version made once and keeps (term cards, RDF texts, quality results)
    kept: dict[Any, Any] = field(default_factory=dict)
    in_flight: int = 0
    retired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        """Release the engines of the project (its DuckDB connection too)."""
        self.project.close()
        if "engine" in self.project.__dict__:
            self.project.engine.close()


@dataclass(frozen=True)
class Compiled:
    """The SQL of a query as the caller may run it, and what is worth knowing about it."""

    sql: str
    dialect: str
    warnings: list[Diagnostic]
    version: int


@dataclass(frozen=True)
class Answer:
    """The rows of a query, the headers to show them under (labels in a language, or the
    names as written), and what is worth knowing about them."""

    table: pa.Table
    headers: list[str]
    warnings: list[Diagnostic]
    version: int


class Service:
    """What every front end calls; see the module. Thread-safe: each request runs in a
    thread of its own (or an asyncio task), on the version it started with."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._number = 0
        #: the errors of the last reload that failed (cleared by one that works)
        self.errors: list[Diagnostic] = []
        self.reloads = {"succeeded": 0, "failed": 0}
        self.last_reload: float | None = None
        self.started_at = time.time()
        self._running: dict[str, int] = {}
        self._watcher: Watcher | None = None
        # where the audit records go, as the process that opened the service was told
        # (`semantic --audit-file`): a request in a thread of its own does not inherit it
        self._audit = current()
        version, problems = self._load()
        if version is None:
            raise SemanticError(problems)
        self._version = version

    @classmethod
    def open(cls, path: str | Path = ".") -> Service:
        """The service of the project at `path` (SemanticError when its files do not load:
        a server starts only on a good version)."""
        return cls(find_root(Path(path)))

    # --- versions --------------------------------------------------------------------------

    @property
    def version(self) -> Version:
        """The version in force."""
        return self._version

    def _load(self) -> tuple[Version | None, list[Diagnostic]]:
        """The project's files loaded as a new version, or None and every error."""
        project, problems = Project.inspect(self.root)
        errors = [d for d in problems if d.severity == "error"]
        if project is None or errors:
            return None, errors
        spec = serve_spec(project.config.serve)
        tokens, found = read_tokens(self.root, spec, project.model)
        found += check_anonymous(spec, project.model)
        if found:
            return None, found
        digest = model_hash(self.root, (project.config.models, project.config.glossary))
        cache = PlanCache(spec.plan_cache, digest)
        project.plans = cache
        with self._lock:
            self._number += 1
            number = self._number
        version = Version(number, project, spec, tokens, cache, digest, time.time())
        _warm(project)
        return version, []

    def reload(self) -> bool:
        """Load the files again: True and the new version in force when they load; False and
        the errors kept (SEM457 first, then each error at its file:line:col) when they do
        not, the last good version still served."""
        version, problems = self._load()
        with self._lock:
            self.last_reload = time.time()
            if version is None:
                self.reloads["failed"] += 1
                self.errors = [_not_reloaded(self._version), *problems]
                return False
            old, self._version = self._version, version
            self.reloads["succeeded"] += 1
            self.errors = []
        self._retire(old)
        return True

    def _retire(self, old: Version) -> None:
        with old.lock:
            old.retired = True
            idle = old.in_flight == 0
        if idle:
            old.close()

    @contextmanager
    def request(
        self, caller: Caller, surface: str = "api", *, limited: bool = False
    ) -> Iterator[Version]:
        """The version a request runs on, from its start to its end, inside the audit scope
        of `caller` and `surface`; `limited`: the request runs a query, and counts against
        the caller's concurrent queries (SEM456 past them)."""
        if limited:
            self._enter(caller)
        with self._lock:  # taken and counted at once: a reload cannot close it in between
            version = self._version
            with version.lock:
                version.in_flight += 1
        try:
            told = self._audit
            with scope(caller.name, file=told.file, origin=told.origin, surface=surface):
                yield version
        finally:
            with version.lock:
                version.in_flight -= 1
                done = version.retired and version.in_flight == 0
            if done:
                version.close()
            if limited:
                self._leave(caller)

    def _enter(self, caller: Caller) -> None:
        allowed = self._version.spec.limits.concurrent
        with self._lock:
            running = self._running.get(caller.name, 0)
            if running >= allowed:
                raise error(
                    "SEM456",
                    f"'{caller.name}' already has {running} queries running, as many as this "
                    "server allows a caller",
                    Span("<request>"),
                    "wait for one to finish and try again (serve.limits.concurrent in "
                    "semantic.yml)",
                )
            self._running[caller.name] = running + 1

    def _leave(self, caller: Caller) -> None:
        with self._lock:
            left = self._running.get(caller.name, 1) - 1
            if left:
                self._running[caller.name] = left
            else:
                self._running.pop(caller.name, None)

    # --- callers ---------------------------------------------------------------------------

    def authenticate(self, token: str | None) -> Caller:
        """The caller of a request's bearer token (None: no token); SEM121 when the server
        does not know it, or refuses requests without one (see `config.authenticate`)."""
        version = self._version
        return authenticate(version.tokens, token, version.spec.anonymous_role)

    # --- queries ---------------------------------------------------------------------------

    def compile(
        self,
        caller: Caller,
        query: QueryInput,
        params: Mapping[str, Any] | None = None,
        dialect: str | None = None,
        *,
        surface: str = "api",
    ) -> Compiled:
        """The SQL of `query` as `caller` may run it, in `dialect` (the project's when None);
        `params`, when given, are checked against what they are compared with (SEM321)."""
        self.check_size(query)
        with self.request(caller, surface) as version:
            project = version.project
            sql = project.compile(query, dialect, role=caller.role, user=caller.user)
            if params:
                bind_params(project.model, project.parse(query, caller.role, caller.user), params)
            warnings = project.query_warnings(query, caller.role, caller.user)
            return Compiled(sql, dialect or project.config.dialect, warnings, version.number)

    def query(
        self,
        caller: Caller,
        query: QueryInput,
        params: Mapping[str, Any] | None = None,
        *,
        language: str | None = None,
        surface: str = "api",
    ) -> Answer:
        """The rows of `query` as `caller` may read them, within the server's limits (rows:
        SEM435, time: SEM434, concurrent queries: SEM456); headed by the terms' labels in
        `language` when it is one of the project's, else by the names as written."""
        self.check_size(query)
        with self.request(caller, surface, limited=True) as version:
            project = version.project
            table = project.query(
                query, params, limits=self.limits(version), role=caller.role, user=caller.user
            )
            parsed = project.parse(query, caller.role, caller.user)
            headers = list(table.column_names)
            if language is not None and language in project.model.languages:
                headers = result_headers(project.model, parsed.columns, language)
            warnings = project.query_warnings(query, caller.role, caller.user)
            return Answer(table, headers, warnings, version.number)

    def explain(self, caller: Caller, query: QueryInput, *, surface: str = "api") -> str:
        """How `query` is computed, in plain words (with the caller's role: what it did)."""
        self.check_size(query)
        with self.request(caller, surface) as version:
            return version.project.explain(query, caller.role, caller.user)

    def limits(self, version: Version) -> Limits:
        """The project's limits, tightened by the server's (`serve.limits`)."""
        own, spec = version.project.limits, version.spec.limits
        return replace(
            own,
            timeout=_tighter(own.timeout, spec.timeout),
            max_rows=int(_tighter(own.max_rows, spec.rows)),
        )

    def check_size(self, query: QueryInput) -> None:
        """SEM455 when `query` (its text, or its JSON form written out) is longer than
        `serve.limits.query_chars`."""
        allowed = self._version.spec.limits.query_chars
        size = len(query) if isinstance(query, str) else len(_json_text(query))
        if size > allowed:
            raise error(
                "SEM455",
                f"the query has {size} characters, more than the {allowed} this server reads",
                QUERY,
                "shorten it (serve.limits.query_chars in semantic.yml)",
            )

    # --- state -----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What the status endpoint shows: the version served, when it was loaded, the
        errors of the last reload that failed, the plan cache's hit rate, the queries
        running."""
        version = self._version
        with self._lock:
            running = dict(self._running)
            errors = [d.as_dict() for d in self.errors]
            reloads = dict(self.reloads)
            last = self.last_reload
        return {
            "project": version.project.model.name,
            "version": version.number,
            "model_hash": version.model_hash,
            "loaded_at": _iso(version.loaded_at),
            "started_at": _iso(self.started_at),
            "last_reload": _iso(last) if last is not None else None,
            "reloads": reloads,
            "healthy": not errors,
            "errors": errors,
            "plan_cache": version.cache.stats(),
            "running": running,
            "watching": self._watcher is not None,
        }

    def watch(self, debounce: float | None = None) -> None:
        """Reload when a project file changes (semantic.yml, models, glossary, policies,
        tokens), from a thread of its own, until `close`."""
        from semantic.serve.watch import Watcher

        if self._watcher is None:
            wait = debounce if debounce is not None else self._version.spec.reload_debounce
            self._watcher = Watcher(self, wait)
            self._watcher.start()

    def close(self) -> None:
        """Stop watching and release the version in force."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        self._retire(self._version)


def _warm(project: Project) -> None:
    """Open the embedded engine and measure the data's keys once, before any request: two
    first requests at once would each do it."""
    if project.config.data is None:
        return
    try:
        engine = project.engine_for(None)
        project.key_measures(engine)
    except SemanticError:
        pass  # the first query says what is wrong with the data


def _not_reloaded(version: Version) -> Diagnostic:
    return Diagnostic(
        "SEM457",
        f"the project's files changed and do not load: version {version.number} (loaded "
        f"{_iso(version.loaded_at)}) is still served",
        None,
        "fix the errors below; the server reloads when the files change",
    )


def _tighter(own: float, server: float) -> float:
    """The tighter of two limits where 0 means none."""
    if not server:
        return own
    return min(own, server) if own else server


def _json_text(query: Mapping[str, Any]) -> str:
    import json

    return json.dumps(query, ensure_ascii=False, default=str)


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
