"""Checks of the data against what the model declares about keys.

Each promise of the model is measured as a share of rows (`KeyMeasure`), which `check --data`
turns into diagnostics, `semantic quality` into built-in rules with scores, and the
publication gate into refusals:

- a primary key is never NULL (SEM439): a row without one cannot be told from its
  neighbours, and every other check assumes it;
- primary keys, and the keys on the "one" side of every relationship, are unique (SEM406): a
  duplicate there multiplies rows in every join and inflates totals;
- a foreign key matches a row (SEM407, a warning): a row without a match stays in the
  metrics of its entity, under a NULL group for the dimensions of the other one;
- a column declared `nullable: false` holds no NULL, and every row of a `required`
  relationship has a foreign key that finds its row (SEM276): the compiler relies on both
  (inner joins, plain equality, filters applied per key before a join), so data that breaks
  them may be answered differently than a model without them would;
- a metric whose expression reads a column through a relationship loses the rows without a
  match (SEM440, a warning): the expression is NULL for them, and aggregates skip NULLs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlglot import exp

from semantic.compiler.dialects import column_types, to_sql
from semantic.compiler.naming import Names
from semantic.compiler.resolve import Path, describe_path, find_path
from semantic.errors import Diagnostic, SemanticError
from semantic.model import Edge, Entity, Model, Term
from semantic.model.nodes import column, table
from semantic.progress import task

#: runs a SELECT and returns its rows
Fetch = Callable[[str], list[tuple[Any, ...]]]

#: what declares a primary key's promises (`KeyMeasure.why`)
PRIMARY_KEY = "its primary key"

Kind = Literal["not_null", "unique", "match", "coverage", "total"]


@dataclass(frozen=True, slots=True)
class KeyMeasure:
    """One promise of the model about keys, measured on the rows of `entity`: `failing` of
    its `rows` break it."""

    kind: Kind
    entity: str
    #: the key's columns (the foreign key's, for `match`)
    columns: tuple[str, ...]
    rows: int
    failing: int
    #: a key value that breaks it (`unique`: one that repeats; `not_null`: the key's value)
    example: str | None
    #: what declares it: "its primary key", "the relationship orders.customer"...
    why: str
    #: `unique`: how many distinct values repeat; `match` and `coverage`: the other entity
    detail: str = ""
    #: `coverage`: the metric; `match` and `coverage`: the path, as `a -> b`
    metric: str | None = None
    path: str = ""
    #: `match` and `total`: the relationship's name
    relationship: str = ""

    @property
    def broken(self) -> bool:
        """Whether a declaration is broken: NULL or repeated keys, a NULL in a column
        declared `nullable: false`, a row of a `required` relationship without its row
        (orphans of other relationships and lost rows are legal, if worth knowing)."""
        return self.failing > 0 and self.kind in ("not_null", "unique", "total")

    @property
    def declared_not_null(self) -> bool:
        """A `not_null` measure of a column declared `nullable: false`, not of a primary key."""
        return self.kind == "not_null" and self.why != PRIMARY_KEY

    @property
    def score(self) -> float:
        """The share of rows that keep the promise (1.0 for an empty table)."""
        return 1 - self.failing / self.rows if self.rows else 1.0


def check_keys(model: Model, fetch: Fetch, dialect: str = "duckdb") -> list[Diagnostic]:
    """NULL primary keys (SEM439), duplicate keys on the one side (SEM406), unmatched foreign
    keys (SEM407) and metrics that lose rows to them (SEM440)."""
    return key_diagnostics(model, measure_keys(model, fetch, dialect))


def measure_keys(model: Model, fetch: Fetch, dialect: str = "duckdb") -> list[KeyMeasure]:
    """Every key promise of `model` measured on the data, in a stable order: primary keys not
    NULL, keys unique, foreign keys matched, metrics covered."""
    with task("measuring keys") as step:
        return _measure_keys(model, fetch, dialect, step)


def _measure_keys(
    model: Model, fetch: Fetch, dialect: str, step: Callable[[str], None]
) -> list[KeyMeasure]:
    types = column_types(model)

    def one(query: exp.Select) -> tuple[Any, ...]:
        rows = fetch(to_sql(query, dialect, schema=types))
        return rows[0] if rows else (0,)

    counts: dict[str, int] = {}

    def rows_of(eid: str) -> int:
        if eid not in counts:
            counts[eid] = int(
                one(exp.select(exp.Count(this=exp.Star())).from_(table(model.entities[eid].table)))[
                    0
                ]
                or 0
            )
        return counts[eid]

    found: list[KeyMeasure] = []
    for entity in model.entities.values():
        if entity.primary_key:
            step(f"{entity.id}: primary key")
            nulls, example = one(_nulls(entity, entity.primary_key))
            found.append(
                KeyMeasure(
                    "not_null",
                    entity.id,
                    entity.primary_key,
                    rows_of(entity.id),
                    int(nulls or 0),
                    None if example is None else str(example),
                    PRIMARY_KEY,
                )
            )
        for name, spec in entity.columns.items():
            if not spec.nullable and name not in entity.primary_key:
                step(f"{entity.id}: {name} not null")
                nulls, _ = one(_nulls(entity, (name,)))
                found.append(
                    KeyMeasure(
                        "not_null",
                        entity.id,
                        (name,),
                        rows_of(entity.id),
                        int(nulls or 0),
                        None,
                        f"its column {name} (nullable: false)",
                    )
                )
    for (eid, columns), why in _unique_keys(model).items():
        entity = model.entities[eid]
        step(f"{eid}: unique {', '.join(columns)}")
        values, rows, example = one(_duplicates(entity, columns))
        found.append(
            KeyMeasure(
                "unique",
                eid,
                columns,
                rows_of(eid),
                int(rows or 0),
                None if example is None else str(example),
                why,
                detail=str(int(values or 0)),
            )
        )
    for edges in model.edges.values():
        for edge in edges:
            if edge.declared and (edge.cardinality == "many_to_one" or edge.required):
                step(f"{edge.hop}: matches")
                (orphans,) = one(_orphans(model, edge, edge.required))
                found.append(
                    KeyMeasure(
                        "total" if edge.required else "match",
                        edge.source,
                        tuple(s for s, _ in edge.keys),
                        rows_of(edge.source),
                        int(orphans or 0),
                        None,
                        f"the relationship {edge.hop}",
                        detail=edge.target,
                        path=describe_path(edge.source, (edge,)),
                        relationship=edge.name,
                    )
                )
    for term in model.terms.values():
        for target, path in _parents_read(model, term):
            query = _coverage(model, term, target, path)
            if query is None:
                continue
            assert term.entity is not None
            step(f"{term.id}: rows reached")
            (lost,) = one(query)
            found.append(
                KeyMeasure(
                    "coverage",
                    term.entity,
                    tuple(s for s, _ in path[0].keys),
                    rows_of(term.entity),
                    int(lost or 0),
                    None,
                    f"metric '{term.id}'",
                    detail=target,
                    metric=term.id,
                    path=describe_path(term.entity, path),
                )
            )
    return found


def key_diagnostics(model: Model, measures: Sequence[KeyMeasure]) -> list[Diagnostic]:
    """The diagnostics of `check --data` for the measures that fail."""
    return [_diagnostic(model, m) for m in measures if m.failing]


def _diagnostic(model: Model, m: KeyMeasure) -> Diagnostic:
    entity = model.entities[m.entity]
    if m.declared_not_null:
        return Diagnostic(
            "SEM276",
            f"{m.failing} row(s) of '{entity.table}' have a NULL in {m.columns[0]}, which "
            "the model declares `nullable: false`: queries compiled on that promise may "
            "leave them out or group them apart",
            entity.span,
            "fix the data, or remove `nullable: false` from the column",
        )
    if m.kind == "total":
        return Diagnostic(
            "SEM276",
            f"{m.failing} row(s) of '{m.entity}' have a {'/'.join(m.columns)} that is NULL "
            f"or finds no row in '{m.detail}', yet {m.why} is declared `required: true`: "
            "queries compiled on that promise join them with an inner join, which leaves "
            "them out",
            entity.span,
            "fix the data, or remove `required: true` from the relationship",
        )
    if m.kind == "not_null":
        example = f" (e.g. {m.example})" if len(m.columns) > 1 else ""
        return Diagnostic(
            "SEM439",
            f"{m.failing} row(s) of '{entity.table}' have a NULL in the primary key "
            f"{_name(m.columns)}{example}: each still counts as a row, but matches no "
            "relationship, and nothing identifies it",
            entity.span,
            "fix the data, or declare the primary key the data really has",
        )
    if m.kind == "unique":
        return Diagnostic(
            "SEM406",
            f"{m.detail} value(s) of {_name(m.columns)} appear more than once in "
            f"'{entity.table}' (e.g. {m.example}), yet {m.why} says each is unique: joins "
            "to it would multiply rows",
            entity.span,
            "fix the data, or declare the relationship one_to_many / the right key",
        )
    if m.kind == "match":
        return Diagnostic(
            "SEM407",
            f"{m.failing} row(s) of '{m.entity}' have a {'/'.join(m.columns)} with no match "
            f"in '{m.detail}': they stay in the metrics of '{m.entity}', under a NULL group "
            f"for the dimensions of '{m.detail}'; a metric whose expression reads a column of "
            f"'{m.detail}' may leave them out (SEM440 names it)",
            entity.span,
            "expected for optional relationships; otherwise fix the data",
            severity="warning",
        )
    assert m.metric is not None
    term = model.terms[m.metric]
    return Diagnostic(
        "SEM440",
        f"metric '{m.metric}' reads {m.detail} through {m.path}: {m.failing} of its "
        f"{m.rows} rows of '{m.entity}' ({1 - m.score:.1%}) have no match there, so the "
        f"metric's expression is NULL for them and {m.metric} leaves them out",
        term.span,
        f"fix the data, or say what a missing {m.detail} means in the expression "
        f"(coalesce({m.detail}.column, 0))",
        severity="warning",
    )


def _name(columns: Sequence[str]) -> str:
    inner = ", ".join(columns)
    return f"({inner})" if len(columns) > 1 else inner


def _unique_keys(model: Model) -> dict[tuple[str, tuple[str, ...]], str]:
    """The keys said to be unique: (entity, columns) -> what says so."""
    unique: dict[tuple[str, tuple[str, ...]], str] = {}
    for entity in model.entities.values():
        if entity.primary_key:
            unique[(entity.id, entity.primary_key)] = PRIMARY_KEY
    for edges in model.edges.values():
        for edge in edges:
            if edge.to_one:
                columns = tuple(target for _, target in edge.keys)
                unique.setdefault((edge.target, columns), f"the relationship {edge.hop}")
    return unique


def _text(keys: list[exp.Column]) -> exp.Expression:
    """The key's value as text, to show: `a, b` for a composite key."""
    value = cast(
        exp.Expression,
        keys[0] if len(keys) == 1 else exp.func("concat_ws", exp.Literal.string(", "), *keys),
    )
    return exp.cast(value, exp.DataType.Type.TEXT)


def _nulls(entity: Entity, columns: Sequence[str]) -> exp.Select:
    """SELECT how many rows have a NULL in the key, and the key of one of them."""
    keys = [exp.column(c) for c in columns]
    shown = [
        exp.Coalesce(
            this=exp.cast(k, exp.DataType.Type.TEXT), expressions=[exp.Literal.string("NULL")]
        )
        for k in keys
    ]
    example = (
        shown[0] if len(shown) == 1 else exp.func("concat_ws", exp.Literal.string(", "), *shown)
    )
    return (
        exp.select(exp.Count(this=exp.Star()), exp.func("min", example))
        .from_(table(entity.table))
        .where(exp.or_(*(k.copy().is_(exp.null()) for k in keys)))
    )


def _duplicates(entity: Entity, columns: Sequence[str]) -> exp.Select:
    """SELECT how many key values repeat, on how many rows, and one of them."""
    keys = [exp.column(c) for c in columns]
    names = Names(columns)
    example, rows = names.new("example"), names.new("key_rows")
    repeated = (
        exp.select(
            *keys, exp.alias_(_text(keys), example), exp.alias_(exp.Count(this=exp.Star()), rows)
        )
        .from_(table(entity.table))
        .where(exp.and_(*(k.copy().is_(exp.null()).not_() for k in keys)))
        .group_by(*(k.copy() for k in keys))
        .having(exp.Count(this=exp.Star()) > 1)
    )
    return exp.select(
        exp.Count(this=exp.Star()),
        exp.func("sum", exp.column(rows)),
        exp.func("min", exp.column(example)),
    ).from_(repeated.subquery("repeated"))


def _orphans(model: Model, edge: Edge, nulls: bool = False) -> exp.Select:
    """SELECT how many rows have a non-NULL foreign key that matches nothing (with `nulls`,
    a NULL in the foreign key counts too: a `required` relationship promises neither)."""
    source, target = model.entities[edge.source], model.entities[edge.target]
    on = exp.and_(*(exp.column(s, "s").eq(exp.column(t, "t")) for s, t in edge.keys))
    missing = exp.column(edge.keys[0][1], "t").is_(exp.null())
    where = (
        missing
        if nulls
        else exp.and_(*(exp.column(s, "s").is_(exp.null()).not_() for s, _ in edge.keys), missing)
    )
    return (
        exp.select(exp.Count(this=exp.Star()))
        .from_(table(source.table, "s"))
        .join(table(target.table, "t"), on=on, join_type="left")
        .where(where)
    )


def _parents_read(model: Model, term: Term) -> list[tuple[str, Path]]:
    """The other entities whose columns the expression of metric `term` reads, each with
    its path of to-one relationships (those without one are SEM204 elsewhere)."""
    if not term.is_metric or term.entity is None:
        return []
    found: dict[str, Path] = {}
    for used in term.expr.find_all(exp.Column):
        target = used.table
        if not target or target == term.entity or target in found:
            continue
        if target not in model.entities:
            continue
        try:
            path = find_path(model, term.entity, target)
        except SemanticError:
            continue
        if path:
            found[target] = path
    return list(found.items())


def _coverage(model: Model, term: Term, target: str, path: Path) -> exp.Select | None:
    """SELECT how many rows of `term`'s entity have no row of `target` at the end of `path`
    while an aggregate of `term` that reads `target` gets NULL from them; None when no
    aggregate argument reads `target` (`count(*)`...)."""
    assert term.entity is not None
    parents = dict(_parents_read(model, term))
    aliases: dict[str, str] = {term.entity: "t0"}
    joined = exp.select().from_(table(model.entities[term.entity].table, "t0"))
    n = 0
    for other, steps in parents.items():
        parent = "t0"
        for edge in steps:
            n += 1
            alias = f"t{n}"
            on = exp.and_(*(column(s, parent).eq(column(t, alias)) for s, t in edge.keys))
            joined = joined.join(
                table(model.entities[edge.target].table, alias), on=on, join_type="left"
            )
            parent = alias
        aliases[other] = parent

    def qualify(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return column(node.name, aliases.get(node.table or term.entity or "", "t0"))
        return node

    arguments = []
    for agg in term.expr.find_all(exp.AggFunc):
        argument = agg.this
        if isinstance(argument, exp.Distinct) and len(argument.expressions) == 1:
            argument = argument.expressions[0]
        if not isinstance(argument, exp.Expression) or isinstance(argument, exp.Star):
            continue
        if any(c.table == target for c in argument.find_all(exp.Column)):
            arguments.append(argument.copy().transform(qualify, copy=False))
    if not arguments:
        return None
    last = path[-1]
    missing = column(last.keys[0][1], aliases[target]).is_(exp.null())
    lost = exp.and_(missing, exp.or_(*(a.is_(exp.null()) for a in arguments)))
    return joined.select(
        exp.Sum(
            this=exp.Case(
                ifs=[exp.If(this=lost, true=exp.Literal.number(1))],
                default=exp.Literal.number(0),
            )
        ),
        copy=False,
    )
