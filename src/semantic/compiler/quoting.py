"""Errors that teach how a business query quotes: a name with spaces or an apostrophe is
written in double quotes (`"Segment de marché"`), a value in single quotes (`'EUROPE'`).

A new user writes labels as they read them. These checks recognise the usual slips and say
what went wrong in those terms, at the place where it starts:

- `names_with_spaces` (before parsing): several words in a row that together are a term's
  name (`SELECT Segment de marché`): SEM319;
- `unclosed_quote` (the tokenizer failed): a quote never closed, often the apostrophe of
  a name (`chiffre d'affaires`): SEM319 when the words around it name a term, else SEM301;
- `words_in_a_row` (the parser failed): words in a row that name nothing: SEM301 with the
  quoting rules as the hint;
- `quoted_name_check` (a selected value or a condition uses no term): a term's name in
  single quotes, which make a text value: SEM320;
- `with_value_hint` (an unknown name is compared with something): values take single quotes.

>>> from semantic.project import Project
>>> from semantic.compiler.parse import parse_query
>>> try:
...     parse_query(Project.load(".").model, "SELECT Segment de marché, net_revenue")
... except SemanticError as exc:
...     print(exc.diagnostics[0].span, exc.code)
...     print(exc.diagnostics[0].message)
<query>:1:8 SEM319
'Segment de marché' is a name with spaces: write it in double quotes
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from semantic.compiler.locate import span_at
from semantic.compiler.refs import COMPARISONS
from semantic.compiler.resolve import did_you_mean, name_target
from semantic.errors import SemanticError, Span, error
from semantic.model import Model
from semantic.model.names import normalize_name

_WORD = re.compile(r"[^\W\d]\w*")
#: words that shape a query, never part of a name when they begin or end a run of words
_STRUCTURE = frozenset(
    {
        *("SELECT", "WHERE", "HAVING", "LIMIT", "OFFSET", "AND", "OR", "NOT", "AS", "IS"),
        *("IN", "BETWEEN", "LIKE", "ILIKE", "CASE", "WHEN", "THEN", "ELSE", "END", "ASC"),
        *("DESC", "FILTER", "DISTINCT", "ON", "BY", "NULLS", "FIRST", "LAST", "FROM"),
    }
)
_QUOTING = (
    'a name with spaces or an apostrophe is written in double quotes ("Segment de marché"), '
    "a value in single quotes ('EUROPE'), and selected columns are separated by commas"
)


#: what may separate the words of a run: spaces and tabs, on one line
_BLANKS = re.compile(r"[ \t]+")


#: the tokens that are never a bare word
_NOT_WORDS = (TokenType.IDENTIFIER, TokenType.STRING)


def _runs(text: str, tokens: Sequence[Token]) -> list[list[Token]]:
    """The runs of two or more bare words that only spaces separate, on one line."""
    runs: list[list[Token]] = []
    current: list[Token] = []
    word_match = _WORD.fullmatch
    for token in tokens:
        # whether the token is a bare word, tested here: every query's every token
        word = token.token_type not in _NOT_WORDS and word_match(token.text) is not None
        if current and word and _BLANKS.fullmatch(text, current[-1].end + 1, token.start):
            current.append(token)
            continue
        if len(current) > 1:
            runs.append(current)
        current = [token] if word else []
    if len(current) > 1:
        runs.append(current)
    return runs


def _term_named(model: Model, name: str) -> str | None:
    """The id of the term that `name` names (any label or synonym), or None."""
    entries = model.names.get(normalize_name(name))
    return name_target(entries) if entries else None


def _spaced_name(name: str, term: str, span: Span) -> SemanticError:
    return error(
        "SEM319",
        f"'{name}' is a name with spaces: write it in double quotes",
        span,
        f"write \"{name}\" (a name of {term}); single quotes make a text value ('EUROPE')",
    )


def names_with_spaces(model: Model, text: str, tokens: Sequence[Token]) -> None:
    """SEM319 at the first run of bare words that together name a term (its longest such
    words), which the parser would read as a name and an alias, or not at all."""
    for run in _runs(text, tokens):
        for size in range(len(run), 1, -1):
            for first in range(len(run) - size + 1):
                edges = (run[first].text.upper(), run[first + size - 1].text.upper())
                if edges[0] in _STRUCTURE or edges[1] in _STRUCTURE:
                    continue  # `WHERE NOT shipped` is NOT applied to a name
                start, end = run[first].start, run[first + size - 1].end
                name = text[start : end + 1]
                term = _term_named(model, name)
                if term is not None:
                    raise _spaced_name(name, term, span_at(text, start))


def quoting_check(
    model: Model, text: str, tokens: Sequence[Token], offset: int, *, tokenizing: bool
) -> None:
    """Raise the error that teaches quoting when the query failed to tokenize (a quote not
    closed) or to parse at `offset` (words in a row), if it is such a slip."""
    found = unclosed_quote(model, text) if tokenizing else words_in_a_row(text, tokens, offset)
    if found is not None:
        raise found


def words_in_a_row(text: str, tokens: Sequence[Token], offset: int) -> SemanticError | None:
    """SEM301 when the parser failed at a word that follows another word: the words read as
    a name with spaces (or a value) written without quotes; None otherwise."""
    for run in _runs(text, tokens):
        words = list(run)
        while words and words[0].text.upper() in _STRUCTURE:
            words.pop(0)
        while words and words[-1].text.upper() in _STRUCTURE:
            words.pop()
        if len(words) > 1 and words[0].start < offset <= words[-1].end:
            name = text[words[0].start : words[-1].end + 1]
            return error(
                "SEM301",
                f"the query is not valid SQL: '{name}' is several words in a row",
                span_at(text, words[0].start),
                f'if it is a name, write "{name}"; ' + _QUOTING,
            )
    return None


def unclosed_quote(model: Model, text: str) -> SemanticError | None:
    """The error for a quote that is never closed (the tokenizer's failure), at the quote or
    at the name whose apostrophe opened it; None when every quote is closed."""
    opened = _unclosed(text)
    if opened is None:
        return None
    quote = text[opened]
    if quote == '"':
        return error(
            "SEM301",
            'the query is not valid SQL: a name opened by " is never closed',
            span_at(text, opened),
            'close the name with "; ' + _QUOTING,
        )
    # an apostrophe inside a word (d'affaires) is most likely part of a name
    if 0 < opened < len(text) - 1 and text[opened - 1].isalpha() and text[opened + 1].isalpha():
        start, end = _phrase(text, opened)
        name = text[start:end]
        term = _term_named(model, name)
        if term is not None:
            return error(
                "SEM319",
                f"'{name}' is a name with an apostrophe: write it in double quotes",
                span_at(text, start),
                f'write "{name}" (a name of {term}); single quotes make a text value',
            )
        return error(
            "SEM301",
            f"the query is not valid SQL: the apostrophe in '{name}' opens a text value "
            "that is never closed",
            span_at(text, opened),
            f'if it is a name, write "{name}"; ' + _QUOTING,
        )
    return error(
        "SEM301",
        "the query is not valid SQL: a text value opened by ' is never closed",
        span_at(text, opened),
        "close the value with '; a ' inside a value is written twice: 'l''an'",
    )


def _unclosed(text: str) -> int | None:
    """The offset of the quote that is never closed in `text`, if any (comments skipped)."""
    i = 0
    while i < len(text):
        char = text[i]
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
        elif char in "'\"":
            j = i + 1
            while True:
                j = text.find(char, j)
                if j < 0:
                    return i
                if text.startswith(char * 2, j):
                    j += 2  # a doubled quote stands for itself
                    continue
                break
            i = j + 1
        else:
            i += 1
    return None


def _phrase(text: str, at: int) -> tuple[int, int]:
    """The words around offset `at`: letters, apostrophes and spaces up to punctuation or a
    line break, without the structure words (SELECT, WHERE, AS...) at either end."""
    start, end = at, at
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "'_ \t-"):
        start -= 1
    while end < len(text) and (text[end].isalnum() or text[end] in "'_ \t-"):
        end += 1
    words = list(re.finditer(r"[\w'-]+", text[start:end]))
    while words and words[0].group().upper() in _STRUCTURE and words[0].end() + start < at:
        words.pop(0)
    while words and words[-1].group().upper() in _STRUCTURE and words[-1].start() + start > at:
        words.pop()
    if not words:
        return at, at + 1
    return start + words[0].start(), start + words[-1].end()


def implicit_alias_error(
    model: Model, text: str, item: exp.Alias, unknown: SemanticError
) -> SemanticError:
    """The unknown name of `SELECT cutsomer regoin`, which the parser read as the name
    `cutsomer` given the alias `regoin`: named with both words and the quoting rule, when
    no AS stands between them; else `unknown` as it was."""
    inner, alias = item.this, item.args.get("alias")
    if not isinstance(inner, exp.Column) or not isinstance(alias, exp.Identifier):
        return unknown
    first, last = inner.this.meta, alias.meta
    if alias.args.get("quoted") or "start" not in first or "end" not in last:
        return unknown
    between = text[int(first["end"]) + 1 : int(last["start"])]
    if not re.fullmatch(r"[ \t]+", between):
        return unknown
    name = text[int(first["start"]) : int(last["end"]) + 1]
    close = did_you_mean(model, name)
    return error(
        "SEM303",
        f"unknown term '{name}'",
        unknown.diagnostics[0].span,
        f'a name with spaces is written in double quotes: "{name}"'
        + (f"; {close}" if close else ""),
    )


def quoted_name_check(model: Model, node: exp.Expression, text: str) -> None:
    """SEM320 when `node`, which uses no term, holds a text value in single quotes that is a
    term's name ('Région client'): the name was meant."""
    for literal in node.find_all(exp.Literal):
        if not literal.is_string:
            continue
        term = _term_named(model, literal.name)
        if term is not None:
            raise error(
                "SEM320",
                f"'{literal.name}' in single quotes is a text value, not the name of a term",
                span_at(text, int(literal.meta.get("start", 0))),
                f"single quotes make a text value; write the name in double quotes: "
                f'"{literal.name}" (a name of {term})',
            )


_COMPARISONS = COMPARISONS


def with_value_hint(model: Model, column: exp.Column, unknown: SemanticError) -> SemanticError:
    """The error `unknown` about `column`; when it is an unknown name (SEM303) compared with
    something (`= "EUROPE"`), a value was likely meant: the hint says single quotes make one."""
    parent = column.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    if unknown.code != "SEM303" or not isinstance(parent, _COMPARISONS):
        return unknown
    name, first = column.name, unknown.diagnostics[0]
    quoted = column.this.args.get("quoted") if isinstance(column.this, exp.Identifier) else False
    value = "'" + name.replace("'", "''") + "'"
    if quoted:  # double quotes around a value: the slip, before any close name
        hint = f'"{name}" in double quotes is a name; a value is written in single quotes: {value}'
        hint += f"; or {first.hint}" if first.hint else ""
    elif first.hint and not first.hint.startswith("did you mean"):
        return unknown  # a physical column: its hint says which terms use it
    elif first.hint:  # a bare word: a typo of a name as likely as a value
        hint = f"{first.hint} If it is a value, write it in single quotes: {value}"
    else:
        hint = f"{name} is read as a name; a value is written in single quotes: {value}"
    return error("SEM303", first.message, first.span, hint)
