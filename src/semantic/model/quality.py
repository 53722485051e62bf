"""Quality rules read from the files: each kind's keys checked, its SQL parsed and checked
against the model the way a term's is, so that a rule that cannot run is an error of
`semantic check` at file:line:col, never a failure of `semantic quality`.

- SEM115: a key the rule's kind needs is missing, or one it does not take is given;
- SEM116: the rule's SQL is the wrong shape for its kind (an aggregate in a row condition,
  a condition over aggregates without one, a custom query that is not one SELECT);
- SEM117: a pattern that is not a portable regular expression, a max age that is not one;
- SEM203: an unknown column; SEM260: a custom query reads a table no entity declares;
- SEM261: the kind does not fit the term it is written on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.qualify import qualify

from semantic.errors import Span, suggest
from semantic.files.read import Document
from semantic.files.schema import QualityRuleSpec
from semantic.model.draft import Draft
from semantic.model.nodes import settle
from semantic.model.types import FILE_DIALECT, Column, QualityRule, Term

#: the keys each kind reads, besides kind, dimension, severity, description and threshold
KEYS: dict[str, tuple[str, ...]] = {
    "check": ("check",),
    "not_null": ("column",),
    "unique": ("column",),
    "accepted_values": ("column", "values"),
    "range": ("column", "min", "max"),
    "pattern": ("column", "pattern"),
    "freshness": ("column", "max_age", "as_of"),
    "row_count": ("min", "max"),
    "aggregate": ("check",),
    "custom": ("sql",),
}
#: the kinds that read a column (a term's own expression by default)
COLUMN_KINDS = ("not_null", "unique", "accepted_values", "range", "pattern", "freshness")
#: the quality dimension of each kind, unless the rule names one
DIMENSIONS = {
    "check": "validity",
    "not_null": "completeness",
    "unique": "uniqueness",
    "accepted_values": "validity",
    "range": "validity",
    "pattern": "validity",
    "freshness": "timeliness",
    "row_count": "completeness",
    "aggregate": "accuracy",
    "custom": "consistency",
}
_OPTIONAL = ("column", "as_of", "min", "max")
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*$")
#: what RE2 (DuckDB, Spark's Java regex aside) and PostgreSQL do not share with Python
_NOT_PORTABLE = re.compile(r"\(\?<?[=!]|\\[1-9]|\(\?P?<\w+>")


def quality_rule(
    draft: Draft,
    doc: Document[Any],
    where: tuple[str | int, ...],
    rid: str,
    entity: str,
    spec: QualityRuleSpec,
    columns: Mapping[str, Column],
    term: Term | None = None,
) -> QualityRule | None:
    """The rule written at `where` of `doc` on `entity` (whose `columns` it may read) and,
    when a term declares it, on `term`; None once an error says why it cannot run."""
    reader = _Reader(draft, doc, where, rid, entity, columns, term)
    kind = spec.kind or ("check" if spec.check is not None else None)
    if kind is None:
        reader.report(
            "SEM115",
            f"quality rule '{rid}' of '{reader.owner}' names no kind",
            (),
            "write `kind:` (not_null, unique, accepted_values, range, pattern, freshness, "
            "row_count, aggregate, custom) or a row condition `check:`",
        )
        return None
    if not reader.keys_fit(kind, spec):
        return None
    check = reader.sql_of(kind, spec)
    if check is None:
        return None
    minimum = maximum = None
    max_age = as_of = None
    if kind == "row_count":
        minimum = None if spec.min is None else float(cast(float, spec.min))
        maximum = None if spec.max is None else float(cast(float, spec.max))
    if kind == "freshness":
        max_age = reader.age(cast(str, spec.max_age))
        if max_age is None:
            return None
        as_of = _instant(spec.as_of)
    return QualityRule(
        rid,
        entity,
        spec.dimension or DIMENSIONS[kind],
        check,
        reader.text(kind, spec, check),
        spec.description,
        spec.threshold,
        None if term is None else term.id,
        kind,
        spec.severity,
        minimum,
        maximum,
        max_age,
        as_of,
        doc.span(where),
    )


def _instant(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day)


class _Reader:
    """One rule being read: where it is written and what it may read."""

    def __init__(
        self,
        draft: Draft,
        doc: Document[Any],
        where: tuple[str | int, ...],
        rid: str,
        entity: str,
        columns: Mapping[str, Column],
        term: Term | None,
    ) -> None:
        self.draft, self.doc, self.where, self.rid = draft, doc, where, rid
        self.entity, self.columns, self.term = entity, columns, term
        self.owner = term.id if term is not None else entity

    def span(self, key: tuple[str | int, ...], value: bool = True) -> Span:
        return self.doc.span((*self.where, *key), value=value and bool(key))

    def report(self, code: str, message: str, key: tuple[str | int, ...], hint: str) -> None:
        self.draft.report(code, message, self.span(key), hint)

    def keys_fit(self, kind: str, spec: QualityRuleSpec) -> bool:
        """SEM115 for a key the kind does not take or one it needs; SEM261 for a kind that
        does not fit the term."""
        wanted = KEYS[kind]
        given = [k for k in ("column", "check", "values", "min", "max", "pattern", "max_age")]
        given += ["as_of", "sql"]
        for key in given:
            if getattr(spec, key) is not None and key not in wanted:
                takes = ", ".join(wanted)
                self.report(
                    "SEM115",
                    f"quality rule '{self.rid}' is a {kind} rule, which takes no `{key}`",
                    (key,),
                    f"a {kind} rule takes {takes}; or change its `kind`",
                )
                return False
        needed = [k for k in wanted if k not in _OPTIONAL]
        if kind in ("range", "row_count") and spec.min is None and spec.max is None:
            needed.append("min")
        if kind in COLUMN_KINDS and self.term is None:  # a term's rule reads its expression
            needed.insert(0, "column")
        for key in needed:
            if getattr(spec, key) is None:
                example = {
                    "column": "column: l_shipdate (a column or a row expression)",
                    "values": "values: [F, O, P]",
                    "min": "min: 0 (and/or max: ...)",
                    "pattern": "pattern: '^[0-9]+$'",
                    "max_age": "max_age: 2 days",
                    "sql": "sql: SELECT ... (its rows are the failures)",
                    "check": "check: l_quantity > 0",
                }[key]
                self.report(
                    "SEM115",
                    f"{kind} rule '{self.rid}' of '{self.owner}' has no `{key}`",
                    (),
                    f"add {example}",
                )
                return False
        low, high = spec.min, spec.max
        if low is not None and high is not None:
            try:
                wrong = low > high  # type: ignore[operator]
            except TypeError:
                wrong = True
            if wrong:
                self.report(
                    "SEM115",
                    f"{kind} rule '{self.rid}': min {low} and max {high} allow nothing",
                    ("min",),
                    "give a min not above the max, both numbers or both dates",
                )
                return False
        return self._fits_term(kind, spec)

    def _fits_term(self, kind: str, spec: QualityRuleSpec) -> bool:
        term = self.term
        if term is None or kind not in COLUMN_KINDS or spec.column is not None:
            return True
        if term.is_metric:
            why = "a metric has no value per row"
        elif kind == "freshness" and term.kind != "time_dimension":
            why = "freshness dates the latest value of a time dimension"
        else:
            return True
        self.report(
            "SEM261",
            f"{kind} rule '{self.rid}' cannot apply to {term.kind.replace('_', ' ')} "
            f"'{term.id}': {why}",
            (),
            "give the rule a `column:` of the entity, or write it on a dimension or time dimension",
        )
        return False

    def sql_of(self, kind: str, spec: QualityRuleSpec) -> exp.Expression | None:
        """What the rule evaluates (see `QualityRule`), checked."""
        if kind == "custom":
            return self.custom(cast(str, spec.sql))
        if kind == "row_count":
            return exp.Count(this=exp.Star())
        if kind in ("check", "aggregate"):
            parsed = self.parse(cast(str, spec.check), "check")
            if parsed is None or not self.known_columns(parsed, "check"):
                return None
            if not self.shape(parsed, aggregate=kind == "aggregate", key="check"):
                return None
            return parsed
        value = self.value(spec)
        if value is None:
            return None
        if kind in ("unique", "freshness"):
            return value
        if kind == "not_null":
            return value.is_(exp.null()).not_()
        good: exp.Expression
        if kind == "accepted_values":
            good = value.isin(*(_literal(v) for v in spec.values or ()))
        elif kind == "range":
            bounds: list[exp.Expression] = []
            if spec.min is not None:
                bounds.append(exp.GTE(this=value.copy(), expression=_literal(spec.min)))
            if spec.max is not None:
                bounds.append(exp.LTE(this=value.copy(), expression=_literal(spec.max)))
            good = cast(exp.Expression, exp.and_(*bounds))
        else:
            if not self.portable(cast(str, spec.pattern)):
                return None
            good = exp.RegexpLike(
                this=value.copy(), expression=exp.Literal.string(cast(str, spec.pattern))
            )
        # NULL is no value to judge: not_null is the rule for it
        return cast(
            exp.Expression,
            exp.or_(value.copy().is_(exp.null()), exp.paren(good, copy=False)),
        )

    def value(self, spec: QualityRuleSpec) -> exp.Expression | None:
        """The column or expression a column rule reads: `column`, else the term's."""
        if spec.column is not None:
            parsed = self.parse(spec.column, "column")
            if parsed is None or not self.known_columns(parsed, "column"):
                return None
            if not self.shape(parsed, aggregate=False, key="column"):
                return None
            return parsed
        assert self.term is not None  # `keys_fit` asked for a column on an entity
        value = self.term.expr.copy()
        for used in value.find_all(exp.Column):
            if used.table and used.table != self.term.entity:
                self.report(
                    "SEM261",
                    f"quality rule '{self.rid}' of '{self.term.id}' would read "
                    f"'{used.table}.{used.name}' of another entity",
                    (),
                    "give the rule a `column:` of the term's own entity",
                )
                return None
            used.set("table", None)
        return value

    def parse(self, text: str, key: str) -> exp.Expression | None:
        return self.draft.parse(
            text,
            f"{key} of quality rule '{self.rid}'",
            self.span((key,)),
            "write SQL over the entity's columns, e.g. l_quantity > 0",
        )

    def known_columns(self, tree: exp.Expression, key: str) -> bool:
        for used in tree.find_all(exp.Column):
            if used.name not in self.columns or (used.table and used.table != self.entity):
                self.report(
                    "SEM203",
                    f"unknown column '{used.sql()}' in quality rule '{self.rid}' of "
                    f"'{self.entity}'",
                    (key,),
                    suggest(used.name, self.columns)
                    or "a rule reads its own entity's columns; a custom rule (kind: custom) "
                    "may join others",
                )
                return False
        return True

    def shape(self, tree: exp.Expression, *, aggregate: bool, key: str) -> bool:
        """SEM116 when a row expression aggregates, or a condition over aggregates reads a
        column outside one (or has no aggregate)."""
        found = tree.find(exp.AggFunc, exp.Window)
        if isinstance(found, exp.Window):
            problem = "a window function, which no rule can measure"
        elif not aggregate and found is not None:
            problem = f"an aggregate ({found.sql(FILE_DIALECT)}), but a {key} is read on each row"
        elif aggregate and found is None:
            problem = "no aggregate, but an aggregate rule is a condition over the whole table"
        elif aggregate and _outside_aggregates(tree):
            problem = "a column outside an aggregate, which has no single value for the table"
        else:
            return True
        self.report(
            "SEM116",
            f"the {key} of quality rule '{self.rid}' has {problem}",
            (key,),
            "a condition over aggregates is `kind: aggregate` (e.g. max(l_shipdate) > "
            "current_date - INTERVAL 2 DAY), and a time dimension's age is `kind: freshness`"
            if not aggregate
            else "aggregate the columns, e.g. sum(l_quantity) > 0; a condition on each row "
            "is `check:` without a kind",
        )
        return False

    def custom(self, text: str) -> exp.Expression | None:
        """A custom rule's query: one SELECT over entity tables, its columns known."""
        span = self.span(("sql",))
        try:
            trees = [t for t in sqlglot.parse(text, read=FILE_DIALECT) if t is not None]
        except ParseError as exc:
            err = exc.errors[0] if exc.errors else {}
            detail = err.get("description", exc)
            self.draft.report(
                "SEM104",
                f"sql of quality rule '{self.rid}' is not valid SQL: {detail}",
                span,
                "write one SELECT whose rows are the failures",
            )
            return None
        if len(trees) != 1 or not isinstance(trees[0], exp.Query):
            self.draft.report(
                "SEM116",
                f"the sql of custom quality rule '{self.rid}' is not one SELECT",
                span,
                "write one SELECT (WITH ... SELECT, UNION allowed) whose rows are the failures",
            )
            return None
        tree = settle(cast(exp.Expression, trees[0]))
        tables = {e.table.split(".")[-1]: e.columns for e in self.draft.entities.values()}
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            if table.name not in tables and table.name not in ctes:
                self.draft.report(
                    "SEM260",
                    f"custom quality rule '{self.rid}' reads table '{table.sql()}', which no "
                    "entity declares",
                    span,
                    suggest(table.name, tables) or "read the tables of the model's entities",
                )
                return None
        schema: dict[str, object] = {
            name: {c: col.type or "text" for c, col in cols.items()}
            for name, cols in tables.items()
        }
        try:
            qualify(tree.copy(), schema=schema, dialect=FILE_DIALECT, validate_qualify_columns=True)
        except OptimizeError as exc:
            self.draft.report(
                "SEM203",
                f"custom quality rule '{self.rid}': {str(exc).split('. Line')[0]}",
                span,
                "name columns of the entities' tables",
            )
            return None
        return tree

    def portable(self, pattern: str) -> bool:
        try:
            re.compile(pattern)
        except re.error as exc:
            problem = f"is not a regular expression: {exc}"
        else:
            found = _NOT_PORTABLE.search(pattern)
            if found is None:
                return True
            problem = (
                f"uses '{found.group()}' (a lookaround, a back-reference or a named group), "
                "which DuckDB's and PostgreSQL's regular expressions do not share"
            )
        self.report(
            "SEM117",
            f"the pattern of quality rule '{self.rid}' {problem}",
            ("pattern",),
            "write a POSIX-style expression: classes [0-9], anchors ^ $, groups ( ), "
            "repetitions {2,3}",
        )
        return False

    def age(self, text: str) -> timedelta | None:
        match = _AGE.match(text.lower())
        unit = match.group(2) if match else ""
        if match is None or unit not in _UNITS:
            self.report(
                "SEM117",
                f"max_age '{text}' of quality rule '{self.rid}' is not an age",
                ("max_age",),
                "write a number and a unit: 2 days, 36 hours, 1 week (second, minute, hour, "
                "day, week)",
            )
            return None
        return timedelta(seconds=float(match.group(1)) * _UNITS[unit])

    def text(self, kind: str, spec: QualityRuleSpec, check: exp.Expression) -> str:
        """The rule in one line, as `semantic quality` and the RDF export show it."""
        if kind in ("check", "aggregate") and spec.check is not None:
            return spec.check
        if kind == "custom" and spec.sql is not None:
            return " ".join(spec.sql.split())
        if kind == "row_count":
            return f"the table has {_between(spec.min, spec.max)} rows"
        shown = check.sql(FILE_DIALECT)
        if kind == "unique":
            return f"each value of {shown} appears once"
        if kind == "freshness":
            at = f" on {spec.as_of}" if spec.as_of is not None else ""
            return f"max({shown}) is at most {spec.max_age} old{at}"
        return shown


def _between(low: object, high: object) -> str:
    if low is not None and high is not None:
        return f"{low} to {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _literal(value: object) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    return exp.Literal.string(str(value))


def _outside_aggregates(tree: exp.Expression) -> bool:
    """Whether a column of `tree` is read outside every aggregate."""
    return any(c.find_ancestor(exp.AggFunc) is None for c in tree.find_all(exp.Column))
