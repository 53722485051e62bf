"""Wrong answers that sharing a Spark session can give, pinned.

Each engine reads its project's files into temporary views named after the tables. Two
projects on one Spark Connect server that shared a session would share those views: the
second project's `orders` would replace the first one's, and the first project's numbers
would silently come from the other's data.

Never weaken these tests (see README.md in this folder).
"""

from __future__ import annotations

from semantic.engines.spark import SparkEngine
from semantic.project import Project
from tests.conftest import ROOT


def test_two_projects_on_one_connect_server_keep_their_own_tables(
    project: Project, spark_connect_url: str
) -> None:
    bookshop = Project.load(ROOT / "examples" / "bookshop")
    tpch_by_hand = project.engine.connection.execute(
        "SELECT c_mktsegment, COUNT(*) FROM orders "
        "LEFT JOIN customer ON o_custkey = c_custkey GROUP BY 1 ORDER BY 1"
    ).fetchall()
    total_by_hand = project.engine.connection.execute("SELECT COUNT(*) FROM orders").fetchall()
    bookshop_by_hand = bookshop.engine.connection.execute("SELECT COUNT(*) FROM orders").fetchall()

    def assert_tpch_numbers(engine: SparkEngine) -> None:
        total = project.query("SELECT order_count", engine=engine).column(0).to_pylist()
        assert total == [total_by_hand[0][0]]
        by_segment = project.query("SELECT market_segment, order_count ORDER BY 1", engine=engine)
        assert list(zip(*by_segment.to_pydict().values(), strict=True)) == tpch_by_hand

    tpch = SparkEngine(project.model, project.data_dir, remote=spark_connect_url)
    try:
        other = SparkEngine(bookshop.model, bookshop.data_dir, "csv", remote=spark_connect_url)
        try:
            assert_tpch_numbers(tpch)
            got = bookshop.query("SELECT order_count", engine=other).column(0).to_pylist()
            assert got == [bookshop_by_hand[0][0]]
        finally:
            other.close()
        # closing one project's engine leaves the other's session and views
        assert_tpch_numbers(tpch)
    finally:
        tpch.close()
