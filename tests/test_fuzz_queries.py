"""No input crashes or hangs the tool: every query is a result or a coded error with a place.

Queries are generated from the glossary (term ids, labels in both languages, grains, the
allowed functions and some that are not, operators, literals, parameters), then mutated
(tokens deleted, inserted or swapped, random characters, carriage returns, byte order marks,
newlines inside quoted names, deep nesting, long chains of AND), and also sent as JSON.

The number of examples comes from SEMANTIC_FUZZ_EXAMPLES (a small default for `make test`;
CI sets a larger one). Runs are derandomized, so a failure reproduces.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from semantic.compiler.allow import FUNCTIONS
from semantic.engines.base import Limits
from semantic.errors import CODES, SemanticError
from semantic.project import Project

EXAMPLES = int(os.environ.get("SEMANTIC_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
#: small limits: the fuzzer is after crashes, not results
LIMITS = Limits(timeout=10, max_rows=1000, max_megabytes=50)
PARAMS = {"p": "ASIA", "n": 3, "d": "1995-01-01"}
#: codes of execution that have no place in the query (the engine's own refusal)
UNPLACED = {"SEM404", "SEM434", "SEM435", "SEM316", "SEM317"}


def _vocabulary(project: Project) -> list[str]:
    words: list[str] = []
    for term in project.model.terms.values():
        words.append(term.id)
        words += [f'"{label}"' for label in term.labels.values()]
        words += [f"{term.id}.{grain}" for grain in term.grains]
    return words


OPERATORS = ["=", "<>", "<", "<=", ">", ">=", "+", "-", "*", "/", "||", "%", "->", "::", "."]
KEYWORDS = [
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "LIKE",
    "BETWEEN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "CAST",
    "AS",
    "MEASURE",
    "FILTER",
    "WHERE",
    "SELECT",
    "ORDER",
    "BY",
    "GROUP",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "DESC",
    "DATE",
    "INTERVAL",
    "TRUE",
    "*",
    "#2",
]
LITERALS = [
    "1",
    "0",
    "1.5",
    "'ASIA'",
    "'1995-01-01'",
    "DATE '1995-01-01'",
    "$p",
    "$n",
    "-1",
    "99999999999999999999999",
    "NULL",
    "'a''b'",
    "''",
]
STRANGE = [
    "\r",
    "\r\n",
    "\n",
    "\ufeff",
    '"',
    "'",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    "$",
    "\\",
    "\t",
    "é",
    "\x00",
    "--",
    "/*",
    "*/",
    "𝔘",
]


@pytest.fixture(scope="module")
def vocabulary(project: Project) -> list[str]:
    return _vocabulary(project)


def _functions() -> list[str]:
    return [*FUNCTIONS, "roud", "histogram", "json_group_array", "sleep_ms", "getenv", "upper"]


@st.composite
def expressions(draw: st.DrawFn, words: list[str], depth: int = 0) -> str:
    choice = draw(st.integers(0, 5 if depth < 3 else 1))
    if choice <= 1:
        return draw(st.sampled_from(words))
    if choice == 2:
        return draw(st.sampled_from(LITERALS))
    if choice == 3:
        name = draw(st.sampled_from(_functions()))
        args = draw(st.lists(expressions(words, depth + 1), min_size=1, max_size=3))
        return f"{name}({', '.join(args)})"
    if choice == 4:
        left = draw(expressions(words, depth + 1))
        right = draw(expressions(words, depth + 1))
        return f"{left} {draw(st.sampled_from(OPERATORS[:12]))} {right}"
    inner = draw(expressions(words, depth + 1))
    return draw(
        st.sampled_from(
            [
                f"({inner})",
                f"MEASURE({inner})",
                f"NOT {inner}",
                f"CAST({inner} AS VARCHAR)",
                f"{inner} IS NULL",
            ]
        )
    )


@st.composite
def queries(draw: st.DrawFn, words: list[str]) -> str:
    select = draw(st.lists(expressions(words), min_size=1, max_size=4))
    text = "SELECT " + ", ".join(select)
    if draw(st.booleans()):
        conditions = draw(st.lists(expressions(words), min_size=1, max_size=3))
        text += " WHERE " + " AND ".join(conditions)
    if draw(st.booleans()):
        text += f" ORDER BY {draw(st.integers(0, 5))}"
    if draw(st.booleans()):
        text += f" LIMIT {draw(st.sampled_from(['10', '0', '-1', '1.5', '$n']))}"
    return text


@st.composite
def mutated(draw: st.DrawFn, words: list[str]) -> str:
    tokens = draw(queries(words)).split(" ")
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 4))
        at = draw(st.integers(0, len(tokens)))
        pool = words + OPERATORS + KEYWORDS + LITERALS + STRANGE
        if kind == 0 and tokens:
            del tokens[min(at, len(tokens) - 1)]
        elif kind == 1:
            tokens.insert(at, draw(st.sampled_from(pool)))
        elif kind == 2 and len(tokens) > 1:
            i, j = min(at, len(tokens) - 1), draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif kind == 3:
            tokens.insert(at, draw(st.text(max_size=4)))
        else:
            tokens.insert(at, draw(st.sampled_from(STRANGE)).join(["", ""]) or "\r")
    sep = draw(st.sampled_from([" ", " ", "\n", "\r", "\r\n"]))
    return sep.join(tokens)


def _nested(words: list[str]) -> st.SearchStrategy[str]:
    def deep(pair: tuple[int, str]) -> str:
        n, word = pair
        return f"SELECT {'(' * n}{word}{')' * n}"

    def measures(pair: tuple[int, str]) -> str:
        n, word = pair
        return f"SELECT {'MEASURE(' * n}{word}{')' * n}"

    def ands(pair: tuple[int, str]) -> str:
        n, word = pair
        return "SELECT order_count WHERE " + " AND ".join([f"{word} = 'A'"] * n)

    def nots(pair: tuple[int, str]) -> str:
        n, word = pair
        return "SELECT order_count WHERE " + "NOT " * n + f"{word} = 'A'"

    pairs = st.tuples(st.integers(1, 1200), st.sampled_from(words))
    return st.one_of(pairs.map(deep), pairs.map(measures), pairs.map(ands), pairs.map(nots))


def check_outcome(project: Project, query: str | dict[str, Any]) -> None:
    """A result, or a SemanticError whose every diagnostic has a known code and a place
    inside the query's text."""
    try:
        project.query(query, PARAMS, limits=LIMITS)
    except SemanticError as exc:
        for d in exc.diagnostics:
            assert d.code in CODES, d.render()
            if d.code in UNPLACED:
                continue
            if isinstance(query, dict):
                # a JSON query's errors are placed in its fields: `$.where[1]:line:col`
                assert d.span is not None and d.span.file.startswith("$"), d.render()
                text = _value_at(query, d.span.file)
                if d.span.line == 0 or text is None:
                    continue  # the whole query, or a JSON key in error: the message names it
            else:
                text = query.removeprefix("\ufeff")
                assert d.span is not None and d.span.file == "<query>", d.render()
            lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            assert 1 <= d.span.line <= len(lines), (d.render(), repr(text))
            assert 1 <= d.span.col <= len(lines[d.span.line - 1]) + 1, (d.render(), repr(text))


def _value_at(query: dict[str, Any], path: str) -> str | None:
    """The text at JSON path `path` (`$.select[1]`) of `query`, if it is a text."""
    value: Any = query
    for key, index in re.findall(r"\.(\w+)|\[(\d+)\]", path):
        try:
            value = value[key] if key else value[int(index)]
        except (KeyError, IndexError, TypeError):
            return None
    return value if isinstance(value, str) else None


def test_generated_queries(project: Project, vocabulary: list[str]) -> None:
    @FUZZ
    @given(queries(vocabulary))
    def run(query: str) -> None:
        check_outcome(project, query)

    run()


def test_mutated_queries(project: Project, vocabulary: list[str]) -> None:
    @FUZZ
    @given(mutated(vocabulary))
    def run(query: str) -> None:
        check_outcome(project, query)

    run()


def test_deep_and_long_queries(project: Project, vocabulary: list[str]) -> None:
    @settings(FUZZ, max_examples=max(EXAMPLES // 4, 10))
    @given(_nested(vocabulary))
    def run(query: str) -> None:
        check_outcome(project, query)

    run()


def test_json_queries(project: Project, vocabulary: list[str]) -> None:
    parts = st.one_of(expressions(vocabulary), mutated(vocabulary), st.text(max_size=8))
    json_query = st.fixed_dictionaries(
        {"select": st.lists(parts, max_size=3)},
        optional={
            "where": st.one_of(parts, st.lists(parts, max_size=3), st.just("*")),
            "having": parts,
            "order_by": st.lists(parts, max_size=2),
            "limit": st.integers(-1, 10),
            "group_by": st.lists(parts, max_size=2),
        },
    )

    @FUZZ
    @given(json_query)
    def run(query: dict[str, Any]) -> None:
        check_outcome(project, query)

    run()


@pytest.mark.parametrize(
    "query",
    [
        'SELECT order_count WHERE "market\nsegment" = 1',
        "SELECT order_count,\r foo",
        'SELECT order_count,\r\r "foo"',
        "\ufeffSELECT order_count, foo",
        "SELECT order_count ->",
        "SELECT " + "(" * 494 + "order_count" + ")" * 494,
        "SELECT " + "MEASURE(" * 247 + "order_count" + ")" * 247,
        "SELECT order_count WHERE " + " AND ".join(["market_segment = 'A'"] * 996),
        "SELECT order_count WHERE " + "NOT " * 996 + "market_segment = 'A'",
        "SELECT order_count LIMIT 99999999999999999999999",
    ],
)
def test_inputs_that_crashed(project: Project, query: str) -> None:
    """The inputs of issue #19 that ended in `internal error` or never ended."""
    check_outcome(project, query)
    if "\r" in query or "\n" in query or "\ufeff" in query:
        return
    with pytest.raises(SemanticError):
        project.compile(query)


def test_json_star_condition(project: Project) -> None:
    with pytest.raises(SemanticError) as caught:
        project.query({"select": ["order_count"], "where": "*"})
    assert caught.value.code == "SEM301"
