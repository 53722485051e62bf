"""Terminal tables that never hide a digit.

A column is a `number` (right-aligned), `fixed` (ids, dates, flags: left-aligned) or `text`
(labels, definitions, names). Number and fixed columns are never cut nor wrapped; text
columns wrap (a word longer than its column folds onto the next line: every letter stays).
The layout is chosen in this order:

1. the whole table at its natural width, when the terminal is wide enough, or when the
   output is not a terminal (piped, redirected: then nothing is squeezed into 80 columns,
   each line is as long as the table);
2. the same columns with the text columns narrowed (wrapped), when that fits;
3. one block per record, `name  value` lines, when even that does not fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # rich is imported by the functions that draw: `--help` never loads it
    from rich.console import Console
    from rich.table import Table

Kind = Literal["number", "fixed", "text"]

#: A text column is narrowed down to this many characters (or its own width) at the least
#: before the table gives way to one block per record.
TEXT_MIN = 12
#: Spaces each side of a cell (rich's default padding).
_PAD = 2


@dataclass(frozen=True)
class Column:
    """One column to show: its header, its cells as text, and its kind."""

    header: str
    cells: Sequence[str]
    kind: Kind = "text"


def print_table(console: Console, columns: Sequence[Column]) -> None:
    """Print `columns` on `console` in the first layout that shows every character (see
    the module's docstring)."""
    from rich.console import Console

    if not columns:
        return
    natural = [_natural(c) for c in columns]
    total = _table_width(natural)
    if not console.is_terminal:
        # a pipe or a file has no width: print the table whole, however wide
        wide = Console(
            file=console.file,
            width=max(total, 1),
            color_system=None,
            highlight=False,
            emoji=False,
        )
        wide.print(_table(columns, natural), crop=False)
        return
    if total <= console.width:
        console.print(_table(columns, natural), crop=False)
        return
    narrowed = _narrowed(columns, natural, console.width)
    if narrowed is not None:
        console.print(_table(columns, narrowed), crop=False)
        return
    _print_records(console, columns)


def _width(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.splitlines()), default=0)


def _natural(column: Column) -> int:
    """The width a column takes when nothing is wrapped."""
    return max([_width(column.header), *(_width(c) for c in column.cells), 1])


def _least(column: Column) -> int:
    """The narrowest a column may be: number and fixed columns as wide as their widest cell,
    text columns `TEXT_MIN`; and as wide as the longest word of the header (which wraps
    between its words)."""
    words = [_width(w) for w in column.header.split()]
    if column.kind == "text":
        return min(_natural(column), max([TEXT_MIN, *words]))
    return max([*(_width(c) for c in column.cells), *words, 1])


def _table_width(widths: Sequence[int]) -> int:
    """The width of a table whose columns' contents are `widths` wide: padding, then one
    border between columns and one at each edge."""
    return sum(w + _PAD for w in widths) + len(widths) + 1


def _narrowed(columns: Sequence[Column], natural: Sequence[int], width: int) -> list[int] | None:
    """Widths that fit in `width`: number and fixed columns whole, text columns widened
    evenly from their least up to their natural width; None when nothing fits."""
    least = [_least(c) for c in columns]
    if _table_width(least) > width:
        return None
    text = [i for i, c in enumerate(columns) if c.kind == "text"]
    # number and fixed columns keep their headers on one line if they can
    widths = [least[i] if i in text else natural[i] for i in range(len(columns))]
    if _table_width(widths) > width:
        widths = list(least)
    room = width - _table_width(widths)
    # raise the text columns evenly, a character at a time, to their natural width
    while room > 0:
        growing = [i for i in text if widths[i] < natural[i]]
        if not growing:
            break
        for i in growing[:room]:
            widths[i] += 1
        room -= min(len(growing), room)
    return widths


def _table(columns: Sequence[Column], widths: Sequence[int]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False)
    for column, width in zip(columns, widths, strict=True):
        whole = column.kind != "text"
        table.add_column(
            # a header wraps between its words, and folds a word longer than the column
            Text(column.header, no_wrap=False, overflow="fold"),
            justify="right" if column.kind == "number" else "left",
            no_wrap=whole,
            overflow="fold",
            width=width,
        )
    for row in zip(*(c.cells for c in columns), strict=True):
        table.add_row(*(Text(cell) for cell in row))
    return table


def _print_records(console: Console, columns: Sequence[Column]) -> None:
    """One block per record: a rule with its number, then `name  value` lines, the values of
    number columns right-aligned to the widest number."""
    from rich.table import Table
    from rich.text import Text

    width = console.width
    values = [_width(cell) for c in columns for cell in c.cells] or [1]
    whole = [_width(cell) for c in columns if c.kind != "text" for cell in c.cells] or [1]
    numbers = max([_width(cell) for c in columns if c.kind == "number" for cell in c.cells] or [0])
    names = max(_width(c.header) for c in columns)
    # the names get what the widest number leaves, but at least TEXT_MIN characters
    name_width = max(1, min(names, max(TEXT_MIN, width - _PAD - max(whole))))
    value_width = max(1, min(max(values), width - _PAD - name_width))
    count = len(columns[0].cells) if columns else 0
    for n in range(count):
        console.rule(Text(f"{n + 1}"), align="left", characters="─", style="dim")
        block = Table.grid(padding=(0, _PAD, 0, 0))
        block.add_column(width=name_width, overflow="fold", style="bold")
        block.add_column(width=value_width, overflow="fold")
        for column in columns:
            value = column.cells[n]
            if column.kind == "number":  # right-aligned to the widest number of all
                value = " " * (numbers - _width(value)) + value
            cell = Text(value, overflow="fold")
            block.add_row(Text(column.header, overflow="fold"), cell)
        console.print(block, crop=False)
