"""Who may read the published views, on the database's side: the grants of a publication for
a role (`semantic views apply --role`), checked against the server before anything runs.

A publication for a role grants `SELECT` on each of its views, and `USAGE` on their schema,
to the role's `database_role` (PostgreSQL); it creates no database role and revokes nothing.
What it finds and reports, before the DDL runs:

- SEM445 (an error): the database role does not exist; the hint says how to create it;
- SEM446 (a warning): what other database roles may read changes: a view it replaces was
  granted to another one, and replacing a view drops its grants, so that role loses it
  (granting it the new view would show it another role's rows and columns); or the schema's
  default privileges grant every new view to another one, which will read the role's views;
- SEM447 (a warning): the views are granted to no one, because the role has no
  `database_role` or the engine has no privileges (DuckDB: the file is what is shared).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from semantic.compiler.dialects import to_sql
from semantic.engines.base import Engine
from semantic.errors import Diagnostic, Span, error
from semantic.model import Model

#: the SELECT grants of each view of a schema, to anyone but its owner (PUBLIC included)
_GRANTS = """
    SELECT c.relname, COALESCE(r.rolname, 'PUBLIC')
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL aclexplode(c.relacl) AS a
    LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = a.grantee
    WHERE n.nspname = :schema AND c.relkind = 'v' AND a.privilege_type = 'SELECT'
      AND a.grantee <> c.relowner
"""
_ROLE = "SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = :name"
#: who the publishing role's default privileges in a schema grant SELECT on new views to
_DEFAULTS = """
    SELECT COALESCE(r.rolname, 'PUBLIC')
    FROM pg_catalog.pg_default_acl AS d
    JOIN pg_catalog.pg_namespace AS n ON n.oid = d.defaclnamespace
    CROSS JOIN LATERAL aclexplode(d.defaclacl) AS a
    LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = a.grantee
    WHERE n.nspname = :schema AND d.defaclobjtype = 'r' AND a.privilege_type = 'SELECT'
      AND d.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
"""


def grant(privilege: str, kind: str, target: exp.Table, grantee: str) -> exp.Grant:
    """`GRANT privilege ON kind target TO grantee`: nothing else is created or revoked."""
    return exp.Grant(
        privileges=[exp.GrantPrivilege(this=exp.var(privilege))],
        kind=kind,
        securable=target,
        principals=[exp.GrantPrincipal(this=exp.to_identifier(grantee, quoted=True))],
    )


def _fetch(engine: Engine, template: str, **values: str) -> list[tuple[object, ...]]:
    tree = sqlglot.parse_one(template, read="postgres")
    literals = {k: exp.Literal.string(v) for k, v in values.items()}
    return engine.fetch(to_sql(exp.replace_placeholders(tree, **literals), "postgres"))


@dataclass(frozen=True, slots=True)
class Publication:
    """What `check_grants` needs of a publication's plan (`views.ViewPlan`)."""

    schema: str
    role: str | None
    grantee: str | None
    #: the owned views it replaces, and whether it publishes any view at all
    replaced: tuple[str, ...]
    views: bool


def check_grants(model: Model, engine: Engine, plan: Publication) -> list[Diagnostic]:
    """What the publication's grants will do that is worth a warning (SEM446, SEM447); SEM445
    when its database role does not exist on the server."""
    if plan.role is None:
        found: list[Diagnostic] = []
    elif engine.dialect != "postgres":
        span = model.policy.role(plan.role).span
        found = [_ungranted(plan, span, f"{engine.dialect} has no privileges to grant")]
    elif plan.grantee is None:
        span = model.policy.role(plan.role).span
        found = [_ungranted(plan, span, f"role '{plan.role}' has no `database_role`")]
    else:
        ((count,),) = _fetch(engine, _ROLE, name=plan.grantee)
        if not count:
            raise _no_database_role(model, plan.role, plan.grantee)
        found = []
    if engine.dialect != "postgres":
        return found
    # default privileges grant every new view again: those grants are kept, not lost
    defaults = {str(g) for (g,) in _fetch(engine, _DEFAULTS, schema=plan.schema)}
    if plan.role is not None and plan.views:
        found += [_by_default(plan, g) for g in sorted(defaults) if g != plan.grantee]
    replaced = set(plan.replaced)
    found += [
        _lost(plan, str(view), str(grantee))
        for view, grantee in sorted(_fetch(engine, _GRANTS, schema=plan.schema))
        if view in replaced and grantee != plan.grantee and grantee not in defaults
    ]
    return found


def _no_database_role(model: Model, role: str, grantee: str) -> Exception:
    return error(
        "SEM445",
        f"database role '{grantee}' of role '{role}' does not exist on the server: the "
        "views could not be granted to it",
        model.policy.role(role).span,
        f'semantic creates no database role: create it first (CREATE ROLE "{grantee}" '
        f'NOLOGIN; then GRANT "{grantee}" TO each user), or change `database_role` in '
        f"{model.policy.file}",
    )


def _lost(plan: Publication, view: str, grantee: str) -> Diagnostic:
    return Diagnostic(
        "SEM446",
        f"replacing view '{plan.schema}.{view}' drops its SELECT grant to '{grantee}', "
        f"who will no longer read it",
        None,
        "publish each role's views to a schema of their own (--schema), or grant the new "
        "view again yourself if that database role may read what it now shows",
        "warning",
    )


def _by_default(plan: Publication, grantee: str) -> Diagnostic:
    return Diagnostic(
        "SEM446",
        f"the default privileges of schema '{plan.schema}' grant SELECT on each new view to "
        f"'{grantee}': it will read the views of role '{plan.role}' too",
        None,
        "publish the role's views to a schema of their own (--schema), without default "
        "privileges for other database roles",
        "warning",
    )


def _ungranted(plan: Publication, span: Span, why: str) -> Diagnostic:
    return Diagnostic(
        "SEM447",
        f"the views for role '{plan.role}' are granted to no database role: {why}",
        span,
        "on PostgreSQL, name the role's `database_role` in the policy file; on DuckDB, "
        "share the file only with the role's users",
        "warning",
    )
