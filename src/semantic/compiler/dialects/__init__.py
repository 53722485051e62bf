"""Make a compiled tree mean in every dialect what it means in DuckDB, or refuse it.

Business queries and term expressions are read as DuckDB SQL, so their meaning is DuckDB's.
sqlglot translates syntax; a few constructs also need a change of *function* to keep their
meaning in another engine, and a few have no faithful translation at all:

- truncating a date to a period: T-SQL and SQLite have no `DATE_TRUNC`, Oracle and Teradata
  spell the units `DD`, `IW`, `Q`; Spark's `TRUNC(d, 'DAY')` is NULL; BigQuery's and
  ClickHouse's weeks start on Sunday, DuckDB's (ISO) on Monday;
- moving a date by months: T-SQL, SQLite and Oracle have no `DATE_SUB(d, n, unit)`; SQLite
  and Oracle do not clamp 31 March minus one month to 28 February as DuckDB does;
- `year(d)`, `quarter(d)`...: SQLite, Oracle and Teradata have no `YEAR`, PostgreSQL and
  T-SQL no `QUARTER`; `dayofweek(d)` and `week(d)` number days and weeks differently in
  most engines (refused there);
- `avg(x)`: T-SQL and Redshift average integers as integers, DuckDB in DOUBLE;
- null-safe equality: Oracle, Teradata, Exasol and Hive have no `IS NOT DISTINCT FROM`;
  ClickHouse needs `join_use_nulls` for a LEFT JOIN to give NULLs rather than zeros;
- output names: Snowflake and Oracle upper-case, PostgreSQL lower-case, unquoted aliases.

Division (true division in DuckDB) and NULL ordering (last in both directions in DuckDB)
are translated by sqlglot itself from the flags the query reader sets; tests pin both.

Functions differ too: rounding ties, casts to integers, `date_diff`, day and month names,
`substr` from 0 or from the end, `LIKE` case, `concat`, `contains`, string order (PostgreSQL
follows the database collation: strings get `COLLATE "C"`). Each dialect lists its rewrites
in `Target.functions`; `tests/soundness/test_function_meaning.py` runs each on the engines.

`adapt` is a plain pass: tree in, tree out. `to_sql` runs it and writes the text: it is the
one road from a tree to the SQL an engine runs (queries, views, quality rules, load scripts).

The modules, by seam: `core` (the pass and `to_sql`), `dates` (truncation, shifts, date
parts per dialect), `functions` (function meanings), `zones` (time zones), `targets` (the
table of dialects), `flatjoins` (DuckDB: inner joins as a FROM list where a WHERE tests an
EXISTS, which DuckDB then plans as a semi-join) and `base` (what they all use).

>>> from sqlglot import exp
>>> from semantic.model.nodes import column
>>> tree = exp.DateTrunc(this=column("d"), unit=exp.var("QUARTER"))
>>> adapt(tree, "oracle").sql("oracle")
"TRUNC(d, 'Q')"
"""

from semantic.compiler.dialects.base import (
    Context,
    FunctionRewrite,
    Rewrite,
    Shift,
    Target,
    ZoneRewrite,
    refuse,
)
from semantic.compiler.dialects.core import adapt, column_types, dialect_of, to_sql
from semantic.compiler.dialects.targets import TARGETS, target_of

__all__ = [
    "TARGETS",
    "Context",
    "FunctionRewrite",
    "Rewrite",
    "Shift",
    "Target",
    "ZoneRewrite",
    "adapt",
    "column_types",
    "dialect_of",
    "refuse",
    "target_of",
    "to_sql",
]
