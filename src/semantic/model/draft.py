"""The catalog while it is being built: what has been read so far, and the problems found.

Every step of `build_model` (entities, terms, checks, subject areas) is a function that
takes the one `Draft`, reads and adds to it, and reports through it, so that all the steps
share one list of diagnostics and one rule for what a partial project does not report.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, cast

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError

from semantic.errors import Diagnostic, Span, suggest
from semantic.files.read import Document
from semantic.files.schema import (
    GlossaryFile,
    ModelFile,
    ProjectFile,
    QualityRuleSpec,
    SubjectAreaSpec,
)
from semantic.model.nodes import settle
from semantic.model.types import (
    FILE_DIALECT,
    Domain,
    Edge,
    Entity,
    NameEntry,
    SubjectArea,
    Term,
)

#: the codes of references to what another file defines: not reported when a file is missing
_ECHOES = ("SEM201", "SEM202")


@dataclass
class Draft:
    """What `build_model` has read and checked so far.

    `complete` is False when some file could not be read: references to what it may have
    defined are then not reported (see `report`).
    """

    config: ProjectFile
    complete: bool
    diagnostics: list[Diagnostic] = field(default_factory=list)
    entities: dict[str, Entity] = field(default_factory=dict)
    entity_docs: dict[str, Document[ModelFile]] = field(default_factory=dict)
    edges: dict[str, list[Edge]] = field(default_factory=dict)
    terms: dict[str, Term] = field(default_factory=dict)
    term_docs: dict[str, Document[GlossaryFile]] = field(default_factory=dict)
    #: terms defined but invalid: no echo errors about them
    broken: set[str] = field(default_factory=set)
    #: the quality rules of terms, checked once the term's entity is known
    pending_quality: dict[str, dict[str, QualityRuleSpec]] = field(default_factory=dict)
    domains: dict[str, Domain] = field(default_factory=dict)
    area_docs: list[tuple[str, SubjectAreaSpec, Document[GlossaryFile]]] = field(
        default_factory=list
    )
    subject_areas: dict[str, SubjectArea] = field(default_factory=dict)
    #: each term's names with their comparison keys, as `relations.check_names` found them
    #: (a term's names never change once read): the model's name index is made of them
    names: dict[str, list[tuple[str, NameEntry]]] = field(default_factory=dict)

    def report(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        """Record an error, unless it may only echo a file that could not be read."""
        if not self.complete and code in _ECHOES:
            return
        self.diagnostics.append(Diagnostic(code, message, span, hint))

    def defined_twice(self, what: str, span: Span, first: Span) -> None:
        """Record that `what` (`term 'revenue'`) is defined again at `span` (SEM103)."""
        self.report("SEM103", f"{what} is defined twice", span, f"first defined at {first}")

    def level(self, name: str | None, span: Span) -> str:
        """The confidentiality level `name` (a term's or an entity's), which must be one of
        the project's levels (SEM111); unset, `internal` if the project has it, else its
        most secret level (deny by default). An unknown level also counts as the most
        secret."""
        levels = self.config.confidentiality_levels
        if name is None:
            return "internal" if "internal" in levels else levels[-1]
        if name not in levels:
            self.report(
                "SEM111",
                f"unknown confidentiality level '{name}'",
                span,
                suggest(name, levels)
                or f"use one of {', '.join(levels)} (semantic.yml's confidentiality_levels)",
            )
            return levels[-1]
        return name

    def warn(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        """Record a warning: the model stays usable as written."""
        self.diagnostics.append(Diagnostic(code, message, span, hint, severity="warning"))

    def parse(
        self, text: str, what: str, span: Span, hint: str, *, at_error: bool = False
    ) -> exp.Expression | None:
        """`text` parsed (in the files' dialect) and settled, or None once SEM104 says that
        `what` is not valid SQL; `at_error` points the span at the column of the error."""
        try:
            return settle(parse_one(text))
        except ParseError as exc:
            err = exc.errors[0] if exc.errors else {}
            if at_error and span.line:
                span = Span(span.file, span.line, span.col + max(int(err.get("col", 1)) - 1, 0))
            self.report(
                "SEM104", f"{what} is not valid SQL: {err.get('description', exc)}", span, hint
            )
            return None

    def term_span(self, term: Term, *path: str | int, value: bool = False) -> Span:
        """Where a key of `term`'s meaning is written (`path` below `terms.<id>.<kind>`)."""
        return self.term_docs[term.id].span(("terms", term.id, term.kind, *path), value=value)


#: each thread's tokenizer and parser of the files' dialect (`parse_one`)
_readers = threading.local()


def parse_one(text: str) -> exp.Expression:
    """`sqlglot.parse_one(text, read=FILE_DIALECT)`, the same tree and errors, with one
    tokenizer and one parser a thread: `parse_one` makes a dialect, a tokenizer and a parser
    for every call, which was half of parsing a glossary's 10,000 short expressions.

    >>> parse_one("sum(x) * 2").sql()
    'SUM(x) * 2'
    """
    reader: Any = getattr(_readers, "reader", None)
    if reader is None:
        dialect = Dialect.get_or_raise(FILE_DIALECT)
        reader = _readers.reader = (dialect.tokenizer(), dialect.parser())
    tokenizer, parser = reader
    result = parser.parse(tokenizer.tokenize(text), text)
    if not result or result[0] is None:
        raise ParseError(f"No expression was parsed from '{text}'")
    return cast(exp.Expression, exp.Block(expressions=result) if len(result) > 1 else result[0])
