"""The checks of each term on its own: its columns, path, aggregates, filter, window or
shift, the metrics a derived metric combines, and a fill value that fits.

`check_terms` runs them all and takes the terms that fail out of the draft (they are marked
broken, so that what refers to them is not reported again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types

from semantic.errors import suggest
from semantic.model.conversion import check_conversion
from semantic.model.draft import Draft
from semantic.model.entities import quality_rules
from semantic.model.perterms import check_per, own_columns, per_nodes, with_all_written
from semantic.model.semiadditive import check_semi_additive
from semantic.model.types import FILE_DIALECT, Edge, Entity, Term


def check_terms(draft: Draft) -> None:
    """Every term's references checked; the terms that fail leave the draft."""
    broken: set[str] = set()
    for tid, term in list(draft.terms.items()):
        if not _check_term(draft, term):
            broken.add(tid)
    for tid in broken:
        del draft.terms[tid]
    draft.broken |= broken


def _no_rows_to_check(draft: Draft, term: Term) -> None:
    """SEM261: a term without an entity (a concept, a metric over metrics) has no rows of
    its own for a quality rule to measure."""
    what = "concept" if term.kind == "concept" else "metric over other metrics"
    draft.report(
        "SEM261",
        f"term '{term.id}' is a {what}: it has no rows of its own for its quality rules",
        draft.term_docs[term.id].span(("terms", term.id, "quality")),
        "write the rules on the entity, or on the metrics it is made of",
    )


def _check_term(draft: Draft, term: Term) -> bool:
    """Check one term's references; derived metrics get their `refs` filled in."""
    if term.filter is not None and not _check_filter(draft, term):
        return False
    if term.is_over_time and not _check_over_time(draft, term):
        return False
    if term.semi_additive is not None and not check_semi_additive(draft, term):
        return False
    if term.entity is None and term.id in draft.pending_quality:
        _no_rows_to_check(draft, term)
    if term.kind == "concept":
        return True
    if term.is_conversion:
        return check_conversion(draft, term)
    if term.is_derived:
        if term.fill_null is not None:
            draft.warn(
                "SEM229",
                f"fill_null of metric '{term.id}' has no effect: a metric without "
                "entity has no rows of its own; the fill_null of the metrics it "
                "combines applies",
                draft.term_span(term, "fill_null", value=True),
                "remove it, and give fill_null to the base metrics it combines",
            )
        return _check_derived(draft, term)
    assert term.entity is not None
    if term.entity not in draft.entities:
        draft.report(
            "SEM202",
            f"term '{term.id}' is defined on unknown entity '{term.entity}'",
            draft.term_span(term, "entity", value=True),
            suggest(term.entity, draft.entities),
        )
        return False
    ok = _check_columns(draft, term)
    if not term.is_metric and per_nodes(term.expr):  # a metric per its entity (`perterms`)
        per_ok, metrics = check_per(draft, term)
        ok = per_ok and ok
        term = draft.terms[term.id] = replace(term, refs=metrics)
    if term.id in draft.pending_quality:
        entity = draft.entities[term.entity or ""]
        rules = quality_rules(
            draft,
            draft.term_docs[term.id],
            ("terms", term.id),
            draft.pending_quality[term.id],
            entity.id,
            entity.columns,
            term,
        )
        draft.terms[term.id] = replace(term, quality=rules)
    has_agg = term.expr.find(exp.AggFunc) is not None
    if term.is_metric and not has_agg:
        ok = False
        draft.report(
            "SEM208",
            f"metric '{term.id}' on entity '{term.entity}' has no aggregate",
            draft.term_span(term, "expr", value=True),
            "aggregate the rows, e.g. sum(...), count(*), avg(...); or drop `entity` to "
            "define the metric from other metrics",
        )
    elif term.is_metric and _columns_outside_aggregates(term.expr):
        ok = False
        draft.report(
            "SEM208",
            f"metric '{term.id}' uses columns outside an aggregate",
            draft.term_span(term, "expr", value=True),
            "put every column inside an aggregate function",
        )
    elif term.is_metric and not _check_fill(draft, term):
        ok = False
    elif not term.is_metric and has_agg:
        ok = False
        draft.report(
            "SEM208",
            f"{term.kind.replace('_', ' ')} '{term.id}' must not aggregate",
            draft.term_span(term, "condition" if term.kind == "segment" else "expr", value=True),
            "describe one row; define a metric to aggregate",
        )
    return _check_path(draft, term) and ok


def _check_fill(draft: Draft, term: Term) -> bool:
    """A base metric's `fill_null` (a number) fits its value: refused (SEM229) when the
    metric is surely a date, a text, a boolean..., which the fill cannot stand for."""
    if term.fill_null is None:
        return True
    kind = _non_numeric_kind(term, draft.entities)
    if kind is None:
        return True
    draft.report(
        "SEM229",
        f"fill_null of metric '{term.id}' is a number, but the metric's value is {kind} "
        f"({term.expr.sql(FILE_DIALECT)})",
        draft.term_span(term, "fill_null", value=True),
        "remove fill_null: a group without rows then shows NULL; only a numeric metric "
        "takes a number for its groups without rows",
    )
    return False


def _check_columns(draft: Draft, term: Term) -> bool:
    """The columns of a term are columns of its entity (SEM203); a metric's may be of
    another entity, named (SEM202); a dimension or segment reads its own entity only."""
    assert term.entity is not None
    ok = True
    key = "condition" if term.kind == "segment" else "expr"
    for column in own_columns(term.expr):
        qualifier = column.table
        entity = draft.entities[term.entity]
        if qualifier:
            if not term.is_metric:
                ok = False
                draft.report(
                    "SEM208",
                    f"{term.kind.replace('_', ' ')} '{term.id}' may only use columns of "
                    f"'{term.entity}', not '{column.sql()}'",
                    draft.term_span(term, key, value=True),
                    "define the term on the other entity and pin its `path`",
                )
                continue
            if qualifier not in draft.entities:
                ok = False
                draft.report(
                    "SEM202",
                    f"unknown entity '{qualifier}' in metric '{term.id}'",
                    draft.term_span(term, key, value=True),
                    suggest(qualifier, draft.entities),
                )
                continue
            entity = draft.entities[qualifier]
        if column.name not in entity.columns:
            ok = False
            draft.report(
                "SEM203",
                f"unknown column '{column.name}' of entity '{entity.id}' in term '{term.id}'",
                draft.term_span(term, key, value=True),
                _term_for_column(draft, column.name, entity.id)
                or suggest(column.name, entity.columns)
                or f"columns of {entity.id}: " + ", ".join(list(entity.columns)[:8]),
            )
    return ok


def _term_for_column(draft: Draft, name: str, entity: str) -> str | None:
    """The hint for a term id written where a column of `entity` is expected (a metric's or
    dimension's `expr`, which reads the entity's rows): what to write instead."""
    other = draft.terms.get(name)
    if other is None:
        return None
    if other.is_metric:
        return (
            f"'{name}' is a metric, and `expr` names columns of '{entity}': to combine "
            "metrics, leave out `entity` (a derived metric, e.g. expr: net_revenue / "
            "order_count)"
        )
    if other.entity == entity and not other.path and other.kind != "concept":
        kind = other.kind.replace("_", " ")
        return (
            f"`expr` names columns of '{entity}', not terms: write the {kind} '{name}' as its "
            f"expression, {other.expr.sql(FILE_DIALECT)}"
        )
    return f"`expr` names columns of '{entity}', not terms ('{name}' is a term of '{other.entity}')"


def _column_for_term(draft: Draft, term: Term, name: str) -> str | None:
    """The hint for a column of the metric's entity written in its `filter`, which names
    terms: the dimension or segment over that column, when there is one."""
    if term.entity is None or term.entity not in draft.entities:
        return None
    if name not in draft.entities[term.entity].columns:
        return None
    over = sorted(
        t.id
        for t in draft.terms.values()
        if t.kind in ("dimension", "time_dimension")
        and t.entity == term.entity
        and not t.path
        and isinstance(t.expr, exp.Column)
        and not t.expr.table
        and t.expr.name == name
    )
    if over:
        return (
            f"a filter names terms, not columns: write {' or '.join(over)} "
            f"(the {draft.terms[over[0]].kind.replace('_', ' ')} over {term.entity}.{name})"
        )
    return (
        f"a filter names terms, not columns: '{name}' is a column of '{term.entity}' that no "
        "dimension maps; define a dimension over it and filter on that"
    )


def _check_path(draft: Draft, term: Term) -> bool:
    """A term's `path` is a chain of known relationships that ends at its entity (SEM204)."""
    ok = True
    previous: Edge | None = None
    for i, hop in enumerate(term.path):
        source, _, name = hop.partition(".")
        edge = next((e for e in draft.edges.get(source, []) if e.name == name), None)
        if edge is None:
            known = [e.hop for es in draft.edges.values() for e in es]
            draft.report(
                "SEM204",
                f"path of term '{term.id}' names unknown relationship '{hop}'",
                draft.term_span(term, "path", i),
                suggest(hop, known) or "write hops as entity.relationship",
            )
            return False
        if previous is not None and previous.target != edge.source:
            draft.report(
                "SEM204",
                f"path of term '{term.id}' is broken: '{previous.hop}' leads to "
                f"'{previous.target}', not '{edge.source}'",
                draft.term_span(term, "path", i),
            )
            ok = False
        previous = edge
    if ok and previous is not None and previous.target != term.entity:
        draft.report(
            "SEM204",
            f"path of term '{term.id}' ends at '{previous.target}', not at its entity "
            f"'{term.entity}'",
            draft.term_span(term, "path", len(term.path) - 1),
        )
        ok = False
    return ok


def _check_over_time(draft: Draft, term: Term) -> bool:
    """A window or shift: over other metrics, along a time dimension. A window computes
    one base metric over the rows of several periods, so it names one (through derived
    metrics that only add a filter): any aggregate will do, since a window that does not
    add up over periods is computed from the rows themselves (see `plan`)."""
    key = "window" if term.window is not None else "shift"
    spec = term.window or term.shift
    assert spec is not None
    span = draft.term_span(term, key, value=True)
    if term.entity is not None:
        draft.report(
            "SEM208",
            f"metric '{term.id}' has a {key} and an entity",
            span,
            f"a {key} applies to other metrics: drop `entity` and write expr: <metric id>",
        )
        return False
    time = draft.terms.get(spec.time)
    if time is None or time.kind != "time_dimension":
        what = "unknown" if time is None else f"a {time.kind.replace('_', ' ')}, not a"
        draft.report(
            "SEM201" if time is None else "SEM208",
            f"{key} of metric '{term.id}' runs along '{spec.time}', {what} time dimension",
            span,
            suggest(spec.time, [t for t, x in draft.terms.items() if x.kind == "time_dimension"]),
        )
        return False
    if term.window is not None:
        missing = _missing_metric(draft, term)
        if missing is not None:
            # a name defined nowhere (or in a file that could not be read): an unknown term,
            # reported as such (once, and not at all when it only echoes a broken file)
            if missing not in draft.broken:
                draft.report(
                    "SEM201",
                    f"unknown term '{missing}' in the window of metric '{term.id}'",
                    draft.term_span(term, "expr", value=True),
                    suggest(missing, [t for t, x in draft.terms.items() if x.is_metric]),
                )
            return False
        base = _single_metric(draft, term)
        if base is None or not base.is_metric or base.is_derived:
            draft.report(
                "SEM208",
                f"the window of metric '{term.id}' must name one metric with an entity "
                "(a base metric, or a metric that only adds a filter to one)",
                draft.term_span(term, "expr", value=True),
                "a window computes a metric over the rows of several periods; window "
                "each part of a ratio, then divide in a derived metric",
            )
            return False
    return True


def _missing_metric(draft: Draft, term: Term) -> str | None:
    """The name that `term`'s expression, followed through metrics that only name another
    one, ends at when no term has it; None when every name along the way is a term."""
    seen: set[str] = set()
    current: Term | None = term
    while current is not None and isinstance(current.expr, exp.Column):
        if current.id in seen or (current is not term and not current.is_derived):
            return None
        seen.add(current.id)
        name = current.expr.name
        current = draft.terms.get(name)
        if current is None:
            return name
    return None


def _single_metric(draft: Draft, term: Term) -> Term | None:
    """The base metric that `term` names alone, through derived metrics that only add a
    filter (`expr: net_revenue, filter: ...`), or None."""
    seen: set[str] = set()
    current: Term | None = term
    while current is not None and (
        current is term or (current.is_derived and not current.is_conversion)
    ):
        if current.id in seen or not isinstance(current.expr, exp.Column):
            return None
        seen.add(current.id)
        current = draft.terms.get(current.expr.name)
    return current


def _check_filter(draft: Draft, term: Term) -> bool:
    """A metric's filter names dimensions and segments by id (time grains allowed)."""
    assert term.filter is not None
    span = draft.term_span(term, "filter", value=True)
    if term.filter.find(exp.AggFunc) is not None:
        draft.report(
            "SEM208",
            f"filter of metric '{term.id}' must not aggregate",
            span,
            "a filter keeps or drops rows before aggregation",
        )
        return False
    ok = True
    for column in term.filter.find_all(exp.Column):
        name = column.table or column.name
        other = draft.terms.get(name)
        if other is None:
            if name not in draft.broken:
                draft.report(
                    "SEM201",
                    f"unknown term '{name}' in the filter of metric '{term.id}'",
                    span,
                    _column_for_term(draft, term, name)
                    or suggest(name, [t for t, x in draft.terms.items() if not x.is_metric]),
                )
            ok = False
        elif other.kind == "concept":
            draft.report(
                "SEM208",
                f"the filter of metric '{term.id}' uses '{name}', a concept without "
                "physical meaning",
                span,
                "give the concept a meaning (a dimension or segment) to filter on it",
            )
            ok = False
        elif other.is_metric:
            draft.report(
                "SEM208",
                f"the filter of metric '{term.id}' uses metric '{name}'",
                span,
                "filter on dimensions and segments; define a ratio for metrics",
            )
            ok = False
        elif column.table and (other.kind != "time_dimension" or column.name not in other.grains):
            draft.report(
                "SEM208",
                f"'{column.sql()}' in the filter of metric '{term.id}' is "
                "not a time dimension grain",
                span,
                f"grains of '{name}': {', '.join(other.grains) or 'none'}",
            )
            ok = False
    return ok


def _check_derived(draft: Draft, term: Term) -> bool:
    """A metric without entity combines known metrics and aggregates nothing itself; the
    metrics it names become its `refs`."""
    ok = True
    refs: list[str] = []
    if term.expr.find(exp.AggFunc) is not None:
        draft.report(
            "SEM208",
            f"metric '{term.id}' has no entity, so it combines other metrics and must "
            "not aggregate rows",
            draft.term_span(term, "expr", value=True),
            "add `entity:` to aggregate rows of one entity",
        )
        return False
    if per_nodes(term.expr):  # a metric at another grain (`perterms`)
        ok, metrics = check_per(draft, term)
        refs += metrics
        term = replace(term, expr=with_all_written(term.expr))
    for column in own_columns(term.expr):
        name = column.sql(dialect=FILE_DIALECT) if column.table else column.name
        other = draft.terms.get(name)
        if other is None and name in draft.broken:
            ok = False
        elif other is None:
            ok = False
            draft.report(
                "SEM201",
                f"unknown term '{name}' in metric '{term.id}'",
                draft.term_span(term, "expr", value=True),
                # the candidates are listed only for a name that is unknown: listing every
                # metric for each derived metric made checking a large glossary quadratic
                suggest(name, [t for t, x in draft.terms.items() if x.is_metric]),
            )
        elif not other.is_metric:
            ok = False
            draft.report(
                "SEM208",
                f"metric '{term.id}' uses '{name}', which is a {other.kind.replace('_', ' ')}, "
                "not a metric",
                draft.term_span(term, "expr", value=True),
                "a metric without entity combines metrics only",
            )
        elif name not in refs:
            refs.append(name)
    draft.terms[term.id] = replace(term, refs=tuple(refs))
    return ok


def _columns_outside_aggregates(expr: exp.Expression) -> bool:
    """Whether a column of `expr` is read outside every aggregate (`sum(x) + x`)."""
    return any(column.find_ancestor(exp.AggFunc) is None for column in expr.find_all(exp.Column))


#: how an error names a value that is not a number, by its sqlglot type
_KINDS: tuple[tuple[set[Any], str], ...] = (
    ({exp.DataType.Type.DATE, exp.DataType.Type.DATE32}, "a date"),
    ({exp.DataType.Type.TIME, exp.DataType.Type.TIMETZ}, "a time of day"),
    (set(exp.DataType.TEMPORAL_TYPES), "a timestamp"),
    (set(exp.DataType.TEXT_TYPES), "text"),
    ({exp.DataType.Type.BOOLEAN}, "a boolean"),
    (set(exp.DataType.NESTED_TYPES), "a list or structure"),
)

#: arithmetic, whose type sqlglot may get wrong on dates (a date minus a date is a number)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv)


def _non_numeric_kind(term: Term, entities: Mapping[str, Entity]) -> str | None:
    """What a base metric's value surely is when it is not a number ("a date", "text"...),
    from its columns' declared types; None when it is a number or when unsure."""
    if term.entity is None or term.expr.find(*_ARITHMETIC) is not None:
        return None
    tree = term.expr.copy()
    for used in tree.find_all(exp.Column):
        if not used.table:
            used.set("table", exp.to_identifier(term.entity))
    tables = dict.fromkeys([term.entity, *(c.table for c in tree.find_all(exp.Column))])
    schema: dict[str, object] = {}
    for name in tables:
        types: dict[str, str] = {}
        for column in entities[name].columns.values() if name in entities else ():
            try:
                kind = exp.DataType.build(column.type or "", dialect=FILE_DIALECT)
            except (SqlglotError, ValueError):
                continue
            types[column.name] = kind.sql(FILE_DIALECT)
        schema[name] = types
    select = exp.select(tree).from_(exp.Table(this=exp.to_identifier(term.entity)))
    for name in list(tables)[1:]:
        select = select.join(exp.Table(this=exp.to_identifier(name)), join_type="CROSS")
    try:
        value = annotate_types(select, schema=schema, dialect=FILE_DIALECT).selects[0].type
    except (SqlglotError, ValueError, KeyError, TypeError):  # unsure: the engine will tell
        return None
    if value is None:
        return None
    return next((name for kinds, name in _KINDS if value.this in kinds), None)
