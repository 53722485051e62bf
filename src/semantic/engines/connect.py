"""Open an engine by URL: `duckdb:`, `postgresql://...`, `spark:local[*]`, `sc://...`.

`duckdb` alone names the embedded engine too, since `url: duckdb:` unquoted is not YAML.

URLs may read environment variables (`${WAREHOUSE_PASSWORD}`), so a project's `engines:`
section names where its data lives without holding a secret; a password written in the file
itself is refused (SEM413). PostgreSQL also reads libpq's own variables (PGPASSWORD, ...).

>>> interpolate("postgresql://ann:${PASSWORD}@db/sales", {"PASSWORD": "s3cret"})
'postgresql://ann:s3cret@db/sales'
>>> engine_kind("spark://spark-master:7077"), engine_kind("duckdb")
('spark', 'duckdb')
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from semantic.engines.base import Engine
from semantic.errors import Diagnostic, Span, error, suggest
from semantic.model import Model
from semantic.progress import task

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: URL prefixes and the engine each opens
SCHEMES = {
    "duckdb:": "duckdb",
    "postgresql://": "postgres",
    "postgres://": "postgres",
    "spark:": "spark",
    "sc://": "spark",
}
#: the embedded engine's URL without its colon (`url: duckdb:` unquoted is a YAML error)
BARE_DUCKDB = "duckdb"


def interpolate(url: str, environ: Mapping[str, str] | None = None) -> str:
    """`url` with each `${VAR}` replaced by the environment variable's value (SEM410 when
    one is not set)."""
    env = os.environ if environ is None else environ

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise error(
                "SEM410",
                f"the engine URL reads ${{{name}}}, but the environment variable {name} is not set",
                None,
                f"export {name}=... before running semantic",
            )
        return env[name]

    return _VARIABLE.sub(value, url)


def engine_kind(url: str) -> str:
    """Which engine a URL opens: duckdb, postgres or spark (SEM410 for anything else)."""
    if url == BARE_DUCKDB:
        return "duckdb"
    for prefix, kind in SCHEMES.items():
        if url.startswith(prefix):
            return kind
    raise error(
        "SEM410",
        f"unknown engine URL '{url}'",
        None,
        "write duckdb:, duckdb:///path/file.duckdb, postgresql://USER@HOST:PORT/DATABASE, "
        "spark:local[*], spark://HOST:7077 or sc://HOST:15002",
    )


def duckdb_database(url: str) -> str:
    """The database a DuckDB URL opens: a file's path, or `:memory:`.

    >>> duckdb_database("duckdb:///srv/w.duckdb"), duckdb_database("duckdb")
    ('/srv/w.duckdb', ':memory:')
    """
    if url == BARE_DUCKDB:
        return ":memory:"
    return url.removeprefix("duckdb:").removeprefix("//") or ":memory:"


def open_engine(
    url: str,
    model: Model,
    data: str | Path | None,
    fmt: str = "parquet",
    *,
    write: bool = False,
    storage_version: str | None = None,
) -> Engine:
    """The engine `url` names, connected, for `model` whose data files (for DuckDB and
    Spark) are in `data` as `<table>.<fmt>`. A DuckDB file with no `data` holds the tables
    themselves: it is opened read-only unless the caller is to `write` (publish views). A
    DuckDB file created is in the storage format of `storage_version` (see
    `engines.duckdb.DEFAULT_STORAGE_VERSION` when None)."""
    url = interpolate(url)
    kind = engine_kind(url)
    if kind == "postgres":
        from semantic.engines.postgres import PostgresEngine, redact

        with task(f"connecting to {redact(url)}"):
            return PostgresEngine(model, url)
    if kind == "duckdb" and data is None and duckdb_database(url) != ":memory:":
        from semantic.engines.duckdb import DuckDBEngine, storage_version_or_default

        return DuckDBEngine(
            model,
            None,
            fmt,
            database=duckdb_database(url),
            read_only=not write,
            storage_version=storage_version_or_default(storage_version),
        )
    if data is None:
        raise error(
            "SEM410",
            f"the {kind} engine reads the data files, and the project has no `data:` section",
            None,
            "add data: {dir: data} to semantic.yml, or data: to the engine"
            + (", or open a database file: duckdb:///path/file.duckdb" if kind == "duckdb" else ""),
        )
    if kind == "duckdb":
        from semantic.engines.duckdb import DuckDBEngine, storage_version_or_default

        return DuckDBEngine(
            model,
            Path(data),
            fmt,
            database=duckdb_database(url),
            storage_version=storage_version_or_default(storage_version),
        )
    from semantic.engines.spark import SparkEngine

    if url.startswith("sc://"):
        with task(f"connecting to Spark Connect at {url}"):
            return SparkEngine(model, data, fmt, remote=url)
    master = url.removeprefix("spark:") if not url.startswith("spark://") else url
    with task(f"starting Spark on {master or 'local[*]'}"):
        return SparkEngine(model, data, fmt, master=master or "local[*]")


def literal_password(url: str) -> str | None:
    """The password written in `url` itself (not read from a `${VAR}`), if any.

    >>> literal_password("postgresql://ann:${PW}@db/sales") is None
    True
    >>> literal_password("postgresql://ann@db/sales?password=s3cret")
    'password'
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return None
    if password and not _VARIABLE.fullmatch(password):
        return "password"
    for key, values in parse_qs(parts.query).items():
        if key.lower() == "password" and any(not _VARIABLE.fullmatch(v) for v in values):
            return key
    return None


def check_engines(engines: Mapping[str, tuple[str, bool, Span]]) -> list[Diagnostic]:
    """Problems of a project's `engines:` section, given each engine's URL, default flag and
    where its URL is written: a literal password (SEM413), an unknown URL or two defaults
    (SEM410)."""
    found: list[Diagnostic] = []
    defaults: list[str] = []
    for name, (url, default, span) in engines.items():
        if literal_password(url):
            found.append(
                Diagnostic(
                    "SEM413",
                    f"engine '{name}': the URL holds a password, and semantic.yml is shared in "
                    "version control",
                    span,
                    "write ${SOME_VARIABLE} in its place and export the variable, or leave it "
                    "out and set PGPASSWORD (or use ~/.pgpass)",
                )
            )
        # a whole URL from a variable is read later
        if url != BARE_DUCKDB and not url.startswith(("${", *SCHEMES)):
            found.append(
                Diagnostic(
                    "SEM410",
                    f"engine '{name}': unknown engine URL '{url}'",
                    span,
                    suggest(url.split(":")[0] + ":", SCHEMES)
                    or "write duckdb:, postgresql://..., spark:local[*], spark://... or sc://...",
                )
            )
        if default:
            defaults.append(name)
            if len(defaults) == 2:
                found.append(
                    Diagnostic(
                        "SEM410",
                        f"engines '{defaults[0]}' and '{name}' are both the default",
                        span,
                        "mark one engine `default: true`",
                    )
                )
    return found
