"""`fill_null` is the value of a group that has no row for a metric, never the value of a
NULL aggregate over rows that exist (issue #12, class 4).

A sum over rows whose values are all NULL is NULL, whatever else the query selects: alone
(one flat SELECT), beside a metric of another entity (CTEs joined on the groups), as a grand
total, in a window or a shift over periods. Each query runs on DuckDB, SQLite and PostgreSQL
and is compared with SQL written by hand, whose rows are also pinned below.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from semantic.errors import SemanticError
from semantic.project import Project
from tests.projects import write_project
from tests.tiny_engines import ENGINES, Engine, Table, engine_fixture, tiny_project
from tests.tiny_engines import check_rows as check

MODEL = """
entities:
  books:
    primary_key: [isbn]
    columns:
      isbn: {type: varchar}
      genre: {type: varchar}
      title: {type: varchar}
      list_price: {type: "decimal(8,2)"}
  orders:
    primary_key: [order_id]
    columns: {order_id: {type: integer}, ordered_on: {type: date}, channel: {type: varchar}}
  order_lines:
    primary_key: [order_id, line_no]
    columns:
      order_id: {type: integer}
      line_no: {type: integer}
      isbn: {type: varchar}
      quantity: {type: integer}
      unit_price: {type: "decimal(8,2)"}
    relationships:
      - {to: orders, cardinality: many_to_one, keys: {order_id: order_id}}
      - {to: books, cardinality: many_to_one, keys: {isbn: isbn}}
"""

GLOSSARY = """
domain: shop
terms:
  genre: {label: {en: Genre}, dimension: {entity: books, expr: genre}}
  channel: {label: {en: Channel}, dimension: {entity: orders, expr: channel}}
  order_date:
    label: {en: Order date}
    time_dimension: {entity: orders, expr: ordered_on, grains: [day, month, year]}
  list_value:
    label: {en: List value}
    metric: {entity: books, expr: sum(list_price), fill_null: 0}
  book_count: {label: {en: Books}, metric: {entity: books, expr: count(*)}}
  paid:
    label: {en: Paid}
    metric: {entity: order_lines, expr: sum(quantity * unit_price), fill_null: 0}
  order_count: {label: {en: Orders}, metric: {entity: orders, expr: count(*)}}
  paid_previous_month:
    label: {en: Paid the month before}
    metric: {expr: paid, shift: {time: order_date, periods: 1, grain: month}}
  paid_last_2_months:
    label: {en: Paid over two months}
    metric: {expr: paid, window: {time: order_date, last: 2, grain: month}}
"""

# books: novel 18.00 and 7.20; poetry without a price; essay 9.50
# orders: 1 Jan (shop), 2 Feb (web), 3 Mar (shop), 4 Apr (web, no line), 5 May (shop)
# lines:  1/1 poetry 2 x NULL; 2/1 novel 1 x 18.00; 2/2 novel 2 x 6.00; 3/1 essay 1 x NULL;
#         5/1 an unknown book 1 x 5.00 (its genre is NULL)
# so `paid` is NULL in January and March (rows, but no price), 30 in February, 5 in May, and
# April has no line at all; by genre: novel 30, poetry NULL, essay NULL, no genre 5.
TABLES: dict[str, Table] = {
    "books": (
        (
            ("isbn", "varchar"),
            ("genre", "varchar"),
            ("title", "varchar"),
            ("list_price", "decimal(8,2)"),
        ),
        (
            ("b1", "novel", "Long", Decimal("18.00")),
            ("b2", "novel", "Short", Decimal("7.20")),
            ("b3", "poetry", "Verses", None),
            ("b4", "essay", "Thoughts", Decimal("9.50")),
        ),
    ),
    "orders": (
        (("order_id", "integer"), ("ordered_on", "date"), ("channel", "varchar")),
        (
            (1, dt.date(2026, 1, 10), "shop"),
            (2, dt.date(2026, 2, 5), "web"),
            (3, dt.date(2026, 3, 3), "shop"),
            (4, dt.date(2026, 4, 20), "web"),
            (5, dt.date(2026, 5, 2), "shop"),
        ),
    ),
    "order_lines": (
        (
            ("order_id", "integer"),
            ("line_no", "integer"),
            ("isbn", "varchar"),
            ("quantity", "integer"),
            ("unit_price", "decimal(8,2)"),
        ),
        (
            (1, 1, "b3", 2, None),
            (2, 1, "b1", 1, Decimal("18.00")),
            (2, 2, "b2", 2, Decimal("6.00")),
            (3, 1, "b4", 1, None),
            (5, 1, "zz", 1, Decimal("5.00")),
        ),
    ),
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return tiny_project(tmp_path_factory.mktemp("fill"), MODEL, GLOSSARY, TABLES)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, shop: Project, tmp_path: Path) -> Iterator[Engine]:
    yield from engine_fixture(request, shop, TABLES, tmp_path)


# metrics by genre, hand-written: books' and lines' aggregates, joined on the genre (NULL
# included); a genre missing from one side takes the fill, a NULL sum stays NULL
BY_GENRE = """
WITH b AS (SELECT genre, SUM(list_price) AS v, 1 AS present FROM books GROUP BY genre),
l AS (
  SELECT k.genre, SUM(ol.quantity * ol.unit_price) AS v, 1 AS present
  FROM order_lines ol LEFT JOIN books k ON ol.isbn = k.isbn GROUP BY k.genre
),
g AS (SELECT genre FROM b UNION SELECT genre FROM l)
SELECT g.genre,
  CASE WHEN b.present IS NULL THEN 0 ELSE b.v END,
  CASE WHEN l.present IS NULL THEN 0 ELSE l.v END
FROM g
LEFT JOIN b ON b.genre = g.genre OR (b.genre IS NULL AND g.genre IS NULL)
LEFT JOIN l ON l.genre = g.genre OR (l.genre IS NULL AND g.genre IS NULL)
"""


def test_a_null_sum_stays_null_alone(engine: Engine, shop: Project) -> None:
    # poetry's only book has no price: NULL, not the fill
    check(
        engine,
        shop,
        "SELECT genre, list_value",
        "SELECT genre, SUM(list_price) FROM books GROUP BY genre",
        [("novel", 25.2), ("poetry", None), ("essay", 9.5)],
    )


def test_a_null_sum_stays_null_beside_another_entity(engine: Engine, shop: Project) -> None:
    # the union of genres: essay, novel, poetry (books and lines) and NULL (the line of an
    # unknown book). No book has a NULL genre: its list value is the fill, 0; poetry's and
    # essay's lines have no price: NULL, as poetry's list value.
    check(
        engine,
        shop,
        "SELECT genre, list_value, paid",
        BY_GENRE,
        [("novel", 25.2, 30), ("poetry", None, None), ("essay", 9.5, None), (None, 0, 5)],
    )


def test_a_null_sum_stays_null_beside_a_count(engine: Engine, shop: Project) -> None:
    # the example: adding a count of orders must not change the list value of poetry
    # orders by genre (one-to-many): order 2 is a novel's, 1 poetry's, 3 an essay's; orders 4
    # (no line) and 5 (an unknown book) are under NULL
    check(
        engine,
        shop,
        "SELECT genre, list_value, order_count",
        """
        WITH b AS (SELECT genre, SUM(list_price) AS v, 1 AS present FROM books GROUP BY genre),
        o AS (
          SELECT genre, COUNT(*) AS n FROM (
            SELECT DISTINCT o.order_id, k.genre FROM orders o
            LEFT JOIN order_lines ol ON ol.order_id = o.order_id
            LEFT JOIN books k ON ol.isbn = k.isbn
          ) r GROUP BY genre
        )
        SELECT o.genre, CASE WHEN b.present IS NULL THEN 0 ELSE b.v END, o.n
        FROM o LEFT JOIN b ON b.genre = o.genre OR (b.genre IS NULL AND o.genre IS NULL)
        """,
        [("novel", 25.2, 1), ("poetry", None, 1), ("essay", 9.5, 1), (None, 0, 2)],
    )


@pytest.mark.parametrize(
    ("query", "by_hand", "expected"),
    [
        pytest.param(
            "SELECT list_value WHERE genre = 'poetry'",
            "SELECT SUM(list_price) FROM books WHERE genre = 'poetry'",
            [(None,)],
            id="rows-without-values",
        ),
        pytest.param(
            "SELECT list_value WHERE genre = 'atlas'",
            "SELECT COALESCE(SUM(list_price), 0) FROM books WHERE genre = 'atlas'",
            [(0,)],
            id="no-row",
        ),
        pytest.param(
            "SELECT list_value, paid WHERE genre = 'poetry'",
            """SELECT (SELECT SUM(list_price) FROM books WHERE genre = 'poetry'),
            (SELECT SUM(ol.quantity * ol.unit_price) FROM order_lines ol
             JOIN books k ON ol.isbn = k.isbn WHERE k.genre = 'poetry')""",
            [(None, None)],
            id="two-entities-rows-without-values",
        ),
        pytest.param(
            "SELECT list_value, paid WHERE genre = 'atlas'",
            "SELECT 0, 0",
            [(0, 0)],
            id="two-entities-no-row",
        ),
        pytest.param(
            "SELECT list_value, order_count WHERE genre = 'poetry'",
            """SELECT (SELECT SUM(list_price) FROM books WHERE genre = 'poetry'),
            (SELECT COUNT(DISTINCT ol.order_id) FROM order_lines ol
             JOIN books k ON ol.isbn = k.isbn WHERE k.genre = 'poetry')""",
            [(None, 1)],
            id="beside-a-count",
        ),
    ],
)
def test_grand_totals(
    engine: Engine, shop: Project, query: str, by_hand: str, expected: list[tuple]
) -> None:
    check(engine, shop, query, by_hand, expected)


def test_conditions_on_a_filled_metric_see_the_same_values(engine: Engine, shop: Project) -> None:
    # only the genre without books has a list value of 0; poetry's is NULL
    check(
        engine,
        shop,
        "SELECT genre, list_value, paid HAVING list_value = 0",
        f"SELECT * FROM ({BY_GENRE}) r WHERE r.genre IS NULL",
        [(None, 0, 5)],
    )


def _over_months(engine: Engine, with_orders: bool) -> str:
    """By hand: `paid` by month, the month before (the fill when that month has no row) and
    the sum over the month and the one before (NULL when both are NULL)."""
    month = engine.month("o.ordered_on")
    months = (
        f"SELECT DISTINCT {month} AS m FROM orders o"
        if with_orders
        else f"SELECT DISTINCT {month} AS m FROM order_lines ol JOIN orders o"
        " ON ol.order_id = o.order_id"
    )
    return f"""
    WITH lines AS (
      SELECT {month} AS m, SUM(ol.quantity * ol.unit_price) AS paid
      FROM order_lines ol JOIN orders o ON ol.order_id = o.order_id GROUP BY 1
    ),
    months AS ({months}),
    per AS (
      SELECT months.m, CASE WHEN lines.m IS NULL THEN 0 ELSE lines.paid END AS paid
      FROM months LEFT JOIN lines ON lines.m = months.m
    )
    SELECT p.m, p.paid,
      CASE WHEN prev.m IS NULL THEN 0 ELSE prev.paid END,
      (SELECT SUM(w.paid) FROM per w WHERE w.m <= p.m AND {engine.next_month("w.m")} >= p.m)
      {", (SELECT COUNT(*) FROM orders o WHERE " + month + " = p.m)" if with_orders else ""}
    FROM per p LEFT JOIN per prev ON {engine.next_month("prev.m")} = p.m
    """


JAN, FEB, MAR, APR, MAY = (dt.date(2026, m, 1) for m in range(1, 6))


def test_windows_and_shifts_keep_null_sums(engine: Engine, shop: Project) -> None:
    # January and March have lines without prices: NULL. December and April have no line:
    # the month after them shifts onto the fill, 0. January's window holds January only: NULL.
    check(
        engine,
        shop,
        "SELECT order_date.month, paid, paid_previous_month, paid_last_2_months",
        _over_months(engine, with_orders=False),
        [
            (JAN, None, 0, None),
            (FEB, 30, None, 30),
            (MAR, None, 30, 30),
            (MAY, 5, 0, 5),
        ],
    )


def test_windows_and_shifts_beside_another_entity(engine: Engine, shop: Project) -> None:
    # with the count of orders, April is a group (order 4) without lines: its `paid` is the
    # fill, 0, and so is May's month before; March's NULL stays NULL in April's shift
    check(
        engine,
        shop,
        "SELECT order_date.month, paid, paid_previous_month, paid_last_2_months, order_count",
        _over_months(engine, with_orders=True),
        [
            (JAN, None, 0, None, 1),
            (FEB, 30, None, 30, 1),
            (MAR, None, 30, 30, 1),
            (APR, 0, None, 0, 1),
            (MAY, 5, 0, 5, 1),
        ],
    )


# --- a fill that does not fit the metric is refused by `semantic check` --------------------


def _with_metric(tmp_path: Path, entity: str, expr: str, fill: str) -> tuple[str, int, int]:
    """The project with one more metric, and the line and column of its fill_null value."""
    before = (
        f"  extra: {{label: {{en: Extra}}, metric: {{entity: {entity}, expr: {expr}, fill_null: "
    )
    glossary = GLOSSARY.lstrip("\n") + before + fill + "}}\n"
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": glossary})
    return "glossary/g.yml", glossary.count("\n"), len(before) + 1


@pytest.mark.parametrize(
    ("entity", "expr", "kind"),
    [
        ("orders", "max(ordered_on)", "a date"),
        ("books", "min(title)", "text"),
        ("books", "\"string_agg(title, ', ')\"", "text"),
        ("orders", "bool_or(channel = 'web')", "a boolean"),
        ("orders", "min(CAST(order_id AS VARCHAR))", "text"),
    ],
)
def test_a_numeric_fill_on_a_metric_of_another_type_is_refused(
    tmp_path: Path, entity: str, expr: str, kind: str
) -> None:
    place = _with_metric(tmp_path, entity, expr, "0")
    _, diagnostics = Project.inspect(tmp_path)
    (d,) = [d for d in diagnostics if d.severity == "error"]
    assert d.code == "SEM229"
    assert f"is {kind}" in d.message
    assert d.span is not None and (d.span.file, d.span.line, d.span.col) == place
    assert d.hint


@pytest.mark.parametrize(
    ("entity", "expr"),
    [
        # a difference of dates is a number of days in DuckDB: only a sure type is refused
        ("orders", "max(ordered_on) - min(ordered_on)"),
        ("books", "max(list_price)"),
        ("books", "count(DISTINCT title)"),
        ("books", "max(length(title))"),
        ("orders", "max(ordered_on) - DATE '2026-01-01'"),
    ],
)
def test_a_numeric_fill_on_a_number_is_accepted(tmp_path: Path, entity: str, expr: str) -> None:
    _with_metric(tmp_path, entity, expr, "0")
    _, diagnostics = Project.inspect(tmp_path)
    assert [d for d in diagnostics if d.severity == "error"] == []


def test_a_text_fill_is_refused(tmp_path: Path) -> None:
    _with_metric(tmp_path, "books", "max(list_price)", "none")
    with pytest.raises(SemanticError) as caught:
        Project.load(tmp_path)
    assert caught.value.code == "SEM102"


def test_a_fill_on_a_metric_without_entity_is_reported(tmp_path: Path) -> None:
    # it would never be used: the groups without rows are those of the metrics it combines
    term = (
        "  per_order: {label: {en: Per order}, metric: {expr: paid / order_count, fill_null: 0}}\n"
    )
    write_project(tmp_path, {"models/m.yml": MODEL, "glossary/g.yml": GLOSSARY.lstrip() + term})
    _, diagnostics = Project.inspect(tmp_path)
    (d,) = diagnostics
    assert (d.code, d.severity) == ("SEM229", "warning") and "has no effect" in d.message
