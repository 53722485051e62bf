"""A query's result in the formats a server answers in: JSON (rows as objects, every digit
of a decimal kept), CSV, an Arrow IPC stream and Parquet, under the headers of the answer
(names as written, or labels in the caller's language).

>>> import pyarrow as pa, decimal
>>> table = pa.table({"n": pa.array([decimal.Decimal("0.10")], pa.decimal128(18, 2))})
>>> json_rows(table, ["Montant"])
'[{"Montant": 0.10}]'
>>> csv_text(table, ["Montant"])
'Montant\\r\\n0.10\\r\\n'
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

#: each format and its media type
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "arrow": "application/vnd.apache.arrow.stream",
    "parquet": "application/vnd.apache.parquet",
}


def renamed(table: pa.Table, headers: Sequence[str]) -> pa.Table:
    """`table` with its columns named `headers` (Arrow and Parquet carry the names)."""
    return table.rename_columns(list(headers))


def json_rows(table: pa.Table, headers: Sequence[str]) -> str:
    """The rows as a JSON array of objects; decimals as exact numbers (never through a
    float), dates and times as ISO text."""
    columns = [column.to_pylist() for column in table.columns]
    keys = [json.dumps(h, ensure_ascii=False) for h in headers]
    rows = []
    for row in zip(*columns, strict=True):
        members = ", ".join(f"{k}: {json_value(v)}" for k, v in zip(keys, row, strict=True))
        rows.append("{" + members + "}")
    return "[" + ", ".join(rows) + "]"


def json_value(value: Any) -> str:
    """One value as JSON text (see `json_rows`)."""
    if isinstance(value, decimal.Decimal):
        return format(value, "f") if value.is_finite() else json.dumps(str(value))
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(str(value))  # JSON has no NaN nor infinity
    if isinstance(value, dict):
        inner = ", ".join(
            f"{json.dumps(str(k), ensure_ascii=False)}: {json_value(v)}" for k, v in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json_value(v) for v in value) + "]"
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return json.dumps(value.isoformat())
    if isinstance(value, (bytes, bytearray)):
        return json.dumps(value.hex())
    if isinstance(value, dt.timedelta):
        return json.dumps(str(value))
    return json.dumps(value, ensure_ascii=False)


def csv_text(table: pa.Table, headers: Sequence[str]) -> str:
    """The rows as CSV (RFC 4180: CRLF line ends), a header line first; empty for NULL."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    columns = [column.to_pylist() for column in table.columns]
    for row in zip(*columns, strict=True):
        writer.writerow([_csv_value(v) for v in row])
    return buffer.getvalue()


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return str(value)


def arrow_stream(table: pa.Table, headers: Sequence[str]) -> bytes:
    """The result as an Arrow IPC stream (`pyarrow.ipc.open_stream` reads it)."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    named = renamed(table, headers)
    with pa.ipc.new_stream(sink, named.schema) as writer:
        writer.write_table(named)
    return bytes(sink.getvalue().to_pybytes())


def parquet_bytes(table: pa.Table, headers: Sequence[str]) -> bytes:
    """The result as a Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(renamed(table, headers), sink)
    return bytes(sink.getvalue().to_pybytes())


def encoded(table: pa.Table, headers: Sequence[str], fmt: str) -> bytes:
    """The result in `fmt` (json, csv, arrow, parquet) as bytes."""
    if fmt == "json":
        return json_rows(table, headers).encode("utf-8")
    if fmt == "csv":
        return csv_text(table, headers).encode("utf-8")
    if fmt == "arrow":
        return arrow_stream(table, headers)
    return parquet_bytes(table, headers)
