"""The test tiers: `make test` starts no service (no JVM even when Java is installed, no
browser), `make test-all` runs everything with the full budgets, and the Makefile and CI say
so (see the README and docs/benchmarks.md "Test suite")."""

from __future__ import annotations

import re

import pytest

from tests import services
from tests.budget import examples
from tests.conftest import ROOT

SPARK_VARIABLES = ("SEMANTIC_SLOW", services.SPARK_MASTER_VARIABLE, services.SPARK_CONNECT_VARIABLE)


@pytest.fixture
def fast_tier(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The environment of `make test`: no slow tier, no Spark service."""
    for name in SPARK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_make_test_starts_no_spark(fast_tier: pytest.MonkeyPatch) -> None:
    """Java being installed is not a reason to start a JVM: the Spark fixtures skip."""
    assert not services.spark_wanted()
    with pytest.raises(pytest.skip.Exception, match="SEMANTIC_SLOW=1"):
        services.require_spark()


@pytest.mark.parametrize("variable", SPARK_VARIABLES)
def test_the_slow_tier_or_a_spark_service_starts_spark(
    fast_tier: pytest.MonkeyPatch, variable: str
) -> None:
    fast_tier.setenv(variable, "1" if variable == "SEMANTIC_SLOW" else "spark://127.0.0.1:7077")
    assert services.spark_wanted()


def test_budgets_are_full_in_the_slow_tier_and_a_variable_wins(
    fast_tier: pytest.MonkeyPatch,
) -> None:
    assert examples(full=50, fast=20) == 20
    fast_tier.setenv("SEMANTIC_SLOW", "1")
    assert examples(full=50, fast=20) == 50
    fast_tier.setenv("SEMANTIC_TEST_BUDGET", "1000")
    assert examples(full=50, fast=20, variable="SEMANTIC_TEST_BUDGET") == 1000


def test_the_browser_tests_belong_to_test_all() -> None:
    from tests import test_catalog_browser

    assert test_catalog_browser.pytestmark.name == "slow"


def test_ci_runs_make_test_all_with_the_slow_tier_and_the_budgets() -> None:
    """.ci/run is `make test-all`, which starts the services and runs `make test` with the
    slow tests and CI's budgets; `make demo` installs the runtime only."""
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test-all$", ci, re.M)
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest-all:", 1)[1].split("\n\n", 1)[0]
    assert "bash .ci/services" in recipe
    for setting in (
        "SEMANTIC_SLOW=1",
        "SEMANTIC_DIFFERENTIAL_EXAMPLES=1000",
        "SEMANTIC_FUZZ_EXAMPLES=1000",
    ):
        assert setting in recipe
    test = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "$(CHECKS)" in recipe and "$(CHECKS)" in test  # the same checks in both tiers
    assert re.search(r"^demo: \$\(RUNTIME\)$", makefile, re.M)
    runtime = makefile.split("\n$(RUNTIME):", 1)[1].split("\n\n", 1)[0]
    assert "-e ." in runtime and "[dev]" not in runtime and "--quiet" not in runtime
