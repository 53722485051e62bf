"""The table of dialects: for each, what it needs to compute what DuckDB computes.

>>> target_of("sqlite").truncate is trunc_sqlite
True
"""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from semantic.compiler.dialects.base import Target
from semantic.compiler.dialects.dates import (
    date_literal_oracle,
    part_extract,
    part_postgres,
    part_sqlite,
    part_standard,
    shift_add,
    shift_oracle,
    shift_sqlite,
    trunc_bigquery,
    trunc_clickhouse,
    trunc_hive,
    trunc_mysql,
    trunc_oracle,
    trunc_spark,
    trunc_sqlite,
    trunc_tsql,
)
from semantic.compiler.dialects.functions import (
    POSTGRES_FUNCTIONS,
    SPARK_FUNCTIONS,
    SQLITE_FUNCTIONS,
    null_safe_clickhouse,
    null_safe_or,
    unordered_numbers,
)
from semantic.compiler.dialects.zones import ZONE_SQLITE, ZONE_TSQL, zone_spark

_WEEK_UNKNOWN = "its weeks start on a day that depends on a session setting, DuckDB's on Monday"
_NOT_SQL = "sqlglot reads this language but writes plain SQL for it, not {}"
_ORACLE = Target(
    truncate=trunc_oracle,
    shift=shift_oracle,
    date_part=part_extract,
    null_safe_eq=null_safe_or,
    functions={exp.Window: unordered_numbers(exp.null())},
)

_TSQL = Target(
    truncate=trunc_tsql,
    shift=shift_add,
    date_part=part_standard,
    average_as_double=True,
    time_zone=ZONE_TSQL,
    functions={exp.Window: unordered_numbers(exp.Subquery(this=exp.select(exp.null())))},
)
#: sqlglot writes these as DuckDB names (DAY_OF_MONTH...) that PostgreSQL lacks, and no
#: rewrite of `POSTGRES_FUNCTIONS` keeps their meaning yet
_POSTGRES_MISSING: tuple[type[exp.Expression], ...] = (
    exp.RegexpExtract,
    exp.DayOfMonth,
    exp.DayOfWeekIso,
    exp.DayOfYear,
)
_POSTGRES = Target(
    date_part=part_postgres,
    duckdb_weeks=False,
    average_as_double=True,  # avg of a NUMERIC is a NUMERIC there, a DOUBLE in DuckDB
    average_cast_after=True,
    functions=POSTGRES_FUNCTIONS,
    byte_collation=True,
    missing=_POSTGRES_MISSING,
)
_SPARK = Target(
    truncate=trunc_spark,
    double_division=True,  # a DECIMAL quotient keeps 6 decimals: 137558.286016
    average_as_double=True,  # so does the average of DECIMALs
    functions=SPARK_FUNCTIONS,
    time_zone=zone_spark,
)

TARGETS: dict[str, Target] = {
    "duckdb": Target(duckdb_weeks=True, flat_joins=True),
    "postgres": _POSTGRES,
    "materialize": replace(_POSTGRES, byte_collation=False),
    "risingwave": replace(_POSTGRES, byte_collation=False),
    "redshift": Target(date_part=part_standard, duckdb_weeks=False, average_as_double=True),
    "snowflake": Target(
        duckdb_weeks=True,
        double_division=True,
        functions={exp.Window: unordered_numbers(exp.null())},
    ),
    "tsql": _TSQL,
    "fabric": _TSQL,
    "sqlite": Target(
        truncate=trunc_sqlite,
        shift=shift_sqlite,
        date_part=part_sqlite,
        functions=SQLITE_FUNCTIONS,
        time_zone=ZONE_SQLITE,
    ),
    "oracle": replace(_ORACLE, date_literal=date_literal_oracle),
    "teradata": _ORACLE,
    "spark": _SPARK,
    "spark2": _SPARK,
    "databricks": _SPARK,
    "hive": Target(
        truncate=trunc_hive,
        null_safe_eq=null_safe_or,
        refused={
            "week": "Hive's TRUNC has no week unit",
            "month arithmetic": "Hive's ADD_MONTHS maps a month end to a month end "
            "(28 Feb + 1 month = 31 Mar), DuckDB's gives 28 Mar",
        },
    ),
    "bigquery": Target(truncate=trunc_bigquery),
    "mysql": Target(truncate=trunc_mysql, double_division=True),
    "clickhouse": Target(
        truncate=trunc_clickhouse,
        null_safe_eq=null_safe_clickhouse,
        settings=(("join_use_nulls", 1),),
    ),
    "exasol": Target(null_safe_eq=null_safe_or, refused={"week": _WEEK_UNKNOWN}),
    "drill": Target(refused={"week": "Drill's week truncation is not documented"}),
    "dremio": Target(refused={"week": "Dremio's week truncation is not documented"}),
    "druid": Target(
        double_division=True,
        refused={"date arithmetic": "sqlglot writes DATE_SUB, which Druid lacks"},
    ),
    "solr": Target(
        double_division=True,
        refused={
            "join": "Solr SQL has no joins",
            "WITH": "Solr SQL has no common table expressions",
            "date arithmetic": "Solr SQL has no DATE_SUB",
        },
    ),
    "dax": Target(refused={"dialect": _NOT_SQL.format("DAX")}),
    "prql": Target(refused={"dialect": _NOT_SQL.format("PRQL")}),
    "tableau": Target(refused={"dialect": _NOT_SQL.format("Tableau calculations")}),
}
_NONE = Target()


def target_of(dialect: str) -> Target:
    """What `dialect` needs to keep DuckDB's meaning (nothing, for a dialect not in `TARGETS`)."""
    return TARGETS.get(dialect, _NONE)
