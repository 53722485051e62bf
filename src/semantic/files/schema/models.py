"""The schema of `models/*.yml`: entities, their columns, keys, relationships and rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import (
    Field,
)

from semantic.files.schema.base import (
    Cardinality,
    Confidentiality,
    Id,
    SqlText,
    Strict,
)

# --- models/*.yml ---------------------------------------------------------------------------


class ColumnSpec(Strict):
    """A physical column: its SQL type and what it holds."""

    type: str | None = Field(
        None, description="SQL type, e.g. bigint, varchar, decimal(15,2), date."
    )
    description: str | None = None
    nullable: bool = Field(
        True,
        description="false: the model promises the column is never NULL (checked by "
        "`semantic check --data` and `semantic quality`; the compiler relies on it).",
    )


class RelationshipSpec(Strict):
    """A join from this entity to another, with its cardinality and (composite) join keys."""

    to: Id = Field(description="The target entity id.")
    cardinality: Cardinality
    keys: dict[str, str] = Field(
        min_length=1, description="This entity's columns mapped to the target entity's columns."
    )
    name: Id | None = Field(None, description="Defaults to the target entity id.")
    description: str | None = None
    required: bool = Field(
        False,
        description="true (many_to_one and one_to_one only): the model promises every row's "
        "foreign key is not NULL and finds its row (checked by `semantic check --data` and "
        "`semantic quality`; the compiler relies on it).",
    )


QualityDimension = Literal[
    "accuracy",
    "completeness",
    "consistency",
    "validity",
    "timeliness",
    "uniqueness",
    "integrity",
]
RuleKind = Literal[
    "check",
    "not_null",
    "unique",
    "accepted_values",
    "range",
    "pattern",
    "freshness",
    "row_count",
    "aggregate",
    "custom",
]
Bound = int | float | datetime | date


class QualityRuleSpec(Strict):
    """A data quality rule of an entity or a term: one of the kinds of `kind` (a row
    `check` when only `check:` is given), in a quality dimension, with a severity and the
    share of rows that must pass (docs/quality.md)."""

    kind: RuleKind | None = Field(None, description="The kind; `check` when `check` is given.")
    dimension: QualityDimension | None = Field(None, description="By default the kind's.")
    severity: Literal["error", "warning"] = Field(
        "error", description="error: fails quality and withholds views; warning: reported."
    )
    column: SqlText | None = Field(
        None, description="The column or row expression read; a term's own by default."
    )
    check: SqlText | None = Field(
        None, description="check: a condition on each row; aggregate: one over aggregates."
    )
    values: list[str | int | float | bool] | None = Field(None, description="accepted_values.")
    min: Bound | None = Field(None, description="range: lowest value; row_count: fewest rows.")
    max: Bound | None = Field(None, description="range: highest value; row_count: most rows.")
    pattern: str | None = Field(None, description="pattern: a regular expression, searched.")
    max_age: str | None = Field(None, description="freshness: e.g. `2 days`, `36 hours`.")
    as_of: datetime | date | None = Field(None, description="freshness: count the age at this.")
    sql: SqlText | None = Field(None, description="custom: a SELECT whose rows are failures.")
    description: str | None = None
    threshold: float = Field(
        1.0, ge=0, le=1, description="Share of rows that must pass for the rule to pass."
    )


class EntitySpec(Strict):
    """A table, view or file with its columns, primary key and relationships."""

    table: str | None = Field(None, description="Physical table name; defaults to the entity id.")
    description: str | None = None
    primary_key: list[str] = Field(default_factory=list)
    columns: dict[str, ColumnSpec] = Field(min_length=1)
    relationships: list[RelationshipSpec] = Field(default_factory=list)
    quality: dict[Id, QualityRuleSpec] = Field(
        default_factory=dict, description="Quality rules by id."
    )
    confidentiality: Confidentiality | None = Field(
        None, description="The entity's level: every term over its rows is at least this secret."
    )


class ModelFile(Strict):
    """A file under `models/`."""

    entities: dict[Id, EntitySpec]
