"""Metrics per entity, used as dimensions: `MEASURE(order_count) PER (customer)` is each
customer's number of orders, a value of each customer row (a group key, in CASE, in WHERE).

`with_per_entity` runs before planning: each such node becomes a reference to a dimension
of the entity made for this query only, read from a column that the entity's rows gain
(`perrows.entity_rows`): a subquery of the metric grouped by the entity's primary key, LEFT
JOINed on it, so an entity without rows gets the metric's fill (0 for a count). The value
is a property of the entity: the query's WHERE does not change it (only the metric's own
FILTER does), and a role's row filters apply inside it as everywhere else, since the
subquery is planned from the query itself. The values of one entity whose subqueries read
the same rows (the same FILTER...) are columns of one subquery (`compiler.pershare`).

The grand total read next to dimensions (`WHERE customer_account_balance >
MEASURE(average_account_balance) PER (ALL)`, `pernodes.row_kinds`) is a value of rows by the
same rule: planned here too, from the query without its WHERE, as a scalar subquery (one
row whatever the data), read in place of the PER node.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlglot import exp

from semantic.compiler.locate import QUERY_FILE
from semantic.compiler.perkept import kept_entities
from semantic.compiler.pernodes import ALL, entity_of, is_per_entity, mode, per_words, saved_per
from semantic.compiler.perrows import VALUE, PerValue, key_column, value_name
from semantic.compiler.pershare import rows_key, shared_columns
from semantic.compiler.plannodes import Plan, entities_relied_on
from semantic.compiler.refs import (
    QUERY_DIALECT,
    BusinessQuery,
    OutputColumn,
    find_refs,
    make_ref,
    ref_of,
    show,
)
from semantic.compiler.render import build_tree
from semantic.errors import Span, error
from semantic.model import Model, Term

#: the prefix of the ids of the dimensions made for one query (no glossary id starts so)
PREFIX = "__per_"


def with_per_entity(
    model: Model, query: BusinessQuery, plan: Callable[[Model, BusinessQuery], Plan]
) -> tuple[Model, BusinessQuery]:
    """`model` with a dimension for each per-entity value of `query`, and `query` reading
    them (`plan` plans the subquery of each); the glossary's dimensions and segments that
    hold such values (`model.perterms`) read them from the same columns. The grand totals
    read as values of rows become scalar subqueries in place."""
    given = [c.expr for c in query.columns] + list(query.filters)
    given += [o.expr for o in query.order if o.expr is not None]
    read = model.terms_read(r.ident for t in given for r in find_refs(t, "term"))
    saved = [t for t in sorted(read) if _holds_per(model.terms[t])]
    if not saved and not any(t.find(exp.Per) for t in given):
        return model, query  # nothing per entity: the query's trees need no copy
    columns = tuple(replace(c, expr=c.expr.copy()) for c in query.columns)
    filters = tuple(f.copy() for f in query.filters)
    rooted = [(c.expr, not c.is_metric) for c in columns] + [(f, True) for f in filters]
    grand_ids = {id(n) for t, row in rooted for n in grand_row_values(t, row)}
    trees = [t for t, _ in rooted] + [o.expr for o in query.order if o.expr is not None]
    per_nodes = any(is_per_entity(n) for t in trees for n in t.find_all(exp.Per))
    if not grand_ids and not saved and not per_nodes:
        return model, query
    terms = dict(model.terms)
    kept = kept_entities(model, query, trees, saved, terms)
    made: dict[str, str] = {}
    #: (entity, what decides the rows of its value) -> the values planned as one subquery
    pending: dict[tuple[str, str], list[tuple[str, exp.Per, str]]] = {}
    #: each value's words (`per_words`), by its text: written once (it renders SQL)
    words: dict[str, str] = {}
    keys: dict[str, list[str]] = {}
    extended = replace(model, terms=terms, path_cache=model.path_cache)
    relied: set[str] = set(query.relied_on)  # for SEM441: see `Plan.relied_on`

    def value_column(node: exp.Per, place: Span, saved: str = "") -> tuple[str, str]:
        """The column of the entity's rows that holds `node`'s value, made once (planned
        with the values of the same rows, below), and the value in words."""
        text = node.sql(QUERY_DIALECT)
        if text not in words:
            words[text] = per_words(node)
        if text not in made:
            eid = entity_of(node)
            entity = model.entities[eid]
            if not entity.primary_key:
                raise error(
                    "SEM353",
                    f"'{show(node)}': entity '{eid}' has no primary key to compute a metric "
                    "per entity",
                    place,
                    f"declare primary_key for entity '{eid}' in models/",
                )
            if eid not in keys:
                keys[eid] = [_key_term(terms, eid, c) for c in entity.primary_key]
            made[text] = column = f"per_{len(made) + 1}"
            label = f"{saved}: {words[text]}" if saved else words[text]
            pending.setdefault((eid, rows_key(model, node.this)), []).append((column, node, label))
        return made[text], words[text]

    grand: dict[str, exp.Expression] = {}

    def swap(node: exp.Expression) -> exp.Expression:
        if id(node) in grand_ids:
            assert isinstance(node, exp.Per)
            text = node.sql(QUERY_DIALECT)
            if text not in grand:
                # one row, whatever the data: an aggregate without groups
                sub = _subquery(query, [], [node.this])
                planned = plan(extended, sub)
                relied.update(entities_relied_on(planned))
                grand[text] = _scalar(build_tree(planned), metric_fill(model, node.this))
            return grand[text].copy()
        if not is_per_entity(node):
            return node
        assert isinstance(node, exp.Per)
        column, tid = value_column(node, Span(QUERY_FILE, 1, 1))
        # the words are the id: no glossary id has a space, and `semantic explain` shows it
        if tid in terms and terms[tid].expr.name != column:  # two values, one wording
            tid = f"{tid} ({column})"
        terms.setdefault(tid, _term(tid, entity_of(node), column))
        return make_ref("term", tid)

    for tid in saved:  # the term reads its entity's new columns in place of its PER nodes
        term = model.terms[tid]

        def column_of(node: exp.Expression, term: Term = term) -> exp.Expression:
            if not isinstance(node, exp.Per):
                return node
            per = saved_per(node, model)
            return exp.column(value_column(per, query.place(term.id), term.id)[0])

        terms[tid] = replace(term, expr=term.expr.transform(column_of, copy=True))
    columns = tuple(replace(c, expr=c.expr.transform(swap, copy=False)) for c in columns)
    filters = tuple(f.transform(swap, copy=False) for f in filters)
    rows: dict[str, list[PerValue]] = {}
    for (eid, _), group in pending.items():  # one subquery per entity and rows read
        sub = _subquery(query, keys[eid], [n.this for _, n, _ in group], kept.get(eid, ()))
        planned = plan(extended, sub)
        relied.update(entities_relied_on(planned))
        tree = build_tree(planned)
        values = rows.setdefault(eid, [])
        names = [value_name(i) for i in range(len(group))]
        shared = shared_columns(list({id(v.rows): v.rows for v in values}.values()), tree)
        if shared is not None:  # the same SQL as another group's: more columns of it
            tree, names = shared
        for (column, node, label), name in zip(group, names, strict=True):
            values.append(PerValue(column, tree, metric_fill(model, node.this), label, name))
    per_rows = dict(query.per_rows)
    for eid, values in rows.items():
        values.sort(key=_number)  # the order written, whatever subquery computes each
        per_rows[eid] = (*per_rows.get(eid, ()), *values)
    return extended, replace(
        query,
        columns=columns,
        filters=filters,
        per_rows=per_rows,
        relied_on=frozenset(relied),
    )


def grand_row_values(tree: exp.Expression, row: bool) -> list[exp.Per]:
    """The grand totals (`PER (ALL)`) of `tree` read as values of rows: all of them when
    `tree` is a row condition or a dimension (`row`, as `pernodes.row_kinds` decided),
    else those in a metric's FILTER condition."""
    return [
        node
        for node in tree.find_all(exp.Per)
        if mode(node) == ALL and (row or _in_filter_condition(node))
    ]


def _in_filter_condition(node: exp.Expression) -> bool:
    """Whether `node` is inside the condition of a metric's FILTER (rows, not groups)."""
    child: exp.Expr = node
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Filter) and child is parent.expression:
            return True
        child, parent = parent, parent.parent
    return False


def _holds_per(term: Term) -> bool:
    """A dimension or segment of the glossary that reads a metric per its entity."""
    return not term.is_metric and term.expr.find(exp.Per) is not None


def _number(value: PerValue) -> int:
    """The number of `value`'s column (per_3: 3): the order the query writes them in."""
    return int(value.column.rsplit("_", 1)[1])


def _subquery(
    query: BusinessQuery,
    keys: list[str],
    metrics: list[exp.Expression],
    kept: tuple[exp.Expression, ...] = (),
) -> BusinessQuery:
    """The business query of per-entity values: the metrics by the entity's key (columns
    `v`, `v2`...), over all the rows a role may read (not the query's WHERE, which it may
    help decide), for the entities that meet `kept` only (`kept_entities`: each value of
    those is unchanged)."""
    columns = [OutputColumn(key_column(i), make_ref("term", k), False) for i, k in enumerate(keys)]
    columns += [OutputColumn(value_name(i), m.copy(), True) for i, m in enumerate(metrics)]
    return replace(
        query,
        columns=tuple(columns),
        filters=tuple(k.copy() for k in kept),
        having=(),
        order=(),
        limit=None,
        offset=None,
        masks={},
    )


def _key_term(terms: dict[str, Term], eid: str, key: str) -> str:
    """A dimension of entity `eid`'s key column `key`, made for the query."""
    tid = f"{PREFIX}{eid}_{key}"
    terms.setdefault(tid, _term(tid, eid, key))
    return tid


def _term(tid: str, eid: str, column: str) -> Term:
    return Term(
        id=tid,
        kind="dimension",
        domain="",
        labels={},
        synonyms={},
        definition={},
        owners=(),
        status="approved",
        confidentiality="public",
        tags=(),
        entity=eid,
        expr=exp.column(column),
    )


def _scalar(rows: exp.Query, fill: exp.Expression | None) -> exp.Expression:
    """The value of `rows` (one row, whatever the data, of column `v`) as a scalar subquery;
    `fill` only where it has no row at all. A NULL aggregate over rows that exist stays
    NULL, as the metric shows it at its own grain (`COALESCE` would fill it)."""
    if fill is None:
        return exp.paren(exp.Subquery(this=rows), copy=False)
    alias = exp.TableAlias(this=exp.to_identifier("grand"))
    none = exp.Count(this=exp.Star()).eq(0)
    value = exp.Max(this=exp.column(VALUE, table="grand"))
    picked = exp.Case(ifs=[exp.If(this=none, true=fill.copy())], default=value)
    inner = exp.select(picked).from_(exp.Subquery(this=rows, alias=alias))
    return exp.paren(exp.Subquery(this=inner), copy=False)


def metric_fill(model: Model, metric: exp.Expression) -> exp.Expression | None:
    """What an entity (or a group) without rows shows: what the same expression gives at
    the query's own grain for a group without rows, where each base metric shows its fill
    (0 for a count, else NULL) and derived metrics are computed from their parts' fills
    (`MEASURE(order_count + line_count)`: 0 + 0), a conversion metric's conversions from its
    conversion metric's (its rate: those over its base metric's fill, NULL over 0). A derived
    metric's own `fill_null` is read nowhere (SEM229). None when no part has a fill (NULL)."""
    filled = False

    def fill_of(term: Term) -> exp.Expression:
        nonlocal filled
        if term.conversion is not None:  # its conversions show its conversion metric's fill
            conversions = fill_of(model.terms[term.conversion.metric])
            if term.conversion.calculation == "conversions":
                return conversions
            # the rate, as `conversion.conversion_value` computes it over the two fills
            rate = exp.Div(
                this=exp.cast(conversions, exp.DataType.Type.DOUBLE),
                expression=exp.Nullif(
                    this=fill_of(model.terms[term.expr.name]), expression=exp.Literal.number(0)
                ),
            )
            return exp.paren(rate, copy=False)
        if term.is_derived:
            return exp.paren(
                term.expr.copy().transform(
                    lambda n: fill_of(model.terms[n.name]) if isinstance(n, exp.Column) else n,
                    copy=False,
                ),
                copy=False,
            )
        if term.fill_null is None:
            return exp.null()
        filled = True
        return term.fill_null.copy()

    def swap(node: exp.Expression) -> exp.Expression:
        ref = ref_of(node)
        if ref is not None and ref.kind == "term":
            return fill_of(model.terms[ref.ident])
        return node

    inner = metric.unnest()
    while isinstance(inner, exp.Filter):  # the fill of the rows that meet it: the same
        inner = inner.this.unnest()
    found = inner.copy().transform(swap, copy=False)
    return found if filled else None
