"""An existence beside a grand total keeps its `JOIN ... ON` form on DuckDB.

Found by the differential test in CI: `compiler.dialects.flatjoins` wrote the inner joins
of this query as a FROM list (the shape that makes DuckDB plan TPC-H Q21's existences as
plain semi- and anti-joins), and DuckDB 2.0 then decorrelated the `NOT EXISTS` over the
product of the five tables before the join conditions applied, because the WHERE also
compares with a scalar subquery (a grand total): the query filled the disk with temporary
files at scale 0.001. A FROM list is written only where the WHERE's one kind of subquery is
an existence's body; this query must run in a small memory on the differential's data,
and give the total of SQL written by hand, as the same query does with the grand total
read first and compared as a literal (which is flattened).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from semantic import Project

QUERY = (
    "SELECT quantity WHERE ALL(return_flag = THIS(return_flag), order_key) "
    "AND line_quantity > MEASURE(average_quantity) PER (ALL)"
)


def _run(sql: str, tpch_dir: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    try:
        con.execute("SET memory_limit = '512MB'; SET temp_directory = ''; SET threads = 1")
        for table in ("lineitem", "orders", "customer", "nation", "region"):
            con.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{tpch_dir / table}.parquet')"
            )
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_an_existence_beside_a_grand_total_runs_in_a_small_memory(
    tpch_project: Project, tpch_dir: Path
) -> None:
    sql = tpch_project.compile(QUERY, pretty=False)
    assert "JOIN orders AS orders ON" in sql, sql  # not the FROM list
    (average,) = _run("SELECT AVG(l_quantity) FROM lineitem", tpch_dir)[0]
    literal = tpch_project.compile(
        "SELECT quantity WHERE ALL(return_flag = THIS(return_flag), order_key) "
        f"AND line_quantity > {average!r}",
        pretty=False,
    )
    assert "FROM lineitem AS lineitem, orders AS orders" in literal, literal  # flattened
    # by hand: the lines whose order's lines all share their return flag, above the average
    hand = """
        SELECT COALESCE(SUM(l.l_quantity), 0) FROM lineitem AS l
        WHERE NOT EXISTS (
            SELECT 1 FROM lineitem AS o
            WHERE o.l_orderkey = l.l_orderkey AND o.l_returnflag <> l.l_returnflag
        )
        AND l.l_quantity > (SELECT AVG(l_quantity) FROM lineitem)
    """
    expected = _run(hand, tpch_dir)
    assert expected[0][0] > 0
    assert _run(sql, tpch_dir) == expected
    assert _run(literal, tpch_dir) == expected
