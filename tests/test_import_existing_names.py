"""Imports into a project that already has a glossary: the names of its terms (ids, labels,
synonyms, hidden labels, in every language) stay theirs. `import dbt`, `import osi` and
`import skos` into a copy of the TPC-H project (English and French) from sources whose
ids, labels and synonyms clash with TPC-H's: the imported terms are renamed, relabelled or
lose the synonym, each change reported at `file:line`, the project's files are left as
they were, and `semantic check` passes. Importing the same source again is refused
(SEM220) or, with `--replace`, gives the same files; `check` passes either way."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.cli_runner import run_cli

REPO = Path(__file__).resolve().parent.parent

DBT_PROJECT = "name: shop\nversion: '1.0'\nprofile: shop\nmodel-paths: [models]\n"
DBT_MODELS = """\
semantic_models:
  - name: payments
    model: ref('payments')
    defaults:
      agg_time_dimension: paid_at
    entities:
      - name: payment
        type: primary
        expr: payment_id
    dimensions:
      - name: paid_at
        type: time
        type_params:
          time_granularity: day
      - name: shipping
        label: Ship mode
        type: categorical
      - name: mode_de_transport
        type: categorical
    measures:
      - name: order_count
        agg: count
        expr: payment_id
      - name: paid
        agg: sum
        expr: amount
metrics:
  - name: paid
    label: Revenue
    type: simple
    type_params:
      measure: paid
"""

OSI = """\
version: 0.2.0.dev0
semantic_model:
  - name: shop
    datasets:
      - name: payments
        source: payments
        primary_key: [payment_id]
        fields:
          - name: shipping
            expression: {dialects: [{dialect: ANSI_SQL, expression: shipping}]}
            label: Ship mode
            dimension: {is_time: false}
            ai_context: {synonyms: [revenue, carrier]}
          - name: nombre_de_commandes
            expression: {dialects: [{dialect: ANSI_SQL, expression: orders}]}
            label: Orders placed
            dimension: {is_time: false}
          - name: amount
            expression: {dialects: [{dialect: ANSI_SQL, expression: amount}]}
            datatype: Decimal
    metrics:
      - name: net_revenue
        expression: {dialects: [{dialect: ANSI_SQL, expression: SUM(payments.amount)}]}
"""

SKOS = """\
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://vocab.example.com/> .

ex:shipping a skos:ConceptScheme ;
    skos:prefLabel "Shipping"@en .

ex:carrier a skos:Concept ;
    skos:inScheme ex:shipping ;
    skos:prefLabel "Ship mode"@en, "Mode d'expédition"@fr ;
    skos:altLabel "transport mode"@en, "marque"@fr, "transporteur"@fr .

ex:nombre_de_commandes a skos:Concept ;
    skos:inScheme ex:shipping ;
    skos:prefLabel "Shipments"@en, "Expéditions"@fr .
"""


@pytest.fixture
def tpch(tmp_path: Path) -> Path:
    """A copy of the repository's TPC-H project (its files, not its data)."""
    root = tmp_path / "tpch"
    root.mkdir()
    for name in ("semantic.yml", "policies.yml"):
        shutil.copy(REPO / name, root / name)
    for folder in ("models", "glossary", "schemas"):
        shutil.copytree(REPO / folder, root / folder)
    return root


def _texts(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text()
        for folder in ("models", "glossary")
        for p in (root / folder).glob("*.yml")
    }


def _assert_checks(root: Path) -> None:
    result = run_cli("check", project=root)
    assert result.exit_code == 0, result.stderr
    report = result.stdout + result.stderr
    assert not re.search(r"(?<!warning: )SEM2\d\d", report), report  # no error of the model
    assert "SEM206" not in report and "SEM243" not in report, report  # nor of names


def _assert_reported(stderr: str, place: str, lines: list[str]) -> None:
    """Each of `lines` is the start of a notice printed at `place:LINE:1` (LINE > 0)."""
    for line in lines:
        found = re.search(
            rf"^{re.escape(place)}:([1-9]\d*):1: warning: {re.escape(line)}", stderr, re.M
        )
        assert found, f"{line!r} not reported at {place}:LINE in:\n{stderr}"


def test_dbt_import_leaves_the_projects_names_to_its_terms(tpch: Path, tmp_path: Path) -> None:
    source = tmp_path / "shop"
    (source / "models").mkdir(parents=True)
    (source / "dbt_project.yml").write_text(DBT_PROJECT)
    (source / "models" / "shop.yml").write_text(DBT_MODELS)
    before = _texts(tpch)
    result = run_cli("import", "dbt", str(source), project=tpch)
    assert result.exit_code == 0, result.stderr
    _assert_reported(
        result.stderr,
        "models/shop.yml",
        [
            # an id of TPC-H: the imported term gets another
            "SEM224 carried over differently: term 'order_count'\n"
            "  help: also the id of term 'order_count' in the project: written as term "
            "'payments_order_count'",
            # an id that is a French synonym of TPC-H's ship_mode
            "SEM224 carried over differently: term 'mode_de_transport'\n"
            "  help: also a name of term 'ship_mode' in the project: written as term "
            "'payments_mode_de_transport'",
            # an English label of TPC-H, and an English synonym
            "SEM224 carried over differently: label 'Ship mode' (en) of term 'shipping'\n"
            "  help: also the id of term 'ship_mode' in the project: the label is "
            "'Shipping' instead",
            "SEM224 carried over differently: label 'Revenue' (en) of term 'paid'\n"
            "  help: also the synonym of term 'net_revenue' in the project: the label is "
            "'Paid' instead",
        ],
    )
    assert {k: v for k, v in _texts(tpch).items() if k in before} == before
    _assert_checks(tpch)
    # the same import again: refused, nothing written; replacing gives the same files
    after = _texts(tpch)
    again = run_cli("import", "dbt", str(source), project=tpch)
    assert again.exit_code == 1 and "SEM220" in again.stderr
    assert _texts(tpch) == after
    replaced = run_cli("import", "dbt", str(source), "--replace", project=tpch)
    assert replaced.exit_code == 0, replaced.stderr
    assert _texts(tpch) == after
    _assert_checks(tpch)


def test_osi_import_leaves_the_projects_names_to_its_terms(tpch: Path, tmp_path: Path) -> None:
    source = tmp_path / "shop.osi.yml"
    source.write_text(OSI)
    before = _texts(tpch)
    result = run_cli("import", "osi", str(source), project=tpch)
    assert result.exit_code == 0, result.stderr
    _assert_reported(
        result.stderr,
        str(source),
        [
            "SEM224 carried over differently: term 'nombre_de_commandes'\n"
            "  help: also a name of term 'order_count' in the project: written as term "
            "'payments_nombre_de_commandes'",
            "SEM224 carried over differently: term 'net_revenue'\n"
            "  help: also the id of term 'net_revenue' in the project: written as term "
            "'metric_net_revenue'",
            "SEM224 carried over differently: label 'Ship mode' (en) of term 'shipping'\n"
            "  help: also the id of term 'ship_mode' in the project: the label is "
            "'Shipping' instead",
            "SEM224 not carried over: synonym 'revenue' (en) of term 'shipping'\n"
            "  help: also the synonym of term 'net_revenue' in the project: left out",
        ],
    )
    assert "carrier" in (tpch / "glossary" / "payments.yml").read_text()
    assert {k: v for k, v in _texts(tpch).items() if k in before} == before
    _assert_checks(tpch)
    after = _texts(tpch)
    again = run_cli("import", "osi", str(source), project=tpch)
    assert again.exit_code == 1 and "SEM220" in again.stderr
    replaced = run_cli("import", "osi", str(source), "--replace", project=tpch)
    assert replaced.exit_code == 0, replaced.stderr
    assert _texts(tpch) == after
    _assert_checks(tpch)


def test_skos_import_leaves_the_projects_names_to_its_terms(tpch: Path, tmp_path: Path) -> None:
    source = tmp_path / "shipping.ttl"
    source.write_text(SKOS)
    before = _texts(tpch)
    result = run_cli("import", "skos", str(source), project=tpch)
    assert result.exit_code == 0, result.stderr
    report = result.stdout + result.stderr
    # the report's lines are those of `import dbt` and `import osi`
    expected = [
        (
            "carried over differently: <https://vocab.example.com/nombre_de_commandes>\n"
            "  help: id 'nombre_de_commandes' is a "
            "name of term 'order_count' in the project: written as 'nombre_de_commandes_2'"
        ),
        (
            "carried over differently: "
            '<https://vocab.example.com/carrier> skos:prefLabel "Ship mode"@en\n  help: also the '
            "id of term 'ship_mode' in the project: the label is 'Carrier' instead"
        ),
        (
            "carried over differently: "
            '<https://vocab.example.com/carrier> skos:prefLabel "Mode d\'expédition"@fr\n'
            "  help: also the label of term 'ship_mode' in the project: "
            "the label is 'Carrier' instead"
        ),
        (
            "not carried over: "
            '<https://vocab.example.com/carrier> skos:altLabel "transport mode"@en\n'
            "  help: also the synonym of term 'ship_mode' in the project: left out"
        ),
        (
            "not carried over: "
            '<https://vocab.example.com/carrier> skos:altLabel "marque"@fr\n  help: also the '
            "synonym of term 'part_brand' in the project: left out"
        ),
    ]
    _assert_reported(report, str(source), [f"SEM224 {line}" for line in expected])
    written = (tpch / "glossary" / "shipping.yml").read_text()
    assert "transporteur" in written and "nombre_de_commandes_2:" in written
    assert {k: v for k, v in _texts(tpch).items() if k in before} == before
    _assert_checks(tpch)
    # again: the terms are the project's now, so reported as conflicts and not written
    after = _texts(tpch)
    again = run_cli("import", "skos", str(source), project=tpch)
    assert again.exit_code == 1 and "SEM103" in again.stderr
    assert _texts(tpch) == after
    replaced = run_cli("import", "skos", str(source), "--replace", project=tpch)
    assert replaced.exit_code == 0, replaced.stderr
    _assert_checks(tpch)
