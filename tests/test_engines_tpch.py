"""The whole TPC-H business query suite on PostgreSQL and Spark: the same rows as on DuckDB
and as the official answer files.

Spark runs it locally in every language, then on a standalone cluster (spark://, the driver
in this process and the executors on the worker) and through a Spark Connect server (sc://)
in English: a French query compiles to the same Spark SQL but for its column names, so what
these add is where the SQL runs, not what it says.

Decimals, integers, text and dates are compared exactly, with one documented exception:
where DuckDB computes a column as a double (averages, ratios of decimals), the others give
a decimal, PostgreSQL with 16 or more digits and Spark rounded to 6 decimals (its rule for
AVG and division of decimals). Such a cell is taken as equal to DuckDB's double, or to the
answer file's value, when it is that value rounded to the decimal's own scale; doubles on
both sides are compared within 1e-9 relative (tests/compare.py).
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence

import pyarrow as pa
import pytest

from semantic.engines.base import Engine
from semantic.project import Project
from tests.compare import assert_same_rows
from tests.test_tpch import QUERIES, TEXT_DIFFERS, TEXT_FILTERED, answer_rows, without

CASES = [(name, language) for name, texts in sorted(QUERIES.items()) for language in texts]
ENGINES = ["postgres_engine", "spark_engine"]
#: Spark beyond this process: a standalone cluster and a Spark Connect server
CLUSTERS = ["spark_connect_engine", "spark_cluster_engine"]

Row = tuple[object, ...]


def rows_of(table: pa.Table) -> list[Row]:
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return list(zip(*columns, strict=True))


def inexact_columns(reference: pa.Table) -> set[int]:
    """The columns DuckDB computes as doubles."""
    return {i for i, f in enumerate(reference.schema) if pa.types.is_floating(f.type)}


def as_doubles(got: list[Row], want: Sequence[Row], inexact: set[int]) -> list[Row]:
    """`got` with the cells of `inexact` columns read as floats; a decimal that is the wanted
    value rounded to the decimal's scale is replaced by the wanted value."""
    settled = []
    for row, expected in zip(got, [*want, *([None] * len(got))], strict=False):
        cells = list(row)
        for i in inexact & set(range(len(cells))):
            value = cells[i]
            if not isinstance(value, decimal.Decimal):
                continue
            target = expected[i] if expected is not None and i < len(expected) else None
            if isinstance(target, (float, decimal.Decimal)):
                half_unit = decimal.Decimal(1).scaleb(value.as_tuple().exponent) / 2  # type: ignore[arg-type]
                if (
                    abs(
                        value
                        - decimal.Decimal(repr(target) if isinstance(target, float) else target)
                    )
                    <= half_unit
                ):
                    cells[i] = target
                    continue
            cells[i] = float(value)
        settled.append(tuple(cells))
    return settled


def assert_tpch_rows(project: Project, engine: Engine, name: str, language: str) -> None:
    """The business query `name` gives on `engine` the rows it gives on DuckDB and the rows of
    the official answer file."""
    query = QUERIES[name][language]
    reference = project.query(query)
    inexact = inexact_columns(reference)
    got = rows_of(project.query(query, engine=engine))
    assert got, "the business query returned no rows"
    duckdb_rows = rows_of(reference)
    assert_same_rows(as_doubles(got, duckdb_rows, inexact), duckdb_rows)
    if name in TEXT_FILTERED:
        return
    skip = TEXT_DIFFERS.get(name, ())
    answer = without(answer_rows(name), skip)
    got = without(got, skip)
    kept = {i - sum(s < i for s in skip) for i in inexact if i not in skip}
    assert_same_rows(as_doubles(got, answer, kept), answer)


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize(("name", "language"), CASES)
def test_tpch_query_gives_duckdb_rows(
    project: Project, request: pytest.FixtureRequest, engine_name: str, name: str, language: str
) -> None:
    assert_tpch_rows(project, request.getfixturevalue(engine_name), name, language)


# after the local tests: Spark runs one master per process, and the cluster takes its place
@pytest.mark.parametrize("engine_name", CLUSTERS)
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_tpch_query_on_a_spark_cluster(
    project: Project, request: pytest.FixtureRequest, engine_name: str, name: str
) -> None:
    assert_tpch_rows(project, request.getfixturevalue(engine_name), name, "en")
