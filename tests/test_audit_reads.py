"""The audit records of the reads that are no business query (docs/audit.md, "Every read"):
`semantic lineage`, `translate`, `quality`, `docs build`, `views plan` and `apply`, `show`,
`search`, `terms`, and the server's reads of the glossary each write a record with their own
`event.action`, the terms they showed, and a failure's code; never a value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from semantic.audit import scope
from semantic.errors import SemanticError
from semantic.serve.service import Service
from tests.cli_runner import run_cli
from tests.conftest import ROOT
from tests.serving import TOKENS, copy_project


def records(path: Path) -> list[dict[str, Any]]:
    """The records of an audit file, each line parsed on its own."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def last_of(path: Path, action: str) -> dict[str, Any]:
    """The last record of `action` in the file."""
    found = [r for r in records(path) if r["event"]["action"] == action]
    assert found, f"no {action} record in {[r['event']['action'] for r in records(path)]}"
    return found[-1]


def run(path: Path, *argv: str, code: int = 0) -> None:
    done = run_cli("--audit-file", path, "--caller", "ann", *argv)
    assert done.exit_code == code, done.stderr


def test_lineage_search_show_and_terms_record_the_terms_they_show(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    run(path, "lineage", "revenue_growth")
    record = last_of(path, "lineage")
    assert record["event"]["type"] == ["info"]
    assert record["semantic"]["query"] == {"text": "revenue_growth", "form": "term"}
    assert record["semantic"]["terms"][0] == "revenue_growth"
    assert set(record["semantic"]["terms"]) > {"revenue_growth", "net_revenue"}
    assert record["user"]["name"] == "ann" and record["semantic"]["command"] == "lineage"

    run(path, "search", "téléphone", "--role", "analyst")
    record = last_of(path, "search")
    assert record["user"]["roles"] == ["analyst"]
    assert "customer_phone" not in record["semantic"]["terms"]
    run(path, "search", "téléphone")
    assert "customer_phone" in last_of(path, "search")["semantic"]["terms"]

    run(path, "show", "Téléphone du client")
    assert last_of(path, "show")["semantic"]["terms"] == ["customer_phone"]
    run(path, "show", "Téléphone du client", "--role", "analyst", code=1)
    refused = last_of(path, "show")
    assert refused["event"]["outcome"] == "failure" and refused["error"]["code"] == "SEM201"

    run(path, "terms", "--role", "analyst")
    listed = last_of(path, "terms")["semantic"]["terms"]
    assert "order_count" in listed and "customer_phone" not in listed


def test_translate_records_the_physical_sql_and_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    sql = (ROOT / "tests" / "fixtures" / "tpch" / "q05.sql").read_text()
    run(path, "translate", sql)
    actions = [r["event"]["action"] for r in records(path)]
    # the business query's own records come first (compile, query), then the translation
    assert actions[-1] == "translate" and "query" in actions
    record = last_of(path, "translate")
    assert record["event"]["type"] == ["access"]
    assert record["semantic"]["query"] == {"text": sql, "form": "sql"}
    assert {"customer_nation", "net_revenue"} <= set(record["semantic"]["terms"])
    assert record["semantic"]["rows"] == 5
    assert record["semantic"]["engine"] == {"name": "duckdb", "url": "duckdb:"}


def test_quality_with_a_role_is_recorded_and_refused_for_filters(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    run(path, "quality", "--no-record", "--role", "support_agent")
    record = last_of(path, "quality")
    assert record["event"]["type"] == ["access"] and record["user"]["roles"] == ["support_agent"]
    assert "market_segment" in record["semantic"]["terms"]
    assert "customer_phone" not in record["semantic"]["terms"]  # masked: its rule left out
    run(path, "quality", "--no-record", "--role", "emea_analyst", code=1)
    refused = last_of(path, "quality")
    assert refused["event"]["outcome"] == "failure"
    assert refused["error"]["code"] == "SEM338"


def test_views_plan_and_docs_build_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    run(path, "views", "plan", "--role", "analyst")
    record = last_of(path, "views-plan")
    assert record["event"]["type"] == ["info"] and record["user"]["roles"] == ["analyst"]
    run(path, "docs", "build", "--no-samples", "--role", "analyst", "-o", str(tmp_path / "site"))
    record = last_of(path, "docs-build")
    assert record["event"]["type"] == ["access"] and record["semantic"]["command"] == "docs"
    assert "order_count" in record["semantic"]["terms"]
    assert "customer_phone" not in record["semantic"]["terms"]


def test_views_apply_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    target = f"duckdb:///{tmp_path / 'views.duckdb'}"
    run(path, "views", "apply", "--engine", target, "--role", "analyst", "--skip-quality")
    record = last_of(path, "views-apply")
    assert record["event"]["type"] == ["access"] and record["event"]["outcome"] == "success"
    assert record["semantic"]["engine"]["url"] == target


def test_the_servers_glossary_reads_are_recorded(tmp_path: Path) -> None:
    from semantic.serve import glossary

    path = tmp_path / "audit.jsonl"
    with scope(file=path):
        served = Service.open(copy_project(tmp_path / "p", tokens=True))
    try:
        bob = served.authenticate(TOKENS["bob"][0])  # analyst
        with served.request(bob) as version:
            glossary.term(version, bob, "net_revenue")
            glossary.search(version, bob, "phone")
            glossary.lineage(version, bob, "net_revenue")
            glossary.terms(version, bob)
            with pytest.raises(SemanticError):
                glossary.term(version, bob, "customer_phone")
            glossary.quality(version, bob)  # the rules the analyst may see
    finally:
        served.close()
    # a card's example and dimensions compile queries, each with its own record
    reads = [r for r in records(path) if r["event"]["action"] != "compile"]
    found = [(r["event"]["action"], r["event"]["outcome"]) for r in reads]
    assert found == [
        ("show", "success"),
        ("search", "success"),
        ("lineage", "success"),
        ("terms", "success"),
        ("show", "failure"),
        ("quality", "success"),
    ]
    for record in reads:
        assert record["user"] == {"name": "bob", "roles": ["analyst"]}
        assert "customer_phone" not in record["semantic"]["terms"]
    assert reads[4]["error"]["code"] == "SEM458" and reads[2]["semantic"]["terms"]
    assert reads[5]["semantic"]["terms"]


def test_the_wires_catalog_queries_are_recorded(tmp_path: Path) -> None:
    """A BI tool's catalog query over the PostgreSQL wire (the tables and columns a role
    may read) is a `catalog` read, with the terms the catalog lists."""
    import psycopg

    from semantic.serve.pgwire import start

    path = tmp_path / "audit.jsonl"
    with scope(file=path):
        served = Service.open(copy_project(tmp_path / "p", tokens=True))
    server = start(served, "127.0.0.1", 0)
    try:
        dsn = (
            f"host=127.0.0.1 port={server.port} user=x password={TOKENS['bob'][0]} "
            "dbname=semantic connect_timeout=10"
        )
        with psycopg.connect(dsn, autocommit=True) as conn:
            listed = conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s",
                ["public"],
            ).fetchall()
    finally:
        server.close()
        served.close()
    assert listed
    record = last_of(path, "catalog")
    assert record["event"]["type"] == ["info"] and record["event"]["outcome"] == "success"
    assert record["user"] == {"name": "bob", "roles": ["analyst"]}
    assert record["semantic"]["surface"] == "pgwire"
    assert "information_schema.columns" in record["semantic"]["query"]["text"]
    assert "net_revenue" in record["semantic"]["terms"]
    assert "customer_phone" not in record["semantic"]["terms"]


def test_every_action_is_documented() -> None:
    from typing import get_args

    from semantic.audit import Action

    text = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `event.action`"))
    assert [a for a in get_args(Action) if f"`{a}`" not in row] == []
