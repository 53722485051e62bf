"""Key integrity beyond `check --data` (issue #19, section 4): built-in quality rules, the
publication gate, and queries over data that breaks a declared key (SEM441), with the
measures kept while the data files do not change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from semantic.engines import integrity_cache
from semantic.errors import SemanticError
from semantic.outputs.publish import publish_views
from semantic.outputs.quality import project_quality
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.conftest import ROOT
from tests.soundness.test_bad_data import GLOSSARY, MODEL, TABLES
from tests.test_views import file_engine
from tests.tiny_engines import tiny_project


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SEMANTIC_CACHE_DIR", str(folder))
    return folder


def duplicated(tmp_path: Path) -> Project:
    """The shop of the soundness tests with customer 2 loaded twice."""
    tables = dict(TABLES)
    columns, rows = TABLES["customer"]
    tables["customer"] = (columns, (*rows, (2, "c7", "B", 20)))
    root = tmp_path / "shop"
    root.mkdir()
    return tiny_project(root, MODEL, GLOSSARY, tables)


def bookshop(tmp_path: Path, customers: str) -> Project:
    """A copy of examples/bookshop whose customers.csv ends with `customers`."""
    root = tmp_path / "bookshop"
    shutil.copytree(ROOT / "examples" / "bookshop", root)
    with (root / "data" / "customers.csv").open("a", encoding="utf-8") as handle:
        handle.write(customers)
    return Project.load(root)


def test_quality_scores_the_keys(tmp_path: Path) -> None:
    every = project_quality(duplicated(tmp_path))
    results = {(r.rule.entity, r.rule.id, r.rule.term): r for r in every}
    assert len(results) == len(every)
    # 7 customers: 3 without an id, 2 sharing id 2
    nulls = results[("customer", "primary_key_not_null", None)]
    assert (nulls.rows, nulls.passing, nulls.passed) == (7, 4, False)
    assert nulls.rule.dimension == "completeness" and nulls.rule.threshold == 1.0
    unique = results[("customer", "primary_key_unique", None)]
    assert (unique.rows, unique.passing, unique.passed) == (7, 5, False)
    # 2 of the 4 lines have no offer: measured, and legal (threshold 0)
    found = results[("line", "offer_found", None)]
    assert (found.rows, found.passing, found.passed) == (4, 2, True)
    assert found.rule.dimension == "integrity" and found.rule.threshold == 0.0
    assert found.rule.kind == "relationship" and found.rule.severity == "warning"
    # and profit, which reads the offer's cost, leaves those 2 lines out
    covered = results[("line", "offer_found", "profit")]
    assert (covered.rows, covered.passing, covered.passed) == (4, 2, True)
    assert results[("orders", "customer_found", None)].score == 1.0


def test_quality_command_fails_on_a_broken_key(tmp_path: Path) -> None:
    project = duplicated(tmp_path)
    result = run_cli("quality", "-f", "json", project=project.root)
    assert result.exit_code == 1
    failed = {
        (r["entity"], r["rule"]) for r in json.loads(result.stdout)["rules"] if not r["passed"]
    }
    assert failed == {("customer", "primary_key_not_null"), ("customer", "primary_key_unique")}


@pytest.mark.parametrize(
    ("rows", "code"),
    [("7,Eva Null,Sevilla\n,Nobody,Nowhere\n", "SEM439"), ("2,Luc Again,Lyon\n", "SEM406")],
)
def test_views_are_not_published_over_a_broken_key(tmp_path: Path, rows: str, code: str) -> None:
    """The views over the entity whose key is broken are withheld (SEM415, per view);
    the others are published."""
    shop = bookshop(tmp_path, rows)
    engine = file_engine(shop, tmp_path / "shop.duckdb")
    try:
        plan = publish_views(shop.model, engine)
    finally:
        engine.close()
    rule = {"SEM439": "primary_key_not_null", "SEM406": "primary_key_unique"}[code]
    withheld = dict(plan.gated)
    assert "customers" in withheld and f"customers.{rule}" in withheld["customers"]
    assert "books" not in withheld and "books" in {v.name for v in plan.views}
    diagnostic = next(n for n in plan.notices if "'semantic.customers'" in n.message)
    assert diagnostic.code == "SEM415"
    assert str(diagnostic.span).startswith("models/")


def test_a_query_over_a_broken_key_warns_on_stderr(tmp_path: Path) -> None:
    project = duplicated(tmp_path)
    result = run_cli("query", "SELECT ship_mode, customer_count", project=project.root)
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "SEM441" in line]
    assert len(warnings) == 2  # NULL ids, and id 2 twice
    assert all(w.startswith("models/m.yml:") and "warning: SEM441" in w for w in warnings)
    assert "2 row(s) have a NULL" not in result.stderr
    assert "3 row(s) have a NULL in its primary key (id)" in result.stderr
    assert "1 value(s) of (id) appear more than once (e.g. 2) in 2 rows" in result.stderr


def test_a_query_that_reads_no_broken_key_does_not_warn(tmp_path: Path) -> None:
    project = duplicated(tmp_path)
    project.query("SELECT ship_mode, revenue")
    assert project.query_warnings("SELECT ship_mode, revenue") == []
    # compiling reads no data, and says nothing of it
    assert project.query_warnings("SELECT ship_mode, customer_count") == []


def test_a_query_of_a_metric_that_loses_rows_says_so(tmp_path: Path) -> None:
    project = duplicated(tmp_path)
    project.query("SELECT ship_mode, profit")
    (warning,) = project.query_warnings("SELECT ship_mode, profit")
    assert warning.code == "SEM440" and warning.severity == "warning"
    assert "2 of its 4 rows of 'line' (50.0%)" in warning.message


def test_refuse_mode_refuses_a_query_over_a_broken_key(tmp_path: Path) -> None:
    project = duplicated(tmp_path)
    config = project.root / "semantic.yml"
    config.write_text(config.read_text() + "broken_keys: refuse\n")
    strict = Project.load(project.root)
    with pytest.raises(SemanticError) as caught:
        strict.query("SELECT segment, customer_count")
    assert [d.code for d in caught.value.diagnostics] == ["SEM441", "SEM441"]
    assert all(d.severity == "error" for d in caught.value.diagnostics)
    # a query that reads other entities still runs
    assert strict.query("SELECT ship_mode, revenue").num_rows == 2


def test_ignore_mode_checks_nothing(tmp_path: Path, cache: Path) -> None:
    project = duplicated(tmp_path)
    config = project.root / "semantic.yml"
    config.write_text(config.read_text() + "broken_keys: ignore\n")
    quiet = Project.load(project.root)
    quiet.query("SELECT ship_mode, customer_count")
    assert quiet.query_warnings("SELECT ship_mode, customer_count") == []
    assert not (cache / "keys").exists()  # no key measured (the YAML trees are kept beside)


def test_measures_are_kept_while_the_files_do_not_change(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = duplicated(tmp_path)
    calls = []
    measure = integrity_cache.measure_keys

    def counted(*args: object) -> object:
        calls.append(1)
        return measure(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(integrity_cache, "measure_keys", counted)
    project.query("SELECT customer_count")
    project.query("SELECT segment, customer_count")
    assert len(calls) == 1 and len(list((cache / "keys").glob("*.json"))) == 1
    # a new session over the same files reads the cache
    again = Project.load(project.root)
    again.query("SELECT customer_count")
    assert len(calls) == 1
    assert [w.code for w in again.query_warnings("SELECT customer_count")] == ["SEM441"] * 2
    # the data changes (the duplicate removed): measured again, and nothing to say
    tiny_project(project.root, MODEL, GLOSSARY, TABLES)
    fixed = Project.load(project.root)
    fixed.query("SELECT customer_count")
    assert len(calls) == 2
    assert [w.code for w in fixed.query_warnings("SELECT customer_count")] == ["SEM441"]


@pytest.mark.parametrize(
    "query",
    [
        # the orders are read only inside the semi-join of EXISTS
        "SELECT segment, total_balance WHERE EXISTS(ship_mode = 'AIR')",
        # ... only inside the per-customer values
        "SELECT MEASURE(revenue) PER (customer) AS r, customer_count",
    ],
)
def test_a_broken_key_read_only_inside_a_subquery_warns(tmp_path: Path, query: str) -> None:
    tables = dict(TABLES)
    columns, rows = TABLES["orders"]
    tables["orders"] = (columns, (*rows, (10, 1)))
    root = tmp_path / "shop"
    root.mkdir()
    project = tiny_project(root, MODEL, GLOSSARY, tables)
    project.query(query)
    found = [w.message for w in project.query_warnings(query) if w.code == "SEM441"]
    assert any("e.g. 10" in message for message in found), found
