"""Whether two query results hold the same rows (`semantic translate` runs the physical SQL
and its business query and compares them): the comparison of the tests
(tests/compare.py) for users.

Cells are equal when both are NULL; numbers within 1e-9 relative when either is a float
(an average, a ratio) and exactly otherwise, whatever their type (a decimal and an
integer, a decimal of another scale); anything else by `==`. Rows are compared in order
when the SQL orders them, else as multisets.

>>> from decimal import Decimal
>>> rows_difference([(1, Decimal("2.50"))], [(1, 2.5)], ordered=True) is None
True
>>> rows_difference([("a",), ("b",)], [("b",), ("a",)], ordered=False) is None
True
>>> rows_difference([("a",)], [("b",)], ordered=True)
"row 1, column 1: 'a' against 'b'"
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Sequence
from typing import Any

Row = tuple[Any, ...]


def same_value(a: Any, b: Any) -> bool:
    """Whether two cells are equal (see the module's docstring)."""
    if a is None or b is None:
        return a is None and b is None
    numbers = (int, float, decimal.Decimal)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        if isinstance(a, float) or isinstance(b, float):
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
        return decimal.Decimal(str(a)) == decimal.Decimal(str(b))
    return bool(a == b)


def _key(row: Row) -> tuple[Any, ...]:
    """A sort key under which equal rows sort together: numbers rounded to 9 digits."""
    cells = []
    for value in row:
        if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
            number = float(value)
            cells.append((1, float(f"{number:.9g}") if math.isfinite(number) else 0.0, ""))
        elif value is None:
            cells.append((0, 0.0, ""))
        else:
            cells.append((2, 0.0, str(value)))
    return tuple(cells)


def rows_difference(got: Sequence[Row], want: Sequence[Row], *, ordered: bool) -> str | None:
    """None when the rows are the same, else the first difference in words (1-based)."""
    if len(got) != len(want):
        return f"{len(got)} rows against {len(want)}"
    if not ordered:
        got, want = sorted(got, key=_key), sorted(want, key=_key)
    for i, (a, b) in enumerate(zip(got, want, strict=True), start=1):
        if len(a) != len(b):
            return f"row {i}: {len(a)} columns against {len(b)}"
        for j, (x, y) in enumerate(zip(a, b, strict=True), start=1):
            if not same_value(x, y):
                return f"row {i}, column {j}: {x!r} against {y!r}"
    return None
