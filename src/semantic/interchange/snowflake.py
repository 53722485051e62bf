"""Snowflake semantic views: `semantic export snowflake` writes a `CREATE SEMANTIC VIEW`
statement, or with `--yaml` the semantic model YAML that Cortex Analyst reads (and that
`SYSTEM$CREATE_SEMANTIC_VIEW_FROM_YAML` turns into the same view); see docs/exporting.md.

The structure follows Snowflake's documentation of CREATE SEMANTIC VIEW
(docs.snowflake.com/en/sql-reference/sql/create-semantic-view) and of the semantic model
(docs.snowflake.com/en/user-guide/snowflake-cortex/cortex-analyst/semantic-model-spec,
docs.snowflake.com/en/user-guide/views-semantic/semantic-view-yaml-spec):

- an entity -> a logical table (its alias is the entity id) with its primary key;
- a declared relationship -> `many (keys) REFERENCES one (keys)`, or a relationship entry
  (left table: the many side) in YAML;
- a dimension or time dimension -> a dimension on its entity; a role-playing one (a `path`)
  on the first entity of its path, reading a logical table of its own for each table of the
  path, an alias of the base table (`customer__nation AS nation`, related to `customer` alone),
  so that customer nation and supplier nation do not meet on one `nation` table that two
  relationship paths reach (`customer.customer_nation AS customer__nation.n_name`);
- a segment -> a named filter of its table (YAML only: the DDL has none, reported);
- a metric over one entity -> a metric of its table, every column qualified; the row-level
  argument of an aggregate that reaches another table becomes a fact of the metric's table
  (`lineitem.profit_value AS ... partsupp.ps_supplycost ...`), which the metric aggregates;
- a metric over metrics -> a derived metric of the view (`a.m1 / NULLIF(b.m2, 0)`).

Expressions are written in Snowflake SQL through the dialect pass (`to_sql`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from sqlglot import exp

from semantic.compiler.dialects import to_sql
from semantic.interchange.common import Notice, dump_yaml, new_id
from semantic.interchange.warehouse import (
    Derived,
    Field,
    Measure,
    Named,
    Route,
    Segment,
    Warehouse,
    entity_of,
    render,
    route_of,
    type_of,
    walk_model,
)
from semantic.model import Model

__all__ = ["export_snowflake"]

DIALECT = "snowflake"
_PREFIX = "Snowflake cannot carry"
_FISCAL = ("fiscal_quarter", "fiscal_year")


def _text(value: str) -> str:
    """A Snowflake string literal."""
    return to_sql(exp.Literal.string(value), DIALECT)


def _flow(values: list[Any]) -> CommentedSeq:
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


class _Snowflake:
    """The objects of one semantic view, written as DDL or YAML."""

    def __init__(
        self,
        house: Warehouse,
        database: str | None,
        schema: str | None,
        description: str | None = None,
    ) -> None:
        self.house = house
        self.description = description
        self.model = house.model
        self.database, self.schema = database, schema
        self.notices: list[Notice] = list(house.notices)
        #: metric id -> (its expression with facts swapped in, [(fact name, fact expr)])
        self.metrics: dict[str, tuple[exp.Expression, list[tuple[str, exp.Expression]]]] = {}
        #: (home entity, route) of a role-playing dimension -> its logical table's alias,
        #: for the route and each of its beginnings, in the order they are met
        self.roles: dict[tuple[str, Route], str] = {}
        aliases = set(self.model.entities)
        playing = [(f.id, f.home, f.expr) for f in house.fields.values()]
        playing += [(g.id, g.home, g.condition) for g in house.segments.values()]
        for tid, home, tree in playing:
            if not self.model.terms[tid].path:
                continue
            for col in tree.find_all(exp.Column):
                route = route_of(col)
                for i in range(1, len(route) + 1):
                    key = (home, route[:i])
                    if key not in self.roles:
                        name = new_id(aliases, "__".join([home, *(e.name for e in route[:i])]))
                        aliases.add(name)
                        self.roles[key] = name
        taken = set(self.model.terms)
        for measure in house.measures.values():
            self.metrics[measure.id] = self.split_facts(measure, taken)
        for item in house.fields.values():
            fiscal = [g for g in item.grains if g in _FISCAL]
            if fiscal:
                self.lost(
                    item.id, f"grains {', '.join(fiscal)} of '{item.id}'", "no fiscal calendar"
                )

    def lost(self, tid: str | None, what: str, why: str) -> None:
        term = self.model.terms.get(tid or "")
        file, line = (term.span.file, term.span.line) if term else ("semantic.yml", 0)
        self.notices.append(Notice(file, line, what, why, prefix=_PREFIX))

    def column(self, home: str) -> Callable[[exp.Column], str]:
        """How a column of an expression placed on `home` is written: `table.column`."""
        return lambda col: f"{entity_of(col, home)}.{col.name}"

    def field_column(self, item: Field | Segment) -> Callable[[exp.Column], str]:
        """How a column of a dimension or segment is written: on the logical table of its
        role when it is role-playing, else `table.column`."""
        home = item.home

        def name(col: exp.Column) -> str:
            role = self.roles.get((home, route_of(col)))
            return f"{role}.{col.name}" if role else self.column(home)(col)

        return name

    def role_tables(self) -> list[tuple[str, str, str, Route]]:
        """The logical tables of the roles: (alias, entity, the alias it is related from,
        the edge's route)."""
        found = []
        for (home, route), name in self.roles.items():
            parent = self.roles[(home, route[:-1])] if len(route) > 1 else home
            found.append((name, route[-1].target, parent, route))
        return found

    def split_facts(
        self, measure: Measure, taken: set[str]
    ) -> tuple[exp.Expression, list[tuple[str, exp.Expression]]]:
        """The metric's expression with each aggregate argument that reaches another table
        replaced by a fact of the metric's table (a metric aggregates its own table's rows;
        facts may look up the tables its rows reference)."""
        facts: list[tuple[str, exp.Expression]] = []
        tree = measure.expr.copy()
        for agg in list(tree.find_all(exp.AggFunc)):
            arg = agg.this
            inner = arg.expressions[0] if isinstance(arg, exp.Distinct) else arg
            if inner is None or not any(
                entity_of(c, measure.home) != measure.home for c in inner.find_all(exp.Column)
            ):
                continue
            name = new_id(taken, f"{measure.id}_value")
            taken.add(name)
            facts.append((name, inner.copy()))
            ref = exp.column(name)
            ref.meta["fact"] = True
            inner.replace(ref)
        return tree, facts

    def metric_sql(self, tid: str) -> str:
        tree, _ = self.metrics[tid]
        home = self.house.measures[tid].home

        def name(col: exp.Column) -> str:
            return f"{home}.{col.name}" if col.meta.get("fact") else self.column(home)(col)

        return render(tree, DIALECT, name)

    def derived_sql(self, item: Derived) -> str:
        def name(col: exp.Column) -> str:
            if col.name in self.house.measures:
                return f"{self.house.measures[col.name].home}.{col.name}"
            return col.name  # a derived metric is the view's own

        return render(item.expr, DIALECT, name)

    def table_name(self, entity: str) -> str:
        parts = [p for p in (self.database, self.schema) if p]
        return ".".join([*parts, self.model.entities[entity].table])

    # --- DDL ---------------------------------------------------------------------------------

    def ddl(self, name: str) -> str:
        house = self.house
        tables = []
        for eid, entity in self.model.entities.items():
            line = f"    {eid} AS {self.table_name(eid)}"
            if entity.primary_key:
                line += f"\n      PRIMARY KEY ({', '.join(entity.primary_key)})"
            if entity.description:
                line += f"\n      COMMENT = {_text(entity.description)}"
            tables.append(line)
        relationships = [
            f"    {link.name} AS {link.many} ({', '.join(a for a, _ in link.keys)}) "
            f"REFERENCES {link.one} ({', '.join(b for _, b in link.keys)})"
            for link in house.links
        ]
        for alias, eid, parent, route in self.role_tables():
            entity = self.model.entities[eid]
            line = f"    {alias} AS {self.table_name(eid)}"
            if entity.primary_key:
                line += f"\n      PRIMARY KEY ({', '.join(entity.primary_key)})"
            line += f"\n      COMMENT = {_text(self.role_comment(eid, route))}"
            tables.append(line)
            edge = route[-1]
            relationships.append(
                f"    {alias} AS {parent} ({', '.join(a for a, _ in edge.keys)}) "
                f"REFERENCES {alias} ({', '.join(b for _, b in edge.keys)})"
            )
        facts = [
            f"    {self.house.measures[tid].home}.{fact} AS "
            + render(tree, DIALECT, self.column(self.house.measures[tid].home))
            for tid, (_, found) in self.metrics.items()
            for fact, tree in found
        ]
        dimensions = [
            self.entry(f"{f.home}.{f.id}", render(f.expr, DIALECT, self.field_column(f)), f)
            for f in house.fields.values()
        ]
        metrics = [
            self.entry(f"{m.home}.{m.id}", self.metric_sql(m.id), m)
            for m in house.measures.values()
        ]
        metrics += [self.entry(d.id, self.derived_sql(d), d) for d in house.derived.values()]
        for segment in house.segments.values():
            self.lost(
                segment.id, f"segment '{segment.id}'", "the DDL has no named filters (see --yaml)"
            )
        text = f"CREATE OR REPLACE SEMANTIC VIEW {name}\n"
        for clause, items in (
            ("TABLES", tables),
            ("RELATIONSHIPS", relationships),
            ("FACTS", facts),
            ("DIMENSIONS", dimensions),
            ("METRICS", metrics),
        ):
            if items:
                text += f"  {clause} (\n" + ",\n".join(items) + "\n  )\n"
        if self.description:
            text += f"  COMMENT = {_text(self.description)}\n"
        return text.rstrip("\n") + ";\n"

    def role_comment(self, eid: str, route: Route) -> str:
        return f"{eid}, in the role reached by {', '.join(e.hop for e in route)}"

    def entry(self, name: str, sql: str, item: Named) -> str:
        line = f"    {name} AS {sql}"
        if item.synonyms:
            line += f"\n      WITH SYNONYMS = ({', '.join(_text(s) for s in item.synonyms)})"
        comment = item.description or item.label
        line += f"\n      COMMENT = {_text(comment)}"
        return line

    # --- YAML --------------------------------------------------------------------------------

    def yaml(self, name: str) -> str:
        house = self.house
        tables = []
        for eid, entity in self.model.entities.items():
            table = CommentedMap(name=eid)
            if entity.description:
                table["description"] = entity.description
            table["base_table"] = CommentedMap(
                database=self.database, schema=self.schema, table=entity.table
            )
            if entity.primary_key:
                table["primary_key"] = CommentedMap(columns=_flow(list(entity.primary_key)))
            fields = [f for f in house.fields.values() if f.home == eid]
            for key, kind in (("dimensions", "dimension"), ("time_dimensions", "time_dimension")):
                items = [self.yaml_field(f) for f in fields if f.kind == kind]
                if items:
                    table[key] = items
            facts = [
                CommentedMap(
                    name=fact,
                    expr=render(tree, DIALECT, self.column(eid)),
                    data_type=self.data_type(self.house.measures[tid].home, tree),
                )
                for tid, (_, found) in self.metrics.items()
                if self.house.measures[tid].home == eid
                for fact, tree in found
            ]
            if facts:
                table["facts"] = facts
            metrics = [
                self.described(CommentedMap(name=m.id), m, self.metric_sql(m.id))
                for m in house.measures.values()
                if m.home == eid
            ]
            if metrics:
                table["metrics"] = metrics
            filters = [
                self.described(
                    CommentedMap(name=s.id), s, render(s.condition, DIALECT, self.field_column(s))
                )
                for s in house.segments.values()
                if s.home == eid
            ]
            if filters:
                table["filters"] = filters
            tables.append(table)
        links = [
            (link.name, link.many, link.one, link.keys, link.cardinality) for link in house.links
        ]
        for alias, eid, parent, route in self.role_tables():
            table = CommentedMap(name=alias, description=self.role_comment(eid, route))
            table["base_table"] = CommentedMap(
                database=self.database, schema=self.schema, table=self.model.entities[eid].table
            )
            if self.model.entities[eid].primary_key:
                keys = list(self.model.entities[eid].primary_key)
                table["primary_key"] = CommentedMap(columns=_flow(keys))
            tables.append(table)
            edge = route[-1]
            cardinality = "one_to_one" if edge.cardinality == "one_to_one" else "many_to_one"
            links.append((alias, parent, alias, edge.keys, cardinality))
        relationships = []
        for link_name, many, one, pairs, cardinality in links:
            item = CommentedMap(name=link_name, left_table=many, right_table=one)
            item["relationship_columns"] = [
                CommentedMap(left_column=a, right_column=b) for a, b in pairs
            ]
            item["join_type"] = "left_outer"
            item["relationship_type"] = cardinality
            relationships.append(item)
        model = CommentedMap(name=name)
        if self.description:
            model["description"] = self.description
        model["tables"] = tables
        if relationships:
            model["relationships"] = relationships
        derived = [
            self.described(CommentedMap(name=d.id), d, self.derived_sql(d))
            for d in house.derived.values()
        ]
        if derived:
            model["metrics"] = derived
        return dump_yaml(
            model,
            "Snowflake semantic view (Cortex Analyst), by `semantic export snowflake --yaml`.",
        )

    def yaml_field(self, item: Field) -> CommentedMap:
        node = CommentedMap(name=item.id)
        if item.synonyms:
            node["synonyms"] = _flow(list(item.synonyms))
        node["description"] = item.description or item.label
        node["expr"] = render(item.expr, DIALECT, self.field_column(item))
        node["data_type"] = self.data_type(item.home, item.expr, item.type)
        return node

    def described(self, node: CommentedMap, item: Named, sql: str) -> CommentedMap:
        if item.synonyms:
            node["synonyms"] = _flow(list(item.synonyms))
        node["description"] = item.description or item.label
        node["expr"] = sql
        return node

    def data_type(self, home: str, tree: exp.Expression, found: exp.DataType | None = None) -> str:
        """Snowflake's name of the expression's type (VARCHAR when it cannot be found,
        reported: `data_type` is required)."""
        typed = found or type_of(self.model, tree, home)
        if typed is None:
            self.lost(None, f"the data type of '{tree.sql()}'", "unknown: written as VARCHAR")
            return "VARCHAR"
        return to_sql(typed, DIALECT)


def export_snowflake(
    model: Model,
    *,
    yaml: bool = False,
    database: str | None = None,
    schema: str | None = None,
    description: str | None = None,
) -> tuple[str, tuple[Notice, ...]]:
    """The model as one Snowflake semantic view named after the project: a `CREATE SEMANTIC
    VIEW` statement, or (`yaml`) its semantic model YAML, whose base tables are in
    `database`.`schema` (the project's name and PUBLIC by default in YAML, where both are
    required); with the report of what it cannot carry."""
    house = walk_model(model)
    if yaml:
        database, schema = database or model.name, schema or "PUBLIC"
    writer = _Snowflake(house, database, schema, description)
    text = writer.yaml(model.name) if yaml else writer.ddl(model.name)
    return text, tuple(writer.notices)
