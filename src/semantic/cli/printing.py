"""How the commands print results: tables as a terminal table, CSV or JSON; texts to standard
output or a file; the reports of imports."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from semantic.cli.app import CheckFormat, OutputFormat, err, out, print_diagnostics, say
from semantic.cli.tables import Column, Kind, print_table
from semantic.files.atomic import write_atomically

if TYPE_CHECKING:
    import pyarrow as pa  # the commands that print a table have made it with Arrow already
    from rich.console import Console


def emit(text: str, output: Path | None) -> None:
    """`text` on standard output, or written to `output` (atomically)."""
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomically(output, text)
        say(f"wrote {output}")


def print_result(
    result: pa.Table,
    fmt: OutputFormat,
    *,
    headers: Sequence[str] | None = None,
    periods: Mapping[int, str] | None = None,
    fiscal_year_start: int = 1,
    fixed: Collection[str] = (),
) -> None:
    """A result table on standard output (the row count on standard error for `table`).

    `headers` replace the column names in every format (labels, `--language`); `periods`
    names the grain of the columns that are time periods (by position), shown as periods in
    the table (`1992`, `1992-Q1`; CSV and JSON keep the first day as a date); `fixed` names
    the text columns that are never wrapped (ids). Every digit is printed in every format:
    decimals exactly as the engine gives them (JSON: as numbers, see docs/query-language.md).
    """
    names = list(headers) if headers is not None else result.column_names
    rows = list(zip(*(column.to_pylist() for column in result.columns), strict=True))
    if fmt is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow([_csv_value(v) for v in row])
        sys.stdout.write(buffer.getvalue())
    elif fmt is OutputFormat.json:
        sys.stdout.write(_json_rows(names, rows) + "\n")
    else:
        print_table(out, result_columns(result, names, periods, fiscal_year_start, fixed))
        say(f"{result.num_rows} row(s)")


def result_columns(
    result: pa.Table,
    headers: Sequence[str] | None = None,
    periods: Mapping[int, str] | None = None,
    fiscal_year_start: int = 1,
    fixed: Collection[str] = (),
) -> list[Column]:
    """The columns of a result as the terminal table shows them (see `print_result`)."""
    from semantic.model.grains import period_name  # the model package: not for `--help`

    shown = []
    names = list(headers) if headers is not None else result.column_names
    for i, (name, field) in enumerate(zip(names, result.schema, strict=True)):
        grain = (periods or {}).get(i)
        cells = [
            _display(v) if grain is None or v is None else period_name(v, grain, fiscal_year_start)
            for v in result.column(i).to_pylist()
        ]
        shown.append(Column(name, cells, _kind(field.type, field.name in fixed)))
    return shown


def _kind(arrow_type: pa.DataType, fixed: bool) -> Kind:
    """How a column of `arrow_type` is laid out: numbers right-aligned and whole; dates,
    times, flags and ids whole; any other text wrapped."""
    import pyarrow as pa  # here: a command that prints no table never imports Arrow

    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        return "number"
    if pa.types.is_decimal(arrow_type):
        return "number"
    if fixed or pa.types.is_temporal(arrow_type) or pa.types.is_boolean(arrow_type):
        return "fixed"
    return "text"


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return _decimal_text(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _decimal_text(value: decimal.Decimal) -> str:
    """Every digit of a decimal, in positional notation (`str` would write a DECIMAL(18,8)
    zero as `0E-8`)."""
    return format(value, "f")


def _json_rows(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """The rows as a JSON array of objects, indented like `json.dumps(indent=2)`, decimals
    written as exact numbers (the `json` module can only write them as floats)."""
    if not rows:
        return "[]"
    keys = [json.dumps(name, ensure_ascii=False) for name in names]
    objects = []
    for row in rows:
        members = ",\n".join(
            f"    {key}: {_json_text(value, 4)}" for key, value in zip(keys, row, strict=True)
        )
        objects.append("  {\n" + members + "\n  }" if members else "  {}")
    return "[\n" + ",\n".join(objects) + "\n]"


def _json_text(value: Any, indent: int) -> str:
    """One JSON value: decimals as numbers with all their digits, lists and structs (Arrow's
    nested types) member by member, dates as ISO text."""
    inner = " " * (indent + 2)
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return _decimal_text(value)
    if isinstance(value, dict) and value:
        members = [
            f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {_json_text(v, indent + 2)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(members) + "\n" + " " * indent + "}"
    if isinstance(value, (list, tuple)) and value:
        items = [f"{inner}{_json_text(v, indent + 2)}" for v in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    return json.dumps(value, default=_json_value, ensure_ascii=False)


_JSON: dict[type, Callable[[Any], Any]] = {
    decimal.Decimal: str,  # NaN and infinities, which no engine's DECIMAL holds
    dt.date: lambda v: v.isoformat(),
    dt.datetime: lambda v: v.isoformat(),
}


def _json_value(value: Any) -> Any:
    for kind, convert in _JSON.items():
        if isinstance(value, kind):
            return convert(value)
    return str(value)


def _display(value: Any) -> str:
    """A value as the terminal table shows it: numbers with thousands separators and every
    digit (a float as its shortest exact repr, a decimal at its scale)."""
    if value is None:
        return "∅"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,}"
    if isinstance(value, decimal.Decimal):
        return f"{value:,f}" if value.is_finite() else str(value)
    return str(value)


def print_json_data(console: Console, data: Any) -> None:
    """`data` as indented JSON on `console`: highlighted by rich on a terminal, else written
    as `json.dumps` gives it, which is the same text and hundreds of times faster than
    rich's rendering (3.6 s for the 1.9 MB report of a 5,000-concept SKOS import)."""
    if console.is_terminal:
        console.print_json(json.dumps(data))
    else:
        console.file.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        console.file.flush()


def print_notices(notices: Any, written: list[Path] | None, fmt: CheckFormat, what: str) -> None:
    """The report of an import (`written`: the files it wrote) or of an export (`written`
    None): every notice, as text or JSON. An export's JSON report goes to standard error,
    since standard output holds what it exports."""
    report = [n.as_dict() for n in notices]
    if fmt is CheckFormat.json and written is None:
        print_json_data(err, {"report": report})
    elif fmt is CheckFormat.json:
        print_json_data(out, {"written": [str(p) for p in written or ()], "report": report})
    else:
        print_diagnostics([n.diagnostic() for n in notices])
        wrote = "" if written is None else f"wrote {len(written)} file(s); "
        say(f"{what}: {wrote}{len(notices)} item(s) reported")
