"""Aligned text tables, fast: laid out once, then styled as the final step.

A laid-out table (`Laid`) is printed by a rich Console (render/console.py), which owns the
colour system, NO_COLOR, FORCE_COLOR and TERM=dumb: it hands the Console its styled segments
as they are, with nothing left to measure or wrap. `finish` gives the same lines as a string
(ANSI codes by click.style) for the Python API. rich's own Table measures and wraps every cell
through its render pipeline, about 1 ms a row here, and a rich Text of the same lines costs
eight times the segments (BENCHMARKS.md). The caller chooses the width (render/table.py drops
and merges columns to fit); lines never wrap.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import click

if TYPE_CHECKING:  # rich is imported only when a table is printed through it
    from collections.abc import Iterator

    from rich.console import Console, ConsoleOptions
    from rich.segment import Segment

RULE = "━"
GAP = "   "


class Column(NamedTuple):
    header: str
    right: bool = False  # right-justify (numbers)
    style: str | None = None  # rich style when colour is on


def width(text: str) -> int:
    """Terminal cells: wide East Asian characters take two, colour codes none."""
    if "\x1b" in text:
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, size: int, right: bool) -> str:
    fill = " " * (size - width(text))
    return fill + text if right else text + fill


# One line of a table laid out: its segments, each one's style, and what joins them (a plain
# tuple: a NamedTuple per row costs a fifth of a 10,000-row table's time).
Line = tuple[Sequence[str], Sequence[str | None], str]


def table(
    title: str | None,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    dim_rows: Sequence[bool] = (),
    footer: Sequence[tuple[str, str]] = (),
    color: bool = False,
) -> str:
    """Title, header, a rule, the rows, then `label  value` footer lines, as text (with ANSI
    colour codes if `color`)."""
    laid = layout(title, columns, rows, dim_rows=dim_rows, footer=footer)
    return finish(laid.lines, color=color)


class Laid(NamedTuple):
    """A table laid out: its lines, and the widest one's terminal cells. A rich renderable."""

    lines: list[Line]
    width: int

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        """Each line's segments with their styles, as laid out (rich neither measures nor
        wraps them)."""
        from rich.segment import Segment
        from rich.style import Style

        parse = Style.parse  # cached by rich
        newline = Segment.line()
        for line in self.lines:
            for i, (text, style) in enumerate(_trimmed(line)):
                if i:
                    yield Segment(line[2])
                yield Segment(text, parse(style) if style else None)
            yield newline


def layout(
    title: str | None,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    dim_rows: Sequence[bool] = (),
    bold_rows: Sequence[bool] = (),
    footer: Sequence[tuple[str, str]] = (),
    gap: str = GAP,
) -> Laid:
    """The table laid out once: title, header, a rule, the rows, the footer lines."""
    header = [c.header for c in columns]
    # A row of fewer cells than columns (a block's header row in a tree) spans the columns:
    # its cells are left out of the columns' widths.
    full = len(columns)
    widths = [[width(cell) for cell in row] if len(row) == full else [] for row in (header, *rows)]
    sizes = [max(col) for col in zip(*(w for w in widths if w), strict=True)]
    right = [c.right for c in columns]
    # Each column's style in the header, a dimmed row and a plain row, worked out once.
    bold, dim, plain = (
        [" ".join(s for s in (c.style, row_style) if s) or None for c in columns]
        for row_style in ("bold", "dim", None)
    )

    def cells(row: Sequence[str], row_widths: Sequence[int]) -> list[str]:
        if len(row) < full:  # spanning: the first cell padded to its column, the rest as is
            return [_pad(row[0], sizes[0], False), *row[1:]]
        return [
            " " * (s - w) + cell if r else cell + " " * (s - w)
            for cell, w, s, r in zip(row, row_widths, sizes, right, strict=True)
        ]

    def style(i: int) -> list[str | None]:
        if i < len(bold_rows) and bold_rows[i]:
            return bold
        return dim if i < len(dim_rows) and dim_rows[i] else plain

    rule = RULE * (sum(sizes) + len(gap) * (len(sizes) - 1))
    widest = max(
        len(rule),
        width(title or ""),
        *(
            sizes[0] + len(gap) + width(gap.join(row[1:]))
            for row in rows
            if len(row) < full and len(row) > 1
        ),
    )
    lines: list[Line] = [((title,), ("italic",), "")] if title else []
    lines += [(cells(header, widths[0]), bold, gap), ((rule,), (None,), "")]
    lines += [
        (cells(row, w), style(i)[: len(row)], gap)
        for i, (row, w) in enumerate(zip(rows, widths[1:], strict=True))
    ]
    if footer:
        footer_lines, footer_width = _footer(footer)
        lines += footer_lines
        widest = max(widest, footer_width)
    return Laid(lines, widest)


def _footer(footer: Sequence[tuple[str, str]]) -> tuple[list[Line], int]:
    """The totals under a table: a blank line, then bold labels aligned, and its width."""
    label_size = max(width(label) for label, _ in footer)
    lines: list[Line] = [(("",), (None,), "")]
    lines += [
        ((_pad(label, label_size, False), "  " + value), ("bold", None), "")
        for label, value in footer
    ]
    return lines, max(label_size + 2 + width(value) for _, value in footer)


def finish(lines: Sequence[Line], *, color: bool) -> str:
    """The laid-out lines as text, trailing space trimmed: styled by ANSI codes if `color`."""
    if not color:
        return "".join(sep.join(segments).rstrip() + "\n" for segments, _, sep in lines)
    return "".join(_painted(line) + "\n" for line in lines)


_FLAGS = ("bold", "dim", "italic")


def paint(text: str, style: str | None) -> str:
    """Text in a style such as "bold cyan", as ANSI escape codes (click.style)."""
    if not style or not text.strip():
        return text
    start, end = _codes(style)
    return start + text + end


@functools.cache
def _codes(style: str) -> tuple[str, str]:
    """The escape codes around a styled text, worked out once per style."""
    words = style.split()
    colours = [w for w in words if w not in _FLAGS]
    marked = click.style(
        "\0", fg=colours[0] if colours else None, **{w: True for w in words if w in _FLAGS}
    )
    start, _, end = marked.partition("\0")
    return start, end


def _trimmed(line: Line) -> list[tuple[str, str | None]]:
    """A line's (text, style) segments, the trailing blank ones dropped (no styled trailing
    space)."""
    texts, styles, _ = line
    segments = list(zip(texts, styles, strict=True))
    while segments and not segments[-1][0].strip():
        segments.pop()
    if segments:
        text, style = segments[-1]
        segments[-1] = (text.rstrip(), style)
    return segments


def _painted(line: Line) -> str:
    """A line in colour, by ANSI codes."""
    return line[2].join(paint(text, style) for text, style in _trimmed(line))
