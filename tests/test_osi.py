"""Apache Ossie (OSI) export and import: TPC-H -> OSI -> a new project answers every business
query like the original (lossless with our extension); with the extension stripped, what
OSI's core carries still answers the same and everything else was reported; a file written
by another tool, in the spec's own style, imports and answers like hand-written SQL."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pytest
from ruamel.yaml import YAML

from semantic.compiler.areas import subject_area_query
from semantic.errors import SemanticError
from semantic.files.read import read_file
from semantic.files.schema import GlossaryFile, ModelFile
from semantic.interchange.osi_export import export_osi
from semantic.interchange.osi_import import import_osi
from semantic.interchange.osi_spec import OSI_VERSION, VENDOR
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.compare import assert_same_rows
from tests.conftest import ROOT
from tests.test_tpch import QUERIES


def _config(project: Project, languages: str) -> str:
    return (
        f"name: tpch\nlanguages: {languages}\nfiscal_year_start: 4\n"
        f"data: {{dir: '{project.data_dir}', format: parquet}}\n"
    )


def _rows(project: Project, query: str) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in project.query(query).to_pylist()]


def _specs(root: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    entities: dict[str, Any] = {}
    terms: dict[str, Any] = {}
    areas: dict[str, Any] = {}
    for path in sorted((root / "models").glob("*.yml")):
        doc, _ = read_file(path, ModelFile, path.name)
        assert doc is not None
        entities |= {k: v.model_dump() for k, v in doc.data.entities.items()}
    for path in sorted((root / "glossary").glob("*.yml")):
        gdoc, _ = read_file(path, GlossaryFile, path.name)
        assert gdoc is not None
        terms |= {k: (gdoc.data.domain, v.model_dump()) for k, v in gdoc.data.terms.items()}
        areas |= {k: (gdoc.data.domain, v.model_dump()) for k, v in gdoc.data.subject_areas.items()}
    return entities, terms, areas


def _assert_same_subject_areas(back: Project, original: Project) -> None:
    """Each subject area of `original` is in `back`, and its query, compiled in each project,
    gives the same rows."""
    assert set(back.model.subject_areas) == set(original.model.subject_areas) != set()
    for sid, area in original.model.subject_areas.items():
        query = subject_area_query(original.model, area)
        again = subject_area_query(back.model, back.model.subject_areas[sid])
        assert again == query
        rows = sorted(_rows(original, query), key=repr)
        assert rows != [] and sorted(_rows(back, again), key=repr) == rows, sid


@pytest.fixture(scope="module")
def exported(project: Project, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("osi") / "tpch.osi.yml"
    result = run_cli("export", "osi", "-o", str(out), "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stderr[result.stderr.index("{") :])["report"]
    return out, report


def test_the_export_follows_the_core_spec(exported: tuple[Path, list]) -> None:
    path, _ = exported
    doc = YAML(typ="safe").load(path.read_text())
    assert doc["version"] == OSI_VERSION == "0.2.0.dev0"
    (model,) = doc["semantic_model"]
    assert model["name"] == "tpch"
    datasets = {d["name"]: d for d in model["datasets"]}
    assert datasets["orders"]["source"] == "orders"
    assert datasets["partsupp"]["primary_key"] == ["ps_partkey", "ps_suppkey"]
    fields = {f["name"]: f for f in datasets["orders"]["fields"]}
    assert fields["order_date"]["dimension"] == {"is_time": True}
    assert fields["order_date"]["expression"]["dialects"] == [
        {"dialect": "ANSI_SQL", "expression": "o_orderdate"}
    ]
    assert fields["order_date"]["label"] == "Order date"
    assert fields["order_date"]["datatype"] == "Date"
    assert fields["o_totalprice"]["datatype"] == "Decimal"  # a column: decimal(15,2)
    relationships = {(r["from"], r["to"]): r for r in model["relationships"]}
    assert relationships[("lineitem", "partsupp")]["from_columns"] == ["l_partkey", "l_suppkey"]
    assert relationships[("lineitem", "partsupp")]["to_columns"] == ["ps_partkey", "ps_suppkey"]
    metrics = {m["name"]: m["expression"]["dialects"][0]["expression"] for m in model["metrics"]}
    assert metrics["order_count"] == "COUNT(orders.o_orderkey)"  # COUNT(*) of one dataset
    # COUNT(*) of a composite key: its first column, never null (no dataset-scoped metrics:
    # no version of the schema has them)
    assert metrics["line_count"] == "COUNT(lineitem.l_orderkey)"
    assert all("metrics" not in d for d in datasets.values())
    assert all("label" not in m for m in model["metrics"])  # Ossie metrics have no label
    gross = next(m for m in model["metrics"] if m["name"] == "gross_revenue")
    assert gross["datatype"] == "Decimal"
    assert metrics["gross_revenue"] == "COALESCE(SUM(lineitem.l_extendedprice), 0)"
    assert "average_order_value" in metrics and "/" in metrics["average_order_value"]
    # a role-playing dimension has no place in OSI's core
    assert "customer_nation" not in {f["name"] for d in model["datasets"] for f in d["fields"]}


def test_the_report_names_what_osi_cannot_carry(exported: tuple[Path, list]) -> None:
    _, report = exported
    messages = [r["message"] for r in report]
    for expected in (
        "OSI cannot carry: role-playing dimension 'customer_nation'",
        "OSI cannot carry: segment 'supplier_with_complaints'",
        "OSI cannot carry: quality rules of 'orders'",
        "OSI cannot carry: subject area 'sales_by_customer'",
        "OSI cannot carry: subject area 'yearly_sales'",
    ):
        assert expected in messages
    yearly = next(r for r in report if r["message"].endswith("subject area 'yearly_sales'"))
    text = (ROOT / "glossary" / "subject_areas.yml").read_text().splitlines()
    assert yearly["file"] == "glossary/subject_areas.yml"
    assert text[yearly["line"] - 1].strip() == "yearly_sales:"
    assert any(m.startswith("OSI cannot carry: metric with window") for m in messages)
    for r in report:
        if r["message"].endswith("'customer_nation'"):  # its names, and its path
            assert r["file"] == "glossary/customers.yml" and r["line"] > 1, r


def test_round_trip_is_lossless_and_answers_the_same(
    project: Project, exported: tuple[Path, list], tmp_path: Path
) -> None:
    path, _ = exported
    (tmp_path / "semantic.yml").write_text(_config(project, "[en, fr]"))
    result = run_cli("import", "osi", str(path), "--into", str(tmp_path), project=None)
    assert result.exit_code == 0, result.stderr
    assert "0 item(s) reported" in result.stderr
    assert _specs(tmp_path) == _specs(ROOT)
    back = Project.load(tmp_path)
    for name, languages in QUERIES.items():
        for query in languages.values():
            assert _rows(back, query) == _rows(project, query), name
    _assert_same_subject_areas(back, project)


def _strip(node: Any) -> Any:
    """The document without our extension: what another tool reads."""
    if isinstance(node, dict):
        return {
            k: _strip(v)
            for k, v in node.items()
            if not (k == "custom_extensions" and all(e["vendor_name"] == VENDOR for e in v))
        }
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def test_osi_core_alone_answers_the_same_or_the_report_says_why(
    project: Project, exported: tuple[Path, list], tmp_path: Path
) -> None:
    path, report = exported
    yaml = YAML(typ="safe")
    core = tmp_path / "core.osi.yml"
    with core.open("w") as stream:
        YAML().dump(_strip(yaml.load(path.read_text())), stream)
    assert VENDOR not in core.read_text()
    target = tmp_path / "p"
    target.mkdir()
    (target / "semantic.yml").write_text(_config(project, "[en]"))
    written = import_osi(core)
    assert written.notices == ()
    for name, text in written.files.items():
        (target / name).parent.mkdir(exist_ok=True)
        (target / name).write_text(text)
    back = Project.load(target)
    assert back.model.subject_areas == {}  # OSI's core has none: each one was reported
    reported = {r["message"] for r in report}
    for sid in project.model.subject_areas:
        assert f"OSI cannot carry: subject area '{sid}'" in reported
    lost = {r["message"].split("'")[1] for r in report if "'" in r["message"]}
    answered = 0
    for name, languages in QUERIES.items():
        try:
            rows = _rows(back, languages["en"])
        except SemanticError as exc:
            named = set(str(exc).split("'")[1::2])
            assert named & lost, f"{name}: {exc}"
            continue
        assert_same_rows(rows, _rows(project, languages["en"]))
        answered += 1
    assert answered >= 5


#: a file another tool could write, in the style of the spec's complete example: a
#: cross-dataset metric, a dataset-scoped metric (0.2), a computed field, unique keys, a
#: vendor's extension and an MDX-only metric
FOREIGN = """
version: 0.1.1
semantic_model:
  - name: ecommerce_analytics
    description: E-commerce sales and customer analytics
    ai_context:
      instructions: Use this model for sales analysis
    datasets:
      - name: orders
        source: orders
        primary_key: [order_id]
        unique_keys:
          - [order_id]
        fields:
          - name: order_id
            expression: {dialects: [{dialect: ANSI_SQL, expression: order_id}]}
          - name: order_date
            expression: {dialects: [{dialect: ANSI_SQL, expression: order_date}]}
            datatype: Date
            description: Date when order was placed
            ai_context:
              synonyms: [purchase date]
          - name: net_amount
            expression: {dialects: [{dialect: ANSI_SQL, expression: amount - discount}]}
            label: Net amount
        metrics:
          - name: total_net_amount
            expression: {dialects: [{dialect: ANSI_SQL, expression: SUM(orders.net_amount)}]}
      - name: customers
        source: customers
        primary_key: [id]
        fields:
          - name: email
            expression: {dialects: [{dialect: ANSI_SQL, expression: email}]}
          - name: country
            expression: {dialects: [{dialect: ANSI_SQL, expression: country}]}
    relationships:
      - name: orders_to_customers
        from: orders
        to: customers
        from_columns: [customer_id]
        to_columns: [id]
    metrics:
      - name: revenue_per_customer
        expression:
          dialects:
            - dialect: ANSI_SQL
              expression: SUM(orders.amount) / COUNT(DISTINCT customers.id)
        description: Average revenue per customer
      - name: order_count
        expression: {dialects: [{dialect: SNOWFLAKE, expression: COUNT(orders.order_id)}]}
      - name: fancy
        expression: {dialects: [{dialect: MDX, expression: "[Measures].[Amount]"}]}
    custom_extensions:
      - vendor_name: SNOWFLAKE
        data: '{"warehouse": "ANALYTICS_WH"}'
"""


def test_a_file_of_another_tool(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT * FROM (VALUES (1, 'a@x', 'FR'), (2, 'b@x', 'DE'), (3, 'c@x', 'FR'))
        t(id, email, country)) TO '{data}/customers.parquet'"""
    )
    con.execute(
        f"""COPY (SELECT i AS order_id, 1 + i % 3 AS customer_id,
        DATE '2024-01-01' + i::INTEGER AS order_date, 10.0 * i AS amount, 1.0 AS discount
        FROM range(1, 20) r(i)) TO '{data}/orders.parquet'"""
    )
    source = tmp_path / "ecommerce.osi.yml"
    source.write_text(textwrap.dedent(FOREIGN))
    target = tmp_path / "p"
    target.mkdir()
    (target / "semantic.yml").write_text(
        "name: ecommerce\nlanguages: [en]\ndata: {dir: ../data, format: parquet}\n"
    )
    result = run_cli("import", "osi", str(source), "--into", str(target), project=None)
    assert result.exit_code == 0, result.stderr
    reported = [line for line in result.stderr.splitlines() if "SEM224" in line]
    assert len(reported) == 4, result.stderr  # model ai_context, unique_keys, MDX, SNOWFLAKE
    assert all(line.startswith(f"{source}:") for line in reported)
    project = Project.load(target)
    assert project.model.terms["order_date"].kind == "time_dimension"
    assert project.model.terms["order_date"].synonyms == {"en": ("purchase date",)}
    got = _rows(
        project,
        "SELECT country, revenue_per_customer, total_net_amount, order_count ORDER BY 1",
    )
    orders = f"read_parquet('{data}/orders.parquet')"
    customers = f"read_parquet('{data}/customers.parquet')"
    want = con.execute(
        f"""SELECT country, sum(amount) / count(DISTINCT c.id), sum(amount - discount),
        count(order_id) FROM {orders} o JOIN {customers} c ON o.customer_id = c.id
        GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    assert_same_rows(got, want)


def test_what_is_not_an_osi_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("datasets: []\n")
    with pytest.raises(SemanticError) as caught:
        import_osi(bad)
    assert caught.value.code == "SEM223"
    bad.write_text("semantic_model:\n  - name: m\n    datasets:\n      - name: x\n")
    with pytest.raises(SemanticError) as caught:
        import_osi(bad)
    assert caught.value.code == "SEM223" and f"{bad}:4:" in str(caught.value)


def test_export_needs_a_clean_project(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.yml").write_text("entities: {t: {colums: {}}}\n")
    from semantic.files.schema import ProjectFile

    with pytest.raises(SemanticError):
        export_osi(tmp_path, ProjectFile(name="x"))


def test_bookshop_round_trip_keeps_its_segment_and_spanish(tmp_path: Path) -> None:
    bookshop = ROOT / "examples" / "bookshop"
    original = Project.load(bookshop)
    text, notices = export_osi(bookshop, original.config)
    assert "segment 'web_sales'" in [n.what for n in notices]
    areas = [n for n in notices if n.what.startswith("subject area")]
    assert [(n.what, n.file) for n in areas] == [
        ("subject area 'sales_by_channel'", "glossary/sales.yml"),
        ("subject area 'web_sales_by_city'", "glossary/sales.yml"),
    ]
    (tmp_path / "b.osi.yml").write_text(text)
    (tmp_path / "semantic.yml").write_text(
        f"name: bookshop\nlanguages: [en, es]\ndata: {{dir: '{bookshop / 'data'}', format: csv}}\n"
    )
    result = run_cli(
        "import", "osi", str(tmp_path / "b.osi.yml"), "--into", str(tmp_path), project=None
    )
    assert result.exit_code == 0, result.stderr
    assert _specs(tmp_path) == _specs(bookshop)
    back = Project.load(tmp_path)
    for term in original.model.terms.values():
        if term.is_metric:
            query = f"SELECT customer_city, {term.id} ORDER BY 1"
            assert _rows(back, query) == _rows(original, query)
    query = "SELECT channel, revenue WHERE web_sales ORDER BY 1"
    assert _rows(back, query) == _rows(original, query) != []
    _assert_same_subject_areas(back, original)


def test_the_doc_shows_the_report_of_the_subject_areas(project: Project) -> None:
    _, notices = export_osi(ROOT, project.config)
    doc = (ROOT / "docs" / "importing.md").read_text()
    (shown,) = re.findall(r"<!-- osi subject areas -->\n```text\n(.*?)```", doc, re.S)
    rendered = [n.diagnostic().render() for n in notices if n.what.startswith("subject area")]
    assert shown.splitlines() == "\n".join(rendered).splitlines()


def test_a_glossary_file_of_subject_areas_only_comes_back(tmp_path: Path) -> None:
    bookshop = ROOT / "examples" / "bookshop"
    source = tmp_path / "source"
    shutil.copytree(bookshop, source, ignore=shutil.ignore_patterns("data"))
    sales = source / "glossary" / "sales.yml"
    text = sales.read_text()
    cut = text.index("\nsubject_areas:\n")
    sales.write_text(text[: cut + 1])
    (source / "glossary" / "views.yml").write_text("domain: views\n" + text[cut + 1 :])
    data = bookshop / "data"
    config = f"name: bookshop\nlanguages: [en, es]\ndata: {{dir: '{data}', format: csv}}\n"
    (source / "semantic.yml").write_text(config)
    original = Project.load(source)
    assert {a.domain for a in original.model.subject_areas.values()} == {"views"}
    exported, notices = export_osi(source, original.config)
    assert [n.file for n in notices if n.what.startswith("subject area")] == [
        "glossary/views.yml",
        "glossary/views.yml",
    ]
    (tmp_path / "b.osi.yml").write_text(exported)
    target = tmp_path / "target"
    target.mkdir()
    (target / "semantic.yml").write_text(config)
    written = import_osi(tmp_path / "b.osi.yml")
    assert written.notices == ()
    for name, body in written.files.items():
        (target / name).parent.mkdir(exist_ok=True)
        (target / name).write_text(body)
    assert _specs(target) == _specs(source)
    _assert_same_subject_areas(Project.load(target), original)
