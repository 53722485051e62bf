"""The virtual tables the wire endpoint shows a caller: one per subject area (its dimensions
and metrics, as its view has them) and one per entity that has metrics (the dimensions
defined on it, then the metrics over its rows), each column a term the caller's role may
read. An entity without a metric is not listed: a business query needs one, so no query
could read its rows.

A table is listed by its id (as the published views are) and found by its id or its label in
any language; a column is listed by its term's label in the connection's language and found
by the term's id, any label or synonym (a time grain's heading too: `order_date_year`,
`"Date de commande (année)"`). Names match ignoring case, accents and the difference between
spaces and underscores, as in business queries.

>>> from semantic.project import Project
>>> model = Project.load(".").model
>>> tables = virtual_tables(model, None, "fr")
>>> area = find_table(tables, "ventes_par_client")
>>> area.id, [c.name for c in area.columns][:2]
('sales_by_customer', ['Région client', 'Pays client'])
>>> find_column(area, "chiffre d'affaires net").written
'net_revenue'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from semantic.compiler.additivity import metric_aggregation
from semantic.errors import SemanticError, Span, error, suggest
from semantic.model import Model, Term
from semantic.model.grains import grain_heading
from semantic.model.names import normalize_name

#: where a name of the client's SQL that names nothing is placed
SQL = Span("<query>", 1, 1)
#: the kinds of terms an entity table shows as dimension columns
_ROW_KINDS = ("dimension", "time_dimension")


@dataclass(frozen=True)
class Column:
    """A column of a virtual table: the name listed, the term as a business query writes it
    (`net_revenue`, `order_date.year`), and whether it is a measure (a metric)."""

    name: str
    written: str
    measure: bool
    comment: str | None
    #: the aggregations that give the metric back from its parts (`sum`, `max`, `min`)
    combines: tuple[str, ...] = ()
    #: every name it is found by, normalized
    keys: frozenset[str] = frozenset()

    @property
    def term(self) -> str:
        """The id of the column's term."""
        return self.written.partition(".")[0]


@dataclass(frozen=True)
class Table:
    """A virtual table: a subject area (`kind` "subject area") or an entity."""

    id: str
    kind: str
    comment: str
    columns: tuple[Column, ...]
    #: the area's own condition (term ids) and segments, added to every query of it
    filter: exp.Expr | None = None
    segments: tuple[str, ...] = ()
    keys: frozenset[str] = frozenset()
    #: the entity's count-of-rows metric, what COUNT(*) reads (None: none, or an area)
    row_count: str | None = None
    by_key: Mapping[str, Column] = field(default_factory=dict)

    @property
    def dimensions(self) -> list[Column]:
        """The columns that are not measures, in order."""
        return [c for c in self.columns if not c.measure]


def virtual_tables(model: Model, role: str | None, language: str) -> list[Table]:
    """The tables `role` may read (None: every one), columns named in `language`: the
    subject areas whose every term the role may read, then the entities with a metric over
    their rows that the role may read."""
    seen = set(model.terms) if role is None else set(model.policy.role(role).visible)
    tables = []
    for area in model.subject_areas.values():
        written = (*area.dimensions, *area.metrics)
        used = {w.partition(".")[0] for w in (*written, *area.segments)}
        if area.filter is not None:
            used |= {c.table or c.name for c in area.filter.find_all(exp.Column)}
        if not used <= seen:
            continue
        columns = [_column(model, w, language) for w in written]
        comment = area.label(language)
        definition = area.definition.get(language) or next(iter(area.definition.values()), "")
        keys = {area.id, *area.labels.values()}
        tables.append(
            _table(area.id, "subject area", _sentence(comment, definition), columns, keys)
        )
        tables[-1] = _with(tables[-1], filter=area.filter, segments=area.segments)
    for entity in model.entities.values():
        terms = [t for t in model.terms.values() if t.entity == entity.id and t.id in seen]
        rows = [t for t in terms if t.kind in _ROW_KINDS and not t.path]
        metrics = [t for t in terms if t.is_metric and not t.is_over_time]
        columns = [_column(model, t.id, language) for t in (*rows, *metrics)]
        if not metrics:
            continue  # a business query needs a metric: no query could read its rows
        counts = [t.id for t in metrics if _counts_rows(t)]
        table = _table(entity.id, "entity", entity.description or "", columns, {entity.id})
        tables.append(_with(table, row_count=counts[0] if len(counts) == 1 else None))
    return tables


def find_table(tables: Sequence[Table], name: str) -> Table:
    """The table `name` names (its id or a label, in any language); SEM463 when none."""
    key = normalize_name(name)
    for table in tables:
        if key in table.keys:
            return table
    raise error(
        "SEM463",
        f'relation "{name}" does not exist: no subject area or entity of the glossary '
        "that this role may read is named so",
        SQL,
        suggest(name, [t.id for t in tables])
        or "list the tables with \\dt, or information_schema.tables",
    )


def find_column(table: Table, name: str) -> Column:
    """The column of `table` that `name` names; SEM464 when none."""
    found = table.by_key.get(normalize_name(name))
    if found is None:
        raise error(
            "SEM464",
            f'column "{name}" does not exist in "{table.id}"',
            SQL,
            suggest(name, [c.name for c in table.columns])
            or f"the columns of {table.id} are {', '.join(c.name for c in table.columns)}",
        )
    return found


def _column(model: Model, written: str, language: str) -> Column:
    tid, _, grain = written.partition(".")
    term = model.terms[tid]
    names = _names(model, term)
    if grain:
        label = grain_heading(term.label(language), grain, language)
        keys = {f"{tid}_{grain}", written}
        keys |= {grain_heading(term.label(lang), grain, lang) for lang in model.languages}
    else:
        label, keys = term.label(language), names
    definition = term.definition.get(language) or next(iter(term.definition.values()), None)
    combines = metric_aggregation(model, term)[0] if term.is_metric else ()
    return Column(
        label,
        written,
        term.is_metric,
        definition,
        combines,
        frozenset(normalize_name(k) for k in {*keys, label}),
    )


def _names(model: Model, term: Term) -> set[str]:
    """Every name of `term`: its id, labels and synonyms in every language."""
    found = {term.id, *term.labels.values()}
    for synonyms in term.synonyms.values():
        found.update(synonyms)
    return found


def _counts_rows(term: Term) -> bool:
    """Whether a metric counts its entity's rows: `count(*)` without a condition."""
    return (
        isinstance(term.expr, exp.Count)
        and isinstance(term.expr.this, exp.Star)
        and term.filter is None
    )


def _table(tid: str, kind: str, comment: str, columns: list[Column], names: set[str]) -> Table:
    by_key: dict[str, Column] = {}
    for column in columns:
        for key in column.keys:
            by_key.setdefault(key, column)
    keys = frozenset(normalize_name(n) for n in names)
    return Table(tid, kind, comment, tuple(columns), keys=keys, by_key=by_key)


def _with(table: Table, **changes: object) -> Table:
    from dataclasses import replace

    return replace(table, **changes)  # type: ignore[arg-type]


def _sentence(label: str, definition: str) -> str:
    return f"{label}. {definition}" if definition else label


def iter_columns(tables: Sequence[Table]) -> Iterator[tuple[Table, Column]]:
    """Every (table, column) pair, in order."""
    for table in tables:
        for column in table.columns:
            yield table, column


def refused(message: str, hint: str) -> SemanticError:
    """SEM462: SQL over a virtual table that no business query answers right."""
    return error("SEM462", message, SQL, hint)
