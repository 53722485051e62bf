"""The catalog site in a real headless browser: Debian's chromium driven by playwright.

The site is opened from disk (file://), as a user would. Screenshots of a desktop and a
phone viewport are saved to `test-artifacts/catalog/` (or `$SEMANTIC_TEST_ARTIFACTS/catalog/`).

They belong to `make test-all` (marked slow: a browser is a service, as PostgreSQL and Spark
are). There, without chromium (`apt-get install -y chromium`) or playwright they are skipped,
with the reason; with SEMANTIC_REQUIRE_SERVICES=1 (as .ci/services exports) they fail
instead. The browser is never downloaded: never run `playwright install`.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from semantic.compiler.areas import subject_area_query
from semantic.outputs.catalog.examples import example_query
from semantic.outputs.catalog.site import build_site
from semantic.outputs.search import search, search_index, search_key
from semantic.project import Project
from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(os.environ.get("SEMANTIC_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "catalog"

#: a browser is a service: `make test-all` (SEMANTIC_SLOW=1) runs these, `make test` does not
pytestmark = pytest.mark.slow

#: Queries the Python and JavaScript searches must answer alike: accents, typos, prefixes,
#: apostrophes, several words, other scripts, nothing.
PARITY_QUERIES = [
    "CA net",
    "chiffre d'affaires",
    "Chiffre d’affaires NET",
    "chiffre-d-affaires",
    "revnue",
    "net revnue",
    "cutsomer region",
    "cutsomer regoin",
    "ordre daet",
    "nett revenue",
    "région",
    "REGION CLIENT",
    "priorite",
    "date de commande",
    "lineitem",
    "custo",
    "c",
    "panier moyen",
    "indicatif du pays",
    "fournisseur reclamations",
    "supplier_with_complaints",
    "Straße",
    "Œuvre",
    "数量",
    "zzqxj",
    "ventes par client",
    "yearly sales",
    "sales_by_customer",
    "commandes terminees",
    "a b",
    "  ",
]


def _require(reason: str) -> None:
    if os.environ.get("SEMANTIC_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (SEMANTIC_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require("playwright is not installed: pip install -e '.[dev]'")
    if not Path(CHROMIUM).is_file():
        _require("Debian's chromium is not installed: apt-get install -y chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("browser") / "site"
    build_site(Project.load(ROOT), output, samples=True)  # with the demo data's values
    return output


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    problems: list[str] = []
    opened.on("pageerror", lambda exc: problems.append(f"error: {exc}"))
    opened.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))
    opened.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    opened.problems = problems
    yield opened
    context.close()


def url(site: Path, name: str) -> str:
    return (site / name).as_uri()


def shoot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


#: Words of the English interface that a French page must not show around its content.
ENGLISH_UI = [
    "Glossary", "Entities", "Subject areas", "Search", "Home", "Definition", "Owners",
    "Synonyms", "Related", "Names", "Governance", "Status", "Confidentiality", "Domain",
    "Physical mapping", "Lineage", "Example query", "Business query", "Compiled SQL",
    "Quality", "Sample values", "Values", "Built by", "approved", "internal", "metric",
    "dimension of", "year", "English", "French", "Used by", "Broader", "Narrower", "terms",
    "business glossary", "All languages", "Nothing matches", "column of", "catalog",
]  # fmt: skip
#: The interface's text of a page: its text and its placeholders and labels, without what
#: the glossary, the model or the data wrote (marked by a `lang`, or as content, code, values).
CHROME = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('[lang], code, pre, script, .code, .content, .sample-value, .lang,'
      + ' .term-id').forEach((node) => node.remove());
  const labels = [...copy.querySelectorAll('[placeholder], [aria-label], [title]')].map(
      (node) => ['placeholder', 'aria-label', 'title'].map((a) => node.getAttribute(a) || ''));
  document.body.appendChild(copy);  // innerText needs the copy laid out
  const text = copy.innerText;
  copy.remove();
  return text + ' ' + labels.flat().join(' ') + ' ' + document.title;
}"""


def english_words(text: str) -> list[str]:
    return [w for w in ENGLISH_UI if re.search(rf"\b{re.escape(w)}\b", text, re.I)]


def test_the_french_catalog_speaks_french_and_switches_to_english(site: Path, page: Any) -> None:
    for name in ("index.html", "terms/net_revenue.html"):
        page.goto(url(site, name))
        english = page.evaluate(CHROME)
        assert {"Glossary", "Owners"} & set(english_words(english)) or name == "index.html"
        shoot(page, ("home" if name == "index.html" else "term-net_revenue") + "-en")
        page.goto(url(site, f"fr/{name}"))
        assert page.evaluate("document.documentElement.lang") == "fr"
        french = page.evaluate(CHROME)
        assert english_words(french) == [], (name, french)
        assert "Glossaire" in french and "Entités" in french
        shoot(page, ("home" if name == "index.html" else "term-net_revenue") + "-fr")
    # a French term page: French headings, the samples in French numbers, and back to English
    assert page.locator("h1").inner_text() == "Chiffre d'affaires net"
    headings = page.locator("main h2").all_inner_texts()
    assert headings[:4] == ["Noms", "Gouvernance", "Valeurs", "Correspondance physique"]
    assert "\u202f" in page.locator(".sample-total .sample-value").inner_text()  # 2 045 134 942,09
    assert page.locator("table.sample-values th").first.inner_text().lower() == (
        "date de commande (année)"
    )
    page.locator('a.lang-switch[hreflang="en"]').click()
    page.wait_for_url("**/terms/net_revenue.html")
    assert "/fr/" not in page.url
    assert page.locator("h1").inner_text() == "Net revenue"
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.problems == []


def test_the_french_search_labels_its_results_in_french(site: Path, page: Any) -> None:
    page.goto(url(site, "fr/index.html"))
    page.locator("#q").press_sequentially("net revenue", delay=20)
    first = page.locator("#results .hit-link").first
    assert first.locator(".hit-label").inner_text() == "Chiffre d'affaires net"
    assert first.locator(".badge").inner_text() == "indicateur"
    assert page.locator("#results .hit-why").first.inner_text().strip() == "identifiant\u00a0:"
    # the language switch keeps the search
    page.locator('a.lang-switch[hreflang="en"]').click()
    page.wait_for_url("**/index.html?q=net*")
    assert "/fr/" not in page.url
    assert page.locator("#results .hit-label").first.inner_text() == "Net revenue"
    page.goto(url(site, "fr/index.html") + "?q=zzqxj")
    assert page.locator("#results .empty").inner_text() == "Aucun résultat pour « zzqxj »."
    page.goto(url(site, "fr/terms/order_count.html"))
    page.locator(".top-search input").fill("panier moyen")
    page.locator(".top-search input").press("Enter")
    page.wait_for_url("**/fr/index.html?q=panier*")
    first = page.locator("#results .hit-link").first
    assert first.locator(".hit-label").inner_text() == "Panier moyen"
    first.click()
    page.wait_for_url("**/fr/terms/average_order_value.html")
    assert page.problems == []


def test_a_french_synonym_finds_the_english_term_and_its_sql(site: Path, page: Any) -> None:
    page.goto(url(site, "index.html"))
    page.locator("#q").press_sequentially("CA net", delay=20)
    first = page.locator("#results .hit-link").first
    assert first.locator(".hit-label").inner_text() == "Net revenue"
    assert "synonym (fr)" in page.locator("#results .hit-match").first.inner_text()
    shoot(page, "desktop-search")
    first.click()
    page.wait_for_url("**/terms/net_revenue.html")
    example = example_query(Project.load(ROOT), "net_revenue")
    assert example is not None
    shown = page.locator(".compiled-sql").inner_text()
    assert shown.strip() == example.sql.strip()
    assert page.locator("h1").inner_text() == "Net revenue"
    shoot(page, "desktop-term")
    assert page.problems == []


def test_the_search_box_of_any_page_searches_from_the_home_page(site: Path, page: Any) -> None:
    page.goto(url(site, "terms/order_count.html"))
    page.locator(".top-search input").fill("panier moyen")
    page.locator(".top-search input").press("Enter")
    page.wait_for_url("**/index.html?q=panier*")
    assert page.locator("#q").input_value() == "panier moyen"
    assert page.locator("#results .hit-label").first.inner_text() == "Average order value"
    page.select_option("#lang", "en")  # French labels are no longer searched
    assert page.locator("#results .hit-label").all_inner_texts()[:1] != ["Average order value"]
    assert page.problems == []


def test_browser_and_python_searches_agree(site: Path, page: Any) -> None:
    index = search_index(Project.load(ROOT).model)
    page.goto(url(site, "index.html"))
    for language, prefer in ((None, None), ("en", None), ("fr", None), (None, "fr")):
        for query in PARITY_QUERIES:
            in_browser = page.evaluate(
                "([q, l, p]) => window.semanticSearch(q, l, 1000, p)", [query, language, prefer]
            )
            in_python = [
                h.as_dict()
                for h in search(index, query, language=language, limit=1000, prefer=prefer)
            ]
            assert in_browser == in_python, (query, language, prefer)
    keys = page.evaluate("(texts) => texts.map(window.semanticSearchKey)", PARITY_QUERIES)
    assert keys == [search_key(q) for q in PARITY_QUERIES]


def test_a_subject_area_is_found_and_linked_from_its_terms(site: Path, page: Any) -> None:
    project = Project.load(ROOT)
    page.goto(url(site, "index.html"))
    page.locator("#q").press_sequentially("ventes annuelles", delay=20)
    first = page.locator("#results .hit-link").first
    assert first.locator(".hit-label").inner_text() == "Yearly sales of finished orders"
    first.click()
    page.wait_for_url("**/subject-areas/yearly_sales.html")
    query = subject_area_query(project.model, project.model.subject_areas["yearly_sales"])
    shown = page.locator(".compiled-sql").inner_text()
    assert shown.strip() == project.compile(query).strip()
    assert page.locator(".view-name").inner_text() == "semantic.yearly_sales"
    shoot(page, "desktop-subject-area")
    page.locator('.area-columns a[href="../terms/gross_revenue.html"]').click()
    page.wait_for_url("**/terms/gross_revenue.html")
    page.locator('#subject-areas a[href="../subject-areas/yearly_sales.html"]').click()
    page.wait_for_url("**/subject-areas/yearly_sales.html")
    assert page.problems == []


def test_every_page_loads_with_its_styles_and_scripts(site: Path, page: Any) -> None:
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert "subject-areas/yearly_sales.html" in pages
    for name in pages:
        page.goto(url(site, name))
        position = page.evaluate("getComputedStyle(document.querySelector('header.top')).position")
        assert position == "sticky", f"{name}: the stylesheet did not load"
    assert page.problems == []


def test_diagram_links_navigate(site: Path, page: Any) -> None:
    page.goto(url(site, "terms/average_order_value.html"))
    page.locator('svg.diagram a[href="net_revenue.html"]').click()
    page.wait_for_url("**/terms/net_revenue.html")
    page.locator('svg.diagram a[href="../entities/lineitem.html"]').first.click()
    page.wait_for_url("**/entities/lineitem.html")
    page.locator('svg.diagram a[href="orders.html"]').click()
    page.wait_for_url("**/entities/orders.html")
    shoot(page, "desktop-entity")
    assert page.problems == []


def test_a_phone_sees_the_site_without_sideways_scrolling(browser: Any, site: Path) -> None:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    phone = context.new_page()
    phone.goto(url(site, "index.html") + "?q=date%20de%20commande")
    assert phone.locator("#results .hit-label").first.inner_text() == "Order date"
    shoot(phone, "phone-search")
    for name in ("index.html", "terms/net_revenue.html", "entities/lineitem.html"):
        phone.goto(url(site, name))
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name} is {width}px wide on a phone"
    phone.goto(url(site, "terms/average_order_value.html"))
    shoot(phone, "phone-term")
    context.close()
