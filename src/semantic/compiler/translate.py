"""Physical SQL back to business terms: `semantic translate` and `Project.translate`.

A SELECT over the model's tables is read in fixed steps: parsed and qualified against the
model's columns (sqlglot's `qualify`), derived tables merged into it (`merge_subqueries`),
its join conditions matched with the model's relationships to find the root table (from
which every other is reached by to-one relationships) and the place of each table, then
each column, aggregate and condition looked up among the terms (`compiler.termmatch`).
Subqueries at another grain (a metric PER (ALL) or per entity, an existence over the same
fact) are read by `compiler.translategrain`, values of rows in row conditions (a value per
entity, a grand total, `NOT EXISTS` on a key, semi-joins inside semi-joins) by
`compiler.translaterows`; a SELECT without GROUP BY, DISTINCT or aggregate is a list of
values.
What has a counterpart becomes an equivalent business query; what has none is refused
with a code naming the construct (SEM340), the table (SEM264), the column or aggregate
(SEM265, SEM341) or the join (SEM342). The compiler never runs SQL: `Project.translate`
runs both queries and compares their rows.

>>> from semantic.project import Project
>>> sql = '''SELECT n_name, sum(l_extendedprice * (1 - l_discount)) AS revenue
...   FROM lineitem JOIN supplier ON l_suppkey = s_suppkey
...   JOIN nation ON s_nationkey = n_nationkey
...   WHERE l_shipdate >= DATE '1995-01-01' GROUP BY n_name ORDER BY revenue DESC'''
>>> print(translate_sql(Project.load(".").model, sql).business)  # doctest: +ELLIPSIS
SELECT supplier_nation, net_revenue WHERE ship_date >= CAST('1995-01-01' AS DATE) ORDER BY ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.merge_subqueries import merge_subqueries
from sqlglot.optimizer.qualify import qualify

from semantic.compiler.joingraph import SQL, Joins, Match, join_tables, mapped, position, refusal
from semantic.compiler.refs import QUERY_DIALECT
from semantic.compiler.termmatch import Place, PlaceOf, TermIndex
from semantic.compiler.translategrain import (
    Derived,
    correlated,
    derived_candidate,
    derived_value,
    existence,
    replace_derived,
    scalar,
    scalar_candidate,
)
from semantic.compiler.translaterows import (
    Scope,
    absence,
    compared,
    is_comparison,
    own_conditions,
    row_value,
    scope_of,
)
from semantic.errors import Diagnostic, SemanticError, Span, error, suggest
from semantic.model import Model


@dataclass
class Translation:
    """What a physical query is in business terms: the terms it names, each piece of it
    with its business form, the equivalent business query (None when there is none, with
    the `refusal` saying why), notes on what the translation assumes, and, once both ran
    (`Project.translate`), whether their rows are equal."""

    sql: str
    terms: list[str] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    business: str | None = None
    refusal: Diagnostic | None = None
    notes: list[str] = field(default_factory=list)
    #: whether the SQL orders its rows (rows are then compared in order)
    ordered: bool = False
    #: set by Project.translate: the engine both ran on, the row counts, and the verdict
    engine: str | None = None
    compared: bool = False
    equal: bool | None = None
    rows: tuple[int, int] | None = None
    difference: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (documented in docs/lineage.md)."""
        return {
            "sql": self.sql,
            "terms": self.terms,
            "matches": [m.as_dict() for m in self.matches],
            "business": self.business,
            "refusal": None if self.refusal is None else _diagnostic(self.refusal),
            "notes": self.notes,
            "ordered": self.ordered,
            "engine": self.engine,
            "compared": self.compared,
            "equal": self.equal,
            "rows": list(self.rows) if self.rows else None,
            "difference": self.difference,
        }


def _diagnostic(d: Diagnostic) -> dict[str, Any]:
    return {"code": d.code, "message": d.message, "where": str(d.span or ""), "hint": d.hint}


def translate_sql(model: Model, sql: str, dialect: str = "duckdb") -> Translation:
    """The business form of physical SQL `sql` (read in `dialect`). A query that cannot be
    read (SEM339, SEM264) raises; one that has no business form is returned with its
    `refusal` and the terms its columns were found to name."""
    tree = _parse(sql, dialect)
    result = Translation(sql)
    try:
        _refuse_constructs(tree)
        qualified, derived = _qualified(model, tree, dialect)
        Translator(model, qualified, result, derived).run()
    except SemanticError as exc:
        first = exc.diagnostics[0]
        if first.code in ("SEM339", "SEM264"):
            raise
        result.refusal = first
        result.business = None
        if not result.terms:
            result.terms = _column_terms(model, tree, dialect)
    return result


def _parse(sql: str, dialect: str) -> exp.Select:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as exc:
        where = exc.errors[0] if exc.errors else {}
        raise error(
            "SEM339",
            f"the SQL does not parse: {where.get('description', exc)}",
            Span(SQL, where.get("line", 0), where.get("col", 0)),
            f"write one SELECT over the model's tables, in the {dialect} dialect",
        ) from None
    if len(statements) != 1:
        raise error(
            "SEM339", f"{len(statements)} statements given", Span(SQL), "translate one SELECT"
        )
    tree = statements[0]
    if isinstance(tree, exp.SetOperation):
        raise refusal(tree, f"a set operation ({tree.key.upper()})")
    if not isinstance(tree, exp.Select):
        raise error(
            "SEM339",
            f"not a query: {tree.key.upper()}",
            Span(SQL),
            "translate one SELECT over the model's tables",
        )
    return tree


def _refuse_constructs(tree: exp.Select) -> None:
    """Constructs refused before anything else, in a fixed order."""
    with_ = tree.args.get("with_") or tree.args.get("with")  # sqlglot's key, old and new
    if with_:
        raise refusal(with_, "a WITH clause", "a query over another query's result")
    for window in tree.find_all(exp.Window):
        raise refusal(window, "a window function (OVER)")
    per_entity: list[exp.Select] = []  # derived tables read as metrics per entity
    for sub in tree.find_all(exp.Subquery):
        if isinstance(sub.parent, (exp.From, exp.Join)):
            inner = sub.this
            if isinstance(inner, exp.Select) and (
                inner.args.get("group") or any(e.find(exp.AggFunc) for e in inner.expressions)
            ):
                if sub.parent_select is tree and derived_candidate(inner):
                    per_entity.append(inner)
                    continue
                raise refusal(
                    sub,
                    "a derived table that aggregates",
                    "a metric used as a dimension, or aggregated again",
                )
            continue
        if not isinstance(sub.parent, (exp.In, exp.Exists)) and not scalar_candidate(sub, tree):
            raise refusal(
                sub,
                "a scalar subquery",
                "a value computed by another query: a metric at another grain inside a condition",
            )
    for join in tree.find_all(exp.Join):
        if any(join.parent_select is inner for inner in per_entity):
            continue  # read by compiler.translategrain
        if join.side or join.kind in ("ANTI", "SEMI", "OUTER"):
            raise refusal(join, f"an outer join ({join.side or join.kind} JOIN)")
    if tree.args.get("offset"):
        raise refusal(tree.args["offset"], "OFFSET")


def _schema(model: Model) -> dict[str, object]:
    return {
        e.table: {name: (c.type or "varchar") for name, c in e.columns.items()}
        for e in model.entities.values()
    }


def _qualified(
    model: Model, tree: exp.Select, dialect: str
) -> tuple[exp.Select, dict[str, Derived]]:
    """`tree` qualified, its derived tables that aggregate replaced by their entity's
    table (what their columns are returned by alias), the others merged into it."""
    tables = {e.table.lower(): e.id for e in model.entities.values()}
    for table in tree.find_all(exp.Table):
        if table.name.lower() not in tables and not _is_cte(tree, table.name):
            raise error(
                "SEM264",
                f"table '{table.name}' is not an entity of the model",
                position(table),
                suggest(table.name, list(tables))
                or "translate reads SQL over the tables of the model's entities",
            )
    try:
        qualified = qualify(
            tree.copy(), schema=_schema(model), dialect=dialect, quote_identifiers=False
        )
    except OptimizeError as exc:
        raise error(
            "SEM339",
            f"the SQL does not fit the model's tables: {exc}",
            Span(SQL),
            "name columns of the model's entities (semantic show TERM lists them)",
        ) from None
    derived = replace_derived(model, qualified)
    merged = merge_subqueries(qualified)
    assert isinstance(merged, exp.Select)
    for sub in merged.find_all(exp.Subquery):
        if isinstance(sub.parent, (exp.From, exp.Join)):
            raise refusal(sub, "a derived table that could not be merged into its query")
    return merged, derived


def _is_cte(tree: exp.Select, name: str) -> bool:
    return any(cte.alias == name for cte in tree.find_all(exp.CTE))


def _column_terms(model: Model, tree: exp.Select, dialect: str) -> list[str]:
    """The dimensions whose expression is a plain column the SQL names, for a query that
    has no business form (every role a column plays: `n_name` is both nations)."""
    try:
        qualified = qualify(
            tree.copy(), schema=_schema(model), dialect=dialect, quote_identifiers=False
        )
    except OptimizeError:
        return []
    sources: dict[str, str] = {}
    for table in qualified.find_all(exp.Table):
        entity = next((e.id for e in model.entities.values() if e.table == table.name), None)
        if entity is not None:
            sources[table.alias_or_name] = entity
    found: dict[str, None] = {}
    for column in qualified.find_all(exp.Column):
        entity = sources.get(column.table)
        for term in model.terms.values():
            if (
                term.entity == entity
                and term.kind in ("dimension", "time_dimension")
                and isinstance(term.expr, exp.Column)
                and term.expr.name == column.name
                and term.status != "deprecated"
            ):
                found[term.id] = None
    return list(found)


class Translator:
    """One translation: the query's tables and places, then each clause."""

    def __init__(
        self,
        model: Model,
        tree: exp.Select,
        result: Translation,
        derived: dict[str, Derived] | None = None,
    ) -> None:
        self.model = model
        self.tree = tree
        self.result = result
        #: derived tables read as the rows of an entity, by alias (`translategrain`)
        self.derived = derived or {}
        self.joins: Joins = join_tables(model, tree)
        self.index = TermIndex(model, self.joins.root_entity)
        self.matches = result.matches

    def spawn(self, tree: exp.Select) -> Translator:
        """A translation of a subquery's own rows (`tree`), its terms and notes added to
        this one's."""
        return Translator(self.model, tree, self.result)

    def note(self, text: str) -> None:
        """Say what the translation assumes (once)."""
        if text not in self.result.notes:
            self.result.notes.append(text)

    # --- columns and expressions ---------------------------------------------------------

    def place_of(self, column: exp.Column) -> Place | None:
        """The place of a column of the outer query's tables."""
        return self.joins.places.get(column.table)

    def term(self, name: str) -> exp.Column:
        """A reference to term `name`, noted among the terms the SQL names."""
        if name not in self.result.terms:
            self.result.terms.append(name)
        return exp.column(name)

    def rows(self, node: exp.Expression, place_of: PlaceOf | None = None) -> exp.Expression:
        """`node` (no aggregate) with its columns and sub-expressions replaced by terms."""
        where = place_of or self.place_of
        if node.meta.get("translated"):  # THIS(...) of an existence, already in terms
            return node.copy()
        if isinstance(node, exp.Subquery):
            return row_value(self, node, scope_of(self), guarded=False)[0]
        if isinstance(node, exp.Column) and node.table in self.derived:
            return derived_value(self, node)
        found = self.index.find(node, where)
        if found is not None:
            return self.term(found)
        if isinstance(node, exp.Column):
            return self.key_column(node, where)
        if isinstance(node, exp.AggFunc):
            raise refusal(node, "an aggregate inside a row condition")
        return mapped(node, lambda child: self.rows(child, where))

    def key_column(self, column: exp.Column, place_of: PlaceOf) -> exp.Expression:
        """A key column no dimension names: the dimension that stands for the row it
        identifies (its table's, or the one its relationship leads to)."""
        place = place_of(column)
        entity = self.joins.entities.get(column.table)
        if place is not None and entity is not None:
            target = self.joins.key_target(entity, column.name, place)
            if target is not None:
                term = self.index.identity(*target)
                if term is not None:
                    self.note_identity(column, term.id, target[0])
                    return self.term(term.id)
        raise error(
            "SEM265",
            f"column {column.sql()} maps to no term at this place of the query",
            position(column),
            "add a dimension for it to the glossary, or leave it out of the query",
        )

    def note_identity(self, column: exp.Column, term: str, entity: str) -> None:
        """Say so when a key is read as a dimension that is not the key itself."""
        key = self.model.entities[entity].primary_key
        expr = self.model.terms[term].expr
        if not (isinstance(expr, exp.Column) and list(key) == [expr.name]):
            note = (
                f"{column.sql()} is read as {term} ({expr.sql()}), which stands for a "
                f"{entity} only if no two {entity} rows share a {expr.sql()}; the comparison "
                "of rows checks it on the data"
            )
            if note not in self.result.notes:
                self.result.notes.append(note)

    def measures(self, node: exp.Expression, place_of: PlaceOf | None = None) -> exp.Expression:
        """`node` (it aggregates) with each aggregate replaced by a metric, and each
        formula over metrics by the derived metric it is."""
        where = place_of or self.place_of
        if isinstance(node, exp.Subquery):
            if correlated(node):
                return row_value(self, node, scope_of(self), guarded=False)[0]
            return scalar(self, node)
        if not node.find(exp.AggFunc):
            return self.rows(node, where)
        if isinstance(node, (exp.AggFunc, exp.Filter)):
            return self.aggregate(node, where)
        copy = mapped(node, lambda child: self.measures(child, where))
        derived = self.index.find_derived(copy)
        return self.term(derived) if derived else copy

    def aggregate(self, node: exp.Expression, place_of: PlaceOf) -> exp.Expression:
        """The metric an aggregate is: as defined, or filtered (`FILTER (WHERE c)`, or
        `sum(CASE WHEN c THEN x ELSE 0 END)`)."""
        found = self.index.find(node, place_of)
        if found is not None:
            return self.term(found)
        if isinstance(node, exp.Filter):  # AGG(x) FILTER (WHERE c)
            inner = self.aggregate(node.this, place_of)
            return self.filtered(inner, node, node.expression.this, place_of)
        case = node.this if isinstance(node, (exp.Sum, exp.Count)) else None
        if isinstance(case, exp.Case) and len(case.args.get("ifs") or []) == 1:
            when = case.args["ifs"][0]
            value, default = when.args["true"], case.args.get("default")
            if default is None or (default.is_number and default.to_py() == 0):
                counts = isinstance(node, exp.Count) or (value.is_number and value.to_py() == 1)
                base = exp.Count(this=exp.Star()) if counts else exp.Sum(this=value.copy())
                inner = self.aggregate(base, place_of)
                return self.filtered(inner, node, when.this, place_of)
        entity = self.joins.root_entity
        metrics = sorted(
            t.id for t in self.model.terms.values() if t.is_metric and t.entity == entity
        )
        others = sorted(
            {self.joins.entities[c.table] for c in node.find_all(exp.Column) if place_of(c)}
        )
        why = (
            f": it reads {', '.join(others)}, which the join repeats for each {entity} row"
            if others
            else ""
        )
        raise error(
            "SEM341",
            f"no metric is {node.sql()} over the rows of '{entity}'{why}",
            position(node),
            f"metrics on '{entity}': {', '.join(metrics) or 'none'}; add one to the glossary",
        )

    def filtered(
        self,
        metric: exp.Expression,
        node: exp.Expression,
        condition: exp.Expression,
        place_of: PlaceOf,
    ) -> exp.Expression:
        """`MEASURE(metric) FILTER (WHERE condition)` in business terms."""
        if not isinstance(metric, exp.Column):
            raise refusal(node, "a filtered aggregate of a formula")
        measure = exp.Anonymous(this="MEASURE", expressions=[metric])
        where = exp.Where(this=self.rows(condition, place_of))
        return exp.Filter(this=measure, expression=where)

    def own_conditions(
        self, own: list[exp.Expression], place_of: PlaceOf, scope: Scope
    ) -> exp.Expression:
        """A semi-join's own conditions (`compiler.translaterows.own_conditions`), tied to
        the tables of `scope` or of this query."""
        return own_conditions(self, own, place_of, {**scope_of(self), **scope})

    # --- the clauses ---------------------------------------------------------------------

    def run(self) -> None:
        """Translate every clause and write the business query."""
        tree, result = self.tree, self.result
        select: list[exp.Expression] = []
        aliases: dict[str, exp.Expression] = {}
        shown: list[exp.Expression] = []
        for item in tree.expressions:
            body = item.this if isinstance(item, exp.Alias) else item
            business = self.measures(body) if body.find(exp.AggFunc) else self.rows(body)
            if not body.find(exp.AggFunc):
                shown.append(business)
            result.matches.append(Match("select", body.sql(), business.sql()))
            shown_as: exp.Expression = business
            if isinstance(item, exp.Alias) and not isinstance(business, exp.Column):
                shown_as = cast(exp.Expression, exp.alias_(business, item.alias))
            aliases[item.alias_or_name] = shown_as
            select.append(shown_as)
        conditions = [self.condition(c) for c in self.joins.conditions]
        conditions += self.joins.semijoin_conditions(self)
        conditions += [existence(self, node, no) for node, no in self.joins.existences]
        conditions += [absence(self, node) for node in self.joins.absences]
        conditions += self.joins.residual(self)
        self.check_grouping(tree, shown, bool(self.joins.aggregates(tree)))
        having = tree.args.get("having")
        groups = [self.measures(having.this)] if having is not None else []
        if having is not None:
            result.matches.append(Match("having", having.this.sql(), groups[0].sql()))
        for business, (entity, place) in self.joins.having_conditions(self):
            key = self.index.identity(entity, place)
            if key is None or key.id not in {s.sql() for s in shown}:
                raise refusal(
                    tree, f"a condition on groups of {entity} in a query not grouped by {entity}"
                )
            groups.append(business)
        query = exp.select(*select)
        if conditions:
            query = query.where(exp.and_(*conditions), copy=False)
        if groups:
            query = query.having(exp.and_(*groups), copy=False)
        order = tree.args.get("order")
        if order is not None:
            result.ordered = True
            keys = [self.ordered(o, aliases) for o in order.expressions]
            query.set("order", exp.Order(expressions=keys))
        if tree.args.get("limit"):
            query.set("limit", tree.args["limit"].copy())
        result.business = query.sql(QUERY_DIALECT)  # a business query's own text

    def condition(self, node: exp.Expression) -> exp.Expression:
        """A condition on rows, in business terms (noted among the matches)."""
        if is_comparison(node):  # a value of rows: compiler.translaterows
            return compared(self, node, None, scope_of(self))
        business = self.rows(node)
        self.result.matches.append(Match("where", node.sql(), business.sql()))
        return business

    def ordered(self, node: exp.Ordered, aliases: dict[str, exp.Expression]) -> exp.Ordered:
        """An ORDER BY key: a column of the SELECT list by its business form (or its
        alias), a position as is, anything else translated."""
        copy = node.copy()
        key = node.this
        if isinstance(key, exp.Column) and not key.table and key.name in aliases:
            target = aliases[key.name]
            copy.set(
                "this", exp.column(target.alias) if isinstance(target, exp.Alias) else target.copy()
            )
        elif not (isinstance(key, exp.Literal) and key.is_int):
            copy.set("this", self.measures(key) if key.find(exp.AggFunc) else self.rows(key))
        self.result.matches.append(Match("order by", key.sql(), copy.this.sql()))
        return copy

    def check_grouping(
        self, tree: exp.Select, shown: list[exp.Expression], aggregates: bool
    ) -> None:
        """A business query groups by what it shows: the SQL's GROUP BY must be that."""
        group = tree.args.get("group")
        if group is None:
            if not aggregates and not tree.args.get("distinct"):
                root = self.joins.root_entity
                self.note(
                    f"the SQL lists one row per {root} row, the business query each distinct "
                    "row once (a list of values): they are equal when no two rows repeat; the "
                    "comparison of rows checks it on the data"
                )
            return
        grouped = [self.rows(g) for g in group.expressions]
        for g, business in zip(group.expressions, grouped, strict=True):
            self.result.matches.append(Match("group by", g.sql(), business.sql()))
        hidden = sorted({g.sql() for g in grouped} - {s.sql() for s in shown})
        if hidden or len({g.sql() for g in grouped}) != len({s.sql() for s in shown}):
            raise refusal(
                group,
                "a GROUP BY that differs from the columns shown",
                f"grouped but not shown: {', '.join(hidden)}"
                if hidden
                else "a column shown is not grouped",
            )
