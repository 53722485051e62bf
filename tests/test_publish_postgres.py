"""Publication into PostgreSQL is atomic in every case, and a BI role granted the views'
schema reads nothing more than the views (issue #19, section 2).

Every check reads the schema as a BI tool does, through a connection of its own opened
after the publication was refused, failed or killed. Each test publishes into a schema of
its own (the test database is shared) and drops it afterwards.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from semantic.engines.postgres import PostgresEngine
from semantic.errors import SemanticError
from semantic.outputs.publish import plan_publication, publish_views
from semantic.project import Project
from tests.conftest import ROOT
from tests.test_views import FailingHalfway
from tests.test_views_postgres import bi_columns, bi_rows

Contents = dict[str, tuple[tuple[str, ...], Any]]


@pytest.fixture
def schema(postgres_engine: PostgresEngine) -> Iterator[str]:
    """A fresh schema name for the views, dropped with everything in it afterwards."""
    name = f"publish_test_{uuid.uuid4().hex[:8]}"
    yield name
    postgres_engine.publish([f'DROP SCHEMA IF EXISTS "{name}" CASCADE'])


def contents(url: str, schema: str) -> Contents:
    """Every table and view of `schema`: name -> (columns, (row count, digest of its rows)),
    or the error reading it gives."""
    import psycopg

    found: Contents = {}
    with psycopg.connect(url, autocommit=True) as connection:
        names = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            [schema],
        ).fetchall()
        for (name,) in names:
            columns = tuple(str(c) for c in bi_columns(url, schema, name))
            try:
                rows: Any = connection.execute(
                    "SELECT count(*), md5(string_agg(x::text, ',' ORDER BY x::text)) "
                    f'FROM "{schema}"."{name}" AS x'
                ).fetchall()
            except psycopg.Error as exc:
                rows = f"error: {str(exc).splitlines()[0]}"
            found[str(name)] = (columns, rows)
    return found


def tpch_with_a_failing_rule(tmp_path: Path) -> Project:
    """TPC-H with a quality rule that the data fails: orders above 200,000 are rare."""
    root = tmp_path / "tpch"
    root.mkdir()
    shutil.copy(ROOT / "semantic.yml", root / "semantic.yml")
    shutil.copytree(ROOT / "models", root / "models")
    shutil.copytree(ROOT / "glossary", root / "glossary")
    models = root / "models" / "tpch.yml"
    text = models.read_text()
    assert "        check: o_totalprice > 0\n" in text
    models.write_text(
        text.replace(
            "        check: o_totalprice > 0\n",
            "        check: o_totalprice > 200000\n        threshold: 0.99\n",
        )
    )
    return Project.load(root)


def test_a_refused_apply_leaves_the_schema_exactly_as_it_was(
    project: Project,
    postgres_engine: PostgresEngine,
    postgres_url: str,
    schema: str,
    tmp_path: Path,
) -> None:
    """The gate decides per view (issue #14): the views over orders, whose rule fails, are
    withheld and stay as they were; the others are published again, the same."""
    publish_views(project.model, postgres_engine, schema=schema)
    before = contents(postgres_url, schema)
    assert len(before) == 10
    failing = tpch_with_a_failing_rule(tmp_path)
    plan = publish_views(failing.model, postgres_engine, schema=schema)
    withheld = dict(plan.gated)
    assert set(withheld) == {"orders", "sales_by_customer", "yearly_sales"}
    assert all(
        "quality rule 'orders.total_price_is_positive' holds for" in why
        for why in withheld.values()
    )
    assert contents(postgres_url, schema) == before
    # a first publication creates only what passes
    other = f"{schema}_new"
    try:
        plan = publish_views(failing.model, postgres_engine, schema=other)
        created = contents(postgres_url, other)
        assert {name for name in created} == {v.name for v in plan.views}
        assert not set(withheld) & set(created) and "region" in created
    finally:
        postgres_engine.publish([f'DROP SCHEMA IF EXISTS "{other}" CASCADE'])


def test_a_failed_apply_leaves_the_schema_exactly_as_it_was(
    project: Project, postgres_engine: PostgresEngine, postgres_url: str, schema: str
) -> None:
    publish_views(project.model, postgres_engine, schema=schema)
    before = contents(postgres_url, schema)
    areas = {k: v for k, v in project.model.subject_areas.items() if k != "yearly_sales"}
    smaller = dataclasses.replace(project.model, subject_areas=areas)
    failing = FailingHalfway(postgres_engine)  # type: ignore[arg-type]
    with pytest.raises(SemanticError) as caught:
        publish_views(smaller, failing, schema=schema, language="fr")
    assert caught.value.code == "SEM417"
    assert sum(s.startswith(("CREATE VIEW", "DROP VIEW")) for s in failing.ran) >= 6
    assert contents(postgres_url, schema) == before


KILLED_PUBLICATION = """
import os, signal, sys
import psycopg
from semantic.engines.postgres import PostgresEngine
from semantic.outputs.publish import publish_views
from semantic.project import Project

project = Project.load(sys.argv[1])
engine = PostgresEngine(project.model, sys.argv[2])
limit, ran = int(sys.argv[4]), []
execute = psycopg.RawCursor.execute

def counted(cursor, query, *args, **kwargs):
    if str(query).startswith(("CREATE", "DROP", "COMMENT")):
        if len(ran) == limit:
            os.kill(os.getpid(), signal.SIGKILL)  # no rollback, no close: a crash
        ran.append(query)
    return execute(cursor, query, *args, **kwargs)

psycopg.RawCursor.execute = counted
publish_views(project.model, engine, schema=sys.argv[3], language="fr")
"""


def test_a_publication_killed_halfway_leaves_the_schema_as_it_was(
    project: Project,
    postgres_engine: PostgresEngine,
    postgres_url: str,
    schema: str,
    tmp_path: Path,
) -> None:
    """The publishing process dies inside the transaction: the server rolls it back."""
    publish_views(project.model, postgres_engine, schema=schema)
    before = contents(postgres_url, schema)
    statements = plan_publication(
        project.model, postgres_engine, schema=schema, language="fr"
    ).statements()
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(KILLED_PUBLICATION))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            str(ROOT),
            postgres_url,
            schema,
            str(len(statements) // 2),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert contents(postgres_url, schema) == before


def can_create_roles(url: str) -> bool:
    return bi_rows(url, "SELECT rolcreaterole FROM pg_roles WHERE rolname = current_user") == [
        (True,)
    ]


def test_a_bi_role_granted_the_views_schema_reads_only_the_views(
    project: Project, postgres_engine: PostgresEngine, postgres_url: str, schema: str
) -> None:
    """docs/views.md's grants: USAGE on the views' schema and SELECT on its views (by
    default privileges, since each apply creates them anew). With `--max-confidentiality
    internal`, that role reads the published columns and nothing of the source tables."""
    if not can_create_roles(postgres_url):
        pytest.skip("the test database's user may not create roles (CREATEROLE)")
    import psycopg

    role = f"bi_reader_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    postgres_engine.publish(
        [
            f"CREATE ROLE {role} LOGIN PASSWORD '{password}'",
            f'CREATE SCHEMA "{schema}"',
            f'GRANT USAGE ON SCHEMA "{schema}" TO {role}',
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT SELECT ON TABLES TO {role}',
        ]
    )
    try:
        publish_views(project.model, postgres_engine, schema=schema, max_confidentiality="internal")
        reader = psycopg.conninfo.make_conninfo(postgres_url, user=role, password=password)
        with psycopg.connect(reader, autocommit=True) as connection:
            columns = [
                c.name
                for c in connection.execute(
                    f'SELECT * FROM "{schema}".customer LIMIT 1'
                ).description
                or ()
            ]
            assert "customer_key" in columns and "customer_name" not in columns
            count = connection.execute(f'SELECT count(*) FROM "{schema}".customer').fetchone()
            assert count == (1500,)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute("SELECT c_name, c_phone, c_acctbal FROM customer")
    finally:
        postgres_engine.publish(
            [
                # DROP OWNED BY needs the role's own privileges: undo the grants one by one
                f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" REVOKE SELECT ON TABLES '
                f"FROM {role}",
                f'DROP SCHEMA IF EXISTS "{schema}" CASCADE',
                f"DROP ROLE {role}",
            ]
        )
