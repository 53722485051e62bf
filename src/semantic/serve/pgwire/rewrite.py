"""SQL over a virtual table, as a BI tool writes it, into the business query that answers it
right.

A measure column is never added up from the view's rows: `SUM(measure)` and
`MEASURE(measure)` (Cube's spelling), and `MIN`/`MAX` of a metric that is itself a minimum
or a maximum, are the metric computed for each group, by the compiler. So a BI tool's sum of
a distinct count is the distinct count of the group, never a sum of counts. The grouping is
the query's dimension columns (those of `GROUP BY` too, kept out of the answer when not
selected). A query without aggregates reads the table's rows: the business query is given
every dimension of the table, so its rows are the view's.

What no business query answers right is refused (SEM462): an average, a count or any other
aggregate of a measure, an aggregate of a dimension, a measure outside an aggregate in a
grouped query, joins, subqueries, windows, set operations.

>>> from semantic.project import Project
>>> import sqlglot
>>> from semantic.serve.pgwire.tables import virtual_tables
>>> model = Project.load(".").model
>>> sql = sqlglot.parse_one(
...     'SELECT "Région client", SUM("Chiffre d\\'affaires net") FROM ventes_par_client '
...     "GROUP BY 1", read="postgres")
>>> found = business_query(sql, virtual_tables(model, None, "fr"))
>>> print(found.text)
SELECT customer_region AS pg_1, net_revenue AS pg_2
>>> found.names
['Région client', 'sum']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from semantic.compiler.refs import QUERY_DIALECT
from semantic.model.names import normalize_name
from semantic.serve.pgwire.tables import Column, Table, find_column, find_table, refused

#: the aggregates a measure column may be wrapped in, beside those that combine its parts
_MEASURE = ("sum", "measure")
#: what the client may write around the table, that no business query can hold
_UNSUPPORTED: tuple[tuple[type[exp.Expr], str], ...] = (
    (exp.Join, "a join"),
    (exp.Window, "a window function"),
    (exp.Subquery, "a subquery"),
    (exp.Lateral, "a lateral subquery"),
)


@dataclass
class Rewritten:
    """The business query of a client's SQL: its text, the names of the columns the client
    sees (the first `len(names)` columns of its answer), and the table it reads."""

    text: str
    names: list[str]
    table: Table
    hidden: list[str] = field(default_factory=list)


def business_query(select: exp.Select, tables: Sequence[Table]) -> Rewritten:
    """The business query that answers `select` (SQL over one of `tables`), or SEM462 saying
    what cannot be answered right (SEM463 for an unknown table, SEM464 a column)."""
    return _Rewrite(select, tables).run()


def table_of(select: exp.Select) -> exp.Table | None:
    """The one table `select` reads, when it reads one."""
    source = select.args.get("from_") or select.args.get("from")
    if source is None or not isinstance(source.this, exp.Table):
        return None
    return source.this


class _Rewrite:
    def __init__(self, select: exp.Select, tables: Sequence[Table]) -> None:
        self.select = select
        for node_type, what in _UNSUPPORTED:
            if select.find(node_type) is not None:
                raise refused(
                    f"{what} over the glossary's tables has no business query",
                    "ask one table at a time, with its dimensions and SUM or MEASURE of its "
                    "measures; the compiler joins and groups",
                )
        if select.args.get("with_") or select.args.get("with"):
            raise refused("a WITH clause has no business query", "ask the table directly")
        source = table_of(select)
        if source is None:
            raise refused("only a table may follow FROM", "ask the table directly")
        self.table = find_table(tables, source.name)
        self.names = {normalize_name(n) for n in (source.name, source.alias) if n}
        self.aggregated = bool(select.args.get("group")) or any(
            _is_aggregate(n) for n in select.find_all(exp.AggFunc, exp.Anonymous)
        )

    def run(self) -> Rewritten:
        select = self.select
        items = _expanded(select.expressions, self.table)
        names = [_output_name(e) for e in items]
        converted = [self.convert(_unaliased(e)) for e in items]
        texts = [c.sql(dialect=QUERY_DIALECT) for c in converted]
        extra: list[exp.Expr] = []
        group = select.args.get("group")
        for key in group.expressions if group else []:
            done = self.item(key, names, converted, by_name=False)
            if _has_measure(done):
                raise refused("a measure in GROUP BY", "group by dimensions only")
            if done.sql(dialect=QUERY_DIALECT) not in texts + [e.sql() for e in extra]:
                extra.append(done)
        if not self.aggregated:
            if select.args.get("distinct") and any(_has_measure(c) for c in converted):
                raise refused(
                    "DISTINCT over measure columns without GROUP BY",
                    "group by the dimensions and use SUM or MEASURE of the measures",
                )
            if not select.args.get("distinct"):
                taken = set(texts)
                extra += [
                    d
                    for d in (_term(c) for c in self.table.dimensions)
                    if d.sql(dialect=QUERY_DIALECT) not in taken
                ]
        if not any(_has_measure(c) for c in (*converted, *extra)):
            extra += self.any_measure()
        query = exp.select(
            *(exp.alias_(c, f"pg_{i}") for i, c in enumerate([*converted, *extra], 1))
        )
        where = select.args.get("where")
        conditions = [self.convert(where.this, in_where=True)] if where else []
        if self.table.filter is not None:
            conditions.append(self.table.filter.copy())
        conditions += [exp.column(s) for s in self.table.segments]
        if conditions:
            query = query.where(exp.and_(*conditions))
        having = select.args.get("having")
        if having is not None:
            query = query.having(self.convert(having.this))
        order = select.args.get("order")
        if order is not None:
            keys = [
                o.set("this", self.item(o.this, names, converted)) or o
                for o in (o.copy() for o in order.expressions)
            ]
            query = query.order_by(*keys)
        for clause in ("limit", "offset"):
            if select.args.get(clause) is not None:
                query.set(clause, select.args[clause].copy())
        hidden = [e.sql(dialect=QUERY_DIALECT) for e in extra]
        return Rewritten(query.sql(dialect=QUERY_DIALECT), names, self.table, hidden)

    def item(
        self,
        key: exp.Expr,
        names: list[str],
        converted: list[exp.Expr],
        *,
        by_name: bool = True,
    ) -> exp.Expr:
        """A GROUP BY or ORDER BY key: a position or an output name (`by_name`) is the
        select item's column (ORDER BY) or expression (GROUP BY), anything else is
        converted."""
        position = None
        if isinstance(key, exp.Literal) and not key.is_string:
            position = int(key.this)
            if not 1 <= position <= len(converted):
                raise refused(f"position {position} is not in the select list", "fix it")
        elif isinstance(key, exp.Column) and not key.table and _identifier(key.this) in names:
            position = names.index(_identifier(key.this)) + 1
        if position is None:
            return self.convert(key)
        if by_name:
            return exp.column(f"pg_{position}")
        return converted[position - 1].copy()

    def convert(self, node: exp.Expr, *, in_where: bool = False) -> exp.Expr:
        """`node` with every column of the table as its term, every aggregate of a measure as
        the metric (SEM462 for what has no business form)."""

        def swap(n: exp.Expr) -> exp.Expr:
            if n.meta.get("term"):
                return n
            if _is_aggregate(n):
                if in_where:
                    raise refused("an aggregate in WHERE", "use HAVING")
                return self.aggregate(n)
            if isinstance(n, exp.Column):
                column = self.column(n)
                if column.measure and self.aggregated:
                    raise refused(
                        f'measure "{column.name}" outside an aggregate in a grouped query',
                        f"write SUM({quoted(column.name)}) or MEASURE({quoted(column.name)})",
                    )
                return _term(column)
            return n

        return node.copy().transform(swap, copy=False)

    def aggregate(self, node: exp.Expr) -> exp.Expr:
        """The metric an aggregate of a measure column is: SUM or MEASURE of any measure,
        MIN or MAX of one that is itself a minimum or a maximum, COUNT(*) of an entity that
        has a count of its rows."""
        name = _function(node)
        argument = node.this if not isinstance(node, exp.Anonymous) else node.expressions[0]
        if isinstance(node, exp.Count) and isinstance(argument, exp.Star):
            if self.table.row_count is None:
                counts = [c.name for c in self.table.columns if c.measure]
                raise refused(
                    f'COUNT(*) of "{self.table.id}" counts rows of a view, which is no '
                    "business number",
                    "use SUM or MEASURE of a count among its measures: " + ", ".join(counts),
                )
            column = next(c for c in self.table.columns if c.written == self.table.row_count)
            return _term(column)
        if not isinstance(argument, exp.Column):
            raise refused(
                f"{name.upper()} of an expression has no business query",
                "aggregate a measure column: SUM(measure) or MEASURE(measure)",
            )
        column = self.column(argument)
        if not column.measure:
            raise refused(
                f'{name.upper()} of dimension "{column.name}": a dimension is a grouping, '
                "not a number to aggregate",
                "group by it, and aggregate a measure",
            )
        if isinstance(node, exp.Count) or name not in (*_MEASURE, *column.combines):
            functions = dict.fromkeys(f.upper() for f in (*_MEASURE, *column.combines))
            allowed = " or ".join(f"{f}({quoted(column.name)})" for f in functions)
            raise refused(
                f'{name.upper()} of measure "{column.name}" has no answer that is right for '
                "every group (it would aggregate the rows of a view again)",
                # double quotes: in SQL, single quotes would make the name a string
                f"write {allowed}: the metric computed for each group",
            )
        return _term(column)

    def column(self, node: exp.Column) -> Column:
        if node.table and normalize_name(node.table) not in self.names:
            raise refused(f'"{node.table}" is not the table read', "name the one table read")
        return find_column(self.table, node.name)

    def any_measure(self) -> list[exp.Expr]:
        """Measures that make a query of dimensions only read the table's rows: an area's
        metrics, an entity's count of rows (else its first metric)."""
        measures = [c for c in self.table.columns if c.measure]
        if self.table.kind == "entity":
            counted = [c for c in measures if c.written == self.table.row_count]
            measures = (counted or measures)[:1]
        if not measures:
            raise refused(f'"{self.table.id}" has no measure to read its rows by', "")
        return [_term(c) for c in measures]


def quoted(name: str) -> str:
    """A column's name as a SQL identifier, in double quotes (single quotes would make it a
    string).

    >>> print(quoted("Order count"))
    "Order count"
    """
    return '"' + name.replace('"', '""') + '"'


def _is_aggregate(node: exp.Expr) -> bool:
    if isinstance(node, exp.Anonymous):
        return node.name.lower() == "measure"
    return isinstance(node, exp.AggFunc)


def _function(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    return node.key.lower()


def _term(column: Column) -> exp.Column:
    tid, _, grain = column.written.partition(".")
    found = exp.column(grain, table=tid) if grain else exp.column(tid)
    found.meta["term"] = True
    found.meta["measure"] = column.measure
    return found


def _has_measure(node: exp.Expr) -> bool:
    return any(c.meta.get("measure") for c in node.find_all(exp.Column))


def _expanded(items: list[exp.Expr], table: Table) -> list[exp.Expr]:
    """The select list with `*` (and `t.*`) as the table's columns."""
    found: list[exp.Expr] = []
    for item in items:
        star = isinstance(item, exp.Star) or (
            isinstance(item, exp.Column) and isinstance(item.this, exp.Star)
        )
        if star:
            found += [exp.column(exp.to_identifier(c.name, quoted=True)) for c in table.columns]
        else:
            found.append(item)
    return found


def _unaliased(item: exp.Expr) -> exp.Expr:
    return item.this if isinstance(item, exp.Alias) else item


def _output_name(item: exp.Expr) -> str:
    """The name PostgreSQL gives a select item: its alias, a column's name (folded to lower
    case unless quoted), a function's name, else `?column?`."""
    if isinstance(item, exp.Alias):
        return _identifier(item.args["alias"])
    if isinstance(item, exp.Column):
        return _identifier(item.this)
    if isinstance(item, (exp.Func, exp.Anonymous)):
        return _function(item)
    if isinstance(item, exp.Cast):
        return _output_name(item.this)
    return "?column?"


def _identifier(node: exp.Expr) -> str:
    if isinstance(node, exp.Identifier) and not node.quoted:
        return node.name.lower()
    return node.name
