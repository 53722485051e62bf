"""What one statement a client sends means, and its answer: a business query as it is, SQL
over a virtual table (rewritten into the business query that answers it right), a catalog
query (answered by the catalog's DuckDB), or one of the session's commands (`SET`, `SHOW`,
`BEGIN`, `COMMIT`...). Everything else (DDL, DML, `COPY`) is refused: the endpoint is read
only (SEM465).

A statement with no table and no column (`SELECT 1`, `SELECT version()`) is the catalog's;
one with columns and no table is a business query; one over the glossary's tables is
rewritten; one over `pg_catalog` or `information_schema` is the catalog's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from semantic.compiler.params import ParamType, param_types
from semantic.errors import Span, error
from semantic.serve.config import Caller
from semantic.serve.pgwire.catalog import SCHEMA, SERVER_VERSION, Catalog, table_schemas
from semantic.serve.pgwire.rewrite import business_query, table_of
from semantic.serve.pgwire.tables import Table, find_table, refused, virtual_tables
from semantic.serve.pgwire.types import OIDS

if TYPE_CHECKING:
    import pyarrow as pa

    from semantic.serve.service import Service

log = logging.getLogger("semantic.serve.pgwire")
#: the schemas of the catalog
CATALOG_SCHEMAS = ("pg_catalog", "information_schema")
#: the settings a session starts with, as SHOW gives them (and the ParameterStatus sent)
SETTINGS = {
    "server_version": SERVER_VERSION,
    "server_version_num": "150000",
    "server_encoding": "UTF8",
    "client_encoding": "UTF8",
    "datestyle": "ISO, MDY",
    "intervalstyle": "postgres",
    "integer_datetimes": "on",
    "standard_conforming_strings": "on",
    "is_superuser": "off",
    "transaction_isolation": "read committed",
    "transaction isolation level": "read committed",
    "default_transaction_read_only": "on",
    "transaction_read_only": "on",
    "search_path": SCHEMA,
    "max_identifier_length": "63",
    "lc_collate": "C",
    "lc_ctype": "C",
}
_SET = re.compile(
    r"^\s*set\s+(?:session\s+|local\s+)?([\w.]+)\s*(?:=|\s+to\s+)\s*(.+?)\s*;?\s*$", re.I | re.S
)
_COMMANDS = {
    "begin": "BEGIN",
    "start": "START TRANSACTION",
    "commit": "COMMIT",
    "end": "COMMIT",
    "rollback": "ROLLBACK",
    "abort": "ROLLBACK",
    "reset": "RESET",
    "discard": "DISCARD ALL",
    "deallocate": "DEALLOCATE",
    "listen": "LISTEN",
    "unlisten": "UNLISTEN",
    "savepoint": "SAVEPOINT",
    "release": "RELEASE",
}
_QUERIES = ("select", "with", "values", "table", "(")
_PLACEHOLDER = re.compile(r"\$(\d+)")
#: the type OID a parameter is described with, by what the business query compares it with
PARAMETER_OIDS: dict[ParamType, int] = {
    "text": OIDS["text"],
    "number": OIDS["numeric"],
    "date": OIDS["date"],
    "timestamp": OIDS["timestamp"],
    "boolean": OIDS["bool"],
}
#: a value of each type, bound to describe a statement before its values are (as text: the
#: business query reads it as the type of what it meets)
_EXAMPLES: dict[ParamType, str] = {
    "text": "",
    "number": "1",
    "date": "2000-01-01",
    "timestamp": "2000-01-01 00:00:00",
    "boolean": "true",
}
SQL = Span("<query>", 1, 1)


@dataclass
class Result:
    """The answer of a statement: rows (an Arrow table, its columns named as the client sees
    them) or none, and the command tag of CommandComplete."""

    table: pa.Table | None
    tag: str


@dataclass
class Session:
    """One connection's state: who it is, its settings, its transaction."""

    service: Service
    caller: Caller
    database: str
    language: str
    settings: dict[str, str] = field(default_factory=lambda: dict(SETTINGS))
    #: I (idle), T (in a transaction), E (in a failed transaction)
    status: str = "I"

    def run(self, sql: str, params: Mapping[str, Any] | None = None) -> Result:
        """The answer of one statement (SemanticError when it has none)."""
        text = sql.strip().rstrip(";").strip()
        log.debug("pgwire: %s", text)
        if not text:
            return Result(None, "EMPTY")
        word = text.split(None, 1)[0].lower()
        if self.status == "E" and word not in ("rollback", "abort", "commit", "end"):
            raise error(
                "SEM465",
                "current transaction is aborted, commands ignored until end of transaction block",
                SQL,
                "ROLLBACK",
            )
        if word in _COMMANDS:
            return self.command(word)
        if word == "set":
            return self.set(text)
        if word == "show":
            return self.show(text)
        if not word.startswith(_QUERIES):
            raise error(
                "SEM465",
                f"{word.upper()} is not run here: the endpoint answers queries only (read only)",
                SQL,
                "send a SELECT: a business query, or SQL over the glossary's tables",
            )
        return self.query(text, params or {})

    def command(self, word: str) -> Result:
        tag = _COMMANDS[word]
        if word in ("begin", "start"):
            self.status = "T"
        elif tag in ("COMMIT", "ROLLBACK"):
            tag = "ROLLBACK" if self.status == "E" else tag
            self.status = "I"
        elif word == "discard":
            self.settings = dict(SETTINGS)
        return Result(None, tag)

    def set(self, text: str) -> Result:
        found = _SET.match(text)
        if found is not None:
            name, value = found.group(1).lower(), found.group(2).strip().strip("'\"")
            if name == "semantic.language":
                self.language = self.service.version.project.model.languages[0]
                if value in self.service.version.project.model.languages:
                    self.language = value
            self.settings[name] = value
        return Result(None, "SET")

    def show(self, text: str) -> Result:
        import pyarrow as pa

        name = text.split(None, 1)[1].strip().strip('"').lower() if " " in text else ""
        if name == "all":
            rows = sorted(self.settings.items())
            return Result(
                pa.table({"name": [r[0] for r in rows], "setting": [r[1] for r in rows]}),
                "SHOW",
            )
        value = self.settings.get(name, self.settings.get(name.replace(" ", "_"), ""))
        return Result(pa.table({name.split(".")[-1]: [value]}), "SHOW")

    def query(self, text: str, params: Mapping[str, Any]) -> Result:
        """A query: a business query, SQL over a virtual table, or the catalog's."""
        kind, business, names = self.route(text)
        if kind == "catalog":
            return self.catalog_query(text, params)
        answer = self.service.query(self.caller, business, params, surface="pgwire")
        if names is None:
            return _rows(answer.table)
        shown = answer.table.select(list(range(len(names))))
        return _rows(shown.rename_columns(names))

    def route(self, text: str) -> tuple[str, str, list[str] | None]:
        """Who answers a query: ("catalog", text, None), ("business", text, None), or
        ("table", the business query it is rewritten into, the names of its columns)."""
        try:
            tree = sqlglot.parse_one(text, read="postgres")
        except SqlglotError:
            tree = None
        if tree is None or not isinstance(tree, (exp.Query, exp.Select)):
            return "business", text, None
        names = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
        tables = [t for t in tree.find_all(exp.Table) if t.name.lower() not in names]
        if not tables:
            if any(_is_column(c) for c in tree.find_all(exp.Column)):
                return "business", text, None
            return "catalog", text, None
        catalog = [t for t in tables if _in_catalog(t)]
        if len(catalog) == len(tables):
            return "catalog", text, None
        if catalog:
            raise refused(
                "a query over the glossary's tables and the catalog at once",
                "ask them separately",
            )
        if not isinstance(tree, exp.Select) or table_of(tree) is None:
            found = self.tables()
            for t in tables:
                find_table(found, t.name)
            raise refused(
                "a set operation, join or subquery over the glossary's tables has no business "
                "query",
                "ask one table at a time: the compiler joins and groups",
            )
        rewritten = business_query(tree, self.tables())
        return "table", rewritten.text, list(rewritten.names)

    def describe(self, sql: str, declared: list[int]) -> tuple[list[int], Result]:
        """What a prepared statement's Describe answers before any value is bound: the type
        of each parameter (as the client declared it, else as the business query compares
        it: a number, a date..., else text) and the answer's columns. The statement is run
        with a value of each parameter's type (a NULL would make `metric * $1` a column of
        no type, and the rows then sent would not be what was described); a catalog query
        with NULLs."""
        text = sql.strip().rstrip(";").strip()
        count = max([len(declared), *(int(n) for n in _PLACEHOLDER.findall(text))])
        declared = declared + [0] * (count - len(declared))
        kinds: dict[str, ParamType] = {}
        word = text.split(None, 1)[0].lower() if text else ""
        routed = self.route(text) if word.startswith(_QUERIES) else ("command", text, None)
        if routed[0] in ("business", "table"):
            project = self.service.version.project
            parsed = project.parse(routed[1], self.caller.role, self.caller.user)
            kinds = {k: v[0] for k, v in param_types(project.model, parsed).items()}
        oids = [d or PARAMETER_OIDS[kinds.get(str(i), "text")] for i, d in enumerate(declared, 1)]
        values: dict[str, Any] = {str(i): None for i in range(1, count + 1)}
        if routed[0] in ("business", "table"):
            values = {str(i): _EXAMPLES[kinds.get(str(i), "text")] for i in range(1, count + 1)}
        return oids, self.run(sql, values)

    def catalog_query(self, text: str, params: Mapping[str, Any]) -> Result:
        """A query over `pg_catalog` or `information_schema`: the names, comments and types
        of the role's tables and columns, recorded as a `catalog` read when auditing is on
        (the terms are those of the tables the catalog lists)."""
        import duckdb

        from semantic.audit import recorded

        caller = self.caller
        with (
            self.service.request(caller, "pgwire") as version,
            recorded(
                version.project,
                "catalog",
                text=text,
                form="sql",
                role=caller.role,
                user=caller.user,
            ) as audit,
        ):
            audit["terms"] = list(dict.fromkeys(c.term for t in self.tables() for c in t.columns))
            return self._catalog_rows(text, params, duckdb)

    def _catalog_rows(self, text: str, params: Mapping[str, Any], duckdb: Any) -> Result:
        try:
            return _rows(self.catalog().run(text, params))
        except (duckdb.Error, SqlglotError) as exc:
            log.info("pgwire: catalog query not answered: %s\n%s", exc, text)
            raise error(
                "SEM347",
                f"the catalog query cannot be answered: {str(exc).splitlines()[0]}",
                SQL,
                "the endpoint answers information_schema and the pg_catalog queries of "
                "psql, psycopg, SQLAlchemy and BI tools' drivers (docs/serve.md)",
            ) from None

    def tables(self) -> list[Table]:
        """The virtual tables of this session's role and language (kept by the version)."""
        version = self.service.version
        key = ("pgwire-tables", self.caller.cache_key(), self.language)
        found = version.kept.get(key)
        if found is None:
            found = version.kept[key] = virtual_tables(
                version.project.model, self.caller.role, self.language
            )
        return list(found)

    def catalog(self) -> Catalog:
        """The catalog of this session's role and language (kept by the version)."""
        version = self.service.version
        key = ("pgwire-catalog", self.caller.cache_key(), self.language)
        found = version.kept.get(key)
        if found is None:
            tables = self.tables()
            schemas = table_schemas(tables, self.columns_of)
            found = version.kept[key] = Catalog(tables, schemas)
        return found  # type: ignore[no-any-return]

    def columns_of(self, table: Table) -> pa.Schema:
        """The types of a table's columns: those of the empty answer of its rows."""
        query = sqlglot.parse_one(f'SELECT * FROM "{table.id}" LIMIT 0', read="postgres")
        assert isinstance(query, exp.Select)
        rewritten = business_query(query, [table])
        answer = self.service.query(self.caller, rewritten.text, surface="pgwire")
        return answer.table.schema


def _rows(table: pa.Table) -> Result:
    return Result(table, f"SELECT {table.num_rows}")


def _in_catalog(table: exp.Table) -> bool:
    schema = table.db.lower()
    return schema in CATALOG_SCHEMAS or (not schema and table.name.lower().startswith("pg_"))


def _is_column(node: exp.Column) -> bool:
    """A name that is no function written without parentheses (`current_schema`)."""
    return node.name.lower() not in ("current_schema", "current_user", "session_user", "user")
