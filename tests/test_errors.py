"""Bad input gets a clear error: file:line:col (or the query position), a stable code and a
hint; `semantic check` reports every problem at once and no traceback reaches the user."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from semantic.errors import Diagnostic, SemanticError
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.projects import write_project

MODEL = """
entities:
  customers:
    primary_key: [id]
    columns:
      id: {type: integer}
      region: {type: varchar}
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
    label: {en: Region, fr: Région}
    dimension: {entity: customers, expr: region}
  revenue:
    label: {en: Revenue, fr: Chiffre d'affaires}
    synonyms: {en: [Volume]}
    metric: {entity: orders, expr: sum(amount)}
  order_count:
    label: {en: Order count}
    synonyms: {fr: [Volume]}
    metric: {entity: orders, expr: count(*)}
  turnover:
    label: {en: Turnover}
    metric: {expr: revenue / order_count}
"""


def diagnostics(root: Path) -> list[Diagnostic]:
    return [d for d in Project.inspect(root)[1] if d.severity == "error"]


def rendered(root: Path) -> str:
    return "\n".join(d.render() for d in diagnostics(root))


def test_a_valid_project_has_no_error(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY})
    assert diagnostics(tmp_path) == []


def test_malformed_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    write_project(
        tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": "domain: sales\nterms:\n  a: [b\n"}
    )
    (d,) = diagnostics(tmp_path)
    assert d.code == "SEM101"
    assert str(d.span).startswith("glossary/g.yml:4:")
    assert d.hint


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {"models/m.yml": MODEL + "  orders:\n    columns: {x: {}}\n", "glossary/g.yml": GLOSSARY},
    )
    (d,) = diagnostics(tmp_path)
    assert d.code == "SEM101" and "duplicate" in d.message and d.span and d.span.line == 17


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "models/m.yml": MODEL.replace(
                "primary_key: [id]\n    columns:\n      id: {type: integer}\n      region",
                "primary_key: [id]\n    colums: {}\n    columns:\n"
                "      id: {type: integer}\n      region",
            ),
            "glossary/g.yml": GLOSSARY,
        },
    )
    (d,) = diagnostics(tmp_path)
    assert d.render() == (
        "models/m.yml:4:5: SEM102 unknown key 'colums' in entities.customers\n"
        "  help: did you mean 'columns'?"
    )


def test_wrong_enum_value_lists_the_allowed_ones(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {"models/m.yml": MODEL.replace("many_to_one", "many_to_many"), "glossary/g.yml": GLOSSARY},
    )
    (d,) = diagnostics(tmp_path)
    assert d.code == "SEM102" and str(d.span) == "models/m.yml:15:22"
    assert d.hint and "many_to_one" in d.hint


def test_broken_references_are_all_reported_with_positions(tmp_path: Path) -> None:
    glossary = (
        GLOSSARY.replace("expr: region}", "expr: regoin}")
        .replace("entity: orders, expr: count(*)", "entity: order, expr: count(*)")
        .replace("revenue / order_count", "revenu / order_count")
    )
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": glossary})
    text = rendered(tmp_path)
    assert (
        "glossary/g.yml:5:42: SEM203 unknown column 'regoin' of entity 'customers' in term 'region'"
        in text
    )
    assert "help: did you mean 'region'?" in text
    assert (
        "glossary/g.yml:13:22: SEM202 term 'order_count' is defined on unknown entity 'order'"
        in text
    )
    assert "help: did you mean 'orders'?" in text
    assert "glossary/g.yml:16:20: SEM201 unknown term 'revenu' in metric 'turnover'" in text
    assert {d.code for d in diagnostics(tmp_path)} == {"SEM201", "SEM202", "SEM203"}


def test_relationship_to_unknown_entity_and_column(tmp_path: Path) -> None:
    model = MODEL.replace("to: customers", "to: customer").replace(
        "{customer_id: id}", "{customer: id}"
    )
    write_project(tmp_path, {"models/m.yml": model, "glossary/g.yml": GLOSSARY})
    (d,) = diagnostics(tmp_path)
    assert d.code == "SEM202" and str(d.span) == "models/m.yml:14:13"
    model = MODEL.replace("{customer_id: id}", "{customer: id}")
    write_project(tmp_path, {"models/m.yml": model, "glossary/g.yml": GLOSSARY})
    (d,) = diagnostics(tmp_path)
    assert d.code == "SEM203" and d.hint == "did you mean 'customer_id'?"


def test_duplicate_term_across_files(tmp_path: Path) -> None:
    other = (
        "domain: other\nterms:\n  revenue:\n    label: {en: Sales}\n"
        "    metric: {entity: orders, expr: sum(amount)}\n"
    )
    write_project(
        tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY, "glossary/h.yml": other}
    )
    (d,) = diagnostics(tmp_path)
    assert d.code == "SEM103" and str(d.span) == "glossary/h.yml:3:3"
    assert d.hint == "first defined at glossary/g.yml:6:3"


def test_cycle_in_derived_metrics(tmp_path: Path) -> None:
    glossary = (
        GLOSSARY
        + "  a: {label: {en: A}, metric: {expr: b + 1}}\n"
        + "  b: {label: {en: B}, metric: {expr: a * 2}}\n"
    )
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": glossary})
    codes = [d.code for d in diagnostics(tmp_path)]
    assert codes == ["SEM205"]


def test_label_naming_two_terms_in_one_language(tmp_path: Path) -> None:
    glossary = GLOSSARY.replace("label: {en: Order count}", "label: {en: Revenue}")
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": glossary})
    (d,) = diagnostics(tmp_path)
    assert d.code == "SEM206" and "also the id of term 'revenue'" in d.message
    glossary = GLOSSARY.replace("synonyms: {fr: [Volume]}", "synonyms: {fr: [Chiffre d’affaires]}")
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": glossary})
    (d,) = diagnostics(tmp_path)
    assert d.code == "SEM206" and "also the label of term 'revenue'" in d.message


def test_invalid_sql_expression(tmp_path: Path) -> None:
    glossary = GLOSSARY.replace("sum(amount)", "sum(amount")
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": glossary})
    (d,) = diagnostics(tmp_path)
    assert d.code == "SEM104" and d.span and (d.span.file, d.span.line) == ("glossary/g.yml", 9)


def test_metric_without_aggregate(tmp_path: Path) -> None:
    glossary = GLOSSARY.replace("sum(amount)", "amount * 2")
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": glossary})
    (d,) = diagnostics(tmp_path)
    assert d.code == "SEM208" and "has no aggregate" in d.message


def test_pinned_path_must_exist(tmp_path: Path) -> None:
    glossary = GLOSSARY.replace("expr: region}", "expr: region, path: [orders.customer]}")
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": glossary})
    (d,) = diagnostics(tmp_path)
    assert d.code == "SEM204" and d.hint == "did you mean 'orders.customers'?"


def test_missing_config(tmp_path: Path) -> None:
    with pytest.raises(SemanticError) as caught:
        Project.load(tmp_path)
    assert caught.value.code == "SEM105"


# --- queries --------------------------------------------------------------------------------


@pytest.fixture
def tiny(tmp_path: Path) -> Project:
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY})
    return Project.load(tmp_path)


@pytest.mark.parametrize(
    ("query", "code", "where", "fragment"),
    [
        ("SELECT revenu", "SEM303", "<query>:1:8", "did you mean 'revenue'"),
        ("SELECT region,\n  revenu", "SEM303", "<query>:2:3", "did you mean 'revenue'"),
        (
            "SELECT volume",
            "SEM304",
            "<query>:1:8",
            "write the term id instead: order_count or revenue",
        ),
        ("SELECT amount", "SEM303", "<query>:1:8", "physical column of entity 'orders'"),
        ("SELECT orders.amount", "SEM302", "<query>:1:8", "glossary terms only"),
        ("SELECT revenue FROM orders", "SEM302", "<query>:1:16", "finds the tables itself"),
        # at the clause's own keyword, not a FROM inside parentheses
        (
            "SELECT extract(year FROM day) AS y,\n  revenue FROM orders JOIN x ON 1 = 1",
            "SEM302",
            "<query>:2:11",
            "finds the tables itself",
        ),
        ("SELECT DISTINCT region, revenue", "SEM302", "<query>:1:8", "one row per group"),
        ("WITH a AS (SELECT 1) SELECT revenue", "SEM302", "<query>:1:1", "remove it"),
        ("DELETE FROM orders", "SEM302", "<query>:1:1", "cannot change anything"),
        ("SELECT revenue; SELECT region", "SEM302", "<query>:1:1", "one SELECT at a time"),
        ("SELECT revenue WHERE", "SEM301", "<query>:1:", "SELECT <terms>"),
        ("SELECT region + revenue", "SEM305", "<query>:1:8", "separate columns"),
        ("SELECT sum(revenue)", "SEM305", "<query>:1:12", "aggregated already"),
        (
            "SELECT region, revenue WHERE region = 'A' OR revenue > 1",
            "SEM305",
            "<query>:1:30",
            "split it",
        ),
        ("SELECT region.month, revenue", "SEM308", "<query>:1:8", "time dimensions only"),
        ("SELECT region, revenue GROUP BY revenue", "SEM310", "<query>:1:33", "optional"),
        ("SELECT region, revenue ORDER BY 3", "SEM311", "<query>:1:1", "from 1"),
        ("SELECT revenue LIMIT 'ten'", "SEM311", "<query>:1:1", "LIMIT 10"),
        ("SELECT * ", "SEM302", "<query>:1:8", "name the terms"),
        ("SELECT region, Region, revenue", "SEM313", "<query>:1:16", "AS other_Region"),
        # at the name given twice: the second alias
        ("SELECT revenue AS x,\n  region AS x", "SEM313", "<query>:2:13", "AS other_x"),
        (
            "SELECT region, revenue AS r, RANK() OVER (ORDER BY revenue) AS r",
            "SEM313",
            "<query>:1:64",
            "AS other_r",
        ),
        ("SELECT revenue WHERE region = ?", "SEM309", "<query>:1:1", "name them: $region"),
        ("SELECT revenue WHERE", "SEM301", "<query>:1:", "WHERE is incomplete"),
        ("SELECT revenue LIMIT 'a'", "SEM311", "<query>:1:1", "not 'a'\n"),
        (
            "SELECT region AS revenue, order_count WHERE revenue > 1",
            "SEM318",
            "<query>:1:45",
            "filter the column in HAVING",
        ),
        (
            "SELECT region AS r, revenue WHERE\n  r = 'A'",
            "SEM318",
            "<query>:2:3",
            "names no term, only the output column 'r' (region)",
        ),
        # metrics at another grain and ranks point at the offending term or construct
        (
            "SELECT revenue,\n  MEASURE(revenue) PER (region) AS r",
            "SEM350",
            "<query>:2:25",
            "add region to SELECT",
        ),
        (
            'SELECT revenue, MEASURE(revenue) PER (* EXCLUDE "Région") AS r',
            "SEM350",
            "<query>:1:49",
            "add region to SELECT",
        ),
        (
            "SELECT revenue,\n  RANK() OVER (PARTITION BY region ORDER BY revenue) AS r",
            "SEM366",
            "<query>:2:29",
            "select the dimension",
        ),
        (
            "SELECT region, revenue AS v QUALIFY\n  sum(v) > 0",
            "SEM365",
            "<query>:2:3",
            "rank the query's groups",
        ),
        (
            "SELECT region, revenue, RANK() OVER (ORDER BY revenue) + 1 AS r",
            "SEM365",
            "<query>:1:25",
            "rank the query's groups",
        ),
        (
            "SELECT region, revenue, RANK() OVER (PARTITION BY region) AS r",
            "SEM365",
            "<query>:1:25",
            "rank the query's groups",
        ),
    ],
)
def test_query_errors(tiny: Project, query: str, code: str, where: str, fragment: str) -> None:
    with pytest.raises(SemanticError) as caught:
        tiny.compile(query)
    (d,) = caught.value.diagnostics
    assert d.code == code
    assert str(d.span).startswith(where)
    assert fragment in d.render()


def test_dimensions_alone_are_a_list_of_values_not_an_error(tiny: Project) -> None:
    """`SELECT region` was SEM305 ("selects no metric"); it now lists the regions of the
    customers (tests/soundness/test_listing.py compares such lists with SELECT DISTINCT)."""
    sql = " ".join(tiny.compile("SELECT region").split())
    assert "GROUP BY customers.region" in sql and "COUNT" not in sql.upper()


def test_unknown_dialect(tiny: Project) -> None:
    with pytest.raises(SemanticError) as caught:
        tiny.compile("SELECT revenue", dialect="postgress")
    assert (
        caught.value.code == "SEM312"
        and caught.value.diagnostics[0].hint == "did you mean 'postgres'?"
    )


# --- the command line -----------------------------------------------------------------------


def test_cli_prints_diagnostics_without_traceback(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "models/m.yml": MODEL,
            "glossary/g.yml": GLOSSARY.replace("expr: region}", "expr: regoin}"),
        },
    )
    result = run_cli("check", project=tmp_path)
    assert result.exit_code == 1
    assert "glossary/g.yml:5:42: SEM203 unknown column 'regoin'" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    result = run_cli("check", "--format", "json", project=tmp_path)
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["ok"] is False
    assert report["diagnostics"][0] | {"message": None} == {
        "code": "SEM203",
        "severity": "error",
        "message": None,
        "file": "glossary/g.yml",
        "line": 5,
        "col": 42,
        "hint": "did you mean 'region'?",
    }


def test_cli_query_error_exit_code(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY})
    result = run_cli("compile", "SELECT revenu", project=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (
        "<query>:1:8: SEM303 unknown term 'revenu'\n"
        "  | SELECT revenu\n"
        "  |        ^\n"
        "  help: did you mean 'revenue'?\n"
    )
