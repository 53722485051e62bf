"""Access policies: what a role reads is exactly what the owner would read on data from which
the role's hidden rows were deleted, never a term above its clearance, never a masked value in
clear; every way around the rules is refused with a code.

The oracle is hand-written: for each role, views named like the TPC-H tables keep only the
rows it may read (the scope rule of docs/governance.md written out by hand: customers of the
region, their orders, the lines of those orders; parts, suppliers, nations untouched), and the
owner's SQL of the same query runs on them. Generated queries (hypothesis, bounded and
derandomized) cover each shipped role on DuckDB; a fixed set runs on PostgreSQL too when
SEMANTIC_TEST_POSTGRES is set.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from semantic.engines.postgres import PostgresEngine
from semantic.errors import SemanticError
from semantic.project import Project
from tests.budget import examples
from tests.compare import same_value
from tests.projects import write_project

TABLES = ("customer", "orders", "lineitem", "nation", "region", "part", "partsupp", "supplier")
REGION = (
    "SELECT c.* FROM base.customer c JOIN base.nation n ON c.c_nationkey = n.n_nationkey "
    "JOIN base.region r ON n.n_regionkey = r.r_regionkey WHERE r.r_name = 'EUROPE'"
)
NATION = (
    "SELECT c.* FROM base.customer c JOIN base.nation n ON c.c_nationkey = n.n_nationkey "
    "WHERE n.n_name = 'FRANCE'"
)
#: role -> (caller's attributes, the customers it may read, by hand); None: every row
ROLES: dict[str, tuple[dict[str, str], str | None]] = {
    "analyst": ({}, None),
    "emea_analyst": ({}, REGION),
    "country_manager": ({"nation": "FRANCE"}, NATION),
    "support_agent": ({}, None),
    "steward": ({}, None),
}
DIMENSIONS = (
    "customer_region",
    "customer_nation",
    "market_segment",
    "order_priority",
    "order_date.year",
    "ship_mode",
    "supplier_region",
    "part_type",
    "return_flag",
    "customer_name",
    "customer_account_balance",
    "supplier_account_balance",
)
METRICS = (
    "order_count",
    "net_revenue",
    "line_count",
    "customer_count",
    "supplier_count",
    "inventory_value",
    "average_order_value",
    "total_account_balance",
    "revenue_year_to_date",
)
WHERE = (
    None,
    "market_segment = 'BUILDING'",
    "customer_region IN ('EUROPE', 'ASIA')",
    "order_date >= DATE '1996-01-01'",
    "ship_mode = 'AIR' OR 1 = 1",
)
#: the masked dimensions of support_agent: the generated queries leave them to their tests
MASKED = ("customer_name", "customer_phone", "customer_address")


@pytest.fixture(scope="module")
def oracles(project: Project) -> Iterator[dict[str, duckdb.DuckDBPyConnection]]:
    """Per role, a DuckDB connection whose tables hold only the rows the role may read."""
    found = {}
    for role, (_, customers) in ROLES.items():
        con = duckdb.connect()
        con.execute("CREATE SCHEMA base")
        for name in TABLES:
            path = project.data_dir / f"{name}.parquet"
            con.execute(f"CREATE VIEW base.{name} AS SELECT * FROM read_parquet('{path}')")
        visible = {name: f"SELECT * FROM base.{name}" for name in TABLES}
        if customers is not None:
            visible["customer"] = customers
            visible["orders"] = (
                "SELECT * FROM base.orders WHERE o_custkey IN (SELECT c_custkey FROM customer)"
            )
            visible["lineitem"] = (
                "SELECT * FROM base.lineitem WHERE l_orderkey IN (SELECT o_orderkey FROM orders)"
            )
        for name, rows in visible.items():
            con.execute(f"CREATE VIEW {name} AS {rows}")
        found[role] = con
    yield found
    for con in found.values():
        con.close()


def rows_of(table: Any) -> list[tuple[Any, ...]]:
    return [tuple(row.values()) for row in table.to_pylist()]


def same_rows(got: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> bool:
    def key(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple((v is None, str(v)) for v in row)

    got, expected = sorted(got, key=key), sorted(expected, key=key)
    return len(got) == len(expected) and all(
        len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
        for a, b in zip(got, expected, strict=True)
    )


def refused(call: Any) -> str:
    with pytest.raises(SemanticError) as info:
        call()
    return info.value.code


def query_text(dims: list[str], metrics: list[str], where: str | None) -> str:
    text = "SELECT " + ", ".join([*dims, *metrics])
    return text + (f" WHERE {where}" if where else "")


@settings(
    max_examples=examples(full=400, fast=80),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    # the roles with row filters drawn more often: theirs are the totals that could go wrong
    role=st.sampled_from(
        [*sorted(ROLES), "emea_analyst", "emea_analyst", "country_manager", "country_manager"]
    ),
    dims=st.lists(st.sampled_from(DIMENSIONS), max_size=2, unique=True),
    metrics=st.lists(st.sampled_from(METRICS), min_size=1, max_size=2, unique=True),
    where=st.sampled_from(WHERE),
)
def test_a_role_reads_what_the_owner_reads_without_its_hidden_rows(
    project: Project,
    oracles: dict[str, duckdb.DuckDBPyConnection],
    role: str,
    dims: list[str],
    metrics: list[str],
    where: str | None,
) -> None:
    assume(not (role == "support_agent" and set(dims) & set(MASKED)))
    text = query_text(dims, metrics, where)
    user, _ = ROLES[role]
    allowed = project.model.policy.role(role)
    named = [d.split(".")[0] for d in dims] + metrics + ["market_segment"] * bool(where)
    if not all(allowed.may_see(t) for t in named):
        assert refused(lambda: project.query(text, role=role, user=user)) == "SEM331", text
        event("refused: above clearance")
        return
    try:
        owner_sql = project.compile(text, pretty=False)
    except SemanticError:
        assume(False)  # a query the owner cannot run either (a window without its grain...)
    got = rows_of(project.query(text, role=role, user=user))
    expected = oracles[role].execute(owner_sql).fetchall()
    assert same_rows(got, expected), f"{role}: {text}\n{got[:5]}\n{expected[:5]}"
    event(f"compared ({'restricted' if ROLES[role][1] else 'all rows'})")


# --- the acceptance cases and the scope rule, against hand-written SQL -----------------------

EMEA_TOTALS = {
    "SELECT order_count": "SELECT count(*) FROM orders",
    "SELECT net_revenue": "SELECT sum(l_extendedprice * (1 - l_discount)) FROM lineitem",
    "SELECT customer_count": "SELECT count(*) FROM customer",
    # the scope rule: suppliers, parts and their stock reach no customer: not restricted
    "SELECT supplier_count": "SELECT count(*) FROM base.supplier",
    "SELECT inventory_value": "SELECT sum(ps_supplycost * ps_availqty) FROM base.partsupp",
    "SELECT customer_region, order_count": ("SELECT 'EUROPE', count(*) FROM orders"),
    "SELECT supplier_region, net_revenue": (
        "SELECT r.r_name, sum(l_extendedprice * (1 - l_discount)) FROM lineitem "
        "JOIN base.supplier s ON l_suppkey = s.s_suppkey "
        "JOIN base.nation n ON s.s_nationkey = n.n_nationkey "
        "JOIN base.region r ON n.n_regionkey = r.r_regionkey GROUP BY r.r_name"
    ),
    # a WHERE with OR cannot widen the role's rows; another region's rows are none
    "SELECT customer_region, order_count WHERE customer_region = 'ASIA' OR 1 = 1": (
        "SELECT 'EUROPE', count(*) FROM orders"
    ),
    "SELECT order_count WHERE customer_region = 'ASIA'": "SELECT 0",
}


@pytest.mark.parametrize("query", list(EMEA_TOTALS))
def test_emea_totals_equal_hand_written_sql(
    project: Project, oracles: dict[str, duckdb.DuckDBPyConnection], query: str
) -> None:
    got = rows_of(project.query(query, role="emea_analyst"))
    expected = oracles["emea_analyst"].execute(EMEA_TOTALS[query]).fetchall()
    assert same_rows(got, expected), f"{query}: {got} != {expected}"


def test_emea_order_count_is_europes_not_the_grand_total(project: Project) -> None:
    (europe,) = rows_of(project.query("SELECT order_count", role="emea_analyst"))
    (total,) = rows_of(project.query("SELECT order_count"))
    by_region = dict(rows_of(project.query("SELECT customer_region, order_count")))
    assert europe == (by_region["EUROPE"],) and europe != total
    regions = rows_of(project.query("SELECT customer_region, order_count", role="emea_analyst"))
    assert [r[0] for r in regions] == ["EUROPE"]


def test_windows_and_semi_joins_read_only_the_roles_rows(
    project: Project, oracles: dict[str, duckdb.DuckDBPyConnection]
) -> None:
    for text in (
        "SELECT order_date.year, revenue_year_to_date, cumulative_revenue",
        "SELECT order_date.month, revenue_last_3_months WHERE order_date >= DATE '1996-01-01'",
        "SELECT order_date.year, revenue_growth",
        "SELECT customer_count WHERE ship_mode = 'AIR'",  # a semi-join to the lines
        "SELECT part_type, order_count",  # orders counted once per part type they hold
    ):
        got = rows_of(project.query(text, role="emea_analyst"))
        expected = oracles["emea_analyst"].execute(project.compile(text)).fetchall()
        assert same_rows(got, expected), text


#: queries whose SQL takes each shape of the planner (one pass of FILTERs, EXISTS semi-joins,
#: eager aggregation by a foreign key, numbered distinct rows), with a mark of the shape in
#: the role's SQL: each must read the role's rows only, in whichever shape it is built
SHAPES = {
    "SELECT ship_mode, MEASURE(line_count) FILTER (WHERE order_priority = '1-URGENT') AS hi, "
    "MEASURE(line_count) FILTER (WHERE order_priority <> '1-URGENT') AS lo": "FILTER(WHERE",
    "SELECT supplier_count WHERE ship_mode = 'AIR'": "EXISTS(",
    "SELECT customer_count WHERE ship_mode = 'AIR'": "EXISTS(",
    # eager: the lines summed by order key, then again by the query's keys
    "SELECT order_key, order_date, quantity HAVING quantity > 250": "GROUP BY lineitem.l_orderkey",
    "SELECT part_type, order_count": "ROW_NUMBER()",
    # metrics at another grain: plain queries joined on the kept dimensions, or crossed
    "SELECT customer_region, net_revenue / MEASURE(net_revenue) PER (ALL) AS share": "CROSS JOIN",
    "SELECT customer_region, market_segment, order_count, "
    "MEASURE(order_count) PER (* EXCLUDE market_segment) AS of_region": "grain_1",
    # metrics per entity: a subquery by the entity's key joined to its rows
    "SELECT MEASURE(order_count) PER (customer) AS orders, customer_count": "per_1",
    "SELECT net_revenue WHERE line_quantity < 0.5 * MEASURE(average_quantity) PER (part)": "per_1",
    # the grand total next to dimensions: a scalar subquery, planned from the query
    "SELECT ship_mode, line_count WHERE line_quantity > MEASURE(average_quantity) PER (ALL)": (
        "AS v FROM"
    ),
    # a value per entity inside an existence: the subquery reads the entity's rows with it
    "SELECT market_segment, customer_count "
    "WHERE EXISTS(line_quantity > MEASURE(average_quantity) PER (orders))": "per_1",
    # existence (has none, every one, about the line's order): a subquery per existence
    "SELECT customer_region, order_count WHERE NOT EXISTS(ship_mode = 'AIR')": "NOT EXISTS(",
    "SELECT order_priority, order_count WHERE ALL(ship_mode <> 'AIR')": "NOT EXISTS(",
    "SELECT ship_mode, net_revenue WHERE EXISTS(return_flag = 'R', order_key)": "EXISTS(",
    "SELECT customer_count WHERE NOT EXISTS(order_key)": "NOT EXISTS(",
    # every month (a date spine): the periods are made from the role's groups only
    "SELECT all_periods(order_date.month), market_segment, order_count, net_revenue "
    "WHERE order_date >= DATE '1992-11-01' AND order_date < DATE '1993-03-01'": "GENERATE_SERIES(",
}


@pytest.mark.parametrize("text", list(SHAPES))
def test_every_sql_shape_reads_only_the_roles_rows(
    project: Project, oracles: dict[str, duckdb.DuckDBPyConnection], text: str
) -> None:
    for role in ("emea_analyst", "country_manager"):
        user = ROLES[role][0]
        sql = project.compile(text, pretty=False, role=role, user=user)
        assert SHAPES[text] in sql, f"{text}: the shape under test is not taken\n{sql}"
        got = rows_of(project.query(text, role=role, user=user))
        expected = oracles[role].execute(project.compile(text, pretty=False)).fetchall()
        assert got and same_rows(got, expected), f"{role}: {text}\n{got[:5]}\n{expected[:5]}"


def _business_queries() -> list[str]:
    import yaml

    path = Path(__file__).parents[1] / "fixtures" / "tpch" / "business-queries.yml"
    found = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [texts["en"] for texts in found.values()]


def test_every_table_a_role_restricts_is_read_through_its_rows_only(project: Project) -> None:
    """Whatever shape a query takes (joins, EXISTS, eager, numbered rows, windows, periods,
    conversions), each table of an entity the role restricts is read inside the SELECT that
    keeps the role's rows: the structural form of "no total includes a hidden row"."""
    restricted = {"customer", "orders", "lineitem"}
    queries = [*_business_queries(), *SHAPES]
    queries += [query_text([d], [m], None) for d in DIMENSIONS for m in METRICS]
    checked = 0
    for text in queries:
        try:
            sql = project.compile(text, pretty=False, role="emea_analyst")
        except SemanticError:
            continue  # refused for the role (a confidential term) or not a query of the role
        checked += 1
        for node in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Table):
            if node.name not in restricted:
                continue
            select = node.find_ancestor(exp.Select)
            where = select.args.get("where") if select is not None else None
            assert where is not None and "'EUROPE'" in where.sql("duckdb"), (
                f"{text}: table {node.name} read outside the role's rows\n{sql}"
            )
    assert checked > 50


def test_an_attribute_no_restricted_entity_reads_is_not_sent(project: Project) -> None:
    """A query that reads no entity the role's filter restricts (suppliers, stock) has no
    place for the caller's attribute: it runs (not refused by the engine for an unused
    value), with every row, as the scope rule says."""
    france = {"nation": "FRANCE"}
    for text in ("SELECT supplier_count", "SELECT supplier_region, inventory_value"):
        got = rows_of(project.query(text, role="country_manager", user=france))
        assert same_rows(got, rows_of(project.query(text))), text


def test_a_callers_attribute_is_a_bound_value(project: Project) -> None:
    france = {"nation": "FRANCE"}
    (row,) = rows_of(
        project.query("SELECT customer_nation, order_count", role="country_manager", user=france)
    )
    assert row[0] == "FRANCE"
    sql = project.compile("SELECT order_count", role="country_manager", user=france)
    assert "FRANCE" not in sql and "$user_nation" in sql
    # SQL text in an attribute is a value that matches no nation
    sneaky = {"nation": "FRANCE' OR '1'='1"}
    assert rows_of(project.query("SELECT order_count", role="country_manager", user=sneaky)) == [
        (0,)
    ]
    # a query parameter of the same name is the query's own, and cannot replace the role's
    text = "SELECT order_count WHERE order_status = $user_nation"
    mine = rows_of(project.query(text, {"user_nation": "F"}, role="country_manager", user=france))
    expected = rows_of(
        project.query("SELECT order_count WHERE order_status = 'F' AND customer_nation = 'FRANCE'")
    )
    assert mine == expected


# --- clearance: every way to reach a term above it is refused ---------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "SELECT customer_name, order_count",
        'SELECT "Nom du client", order_count',  # its French label
        'SELECT "raison sociale du client", order_count',  # its French synonym
        'SELECT "nom du CLIENT" AS n, order_count',  # case, an alias
        "SELECT customer_name AS who, order_count",
        "SELECT length(customer_name) AS l, order_count",  # an expression over it
        "SELECT order_count WHERE customer_phone LIKE '25-%'",
        "SELECT market_segment, order_count ORDER BY total_account_balance",
        "SELECT market_segment, order_count HAVING total_account_balance > 0",
        "SELECT MEASURE(order_count) FILTER (WHERE customer_address = 'x') AS n",
        "SELECT MEASURE(order_count) FILTER (WHERE customer_account_balance > 0) AS rich",
        "SELECT net_revenue / total_account_balance AS ratio",
        '{"select": ["customer_name", "order_count"]}',
        '{"select": ["order_count"], "where": "customer_phone = \'x\'"}',
    ],
)
def test_terms_above_clearance_are_refused_however_reached(project: Project, query: str) -> None:
    given: Any = query
    if query.startswith("{"):
        given = json.loads(query)
    for role in ("analyst", "emea_analyst"):
        assert refused(lambda r=role: project.query(given, role=r)) == "SEM331", query
        assert refused(lambda r=role: project.compile(given, role=r)) == "SEM331", query
    project.compile(given)  # the owner may


def test_the_refusal_says_how_the_term_was_reached(tmp_path: Path) -> None:
    files = {
        "models/m.yml": """
            entities:
              orders:
                primary_key: [id]
                columns: {id: {type: integer}, amount: {type: integer}, card: {type: varchar}}
        """,
        "glossary/g.yml": """
            domain: sales
            terms:
              card:
                label: {en: Card}
                confidentiality: restricted
                dimension: {entity: orders, expr: card}
              revenue:
                label: {en: Revenue}
                metric: {entity: orders, expr: sum(amount)}
              card_revenue:
                label: {en: Card revenue}
                metric: {entity: orders, expr: sum(amount), filter: card IS NOT NULL}
              card_share:
                label: {en: Card share, fr: Part carte}
                metric: {expr: card_revenue / revenue}
        """,
        "policies.yml": "roles: {clerk: {clearance: internal}}",
    }
    project = Project.load(write_project(tmp_path, files))
    with pytest.raises(SemanticError) as info:
        project.compile('SELECT revenue, "Part carte"', role="clerk")
    (problem,) = info.value.diagnostics
    assert problem.code == "SEM331" and str(problem.span) == "<query>:1:17"
    assert problem.message == (
        "term 'card' is restricted, above the clearance of role 'clerk' (internal), reached "
        "through the derived metric 'card_share', then the metric 'card_revenue''s filter"
    )


# --- masks ----------------------------------------------------------------------------------


def test_masked_values_never_show_in_clear(project: Project) -> None:
    text = "SELECT customer_name, customer_phone, customer_address, order_count"
    masked = project.query(text, role="support_agent").to_pylist()
    raw = project.query(text).to_pylist()
    assert len(masked) == len(raw) and sum(r["order_count"] for r in masked) == sum(
        r["order_count"] for r in raw
    )
    names = {r["customer_name"] for r in raw}
    phones = {r["customer_phone"] for r in raw}
    assert {r["customer_name"] for r in masked} == {
        hashlib.md5(n.encode()).hexdigest() for n in names
    }
    for row in masked:
        assert row["customer_name"] not in names and row["customer_phone"] not in phones
        assert re.fullmatch(r"\*\*\*\*\d{4}", row["customer_phone"]), row
        assert row["customer_address"] == "[redacted]"
    # the same customers, phone for phone (grouped by the real values, masked when shown)
    assert sorted(r["customer_phone"] for r in masked) == sorted(
        "****" + r["customer_phone"][-4:] for r in raw
    )


@pytest.mark.parametrize(
    "query",
    [
        "SELECT order_count WHERE customer_phone = '25-989-741-2988'",
        "SELECT order_count WHERE customer_name LIKE 'Customer#0000000%'",
        "SELECT customer_phone, order_count ORDER BY customer_phone",
        "SELECT customer_phone, order_count ORDER BY 1",
        "SELECT right(customer_phone, 4) AS p, order_count",
        "SELECT customer_name = 'Customer#000000001' AS is_it, order_count",
        "SELECT MEASURE(order_count) FILTER (WHERE customer_name = 'Customer#000000001') AS n",
        '{"select": ["order_count"], "where": "customer_phone = \'25-989-741-2988\'"}',
    ],
)
def test_a_masked_term_cannot_be_compared_or_sorted(project: Project, query: str) -> None:
    given: Any = query
    if query.startswith("{"):
        given = json.loads(query)
    assert refused(lambda: project.query(given, role="support_agent")) == "SEM332", query


# --- roles, attributes, and the owner -------------------------------------------------------


def test_unknown_roles_missing_attributes_and_required_roles(
    project: Project, tmp_path: Path
) -> None:
    assert refused(lambda: project.query("SELECT order_count", role="analyts")) == "SEM256"
    assert refused(lambda: project.query("SELECT order_count", role="country_manager")) == (
        "SEM257"
    )
    root = Path(project.root)
    files = {
        "semantic.yml": (root / "semantic.yml").read_text(),
        "policies.yml": "require_role: true\nroles: {analyst: {clearance: internal}}\n",
    }
    for name in ("models", "glossary"):
        for path in (root / name).glob("*.yml"):
            files[f"{name}/{path.name}"] = path.read_text()
    strict = Project.load(write_project(tmp_path, files, files.pop("semantic.yml")))
    assert refused(lambda: strict.compile("SELECT order_count")) == "SEM333"
    assert "COUNT(*)" in strict.compile("SELECT order_count", role="analyst")


def test_the_plan_carries_the_decision(project: Project) -> None:
    plan = project.plan("SELECT customer_name, order_count", role="support_agent")
    assert plan.policy is not None and plan.policy.masked == (("customer_name", "hash"),)
    plan = project.plan("SELECT order_count", role="emea_analyst")
    assert plan.policy is not None
    assert plan.policy.as_dict() == {
        "role": "emea_analyst",
        "clearance": "internal",
        "filters": ["customer_region = 'EUROPE'"],
        "restricted_entities": ["customer", "lineitem", "orders"],
        "masked": {},
        "attributes": [],
    }
    assert project.plan("SELECT order_count").policy is None
    told = project.explain("SELECT order_count", role="emea_analyst")
    assert "policy: role emea_analyst" in told and "only the role's rows of orders" in told


# --- PostgreSQL: the same answers -------------------------------------------------------------

POSTGRES_CASES = [
    ("emea_analyst", "SELECT customer_region, order_count"),
    ("emea_analyst", "SELECT order_count"),
    ("emea_analyst", "SELECT supplier_region, net_revenue"),
    ("emea_analyst", "SELECT order_date.year, revenue_year_to_date"),
    ("country_manager", "SELECT customer_nation, market_segment, net_revenue"),
    ("support_agent", "SELECT customer_name, customer_phone, customer_address, order_count"),
    ("analyst", "SELECT market_segment, average_order_value"),
]


@pytest.mark.parametrize(("role", "query"), POSTGRES_CASES)
def test_on_postgres(
    project: Project,
    postgres_engine: PostgresEngine,
    oracles: dict[str, duckdb.DuckDBPyConnection],
    role: str,
    query: str,
) -> None:
    user, _ = ROLES[role]
    got = rows_of(project.query(query, engine=postgres_engine, role=role, user=user))
    expected = rows_of(project.query(query, role=role, user=user))
    assert same_rows(got, expected), f"{role}: {query}"
    if role != "support_agent":
        oracle = oracles[role].execute(project.compile(query)).fetchall()
        assert same_rows(got, oracle)
    for code, text in (("SEM331", "SELECT customer_name, order_count"),):
        with pytest.raises(SemanticError) as info:
            project.query(text, engine=postgres_engine, role="analyst")
        assert info.value.code == code
