"""The access policy on the surfaces that show the vocabulary (issue #14): `semantic search`,
`semantic terms`, `semantic show` and the catalog site built for a role know nothing of the
terms above the role's clearance (no id, label, synonym or definition of one, in any
language), and views published for a role leave them out, as `--max-confidentiality` does,
the stricter of the two winning; no view is ever published without a column.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from semantic.errors import SemanticError
from semantic.model import Model, Term
from semantic.model.visible import visible_model
from semantic.outputs.access import access_for, model_for, project_for
from semantic.outputs.catalog.samples import collect_samples
from semantic.outputs.catalog.site import build_site
from semantic.outputs.search import find_terms, list_terms, search_index
from semantic.outputs.termcard import term_card
from semantic.outputs.views import plan_views
from semantic.project import Project
from tests.cli_runner import run_cli

#: the roles of the TPC-H policy file that some terms are hidden from
LIMITED = ("analyst", "emea_analyst", "support_agent")


def with_role(model: Model, rid: str, clearance: str, **changes: object) -> Model:
    """`model` with one more role (a copy of `analyst`), cleared for `clearance`; the terms
    it sees computed as the policy file's reader computes them."""
    rank = model.rank_of(clearance)
    visible = frozenset(
        tid
        for tid in model.terms
        if all(model.rank_of(model.level_of(u)) <= rank for u in model.terms_read([tid]))
    )
    role = dataclasses.replace(
        model.policy.roles["analyst"], id=rid, clearance=clearance, visible=visible, **changes
    )
    policy = dataclasses.replace(model.policy, roles={**model.policy.roles, rid: role})
    return dataclasses.replace(model, policy=policy)


def hidden(model: Model, role: str) -> list[Term]:
    found = model.policy.role(role)
    return [t for tid, t in model.terms.items() if not found.may_see(tid)]


def names_of(term: Term) -> Iterator[str]:
    """Every way of naming `term`, in every language: id, labels, synonyms, misspellings."""
    yield term.id
    yield from term.labels.values()
    for texts in (*term.synonyms.values(), *term.hidden_labels.values()):
        yield from texts


def test_the_tpch_roles_do_not_see_every_term(project: Project) -> None:
    """The premise of the other tests: each limited role has hidden terms, in two
    languages."""
    for role in LIMITED:
        terms = hidden(project.model, role)
        assert terms and all(len(t.labels) == 2 for t in terms)
    assert not hidden(project.model, "steward")


@pytest.mark.parametrize("role", LIMITED)
def test_the_visible_model_holds_no_name_of_a_hidden_term(project: Project, role: str) -> None:
    model = project.model
    seen = visible_model(model, model.policy.role(role))
    gone = {t.id for t in hidden(model, role)}
    assert gone and not gone & set(seen.terms)
    assert not {n.term for entries in seen.names.values() for n in entries} & gone
    for term in seen.terms.values():
        assert not {*term.broader, *term.related, term.replaced_by} & gone
        assert not {*term.refs} & gone
    for domain in seen.domains.values():
        assert not set(domain.terms) & gone
    for area in seen.subject_areas.values():
        assert model.terms_read([*area.dimensions, *area.metrics, *area.segments]) <= set(
            seen.terms
        )
    # a column only a hidden term reads goes too (its description names what it holds)
    if "customer_name" in gone:
        assert "c_name" not in seen.entities["customer"].columns
        assert "c_custkey" in seen.entities["customer"].columns  # a key: joins need it


@pytest.mark.parametrize("role", LIMITED)
def test_search_finds_no_hidden_term_by_any_of_its_names(project: Project, role: str) -> None:
    """Each name of each hidden term, in each language, searched as the role: never that
    term, nor any other hidden one; the steward finds each of them first."""
    model = project.model
    gone = {t.id for t in hidden(model, role)}
    for term in hidden(model, role):
        for name in names_of(term):
            found = {hit.id for hit in find_terms(model, name, role=role, limit=100)}
            assert not found & gone, (role, name)
            assert find_terms(model, name, role="steward")[0].id == term.id
    entries = search_index(model_for(model, role))["entries"]
    text = json.dumps(entries, ensure_ascii=False).casefold()
    for term in hidden(model, role):
        for name in term.labels.values():
            assert name.casefold() not in text, name
    assert not {row["id"] for row in list_terms(model, role=role)} & gone
    assert {row["id"] for row in list_terms(model, role="steward")} >= gone


def test_show_says_a_hidden_term_is_unknown(project: Project) -> None:
    """Unknown, never "hidden": the error of a hidden term is the error of a term that does
    not exist, and its hint offers only terms the role sees."""
    for name in ("customer_phone", "Téléphone du client", "customer phone", "customer_phon"):
        with pytest.raises(SemanticError) as caught:
            term_card(project, name, role="analyst")
        (found,) = caught.value.diagnostics
        assert found.code == "SEM201" and found.message == f"unknown term '{name}'"
        assert "phone" not in (found.hint or "").casefold()
        assert "confidential" not in found.render()
    with pytest.raises(SemanticError) as caught:
        term_card(project, "customer_nam", role="support_agent")
    assert "customer_name" in (caught.value.diagnostics[0].hint or "")  # it sees that one
    assert term_card(project, "customer_phone", role="support_agent").id == "customer_phone"


def test_a_card_shown_to_a_role_names_no_hidden_term(project: Project) -> None:
    """The dimensions a metric accepts and refuses, its lineage and example: only what the
    role sees (the refused list would otherwise name every hidden dimension)."""
    full = term_card(project, "customer_count")
    assert {"customer_name", "customer_phone"} <= {d.id for d in full.dimensions}
    card = term_card(project, "customer_count", role="analyst")
    text = json.dumps(card.as_dict(), ensure_ascii=False)
    for term in hidden(project.model, "analyst"):
        assert term.id not in text
    assert {d.id for d in card.dimensions} >= {"customer_region", "market_segment"}
    # the balance is restricted: the support agent sees names, not balances
    balance = term_card(project, "customer_name", role="support_agent")
    assert "customer_account_balance" not in json.dumps(balance.as_dict())


def test_the_catalog_site_of_a_role_holds_no_hidden_name(project: Project, tmp_path: Path) -> None:
    """Every file of the analyst's site (pages in both languages, search index, diagrams,
    lineage, samples) is free of each hidden term's id, labels and synonyms; the steward's
    site has them, so the search below can find them."""
    analyst = build_site(project, tmp_path / "analyst", samples=True, role="analyst")
    steward = build_site(project, tmp_path / "steward", samples=False, role="steward")
    assert not [w for w in analyst.warnings if w.severity == "error"]
    pages = {p: (analyst.output / p).read_text("utf-8") for p in analyst.pages}
    everything = {p: (steward.output / p).read_text("utf-8") for p in steward.pages}
    assert "terms/customer_phone.html" in everything and "terms/customer_phone.html" not in pages
    for term in hidden(project.model, "analyst"):
        for name in names_of(term):
            forms = {name, html.escape(name), html.escape(name, quote=False)}
            forms |= {json.dumps(name, ensure_ascii=False)[1:-1]}
            leaked = [p for p, text in pages.items() for f in forms if f in text]
            assert not leaked, (term.id, name, leaked[:3])
            assert any(f in text for text in everything.values() for f in forms), name
    sample = pages["terms/customer_region.html"]
    assert "EUROPE" in sample  # the samples were read


def test_docs_build_refuses_quality_results_for_a_role_with_row_filters(
    project: Project, tmp_path: Path
) -> None:
    with pytest.raises(SemanticError) as caught:
        build_site(project, tmp_path / "s", quality=True, samples=False, role="emea_analyst")
    (found,) = caught.value.diagnostics
    assert found.code == "SEM338" and "emea_analyst" in found.message
    assert found.span is not None and found.span.file == "policies.yml"


# --- views ----------------------------------------------------------------------------------


def test_views_for_a_role_leave_out_what_it_may_not_read(project: Project) -> None:
    model = project.model
    full = plan_views(model, dialect="duckdb", source_schema="main")
    plan = plan_views(model, dialect="duckdb", source_schema="main", role="analyst")
    columns = {v.name: [c.name for c in v.columns] for v in plan.views}
    assert "customer_name" not in columns["customer"] and "c_custkey" not in columns["customer"]
    assert "customer_key" in columns["customer"] and "market_segment" in columns["customer"]
    assert {v.name for v in plan.views} == {v.name for v in full.views}
    script = plan.script()
    assert "-- as role analyst of the policy file may read them" in script
    for term in hidden(model, "analyst"):
        assert f'"{term.id}"' not in script
    assert "[semantic:tpch] role analyst: entity customer" in script
    assert plan.as_dict()["role"] == "analyst" and plan.as_dict()["grantee"] is None
    # DuckDB has no GRANT: none is written
    assert "GRANT" not in script
    postgres = plan_views(model, dialect="postgres", source_schema="public", role="analyst")
    assert postgres.as_dict()["grantee"] == "semantic_analyst"
    statements = postgres.statements()
    assert 'GRANT SELECT ON TABLE "semantic"."customer" TO "semantic_analyst"' in statements
    assert statements[-1] == 'GRANT USAGE ON SCHEMA "semantic" TO "semantic_analyst"'
    assert sum(s.startswith("GRANT SELECT") for s in statements) == len(postgres.views)


def test_the_stricter_of_role_and_level_wins(project: Project) -> None:
    model = project.model

    def columns(**options: str) -> set[str]:
        plan = plan_views(model, dialect="duckdb", source_schema="main", **options)
        return {f"{v.name}.{c.name}" for v in plan.views for c in v.columns}

    support = columns(role="support_agent")
    assert "customer.customer_name" in support
    assert "customer.customer_account_balance" not in support
    # a level below the role's clearance: the level decides
    assert columns(role="support_agent", max_confidentiality="internal") == columns(role="analyst")
    # a level above it: the role decides
    assert columns(role="analyst", max_confidentiality="restricted") == columns(role="analyst")
    assert access_for(model, "public", "analyst").describe() == (
        "for role 'analyst' at confidentiality 'public'"
    )


def test_no_view_without_a_column_for_a_role_either(project: Project, tmp_path: Path) -> None:
    """A role cleared for public terms only leaves `part` without a column: the view is
    left out with SEM436, every statement runs on DuckDB, and a BI tool reads the rest."""
    model = with_role(project.model, "reader", "public")
    plan = plan_views(model, dialect="duckdb", source_schema="main", role="reader")
    assert "part" not in {v.name for v in plan.views}
    assert all(v.columns for v in plan.views)
    (notice,) = [n for n in plan.notices if n.code == "SEM436"]
    assert notice.message == (
        "view 'semantic.part' has no column left for role 'reader': it is not published"
    )
    assert "publish for a role with a higher clearance" in (notice.hint or "")
    # every statement is valid SQL that DuckDB runs over the data files
    project.prepare_data()
    with duckdb.connect() as connection:
        for table in {e.table for e in model.entities.values()}:
            connection.execute(
                f"CREATE VIEW main.{table} AS SELECT * FROM "
                f"read_parquet('{project.data_dir / table}.parquet')"
            )
        for statement in plan.statements():
            connection.execute(statement)
        names = {
            r[0]
            for r in connection.execute(
                "SELECT view_name FROM duckdb_views() WHERE schema_name = 'semantic'"
            ).fetchall()
        }
    assert "region" in names and "part" not in names


def test_cli_search_show_and_terms_take_a_role(project: Project) -> None:
    result = run_cli("search", "téléphone du client", "--role", "analyst", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "customer_phone" not in result.stdout
    found = run_cli("search", "téléphone du client", "--format", "json")
    assert json.loads(found.stdout)[0]["id"] == "customer_phone"
    result = run_cli("show", "customer_phone", "--role", "analyst")
    assert result.exit_code == 1
    assert "SEM201 unknown term 'customer_phone'" in result.stderr
    assert run_cli("show", "customer_phone", "--role", "support_agent").exit_code == 0
    result = run_cli("terms", "--role", "analyst")
    assert result.exit_code == 0 and "customer_phone" not in result.stdout
    result = run_cli("search", "revenue", "--role", "analyts")
    assert result.exit_code == 1 and "SEM256 unknown role 'analyts'" in result.stderr


def test_the_samples_of_a_role_are_read_with_its_filters_and_masks(project: Project) -> None:
    """The catalog's sample values, read as the role: Europe's regions and counts for the
    EMEA analyst, hashed names for the support agent (a masked value is never sorted on)."""
    engine = project.engine_for(None)
    emea = collect_samples(project_for(project, "emea_analyst"), engine, rows=5)
    regions = emea.terms["customer_region"].values
    assert regions is not None and [r[0] for r in regions.rows] == ["EUROPE"]
    total = emea.terms["customer_count"].total
    assert total is not None
    assert list(total.rows) == [
        tuple(r.values())
        for r in project.query("SELECT customer_count", role="emea_analyst").to_pylist()
    ]
    assert (
        total.rows[0][0] < project.query("SELECT customer_count").to_pylist()[0]["customer_count"]
    )
    support = collect_samples(project_for(project, "support_agent"), engine, rows=5)
    names = support.terms["customer_name"].values
    assert names is not None and "ORDER BY customer_count DESC LIMIT" in names.query
    assert names.rows and all(re.fullmatch("[0-9a-f]{32}", r[0]) for r in names.rows)
    assert "customer_account_balance" not in support.terms  # restricted: not there at all


def test_cli_show_and_docs_build_as_a_role_with_attributes(tmp_path: Path) -> None:
    """A role whose filters read a caller's attribute needs it once, up front (SEM257),
    not a failed example per term; with it, the card's example runs as that caller."""
    result = run_cli("show", "net_revenue", "--role", "country_manager")
    assert result.exit_code == 1
    assert "SEM257 role 'country_manager' needs the caller's attribute 'nation'" in result.stderr
    result = run_cli(
        "show", "net_revenue", "--role", "country_manager", "--user-attr", "nation=FRANCE", "--sql"
    )
    assert result.exit_code == 0, result.stderr
    assert "n_name = 'FRANCE'" not in result.stdout  # bound as a parameter, never pasted
    assert "nation.n_name = $user_nation" in result.stdout
    site = tmp_path / "site"
    result = run_cli("docs", "build", "--role", "analyst", "--no-samples", "-o", str(site))
    assert result.exit_code == 0, result.stderr
    assert (site / "terms" / "customer_region.html").exists()
    assert not (site / "terms" / "customer_phone.html").exists()
    # customer_phone's French label (the supplier's phone, "Téléphone du fournisseur", is
    # internal: the analyst may read it)
    index = (site / "assets" / "search-index.js").read_text("utf-8")
    assert "Téléphone du client" not in index and "Téléphone du fournisseur" in index
