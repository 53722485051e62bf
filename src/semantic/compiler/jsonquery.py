"""A business query given as JSON, for programs: `query_text` turns it into the text of the
query language, which `parse.parse_query` reads like any other query.

A field that holds a name (an item of `select`, `group_by` or `order_by`) may give a label
as it is written, spaces and all (`"Région client"`, `"Région client DESC"`,
`"Date de commande.month"`): it is a name, not SQL. Every other value is an expression of
the query language. Errors are reported in the JSON the user wrote: at the JSON path of the
field and the line and column inside its value (`$.select[1]:1:3`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from semantic.compiler.locate import MappedText, Piece, parse_error_offset, span_at
from semantic.compiler.quoting import names_with_spaces, quoting_check, unclosed_quote
from semantic.compiler.refs import QUERY_DIALECT
from semantic.errors import SemanticError, Span, error, suggest
from semantic.files.grains import GRAINS
from semantic.model import Model
from semantic.model.names import normalize_name

if TYPE_CHECKING:
    from semantic.compiler.jsonspec import JsonQuery


QueryInput = str | Mapping[str, Any]

_PLAIN = re.compile(r"[^\W\d]\w*")
_DIRECTION = re.compile(r"(?i)^(.*?)((?:\s+(?:ASC|DESC))?(?:\s+NULLS\s+(?:FIRST|LAST))?\s*)$", re.S)


def query_text(query: QueryInput, model: Model | None = None) -> str:
    """The text of a business query given as text or as JSON (see `JsonQuery`): for JSON, a
    `MappedText` whose positions point back into the JSON's fields. With `model`, a label
    where a name goes is written as the quoted name it is.

    >>> print(query_text({"select": ["customer_region", "net_revenue"], "where": ["a = 1"],
    ...                   "order_by": ["net_revenue DESC"], "limit": 5}))
    SELECT customer_region
    , net_revenue
    WHERE a = 1
    ORDER BY net_revenue DESC
    LIMIT 5
    """
    if isinstance(query, str):
        return query
    # the JSON form's pydantic model is imported only for a query given as JSON
    from pydantic import ValidationError

    from semantic.compiler.jsonspec import JsonQuery

    try:
        spec = JsonQuery.model_validate(query)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "query"
        keys = list(JsonQuery.model_fields)
        unknown = first["type"] == "extra_forbidden"
        raise error(
            "SEM302",
            f"invalid JSON query: unknown key '{where}'"
            if unknown
            else f"invalid JSON query: {where}: {first['msg']}",
            Span(_path(first["loc"])),
            (suggest(where, keys) if unknown else None) or "keys: " + ", ".join(keys),
        ) from None
    return _Assembly(model).text(spec)


def _path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    """A pydantic location as a JSON path: `$.select[1]`."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


class _Assembly:
    """The query text built from the JSON fields, each piece remembered with its path."""

    def __init__(self, model: Model | None) -> None:
        self.model = model
        self.parts: list[str] = []
        self.pieces: list[Piece] = []
        self.size = 0

    def text(self, spec: JsonQuery) -> MappedText:
        def listed(value: str | list[str] | None, key: str) -> list[tuple[str, str]]:
            if value is None:
                return []
            # an empty condition or group is no condition, as sqlglot's builder has it
            if isinstance(value, str):
                return [(value, f"$.{key}")] if value or key == "select" else []
            return [(v, f"$.{key}[{i}]") for i, v in enumerate(value) if v or key == "select"]

        self.clause("SELECT ", ", ", listed(spec.select, "select"), "select")
        self.clause("WHERE ", "AND ", listed(spec.where, "where"), "where")
        self.clause("GROUP BY ", ", ", listed(spec.group_by, "group_by"), "group_by")
        self.clause("HAVING ", "AND ", listed(spec.having, "having"), "having")
        self.clause("QUALIFY ", "AND ", listed(spec.qualify, "qualify"), "qualify")
        self.clause("ORDER BY ", ", ", listed(spec.order_by, "order_by"), "order_by")
        if spec.limit is not None:
            self.add(f"LIMIT {spec.limit} ")
        if spec.offset is not None:
            self.add(f"OFFSET {spec.offset}")
        return MappedText("".join(self.parts).rstrip(" "), tuple(self.pieces))

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def clause(self, head: str, between: str, values: list[tuple[str, str]], key: str) -> None:
        if not values:
            return
        self.add(head)
        for i, (value, path) in enumerate(values):
            if i:
                self.add(between)
            written, shift, wrap = self.written(value, path, key, len(values) > 1)
            self.add("(" if wrap else "")
            self.pieces.append(Piece(self.size, self.size + len(written), path, value, shift))
            self.add(written)
            self.add("\n)" if wrap else "\n")  # a line break ends a `--` comment in the value

    def written(self, value: str, path: str, key: str, joined: bool) -> tuple[str, int, bool]:
        """`value` as query text, the characters added before it, and whether it is wrapped
        in brackets: a label where a name goes is quoted; anything else must be one
        expression of its clause, and an OR joined to other conditions is bracketed."""
        named = self.as_name(value, key)
        if named is not None:
            return named, 1, False
        parsed = _check_expression(value, path, key, self.model)
        return value, 0, joined and isinstance(parsed, exp.Or)

    def as_name(self, value: str, key: str) -> str | None:
        """The quoted name `value` is (with its direction in ORDER BY, its grain after a
        dot), or None when it is not the name of a term but an expression."""
        if self.model is None or key not in ("select", "group_by", "order_by"):
            return None
        body, direction = value, ""
        if key == "order_by":
            found = _DIRECTION.match(value)
            body, direction = (found.group(1), found.group(2)) if found else (value, "")
        grain = ""
        head, dot, last = body.rpartition(".")
        if dot and last.strip().lower() in GRAINS and normalize_name(head) in self.model.names:
            body, grain = head, "." + last.strip()
        if _PLAIN.fullmatch(body) or normalize_name(body) not in self.model.names:
            return None
        return '"' + body.replace('"', '""') + '"' + grain + direction


_PREFIXES = re.compile(r"^(ORDER BY |GROUP BY )")
_READER = Dialect.get_or_raise(QUERY_DIALECT)


def _check_expression(
    value: str, path: str, key: str, model: Model | None
) -> exp.Expression | None:
    """`value` parsed as one expression of its clause (a condition of WHERE or HAVING), or
    SEM301 at `path` when it is not one: a value cannot reach past its field
    (`"a = 1) OR (1 = 1"`)."""
    try:
        probe = exp.select("x")
        if key == "select":
            exp.select(value, dialect=QUERY_DIALECT)
        elif key in ("where", "having", "qualify"):  # a condition, each alike
            where = probe.where(value, dialect=QUERY_DIALECT).args.get("where")
            return where.this if isinstance(where, exp.Where) else None
        elif key == "group_by":
            probe.group_by(value, dialect=QUERY_DIALECT)
        else:
            probe.order_by(value, dialect=QUERY_DIALECT)
        return None
    except TokenError:
        found = unclosed_quote(model, value) if model is not None else None
        unclosed = error("SEM301", "a quote is never closed", Span("<query>"))
        raise _at(path, found or unclosed) from None
    except (ParseError, TypeError, ValueError) as exc:
        # a part that is SQL but not an expression (`"where": "*"`) fails with a TypeError
        detail = "a value is not an expression"
        offset = 0
        if isinstance(exc, ParseError) and exc.errors:
            first = dict(exc.errors[0])
            first["start_context"] = _PREFIXES.sub("", str(first.get("start_context") or ""))
            detail = str(first.get("description") or detail)
            offset = parse_error_offset(value, first)
        if model is not None:
            try:  # a label written bare in a condition: say so, as in a query's text
                tokens = _READER.tokenize(value)
                names_with_spaces(model, value, tokens)
                quoting_check(model, value, tokens, offset, tokenizing=False)
            except SemanticError as found:
                raise _at(path, found) from None
        place = span_at(value, offset)
        raise error(
            "SEM301",
            f"a part of the JSON query is not valid SQL: {detail}",
            Span(path, place.line, place.col),
            'each value is an expression of the query language, e.g. "net_revenue DESC"; '
            "a name may be a label as it is written",
        ) from None


def _at(path: str, found: SemanticError) -> SemanticError:
    """`found`, about a value alone, placed in the field at `path`."""
    d = found.diagnostics[0]
    span = Span(path, d.span.line, d.span.col) if d.span else Span(path)
    return error(d.code, d.message, span, d.hint)
