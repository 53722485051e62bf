"""Views for BI tools, planned: one per entity and one per subject area, as DDL text.

This module does no I/O. It is given what the target schema holds (`SchemaObject`s, read by
`publish`) and returns a `ViewPlan`: the views to create, the ones to drop, and the DDL
statements that do both, in any sqlglot dialect. The tool owns its schema: every view it
creates carries a comment starting with `[semantic:<project>]`, and it replaces or drops
only views with that mark.

Views either read the source tables (PostgreSQL, a DuckDB file that holds the tables) or,
`copy=True` (a DuckDB file published from data files), read a copy of their own result in
the data schema `<schema>_data`, so that the target holds what the views show and nothing
more: no column that no view shows, none of a term above the confidentiality allowed.

>>> from semantic.project import Project
>>> model = Project.load(".").model
>>> plan = plan_views(model, dialect="postgres", source_schema="public")
>>> print(plan.statements()[0])
CREATE SCHEMA IF NOT EXISTS "semantic"
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.optimizer.qualify_tables import qualify_tables

from semantic.compiler.additivity import reaggregation
from semantic.compiler.areas import area_names, area_select
from semantic.compiler.dialects import column_types, dialect_of, to_sql
from semantic.compiler.localtime import in_project_time
from semantic.compiler.parse import parse_query
from semantic.compiler.plan import plan_query
from semantic.compiler.refs import QUERY_DIALECT
from semantic.compiler.render import build_tree
from semantic.errors import Diagnostic, SemanticError, error, suggest
from semantic.files.levels import DEFAULT_LEVELS
from semantic.model import Entity, Model, SubjectArea, Term
from semantic.outputs.access import Access, access_for
from semantic.outputs.grants import grant

#: The schema the views go to unless told otherwise.
DEFAULT_SCHEMA = "semantic"
#: The mark that says a view belongs to the tool: a comment that starts with it.
MARK = "[semantic:{project}]"
#: Confidentiality levels, from the least to the most confidential.
LEVELS: tuple[str, ...] = DEFAULT_LEVELS
#: The data schema of copies is named after the views' schema, with this suffix.
DATA_SUFFIX = "_data"


@dataclass(frozen=True, slots=True)
class SchemaObject:
    """Something the target schema holds: a table or view, with its comment."""

    name: str
    kind: str  # "view" or "table" (anything else that has a name)
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ViewColumn:
    """A column of a view: its published name and what it means."""

    name: str
    comment: str | None


@dataclass(frozen=True, slots=True)
class View:
    """One view: where it comes from (an entity or a subject area) and its SELECT."""

    name: str
    source: str  # "entity" or "subject area"
    query: exp.Select
    columns: tuple[ViewColumn, ...]
    comment: str


@dataclass(frozen=True, slots=True)
class ViewPlan:
    """What publishing will do to the schema, and the DDL that does it."""

    schema: str
    dialect: str
    views: tuple[View, ...]
    #: owned views that exist and are declared again: dropped and created anew
    replaced: tuple[str, ...]
    #: owned views that the glossary no longer declares
    dropped: tuple[str, ...]
    #: subject areas left out, each with the term above the confidentiality allowed
    withheld: tuple[tuple[str, str], ...] = ()
    #: the declared column types of the source tables (`dialects.column_types`)
    types: Mapping[str, Mapping[str, str]] | None = None
    #: the catalog the schema is in, when it is not the connection's own (an attached file)
    catalog: str | None = None
    #: the schema that holds a copy of each view's result, which the view reads (DuckDB
    #: files published from data files); None when the views read the source tables
    data_schema: str | None = None
    #: owned tables of the data schema, all dropped (those still needed are copied anew)
    data_dropped: tuple[str, ...] = ()
    #: views over the data files that earlier versions left in the file's `main` schema
    stale: tuple[str, ...] = ()
    #: what was left out and why, as warnings (SEM436: a view without any column)
    notices: tuple[Diagnostic, ...] = ()
    #: the start of the comment of everything the plan creates (`MARK`)
    mark: str = ""
    #: views withheld by the quality gate, each with why (`outputs.quality.gate`)
    gated: tuple[tuple[str, str], ...] = ()
    #: views published with --force although the gate would withhold them, with why
    forced: tuple[tuple[str, str], ...] = ()
    #: the role of the policy file the views are published for (`--role`), or None
    role: str | None = None
    #: the database role granted SELECT on each view (and USAGE on the schema), or None
    grantee: str | None = None

    def statements(self, *, pretty: bool = False) -> list[str]:
        """The DDL, in order: schemas, drops, then each view (after the copy of its result,
        if any) with its comments. Run in one transaction, it moves the schema from its state
        to the declared one."""
        trees: list[exp.Expression] = [
            exp.Create(this=self._schema(self.schema), kind="SCHEMA", exists=True)
        ]
        if self.data_schema is not None:
            data = self._schema(self.data_schema)
            trees.append(exp.Create(this=data, kind="SCHEMA", exists=True))
        for name in (*self.dropped, *self.replaced):
            trees.append(exp.Drop(tables=[self._table(name)], kind="VIEW"))
        for name in self.stale:
            trees.append(exp.Drop(tables=[self._table(name, "main")], kind="VIEW"))
        for name in self.data_dropped:
            trees.append(exp.Drop(tables=[self._table(name, self.data_schema)], kind="TABLE"))
        for view in self.views:
            query = view.query.copy()
            if self.data_schema is not None:
                copy = self._table(view.name, self.data_schema)
                trees.append(exp.Create(this=copy, kind="TABLE", expression=query))
                trees.append(
                    exp.Comment(
                        this=copy.copy(),
                        kind="TABLE",
                        expression=exp.Literal.string(f"{self.mark} data of view {view.name}"),
                    )
                )
                # no catalog in the view's text: DuckDB looks its tables up in the view's
                # own database, whatever name a BI tool opens the file under
                query = exp.select(
                    *(exp.column(exp.to_identifier(c.name, quoted=True)) for c in view.columns)
                ).from_(
                    exp.Table(
                        this=exp.to_identifier(view.name, quoted=True),
                        db=exp.to_identifier(self.data_schema, quoted=True),
                    )
                )
            trees.append(exp.Create(this=self._table(view.name), kind="VIEW", expression=query))
            trees.append(
                exp.Comment(
                    this=self._table(view.name),
                    kind="VIEW",
                    expression=exp.Literal.string(view.comment),
                )
            )
            trees += [
                exp.Comment(
                    this=exp.column(
                        exp.to_identifier(column.name, quoted=True),
                        table=exp.to_identifier(view.name, quoted=True),
                        db=exp.to_identifier(self.schema, quoted=True),
                        catalog=self._catalog(),
                    ),
                    kind="COLUMN",
                    expression=exp.Literal.string(column.comment),
                )
                for column in view.columns
                if column.comment
            ]
            if self.grantee is not None:
                trees.append(grant("SELECT", "TABLE", self._table(view.name), self.grantee))
        if self.grantee is not None and self.views:
            trees.append(grant("USAGE", "SCHEMA", self._schema(self.schema), self.grantee))
        try:
            return [
                to_sql(t, self.dialect, pretty=pretty, schema=self.types, copy=False) for t in trees
            ]
        except SemanticError as exc:
            first = exc.diagnostics[0]
            if first.code != "SEM317":
                raise
            raise error(
                "SEM419",
                f"cannot write the views in dialect '{self.dialect}': "
                f"{first.message.partition(': ')[2]}",
                None,
                "publish to DuckDB or PostgreSQL",
            ) from None

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form, for `views plan --format json`."""
        return {
            "schema": self.schema,
            "dialect": self.dialect,
            "views": [
                {
                    "name": v.name,
                    "source": v.source,
                    "columns": [c.name for c in v.columns],
                    "replaces": v.name in self.replaced,
                }
                for v in self.views
            ],
            "dropped": list(self.dropped),
            "withheld": [{"subject_area": a, "term": t} for a, t in self.withheld],
            "withheld_by_quality": [{"view": v, "reason": r} for v, r in self.gated],
            "forced": [{"view": v, "reason": r} for v, r in self.forced],
            "data_schema": self.data_schema,
            "stale": list(self.stale),
            "notices": [n.as_dict() for n in self.notices],
            "role": self.role,
            "grantee": self.grantee,
            "statements": self.statements(),
        }

    def script(self) -> str:
        """The statements as one SQL script, views pretty-printed."""
        lines = [f"-- {len(self.views)} view(s) in schema {self.schema}"]
        if self.role is not None:
            lines.append(f"-- as role {self.role} of the policy file may read them")
        if self.grantee is not None:
            lines.append(f"-- each granted to database role {self.grantee}")
        if self.data_schema is not None:
            lines.append(f"-- each reading a copy of its result in schema {self.data_schema}")
        if self.dropped:
            lines.append(f"-- dropped, no longer declared: {', '.join(self.dropped)}")
        if self.stale:
            stale = ", ".join(f"main.{name}" for name in self.stale)
            lines.append(f"-- dropped, left by an earlier version: {stale}")
        if self.withheld:
            held = ", ".join(f"{a} (uses {t})" for a, t in self.withheld)
            lines.append(f"-- withheld, too confidential: {held}")
        lines += [f"-- {n.render().splitlines()[0]}" for n in self.notices]
        lines += [f"{statement};" for statement in self.statements(pretty=True)]
        return "\n".join(lines) + "\n"

    def _catalog(self) -> exp.Identifier | None:
        return None if self.catalog is None else exp.to_identifier(self.catalog, quoted=True)

    def _schema(self, name: str) -> exp.Table:
        return exp.Table(this=exp.to_identifier(name, quoted=True), db=self._catalog())

    def _table(self, name: str, schema: str | None = None) -> exp.Table:
        return exp.Table(
            this=exp.to_identifier(name, quoted=True),
            db=exp.to_identifier(schema or self.schema, quoted=True),
            catalog=self._catalog(),
        )


def plan_views(
    model: Model,
    *,
    dialect: str,
    source_schema: str,
    schema: str = DEFAULT_SCHEMA,
    language: str | None = None,
    existing: Iterable[SchemaObject] = (),
    max_confidentiality: str | None = None,
    copy: bool = False,
    source_catalog: str | None = None,
    catalog: str | None = None,
    existing_data: Iterable[SchemaObject] = (),
    stale: Iterable[str] = (),
    role: str | None = None,
    user: Mapping[str, str] | None = None,
) -> ViewPlan:
    """The views the glossary declares, in `schema`, over the tables of `source_schema`.

    Columns are named by term ids, or by labels in `language`. `existing` is what the schema
    holds now: owned views that are no longer declared are dropped; a declared name taken by
    an object without the mark is refused (SEM416), since the tool never touches it. With
    `max_confidentiality`, terms above that level are left out of entity views, and subject
    areas that use one (directly or through a metric) are withheld, their views dropped.
    With `role` (a role of the policy file; `user`: the caller's attributes its filters
    read), the views show what that role may read: the terms above its clearance are left
    out as above, its masked dimensions are masked in the views' SQL, its row filters apply
    to the rows of every entity view and inside every subject area's aggregates, and on
    PostgreSQL each view is granted to the role's `database_role`. With both, a term must
    pass both. A view left without any column is not published (a SEM436 warning in
    `notices`).

    With `copy`, each view's result is copied into a table of the data schema
    `<schema>_data` (whose tables `existing_data` lists: the owned ones are all dropped, a
    needed name taken by anything else is SEM416), reading the source tables in
    `source_catalog`, and the view reads that copy. `catalog` names the database the schemas
    are in when it is not the connection's own; `stale` lists views of its `main` schema
    that an earlier version left over the data files, to drop.
    """
    dialect_of(dialect)
    access = access_for(model, max_confidentiality, role, user)
    allowed = access.sees
    if not schema:
        raise error("SEM419", "the views schema has no name", None, "pass --schema NAME")
    if language is not None and language not in model.languages:
        raise error(
            "SEM419",
            f"language '{language}' is not one of the project's ({', '.join(model.languages)})",
            None,
            suggest(language, model.languages) or "omit --language to name columns by ids",
        )
    mark = MARK.format(project=model.name)
    mark_text = f"{mark} role {access.role.id}:" if access.role is not None else mark
    withheld = []
    areas = []
    for area in model.subject_areas.values():
        above = sorted(t for t in _terms_used(model, area) if not allowed(model.terms[t]))
        if above:
            withheld.append((area.id, above[0]))
        else:
            areas.append(area)
    source = _Source(source_schema, source_catalog if copy else None)
    views = [
        *(
            entity_view(model, e, language, mark_text, source, dialect, allowed, access)
            for e in model.entities.values()
            if access.sees_entity(e)
        ),
        *(subject_area_view(model, a, language, mark_text, source, dialect, access) for a in areas),
    ]
    # a view without columns is no valid SQL (and nothing to read), whatever left it empty
    notices = tuple(access.empty(schema, v.name, v.source) for v in views if not v.columns)
    views = [v for v in views if v.columns]
    data_schema = schema + DATA_SUFFIX if copy else None
    taken = _taken(views, existing, schema, mark, model.name, "view")
    if data_schema is not None:
        taken += _taken(views, existing_data, data_schema, mark, model.name, "table")
    if taken:
        raise SemanticError(taken)
    declared = {v.name for v in views}
    owned = sorted(o.name for o in existing if _owned(o, mark))
    return ViewPlan(
        schema=schema,
        dialect=dialect,
        views=tuple(views),
        replaced=tuple(n for n in owned if n in declared),
        dropped=tuple(n for n in owned if n not in declared),
        withheld=tuple(withheld),
        types=column_types(model),
        catalog=catalog,
        data_schema=data_schema,
        data_dropped=tuple(sorted(o.name for o in existing_data if _owned(o, mark, "table")))
        if copy
        else (),
        stale=tuple(sorted(stale)),
        notices=notices,
        mark=mark,
        role=None if access.role is None else access.role.id,
        # only PostgreSQL has privileges to grant (DuckDB: the file is what is shared)
        grantee=access.role.database_role if access.role and dialect == "postgres" else None,
    )


def _taken(
    views: Sequence[View],
    existing: Iterable[SchemaObject],
    schema: str,
    mark: str,
    project: str,
    kind: str,
) -> list[Diagnostic]:
    """SEM416 for each view whose name, in `schema`, is an object the tool does not own."""
    present = {o.name: o for o in existing}
    return [
        Diagnostic(
            "SEM416",
            f"{present[v.name].kind} '{schema}.{v.name}' exists and was not created by "
            f"semantic (project '{project}'): it is left alone",
            None,
            "drop or rename it, or publish to another schema with --schema",
        )
        for v in views
        if v.name in present and not _owned(present[v.name], mark, kind)
    ]


@dataclass(frozen=True, slots=True)
class _Source:
    """Where views read the entities' tables: a schema, and a catalog (only when the views'
    result is copied: a stored view never names a catalog)."""

    schema: str
    catalog: str | None = None


def _terms_used(model: Model, area: SubjectArea) -> set[str]:
    """Every term a subject area's numbers depend on: the ones it names, and those its
    metrics are computed from (other metrics, filters, time dimensions of windows)."""
    names = [w.partition(".")[0] for w in (*area.dimensions, *area.metrics, *area.segments)]
    if area.filter is not None:
        names += [c.table or c.name for c in area.filter.find_all(exp.Column)]
    return model.terms_read(names)


def _owned(thing: SchemaObject, mark: str, kind: str = "view") -> bool:
    return thing.kind == kind and (thing.comment or "").startswith(mark)


# --- entity views ---------------------------------------------------------------------------


def entity_view(
    model: Model,
    entity: Entity,
    language: str | None,
    mark: str,
    source: _Source | str,
    dialect: str = "duckdb",
    allowed: Callable[[Term], bool] = lambda term: True,
    access: Access | None = None,
) -> View:
    """The view of one entity: its key columns, then the dimensions, time dimensions and
    segments defined on it (role-playing ones, which have a `path`, belong to the entities
    their path starts from and are left out, as are the metrics per entity, which only a
    query computes). A key column that a dimension states exactly
    takes the dimension's name; other keys keep their physical name. Terms that are not
    `allowed` are left out, with the key columns they state. With a role's `access`, its
    masked dimensions show masked and only the rows its filters let it read are read."""
    terms = [
        t
        for t in model.terms.values()
        # a metric per entity (MEASURE(...) PER) is a query's value, not a column's: it is
        # read through a subject area, where the compiler computes it
        if t.entity == entity.id and t.kind in _ROW_KINDS and not t.path and not t.reads_per
    ]
    hidden = {t.expr.name for t in terms if not allowed(t) and isinstance(t.expr, exp.Column)}
    terms = [t for t in terms if allowed(t)]
    by_column = {
        t.expr.name: t for t in terms if isinstance(t.expr, exp.Column) and not t.expr.table
    }
    keys = list(entity.primary_key)
    for edge in model.edges.get(entity.id, ()):
        keys += [source for source, _ in edge.keys if edge.declared and source not in keys]
    keys = [k for k in keys if k not in hidden]
    items: list[tuple[str, exp.Expression, str | None]] = []
    for key in keys:
        term = by_column.get(key)
        if term is None:
            described = entity.columns[key].description
            items.append((key, exp.column(key, quoted=True), described))
        else:
            value = _shown(model, term, access)
            items.append((_name(term, language), value, _definition(term, language)))
    stated = {by_column[k].id for k in keys if k in by_column}
    items += [
        (_name(t, language), _shown(model, t, access), _definition(t, language))
        for t in terms
        if t.id not in stated
    ]
    name = entity.id
    _unique_columns(name, [n for n, _, _ in items], dialect)
    where = _as_source(source)
    rows = access.rows(entity) if access is not None else None
    table = (
        _source_table(entity.table, where).as_(entity.id)
        if rows is None
        else exp.Subquery(
            this=qualify_tables(rows, db=where.schema, catalog=where.catalog),
            alias=exp.TableAlias(this=exp.to_identifier(entity.id)),
        )
    )
    query = exp.select(*(exp.alias_(e, n, quoted=True) for n, e, _ in items)).from_(table)
    comment = f"{mark} entity {entity.id}" + (
        f": {entity.description}" if entity.description else ""
    )
    return View(name, "entity", query, tuple(ViewColumn(n, c) for n, _, c in items), comment)


def _shown(model: Model, term: Term, access: Access | None) -> exp.Expression:
    """What an entity view shows of a term: its value, masked when the role masks it."""
    # an instant (timestamptz) shows as the project's wall-clock time, as queries read it
    value = in_project_time(model, term, term.expr.copy())
    return value if access is None else access.mask(term, value)


def _as_source(source: _Source | str) -> _Source:
    return _Source(source) if isinstance(source, str) else source


def _source_table(name: str, source: _Source) -> exp.Table:
    table = exp.to_table(name)
    if not table.db:
        table.set("db", exp.to_identifier(source.schema))
    if source.catalog and not table.catalog:
        table.set("catalog", exp.to_identifier(source.catalog))
    return table


# --- subject-area views ---------------------------------------------------------------------


def subject_area_columns(
    model: Model, area: SubjectArea, language: str | None, dialect: str = "duckdb"
) -> list[str]:
    """The column names of a subject area's view, in order: ids, or labels in `language`;
    SEM418 when two would share a name in `dialect`."""
    names = area_names(model, area, language)
    columns = [names[w] for w in (*area.dimensions, *area.metrics)]
    _unique_columns(area.id, columns, dialect)
    return columns


def subject_area_view(
    model: Model,
    area: SubjectArea,
    language: str | None,
    mark: str,
    source: _Source | str,
    dialect: str = "duckdb",
    access: Access | None = None,
) -> View:
    """The view of a subject area: its business query, compiled (as `access`'s role may
    run it: its row filters inside every aggregate, its masks on the values shown), reading
    `source`'s schema."""
    names = area_names(model, area, language)
    written = (*area.dimensions, *area.metrics)
    _unique_columns(area.id, [names[w] for w in written], dialect)
    text = area_select(area, names).sql(dialect=QUERY_DIALECT)
    parsed = parse_query(model, text)
    if access is not None:
        parsed = access.applied(parsed)
    tree = build_tree(plan_query(model, parsed))
    if access is not None:
        tree = access.inlined(tree, parsed)
    # unqualified names inside a view are looked up in the view's own schema first (DuckDB),
    # where an entity view may have the table's name: qualify every table
    where = _as_source(source)
    query = qualify_tables(tree, db=where.schema, catalog=where.catalog, dialect=QUERY_DIALECT)
    definition = area.definition.get(language or "") or next(iter(area.definition.values()), "")
    comment = f"{mark} subject area {area.id}: {area.label(language or model.languages[0])}"
    if definition:
        comment += f". {definition}"
    # BI tools show column comments: say there which metrics a sum of rows gets wrong
    notes = {r.metric: r.note(names) for r in reaggregation(model, area)}
    columns = tuple(
        ViewColumn(
            names[w],
            _with_note(_definition(model.terms[w.partition(".")[0]], language), notes.get(w)),
        )
        for w in written
    )
    return View(area.id, "subject area", query, columns, comment)


def _with_note(definition: str | None, note: str | None) -> str | None:
    if not note:
        return definition
    return f"{definition.rstrip()} {note}" if definition else note


# --- names ----------------------------------------------------------------------------------

_ROW_KINDS = ("dimension", "time_dimension", "segment")


def _name(term: Term, language: str | None) -> str:
    return term.id if language is None else term.label(language)


def _definition(term: Term, language: str | None) -> str | None:
    chosen = term.definition.get(language or "")
    return chosen or next(iter(term.definition.values()), None)


#: the longest identifier, in bytes, of dialects that cut longer ones short
_MAX_NAME = {"postgres": 63}


def _unique_columns(view: str, names: Sequence[str], dialect: str) -> None:
    """Two columns of one view may not share a name (in PostgreSQL's eyes: exactly;
    in DuckDB's and most BI tools': ignoring case), nor be cut short by the database."""
    seen: dict[str, str] = {}
    limit = _MAX_NAME.get(dialect)
    for name in names:
        if limit is not None and len(name.encode()) > limit:
            raise error(
                "SEM418",
                f"column '{name}' of view '{view}' is longer than the {limit} bytes "
                f"that {dialect} keeps of a name",
                None,
                "give the term a shorter label in this language, or name columns by ids",
            )
        key = name.casefold()
        if key in seen:
            raise error(
                "SEM418",
                f"view '{view}' would have two columns named '{name}'",
                None,
                "give the terms distinct labels in this language, or name columns by ids "
                "(omit --language)",
            )
        seen[key] = name
