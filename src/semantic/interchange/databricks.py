"""Databricks Unity Catalog metric views: `semantic export databricks` writes one metric
view per entity that has metrics (its fact table), as a SQL script of `CREATE OR REPLACE VIEW
... WITH METRICS LANGUAGE YAML AS $$ ... $$` statements; see docs/exporting.md.

The YAML follows Databricks' metric view reference, version 1.1
(docs.databricks.com/aws/en/metric-views/data-modeling/syntax and .../joins): a metric view
has one `source` and many-to-one `joins` (nested for a snowflake schema, each named, its
`on` condition between the parent, `source` at the first level, and the join), then
`dimensions` and `measures` (name, expr, comment, display_name, synonyms).

- an entity with metrics -> a metric view whose source is its table;
- the entities it reaches through to-one relationships -> nested joins named after the
  relationships followed, so that a role-playing dimension is its own route
  (`orders.customer.nation.n_name` next to `supplier.nation.n_name`);
- a dimension or time dimension that the source reaches by a single to-one route -> a
  dimension of that view;
- a metric over the source's rows -> a measure (filters folded in as CASE WHEN);
- a metric over metrics of the same source -> a measure over `MEASURE(name)`; over metrics
  of several sources: reported (a metric view has one source).

Expressions are written in Databricks SQL through the dialect pass (`to_sql`).
"""

from __future__ import annotations

from collections.abc import Callable

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import SingleQuotedScalarString
from sqlglot import exp

from semantic.errors import Span, error
from semantic.interchange.common import Notice, dump_yaml
from semantic.interchange.warehouse import (
    Named,
    NotCarried,
    Route,
    Warehouse,
    render,
    route_between,
    route_of,
    walk_model,
)
from semantic.model import Model

__all__ = ["VERSION", "export_databricks", "metric_view"]

DIALECT = "databricks"
#: the metric view YAML specification version written
VERSION = "1.1"
_PREFIX = "Databricks cannot carry"
_FISCAL = ("fiscal_quarter", "fiscal_year")


class _View:
    """One metric view: its source entity and the join routes its expressions use."""

    def __init__(self, house: Warehouse, source: str, place: Callable[[str], str]) -> None:
        self.house, self.source, self.place = house, source, place
        self.routes: set[Route] = set()

    def column(self, start: Route) -> Callable[[exp.Column], str]:
        """How a column is written for an expression whose home the source reaches by
        `start`: `source.col`, or the names of the joins followed (`orders.customer.c_name`)."""

        def name(col: exp.Column) -> str:
            route = start + route_of(col)
            for i in range(1, len(route) + 1):
                self.routes.add(route[:i])
            return ".".join([*(e.name for e in route), col.name] if route else ["source", col.name])

        return name

    def joins(self, parent: Route = (), parent_name: str = "source") -> list[CommentedMap]:
        """The nested joins of the routes used below `parent`."""
        found = []
        for route in sorted(
            (r for r in self.routes if len(r) == len(parent) + 1 and r[:-1] == parent),
            key=lambda r: r[-1].name,
        ):
            edge = route[-1]
            on = " AND ".join(f"{parent_name}.{a} = {edge.name}.{b}" for a, b in edge.keys)
            join = CommentedMap(name=edge.name, source=self.place(edge.target))
            join[SingleQuotedScalarString("on")] = on  # `on` unquoted is a boolean in YAML 1.1
            nested = self.joins(route, edge.name)
            if nested:
                join["joins"] = nested
            found.append(join)
        return found


def _describe(node: CommentedMap, item: Named) -> CommentedMap:
    if item.description:
        node["comment"] = item.description
    node["display_name"] = item.label
    if item.synonyms:
        node["synonyms"] = list(item.synonyms)
    return node


def metric_view(house: Warehouse, source: str, place: Callable[[str], str]) -> CommentedMap:
    """The metric view (YAML tree) of the metrics over `source`'s rows."""
    model = house.model
    view = _View(house, source, place)
    dimensions = []
    for item in house.fields.values():
        try:
            start = route_between(model, source, item.home)
        except NotCarried:
            continue  # another view's dimension
        node = CommentedMap(name=item.id, expr=render(item.expr, DIALECT, view.column(start)))
        dimensions.append(_describe(node, item))
    measures = []
    for measure in house.measures.values():
        if measure.home != source:
            continue
        node = CommentedMap(name=measure.id, expr=render(measure.expr, DIALECT, view.column(())))
        measures.append(_describe(node, measure))
    for derived in house.derived.values():
        homes = {house.measures[m].home for m in house.base_metrics(derived.id)}
        if homes != {source}:
            continue

        def measure_ref(col: exp.Column) -> str:
            return f"MEASURE({col.name})"

        node = CommentedMap(name=derived.id, expr=render(derived.expr, DIALECT, measure_ref))
        measures.append(_describe(node, derived))
    entity = model.entities[source]
    tree = CommentedMap(version=VERSION)
    if entity.description:
        tree["comment"] = entity.description
    tree["source"] = place(source)
    joins = view.joins()
    if joins:
        tree["joins"] = joins
    if dimensions:
        tree["dimensions"] = dimensions
    tree["measures"] = measures
    return tree


def export_databricks(
    model: Model, *, catalog: str | None = None, schema: str | None = None
) -> tuple[str, tuple[Notice, ...]]:
    """The model as Unity Catalog metric views, one per entity with metrics, in a SQL script
    of CREATE VIEW statements (names and tables in `catalog`.`schema` when given), with the
    report of what they cannot carry."""
    if catalog and not schema:
        raise error(
            "SEM246",
            "--catalog needs --schema",
            Span("--catalog"),
            "give both, or neither to use the session's current catalog and schema",
        )
    house = walk_model(model)
    notices = list(house.notices)

    def lost(tid: str, what: str, why: str) -> None:
        span = model.terms[tid].span
        notices.append(Notice(span.file, span.line, what, why, prefix=_PREFIX))

    def place(entity: str) -> str:
        return ".".join([p for p in (catalog, schema) if p] + [model.entities[entity].table])

    sources = sorted({m.home for m in house.measures.values()})
    statements = []
    for source in sources:
        tree = metric_view(house, source, place)
        name = ".".join([p for p in (catalog, schema) if p] + [f"{source}_metrics"])
        body = dump_yaml(tree)
        statements.append(
            f"CREATE OR REPLACE VIEW {name}\nWITH METRICS\nLANGUAGE YAML\nAS $$\n{body}$$;\n"
        )
    for derived in house.derived.values():
        homes = sorted({house.measures[m].home for m in house.base_metrics(derived.id)})
        if len(homes) > 1:
            lost(
                derived.id,
                f"derived metric '{derived.id}'",
                f"it combines metrics of {' and '.join(homes)}, and a metric view has one source",
            )
    reached = {
        item.id
        for item in house.fields.values()
        for source in sources
        if _reaches(house, source, item.home)
    }
    for item in house.fields.values():
        if item.id not in reached:
            lost(item.id, f"dimension '{item.id}'", "no entity with metrics reaches it to-one")
        fiscal = [g for g in item.grains if g in _FISCAL]
        if fiscal:
            lost(item.id, f"grains {', '.join(fiscal)} of '{item.id}'", "no fiscal calendar")
    for segment in house.segments.values():
        lost(
            segment.id,
            f"segment '{segment.id}'",
            "a metric view has one filter for all its queries, no named conditions",
        )
    header = (
        "-- Unity Catalog metric views (YAML "
        f"{VERSION}), one per entity with metrics, by `semantic export databricks`.\n"
    )
    return header + "\n".join(statements), tuple(notices)


def _reaches(house: Warehouse, source: str, home: str) -> bool:
    try:
        route_between(house.model, source, home)
    except NotCarried:
        return False
    return True
