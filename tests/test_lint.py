"""Vocabulary lint: warnings a glossary reader would care about."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from semantic.cli import app
from semantic.outputs.lint import lint_vocabulary
from semantic.project import Project
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
    related: [area]
    dimension: {entity: customers, expr: region}
  revenue:
    label: {en: Revenue, fr: Chiffre d'affaires}
    definition: {en: Sum of amounts., fr: Somme des montants.}
    metric: {entity: orders, expr: sum(amount)}
"""


def test_lint_finds_gaps_orphans_shared_labels_and_related_ancestors(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY})
    found = sorted((d.code, d.message) for d in lint_vocabulary(Project.load(tmp_path).model))
    assert found == [
        ("SEM210", "term 'zone' has no label in 'fr'"),
        ("SEM211", "term 'area' has no definition in 'fr'"),
        ("SEM211", "term 'zone' has no definition in 'en'"),
        ("SEM211", "term 'zone' has no definition in 'fr'"),
        ("SEM212", "term 'revenue' is an orphan: no broader, narrower or related term"),
        (
            "SEM213",
            "label 'Customer region' (fr) of term 'area' is also the label of 'region' (en)",
        ),
        ("SEM214", "term 'zone' is both related to and narrower than 'area'"),
    ]
    assert all(d.severity == "warning" for d in lint_vocabulary(Project.load(tmp_path).model))


def test_lint_is_opt_in_and_never_fails_check(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY})
    plain = CliRunner().invoke(app, ["--project", str(tmp_path), "check"])
    linted = CliRunner().invoke(app, ["--project", str(tmp_path), "check", "--lint"])
    assert plain.exit_code == linted.exit_code == 0
    assert "SEM212" not in plain.stderr and "warning: SEM212" in linted.stderr
