"""The HTTP API of `semantic serve`, called with httpx on a real uvicorn server on 127.0.0.1:
answers equal `Project.query`'s, auth and roles, limits, formats, languages, the glossary's
reads, hot reload, the plan cache; and the `semantic serve` command itself."""

from __future__ import annotations

import decimal
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq
import pytest

from semantic.outputs.quality import run_quality
from semantic.outputs.search import find_terms
from semantic.project import Project
from semantic.serve.http import make_app
from semantic.serve.service import Service
from tests.serving import auth, copy_project, free_port, running, wait_for
from tests.test_serve_core import EXTRA, REVENUE
from tests.test_startup import child_env


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Service]]:
    root = copy_project(
        tmp_path_factory.mktemp("served"),
        "  anonymous_role: analyst\n  limits: {rows: 100, query_chars: 2000}\n",
    )
    service = Service.open(root)
    with running(make_app(service)) as url:
        yield url, service
    service.close()


@pytest.fixture
def client(served: tuple[str, Service]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0], timeout=60) as http:
        yield http


def test_health_needs_no_token(client: httpx.Client) -> None:
    answer = client.get("/v1/health")
    assert answer.status_code == 200 and answer.json()["status"] == "ok"


def test_query_answers_as_the_project(client: httpx.Client, served: tuple[str, Service]) -> None:
    project = Project.load(served[1].root)
    for who, role in (("owner", None), ("ann", "emea_analyst")):
        answer = client.post("/v1/query", json={"query": REVENUE}, headers=auth(who))
        assert answer.status_code == 200, answer.text
        body = json.loads(answer.text, parse_float=decimal.Decimal)  # every digit, exactly
        want = project.query(REVENUE, role=role).to_pylist()
        assert body["columns"] == ["customer_region", "net_revenue"]
        assert body["rows"] == want
        assert body["row_count"] == len(want)
    ann = client.post("/v1/query", json={"query": REVENUE}, headers=auth("ann")).json()
    assert [r["customer_region"] for r in ann["rows"]] == ["EUROPE"]


def test_decimals_keep_every_digit(client: httpx.Client, served: tuple[str, Service]) -> None:
    answer = client.post("/v1/query", json={"query": REVENUE}, headers=auth("owner"))
    want = Project.load(served[1].root).query(REVENUE).column("net_revenue").to_pylist()
    text = answer.text
    for value in want:
        assert format(value, "f") in text  # the exact decimal, not a float's rounding


def test_params_and_the_json_form(client: httpx.Client) -> None:
    body = {
        "query": "SELECT customer_nation, order_count WHERE customer_region = $region "
        "ORDER BY customer_nation",
        "params": {"region": "ASIA"},
    }
    text = client.post("/v1/query", json=body, headers=auth("owner")).json()
    as_json = {
        "query": {
            "select": ["customer_nation", "order_count"],
            "where": "customer_region = $region",
            "order_by": ["customer_nation"],
        },
        "params": {"region": "ASIA"},
    }
    form = client.post("/v1/query", json=as_json, headers=auth("owner"))
    assert form.status_code == 200, form.text
    assert form.json()["rows"] == text["rows"] and len(text["rows"]) == 5


def test_formats(client: httpx.Client, served: tuple[str, Service]) -> None:
    want = Project.load(served[1].root).query(REVENUE)
    for fmt, read in (
        ("arrow", lambda b: pa.ipc.open_stream(b).read_all()),
        ("parquet", lambda b: pq.read_table(io.BytesIO(b))),
    ):
        answer = client.post(
            "/v1/query", json={"query": REVENUE, "format": fmt}, headers=auth("owner")
        )
        assert answer.status_code == 200
        assert read(answer.content).to_pylist() == want.to_pylist()
    csv = client.post("/v1/query", json={"query": REVENUE, "format": "csv"}, headers=auth("owner"))
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.split("\r\n")
    assert lines[0] == "customer_region,net_revenue" and len(lines) == 7  # 5 rows, final CRLF


def test_accept_language_names_the_columns(client: httpx.Client) -> None:
    headers = {**auth("owner"), "Accept-Language": "fr-CH, fr;q=0.9, en;q=0.5"}
    answer = client.post("/v1/query", json={"query": REVENUE}, headers=headers)
    assert answer.json()["columns"] == ["Région client", "Chiffre d'affaires net"]
    assert answer.headers["content-language"] == "fr"
    terms = client.get("/v1/terms", params={"kind": "metric"}, headers=headers).json()["terms"]
    assert {"id": "net_revenue", "label": "Chiffre d'affaires net"}.items() <= next(
        t for t in terms if t["id"] == "net_revenue"
    ).items()


def test_auth(served: tuple[str, Service], tmp_path: Path) -> None:
    url, _ = served
    with httpx.Client(base_url=url, timeout=60) as http:
        anonymous = http.post("/v1/query", json={"query": "SELECT order_count"})
        assert anonymous.status_code == 200  # as analyst
        wrong = http.post(
            "/v1/query", json={"query": "SELECT order_count"}, headers={"Authorization": "Bearer x"}
        )
        assert wrong.status_code == 401 and wrong.json()["code"] == "SEM121"
        assert wrong.headers["www-authenticate"] == "Bearer"
        assert "Bearer x" not in wrong.text
        refused = http.post("/v1/query", json={"query": "SELECT customer_name, order_count"})
        assert refused.status_code == 403
        body = refused.json()
        assert (body["code"], body["location"]) == ("SEM331", "<query>:1:8")
        assert body["hint"] and body["errors"][0]["code"] == "SEM331"
        hidden = http.get("/v1/terms/customer_name")
        assert hidden.status_code == 403 and hidden.json()["code"] == "SEM458"
        listed = [t["id"] for t in http.get("/v1/terms").json()["terms"]]
        assert "customer_name" not in listed and "net_revenue" in listed
        owner = [t["id"] for t in http.get("/v1/terms", headers=auth("owner")).json()["terms"]]
        assert "customer_name" in owner
    # a server without an anonymous role refuses a request without a token
    closed = Service.open(copy_project(tmp_path))
    with running(make_app(closed)) as other, httpx.Client(base_url=other) as http:
        answer = http.post("/v1/compile", json={"query": "SELECT order_count"})
        assert answer.status_code == 401 and answer.json()["code"] == "SEM121"
        assert http.get("/v1/health").status_code == 200
    closed.close()


def test_limits_answer_with_codes(client: httpx.Client) -> None:
    long = client.post(
        "/v1/compile", json={"query": "SELECT order_count" + " " * 2000}, headers=auth("owner")
    )
    assert long.status_code == 413 and long.json()["code"] == "SEM455"
    rows = client.post(
        "/v1/query", json={"query": "SELECT order_key, order_count"}, headers=auth("owner")
    )
    assert rows.status_code == 422 and rows.json()["code"] == "SEM435"
    bad = client.post("/v1/query", json={"query": "SELECT 1", "fromat": "csv"})
    assert bad.status_code == 422 and bad.json()["code"] == "SEM122"
    wrong = client.post("/v1/query", json={"query": "SELECT net_revenux"}, headers=auth("owner"))
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "SEM303" and "net_revenue" in wrong.json()["hint"]
    assert wrong.json()["location"] == "<query>:1:8"


def test_compile_and_explain(client: httpx.Client, served: tuple[str, Service]) -> None:
    project = Project.load(served[1].root)
    answer = client.post(
        "/v1/compile", json={"query": REVENUE, "dialect": "postgres"}, headers=auth("ann")
    )
    assert answer.json()["sql"] == project.compile(REVENUE, "postgres", role="emea_analyst")
    told = client.post("/v1/explain", json={"query": REVENUE}, headers=auth("ann")).json()
    assert told["explanation"] == project.explain(REVENUE, "emea_analyst")


def test_glossary_reads(client: httpx.Client, served: tuple[str, Service]) -> None:
    card = client.get("/v1/terms/Chiffre d'affaires net", headers=auth("owner")).json()
    assert card["id"] == "net_revenue"
    assert "customer_region" in [d["id"] for d in card["dimensions"]]
    analyst = client.get("/v1/terms/net_revenue").json()
    assert "customer_name" not in [d["id"] for d in analyst["dimensions"]]
    assert client.get("/v1/terms/net_revenux").status_code == 404
    lineage = client.get("/v1/terms/customer_region/lineage").json()
    assert lineage == Project.load(served[1].root).lineage("customer_region")
    found = client.get("/v1/search", params={"q": "revenu"}).json()["results"]
    model = Project.load(served[1].root).model
    assert [h["id"] for h in found] == [h.id for h in find_terms(model, "revenu")]
    named = client.get("/v1/search", params={"q": "customer"}).json()["results"]
    assert "customer_name" not in [h["id"] for h in named]  # above the analyst's clearance
    assert "customer_name" in [h.id for h in find_terms(model, "customer")]
    turtle = client.get("/v1/rdf", headers=auth("owner"))
    assert turtle.headers["content-type"].startswith("text/turtle") and "skos:" in turtle.text
    jsonld = client.get("/v1/rdf", params={"format": "json-ld"}, headers=auth("owner"))
    assert isinstance(jsonld.json(), (list, dict))
    assert client.get("/v1/rdf").status_code == 403  # the analyst may not read every term
    quality = client.get("/v1/quality", headers=auth("owner")).json()["results"]
    assert quality and {"rule", "passed"} <= quality[0].keys()
    # a role sees the results of the rules it may see, as `semantic quality --role` does
    project = Project.load(served[1].root)
    expected = [r.rule.id for r in run_quality(project, role="analyst", record=False).results]
    seen = client.get("/v1/quality").json()["results"]
    assert [r["rule"] for r in seen] == expected and 0 < len(seen) < len(quality)
    assert not {r["term"] for r in seen} & {"customer_name"}
    # ... and none to a role whose row filters keep rows from it
    filtered = client.get("/v1/quality", headers=auth("ann"))
    assert filtered.status_code == 403 and filtered.json()["code"] == "SEM458"


def test_status_shows_the_plan_cache(client: httpx.Client) -> None:
    query = {"query": "SELECT part_brand, line_count ORDER BY part_brand LIMIT 3"}
    for _ in range(4):
        client.post("/v1/compile", json=query, headers=auth("bob"))
    stats = client.get("/v1/status", headers=auth("owner")).json()["plan_cache"]
    assert stats["hits"] >= 3 and 0 < stats["hit_rate"] <= 1


def test_hot_reload_over_http(tmp_path: Path) -> None:
    service = Service.open(copy_project(tmp_path, "  anonymous_role: analyst\n"))
    service.watch(debounce=0.05)
    extra = service.root / "glossary" / "extra.yml"
    with running(make_app(service)) as url, httpx.Client(base_url=url, timeout=60) as http:
        ask = {"query": "SELECT big_order_count"}
        assert http.post("/v1/query", json=ask).json()["code"] == "SEM303"
        extra.write_text(EXTRA)
        wait_for(lambda: http.get("/v1/status").json()["version"] == 2)
        served_rows = http.post("/v1/query", json=ask).json()["rows"]
        assert served_rows == Project.load(service.root).query(ask["query"]).to_pylist()
        extra.write_text(EXTRA.replace("count(*)", "count(*"))
        wait_for(lambda: not http.get("/v1/status").json()["healthy"])
        status = http.get("/v1/status").json()
        located = status["errors"][1]
        assert f"{located['file']}:{located['line']}" == "glossary/extra.yml:8"
        assert http.post("/v1/query", json=ask).json()["rows"] == served_rows
        extra.write_text(EXTRA)
        wait_for(lambda: http.get("/v1/status").json()["healthy"])
    service.close()


def test_the_openapi_description_lists_the_interface(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/health",
        "/v1/compile",
        "/v1/query",
        "/v1/explain",
        "/v1/terms",
        "/v1/terms/{term}",
        "/v1/terms/{term}/lineage",
        "/v1/search",
        "/v1/rdf",
        "/v1/quality",
        "/v1/status",
    ):
        assert path in paths


def test_the_serve_command_runs_a_server(tmp_path: Path) -> None:
    """One `semantic serve` process: the HTTP API, the MCP server at /mcp and, with
    --pg-port, the PostgreSQL wire, each answering as the caller's role."""
    import psycopg

    root = copy_project(tmp_path, "  anonymous_role: analyst\n")
    port, pg_port = free_port(), free_port()
    audit = tmp_path / "audit.jsonl"
    server = subprocess.Popen(
        [sys.executable, "-m", "semantic.cli", "--audit-file", str(audit), "serve"]
        + ["--port", str(port), "--pg-port", str(pg_port), "--no-watch"],
        cwd=root,
        env=child_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{url}/v1/health").status_code == 200
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()
                return False

        wait_for(up, 60)
        token = auth("ann")["Authorization"].split()[1]
        answer = httpx.post(f"{url}/v1/query", json={"query": REVENUE}, headers=auth("ann"))
        assert answer.json()["rows"][0]["customer_region"] == "EUROPE"
        hello = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "0"},
            },
        }
        mcp = httpx.post(
            f"{url}/mcp/",
            json=hello,
            headers={**auth("ann"), "Accept": "application/json, text/event-stream"},
            follow_redirects=True,
        )
        assert mcp.status_code == 200 and "serverInfo" in mcp.text, mcp.text
        wire = f"host=127.0.0.1 port={pg_port} user=ann password={token} dbname=semantic"
        with psycopg.connect(wire, autocommit=True) as con:
            rows = con.execute("SELECT customer_region, net_revenue").fetchall()
        assert [r[0] for r in rows] == ["EUROPE"]
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert "serving tpch" in err and token not in err
    record = json.loads(audit.read_text().splitlines()[-1])
    surfaces = {json.loads(line)["semantic"]["surface"] for line in audit.read_text().splitlines()}
    assert {"http", "pgwire"} <= surfaces
    assert record["user"]["name"] == "ann"
    assert token not in audit.read_text()


def test_serve_help_loads_no_web_stack(tmp_path: Path) -> None:
    from tests.test_startup import loaded

    modules, done = loaded(tmp_path, "serve", "--help")
    assert done.returncode == 0 and "--port" in done.stdout, done.stderr
    assert modules & {"fastapi", "uvicorn", "watchfiles", "starlette", "pyarrow"} == set()
