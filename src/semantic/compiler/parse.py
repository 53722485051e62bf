"""Parse a business query and resolve its names into a small, typed `BusinessQuery`.

>>> from semantic.project import Project
>>> model = Project.load(".").model
>>> q = parse_query(model, "SELECT customer_region, net_revenue WHERE market_segment = 'A'")
>>> [c.name for c in q.columns], [c.is_metric for c in q.columns]
(['customer_region', 'net_revenue'], [False, True])
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token

from semantic.compiler import pernodes, via
from semantic.compiler.allow import check_clauses, check_nesting, check_query, conjuncts, locate
from semantic.compiler.jsonquery import QueryInput as QueryInput  # re-exported for callers
from semantic.compiler.jsonquery import query_text as query_text  # re-exported for callers
from semantic.compiler.locate import QUERY_FILE, parse_error_offset, relocated, span_at
from semantic.compiler.quoting import (
    implicit_alias_error,
    names_with_spaces,
    quoted_name_check,
    quoting_check,
    with_value_hint,
)
from semantic.compiler.ranking import take_ranking, with_ranking
from semantic.compiler.ranks import Ranking
from semantic.compiler.refs import (
    QUERY_DIALECT,
    REF,
    BusinessQuery,
    OrderItem,
    OutputColumn,
    make_ref,
    query_span,
    ref_nodes,
    ref_of,
    show,
)
from semantic.compiler.resolve import resolve_name
from semantic.compiler.spine import take_all_periods, with_empty_periods
from semantic.errors import SemanticError, Span, error
from semantic.files.grains import GRAINS
from semantic.model import Model, Term
from semantic.model.nodes import settle


def _is_measure(node: exp.Expression) -> bool:
    return isinstance(node, exp.Anonymous) and str(node.this).casefold() == "measure"


def parse_query(model: Model, text: str) -> BusinessQuery:
    """Parse `text` and resolve every name, or raise a SemanticError (SEM3xx)."""
    text = text[1:] if text.startswith("\ufeff") else text  # a BOM (a MappedText stays one)
    try:
        select, ranked = _parse_select(model, text)  # ranks and QUALIFY taken out
        every_period = take_all_periods(select)  # spine
        check_query(model, select, text)
        query = _resolved_query(model, select, text)
        return with_empty_periods(model, with_ranking(query, ranked), every_period)
    except SemanticError as exc:
        raise relocated(exc, text) from None  # a JSON query's errors, in its fields
    except RecursionError:
        # a backstop: check_nesting and check_query refuse deep trees before this happens
        raise error(
            "SEM324",
            "the query nests too deeply",
            Span(QUERY_FILE, 1, 1),
            "write it flatter, or define the expression as a term in the glossary",
        ) from None


def _resolved_query(model: Model, select: exp.Select, text: str) -> BusinessQuery:
    resolver = _Resolver(model, text)
    columns = tuple(resolver.output(item) for item in select.expressions)
    if not columns:
        raise error("SEM302", "the query selects nothing", Span(QUERY_FILE, 1, 1))
    seen: set[str] = set()
    for column, item in zip(columns, select.expressions, strict=True):
        if column.name.casefold() in seen:  # at the name given twice: an alias, or a term
            named_at = item.args.get("alias") if isinstance(item, exp.Alias) else None
            raise error(
                "SEM313",
                f"two output columns are named '{column.name}'",
                resolver.span(column.expr) if named_at is None else locate(named_at, text),
                f"give one an alias: ... AS other_{column.name.replace(' ', '_')}",
            )
        seen.add(column.name.casefold())
    filters: list[exp.Expression] = []
    having: list[exp.Expression] = []
    # HAVING (like ORDER BY and GROUP BY) reads output names first; WHERE reads terms only
    named = {c.name.casefold(): c for c in columns}
    for clause in (select.args.get("where"), select.args.get("having")):
        if clause is None:
            continue
        for condition in conjuncts(clause.this):
            outputs = _Outputs(named, "having" if isinstance(clause, exp.Having) else "where")
            resolved = resolver.resolve(condition, outputs)
            kinds = resolver.kinds(resolved)
            if not kinds:
                quoted_name_check(model, resolved, text)
            if "metric" in kinds and "row" in kinds:
                raise error(
                    "SEM305",
                    f"condition '{show(resolved)}' mixes metrics and dimensions",
                    resolver.span(resolved),
                    "split it with AND: conditions on dimensions filter rows, conditions on "
                    "metrics filter groups",
                )
            (having if "metric" in kinds else filters).append(resolved)
    _check_group_by(select, columns, resolver)
    order = tuple(
        _order_item(o, columns, resolver)
        for o in (select.args.get("order") or exp.Order()).expressions
    )
    settle(select)  # positions served the errors above
    return BusinessQuery(
        columns=columns,
        filters=tuple(filters),
        having=tuple(having),
        order=order,
        limit=_count(select, "limit"),
        offset=_count(select, "offset"),
        params=tuple(dict.fromkeys(resolver.params)),
        text=text,
        places=resolver.places,
    )


def _parse_problem(description: str) -> str:
    """sqlglot's parse error in words for an analyst (no Python class names)."""
    if missing := re.search(r"missing for <class '[\w.]*\.(\w+)'>", description):
        return f"{missing.group(1).upper()} is incomplete"
    return description


#: the reader of business queries, made once
_READER = Dialect.get_or_raise(QUERY_DIALECT)


def _parse_select(model: Model, text: str) -> tuple[exp.Select, Ranking | None]:
    tokens: list[Token] = []
    try:
        # tokenized once: the nesting check and the parser read the same tokens
        tokens = _READER.tokenize(text)
        check_nesting(text, tokens)
        names_with_spaces(model, text, tokens)
        statements = [s for s in _READER.parser().parse(tokens, text) if s is not None]
    except (ParseError, TokenError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # sqlglot's parser fails on some inputs with Python errors (`SELECT x ->`)
        first = (getattr(exc, "errors", None) or [{}])[0]
        offset = parse_error_offset(text, first)
        quoting_check(model, text, tokens, offset, tokenizing=isinstance(exc, TokenError))
        span = span_at(text, offset)
        detail = _parse_problem(
            first.get("description") or (str(exc).splitlines() or ["Unexpected end"])[0]
        )
        if not isinstance(exc, (ParseError, TokenError)):
            detail = "Invalid expression / Unexpected token"
        hint = "write SELECT <terms> [WHERE ...] [ORDER BY ...] [LIMIT n]"
        if re.search(r"\bFILTER\s*\(", text, re.IGNORECASE):
            hint = "filter a metric with MEASURE(net_revenue) FILTER (WHERE ...)"
        raise error("SEM301", f"the query is not valid SQL: {detail}", span, hint) from None
    if len(statements) != 1:
        raise error(
            "SEM302",
            f"expected one query, found {len(statements)} statements",
            Span(QUERY_FILE, 1, 1),
            "send one SELECT at a time",
        )
    statement = statements[0]
    if not isinstance(statement, exp.Select):
        raise error(
            "SEM302",
            f"only SELECT is allowed, not {statement.key.upper()}",
            Span(QUERY_FILE, 1, 1),
            "a business query reads the glossary's terms; it cannot change anything",
        )
    ranked = take_ranking(statement, text)
    check_clauses(statement, text)
    for node in statement.find_all(*_REFUSED_ANY):  # sqlglot's walk picks them out
        if node is not statement and not pernodes.allowed(node):
            for kinds, message, hint in _REFUSED_NODES:
                if isinstance(node, kinds):
                    raise error("SEM302", message, locate(node, text), hint)
    return statement, ranked


#: the nodes `_Resolver.resolve` replaces or reads; it leaves every other one as it is
_RESOLVED = (exp.Per, exp.Anonymous, exp.Filter, exp.Column, exp.Placeholder)
_WINDOW_HINT = "rank in the SELECT list (RANK() OVER (...) AS r), or define a cumulative metric"
#: what a business query may not hold anywhere: node classes, the refusal, the hint
_REFUSED_NODES: tuple[tuple[tuple[type[exp.Expression], ...], str, str], ...] = (
    (
        (exp.Select, exp.Subquery, exp.Union),
        "subqueries are not part of a business query",
        "use terms, filters and metrics instead",
    ),
    ((exp.Window,), "window functions are not part of a business query", _WINDOW_HINT),
    ((exp.Star,), "SELECT * is not allowed", "name the terms you want"),
)
#: every class of `_REFUSED_NODES`
_REFUSED_ANY = tuple(k for kinds, _, _ in _REFUSED_NODES for k in kinds)


@dataclass(frozen=True, slots=True)
class _Outputs:
    """The output columns a condition may name, and how: in HAVING a name of an output
    column means that column (it wins over a term of the same name, as in ORDER BY); in
    WHERE, which is read before the columns exist, such a name is refused (SEM318) unless
    the column is exactly the term of that name."""

    columns: Mapping[str, OutputColumn]
    clause: str


class _Resolver:
    def __init__(self, model: Model, text: str) -> None:
        self.model = model
        self.text = text
        self.params: list[str] = []
        # Names are resolved in place (copying parsed trees is costly), so the reference
        # nodes remember where their name was written, by node identity.
        self.written: dict[int, tuple[int, int]] = {}
        self.places: dict[str, tuple[int, int]] = {}

    def span(self, node: exp.Expression) -> Span:
        """The query position of `node`: where its first name starts."""
        starts = [
            (int(i.meta["start"]), int(i.meta["line"]))
            for i in node.find_all(exp.Identifier)
            if i.meta.get("line")
        ]
        starts += [
            self.written[id(n)] for n in node.find_all(exp.Anonymous) if id(n) in self.written
        ]
        if not starts:
            return Span(QUERY_FILE, 1, 1)
        start, line = min(starts)
        return query_span(self.text, start, line)

    def term(self, column: exp.Column) -> exp.Expression:
        parts = [p.name for p in column.parts]
        if len(parts) == 1:
            try:
                term = resolve_name(self.model, parts[0])
            except SemanticError as exc:
                raise with_value_hint(self.model, column, exc).located(self.span(column)) from None
            if term.kind == "concept":
                raise error(
                    "SEM315",
                    f"'{term.id}' is a business concept without physical meaning: it cannot "
                    "be queried",
                    self.span(column),
                    "give it a meaning in the glossary (dimension, time_dimension, metric or "
                    "segment), or query the terms that measure it",
                )
            return make_ref("term", term.id)
        if len(parts) == 2:
            head, grain = parts
            term = self._qualifier_term(head, column)
            if term.kind != "time_dimension":
                raise error(
                    "SEM308",
                    f"'{head}' is a {term.kind.replace('_', ' ')}, so it has no grain '{grain}'",
                    self.span(column),
                    "grains apply to time dimensions only",
                )
            lowered = grain.lower()
            if lowered not in term.grains:
                allowed = ", ".join(term.grains)
                hint = (
                    f"'{term.id}' has grains {allowed}"
                    if lowered in GRAINS
                    else (f"grains are {', '.join(GRAINS)}")
                )
                raise error(
                    "SEM308", f"'{term.id}' has no grain '{grain}'", self.span(column), hint
                )
            return make_ref("term", term.id, lowered)
        raise error(
            "SEM302",
            f"'{column.sql(QUERY_DIALECT)}' looks like a physical name",
            self.span(column),
            "business queries name glossary terms only",
        )

    def _qualifier_term(self, head: str, column: exp.Column) -> Term:
        try:
            return resolve_name(self.model, head)
        except SemanticError as exc:
            if head in self.model.entities or any(
                e.table == head for e in self.model.entities.values()
            ):
                raise error(
                    "SEM302",
                    f"'{column.sql(QUERY_DIALECT)}' is a physical column",
                    self.span(column),
                    "business queries name glossary terms only; see `semantic terms`",
                ) from None
            raise exc.located(self.span(column)) from None

    def resolve(self, node: exp.Expression, outputs: _Outputs | None = None) -> exp.Expression:
        """`node` with every name replaced, in place, by a term reference (or, with
        `outputs`, by the expression of the output column it names)."""

        def swap(n: exp.Expression) -> exp.Expression:
            if not isinstance(n, _RESOLVED):
                return n  # most nodes: operators, literals, aliases' names
            if isinstance(n, exp.Per):
                return pernodes.resolve_per(self.model, n, self.resolve, self.term, self.span)
            if via.is_via(n):  # a path chosen in the query
                return via.resolve_via(self.model, n, self.resolve, self.span)
            if isinstance(n, exp.Filter) and _is_measure(n.this):
                return self._filtered(n)
            if _is_measure(n):
                return exp.paren(self._measured(n), copy=False)
            if isinstance(n, exp.Column):
                output = outputs.columns.get(n.name.casefold()) if outputs and not n.table else None
                if output is not None and outputs is not None:
                    named = self._output(n, output, outputs.clause)
                    if named is not None:
                        return named
                ref = self.term(n)
                starts = [
                    (int(i.meta["start"]), int(i.meta["line"]))
                    for i in n.find_all(exp.Identifier)
                    if i.meta.get("line")
                ]
                if starts:
                    self.written[id(ref)] = first = min(starts)
                    self.places.setdefault(ref_of(ref).ident, first)  # type: ignore[union-attr]
                return ref
            if isinstance(n, exp.Anonymous) and n.name.casefold() == REF:
                raise error("SEM302", f"{REF} is reserved", Span(QUERY_FILE, 1, 1), "remove it")
            if isinstance(n, exp.Placeholder):
                if not n.name or n.name == "?":
                    raise error(
                        "SEM309",
                        "anonymous parameters are not supported",
                        Span(QUERY_FILE, 1, 1),
                        "name them: $region",
                    )
                self.params.append(n.name)
            return n

        return node.transform(swap, copy=False)

    def _output(self, name: exp.Column, output: OutputColumn, clause: str) -> exp.Expression | None:
        """What `name`, the name of output column `output`, means in `clause`: the column's
        expression, or None when it is to be read as the term of that name."""
        start = min(
            (
                (int(i.meta["start"]), int(i.meta["line"]))
                for i in name.find_all(exp.Identifier)
                if i.meta.get("line")
            ),
            default=(0, 1),
        )
        if clause == "having":
            copied = output.expr.copy()
            for node in copied.find_all(exp.Anonymous):
                self.written[id(node)] = start
            return copied
        try:
            term: Term | None = resolve_name(self.model, name.name)
        except SemanticError:
            term = None
        if term is not None and make_ref("term", term.id) == output.expr:
            return None
        column = f"the output column '{output.name}' ({show(output.expr)})"
        message = (
            f"'{name.name}' in WHERE is the term '{term.id}', not {column}"
            if term is not None
            else f"'{name.name}' in WHERE names no term, only {column}"
        )
        raise error(
            "SEM318",
            message,
            query_span(self.text, *start),
            "WHERE reads glossary terms; HAVING and ORDER BY read output names: filter the "
            f"column in HAVING, or give it another name than '{output.name}'",
        )

    def _measured(self, call: exp.Expression) -> exp.Expression:
        """The metric expression inside MEASURE(...), resolved."""
        args = call.expressions
        if len(args) != 1:
            raise error(
                "SEM305",
                f"MEASURE takes one metric expression, not {len(args)}",
                self.span(call),
                "write MEASURE(net_revenue) FILTER (WHERE ...)",
            )
        inner = self.resolve(args[0])
        if self.kinds(inner) != {"metric"}:
            raise error(
                "SEM305",
                f"MEASURE({show(inner)}) needs a metric",
                self.span(inner),
                "MEASURE(...) FILTER (WHERE ...) filters a metric; dimensions are "
                "filtered with WHERE",
            )
        return inner

    def _filtered(self, node: exp.Filter) -> exp.Expression:
        """`MEASURE(m) FILTER (WHERE c)`: the metric computed on the rows meeting `c`."""
        inner = self._measured(node.this)
        condition = self.resolve(node.expression.this)
        if "metric" in self.kinds(condition):
            raise error(
                "SEM305",
                f"the FILTER of MEASURE({show(inner)}) uses a metric",
                self.span(condition),
                "FILTER keeps rows before aggregation: use dimensions and segments",
            )
        return exp.Filter(this=exp.paren(inner, copy=False), expression=exp.Where(this=condition))

    def kinds(self, resolved: exp.Expression) -> set[str]:
        """Which sides an expression touches: 'metric', 'row' (dimensions and segments).

        The condition of a filtered metric is part of the metric, not a row of the result;
        a metric PER an entity is a row value, at another grain a metric (`pernodes.kinds`).
        """
        inside, kinds = pernodes.kinds(resolved)
        kinds |= {
            "metric" if self.model.terms[ref.ident].is_metric else "row"
            for ref, node in ref_nodes(resolved, "term")
            if id(node) not in inside
        }
        aggregate = resolved.find(exp.AggFunc)
        if aggregate is not None:
            raise error(
                "SEM305",
                f"'{show(resolved)}' aggregates in the query",
                self.span(resolved),
                "metrics are aggregated already; define a new metric in the glossary "
                "for another aggregate",
            )
        return pernodes.row_kinds(resolved, kinds, lambda: self.span(resolved))

    def output(self, item: exp.Expression) -> OutputColumn:
        if isinstance(item, exp.Alias):
            name, inner = item.alias, item.this
        else:
            inner = item
            name = (
                ".".join(p.name for p in item.parts)
                if isinstance(item, exp.Column)
                else item.sql(QUERY_DIALECT)
            )
        try:
            resolved = self.resolve(inner)
        except SemanticError as exc:
            if exc.code == "SEM303" and isinstance(item, exp.Alias):
                raise implicit_alias_error(self.model, self.text, item, exc) from None
            raise
        kinds = self.kinds(resolved)
        if not kinds:
            quoted_name_check(self.model, resolved, self.text)
            raise error(
                "SEM305",
                f"'{show(resolved)}' uses no term",
                self.span(resolved),
                "select dimensions and metrics of the glossary",
            )
        if len(kinds) > 1:
            raise error(
                "SEM305",
                f"'{show(resolved)}' mixes metrics and dimensions",
                self.span(resolved),
                "select the dimension and the metric as separate columns",
            )
        return OutputColumn(name, resolved, "metric" in kinds)


def _match_output(
    node: exp.Expression, columns: tuple[OutputColumn, ...], resolver: _Resolver, clause: str
) -> int | exp.Expression:
    """The output column that `node` (a position, an alias or an expression) designates, or
    the resolved expression when it designates none."""
    if isinstance(node, exp.Literal) and not node.is_string:
        position = int(node.name) if node.name.isdigit() else 0
        if not 1 <= position <= len(columns):
            raise error(
                "SEM311",
                f"{clause} position {node.name} is not between 1 and {len(columns)}",
                Span(QUERY_FILE, 1, 1),
                "count the selected columns from 1",
            )
        return position - 1
    if isinstance(node, exp.Column) and not node.table:
        for i, column in enumerate(columns):
            if column.name.casefold() == node.name.casefold():
                return i
    resolved = resolver.resolve(node)
    for i, column in enumerate(columns):
        if column.expr == resolved:
            return i
    return resolved


def _check_group_by(
    select: exp.Select, columns: tuple[OutputColumn, ...], resolver: _Resolver
) -> None:
    group = select.args.get("group")
    if group is None:
        return
    given: set[int] = set()
    for node in group.expressions:
        match = _match_output(node, columns, resolver, "GROUP BY")
        if isinstance(match, exp.Expression) or columns[match].is_metric:
            shown = show(match) if isinstance(match, exp.Expression) else columns[match].name
            raise error(
                "SEM310",
                f"GROUP BY '{shown}' is not a selected dimension",
                resolver.span(match if isinstance(match, exp.Expression) else node),
                "GROUP BY is optional: the selected dimensions are the groups",
            )
        given.add(match)
    missing = [c.name for i, c in enumerate(columns) if not c.is_metric and i not in given]
    if missing:
        raise error(
            "SEM310",
            f"GROUP BY leaves out selected dimension(s) {', '.join(missing)}",
            Span(QUERY_FILE, 1, 1),
            "GROUP BY is optional: the selected dimensions are the groups",
        )


def _order_item(
    ordered: exp.Ordered, columns: tuple[OutputColumn, ...], resolver: _Resolver
) -> OrderItem:
    desc = bool(ordered.args.get("desc"))
    nulls_first = ordered.args.get("nulls_first")
    match = _match_output(ordered.this, columns, resolver, "ORDER BY")
    if isinstance(match, int):
        return OrderItem(match, None, desc, nulls_first)
    kinds = resolver.kinds(match)
    if kinds != {"metric"}:
        raise error(
            "SEM311",
            f"ORDER BY '{show(match)}' is not a selected column",
            resolver.span(match),
            "select the dimension to sort by it; a metric may be sorted by without being selected",
        )
    return OrderItem(None, match, desc, nulls_first)


#: The largest LIMIT or OFFSET: engines count rows in signed 64-bit integers.
MAX_COUNT = 2**63 - 1


def _count(select: exp.Select, arg: str) -> int | None:
    node = select.args.get(arg)
    if node is None:
        return None
    value = node.expression if isinstance(node, (exp.Limit, exp.Offset)) else node
    if isinstance(value, exp.Literal) and not value.is_string and value.name.isdigit():
        count = int(value.name)
        if count > MAX_COUNT:
            raise error(
                "SEM311",
                f"{arg.upper()} {value.name} is larger than {MAX_COUNT}",
                Span(QUERY_FILE, 1, 1),
                f"leave {arg.upper()} out to get every row",
            )
        return count
    raise error(
        "SEM311",
        f"{arg.upper()} takes a whole number, not {value.sql(QUERY_DIALECT)}",
        Span(QUERY_FILE, 1, 1),
        f"write {arg.upper()} 10",
    )
