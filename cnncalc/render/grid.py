"""Aligned text tables, fast: laid out once, then colour (click.style) as the final step.

rich's Table measures and wraps every cell through its render pipeline, and importing its
console takes as long again: for ResNet-50 the two cost more than everything else together
(benchmarks/bench.py). These tables never wrap: a line longer than the terminal is left to the
terminal, as `ps` and `kubectl` do.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

import click

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
    """Title, header, a rule, the rows, then `label  value` footer lines; laid out once,
    with or without colour (`finish`)."""
    header = [c.header for c in columns]
    widths = [[width(cell) for cell in row] for row in (header, *rows)]
    sizes = [max(col) for col in zip(*widths, strict=True)]
    right = [c.right for c in columns]
    # Each column's style in the header, a dimmed row and a plain row, worked out once.
    bold, dim, plain = (
        [" ".join(s for s in (c.style, row_style) if s) or None for c in columns]
        for row_style in ("bold", "dim", None)
    )

    def cells(row: Sequence[str], row_widths: Sequence[int]) -> list[str]:
        return [
            " " * (s - w) + cell if r else cell + " " * (s - w)
            for cell, w, s, r in zip(row, row_widths, sizes, right, strict=True)
        ]

    rule = RULE * (sum(sizes) + len(GAP) * (len(sizes) - 1))
    lines: list[Line] = [((title,), ("italic",), "")] if title else []
    lines += [(cells(header, widths[0]), bold, GAP), ((rule,), (None,), "")]
    lines += [
        (cells(row, w), dim if i < len(dim_rows) and dim_rows[i] else plain, GAP)
        for i, (row, w) in enumerate(zip(rows, widths[1:], strict=True))
    ]
    if footer:
        label_size = max(width(label) for label, _ in footer)
        lines.append((("",), (None,), ""))
        lines += [
            ((_pad(label, label_size, False), "  " + value), ("bold", None), "")
            for label, value in footer
        ]
    return finish(lines, color=color)


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


def _painted(line: Line) -> str:
    """A line in colour: its trailing blank segments dropped (no styled trailing space)."""
    texts, styles, sep = line
    segments = list(zip(texts, styles, strict=True))
    while segments and not segments[-1][0].strip():
        segments.pop()
    if segments:
        text, style = segments[-1]
        segments[-1] = (text.rstrip(), style)
    return sep.join(paint(text, style) for text, style in segments)
