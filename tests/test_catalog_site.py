"""`semantic docs build`: the static catalog site, checked by reading its HTML.

The browser's view of the same site is in test_catalog_browser.py.
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markupsafe import escape
from sqlglot import exp

from semantic.compiler.areas import subject_area_query
from semantic.errors import SemanticError
from semantic.outputs.catalog import site as site_module
from semantic.outputs.catalog.areas import areas_of_term, members
from semantic.outputs.catalog.examples import example_query
from semantic.outputs.catalog.lineage import term_lineage, term_users
from semantic.outputs.catalog.site import MARKER, build_site
from semantic.outputs.quality import project_quality
from semantic.outputs.search import search_index
from semantic.outputs.views import subject_area_view
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.compare import assert_same_rows
from tests.conftest import ROOT
from tests.projects import write_project

BOOKSHOP = ROOT / "examples" / "bookshop"


class Page(HTMLParser):
    """The links, ids and text of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (tag, url)
        self.ids: set[str] = set()
        self.classes: dict[str, list[str]] = {}
        self._capture: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("href", "src"):
            if found.get(name):
                self.links.append((tag, str(found[name])))
        if found.get("id"):
            self.ids.add(str(found["id"]))
        for cls in (found.get("class") or "").split():
            if cls in ("compiled-sql", "business-query"):
                self._capture.append((cls, []))
                self.classes.setdefault(cls, [])

    def handle_data(self, data: str) -> None:
        for _, parts in self._capture:
            parts.append(data)

    def close(self) -> None:
        super().close()
        for cls, parts in self._capture:
            self.classes[cls].append("".join(parts))


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def block_text(path: Path, cls: str) -> str:
    """The text of the `<div class="cls">` code block of a page, tags removed."""
    text = path.read_text(encoding="utf-8")
    match = re.search(rf'<div class="code {cls}">(.*?)</div>', text, re.S)
    assert match, f"no {cls} in {path}"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Path]:
    project = Project.load(ROOT)
    output = tmp_path_factory.mktemp("catalog") / "site"
    report = build_site(project, output, samples=True)
    assert report.warnings == []  # every sample query ran too
    return project, output


# --- pages and links -----------------------------------------------------------------------


def test_a_page_per_term_entity_and_domain(built: tuple[Project, Path]) -> None:
    project, site = built
    model = project.model
    for term in model.terms:
        assert (site / "terms" / f"{term}.html").is_file()
    for entity in model.entities:
        assert (site / "entities" / f"{entity}.html").is_file()
    for domain in model.domains:
        assert (site / "domains" / f"{domain}.html").is_file()
    assert (site / "index.html").is_file() and (site / MARKER).is_file()


def test_every_internal_link_resolves_and_nothing_is_fetched_from_elsewhere(
    built: tuple[Project, Path],
) -> None:
    _, site = built
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 80
    broken = []
    for path in pages:
        page = parse(path)
        for tag, url in page.links:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https"):
                # only the links a modeler wrote (exact/close matches) leave the site
                assert tag == "a", f"{path}: {tag} loads {url}"
                continue
            assert not parts.scheme and not parts.netloc, f"{path}: {url}"
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.is_file():
                broken.append(f"{path.relative_to(site)} -> {url}")
            elif parts.fragment and parts.fragment not in parse(target).ids:
                broken.append(f"{path.relative_to(site)} -> {url} (no such anchor)")
    assert broken == []
    areas = {p.relative_to(site).as_posix() for p in pages if p.parent.name == "subject-areas"}
    assert areas == {  # in English at the root, in French under fr/
        f"{folder}subject-areas/{area}.html"
        for folder in ("", "fr/")
        for area in ("sales_by_customer", "yearly_sales")
    }


def test_the_site_embeds_the_search_index_of_semantic_search(built: tuple[Project, Path]) -> None:
    project, site = built
    text = (site / "assets" / "search-index.js").read_text(encoding="utf-8")
    prefix, suffix = "window.SEMANTIC_INDEX = ", ";\n"
    assert text.startswith(prefix) and text.endswith(suffix)
    assert json.loads(text[len(prefix) : -len(suffix)]) == search_index(project.model)
    index_page = (site / "index.html").read_text(encoding="utf-8")
    assert '<script src="assets/search-index.js"></script>' in index_page


# --- term pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("root", [ROOT, BOOKSHOP], ids=["tpch", "bookshop"])
def test_every_term_has_an_example_query_that_runs(root: Path) -> None:
    project = Project.load(root)
    project.prepare_data()
    for term in project.model.terms.values():
        example = example_query(project, term.id)
        if term.kind == "concept":
            assert example is None
            continue
        assert example is not None, term.id
        assert example.sql == project.compile(example.query)
        project.query(example.query)  # runs on DuckDB: SEM404 if the SQL were wrong
        assert example.own or re.search(rf"\b{term.id}\b", example.query), example.query


def test_a_term_page_shows_its_compiled_sql(built: tuple[Project, Path]) -> None:
    project, site = built
    for term_id in ("net_revenue", "order_date", "supplier_with_complaints", "customer_nation"):
        example = example_query(project, term_id)
        assert example is not None
        page = site / "terms" / f"{term_id}.html"
        assert block_text(page, "business-query") == example.query
        assert block_text(page, "compiled-sql") == example.sql
        assert term_id in example.query
    # the glossary's own example comes first
    net = block_text(site / "terms" / "net_revenue.html", "business-query")
    assert net == Project.load(ROOT).model.terms["net_revenue"].examples["en"][0]


def test_a_term_page_shows_names_governance_and_mapping(built: tuple[Project, Path]) -> None:
    _, site = built
    text = (site / "terms" / "customer_name.html").read_text(encoding="utf-8")
    for expected in (
        "Customer name",
        "Nom du client",
        "raison sociale du client",  # a French synonym
        "customer-care",  # owner
        "confidential",
        "approved",
        "c_name",
        'href="../entities/customer.html"',
    ):
        assert html.escape(expected, quote=False) in text, expected


def test_lineage_follows_derived_metrics_down_to_columns(built: tuple[Project, Path]) -> None:
    project, site = built
    graph = term_lineage(project.model, "average_order_value")
    keys = {graph.node_id(n) for n in graph.nodes}
    assert keys == {
        "term:average_order_value",
        "term:net_revenue",
        "term:order_count",
        "column:lineitem.l_extendedprice",
        "column:lineitem.l_discount",
        "entity:orders",  # COUNT(*) reads no column
    }
    assert ("term:net_revenue", "term:average_order_value") in graph.edges
    assert graph.depth["column:lineitem.l_discount"] < graph.depth["term:net_revenue"] < 0
    svg = (site / "terms" / "average_order_value.html").read_text(encoding="utf-8")
    assert 'href="net_revenue.html"' in svg and 'href="../entities/lineitem.html"' in svg


def test_lineage_of_a_role_playing_dimension_reads_the_far_entity(
    built: tuple[Project, Path],
) -> None:
    project, _ = built
    model = project.model
    nation_of = {
        t.id: {n.key for n in term_lineage(model, t.id).nodes if n.kind == "column"}
        for t in model.terms.values()
        if t.kind == "dimension" and t.path
    }
    assert nation_of, "the TPC-H glossary has role-playing dimensions"
    for term_id, columns in nation_of.items():
        term = model.terms[term_id]
        column = next(iter(term.expr.find_all(exp.Column))).name
        entity = next(e.id for e in model.entities.values() if column in e.columns)
        assert columns == {f"{entity}.{column}"}, term_id


def test_used_by_lists_the_terms_that_read_a_term(built: tuple[Project, Path]) -> None:
    project, site = built
    users = term_users(project.model, "net_revenue")
    assert "average_order_value" in users and "net_revenue" not in users
    text = (site / "terms" / "net_revenue.html").read_text(encoding="utf-8")
    assert 'href="average_order_value.html"' in text


# --- subject area pages ----------------------------------------------------------------------


def test_a_subject_area_page_shows_its_view_columns_filter_and_sql(
    built: tuple[Project, Path],
) -> None:
    project, site = built
    model = project.model
    for area in model.subject_areas.values():
        path = site / "subject-areas" / f"{area.id}.html"
        text = path.read_text(encoding="utf-8")
        query = subject_area_query(model, area)
        assert block_text(path, "business-query") == query
        assert block_text(path, "compiled-sql") == project.compile(query)
        assert f'<code class="view-name">semantic.{area.id}</code>' in text
        for label in (*area.labels.values(), *area.definition.values()):
            assert str(escape(label)) in text, label
        linked = {url for _, url in parse(path).links if url.startswith("../terms/")}
        assert linked == {f"../terms/{t}.html" for t in members(area)}
        view = subject_area_view(model, area, "fr", "", "main")
        for column in view.columns:  # the French column names of `views apply --language fr`
            assert str(escape(column.name)) in text
    yearly = (site / "subject-areas" / "yearly_sales.html").read_text(encoding="utf-8")
    assert '<code class="area-filter">order_status = &#39;F&#39;</code>' in yearly
    assert "<code>order_date_year</code>" in yearly


def test_the_sql_of_a_subject_area_page_gives_the_hand_written_answer(
    project: Project, built: tuple[Project, Path]
) -> None:
    """The compiled SQL shown on the page, run as it is, gives what a hand-written query
    gives: finished orders only, each metric at its own grain."""
    _, site = built
    shown = block_text(site / "subject-areas" / "yearly_sales.html", "compiled-sql")
    got = [tuple(r.values()) for r in project.engine.execute(shown + " ORDER BY 1").to_pylist()]
    want = [
        tuple(r.values())
        for r in project.engine.execute(
            """
            WITH o AS (
                SELECT CAST(date_trunc('year', o_orderdate) AS DATE) AS y, count(*) AS n
                FROM orders WHERE o_orderstatus = 'F' GROUP BY 1),
            l AS (
                SELECT CAST(date_trunc('year', o_orderdate) AS DATE) AS y,
                    sum(l_extendedprice * (1 - l_discount)) AS net, sum(l_extendedprice) AS gross
                FROM lineitem JOIN orders ON l_orderkey = o_orderkey
                WHERE o_orderstatus = 'F' GROUP BY 1)
            SELECT o.y, o.n, l.net, l.gross FROM o JOIN l USING (y) ORDER BY 1
            """
        ).to_pylist()
    ]
    assert len(want) > 2
    assert_same_rows(got, want)


def test_subject_areas_are_listed_and_linked_from_their_terms(built: tuple[Project, Path]) -> None:
    project, site = built
    model = project.model
    home = {url for _, url in parse(site / "index.html").links}
    assert {f"subject-areas/{a}.html" for a in model.subject_areas} <= home
    sales = {url for _, url in parse(site / "domains" / "subject_areas.html").links}
    assert {f"../subject-areas/{a}.html" for a in model.subject_areas} <= sales
    for term_id in model.terms:
        page = parse(site / "terms" / f"{term_id}.html")
        linked = {url for _, url in page.links if url.startswith("../subject-areas/")}
        expected = {f"../subject-areas/{a.id}.html" for a in areas_of_term(model, term_id)}
        assert linked == expected, term_id
    assert areas_of_term(model, "net_revenue") != []  # a real check
    assert areas_of_term(model, "customer_name") == []


def test_the_bookshop_subject_area_pages_show_their_segments(tmp_path: Path) -> None:
    project = Project.load(BOOKSHOP)
    build_site(project, tmp_path / "site")
    page = tmp_path / "site" / "subject-areas" / "web_sales_by_city.html"
    links = {url for _, url in parse(page).links}
    assert "../terms/web_sales.html" in links
    assert "Ventas web por ciudad" in page.read_text(encoding="utf-8")
    query = subject_area_query(project.model, project.model.subject_areas["web_sales_by_city"])
    assert block_text(page, "business-query") == query and "WHERE web_sales" in query


# --- entity and domain pages ---------------------------------------------------------------


def test_an_entity_page_lists_columns_relationships_and_terms(built: tuple[Project, Path]) -> None:
    project, site = built
    text = (site / "entities" / "orders.html").read_text(encoding="utf-8")
    for column in project.model.entities["orders"].columns:
        assert f'id="col-{column}"' in text
    assert "<svg" in text and 'href="customer.html"' in text and 'href="lineitem.html"' in text
    assert 'href="../terms/order_count.html"' in text


def test_a_domain_page_is_its_glossary(built: tuple[Project, Path]) -> None:
    project, site = built
    for domain in project.model.domains.values():
        page = parse(site / "domains" / f"{domain.id}.html")
        linked = {url for _, url in page.links if url.startswith("../terms/")}
        assert linked == {f"../terms/{t}.html" for t in domain.terms}


# --- quality -------------------------------------------------------------------------------


def test_quality_is_shown_when_measured(project: Project, tmp_path: Path) -> None:
    build_site(project, tmp_path / "site", quality=True)
    results = {r.rule.id: r for r in project_quality(project)}
    text = (tmp_path / "site" / "terms" / "customer_phone.html").read_text(encoding="utf-8")
    rule = results["phone_is_well_formed"]
    status = "passed" if rule.passed else "failed"
    assert (
        f'<span class="badge quality-{"pass" if rule.passed else "fail"}">{status}</span>' in text
    )
    assert f"{rule.score * 100:.2f}% of {rule.rows:,} rows" in text
    unmeasured = build_site(project, tmp_path / "plain")
    assert "not measured" in (unmeasured.output / "terms" / "customer_phone.html").read_text()


# --- writing -------------------------------------------------------------------------------


def test_a_rebuild_replaces_the_site_in_one_step(project: Project, tmp_path: Path) -> None:
    output = tmp_path / "site"
    build_site(project, output)
    (output / "stale.html").write_text("old")
    build_site(project, output)
    assert not (output / "stale.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no staging left behind


def test_a_failed_build_leaves_the_previous_site(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "site"
    build_site(project, output)
    before = (output / "index.html").read_text()

    def broken(self: object) -> list[tuple[str, str]]:
        raise RuntimeError("template exploded")

    monkeypatch.setattr(site_module._Pages, "render", broken)
    with pytest.raises(RuntimeError):
        build_site(project, output)
    assert (output / "index.html").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_folder_that_is_not_a_site_is_never_replaced(project: Project, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SemanticError) as caught:
        build_site(project, tmp_path)
    assert caught.value.code == "SEM425"
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_an_unwritable_place_is_reported(project: Project, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(SemanticError) as caught:
        build_site(project, tmp_path / "file" / "site")  # a file where a folder must be
    assert caught.value.code == "SEM428"


def test_cli_docs_build(tmp_path: Path) -> None:
    result = run_cli("docs", "build", "-o", str(tmp_path / "s"))
    assert result.exit_code == 0, result.stderr
    assert f"open {tmp_path / 's' / 'index.html'}" in result.stderr
    result = run_cli("docs", "build", "-o", str(ROOT / "src"))
    assert result.exit_code == 1 and "SEM425" in result.stderr and "Traceback" not in result.stderr


def test_a_term_without_a_compiling_example_is_a_warning(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "models/m.yml": """
                entities:
                  shop:
                    primary_key: [id]
                    columns: {id: {type: bigint}, city: {type: varchar}}
                  note:
                    primary_key: [id]
                    columns: {id: {type: bigint}, text: {type: varchar}}
            """,
            "glossary/g.yml": """
                domain: shops
                terms:
                  shop_count:
                    label: {en: Shop count}
                    metric: {entity: shop, expr: count(*)}
                  note_text:
                    label: {en: Note text}
                    dimension: {entity: note, expr: text}
            """,
        },
    )
    result = run_cli("docs", "build", project=root)
    assert result.exit_code == 0, result.stderr
    assert "warning: SEM429 no example query compiles for term 'note_text'" in result.stderr
    assert "shop_count" not in result.stderr  # SELECT shop_count compiles on its own
    page = (tmp_path / "site" / "terms" / "note_text.html").read_text(encoding="utf-8")
    assert "No example query compiles for this term." in page
