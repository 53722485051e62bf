"""The history of quality results: a small DuckDB file, one row per rule per run.

`semantic quality` records each run (`record_run`); `semantic quality --history` reads it
back (`stored_history`), and the query gate reads the latest run of each rule on an engine
(`latest_results`). The file is created on the first run, at semantic.yml's
`quality: history:` (`.semantic/quality.duckdb` by default). Another process writing at the
same moment holds DuckDB's lock for a moment only: a writer waits for it a few seconds, then
gives up with SEM453 (the results were still measured and shown).

>>> import tempfile, datetime as dt
>>> path = Path(tempfile.mkdtemp()) / "history.duckdb"
>>> at = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
>>> record_run(path, [StoredResult(at, "duckdb:", "orders.positive", "orders", None,
...     "check", "validity", "error", 1.0, 4, 2, 0.5, False, True, None, None)])
>>> [(r.rule, r.score, r.passed) for r in latest_results(path, "duckdb:")]
[('orders.positive', 0.5, False)]
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from semantic.errors import error

if TYPE_CHECKING:
    # DuckDB is imported when the history is used, so that `semantic compile` (whose
    # project may gate queries) never pays for it
    import duckdb

#: how long a writer waits for another process's lock on the file
_WAIT = 5.0

_CREATE = """
CREATE TABLE IF NOT EXISTS quality_results (
    run_at TIMESTAMPTZ NOT NULL,
    engine VARCHAR NOT NULL,
    rule VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    term VARCHAR,
    kind VARCHAR NOT NULL,
    dimension VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    threshold DOUBLE NOT NULL,
    rows BIGINT,
    failing BIGINT,
    score DOUBLE,
    passed BOOLEAN NOT NULL,
    measured BOOLEAN NOT NULL,
    value VARCHAR,
    message VARCHAR
)
"""


@dataclass(frozen=True, slots=True)
class StoredResult:
    """One rule's result in one run, as the history keeps it. `rule` is the rule's key
    (`<term or entity>.<id>`); `engine` names where it was measured (an engine of
    semantic.yml, `duckdb:` for the embedded one, or a URL without its password)."""

    run_at: dt.datetime
    engine: str
    rule: str
    entity: str
    term: str | None
    kind: str
    dimension: str
    severity: str
    threshold: float
    rows: int | None
    failing: int | None
    score: float | None
    passed: bool
    measured: bool
    value: str | None
    message: str | None

    @property
    def fails(self) -> bool:
        """Whether the result stops what an error rule guards: failed or not measured."""
        return not self.passed


_COLUMNS = ", ".join(f.name for f in fields(StoredResult))


def record_run(path: Path, results: Sequence[StoredResult]) -> None:
    """Append one run's results to the history at `path` (created with its folder on the
    first run); SEM453 when the file cannot be written."""
    if not results:
        return
    marks = ", ".join("?" for _ in fields(StoredResult))
    with _connection(path, write=True) as connection:
        connection.execute(_CREATE)
        connection.executemany(
            f"INSERT INTO quality_results ({_COLUMNS}) VALUES ({marks})",
            [list(astuple(r)) for r in results],
        )


def latest_results(path: Path, engine: str) -> list[StoredResult]:
    """The latest result of each rule measured on `engine`; none when nothing was recorded
    (no file yet)."""
    if not path.exists():
        return []
    query = f"""
        SELECT {_COLUMNS} FROM quality_results WHERE engine = ?
        QUALIFY row_number() OVER (PARTITION BY rule ORDER BY run_at DESC) = 1
        ORDER BY rule
    """
    return _read(path, query, [engine])


def stored_history(path: Path, rule: str | None = None, limit: int = 1000) -> list[StoredResult]:
    """The recorded results, newest run first: of one rule (its key) or of every rule."""
    if not path.exists():
        return []
    where = "WHERE rule = ?" if rule is not None else ""
    query = f"SELECT {_COLUMNS} FROM quality_results {where} ORDER BY run_at DESC, rule LIMIT ?"
    return _read(path, query, [*([rule] if rule is not None else []), limit])


def _read(path: Path, query: str, params: list[object]) -> list[StoredResult]:
    with _connection(path, write=False) as connection:
        if not connection.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'quality_results'"
        ).fetchone()[0]:  # type: ignore[index]
            return []
        rows = connection.execute(query, params).fetchall()
    return [StoredResult(*row) for row in rows]


@contextmanager
def _connection(path: Path, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the history file, waiting a little for another writer's lock."""
    import duckdb

    deadline = time.monotonic() + _WAIT
    while True:
        try:
            if write:
                path.parent.mkdir(parents=True, exist_ok=True)
            connection = duckdb.connect(str(path), read_only=not write)
            break
        except (duckdb.IOException, OSError) as exc:
            locked = "lock" in str(exc).lower()
            if not locked or time.monotonic() > deadline:
                raise _unusable(path, exc) from None
            time.sleep(0.1)
        except duckdb.Error as exc:
            raise _unusable(path, exc) from None
    try:
        connection.execute("SET TimeZone = 'UTC'")
        yield connection
    except duckdb.Error as exc:
        raise _unusable(path, exc) from None
    finally:
        connection.close()


def _unusable(path: Path, exc: BaseException) -> Exception:
    return error(
        "SEM453",
        f"the quality history {path} cannot be used: {str(exc).strip().splitlines()[0]}",
        None,
        "check the file is a DuckDB file that this user may write (semantic.yml "
        "`quality: history:` names it), and that no other program holds it open",
    )
