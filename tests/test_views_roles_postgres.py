"""Views published for a role on a real PostgreSQL server (`semantic views apply --role`):
granted to the role's database role and to nothing else, read by that database role through
its own connection (its rows only, Europe's totals equal to hand-written SQL, masked values
masked, the source tables out of its reach), a missing database role refused before
anything is written (SEM445), and a grant that a replacement drops reported (SEM446).

Each test publishes into a schema of its own and creates the database roles it grants to;
both are dropped at the end (the test database is shared, and roles belong to the server).
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from semantic.engines.postgres import PostgresEngine
from semantic.errors import SemanticError
from semantic.model import Model
from semantic.outputs.publish import plan_publication, publish_views
from semantic.project import Project
from tests.compare import assert_same_rows
from tests.test_views_postgres import bi_rows

EUROPE = """
    SELECT c.* FROM customer AS c
    JOIN nation AS n ON c.c_nationkey = n.n_nationkey
    JOIN region AS r ON n.n_regionkey = r.r_regionkey
    WHERE r.r_name = 'EUROPE'
"""


@dataclasses.dataclass
class Reader:
    """A database role the test created, with the password to log in as it."""

    name: str
    password: str

    def rows(self, url: str, sql: str) -> list[tuple[Any, ...]]:
        """What the role reads through its own connection."""
        import psycopg

        conninfo = psycopg.conninfo.make_conninfo(url, user=self.name, password=self.password)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            return connection.execute(sql).fetchall()


@pytest.fixture
def schema(postgres_engine: PostgresEngine) -> Iterator[str]:
    name = f"roles_test_{uuid.uuid4().hex[:8]}"
    yield name
    postgres_engine.publish([f'DROP SCHEMA IF EXISTS "{name}" CASCADE'])


@pytest.fixture
def readers(postgres_engine: PostgresEngine, schema: str) -> Iterator[list[Reader]]:
    """Two database roles that may log in, dropped after the test's schema."""
    made = [Reader(f"bi_{uuid.uuid4().hex[:10]}", uuid.uuid4().hex) for _ in range(2)]
    postgres_engine.publish([f"CREATE ROLE {r.name} LOGIN PASSWORD '{r.password}'" for r in made])
    yield made
    postgres_engine.publish(
        [f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', *(f"DROP ROLE {r.name}" for r in made)]
    )


def granted_to(model: Model, role: str, database_role: str | None) -> Model:
    """`model` whose `role` grants its views to `database_role`."""
    found = dataclasses.replace(model.policy.role(role), database_role=database_role)
    policy = dataclasses.replace(model.policy, roles={**model.policy.roles, role: found})
    return dataclasses.replace(model, policy=policy)


def grants(url: str, schema: str, grantee: str) -> set[tuple[str, str]]:
    """(view, privilege) of each grant to `grantee` in `schema`, as the catalog lists them."""
    rows = bi_rows(
        url,
        "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
        f"WHERE table_schema = '{schema}' AND grantee = '{grantee}'",
    )
    return {(str(v), str(p)) for v, p in rows}


def test_the_views_of_a_role_are_granted_to_its_database_role(
    project: Project,
    postgres_engine: PostgresEngine,
    postgres_url: str,
    schema: str,
    readers: list[Reader],
) -> None:
    emea, other = readers
    model = granted_to(project.model, "emea_analyst", emea.name)
    plan = publish_views(model, postgres_engine, schema=schema, role="emea_analyst")
    views = {v.name for v in plan.views}
    assert grants(postgres_url, schema, emea.name) == {(v, "SELECT") for v in views}
    assert grants(postgres_url, schema, other.name) == set()
    (usage,) = bi_rows(
        postgres_url, f"SELECT has_schema_privilege('{emea.name}', '{schema}', 'USAGE')"
    )[0]
    assert usage is True
    # the database role reads Europe's rows, and totals that are Europe's
    assert emea.rows(postgres_url, f'SELECT count(*) FROM "{schema}".customer') == bi_rows(
        postgres_url, f"SELECT count(*) FROM ({EUROPE}) AS e"
    )
    assert emea.rows(
        postgres_url, f'SELECT DISTINCT customer_region FROM "{schema}".sales_by_customer'
    ) == [("EUROPE",)]
    hand = bi_rows(
        postgres_url,
        f"""
        SELECT make_date(extract(year FROM o.o_orderdate)::int, 1, 1), count(*),
               sum(l.net), sum(l.gross)
        FROM orders AS o
        JOIN ({EUROPE}) AS c ON o.o_custkey = c.c_custkey
        JOIN (SELECT l_orderkey, sum(l_extendedprice * (1 - l_discount)) AS net,
                     sum(l_extendedprice) AS gross
              FROM lineitem GROUP BY l_orderkey) AS l ON l.l_orderkey = o.o_orderkey
        WHERE o.o_orderstatus = 'F' GROUP BY 1
        """,
    )
    assert len(hand) >= 4
    assert_same_rows(
        emea.rows(postgres_url, f'SELECT * FROM "{schema}".yearly_sales'), hand, ordered=False
    )
    # and nothing else: not the source tables, not a view of the schema it was not granted
    import psycopg

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        emea.rows(postgres_url, "SELECT count(*) FROM customer")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other.rows(postgres_url, f'SELECT count(*) FROM "{schema}".customer')


def test_masked_values_are_masked_for_the_database_role(
    project: Project,
    postgres_engine: PostgresEngine,
    postgres_url: str,
    schema: str,
    readers: list[Reader],
) -> None:
    support = readers[0]
    model = granted_to(project.model, "support_agent", support.name)
    publish_views(model, postgres_engine, schema=schema, role="support_agent")
    shown = support.rows(
        postgres_url,
        "SELECT customer_key, customer_name, customer_phone, customer_address "
        f'FROM "{schema}".customer',
    )
    clear = {
        k: (n, p)
        for k, n, p in bi_rows(postgres_url, "SELECT c_custkey, c_name, c_phone FROM customer")
    }
    assert len(shown) == len(clear) == 1500
    for key, name, phone, address in shown:
        assert name == hashlib.md5(clear[key][0].encode()).hexdigest()
        assert phone == "****" + clear[key][1][-4:]
        assert address == "[redacted]"
    columns = [
        str(r[0])
        for r in bi_rows(
            postgres_url,
            "SELECT column_name FROM information_schema.columns "
            f"WHERE table_schema = '{schema}' AND table_name = 'customer'",
        )
    ]
    assert "customer_account_balance" not in columns  # restricted: above the clearance


def test_a_missing_database_role_stops_everything(
    project: Project, postgres_engine: PostgresEngine, postgres_url: str, schema: str
) -> None:
    """semantic creates no database role: SEM445 says how to, and nothing is written."""
    missing = f"nobody_{uuid.uuid4().hex[:8]}"
    model = granted_to(project.model, "analyst", missing)
    with pytest.raises(SemanticError) as caught:
        publish_views(model, postgres_engine, schema=schema, role="analyst")
    (found,) = caught.value.diagnostics
    assert found.code == "SEM445"
    assert found.message == (
        f"database role '{missing}' of role 'analyst' does not exist on the server: the views "
        "could not be granted to it"
    )
    assert f'CREATE ROLE "{missing}" NOLOGIN' in (found.hint or "")
    assert found.span is not None and found.span.file == "policies.yml"
    assert bi_rows(
        postgres_url, f"SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'"
    ) == [(0,)]


def test_a_grant_dropped_by_a_replacement_is_said(
    project: Project,
    postgres_engine: PostgresEngine,
    postgres_url: str,
    schema: str,
    readers: list[Reader],
) -> None:
    """Publishing another role's views into the same schema replaces the views, which drops
    their grants: the first role loses them (never the other role's rows in its place), and
    the plan says so for each view (SEM446)."""
    first, second = readers
    model = granted_to(project.model, "emea_analyst", first.name)
    model = granted_to(model, "analyst", second.name)
    publish_views(model, postgres_engine, schema=schema, role="emea_analyst")
    plan = plan_publication(model, postgres_engine, schema=schema, role="analyst")
    lost = [n for n in plan.notices if n.code == "SEM446"]
    assert len(lost) == len(plan.replaced) > 0
    assert lost[0].message == (
        f"replacing view '{schema}.{sorted(plan.replaced)[0]}' drops its SELECT grant to "
        f"'{first.name}', who will no longer read it"
    )
    publish_views(model, postgres_engine, schema=schema, role="analyst")
    assert grants(postgres_url, schema, first.name) == set()
    assert grants(postgres_url, schema, second.name) == {(v, "SELECT") for v in plan.replaced}
    # publishing the same role again: its own grants are given again, nothing is lost
    again = plan_publication(model, postgres_engine, schema=schema, role="analyst")
    assert not [n for n in again.notices if n.code == "SEM446"]


def test_a_role_without_a_database_role_grants_nothing(
    project: Project, postgres_engine: PostgresEngine, postgres_url: str, schema: str
) -> None:
    model = granted_to(project.model, "analyst", None)
    plan = publish_views(model, postgres_engine, schema=schema, role="analyst")
    assert [n.code for n in plan.notices] == ["SEM447"]
    assert "GRANT" not in plan.script()
    assert bi_rows(
        postgres_url,
        "SELECT count(*) FROM information_schema.role_table_grants "
        f"WHERE table_schema = '{schema}' AND grantee <> current_user",
    ) == [(0,)]


def test_default_privileges_that_give_a_role_s_views_to_another_are_said(
    project: Project,
    postgres_engine: PostgresEngine,
    postgres_url: str,
    schema: str,
    readers: list[Reader],
) -> None:
    """docs/views.md's default privileges for a BI reader, on the schema a role's views go
    to: that reader gets every new view, the role's included (SEM446); its earlier grants
    are given again, so they are not reported lost."""
    emea, reader = readers
    model = granted_to(project.model, "emea_analyst", emea.name)
    defaults = (
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT SELECT ON TABLES TO {reader.name}'
    )
    usage = f'GRANT USAGE ON SCHEMA "{schema}" TO {reader.name}'
    postgres_engine.publish([f'CREATE SCHEMA "{schema}"', usage, defaults])
    try:
        publish_views(project.model, postgres_engine, schema=schema)  # the owner's views
        plan = publish_views(model, postgres_engine, schema=schema, role="emea_analyst")
        found = [n.message for n in plan.notices if n.code == "SEM446"]
        assert found == [
            f"the default privileges of schema '{schema}' grant SELECT on each new view to "
            f"'{reader.name}': it will read the views of role 'emea_analyst' too"
        ]
        assert reader.rows(
            postgres_url, f'SELECT DISTINCT customer_region FROM "{schema}".sales_by_customer'
        ) == [("EUROPE",)]
    finally:
        postgres_engine.publish([defaults.replace("GRANT", "REVOKE").replace(" TO ", " FROM ")])
