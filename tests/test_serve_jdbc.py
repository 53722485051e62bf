"""The wire endpoint as DBeaver, Metabase, Tableau and other JDBC tools see it: pgjdbc (the
PostgreSQL JDBC driver, Debian's libpostgresql-jdbc-java) driven by a small Java program
(tests/clients/JdbcClient.java, run in source-file mode) connects with a token as password,
lists the schemas, tables and columns through DatabaseMetaData (the catalog queries those
tools send), and runs prepared statements with a parameter, prepared on the server. Skipped
without Java or the driver's jar, except on CI (SEMANTIC_REQUIRE_SERVICES=1, .ci/services
installs both)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from semantic.serve.pgwire.tables import virtual_tables
from semantic.serve.service import Service
from tests.compare import same_value
from tests.services import unavailable
from tests.serving import TOKENS
from tests.test_serve_pgwire import project, served  # noqa: F401 - the module's server

CLIENT = Path(__file__).parent / "clients" / "JdbcClient.java"
#: where Debian's libpostgresql-jdbc-java puts the driver (SEMANTIC_PGJDBC_JAR elsewhere)
JAR = os.environ.get("SEMANTIC_PGJDBC_JAR", "/usr/share/java/postgresql.jar")


def jdbc(port: int, table: str, *queries: str) -> list[list[str]]:
    """The lines JdbcClient prints (split at tabs), or a skip (a failure on CI) without Java
    or pgjdbc."""
    if shutil.which("java") is None or shutil.which("javac") is None:
        # java's source-file mode compiles the client: it needs a JDK, not only a JRE
        unavailable("a JDK (java and javac) is not installed")
    if not Path(JAR).is_file():
        unavailable(f"pgjdbc is not at {JAR} (apt-get install libpostgresql-jdbc-java)")
    done = subprocess.run(
        ["java", "-cp", JAR, str(CLIENT), str(port), TOKENS["owner"][0], table, *queries],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [line.split("\t") for line in done.stdout.splitlines()]


def test_a_jdbc_client_lists_tables_and_columns_and_runs_prepared_statements(
    served: tuple[Service, int],  # noqa: F811
) -> None:
    service, port = served
    region = "SELECT customer_region, net_revenue WHERE customer_region = ? ORDER BY 1"
    since = "SELECT order_date.year, order_count WHERE order_date >= ? ORDER BY order_date.year"
    area = (
        'SELECT "Market segment", SUM("Order count") FROM sales_by_customer '
        'WHERE "Customer region" = ? GROUP BY 1 ORDER BY 1'
    )
    lines = jdbc(port, "sales_by_customer", region, "ASIA", since, "1997-01-01", area, "EUROPE")
    model = service.version.project.model
    kinds = {line[0] for line in lines}
    assert ["product", "PostgreSQL", "15.0"] in lines
    assert [line[1] for line in lines if line[0] == "schema"] == ["public"]
    tables = {line[2]: line for line in lines if line[0] == "table"}
    assert {"sales_by_customer", "yearly_sales", "orders"} <= set(tables)
    assert tables["orders"][3] == "TABLE"
    comments = {t.id: t.comment for t in virtual_tables(model, None, "en")}
    assert comments["orders"] and tables["orders"][4] == comments["orders"]
    columns = [line for line in lines if line[0] == "column"]
    assert [c[2] for c in columns][:2] == ["Customer region", "Customer nation"]
    assert (
        columns[0][3] == "varchar"
        and columns[0][5] == model.terms["customer_region"].definition["en"]
    )
    assert ("Net revenue", "numeric") in {(c[2], c[3]) for c in columns}
    assert "key" not in kinds and "foreign" not in kinds  # no keys: virtual tables

    answers = _answers(lines)
    assert len(answers) == 6  # each query twice: as sent, then prepared on the server
    for first, second in zip(answers[::2], answers[1::2], strict=True):
        assert first == second
    here = project(service)
    wants = [
        here.query("SELECT customer_region, net_revenue WHERE customer_region = 'ASIA'"),
        here.query(
            "SELECT order_date.year, order_count WHERE order_date >= DATE '1997-01-01' "
            "ORDER BY order_date.year"
        ),
        here.query(
            "SELECT market_segment, order_count WHERE customer_region = 'EUROPE' "
            "ORDER BY market_segment"
        ),
    ]
    for (head, rows), want in zip(answers[::2], wants, strict=True):
        assert len(head) == want.num_columns
        expected = [[_text(v) for v in r.values()] for r in want.to_pylist()]
        assert same_value(rows, expected), (head, rows, expected)
    assert answers[4][0] == ["Market segment", "sum"]


def _answers(lines: list[list[str]]) -> list[tuple[list[str], list[list[str]]]]:
    """Each query's column labels and rows, in the order printed."""
    found: list[tuple[list[str], list[list[str]]]] = []
    for line in lines:
        if line[0] == "head":
            found.append((line[1:], []))
        elif line[0] == "row":
            found[-1][1].append(line[1:])
    return found


def _text(value: object) -> str:
    """A value as pgjdbc's getString gives it (PostgreSQL's text form)."""
    return str(value)
