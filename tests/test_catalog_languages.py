"""The catalog site in the reader's language: a site per project language (the first at the
root, each other in its folder), the interface's words from `outputs/catalog/locales/`, a
language switch on every page, and the search labelled in the page's language.

The browser's view of the same pages is in test_catalog_browser.py.
"""

from __future__ import annotations

import re
import string
from html.parser import HTMLParser
from pathlib import Path

import pytest

from semantic.model import Model
from semantic.outputs.catalog.messages import MESSAGES, Messages
from semantic.outputs.catalog.site import build_site
from semantic.outputs.search import search, search_index
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.conftest import ROOT
from tests.projects import write_project

BOOKSHOP = ROOT / "examples" / "bookshop"
#: Void elements: no end tag to wait for.
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
#: What is not the interface: the glossary's and the model's own words (marked with their
#: language or as `content`), code, data values, the language codes of definitions.
NOT_CHROME_TAGS = {"code", "pre", "script", "style"}
NOT_CHROME_CLASSES = {"code", "content", "sample-value", "lang", "term-id"}


class Chrome(HTMLParser):
    """The interface's text of a page: every text and placeholder, label and title outside
    what the glossary, the model or the data wrote."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[bool] = []  # per open element: is it outside the chrome?
        self.html_lang: str | None = None
        self.switch: dict[str, str] = {}  # language -> href of the language switch

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.html_lang = found.get("lang")
            return
        if "lang-switch" in found.get("class", "").split():
            self.switch[found["hreflang"]] = found["href"]
        hidden = any(self.stack) or (
            tag in NOT_CHROME_TAGS
            or "lang" in found
            or bool(NOT_CHROME_CLASSES & set(found.get("class", "").split()))
        )
        if not hidden:
            self.parts += [found[a] for a in ("placeholder", "aria-label", "title") if a in found]
        if tag not in VOID:
            self.stack.append(hidden)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and tag != "html" and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not any(self.stack):
            self.parts.append(data)

    @property
    def text(self) -> str:
        """The chrome's text, one space between parts."""
        return " ".join(" ".join(self.parts).split())


def chrome(path: Path) -> Chrome:
    page = Chrome()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def words(texts: list[str]) -> set[str]:
    """The words of 4 letters or more of some texts (their `{fields}` left out)."""
    bare = [re.sub(r"\{\w+\}", " ", x) for x in texts]
    return {w.casefold() for x in bare for w in re.findall(r"[^\W\d_]{4,}", x)}


def prose_words(text: str) -> list[str]:
    """The words of a text, leaving out identifiers (`average_order_value`, shown in
    diagrams)."""
    return [w for w in re.findall(r"\w+", text) if "_" not in w and re.fullmatch(r"[^\W\d]{4,}", w)]


def english_only_words(model: Model) -> set[str]:
    """Words of the English interface that no French message uses and that the French
    glossary does not use either (a label's "Date" is French too): none of them may appear in
    the chrome of a French page, where the glossary's labels appear unmarked."""

    def texts(table: dict[str, str | tuple[str, str]]) -> list[str]:
        return [x for v in table.values() for x in ((v,) if isinstance(v, str) else v)]

    french = [t.labels.get("fr", "") for t in model.terms.values()]
    french += [d.labels.get("fr", "") for d in model.domains.values()]
    french += [a.labels.get("fr", "") for a in model.subject_areas.values()]
    return words(texts(MESSAGES["en"])) - words(texts(MESSAGES["fr"])) - words(french)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("languages") / "site"
    build_site(Project.load(ROOT), output, samples=False)
    return output


# --- the message table ----------------------------------------------------------------------


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", ["fr", "de", "es"])
def test_every_language_has_every_message_with_the_same_fields(language: str) -> None:
    english, other = MESSAGES["en"], MESSAGES[language]
    assert set(other) == set(english)
    for key, text in english.items():
        translated = other[key]
        assert type(translated) is type(text), key
        forms = (text,) if isinstance(text, str) else text
        translations = (translated,) if isinstance(translated, str) else translated
        pairs = zip(forms, translations, strict=True)
        for en, tr in pairs:
            assert fields(tr) == fields(en), (key, tr)
            assert tr.strip(), key


def test_an_unknown_language_falls_back_to_english_words() -> None:
    italian = Messages("it")
    assert italian("nav_glossary") == "Glossary"
    assert italian.language_name("fr") == "French"
    assert Messages("fr").with_grain("Date de commande", "year") == "Date de commande (année)"
    assert Messages("de").with_grain("Bestelldatum", "quarter") == "Bestelldatum (Quartal)"
    assert Messages("es").count("terms", 1) == "1 término"
    assert Messages("fr").count("terms", 0) == "0 terme"  # French counts zero as one
    assert Messages("en").count("terms", 0) == "0 terms"


# --- one site per language ---------------------------------------------------------------


def test_each_page_exists_in_each_language_and_says_which(site: Path) -> None:
    every = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    english = [p for p in every if not p.startswith("fr/")]
    assert len(every) == 2 * len(english)
    assert len(english) > 80
    for name in english:
        french = site / "fr" / name
        assert french.is_file(), name
        assert chrome(site / name).html_lang == "en"
        assert chrome(french).html_lang == "fr"
    assert not (site / "en").exists()  # the first language is at the root
    assert sorted(p.name for p in (site / "fr").iterdir()) == [
        "domains",
        "entities",
        "index.html",
        "subject-areas",
        "terms",
    ]  # the assets are shared


def test_the_language_switch_leads_to_the_same_page(site: Path) -> None:
    for name in ("index.html", "terms/net_revenue.html", "entities/index.html"):
        english, french = site / name, site / "fr" / name
        to_french = chrome(english).switch["fr"]
        to_english = chrome(french).switch["en"]
        assert (english.parent / to_french).resolve() == french.resolve()
        assert (french.parent / to_english).resolve() == english.resolve()
        assert "en" not in chrome(english).switch  # the page's own language is not a link
    text = (site / "fr" / "terms" / "net_revenue.html").read_text(encoding="utf-8")
    assert '<link rel="stylesheet" href="../../assets/site.css">' in text
    assert '<link rel="alternate" hreflang="en" href="../../terms/net_revenue.html">' in text


def test_french_pages_have_no_english_interface_words(site: Path) -> None:
    forbidden = english_only_words(Project.load(ROOT).model)
    assert {"glossary", "definition", "owners", "synonyms", "search", "lineage"} <= forbidden
    for path in sorted((site / "fr").rglob("*.html")):
        text = chrome(path).text
        found = {w for w in prose_words(text) if w.casefold() in forbidden}
        assert not found, f"{path.relative_to(site)}: {sorted(found)} in {text[:300]}"
    # and the same check does see them in an English page
    english = chrome(site / "terms" / "net_revenue.html").text
    assert {"Governance", "Lineage", "Owners"} <= set(english.split())


def test_a_french_term_page_speaks_french(site: Path) -> None:
    text = chrome(site / "fr" / "terms" / "order_date.html").text
    for expected in (
        "Accueil",
        "Glossaire",
        "Entités",
        "Domaines d'analyse",
        "Noms",
        "Gouvernance",
        "Responsables",
        "Correspondance physique",
        "Provenance",
        "Exemple de requête",
        "dimension temporelle",
        "trimestre, année",  # the grains
        "anglais",  # the English names, named in French
    ):
        assert expected in text, expected
    page = (site / "fr" / "terms" / "order_date.html").read_text(encoding="utf-8")
    assert "<h1>Date de commande</h1>" in page
    assert 'placeholder="Chercher un terme…"' in page
    area = chrome(site / "fr" / "subject-areas" / "yearly_sales.html").text
    assert "Date de commande (année)" in area  # the grain of a column, in French


def test_the_french_home_page_searches_in_french(site: Path) -> None:
    page = (site / "fr" / "index.html").read_text(encoding="utf-8")
    assert '<script src="../assets/search-index.js"></script>' in page
    words = re.search(r'<script type="application/json" id="interface-words">(.*?)</script>', page)
    assert words is not None
    assert '"no_results": "Aucun résultat pour « {text} »."' in words.group(1)
    assert '"metric": "indicateur"' in words.group(1)


def test_preferring_a_language_labels_in_it_and_only_orders_equals() -> None:
    index = search_index(Project.load(ROOT).model)
    for query in ("chiffre", "revenue", "date", "client", "region", "nombre"):
        plain = {h.id: h for h in search(index, query, limit=1000)}
        preferred = {h.id: h for h in search(index, query, limit=1000, prefer="fr")}
        assert preferred.keys() == plain.keys()  # every language is still searched
        for tid, hit in preferred.items():
            bonus = 3 if hit.language == "fr" else 0
            assert hit.score in (plain[tid].score, plain[tid].score + bonus), (query, tid)
    first = search(index, "chiffre d'affaires net", prefer="fr")[0]
    assert (first.id, first.label) == ("net_revenue", "Chiffre d'affaires net")


# --- other languages ---------------------------------------------------------------------


def test_a_spanish_site(tmp_path: Path) -> None:
    build_site(Project.load(BOOKSHOP), tmp_path / "site", samples=False)
    text = chrome(tmp_path / "site" / "es" / "index.html").text
    assert "Glosario" in text and "Áreas de análisis" in text
    assert chrome(tmp_path / "site" / "index.html").html_lang == "en"


def test_a_german_site_first_and_an_untranslated_language(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "models/m.yml": """
                entities:
                  shop:
                    primary_key: [id]
                    columns: {id: {type: bigint}, city: {type: varchar}}
            """,
            "glossary/g.yml": """
                domain: shops
                terms:
                  shop_count:
                    label: {de: Anzahl Läden, en: Shop count, it: Numero di negozi}
                    metric: {entity: shop, expr: count(*)}
                  city:
                    label: {de: Stadt, en: City, it: Città}
                    dimension: {entity: shop, expr: city}
            """,
        },
        config="name: tiny\nlanguages: [de, en, it]\n",
    )
    result = run_cli("docs", "build", project=root)
    assert result.exit_code == 0, result.stderr
    assert (
        "semantic.yml: warning: SEM444 the catalog's interface has no translation in 'it'"
        in result.stderr
    )
    site = tmp_path / "site"
    german = chrome(site / "terms" / "city.html")
    assert german.html_lang == "de"
    assert "Glossar" in german.text and "Verantwortung" in german.text
    italian = chrome(site / "it" / "terms" / "city.html")
    assert italian.html_lang == "it"
    assert "Glossary" in italian.text  # English words around the Italian glossary
    assert "<h1>Città</h1>" in (site / "it" / "terms" / "city.html").read_text(encoding="utf-8")
    assert set(german.switch) == {"en", "it"}


def test_the_docs_count_the_files_of_the_example_site(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "catalog.md").read_text("utf-8")
    match = re.search(r"^wrote (\d+) files to", text, re.M)
    assert match is not None
    report = build_site(Project.load(ROOT), tmp_path / "site", samples=False)
    assert len(report.pages) == int(match.group(1))
