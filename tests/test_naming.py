"""Names in generated SQL: the allocator and the check that tests/conftest.py runs on every
query the test suite compiles."""

from __future__ import annotations

import pytest
import sqlglot

from semantic.compiler.dialects import core as dialect_pass
from semantic.compiler.naming import Names, name_clashes, readable


def test_names_are_handed_out_once_ignoring_case() -> None:
    names = Names(["lineitem"])
    assert [names.new(n) for n in ("x", "X", "x", "LineItem", "x_2")] == [
        "x",
        "X_2",
        "x_3",
        "LineItem_2",
        "x_2_2",
    ]
    assert "LINEITEM" in names and "y" not in names


def test_readable_bases_are_short_plain_words() -> None:
    assert readable("Chiffre d'affaires (année)") == "chiffre_d_affaires_ann_e"
    assert len(readable("x" * 200)) == 48
    assert readable("!!!", "key") == "key"


@pytest.mark.parametrize(
    ("sql", "clash"),
    [
        ("SELECT a AS n, b AS N FROM t", "two columns named 'N'"),
        ("SELECT t.n, u.n FROM t JOIN u ON t.k = u.k", "two columns named 'n'"),
        ("SELECT 1 AS x FROM t JOIN u AS T ON 1 = 1", "two tables named 'T'"),
        ("WITH a AS (SELECT 1 AS x), A AS (SELECT 2 AS x) SELECT x FROM a", "two CTEs named 'A'"),
        ("SELECT x FROM (SELECT DISTINCT k AS v, w AS V FROM t) AS r", "two columns named 'V'"),
        ("WITH c AS (SELECT k AS a, v AS a FROM t) SELECT a FROM c", "two columns named 'a'"),
    ],
)
def test_clashes_are_found_in_every_scope(sql: str, clash: str) -> None:
    (found,) = name_clashes(sqlglot.parse_one(sql))
    assert found.startswith(clash)


def test_distinct_names_pass() -> None:
    sql = "WITH k AS (SELECT a FROM t) SELECT k.a AS a, u.a AS b FROM k JOIN t AS u ON k.a = u.a"
    assert name_clashes(sqlglot.parse_one(sql)) == []


def test_every_compiled_query_is_checked() -> None:
    """The hook of tests/conftest.py is in place for the whole session."""
    assert getattr(dialect_pass.adapt, "checks_names", False)
