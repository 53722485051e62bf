"""`semantic search`: forgiving matching over ids, labels, synonyms and definitions in every
language, ranked ids > labels > synonyms > definitions."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from semantic.errors import SemanticError
from semantic.model.names import normalize_name
from semantic.outputs.search import edit_distance, find_terms, search, search_index, search_key
from semantic.project import Project
from tests.cli_runner import run_cli, unboxed
from tests.conftest import ROOT
from tests.test_docs import blocks

BOOKSHOP = ROOT / "examples" / "bookshop"


@pytest.fixture(scope="module")
def index() -> dict[str, Any]:
    return search_index(Project.load(ROOT).model)


def top(index: dict[str, Any], text: str, **options: Any) -> list[str]:
    return [hit.id for hit in search(index, text, **options)]


# --- what a user types ---------------------------------------------------------------------


def test_a_french_synonym_finds_the_english_term(index: dict[str, Any]) -> None:
    hits = search(index, "CA net")
    assert hits[0].id == "net_revenue"
    assert (hits[0].field, hits[0].language, hits[0].text) == ("synonym", "fr", "CA net")
    assert hits[0].label == "Net revenue"  # labelled in the project's first language


def test_case_accents_spaces_and_apostrophes_do_not_matter(index: dict[str, Any]) -> None:
    assert top(index, "REGION CLIENT")[0] == "customer_region"  # label "Région client"
    assert top(index, "region_client")[0] == "customer_region"
    assert top(index, "chiffre d’affaires net")[0] == "net_revenue"  # typographic apostrophe
    assert top(index, "chiffre-d-affaires-net")[0] == "net_revenue"


def test_typos_are_forgiven(index: dict[str, Any]) -> None:
    assert top(index, "net revnue")[0] == "net_revenue"
    assert top(index, "cutsomer region")[0] == "customer_region"
    assert top(index, "cutsomer regoin")[0] == "customer_region"
    # a short word must be exact: "ca" is not a typo of every two-letter word
    assert "net_revenue" not in top(index, "xa net", limit=100)


def test_prefixes_find_terms_while_typing(index: dict[str, Any]) -> None:
    assert top(index, "custo")[:1] == ["customer"]  # the entity's id, then customer terms
    assert {"customer_key", "customer_name"} <= set(top(index, "custo", limit=100))
    assert top(index, "panier")[0] == "average_order_value"  # French label "Panier moyen"


def test_definitions_are_searched_in_every_language(index: dict[str, Any]) -> None:
    hits = {h.id: h for h in search(index, "indicatif du pays", limit=100)}
    assert hits["customer_phone"].field == "definition"
    assert hits["customer_phone"].language == "fr"


def test_known_misspellings_are_found(index: dict[str, Any]) -> None:
    hit = search(index, "nett revenue")[0]  # a hidden label of net_revenue
    assert (hit.id, hit.field, hit.score) == ("net_revenue", "hidden_label", 104)


def test_entities_are_found_too(index: dict[str, Any]) -> None:
    hit = search(index, "lineitem")[0]
    assert (hit.id, hit.kind, hit.url) == ("lineitem", "entity", "entities/lineitem.html")


def test_a_language_restricts_labels_synonyms_and_definitions(index: dict[str, Any]) -> None:
    assert "net_revenue" not in top(index, "CA net", language="en", limit=100)
    hit = search(index, "CA net", language="fr")[0]
    assert (hit.id, hit.label) == ("net_revenue", "Chiffre d'affaires net")
    # ids are in no language: always searched
    assert top(index, "net_revenue", language="fr")[0] == "net_revenue"


def test_nothing_matches_nonsense(index: dict[str, Any]) -> None:
    assert search(index, "zzqxj") == []
    assert search(index, "  ") == []


# --- the ranking ---------------------------------------------------------------------------


def entry(eid: str, *fields: tuple[str, str | None, str]) -> dict[str, Any]:
    return {
        "id": eid,
        "kind": "dimension",
        "domain": "d",
        "url": f"terms/{eid}.html",
        "labels": {"en": eid},
        "fields": [[f, lang, search_key(text), text] for f, lang, text in fields],
    }


def test_ids_rank_above_labels_above_synonyms_above_definitions() -> None:
    index = {
        "languages": ["en"],
        "entries": [
            entry("a_def", ("definition", "en", "Margin")),
            entry("b_syn", ("synonym", "en", "margin")),
            entry("c_label", ("label", "en", "Margin")),
            entry("margin", ("id", None, "margin")),
        ],
    }
    assert top(index, "margin") == ["margin", "c_label", "b_syn", "a_def"]


def test_better_matches_rank_above_better_fields() -> None:
    index = {
        "languages": ["en"],
        "entries": [
            entry("fuzzy_id", ("id", None, "margim")),  # one typo in an id
            entry("prefix_label", ("label", "en", "Margin rate")),
            entry("exact_synonym", ("synonym", "en", "margin")),
        ],
    }
    hits = search(index, "margin")
    assert [h.id for h in hits] == ["exact_synonym", "prefix_label", "fuzzy_id"]
    assert [h.score for h in hits] == [105, 100, 50 - 5 + 15]


def test_every_name_of_every_term_finds_it_at_the_top(index: dict[str, Any]) -> None:
    model = Project.load(ROOT).model
    for term in model.terms.values():
        names = [term.id, *term.labels.values()]
        names += [s for synonyms in term.synonyms.values() for s in synonyms]
        for name in names:
            hits = search(index, name, limit=100)
            best = hits[0].score
            assert term.id in [h.id for h in hits if h.score == best], (name, hits[:3])


def test_the_bookshop_finds_english_terms_by_their_spanish_names() -> None:
    model = Project.load(BOOKSHOP).model
    index = search_index(model)
    for term in model.terms.values():
        for name in [*term.labels.values(), *term.synonyms.get("es", ())]:
            hits = search(index, name, limit=100)
            assert term.id in [h.id for h in hits if h.score == hits[0].score], name


# --- the pieces ----------------------------------------------------------------------------


def test_edit_distance_known_values() -> None:
    assert edit_distance("revnue", "revenue") == 1
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    assert edit_distance("same", "same") == 0
    assert edit_distance("regoin", "region") == 1  # two neighbours swapped: one typo
    assert edit_distance("ca", "abc") == 3  # optimal string alignment, not Damerau's


@given(st.text("abcd", max_size=9), st.text("abcd", max_size=9), st.integers(0, 3))
def test_edit_distance_is_a_distance(a: str, b: str, bound: int) -> None:
    d = edit_distance(a, b)
    assert d == edit_distance(b, a)
    assert abs(len(a) - len(b)) <= d <= max(len(a), len(b))
    assert (d == 0) == (a == b)
    bounded = edit_distance(a, b, bound)
    assert bounded == d if d <= bound else bounded > bound


@given(st.text(alphabet="abcdeéèêàçôùœABCÉÈÀÇ _-'’.,", max_size=30))
def test_search_key_ignores_case_accents_and_punctuation(text: str) -> None:
    key = search_key(text)
    assert search_key(key) == key
    assert search_key(text.upper()) == key
    assert key == key.strip() and "  " not in key
    assert set(key) <= set("abcdeuoœ ")


def test_search_key_agrees_with_term_names() -> None:
    for text in ("Chiffre d'affaires NET", "Région  client", "order_date"):
        assert search_key(text) == normalize_name(text).replace("'", " ").replace("  ", " ")


# --- the command ---------------------------------------------------------------------------


def test_cli_json_is_the_library_result() -> None:
    code, out, _ = run_cli("search", "CA net", "--format", "json", "--limit", "3")
    assert code == 0
    expected = [h.as_dict() for h in find_terms(Project.load(ROOT).model, "CA net", limit=3)]
    assert json.loads(out) == expected
    assert json.loads(out)[0]["id"] == "net_revenue"


def test_cli_table_names_the_match() -> None:
    code, out, err = run_cli("search", "panier moyen", "-l", "fr")
    assert code == 0
    first = next(line for line in out.splitlines() if "average_order_value" in line)
    assert "Panier moyen" in first and "label (fr)" in first
    assert "result(s)" in err


def test_cli_refuses_an_empty_search_and_an_unknown_language() -> None:
    code, _, err = run_cli("search", " '' ")
    assert code == 1 and "SEM426" in err and "Traceback" not in err
    code, _, err = run_cli("search", "revenue", "--language", "fre")
    # a usage error (semantic.cli.choices); the library's own check is SEM427
    assert code == 2 and "Traceback" not in err
    assert "'fre' is not a language of this project; use en or fr" in unboxed(err)
    assert "did you mean 'fr'" in unboxed(err)
    with pytest.raises(SemanticError) as caught:
        find_terms(Project.load(ROOT).model, "revenue", "de")
    assert caught.value.code == "SEM427"


# --- subject areas -------------------------------------------------------------------------


def test_subject_areas_are_found_by_id_label_and_definition(index: dict[str, Any]) -> None:
    assert top(index, "ventes par client")[:1] == ["sales_by_customer"]  # a French label
    assert top(index, "yearly_sales")[:1] == ["yearly_sales"]  # the id, the view's name
    assert top(index, "yearly sales finished")[:1] == ["yearly_sales"]
    assert "yearly_sales" in top(index, "commandes terminées")  # a French definition
    assert "sales_by_customer" not in top(index, "ventes par client", language="en")
    hit = search(index, "Ventes annuelles")[0]
    assert (hit.id, hit.kind, hit.url, hit.field, hit.language) == (
        "yearly_sales",
        "subject_area",
        "subject-areas/yearly_sales.html",
        "label",
        "fr",
    )
    assert hit.label == "Yearly sales of finished orders"


def test_cli_finds_a_subject_area() -> None:
    code, out, _ = run_cli("search", "ventas web por ciudad", "-f", "json", project=BOOKSHOP)
    assert code == 0
    first = json.loads(out)[0]
    assert (first["id"], first["kind"]) == ("web_sales_by_city", "subject_area")


# --- the documentation ---------------------------------------------------------------------


def test_the_search_examples_of_the_catalog_doc_are_true() -> None:
    """Each `$ semantic search ...` line of docs/catalog.md's console blocks is rerun and
    prints exactly what the page shows under it (tables at 100 columns)."""
    commands = 0
    for block in blocks("docs/catalog.md"):
        if block.tag != "console":
            continue
        lines = block.text.splitlines()
        for i, line in enumerate(lines):
            if not line.startswith("$ semantic search "):
                continue
            shown = []
            for after in lines[i + 1 :]:
                if after.startswith("$ "):
                    break
                shown.append(after)
            args = shlex.split(line.removeprefix("$ semantic "))
            result = run_cli(*args, env={"COLUMNS": "100"})
            assert result.exit_code == 0, (line, result.stderr)
            assert result.stdout.rstrip("\n").splitlines() == shown, line
            commands += 1
    assert commands >= 3
