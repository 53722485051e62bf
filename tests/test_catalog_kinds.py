"""The catalog site's term pages say what the kinds beyond an expression over one entity
are, in English and in French: a semi-additive metric (its time dimension and period
rule), a conversion metric (its events, window and calculation), a dimension or segment
per entity (its entity), a metric at another grain (its grain). Checked by reading the
built HTML of a project that has each, and the TPC-H site's saved terms."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from semantic.outputs.catalog.site import build_site
from semantic.project import Project
from tests.conftest import ROOT
from tests.projects import write_project
from tests.soundness.test_conversion import GLOSSARY as CONVERSION_GLOSSARY
from tests.soundness.test_conversion import MODEL as CONVERSION_MODEL
from tests.test_catalog_languages import chrome, english_only_words, prose_words
from tests.test_rdf_kinds import GLOSSARY, MODEL


def text(path: Path) -> str:
    """The text of a page, tags left out, whitespace collapsed."""
    raw = re.sub(r"<script.*?</script>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    raw = re.sub(r"</?(a|code)\b[^>]*>", "", raw)  # inline: no space of their own
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw)))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Path]:
    root = tmp_path_factory.mktemp("kinds")
    files = {
        "models/stock.yml": MODEL,
        "models/events.yml": CONVERSION_MODEL,
        "glossary/stock.yml": GLOSSARY,
        "glossary/events.yml": CONVERSION_GLOSSARY.replace("domain: d", "domain: events"),
    }
    project = Project.load(write_project(root, files))
    build_site(project, root / "site", samples=False)
    return project, root / "site"


@pytest.mark.parametrize(
    ("page", "english", "french"),
    [
        (
            "opening_stock",
            [
                "kind semi-additive metric",
                "not summed over day: each period takes the value of its first instant",
            ],
            [
                "nature métrique semi-additive",
                "non sommée selon day : chaque période prend la valeur de son premier instant",
            ],
        ),
        (
            "shop_quantity",
            [
                "kind metric per entity, used as a dimension",
                "per entity quantity where "
                "day.year = CAST('2024-01-01' AS DATE) of each shops row, whatever the query's "
                "conditions",
            ],
            [
                "nature métrique par entité, utilisée comme dimension",
                "par entité quantity où "
                "day.year = CAST('2024-01-01' AS DATE) de chaque ligne de shops",
            ],
        ),
        (
            "empty_shop",
            ["kind condition on a metric per entity", "quantity of each shops row"],
            ["nature condition sur une métrique par entité"],
        ),
        (
            "town_share",
            [
                "kind metric at another grain of the query",
                "at another grain quantity by the query's dimensions except day",
            ],
            [
                "nature métrique à une autre granularité de la requête",
                "à une autre granularité quantity par les dimensions de la requête sauf day",
            ],
        ),
        (
            "conversions_1w",
            [
                "kind conversion metric",
                "events order_count (along order_day) after "
                "visit_count (along visit_day) of the same customers",
                "conversion window within 1 week",
                "shows the number of conversions",
            ],
            [
                "nature métrique de conversion",
                "fenêtre de conversion dans les 1 semaine",
                "montre le nombre de conversions",
            ],
        ),
        (
            "same_channel_buyers",
            ["same value of visit_channel and order_channel", "conversion window any time after"],
            ["même valeur de visit_channel et order_channel"],
        ),
    ],
)
def test_a_term_page_says_what_its_kind_is(
    site: tuple[Project, Path], page: str, english: list[str], french: list[str]
) -> None:
    _, root = site
    en, fr = text(root / "terms" / f"{page}.html"), text(root / "fr" / "terms" / f"{page}.html")
    for expected in english:
        assert expected in en, (expected, en)
    for expected in french:
        assert expected in fr, (expected, fr)


def test_the_french_pages_of_the_new_kinds_have_no_english_interface_words(
    site: tuple[Project, Path],
) -> None:
    project, root = site
    forbidden = english_only_words(project.model)
    assert {"summed", "entity", "grain", "shows"} <= forbidden  # the new kinds' words
    for page in ("opening_stock", "shop_quantity", "town_share"):
        found = {
            w
            for w in prose_words(chrome(root / "fr" / "terms" / f"{page}.html").text)
            if w.casefold() in forbidden
        }
        assert not found, (page, found)


def test_the_tpch_site_renders_the_saved_band_and_share(tmp_path: Path) -> None:
    build_site(Project.load(ROOT), tmp_path / "site", samples=False)
    band = text(tmp_path / "site" / "fr" / "terms" / "customer_order_count_band.html")
    assert "par entité order_count de chaque ligne de customer" in band
    share = text(tmp_path / "site" / "terms" / "revenue_share.html")
    assert "at another grain net_revenue over all the query's groups (the grand total)" in share
    assert "net_revenue / NULLIF(MEASURE(net_revenue) PER (ALL), 0)" in share
