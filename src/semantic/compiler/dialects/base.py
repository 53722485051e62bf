"""What every rewrite of the dialect pass uses: node builders, the types `annotate_types`
found, what a dialect needs (`Target`) and the refusal (SEM316)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from semantic.errors import Span, error

Rewrite = Callable[[exp.Expression, str], exp.Expression]
Shift = Callable[[exp.Expression, int, str, bool], exp.Expression]
ZoneRewrite = Callable[[exp.Expression, str], exp.Expression]


def fn(name: str, *args: exp.Expression) -> exp.Anonymous:
    """A call of the function `name`, as the engine spells it."""
    return exp.Anonymous(this=name, expressions=list(args))


def number(value: int) -> exp.Expression:
    """A number literal."""
    return exp.Literal.number(value)


def string(value: str) -> exp.Literal:
    """A string literal."""
    return exp.Literal.string(value)


TEXT_TYPES = {
    exp.DataType.Type.TEXT,
    exp.DataType.Type.VARCHAR,
    exp.DataType.Type.CHAR,
    exp.DataType.Type.NVARCHAR,
    exp.DataType.Type.NCHAR,
}
INTEGER_CASTS = exp.DataType.INTEGER_TYPES - {exp.DataType.Type.BIT}


def type_of(node: exp.Expression) -> exp.DType | None:
    """The type `annotate_types` found for `node` (from the model's column types), if any."""
    found = node.type
    if found is None or found.this == exp.DataType.Type.UNKNOWN:
        return None
    return found.this


def is_text(node: exp.Expression) -> bool:
    """Whether `node` is a string (a literal, or typed so by `annotate_types`)."""
    return (isinstance(node, exp.Literal) and node.is_string) or type_of(node) in TEXT_TYPES


def literal_int(node: exp.Expression | None) -> int | None:
    """The value of an integer literal (`-2` included), or None."""
    if isinstance(node, exp.Neg):
        inner = literal_int(node.this)
        return None if inner is None else -inner
    if isinstance(node, exp.Literal) and node.is_int:
        return int(node.name)
    return None


def refuse(
    dialect: str,
    construct: str,
    reason: str,
    hint: str = "run the query on another engine, or leave the construct out",
) -> None:
    """Raise SEM316: `construct` cannot be written in `dialect` with DuckDB's meaning."""
    raise error(
        "SEM316",
        f"{construct} cannot be compiled for dialect '{dialect}': {reason}",
        Span("<query>", 1, 1),
        hint,
    )


def unit_of(node: exp.Expression) -> str:
    """The unit of a date function (`DAY`, `MONTH`...), upper case; '' when it has none."""
    return node.text("unit").upper()


#: the dialect names of one engine family, for rewrites that depend on the engine
SPARKS = ("spark", "spark2", "databricks")
POSTGRES_LIKE = ("postgres", "materialize", "risingwave", "redshift")


@dataclass(frozen=True)
class Target:
    """What a dialect needs to keep DuckDB's meaning. None keeps sqlglot's translation."""

    truncate: Rewrite | None = None
    shift: Shift | None = None
    date_part: Callable[[exp.Expression, str], exp.Expression] | None = None
    #: the week conventions are DuckDB's (True), EXTRACT gives them (False), or neither (None)
    duckdb_weeks: bool | None = None
    average_as_double: bool = False
    #: the average is exact there (PostgreSQL: a NUMERIC even of integers), so the DOUBLE cast
    #: goes on the result, once per group, not on each row (casting every NUMERIC row to
    #: DOUBLE PRECISION made TPC-H Q01 1.4x slower than the official SQL on PostgreSQL)
    average_cast_after: bool = False
    date_literal: Callable[[exp.Expression], exp.Expression] | None = None
    #: `/` truncates integers (Druid, Solr) or rounds to a few decimals (MySQL: 4, Snowflake:
    #: 6) where DuckDB divides in DOUBLE: the dividend is cast to DOUBLE
    double_division: bool = False
    null_safe_eq: Callable[[exp.Expression], exp.Expression] | None = None
    #: construct -> why the dialect cannot compute it as DuckDB does
    refused: dict[str, str] = field(default_factory=dict)
    #: query settings appended to the outer SELECT (ClickHouse)
    settings: tuple[tuple[str, int], ...] = ()
    #: `instant AT TIME ZONE 'zone'` (a wall-clock time), where sqlglot's translation is not
    #: that; None keeps sqlglot's
    time_zone: ZoneRewrite | None = None
    #: function (node class) -> the rewrite that keeps DuckDB's meaning, or refuses it
    functions: Mapping[type[exp.Expression], FunctionRewrite] = field(default_factory=dict)
    #: strings compare and sort by the database's collation (PostgreSQL): compare bytes
    byte_collation: bool = False
    #: functions that sqlglot writes for the dialect under a name the engine lacks
    missing: tuple[type[exp.Expression], ...] = ()
    #: inner joins written as a FROM list where a WHERE tests an EXISTS (DuckDB flattens the
    #: existence into a semi-join only then: `dialects.flatjoins`)
    flat_joins: bool = False

    @property
    def rewrites(self) -> bool:
        """Whether a tree may need changes (DuckDB's own SQL needs none)."""
        functions = (
            self.truncate,
            self.shift,
            self.date_part,
            self.null_safe_eq,
            self.date_literal,
            self.time_zone,
        )
        return (
            any(f is not None for f in functions)
            or bool(self.functions)
            or self.duckdb_weeks is not True
            or self.average_as_double
            or self.double_division
            or bool(self.settings)
        )


@dataclass(frozen=True)
class Context:
    """What a function rewrite may need besides the node: the dialect, its target, and the
    dialect pass itself, for a tree that the rewrite builds from DuckDB SQL."""

    dialect: str
    target: Target
    adapt: Callable[[exp.Expression], exp.Expression]


FunctionRewrite = Callable[[exp.Expression, Context], exp.Expression]
