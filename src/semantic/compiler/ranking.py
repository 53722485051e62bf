"""Ranking: `RANK() OVER (PARTITION BY supplier_nation ORDER BY net_revenue DESC) AS r` in
the SELECT list, `QUALIFY r <= 3` (or a rank written inline in QUALIFY), computed over the
query's own result, after its aggregation, its HAVING and its groups.

- A rank is `RANK()`, `DENSE_RANK()` or `ROW_NUMBER()`; its PARTITION BY names dimensions
  the query selects, its ORDER BY the query's metrics or dimensions (a metric need not be
  selected: it is then computed and not shown). A dimension the query does not group by is
  refused (SEM366): a rank is taken among the query's groups.
- Ties: RANK and DENSE_RANK give tied groups the same rank, so `QUALIFY r <= 3` keeps every
  group tied with the third (more than three rows then). ROW_NUMBER breaks ties by the
  query's dimensions, ascending, NULL last, so its numbers never depend on the engine. A NULL
  value sorts last whichever the direction, as in ORDER BY.
- QUALIFY reads the query's output columns and ranks; the query's ORDER BY, LIMIT and
  OFFSET apply after it. Another window function (`sum(x) OVER ()`) is refused (SEM302)
  as it is in any query.

`take_ranking` takes all of it out of the parsed SELECT (the rest is an ordinary query),
`with_ranking` checks it against the resolved columns, and `plan_ranked` composes the SQL:

    SELECT shown columns FROM (
        SELECT the result's columns, rank() OVER (...) AS r
        FROM (the query without ranking, order or limit) AS ranked_groups
    ) AS ranked
    WHERE condition ORDER BY ... LIMIT ...

The same shape in every dialect: QUALIFY is DuckDB's, and sqlglot's rewrite of it for the
others moves ORDER BY and LIMIT inside the subquery, before the condition (a LIMIT would
then cut rows the condition keeps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlglot import exp

from semantic.compiler.allow import locate
from semantic.compiler.locate import QUERY_FILE
from semantic.compiler.naming import Names
from semantic.compiler.plannodes import Plan
from semantic.compiler.ranks import Ranking
from semantic.compiler.refs import QUERY_DIALECT, BusinessQuery, OutputColumn, find_refs, show
from semantic.compiler.render import build_tree
from semantic.compiler.spine import ALL_PERIODS
from semantic.errors import SemanticError, Span, error
from semantic.model import Model
from semantic.model.nodes import column, identifier

#: the rank functions and the output name of one written without AS
RANKS: dict[type[exp.Expression], str] = {
    exp.Rank: "rank",
    exp.DenseRank: "dense_rank",
    exp.RowNumber: "row_number",
}

#: what QUALIFY may not compute itself: it compares the result's columns and ranks
_NOT_IN_QUALIFY = (exp.AggFunc, exp.Anonymous, exp.Subquery, exp.Select, exp.Exists, exp.Per)

GROUPS = "ranked_groups"
RANKED = "ranked"


def take_ranking(select: exp.Select, text: str = "") -> Ranking | None:
    """Take the ranks, QUALIFY and (with them) ORDER BY out of `select`, in place; the
    metrics they order by that the query does not select are added to its SELECT list,
    under names of their own (`Ranking.hidden`). None when the query ranks nothing; `text`,
    the query's, places the refusals (SEM365) where the construct is written."""
    qualify = select.args.get("qualify")
    if qualify is None and not any(
        type(w.this) in RANKS for i in select.expressions for w in i.find_all(exp.Window)
    ):
        return None  # no rank: a window function is refused as before (SEM302)
    names = [_output_name(item) for item in select.expressions]
    ranks = {n.casefold() for n, i in zip(names, select.expressions, strict=True) if _is_rank(i)}
    seen: set[str] = set()
    for name, item in zip(names, select.expressions, strict=True):
        if name.casefold() in seen:
            raise error(
                "SEM313",
                f"two output columns are named '{name}'",
                locate(item.args.get("alias") or item, text),
                f"give one an alias: ... AS other_{name.replace(' ', '_')}",
            )
        seen.add(name.casefold())
    taken = Names(names)
    hidden: list[tuple[str, exp.Expression]] = []

    def ref(node: exp.Expression, *, ranks_allowed: bool) -> exp.Column:
        if isinstance(node, exp.Column):
            written = ".".join(p.name for p in node.parts)
            for name in names:
                if name.casefold() == written.casefold():
                    if name.casefold() in ranks and not ranks_allowed:
                        raise _refused(f"a rank cannot be ordered by the rank '{name}'", node, text)
                    return column(name)
        if node.find(exp.Window) is not None:
            raise _refused(f"'{node.sql(QUERY_DIALECT)}' computes with a rank", node, text)
        name = taken.new("ranked_by")
        hidden.append((name, node.copy()))
        return column(name)

    def window(node: exp.Window) -> exp.Window:
        func = node.this
        if type(func) not in RANKS:  # another window function: what a business query refuses
            raise error(
                "SEM302",
                "window functions are not part of a business query",
                locate(node, text),
                "rank in the SELECT list (RANK() OVER (...) AS r), or define a cumulative metric",
            )
        if func.args.get("this") or func.expressions:
            raise _refused(f"'{func.sql(QUERY_DIALECT)}' takes no arguments", node, text)
        order = node.args.get("order")
        if node.args.get("spec") or node.args.get("alias") or not order:
            raise _refused(
                "a rank takes PARTITION BY and ORDER BY only, and needs ORDER BY", node, text
            )
        return exp.Window(
            this=func.copy(),
            partition_by=[ref(e, ranks_allowed=False) for e in node.args.get("partition_by") or []],
            order=exp.Order(
                expressions=[
                    _ordered(o, ref(o.this, ranks_allowed=False)) for o in order.expressions
                ]
            ),
            over="OVER",
        )

    shown: list[tuple[str, exp.Expression]] = []
    kept = []
    for name, item in zip(names, select.expressions, strict=True):
        if item.find(exp.Window) is None:
            shown.append((name, column(name)))
            kept.append(item)
        elif _is_rank(item):
            shown.append((name, window(item.unalias())))
        else:
            raise _refused(f"'{item.sql(QUERY_DIALECT)}' computes with a rank", item, text)
    condition = None
    if qualify is not None:

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Window):
                return window(node)
            if isinstance(node, _NOT_IN_QUALIFY):
                raise _refused(f"QUALIFY cannot compute '{node.sql(QUERY_DIALECT)}'", node, text)
            if isinstance(node, exp.Column):
                return ref(node, ranks_allowed=True)
            return node

        condition = qualify.this.transform(swap)
    order = []
    for o in (select.args.get("order") or exp.Order()).expressions:
        target = o.this
        if isinstance(target, exp.Literal) and target.is_int and 0 < int(target.name) <= len(names):
            order.append(_ordered(o, column(names[int(target.name) - 1])))
        else:
            order.append(_ordered(o, ref(target, ranks_allowed=True)))
    select.set("qualify", None)
    select.set("order", None)
    kept += [exp.Alias(this=e, alias=identifier(n)) for n, e in hidden]
    select.set("expressions", kept)
    return Ranking(tuple(shown), condition, tuple(order), tuple(n for n, _ in hidden))


def with_ranking(query: BusinessQuery, ranking: Ranking | None) -> BusinessQuery:
    """`query` ranked by `ranking` (from `take_ranking`): a hidden column that is a selected
    one is read from it, a hidden dimension is refused (SEM366); the query's LIMIT and
    OFFSET move to the ranking, after QUALIFY. Called before `spine.with_empty_periods`, so
    that a rank's key naming the spine's term at its grain is read from the spine's column,
    not taken for another cut of the time dimension (the selected columns keep their
    places: what a rank adds goes after them)."""
    if ranking is None:
        return query
    hidden = {h.casefold() for h in ranking.hidden}
    shown_cols = [c for c in query.columns if c.name.casefold() not in hidden]
    kept: list[OutputColumn] = []
    same: dict[str, str] = {}
    for c in query.columns:
        if c.name.casefold() not in hidden:
            continue
        twin = next((s for s in shown_cols if s.expr == c.expr), None)
        if twin is not None:
            same[c.name] = twin.name
        elif not c.is_metric:
            raise error(
                "SEM366",
                f"the ranking names '{show(c.expr)}', a dimension the query does not group by",
                _place(query, c.expr),
                "a rank is taken among the query's groups: select the dimension, or rank by "
                "a metric",
            )
        else:
            kept.append(c)

    def read(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name in same:
            return column(same[node.name])
        return node

    ranking = Ranking(
        tuple((n, e.transform(read)) for n, e in ranking.shown),
        ranking.condition.transform(read) if ranking.condition is not None else None,
        tuple(o.transform(read) for o in ranking.order),  # type: ignore[misc]
        tuple(c.name for c in kept),
        query.limit,
        query.offset,
    )
    columns = tuple(shown_cols + kept)
    return replace(query, columns=columns, limit=None, offset=None, ranking=ranking)


def plan_ranked(
    model: Model, query: BusinessQuery, plan: Callable[[Model, BusinessQuery], Plan]
) -> Plan | None:
    """The plan of `query` ranked over its result (`Plan.tree`), or None when it ranks
    nothing."""
    ranking = query.ranking
    if ranking is None:
        return None
    inner = plan(model, replace(query, ranking=None))
    result = [c.name for c in query.columns]
    dimensions = [c.name for c in query.columns if not c.is_metric]
    names = Names(result + [n for n, _ in ranking.shown])
    ranks: list[exp.Expression] = []

    def named(node: exp.Window, name: str) -> exp.Column:
        ranks.append(exp.Alias(this=_tie_broken(node, dimensions), alias=identifier(name)))
        return column(name)

    shown = [
        exp.Alias(this=named(e, n) if isinstance(e, exp.Window) else e.copy(), alias=identifier(n))
        for n, e in ranking.shown
    ]
    condition = None
    if ranking.condition is not None:
        condition = ranking.condition.transform(
            lambda n: named(n, names.new("qualify_rank")) if isinstance(n, exp.Window) else n
        )
    groups = exp.Subquery(this=build_tree(inner), alias=exp.TableAlias(this=identifier(GROUPS)))
    middle = exp.Select(expressions=[column(n) for n in result] + ranks).from_(groups, copy=False)
    outer = exp.Select(expressions=shown).from_(
        exp.Subquery(this=middle, alias=exp.TableAlias(this=identifier(RANKED))), copy=False
    )
    if condition is not None:
        outer.set("where", exp.Where(this=condition))
    if ranking.order:
        outer.set("order", exp.Order(expressions=[o.copy() for o in ranking.order]))
    if ranking.limit is not None:
        outer.set("limit", exp.Limit(expression=exp.Literal.number(ranking.limit)))
    if ranking.offset is not None:
        outer.set("offset", exp.Offset(expression=exp.Literal.number(ranking.offset)))
    return replace(
        inner,
        tree=outer,
        order=(),
        limit=ranking.limit,
        offset=ranking.offset,
        policy=query.decision,
        notes=(*inner.notes, *_notes(query, ranking)),
    )


def _notes(query: BusinessQuery, ranking: Ranking) -> list[str]:
    """The ranks and QUALIFY in words, over the result's columns by their names (a metric
    added for the ranking only by its term)."""
    hidden = {c.name: show(c.expr) for c in query.columns if c.name in ranking.hidden}

    def words(node: exp.Expression) -> str:
        def swap(n: exp.Expression) -> exp.Expression:
            if isinstance(n, exp.Column) and n.name in hidden:
                return exp.column(hidden[n.name])
            return n

        return node.transform(swap, copy=True).sql(QUERY_DIALECT)

    ties = {
        exp.Rank: "tied groups share a rank, the next rank skips as many",
        exp.DenseRank: "tied groups share a rank, the next rank follows",
        exp.RowNumber: "ties broken by the query's dimensions, ascending",
    }
    lines = [
        f"{name}: {words(e)} among the query's groups ({ties[type(e.this)]})"
        for name, e in ranking.shown
        if isinstance(e, exp.Window)
    ]
    if ranking.condition is not None:
        lines.append(f"groups kept after ranking: {words(ranking.condition)}")
    return lines


def _tie_broken(node: exp.Window, dimensions: list[str]) -> exp.Window:
    """A ROW_NUMBER's ties broken by the query's dimensions (ascending, NULL last): its
    groups are one row each, so the numbers are the same on every engine."""
    node = node.copy()
    if not isinstance(node.this, exp.RowNumber):
        return node
    used = {c.name for c in node.find_all(exp.Column)}
    order = node.args["order"]
    for name in dimensions:
        if name not in used:
            order.append(
                "expressions", exp.Ordered(this=column(name), desc=False, nulls_first=False)
            )
    return node


def _ordered(written: exp.Ordered, target: exp.Expression) -> exp.Ordered:
    return exp.Ordered(
        this=target,
        desc=bool(written.args.get("desc")),
        nulls_first=bool(written.args.get("nulls_first")),
    )


def _is_rank(item: exp.Expression) -> bool:
    return isinstance(item.unalias(), exp.Window)


def _output_name(item: exp.Expression) -> str:
    """The output name of a SELECT item, as `parse` names it (a rank without AS: its
    function's name)."""
    if isinstance(item, exp.Alias):
        return item.alias
    if isinstance(item, exp.Window):
        return RANKS.get(type(item.this), "rank")
    if (
        isinstance(item, exp.Anonymous)
        and str(item.this).casefold() == ALL_PERIODS
        and len(item.expressions) == 1
    ):
        # every period (`spine.take_all_periods` unwraps it later): the column is named
        # after what it goes around, `order_date.month`
        return _output_name(item.expressions[0])
    if isinstance(item, exp.Column):
        return ".".join(p.name for p in item.parts)
    return item.sql(QUERY_DIALECT)


def _place(query: BusinessQuery, expr: exp.Expression) -> Span:
    """Where the query writes the first term of `expr` (the start of the query if none)."""
    refs = find_refs(expr, "term")
    return query.place(refs[0].ident) if refs else Span(QUERY_FILE, 1, 1)


def _refused(message: str, node: exp.Expression, text: str) -> SemanticError:
    """SEM365 at `node`, where the query writes it."""
    return error(
        "SEM365",
        message,
        locate(node, text) if text else Span(QUERY_FILE, 1, 1),
        "rank the query's groups in the SELECT list, "
        "RANK() OVER (PARTITION BY supplier_nation ORDER BY net_revenue DESC) AS r, "
        "then keep some with QUALIFY r <= 3",
    )
