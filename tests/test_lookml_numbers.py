"""`semantic export lookml` gives the numbers of `semantic query`: the exported LookML is
turned into the SQL Looker would run for a few explores, run on DuckDB, and compared.

The translation (`looker_sql`) is the simple one Looker documents for an explore without
fan-out: `SELECT` the dimensions and the measures' aggregates `FROM` the explore's view,
`LEFT JOIN` each join the fields need (and the joins their `sql_on` needs, in the order
they are declared) `ON` its `sql_on`, `GROUP BY` the dimensions; `${TABLE}` is the alias of
the field's view, `${view.field}` and `${field}` the SQL of that field (a measure's: its
aggregate). Measure types: `sum`, `average`, `min`, `max`, `median`, `count_distinct` as
their SQL aggregates; `count` is `COUNT(*)` in the explore's own view and, in a joined view,
`COUNT(DISTINCT primary key)` (as Looker's symmetric aggregates count); `number` is its SQL.

Not modelled (the test refuses them rather than guess): symmetric aggregates of sums and
averages in joined views (every export here puts a metric in its own entity's explore,
which only joins many-to-one), `sql_always_where`, filters on measures, Looker's string
rendering of timeframes (`_month` is compared as the month's first day, as `semantic query`
gives it), time zones.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from semantic.project import Project
from tests.cli_runner import run_cli
from tests.compare import same_value
from tests.conftest import ROOT
from tests.projects import write_data
from tests.warehouse_specs import read_lookml

_REF = re.compile(r"\$\{([^}]*)\}")
_AGGREGATES = {"sum": "SUM", "average": "AVG", "min": "MIN", "max": "MAX", "median": "MEDIAN"}
_TRUNCATED = {"week": "week", "month": "month", "quarter": "quarter", "year": "year"}
_DOC = ROOT / "docs" / "exporting.md"
_PROJECT = re.compile(r"<!-- project: (\S+) -->\n```\w*\n(.*?)```", re.S)


def _blocks(items: list[tuple[str, Any]], key: str) -> list[tuple[str, list[tuple[str, Any]]]]:
    return [value for k, value in items if k == key]


def read_project(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The views (name -> table and fields) and explores (name -> joins in order) of an
    exported LookML project."""
    views: dict[str, Any] = {}
    for path in sorted((folder / "views").glob("*.view.lkml")):
        ((name, body),) = _blocks(read_lookml(path.read_text()), "view")
        fields: dict[str, dict[str, Any]] = {}
        for kind in ("dimension", "dimension_group", "measure"):
            for field, params in _blocks(body, kind):
                fields[field] = {"kind": kind, **dict(params)}
        views[name] = {"table": dict(body)["sql_table_name"], "fields": fields}
    (model_file,) = folder.glob("*.model.lkml")
    explores = {
        name: [(join, dict(params)) for join, params in _blocks(body, "join")]
        for name, body in _blocks(read_lookml(model_file.read_text()), "explore")
    }
    return views, explores


def looker_sql(
    views: dict[str, Any], explores: dict[str, Any], explore: str, fields: list[str]
) -> str:
    """The SQL of a query of `explore` for `fields` (`view.field`, the join's name as the
    view; a time as `view.group_timeframe`), dimensions first, as the module says."""
    joins = dict(explores[explore])
    source = {explore: explore, **{j: spec.get("from", j) for j, spec in joins.items()}}
    used: set[str] = set()

    def lookup(alias: str, name: str) -> tuple[dict[str, Any], str | None]:
        found = views[source[alias]]["fields"]
        if name in found:
            return found[name], None
        group, _, frame = name.rpartition("_")
        assert found[group]["kind"] == "dimension_group", f"{alias}.{name}"
        assert frame in found[group]["timeframes"], f"{alias}.{name}"
        return found[group], frame

    def expand(sql: str, alias: str) -> str:
        used.add(alias)

        def swap(ref: re.Match[str]) -> str:
            text = ref.group(1)
            if text == "TABLE":
                return alias
            owner, _, name = text.rpartition(".")
            return "(" + field_sql(owner or alias, name) + ")"

        return _REF.sub(swap, sql)

    def field_sql(alias: str, name: str) -> str:
        spec, frame = lookup(alias, name)
        sql = expand(spec["sql"], alias) if "sql" in spec else ""
        if frame is not None:
            if frame in ("raw", "date"):
                return f"CAST({sql} AS DATE)" if frame == "date" else sql
            return f"CAST(DATE_TRUNC('{_TRUNCATED[frame]}', {sql}) AS DATE)"
        if spec["kind"] != "measure" or spec["type"] == "number":
            return sql
        if spec["type"] == "count":
            if alias == explore:
                return "COUNT(*)"
            fields = views[source[alias]]["fields"]
            (key,) = (f for f, s in fields.items() if s.get("primary_key") == "yes")
            return f"COUNT(DISTINCT {field_sql(alias, key)})"
        if spec["type"] == "count_distinct":
            return f"COUNT(DISTINCT {sql})"
        assert alias == explore, f"symmetric aggregates of {alias}.{name} are not modelled"
        return f"{_AGGREGATES[spec['type']]}({sql})"

    dims: list[str] = []
    measures: list[str] = []
    for i, ref in enumerate(fields):
        alias, _, name = ref.partition(".")
        sql = field_sql(alias, name)
        spec = lookup(alias, name)[0]
        (measures if spec["kind"] == "measure" else dims).append(f"{sql} AS f{i}")
    needed: list[str] = []
    while True:  # the joins the fields use, and the joins their sql_on use
        todo = [a for a in used if a != explore and a not in needed]
        if not todo:
            break
        for alias in todo:
            needed.append(alias)
            joins[alias]["on_sql"] = expand(joins[alias]["sql_on"], alias)
    sql = f"SELECT {', '.join(dims + measures)} FROM {views[explore]['table']} AS {explore}"
    for alias, spec in joins.items():  # in the order the explore declares them
        if alias in needed:
            assert spec["type"] == "left_outer" and spec["relationship"] == "many_to_one"
            sql += f" LEFT JOIN {views[source[alias]]['table']} AS {alias} ON {spec['on_sql']}"
    if dims:
        sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(dims)))
    return sql


def _same_rows(actual: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> None:
    key = lambda row: tuple((v is None, str(v)) for v in row)  # noqa: E731
    actual, expected = sorted(actual, key=key), sorted(expected, key=key)
    assert len(actual) == len(expected), (actual[:5], expected[:5])
    for a, e in zip(actual, expected, strict=True):
        assert all(same_value(x, y) for x, y in zip(a, e, strict=True)), f"{a} != {e}"


def _exported(root: Path, folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    result = run_cli("export", "lookml", "-o", str(folder), project=root)
    assert result.exit_code == 0, result.stderr
    return read_project(folder)


@pytest.fixture(scope="module")
def tpch_lookml(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Any]:
    return _exported(ROOT, tmp_path_factory.mktemp("lookml"))


@pytest.mark.parametrize(
    ("explore", "fields", "query"),
    [
        (
            "lineitem",
            ["customer.customer_region", "lineitem.net_revenue", "lineitem.line_count"],
            "customer_region, net_revenue, line_count",
        ),
        (
            "lineitem",
            ["supplier.supplier_nation", "orders.order_status", "lineitem.profit"],
            "supplier_nation, order_status, profit",
        ),
        (
            "lineitem",
            ["orders.order_date_year", "lineitem.average_price", "lineitem.average_order_value"],
            "order_date.year, average_price, average_order_value",
        ),
        (
            "orders",
            ["customer.customer_nation", "orders.order_count", "orders.order_value"],
            "customer_nation, order_count, order_value",
        ),
        (
            "orders",
            ["orders.order_date_month", "orders.order_count"],
            "order_date.month, order_count",
        ),
        (
            "partsupp",
            ["part.part_brand", "partsupp.inventory_value"],
            "part_brand, inventory_value",
        ),
    ],
)
def test_lookml_gives_the_numbers_of_semantic_query(
    project: Project, tpch_lookml: Any, explore: str, fields: list[str], query: str
) -> None:
    views, explores = tpch_lookml
    sql = looker_sql(views, explores, explore, fields)
    actual = project.engine.connection.execute(sql).fetchall()
    expected = project.query("SELECT " + query)
    _same_rows(actual, [tuple(r.values()) for r in expected.to_pylist()])


_SHOP_DATA = {
    "customers": "SELECT * FROM (VALUES (1, 'Paris'), (2, 'Lyon'), (3, 'Nice')) "
    "t(customer_id, city)",
    "orders": "SELECT order_id, customer_id, status, CAST(amount AS DECIMAL(10,2)) AS amount, "
    "CAST(ordered_on AS DATE) AS ordered_on FROM (VALUES "
    "(1, 1, 'paid', 120.50, '2024-01-05'), (2, 1, 'open', 30.00, '2024-02-01'), "
    "(3, 2, 'paid', 99.99, '2024-02-11'), (4, 2, 'paid', 250.00, '2024-03-02'), "
    "(5, 3, 'open', NULL, '2024-03-09'), (6, NULL, 'paid', 10.00, '2024-03-10')) "
    "t(order_id, customer_id, status, amount, ordered_on)",
}


#: metrics of the other aggregate kinds, on the example project's entities
_MORE = """domain: more
terms:
  priced_orders:
    label: {en: Priced orders}
    metric: {entity: orders, expr: count(amount)}
  large_priced_orders:
    label: {en: Large priced orders}
    metric: {entity: orders, expr: count(amount), filter: large_order}
  buyers:
    label: {en: Buyers}
    metric: {entity: orders, expr: count(distinct customer_id)}
  smallest_order:
    label: {en: Smallest order}
    metric: {entity: orders, expr: min(amount)}
  average_order:
    label: {en: Average order}
    metric: {entity: orders, expr: avg(amount)}
  spread:
    label: {en: Spread}
    metric: {entity: orders, expr: max(amount) - min(amount)}
  open_revenue:
    label: {en: Open revenue}
    metric: {entity: orders, expr: sum(amount), filter: "status = 'open'", fill_null: 0}
  paid_count:
    label: {en: Paid count}
    metric: {entity: orders, expr: count(amount), filter: "status = 'paid'", fill_null: null}
  revenue_per_buyer:
    label: {en: Revenue per buyer}
    metric: {expr: revenue / buyers}
"""


def test_filters_segments_and_ratios_keep_their_numbers(tmp_path: Path) -> None:
    """The example project of docs/exporting.md (filtered metrics, a segment, a ratio, a
    count of a nullable column) by city, by status, by month, and in total."""
    root = tmp_path / "shop"
    for name, body in _PROJECT.findall(_DOC.read_text(encoding="utf-8")):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body)
    (root / "glossary" / "more.yml").write_text(_MORE)
    write_data(root, _SHOP_DATA)
    views, explores = _exported(root, tmp_path / "lk")
    project = Project.load(root)
    project.prepare_data()
    measures = [
        f"orders.{m}"
        for m, spec in views["orders"]["fields"].items()
        if spec["kind"] == "measure" and spec.get("hidden") != "yes"
    ]
    assert len(measures) >= 4, measures
    for dims, names in (
        (["customers.city"], ["city"]),
        (["orders.status"], ["status"]),
        (["orders.order_date_month"], ["order_date.month"]),
        ([], []),
    ):
        sql = looker_sql(views, explores, "orders", dims + measures)
        actual = project.engine.connection.execute(sql).fetchall()
        query = ", ".join(names + [m.split(".")[1] for m in measures])
        expected = project.query("SELECT " + query)
        _same_rows(actual, [tuple(r.values()) for r in expected.to_pylist()])
