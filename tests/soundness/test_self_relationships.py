"""Relationships from an entity to itself: an author's mentor, an employee's manager
(issue #12, class 5).

The entity is joined a second time under an alias of its own, as a role-playing entity is:
a dimension pinned to the relationship reads the other row (the mentor), an unpinned one
the row itself. Both directions are queried: up to the mentor (many-to-one) and down to the
mentees (one-to-many, each row counted once per group), with the relationship declared on
either side. Each query runs on DuckDB, SQLite and PostgreSQL and is compared with SQL
written by hand, whose rows are also pinned below.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from semantic.errors import SemanticError
from semantic.project import Project
from tests.compare import assert_same_rows
from tests.projects import write_project
from tests.tiny_engines import ENGINES, Engine, Table, engine_fixture, normal_rows, tiny_project

MODEL = """
entities:
  authors:
    primary_key: [author_id]
    columns:
      author_id: {type: integer}
      name: {type: varchar}
      country: {type: varchar}
      mentor_id: {type: integer}
    relationships:
      - {to: authors, name: mentor, cardinality: many_to_one, keys: {mentor_id: author_id}}
  books:
    primary_key: [isbn]
    columns:
      isbn: {type: varchar}
      author_id: {type: integer}
      genre: {type: varchar}
    relationships:
      - {to: authors, cardinality: many_to_one, keys: {author_id: author_id}}
  order_lines:
    primary_key: [order_id, line_no]
    columns:
      order_id: {type: integer}
      line_no: {type: integer}
      isbn: {type: varchar}
      quantity: {type: integer}
      unit_price: {type: "decimal(8,2)"}
    relationships:
      - {to: books, cardinality: many_to_one, keys: {isbn: isbn}}
  employees:
    primary_key: [emp_id]
    columns: {emp_id: {type: integer}, name: {type: varchar}, manager_id: {type: integer}}
    relationships:
      # declared from the manager's side: the reverse, employees.employees_reports, leads
      # from an employee to their manager
      - {to: employees, name: reports, cardinality: one_to_many, keys: {emp_id: manager_id}}
  sales:
    primary_key: [sale_id]
    columns: {sale_id: {type: integer}, emp_id: {type: integer}, amount: {type: integer}}
    relationships:
      - {to: employees, cardinality: many_to_one, keys: {emp_id: emp_id}}
"""

GLOSSARY = """
domain: people
terms:
  author_name: {label: {en: Author}, dimension: {entity: authors, expr: name}}
  author_country: {label: {en: Author country}, dimension: {entity: authors, expr: country}}
  mentor_name:
    label: {en: Mentor}
    dimension: {entity: authors, expr: name, path: [authors.mentor]}
  mentor_country:
    label: {en: Mentor country}
    dimension: {entity: authors, expr: country, path: [authors.mentor]}
  grand_mentor_name:
    label: {en: Mentor's mentor}
    dimension: {entity: authors, expr: name, path: [authors.mentor, authors.mentor]}
  mentee_name:
    label: {en: Mentee}
    dimension: {entity: authors, expr: name, path: [authors.authors_mentor]}
  genre: {label: {en: Genre}, dimension: {entity: books, expr: genre}}
  author_count: {label: {en: Authors}, metric: {entity: authors, expr: count(*)}}
  book_count: {label: {en: Books}, metric: {entity: books, expr: count(*)}}
  revenue:
    label: {en: Revenue}
    metric: {entity: order_lines, expr: sum(quantity * unit_price), fill_null: 0}
  employee_name: {label: {en: Employee}, dimension: {entity: employees, expr: name}}
  manager_name:
    label: {en: Manager}
    dimension: {entity: employees, expr: name, path: [employees.employees_reports]}
  report_name:
    label: {en: Report}
    dimension: {entity: employees, expr: name, path: [employees.reports]}
  employee_count: {label: {en: Employees}, metric: {entity: employees, expr: count(*)}}
  sales_total: {label: {en: Sales}, metric: {entity: sales, expr: sum(amount)}}
"""

# authors: Gabriel (no mentor); Annie and Hergé, mentored by Gabriel; Astrid, mentored by
#          Annie; Nobody, whose mentor 9 does not exist
# books:   b1 Gabriel novel; b2 Annie essay; b3 Annie novel; b4 Hergé comics;
#          b5 Astrid children; b6 Nobody novel
# lines:   b1 1 x 18; b4 2 x 12; b2 1 x 9.50; b5 3 x 8; b3 1 x 10; b6 1 x 7
# employees: Ada (no manager); Bob and Cy report to Ada; Dee reports to Bob
# sales:   Bob 100 and 50, Dee 70, Ada 30, Cy 20
TABLES: dict[str, Table] = {
    "authors": (
        (
            ("author_id", "integer"),
            ("name", "varchar"),
            ("country", "varchar"),
            ("mentor_id", "integer"),
        ),
        (
            (1, "Gabriel", "Colombia", None),
            (2, "Annie", "France", 1),
            (3, "Hergé", "Belgium", 1),
            (4, "Astrid", "Sweden", 2),
            (5, "Nobody", "Chile", 9),
        ),
    ),
    "books": (
        (("isbn", "varchar"), ("author_id", "integer"), ("genre", "varchar")),
        (
            ("b1", 1, "novel"),
            ("b2", 2, "essay"),
            ("b3", 2, "novel"),
            ("b4", 3, "comics"),
            ("b5", 4, "children"),
            ("b6", 5, "novel"),
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
            (1, 1, "b1", 1, Decimal("18.00")),
            (1, 2, "b4", 2, Decimal("12.00")),
            (2, 1, "b2", 1, Decimal("9.50")),
            (3, 1, "b5", 3, Decimal("8.00")),
            (3, 2, "b3", 1, Decimal("10.00")),
            (4, 1, "b6", 1, Decimal("7.00")),
        ),
    ),
    "employees": (
        (("emp_id", "integer"), ("name", "varchar"), ("manager_id", "integer")),
        ((1, "Ada", None), (2, "Bob", 1), (3, "Cy", 1), (4, "Dee", 2)),
    ),
    "sales": (
        (("sale_id", "integer"), ("emp_id", "integer"), ("amount", "integer")),
        ((1, 2, 100), (2, 2, 50), (3, 4, 70), (4, 1, 30), (5, 3, 20)),
    ),
}


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return tiny_project(tmp_path_factory.mktemp("self"), MODEL, GLOSSARY, TABLES)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, people: Project, tmp_path: Path) -> Iterator[Engine]:
    yield from engine_fixture(request, people, TABLES, tmp_path)


CASES = [
    pytest.param(
        "SELECT mentor_name, author_count",
        """SELECT m.name, COUNT(*) FROM authors a
        LEFT JOIN authors m ON a.mentor_id = m.author_id GROUP BY m.name""",
        # Gabriel mentors Annie and Hergé, Annie mentors Astrid; Gabriel and Nobody (whose
        # mentor does not exist) have none
        [("Gabriel", 2), ("Annie", 1), (None, 2)],
        id="authors-by-mentor",
    ),
    pytest.param(
        "SELECT author_name, mentor_name, mentor_country, author_count",
        """SELECT a.name, m.name, m.country, COUNT(*) FROM authors a
        LEFT JOIN authors m ON a.mentor_id = m.author_id GROUP BY a.name, m.name, m.country""",
        [
            ("Gabriel", None, None, 1),
            ("Annie", "Gabriel", "Colombia", 1),
            ("Hergé", "Gabriel", "Colombia", 1),
            ("Astrid", "Annie", "France", 1),
            ("Nobody", None, None, 1),
        ],
        id="the-row-and-its-mentor",
    ),
    pytest.param(
        "SELECT grand_mentor_name, author_count",
        """SELECT g.name, COUNT(*) FROM authors a
        LEFT JOIN authors m ON a.mentor_id = m.author_id
        LEFT JOIN authors g ON m.mentor_id = g.author_id GROUP BY g.name""",
        # Astrid's mentor Annie is mentored by Gabriel
        [("Gabriel", 1), (None, 4)],
        id="mentor-of-the-mentor",
    ),
    pytest.param(
        "SELECT author_name, mentor_name, book_count WHERE genre = 'novel'",
        """SELECT a.name, m.name, COUNT(*) FROM books b
        LEFT JOIN authors a ON b.author_id = a.author_id
        LEFT JOIN authors m ON a.mentor_id = m.author_id
        WHERE b.genre = 'novel' GROUP BY a.name, m.name""",
        # the novels b1 (Gabriel), b3 (Annie) and b6 (Nobody): the author is the book's,
        # the mentor the author's
        [("Gabriel", None, 1), ("Annie", "Gabriel", 1), ("Nobody", None, 1)],
        id="books-by-author-and-mentor",
    ),
    pytest.param(
        "SELECT mentor_name, book_count, revenue",
        """WITH b AS (
          SELECT m.name AS mentor, COUNT(*) AS n FROM books b
          LEFT JOIN authors a ON b.author_id = a.author_id
          LEFT JOIN authors m ON a.mentor_id = m.author_id GROUP BY m.name
        ), r AS (
          SELECT m.name AS mentor, SUM(l.quantity * l.unit_price) AS v FROM order_lines l
          LEFT JOIN books b ON l.isbn = b.isbn
          LEFT JOIN authors a ON b.author_id = a.author_id
          LEFT JOIN authors m ON a.mentor_id = m.author_id GROUP BY m.name
        )
        SELECT b.mentor, b.n, r.v FROM b
        JOIN r ON b.mentor = r.mentor OR (b.mentor IS NULL AND r.mentor IS NULL)""",
        # books of Annie, Hergé -> Gabriel: b2, b3, b4 (9.50 + 10 + 24); Astrid's b5 ->
        # Annie (24); b1 and b6 have no mentor (18 + 7)
        [("Gabriel", 3, 43.5), ("Annie", 1, 24), (None, 2, 25)],
        id="two-entities-by-mentor",
    ),
    pytest.param(
        "SELECT author_name, revenue WHERE mentor_name = 'Gabriel'",
        """SELECT a.name, SUM(l.quantity * l.unit_price) FROM order_lines l
        LEFT JOIN books b ON l.isbn = b.isbn
        LEFT JOIN authors a ON b.author_id = a.author_id
        LEFT JOIN authors m ON a.mentor_id = m.author_id
        WHERE m.name = 'Gabriel' GROUP BY a.name""",
        [("Annie", 19.5), ("Hergé", 24)],
        id="metric-of-the-mentored",
    ),
    pytest.param(
        "SELECT mentee_name, author_count",
        """SELECT e.name, COUNT(DISTINCT a.author_id) FROM authors a
        LEFT JOIN authors e ON e.mentor_id = a.author_id GROUP BY e.name""",
        # down to the mentees: Gabriel is counted once under Annie and once under Hergé;
        # Hergé, Astrid and Nobody mentor nobody
        [("Annie", 1), ("Hergé", 1), ("Astrid", 1), (None, 3)],
        id="authors-by-mentee",
    ),
    pytest.param(
        "SELECT author_name, author_count WHERE mentee_name = 'Astrid'",
        """SELECT a.name, COUNT(*) FROM authors a WHERE EXISTS (
          SELECT 1 FROM authors e WHERE e.mentor_id = a.author_id AND e.name = 'Astrid'
        ) GROUP BY a.name""",
        [("Annie", 1)],
        id="mentors-of-someone",
    ),
    pytest.param(
        "SELECT mentee_name, author_count WHERE author_country = 'Colombia'",
        """SELECT e.name, COUNT(DISTINCT a.author_id) FROM authors a
        LEFT JOIN authors e ON e.mentor_id = a.author_id
        WHERE a.country = 'Colombia' GROUP BY e.name""",
        [("Annie", 1), ("Hergé", 1)],
        id="mentees-of-the-filtered-rows",
    ),
    pytest.param(
        "SELECT manager_name, employee_count",
        """SELECT m.name, COUNT(*) FROM employees e
        LEFT JOIN employees m ON e.manager_id = m.emp_id GROUP BY m.name""",
        [("Ada", 2), ("Bob", 1), (None, 1)],
        id="declared-one-to-many-upwards",
    ),
    pytest.param(
        "SELECT report_name, employee_count",
        """SELECT r.name, COUNT(DISTINCT e.emp_id) FROM employees e
        LEFT JOIN employees r ON r.manager_id = e.emp_id GROUP BY r.name""",
        # Ada manages Bob and Cy, Bob manages Dee; Cy and Dee manage nobody
        [("Bob", 1), ("Cy", 1), ("Dee", 1), (None, 2)],
        id="declared-one-to-many-downwards",
    ),
    pytest.param(
        "SELECT manager_name, sales_total, employee_count",
        """WITH s AS (
          SELECT m.name AS manager, SUM(s.amount) AS v FROM sales s
          LEFT JOIN employees e ON s.emp_id = e.emp_id
          LEFT JOIN employees m ON e.manager_id = m.emp_id GROUP BY m.name
        ), e AS (
          SELECT m.name AS manager, COUNT(*) AS n FROM employees e
          LEFT JOIN employees m ON e.manager_id = m.emp_id GROUP BY m.name
        )
        SELECT e.manager, s.v, e.n FROM e
        JOIN s ON e.manager = s.manager OR (e.manager IS NULL AND s.manager IS NULL)""",
        # Bob's 150 and Cy's 20 -> Ada; Dee's 70 -> Bob; Ada's 30 has no manager
        [("Ada", 170, 2), ("Bob", 70, 1), (None, 30, 1)],
        id="sales-by-manager",
    ),
]


@pytest.mark.parametrize(("query", "by_hand", "expected"), CASES)
def test_queries_through_a_self_relationship(
    engine: Engine, people: Project, query: str, by_hand: str, expected: list[tuple]
) -> None:
    got = engine.query(people, query)
    hand = engine.run(by_hand)
    assert_same_rows(normal_rows(hand), normal_rows(expected), ordered=False)
    assert_same_rows(normal_rows(got), normal_rows(hand), ordered=False)


def test_the_mentor_is_joined_under_an_alias_of_its_own(people: Project) -> None:
    sql = people.compile("SELECT author_name, mentor_name, author_count", pretty=False)
    assert (
        "LEFT JOIN authors AS mentor_authors ON authors.mentor_id = mentor_authors.author_id" in sql
    )
    explained = people.explain("SELECT mentor_name, book_count")
    assert "mentor_name: books -> authors -> authors (mentor)" in explained


# --- what `semantic check` refuses ----------------------------------------------------------

UNNAMED = "      - {to: authors, cardinality: many_to_one, keys: {mentor_id: author_id}}"
NAMED_AFTER_ITSELF = (
    "      - {to: authors, name: authors, cardinality: many_to_one, keys: {mentor_id: author_id}}"
)
ITSELF = "      - {to: authors, name: me, cardinality: one_to_one, keys: {author_id: author_id}}"
DECLARED = (
    "      - {to: authors, name: mentor, cardinality: many_to_one, keys: {mentor_id: author_id}}"
)


@pytest.mark.parametrize(
    ("relationship", "fragment"),
    [
        (UNNAMED, "needs a `name`"),
        (NAMED_AFTER_ITSELF, "needs a `name`"),
        (ITSELF, "joins every row to itself"),
    ],
)
def test_an_unclear_self_relationship_is_refused(
    tmp_path: Path, relationship: str, fragment: str
) -> None:
    model = MODEL.replace(DECLARED, relationship)
    assert model != MODEL
    glossary = GLOSSARY.split("  mentor_name:")[0]
    write_project(tmp_path, {"models/m.yml": model, "glossary/g.yml": glossary})
    _, diagnostics = Project.inspect(tmp_path)
    (d,) = [d for d in diagnostics if d.severity == "error"]
    assert d.code == "SEM230" and fragment in d.message
    line = model.lstrip("\n").split("\n").index(relationship) + 1
    assert d.span is not None and (d.span.file, d.span.line, d.span.col) == (
        "models/m.yml",
        line,
        9,
    )
    assert d.hint


def test_a_self_relationship_reached_by_two_roles_is_refused(tmp_path: Path) -> None:
    # the referrer of the customer an order is billed to, or shipped to? Never guessed.
    model = """
    entities:
      customers:
        primary_key: [id]
        columns: {id: {type: integer}, city: {type: varchar}, referrer: {type: integer}}
        relationships:
          - {to: customers, name: referred_by, cardinality: many_to_one, keys: {referrer: id}}
      orders:
        primary_key: [id]
        columns: {id: {type: integer}, bill_to: {type: integer}, ship_to: {type: integer}}
        relationships:
          - {to: customers, name: bill_to, cardinality: many_to_one, keys: {bill_to: id}}
          - {to: customers, name: ship_to, cardinality: many_to_one, keys: {ship_to: id}}
    """
    glossary = """
    domain: shop
    terms:
      referrer_city:
        label: {en: Referrer city}
        dimension: {entity: customers, expr: city, path: [customers.referred_by]}
      order_count: {label: {en: Orders}, metric: {entity: orders, expr: count(*)}}
    """
    write_project(tmp_path, {"models/m.yml": model, "glossary/g.yml": glossary})
    project = Project.load(tmp_path)
    with pytest.raises(SemanticError) as caught:
        project.compile("SELECT referrer_city, order_count")
    assert caught.value.code == "SEM307"
    assert "orders.bill_to or orders.ship_to" in (caught.value.diagnostics[0].hint or "")
