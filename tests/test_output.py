"""Query output never hides a digit: terminal tables at any width and piped, search and
terms, CSV and JSON; headers in a language; periods shown as periods."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from rich.console import Console

import semantic.cli.printing as printing
import semantic.cli.query as query_cli
from semantic.cli.printing import result_columns
from semantic.cli.tables import Column, print_table
from semantic.model.grains import GRAIN_LABELS, grain_heading, period_name
from semantic.outputs.search import find_terms, list_terms
from semantic.project import Project
from tests.cli_runner import run_cli, unboxed
from tests.conftest import ROOT
from tests.projects import write_data, write_project
from tests.test_docs import Command, blocks, commands

NUMBERS = (
    "SELECT customer_region, order_date.year, net_revenue, order_count, average_discount "
    "ORDER BY 1, 2"
)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:e[+-]\d+)?")


def digits(value: Any) -> str:
    """Every digit of a number, without separators: what the output must hold."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def assert_every_digit_right_aligned(text: str, result: pa.Table) -> None:
    """Each value of each number column of `result` is in `text` whole (one token, all its
    digits), and all the values of a column end at one same character column."""
    found: dict[str, set[int]] = {}
    for line in text.splitlines():
        for token in _NUMBER.finditer(line):
            found.setdefault(token.group().replace(",", ""), set()).add(token.end())
    for field, column in zip(result.schema, result.columns, strict=True):
        kind = field.type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)) and (
            not pa.types.is_decimal(kind)
        ):
            continue
        values = [v for v in column.to_pylist() if v is not None]
        ends: set[int] | None = None
        for value in values:
            where = found.get(digits(value), set())
            assert where, f"{field.name}: {digits(value)} is not shown whole in\n{text}"
            ends = where if ends is None else ends & where
        assert values and ends, f"{field.name}: not right-aligned in\n{text}"


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], io.StringIO]:
    """A terminal of a given width for the commands' output; what they print to it."""

    def make(width: int) -> io.StringIO:
        buffer = io.StringIO()
        console = Console(  # as the command's own `out`, in a terminal
            file=buffer, width=width, force_terminal=True, color_system=None, soft_wrap=True
        )
        monkeypatch.setattr(printing, "out", console)
        monkeypatch.setattr(query_cli, "out", console)
        return buffer

    return make


# --- terminal tables -------------------------------------------------------------------------


@pytest.mark.parametrize("width", [40, 80, 100])
def test_every_digit_in_a_terminal_of_any_width(
    project: Project, screen: Callable[[int], io.StringIO], width: int
) -> None:
    shown = screen(width)
    code, _, err = run_cli("query", NUMBERS)
    assert code == 0, err
    text = shown.getvalue()
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= width
    assert_every_digit_right_aligned(text, project.query(NUMBERS))


def test_a_wide_terminal_shows_a_table_and_a_narrow_one_records(
    screen: Callable[[int], io.StringIO],
) -> None:
    wide = screen(100)
    run_cli("query", NUMBERS)
    assert "┃ customer_region ┃ order_date.year ┃" in wide.getvalue()
    narrow = screen(40)
    run_cli("query", NUMBERS)
    first = narrow.getvalue().splitlines()[:6]
    assert first[0].startswith("1 ─") and first[1].split() == ["customer_region", "AFRICA"]


@pytest.mark.parametrize("width", [40, 60, 100])
def test_french_headers_wrap_and_numbers_do_not(
    project: Project, screen: Callable[[int], io.StringIO], width: int
) -> None:
    shown = screen(width)
    code, _, err = run_cli("query", "--language", "fr", NUMBERS)
    assert code == 0, err
    assert_every_digit_right_aligned(shown.getvalue(), project.query(NUMBERS))


def test_piped_output_is_as_wide_as_the_table(project: Project) -> None:
    """Not a terminal (the runner's standard output): no squeezing into 80 columns."""
    code, out, err = run_cli("query", NUMBERS)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == project.query(NUMBERS).num_rows + 4  # borders, header, one per row
    assert max(len(line) for line in lines) > 80
    assert_every_digit_right_aligned(out, project.query(NUMBERS))


def test_a_real_pipe_prints_the_whole_table(project: Project) -> None:
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "50"}
    environment.pop("FORCE_COLOR", None)
    done = subprocess.run(
        [sys.executable, "-m", "semantic.cli", "--project", str(ROOT), "query", NUMBERS],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stdout  # no colour codes in a pipe
    assert max(len(line) for line in done.stdout.splitlines()) > 80
    assert_every_digit_right_aligned(done.stdout, project.query(NUMBERS))


def test_text_wraps_and_long_words_fold_without_losing_a_letter() -> None:
    columns = [
        Column("id", ["net_revenue_of_the_whole_company"], "fixed"),
        Column("meaning", ["a definition " * 8 + "Supercalifragilisticexpialidocious"]),
        Column("amount", ["12,345,678,901,234,567.89"], "number"),
    ]
    letters = Counter(c for column in columns for c in column.header + "".join(column.cells))
    for width in (45, 60, 90):
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, force_terminal=True, color_system=None)
        print_table(console, columns)
        text = buffer.getvalue()
        assert "net_revenue_of_the_whole_company" in text and "12,345,678,901,234,567.89" in text
        assert +Counter(c for c in text if c.isalpha()) == +Counter(
            {c: n for c, n in letters.items() if c.isalpha()}
        ), text


# --- exact digits in every format --------------------------------------------------------------

BIG_MODEL = """
entities:
  sales:
    primary_key: [id]
    columns:
      id: {type: integer}
      region: {type: varchar}
      amount: {type: "decimal(18,2)"}
      units: {type: bigint}
"""
BIG_GLOSSARY = """
domain: sales
terms:
  region:
    label: {en: Region, fr: Région}
    dimension: {entity: sales, expr: region}
  revenue:
    label: {en: Revenue, fr: Chiffre d'affaires}
    metric: {entity: sales, expr: sum(amount)}
  units:
    label: {en: Units, fr: Unités}
    metric: {entity: sales, expr: sum(units)}
  largest:
    label: {en: Largest units, fr: Plus grand nombre d'unités}
    metric: {entity: sales, expr: max(units)}
"""
REVENUE = Decimal("12345678901234.56")
UNITS = 9007199254740993  # 2**53 + 1: a float would make it ...992
BIG_QUERY = "SELECT region, revenue, units, largest ORDER BY 1"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = write_project(
        tmp_path_factory.mktemp("big"),
        {"models/sales.yml": BIG_MODEL, "glossary/sales.yml": BIG_GLOSSARY},
    )
    write_data(
        root,
        {
            "sales": "SELECT * FROM (VALUES "
            "(1, 'EU', 12345678901230.00::DECIMAL(18,2), 9007199254740992::BIGINT), "
            "(2, 'EU', 4.56::DECIMAL(18,2), 1::BIGINT), "
            "(3, 'US', 0.01::DECIMAL(18,2), 0::BIGINT), "
            "(4, 'ASIA', 9999999999999999.99::DECIMAL(18,2), 5::BIGINT), "
            "(5, 'ASIA', 0.02::DECIMAL(18,2), 5::BIGINT)) AS t(id, region, amount, units)"
        },
    )
    yield root


def test_json_keeps_every_digit_of_decimals_and_integers(big: Path) -> None:
    code, out, err = run_cli("query", "-f", "json", BIG_QUERY, project=big)
    assert code == 0, err
    assert '"revenue": 12345678901234.56,' in out  # a JSON number, not a string
    rows = json.loads(out, parse_float=Decimal)
    assert rows[1] == {"region": "EU", "revenue": REVENUE, "units": UNITS, "largest": UNITS - 1}
    assert str(rows[2]["revenue"]) == "0.01"  # the scale kept
    # 19 digits: a binary float would give 1e16
    assert rows[0]["revenue"] == Decimal("10000000000000000.01")


def test_csv_keeps_every_digit(big: Path) -> None:
    code, out, err = run_cli("query", "-f", "csv", BIG_QUERY, project=big)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert rows[0]["revenue"] == "10000000000000000.01"
    assert rows[1] == {
        "region": "EU",
        "revenue": "12345678901234.56",
        "units": str(UNITS),
        "largest": str(UNITS - 1),
    }


@pytest.mark.parametrize("width", [40, 80, 100])
def test_the_table_keeps_every_digit(
    big: Path, screen: Callable[[int], io.StringIO], width: int
) -> None:
    shown = screen(width)
    code, _, err = run_cli("query", BIG_QUERY, project=big)
    assert code == 0, err
    assert "12,345,678,901,234.56" in shown.getvalue()
    assert_every_digit_right_aligned(shown.getvalue(), Project.load(big).query(BIG_QUERY))


def test_decimal_zeros_keep_their_scale() -> None:
    result = pa.table({"x": pa.array([Decimal("0E-8"), Decimal("-1.50")], pa.decimal128(18, 8))})
    assert [c.cells for c in result_columns(result)] == [["0.00000000", "-1.50000000"]]
    assert printing._csv_value(Decimal("0E-8")) == "0.00000000"
    assert printing._json_rows(["x"], [(Decimal("0E-8"),)]) == '[\n  {\n    "x": 0.00000000\n  }\n]'


def test_json_nests_like_json_dumps() -> None:
    rows = [("a", [Decimal("1.10"), None], {"k": dt.date(1995, 1, 1)})]
    text = printing._json_rows(["s", "l", "m"], rows)
    expected = [{"s": "a", "l": [1.1, None], "m": {"k": "1995-01-01"}}]
    assert text == json.dumps(expected, indent=2).replace("1.1,", "1.10,")
    assert printing._json_rows(["x"], []) == "[]"


# --- search and terms: ids are never cut ---------------------------------------------------


@pytest.mark.parametrize("width", [40, 80])
def test_search_never_cuts_an_id(screen: Callable[[int], io.StringIO], width: int) -> None:
    shown = screen(width)
    code, _, err = run_cli("search", "revenue over the last months", "--limit", "5")
    assert code == 0, err
    text = shown.getvalue()
    hits = find_terms(Project.load(ROOT).model, "revenue over the last months", limit=5)
    assert hits and "…" not in text
    words = set(text.split())
    assert all(hit.id in words for hit in hits), text


@pytest.mark.parametrize("width", [40, 100])
def test_terms_never_cut_an_id(screen: Callable[[int], io.StringIO], width: int) -> None:
    shown = screen(width)
    code, _, err = run_cli("terms", "--language", "fr", "--kind", "metric")
    assert code == 0, err
    words = set(shown.getvalue().split())
    rows = list_terms(Project.load(ROOT).model, "fr", "metric")
    assert all(row["id"] in words for row in rows)
    assert "…" not in shown.getvalue()


# --- headers in a language -----------------------------------------------------------------


def test_headers_in_french_with_grains_aliases_and_expressions() -> None:
    code, out, err = run_cli(
        "query",
        "--language",
        "fr",
        "-f",
        "csv",
        "SELECT customer_region, order_date.year, order_date.month AS mois, net_revenue, "
        '"Nombre de commandes", net_revenue / order_count ORDER BY 1, 2, 3 LIMIT 1',
    )
    assert code == 0, err
    assert next(csv.reader(io.StringIO(out))) == [
        "Région client",
        "Date de commande (année)",
        "mois",
        "Chiffre d'affaires net",
        "Nombre de commandes",
        "net_revenue / order_count",
    ]


def test_headers_in_english_and_by_default(screen: Callable[[int], io.StringIO]) -> None:
    shown = screen(120)
    run_cli("query", "--language", "en", "SELECT order_date.quarter, net_revenue")
    assert "Order date (quarter)" in shown.getvalue() and "Net revenue" in shown.getvalue()
    _, out, _ = run_cli("query", "-f", "json", "SELECT net_revenue, order_date.year LIMIT 1")
    assert list(json.loads(out)[0]) == ["net_revenue", "order_date.year"]


@pytest.mark.parametrize("language", ["de", "fre"])
def test_a_language_the_project_lacks_is_a_usage_error(language: str) -> None:
    code, out, err = run_cli("query", "--language", language, "SELECT order_count")
    assert code == 2 and out == ""
    message = unboxed(err)
    assert "--language" in message and "en or fr" in message and "Traceback" not in message


def test_grain_names_in_four_languages() -> None:
    assert grain_heading("Date de commande", "year", "fr") == "Date de commande (année)"
    assert grain_heading("Bestelldatum", "quarter", "de") == "Bestelldatum (Quartal)"
    assert grain_heading("Fecha de pedido", "month", "es-MX") == "Fecha de pedido (mes)"
    for names in GRAIN_LABELS.values():
        assert {"en", "fr", "de", "es"} <= set(names)


# --- periods shown as periods --------------------------------------------------------------


def test_periods_in_the_table_dates_in_csv(screen: Callable[[int], io.StringIO]) -> None:
    query = (
        "SELECT order_date.year, order_date.quarter, order_date.month, order_date.fiscal_year, "
        "order_date.fiscal_quarter, order_count ORDER BY 1, 2, 3 LIMIT 1"
    )
    shown = screen(200)
    code, _, err = run_cli("query", query)
    assert code == 0, err
    row = shown.getvalue().splitlines()[3]
    assert [cell.strip() for cell in row.strip("│").split("│")][:5] == [
        "1992",
        "1992-Q1",
        "1992-01",
        "FY1991",
        "FY1991-Q4",
    ]
    _, out, _ = run_cli("query", "-f", "csv", query)
    assert out.splitlines()[1].startswith("1992-01-01,1992-01-01,1992-01-01,1991-04-01,1992-01-01")


@pytest.mark.parametrize(
    ("value", "grain", "start", "name"),
    [
        (dt.date(1992, 1, 1), "year", 1, "1992"),
        (dt.date(1992, 10, 1), "quarter", 1, "1992-Q4"),
        (dt.date(1992, 2, 1), "month", 1, "1992-02"),
        (dt.date(1992, 2, 3), "week", 1, "1992-02-03"),
        (dt.date(1992, 2, 3), "day", 1, "1992-02-03"),
        (dt.date(1995, 4, 1), "fiscal_year", 4, "FY1995"),
        (dt.date(1996, 1, 1), "fiscal_quarter", 4, "FY1995-Q4"),
        (dt.date(1996, 1, 1), "fiscal_year", 1, "FY1996"),
        (dt.datetime(1992, 1, 1), "year", 1, "1992"),
        # not the start of such a period: shown as it is, never misnamed
        (dt.date(1992, 2, 1), "year", 1, "1992-02-01"),
        (dt.date(1992, 2, 1), "quarter", 1, "1992-02-01"),
        (dt.date(1995, 5, 1), "fiscal_year", 4, "1995-05-01"),
        (dt.datetime(1992, 1, 1, 10, 30), "year", 1, "1992-01-01 10:30:00"),
    ],
)
def test_period_names(value: dt.date, grain: str, start: int, name: str) -> None:
    assert period_name(value, grain, start) == name


# --- the documented examples ---------------------------------------------------------------

_TERMINAL = re.compile(r"^<!--\s*terminal:\s*(\d+) columns\s*-->$")


def documented_results() -> Iterator[Any]:
    """The `semantic query` commands shown with their output in README.md and in the Results
    section of docs/query-language.md, and the terminal width above their block (`<!--
    terminal: 40 columns -->`; none: piped)."""
    doc = (ROOT / "docs" / "query-language.md").read_text(encoding="utf-8").splitlines()
    start = doc.index("## Results: tables, CSV and JSON") + 1
    end = next(i for i in range(start, len(doc)) if doc[i].startswith("## ")) + 1
    for name, lines in (("README.md", range(10**6)), ("docs/query-language.md", range(start, end))):
        for block in blocks(name):
            if block.tag != "console" or block.line not in lines:
                continue
            width = _TERMINAL.match(block.above.strip())
            for command in commands(block):
                if command.argv[1] == "query" and command.output:
                    yield pytest.param(
                        command, int(width.group(1)) if width else None, id=command.where
                    )


def test_the_results_section_has_examples() -> None:
    assert len(list(documented_results())) >= 4


@pytest.mark.parametrize(("command", "width"), list(documented_results()))
def test_documented_output_is_what_is_printed(
    screen: Callable[[int], io.StringIO], command: Command, width: int | None
) -> None:
    shown = screen(width) if width else None
    code, out, err = run_cli(*command.argv[1:])
    assert code == 0, err
    printed = shown.getvalue() if shown else out
    assert [line.rstrip() for line in printed.strip().splitlines()] == [
        line.rstrip() for line in command.output.splitlines()
    ], f"{command.where}: the output differs from the documentation:\n{printed}"


def test_json_reports_are_rich_s_text_without_rich_s_cost() -> None:
    """Off a terminal, a JSON report is written by `json.dumps`: the text rich would print
    (indent 2, non-ASCII kept), without rich's rendering, which took seconds on the report
    of a large import."""
    import io
    import json as json_module

    from rich.console import Console

    from semantic.cli.printing import print_json_data

    data = {"written": ["glossary/thésaurus.yml"], "report": [{"a": 1, "b": None, "c": [1.5]}]}
    plain, fancy = io.StringIO(), io.StringIO()
    print_json_data(Console(file=plain, soft_wrap=True, markup=False, emoji=False), data)
    Console(file=fancy, soft_wrap=True, markup=False, emoji=False).print_json(
        json_module.dumps(data)
    )
    assert plain.getvalue() == fancy.getvalue()
    assert json_module.loads(plain.getvalue()) == data
