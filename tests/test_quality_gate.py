"""The quality gate decides per view (a failing lineitem rule withholds the views over
lineitem only), `--force` publishes with a warning in the view's comment; queries heed the
latest recorded results (`quality: gate:`); the history keeps every run; JUnit XML and DQV
are what their readers parse."""

from __future__ import annotations

import json
import shutil
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, XSD

from semantic.engines.duckdb import DuckDBEngine
from semantic.engines.postgres import PostgresEngine
from semantic.errors import SemanticError
from semantic.outputs.publish import publish_views
from semantic.outputs.quality.gate import view_uses
from semantic.outputs.rdf.vocab import DQV
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.conftest import ROOT
from tests.projects import CONFIG, write_data, write_project
from tests.test_errors import GLOSSARY, MODEL

LINEITEM_RULE = "        check: l_quantity > 0\n"


def tpch_with_a_failing_lineitem_rule(tmp_path: Path) -> Project:
    """TPC-H whose lineitem rule fails: few lines sell more than 49 units."""
    root = tmp_path / "tpch"
    root.mkdir()
    shutil.copy(ROOT / "semantic.yml", root / "semantic.yml")
    shutil.copytree(ROOT / "models", root / "models")
    shutil.copytree(ROOT / "glossary", root / "glossary")
    models = root / "models" / "tpch.yml"
    text = models.read_text()
    assert LINEITEM_RULE in text
    models.write_text(text.replace(LINEITEM_RULE, "        check: l_quantity > 49\n"))
    project = Project.load(root)
    # the data of the default project, not generated again
    data = Project.load(ROOT).data_dir.parent
    (root / "data").symlink_to(data, target_is_directory=True)
    return project


def comments(path: Path) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.execute(
            "SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'semantic'"
        ).fetchall()
    return {str(name): str(comment) for name, comment in rows}


@pytest.fixture
def failing_tpch(project: Project, tmp_path: Path) -> Project:
    project.prepare_data()
    failing = tpch_with_a_failing_lineitem_rule(tmp_path)
    assert failing.has_data()
    return failing


def test_a_failing_lineitem_rule_withholds_the_views_over_lineitem_only(
    failing_tpch: Project, tmp_path: Path
) -> None:
    path = tmp_path / "bi.duckdb"
    engine = DuckDBEngine(failing_tpch.model, failing_tpch.data_dir, "parquet", str(path))
    try:
        plan = publish_views(failing_tpch.model, engine)
    finally:
        engine.close()
    withheld = dict(plan.gated)
    assert "lineitem" in withheld
    assert all("lineitem.quantity_is_positive" in why for why in withheld.values())
    published = {v.name for v in plan.views}
    # exactly the views that read lineitem are withheld
    for view in plan.views:
        assert "lineitem" not in view_uses(failing_tpch.model, view)[0], view.name
    assert {"region", "nation", "customer", "orders", "part", "supplier"} <= published
    written = comments(path)
    assert set(written) == published and not set(withheld) & set(written)


def test_force_publishes_with_a_warning_in_the_comment(
    failing_tpch: Project, tmp_path: Path
) -> None:
    path = tmp_path / "bi.duckdb"
    result = run_cli("views", "plan", "--engine", f"duckdb://{path}", project=failing_tpch.root)
    assert result.exit_code == 0, result.stderr
    assert "SEM415 view 'semantic.lineitem' withheld: quality rule" in result.stdout
    assert "withheld by the quality gate: lineitem" in result.stderr
    result = run_cli("views", "apply", "--engine", f"duckdb://{path}", project=failing_tpch.root)
    assert result.exit_code == 1  # published what passed, and says what it withheld
    assert "lineitem" not in comments(path) and "region" in comments(path)
    result = run_cli(
        "views", "apply", "--force", "--engine", f"duckdb://{path}", project=failing_tpch.root
    )
    assert result.exit_code == 0, result.stderr
    assert "SEM452 view 'semantic.lineitem' published with --force" in result.stderr
    note = comments(path)["lineitem"]
    assert note.startswith("[semantic:tpch] entity lineitem")
    assert "published with --force while quality rule(s) lineitem.quantity_is_positive fail" in note
    assert "--force" not in comments(path)["region"]


def test_the_per_view_gate_on_postgresql(
    failing_tpch: Project, postgres_engine: PostgresEngine, postgres_url: str
) -> None:
    schema = f"gate_{uuid.uuid4().hex[:8]}"
    try:
        plan = publish_views(failing_tpch.model, postgres_engine, schema=schema)
        assert "lineitem" in dict(plan.gated)
        import psycopg

        with psycopg.connect(postgres_url) as connection:
            views = {
                row[0]
                for row in connection.execute(
                    "SELECT table_name FROM information_schema.views WHERE table_schema = %s",
                    [schema],
                ).fetchall()
            }
        assert "region" in views and "lineitem" not in views
        assert views == {v.name for v in plan.views}
    finally:
        postgres_engine.publish([f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'])


# --- a small project for history, JUnit, DQV and the query gate ------------------------------

RULES = "    quality:\n      positive: {check: amount > 0}\n    relationships:"


def shop(tmp_path: Path, gate: str | None = None) -> Path:
    config = CONFIG + (f"quality: {{gate: {gate}}}\n" if gate else "")
    model = MODEL.replace("    relationships:", RULES)
    glossary = GLOSSARY + (
        "  customer_count:\n    label: {en: Customer count}\n"
        "    metric: {entity: customers, expr: count(*)}\n"
    )
    write_project(tmp_path, {"models/m.yml": model, "glossary/g.yml": glossary}, config)
    orders(tmp_path, [10, -5, 7, 3])
    return tmp_path


def orders(root: Path, amounts: list[int]) -> None:
    rows = ", ".join(f"({i}, 1, {a})" for i, a in enumerate(amounts, 1))
    write_data(
        root,
        {
            "orders": f"SELECT * FROM (VALUES {rows}) t(id, customer_id, amount)",
            "customers": "SELECT * FROM (VALUES (1, 'EUROPE')) t(id, region)",
        },
    )


def test_the_history_keeps_every_run(tmp_path: Path) -> None:
    root = shop(tmp_path)
    assert run_cli("quality", project=root).exit_code == 1  # -5 fails `positive`
    assert (root / ".semantic" / "quality.duckdb").is_file()  # created by the first run
    orders(root, [10, 5, 7, 3])
    assert run_cli("quality", project=root).exit_code == 0
    result = run_cli("quality", "--history", "positive", "-f", "json", project=root)
    assert result.exit_code == 0, result.stderr
    runs = json.loads(result.stdout)
    assert [(r["rule"], r["score"], r["passed"], r["rows"]) for r in runs] == [
        ("orders.positive", 1.0, True, 4),
        ("orders.positive", 0.75, False, 4),
    ]
    assert runs[0]["run_at"] > runs[1]["run_at"]
    every = json.loads(run_cli("quality", "--history", "-f", "json", project=root).stdout)
    assert len(every) == 2 * len({r["rule"] for r in every}) and len(every) > 2
    unknown = run_cli("quality", "--history", "positve", project=root)
    assert unknown.exit_code == 1
    assert "SEM262 no quality rule 'positve'" in unknown.stderr
    assert "did you mean 'positive'" in unknown.stderr


def test_the_history_path_is_configurable(tmp_path: Path) -> None:
    root = shop(tmp_path)
    (root / "semantic.yml").write_text(CONFIG + "quality: {history: logs/q.duckdb}\n")
    assert run_cli("quality", project=root).exit_code == 1
    assert (root / "logs" / "q.duckdb").is_file()
    assert not (root / ".semantic").exists()


def test_junit_has_a_test_case_per_rule_and_a_failure_per_failing_rule(tmp_path: Path) -> None:
    root = shop(tmp_path)
    report = tmp_path / "quality.xml"
    result = run_cli("quality", "--no-record", "--junit", str(report), project=root)
    assert result.exit_code == 1
    suites = ET.parse(report).getroot()
    assert suites.tag == "testsuites"
    cases = {c.get("name"): c for c in suites.iter("testcase")}
    assert "orders.positive" in cases and "orders.primary_key_unique" in cases
    assert int(suites.get("tests", "0")) == len(cases)
    failure = cases["orders.positive"].find("failure")
    assert failure is not None and failure.get("type") == "error"
    assert "holds for 75.0% of 4 rows" in str(failure.get("message"))
    assert [n for n, c in cases.items() if c.find("failure") is not None] == ["orders.positive"]
    assert suites.get("failures") == "1" and suites.get("errors") == "0"
    assert not (root / ".semantic").exists()  # --no-record


def test_dqv_measurements_carry_their_run_time(tmp_path: Path) -> None:
    root = shop(tmp_path)
    dqv = tmp_path / "quality.ttl"
    result = run_cli("quality", "--dqv", str(dqv), "-f", "json", project=root)
    run_at = json.loads(result.stdout)["run_at"]
    graph = Graph().parse(dqv, format="turtle")
    measurements = list(graph.subjects(RDF.type, DQV.QualityMeasurement))
    assert len(measurements) == len(json.loads(result.stdout)["rules"])
    positive = next(
        m
        for m in measurements
        if str(graph.value(m, DQV.isMeasurementOf)).endswith("/quality/orders/positive")
    )
    assert graph.value(positive, DQV.value) == Literal(0.75, datatype=XSD.double)
    at = graph.value(positive, PROV.generatedAtTime)
    assert isinstance(at, Literal) and at.datatype == XSD.dateTime
    assert at.toPython().isoformat(timespec="seconds") == run_at
    assert isinstance(graph.value(positive, DQV.computedOn), URIRef)


def test_a_strict_gate_refuses_a_query_over_a_failing_entity(tmp_path: Path) -> None:
    root = shop(tmp_path, gate="strict")
    project = Project.load(root)
    assert project.query("SELECT revenue").to_pylist() == [{"revenue": 15}]  # never measured
    assert run_cli("quality", project=root).exit_code == 1
    project = Project.load(root)
    with pytest.raises(SemanticError) as caught:
        project.query("SELECT revenue")
    (refusal,) = caught.value.diagnostics
    assert refusal.code == "SEM451" and refusal.severity == "error"
    assert "quality rule 'orders.positive' held for 75.0% of 4 rows" in refusal.message
    assert str(refusal.span).startswith("models/m.yml:")
    # customers fails nothing: a query that reads customers only is answered
    assert project.query("SELECT region, customer_count").to_pylist() == [
        {"region": "EUROPE", "customer_count": 1}
    ]
    result = run_cli("query", "SELECT order_count", project=root)
    assert result.exit_code == 1 and "SEM451" in result.stderr


def test_a_warning_gate_answers_and_names_the_failing_rule(tmp_path: Path) -> None:
    root = shop(tmp_path, gate="warn")
    assert run_cli("quality", project=root).exit_code == 1
    project = Project.load(root)
    assert project.query("SELECT revenue").to_pylist() == [{"revenue": 15}]
    (warning,) = [w for w in project.query_warnings("SELECT revenue") if w.code == "SEM451"]
    assert warning.severity == "warning" and "'orders.positive'" in warning.message
    project.query("SELECT customer_count")
    assert not [w for w in project.query_warnings("SELECT customer_count") if w.code == "SEM451"]
    result = run_cli("query", "SELECT revenue", project=root)
    assert result.exit_code == 0 and "warning: SEM451" in result.stderr


def test_without_a_gate_queries_never_look(tmp_path: Path) -> None:
    root = shop(tmp_path)
    assert run_cli("quality", project=root).exit_code == 1
    project = Project.load(root)
    assert project.query("SELECT revenue").to_pylist() == [{"revenue": 15}]
    assert not [w for w in project.query_warnings("SELECT revenue") if w.code == "SEM451"]
