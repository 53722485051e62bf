"""A LookML project: `semantic export lookml` writes a view file per entity and a model file
with an explore per entity that has metrics; see docs/exporting.md.

The structure follows Looker's LookML reference (cloud.google.com/looker/docs/reference:
param-view-sql-table-name, param-field-dimension, param-field-dimension-group,
param-field-measure, param-explore-join, param-explore-join-relationship):

- an entity -> a view on its table, each column a hidden dimension named after it, its
  primary key marked `primary_key: yes` (a composite key becomes one hidden dimension);
- a dimension -> a dimension (`string`, `number`, `yesno`, `date`); a time dimension -> a
  `dimension_group` of `type: time` whose timeframes are its grains (fiscal ones through the
  model's `fiscal_month_offset`); a role-playing dimension sits in the view of its path's
  first entity and reads the joined view of its route (`${customer__nation.n_name}`);
- a segment -> a `yesno` dimension;
- a metric -> a measure: one aggregate becomes a measure of its type (`sum`, `average`,
  `count`, `count_distinct`, `min`, `max`, `median`), which Looker's symmetric aggregates
  keep exact across many-to-one joins; any other expression becomes a `type: number`
  measure over hidden measures, one per aggregate; a metric over metrics is a `number`
  measure over the measures it uses;
- an entity with metrics -> an explore joining, `many_to_one`, every entity it reaches by
  a single to-one route, and the routes of the role-playing dimensions.

SQL is written in the Looker connection's dialect (`--dialect`, DuckDB by default) through
the dialect pass (`to_sql`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from sqlglot import exp

from semantic.interchange.common import Notice, new_id
from semantic.interchange.warehouse import (
    Measure,
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
from semantic.model.types import Edge

__all__ = ["export_lookml"]

_PREFIX = "LookML cannot carry"
_TIMEFRAMES = {
    "day": "date",
    "week": "week",
    "month": "month",
    "quarter": "quarter",
    "year": "year",
    "fiscal_quarter": "fiscal_quarter",
    "fiscal_year": "fiscal_year",
}
_TYPES: dict[type[exp.Expression], str] = {
    exp.Sum: "sum",
    exp.Avg: "average",
    exp.Min: "min",
    exp.Max: "max",
    exp.Median: "median",
}
_NUMBERS = exp.DataType.NUMERIC_TYPES
_TEXT = exp.DataType.TEXT_TYPES


def _quoted(text: str) -> str:
    """A LookML string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def alias(home: str, route: Route) -> str:
    """The join name of the view that `route` reaches from the view `home`."""
    return "__".join([home, *(e.name for e in route)])


class _LookML:
    def __init__(self, house: Warehouse, dialect: str) -> None:
        self.house, self.model, self.dialect = house, house.model, dialect
        self.notices: list[Notice] = list(house.notices)
        #: entity -> column -> the name of its hidden dimension
        self.columns: dict[str, dict[str, str]] = {}
        #: entity -> the routes its view's fields read other views through
        self.routes: dict[str, set[Route]] = {}
        for eid, entity in self.model.entities.items():
            taken = {o.id for o in self.objects(eid)}
            names = {}
            for col in entity.columns:
                names[col] = new_id(taken, col, col, f"{col}_column")
                taken.add(names[col])
            self.columns[eid] = names
            self.routes[eid] = set()

    def objects(self, eid: str) -> list[Named]:
        house = self.house
        found: list[Named] = [f for f in house.fields.values() if f.home == eid]
        found += [s for s in house.segments.values() if s.home == eid]
        found += [m for m in house.measures.values() if m.home == eid]
        found += [d for d in house.derived.values() if d.home == eid]
        return found

    def lost(self, tid: str, what: str, why: str) -> None:
        span = self.model.terms[tid].span
        self.notices.append(Notice(span.file, span.line, what, why, prefix=_PREFIX))

    def column(self, home: str) -> Callable[[exp.Column], str]:
        def name(col: exp.Column) -> str:
            if "lookml" in col.meta:
                return str(col.meta["lookml"])
            route = route_of(col)
            if not route:
                return "${TABLE}." + col.name
            for i in range(1, len(route) + 1):
                self.routes[home].add(route[:i])
            target = route[-1].target
            return "${" + f"{alias(home, route)}.{self.columns[target][col.name]}" + "}"

        return name

    def sql(self, tree: exp.Expression, home: str) -> str:
        return render(tree, self.dialect, self.column(home))

    # --- views -------------------------------------------------------------------------------

    def view(self, eid: str) -> str:
        entity = self.model.entities[eid]
        lines = []
        if entity.description:
            lines.append(f"# {entity.description}")
        lines += [f"view: {eid} {{", f"  sql_table_name: {entity.table} ;;", ""]
        keys = entity.primary_key
        if len(keys) > 1:
            parts = [exp.cast(exp.column(k), exp.DataType.Type.VARCHAR) for k in keys]
            tree: exp.Expression = parts[0]
            for part in parts[1:]:
                tree = exp.DPipe(
                    this=exp.DPipe(this=tree, expression=exp.Literal.string("|")), expression=part
                )
            name = new_id(
                set(self.columns[eid].values()) | {o.id for o in self.objects(eid)}, "primary_key"
            )
            lines += self.field(
                "dimension",
                name,
                ["primary_key: yes", "hidden: yes", "type: string"],
                self.sql(tree, eid),
            )
        for col, name in self.columns[eid].items():
            spec = entity.columns[col]
            params = ["primary_key: yes"] if keys == (col,) else []
            params += ["hidden: yes", f"type: {self.kind(spec.type)}"]
            lines += self.field("dimension", name, params, "${TABLE}." + col, spec.description)
        for item in self.house.fields.values():
            if item.home != eid:
                continue
            sql = self.sql(item.expr, eid)
            if item.kind == "time_dimension":
                frames = ["raw", *(_TIMEFRAMES[g] for g in item.grains if g in _TIMEFRAMES)]
                params = ["type: time", f"timeframes: [{', '.join(frames)}]", "convert_tz: no"]
                if item.type is not None and item.type.is_type(exp.DataType.Type.DATE):
                    params.append("datatype: date")
                lines += self.field("dimension_group", item.id, params, sql, item.description, item)
            else:
                kind = self.kind(item.type)
                lines += self.field(
                    "dimension", item.id, [f"type: {kind}"], sql, item.description, item
                )
        for segment in self.house.segments.values():
            if segment.home == eid:
                sql = self.sql(segment.condition, eid)
                lines += self.field(
                    "dimension", segment.id, ["type: yesno"], sql, segment.description, segment
                )
        for measure in self.house.measures.values():
            if measure.home == eid:
                try:
                    lines += self.measure(measure)
                except NotCarried as why:
                    self.lost(measure.id, f"metric '{measure.id}'", str(why))
        for derived in self.house.derived.values():
            if derived.home == eid:

                def ref(col: exp.Column) -> str:
                    return "${" + f"{self.house.metric_home(col.name)}.{col.name}" + "}"

                sql = render(derived.expr, self.dialect, ref)
                lines += self.field(
                    "measure", derived.id, ["type: number"], sql, derived.description, derived
                )
        return "\n".join([*lines, "}", ""])

    def kind(self, sql_type: str | exp.DataType | None) -> str:
        if sql_type is None:
            return "string"
        typed = (
            exp.DataType.build(sql_type, dialect="duckdb")
            if isinstance(sql_type, str)
            else sql_type
        )
        if typed.this in _NUMBERS:
            return "number"
        if typed.is_type(exp.DataType.Type.BOOLEAN):
            return "yesno"
        if typed.is_type(exp.DataType.Type.DATE):
            return "date"
        return "string"

    def field(
        self,
        what: str,
        name: str,
        params: list[str],
        sql: str,
        description: str | None = None,
        named: Named | None = None,
    ) -> list[str]:
        lines = [f"  {what}: {name} {{"]
        if named is not None:
            lines.append(f"    label: {_quoted(named.label)}")
        if description:
            lines.append(f"    description: {_quoted(description)}")
        lines += [f"    {p}" for p in params]
        if sql:  # a count of rows has none
            lines.append(f"    sql: {sql} ;;")
        lines += ["  }", ""]
        return lines

    def measure(self, measure: Measure) -> list[str]:
        """The measure of a metric, with the hidden measures of its aggregates when it is
        more than one aggregate."""
        tree = measure.expr.copy()
        if isinstance(tree, exp.AggFunc):
            params, sql = self.aggregate(tree, measure.home)
            return self.field("measure", measure.id, params, sql, measure.description, measure)
        lines: list[str] = []
        taken = {o.id for o in self.objects(measure.home)} | set(
            self.columns[measure.home].values()
        )
        for agg in list(tree.find_all(exp.AggFunc)):
            if agg.find_ancestor(exp.AggFunc) is not None:
                continue
            params, sql = self.aggregate(agg, measure.home)
            name = new_id(taken, f"{measure.id}_part")
            taken.add(name)
            lines += self.field("measure", name, ["hidden: yes", *params], sql)
            ref = exp.column(name)
            ref.meta["lookml"] = "${" + name + "}"
            agg.replace(ref)
        sql = self.sql(tree, measure.home)
        return lines + self.field(
            "measure", measure.id, ["type: number"], sql, measure.description, measure
        )

    def aggregate(self, agg: exp.AggFunc, home: str) -> tuple[list[str], str]:
        """The type and SQL of the measure computing one aggregate."""
        arg = agg.this
        if isinstance(agg, exp.Count):
            if isinstance(arg, exp.Star):
                return ["type: count"], ""
            if isinstance(arg, exp.Distinct):
                return ["type: count_distinct"], self.sql(arg.expressions[0], home)
            # COUNT(x) counts the rows where x is not null: a sum of ones keeps it exact
            ifs = arg.args.get("ifs") or []
            folded = (  # a filter folded as CASE WHEN c THEN 1 END
                isinstance(arg, exp.Case)
                and len(ifs) == 1
                and arg.args.get("default") is None
                and isinstance(ifs[0].args["true"], exp.Literal)
            )
            if folded:
                ones = exp.Case(
                    ifs=[exp.If(this=ifs[0].this.copy(), true=exp.Literal.number(1))],
                    default=exp.Literal.number(0),
                )
                return ["type: sum"], self.sql(ones, home)
            ones = exp.Case(
                ifs=[
                    exp.If(
                        this=exp.Not(this=exp.Is(this=arg.copy(), expression=exp.Null())),
                        true=exp.Literal.number(1),
                    )
                ],
                default=exp.Literal.number(0),
            )
            return ["type: sum"], self.sql(ones, home)
        kind = _TYPES.get(cast(type[exp.Expression], type(agg)))
        if kind is None or isinstance(arg, exp.Distinct):
            raise NotCarried(f"{agg.sql_name().lower()}() has no LookML measure type")
        return [f"type: {kind}"], self.sql(arg, home)

    # --- model -------------------------------------------------------------------------------

    def explore(self, fact: str) -> list[str]:
        lines = [f"explore: {fact} {{"]
        if self.model.entities[fact].description:
            lines.append(f"  description: {_quoted(self.model.entities[fact].description or '')}")
        joined = {fact}
        routes: dict[str, Route] = {}
        for eid in self.model.entities:
            if eid == fact:
                continue
            try:
                routes[eid] = route_between(self.model, fact, eid)
            except NotCarried:
                continue
        canonical: dict[str, Route] = {}
        # shorter routes first: a join's parent must be joined before it is looked up (by
        # model order, lineitem's explore lost customer, listed before orders)
        for eid, route in sorted(routes.items(), key=lambda kv: len(kv[1])):
            parent = route[-2].target if len(route) > 1 else fact
            if parent != fact and canonical.get(parent) != route[:-1]:
                continue
            canonical[eid] = route
        for eid, route in sorted(canonical.items(), key=lambda kv: (len(kv[1]), kv[0])):
            edge = route[-1]
            lines += self.join(eid, None, edge.source, edge)
            joined.add(eid)
        for home in sorted(joined):
            for route in sorted(self.routes[home], key=lambda r: (len(r), [e.name for e in r])):
                parent = alias(home, route[:-1]) if len(route) > 1 else home
                lines += self.join(alias(home, route), route[-1].target, parent, route[-1])
        return [*lines, "}", ""]

    def join(self, name: str, source: str | None, parent: str, edge: Edge) -> list[str]:
        target = source or name
        on = " AND ".join(
            "${"
            + f"{parent}.{self.columns[edge.source][a]}"
            + "} = ${"
            + f"{name}.{self.columns[edge.target][b]}"
            + "}"
            for a, b in edge.keys
        )
        lines = [f"  join: {name} {{"]
        if source is not None:
            lines.append(f"    from: {target}")
        relationship = "one_to_one" if edge.cardinality == "one_to_one" else "many_to_one"
        lines += [
            "    type: left_outer",
            f"    relationship: {relationship}",
            f"    sql_on: {on} ;;",
            "  }",
        ]
        return lines


def export_lookml(
    model: Model, *, dialect: str = "duckdb", connection: str | None = None
) -> tuple[dict[str, str], tuple[Notice, ...]]:
    """The model as a LookML project (path -> text: `views/<entity>.view.lkml` and
    `<project>.model.lkml`), its SQL in `dialect`, for the Looker `connection` (the
    project's name by default), with the report of what it cannot carry."""
    writer = _LookML(walk_model(model), dialect)
    files = {f"views/{eid}.view.lkml": writer.view(eid) for eid in model.entities}
    lines = [
        f"# LookML model of {model.name}, by `semantic export lookml`.",
        f'connection: "{connection or model.name}"',
        'include: "/views/*.view.lkml"',
    ]
    if model.fiscal_year_start != 1:
        # Looker's offset counts the months from January to the first month of the year
        lines.append(f"fiscal_month_offset: {model.fiscal_year_start - 1}")
    lines.append("")
    facts = sorted({m.home for m in writer.house.measures.values()})
    for fact in facts:
        lines += writer.explore(fact)
    files[f"{model.name}.model.lkml"] = "\n".join(lines)
    return files, tuple(writer.notices)
