"""Values between Arrow and the PostgreSQL wire: the type OID a column is described with, its
values as text or binary, and the parameters a client binds, read back as Python values.

PostgreSQL's text forms are what its clients parse: `t`/`f` for booleans, `1995-03-15
08:30:00` for timestamps, every digit of a decimal.

>>> import pyarrow as pa, decimal
>>> type_oid(pa.decimal128(18, 2)), type_oid(pa.string()), type_oid(pa.int64())
(1700, 25, 20)
>>> text_value(decimal.Decimal("0.10")), text_value(True), text_value(None)
(b'0.10', b't', None)
>>> parameter_value(b"42", 23, 0), parameter_value(b"EUROPE", 0, 0)
(42, 'EUROPE')
>>> parameter_value((42).to_bytes(8, "big"), 20, 1)
42
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import struct
from typing import TYPE_CHECKING, Any

from semantic.errors import SemanticError, Span, error

if TYPE_CHECKING:
    import pyarrow as pa

#: PostgreSQL's type OIDs (pg_type.h), by name
OIDS = {
    "bool": 16,
    "bytea": 17,
    "int8": 20,
    "int2": 21,
    "int4": 23,
    "text": 25,
    "oid": 26,
    "json": 114,
    "float4": 700,
    "float8": 701,
    "unknown": 705,
    "varchar": 1043,
    "date": 1082,
    "time": 1083,
    "timestamp": 1114,
    "timestamptz": 1184,
    "interval": 1186,
    "numeric": 1700,
}
#: the size PostgreSQL gives each fixed-size type in a RowDescription (-1: variable)
SIZES = {16: 1, 20: 8, 21: 2, 23: 4, 26: 4, 700: 4, 701: 8, 1082: 4, 1083: 8, 1114: 8, 1184: 8}
_EPOCH = dt.date(2000, 1, 1)
_EPOCH_TS = dt.datetime(2000, 1, 1)
#: where a parameter that cannot be read is placed
PARAMETERS = Span("<parameters>")


def type_oid(arrow_type: pa.DataType) -> int:
    """The OID a column of `arrow_type` is described with."""
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_boolean(t):
        return OIDS["bool"]
    if pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_uint8(t):
        return OIDS["int2"]
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return OIDS["int4"]
    if pa.types.is_integer(t):
        return OIDS["int8"]
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return OIDS["float4"]
    if pa.types.is_floating(t):
        return OIDS["float8"]
    if pa.types.is_decimal(t):
        return OIDS["numeric"]
    if pa.types.is_date(t):
        return OIDS["date"]
    if pa.types.is_timestamp(t):
        return OIDS["timestamptz"] if t.tz else OIDS["timestamp"]
    if pa.types.is_time(t):
        return OIDS["time"]
    if pa.types.is_duration(t) or pa.types.is_interval(t):
        return OIDS["interval"]
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return OIDS["bytea"]
    if pa.types.is_nested(t):
        return OIDS["json"]
    return OIDS["text"]


def type_modifier(arrow_type: pa.DataType) -> int:
    """The type modifier of a numeric column (precision and scale), else -1."""
    import pyarrow as pa

    if pa.types.is_decimal(arrow_type):
        return ((arrow_type.precision << 16) | arrow_type.scale) + 4
    return -1


def text_value(value: Any) -> bytes | None:
    """`value` in PostgreSQL's text form (None for NULL)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, float):
        if math.isnan(value):
            return b"NaN"
        if math.isinf(value):
            return b"Infinity" if value > 0 else b"-Infinity"
        return repr(value).encode()
    if isinstance(value, decimal.Decimal):
        return format(value, "f").encode()
    if isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
        return (text[:-6] + text[-6:].replace(":00", "") if value.tzinfo else text).encode()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat().encode()
    if isinstance(value, (bytes, bytearray)):
        return b"\\x" + bytes(value).hex().encode()
    if isinstance(value, dt.timedelta):
        return (
            f"{value.days} days {value.seconds} seconds {value.microseconds} microseconds".encode()
        )
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str, ensure_ascii=False).encode()
    return str(value).encode()


def binary_value(value: Any, oid: int) -> bytes | None:
    """`value` in PostgreSQL's binary form for type `oid` (the types a client may ask in
    binary: numbers, booleans, text, dates); SEM466 for any other."""
    if value is None:
        return None
    if oid == OIDS["bool"]:
        return b"\x01" if value else b"\x00"
    if oid in (OIDS["int2"], OIDS["int4"], OIDS["int8"]):
        return int(value).to_bytes(SIZES[oid], "big", signed=True)
    if oid == OIDS["float4"]:
        return struct.pack("!f", value)
    if oid == OIDS["float8"]:
        return struct.pack("!d", value)
    if oid in (OIDS["text"], OIDS["varchar"], OIDS["json"]):
        return text_value(value)
    if oid == OIDS["date"]:
        return struct.pack("!i", (value - _EPOCH).days)
    if oid == OIDS["numeric"]:
        return _numeric_binary(decimal.Decimal(value))
    raise _unreadable(f"a value of type OID {oid} cannot be sent in binary", "ask for text")


def parameter_value(data: bytes | None, oid: int, fmt: int) -> Any:
    """A bound parameter as a Python value: text parameters read by their declared type
    (an undeclared one, OID 0 or unknown, stays text: the business query types it by what it
    is compared with), binary ones decoded; SEM466 when it cannot be read."""
    if data is None:
        return None
    try:
        return _binary_parameter(data, oid) if fmt == 1 else _text_parameter(data.decode(), oid)
    except (ValueError, struct.error, decimal.InvalidOperation, UnicodeDecodeError) as exc:
        raise _unreadable(f"a parameter of type OID {oid} cannot be read: {exc}") from None


def _text_parameter(text: str, oid: int) -> Any:
    if oid in (OIDS["int2"], OIDS["int4"], OIDS["int8"], OIDS["oid"]):
        return int(text)
    if oid in (OIDS["float4"], OIDS["float8"]):
        return float(text)
    if oid == OIDS["numeric"]:
        return decimal.Decimal(text)
    if oid == OIDS["bool"]:
        return text.strip().lower() in ("t", "true", "1", "yes", "on", "y")
    if oid == OIDS["date"]:
        return dt.date.fromisoformat(text)
    if oid in (OIDS["timestamp"], OIDS["timestamptz"]):
        return dt.datetime.fromisoformat(text)
    return text


def _binary_parameter(data: bytes, oid: int) -> Any:
    if oid in (OIDS["int2"], OIDS["int4"], OIDS["int8"], OIDS["oid"]):
        return int.from_bytes(data, "big", signed=oid != OIDS["oid"])
    if oid == OIDS["float4"]:
        return struct.unpack("!f", data)[0]
    if oid == OIDS["float8"]:
        return struct.unpack("!d", data)[0]
    if oid == OIDS["bool"]:
        return data != b"\x00"
    if oid == OIDS["date"]:
        return _EPOCH + dt.timedelta(days=struct.unpack("!i", data)[0])
    if oid in (OIDS["timestamp"], OIDS["timestamptz"]):
        moment = _EPOCH_TS + dt.timedelta(microseconds=struct.unpack("!q", data)[0])
        return moment.replace(tzinfo=dt.UTC) if oid == OIDS["timestamptz"] else moment
    if oid == OIDS["numeric"]:
        return _numeric_from_binary(data)
    if oid in (0, OIDS["text"], OIDS["varchar"], OIDS["unknown"], OIDS["json"]):
        return data.decode()
    raise ValueError("binary parameters of this type are not read; send it as text")


def _numeric_from_binary(data: bytes) -> decimal.Decimal:
    """PostgreSQL's binary numeric: digit count, weight, sign, scale, then base-10000 digits."""
    count, weight, sign, scale = struct.unpack("!hhHH", data[:8])
    if sign == 0xC000:
        return decimal.Decimal("NaN")
    digits = struct.unpack(f"!{count}H", data[8 : 8 + 2 * count])
    value = decimal.Decimal(0)
    for i, digit in enumerate(digits):
        value += decimal.Decimal(digit).scaleb(4 * (weight - i))
    value = value.quantize(decimal.Decimal(1).scaleb(-scale)) if scale else value
    return -value if sign == 0x4000 else value


def _numeric_binary(value: decimal.Decimal) -> bytes:
    if not value.is_finite():
        return struct.pack("!hhHH", 0, 0, 0xC000, 0)
    sign, digits, exponent = value.as_tuple()
    scale = max(0, -int(exponent))
    text = format(abs(value), "f")
    whole, _, fraction = text.partition(".")
    whole = whole.lstrip("0")
    whole = "0" * (-len(whole) % 4) + whole
    fraction = fraction + "0" * (-len(fraction) % 4)
    groups = [int(whole[i : i + 4]) for i in range(0, len(whole), 4)]
    weight = len(groups) - 1
    groups += [int(fraction[i : i + 4]) for i in range(0, len(fraction), 4)]
    while groups and groups[-1] == 0:
        groups.pop()
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    if not groups:
        weight = 0
    head = struct.pack("!hhHH", len(groups), weight, 0x4000 if sign else 0, scale)
    return head + struct.pack(f"!{len(groups)}H", *groups)


def _unreadable(message: str, hint: str = "send it as text") -> SemanticError:
    return error("SEM466", message, PARAMETERS, hint)
