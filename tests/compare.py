"""Compare query results row by row: exact for everything but floats, which get a relative
tolerance (averages are computed in floating point and the last digit may differ).

`same_value` is the one comparison of cells in the tests; `same_kind=True` also asks for the
same kind of value (the differential test: the compiler's rows keep DuckDB's types)."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import math
from pathlib import Path
from typing import Any

Row = tuple[Any, ...]


def same_value(actual: Any, expected: Any, *, same_kind: bool = False) -> bool:
    """Whether two cells are equal: NULL only to NULL; floats within 1e-9 relative (NaN to
    nothing), against a float, a decimal or an integer alike; decimals exactly, against a
    decimal or an integer; anything else (dates, timestamps, texts...) by `==`, so a date is
    not a timestamp. With `same_kind`, also of the same kind as `expected`: a float only to a
    float, a decimal only to a decimal, anything else only to a value of its very type."""
    if actual is None or expected is None:
        return actual is None and expected is None
    if same_kind and not _same_kind(actual, expected):
        return False
    if isinstance(actual, float) or isinstance(expected, float):
        return math.isclose(float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(actual, decimal.Decimal) or isinstance(expected, decimal.Decimal):
        return decimal.Decimal(str(actual)) == decimal.Decimal(str(expected))
    return bool(actual == expected)


def _same_kind(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float):
        return isinstance(actual, float)
    if isinstance(expected, decimal.Decimal):
        return isinstance(actual, decimal.Decimal)
    return type(actual) is type(expected)


def assert_same_rows(actual: list[Row], expected: list[Row], *, ordered: bool = True) -> None:
    """Fail with the first differing row unless both lists hold the same rows."""
    if not ordered:
        actual, expected = sorted(actual, key=repr), sorted(expected, key=repr)
    assert len(actual) == len(expected), f"{len(actual)} rows, expected {len(expected)}"
    for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
        assert len(got) == len(want), f"row {i}: {len(got)} columns, expected {len(want)}"
        for j, (a, b) in enumerate(zip(got, want, strict=True)):
            assert same_value(a, b), f"row {i} column {j}: {a!r} != {b!r}\n got {got}\nwant {want}"


def read_answer(path: Path, text: tuple[int, ...] = ()) -> list[Row]:
    """An official answer file (`|`-separated, header row), with values parsed to compare;
    the columns `text` are kept as text (digits that are codes, not numbers)."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle, delimiter="|")
        width = len(next(reader))
        # an empty line is a row of NULLs (q17's one NULL at scale 0.01)
        return [
            tuple(cell if i in text else _parse(cell) for i, cell in enumerate(row))
            if row
            else (None,) * width
            for row in reader
        ]


def _parse(cell: str) -> Any:
    for kind in (int, decimal.Decimal):
        try:
            return kind(cell)
        except (ValueError, decimal.InvalidOperation):
            pass
    try:
        return dt.date.fromisoformat(cell)
    except ValueError:
        return cell


def as_answer(rows: list[Row]) -> list[Row]:
    """Rows as an answer file holds them: floats compared as decimals of their text."""
    return [
        tuple(decimal.Decimal(repr(v)) if isinstance(v, float) else v for v in row) for row in rows
    ]
