"""Publishing the views through an engine: read what the schema holds, measure the data's
quality, then run the DDL of the `views` plan in one transaction.

Nothing is written to the target before the quality gate decided, per view, what may be
published (a view whose entities or terms fail an error rule is withheld, its previous
version kept: `outputs.quality.gate`), and everything the publication changes (copies of the
views' results, views, comments, drops) is changed in that one transaction: a statement that
fails (SEM417) leaves the target exactly as it was, and BI tools keep reading the previous
views.

A DuckDB file that the engine creates is in the storage format that the BI tools' DuckDB
drivers read (`engines.duckdb.DEFAULT_STORAGE_VERSION`, or the engine's `storage_version`);
one in a newer format is reported (SEM252), never converted.

On a DuckDB file published from data files, each view reads a copy of its own result, in
the file (see `views`): a BI tool opening the file reads what the views show and nothing
else. On a DuckDB file that holds the source tables, those tables stay readable, so a
publication that is to leave terms, rows or values out (`max_confidentiality`, a role's
clearance, filters or masks) is refused there (SEM437). A publication for a role grants its
views to the role's database role on PostgreSQL (`grants`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TypedDict, Unpack

import sqlglot
from sqlglot import exp

from semantic.compiler.dialects import to_sql
from semantic.engines.base import Engine
from semantic.errors import Diagnostic, SemanticError, error
from semantic.model import Model
from semantic.outputs.access import hidden_terms
from semantic.outputs.grants import Publication, check_grants
from semantic.outputs.quality import measure_all
from semantic.outputs.quality.gate import gate_plan
from semantic.outputs.views import (
    DATA_SUFFIX,
    DEFAULT_SCHEMA,
    SchemaObject,
    ViewPlan,
    plan_views,
)
from semantic.project import Project

#: What a schema holds, per dialect: name, kind ('view' or 'table') and comment of each
#: object. Comments are where the tool marks its views, and only the engines' own catalogs
#: have them (information_schema does not).
_CATALOG = {
    "duckdb": """
        SELECT view_name, 'view', comment FROM duckdb_views()
        WHERE schema_name = :schema AND database_name = COALESCE(:catalog, current_database())
          AND NOT internal
        UNION ALL
        SELECT table_name, 'table', comment FROM duckdb_tables()
        WHERE schema_name = :schema AND database_name = COALESCE(:catalog, current_database())
    """,
    "postgres": """
        SELECT c.relname, CASE WHEN c.relkind = 'v' THEN 'view' ELSE 'table' END,
               obj_description(c.oid, 'pg_class')
        FROM pg_catalog.pg_class AS c
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = :schema AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
    """,
}


#: Views of the file's `main` schema, with their SQL: earlier versions wrote one per entity
#: table there, over its data file, outside any publication
_MAIN_VIEWS = """
    SELECT view_name, sql FROM duckdb_views()
    WHERE schema_name = 'main' AND database_name = :catalog AND NOT internal
"""


def read_schema(engine: Engine, schema: str, catalog: str | None = None) -> list[SchemaObject]:
    """The tables and views of `schema` in the engine's database (or in its attached
    `catalog`, DuckDB), with their comments."""
    tree = sqlglot.parse_one(_catalog(engine), read=engine.dialect)
    where = exp.null() if catalog is None else exp.Literal.string(catalog)
    query = exp.replace_placeholders(tree, schema=schema, catalog=where)
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


class PlanOptions(TypedDict, total=False):
    """The choices of a publication, as `plan_publication` takes them (`publish_views` passes
    them on)."""

    schema: str
    language: str | None
    max_confidentiality: str | None
    role: str | None
    user: Mapping[str, str] | None


def plan_publication(
    model: Model,
    engine: Engine,
    *,
    schema: str = DEFAULT_SCHEMA,
    language: str | None = None,
    max_confidentiality: str | None = None,
    role: str | None = None,
    user: Mapping[str, str] | None = None,
) -> ViewPlan:
    """What publishing to `engine` would do: the views over its current schema's tables, and
    the owned views of `schema` to replace or drop (see `views.plan_views`), for `role` (its
    `database_role` must exist on PostgreSQL: SEM445). Changes nothing."""
    _catalog(engine)
    ((source_schema,),) = engine.fetch("SELECT current_schema()")
    # the DuckDB engine's layout (`engines.duckdb`), read by attribute so that an engine
    # wrapped by a caller is published alike
    duck = engine.dialect == "duckdb"
    copy = duck and bool(getattr(engine, "data_files", None))
    target: str | None = getattr(engine, "target", None) if duck else None
    if duck and not copy:
        _refuse_hiding_in_place(model, engine, max_confidentiality, role)
    source_catalog = None
    if copy:
        ((source_catalog,),) = engine.fetch("SELECT current_database()")
    plan = plan_views(
        model,
        dialect=engine.dialect,
        source_schema=str(source_schema),
        schema=schema,
        language=language,
        existing=read_schema(engine, schema, target),
        max_confidentiality=max_confidentiality,
        copy=copy,
        source_catalog=None if source_catalog is None else str(source_catalog),
        catalog=target,
        existing_data=read_schema(engine, schema + DATA_SUFFIX, target) if copy else (),
        stale=_stale_views(engine) if copy else (),
        role=role,
        user=user,
    )
    publication = Publication(plan.schema, plan.role, plan.grantee, plan.replaced, bool(plan.views))
    grants = check_grants(model, engine, publication)
    plan = dataclasses.replace(plan, notices=(*plan.notices, *grants))
    # SEM252: a DuckDB file in a storage format newer than the BI tools' drivers read
    storage = getattr(engine, "storage_warning", None)
    if duck and storage is not None and (warning := storage()) is not None:
        plan = dataclasses.replace(plan, notices=(*plan.notices, warning))
    return plan


def _refuse_hiding_in_place(
    model: Model, engine: Engine, level: str | None, role: str | None = None
) -> None:
    """SEM437 when terms, rows or values are to be left out of a DuckDB file that holds the
    source tables: DuckDB has no privileges, so whoever opens the file reads every column
    and row of them."""
    hidden = hidden_terms(model, level, role)
    found = model.policy.role(role) if role is not None else None
    database = getattr(engine, "database", ":memory:")
    if database == ":memory:":
        return
    if hidden:
        option = f"--max-confidentiality {level}" if level is not None else f"--role {role}"
        what = f"hide '{hidden[0]}' (and {len(hidden) - 1} more term(s))"
    elif found is not None and (found.filters or found.masks):
        option = f"--role {role}"
        what = "keep rows or values of the tables from the role (its filters and masks)"
    else:
        return
    raise error(
        "SEM437",
        f"{option} cannot {what} in {database}: the file holds the source tables, and a BI "
        "tool that opens it reads every column of them",
        None,
        "publish from the data files into a file of its own (an engine with `data:`), whose "
        "views read copies of their results only; or publish to PostgreSQL and grant the BI "
        "role the views' schema only",
    )


def _stale_views(engine: Engine) -> list[str]:
    """The views over the data files that earlier versions wrote into the file's `main`
    schema (`main.<table>` reading `<data>/<table>.<format>`): they show every column."""
    target, files = getattr(engine, "target", None), getattr(engine, "data_files", {})
    if target is None:
        return []
    tree = sqlglot.parse_one(_MAIN_VIEWS, read="duckdb")
    query = exp.replace_placeholders(tree, catalog=exp.Literal.string(target))
    found = dict(engine.fetch(to_sql(query, "duckdb")))
    stale = []
    for table, path in files.items():
        name = table.split(".")[-1]
        text = str(found.get(name) or "")
        if "SELECT * FROM read_" in text and f"'{path}'" in text:
            stale.append(name)
    return stale


def gated_plan(
    model: Model,
    engine: Engine,
    *,
    check_quality: bool = True,
    force: bool = False,
    **options: Unpack[PlanOptions],
) -> ViewPlan:
    """What publishing to `engine` would do (`plan_publication`), once the quality gate
    decided per view (`outputs.quality.gate`): with `check_quality`, every rule is
    measured on the engine's data and the views whose entities or terms fail an error rule
    are withheld (or, with `force`, published with a warning in their comment). Changes
    nothing. SEM415 when the rules cannot be measured at all."""
    plan = plan_publication(model, engine, **options)
    if not check_quality:
        return plan
    try:
        results = measure_all(model, engine)
    except Exception as exc:  # a table the engine cannot read: the data is not known good
        reason = exc.diagnostics[0].message if isinstance(exc, SemanticError) else str(exc)
        raise error(
            "SEM415",
            f"the quality rules could not be measured: {reason.strip().splitlines()[0]}",
            None,
            "make the tables readable by this engine, or publish anyway with --skip-quality",
        ) from None
    return gate_plan(model, plan, results, force=force)


def publish_views(
    model: Model,
    engine: Engine,
    *,
    check_quality: bool = True,
    force: bool = False,
    **options: Unpack[PlanOptions],
) -> ViewPlan:
    """Publish the declared views to `engine` in one transaction, dropping the owned views
    the glossary no longer declares; `options` are `plan_publication`'s. With
    `check_quality`, the views whose data fails an error quality rule are withheld, the
    version published before staying as it was (see `gated_plan`; `force` publishes them
    with a warning in their comment). Returns what was done: `plan.gated` lists the views
    withheld."""
    plan = gated_plan(model, engine, check_quality=check_quality, force=force, **options)
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
