"""The MCP server (semantic.serve.mcp), with the `mcp` SDK's own client against the real
server: `semantic mcp` spawned over standard input and output as docs/serve.md configures
it, and the streamable-HTTP app served by uvicorn on 127.0.0.1, mounted at /mcp as
`semantic serve` mounts it. Answers equal `Project.query`'s; roles, limits and the audit
trail hold; refusals carry their SEM code, location and hint."""

from __future__ import annotations

import asyncio
import decimal
import json
import os
import re
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from starlette.applications import Starlette
from starlette.routing import Mount

import semantic
from semantic.project import Project
from semantic.serve.mcp import make_server
from semantic.serve.mcphttp import asgi_app
from semantic.serve.service import Service
from tests.cli_runner import run_cli
from tests.compare import same_value
from tests.serving import TOKENS, copy_project, running

REVENUE = "SELECT customer_region, net_revenue ORDER BY customer_region"
TOOLS = {
    "search_terms",
    "list_terms",
    "describe_term",
    "compile_query",
    "run_query",
    "explain_query",
}
DOC = Path(__file__).resolve().parents[1] / "docs" / "serve.md"
#: a glossary file added while the server runs
EXTRA = """\
domain: extra
terms:
  big_order_count:
    label: {en: Big order count, fr: Nombre de grosses commandes}
    definition: {en: Orders over 300000., fr: Commandes de plus de 300000.}
    metric:
      entity: orders
      expr: count(*)
      filter: order_total_price > 300000
"""
#: a call to the server must answer within this many seconds
BOUND = 120

T = TypeVar("T")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The TPC-H project with the test tokens; without a token, the analyst role."""
    return copy_project(tmp_path_factory.mktemp("mcp"), "  anonymous_role: analyst\n")


def session(client: Client, check: Callable[[Client], Awaitable[T]]) -> T:
    """`check` run on `client` connected, within BOUND seconds."""

    async def connected() -> T:
        async with client:
            return await check(client)

    return asyncio.run(asyncio.wait_for(connected(), BOUND))


def documented(kind: str) -> dict[str, Any]:
    """The server entry of the `mcpServers` JSON block of docs/serve.md's MCP section that
    has `kind` (`command` or `url`)."""
    section = DOC.read_text().split("## MCP", 1)[1]
    for block in re.findall(r"```json\n(.*?)```", section, re.S):
        found = json.loads(block)
        entry = found.get("mcpServers", {}).get("semantic", {})
        if kind in entry:
            return dict(entry)
    raise AssertionError(f"no client configuration with {kind} in docs/serve.md")


def exact_rows(text: str) -> list[list[Any]]:
    """The rows of a run_query answer's text, decimals read as decimals."""
    return list(json.loads(text, parse_float=decimal.Decimal)["rows"])


def assert_rows(answer: Any, expected: list[dict[str, Any]]) -> None:
    """A run_query answer holds `expected` (`Project.query`'s rows), in order: the
    structured content and, every digit compared, the text."""
    assert not answer.is_error, answer.content[0].text
    content = answer.structured_content
    assert content["row_count"] == len(expected) and not content["truncated"]
    want = [list(row.values()) for row in expected]
    got = content["rows"]
    assert len(got) == len(want)
    for row, wanted in zip(got, want, strict=True):
        assert all(same_value(a, b) for a, b in zip(row, wanted, strict=True)), (row, wanted)
    assert exact_rows(answer.content[0].text) == want  # every digit of the decimals


def semantic_command() -> list[str]:
    """How to start `semantic` here: the installed script (beside this Python), else the
    module."""
    script = shutil.which("semantic", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "semantic.cli"]


def this_checkout() -> dict[str, str]:
    """The environment that makes a child process import this checkout's `semantic`."""
    source = str(Path(semantic.__file__).resolve().parents[1])
    paths = [source, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {"PYTHONPATH": os.pathsep.join(paths)}


# --- over standard input and output ---------------------------------------------------------


def test_stdio_server_as_documented(tmp_path: Path) -> None:
    """The server started by the documented client configuration, with ann's token (role
    emea_analyst): its tools, a search in French, a term's card, a query equal to
    Project.query's with the role's rows only, an error with its code, the audit records; a
    term added to the glossary is served once reloaded."""
    project = copy_project(tmp_path / "project", "  anonymous_role: analyst\n")
    entry = documented("command")
    assert entry["command"] == "semantic"
    args = [str(project) if a == "/path/to/project" else a for a in entry["args"]]
    assert "/path/to/project" in entry["args"] and entry["env"]["SEMANTIC_TOKEN"] == "tok-..."
    audit = tmp_path / "audit.jsonl"
    env = {**this_checkout(), "SEMANTIC_TOKEN": TOKENS["ann"][0], "SEMANTIC_AUDIT_FILE": str(audit)}
    command = semantic_command()
    params = StdioServerParameters(command=command[0], args=[*command[1:], *args], env=env)
    expected = Project.load(project).query(REVENUE, role="emea_analyst").to_pylist()

    async def check(client: Client) -> dict[str, Any]:
        listed = await client.list_tools()
        found = {
            "tools": {t.name for t in listed.tools},
            "search": await client.call_tool("search_terms", {"text": "chiffre d'affaires"}),
            "card": await client.call_tool("describe_term", {"term": "CA net"}),
            "rows": await client.call_tool("run_query", {"query": REVENUE}),
            "error": await client.call_tool("run_query", {"query": "SELECT pays, net_revenue"}),
        }
        (project / "glossary" / "extra.yml").write_text(EXTRA)
        for _ in range(BOUND * 10):  # until reloaded (the call is bounded by `session`)
            added = await client.call_tool("run_query", {"query": "SELECT big_order_count"})
            if not added.is_error:
                break
            await asyncio.sleep(0.1)
        found["added"] = added
        return found

    found = session(Client(params), check)
    assert found["tools"] == TOOLS
    hits = found["search"].structured_content["hits"]
    assert {"net_revenue", "gross_revenue"} <= {h["id"] for h in hits[:2]}
    assert hits[0]["language"] == "fr" and hits[0]["text"].startswith("Chiffre d'affaires")
    card = found["card"].structured_content
    assert (card["id"], card["status"], card["owners"]) == ("net_revenue", "approved", ["finance"])
    assert card["labels"]["fr"] == "Chiffre d'affaires net" and "CA" in card["synonyms"]["fr"]
    assert card["definitions"]["en"].startswith("Sum of the extended price")
    assert {"customer_region", "order_date"} <= {d["id"] for d in card["dimensions"]}
    assert {"column": "l_discount", "entity": "lineitem", "table": "lineitem"} in card["lineage"][
        "reads"
    ]
    assert_rows(found["rows"], expected)
    assert [r[0] for r in found["rows"].structured_content["rows"]] == ["EUROPE"]
    refused = found["error"]
    assert refused.is_error
    body = refused.structured_content
    assert (body["code"], body["location"]) == ("SEM303", "<query>:1:8")
    assert "pays" in body["message"] and body["hint"]
    assert refused.content[0].text.startswith("<query>:1:8: SEM303 unknown term 'pays'")
    assert "  | SELECT pays, net_revenue" in refused.content[0].text
    want = Project.load(project).query("SELECT big_order_count", role="emea_analyst")
    assert_rows(found["added"], want.to_pylist())
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    queries = [r for r in records if r["event"]["action"] == "query"]
    assert [r["event"]["outcome"] for r in queries[:2]] == ["success", "failure"]
    assert queries[-1]["event"]["outcome"] == "success"
    assert {r["user"]["name"] for r in records} == {"ann"}
    assert {r["semantic"]["surface"] for r in records} == {"mcp"}


def test_stdio_refuses_an_unknown_token(project: Path) -> None:
    done = run_cli("mcp", "--no-watch", "--token", "tok-guess", project=project)
    assert done.exit_code == 1 and done.stdout == ""
    assert "SEM121 the bearer token is not one of the server's" in done.stderr
    assert "--token TOKEN or SEMANTIC_TOKEN" in done.stderr


def test_stdio_without_a_token_needs_an_anonymous_role(tmp_path: Path) -> None:
    bare = copy_project(tmp_path)  # no serve.anonymous_role
    done = run_cli("mcp", "--no-watch", project=bare, env={"SEMANTIC_TOKEN": ""})
    assert done.exit_code == 1
    assert "SEM121 this server needs a bearer token" in done.stderr


# --- over streamable HTTP -------------------------------------------------------------------


def over_http(url: str, name: str | None) -> Client:
    """A client of the MCP endpoint `url`, with the bearer token of test caller `name`
    (none when None)."""
    import httpx2

    headers = {"Authorization": f"Bearer {TOKENS[name][0]}"} if name else {}
    return Client(streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers)))


def test_http_callers_have_their_roles(project: Path) -> None:
    """Mounted at /mcp as `semantic serve` mounts it: each request's bearer token names its
    caller. The owner's rows equal Project.query's; ann sees Europe only; bob (analyst) is
    refused customer_name (SEM331), its card (SEM458) and its resource, and his term list
    leaves it out; without a token, the anonymous role; an unknown token is answered 401, a
    request naming another host 421."""
    service = Service.open(project)
    loaded = Project.load(project)
    app = Starlette(routes=[Mount("/mcp", asgi_app(service))])

    async def owner(client: Client) -> Any:
        return await client.call_tool("run_query", {"query": REVENUE})

    async def bob(client: Client) -> dict[str, Any]:
        found: dict[str, Any] = {
            "query": await client.call_tool(
                "run_query", {"query": "SELECT customer_name, order_count"}
            ),
            "card": await client.call_tool("describe_term", {"term": "customer_name"}),
            "terms": await client.read_resource("glossary://terms?language=fr"),
        }
        try:
            await client.read_resource("glossary://terms/customer_name")
        except MCPError as exc:
            found["resource"] = str(exc)
        return found

    try:
        with running(app) as base:
            url = base + "/mcp"
            assert_rows(session(over_http(url, "owner"), owner), loaded.query(REVENUE).to_pylist())
            ann = session(over_http(url, "ann"), owner)
            assert_rows(ann, loaded.query(REVENUE, role="emea_analyst").to_pylist())
            assert [r[0] for r in ann.structured_content["rows"]] == ["EUROPE"]
            anonymous = session(over_http(url, None), owner)
            assert_rows(anonymous, loaded.query(REVENUE, role="analyst").to_pylist())
            refused = session(over_http(url, "bob"), bob)
            unknown = httpx.post(
                url + "/",
                headers={"Authorization": "Bearer tok-guess"},
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            )
            rebound = httpx.post(
                url + "/",
                headers={"Host": "evil.example", "Accept": "application/json, text/event-stream"},
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            )
    finally:
        service.close()
    body = refused["query"].structured_content
    assert refused["query"].is_error and (body["code"], body["location"]) == (
        "SEM331",
        "<query>:1:8",
    )
    assert body == error_documented() | {"errors": body["errors"]}
    assert refused["card"].is_error and refused["card"].structured_content["code"] == "SEM458"
    assert "SEM458" in refused["resource"] and "customer_name" in refused["resource"]
    listed = json.loads(refused["terms"].contents[0].text)["terms"]
    ids = {t["id"] for t in listed}
    assert "net_revenue" in ids and "customer_name" not in ids
    assert next(t["label"] for t in listed if t["id"] == "net_revenue") == "Chiffre d'affaires net"
    assert unknown.status_code == 401 and unknown.headers["www-authenticate"] == "Bearer"
    assert unknown.json()["code"] == "SEM121" and unknown.json()["hint"]
    assert rebound.status_code == 421  # a loopback server answers no other host


def error_documented() -> dict[str, Any]:
    """The error body docs/serve.md shows, but its list of every problem."""
    section = DOC.read_text().split("## MCP", 1)[1]
    for block in re.findall(r"```json\n(.*?)```", section, re.S):
        found = json.loads(block)
        if "code" in found:
            return {k: v for k, v in found.items() if k != "errors"}
    raise AssertionError("no error body in docs/serve.md")


def test_the_documented_http_configuration_connects(project: Path) -> None:
    """The documented HTTP client configuration's path and header reach the endpoint."""
    entry = documented("url")
    assert entry["type"] == "http" and entry["url"].endswith(":8765/mcp")
    token = TOKENS["ann"][0]
    headers = {k: v.replace("${SEMANTIC_TOKEN}", token) for k, v in entry["headers"].items()}
    service = Service.open(project)
    app = Starlette(routes=[Mount("/mcp", asgi_app(service))])

    async def check(client: Client) -> set[str]:
        return {t.name for t in (await client.list_tools()).tools}

    import httpx2

    try:
        with running(app) as base:
            url = entry["url"].replace("http://127.0.0.1:8765", base)
            http = httpx2.AsyncClient(headers=headers)
            assert session(Client(streamable_http_client(url, http_client=http)), check) == TOOLS
    finally:
        service.close()


# --- the tools' own rules (the server in process) ------------------------------------------


def test_rows_are_capped(project: Path) -> None:
    """run_query's rows are cut at max_rows (SEM461), which has bounds (SEM122), and its
    columns are named in a language on request; compile and explain answer what the project
    does for the anonymous role."""
    service = Service.open(project)

    async def check(client: Client) -> list[Any]:
        return [
            await client.call_tool("run_query", {"query": REVENUE, "max_rows": 2}),
            await client.call_tool("run_query", {"query": REVENUE, "max_rows": 0}),
            await client.call_tool("compile_query", {"query": "SELECT order_count"}),
            await client.call_tool("explain_query", {"query": "SELECT order_count"}),
            await client.call_tool("run_query", {"query": REVENUE, "language": "fr"}),
        ]

    try:
        cut, zero, compiled, explained, french = session(Client(make_server(service)), check)
        loaded = Project.load(project)
    finally:
        service.close()
    content = cut.structured_content
    assert (len(content["rows"]), content["row_count"], content["truncated"]) == (2, 5, True)
    warning = content["warnings"][0]
    assert (warning["code"], warning["severity"]) == ("SEM461", "warning")
    assert warning["message"] == "the query returned 5 rows; the first 2 are shown"
    assert zero.is_error and zero.structured_content["code"] == "SEM122"
    sql = loaded.compile("SELECT order_count", role="analyst")
    assert compiled.structured_content["sql"] == sql == compiled.content[0].text
    want = loaded.explain("SELECT order_count", "analyst")
    assert explained.structured_content["explanation"] == want == explained.content[0].text
    terms = loaded.model.terms
    labels = [terms["customer_region"].label("fr"), terms["net_revenue"].label("fr")]
    assert french.structured_content["columns"] == labels
    assert labels[1] == "Chiffre d'affaires net"


def test_the_rdf_resource_is_for_who_reads_every_term(project: Path) -> None:
    service = Service.open(project)

    async def read(client: Client) -> str:
        try:
            found = await client.read_resource("glossary://rdf/turtle")
        except MCPError as exc:
            return f"refused: {exc}"
        return str(found.contents[0].text)

    try:
        owner = session(Client(make_server(service, TOKENS["owner"][0])), read)
        bob = session(Client(make_server(service, TOKENS["bob"][0])), read)
    finally:
        service.close()
    assert "skos:prefLabel" in owner and '"Chiffre d\'affaires net"@fr' in owner
    assert bob.startswith("refused:") and "SEM458" in bob


def test_without_the_sdk_the_command_says_what_to_install(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mcp" else real(name, *a)
    )
    done = run_cli("mcp", project=project)
    assert done.exit_code == 1
    assert "SEM460 `semantic mcp` needs mcp, which is not installed" in done.stderr
    assert "pip install 'semantic[serve]'" in done.stderr


SECRET = """\
domain: secret
terms:
  secret_margin:
    label: {en: Secret margin, fr: Marge secrète}
    definition: {en: Net revenue doubled., fr: Le chiffre d'affaires net doublé.}
    confidentiality: restricted
    metric:
      expr: net_revenue * 2
"""


def test_a_card_names_no_term_the_caller_may_not_read(tmp_path: Path) -> None:
    """A metric above bob's clearance computed from net_revenue is left out of net_revenue's
    card for him, in its lineage too; the owner sees it."""
    project = copy_project(tmp_path / "project")
    (project / "glossary" / "secret.yml").write_text(SECRET)
    service = Service.open(project)

    async def describe(client: Client) -> Any:
        return (await client.call_tool("describe_term", {"term": "net_revenue"})).structured_content

    try:
        owner = session(Client(make_server(service, TOKENS["owner"][0])), describe)
        bob = session(Client(make_server(service, TOKENS["bob"][0])), describe)
    finally:
        service.close()
    assert "secret_margin" in owner["used_by"] and "secret_margin" in owner["lineage"]["used_by"]
    assert "secret_margin" not in json.dumps(bob)
