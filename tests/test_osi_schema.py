"""Apache Ossie both ways, schema-valid: `semantic export osi --osi-version V` validates
against V's JSON Schema (and the spec validator's other checks) for every test project; the
round trip gives back the same files (data types, labels, concept IRIs), the same RDF and
the same rows; read as another tool reads it (our extension stripped), the file still
gives back data types and labels; and Ossie files of other tools, the official examples
among them, import into projects that `semantic check` accepts, every name settled
reported."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from rdflib.compare import isomorphic
from ruamel.yaml import YAML

from semantic.interchange.osi_export import export_osi
from semantic.interchange.osi_import import import_osi
from semantic.interchange.osi_spec import OSI_VERSION, OSI_VERSIONS, ossie_datatype, our_data
from semantic.outputs.rdf.export import export_graph
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.compare import assert_same_rows
from tests.conftest import ROOT
from tests.osi_schema import official_dir, official_schema, problems, schema, schema_problems
from tests.projects import write_data, write_project
from tests.test_osi import _rows, _specs

BOOKSHOP = ROOT / "examples" / "bookshop"
BASE = "https://data.example.com/vocab/"

#: a project with what the others lack: an entity without a primary key counted with
#: COUNT(*), a composite key counted, time, timestamptz, boolean and untyped columns
EDGES = {
    "models/m.yml": """
    entities:
      visits:
        table: visits
        columns:
          page: {type: varchar}
          visited_at: {type: timestamptz}
          opened: {type: time}
          bot: {type: boolean}
          note: {}
      lines:
        table: lines
        primary_key: [order_id, line_no]
        columns:
          order_id: {type: integer}
          line_no: {type: smallint}
          amount: {type: 'decimal(12,2)', description: Amount of the line.}
    """,
    "glossary/web.yml": """
    domain: web
    terms:
      page:
        label: {en: Page, fr: Page web}
        exact_match: [http://www.wikidata.org/entity/Q36774]
        dimension: {entity: visits, expr: page}
      visit_time:
        label: {en: Visit time}
        time_dimension: {entity: visits, expr: visited_at}
      is_bot:
        label: {en: Bot}
        dimension: {entity: visits, expr: bot}
      visit_count:
        label: {en: Visits, fr: Visites}
        metric: {entity: visits, expr: count(*)}
      line_count:
        label: {en: Lines}
        metric: {entity: lines, expr: count(*)}
      amount:
        label: {en: Amount}
        metric: {entity: lines, expr: sum(amount)}
    """,
}
EDGES_CONFIG = "name: edges\nlanguages: [en, fr]\ndata: {dir: data, format: parquet}\n"


@pytest.fixture(scope="module")
def edges(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("edges"), EDGES, EDGES_CONFIG)
    write_data(
        root,
        {
            "visits": """SELECT * FROM (VALUES ('a', TIMESTAMPTZ '2024-01-01 10:00+00',
            TIME '10:00', false, NULL), ('b', TIMESTAMPTZ '2024-01-02 11:00+00', TIME '11:00',
            true, 'x')) t(page, visited_at, opened, bot, note)""",
            "lines": """SELECT * FROM (VALUES (1, 1, 10.5), (1, 2, 2.25), (2, 1, 7.0))
            t(order_id, line_no, amount)""",
        },
    )
    return root


def _projects(edges: Path) -> dict[str, Path]:
    return {"tpch": ROOT, "bookshop": BOOKSHOP, "edges": edges}


def _load(text: str) -> Any:
    return YAML(typ="safe").load(text)


@pytest.mark.parametrize("version", OSI_VERSIONS)
@pytest.mark.parametrize("name", ["tpch", "bookshop", "edges"])
def test_the_export_is_valid_for_its_version(name: str, version: str, edges: Path) -> None:
    root = _projects(edges)[name]
    text, _ = export_osi(root, Project.load(root).config, version)
    document = _load(text)
    assert document["version"] == version
    assert problems(document, version) == []
    other = next(v for v in OSI_VERSIONS if v != version)
    assert problems(document, other) != []  # the check has teeth: versions differ
    official = official_schema(version)
    if official is not None:
        assert schema_problems(document, official) == []


def test_the_cli_writes_the_version_asked(tmp_path: Path) -> None:
    out = tmp_path / "b.osi.yml"
    for version in OSI_VERSIONS:
        result = run_cli(
            "export", "osi", "--osi-version", version, "-o", str(out), project=BOOKSHOP
        )
        assert result.exit_code == 0, result.stderr
        assert problems(_load(out.read_text()), version) == []
    result = run_cli("export", "osi", "-o", str(out), project=BOOKSHOP)
    assert _load(out.read_text())["version"] == OSI_VERSION == OSI_VERSIONS[-1]
    result = run_cli("export", "osi", "--osi-version", "1.0", project=BOOKSHOP)
    assert result.exit_code == 1 and "SEM241 unknown Ossie version '1.0'" in result.stderr
    assert "help: write one of 0.1.1, 0.2.0.dev0" in result.stderr


def _import_into(source: Path, target: Path, config: str) -> tuple[Project, Any]:
    target.mkdir()
    (target / "semantic.yml").write_text(config)
    result = import_osi(source)
    for name, text in result.files.items():
        (target / name).parent.mkdir(exist_ok=True)
        (target / name).write_text(text)
    return Project.load(target), result


def _config(root: Path, name: str) -> str:
    text = (root / "semantic.yml").read_text()
    data = Project.load(root).data_dir
    return (
        "".join(
            line if not line.startswith(("data:", "  ")) else ""
            for line in text.splitlines(keepends=True)
        )
        + f"data: {{dir: '{data}', format: {'csv' if name == 'bookshop' else 'parquet'}}}\n"
    )


@pytest.mark.parametrize("version", OSI_VERSIONS)
@pytest.mark.parametrize("name", ["tpch", "bookshop", "edges"])
def test_the_round_trip_keeps_types_labels_iris_and_rows(
    name: str, version: str, edges: Path, tmp_path: Path
) -> None:
    root = _projects(edges)[name]
    original = Project.load(root)
    text, _ = export_osi(root, original.config, version, BASE)
    (tmp_path / "f.osi.yml").write_text(text)
    back, result = _import_into(tmp_path / "f.osi.yml", tmp_path / "p", _config(root, name))
    assert result.notices[0].what == f"concept IRIs under {BASE}"  # the one thing said
    assert len(result.notices) == 1
    assert _specs(tmp_path / "p") == _specs(root)  # types, labels in every language, ...
    # the concept IRIs, and the whole vocabulary, are the same
    assert isomorphic(export_graph(back.model, BASE), export_graph(original.model, BASE))
    terms = original.model.terms.values()
    for term in terms:
        if term.is_metric:
            by = [t.id for t in terms if t.kind == "dimension" and t.entity == term.entity]
            query = f"SELECT {', '.join([*by[:1], term.id])} ORDER BY 1"
            assert _rows(back, query) == _rows(original, query) != [], query
            if name == "tpch":
                break  # test_osi.py runs every TPC-H query on the default version's round trip


def _strip(node: Any) -> Any:
    """The document as another tool reads it: without our extension, whatever its vendor."""
    if isinstance(node, dict):
        return {
            k: _strip(v)
            for k, v in node.items()
            if not (
                k == "custom_extensions"
                and all(our_data(e["vendor_name"], e["data"]) is not None for e in v)
            )
        }
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


@pytest.mark.parametrize("version", OSI_VERSIONS)
def test_read_as_another_tool_reads_it(version: str, edges: Path, tmp_path: Path) -> None:
    """Without our extension: every column comes back with a type of the same family (from
    0.2 on), every dimension with its label, no term is made up, and the numbers agree."""
    for name, root in {"bookshop": BOOKSHOP, "edges": edges}.items():
        original = Project.load(root)
        text, exported = export_osi(root, original.config, version)
        core = tmp_path / f"{name}.osi.yml"
        YAML().dump(_strip(_load(text)), core.open("w"))
        assert "SEMANTIC" not in core.read_text() and "COMMON" not in core.read_text()
        back, result = _import_into(core, tmp_path / name, _config(root, name))
        # only a COUNT(*) of an entity without a key is lost, as the export said
        unplaced = {n.what.split("'")[1] for n in exported if n.what.startswith("the dataset")}
        assert {n.what for n in result.notices} == {f"metric '{m}'" for m in unplaced}
        for eid, entity in original.model.entities.items():
            columns = back.model.entities[eid].columns
            assert set(columns) == set(entity.columns), eid
            for column, spec in entity.columns.items():
                got = ossie_datatype(columns[column].type) if version != "0.1.1" else None
                want = ossie_datatype(spec.type) if version != "0.1.1" else None
                assert got == want, (eid, column)
        assert set(back.model.terms) <= set(original.model.terms)
        main = original.config.languages[0]
        assert ("visit_count" in original.model.terms) == (name == "edges") == bool(unplaced)
        for tid, term in back.model.terms.items():
            if not term.is_metric:
                assert term.labels == {main: original.model.terms[tid].labels[main]}, tid
            else:
                query = f"SELECT {tid}"  # decimal(38,9) from the datatype: same values
                assert_same_rows(_rows(back, query), _rows(original, query))


#: a file of another tool with every kind of name clash: a field name in several datasets
#: (with and without a label), labels shared, a synonym shared, a synonym that is a label
CLASHES = """
version: 0.2.0.dev0
semantic_model:
  - name: shop
    datasets:
      - name: customers
        source: customers
        primary_key: [customer_id]
        fields:
          - name: customer_id
            expression: {dialects: [{dialect: ANSI_SQL, expression: customer_id}]}
            label: Customer ID
            dimension: {is_time: false}
          - name: notes
            expression: {dialects: [{dialect: ANSI_SQL, expression: notes}]}
            dimension: {is_time: false}
          - name: city
            expression: {dialects: [{dialect: ANSI_SQL, expression: city}]}
            ai_context: {synonyms: [location, town]}
      - name: orders
        source: orders
        primary_key: [order_id]
        fields:
          - name: customer_id
            expression: {dialects: [{dialect: ANSI_SQL, expression: customer_id}]}
            label: Customer ID
            dimension: {is_time: false}
          - name: notes
            expression: {dialects: [{dialect: ANSI_SQL, expression: notes}]}
            dimension: {is_time: false}
          - name: store
            expression: {dialects: [{dialect: ANSI_SQL, expression: store}]}
            ai_context: {synonyms: [location, City]}
          - name: amount
            expression: {dialects: [{dialect: ANSI_SQL, expression: amount}]}
            datatype: Decimal
    relationships:
      - name: orders_customers
        from: orders
        to: customers
        from_columns: [customer_id]
        to_columns: [customer_id]
    metrics:
      - name: revenue
        expression: {dialects: [{dialect: ANSI_SQL, expression: SUM(orders.amount)}]}
"""


def test_name_clashes_of_another_tool_are_settled_and_reported(tmp_path: Path) -> None:
    source = tmp_path / "shop.osi.yml"
    source.write_text(textwrap.dedent(CLASHES))
    target = tmp_path / "p"
    result = run_cli(
        "import", "osi", str(source), "--into", str(target), "--format", "json", project=None
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)["report"]
    said = {(r["message"], r["hint"], r["line"]) for r in report}
    lines = source.read_text().splitlines()

    def line(text: str, after: int = 0) -> int:
        return next(i + 1 for i, s in enumerate(lines) if i >= after and text in s)

    orders = line("- name: orders")
    expected = {
        (
            "carried over differently: field 'customer_id' of dataset 'customers'",
            "2 datasets have a field of that name: written as term 'customers_customer_id'",
            line("- name: customer_id"),
        ),
        (
            "carried over differently: field 'notes' of dataset 'orders'",
            "2 datasets have a field of that name: written as term 'orders_notes'",
            line("- name: notes", orders),
        ),
        (
            "carried over differently: label 'Customer ID' (en) of term 'orders_customer_id'",
            "also the label of term 'customers_customer_id': the label is 'Orders customer id' "
            "instead",
            line("- name: customer_id", orders),
        ),
        (
            "carried over differently: label 'Customer ID' (en) of term 'customers_customer_id'",
            "also the label of term 'orders_customer_id': the label is 'Customers customer id' "
            "instead",
            line("- name: customer_id"),
        ),
        (
            "not carried over: synonym 'location' (en) of term 'city'",
            "also a synonym of term 'store': left out",
            line("- name: city"),
        ),
        (
            "not carried over: synonym 'City' (en) of term 'store'",
            "also the id of term 'city': left out",
            line("- name: store"),
        ),
    }
    assert expected <= said, sorted(said)
    assert len(said) == 9, sorted(said)  # 2 names in 2 datasets each, 2 labels, 3 synonyms
    check = run_cli("check", project=target)
    assert check.exit_code == 0, check.stdout + check.stderr
    project = Project.load(target)
    assert project.model.terms["city"].synonyms == {"en": ("town",)}
    assert project.model.terms["orders_notes"].labels == {"en": "Orders notes"}
    # a bare column of a model that marks its dimensions: a typed column, not a term
    assert project.model.entities["orders"].columns["amount"].type == "decimal(38,9)"
    assert "amount" not in project.model.terms and "store" in project.model.terms


def _official_examples() -> list[Path]:
    folder = official_dir()
    return sorted((folder / "examples").glob("*.yaml")) if folder else []


@pytest.mark.skipif(official_dir() is None, reason="SEMANTIC_OSSIE_DIR names no official files")
def test_our_transcription_of_the_schemas_agrees_with_the_official_ones(edges: Path) -> None:
    documents = [_load(p.read_text()) for p in _official_examples()]
    for root in _projects(edges).values():
        for version in OSI_VERSIONS:
            documents.append(_load(export_osi(root, Project.load(root).config, version)[0]))
    for version in OSI_VERSIONS:
        official = official_schema(version)
        assert official is not None
        for document in documents:
            mine = schema_problems(document, schema(version))
            assert sorted(mine) == sorted(schema_problems(document, official))


@pytest.mark.skipif(official_dir() is None, reason="SEMANTIC_OSSIE_DIR names no official files")
@pytest.mark.parametrize("example", _official_examples(), ids=lambda p: p.name)
def test_every_official_example_imports_into_a_project_that_checks(
    example: Path, tmp_path: Path
) -> None:
    result = run_cli(
        "import", "osi", str(example), "--into", str(tmp_path), "--format", "json", project=None
    )
    assert result.exit_code == 0, result.stderr
    for item in json.loads(result.stdout)["report"]:
        assert item["file"] == str(example) and item["code"] == "SEM224", item
    check = run_cli("check", project=tmp_path)
    assert check.exit_code == 0, check.stdout + check.stderr


def test_the_doc_shows_the_import_of_a_file_with_clashes(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "importing.md").read_text()
    (source,) = re.findall(r"<!-- osi clash source -->\n```yaml\n(.*?)```", doc, re.S)
    (shown,) = re.findall(r"<!-- osi clash report -->\n```text\n(.*?)```", doc, re.S)
    path = tmp_path / "shop.osi.yml"
    path.write_text(source)
    result = run_cli("import", "osi", str(path), "--into", str(tmp_path / "shop"), project=None)
    assert result.exit_code == 0, result.stderr
    report = [line for line in result.stderr.splitlines() if not line.startswith("import osi")]
    assert [line.replace(str(path), "shop.osi.yml") for line in report] == shown.splitlines()
    check = run_cli("check", project=tmp_path / "shop")
    assert check.exit_code == 0, check.stdout + check.stderr
    orders = Project.load(tmp_path / "shop").model.entities["orders"]
    assert orders.columns["amount"].type == "decimal(38,9)"
