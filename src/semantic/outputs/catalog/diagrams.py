"""Diagrams as inline SVG, drawn in Python: boxes in columns, joined by curved arrows.

No JavaScript library and no layout engine: the graphs of a catalog are small (a term's
lineage, an entity's neighbours, the whole model of a few dozen entities), so boxes are
placed column by column and ordered to cross few arrows (the barycenter heuristic).

>>> svg = layered_svg([[Box("a", "Orders")], [Box("b", "Customer", href="customer.html")]],
...                   [Arrow("a", "b", "N:1")], "orders to customer")
>>> svg.startswith("<svg") and 'href="customer.html"' in svg and "N:1" in svg
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

#: Geometry, in SVG user units (pixels at 100%).
CHAR_WIDTH = 7.4  # average advance of the 13px sans-serif font
BOX_HEIGHT = 44
BOX_PAD = 14
ROW_GAP = 16
COLUMN_GAP = 76
MARGIN = 12
MIN_BOX = 96
MAX_CHARS = 34


@dataclass(frozen=True, slots=True)
class Box:
    """A node of a diagram: a title, a smaller caption, a link and a style class."""

    id: str
    title: str
    caption: str = ""
    href: str | None = None
    style: str = "term"


@dataclass(frozen=True, slots=True)
class Arrow:
    """An edge from box `source` to box `target`, with an optional small label."""

    source: str
    target: str
    label: str = ""


def layered_svg(columns: Sequence[Sequence[Box]], arrows: Sequence[Arrow], title: str) -> str:
    """An SVG drawing of `columns` of boxes, left to right, and `arrows` between them."""
    ordered = _order(columns, arrows)
    widths = [
        max([MIN_BOX] + [_box_width(b) for b in column]) if column else MIN_BOX
        for column in ordered
    ]
    gaps = _gaps(ordered, arrows)
    tallest = max((len(c) for c in ordered), default=1)
    height = MARGIN * 2 + tallest * BOX_HEIGHT + (tallest - 1) * ROW_GAP
    place: dict[str, tuple[float, float, float]] = {}  # id -> x, y, width
    x: float = MARGIN
    for column, width, gap in zip(ordered, widths, gaps, strict=True):
        used = len(column) * BOX_HEIGHT + (len(column) - 1) * ROW_GAP
        y = (height - used) / 2
        for box in column:
            place[box.id] = (x, y, width)
            y += BOX_HEIGHT + ROW_GAP
        x += width + gap
    total_width = x - gaps[-1] + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" role="img" '
        f'viewBox="0 0 {total_width:.0f} {height:.0f}" width="{total_width:.0f}" '
        f'height="{height:.0f}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'class="arrowhead"/></marker></defs>',
    ]
    degree: dict[str, int] = {}
    for arrow in arrows:
        for end in (arrow.source, arrow.target):
            degree[end] = degree.get(end, 0) + 1
    for arrow in arrows:
        if arrow.source not in place or arrow.target not in place:
            continue
        sx, sy, sw = place[arrow.source]
        tx, ty, tw = place[arrow.target]
        x1, y1 = sx + sw, sy + BOX_HEIGHT / 2
        x2, y2 = tx, ty + BOX_HEIGHT / 2
        if x2 < x1:  # an arrow back to the left: leave from the left side instead
            x1, x2 = sx, tx + tw
        bend = (x2 - x1) / 2
        parts.append(
            f'<path class="edge" d="M {x1:.1f} {y1:.1f} C {x1 + bend:.1f} {y1:.1f} '
            f'{x2 - bend:.1f} {y2:.1f} {x2:.1f} {y2:.1f}" marker-end="url(#arrow)"/>'
        )
        if arrow.label:
            # by the end where the arrows fan out, not where they meet: labels never overlap
            at_head = degree[arrow.target] <= degree[arrow.source]
            x, anchor = (x2 - 10, "end") if at_head else (x1 + 10, "start")
            y = (y2 if at_head else y1) - 6
            parts.append(
                f'<text class="edge-label" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">'
                f"{escape(arrow.label)}</text>"
            )
    for column in ordered:
        for box in column:
            bx, by, bw = place[box.id]
            inner = (
                f'<rect class="box {escape(box.style)}" x="{bx:.1f}" y="{by:.1f}" '
                f'width="{bw:.1f}" height="{BOX_HEIGHT}" rx="8"/>'
                f'<text class="box-title" x="{bx + BOX_PAD:.1f}" y="{by + 19:.1f}">'
                f"{escape(_clip(box.title))}</text>"
            )
            if box.caption:
                inner += (
                    f'<text class="box-caption" x="{bx + BOX_PAD:.1f}" y="{by + 35:.1f}">'
                    f"{escape(_clip(box.caption))}</text>"
                )
            if box.href:
                inner = f'<a href="{escape(box.href)}">{inner}</a>'
            parts.append(f'<g class="node">{inner}</g>')
    parts.append("</svg>")
    return "".join(parts)


def _gaps(columns: Sequence[Sequence[Box]], arrows: Sequence[Arrow]) -> list[float]:
    """The space after each column: room for the longest label of an arrow that ends in the
    next column."""
    column_of = {b.id: i for i, c in enumerate(columns) for b in c}
    gaps = [float(COLUMN_GAP)] * len(columns)
    for arrow in arrows:
        if arrow.label and arrow.source in column_of and arrow.target in column_of:
            before = min(column_of[arrow.source], column_of[arrow.target])
            gaps[before] = max(gaps[before], len(arrow.label) * CHAR_WIDTH * 0.85 + 40)
    return gaps


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def _box_width(box: Box) -> float:
    chars = max(len(_clip(box.title)), len(_clip(box.caption)) * 0.85)
    return chars * CHAR_WIDTH + 2 * BOX_PAD


def _order(columns: Sequence[Sequence[Box]], arrows: Sequence[Arrow]) -> list[list[Box]]:
    """Each column sorted by the mean position of its neighbours in the column before it
    (then after it), so that arrows cross less; ties keep the given order."""
    ordered = [list(c) for c in columns]
    neighbours: dict[str, set[str]] = {}
    for arrow in arrows:
        neighbours.setdefault(arrow.source, set()).add(arrow.target)
        neighbours.setdefault(arrow.target, set()).add(arrow.source)
    for sweep in (range(1, len(ordered)), range(len(ordered) - 2, -1, -1)):
        for i in sweep:
            reference = ordered[i - 1] if sweep.step > 0 else ordered[i + 1]
            position = {b.id: n for n, b in enumerate(reference)}

            def centre(item: tuple[int, Box], position: dict[str, int] = position) -> float:
                n, box = item
                near = [position[o] for o in neighbours.get(box.id, ()) if o in position]
                return sum(near) / len(near) if near else float(n)

            ordered[i] = [b for _, b in sorted(enumerate(ordered[i]), key=centre)]
    return ordered
