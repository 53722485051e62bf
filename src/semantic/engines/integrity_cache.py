"""The key integrity of the data, measured once and kept while the data does not change.

Checking every declared key on every query would cost a scan of every table each time. The
measures of `integrity.measure_keys` are kept instead:

- for the embedded DuckDB engine over data files (or a DuckDB database file), in a cache file
  named after the model's key promises and the data files' paths, sizes and modification
  times: a query finds it while the files are unchanged, and a changed file or key measures
  again;
- for other engines (PostgreSQL, Spark, SQLite...), whose tables cannot be fingerprinted
  cheaply, in memory, once per session (a `Project`).

The cache folder is `$SEMANTIC_CACHE_DIR`, else `$XDG_CACHE_HOME/semantic`, else
`~/.cache/semantic`; a folder that cannot be written only means measuring again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from semantic.engines.base import Engine
from semantic.engines.duckdb import DuckDBEngine
from semantic.engines.integrity import KeyMeasure, measure_keys
from semantic.files.cache import cache_dir
from semantic.model import Model

#: changes when what is measured or how it is stored changes
_VERSION = 2


def cached_key_measures(
    model: Model, engine: Engine, memo: dict[int, list[KeyMeasure]]
) -> list[KeyMeasure]:
    """The key measures of the data `engine` reads: from `memo` (this session's), else from
    the cache file when the engine's data files are unchanged, else measured now (and
    kept in both)."""
    known = memo.get(id(engine))
    if known is not None:
        return known
    fingerprint = _fingerprint(engine)
    path = None
    if fingerprint is not None:
        digest = hashlib.sha256(
            json.dumps([_VERSION, _promises(model), fingerprint]).encode()
        ).hexdigest()
        path = cache_dir() / "keys" / f"{digest[:32]}.json"
        stored = _read(path)
        if stored is not None:
            memo[id(engine)] = stored
            return stored
    measures = measure_keys(model, engine.fetch, engine.dialect)
    memo[id(engine)] = measures
    if path is not None:
        _write(path, measures)
    return measures


def _promises(model: Model) -> list[Any]:
    """What the key measures depend on in the model: tables and keys, relationships, and the
    expressions of the metrics."""
    return [
        sorted(
            (e.id, e.table, list(e.primary_key), sorted(c for c in e.columns if e.not_null(c)))
            for e in model.entities.values()
        ),
        sorted(
            (
                e.source,
                e.name,
                e.target,
                e.cardinality,
                [list(k) for k in e.keys],
                e.declared,
                e.required,
            )
            for edges in model.edges.values()
            for e in edges
        ),
        sorted(
            (t.id, t.entity, t.expr.sql())
            for t in model.terms.values()
            if t.is_metric and t.entity is not None
        ),
    ]


def _fingerprint(engine: Engine) -> list[Any] | None:
    """The paths, sizes and modification times of the files holding the engine's data;
    None when its data is not in files (a server, an in-memory database)."""
    if not isinstance(engine, DuckDBEngine):
        return None
    if engine.data_dir is not None:
        files = sorted(
            engine.data_dir / f"{entity.table.split('.')[-1]}.{engine.fmt}"
            for entity in engine.model.entities.values()
        )
    elif engine.database not in ("", ":memory:"):
        files = [Path(engine.database)]
    else:
        return None
    found: list[list[Any]] = []
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            found.append([str(file.resolve()), None, None])
        else:
            found.append([str(file.resolve()), stat.st_size, stat.st_mtime_ns])
    return found


def _read(path: Path) -> list[KeyMeasure] | None:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [KeyMeasure(**{**row, "columns": tuple(row["columns"])}) for row in rows]
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _write(path: Path, measures: list[KeyMeasure]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps([asdict(m) for m in measures]), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass  # measured again next time
