"""The access policy file read into the model: levels, roles, their filters and masks, every
mistake a coded error at its file:line:col, reported by `semantic check` with the others."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import semantic.project.loading
from semantic.errors import Diagnostic, SemanticError
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.projects import write_project

ROOT = Path(__file__).resolve().parents[1]

MODEL = """
entities:
  customers:
    primary_key: [id]
    confidentiality: internal
    columns:
      id: {type: integer}
      region: {type: varchar}
      phone: {type: varchar}
  orders:
    primary_key: [id]
    columns:
      id: {type: integer}
      customer_id: {type: integer}
      amount: {type: integer}
    relationships:
      - to: customers
        cardinality: many_to_one
        keys: {customer_id: id}
"""

GLOSSARY = """
domain: sales
terms:
  region:
    label: {en: Region}
    confidentiality: public
    dimension: {entity: customers, expr: region}
  phone:
    label: {en: Phone}
    confidentiality: secret
    dimension: {entity: customers, expr: phone}
  revenue:
    label: {en: Revenue}
    confidentiality: public
    metric: {entity: orders, expr: sum(amount)}
  big_orders:
    label: {en: Big orders}
    segment: {entity: orders, condition: amount > 100}
  phone_revenue:
    label: {en: Revenue with a phone}
    confidentiality: public
    metric: {entity: orders, expr: sum(amount), filter: phone IS NOT NULL}
"""

CONFIG = "name: tiny\nlanguages: [en]\nconfidentiality_levels: [public, internal, secret]\n"

POLICY = """
roles:
  reader:
    clearance: internal
    filters: ["region = 'EU'", "big_orders"]
  nation:
    clearance: public
    attributes: [region]
    filters: [region = $user.region]
  masked:
    clearance: secret
    masks: {phone: partial}
"""


def load(tmp_path: Path, policy: str = POLICY, glossary: str = GLOSSARY) -> Project:
    files = {"models/m.yml": MODEL, "glossary/g.yml": glossary, "policies.yml": policy}
    return Project.load(write_project(tmp_path, files, CONFIG))


def errors(tmp_path: Path, policy: str, glossary: str = GLOSSARY) -> list[Diagnostic]:
    files = {"models/m.yml": MODEL, "glossary/g.yml": glossary, "policies.yml": policy}
    _, found = Project.inspect(write_project(tmp_path, files, CONFIG))
    return [d for d in found if d.severity == "error"]


def test_levels_are_the_projects_and_a_term_is_as_secret_as_its_entity(tmp_path: Path) -> None:
    model = load(tmp_path).model
    assert model.levels == ("public", "internal", "secret")
    # region says public, its entity internal: the more secret wins
    assert model.level_of("region") == "internal"
    assert model.level_of("phone") == "secret"
    assert model.level_of("revenue") == "public"  # orders has no level of its own
    assert model.terms["big_orders"].confidentiality == "internal"  # unset: internal


def test_roles_see_the_terms_within_their_clearance(tmp_path: Path) -> None:
    policy = load(tmp_path).model.policy
    reader, nation, masked = (policy.role(r) for r in ("reader", "nation", "masked"))
    assert reader.may_see("region") and not reader.may_see("phone")
    # a metric whose filter reads a secret term is as secret as that term
    assert not reader.may_see("phone_revenue") and masked.may_see("phone_revenue")
    assert not nation.may_see("region") and nation.may_see("revenue")
    assert [f.terms for f in reader.filters] == [("region",), ("big_orders",)]
    assert nation.filters[0].attributes == ("region",)
    assert masked.mask_of("phone") == "partial" and masked.mask_of("region") is None
    assert {t.id for t in reader.visible_terms(load(tmp_path).model)} == {
        "region",
        "revenue",
        "big_orders",
    }
    with pytest.raises(SemanticError) as info:
        policy.role("raeder")
    assert info.value.code == "SEM256" and "'reader'" in (info.value.diagnostics[0].hint or "")


def test_no_policy_file_means_no_roles(tmp_path: Path) -> None:
    files = {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY}
    project = Project.load(write_project(tmp_path, files, CONFIG))
    assert project.model.policy.roles == {}
    with pytest.raises(SemanticError) as info:
        project.model.policy.role("reader")
    assert info.value.code == "SEM256"


def test_a_policy_file_named_in_semantic_yml_must_exist(tmp_path: Path) -> None:
    files = {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY}
    _, found = Project.inspect(write_project(tmp_path, files, CONFIG + "policies: acl.yml\n"))
    (problem,) = [d for d in found if d.severity == "error"]
    assert problem.code == "SEM105" and str(problem.span) == "semantic.yml:4:11"


@pytest.mark.parametrize(
    ("policy", "code", "where", "words"),
    [
        ("roles: {r: {clearance: secrit}}", "SEM111", "policies.yml:1:24", "'secret'"),
        ("roles: {r: {clearance: public, masks: {phon: hash}}}", "SEM113", "1:40", "'phone'"),
        ("roles: {r: {clearance: public, masks: {revenue: hash}}}", "SEM113", "1:40", "a metric"),
        ("roles: {r: {clearance: public, masks: {phone: blur}}}", "SEM102", "1:47", "hash"),
        ("roles: {r: {clearance: public, filters: ['regio = 1']}}", "SEM112", "1:42", "'region'"),
        ("roles: {r: {clearance: public, filters: ['revenue > 1']}}", "SEM112", "1:42", "metric"),
        (
            "roles: {r: {clearance: public, filters: ['region = (']}}",
            "SEM112",
            "1:42",
            "incomplete",
        ),
        ("roles: {r: {clearance: public, filters: ['region = $x']}}", "SEM112", "1:42", "$user"),
        ("roles: {r: {clearance: public, filters: ['region = $user.a']}}", "SEM112", "1:42", "a"),
        (
            "roles: {r: {clearance: public, filters: ['region IN (SELECT 1)']}}",
            "SEM112",
            "1:42",
            "query",
        ),
        ("roles: {r: {clearance: public, filters: ['1 = 1']}}", "SEM112", "1:42", "no term"),
        ("roles: {r: {clearance: public, databse_role: x}}", "SEM102", "1:32", "database_role"),
    ],
)
def test_policy_mistakes_are_coded_errors_at_their_place(
    tmp_path: Path, policy: str, code: str, where: str, words: str
) -> None:
    (problem,) = errors(tmp_path, policy)
    assert problem.code == code, problem.render()
    assert str(problem.span).endswith(where) and problem.span is not None
    assert problem.span.file == "policies.yml"
    assert words in problem.render()


def test_unknown_levels_of_terms_and_entities_are_coded(tmp_path: Path) -> None:
    glossary = GLOSSARY.replace(
        "confidentiality: public\n    dimension", "confidentiality: pub\n    dimension"
    )
    found = errors(tmp_path, POLICY, glossary)
    assert [(d.code, str(d.span)) for d in found] == [("SEM111", "glossary/g.yml:5:22")]
    assert "'public'" in (found[0].hint or "")


def test_check_reports_policy_problems_with_the_others(tmp_path: Path) -> None:
    files = {
        "models/m.yml": MODEL,
        "glossary/g.yml": GLOSSARY.replace("sum(amount)}", "sum(amont)}", 1),
        "policies.yml": "roles: {r: {clearance: public, masks: {phon: hash}}}",
    }
    root = write_project(tmp_path, files, CONFIG)
    result = run_cli("check", project=root)
    assert result.exit_code != 0
    assert "SEM113" in result.stdout + result.stderr and "SEM203" in result.stdout + result.stderr


def test_the_shipped_project_has_the_governance_roles() -> None:
    policy = Project.load(ROOT).model.policy
    assert {"analyst", "emea_analyst", "country_manager", "support_agent", "steward"} <= set(
        policy.roles
    )
    assert policy.role("analyst").clearance == "internal"
    assert not policy.role("analyst").may_see("customer_name")
    assert policy.role("steward").may_see("total_account_balance")
    assert policy.role("support_agent").mask_of("customer_phone") == "partial"


def test_the_load_cache_reads_the_policy_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEMANTIC_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "project"
    root.mkdir()
    for name in ("semantic.yml", "policies.yml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "models", root / "models")
    shutil.copytree(ROOT / "glossary", root / "glossary")
    calls = []
    build = semantic.project.loading.build_model
    monkeypatch.setattr(
        semantic.project.loading, "build_model", lambda *a, **k: calls.append(1) or build(*a, **k)
    )
    first = Project.load(root)
    again = Project.load(root)
    assert len(calls) == 1 and again.model.policy == first.model.policy
    policy = root / "policies.yml"
    policy.write_text(policy.read_text().replace("clearance: restricted", "clearance: public"))
    changed = Project.load(root)
    assert len(calls) == 2 and changed.model.policy.role("steward").clearance == "public"
    policy.unlink()
    assert Project.load(root).model.policy.roles == {} and len(calls) == 3
