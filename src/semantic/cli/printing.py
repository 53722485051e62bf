"""How the commands print results: tables as a terminal table, CSV or JSON; texts to standard
output or a file; the reports of imports."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from semantic.cli.app import CheckFormat, OutputFormat, err, out, print_diagnostics, say
from semantic.files.atomic import write_atomically

if TYPE_CHECKING:
    import pyarrow as pa  # the commands that print a table have made it with Arrow already


def emit(text: str, output: Path | None) -> None:
    """`text` on standard output, or written to `output` (atomically)."""
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomically(output, text)
        say(f"wrote {output}")


def print_result(result: pa.Table, fmt: OutputFormat) -> None:
    """A result table on standard output (the row count on standard error for `table`)."""
    rows = result.to_pylist()
    names = result.column_names
    if fmt is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow([_csv_value(row[n]) for n in names])
        sys.stdout.write(buffer.getvalue())
    elif fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(rows, default=_json_value, ensure_ascii=False, indent=2) + "\n")
    else:
        from rich.table import Table

        table = Table(*names, show_lines=False)
        for row in rows:
            table.add_row(*(_display(row[n]) for n in names))
        out.print(table)
        say(f"{len(rows)} row(s)")


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


_JSON: dict[type, Callable[[Any], Any]] = {
    decimal.Decimal: lambda v: int(v) if v == v.to_integral_value() else float(v),
    dt.date: lambda v: v.isoformat(),
    dt.datetime: lambda v: v.isoformat(),
}


def _json_value(value: Any) -> Any:
    for kind, convert in _JSON.items():
        if isinstance(value, kind):
            return convert(value)
    return str(value)


def _display(value: Any) -> str:
    if value is None:
        return "∅"
    if isinstance(value, float):
        return f"{value:,.4f}"
    if isinstance(value, decimal.Decimal):
        return f"{value:,}"
    return str(value)


def print_notices(notices: Any, written: list[Path] | None, fmt: CheckFormat, what: str) -> None:
    """The report of an import (`written`: the files it wrote) or of an export (`written`
    None): every notice, as text or JSON. An export's JSON report goes to standard error,
    since standard output holds what it exports."""
    report = [n.as_dict() for n in notices]
    if fmt is CheckFormat.json and written is None:
        err.print_json(json.dumps({"report": report}))
    elif fmt is CheckFormat.json:
        out.print_json(json.dumps({"written": [str(p) for p in written or ()], "report": report}))
    else:
        print_diagnostics([n.diagnostic() for n in notices])
        wrote = "" if written is None else f"wrote {len(written)} file(s); "
        say(f"{what}: {wrote}{len(notices)} item(s) reported")
