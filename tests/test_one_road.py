"""Every SQL text written for an engine goes through `semantic.compiler.dialects.to_sql`.

`to_sql` runs the dialect pass that keeps DuckDB's meaning (or refuses with SEM316). A
direct `tree.sql(dialect)` skips it: a view said `DAY_OF_WEEK(...)` in PostgreSQL where the
compiled query said `EXTRACT(DOW ...)`. This test reads the source: a `.sql(...)` call may
write the glossary's own language (FILE_DIALECT, QUERY_DIALECT: YAML expressions, business
queries, messages), or be one of the few listed below; any other is a bypass.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "semantic"

#: dialect arguments that write the glossary's language, not an engine's
GLOSSARY_DIALECTS = {"FILE_DIALECT", "QUERY_DIALECT"}

#: (module, function) -> why its `.sql(...)` call is not a tree written for an engine
ALLOWED = {
    ("compiler.dialects.core", "to_sql"): "the one road itself",
    ("compiler.refs", "show"): "a business query in its own language (QUERY_DIALECT's "
    "dialect object, made once)",
    ("compiler.allow", "_check_node"): "the analyst's expression, shown in a refusal",
    ("compiler.allow", "_check_condition"): "the analyst's expression, shown in a refusal",
    ("compiler.allow", "_check_type"): "the analyst's expression, shown in a refusal",
    ("compiler.dialects.functions", "_integer_cast"): "the DuckDB expression, in a SEM316 message",
    ("compiler.dialects.dates", "interval_shift"): "the DuckDB expression, in a SEM316 message",
    ("engines.duckdb", "execute"): "DuckDB's own cursor.sql runs the text",
    ("engines.spark", "execute"): "Spark's session.sql runs the text",
    ("engines.spark", "fetch"): "Spark's session.sql runs the text",
    ("engines.postgres", "_positional"): "renumbers the placeholders of SQL already written",
    ("interchange.osi_export", "_ansi"): "an OSI file's expression text, for other tools to read",
    ("interchange.database", "_column_expr"): "a column as a glossary expression, written in YAML",
    ("serve.pgwire.catalog", "for_duckdb"): "a client's catalog query, run on the in-memory "
    "catalog of the wire endpoint: plain transpiling, no business query's meaning to keep",
    ("serve.pgwire.catalog", "_cast"): "a type name of a client's catalog query, compared",
    ("serve.pgwire.catalog", "run"): "DuckDB's own connection.sql runs the catalog query",
}


def _bypasses(path: Path) -> list[str]:
    module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
    tree = ast.parse(path.read_text())
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        for call in ast.walk(function):
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "sql"
            ):
                continue
            receiver = call.func.value
            if isinstance(receiver, ast.Name) and receiver.id == "self":
                continue  # a method of our own called sql (dbt_import, osi), not sqlglot's
            dialect = call.args[0] if call.args else None
            for keyword in call.keywords:
                if keyword.arg == "dialect":
                    dialect = keyword.value
            if dialect is None:
                continue  # generic SQL: a message or a name, never run
            if isinstance(dialect, ast.Name) and dialect.id in GLOSSARY_DIALECTS:
                continue
            if (module, function.name) in ALLOWED:
                continue
            found.append(
                f"src/semantic/{path.relative_to(PACKAGE)}:{call.lineno} in {function.name}: "
                f"{ast.unparse(call)[:80]}"
            )
    return found


def test_every_sql_text_for_an_engine_goes_through_to_sql() -> None:
    found = [b for path in sorted(PACKAGE.rglob("*.py")) for b in _bypasses(path)]
    assert not found, "write SQL with semantic.compiler.dialects.to_sql, not .sql():\n" + "\n".join(
        found
    )


def test_the_allow_list_names_functions_that_exist() -> None:
    """An entry that no longer matches anything would allow the next bypass silently."""
    for module, name in ALLOWED:
        path = PACKAGE / (module.replace(".", "/") + ".py")
        nodes = ast.walk(ast.parse(path.read_text()))
        functions = {n.name for n in nodes if isinstance(n, ast.FunctionDef)}
        assert name in functions, f"{module}.{name} is allowed but does not exist"
