"""Positions in a business query's text, always inside that text.

Line breaks are `\\r\\n`, a lone `\\r` or `\\n`, as sqlglot's tokenizer counts them. Positions
are computed from character offsets alone: sqlglot's own line and column of a token are those
of its *end*, which for a quoted name holding a line break is on another line than its start.

>>> span_at("SELECT a,\\r\\n  b", 13)
Span(file='<query>', line=2, col=3)
>>> span_at("SELECT a,\\r b", 11)
Span(file='<query>', line=2, col=2)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from semantic.errors import SemanticError, Span

QUERY_FILE = "<query>"

_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Piece:
    """A part of an assembled query text that the user wrote elsewhere: the text
    `[start, end)` holds `source`, written at `path` (`$.select[1]`), after `shift` added
    characters (the opening quote of a label)."""

    start: int
    end: int
    path: str
    source: str
    shift: int = 0


class MappedText(str):
    """A query's text assembled from pieces written elsewhere (the fields of a JSON query):
    `span_at` reports a position in it at its piece's own path, line and column."""

    pieces: tuple[Piece, ...] = ()

    def __new__(cls, text: str, pieces: tuple[Piece, ...]) -> MappedText:  # noqa: D102
        made = super().__new__(cls, text)
        made.pieces = pieces
        return made


def span_at(text: str, offset: int) -> Span:
    """The 1-based line and column of character `offset` of `text` (clamped into it); in a
    `MappedText`, the place in the piece that holds the offset (`$.select[1]:1:3`), or the
    whole query (`$`) when no piece does."""
    if isinstance(text, MappedText):
        for piece in text.pieces:
            if piece.start <= offset <= piece.end:
                inner = max(0, min(offset - piece.start - piece.shift, len(piece.source)))
                place = span_at(piece.source, inner)
                return Span(piece.path, place.line, place.col)
        return Span("$")
    offset = max(0, min(offset, len(text)))
    line, line_start = 1, 0
    for brk in _BREAK.finditer(text):
        if brk.end() > offset:  # at or after the position (or inside a \r\n: its line)
            break
        line, line_start = line + 1, brk.end()
    return Span(QUERY_FILE, line, offset - line_start + 1)


#: the keyword that starts each clause a business query refuses (by its `exp.Select` arg)
_CLAUSE_KEYWORDS = {
    "from_": TokenType.FROM,
    "joins": TokenType.JOIN,
    "with_": TokenType.WITH,
    "distinct": TokenType.DISTINCT,
    "windows": TokenType.WINDOW,
}


def keyword_span(text: str, clause: str) -> Span:
    """Where the top-level clause `clause` (an `exp.Select` arg: `from_`, `joins`...) of
    the query `text` starts: its keyword outside parentheses (a FROM inside `EXTRACT(year
    FROM d)` is not the clause), else the start of the query.

    >>> keyword_span("SELECT extract(year FROM d), m\\n  FROM t", "from_")
    Span(file='<query>', line=2, col=3)
    """
    wanted = _CLAUSE_KEYWORDS.get(clause)
    try:
        tokens = Dialect.get_or_raise("duckdb").tokenize(text)
    except TokenError:  # the query parsed, so its tokens are read: a backstop only
        tokens = []
    depth = 0
    for token in tokens:
        if token.token_type in (TokenType.L_PAREN, TokenType.R_PAREN):
            depth += 1 if token.token_type == TokenType.L_PAREN else -1
        elif token.token_type == wanted and depth == 0:
            return span_at(text, token.start)
    return span_at(text, 0)


def offset_of(text: str, line: int, col: int) -> int:
    """The offset of 1-based `line` and `col` (sqlglot's position of a token's last
    character), clamped into `text`."""
    starts = [0, *(m.end() for m in _BREAK.finditer(text))]
    line = max(1, min(line, len(starts)))
    return max(0, min(starts[line - 1] + max(col, 1) - 1, len(text)))


def parse_error_offset(text: str, detail: Mapping[str, Any]) -> int:
    """Where a sqlglot parse error points in `text`: the start of the token it highlights.

    sqlglot gives the text before the token (`start_context`, at most 100 characters) and the
    token (`highlight`); its line and column are the token's end, used when those are absent.
    """
    before = str(detail.get("start_context") or "")
    highlight = str(detail.get("highlight") or "")
    if before or highlight:
        found = text.find(before + highlight)
        if found >= 0:
            return found + len(before)
    line = int(detail.get("line") or 1)
    col = int(detail.get("col") or 1)
    return offset_of(text, line, col - max(len(highlight) - 1, 0))


def relocated(exc: SemanticError, text: str) -> SemanticError:
    """`exc` with its places in the query (`<query>:line:col`) moved to where a
    `MappedText` took them from (`$.select[1]:1:3`); as it was for any other text."""
    if not isinstance(text, MappedText):
        return exc
    moved = [
        replace(d, span=span_at(text, offset_of(text, d.span.line, d.span.col)))
        if d.span is not None and d.span.file == QUERY_FILE
        else d
        for d in exc.diagnostics
    ]
    return SemanticError(moved)
