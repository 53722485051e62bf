"""`--role` and `--user-attr` on compile, query and explain, through the real CLI."""

from __future__ import annotations

import pytest

from tests.cli_runner import run_cli


def test_a_confidential_term_is_refused_to_the_analyst() -> None:
    result = run_cli("query", "--role", "analyst", "SELECT customer_name, order_count")
    assert result.exit_code == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("<query>:1:8: SEM331 term 'customer_name' is confidential")
    assert "Traceback" not in result.stderr


def test_emea_analyst_sees_europe_only() -> None:
    result = run_cli(
        "query", "--role", "emea_analyst", "SELECT customer_region, order_count", "-f", "csv"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["customer_region,order_count", "EUROPE,2723"]
    total = run_cli("query", "--role", "emea_analyst", "SELECT order_count", "-f", "csv")
    assert total.stdout.splitlines() == ["order_count", "2723"]


def test_the_role_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEMANTIC_ROLE", "emea_analyst")
    result = run_cli("query", "SELECT order_count", "-f", "csv")
    assert result.stdout.splitlines() == ["order_count", "2723"], result.stderr
    explained = run_cli("explain", "SELECT order_count")
    assert explained.stdout.startswith("policy: role emea_analyst (clearance internal)")


def test_user_attributes_bind_the_roles_filter() -> None:
    args = (
        "query",
        "--role",
        "country_manager",
        "SELECT customer_nation, order_count",
        "-f",
        "csv",
    )
    result = run_cli(*args, "--user-attr", "nation=FRANCE")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("FRANCE,")
    missing = run_cli(*args)
    assert missing.exit_code == 1 and "SEM257" in missing.stderr
    bad = run_cli(*args, "--user-attr", "nation")
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.stderr


def test_compile_with_a_role_writes_the_restricted_sql() -> None:
    result = run_cli("compile", "--role", "emea_analyst", "SELECT order_count", "-d", "postgres")
    assert result.exit_code == 0, result.stderr
    assert "r_name = 'EUROPE'" in result.stdout and "FROM (" in result.stdout
    masked = run_cli("compile", "--role", "support_agent", "SELECT customer_name, order_count")
    assert "MD5(" in masked.stdout
    unknown = run_cli("compile", "--role", "analyts", "SELECT order_count")
    assert unknown.exit_code == 1 and "SEM256" in unknown.stderr and "'analyst'" in unknown.stderr


def test_a_masked_column_cannot_be_filtered() -> None:
    result = run_cli(
        "query", "--role", "support_agent", "SELECT order_count WHERE customer_phone LIKE '25-%'"
    )
    assert result.exit_code == 1 and result.stderr.startswith("<query>:1:26: SEM332")
