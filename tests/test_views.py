"""Views for BI tools: subject areas in the glossary, `semantic views plan/apply`.

Views are published to real DuckDB files and then read back as a BI tool would, with a
plain `duckdb.connect(path)`: their numbers must be those of `semantic query` and of
hand-written SQL.
"""

from __future__ import annotations

import dataclasses
import decimal
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest

from semantic.compiler.areas import subject_area_query
from semantic.engines.duckdb import DuckDBEngine
from semantic.errors import SemanticError
from semantic.outputs.publish import publish_views
from semantic.outputs.views import MARK, SchemaObject, plan_views
from semantic.project import Project
from tests.cli_runner import run_cli, unboxed
from tests.conftest import ROOT
from tests.projects import write_project
from tests.test_docs import assert_result, blocks, commands

# --- helpers --------------------------------------------------------------------------------


def bookshop(tmp_path: Path) -> Project:
    """A copy of examples/bookshop (CSV data) that a test may change."""
    root = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "bookshop", root)
    return Project.load(root)


def file_engine(project: Project, path: Path) -> DuckDBEngine:
    assert project.config.data is not None
    project.prepare_data()
    return DuckDBEngine(project.model, project.data_dir, project.config.data.format, str(path))


def publish(project: Project, path: Path, **options: Any) -> Any:
    engine = file_engine(project, path)
    try:
        return publish_views(project.model, engine, **options)
    finally:
        engine.close()


def bi_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    """What a BI tool reads: a fresh connection to the database file, nothing of ours."""
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def bi_columns(path: Path, view: str, schema: str = "semantic") -> list[str]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return [
            row[0]
            for row in connection.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [schema, view],
            ).fetchall()
        ]


def objects(path: Path) -> set[tuple[str, str]]:
    """(schema, name) of every table and view in the file."""
    rows = bi_rows(
        path,
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database()",
    )
    return {(str(s), str(n)) for s, n in rows}


def normalized(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Rows in a stable order, numbers as floats rounded to cents' hundredths."""

    def cell(value: Any) -> Any:
        if isinstance(value, decimal.Decimal | float):
            return round(float(value), 4)
        return value

    return sorted((tuple(cell(v) for v in row) for row in rows), key=repr)


def query_rows(project: Project, text: str) -> list[tuple[Any, ...]]:
    table = project.query(text)
    return [tuple(row.values()) for row in table.to_pylist()]


def rewrite(project: Project, name: str, old: str, new: str) -> Path:
    """Replace `old` by `new` in one of the project's files; the project's folder."""
    path = project.root / name
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))
    return project.root


# --- subject areas in the glossary ------------------------------------------------------------

SHOP_AREA = """
  broken_area:
    label: {{en: Broken}}
    dimensions: [{dimensions}]
    metrics: [{metrics}]
{extra}"""


def area_errors(tmp_path: Path, dimensions: str, metrics: str, extra: str = "") -> list[str]:
    shop = bookshop(tmp_path)
    path = shop.root / "glossary" / "sales.yml"
    path.write_text(
        path.read_text()
        + SHOP_AREA.format(dimensions=dimensions, metrics=metrics, extra=extra).rstrip()
        + "\n"
    )
    _, diagnostics = Project.inspect(shop.root)
    return [d.render() for d in diagnostics if d.severity == "error"]


def test_subject_area_errors_name_the_place(tmp_path: Path) -> None:
    found = area_errors(tmp_path / "a", "chanel", "revenue")
    assert len(found) == 1
    assert found[0].startswith(
        "glossary/sales.yml:87:18: SEM216 subject area 'broken_area' names unknown term 'chanel'"
    ), found
    assert "did you mean 'channel'?" in found[0]
    found = area_errors(tmp_path / "b", "revenue", "channel")
    assert [f.splitlines()[0] for f in found] == [
        "glossary/sales.yml:87:18: SEM217 subject area 'broken_area' lists 'revenue' as a "
        "dimension, but it is a metric",
        "glossary/sales.yml:88:15: SEM217 subject area 'broken_area' lists 'channel' as a "
        "metric, but it is a dimension",
    ]
    assert "move it to `metrics`" in found[0]


@pytest.mark.parametrize(
    ("dimensions", "metrics", "extra", "code", "words"),
    [
        ("channel.month", "revenue", "", "SEM217", "'month' is not a grain of 'channel'"),
        ("order_date.hour", "revenue", "", "SEM217", "'hour' is not a grain of 'order_date'"),
        ("channel, channel", "revenue", "", "SEM217", "lists 'channel' twice"),
        ("channel", "revenue", "    segments: [channel]\n", "SEM217", "as a segment"),
        ("channel", "revenue", "    filter: revenue > 3\n", "SEM217", "uses 'revenue', a metric"),
        ("channel", "revenue", "    filter: chanel = 'web'\n", "SEM216", "unknown term 'chanel'"),
        ("channel", "revenue", "    filter: channel = $c\n", "SEM217", "parameters"),
        ("channel", "revenue", "    filter: channel = (\n", "SEM104", "not valid SQL"),
    ],
)
def test_subject_area_reference_errors(
    tmp_path: Path, dimensions: str, metrics: str, extra: str, code: str, words: str
) -> None:
    found = area_errors(tmp_path, dimensions, metrics, extra)
    assert len(found) == 1 and f": {code} " in found[0] and words in found[0], found


def test_a_subject_area_listing_a_deprecated_term_is_warned(tmp_path: Path) -> None:
    """Still published (its view keeps answering), but `semantic check` says where the
    term is listed and what replaces it."""
    shop = bookshop(tmp_path)
    path = shop.root / "glossary" / "sales.yml"
    path.write_text(
        path.read_text().replace(
            "    status: approved\n    metric: {expr: revenue / order_count}",
            "    status: deprecated\n    replaced_by: revenue\n"
            "    metric: {expr: revenue / order_count}",
        )
        + SHOP_AREA.format(dimensions="channel", metrics="average_basket", extra="").rstrip()
        + "\n"
    )
    project, diagnostics = Project.inspect(shop.root)
    warned = [d.render() for d in diagnostics if d.code == "SEM215"]
    assert [w.splitlines() for w in warned] == [
        [
            "glossary/sales.yml:89:15: warning: SEM215 subject area 'broken_area' lists "
            "deprecated term 'average_basket'",
            "  help: list 'revenue' instead",
        ]
    ]
    assert project is not None and "broken_area" in project.model.subject_areas


def test_metric_columns_that_a_bi_tools_sum_gets_wrong_are_warned(tmp_path: Path) -> None:
    """An order counted under each genre of its books, a ratio: `semantic check` warns at
    the metric's place in the subject area (SEM232, SEM233); the sum that adds up is not
    warned of. Issue #12, class 8."""
    shop = bookshop(tmp_path)
    path = shop.root / "glossary" / "sales.yml"
    path.write_text(
        path.read_text()
        + SHOP_AREA.format(
            dimensions="genre", metrics="order_count, revenue, average_basket", extra=""
        ).rstrip()
        + "\n"
    )
    project, diagnostics = Project.inspect(shop.root)
    assert project is not None and "broken_area" in project.model.subject_areas
    warned = [d.render().splitlines() for d in diagnostics if d.code in ("SEM232", "SEM233")]
    assert warned == [
        [
            "glossary/sales.yml:88:15: warning: SEM232 subject area 'broken_area': a BI tool's "
            "sum of 'order_count' over the view's rows counts a row of 'orders' once per value "
            "of 'genre', on the many side of 'orders'",
            "  help: remove 'genre' from the subject area (or publish it in an area of its own); "
            "as it is, a sum is right only in groups that keep 'genre', and no other "
            "aggregation gives the total",
        ],
        [
            "glossary/sales.yml:88:37: warning: SEM233 subject area 'broken_area': "
            "'average_basket' does not add up across the view's rows: a ratio of metrics",
            "  help: no aggregation of its rows is safe: read it at the view's grain (one row "
            "per combination of the area's dimensions); for a ratio or an average, list its "
            "parts (sums and counts) and let the BI tool divide their sums",
        ],
    ]
    # the shipped examples and the TPC-H glossary publish only columns that add up
    for root in (ROOT, ROOT / "examples" / "bookshop"):
        _, clean = Project.inspect(root)
        assert [d.code for d in clean if d.code in ("SEM232", "SEM233")] == []


def test_column_comments_say_which_columns_do_not_add_up(project: Project, tmp_path: Path) -> None:
    """Read back from DuckDB after `views apply`, as Metabase or Superset sync them."""
    model = with_ship_mode_area(project.model)
    path = tmp_path / "bi.duckdb"
    engine = file_engine(project, path)
    try:
        publish_views(model, engine, language="en")
    finally:
        engine.close()
    comments = dict(
        bi_rows(
            path,
            "SELECT column_name, comment FROM duckdb_columns() "
            "WHERE schema_name = 'semantic' AND table_name = 'orders_by_ship_mode'",
        )
    )
    assert_ship_mode_comments(comments)


def with_ship_mode_area(model: Any) -> Any:
    """TPC-H with a subject area by ship mode, a dimension on the many side of orders."""
    base = model.subject_areas["sales_by_customer"]
    area = dataclasses.replace(
        base,
        id="orders_by_ship_mode",
        dimensions=("ship_mode", "order_date.year"),
        metrics=("order_count", "net_revenue", "average_order_value", "revenue_year_to_date"),
        places={},
    )
    return dataclasses.replace(
        model, subject_areas={**model.subject_areas, area.id: area}, path_cache={}
    )


def assert_ship_mode_comments(comments: dict[str, str]) -> None:
    """The comments of `with_ship_mode_area`'s view: each metric's definition, then, for
    those a sum of rows gets wrong, why and what to do instead."""
    assert comments["Ship mode"].startswith("Means of transport")
    assert "add up" not in comments["Ship mode"]
    assert comments["Net revenue"] == (
        "Sum of the extended price of line items after discount, before tax."
    )
    assert comments["Order count"] == (
        "Number of orders placed. Does not add up across rows: a row of orders counts once "
        'per value of "Ship mode" it has ("Ship mode" is on the many side of orders); a sum '
        'is right only in groups that keep "Ship mode".'
    )
    assert comments["Average order value"].endswith(
        "Does not add up across rows: a ratio of metrics; read it at the view's rows, never "
        "sum or average it again."
    )
    assert comments["Revenue year to date"].endswith(
        "Does not add up across rows: a total since the start of each year along order_date, "
        "so each row already holds several periods; read it at the view's rows, never sum "
        "or average it again."
    )


def test_a_subject_area_may_not_take_an_entity_id(tmp_path: Path) -> None:
    shop = bookshop(tmp_path)
    root = rewrite(shop, "glossary/sales.yml", "  sales_by_channel:", "  orders:")
    with pytest.raises(SemanticError) as caught:
        Project.load(root)
    assert caught.value.code == "SEM219"
    assert "subject area 'orders' has the id of an entity" in str(caught.value)


def test_a_subject_area_that_does_not_compile_is_reported(tmp_path: Path) -> None:
    model = """
    entities:
      a: {primary_key: [id], columns: {id: {type: integer}}}
      b: {primary_key: [id], columns: {id: {type: integer}, kind: {type: varchar}}}
    """
    glossary = """
    domain: d
    terms:
      a_count: {label: {en: A count}, metric: {entity: a, expr: count(*)}}
      b_kind: {label: {en: B kind}, dimension: {entity: b, expr: kind}}
    subject_areas:
      apart:
        label: {en: Apart}
        dimensions: [b_kind]
        metrics: [a_count]
    """
    write_project(tmp_path, {"models/m.yml": model, "glossary/g.yml": glossary})
    with pytest.raises(SemanticError) as caught:
        Project.load(tmp_path)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "SEM218"
    assert str(diagnostic.span) == "glossary/g.yml:6:3"
    assert "the query of subject area 'apart' does not compile: SEM306" in diagnostic.message


def test_subject_areas_are_in_the_model(project: Project) -> None:
    area = project.model.subject_areas["sales_by_customer"]
    assert area.label("fr") == "Ventes par client"
    assert area.dimensions == ("customer_region", "customer_nation", "market_segment")
    yearly = project.model.subject_areas["yearly_sales"]
    assert subject_area_query(project.model, yearly, "fr") == (
        'SELECT order_date.year AS "Date de commande (année)", order_count AS "Nombre de '
        'commandes", net_revenue AS "Chiffre d\'affaires net", gross_revenue AS '
        "\"Chiffre d'affaires brut\" WHERE order_status = 'F'"
    )


# --- planning -------------------------------------------------------------------------------


def test_plan_writes_ddl_for_the_dialect(project: Project) -> None:
    plan = plan_views(project.model, dialect="postgres", source_schema="public", language="fr")
    statements = plan.statements()
    assert statements[0] == 'CREATE SCHEMA IF NOT EXISTS "semantic"'
    assert not any(s.startswith("DROP") for s in statements)
    customer = next(s for s in statements if s.startswith('CREATE VIEW "semantic"."customer"'))
    assert customer.startswith(
        'CREATE VIEW "semantic"."customer" AS SELECT c_custkey AS "Clé client", '
        '"c_nationkey" AS "c_nationkey", c_name AS "Nom du client"'
    )
    assert customer.endswith("FROM public.customer AS customer")
    area = next(s for s in statements if '"semantic"."sales_by_customer" AS' in s)
    assert "FROM public.lineitem AS lineitem" in area and "FROM lineitem AS" not in area
    assert 'AS "Chiffre d\'affaires net"' in area
    assert (
        'COMMENT ON VIEW "semantic"."sales_by_customer" IS \'[semantic:tpch] subject area '
        "sales_by_customer: Ventes par client. Commandes et chiffre d''affaires net par région, "
        "pays et segment de marché du client.'"
    ) in statements
    assert (
        'COMMENT ON COLUMN "semantic"."orders"."Date de commande" IS '
        "'Date à laquelle le client a passé la commande.'"
    ) in statements
    names = [v.name for v in plan.views]
    assert names == [*project.model.entities, "sales_by_customer", "yearly_sales"]


def test_plan_drops_owned_views_and_refuses_foreign_ones(project: Project) -> None:
    mark = MARK.format(project="tpch")
    existing = [
        SchemaObject("customer", "view", f"{mark} entity customer"),
        SchemaObject("old_area", "view", f"{mark} subject area old_area"),
        SchemaObject("someone_elses", "view", "[semantic:other] not ours"),
        SchemaObject("notes", "table", f"{mark} a table is never ours"),
    ]
    plan = plan_views(project.model, dialect="duckdb", source_schema="main", existing=existing)
    assert plan.replaced == ("customer",) and plan.dropped == ("old_area",)
    drops = [s for s in plan.statements() if s.startswith("DROP")]
    assert drops == ['DROP VIEW "semantic"."old_area"', 'DROP VIEW "semantic"."customer"']
    assert "-- dropped, no longer declared: old_area" in plan.script()
    with pytest.raises(SemanticError) as caught:
        plan_views(
            project.model,
            dialect="duckdb",
            source_schema="main",
            existing=[SchemaObject("orders", "table"), SchemaObject("part", "view", "mine")],
        )
    assert [d.code for d in caught.value.diagnostics] == ["SEM416", "SEM416"]
    assert "table 'semantic.orders' exists and was not created by semantic" in str(caught.value)


def test_plan_refuses_an_unknown_language_and_colliding_labels(
    project: Project, tmp_path: Path
) -> None:
    with pytest.raises(SemanticError) as caught:
        plan_views(project.model, dialect="duckdb", source_schema="main", language="de")
    assert caught.value.code == "SEM419" and "language 'de'" in str(caught.value)
    shop = bookshop(tmp_path)
    # a term without a Spanish label is named by its English one, which a Spanish label has
    extra = (
        "  channel_code:\n    label: {en: Canal}\n"
        "    dimension: {entity: orders, expr: upper(channel)}\nsubject_areas:"
    )
    shop = Project.load(rewrite(shop, "glossary/sales.yml", "subject_areas:", extra))
    with pytest.raises(SemanticError) as caught:
        plan_views(shop.model, dialect="duckdb", source_schema="main", language="es")
    assert caught.value.code == "SEM418"
    assert "view 'orders' would have two columns named 'Canal'" in str(caught.value)
    # PostgreSQL keeps 63 bytes of a name; é takes two
    long = "Fecha en la que se registró el pedido en la caja de la librería"
    assert len(long) < 64 < len(long.encode())
    fresh = bookshop(tmp_path / "long")
    shop = Project.load(rewrite(fresh, "glossary/sales.yml", "es: Fecha del pedido", f"es: {long}"))
    plan_views(shop.model, dialect="duckdb", source_schema="main", language="es")
    with pytest.raises(SemanticError) as caught:
        plan_views(shop.model, dialect="postgres", source_schema="public", language="es")
    assert caught.value.code == "SEM418" and "longer than the 63 bytes" in str(caught.value)


# --- publishing, read back as a BI tool ---------------------------------------------------------


def test_bi_tool_reads_the_numbers_of_semantic_query(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "bi.duckdb"
    plan = publish(project, path, language="fr")
    assert len(plan.views) == 10 and plan.replaced == () and plan.dropped == ()
    for area in project.model.subject_areas.values():
        view = bi_rows(path, f'SELECT * FROM semantic."{area.id}"')
        assert len(view) >= 4
        assert normalized(view) == normalized(
            query_rows(project, subject_area_query(project.model, area))
        )
    # a BI tool aggregates again what is additive: totals by region from the subject area
    by_region = bi_rows(
        path,
        'SELECT "Région client", sum("Nombre de commandes"), sum("Chiffre d\'affaires net") '
        "FROM semantic.sales_by_customer GROUP BY 1",
    )
    assert normalized(by_region) == normalized(
        query_rows(project, "SELECT customer_region, order_count, net_revenue")
    )
    # and the numbers are those of SQL written by hand over the data
    yearly = bi_rows(path, "SELECT * FROM semantic.yearly_sales")
    hand = project.engine.connection.execute(
        """
        SELECT make_date(year(o_orderdate), 1, 1), count(DISTINCT o_orderkey),
               sum(l_extendedprice * (1 - l_discount)), sum(l_extendedprice)
        FROM orders JOIN lineitem ON l_orderkey = o_orderkey
        WHERE o_orderstatus = 'F' GROUP BY 1
        """
    ).fetchall()
    assert normalized(yearly) == normalized(hand)
    assert bi_columns(path, "yearly_sales") == [
        "Date de commande (année)",
        "Nombre de commandes",
        "Chiffre d'affaires net",
        "Chiffre d'affaires brut",
    ]
    # entity views: every row of the data, columns named by labels, keys first
    customers = bi_rows(
        path, 'SELECT count(*), count(DISTINCT "Clé client") FROM semantic.customer'
    )
    assert customers == [(1500, 1500)]
    assert bi_columns(path, "customer")[:3] == ["Clé client", "c_nationkey", "Nom du client"]
    comments = dict(
        bi_rows(
            path, "SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'semantic'"
        )
    )
    assert comments["sales_by_customer"].startswith("[semantic:tpch] subject area")


def test_relabel_then_remove_a_subject_area(tmp_path: Path) -> None:
    shop = bookshop(tmp_path)
    path = tmp_path / "shop.duckdb"
    publish(shop, path)
    assert bi_columns(path, "sales_by_channel") == [
        "channel",
        "order_date_month",
        "revenue",
        "order_count",
    ]
    before = bi_rows(path, "SELECT * FROM semantic.web_sales_by_city")
    hand = shop.engine.connection.execute(
        """
        SELECT c.city, sum(l.quantity * l.unit_price), sum(l.quantity)
        FROM order_lines l JOIN orders o USING (order_id) LEFT JOIN customers c USING (customer_id)
        WHERE o.channel = 'web' GROUP BY 1
        """
    ).fetchall()
    assert normalized(before) == normalized(hand) and len(before) >= 2
    # objects that are not the tool's, inside and outside its schema
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE TABLE semantic.notes AS SELECT 1 AS n")
        connection.execute("CREATE VIEW semantic.mine AS SELECT 2 AS n")
        connection.execute("CREATE SCHEMA elsewhere")
        connection.execute("CREATE VIEW elsewhere.sales_by_channel AS SELECT 3 AS n")
    everything = objects(path)

    plan = publish(shop, path, language="es")
    assert set(plan.replaced) == {v.name for v in plan.views} and plan.dropped == ()
    assert bi_columns(path, "sales_by_channel") == [
        "Canal",
        "Fecha del pedido (mes)",
        "Ingresos",
        "Número de pedidos",
    ]
    assert normalized(bi_rows(path, "SELECT * FROM semantic.web_sales_by_city")) == normalized(
        before
    )

    text = (shop.root / "glossary" / "sales.yml").read_text()
    cut = text.index("  web_sales_by_city:")
    (shop.root / "glossary" / "sales.yml").write_text(text[:cut])
    shop = Project.load(shop.root)
    plan = publish(shop, path, language="es")
    assert plan.dropped == ("web_sales_by_city",)
    # the view goes, and so does the copy of its result that it read
    assert objects(path) == everything - {
        ("semantic", "web_sales_by_city"),
        ("semantic_data", "web_sales_by_city"),
    }
    assert bi_rows(path, "SELECT n FROM semantic.notes UNION ALL SELECT n FROM semantic.mine") == [
        (1,),
        (2,),
    ]
    assert bi_rows(path, "SELECT n FROM elsewhere.sales_by_channel") == [(3,)]


def test_a_foreign_object_with_a_declared_name_stops_everything(tmp_path: Path) -> None:
    shop = bookshop(tmp_path)
    path = tmp_path / "shop.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE SCHEMA semantic")
        connection.execute("CREATE TABLE semantic.books AS SELECT 'not yours' AS note")
    with pytest.raises(SemanticError) as caught:
        publish(shop, path)
    assert caught.value.code == "SEM416"
    assert objects(path) >= {("semantic", "books")}
    assert not any(s == "semantic" and n != "books" for s, n in objects(path))
    assert bi_rows(path, "SELECT note FROM semantic.books") == [("not yours",)]


class FailingHalfway:
    """An engine that slips a failing statement into the middle of each publication, after
    the drops and some of the new views have run."""

    def __init__(self, engine: DuckDBEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.ran: list[str] = []

    def __getattr__(self, name: str) -> Any:
        # where the engine publishes (a DuckDB file attached beside the data files, ...)
        return getattr(self.engine, name)

    def execute(self, sql: str, params: Any = None) -> Any:
        return self.engine.execute(sql, params)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return self.engine.fetch(sql)

    def check_schema(self) -> Any:
        return self.engine.check_schema()

    def publish(self, statements: Sequence[str]) -> None:
        half = len(statements) // 2
        self.ran = list(statements[:half])
        failing = "CREATE VIEW broken_view AS SELECT no_such_column"
        self.engine.publish([*statements[:half], failing, *statements[half:]])

    def close(self) -> None:
        self.engine.close()


def test_a_failure_halfway_leaves_the_old_views_answering(tmp_path: Path) -> None:
    shop = bookshop(tmp_path)
    path = tmp_path / "shop.duckdb"
    publish(shop, path)
    before = {
        name: normalized(bi_rows(path, f"SELECT * FROM semantic.{name}"))
        for name in ("sales_by_channel", "web_sales_by_city", "orders")
    }
    columns = bi_columns(path, "orders")
    # the next publication relabels every view and drops one
    text = (shop.root / "glossary" / "sales.yml").read_text()
    (shop.root / "glossary" / "sales.yml").write_text(text[: text.index("  web_sales_by_city:")])
    shop = Project.load(shop.root)
    engine = FailingHalfway(file_engine(shop, path))
    try:
        with pytest.raises(SemanticError) as caught:
            publish_views(shop.model, engine, language="es")
    finally:
        engine.close()
    assert caught.value.code == "SEM417"
    assert "nothing was changed" in str(caught.value) and "no_such_column" in str(caught.value)
    assert 'DROP VIEW "semantic_target"."semantic"."web_sales_by_city"' in engine.ran
    assert sum(s.startswith("CREATE VIEW") for s in engine.ran) >= 2
    assert sum(s.startswith("DROP TABLE") for s in engine.ran) >= 7  # every copy of a result
    for name, rows in before.items():
        assert normalized(bi_rows(path, f"SELECT * FROM semantic.{name}")) == rows
    assert bi_columns(path, "orders") == columns
    assert not any(name == "broken_view" for _, name in objects(path))


def test_views_wait_for_the_data_to_pass_its_quality_rules(tmp_path: Path) -> None:
    shop = bookshop(tmp_path)
    root = rewrite(
        shop,
        "models/shop.yml",
        '      unit_price: {type: "decimal(8,2)", description: "Price paid per copy, after any '
        'discount."}\n',
        '      unit_price: {type: "decimal(8,2)", description: "Price paid per copy, after any '
        'discount."}\n'
        "    quality:\n"
        "      cheap: {dimension: validity, check: unit_price < 15, threshold: 0.9}\n",
    )
    shop = Project.load(root)
    path = tmp_path / "shop.duckdb"
    plan = publish(shop, path)
    # the gate decides per view: what reads order_lines waits, the rest is published
    withheld = {name for name, _ in plan.gated}
    assert withheld == {"order_lines", "sales_by_channel", "web_sales_by_city"}
    (diagnostic, *_) = [n for n in plan.notices if n.code == "SEM415"]
    assert "quality rule 'order_lines.cheap' holds for" in diagnostic.message
    assert str(diagnostic.span).startswith("models/shop.yml:")
    assert not any(name in withheld for _, name in objects(path))
    assert ("semantic", "books") in objects(path)
    plan = publish(shop, path, check_quality=False)
    assert ("semantic", "sales_by_channel") in objects(path) and len(plan.views) == 7


def test_a_rule_the_engine_cannot_measure_stops_the_views_over_its_entity(
    tmp_path: Path,
) -> None:
    shop = bookshop(tmp_path)
    root = rewrite(
        shop,
        "models/shop.yml",
        "      city: {type: varchar, description: City of the postal address.}\n",
        "      city: {type: varchar, description: City of the postal address.}\n"
        "    quality:\n"
        "      known_city: {dimension: validity, check: no_such_function(city)}\n",
    )
    path = tmp_path / "shop.duckdb"
    plan = publish(Project.load(root), path)
    reasons = dict(plan.gated)
    assert set(reasons) == {"customers", "web_sales_by_city"}
    assert "could not be measured" in reasons["customers"]
    assert "no_such_function" in reasons["customers"]
    assert not any(s == "semantic" and n == "customers" for s, n in objects(path))


# --- the command line ---------------------------------------------------------------------------


def cli(project: Path, *args: str) -> tuple[int, str, str]:
    return run_cli("views", *args, project=project)


def test_cli_plan_changes_nothing_and_apply_publishes(tmp_path: Path) -> None:
    shop = bookshop(tmp_path)
    path = tmp_path / "shop.duckdb"
    url = f"duckdb://{path}"
    code, out, err = cli(shop.root, "plan", "--engine", url, "--language", "es")
    assert code == 0, err
    assert out.startswith(
        "-- 7 view(s) in schema semantic\n"
        "-- each reading a copy of its result in schema semantic_data\n"
        'CREATE SCHEMA IF NOT EXISTS "semantic_target"."semantic";\n'
    )
    assert 'CREATE VIEW "semantic_target"."semantic"."sales_by_channel" AS' in out
    assert '"Ingresos"' in out
    assert "would create 7, replace 0 and drop 0 view(s) in schema semantic" in err
    assert not any(s == "semantic" for s, _ in objects(path))

    code, out, err = cli(shop.root, "apply", "--engine", url, "--schema", "bi")
    assert code == 0, err
    assert "create 7, replace 0 and drop 0 view(s) in schema bi" in err
    assert normalized(bi_rows(path, "SELECT * FROM bi.sales_by_channel")) == normalized(
        query_rows(shop, "SELECT channel, order_date.month, revenue, order_count")
    )
    code, out, err = cli(shop.root, "plan", "--engine", url, "--schema", "bi")
    assert code == 0 and 'DROP VIEW "semantic_target"."bi"."sales_by_channel";' in out
    assert "would create 0, replace 7 and drop 0" in err
    code, out, err = cli(shop.root, "plan", "--engine", url, "--schema", "bi", "--format", "json")
    planned = json.loads(out)
    assert planned["schema"] == "bi" and planned["dropped"] == []
    channel = next(v for v in planned["views"] if v["name"] == "sales_by_channel")
    assert channel == {
        "name": "sales_by_channel",
        "source": "subject area",
        "columns": ["channel", "order_date_month", "revenue", "order_count"],
        "replaces": True,
    }
    assert planned["statements"][0] == 'CREATE SCHEMA IF NOT EXISTS "semantic_target"."bi"'


def test_cli_errors(tmp_path: Path) -> None:
    shop = bookshop(tmp_path)
    code, _, err = cli(shop.root, "apply")
    assert code == 1
    assert err.startswith("SEM419 views apply needs a database that outlives the command")
    code, _, err = cli(shop.root, "plan", "--language", "esp")
    # a usage error (semantic.cli.choices); the library's own check is SEM419
    assert code == 2 and "'esp' is not a language of this project; use en or es" in unboxed(err)
    assert "did you mean 'es'?" in unboxed(err) and "Traceback" not in err
    with pytest.raises(SemanticError) as caught:
        plan_views(shop.model, dialect="duckdb", source_schema="data", language="esp")
    assert caught.value.code == "SEM419"


# --- docs/views.md tells the truth ----------------------------------------------------------------


def test_docs_views_examples_are_real(project: Project, tmp_path: Path) -> None:
    found = blocks("docs/views.md")
    yaml = next(b for b in found if b.tag == "yaml")
    assert yaml.text in (ROOT / "glossary" / "subject_areas.yml").read_text()
    path = tmp_path / "tpch.duckdb"
    commands_run = 0
    for block in (b for b in found if b.tag == "console"):
        for command in commands(block):
            # each file of the page (tpch.duckdb, emea.duckdb) is a file of the test's own
            argv = [
                a.replace("duckdb:///srv/bi/", f"duckdb://{tmp_path}/") for a in command.argv[1:]
            ]
            result = run_cli(*argv)
            assert result.exit_code == 0, (command.where, result.stderr)
            assert command.output in result.stderr, command.where
            commands_run += 1
    assert commands_run == 3
    checked = 0
    with duckdb.connect(str(path), read_only=True) as connection:
        for block, following in zip(found, [*found[1:], None], strict=True):
            if block.tag != "sql-views":
                continue
            assert following is not None and following.tag == "csv", block.where
            assert_result(block.where, following.text, connection.sql(block.text).to_arrow_table())
            checked += 1
    assert checked == 3


def test_views_are_not_published_where_they_cannot_be_replaced_atomically(
    project: Project,
) -> None:
    engine = FailingHalfway(project.engine)
    engine.dialect = "spark"
    with pytest.raises(SemanticError) as caught:
        publish_views(project.model, engine)  # type: ignore[arg-type]
    assert caught.value.code == "SEM419"
    assert "views are published on DuckDB and PostgreSQL, not on 'spark'" in str(caught.value)
    assert engine.ran == []


def test_terms_above_the_confidentiality_allowed_stay_out(tmp_path: Path) -> None:
    shop = bookshop(tmp_path)
    path = tmp_path / "shop.duckdb"
    publish(shop, path)
    assert "customer_city" in bi_columns(path, "customers")
    # customer_city is confidential: out of the customers view, and its subject area withheld
    plan = publish(shop, path, max_confidentiality="internal")
    assert plan.withheld == (("web_sales_by_city", "customer_city"),)
    assert plan.dropped == ("web_sales_by_city",)
    assert bi_columns(path, "customers") == ["customer_id"]
    assert ("semantic", "web_sales_by_city") not in objects(path)
    assert ("semantic", "sales_by_channel") in objects(path)
    assert "-- withheld, too confidential: web_sales_by_city (uses customer_city)" in (
        plan.script()
    )
    code, _, err = cli(shop.root, "plan", "--max-confidentiality", "secret")
    assert code == 1 and "SEM419 unknown confidentiality 'secret'" in err


def test_a_subject_area_is_as_confidential_as_what_its_metrics_use(project: Project) -> None:
    restricted = {t.id for t in project.model.terms.values() if t.confidentiality == "restricted"}
    plan = plan_views(
        project.model, dialect="duckdb", source_schema="main", max_confidentiality="public"
    )
    assert dict(plan.withheld) == {
        "sales_by_customer": "market_segment",
        "yearly_sales": "gross_revenue",
    }
    plan = plan_views(
        project.model, dialect="duckdb", source_schema="main", max_confidentiality="confidential"
    )
    assert plan.withheld == ()
    columns = {c.name for v in plan.views for c in v.columns}
    everything = plan_views(project.model, dialect="duckdb", source_schema="main")
    assert restricted & {c.name for v in everything.views for c in v.columns}
    assert not restricted & columns
