"""Building the catalog: implied reverse relationships and project configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from semantic.errors import SemanticError
from semantic.project import Project
from tests.projects import write_project

TWO_ROLES = """
entities:
  customers:
    primary_key: [id]
    columns: {id: {type: integer}}
  orders:
    primary_key: [id]
    columns: {id: {type: integer}, bill_to: {type: integer}, ship_to: {type: integer}}
    relationships:
      - {to: customers, name: bill_to_customer, cardinality: many_to_one, keys: {bill_to: id}}
      - {to: customers, name: ship_to_customer, cardinality: many_to_one, keys: {ship_to: id}}
"""


def test_reverse_relationships_get_stable_names(tmp_path: Path) -> None:
    glossary = (
        "domain: d\nterms:\n  n: {label: {en: N}, metric: {entity: orders, expr: count(*)}}\n"
    )
    write_project(tmp_path, {"models/m.yml": TWO_ROLES, "glossary/g.yml": glossary})
    model = Project.load(tmp_path).model
    back = {e.name: e.keys for e in model.edges["customers"]}
    assert back == {
        "orders_bill_to_customer": (("id", "bill_to"),),
        "orders_ship_to_customer": (("id", "ship_to"),),
    }
    assert all(e.cardinality == "one_to_many" for e in model.edges["customers"])


def test_query_without_data_section_is_a_clear_error(tmp_path: Path) -> None:
    glossary = (
        "domain: d\nterms:\n  n: {label: {en: N}, metric: {entity: orders, expr: count(*)}}\n"
    )
    write_project(
        tmp_path,
        {"models/m.yml": TWO_ROLES, "glossary/g.yml": glossary},
        config="name: tiny\nlanguages: [en]\n",
    )
    project = Project.load(tmp_path)
    assert "COUNT(*)" in project.compile("SELECT n")
    with pytest.raises(SemanticError) as caught:
        project.query("SELECT n")
    assert caught.value.code == "SEM105" and "data" in caught.value.diagnostics[0].message
