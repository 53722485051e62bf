"""The catalog a PostgreSQL client reads (`information_schema`, `pg_catalog`, `version()`,
`current_schema()`), answered by an in-memory DuckDB that holds one empty table per virtual
table, in schema `public`: business names as column names, definitions as comments. DuckDB
has its own `pg_catalog` and `information_schema`, so psql's `\\dt` and `\\d`, psycopg's and
SQLAlchemy's queries run there once a few PostgreSQL spellings are rewritten
(`OPERATOR(pg_catalog.~)`, `::regclass`, `pg_catalog.` before functions) and a few functions
DuckDB lacks are defined. A catalog table DuckDB does not have (`pg_policy`,
`pg_publication`...) is answered with no rows: there are no policies, publications nor
partitions to list.

One catalog is built per version of the project, role and language, and kept with the
version (a reload builds it anew).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from semantic.engines.cancel import stopping
from semantic.serve.pgwire.tables import Table

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

#: the version string clients read (SQLAlchemy parses the numbers after "PostgreSQL")
SERVER_VERSION = "15.0"
VERSION_TEXT = f"PostgreSQL {SERVER_VERSION} (semantic: business queries over the glossary)"
#: the schema the virtual tables are listed in (clients look there first)
SCHEMA = "public"
#: PostgreSQL's functions DuckDB lacks, as macros (the rewrite drops their `pg_catalog.`)
_MACROS = {
    "pg_get_userbyid(x)": "'semantic'",
    "pg_relation_is_publishable(x)": "false",
    "pg_get_statisticsobjdef_columns(x)": "NULL::VARCHAR",
    "pg_encoding_to_char(x)": "'UTF8'",
    "pg_get_partkeydef(x)": "NULL::VARCHAR",
    "pg_tablespace_location(x)": "''",
    "pg_get_viewdef(x, y := NULL)": "NULL::VARCHAR",
    "pg_get_constraintdef(x, y := NULL)": "NULL::VARCHAR",
    "pg_get_indexdef(x, y := NULL, z := NULL)": "NULL::VARCHAR",
    "pg_get_serial_sequence(x, y)": "NULL::VARCHAR",
    "pg_total_relation_size(x)": "0::BIGINT",
    "pg_relation_size(x)": "0::BIGINT",
    "to_regtype(x)": "NULL::INTEGER",
    "pg_backend_pid()": "0",
    "current_setting(x)": "NULL::VARCHAR",
    "pg_is_in_recovery()": "false",
    "pg_collation_is_visible(x)": "true",
    # a set-returning function of PostgreSQL (an index's columns, pgjdbc's getPrimaryKeys):
    # there are no indexes here, so its rows are never read
    "_pg_expandarray(a)": "{'x': a[1], 'n': 1}",
    # PostgreSQL's names of types (DuckDB's own format_type says varchar, int8...)
    "pg_format_type(t, m)": "CASE t WHEN 16 THEN 'boolean' WHEN 20 THEN 'bigint' "
    "WHEN 21 THEN 'smallint' WHEN 23 THEN 'integer' WHEN 25 THEN 'text' WHEN 700 THEN 'real' "
    "WHEN 701 THEN 'double precision' WHEN 1043 THEN 'character varying' "
    "WHEN 1114 THEN 'timestamp without time zone' WHEN 1184 THEN 'timestamp with time zone' "
    "WHEN 1083 THEN 'time without time zone' ELSE format_type(t, m) END",
    "array_upper(a, d)": "len(a)",
}
#: the catalog tables DuckDB lacks (read as empty: no policies, publications, partitions
#: nor triggers here), as their columns, or lacks a column of, as a query; each is read as a
#: subquery in their place, so that nothing more is listed in the catalog
_SHADOWS = {
    "pg_class": "SELECT * REPLACE (CAST(reloptions AS VARCHAR[]) AS reloptions), "
    "false AS relforcerowsecurity FROM pg_catalog.pg_class",
    # DuckDB's own schema, where nothing is listed
    "pg_namespace": "SELECT * FROM pg_catalog.pg_namespace WHERE nspname <> 'main'",
    # DuckDB's classoid is no object's: a comment on a table or a column is pg_class's
    "pg_description": "SELECT objoid, (SELECT oid FROM pg_catalog.pg_class "
    "WHERE relname = 'pg_class') AS classoid, objsubid, description "
    "FROM pg_catalog.pg_description",
    # PostgreSQL's settings that drivers read (pgjdbc: max_index_keys), not DuckDB's
    "pg_settings": "SELECT * FROM (VALUES ('max_index_keys', '32', NULL), "
    "('max_identifier_length', '63', NULL), ('server_version_num', '150000', NULL), "
    "('standard_conforming_strings', 'on', NULL), ('integer_datetimes', 'on', NULL)) "
    "AS s(name, setting, unit)",
    "pg_policy": "polname VARCHAR, polrelid BIGINT, polcmd VARCHAR, polpermissive BOOLEAN, "
    "polroles BIGINT[], polqual VARCHAR, polwithcheck VARCHAR",
    "pg_statistic_ext": "oid BIGINT, stxrelid BIGINT, stxnamespace BIGINT, stxname VARCHAR, "
    "stxkind VARCHAR[], stxstattarget INTEGER",
    "pg_publication": "oid BIGINT, pubname VARCHAR, puballtables BOOLEAN",
    "pg_publication_rel": "prpubid BIGINT, prrelid BIGINT, prqual VARCHAR, prattrs SMALLINT[]",
    "pg_publication_namespace": "pnpubid BIGINT, pnnspid BIGINT",
    "pg_inherits": "inhrelid BIGINT, inhparent BIGINT, inhseqno INTEGER, inhdetachpending BOOLEAN",
    "pg_trigger": "oid BIGINT, tgrelid BIGINT, tgname VARCHAR, tgisinternal BOOLEAN, "
    "tgenabled VARCHAR, tgparentid BIGINT, tgfoid BIGINT",
    "pg_rewrite": "oid BIGINT, rulename VARCHAR, ev_class BIGINT, ev_type VARCHAR",
    "pg_roles": "oid BIGINT, rolname VARCHAR",
    "pg_foreign_table": "ftrelid BIGINT, ftserver BIGINT, ftoptions VARCHAR[]",
    "pg_partitioned_table": "partrelid BIGINT, partstrat VARCHAR, partnatts SMALLINT",
    "pg_extension": "oid BIGINT, extname VARCHAR, extversion VARCHAR, extnamespace BIGINT",
    "pg_collation": "oid BIGINT, collname VARCHAR, collnamespace BIGINT",
    "pg_sequence": "seqrelid BIGINT, seqstart BIGINT, seqincrement BIGINT, seqmax BIGINT, "
    "seqmin BIGINT, seqcache BIGINT, seqcycle BOOLEAN",
    "pg_matviews": "schemaname VARCHAR, matviewname VARCHAR, definition VARCHAR",
}
_OPERATOR = re.compile(r"OPERATOR\s*\(\s*pg_catalog\s*\.\s*([~!<>=*+\-/]+)\s*\)", re.I)
_COLLATE = re.compile(r"\s+COLLATE\s+(pg_catalog\s*\.\s*)?\"?default\"?", re.I)
_MISSING = re.compile(r"Table with name (\w+) does not exist", re.I)


class Catalog:
    """An in-memory DuckDB holding the virtual tables' columns and comments."""

    def __init__(self, tables: Sequence[Table], schemas: Mapping[str, pa.Schema]):
        import duckdb

        self.lock = threading.Lock()
        self.connection: duckdb.DuckDBPyConnection = duckdb.connect()
        con = self.connection
        con.execute(f"CREATE SCHEMA {SCHEMA}")
        con.execute(f"SET search_path = '{SCHEMA}'")
        for signature, body in _MACROS.items():
            con.execute(f"CREATE MACRO {signature} AS {body}")
        for table in tables:
            _create(con, table, schemas[table.id])

    def run(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """The answer of a catalog query (PostgreSQL's SQL, rewritten for DuckDB), with its
        positional parameters (`$1` is `params["1"]`)."""
        import duckdb

        text = for_duckdb(sql)
        # one connection, one query at a time: a cursor would not keep the session's
        # database, search path and macros (catalog queries are small)
        with self.lock, stopping(self.connection.interrupt):
            try:
                values = [params[str(i)] for i in range(1, len(params) + 1)] if params else None
                found: pa.Table = self.connection.sql(text, params=values).to_arrow_table()
            except duckdb.CatalogException as exc:
                missing = _MISSING.search(str(exc))
                if missing and missing.group(1).lower().startswith("pg_"):
                    return _empty(sql)
                raise
        names = pg_names(sql)
        if names is not None and len(names) == found.num_columns:
            return found.rename_columns(names)
        return found

    def close(self) -> None:
        """Release the DuckDB connection."""
        self.connection.close()


def for_duckdb(sql: str) -> str:
    """PostgreSQL's catalog SQL as DuckDB runs it.

    >>> print(for_duckdb("SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname "
    ...     "OPERATOR(pg_catalog.~) '^(public)$' COLLATE pg_catalog.default"))
    ... # doctest: +NORMALIZE_WHITESPACE
    SELECT n.nspname FROM (SELECT * FROM pg_catalog.pg_namespace WHERE nspname <> 'main')
    AS n WHERE REGEXP_MATCHES(n.nspname, '^(public)$')
    """
    text = _COLLATE.sub("", _OPERATOR.sub(r"\1", sql))
    tree = sqlglot.parse_one(text, read="postgres")
    return tree.transform(_rewrite).sql(dialect="duckdb")


def _rewrite(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Table) and not isinstance(node.this, exp.Identifier):
        node.set("db", None)  # pg_catalog.unnest(...): a function, found unqualified
        return node
    if isinstance(node, exp.Table) and node.name.lower() in _SHADOWS:
        if node.db.lower() in ("", "pg_catalog"):
            return _shadow(node)
        return node
    if isinstance(node, exp.Column) and node.db.lower() == "pg_catalog":
        node.set("db", None)  # pg_catalog.pg_class.relname: the table is pg_class
        return node
    if isinstance(node, exp.CurrentVersion) or (
        isinstance(node, exp.Anonymous) and node.name.lower() == "version"
    ):
        return exp.Literal.string(VERSION_TEXT)
    # pg_catalog.f(x): DuckDB finds its own pg_catalog functions and our macros unqualified
    if (
        isinstance(node, exp.Dot)
        and isinstance(node.this, exp.Identifier)
        and node.this.name.lower() in ("pg_catalog", "information_schema")
        and isinstance(node.expression, exp.Func)
    ):
        return node.expression.transform(_rewrite)
    if isinstance(node, exp.Cast):
        return _cast(node)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "format_type":
        return exp.func("pg_format_type", *(e.transform(_rewrite) for e in node.expressions))
    if isinstance(node, exp.Anonymous) and node.name.lower() == "json_build_object":
        return exp.func("json_object", *(e.transform(_rewrite) for e in node.expressions))
    if isinstance(node, exp.Anonymous) and node.name.lower() == "pg_get_expr":
        # its `pretty` flag makes no difference here
        return exp.func("pg_get_expr", *(e.transform(_rewrite) for e in node.expressions[:2]))
    return node


def _shadow(table: exp.Table) -> exp.Expr:
    """A catalog table DuckDB lacks, as a subquery under the table's alias (or name)."""
    body = _SHADOWS[table.name.lower()]
    if not body.startswith("SELECT"):
        columns = [c.strip().split(" ", 1) for c in body.split(", ")]
        body = "SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in columns)
        body += " WHERE false"
    query = sqlglot.parse_one(body, read="duckdb")
    return exp.Subquery(
        this=query, alias=exp.TableAlias(this=exp.to_identifier(table.alias or table.name))
    )


def _cast(node: exp.Cast) -> exp.Expr:
    """Casts to PostgreSQL's object-identifier types, as lookups in DuckDB's catalog."""
    to = node.to.sql(dialect="postgres").lower().replace("pg_catalog.", "")
    inner = node.this.transform(_rewrite)
    if to == "regclass":
        if isinstance(inner, exp.Literal) and inner.is_string:
            name = inner.this.split(".")[-1].strip('"')
            return _lookup("oid", "pg_catalog.pg_class", "relname", exp.Literal.string(name))
        return _lookup("relname", "pg_catalog.pg_class", "oid", inner)
    if to == "regtype":
        return exp.func("format_type", inner, exp.null())
    if to == "regnamespace":
        return _lookup("nspname", "pg_catalog.pg_namespace", "oid", inner)
    if to in ("regproc", "regprocedure", "regrole", "regconfig"):
        return exp.cast(inner, "text")
    if to in ("oid", "regoper", "xid", "cid"):
        return exp.cast(inner, "bigint")
    if to == "name" or to.startswith("char") and not to.startswith("character"):
        return exp.cast(inner, "text")
    if "pg_catalog." in node.to.sql(dialect="postgres").lower():
        return exp.cast(inner, exp.DataType.build(to, dialect="postgres"))
    return node


def _lookup(column: str, table: str, key: str, value: exp.Expr) -> exp.Expr:
    found = sqlglot.parse_one(f"SELECT {column} FROM {table} WHERE {key} = 0", read="duckdb")
    found.find(exp.EQ).set("expression", value)  # type: ignore[union-attr]
    return exp.Subquery(this=found)


def pg_names(sql: str) -> list[str] | None:
    """The names PostgreSQL gives the columns of a query's answer (an alias, a column's
    name, a function's, `?column?`), when its select list has no star.

    >>> pg_names("SELECT 1, version(), pg_catalog.current_schema() AS s, c.relname FROM t c")
    ['?column?', 'version', 's', 'relname']
    """
    try:
        tree = sqlglot.parse_one(_COLLATE.sub("", _OPERATOR.sub(r"\1", sql)), read="postgres")
    except sqlglot.errors.SqlglotError:
        return None
    first = tree if isinstance(tree, exp.Select) else tree.find(exp.Select)
    if first is None or any(isinstance(e, exp.Star) or e.find(exp.Star) for e in first.expressions):
        return None
    return [_pg_name(e) for e in first.expressions]


def _pg_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Alias):
        return node.alias
    if isinstance(node, exp.Column):
        return node.name
    if isinstance(node, exp.Dot):
        return _pg_name(node.expression)
    if isinstance(node, exp.Cast):
        return (
            _pg_name(node.this) if not isinstance(node.this, exp.Literal) else node.to.sql().lower()
        )
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    if isinstance(node, exp.CurrentVersion):
        return "version"
    if isinstance(node, exp.Case):
        return "case"
    if isinstance(node, exp.Func):
        return (node.sql_names()[0] if node.sql_names() else node.key).lower()
    return "?column?"


def _empty(sql: str) -> pa.Table:
    """No rows, under the names of the query's select list (as text)."""
    import pyarrow as pa

    tree = sqlglot.parse_one(_COLLATE.sub("", _OPERATOR.sub(r"\1", sql)), read="postgres")
    first = tree if isinstance(tree, exp.Select) else tree.find(exp.Select)
    names = [e.alias_or_name or "?column?" for e in first.expressions] if first else []
    return pa.table({n or "?column?": pa.array([], pa.string()) for n in _unique(names)})


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    found = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        found.append(name if not count else f"{name}_{count}")
    return found


def _create(con: duckdb.DuckDBPyConnection, table: Table, schema: pa.Schema) -> None:
    """An empty table of `table`'s columns, typed as its answers are, with the comments."""
    import pyarrow as pa

    empty = pa.table(
        {c.name: pa.array([], schema.field(i).type) for i, c in enumerate(table.columns)}
    )
    con.register("empty_columns", empty)
    con.execute(f"CREATE TABLE {SCHEMA}.{_quoted(table.id)} AS SELECT * FROM empty_columns")
    con.unregister("empty_columns")
    name = f"{SCHEMA}.{_quoted(table.id)}"
    con.execute(f"COMMENT ON TABLE {name} IS {_string(table.comment)}")
    for column in table.columns:
        if column.comment:
            con.execute(
                f"COMMENT ON COLUMN {name}.{_quoted(column.name)} IS {_string(column.comment)}"
            )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_schemas(tables: Sequence[Table], answer: Any) -> dict[str, pa.Schema]:
    """Each table's Arrow schema, from `answer(table)`: the empty answer of its rows."""
    return {t.id: answer(t) for t in tables}
