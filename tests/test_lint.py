"""Vocabulary lint: warnings a glossary reader would care about."""

from __future__ import annotations

from pathlib import Path

import pytest

from semantic.errors import SemanticError
from semantic.outputs.lint import lint_vocabulary
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.conftest import ROOT
from tests.projects import write_project
from tests.test_errors import MODEL

GLOSSARY = """
domain: sales
terms:
  region:
    label: {en: Customer region, fr: Région client}
    definition: {en: Where the customer lives., fr: Où vit le client.}
    related: [area]
    dimension: {entity: customers, expr: region}
  area:
    label: {en: Area, fr: Customer region}
    definition: {en: A larger region.}
    dimension: {entity: customers, expr: region}
  zone:
    label: {en: Zone}
    broader: [area]
    dimension: {entity: customers, expr: region}
  revenue:
    label: {en: Revenue, fr: Chiffre d'affaires}
    definition: {en: Sum of amounts., fr: Somme des montants.}
    metric: {entity: orders, expr: sum(amount)}
"""


def test_lint_finds_gaps_orphans_and_shared_labels(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY})
    found = sorted((d.code, d.message) for d in lint_vocabulary(Project.load(tmp_path).model))
    assert found == [
        ("SEM210", "term 'zone' has no label in 'fr'"),
        ("SEM211", "term 'area' has no definition in 'fr'"),
        ("SEM211", "term 'zone' has no definition in 'en'"),
        ("SEM211", "term 'zone' has no definition in 'fr'"),
        (
            "SEM212",
            "term 'revenue' is an orphan: no broader, narrower or related term, and no "
            "metric it is computed from or that is computed from it",
        ),
        (
            "SEM213",
            "label 'Customer region' (fr) of term 'area' is also the label of 'region' "
            "(en, at glossary/g.yml:4:17)",
        ),
    ]
    assert all(d.severity == "warning" for d in lint_vocabulary(Project.load(tmp_path).model))


LINKED = """
domain: sales
terms:
  region:
    label: {en: Region}
    dimension: {entity: customers, expr: region}
  big:
    label: {en: Big order}
    segment: {entity: orders, condition: amount > 100}
  revenue:
    label: {en: Revenue}
    metric: {entity: orders, expr: sum(amount)}
  big_revenue:
    label: {en: Big revenue}
    metric: {entity: orders, expr: sum(amount), filter: big}
  order_count:
    label: {en: Orders}
    metric: {entity: orders, expr: count(*)}
  average:
    label: {en: Average}
    metric: {expr: revenue / order_count}
  alone:
    label: {en: Alone}
    metric: {entity: orders, expr: max(amount)}
"""


def test_a_term_linked_by_its_meaning_is_no_orphan(tmp_path: Path) -> None:
    """A derived metric and the metrics it combines, a metric and the terms of its filter are
    linked (the catalog and the RDF export show those links); a term on its own is not."""
    config = "name: tiny\nlanguages: [en]\ndata:\n  dir: data\n"
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": LINKED}, config)
    model = Project.load(tmp_path).model
    found = {d.message.split("'")[1] for d in lint_vocabulary(model) if d.code == "SEM212"}
    assert found == {"region", "alone"}


def test_the_shipped_example_lints_clean() -> None:
    """A new modeler's first `check --lint` on the project shows no noise to ignore."""
    result = run_cli("check", "--lint", project=ROOT)
    assert result.exit_code == 0, result.stderr
    assert "warning:" not in result.stderr
    assert ", 0 warning(s)" in result.stderr


def test_lint_is_opt_in_and_never_fails_check(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY})
    plain = run_cli("check", project=tmp_path)
    linted = run_cli("check", "--lint", project=tmp_path)
    assert plain.exit_code == linted.exit_code == 0
    assert "SEM212" not in plain.stderr and "warning: SEM212" in linted.stderr


NAMES = """
domain: sales
terms:
  revenue:
    label: {en: Revenue, fr: Chiffre d'affaires}
    synonyms: {fr: [CA]}
    hidden_labels: {en: [revenu]}
    metric: {entity: orders, expr: sum(amount)}
  charge:
    label: {en: Charge, fr: Montant facturé}
    synonyms: {en: [ca, takings]}
    metric: {entity: orders, expr: sum(amount)}
  region:
    label: {en: Region, fr: Revenu}
    hidden_labels: {fr: [Takings]}
    dimension: {entity: customers, expr: region}
"""


def test_a_name_of_one_term_that_names_another_in_another_language_is_warned(
    tmp_path: Path,
) -> None:
    """Every such name is unusable in a query (SEM304): the warning names both terms and
    where each name is written. Same-language clashes are errors already (SEM206)."""
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": NAMES})
    project = Project.load(tmp_path)
    found = [
        d.render().splitlines()
        for d in lint_vocabulary(project.model)
        if d.code in ("SEM213", "SEM234")
    ]
    assert found == [
        [
            "glossary/g.yml:10:21: warning: SEM234 synonym 'ca' (en) of term 'charge' is also "
            "the synonym of 'revenue' (fr, at glossary/g.yml:5:21)",
            "  help: a query that writes 'ca' is ambiguous (SEM304) and must use an id "
            "instead: drop or reword one of the two names",
        ],
        [
            "glossary/g.yml:13:29: warning: SEM234 label 'Revenu' (fr) of term 'region' is "
            "also the hidden label of 'revenue' (en, at glossary/g.yml:6:26)",
            "  help: a query that writes 'Revenu' is ambiguous (SEM304) and must use an id "
            "instead: drop or reword one of the two names",
        ],
        [
            "glossary/g.yml:14:26: warning: SEM234 hidden label 'Takings' (fr) of term "
            "'region' is also the synonym of 'charge' (en, at glossary/g.yml:10:25)",
            "  help: a query that writes 'Takings' is ambiguous (SEM304) and must use an id "
            "instead: drop or reword one of the two names",
        ],
    ]
    # and each of those names really is ambiguous in a query
    for name in ("CA", "revenu", "takings"):
        with pytest.raises(SemanticError) as caught:
            project.compile(f'SELECT "{name}"')
        assert caught.value.code == "SEM304", name
