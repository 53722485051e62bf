"""Errors that teach the query language to a new user (issue #17, "the first hour"): quotes,
names with spaces, "did you mean" as `semantic search` ranks, parameters typed by what they
meet, JSON queries with labels, usage errors, and file errors that do not cascade."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from semantic.compiler.resolve import did_you_mean
from semantic.errors import SemanticError
from semantic.outputs.search import search, search_index
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.conftest import ROOT
from tests.projects import write_data, write_project


def copy_example(tmp_path: Path) -> Path:
    """A copy of the example project's files (no data: `check` does not read it)."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(ROOT / "semantic.yml", root / "semantic.yml")
    for folder in ("models", "glossary"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


def compile_error(project: Project, query: object) -> tuple[str, str, str, str]:
    with pytest.raises(SemanticError) as caught:
        project.compile(query)  # type: ignore[arg-type]
    d = caught.value.diagnostics[0]
    return d.code, str(d.span), d.message, d.hint or ""


# --- quotes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code", "where", "message", "hint"),
    [
        (
            "SELECT segment de marché, CA",
            "SEM319",
            "<query>:1:8",
            "'segment de marché' is a name with spaces: write it in double quotes",
            'write "segment de marché" (a name of market_segment); single quotes make a text',
        ),
        (
            "SELECT net_revenue\nWHERE Région client = 'EUROPE'",
            "SEM319",
            "<query>:2:7",
            "'Région client' is a name with spaces",
            '"Région client" (a name of customer_region)',
        ),
        (
            "SELECT Région client, net_revenue",  # parses as `Région AS client`
            "SEM319",
            "<query>:1:8",
            "'Région client' is a name with spaces",
            '"Région client"',
        ),
        (
            "SELECT chiffre d'affaires net, order_count",
            "SEM319",
            "<query>:1:8",
            "'chiffre d'affaires net' is a name with an apostrophe",
            '"chiffre d\'affaires net" (a name of net_revenue)',
        ),
        (
            "SELECT 'Région client', net_revenue",
            "SEM320",
            "<query>:1:8",
            "'Région client' in single quotes is a text value, not the name of a term",
            'single quotes make a text value; write the name in double quotes: "Région client"',
        ),
        (
            "SELECT net_revenue WHERE 'Région client' = 'EUROPE'",  # compiled to FALSE before
            "SEM320",
            "<query>:1:26",
            "in single quotes is a text value",
            "(a name of customer_region)",
        ),
        (
            'SELECT net_revenue WHERE customer_region = "EUROPE"',
            "SEM303",
            "<query>:1:44",
            "unknown term 'EUROPE'",
            "\"EUROPE\" in double quotes is a name; a value is written in single quotes: 'EUROPE'",
        ),
        (
            "SELECT net_revenue WHERE customer_region IN ('ASIA', EUROPE)",
            "SEM303",
            "<query>:1:54",
            "unknown term 'EUROPE'",
            "a value is written in single quotes: 'EUROPE'",
        ),
        (
            "SELECT net_revenue WHERE net_revnue > 3",  # a typo first, then the value rule
            "SEM303",
            "<query>:1:26",
            "unknown term 'net_revnue'",
            "did you mean 'net_revenue'? If it is a value, write it in single quotes",
        ),
        (
            "SELECT net_revenue WHERE r_name = 'EUROPE'",  # a physical column stays one
            "SEM303",
            "<query>:1:26",
            "unknown term 'r_name'",
            "physical column of entity 'region'",
        ),
        (
            "SELECT segment de march, net_revenue",
            "SEM301",
            "<query>:1:8",
            "'segment de march' is several words in a row",
            'if it is a name, write "segment de march"',
        ),
        (
            "SELECT cutsomer regoin, net_revenue",
            "SEM303",
            "<query>:1:8",
            "unknown term 'cutsomer regoin'",
            'a name with spaces is written in double quotes: "cutsomer regoin"; did you mean '
            "'customer_region'?",
        ),
        (
            "SELECT net_revenue WHERE customer_region = 'EUROPE",
            "SEM301",
            "<query>:1:44",
            "a text value opened by ' is never closed",
            "close the value with '",
        ),
        (
            'SELECT "Segment de marché, net_revenue',
            "SEM301",
            "<query>:1:8",
            'a name opened by " is never closed',
            'close the name with "',
        ),
    ],
)
def test_quoting_slips_are_said_in_business_terms(
    project: Project, query: str, code: str, where: str, message: str, hint: str
) -> None:
    got = compile_error(project, query)
    assert got[:2] == (code, where), got
    assert message in got[2] and hint in got[3], got


def test_quoted_labels_and_aliases_still_compile(project: Project) -> None:
    # what the checks must leave alone: quoted labels, aliases with and without AS, NOT
    text = (
        'SELECT "Segment de marché" segment, "Région client" AS region, net_revenue revenue '
        "WHERE NOT market_segment = 'BUILDING' ORDER BY revenue DESC"
    )
    assert project.query(text).column_names == ["segment", "region", "revenue"]


def test_the_cli_shows_the_query_line_and_a_caret() -> None:
    code, _, err = run_cli("compile", "SELECT net_revenue,\n  Segment de marché")
    assert code == 1
    assert err.splitlines()[:3] == [
        "<query>:2:3: SEM319 'Segment de marché' is a name with spaces: write it in double quotes",
        "  |   Segment de marché",
        "  |   ^",
    ]


# --- did you mean: the search's ranking -----------------------------------------------------


def suggested(hint: str | None) -> list[str]:
    """The term ids a "did you mean" hint offers: `"Label" (id)` or `'id'`."""
    assert hint is not None
    return [m.group(1) or m.group(2) for m in re.finditer(r"\((\w+)\)|'(\w+)'", hint)]


@pytest.mark.parametrize("name", ["pays", "année", "région", "revnue net", "cutsomer", "segmnt"])
def test_did_you_mean_ranks_as_semantic_search(project: Project, name: str) -> None:
    hits = [
        h.id
        for h in search(search_index(project.model), name, limit=200)
        if h.kind not in ("entity", "subject_area", "concept") and h.field != "definition"
    ]
    assert hits, name
    assert suggested(did_you_mean(project.model, name)) == hits[:3]


def test_did_you_mean_across_languages(project: Project) -> None:
    _, _, _, hint = compile_error(project, "SELECT pays, net_revenue")
    assert hint == (
        'did you mean "Pays client" (customer_nation) or "Pays fournisseur" (supplier_nation)?'
    )
    _, _, _, hint = compile_error(project, "SELECT région, net_revenue")
    assert suggested(hint)[:2] == ["customer_region", "supplier_region"]
    assert "margin" not in hint
    _, _, _, hint = compile_error(project, "SELECT année, net_revenue")
    assert suggested(hint) == ["revenue_year_to_date"]  # "CA depuis le début de l'année"


# --- usage errors ---------------------------------------------------------------------------


def test_a_param_without_value_is_a_usage_error() -> None:
    code, out, err = run_cli(
        "query", "SELECT order_count WHERE market_segment = $s", "--param", "s"
    )
    assert code == 2
    assert "internal error" not in out + err and "Traceback" not in out + err
    assert "'s' is not NAME=VALUE" in err and "--param" in err


def test_a_bad_parameter_of_init_is_a_usage_error(tmp_path: Path) -> None:
    code, out, err = run_cli(
        "init", tmp_path / "new", "--from-files", tmp_path, "--engine", "duckdb:", project=None
    )
    assert code == 2
    assert "internal error" not in out + err
    words = " ".join(re.sub(r"[│╭╮╰╯─]", " ", err).split())  # the message, out of its box
    assert (
        "Invalid value: give one of --engine URL, --from-duckdb FILE or --from-files DIR" in words
    )


# --- parameters typed by what they meet -----------------------------------------------------

CODES_MODEL = """
entities:
  codes:
    primary_key: [id]
    columns:
      id: {type: integer}
      code: {type: varchar}
      amount: {type: integer}
      day: {type: date}
"""
CODES_GLOSSARY = """
domain: test
terms:
  code:
    label: {en: Code}
    dimension: {entity: codes, expr: code}
  day:
    label: {en: Day}
    time_dimension: {entity: codes, expr: day}
  amount:
    label: {en: Amount}
    dimension: {entity: codes, expr: amount}
  total:
    label: {en: Total}
    metric: {entity: codes, expr: sum(amount)}
"""


@pytest.fixture
def codes(tmp_path: Path) -> Path:
    write_project(tmp_path, {"models/m.yml": CODES_MODEL, "glossary/g.yml": CODES_GLOSSARY})
    write_data(
        tmp_path,
        {
            "codes": "SELECT * FROM (VALUES (1, '1e3', 5, DATE '2024-01-01'), "
            "(2, '1000', 7, DATE '2024-01-02'), (3, 'abc', 11, DATE '2024-01-03')) "
            "AS t(id, code, amount, day)"
        },
    )
    return tmp_path


@pytest.mark.parametrize(
    ("query", "value", "total"),
    [
        ("SELECT total WHERE code = $k", "1e3", 5),  # the text '1e3', not the number 1000
        ("SELECT total WHERE code = $k", "1000", 7),
        ("SELECT total WHERE amount > $k", "6", 18),  # a number
        ("SELECT total WHERE amount > $k", "5e0", 18),
        ("SELECT total WHERE amount * 2 >= $k", "14", 18),  # through arithmetic
        ("SELECT total WHERE year(day) = $k", "2024", 23),  # through a function
        ("SELECT total WHERE upper(code) = $k", "1E3", 5),
        ("SELECT total WHERE day >= $k", "2024-01-02", 18),  # a date
        ("SELECT total WHERE day BETWEEN $k AND DATE '2024-01-02'", "2024-01-01", 12),
        ("SELECT code, total HAVING total > $k ORDER BY 1", "10", 11),  # a metric: a number
    ],
)
def test_a_param_takes_the_type_of_what_it_is_compared_with(
    codes: Path, query: str, value: str, total: int
) -> None:
    code, out, err = run_cli("query", query, "--param", f"k={value}", "-f", "json", project=codes)
    assert code == 0, err
    assert [row["total"] for row in json.loads(out)] == [total]


@pytest.mark.parametrize(
    ("query", "value", "fragment"),
    [
        ("SELECT total WHERE amount > $k", "abc", "compared with 'amount', a number: 'abc'"),
        ("SELECT total WHERE day >= $k", "2024-13-01", "'day', a date: '2024-13-01' is not"),
    ],
)
def test_a_param_that_is_not_of_its_type_is_refused(
    codes: Path, query: str, value: str, fragment: str
) -> None:
    code, _, err = run_cli("query", query, "--param", f"k={value}", project=codes)
    assert code == 1
    assert err.startswith("<query>:1:") and "SEM321" in err and fragment in err


# --- JSON queries ---------------------------------------------------------------------------


def test_json_fields_that_are_names_take_labels(project: Project) -> None:
    spec = {
        "select": ["Région client", "Date de commande.year", "CA net"],
        "where": ["\"Segment de marché\" = 'BUILDING'", "order_date < DATE '1994-01-01'"],
        "order_by": ["Région client DESC", "Date de commande.year"],
    }
    text = (
        'SELECT "Région client", "Date de commande".year, "CA net" '
        "WHERE \"Segment de marché\" = 'BUILDING' AND order_date < DATE '1994-01-01' "
        'ORDER BY "Région client" DESC, "Date de commande".year'
    )
    assert project.query(spec).to_pylist() == project.query(text).to_pylist()
    assert project.compile(spec) == project.compile(text)


def test_json_conditions_stay_in_their_field(project: Project) -> None:
    spec = {
        "select": ["customer_region", "order_count"],
        "where": ["market_segment = 'BUILDING' OR market_segment = 'MACHINERY'", "1 = 0"],
    }
    assert project.query(spec).to_pylist() == []  # (a OR b) AND false, not a OR (b AND false)
    with_comment = {"select": ["customer_region -- the region", "order_count"]}
    assert project.query(with_comment).num_rows == 5
    code, where, _, _ = compile_error(project, {"select": ["x"], "where": ["a = 1) OR (1 = 1"]})
    assert (code, where) == ("SEM301", "$.where[0]:1:6")


@pytest.mark.parametrize(
    ("query", "code", "where", "fragment"),
    [
        ({"select": ["Région client", "net_revnue"]}, "SEM303", "$.select[1]:1:1", "net_revnue"),
        (
            {"select": ["net_revenue"], "where": 'customer_region = "EUROPE"'},
            "SEM303",
            "$.where:1:19",
            "unknown term 'EUROPE'",
        ),
        (
            {"select": ["net_revenue"], "where": ["order_count > 1", "Région client = 'EUROPE'"]},
            "SEM319",
            "$.where[1]:1:1",
            "'Région client' is a name with spaces",
        ),
        (
            {"select": ["net_revenue"], "where": ["customer_region = 'ASIA'\n  AND revnue > 1"]},
            "SEM303",
            "$.where[0]:2:7",
            "unknown term 'revnue'",
        ),
        # dimensions alone are listed among one entity's rows: none has both (SEM371)
        (
            {"select": ["Région client", "Nom de la pièce"]},
            "SEM371",
            "$.select[1]:1:1",
            "selects no metric",
        ),
        ({"select": ["net_revenue"], "limt": 3}, "SEM302", "$.limt", "unknown key 'limt'"),
        ({"select": ["net_revenue", 3]}, "SEM302", "$.select[1]", "valid string"),
    ],
)
def test_json_errors_point_into_the_json(
    project: Project, query: dict[str, object], code: str, where: str, fragment: str
) -> None:
    got = compile_error(project, query)
    assert got[:2] == (code, where), got
    assert fragment in got[2], got


# --- file errors: positions printed as they are, no cascade ----------------------------------


def test_an_error_on_line_100_prints_its_position(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    sales = root / "glossary" / "sales.yml"
    lines = sales.read_text().split("\n")
    bad = re.sub(r"^(\s+)(\w+):", r"\1\2x:", lines[99])
    assert bad != lines[99], "line 100 of glossary/sales.yml holds a key"
    lines[99] = bad
    sales.write_text("\n".join(lines))
    code, _, err = run_cli("check", project=root)
    assert code == 1
    assert re.search(r"^glossary/sales\.yml:100:\d+: SEM102 unknown key", err, re.M), err
    assert "\U0001f4af" not in err  # rich's :100: emoji


def test_values_are_printed_as_they_are(tmp_path: Path) -> None:
    # rich would read `:100:` as an emoji and `[b]` as markup in a table's cells
    write_project(tmp_path, {"models/m.yml": CODES_MODEL, "glossary/g.yml": CODES_GLOSSARY})
    write_data(
        tmp_path,
        {
            "codes": "SELECT 1 AS id, ':100: [b]x[/b]' AS code, 5 AS amount, "
            "DATE '2024-01-01' AS day"
        },
    )
    code, out, err = run_cli("query", "SELECT code, total", project=tmp_path)
    assert code == 0, err
    assert ":100: [b]x[/b]" in out


def test_one_bad_key_is_one_error(tmp_path: Path) -> None:
    # glossary/sales.yml defines net_revenue, which windows of glossary/orders.yml name: when
    # the file fails its schema, they used to be three SEM208 errors in orders.yml
    root = copy_example(tmp_path)
    sales = root / "glossary" / "sales.yml"
    text = sales.read_text()
    assert (
        "  net_revenue:\n" in text
        and "      expr: net_revenue\n" in (root / "glossary" / "orders.yml").read_text()
    )
    sales.write_text(text.replace("    owners:", "    ownrs:", 1))
    code, out, _ = run_cli("check", "--format", "json", project=root)
    report = json.loads(out)
    errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
    assert code == 1 and [d["code"] for d in errors] == ["SEM102"], errors
    assert errors[0]["file"] == "glossary/sales.yml"


def test_a_window_over_an_unknown_metric_is_an_unknown_term(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    orders = root / "glossary" / "orders.yml"
    text = orders.read_text()
    at = text.index("  revenue_last_3_months:")
    changed = text[:at] + text[at:].replace("expr: net_revenue", "expr: net_revenu", 1)
    orders.write_text(changed)
    errors = [d for d in Project.inspect(root)[1] if d.severity == "error"]
    assert [(d.code, d.message) for d in errors] == [
        ("SEM201", "unknown term 'net_revenu' in the window of metric 'revenue_last_3_months'")
    ]
    assert errors[0].hint and "'net_revenue'" in errors[0].hint
