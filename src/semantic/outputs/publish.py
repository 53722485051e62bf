"""Publishing the views through an engine: read what the schema holds, check the data's
quality, then run the DDL of the `views` plan in one transaction.

Either every view changes or none does: a statement that fails rolls the whole publication
back (SEM417) and BI tools keep reading the previous views.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlglot
from sqlglot import exp

from semantic.compiler.dialects import to_sql
from semantic.engines.base import Engine
from semantic.engines.integrity import check_keys
from semantic.errors import Diagnostic, SemanticError, error
from semantic.model import Model
from semantic.outputs.quality import measure_quality
from semantic.outputs.views import DEFAULT_SCHEMA, SchemaObject, ViewPlan, plan_views
from semantic.project import Project

#: What a schema holds, per dialect: name, kind ('view' or 'table') and comment of each
#: object. Comments are where the tool marks its views, and only the engines' own catalogs
#: have them (information_schema does not).
_CATALOG = {
    "duckdb": """
        SELECT view_name, 'view', comment FROM duckdb_views()
        WHERE schema_name = :schema AND database_name = current_database() AND NOT internal
        UNION ALL
        SELECT table_name, 'table', comment FROM duckdb_tables()
        WHERE schema_name = :schema AND database_name = current_database()
    """,
    "postgres": """
        SELECT c.relname, CASE WHEN c.relkind = 'v' THEN 'view' ELSE 'table' END,
               obj_description(c.oid, 'pg_class')
        FROM pg_catalog.pg_class AS c
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = :schema AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
    """,
}


def read_schema(engine: Engine, schema: str) -> list[SchemaObject]:
    """The tables and views of `schema` in the engine's database, with their comments."""
    tree = sqlglot.parse_one(_catalog(engine), read=engine.dialect)
    query = exp.replace_placeholders(tree, schema=schema)
    return [
        SchemaObject(str(name), str(kind), None if comment is None else str(comment))
        for name, kind, comment in engine.fetch(to_sql(query, engine.dialect))
    ]


def _catalog(engine: Engine) -> str:
    """The catalog query of the engine's dialect (SEM419 where views are not published)."""
    template = _CATALOG.get(engine.dialect)
    if template is None:
        raise error(
            "SEM419",
            f"views are published on DuckDB and PostgreSQL, not on '{engine.dialect}'",
            None,
            "publish to a DuckDB file or a PostgreSQL schema; other engines cannot replace "
            "views in one transaction",
        )
    return template


def plan_publication(
    model: Model,
    engine: Engine,
    *,
    schema: str = DEFAULT_SCHEMA,
    language: str | None = None,
    max_confidentiality: str | None = None,
) -> ViewPlan:
    """What publishing to `engine` would do: the views over its current schema's tables, and
    the owned views of `schema` to replace or drop (see `views.plan_views`). Changes
    nothing."""
    _catalog(engine)
    ((source_schema,),) = engine.fetch("SELECT current_schema()")
    return plan_views(
        model,
        dialect=engine.dialect,
        source_schema=str(source_schema),
        schema=schema,
        language=language,
        existing=read_schema(engine, schema),
        max_confidentiality=max_confidentiality,
    )


def quality_failures(model: Model, engine: Engine) -> list[Diagnostic]:
    """Why the data is not fit to publish (SEM415): quality rules below their threshold, and
    keys that the model says are unique but repeat (every total would be multiplied)."""
    found = []
    try:
        results = measure_quality(model, engine.fetch, engine.dialect)
        keys = check_keys(model, engine.fetch, engine.dialect)
    except Exception as exc:  # a check the engine cannot run: the data is not known good
        reason = exc.diagnostics[0].message if isinstance(exc, SemanticError) else str(exc)
        return [
            Diagnostic(
                "SEM415",
                f"the quality rules could not be measured: {reason.strip().splitlines()[0]}",
                None,
                "write the rule's check in SQL that this engine runs, or publish anyway with "
                "--skip-quality",
            )
        ]
    for result in results:
        if result.passed:
            continue
        rule = result.rule
        owner = model.terms.get(rule.term or "") or model.entities[rule.entity]
        found.append(
            Diagnostic(
                "SEM415",
                f"quality rule '{rule.id}' on '{rule.entity}' holds for {result.score:.1%} of "
                f"{result.rows} rows, below its threshold of {rule.threshold:.0%}",
                owner.span,
                "fix the data, lower the rule's threshold, or publish anyway with --skip-quality",
            )
        )
    for problem in keys:
        if problem.severity == "error":
            found.append(
                Diagnostic(
                    "SEM415",
                    f"{problem.code} {problem.message}",
                    problem.span,
                    "fix the data, or publish anyway with --skip-quality",
                )
            )
    return found


def publish_views(
    model: Model,
    engine: Engine,
    *,
    schema: str = DEFAULT_SCHEMA,
    language: str | None = None,
    check_quality: bool = True,
    max_confidentiality: str | None = None,
) -> ViewPlan:
    """Publish every declared view to `engine` in one transaction, dropping the owned views
    the glossary no longer declares; refused (SEM415) when the data fails its quality rules,
    unless `check_quality` is False. Returns what was done."""
    plan = plan_publication(
        model,
        engine,
        schema=schema,
        language=language,
        max_confidentiality=max_confidentiality,
    )
    if check_quality and (failures := quality_failures(model, engine)):
        raise SemanticError(failures)
    statements = plan.statements()
    try:
        engine.publish(statements)
    except SemanticError as exc:
        raise _not_published(exc.diagnostics[0].message) from None
    except Exception as exc:  # the engine's own error type: its message is what matters
        raise _not_published(str(exc).strip().splitlines()[0]) from None
    return plan


def _not_published(reason: str) -> SemanticError:
    return error(
        "SEM417",
        f"publishing the views failed, nothing was changed: {reason}",
        None,
        "the previous views still answer; fix the cause (rerun with --debug for details) "
        "and apply again",
    )


@contextmanager
def publication_engine(
    project: Project, name_or_url: str | None, *, write: bool
) -> Iterator[Engine]:
    """The engine to plan (`write` false) or publish (`write` true) `project`'s views on (see
    `Project.engine_for`); the project's engines are closed afterwards. The embedded
    in-memory engine serves for planning only: views there would vanish with the command
    (SEM419)."""
    try:
        target = project.engine_for(name_or_url, write=write)
        if write and getattr(target, "database", None) == ":memory:":
            raise SemanticError(
                Diagnostic(
                    "SEM419",
                    "views apply needs a database that outlives the command",
                    None,
                    "pass --engine duckdb:///path/file.duckdb or --engine postgresql://..., "
                    "or mark an engine of semantic.yml `default: true`",
                )
            )
        yield target
    finally:
        project.close()
