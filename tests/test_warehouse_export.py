"""`semantic export snowflake|databricks|lookml`: each output follows its vendor's published
rules (tests/warehouse_specs.py), every SQL expression compiles with sqlglot in the target's
dialect and names only columns that exist, the numbers of the Snowflake metrics and of the
Databricks metric views (read back into DuckDB SQL) are those of `semantic query`, and
docs/exporting.md shows what the exports really write."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from ruamel.yaml import YAML
from sqlglot import exp

from semantic.model import Model
from semantic.project import Project
from tests.cli_runner import run_cli
from tests.compare import same_value
from tests.conftest import ROOT
from tests.projects import write_data
from tests.warehouse_specs import (
    DIMENSION_TYPES,
    JOIN_TYPES_LOOKML,
    MEASURE_TYPES,
    RELATIONSHIPS,
    TIMEFRAMES,
    cortex_problems,
    metric_view_problems,
    read_ddl,
    read_lookml,
)

DOC = ROOT / "docs" / "exporting.md"
_PROJECT = re.compile(r"<!-- project: (\S+) -->\n```\w*\n(.*?)```", re.S)
_EXPORT = re.compile(r"<!-- export: ([^>]*?) -->\n```\w*\n(.*?)```", re.S)
_REPORT = re.compile(r"<!-- report: (\w+) -->\n```text\n(.*?)```", re.S)
_SHOP_DATA = {
    "customers": "SELECT * FROM (VALUES (1, 'Paris'), (2, 'Lyon'), (3, 'Nice')) "
    "t(customer_id, city)",
    "orders": "SELECT order_id, customer_id, status, CAST(amount AS DECIMAL(10,2)) AS amount, "
    "CAST(ordered_on AS DATE) AS ordered_on FROM (VALUES "
    "(1, 1, 'paid', 120.50, '2024-01-05'), (2, 1, 'open', 30.00, '2024-02-01'), "
    "(3, 2, 'paid', 99.99, '2024-02-11'), (4, 2, 'paid', 250.00, '2024-03-02'), "
    "(5, 3, 'open', 100.00, '2024-03-09'), (6, NULL, 'paid', 10.00, '2024-03-10')) "
    "t(order_id, customer_id, status, amount, ordered_on)",
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example project of docs/exporting.md, with a few rows of data."""
    root = tmp_path_factory.mktemp("shop")
    for name, body in _PROJECT.findall(DOC.read_text(encoding="utf-8")):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body)
    write_data(root, _SHOP_DATA)
    return root


def _export(root: Path, *args: str) -> tuple[str, str]:
    result = run_cli("export", *args, project=root)
    assert result.exit_code == 0, result.stderr
    return result.stdout, result.stderr


def _model(root: Path) -> Model:
    return Project.load(root).model


def _load(text: str) -> Any:
    return YAML(typ="safe").load(text)


def _lookml_files(printed: str) -> dict[str, str]:
    files: dict[str, str] = {}
    for part in re.split(r"^# ---- ", printed, flags=re.M)[1:]:
        name, body = part.split("\n", 1)
        files[name] = body
    return files


# --- the page --------------------------------------------------------------------------------


def test_the_page_shows_what_the_exports_write(shop: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    blocks = _EXPORT.findall(text)
    assert len(blocks) == 5
    for command, body in blocks:
        words = command.split()
        if words[0] == "lookml":
            printed, _ = _export(shop, "lookml")
            assert _lookml_files(printed)[words[1]] == body, command
        else:
            assert _export(shop, *words)[0] == body, command
    ((which, shown),) = _REPORT.findall(text)
    _, report = _export(shop, which)
    assert [line for line in report.splitlines() if not line.startswith("export ")] == (
        shown.splitlines()
    )


# --- Snowflake -------------------------------------------------------------------------------


def _columns(model: Model) -> dict[str, set[str]]:
    return {eid: set(e.columns) for eid, e in model.entities.items()}


@pytest.mark.parametrize("root", ["tpch", "shop"])
def test_the_semantic_view_follows_the_grammar_and_compiles(
    root: str, shop: Path, request: pytest.FixtureRequest
) -> None:
    where = ROOT if root == "tpch" else shop
    model = _model(where)
    text, _ = _export(where, "snowflake")
    clauses = read_ddl(text)
    # every entity is a logical table; a role-playing dimension's roles are aliases of theirs
    by_table = {e.table: eid for eid, e in model.entities.items()}
    entity = {m["alias"]: by_table[m["table"]] for m in clauses["TABLES"]}
    aliases = set(entity)
    assert set(model.entities) <= aliases
    assert all(a == e or a.startswith(f"{a.split('__')[0]}__") for a, e in entity.items())
    columns = {alias: _columns(model)[eid] for alias, eid in entity.items()}
    for rel in clauses.get("RELATIONSHIPS", []):
        # the validation rules: the referenced columns are the primary key of their table
        assert tuple(c.strip() for c in rel["refcols"].split(",")) == (
            model.entities[entity[rel["ref"]]].primary_key
        )
        assert {c.strip() for c in rel["cols"].split(",")} <= columns[rel["table"]]
    facts = {(m["table"], m["name"]) for m in clauses.get("FACTS", [])}
    metrics = {(m["table"], m["name"]) for m in clauses["METRICS"] if m["table"]}
    derived = {m["name"] for m in clauses["METRICS"] if not m["table"]}
    for clause, items in clauses.items():
        if clause in ("TABLES", "RELATIONSHIPS"):
            continue
        for item in items:
            assert item["table"] is None or item["table"] in aliases
            tree = sqlglot.parse_one(item["sql"], read="snowflake")
            for col in tree.find_all(exp.Column):
                if isinstance(col.this, exp.Star):
                    continue
                if not col.table:
                    assert clause == "METRICS" and col.name in derived, item["sql"]
                    continue
                known = columns[col.table] | {n for t, n in facts if t == col.table}
                if clause == "METRICS" and not item["table"]:
                    known = {n for t, n in metrics if t == col.table}
                assert col.name in known, f"{col.sql()} in {item['sql']}"
    names = [m["name"] for c in ("FACTS", "DIMENSIONS", "METRICS") for m in clauses.get(c, [])]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("root", ["tpch", "shop"])
def test_the_cortex_yaml_follows_the_specification_and_compiles(root: str, shop: Path) -> None:
    where = ROOT if root == "tpch" else shop
    model = _model(where)
    text, _ = _export(where, "snowflake", "--yaml", "--database", "SALES")
    spec = _load(text)
    assert cortex_problems(spec) == []
    tables = {t["name"]: t for t in spec["tables"]}
    by_table = {e.table: eid for eid, e in model.entities.items()}
    entity = {name: by_table[t["base_table"]["table"]] for name, t in tables.items()}
    assert set(model.entities) <= set(tables)
    columns = {name: _columns(model)[eid] for name, eid in entity.items()}
    for rel in spec.get("relationships", []):
        right = [p["right_column"] for p in rel["relationship_columns"]]
        assert tuple(right) == model.entities[entity[rel["right_table"]]].primary_key
    for table in tables.values():
        assert table["base_table"]["database"] == "SALES"
        facts = {f["name"] for f in table.get("facts", [])}
        for key in ("dimensions", "time_dimensions", "facts", "metrics", "filters"):
            for item in table.get(key, []):
                tree = sqlglot.parse_one(item["expr"], read="snowflake")
                for col in tree.find_all(exp.Column):
                    if not isinstance(col.this, exp.Star):
                        assert col.table in tables, item["expr"]
                        assert col.name in columns[col.table] | facts, item["expr"]
    for item in spec.get("metrics", []):
        for col in sqlglot.parse_one(item["expr"], read="snowflake").find_all(exp.Column):
            assert col.name in {m["name"] for m in tables[col.table].get("metrics", [])}


def _paths(links: list[tuple[str, str]], start: str, end: str) -> int:
    """How many relationship paths lead from the logical table `start` to `end`."""
    if start == end:
        return 1
    return sum(_paths(links, one, end) for many, one in links if many == start)


def test_role_playing_dimensions_read_a_logical_table_of_their_own() -> None:
    """customer nation and supplier nation: each role is an alias of the nation table,
    related to its own entity only, so that from lineitem (which reaches `nation` through
    customers and through suppliers) a role dimension has the paths of its entity alone,
    in the DDL and the YAML."""
    text, _ = _export(ROOT, "snowflake")
    clauses = read_ddl(text)
    tables = {m["alias"]: m["table"] for m in clauses["TABLES"]}
    assert tables["customer__nation"] == tables["supplier__nation"] == "nation"
    assert tables["customer__nation__region"] == "region"
    links = [(r["table"], r["ref"]) for r in clauses["RELATIONSHIPS"]]
    assert _paths(links, "lineitem", "nation") >= 2  # the ambiguity the roles avoid
    dimensions = {m["name"]: m for m in clauses["DIMENSIONS"]}
    for role, dim, column in (
        ("customer", "customer_nation", "n_name"),
        ("supplier", "supplier_nation", "n_name"),
        ("customer", "customer_region", "r_name"),
    ):
        tree = sqlglot.parse_one(dimensions[dim]["sql"], read="snowflake")
        (col,) = tree.find_all(exp.Column)
        assert dimensions[dim]["table"] == role and col.name == column
        assert col.table.startswith(f"{role}__nation"), dimensions[dim]["sql"]
        # a role is reached only through its entity: no path its entity does not have
        assert _paths(links, role, col.table) == 1
        assert _paths(links, "lineitem", col.table) == _paths(links, "lineitem", role)
    yaml_text, _ = _export(ROOT, "snowflake", "--yaml")
    spec = _load(yaml_text)
    assert cortex_problems(spec) == []
    yaml_links = [(r["left_table"], r["right_table"]) for r in spec["relationships"]]
    assert sorted(yaml_links) == sorted(links)
    (customer,) = [t for t in spec["tables"] if t["name"] == "customer"]
    (nation,) = [d for d in customer["dimensions"] if d["name"] == "customer_nation"]
    assert nation["expr"] == "customer__nation.n_name"


def _snowflake_metrics(text: str) -> dict[str, tuple[str | None, str]]:
    clauses = read_ddl(text)
    found = {m["name"]: (m["table"], m["sql"]) for m in clauses["METRICS"]}
    found |= {m["name"]: (m["table"], m["sql"]) for m in clauses.get("FACTS", [])}
    return found


def _snowflake_total(
    name: str, objects: dict[str, tuple[str | None, str]], model: Model, links: list[Any]
) -> exp.Expression:
    """The total of a Snowflake metric over all rows, as DuckDB SQL: a table's metric over
    its rows (facts inlined, the tables they read joined by the relationships of the view),
    a derived metric over those totals."""
    table, sql = objects[name]
    tree = sqlglot.parse_one(sql, read="snowflake")
    if table is None:

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column) and node.name in objects:
                return exp.paren(_snowflake_total(node.name, objects, model, links))
            return node

        return exp.select(tree.transform(swap)).subquery()

    def inline(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name in objects and node.table == table:
            return exp.paren(sqlglot.parse_one(objects[node.name][1], read="snowflake"))
        return node

    tree = tree.transform(inline)
    select = exp.select(tree).from_(exp.to_table(model.entities[table].table).as_(table))
    for other in sorted({c.table for c in tree.find_all(exp.Column) if c.table} - {table}):
        (rel,) = [r for r in links if r["table"] == table and r["ref"] == other]
        pairs = zip(rel["cols"].split(", "), rel["refcols"].split(", "), strict=True)
        on = " AND ".join(f"{table}.{a} = {other}.{b}" for a, b in pairs)
        select = select.join(
            exp.to_table(model.entities[other].table).as_(other), on=on, join_type="left"
        )
    return select.subquery()


def test_the_semantic_view_metrics_give_the_numbers_of_semantic_query(project: Project) -> None:
    text, _ = _export(ROOT, "snowflake")
    objects = _snowflake_metrics(text)
    links = read_ddl(text)["RELATIONSHIPS"]
    names = [
        "net_revenue",
        "order_count",
        "average_discount",
        "profit",
        "supplying_supplier_count",
        "average_order_value",
    ]
    totals = [_snowflake_total(n, objects, project.model, links) for n in names]
    sql = exp.select(*totals).sql("duckdb")
    (row,) = project.engine.connection.execute(sql).fetchall()
    expected = project.query("SELECT " + ", ".join(names)).to_pylist()[0]
    for name, value in zip(names, row, strict=True):
        assert same_value(value, expected[name]), (name, value, expected[name])


# --- Databricks ------------------------------------------------------------------------------


def _metric_views(text: str) -> dict[str, dict[str, Any]]:
    found = re.findall(
        r"CREATE OR REPLACE VIEW (\S+)\nWITH METRICS\nLANGUAGE YAML\nAS \$\$\n(.*?)\$\$;",
        text,
        re.S,
    )
    return {name: _load(body) for name, body in found}


def _join_tables(view: dict[str, Any]) -> dict[tuple[str, ...], str]:
    """Each join route (names from the source) -> the table it reads."""
    found: dict[tuple[str, ...], str] = {(): view["source"]}

    def walk(joins: list[dict[str, Any]], parent: tuple[str, ...]) -> None:
        for join in joins:
            found[(*parent, join["name"])] = join["source"]
            walk(join.get("joins", []), (*parent, join["name"]))

    walk(view.get("joins", []), ())
    return found


def _parts(col: exp.Expression) -> tuple[str, ...]:
    return tuple(p.name for p in col.parts)  # type: ignore[attr-defined]


def _references(tree: exp.Expression) -> list[exp.Expression]:
    """The column references of a metric view expression: columns, and the dotted names
    longer than sqlglot's four-part columns (`orders.customer.nation.region.r_name`)."""
    return [
        node
        for node in tree.find_all(exp.Column, exp.Dot)
        if not isinstance(node.parent, exp.Dot)
        and not (isinstance(node, exp.Column) and isinstance(node.this, exp.Star))
        and not node.find_ancestor(exp.Anonymous)
    ]


@pytest.mark.parametrize("root", ["tpch", "shop"])
def test_the_metric_views_follow_the_specification_and_compile(root: str, shop: Path) -> None:
    where = ROOT if root == "tpch" else shop
    model = _model(where)
    by_table = {e.table: set(e.columns) for e in model.entities.values()}
    text, _ = _export(where, "databricks")
    views = _metric_views(text)
    assert views
    for view in views.values():
        assert metric_view_problems(view) == []
        assert view["version"] == "1.1"
        routes = _join_tables(view)
        measures = {m["name"] for m in view["measures"]}
        for key in ("dimensions", "measures"):
            for item in view.get(key, []):
                tree = sqlglot.parse_one(item["expr"], read="databricks")
                for fn in tree.find_all(exp.Anonymous):
                    assert fn.name.upper() == "MEASURE" and fn.expressions[0].name in measures
                for col in _references(tree):
                    *path, name = _parts(col)
                    route = () if path == ["source"] else tuple(path)
                    assert route in routes and name in by_table[routes[route]], item["expr"]
        for route, _table in routes.items():
            assert len(route) <= len(model.entities)


def _metric_view_sql(view: dict[str, Any], dimensions: list[str], measures: list[str]) -> str:
    """A query of a metric view as DuckDB SQL: the source LEFT JOINed to its joins (each
    named by its route), the measures' MEASURE() references expanded, grouped by the
    dimensions."""
    by_name = {m["name"]: m["expr"] for m in view["measures"]}
    dims = {d["name"]: d["expr"] for d in view.get("dimensions", [])}

    def alias(route: tuple[str, ...]) -> str:
        return "__".join(route) if route else "source"

    def local(sql: str) -> exp.Expression:
        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Anonymous) and node.name.upper() == "MEASURE":
                return exp.paren(local(by_name[node.expressions[0].name]))
            if node in refs:
                *path, name = _parts(node)
                route = () if path == ["source"] else tuple(path)
                return exp.column(name, table=alias(route))
            return node

        tree = sqlglot.parse_one(sql, read="databricks")
        refs = _references(tree)
        return tree.transform(swap)

    select = exp.select(
        *(local(dims[d]).as_(d) for d in dimensions), *(local(by_name[m]).as_(m) for m in measures)
    ).from_(exp.to_table(view["source"]).as_("source"))

    def join(joins: list[dict[str, Any]], parent: tuple[str, ...]) -> None:
        nonlocal select
        for item in joins:
            route = (*parent, item["name"])
            on = sqlglot.parse_one(item["on"], read="databricks")
            for col in on.find_all(exp.Column):
                col.set(
                    "table",
                    exp.to_identifier(alias(route if col.table == item["name"] else parent)),
                )
            select = select.join(
                exp.to_table(item["source"]).as_(alias(route)), on=on, join_type="left"
            )
            join(item.get("joins", []), route)

    join(view.get("joins", []), ())
    if dimensions:
        select = select.group_by(*(exp.column(d) for d in dimensions))
    return select.sql("duckdb")


def _same_rows(actual: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> None:
    key = lambda row: tuple((v is None, str(v)) for v in row)  # noqa: E731
    actual, expected = sorted(actual, key=key), sorted(expected, key=key)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert all(same_value(x, y) for x, y in zip(a, e, strict=True)), (a, e)


@pytest.mark.parametrize(
    ("view", "dimensions", "measures"),
    [
        ("lineitem_metrics", ["customer_region"], ["net_revenue", "line_count"]),
        ("lineitem_metrics", ["supplier_nation", "order_status"], ["profit", "average_price"]),
        ("orders_metrics", ["customer_nation"], ["order_count", "order_value"]),
    ],
)
def test_the_metric_views_give_the_numbers_of_semantic_query(
    project: Project, view: str, dimensions: list[str], measures: list[str]
) -> None:
    text, _ = _export(ROOT, "databricks")
    sql = _metric_view_sql(_metric_views(text)[view], dimensions, measures)
    actual = project.engine.connection.execute(sql).fetchall()
    expected = project.query("SELECT " + ", ".join(dimensions + measures))
    _same_rows(actual, [tuple(r.values()) for r in expected.to_pylist()])


def test_filters_segments_and_ratios_keep_their_numbers(shop: Path) -> None:
    text, _ = _export(shop, "databricks")
    project = Project.load(shop)
    project.prepare_data()
    measures = ["revenue", "paid_revenue", "large_order_count", "paid_share"]
    for dimensions in (["city"], ["status"], []):
        sql = _metric_view_sql(_metric_views(text)["orders_metrics"], dimensions, measures)
        actual = project.engine.connection.execute(sql).fetchall()
        expected = project.query("SELECT " + ", ".join(dimensions + measures))
        _same_rows(actual, [tuple(r.values()) for r in expected.to_pylist()])


def test_a_catalog_without_a_schema_is_refused() -> None:
    result = run_cli("export", "databricks", "--catalog", "main")
    assert result.exit_code == 1
    assert "SEM246" in result.stderr


# --- LookML ----------------------------------------------------------------------------------

_REF = re.compile(r"\$\{([^}]*)\}")


def _blocks(items: list[tuple[str, Any]], key: str) -> dict[str, list[tuple[str, Any]]]:
    return {value[0]: value[1] for k, value in items if k == key}


@pytest.mark.parametrize("root", ["tpch", "shop"])
def test_the_lookml_project_follows_the_reference_and_compiles(
    root: str, shop: Path, tmp_path: Path
) -> None:
    where = ROOT if root == "tpch" else shop
    model = _model(where)
    result = run_cli("export", "lookml", "-o", str(tmp_path / "lk"), project=where)
    assert result.exit_code == 0, result.stderr
    views: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted((tmp_path / "lk" / "views").glob("*.view.lkml")):
        ((name, body),) = _blocks(read_lookml(path.read_text()), "view").items()
        fields: dict[str, dict[str, Any]] = {}
        for kind in ("dimension", "dimension_group", "measure"):
            for field, params in _blocks(body, kind).items():
                assert field not in fields, f"{name}.{field} twice"
                fields[field] = {"kind": kind, **dict(params)}
        views[name] = fields
        assert dict(body)["sql_table_name"] == model.entities[name].table
        assert sum(f.get("primary_key") == "yes" for f in fields.values()) == 1
    assert set(views) == set(model.entities)
    (model_file,) = (tmp_path / "lk").glob("*.model.lkml")
    top = read_lookml(model_file.read_text())
    aliases: dict[str, str] = {v: v for v in views}
    for explore, body in _blocks(top, "explore").items():
        assert explore in views
        for join, params in _blocks(body, "join").items():
            spec = dict(params)
            assert spec["relationship"] in RELATIONSHIPS and spec["type"] in JOIN_TYPES_LOOKML
            target = spec.get("from", join)
            assert aliases.setdefault(join, target) == target
            _compile(spec["sql_on"], views, aliases, None)
    for name, fields in views.items():
        for field, spec in fields.items():
            kinds = {"dimension": DIMENSION_TYPES, "measure": MEASURE_TYPES}
            if spec["kind"] == "dimension_group":
                assert spec["type"] == "time" and set(spec["timeframes"]) <= TIMEFRAMES
            else:
                assert spec["type"] in kinds[spec["kind"]], (name, field)
            if "sql" in spec:
                _compile(spec["sql"], views, aliases, name)


def _compile(
    sql: str, views: dict[str, dict[str, Any]], aliases: dict[str, str], view: str | None
) -> None:
    """Parse LookML SQL with DuckDB once its references are names, each reference checked."""

    def swap(found: re.Match[str]) -> str:
        ref = found.group(1)
        if ref == "TABLE":
            assert view is not None
            return view
        owner, _, field = ref.rpartition(".")
        target = aliases[owner] if owner else view
        assert target is not None and field in views[target], f"${{{ref}}} in {sql}"
        return ref.replace(".", "__") if owner else field

    sqlglot.parse_one(_REF.sub(swap, sql), read="duckdb")


def test_what_no_target_carries_is_reported() -> None:
    for target in ("snowflake", "databricks", "lookml"):
        _, report = _export(ROOT, target)
        for lost in ("revenue_last_3_months", "revenue_previous_year", "revenue_growth"):
            assert f"'{lost}'" in report, (target, lost)
        assert "SEM224" in report
    _, report = _export(ROOT, "snowflake")
    assert "grains fiscal_quarter, fiscal_year of 'order_date'" in report
    _, report = _export(ROOT, "databricks")
    assert "derived metric 'average_order_value'" in report
