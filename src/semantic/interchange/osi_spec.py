"""What `semantic.interchange.osi_export` and `osi_import` share of Apache Ossie (Open
Semantic Interchange, OSI): the version written, our vendor name, and SQL helpers."""

from __future__ import annotations

from typing import cast

import sqlglot
from sqlglot import exp

__all__ = ["FILE_DIALECT", "OSI_VERSION", "VENDOR", "parse_sql", "with_dataset"]

#: the released version of the spec we write
OSI_VERSION = "0.1.1"
#: the vendor name of our custom extensions
VENDOR = "SEMANTIC"
FILE_DIALECT = "duckdb"


def parse_sql(text: str, dialect: str = FILE_DIALECT) -> exp.Expression:
    """The SQL tree of an expression (of the files' dialect unless told)."""
    return cast(exp.Expression, sqlglot.parse_one(text, read=dialect))


def with_dataset(tree: exp.Expression, entity: str) -> exp.Expression:
    """Columns of the metric's own entity get the dataset's name in front."""

    def qualify(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table:
            return exp.column(node.name, table=entity, quoted=node.this.quoted)
        return node

    return tree.transform(qualify)
