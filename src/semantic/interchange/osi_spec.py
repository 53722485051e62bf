"""What `semantic.interchange.osi_export` and `osi_import` share of Apache Ossie (Open
Semantic Interchange, OSI): the versions written, our extension (its vendor name in each
version), the logical data types, and SQL helpers.

>>> ossie_datatype("decimal(15,2)"), ossie_datatype("timestamptz"), ossie_datatype("uuid")
('Decimal', 'DateTimeTz', 'Opaque')
>>> extension("0.1.1", {"column": True})
{'vendor_name': 'COMMON', 'data': '{"semantic": {"column": true}}'}
>>> extension("0.2.0.dev0", {"column": True})
{'vendor_name': 'SEMANTIC', 'data': '{"column": true}'}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

__all__ = [
    "FILE_DIALECT",
    "OSI_VERSION",
    "OSI_VERSIONS",
    "VENDOR",
    "column_type",
    "extension",
    "has_datatype",
    "ossie_datatype",
    "our_data",
    "parse_sql",
    "with_dataset",
]

#: the versions `semantic export osi --osi-version` writes: the release, and the draft of the
#: next one (the spec's main branch); the newest is the default
OSI_VERSIONS = ("0.1.1", "0.2.0.dev0")
OSI_VERSION = OSI_VERSIONS[-1]
#: the vendor name of our custom extensions where the version lets a vendor name itself
#: (0.2 on); 0.1.1 closes the list of vendors, so we write `COMMON` with our data under one
#: key, `semantic`, as its converters do (orionbelt's `obml_` keys)
VENDOR = "SEMANTIC"
_COMMON = "COMMON"
_KEY = "semantic"
FILE_DIALECT = "duckdb"

#: Ossie's logical data types (0.2: `datatype` of fields and metrics) and our column type
#: each is read back as
_COLUMN_TYPES = {
    "String": "varchar",
    "Integer": "bigint",
    "Decimal": "decimal(38,9)",
    "Float": "double",
    "Boolean": "boolean",
    "Date": "date",
    "Time": "time",
    "DateTime": "timestamp",
    "DateTimeTz": "timestamptz",
}
_TYPE = exp.DataType.Type
_FAMILIES: tuple[tuple[str, frozenset[Any]], ...] = (
    ("Boolean", frozenset({_TYPE.BOOLEAN})),
    ("Integer", frozenset(exp.DataType.INTEGER_TYPES)),
    ("Decimal", frozenset({_TYPE.DECIMAL, _TYPE.BIGDECIMAL, _TYPE.MONEY, _TYPE.SMALLMONEY})),
    ("Float", frozenset(exp.DataType.REAL_TYPES)),
    ("String", frozenset(exp.DataType.TEXT_TYPES | {_TYPE.CHAR, _TYPE.NCHAR})),
    ("Date", frozenset({_TYPE.DATE, _TYPE.DATE32})),
    ("Time", frozenset({_TYPE.TIME})),
    ("DateTimeTz", frozenset({_TYPE.TIMESTAMPTZ, _TYPE.TIMESTAMPLTZ, _TYPE.TIMETZ})),
    ("DateTime", frozenset(exp.DataType.TEMPORAL_TYPES)),
)


def has_datatype(version: str) -> bool:
    """Whether fields and metrics of `version` have a `datatype` (0.2 on)."""
    return version != "0.1.1"


def ossie_datatype(sql_type: str | exp.DataType | None) -> str | None:
    """Ossie's logical data type of a column type (`Opaque` for a known type outside the
    portable list), None when the type is unknown."""
    if sql_type is None or sql_type == "":
        return None
    try:
        kind = (
            sql_type
            if isinstance(sql_type, exp.DataType)
            else exp.DataType.build(sql_type, dialect=FILE_DIALECT)
        ).this
    except (ParseError, ValueError):
        return "Opaque"
    if kind in (_TYPE.UNKNOWN, _TYPE.NULL):
        return None
    return next((name for name, kinds in _FAMILIES if kind in kinds), "Opaque")


def column_type(datatype: Any) -> str | None:
    """Our column type of an Ossie data type; None for `Opaque`, unknown or absent."""
    return _COLUMN_TYPES.get(str(datatype)) if datatype else None


def extension(version: str, data: Mapping[str, Any]) -> dict[str, str]:
    """A `custom_extensions` entry holding our data, in the form `version` allows."""
    if has_datatype(version):  # 0.2 on: any vendor name
        return {"vendor_name": VENDOR, "data": json.dumps(data, ensure_ascii=False)}
    return {"vendor_name": _COMMON, "data": json.dumps({_KEY: data}, ensure_ascii=False)}


def our_data(vendor: Any, data: Any) -> dict[str, Any] | None:
    """Our data in a `custom_extensions` entry, None when the entry is another vendor's;
    ValueError when it is ours but not a JSON object."""
    if vendor not in (VENDOR, _COMMON):
        return None
    try:
        found = json.loads(str(data))
    except json.JSONDecodeError:
        if vendor == _COMMON:
            return None
        raise ValueError(f"{VENDOR} extension is not JSON") from None
    if vendor == _COMMON:
        inner = found.get(_KEY) if isinstance(found, dict) and len(found) == 1 else None
        return inner if isinstance(inner, dict) else None
    if not isinstance(found, dict):
        raise ValueError(f"{VENDOR} extension is not a JSON object")
    return found


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
