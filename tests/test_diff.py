"""`semantic diff`: real git repositories with commits, each kind of change found and
classified, the markdown comment and the exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from semantic.errors import SemanticError
from semantic.outputs.diff import Change, VocabularyDiff, diff_revision, render_markdown
from tests.cli_runner import run_cli
from tests.conftest import ROOT

BOOKSHOP = ROOT / "examples" / "bookshop"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """The bookshop in the `shop/` folder of a fresh repository, committed once."""
    project = tmp_path / "shop"
    project.mkdir()
    for name in ("semantic.yml", "models", "glossary"):
        source = BOOKSHOP / name
        if source.is_dir():
            shutil.copytree(source, project / name)
        else:
            shutil.copy(source, project / name)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "modeler@example.com")
    git(tmp_path, "config", "user.name", "Modeler")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "bookshop")
    return project


def edit(project: Path, name: str, old: str, new: str) -> None:
    path = project / name
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def changes(project: Path, revision: str = "HEAD") -> list[Change]:
    found = diff_revision(project, revision)
    assert found.problems == ()
    return list(found.changes)


def summary(found: list[Change]) -> list[tuple[str, str, bool]]:
    return [(c.kind, c.subject, c.breaking) for c in found]


def cli(project: Path, *args: str) -> tuple[int, str, str]:
    return run_cli("diff", *args, project=project)


SALES = "glossary/sales.yml"
CATALOGUE = "glossary/catalogue.yml"


def test_no_change(shop: Path) -> None:
    assert changes(shop) == []
    assert cli(shop) == (0, "no change to the vocabulary since HEAD\n", "")


def test_a_removed_term_is_breaking_and_names_its_users(shop: Path) -> None:
    text = (shop / SALES).read_text()
    start = text.index("  order_count:")
    end = text.index("  order_date:")
    (shop / SALES).write_text(text[:start] + text[end:])
    found = diff_revision(shop, "HEAD")
    # the subject area that lists it no longer builds: reported, and the diff goes on
    assert [(p.code, p.severity) for p in found.problems] == [("SEM216", "error")]
    assert summary(list(found.changes)) == [
        ("removed", "order_count", True),
        ("removed", "average_basket", True),
    ]
    removed = found.changes[0]
    assert removed.used_by == ("average_basket", "subject area sales_by_channel")
    assert "Number of orders" in removed.detail


def test_a_term_a_subject_area_uses_names_it_among_its_users(shop: Path) -> None:
    """A subject area is a published view: changing the meaning of one of its metrics, or
    removing a segment it is restricted to, breaks what BI tools read."""
    old, new = "sum(quantity * unit_price)}", "sum(quantity * unit_price * 0.9)}"
    edit(shop, SALES, old, new)
    [change] = changes(shop)
    assert (change.kind, change.subject, change.breaking) == ("meaning", "revenue", True)
    assert change.used_by == (
        "average_basket",
        "subject area sales_by_channel",
        "subject area web_sales_by_city",
    )


def test_a_metric_meaning_change_is_breaking_a_reformatting_is_not(shop: Path) -> None:
    edit(shop, SALES, "expr: sum(quantity * unit_price)}", "expr: SUM( quantity*unit_price )}")
    assert changes(shop) == []
    edit(shop, SALES, "SUM( quantity*unit_price )", "sum(quantity * unit_price * 0.9)")
    [change] = changes(shop)
    assert (change.kind, change.subject, change.breaking) == ("meaning", "revenue", True)
    assert "`sum(quantity * unit_price)` → `sum(quantity * unit_price * 0.9)`" in change.detail


def test_a_metric_filter_or_entity_change_is_breaking(shop: Path) -> None:
    edit(
        shop,
        SALES,
        "metric: {entity: orders, expr: count(*)}",
        "metric: {entity: orders, expr: count(*), filter: web_sales}",
    )
    assert summary(changes(shop)) == [("meaning", "order_count", True)]
    assert "filter `none` → `web_sales`" in changes(shop)[0].detail


def test_renamed_and_redefined_terms_do_not_break(shop: Path) -> None:
    edit(shop, SALES, "label: {en: Copies sold,", "label: {en: Books sold,")
    edit(shop, SALES, "en: Number of copies of books sold.", "en: Copies that left the shop.")
    found = changes(shop)
    assert summary(found) == [
        ("renamed", "copies_sold", False),
        ("definition", "copies_sold", False),
    ]
    assert found[0].detail == '`copies_sold` (en): "Copies sold" → "Books sold"'
    assert cli(shop)[0] == 0
    assert cli(shop, "--fail-on", "any")[0] == 1


def test_a_name_that_no_longer_resolves_breaks_and_is_listed_by_name(shop: Path) -> None:
    """A dropped synonym and a reworded Spanish label: `SELECT takings` and
    `SELECT "Ingresos"` worked and now fail (issue #12)."""
    edit(
        shop, SALES, "synonyms: {en: [takings], es: [facturación]}", "synonyms: {es: [facturación]}"
    )
    edit(shop, SALES, "label: {en: Revenue, es: Ingresos}", "label: {en: Revenue, es: Ventas}")
    found = changes(shop)
    assert summary(found) == [
        ("renamed", "revenue", False),
        ("names", "revenue", False),
        ("name", "revenue", True),
        ("name", "revenue", True),
    ]
    assert [c.detail for c in found if c.kind == "name"] == [
        '"Ingresos" (label in es of `revenue`) no longer names a term: queries that write it '
        "fail (SEM303)",
        '"takings" (synonym in en of `revenue`) no longer names a term: queries that write it '
        "fail (SEM303)",
    ]
    code, out, _ = cli(shop)
    assert code == 1
    assert "BREAKING Name \"takings\" (synonym in en of 'revenue') no longer names" in out


def test_a_name_taken_by_another_term_or_made_ambiguous_breaks(shop: Path) -> None:
    """ "takings" moves to another term; "Ingresos" (es) becomes an English synonym of
    another term too, so a query that writes it is ambiguous."""
    edit(
        shop, SALES, "synonyms: {en: [takings], es: [facturación]}", "synonyms: {es: [facturación]}"
    )
    edit(
        shop,
        SALES,
        "label: {en: Copies sold, es: Ejemplares vendidos}",
        "label: {en: Copies sold, es: Ejemplares vendidos}\n    synonyms: {en: [takings]}",
    )
    edit(
        shop,
        SALES,
        "label: {en: Number of orders, es: Número de pedidos}",
        "label: {en: Number of orders, es: Número de pedidos}\n    synonyms: {en: [ingresos]}",
    )
    details = [c.detail for c in changes(shop) if c.kind == "name" and c.breaking]
    assert details == [
        '"Ingresos" (label in es of `revenue`) is now ambiguous, it names `order_count`, '
        "`revenue`: queries that write it fail (SEM304)",
        '"takings" (synonym in en of `revenue`) now names `copies_sold`: queries that write '
        "it get another term",
    ]


def test_hidden_labels_are_listed_and_a_lost_one_breaks(shop: Path) -> None:
    edit(
        shop,
        SALES,
        "synonyms: {en: [takings], es: [facturación]}",
        "synonyms: {en: [takings], es: [facturación]}\n    hidden_labels: {en: [revenu]}",
    )
    git(shop.parent, "commit", "-qam", "a misspelling")
    edit(shop, SALES, "hidden_labels: {en: [revenu]}", "hidden_labels: {en: [revenus]}")
    found = changes(shop)
    assert summary(found) == [("names", "revenue", False), ("name", "revenue", True)]
    assert found[0].detail == (
        '`revenue` (Revenue) hidden labels (en): removed "revenu"; added "revenus"'
    )
    assert found[1].detail.startswith('"revenu" (hidden label in en of `revenue`) no longer')


def test_relabelling_that_keeps_the_old_label_as_a_synonym_does_not_break(shop: Path) -> None:
    """Accents, case and spaces do not count either: the name still resolves."""
    edit(
        shop,
        SALES,
        "label: {en: Revenue, es: Ingresos}\n    synonyms: {en: [takings], es: [facturación]}",
        "label: {en: Revenue, es: Ventas}\n    synonyms: {en: [takings], es: [Ingresos, "
        "Facturacion]}",
    )
    found = changes(shop)
    assert [c.kind for c in found] == ["renamed", "names"]
    assert not any(c.breaking for c in found)


def test_an_added_term_does_not_break(shop: Path) -> None:
    (shop / CATALOGUE).write_text(
        (shop / CATALOGUE).read_text()
        + "  author_name:\n    label: {en: Author, es: Autor}\n"
        + "    dimension: {entity: authors, expr: name}\n"
    )
    assert summary(changes(shop)) == [("added", "author_name", False)]


def test_a_removed_grain_breaks_an_added_one_does_not(shop: Path) -> None:
    edit(shop, SALES, "grains: [day, month, year]", "grains: [month, year, quarter]")
    found = changes(shop)
    assert summary(found) == [("grains", "order_date", True), ("grains", "order_date", False)]
    assert found[0].detail.endswith("grain(s) removed: day")
    assert found[1].detail.endswith("grain(s) added: quarter")


def test_a_changed_path_breaks(shop: Path) -> None:
    edit(
        shop,
        CATALOGUE,
        "dimension: {entity: authors, expr: country}",
        "dimension: {entity: authors, expr: country, path: [books.authors]}",
    )
    [change] = changes(shop)
    assert (change.kind, change.breaking) == ("path", True)
    assert change.detail.endswith("path `none` → `books.authors`")


def test_a_deprecated_term_breaks(shop: Path) -> None:
    edit(
        shop,
        CATALOGUE,
        "      en: Number of editions in the catalogue.\n      es: Número de ediciones en el "
        "catálogo.\n    status: approved",
        "      en: Number of editions in the catalogue.\n      es: Número de ediciones en el "
        "catálogo.\n    status: deprecated\n    replaced_by: genre",
    )
    [change] = changes(shop)
    assert (change.kind, change.subject, change.breaking) == ("status", "book_count", True)
    assert change.detail.endswith("status approved → deprecated; use `genre`")


def test_a_relationship_change_breaks(shop: Path) -> None:
    edit(
        shop,
        "models/shop.yml",
        "{to: books, cardinality: many_to_one, keys: {isbn: isbn}}",
        "{to: books, cardinality: one_to_one, keys: {isbn: isbn}}",
    )
    [change] = changes(shop)
    assert (change.kind, change.subject, change.breaking) == (
        "relationship",
        "order_lines.books",
        True,
    )


def test_the_markdown_comment(shop: Path) -> None:
    edit(shop, SALES, "grains: [day, month, year]", "grains: [month, year]")
    edit(shop, SALES, "label: {en: Copies sold,", "label: {en: Books sold,")
    code, out, _ = cli(shop, "--format", "markdown")
    assert code == 1
    assert out == (
        "## Vocabulary changes since `HEAD`\n"
        "\n"
        "**1 breaking change(s)**, 1 other change(s).\n"
        "\n"
        "### Breaking changes\n"
        "\n"
        "- **Grains** `order_date` (Order date): grain(s) removed: day\n"
        "\n"
        "### Other changes\n"
        "\n"
        '- **Renamed** `copies_sold` (en): "Copies sold" → "Books sold"\n'
    )
    code, out, _ = cli(shop, "--format", "json", "--fail-on", "never")
    assert code == 0
    assert json.loads(out)["breaking"] == 1
    assert render_markdown(VocabularyDiff("main", ())).endswith("No change to the vocabulary.\n")


def test_committed_changes_against_an_older_revision(shop: Path) -> None:
    edit(shop, SALES, "grains: [day, month, year]", "grains: [month, year]")
    git(shop.parent, "commit", "-qam", "no more days")
    assert changes(shop) == []
    assert summary(changes(shop, "HEAD~1")) == [("grains", "order_date", True)]
    assert summary(changes(shop, "main~1")) == [("grains", "order_date", True)]
    status = git(shop.parent, "status", "--porcelain")
    assert status == ""  # nothing was checked out or written


def test_git_errors(shop: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    code, _, err = cli(shop, "v9")
    assert code == 1 and "SEM421 unknown git revision 'v9'" in err
    plain = tmp_path_factory.mktemp("plain") / "shop"
    shutil.copytree(shop, plain)
    code, _, err = cli(plain)
    assert code == 1 and "SEM420" in err and "is not in a git repository" in err
    other = tmp_path / "later"
    shutil.copytree(shop, other)
    with pytest.raises(SemanticError) as caught:
        diff_revision(other)
    assert caught.value.code == "SEM422"
    assert "there is no project (semantic.yml) in later/ at revision 'HEAD'" in str(caught.value)


def test_invalid_files_at_the_revision_are_reported_and_the_rest_compared(shop: Path) -> None:
    catalogue = (shop / CATALOGUE).read_text()
    (shop / CATALOGUE).write_text("domain: catalogue\nterms: {genre: [\n")
    git(shop.parent, "commit", "-qam", "broken catalogue")
    (shop / CATALOGUE).write_text(catalogue)
    edit(shop, SALES, "grains: [day, month, year]", "grains: [month, year]")
    found = diff_revision(shop)
    assert [d.code for d in found.problems] == ["SEM101"]
    assert str(found.problems[0].span).startswith("HEAD:glossary/catalogue.yml:")
    # the catalogue's terms look new; the real change is still found
    assert ("grains", "order_date", True) in summary(list(found.changes))
    assert ("added", "genre", False) in summary(list(found.changes))
    code, out, err = cli(shop, "--format", "markdown")
    assert code == 1
    assert "HEAD:glossary/catalogue.yml:3:1: warning: SEM101 invalid YAML" in err
    assert "### Errors met while reading" in out


def test_an_unreadable_project_file_at_the_revision(shop: Path) -> None:
    config = (shop / "semantic.yml").read_text()
    (shop / "semantic.yml").write_text(config + "colour: blue\n")
    git(shop.parent, "commit", "-qam", "a bad key")
    (shop / "semantic.yml").write_text(config)
    code, _, err = cli(shop)
    assert code == 1
    assert "HEAD:semantic.yml:10:1: SEM102 unknown key 'colour'" in err
    assert "HEAD:semantic.yml: SEM422 the project's semantic.yml cannot be read at revision" in err


def test_a_removed_entity_and_relationship_break(shop: Path) -> None:
    model = (shop / "models" / "shop.yml").read_text()
    start, end = model.index("  authors:"), model.index("  books:")
    model = model[:start] + model[end:]
    model = model.replace(
        "    relationships:\n      - {to: authors, cardinality: many_to_one, "
        "keys: {author_id: author_id}}\n",
        "",
        1,
    )
    (shop / "models" / "shop.yml").write_text(model)
    catalogue = (shop / CATALOGUE).read_text()
    start, end = catalogue.index("  author_country:"), catalogue.index("  book_count:")
    (shop / CATALOGUE).write_text(catalogue[:start] + catalogue[end:])
    found = changes(shop)
    assert summary(found) == [
        ("removed", "author_country", True),
        ("removed", "authors", True),
        ("removed", "books.authors", True),
    ]
    assert found[1].used_by == ("author_country",)
    code, out, _ = cli(shop)
    assert code == 1
    assert out.splitlines()[1:] == [
        "BREAKING Removed entity 'authors': the terms over it are gone; used by 'author_country'",
        "BREAKING Removed relationship 'books.authors' (to 'authors'): join paths change",
        "3 breaking, 0 other change(s) since HEAD",
    ]


def test_a_removed_segment_names_the_subject_area_restricted_to_it(shop: Path) -> None:
    text = (shop / SALES).read_text()
    start = text.index("  web_sales:")
    end = text.index("subject_areas:")
    (shop / SALES).write_text(text[:start] + text[end:])
    found = diff_revision(shop, "HEAD")
    assert [p.code for p in found.problems] == ["SEM216"]
    [removed] = found.changes
    assert (removed.kind, removed.subject, removed.breaking) == ("removed", "web_sales", True)
    assert removed.used_by == ("subject area web_sales_by_city",)


def test_a_removed_grain_names_only_the_subject_areas_that_list_it(shop: Path) -> None:
    """`sales_by_channel` lists `order_date.month`: removing `day` leaves it whole, removing
    `month` breaks it."""
    edit(shop, SALES, "grains: [day, month, year]", "grains: [day, year]")
    found = diff_revision(shop, "HEAD")
    assert [p.code for p in found.problems] == ["SEM217"]  # the area no longer builds
    [change] = found.changes
    assert (change.kind, change.subject, change.breaking) == ("grains", "order_date", True)
    assert change.used_by == ("subject area sales_by_channel",)
