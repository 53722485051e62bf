"""TPC-H acceptance: business queries return exactly the rows of the official queries.

Each case runs the official SQL and the business query (in English and in French) on the
same DuckDB data at scale 0.01, compares them row by row, order included, and also
compares with the official answer file shipped in tests/fixtures/tpch.
"""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from semantic.project import Project
from tests.compare import assert_same_rows, read_answer
from tests.conftest import FIXTURES

QUERIES: dict[str, dict[str, str]] = YAML(typ="safe").load(
    FIXTURES / "tpch" / "business-queries.yml"
)
#: the acceptance queries of the core issue, which also have a French version
CASES: dict[str, tuple[str, str]] = {
    name: (texts["en"], texts["fr"]) for name, texts in QUERIES.items() if "fr" in texts
}


#: Free-text columns that tpchgen-cli generates differently from the generator that wrote the
#: answer files (every tpchgen-cli release we tried gives the same text; numbers all agree).
#: They are still compared with the official query on the same data.
TEXT_DIFFERS = {"q02": (5, 7), "q10": (5, 7), "q15": (2,), "q20": (1,)}
#: Queries whose rows depend on such free text (q13 counts the orders whose comment does not
#: mention special requests): compared with the official query on the same data only.
TEXT_FILTERED = {"q13"}
#: Text columns whose values are digits, which the answer file cannot tell from numbers
#: (q22's country codes, the first two characters of the phone numbers).
DIGIT_TEXT = {"q22": (0,)}


def answer_rows(name: str) -> list[tuple[object, ...]]:
    """The official answer file of query `name`, its digit text columns kept as text."""
    return read_answer(FIXTURES / "tpch" / f"{name}.sf0.01.csv", DIGIT_TEXT.get(name, ()))


def without(rows: list[tuple[object, ...]], columns: tuple[int, ...]) -> list[tuple[object, ...]]:
    return [tuple(v for i, v in enumerate(row) if i not in columns) for row in rows]


def official_rows(project: Project, name: str) -> list[tuple[object, ...]]:
    sql = (FIXTURES / "tpch" / f"{name}.sql").read_text()
    return project.engine.connection.execute(sql).fetchall()


def business_rows(project: Project, query: str) -> list[tuple[object, ...]]:
    table = project.query(query)
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return list(zip(*columns, strict=True))


@pytest.mark.parametrize(
    ("name", "language"),
    [(name, language) for name, texts in sorted(QUERIES.items()) for language in texts],
)
def test_business_query_matches_official_query(project: Project, name: str, language: str) -> None:
    query = QUERIES[name][language]
    got = business_rows(project, query)
    assert got, "the business query returned no rows"
    assert_same_rows(got, official_rows(project, name))
    if name in TEXT_FILTERED:
        return
    skip = TEXT_DIFFERS.get(name, ())
    answer = answer_rows(name)
    assert_same_rows(without(got, skip), without(answer, skip))


@pytest.mark.parametrize("name", sorted(CASES))
def test_french_and_english_plan_the_same_aggregates(project: Project, name: str) -> None:
    english, french = (project.plan(q).aggregates for q in CASES[name])
    for a, b in zip(english, french, strict=True):
        assert (a.joins, a.measures, a.filters) == (b.joins, b.measures, b.filters)
        assert [e for _, e in a.keys] == [e for _, e in b.keys]
