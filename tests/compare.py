"""Compare query results row by row: exact for everything but floats, which get a relative
tolerance (averages are computed in floating point and the last digit may differ)."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import math
from pathlib import Path
from typing import Any

Row = tuple[Any, ...]


def same_value(a: Any, b: Any) -> bool:
    """Whether two cells are equal (floats within 1e-9 relative)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, decimal.Decimal) or isinstance(b, decimal.Decimal):
        return decimal.Decimal(str(a)) == decimal.Decimal(str(b))
    return bool(a == b)


def assert_same_rows(actual: list[Row], expected: list[Row], *, ordered: bool = True) -> None:
    """Fail with the first differing row unless both lists hold the same rows."""
    if not ordered:
        actual, expected = sorted(actual, key=repr), sorted(expected, key=repr)
    assert len(actual) == len(expected), f"{len(actual)} rows, expected {len(expected)}"
    for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
        assert len(got) == len(want), f"row {i}: {len(got)} columns, expected {len(want)}"
        for j, (a, b) in enumerate(zip(got, want, strict=True)):
            assert same_value(a, b), f"row {i} column {j}: {a!r} != {b!r}\n got {got}\nwant {want}"


def read_answer(path: Path) -> list[Row]:
    """An official answer file (`|`-separated, header row), with values parsed to compare."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle, delimiter="|")
        next(reader)
        return [tuple(_parse(cell) for cell in row) for row in reader]


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
