"""Sample values on the catalog's term pages: read from the data at build time through the
compiler, compared here with hand-written SQL on the same DuckDB data; never a value of a
term above the site's confidentiality level; absent without data; a failed query is a
warning, not a failed build."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from semantic.outputs.catalog.messages import Messages
from semantic.outputs.catalog.samples import collect_samples
from semantic.outputs.catalog.site import build_site
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.conftest import ROOT
from tests.projects import write_data, write_project

EN, FR = Messages("en"), Messages("fr")


def sample_section(path: Path) -> str | None:
    """The HTML of a page's sample section, or None."""
    match = re.search(
        r'<section class="panel" id="samples">(.*?)</section>', path.read_text("utf-8"), re.S
    )
    return match.group(1) if match else None


def sample_tables(path: Path) -> list[list[list[str]]]:
    """The sample tables of a page: rows of cell texts."""
    section = sample_section(path) or ""
    tables = re.findall(r'<table class="data sample-values">(.*?)</table>', section, re.S)
    return [
        [
            [html.unescape(c) for c in re.findall(r'<td class="sample-value[^"]*">(.*?)</td>', r)]
            for r in re.findall(r"<tr>(.*?)</tr>", re.sub(r"<thead>.*?</thead>", "", t, flags=re.S))
        ]
        for t in tables
    ]


def total(path: Path) -> str:
    section = sample_section(path) or ""
    match = re.search(r'<strong class="sample-value number">(.*?)</strong>', section)
    assert match, f"no total in {path}"
    return html.unescape(match.group(1))


def rows(
    project: Project, sql: str, *formats: Messages, grain: str | None = None
) -> list[list[str]]:
    """The rows of hand-written SQL, each value written as a page in `formats[0]` writes it."""
    t = formats[0]
    return [
        [t.value(v, grain if i == 0 else None) for i, v in enumerate(r.values())]
        for r in project.engine.execute(sql).to_pylist()
    ]


@pytest.fixture(scope="module")
def site(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("samples") / "site"
    report = build_site(Project.load(ROOT), output, samples=True)
    assert report.warnings == []
    return output


# --- the values shown are the data's ---------------------------------------------------------


def test_a_dimension_shows_its_most_frequent_values(project: Project, site: Path) -> None:
    want = rows(
        project,
        "SELECT c_mktsegment, count(*) AS n FROM customer GROUP BY 1 ORDER BY n DESC, 1",
        EN,
    )
    assert len(want) == 5
    assert sample_tables(site / "terms" / "market_segment.html") == [want]
    assert "All 5 values, counted by Customer count:" in (
        sample_section(site / "terms" / "market_segment.html") or ""
    )
    nations = rows(
        project,
        "SELECT n_name, count(*) AS n FROM customer JOIN nation ON c_nationkey = n_nationkey "
        "GROUP BY 1 ORDER BY n DESC, 1 LIMIT 10",
        EN,
    )
    page = site / "terms" / "customer_nation.html"
    assert sample_tables(page) == [nations]
    assert "The 10 most frequent values, counted by Customer count:" in (sample_section(page) or "")
    # the same values on the French page, with French numbers
    french = rows(
        project,
        "SELECT l_linestatus, count(*) AS n FROM lineitem GROUP BY 1 ORDER BY n DESC, 1",
        FR,
    )
    assert sample_tables(site / "fr" / "terms" / "line_status.html") == [french]
    assert "\u202f" in french[0][1]  # 30 126


def test_a_time_dimension_shows_its_periods_in_order(project: Project, site: Path) -> None:
    want = rows(
        project,
        "SELECT date_trunc('year', o_orderdate) AS y, count(*) FROM orders GROUP BY 1 ORDER BY 1",
        EN,
        grain="year",
    )
    assert [r[0] for r in want] == [str(y) for y in range(1992, 1999)]
    assert sample_tables(site / "terms" / "order_date.html") == [want]
    section = sample_section(site / "fr" / "terms" / "order_date.html") or ""
    assert "Date de commande (année)" in section and "Toutes les périodes" in section


def test_a_metric_shows_its_total_and_its_values_by_a_dimension(
    project: Project, site: Path
) -> None:
    net = "sum(l_extendedprice * (1 - l_discount))"
    [[whole]] = rows(project, f"SELECT {net} FROM lineitem", EN)
    assert total(site / "terms" / "net_revenue.html") == whole
    [[entier]] = rows(project, f"SELECT {net} FROM lineitem", FR)
    assert total(site / "fr" / "terms" / "net_revenue.html") == entier
    by_year = rows(
        project,
        f"SELECT date_trunc('year', o_orderdate) AS y, {net} FROM lineitem "
        "JOIN orders ON l_orderkey = o_orderkey GROUP BY 1 ORDER BY 1",
        EN,
        grain="year",
    )
    assert sample_tables(site / "terms" / "net_revenue.html") == [by_year]
    assert "By Order date (year)" in (sample_section(site / "terms" / "net_revenue.html") or "")
    # a windowed metric has no total, only its values along its own time dimension
    assert sample_section(site / "terms" / "revenue_last_3_months.html") is not None
    assert "sample-total" not in (
        sample_section(site / "terms" / "revenue_last_3_months.html") or ""
    )


def test_the_page_shows_the_business_query_of_each_sample(site: Path) -> None:
    section = sample_section(site / "terms" / "market_segment.html") or ""
    text = html.unescape(re.sub(r"<[^>]+>", "", section))
    query = "SELECT market_segment, customer_count ORDER BY customer_count DESC, market_segment"
    assert f"{query} LIMIT 11" in text


# --- confidentiality -----------------------------------------------------------------------


CONFIDENTIAL = (
    "SELECT c_name AS v FROM customer UNION SELECT c_phone FROM customer "
    "UNION SELECT c_address FROM customer"
)


def test_values_of_confidential_terms_are_never_shown(project: Project, site: Path) -> None:
    shown = {
        cell
        for page in site.rglob("*.html")
        for table in sample_tables(page)
        for row in table
        for cell in row
    }
    assert "BUILDING" in shown and len(shown) > 300
    secret = {r["v"] for r in project.engine.execute(CONFIDENTIAL).to_pylist()}
    assert len(secret) > 4000 and not shown & secret
    everything = "\n".join(p.read_text("utf-8") for p in site.rglob("*.html"))
    assert not [s for s in sorted(secret)[:50] if s in everything]
    for term in (
        "customer_name",
        "customer_phone",
        "customer_account_balance",
        "total_account_balance",
    ):
        section = sample_section(site / "terms" / f"{term}.html") or ""
        assert 'class="muted samples-withheld"' in section and "sample-values" not in section, term
    withheld = sample_section(site / "terms" / "customer_name.html") or ""
    assert "up to internal" in withheld and "is confidential" in withheld


def test_a_higher_level_shows_more(project: Project, tmp_path: Path) -> None:
    build_site(project, tmp_path / "site", samples=True, max_confidentiality="confidential")
    [names] = sample_tables(tmp_path / "site" / "terms" / "customer_name.html")
    assert len(names) == 10 and names[0][0].startswith("Customer#")
    restricted = sample_section(tmp_path / "site" / "terms" / "customer_account_balance.html")
    assert restricted is not None and "samples-withheld" in restricted


SHOPS = {
    "models/m.yml": """
        entities:
          shop:
            primary_key: [id]
            columns: {id: {type: bigint}, city: {type: varchar}, owner: {type: varchar}}
    """,
    "glossary/g.yml": """
        domain: shops
        terms:
          city:
            label: {en: City, fr: Ville}
            confidentiality: public
            dimension: {entity: shop, expr: city}
          owner:
            label: {en: Owner, fr: Propriétaire}
            confidentiality: confidential
            dimension: {entity: shop, expr: owner}
          shop_count:
            label: {en: Shop count, fr: Nombre de magasins}
            metric: {entity: shop, expr: count(*)}
          owned_shops:
            label: {en: Owned shops, fr: Magasins avec propriétaire}
            metric: {entity: shop, expr: count(*), filter: owner IS NOT NULL}
          city_number:
            label: {en: City number, fr: Numéro de ville}
            dimension: {entity: shop, expr: CAST(city AS INTEGER)}
    """,
}
SHOP_ROWS = (
    "SELECT * FROM (VALUES (1, 'Lyon', 'Ann Secret'), (2, 'Lyon', NULL), (3, 'Nice', 'Bob Hidden'))"
    " t(id, city, owner)"
)


def shops(tmp_path: Path, *, data: bool = True) -> Path:
    root = write_project(tmp_path, SHOPS)
    if data:
        write_data(root, {"shop": SHOP_ROWS})
    return root


def test_a_metric_that_reads_a_confidential_term_is_withheld(tmp_path: Path) -> None:
    root = shops(tmp_path)
    report = build_site(Project.load(root), samples=True)
    site = report.output
    owned = sample_section(site / "terms" / "owned_shops.html") or ""
    assert "samples-withheld" in owned and "Owner" in owned  # names the term that hides it
    assert sample_tables(site / "terms" / "city.html") == [[["Lyon", "2"], ["Nice", "1"]]]
    everything = "\n".join(p.read_text("utf-8") for p in site.rglob("*.html"))
    assert "Ann Secret" not in everything and "Bob Hidden" not in everything


def test_a_failed_sample_query_is_a_warning_and_the_build_goes_on(tmp_path: Path) -> None:
    root = shops(tmp_path)
    result = run_cli("docs", "build", project=root)
    assert result.exit_code == 0, result.stderr
    assert "warning: SEM444 no sample values for term 'city_number': SEM404" in result.stderr
    page = (tmp_path / "site" / "terms" / "city_number.html").read_text("utf-8")
    assert "No sample: the query failed at build time." in page
    assert sample_tables(tmp_path / "site" / "terms" / "city.html") != []  # the others are there


def test_without_data_the_site_has_no_samples(tmp_path: Path) -> None:
    root = shops(tmp_path, data=False)
    result = run_cli("docs", "build", project=root)
    assert result.exit_code == 0, result.stderr
    assert "SEM444" not in result.stderr  # nothing asked, nothing missed
    pages = list((tmp_path / "site").rglob("*.html"))
    assert pages and not [p for p in pages if sample_section(p) is not None]
    assert "Sample values were read" not in (tmp_path / "site" / "index.html").read_text("utf-8")
    result = run_cli("docs", "build", "--samples", project=root)
    assert result.exit_code == 0, result.stderr
    assert (
        "warning: SEM444 the site shows no sample values: the project has no data" in result.stderr
    )


def test_no_samples_and_the_confidentiality_level_from_the_command_line(tmp_path: Path) -> None:
    root = shops(tmp_path)
    result = run_cli("docs", "build", "--no-samples", project=root)
    assert result.exit_code == 0, result.stderr
    assert sample_section(tmp_path / "site" / "terms" / "city.html") is None
    result = run_cli("docs", "build", "--max-confidentiality", "public", project=root)
    assert result.exit_code == 0, result.stderr
    assert (
        sample_tables(tmp_path / "site" / "terms" / "city.html") == []
    )  # counted by an internal metric
    count = sample_section(tmp_path / "site" / "fr" / "terms" / "shop_count.html") or ""
    words = html.unescape(re.sub(r"<[^>]+>", "", count))
    assert "jusqu'au niveau public, et Nombre de magasins est interne." in words
    result = run_cli("docs", "build", "--max-confidentiality", "secret", project=root)
    assert result.exit_code == 2 and "secret" in result.stderr


def test_the_time_budget_bounds_the_samples(project: Project) -> None:
    found = collect_samples(project, project.engine, budget=0)
    assert found.terms == {}
    [warning] = found.warnings
    assert warning.code == "SEM444" and "stopped after 0 s" in warning.message


def test_the_sample_queries_of_the_docs_are_the_ones_run(project: Project) -> None:
    text = (ROOT / "docs" / "catalog.md").read_text("utf-8")
    section = text[text.index("## Sample values") :]
    table = re.findall(r"^\| `(\w+)` \| (.+) \|$", section, re.M)
    assert len(table) == 5
    found = collect_samples(project, project.engine).terms
    for term, queries in table:
        sample = found[term]
        ran = [t.query for t in (sample.values, sample.total, sample.by) if t is not None]
        assert re.findall(r"`([^`]+)`", queries) == ran, term


def test_samples_are_read_on_the_default_engine(tmp_path: Path) -> None:
    """A project whose default engine is a DuckDB file (no data folder): the samples come
    from it; one whose default engine cannot be reached is built without them, with a
    warning."""
    import duckdb

    database = tmp_path / "shops.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(f"CREATE TABLE shop AS {SHOP_ROWS}")
    engines = "name: tiny\nlanguages: [en, fr]\nengines:\n  shops:\n    default: true\n"
    root = write_project(tmp_path, SHOPS, config=engines + f"    url: duckdb:///{database}\n")
    report = build_site(Project.load(root))
    assert sample_tables(report.output / "terms" / "city.html") == [[["Lyon", "2"], ["Nice", "1"]]]
    write_project(tmp_path, SHOPS, config=engines + "    url: postgresql://nobody@127.0.0.1:1/x\n")
    report = build_site(Project.load(root))
    [warning] = [w for w in report.warnings if w.code == "SEM444"]
    assert warning.message.startswith("the site shows no sample values: SEM411")
    assert sample_section(report.output / "terms" / "city.html") is None
