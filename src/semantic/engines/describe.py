"""What a database says about itself, for `semantic init` (`semantic.interchange.database`):
its tables, columns and declared keys, read through `information_schema` with any engine's
`fetch`, so that the same code serves DuckDB, PostgreSQL and the others; the keys it does
not declare, guessed from names and confirmed on the data; and the databases `init` can
open read-only (a DuckDB file, a folder of files, an engine URL).

A key-like column (`id`, `*_id`, TPC-H's `*key`) that is unique and never null is a primary
key, and a column whose name points at another table's key (`customer_id` -> `customers.id`,
`o_custkey` -> `customer.c_custkey`) with no orphan value is a foreign key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import duckdb
from sqlglot import exp
from sqlglot.errors import SqlglotError

from semantic.compiler.dialects import to_sql
from semantic.engines.connect import duckdb_database, engine_kind, interpolate, literal_password
from semantic.errors import Span, error
from semantic.model import Model

__all__ = [
    "Catalog",
    "EngineSource",
    "Link",
    "PASSWORD_VARIABLE",
    "Source",
    "Table",
    "column_prefix",
    "duckdb_source",
    "engine_source",
    "file_type",
    "files_source",
    "guess_keys",
    "read_catalog",
]


class Source(Protocol):
    """What `init` needs of an engine: its dialect, rows of a query, and closing (every
    `Engine` has them)."""

    dialect: str

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of `sql`."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


@dataclass
class Table:
    """A table or view of the database: its columns (name -> type) and primary key."""

    schema: str
    name: str
    columns: dict[str, str]
    primary_key: tuple[str, ...] = ()
    key_guessed: bool = False
    #: the entity id of the table in the project
    id: str = ""


@dataclass(frozen=True)
class Link:
    """A foreign key from `source` columns to `target` columns; `guessed` when it comes from
    names (then `reason` says which)."""

    source: str
    target: str
    keys: tuple[tuple[str, str], ...]
    guessed: bool = False
    reason: str = ""


@dataclass
class Catalog:
    """What the database says about itself, then what `guess_keys` adds."""

    tables: dict[str, Table] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)


_SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", "pg_toast")


def _info(name: str) -> exp.Table:
    return exp.table_(name, db="information_schema")


def read_catalog(source: Source, schema: str | None = None) -> Catalog:
    """Tables, columns, primary keys and foreign keys declared in the database (in `schema`
    only, when given)."""
    where = (
        exp.column("table_catalog")
        .eq(exp.func("current_database"))
        .and_(exp.column("table_schema").isin(*_SYSTEM_SCHEMAS).not_())
    )
    if schema is not None:
        where = where.and_(exp.column("table_schema").eq(exp.Literal.string(schema)))
    columns = (
        exp.select(
            "table_schema",
            "table_name",
            "column_name",
            "data_type",
            "numeric_precision",
            "numeric_scale",
        )
        .from_(_info("columns"))
        .where(where)
        .order_by("table_schema", "table_name", "ordinal_position")
    )
    catalog = Catalog()
    rows = source.fetch(to_sql(columns, source.dialect))
    for table_schema, table_name, column, data_type, precision, scale in rows:
        key = f"{table_schema}.{table_name}"
        table = catalog.tables.setdefault(key, Table(table_schema, table_name, {}))
        table.columns[column] = file_type(str(data_type), precision, scale, source.dialect)
    if not catalog.tables:
        raise error(
            "SEM221",
            "the database has no tables" + (f" in schema '{schema}'" if schema else ""),
            None,
            _other_schemas(source)
            or "point init at a database or folder that holds the tables to describe",
        )
    # key columns of primary, unique and foreign key constraints, in key order
    usage = (
        exp.select(
            "k.constraint_name",
            "k.table_schema",
            "k.table_name",
            "k.column_name",
            "k.position_in_unique_constraint",
            "c.constraint_type",
        )
        .from_(_info("key_column_usage").as_("k"))
        .join(
            _info("table_constraints").as_("c"),
            on="k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema "
            "AND k.table_name = c.table_name",
        )
        .where(exp.column("table_catalog", "k").eq(exp.func("current_database")))
        .order_by("k.table_schema", "k.table_name", "k.constraint_name", "k.ordinal_position")
    )
    # constraints by schema-qualified name, then by table: PostgreSQL lets two tables have
    # foreign keys of one name, which the standard's information_schema cannot tell apart
    constraints: dict[str, dict[str, tuple[str, list[str]]]] = {}
    # a foreign key column's place in the key it references (it may list them in another order)
    places: dict[tuple[str, str, str], int] = {}
    rows = source.fetch(to_sql(usage, source.dialect))
    for name, table_schema, table_name, column, place, kind in rows:
        key, qualified = f"{table_schema}.{table_name}", f"{table_schema}.{name}"
        if place is not None:
            places[(qualified, key, str(column))] = int(place)
        entry = constraints.setdefault(qualified, {}).setdefault(key, (str(kind), []))
        entry[1].append(str(column))
    for by_table in constraints.values():
        for key, (kind, cols) in by_table.items():
            if kind == "PRIMARY KEY" and key in catalog.tables:
                catalog.tables[key].primary_key = tuple(cols)
    references = exp.select(
        "constraint_schema", "constraint_name", "unique_constraint_schema", "unique_constraint_name"
    ).from_(_info("referential_constraints"))
    targets: dict[str, set[str]] = {}
    for fk_schema, fk_name, uq_schema, uq_name in source.fetch(to_sql(references, source.dialect)):
        targets.setdefault(f"{fk_schema}.{fk_name}", set()).add(f"{uq_schema}.{uq_name}")
    for fk, unique in targets.items():
        referenced = constraints.get(unique.pop(), {}) if len(unique) == 1 else {}
        if len(referenced) != 1:
            continue  # foreign keys of one name to several keys: left to guessing
        ((target, (_, target_columns)),) = referenced.items()
        for key, (_, fk_columns) in constraints.get(fk, {}).items():
            if key not in catalog.tables or target not in catalog.tables:
                continue
            pairs = tuple(
                (column, target_columns[places.get((fk, key, column), i + 1) - 1])
                for i, column in enumerate(fk_columns)
            )
            catalog.links.append(Link(key, target, pairs))
    return catalog


def file_type(data_type: str, precision: Any, scale: Any, dialect: str) -> str:
    """A column type as the model files write it (DuckDB's spelling, lower case) from the
    type `information_schema` gives in `dialect`, with a decimal's precision and scale.

    >>> file_type("character varying", None, None, "postgres")
    'text'
    >>> file_type("numeric", 15, 2, "postgres"), file_type("DECIMAL(15,2)", 15, 2, "duckdb")
    ('decimal(15,2)', 'decimal(15,2)')
    >>> file_type("timestamp without time zone", None, None, "postgres")
    'timestamp'
    """
    if dialect == "duckdb":
        return data_type.lower()  # already the files' spelling
    try:
        kind = exp.DataType.build(data_type, dialect=dialect)
    except (SqlglotError, ValueError):
        return data_type.lower()
    if kind.this == exp.DataType.Type.DECIMAL and precision is not None and scale is not None:
        return f"decimal({int(precision)},{int(scale)})"
    text = to_sql(kind, "duckdb").lower()
    return text if text[:1].isalpha() else data_type.lower()  # ARRAY and the like as given


def _other_schemas(source: Source) -> str | None:
    """A hint naming the schemas that do have tables, when the one asked for has none."""
    schemas = (
        exp.select("table_schema")
        .distinct()
        .from_(_info("columns"))
        .where(
            exp.column("table_catalog")
            .eq(exp.func("current_database"))
            .and_(exp.column("table_schema").isin(*_SYSTEM_SCHEMAS).not_())
        )
        .order_by("table_schema")
    )
    found = [str(row[0]) for row in source.fetch(to_sql(schemas, source.dialect))]
    if not found:
        return None
    return f"its tables are in schema {', '.join(found)}: pass --schema {found[0]}"


# --- guessing keys from names, confirmed on the data -----------------------------------------


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith(("sses", "shes", "ches", "xes")):
        return name[:-2]
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def column_prefix(table: Table) -> str:
    """The prefix every column of the table shares, TPC-H style (`c_` of `c_custkey`), or ''."""
    heads = {c.split("_", 1)[0] for c in table.columns if "_" in c}
    if len(heads) == 1 and all("_" in c for c in table.columns):
        return heads.pop() + "_"
    return ""


def _stem(table: Table, column: str) -> str | None:
    """What a key-like column names (`customer` for customer_id, `cust` for o_custkey, the
    table's own singular name for `id`), or None for a column that is not key-like."""
    name = column.lower()
    prefix = column_prefix(table)
    if prefix and name.startswith(prefix):
        name = name[len(prefix) :]
    if name == "id":
        return _singular(table.name.lower())
    if name.endswith("_id"):
        return name[:-3]
    if name.endswith("key") and len(name) > 3:
        return name[:-3].rstrip("_")
    return None


#: a column that numbers the lines of a parent row
_LINE = re.compile(r"(line|_no$|number$|seq$|position$)")


def _unique(source: Source, table: Table, columns: Sequence[str]) -> bool:
    """Whether `columns` are never null and never repeat in the table's rows."""
    ref = exp.table_(table.name, db=table.schema, quoted=True)
    cols = [exp.column(c, quoted=True) for c in columns]
    distinct = (
        exp.select(*cols)
        .from_(ref)
        .where(exp.and_(*(c.is_(exp.null()).not_() for c in cols)))
        .distinct()
    )
    query = exp.select(
        exp.select(exp.func("count", exp.Star())).from_(ref).subquery().as_("total"),
        exp.select(exp.func("count", exp.Star()))
        .from_(distinct.subquery("d"))
        .subquery()
        .as_("keys"),
    )
    total, keys = source.fetch(to_sql(query, source.dialect))[0]
    return bool(total) and total == keys


def _orphans(source: Source, link: Link, tables: dict[str, Table]) -> int:
    """Rows of the link's source whose key has no match in its target."""
    src, dst = tables[link.source], tables[link.target]
    match = exp.and_(
        *(exp.column(b, "t", quoted=True).eq(exp.column(a, "s", quoted=True)) for a, b in link.keys)
    )
    exists = exp.Exists(
        this=exp.select("1")
        .from_(exp.table_(dst.name, db=dst.schema, quoted=True).as_("t"))
        .where(match)
    )
    query = (
        exp.select(exp.func("count", exp.Star()))
        .from_(exp.table_(src.name, db=src.schema, quoted=True).as_("s"))
        .where(
            exp.and_(
                *(exp.column(a, "s", quoted=True).is_(exp.null()).not_() for a, _ in link.keys),
                exp.Not(this=exists),
            )
        )
    )
    return int(source.fetch(to_sql(query, source.dialect))[0][0])


def guess_keys(source: Source, catalog: Catalog) -> None:
    """Add primary keys and foreign keys that names suggest and the data confirms, marked as
    guessed, to tables and links the database did not declare."""
    declared = {link.source for link in catalog.links}
    seen: dict[str, int] = {}
    for table in catalog.tables.values():
        for column in table.columns:
            seen[column.lower()] = seen.get(column.lower(), 0) + 1
    for table in catalog.tables.values():
        if table.primary_key:
            continue
        keyish = [c for c in table.columns if _stem(table, c) is not None]
        own = [c for c in keyish if _stem(table, c) == _singular(table.name.lower())]
        candidates: list[tuple[str, ...]] = [(c,) for c in own + keyish]
        # a table of two leading key columns is a link table: partsupp (ps_partkey, ps_suppkey)
        if len(keyish) == 2 and list(table.columns)[:2] == keyish:
            candidates.append(tuple(keyish))
        # a line of a parent: (l_orderkey, l_linenumber), (order_id, line_no)
        if keyish:
            candidates += [(keyish[0], c) for c in table.columns if _LINE.search(c.lower())]
        # a first column that other tables have too is likely the key they point at (isbn)
        first = next(iter(table.columns))
        if seen[first.lower()] > 1:
            candidates.append((first,))
        for columns in dict.fromkeys(candidates):
            if _unique(source, table, columns):
                table.primary_key, table.key_guessed = columns, True
                break
    stems: dict[tuple[str, ...], list[str]] = {}
    for key, table in catalog.tables.items():
        if table.primary_key:
            target = tuple(_link_stem(table, c) for c in table.primary_key)
            stems.setdefault(target, []).append(key)
    for key, table in catalog.tables.items():
        if key in declared:
            continue  # the database declares this table's foreign keys: trust it alone
        by_stem = {_link_stem(table, c): c for c in table.columns if c not in _pk(table)}
        by_stem.update(
            {_link_stem(table, c): c for c in table.primary_key if len(table.primary_key) > 1}
        )
        for target_stems, targets in stems.items():
            if not all(s in by_stem for s in target_stems):
                continue
            for target_key in targets:
                if target_key == key:
                    continue
                dst = catalog.tables[target_key]
                pairs = tuple(
                    (by_stem[s], c) for s, c in zip(target_stems, dst.primary_key, strict=True)
                )
                names = ", ".join(f"{a} -> {dst.name}.{b}" for a, b in pairs)
                link = Link(key, target_key, pairs, True, f"guessed from names: {names}")
                if _orphans(source, link, catalog.tables) == 0:
                    catalog.links.append(link)


def _link_stem(table: Table, column: str) -> str:
    """What a column names, to match a foreign key with a primary key: the stem of a
    key-like column, else the column's own name (`isbn` matches `isbn`)."""
    return _stem(table, column) or f"={column.lower()}"


def _pk(table: Table) -> tuple[str, ...]:
    return table.primary_key if len(table.primary_key) == 1 else ()


# --- sources ---------------------------------------------------------------------------------


class _DuckDBSource:
    """A read-only DuckDB connection that answers `fetch`: all `init` needs. (Running the
    project's queries is the engines' job.)"""

    dialect = "duckdb"

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of `sql`."""
        with self.connection.cursor() as cursor:
            return cursor.execute(sql).fetchall()

    def close(self) -> None:
        """Release the connection."""
        self.connection.close()


def duckdb_source(path: Path) -> Source:
    """A DuckDB database file, opened read-only (SEM221 when it cannot be)."""
    if not path.is_file():
        raise error(
            "SEM221",
            f"no DuckDB database at {path}",
            Span(str(path)),
            "give the path of an existing .duckdb file",
        )
    try:
        return _DuckDBSource(duckdb.connect(str(path), read_only=True))
    except duckdb.Error as exc:
        raise error(
            "SEM221",
            f"cannot open {path}: {str(exc).splitlines()[0]}",
            Span(str(path)),
            "is it a DuckDB database, and not opened for writing by another program?",
        ) from None


def files_source(folder: Path) -> tuple[Source, str]:
    """A folder of parquet or CSV files as tables named after the files (in memory), and
    their format; SEM221 when the folder has none, or both kinds."""
    formats = {fmt: sorted(folder.glob(f"*.{fmt}")) for fmt in ("parquet", "csv")}
    found = [fmt for fmt, files in formats.items() if files]
    if len(found) != 1:
        raise error(
            "SEM221",
            f"{folder} holds "
            + ("no parquet or CSV file" if not found else "both parquet and CSV files"),
            Span(str(folder)),
            "give a folder of .parquet files, or one of .csv files (one file per table)",
        )
    fmt = found[0]
    connection = duckdb.connect()
    for path in formats[fmt]:
        reader = exp.func(f"read_{fmt}", exp.Literal.string(str(path)))
        view = exp.Create(
            this=exp.Table(this=exp.to_identifier(path.stem, quoted=True)),
            kind="VIEW",
            expression=exp.select("*").from_(reader),
        )
        connection.execute(to_sql(view, "duckdb"))
    return _DuckDBSource(connection), fmt


#: the schema `init --engine` reads when none is given, by engine
DEFAULT_SCHEMAS = {"duckdb": "main", "postgres": "public"}
#: the variable semantic.yml reads a PostgreSQL password from (libpq's own)
PASSWORD_VARIABLE = "PGPASSWORD"


@dataclass(frozen=True)
class EngineSource:
    """A database opened from an engine URL for `init` to read: its default schema, and the
    URL to write into the new semantic.yml, which never holds a password (`hidden_password`
    when one written in the URL was replaced by `${PGPASSWORD}`)."""

    source: Source
    schema: str
    url: str
    hidden_password: bool = False


def engine_source(url: str) -> EngineSource:
    """The database an engine URL names, opened read-only: a DuckDB file
    (`duckdb:///path/file.duckdb`) or PostgreSQL (`postgresql://...`); SEM221 for the engines
    that hold no tables of their own (in-memory DuckDB, Spark)."""
    resolved = interpolate(url)
    kind = engine_kind(resolved)
    if kind == "duckdb":
        database = duckdb_database(resolved)
        if database == ":memory:":
            raise error(
                "SEM221",
                "an in-memory DuckDB database has no tables to describe",
                None,
                "give a database file: --engine duckdb:///path/file.duckdb, or --from-files DIR",
            )
        path = Path(database).expanduser().resolve()
        return EngineSource(duckdb_source(path), DEFAULT_SCHEMAS[kind], f"duckdb://{path}")
    if kind == "postgres":
        from semantic.engines.postgres import PostgresEngine

        engine = PostgresEngine(_EMPTY_MODEL, resolved)
        # init only reads: the server refuses any write of this session
        engine.connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        shared = _without_password(url)
        return EngineSource(engine, DEFAULT_SCHEMAS[kind], shared, shared != url)
    raise error(
        "SEM221",
        f"init reads the tables of a DuckDB file or a PostgreSQL database, not of a {kind} engine",
        None,
        "Spark reads data files: scaffold from them with --from-files DIR",
    )


#: the model of an engine that only answers `fetch`
_EMPTY_MODEL = Model("init", ("en",), "duckdb", 1, {}, {}, {}, {}, {})


def _without_password(url: str) -> str:
    """`url` with a password written in it replaced by `${PGPASSWORD}`.

    >>> _without_password("postgresql://ann:s3cret@db/sales")
    'postgresql://ann:${PGPASSWORD}@db/sales'
    >>> _without_password("postgresql://ann@db/sales?sslmode=require&password=s3cret")
    'postgresql://ann@db/sales?sslmode=require&password=${PGPASSWORD}'
    """
    if literal_password(url) is None:
        return url
    variable = "${" + PASSWORD_VARIABLE + "}"
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        credentials, _, host = netloc.rpartition("@")
        netloc = f"{credentials.split(':', 1)[0]}:{variable}@{host}"
    query = "&".join(
        f"{key}={variable}" if key.lower() == "password" else f"{key}={value}"
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))
