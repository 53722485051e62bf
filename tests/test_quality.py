"""Quality rules measured on real data, against counts made by hand."""

from __future__ import annotations

import json
from pathlib import Path

from semantic.outputs.quality import project_quality
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.projects import write_data, write_project
from tests.test_errors import GLOSSARY, MODEL


def test_tpch_rules_pass_and_are_measured_on_every_row(project: Project) -> None:
    every = project_quality(project)
    results = {r.rule.id: r for r in every if r.rule.entity == "lineitem" or r.rule.term}
    declared = {
        "quantity_is_positive",
        "discount_is_a_rate",
        "received_after_shipping",
        "total_price_is_positive",
        "phone_is_well_formed",
        "status_is_known",
        "orders_are_loaded",
        "every_order_has_lines",
        "tax_is_a_rate",
        "revenue_is_positive",
        "segment_is_known",
        "shipments_are_recent",
    }
    assert declared <= {r.rule.id for r in every}
    # then the built-in rules of key integrity: each primary key not NULL and unique, each
    # foreign key found (each relationship is `required`), each row that a metric reads
    # through a relationship found, each of the 51 columns outside a primary key not NULL
    # (`nullable: false`)
    builtin = [r for r in every if r.rule.id not in declared]
    assert len(builtin) == 8 + 8 + 10 + 1 + 51
    assert {"primary_key_not_null", "primary_key_unique", "partsupp_found"} <= set(results)
    assert {"orders_required", "l_quantity_not_null"} <= set(results)
    assert results["orders_required"].rule.threshold == 1.0
    assert results["partsupp_found"].rule.term == "profit"
    assert all(r.passed and r.score == 1.0 for r in builtin)
    lines = project.engine.fetch("SELECT count(*) FROM lineitem")[0][0]
    assert results["discount_is_a_rate"].rows == lines
    assert all(r.passed and r.score == 1.0 for r in results.values())
    assert results["phone_is_well_formed"].rule.term == "customer_phone"


def test_failing_rule_counts_nulls_as_not_met_and_exits_non_zero(tmp_path: Path) -> None:
    model = MODEL.replace(
        "    relationships:",
        "    quality:\n"
        "      positive: {dimension: validity, check: amount > 0, threshold: 0.5}\n"
        "      strict: {dimension: validity, check: amount > 0}\n"
        "    relationships:",
    )
    write_project(tmp_path, {"models/m.yml": model, "glossary/g.yml": GLOSSARY})
    # amounts 10, -5, NULL, 7: two of four rows meet `amount > 0` (NULL does not)
    write_data(
        tmp_path,
        {
            "orders": "SELECT * FROM (VALUES (1, 1, 10), (2, 1, -5), (3, 1, NULL), (4, 1, 7)) "
            "t(id, customer_id, amount)",
            "customers": "SELECT * FROM (VALUES (1, 'X')) t(id, region)",
        },
    )
    results = {r.rule.id: r for r in project_quality(Project.load(tmp_path))}
    assert (results["positive"].rows, results["positive"].passing) == (4, 2)
    assert results["positive"].passed and not results["strict"].passed
    result = run_cli("quality", "-f", "json", project=tmp_path)
    assert result.exit_code == 1
    rows = {r["rule"]: r for r in json.loads(result.stdout)["rules"]}
    assert rows["strict"] | {"check": None} == {
        "rule": "strict",
        "entity": "orders",
        "term": None,
        "kind": "check",
        "dimension": "validity",
        "severity": "error",
        "check": None,
        "rows": 4,
        "failing": 2,
        "score": 0.5,
        "threshold": 1.0,
        "passed": False,
        "value": None,
    }


def test_quality_command_on_the_default_project() -> None:
    result = run_cli("quality", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    # 12 declared rules, 27 built-in ones of key integrity, 51 of columns not NULL
    assert result.stdout.count("True") == 12 + 27 + 51
