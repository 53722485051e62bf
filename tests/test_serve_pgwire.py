"""The PostgreSQL wire endpoint, against the real server on 127.0.0.1 at a free port: psycopg
(simple and extended protocols, parameters, binary results), psql, SQLAlchemy's inspector;
answers equal to `Project.query`'s; a BI tool's SUM of a distinct count is the distinct
count of the group; roles enforced; refusals with their SQLSTATE and SEM code."""

from __future__ import annotations

import shutil
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from semantic.project import Project
from semantic.serve.pgwire import start
from semantic.serve.service import Service
from tests.compare import same_value
from tests.serving import TOKENS, copy_project

#: a subject area whose metric is a distinct count repeated across its dimension part_brand
AREA = """\
domain: test_areas
label: {en: Test areas, fr: Vues de test}
subject_areas:
  supply_by_brand:
    label: {en: Supply by brand, fr: Offre par marque}
    definition: {en: Suppliers by region and brand., fr: Fournisseurs par région et marque.}
    dimensions: [supplier_region, part_brand]
    metrics: [supplying_supplier_count]
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, int]]:
    root = copy_project(tmp_path_factory.mktemp("pgwire"))
    (root / "glossary" / "test_areas.yml").write_text(AREA)
    service = Service.open(root)
    server = start(service, "127.0.0.1", 0)
    yield service, server.port
    server.close()
    service.close()


def dsn(port: int, name: str = "owner", dbname: str = "semantic") -> str:
    token = TOKENS[name][0]
    return f"host=127.0.0.1 port={port} user=x password={token} dbname={dbname} connect_timeout=10"


def project(service: Service) -> Project:
    return Project.load(service.root)


def test_business_query_extended_and_simple(served: tuple[Service, int]) -> None:
    service, port = served
    want = project(service).query(
        "SELECT customer_region, net_revenue WHERE order_date >= DATE '1995-01-01' "
        "ORDER BY customer_region"
    )
    with psycopg.connect(dsn(port), autocommit=True) as conn:
        # extended protocol, a parameter bound (never pasted into the text)
        got = conn.execute(
            "SELECT customer_region, net_revenue WHERE order_date >= %s ORDER BY customer_region",
            ["1995-01-01"],
        ).fetchall()
        assert same_value([list(r) for r in got], [list(r.values()) for r in want.to_pylist()])
        # binary results
        binary = conn.cursor(binary=True).execute(
            "SELECT customer_region, order_count, net_revenue WHERE customer_region = %s",
            ["ASIA"],
        )
        row = binary.fetchone()
        assert row is not None and row[0] == "ASIA"
        asia = project(service).query(
            "SELECT customer_region, order_count, net_revenue WHERE customer_region = 'ASIA'"
        )
        assert same_value(list(row), list(asia.to_pylist()[0].values()))
        # simple protocol (PQexec): two statements, the last one's rows
        result = conn.pgconn.exec_(b"SET application_name = 'bi'; SELECT order_count")
        assert result.status == psycopg.pq.ExecStatus.TUPLES_OK
        assert int(result.get_value(0, 0) or b"0") == 15000


def test_sql_over_a_subject_area_is_the_business_query(served: tuple[Service, int]) -> None:
    service, port = served
    want = (
        project(service)
        .query("SELECT customer_region, net_revenue ORDER BY net_revenue DESC")
        .to_pylist()
    )
    sql = (
        'SELECT "Région client", SUM("Chiffre d\'affaires net") FROM ventes_par_client '
        "GROUP BY 1 ORDER BY 2 DESC"
    )
    with psycopg.connect(dsn(port), autocommit=True) as conn:
        cursor = conn.execute(sql)
        assert [d.name for d in cursor.description or []] == ["Région client", "sum"]
        got = cursor.fetchall()
        measured = conn.execute(
            "SELECT MEASURE(order_count) AS n FROM sales_by_customer WHERE market_segment = %s",
            ["BUILDING"],
        ).fetchall()
    assert same_value([list(r) for r in got], [list(r.values()) for r in want])
    building = project(service).query("SELECT order_count WHERE market_segment = 'BUILDING'")
    assert measured == [(building.column(0)[0].as_py(),)]


def test_a_sum_of_a_distinct_count_is_the_groups_distinct_count(
    served: tuple[Service, int],
) -> None:
    service, port = served
    want = project(service).query(
        "SELECT supplier_region, supplying_supplier_count ORDER BY supplier_region"
    )
    rows = project(service).query("SELECT supplier_region, part_brand, supplying_supplier_count")
    naive: dict[str, int] = {}
    for row in rows.to_pylist():
        naive[row["supplier_region"]] = naive.get(row["supplier_region"], 0) + int(
            row["supplying_supplier_count"]
        )
    with psycopg.connect(dsn(port), autocommit=True) as conn:
        got = conn.execute(
            'SELECT "Supplier region", SUM("Number of supplying suppliers") '
            'FROM supply_by_brand GROUP BY "Supplier region" ORDER BY 1'
        ).fetchall()
    expected = [(r["supplier_region"], r["supplying_supplier_count"]) for r in want.to_pylist()]
    assert got == expected
    # the view's rows summed would count a supplier once per brand it offers
    assert all(naive[region] > count for region, count in got)


def test_roles_are_enforced(served: tuple[Service, int]) -> None:
    _, port = served
    with psycopg.connect(dsn(port, "ann"), autocommit=True) as conn:
        regions = conn.execute(
            'SELECT "Customer region", SUM("Net revenue") FROM sales_by_customer GROUP BY 1'
        ).fetchall()
    assert [r[0] for r in regions] == ["EUROPE"]
    with psycopg.connect(dsn(port, "bob"), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
            conn.execute("SELECT customer_name, order_count")
        assert refused.value.sqlstate == "42501"
        assert "SEM331" in str(refused.value)


def test_a_wrong_password_is_refused(served: tuple[Service, int]) -> None:
    _, port = served
    wrong = f"host=127.0.0.1 port={port} user=x password=guess dbname=semantic"
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(wrong, connect_timeout=10)
    assert "SEM121" in str(refused.value)


def test_what_cannot_be_answered_right_is_refused(served: tuple[Service, int]) -> None:
    _, port = served
    cases = [
        ('SELECT AVG("Order count") FROM sales_by_customer', "0A000", "SEM462"),
        ("SELECT COUNT(*) FROM sales_by_customer", "0A000", "SEM462"),
        (
            'SELECT "Customer region", "Order count" FROM sales_by_customer GROUP BY 1',
            "0A000",
            "SEM462",
        ),
        ("SELECT 1 FROM ventes", "42P01", "SEM463"),
        ('SELECT SUM("Chiffre") FROM sales_by_customer', "42703", "SEM464"),
        ("CREATE TABLE t (a int)", "25006", "SEM465"),
    ]
    with psycopg.connect(dsn(port), autocommit=True) as conn:
        for sql, state, code in cases:
            with pytest.raises(psycopg.Error) as refused:
                conn.execute(sql)
            assert refused.value.sqlstate == state, sql
            assert code in str(refused.value), sql
        # an entity's COUNT(*) is its count of rows, a metric of the glossary
        assert conn.execute("SELECT COUNT(*) FROM orders").fetchall() == [(15000,)]


def test_catalog_queries(served: tuple[Service, int]) -> None:
    _, port = served
    with psycopg.connect(dsn(port, dbname="fr"), autocommit=True) as conn:
        columns = conn.execute(
            'SELECT column_name, "COLUMN_COMMENT" FROM information_schema.columns '
            "WHERE table_name = 'sales_by_customer' ORDER BY ordinal_position"
        ).fetchall()
        assert columns[0][0] == "Région client"
        assert columns[-1][0] == "Chiffre d'affaires net"
        assert conn.execute("SHOW standard_conforming_strings").fetchone() == ("on",)
        conn.execute("SET semantic.language = 'en'")
        version = conn.execute("SELECT version()").fetchone()
        assert version is not None and version[0].startswith("PostgreSQL 15")
        assert conn.execute("SELECT current_schema()").fetchone() == ("public",)


def test_sqlalchemy_inspector(served: tuple[Service, int]) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    service, port = served
    token = TOKENS["owner"][0]
    engine = sqlalchemy.create_engine(f"postgresql+psycopg://x:{token}@127.0.0.1:{port}/semantic")
    try:
        inspector = sqlalchemy.inspect(engine)
        names = inspector.get_table_names()
        assert {"sales_by_customer", "yearly_sales", "orders"} <= set(names)
        columns = inspector.get_columns("sales_by_customer")
        model = service.version.project.model
        assert [c["name"] for c in columns][:2] == ["Customer region", "Customer nation"]
        assert columns[0]["comment"] == model.terms["customer_region"].definition["en"]
        with engine.connect() as conn:
            got = conn.execute(
                sqlalchemy.text(
                    'SELECT "Order date (year)", SUM("Order count") FROM yearly_sales '
                    "GROUP BY 1 ORDER BY 1 LIMIT 2"
                )
            ).all()
        want = project(service).query(
            "SELECT order_date.year, order_count WHERE order_status = 'F' "
            "ORDER BY order_date.year LIMIT 2"
        )
        assert same_value([list(r) for r in got], [list(r.values()) for r in want.to_pylist()])
    finally:
        engine.dispose()


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")
def test_psql(served: tuple[Service, int]) -> None:
    _, port = served

    def psql(command: str) -> str:
        done = subprocess.run(
            ["psql", dsn(port, dbname="fr"), "-X", "-c", command],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "sales_by_customer" in psql("\\dt")
    described = psql("\\d+ sales_by_customer")
    assert "Région client" in described and "numeric" in described
    answer = psql(
        'SELECT "Région client", SUM("Nombre de commandes") FROM ventes_par_client '
        "GROUP BY 1 ORDER BY 1"
    )
    assert "AFRICA" in answer and "(5 rows)" in answer


def test_start_on_a_busy_port_fails(served: tuple[Service, int], tmp_path: Path) -> None:
    service, port = served
    with pytest.raises(OSError):
        start(service, "127.0.0.1", port)


def test_a_statement_described_before_it_is_bound(served: tuple[Service, int]) -> None:
    """Parse, then Describe of the statement before any Bind (pgjdbc, npgsql): parameters
    typed as the business query compares them, columns as the rows then sent are."""
    service, port = served
    with psycopg.connect(dsn(port), autocommit=True) as conn:
        pg = conn.pgconn
        scaled = b"SELECT customer_region, net_revenue * $1 AS scaled WHERE order_date >= $2"
        pg.send_prepare(b"scaled", scaled)
        assert _result(pg).status == psycopg.pq.ExecStatus.COMMAND_OK
        pg.send_describe_prepared(b"scaled")
        described = _result(pg)
        assert described.status == psycopg.pq.ExecStatus.COMMAND_OK, described.error_message
        # a number (it multiplies a metric), a date (compared with a date)
        assert [described.param_type(i) for i in range(described.nparams)] == [1700, 1082]
        # a NULL bound to describe it would have made `scaled` a column of no type (text)
        assert [(described.fname(i), described.ftype(i)) for i in range(2)] == [
            (b"customer_region", 25),
            (b"scaled", 1700),
        ]
        # then bound, in binary for the number as described, as text for the date
        pg.send_query_prepared(
            b"scaled",
            # numeric 2 in binary: one base-10000 digit, weight 0, positive, scale 0
            [struct.pack("!hhHHH", 1, 0, 0, 0, 2), b"1995-01-01"],
            param_formats=[1, 0],
        )
        result = _result(pg)
        assert result.status == psycopg.pq.ExecStatus.TUPLES_OK, result.error_message
        assert result.ftype(1) == 1700
        got = {
            (result.get_value(r, 0) or b"").decode(): (result.get_value(r, 1) or b"").decode()
            for r in range(result.ntuples)
        }
    want = project(service).query(
        "SELECT customer_region, net_revenue WHERE order_date >= DATE '1995-01-01'"
    )
    assert set(got) == {r["customer_region"] for r in want.to_pylist()}
    for row in want.to_pylist():
        assert same_value(Decimal(got[row["customer_region"]]), 2 * row["net_revenue"])


def _result(pg: psycopg.pq.abc.PGconn) -> psycopg.pq.abc.PGresult:
    """The result of the command sent, waited for without blocking this process: libpq's
    blocking calls (PQdescribePrepared) would keep the server's thread, in this process,
    from answering."""
    while True:
        pg.consume_input()
        if not pg.is_busy():
            break
        time.sleep(0.01)
    result = pg.get_result()
    assert result is not None
    while pg.get_result() is not None:
        pass
    return result


def test_a_cancel_request_stops_the_query_not_the_connection(
    served: tuple[Service, int],
) -> None:
    _, port = served
    # a catalog query long enough to be cancelled (a cross join of DuckDB's catalog)
    slow = (
        "SELECT count(*) FROM pg_catalog.pg_class a, pg_catalog.pg_class b, "
        "pg_catalog.pg_class c, pg_catalog.pg_attribute d, pg_catalog.pg_attribute e"
    )
    with psycopg.connect(dsn(port), autocommit=True) as conn:
        # cancel_safe: libpq's blocking PQcancel would keep the server's thread, in this
        # process, from reading the cancel request
        timer = threading.Timer(0.5, conn.cancel_safe)
        timer.start()
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled) as stopped:
            conn.execute(slow)
        timer.join()
        assert time.monotonic() - started < 30
        assert "SEM469" in str(stopped.value)
        # the same connection answers the next query
        assert conn.execute("SELECT order_count").fetchall() == [(15000,)]
        # a cancel when nothing runs stops nothing that comes after
        conn.cancel_safe()
        assert conn.execute("SELECT order_count").fetchall() == [(15000,)]


def test_a_refusal_names_the_measure_as_sql_does(served: tuple[Service, int]) -> None:
    _, port = served
    with (
        psycopg.connect(dsn(port), autocommit=True) as conn,
        pytest.raises(psycopg.Error) as refused,
    ):
        conn.execute('SELECT AVG("Order count") FROM sales_by_customer')
    hint = refused.value.diag.message_hint or ""
    # double quotes: 'Order count' would be a string in SQL
    assert hint.startswith('write SUM("Order count") or MEASURE("Order count"):'), hint


def test_a_saved_per_entity_value_over_the_wire_is_counted_per_customer(
    served: tuple[Service, int],
) -> None:
    """A BI tool's SQL over the customer table groups by and filters on the saved metric per
    customer (`customer_order_count`, its band): each customer's orders, all of them, as
    hand-written SQL counts them."""
    from tests.test_saved_grain import BAND, ORDERS_PER_CUSTOMER

    service, port = served
    data = project(service).engine.connection
    with psycopg.connect(dsn(port), autocommit=True) as conn:
        bands = conn.execute(
            'SELECT "Customer order count band", COUNT(*) FROM customer GROUP BY 1 ORDER BY 1'
        ).fetchall()
        busy = conn.execute(
            'SELECT "Market segment", SUM("Customer count") FROM customer '
            'WHERE "Customer order count" >= 20 GROUP BY 1 ORDER BY 1'
        ).fetchall()
    want = data.execute(
        f"SELECT {BAND}, count(*) FROM {ORDERS_PER_CUSTOMER} c GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert len(want) > 1 and same_value([list(r) for r in bands], [list(r) for r in want])
    want = data.execute(
        f"SELECT c_mktsegment, count(*) FROM customer JOIN {ORDERS_PER_CUSTOMER} c "
        "USING (c_custkey) WHERE n >= 20 GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert want and same_value([list(r) for r in busy], [list(r) for r in want])
