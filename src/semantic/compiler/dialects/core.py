"""The dialect pass (`adapt`: tree in, tree out) and the one road from a tree to the SQL an
engine runs (`to_sql`); strings compared as bytes and output names kept as DuckDB's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from functools import lru_cache
from typing import cast

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, Dialects, NormalizationStrategy
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types

from semantic.compiler.dialects.base import (
    INTEGER_CASTS,
    TEXT_TYPES,
    Context,
    Target,
    is_text,
    number,
    refuse,
    type_of,
    unit_of,
)
from semantic.compiler.dialects.dates import (
    MONTHS,
    PARTS,
    TRUNCATE_UNITS,
    WEEK_PARTS,
    date_diff,
    interval_shift,
    is_date_literal,
)
from semantic.compiler.dialects.flatjoins import flat_inner_joins
from semantic.compiler.dialects.functions import (
    AGGREGATE_FILTER,
    average_as_double,
    filters_as_case,
)
from semantic.compiler.dialects.series import adapt_series
from semantic.compiler.dialects.targets import target_of
from semantic.errors import Span, error, suggest
from semantic.model import Model


def adapt(
    tree: exp.Expression, dialect: str, schema: Mapping[str, Mapping[str, str]] | None = None
) -> exp.Expression:
    """`tree`, changed in place where `dialect` needs other functions to compute what DuckDB
    computes; SEM316 for a construct that it cannot compute. `schema` (table -> column ->
    DuckDB type, as `column_types` gives) tells the rewrites that depend on a value's type
    what it is: a cast to an integer, string order."""
    target = target_of(dialect)
    refused = target.refused
    if "dialect" in refused:
        refuse(
            dialect, "a query", refused["dialect"], "compile for a SQL dialect: duckdb, postgres..."
        )
    if refused:
        _check_refused(tree, dialect, refused)
    adapt_series(tree, dialect)
    typed = schema is not None and _needs_types(tree, target)
    if typed:
        # types that cannot be found stay unknown: the rewrites that need one refuse
        with suppress(SqlglotError):
            annotate_types(tree, schema=dict(schema or {}), dialect="duckdb")
    if target.byte_collation:
        _collate_bytes(tree)
    if target.missing:
        for lacking in tree.find_all(*target.missing):
            name = cast(exp.Func, lacking).sql_name().lower()
            refuse(dialect, f"function {name}()", "sqlglot writes a function the engine lacks")
    if dialect not in AGGREGATE_FILTER:
        tree = filters_as_case(tree)
    if target.rewrites:
        ctx = Context(dialect, target, lambda built: adapt(built, dialect))
        # children first, so that a rewritten node is built from rewritten arguments
        for node in reversed(list(tree.walk(bfs=False))):
            new = _rewrite(cast(exp.Expression, node), ctx, node.parent)
            if new is not node:
                if node is tree:
                    tree = new
                else:
                    node.replace(new)
        if target.settings and isinstance(tree, exp.Select):
            tree.set(
                "settings",
                [exp.EQ(this=exp.column(k), expression=number(v)) for k, v in target.settings],
            )
    if target.flat_joins:
        tree = flat_inner_joins(tree)
    _quote_output_names(tree, dialect)
    if typed:
        # the types served the rewrites; sqlglot's generator would read them too, and write
        # other SQL for a typed tree than for the same tree untyped
        for node in tree.walk():
            node.type = None
    return tree


def _needs_types(tree: exp.Expression, target: Target) -> bool:
    """Whether a rewrite of `target` depends on the types of the values in `tree`."""
    if target.byte_collation:
        return True
    return exp.Cast in target.functions and any(
        n.to.this in INTEGER_CASTS for n in tree.find_all(exp.Cast)
    )


_COMPARISONS = (exp.LT, exp.LTE, exp.GT, exp.GTE, exp.Between)


def _bytes(node: exp.Expression) -> None:
    """`node COLLATE "C"` in its place (the node itself moves, so that later rewrites of it
    stay in the tree)."""
    collated = exp.Collate(this=exp.null(), expression=exp.to_identifier("C", quoted=True))
    node.replace(collated)
    collated.set("this", node)


def _collate_bytes(tree: exp.Expression) -> None:
    """PostgreSQL compares and sorts strings by the database's collation (an ICU or en_US
    database sorts 'a' before 'B'); DuckDB compares bytes. Strings get `COLLATE "C"` where
    their order matters: the selected strings (so that ORDER BY their output names and the
    CTEs and views built on them sort bytes), the strings sorted, compared or aggregated by
    min and max. Types come from `annotate_types`; an untyped column is left alone."""
    for node in list(tree.walk()):
        if isinstance(node, exp.Collate):
            continue
        if isinstance(node, exp.Select):
            for projection in node.expressions:
                inner = projection.this if isinstance(projection, exp.Alias) else projection
                if type_of(inner) in TEXT_TYPES and not _collated(inner):
                    _bytes(inner)
        elif isinstance(node, exp.Ordered):
            key = node.this
            if type_of(key) in TEXT_TYPES and not _collated(key) and not _output_name(node):
                _bytes(key)
        elif isinstance(node, _COMPARISONS):
            operands = [node.this, node.args.get("expression"), node.args.get("low")]
            operands.append(node.args.get("high"))
            present = [o for o in operands if o is not None]
            if any(is_text(o) for o in present) and not any(_collated(o) for o in present):
                literals = [o for o in present if isinstance(o, exp.Literal) and o.is_string]
                for operand in literals or present[:1]:
                    _bytes(operand)
        elif isinstance(node, exp.Min | exp.Max) and is_text(node.this):
            _bytes(node.this)


def _collated(node: exp.Expression) -> bool:
    return isinstance(node, exp.Collate) or isinstance(node.parent, exp.Collate)


def _output_name(ordered: exp.Ordered) -> bool:
    """Whether an ORDER BY item names an output column (collated where it is selected)."""
    key = ordered.this
    select = ordered.find_ancestor(exp.Select)
    if not isinstance(key, exp.Column) or key.table or select is None:
        return False
    return key.name in {e.alias_or_name for e in select.expressions}


def column_types(model: Model) -> dict[str, dict[str, str]]:
    """The `schema` of `adapt` and `to_sql`: each entity table's declared column types
    (DuckDB's names), untyped columns left out."""
    return {
        e.table: {c.name: c.type for c in e.columns.values() if c.type}
        for e in model.entities.values()
    }


def dialect_of(name: str) -> Dialect:
    """The sqlglot dialect called `name`, or SEM312 with suggestions."""
    try:
        return _dialect(name)
    except (ValueError, SqlglotError):
        known = [d.value for d in Dialects if d.value]
        raise error(
            "SEM312",
            f"unknown SQL dialect '{name}'",
            None,
            suggest(name, known) or f"known dialects: {', '.join(sorted(known))}",
        ) from None


@lru_cache(maxsize=64)
def _dialect(name: str) -> Dialect:
    """One dialect object per name (a name sqlglot does not know raises, and is not kept):
    sqlglot makes a new one on every lookup by name, and a compile asks more than once. A
    dialect object holds its settings only, which nothing changes."""
    return Dialect.get_or_raise(name)


def to_sql(
    tree: exp.Expr,
    dialect: str,
    *,
    pretty: bool = False,
    schema: Mapping[str, Mapping[str, str]] | None = None,
    copy: bool = True,
) -> str:
    """The SQL text of `tree`, read as DuckDB SQL, for an engine speaking `dialect`: the one
    road from a tree to the text an engine runs (compiled queries, views, quality rules,
    checks, load scripts). The dialect pass (`adapt`) keeps DuckDB's meaning or refuses with
    SEM316; what sqlglot cannot write is SEM317. `tree` is copied first unless `copy` is
    false (a tree built for this call only).

    >>> import sqlglot
    >>> to_sql(sqlglot.parse_one("SELECT date_diff('month', a, b) FROM t", read="duckdb"), "spark")
    'SELECT ((YEAR(b) - YEAR(a)) * 12 + MONTH(b) - MONTH(a)) FROM t'
    """
    target = dialect_of(dialect)
    node = cast(exp.Expression, tree.copy() if copy else tree)
    adapted = adapt(node, dialect, schema)
    try:
        # `node` is this call's own tree (copied above, or built for it): the generator
        # need not copy it once more before its own rewrites
        return adapted.sql(
            dialect=target, pretty=pretty, unsupported_level=ErrorLevel.RAISE, copy=False
        )
    except SqlglotError as exc:
        raise error(
            "SEM317",
            f"sqlglot cannot write this query in dialect '{dialect}': {exc}",
            Span("<query>", 1, 1),
            "try another dialect or a simpler expression",
        ) from None


def _check_refused(tree: exp.Expression, dialect: str, refused: dict[str, str]) -> None:
    """SEM316 for the first construct of `tree` that the dialect cannot compute."""
    for node in tree.walk():
        if (
            isinstance(node, exp.DateTrunc | exp.TimestampTrunc)
            and unit_of(node) == "WEEK"
            and "week" in refused
        ):
            refuse(dialect, "truncating to a week", refused["week"])
        elif isinstance(node, exp.DateAdd | exp.DateSub):
            if "date arithmetic" in refused:
                refuse(dialect, "date arithmetic", refused["date arithmetic"])
            if unit_of(node) in ("MONTH", "QUARTER", "YEAR") and "month arithmetic" in refused:
                refuse(dialect, "moving a date by months", refused["month arithmetic"])
        elif isinstance(node, exp.Join) and "join" in refused:
            refuse(dialect, "a query over several entities (a join)", refused["join"])
        elif isinstance(node, exp.With) and "WITH" in refused:
            refuse(dialect, "a query with metrics of several entities (WITH)", refused["WITH"])


#: what wraps an aggregate and belongs to its call: `agg FILTER (WHERE ...)`, `agg OVER (...)`
AVERAGE_CALL = (exp.Filter, exp.Window)


def _rewrite(node: exp.Expression, ctx: Context, parent: exp.Expr | None) -> exp.Expression:
    """`node` as the dialect of `ctx` computes what DuckDB computes (`node` itself when it
    needs no change)."""
    target, dialect = ctx.target, ctx.dialect
    function = target.functions.get(type(node))
    if function is not None:
        new = function(node, ctx)
        if new is not node:
            return new
    if isinstance(node, exp.DateDiff):
        return date_diff(node, ctx)
    interval = isinstance(node, exp.Add | exp.Sub) and isinstance(node.expression, exp.Interval)
    if interval and target.shift is not None:
        return interval_shift(node, ctx)
    if (
        isinstance(node, exp.DateTrunc | exp.TimestampTrunc)
        and target.truncate is not None
        and unit_of(node) in TRUNCATE_UNITS
    ):
        new = target.truncate(node.this, unit_of(node))
        if unit_of(node) in MONTHS:
            new.meta["month_start"] = True
        return new
    if isinstance(node, exp.DateAdd | exp.DateSub) and target.shift is not None:
        count = node.expression
        if not (isinstance(count, exp.Literal) and count.is_int):
            refuse(dialect, "moving a date by a computed amount", "only constant steps are written")
        step = int(count.name) * (-1 if isinstance(node, exp.DateSub) else 1)
        # a fiscal period: the month moved is then truncated, or was a month start already
        whole = (isinstance(parent, exp.DateTrunc) and unit_of(parent) in MONTHS) or bool(
            node.this.meta.get("month_start")
        )
        return target.shift(node.this, step, unit_of(node) or "DAY", whole)
    part = PARTS.get(type(node))
    if part is not None and target.date_part is not None:
        return target.date_part(node, part)
    week_part = WEEK_PARTS.get(type(node))
    if week_part is not None and not target.duckdb_weeks:
        if target.duckdb_weeks is None:
            refuse(dialect, week_part[1], "its week conventions differ from DuckDB's")
        return exp.Extract(this=exp.var(week_part[0]), expression=node.this)
    if target.date_literal is not None and is_date_literal(node):
        return target.date_literal(node)
    if isinstance(node, exp.Div) and target.double_division:
        node.set("this", exp.cast(node.this, exp.DataType.Type.DOUBLE))
        return node
    if target.average_as_double and target.average_cast_after:
        # the cast goes around the whole aggregate call: `CAST(AVG(x) FILTER (...) OVER
        # (...) AS DOUBLE PRECISION)`, never between AVG and its FILTER or OVER
        if isinstance(node, exp.Avg) and not isinstance(parent, AVERAGE_CALL):
            return average_as_double(node, after=True)
        if isinstance(node, AVERAGE_CALL) and not isinstance(parent, AVERAGE_CALL):
            inner = node.this
            while isinstance(inner, AVERAGE_CALL):
                inner = inner.this
            if isinstance(inner, exp.Avg):
                return average_as_double(node, after=True)
    elif isinstance(node, exp.Avg) and target.average_as_double:
        return average_as_double(node)
    if isinstance(node, exp.NullSafeEQ) and target.null_safe_eq is not None:
        return target.null_safe_eq(node)
    if isinstance(node, exp.AtTimeZone) and target.time_zone is not None:
        return target.time_zone(node, dialect)
    return node


@lru_cache(maxsize=64)
def _normalization(dialect: str) -> NormalizationStrategy:
    return Dialect.get_or_raise(dialect).normalization_strategy


def _quote_output_names(tree: exp.Expression, dialect: str) -> None:
    """Quote the output aliases that `dialect` would change the case of, so that a column is
    called as in DuckDB (`net_revenue`, not `NET_REVENUE` in Snowflake), and the ORDER BY
    references to them."""
    strategy = _normalization(dialect)
    if strategy == NormalizationStrategy.UPPERCASE:
        changes: Callable[[str], bool] = lambda name: name != name.upper()  # noqa: E731
    elif strategy == NormalizationStrategy.LOWERCASE:
        changes = lambda name: name != name.lower()  # noqa: E731
    else:
        return
    if not isinstance(tree, exp.Select):
        return
    quoted = set()
    for projection in tree.expressions:
        if isinstance(projection, exp.Alias):
            ident = projection.args["alias"]
            if not ident.quoted and changes(ident.name):
                ident.set("quoted", True)
                quoted.add(ident.name)
    order = tree.args.get("order")
    if quoted and order is not None:
        for col in order.find_all(exp.Column):
            if not col.table and col.name in quoted:
                col.this.set("quoted", True)
