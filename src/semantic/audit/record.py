"""An audit record: one compile, query, explain or other read of a project (its lineage, a
translation, quality results, a catalog site, views, the glossary's terms) as a mapping of
ECS-style fields.

The fields follow the Elastic Common Schema (`@timestamp`, `event.*`, `user.*`, `error.*`,
`host.name`, `process.*`, `service.*`) with what is ours under `semantic.*`; docs/audit.md
describes each one. A record never holds a value the query returned, a parameter's value,
a user attribute's value or a password: parameters and attributes are named only, an
engine URL loses its password, and `error.message` is the code's documented meaning, never
the error's own text (an engine's message may quote the data).

>>> redact("postgresql://ann:s3cret@db:5432/sales?sslmode=require&password=x")
'postgresql://ann:***@db:5432/sales?sslmode=require&password=***'
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from semantic.engines.urls import redact
from semantic.errors import CODES, SemanticError
from semantic.files.root import CONFIG_FILE

Action = Literal[
    "compile",
    "query",
    "explain",
    "translate",
    "quality",
    "docs-build",
    "views-plan",
    "views-apply",
    "lineage",
    "show",
    "search",
    "terms",
    "rdf",
    "catalog",
]

#: the actions that read the data (their `event.type` is `access`); the others read the
#: vocabulary only, or compile (`info`)
DATA_ACTIONS = frozenset({"query", "translate", "quality", "docs-build", "views-apply"})

#: the ECS version the field names follow
ECS_VERSION = "8.11.0"


def audit_record(
    *,
    action: Action,
    start_ns: int,
    duration_ns: int,
    query: Any,
    model: Mapping[str, str],
    caller: str | None = None,
    role: str | None = None,
    user: Mapping[str, str] | None = None,
    decisions: Mapping[str, Any] | None = None,
    params: Iterable[str] = (),
    terms: Sequence[str] = (),
    rows: int | None = None,
    dialect: str | None = None,
    engine: Mapping[str, str | None] | None = None,
    failure: BaseException | None = None,
    warnings: Sequence[str] = (),
    surface: str = "api",
    command: str | None = None,
    form: str | None = None,
) -> dict[str, Any]:
    """The record of one `action` on the business query `query` (text or JSON) that started
    at `start_ns` (ns since the epoch) and took `duration_ns`: by `caller` (else the `name`
    attribute of `user`, else the operating-system user), as `role`, with the policy
    `decisions` taken, the names of `params` bound, the term ids `terms` it names, the
    `rows` it returned, on `engine` in `dialect`; `failure` is what stopped it (None: it
    succeeded), `warnings` the codes of its warnings. `query` is None for an action that
    takes no query (quality, views, a catalog site); `form` says what it is when it is no
    business query (`sql` for a translation, `term` for a lineage or a card, `search`).
    Every field is always present (null or empty when it does not apply), so that a reader
    sees one shape."""
    attributes = dict(user or {})
    who = caller or attributes.get("name") or os_user()
    outcome = "failure" if failure is not None else "success"
    codes = _codes(failure)
    import uuid  # here: a command that writes no record imports none of what a record needs

    kind = ["access"] if action in DATA_ACTIONS else ["info"]
    return {
        "@timestamp": _iso(start_ns),
        "message": f"semantic {action} by {who}: {outcome}",
        "ecs": {"version": ECS_VERSION},
        "event": {
            "id": str(uuid.uuid4()),
            "kind": "event",
            "category": ["database"],
            "type": [*kind, "error"] if failure is not None else kind,
            "action": action,
            "outcome": outcome,
            "start": _iso(start_ns),
            "end": _iso(start_ns + duration_ns),
            "duration": duration_ns,
            "dataset": "semantic.audit",
        },
        "user": {"name": who, "roles": [role] if role else []},
        "process": {"pid": os.getpid(), "user": {"name": os_user()}},
        "host": {"name": host_name()},
        "service": {"name": "semantic", "version": _version()},
        "error": {
            "code": codes[0] if codes else None,
            "message": _meaning(codes[0]) if codes else _internal(failure),
            "type": type(failure).__name__ if failure is not None else None,
        },
        "semantic": {
            "surface": surface,
            "command": command,
            "model": dict(model),
            "query": {
                "text": None if query is None else query_as_text(query),
                "form": form or _form(query),
            },
            "terms": list(terms),
            "params": sorted(params),
            "user_attributes": sorted(k for k in attributes if k != "name"),
            "decisions": dict(decisions) if decisions is not None else None,
            "rows": rows,
            "dialect": dialect,
            "engine": dict(engine) if engine is not None else None,
            "error_codes": codes,
            "warning_codes": list(dict.fromkeys(warnings)),
        },
    }


def query_as_text(query: Any) -> str:
    """A business query as given: its text, or its JSON form written compactly."""
    if isinstance(query, str):
        return query
    return json.dumps(query, ensure_ascii=False, separators=(",", ":"), default=str)


def engine_facts(
    engines: Mapping[str, Any], engine: Any
) -> tuple[dict[str, str | None], str | None]:
    """Where a query runs, as `Project.engine_for` picks it from the `engine` argument and
    semantic.yml's `engines`: its name and URL without a password, and its kind."""
    if engine is not None and not isinstance(engine, str):  # an engine object
        return {"name": None, "url": None}, getattr(engine, "dialect", None)
    name = engine or next((n for n, s in engines.items() if s.default), None)
    if name is None or (name in ("duckdb", "duckdb:") and name not in engines):
        return {"name": "duckdb", "url": "duckdb:"}, "duckdb"  # the embedded engine
    from semantic.engines.connect import engine_kind  # a query loads the engines anyway

    spec = engines.get(name)
    url = spec.url if spec is not None else name
    try:
        kind: str | None = engine_kind(url)
    except SemanticError:
        kind = None
    return {"name": name if spec is not None else None, "url": redact(url)}, kind


def model_hash(root: Path, folders: Iterable[str]) -> str:
    """The SHA-256 of the project's files: semantic.yml and the YAML files of `folders`
    (models, glossary), each as its path from `root` and its bytes, in name order."""
    import hashlib

    digest = hashlib.sha256()
    files = [root / CONFIG_FILE]
    for folder in folders:
        files += sorted(p for p in (root / folder).glob("*.y*ml") if p.suffix in (".yml", ".yaml"))
    for path in files:
        try:
            data = path.read_bytes() if path.is_file() else b""
        except OSError:
            data = b""
        digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


@cache
def os_user() -> str:
    """The operating-system user this process runs as (its uid when it has no name)."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no name for the uid in a container
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


@cache
def host_name() -> str:
    """This machine's name."""
    import socket

    return socket.gethostname()


def _version() -> str:
    from semantic import __version__

    return __version__


def _form(query: Any) -> str | None:
    """What a business query was given as: `text` or `json` (None: no query)."""
    if query is None:
        return None
    return "text" if isinstance(query, str) else "json"


def _codes(failure: BaseException | None) -> list[str]:
    """The distinct error codes of `failure`, first one first."""
    if not isinstance(failure, SemanticError):
        return []
    return list(dict.fromkeys(d.code for d in failure.diagnostics if d.severity == "error"))


def _meaning(code: str) -> str:
    return f"{code}: {CODES.get(code, 'see docs/errors.md')}"


def _internal(failure: BaseException | None) -> str | None:
    """The message of a failure with no code: its type only (its text may quote data)."""
    if failure is None:
        return None
    if not isinstance(failure, Exception):  # Ctrl-C, SystemExit: the call was stopped
        return f"interrupted: {type(failure).__name__}"
    return f"internal error: {type(failure).__name__}"


def _iso(ns: int) -> str:
    """`ns` since the epoch as an ISO 8601 UTC time with microseconds."""
    seconds, rest = divmod(ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1000)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
