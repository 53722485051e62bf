"""Semi-additive metrics (`semi_additive:`): a stock level is summed across products, never
over days. Each group takes the rows of its last day (or first), or the average of its
days' values. Compared with hand-written SQL (a correlated subquery picking the group's
last day), on pinned rows on every engine and on generated rows (gaps in dates, a single
day, NULL quantities, several products, several rows of one product on its last day).

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic.errors import SemanticError
from semantic.project import Project
from tests.projects import write_project
from tests.tiny_engines import (
    ENGINES,
    Engine,
    Table,
    check_rows,
    engine_fixture,
    normal_rows,
    tiny_project,
)

MODEL = """
entities:
  stock:
    primary_key: [id]
    columns:
      id: {type: integer}
      day: {type: date}
      product: {type: varchar}
      quantity: {type: integer}
"""

GLOSSARY = """
domain: d
terms:
  day: {label: {en: Day}, time_dimension: {entity: stock, expr: day}}
  product: {label: {en: Product}, dimension: {entity: stock, expr: product}}
  stock_level:
    label: {en: Stock level}
    metric: {entity: stock, expr: sum(quantity), semi_additive: {time: day}}
  opening_stock:
    label: {en: Opening stock}
    metric:
      entity: stock
      expr: sum(quantity)
      semi_additive: {time: day, period_value: first}
  average_stock:
    label: {en: Average stock}
    metric:
      entity: stock
      expr: sum(quantity)
      semi_additive: {time: day, period_value: average}
  stocked_products:
    label: {en: Products in stock}
    metric: {entity: stock, expr: count(DISTINCT product), semi_additive: {time: day}}
  quantity_total: {label: {en: Quantity summed}, metric: {entity: stock, expr: sum(quantity)}}
  stock_previous_month:
    label: {en: Stock a month earlier}
    metric: {expr: stock_level, shift: {time: day, periods: 1, grain: month}}
  stock_running:
    label: {en: Running stock}
    metric: {expr: stock_level, window: {time: day}}
"""

D = dt.date
#: January: two products on the 1st (10 + 5), on the 31st A twice (7 + 1) and B NULL;
#: February has no row; March one day
TABLES: dict[str, Table] = {
    "stock": (
        (("id", "integer"), ("day", "date"), ("product", "varchar"), ("quantity", "integer")),
        (
            (1, D(2024, 1, 1), "A", 10),
            (2, D(2024, 1, 1), "B", 5),
            (3, D(2024, 1, 31), "A", 7),
            (4, D(2024, 1, 31), "A", 1),
            (5, D(2024, 1, 31), "B", None),
            (6, D(2024, 1, 15), "C", 4),
            (7, D(2024, 3, 15), "A", 3),
        ),
    ),
}


@pytest.fixture(scope="module")
def stock(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return tiny_project(tmp_path_factory.mktemp("semi"), MODEL, GLOSSARY, TABLES)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, stock: Project, tmp_path: Path) -> Iterator[Engine]:
    yield from engine_fixture(request, stock, TABLES, tmp_path)


def picked(month: str, pick: str, *, by_product: bool = False, per_month: bool = True) -> str:
    """The hand-written answer: per month (and product), the rows of the group's last
    (first) day summed, found by a correlated subquery over the same rows."""
    keys = [f"{month.format(day='s.day')}"] if per_month else []
    inner = [f"{month.format(day='t.day')} = {month.format(day='s.day')}"] if per_month else []
    if by_product:
        keys.append("s.product")
        inner.append("t.product = s.product")
    where = " AND ".join(inner) or "1 = 1"
    group = f" GROUP BY {', '.join(keys)}" if keys else ""
    shown = ", ".join(keys) + ", " if keys else ""
    return (
        f"SELECT {shown}SUM(s.quantity) FROM stock AS s WHERE s.day = "
        f"(SELECT {pick}(t.day) FROM stock AS t WHERE {where}){group}"
    )


def averaged(month: str) -> str:
    """Per month, the average over its days of the day's quantity summed."""
    per_day = f"SELECT {month.format(day='day')} AS m, day, SUM(quantity) AS v FROM stock"
    return f"SELECT m, AVG(v) FROM ({per_day} GROUP BY 1, 2) AS d GROUP BY m"


def test_by_month(engine: Engine, stock: Project) -> None:
    month = engine.month("{day}")
    # January's last day: A 7 + 1, B NULL: 8; first day 15; average of 15, 4, 8
    check_rows(
        engine,
        stock,
        "SELECT day.month, stock_level",
        picked(month, "MAX"),
        [(D(2024, 1, 1), 8), (D(2024, 3, 1), 3)],
    )
    check_rows(
        engine,
        stock,
        "SELECT day.month, opening_stock",
        picked(month, "MIN"),
        [(D(2024, 1, 1), 15), (D(2024, 3, 1), 3)],
    )
    check_rows(
        engine,
        stock,
        "SELECT day.month, average_stock",
        averaged(month),
        [(D(2024, 1, 1), 9), (D(2024, 3, 1), 3)],
    )


def test_by_product_and_in_total(engine: Engine, stock: Project) -> None:
    month = engine.month("{day}")
    # B's last day holds a NULL quantity: its stock is unknown, not 0 nor January 1st's
    check_rows(
        engine,
        stock,
        "SELECT day.month, product, stock_level",
        picked(month, "MAX", by_product=True),
        [
            (D(2024, 1, 1), "A", 8),
            (D(2024, 1, 1), "B", None),
            (D(2024, 1, 1), "C", 4),
            (D(2024, 3, 1), "A", 3),
        ],
    )
    # without the time dimension: the last day of all
    check_rows(engine, stock, "SELECT stock_level", picked(month, "MAX", per_month=False), [(3,)])
    check_rows(
        engine,
        stock,
        "SELECT product, opening_stock",
        picked(month, "MIN", by_product=True, per_month=False),
        [("A", 10), ("B", 5), ("C", 4)],
    )


def test_beside_additive_metrics_filters_and_a_shift(engine: Engine, stock: Project) -> None:
    got = engine.query(
        stock,
        "SELECT day.month AS m, stock_level, quantity_total, stocked_products, "
        "stock_previous_month WHERE product <> 'C' ORDER BY m",
    )
    assert normal_rows(got) == normal_rows(
        [(D(2024, 1, 1), 8, 23, 2, None), (D(2024, 3, 1), 3, 3, 1, None)]
    )
    got = engine.query(
        stock,
        "SELECT day.month AS m, MEASURE(stock_level) FILTER (WHERE product = 'A') AS a, "
        "stock_level ORDER BY m",
    )
    assert normal_rows(got) == normal_rows([(D(2024, 1, 1), 8, 8), (D(2024, 3, 1), 3, 3)])


def test_a_window_is_refused(stock: Project) -> None:
    with pytest.raises(SemanticError) as caught:
        stock.compile("SELECT day.month, stock_running")
    assert caught.value.code == "SEM360"


def test_a_declaration_over_no_time_dimension_is_refused(tmp_path: Path) -> None:
    bad = GLOSSARY.replace("semantic_additive", "").replace(
        "semi_additive: {time: day}}\n  opening", "semi_additive: {time: product}}\n  opening"
    )
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": bad})
    with pytest.raises(SemanticError) as caught:
        Project.load(tmp_path)
    assert "SEM273" in str(caught.value)


def test_a_role_reads_only_its_rows(tmp_path: Path) -> None:
    """A role's row filter applies inside the rows of each instant: product A's role sees
    A's first day's stock (10), not the first day's of every product (15)."""
    write_project(
        tmp_path,
        {
            "models/m.yml": MODEL,
            "glossary/g.yml": GLOSSARY,
            "policies.yml": "roles: {a_only: {clearance: internal, filters: [\"product = 'A'\"]}}",
        },
    )
    rows = ", ".join(
        f"({i}, DATE '{d.isoformat()}', '{p}', {'NULL' if q is None else q})"
        for i, d, p, q in TABLES["stock"][1]
    )
    select = f"SELECT * FROM (VALUES {rows}) t(id, day, product, quantity)"
    data = tmp_path / "data"
    data.mkdir()
    duckdb.connect().execute(f"COPY ({select}) TO '{data / 'stock'}.parquet' (FORMAT parquet)")
    project = Project.load(tmp_path)
    sql = project.compile("SELECT stock_level, opening_stock", role="a_only")
    assert "'A'" in sql
    got = project.query("SELECT stock_level, opening_stock", role="a_only")
    assert normal_rows([tuple(r.values()) for r in got.to_pylist()]) == normal_rows([(3, 10)])


# --- generated rows, DuckDB --------------------------------------------------------------

_rows = st.lists(
    st.tuples(
        st.integers(0, 70),  # days after 1 January 2024: gaps, months without a row
        st.sampled_from(["A", "B", "C"]),
        st.one_of(st.none(), st.integers(-5, 20)),
    ),
    min_size=1,
    max_size=12,
)

_QUERIES = {
    "SELECT day.month, product, stock_level": picked(
        "CAST(date_trunc('month', {day}) AS DATE)", "MAX", by_product=True
    ),
    "SELECT day.month, opening_stock": picked("CAST(date_trunc('month', {day}) AS DATE)", "MIN"),
    "SELECT day.month, average_stock": averaged("CAST(date_trunc('month', {day}) AS DATE)"),
    "SELECT stock_level": picked("", "MAX", per_month=False),
    "SELECT day.day, stock_level": picked("{day}", "MAX"),
}


@settings(max_examples=40, deadline=None, derandomize=True)
@given(rows=_rows)
def test_generated_rows_match_hand_written_sql(stock_sql: dict[str, str], rows: list) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE stock (id INTEGER, day DATE, product VARCHAR, quantity INTEGER)")
    con.executemany(
        "INSERT INTO stock VALUES (?, ?, ?, ?)",
        [(i, D(2024, 1, 1) + dt.timedelta(days=d), p, q) for i, (d, p, q) in enumerate(rows)],
    )
    for text, hand in _QUERIES.items():
        got = sorted(con.execute(stock_sql[text]).fetchall(), key=repr)
        expected = sorted(con.execute(hand).fetchall(), key=repr)
        assert normal_rows(got) == normal_rows(expected), f"{text}\n{rows}"


@pytest.fixture(scope="module")
def stock_sql(stock: Project) -> dict[str, str]:
    return {text: stock.compile(text) for text in _QUERIES}


def test_the_documented_example_is_what_the_cli_prints(stock: Project) -> None:
    """docs/query-language.md shows this project's glossary and a query's CSV: both true."""
    import re
    import shlex

    from tests.cli_runner import run_cli

    doc = (Path(__file__).parents[2] / "docs" / "query-language.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Semi-additive metrics") :]
    block = re.search(r"```text\n\$ (semantic query [^\n]+)\n(.*?)```", section, re.S)
    assert block is not None
    terms = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert terms is not None and terms.group(1) in GLOSSARY
    result = run_cli(*shlex.split(block.group(1))[1:], project=stock.root)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.replace("\r\n", "\n").strip() == block.group(2).strip()


def test_a_bi_tool_is_told_the_column_does_not_add_up(stock: Project) -> None:
    from semantic.compiler.additivity import metric_aggregation

    safe, why = metric_aggregation(stock.model, stock.model.terms["stock_level"])
    assert safe == () and "semi-additive over day" in why


def test_a_dimension_on_the_many_side_is_refused(tmp_path: Path) -> None:
    """A supplier of the stock's product is on the many side: the stock would count once
    per supplier (SEM359)."""
    model = (
        MODEL
        + """    relationships:
      - {to: offers, cardinality: one_to_many, keys: {product: product}}
  offers:
    primary_key: [product, supplier]
    columns: {product: {type: varchar}, supplier: {type: varchar}}
"""
    )
    glossary = (
        GLOSSARY
        + "  supplier: {label: {en: Supplier}, dimension: {entity: offers, expr: supplier}}\n"
    )
    project = tiny_project(
        tmp_path,
        model,
        glossary,
        {**TABLES, "offers": ((("product", "varchar"), ("supplier", "varchar")), (("A", "s"),))},
    )
    with pytest.raises(SemanticError) as caught:
        project.compile("SELECT supplier, stock_level")
    assert caught.value.code == "SEM359"


def test_a_subject_area_warns_that_the_column_does_not_add_up(tmp_path: Path) -> None:
    from tests.cli_runner import run_cli

    area = """subject_areas:
  stock_by_month:
    label: {en: Stock by month}
    dimensions: [day.month, product]
    metrics: [stock_level, quantity_total]
"""
    tiny_project(tmp_path, MODEL, GLOSSARY + area, TABLES)
    result = run_cli("check", "--lint", project=tmp_path)
    warned = [line for line in result.stderr.splitlines() if "SEM233" in line]
    assert len(warned) == 1 and "'stock_level'" in warned[0] and "semi-additive" in warned[0]
