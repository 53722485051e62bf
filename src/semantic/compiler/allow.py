"""The business query language's boundary: an explicit allow-list of what a query may contain.

A business query reads only what the glossary exposes. Rather than refusing the constructs
known to reach further (a method call on a table alias, `#9`, `COLUMNS(...)`, an aggregate
sqlglot does not know...), `check_query` accepts a short list of node types and functions and
refuses everything else with a coded error and its place:

- SEM324: a construct that is not part of the language (method calls, positional columns,
  star expressions, lambdas, JSON operators, structs, subscripts, nesting too deep);
- SEM325: a function that is not on the list of `FUNCTIONS`, with the closest names, or
  why it is refused (an aggregate, a table function, one that reads the session);
- SEM326: a type name that is not a SQL type, in a CAST;
- SEM327: a condition that is not true or false (a text dimension, a chained comparison).

Every function on the list is one that sqlglot parses into a typed expression, so its meaning
is known in each dialect (`render_sql` then translates it, `dialects.adapt` fixes the few
whose meaning differs, or SEM316/SEM317 refuses); names are resolved into terms afterwards by
the resolver, which refuses every name that is not a term.

>>> from semantic.project import Project
>>> import sqlglot
>>> model = Project.load(".").model
>>> text = "SELECT s_phone.trim() AS c, supplier_count"
>>> try:
...     check_query(model, sqlglot.parse_one(text, read="duckdb"), text)
... except SemanticError as exc:
...     print(exc.diagnostics[0].span, exc.code, exc.diagnostics[0].message)
<query>:1:8 SEM324 's_phone.trim()' is a method call: not part of a business query
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from functools import cache
from typing import cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token

from semantic.compiler.locate import keyword_span, span_at
from semantic.compiler.pernodes import allowed as per_allowed
from semantic.compiler.resolve import resolve_name
from semantic.errors import SemanticError, Span, error, suggest
from semantic.model import Model

#: How deep a query's tree may nest. Real queries stay under 20; sqlglot's parser and SQL
#: writer recurse, so a few hundred levels would exhaust Python's stack.
MAX_DEPTH = 64

#: The scalar functions a business query may call (DuckDB's spelling), each with an example
#: over the default project's terms. docs/query-language.md lists them; tests run each one.
FUNCTIONS: dict[str, str] = {
    # numbers
    "abs": "abs(customer_account_balance)",
    "ceil": "ceil(line_quantity)",
    "ceiling": "ceiling(line_quantity)",
    "floor": "floor(line_quantity)",
    "round": "round(net_revenue, 2)",
    "trunc": "trunc(customer_account_balance)",
    "sqrt": "sqrt(order_count)",
    "power": "power(part_size, 2)",
    "pow": "pow(part_size, 2)",
    "exp": "exp(discount)",
    "ln": "ln(net_revenue)",
    "log10": "log10(net_revenue)",
    "log2": "log2(net_revenue)",
    "sign": "sign(customer_account_balance)",
    "mod": "mod(part_size, 10)",
    "greatest": "greatest(ship_date, order_date)",
    "least": "least(ship_date, order_date)",
    # text
    "lower": "lower(market_segment)",
    "upper": "upper(part_name)",
    "length": "length(customer_name)",
    "substr": "substr(customer_phone, 1, 2)",
    "substring": "substring(customer_phone, 1, 2)",
    "left": "left(part_type, 5)",
    "right": "right(part_type, 5)",
    "trim": "trim(ship_instructions)",
    "ltrim": "ltrim(ship_instructions)",
    "rtrim": "rtrim(ship_instructions)",
    "replace": "replace(ship_mode, ' ', '_')",
    "concat": "concat(customer_nation, '/', market_segment)",
    "concat_ws": "concat_ws('/', customer_nation, market_segment)",
    "strpos": "strpos(part_type, 'BRASS')",
    "starts_with": "starts_with(part_type, 'PROMO')",
    "ends_with": "ends_with(part_type, 'BRASS')",
    "contains": "contains(part_name, 'green')",
    "reverse": "reverse(order_priority)",
    "split_part": "split_part(order_priority, '-', 2)",
    "regexp_matches": "regexp_matches(part_type, '^PROMO')",
    "regexp_replace": "regexp_replace(order_priority, '[0-9]-', '')",
    "regexp_extract": "regexp_extract(order_priority, '[0-9]')",
    # dates
    "year": "year(order_date)",
    "quarter": "quarter(order_date)",
    "month": "month(order_date)",
    "week": "week(order_date)",
    "weekofyear": "weekofyear(order_date)",
    "day": "day(order_date)",
    "dayofmonth": "dayofmonth(order_date)",
    "dayofweek": "dayofweek(order_date)",
    "isodow": "isodow(order_date)",
    "dayofyear": "dayofyear(order_date)",
    "monthname": "monthname(order_date)",
    "dayname": "dayname(order_date)",
    "date_trunc": "date_trunc('month', order_date)",
    "last_day": "last_day(order_date)",
    "make_date": "make_date(year(order_date), 1, 1)",
    "strftime": "strftime(order_date, '%Y-%m')",
    "current_date": "year(order_date) < year(current_date)",
    # nulls and choices
    "coalesce": "coalesce(order_clerk, 'none')",
    "ifnull": "ifnull(order_clerk, 'none')",
    "nullif": "net_revenue / nullif(order_count, 0)",
    "if": "if(part_size > 25, 'big', 'small')",
    # lists of values
    "list_contains": "list_contains(['1-URGENT', '2-HIGH'], order_priority)",
}

#: Syntax that is not a function call but is part of the language.
SYNTAX = (
    "CAST(x AS type), x::type, TRY_CAST",
    "CASE WHEN ... THEN ... ELSE ... END",
    "EXTRACT(part FROM x)",
    "INTERVAL '3' MONTH, DATE '1995-01-01'",
    "x IN (...), x BETWEEN a AND b, x LIKE/ILIKE '...', x IS [NOT] NULL",
    "+ - * / // % ||, = <> < <= > >=, IS [NOT] DISTINCT FROM, AND OR NOT",
    "[a, b] (a list of values, for list_contains)",
    "MEASURE(metric) FILTER (WHERE ...)",
    "$name (a parameter)",
)

#: Node types that may appear anywhere (functions are checked apart, see `FUNCTIONS`).
_NODES: tuple[type[exp.Expr], ...] = (
    exp.Column,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Placeholder,
    exp.Paren,
    exp.Neg,
    exp.Not,
    exp.And,
    exp.Or,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.IntDiv,
    exp.Mod,
    exp.Pow,
    exp.DPipe,
    exp.Case,
    exp.If,
    exp.Cast,
    exp.TryCast,
    exp.DataType,
    exp.DataTypeParam,
    exp.Interval,
    exp.Extract,
    exp.Filter,
    exp.Array,
    exp.Tuple,
    exp.Distinct,
    exp.Exists,  # an existence (`compiler.existence`); a subquery inside is refused
)
#: Nodes of the SELECT statement's own structure, allowed where the parser puts them.
_CLAUSES: tuple[type[exp.Expr], ...] = (
    exp.Alias,
    exp.Where,
    exp.Having,
    exp.Group,
    exp.Order,
    exp.Ordered,
    exp.Limit,
    exp.Offset,
)
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)

#: Functions DuckDB has that are refused for a reason worth saying.
_SESSION = {
    "current_setting",
    "getvariable",
    "current_query",
    "getenv",
    "current_database",
    "current_catalog",
    "current_schema",
    "current_schemas",
    "current_user",
    "session_user",
    "user",
    "version",
    "pragma_version",
    "txid_current",
    "current_role",
}
_SPECIAL: dict[type[exp.Expr], str] = {
    exp.Dot: "a method call",
    exp.PositionalColumn: "a positional column",
    exp.Columns: "a star expression (COLUMNS)",
    exp.Star: "a star expression",
    exp.Lambda: "a lambda",
    exp.Bracket: "a subscript",
    exp.Struct: "a struct",
    exp.PropertyEQ: "a named argument",
    exp.Kwarg: "a named argument",
    exp.JSONExtract: "a JSON operator",
    exp.JSONExtractScalar: "a JSON operator",
}


def check_query(model: Model, select: exp.Select, text: str) -> None:
    """Raise SEM324-SEM327 for the first part of `select` (parsed from `text`) that is not
    part of the business query language; names are left to the resolver."""
    # the walk that checks the depth gives the nodes too (breadth first, as `walk` would),
    # the depth of all of them checked first
    nodes = _check_depth(select, text)
    for node in nodes[1:]:
        # the most frequent nodes, tested here without a call: a name's identifier, and
        # the nodes that are allowed wherever they are
        kind = type(node)
        if kind is exp.Literal or (kind is exp.Identifier and isinstance(node.parent, _NAMED)):
            continue
        if kind is exp.Column and isinstance(node, exp.Column) and _plain_column(node):
            continue
        if kind in _PLAIN or (kind not in _NOT_PLAIN and _plain(kind)):
            continue
        _check_node(model, node, select, text)
    for clause in ("where", "having"):
        found = select.args.get(clause)
        if found is not None:
            _check_condition(model, found.this, text)
    for filtered in select.find_all(exp.Filter):
        _check_condition(model, filtered.expression.this, text)
    for node in select.find_all(exp.If):
        _check_condition(model, node.this, text)


def conjuncts(condition: exp.Expression) -> Iterator[exp.Expression]:
    """The parts of `condition` that AND joins (the condition itself when it is one)."""
    # iterative: a long chain of ANDs is a deep tree
    stack = [condition]
    while stack:
        node = stack.pop()
        if isinstance(node, exp.And):
            stack += [node.expression, node.this]
        elif isinstance(node, exp.Paren) and isinstance(node.this, exp.And):
            stack.append(node.this)
        else:
            yield node


def check_nesting(text: str, tokens: Sequence[Token] | None = None) -> None:
    """SEM324 when brackets nest deeper than `MAX_DEPTH` in `text`, before sqlglot's parser
    (which recurses on each level) reads it. `tokens`: those of `text`, when the caller has
    them already (the parser then reads the same tokens)."""
    depth = 0
    if tokens is None:
        try:
            tokens = sqlglot.tokenize(text, read="duckdb")
        except SqlglotError:
            return  # the parser says what is wrong with it
    for token in tokens:
        if token.text in ("(", "["):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(span_at(text, token.start))
        elif token.text in (")", "]"):
            depth = max(depth - 1, 0)


def _too_deep(span: Span) -> SemanticError:
    return error(
        "SEM324",
        f"the query nests more than {MAX_DEPTH} levels deep",
        span,
        "write it flatter, or define the expression as a term in the glossary",
    )


def _check_depth(select: exp.Select, text: str) -> list[exp.Expr]:
    """SEM324 when `select` nests deeper than `MAX_DEPTH`; else its nodes, breadth first."""
    nodes = list(select.walk(bfs=True))
    # breadth first, the last node is the deepest: most queries need no more than its depth
    depth, parent = 0, nodes[-1].parent
    while parent is not None and depth <= MAX_DEPTH:
        depth, parent = depth + 1, parent.parent
    if depth <= MAX_DEPTH:
        return nodes
    # sqlglot's walk is iterative; the parent chain gives each node's depth
    depths: dict[int, int] = {id(select): 0}
    for node in nodes:
        parent = node.parent
        depth = depths[id(node)] = depths.get(id(parent), 0) + 1 if parent is not None else 0
        if depth > MAX_DEPTH:
            raise _too_deep(locate(node, text))
    return nodes


#: the clauses of a SELECT a business query may not have (by `exp.Select` arg): the
#: refusal, and the hint after the colon
_REFUSED_CLAUSES = {
    "from_": "FROM: the compiler finds the tables itself",
    "joins": "JOIN: the compiler finds the join paths itself",
    "with_": "WITH",
    "distinct": "DISTINCT: results are already one row per group",
    "windows": "WINDOW",
}


def check_clauses(select: exp.Select, text: str) -> None:
    """Refuse (SEM302) the clauses a business query may not have (FROM, JOIN, WITH,
    DISTINCT, WINDOW), at the keyword that starts the clause in `text`."""
    for arg, what in _REFUSED_CLAUSES.items():
        if select.args.get(arg):
            raise error(
                "SEM302",
                f"{what.split(':')[0]} is not part of a business query",
                keyword_span(text, arg),
                what.split(": ", 1)[1] if ": " in what else "remove it",
            )


def locate(node: exp.Expr, text: str) -> Span:
    """Where `node` was written in `text`: its own token, else the first token inside it,
    else the nearest enclosing one that has a position, else the start of the query."""
    for candidate in _positioned(node):
        start = candidate.meta.get("start")
        if start is not None:
            return span_at(text, int(start))
    return span_at(text, 0)


def _positioned(node: exp.Expr) -> Iterator[exp.Expr]:
    yield node
    inner = [n for n in node.walk() if n is not node and n.meta.get("start") is not None]
    if inner:
        yield min(inner, key=lambda n: int(n.meta["start"]))
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


#: what an identifier may name: a column, an alias, a type
_NAMED = (exp.Column, exp.Alias, exp.DataType)
#: the node classes `_check_node` looks at more closely than "one of `_NODES`"
_SPECIFIC: tuple[type[exp.Expr], ...] = (exp.Identifier, exp.Literal, exp.Var, exp.Column)
_SPECIFIC += (*_CLAUSES, exp.Cast, exp.TryCast, *_COMPARISONS, exp.In, exp.Filter)
_SPECIFIC += (exp.Distinct, exp.Per, exp.Star)
#: the node classes `_check_node` accepts wherever they are, and the others, as met
_PLAIN: set[type[exp.Expr]] = set()
_NOT_PLAIN: set[type[exp.Expr]] = set()


def _plain(kind: type[exp.Expr]) -> bool:
    """Whether `_check_node` accepts every node of class `kind` (learned once per class)."""
    plain = issubclass(kind, _NODES) and not issubclass(kind, _SPECIFIC)
    (_PLAIN if plain else _NOT_PLAIN).add(kind)
    return plain


def _plain_column(node: exp.Column) -> bool:
    """Whether the column `node` is a name (`x`, `x.grain`), as `_check_node` accepts."""
    parts = node.parts
    count = len(parts)
    return (
        count <= 2
        and (count < 1 or isinstance(parts[0], exp.Identifier))
        and (count < 2 or isinstance(parts[1], exp.Identifier))
    )


def _check_node(model: Model, node: exp.Expr, select: exp.Select, text: str) -> None:
    # the most frequent nodes first: a name's identifier, a literal (neither is PER's)
    if isinstance(node, exp.Identifier):
        parent = node.parent
        if isinstance(parent, _NAMED):
            return
        raise _refused(node, text, f"'{node.name}' is not a term here")
    if type(node) is exp.Literal or per_allowed(node):
        return
    if isinstance(node, exp.Var):
        if isinstance(node.parent, (exp.Interval, exp.Extract, exp.Func, exp.DataType)):
            return
        raise _refused(node, text, f"'{node.name}' is not a term here")
    if isinstance(node, exp.Func) and not isinstance(node, _NODES) and type(node) not in _SPECIAL:
        _check_function(node, text)
        return
    if isinstance(node, exp.Column):
        if len(node.parts) > 2 or not all(isinstance(p, exp.Identifier) for p in node.parts):
            raise _refused(node, text, f"'{node.sql('duckdb')}' is not a term")
        return
    if isinstance(node, _CLAUSES):
        if node.parent is select or isinstance(node.parent, exp.Order | exp.Group):
            return
        if isinstance(node, exp.Where) and isinstance(node.parent, exp.Filter):
            return
    if isinstance(node, (exp.Cast, exp.TryCast)):
        _check_type(node.to, text)
    if isinstance(node, _COMPARISONS):
        for side in (node.this, node.expression):
            if isinstance(side, _COMPARISONS):
                raise error(
                    "SEM327",
                    f"'{node.sql('duckdb')}' chains comparisons, which SQL does not",
                    locate(node, text),
                    f"compare twice and join with AND: {side.sql('duckdb')} AND ...",
                )
    if isinstance(node, exp.In) and any(node.args.get(k) for k in ("query", "unnest", "field")):
        raise _refused(node, text, "IN takes a list of values here")
    if isinstance(node, exp.Filter) and not _is_measure(node.this):
        raise _refused(node, text, "FILTER applies to MEASURE(metric) only")
    if isinstance(node, exp.Distinct) and not isinstance(node.parent, exp.AggFunc):
        raise _refused(node, text, "DISTINCT is not part of a business query")
    if isinstance(node, _NODES):
        return
    what = _SPECIAL.get(type(node))
    if what is None:
        what = f"'{node.key.upper()}' syntax"
    raise _refused(node, text, f"'{node.sql('duckdb')}' is {what}: not part of a business query")


def _refused(node: exp.Expr, text: str, message: str) -> SemanticError:
    hint = "business queries name glossary terms only"
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
        name = node.expression.name or node.expression.sql_name().lower()
        hint = f"write {name}(...) around a term: {hint}"
    elif isinstance(node, (exp.PositionalColumn, exp.Columns, exp.Star)):
        hint = f"name the terms you want: {hint}"
    elif "is not a term" in message:
        hint = "quote a name that has spaces with double quotes, and strings with single quotes"
    return error("SEM324", message, locate(node, text), hint)


def _is_measure(node: exp.Expr) -> bool:
    return isinstance(node, exp.Anonymous) and str(node.this).casefold() == "measure"


@cache
def _allowed() -> tuple[frozenset[type[exp.Expr]], frozenset[str]]:
    """The function classes that the examples of `FUNCTIONS` parse into, and the names of
    the functions sqlglot does not type (MEASURE only: every listed function is typed)."""
    classes: set[type[exp.Expr]] = set()
    for example in FUNCTIONS.values():
        tree = sqlglot.parse_one(f"SELECT {example}", read="duckdb")
        classes.update(
            type(n)
            for n in tree.walk()
            if isinstance(n, exp.Func) and not isinstance(n, (exp.Anonymous, exp.AggFunc))
        )
    # ALL, THIS: `existence`; VIA: a path chosen in the query (`via`)
    return frozenset(classes), frozenset({"measure", "all", "this", "via"})


def _check_function(node: exp.Expr, text: str) -> None:
    if isinstance(node, exp.AggFunc):
        return  # the resolver refuses an aggregate in the query with SEM305
    classes, names = _allowed()
    if isinstance(node, exp.Anonymous):
        name = str(node.this).casefold()
        if name in names:
            return
    elif type(node) in classes:
        return
    else:
        name = cast(exp.Func, node).sql_name().casefold()
    why, hint = _why_refused(name)
    raise error("SEM325", f"function '{name}' {why}", locate(node, text), hint)


_LISTED = "see the functions a business query may use in docs/query-language.md"


def _why_refused(name: str) -> tuple[str, str]:
    """Why the function `name` is refused, and what to do instead."""
    if name in _SESSION:
        return "reads the session or the environment", _LISTED
    kind = duckdb_function_kinds().get(name)
    if kind == "aggregate":
        return "is an aggregate", (
            "metrics are aggregated already; define a new metric in the glossary for "
            "another aggregate"
        )
    if kind in ("table", "table_macro", "pragma"):
        return "reads tables or files", "business queries read glossary terms only"
    if kind is None:
        return "is unknown", suggest(name, FUNCTIONS) or _LISTED
    return "is not one of the functions a business query may use", _LISTED


@cache
def duckdb_function_kinds() -> dict[str, str]:
    """DuckDB's own catalog of functions: name -> scalar, aggregate, table, macro...

    Used to say why a function is refused; whether it is allowed depends on `FUNCTIONS` only.
    """
    import duckdb

    with duckdb.connect() as con:
        for extension in ("json", "icu"):  # functions of autoloaded extensions too
            with contextlib.suppress(duckdb.Error):
                con.execute(f"LOAD {extension}")
        # a name may be both a scalar function and an aggregate: it reads as an aggregate
        rows = con.execute(
            "SELECT function_name, CASE WHEN bool_or(function_type = 'aggregate') "
            "THEN 'aggregate' ELSE min(function_type) END FROM duckdb_functions() GROUP BY 1"
        ).fetchall()
    return {str(name).casefold(): str(kind) for name, kind in rows}


def _check_type(to: exp.Expression, text: str) -> None:
    if not isinstance(to, exp.DataType):
        return
    for part in to.walk():
        if isinstance(part, exp.DataType) and part.this == exp.DataType.Type.USERDEFINED:
            written = part.args.get("kind") or part.sql("duckdb")
            known = [t.value.lower() for t in exp.DataType.Type if t.value]
            raise error(
                "SEM326",
                f"unknown type '{written}' in CAST",
                locate(to.parent or to, text),
                suggest(str(written), known)
                or "use a SQL type: VARCHAR, INTEGER, BIGINT, DOUBLE, DECIMAL(p, s), DATE...",
            )


#: Column types that hold true or false
_BOOLEAN_TYPES = {"boolean", "bool", "logical"}


def _check_condition(model: Model, condition: exp.Expression, text: str) -> None:
    """SEM327 when a condition (of WHERE, HAVING, FILTER or IF) is a plain name or text that
    cannot be true or false: `WHERE market_segment`."""
    stack = [condition]
    while stack:
        node = stack.pop()
        if isinstance(node, (exp.And, exp.Or)):
            stack += [node.this, node.expression]
            continue
        if isinstance(node, (exp.Not, exp.Paren)):
            stack.append(node.this)
            continue
        what = _not_boolean(model, node)
        if what:
            raise error(
                "SEM327",
                f"'{node.sql('duckdb')}' is {what}, not a condition",
                locate(node, text),
                f"compare it: {node.sql('duckdb')} = '...', or use a segment",
            )


def _not_boolean(model: Model, node: exp.Expr) -> str | None:
    if isinstance(node, exp.Literal):
        return "a number" if not node.is_string else "a text"
    if not isinstance(node, exp.Column) or len(node.parts) != 1:
        return None
    try:
        term = resolve_name(model, node.name)
    except SemanticError:
        return None  # the resolver reports it
    if term.kind == "time_dimension":
        return "a date"
    if term.kind != "dimension" or not isinstance(term.expr, exp.Column) or not term.entity:
        return None
    column = model.entities[term.entity].columns.get(term.expr.name)
    kind = (column.type or "").strip().lower() if column else ""
    if not kind or kind in _BOOLEAN_TYPES:
        return None
    return f"a dimension of type {kind}"
