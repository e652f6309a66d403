"""Aligned text tables, fast: widths computed once, colour by click.style.

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


def table(
    title: str | None,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    dim_rows: Sequence[bool] = (),
    footer: Sequence[tuple[str, str]] = (),
    color: bool = False,
) -> str:
    """Title, header, a rule, the rows, then `label  value` footer lines."""
    header = [c.header for c in columns]
    widths = [[width(cell) for cell in row] for row in (header, *rows)]
    sizes = [max(col) for col in zip(*widths, strict=True)]
    right = [c.right for c in columns]

    def cells(row: Sequence[str], row_widths: Sequence[int]) -> list[str]:
        return [
            " " * (s - w) + cell if r else cell + " " * (s - w)
            for cell, w, s, r in zip(row, row_widths, sizes, right, strict=True)
        ]

    rule = RULE * (sum(sizes) + len(GAP) * (len(sizes) - 1))
    label_size = max((width(label) for label, _ in footer), default=0)
    footer_lines = [(_pad(label, label_size, False), "  " + value) for label, value in footer]
    if not color:
        out = [title] if title else []
        out += [
            GAP.join(cells(row, w)).rstrip() for row, w in zip((header, *rows), widths, strict=True)
        ]
        out.insert(2 if title else 1, rule)
        if footer:
            out += ["", *((label + value).rstrip() for label, value in footer_lines)]
        return "\n".join(out) + "\n"
    lines: list[list[tuple[str, str | None]]] = [[(title, "italic")]] if title else []
    for i, (row, w) in enumerate(zip((header, *rows), widths, strict=True)):
        dim = 0 < i <= len(dim_rows) and dim_rows[i - 1]
        row_style = "bold" if i == 0 else "dim" if dim else None
        line: list[tuple[str, str | None]] = []
        for j, (cell, column) in enumerate(zip(cells(row, w), columns, strict=True)):
            line.append((cell, " ".join(s for s in (column.style, row_style) if s) or None))
            if j < len(columns) - 1:
                line.append((GAP, None))
        lines.append(line)
        if i == 0:
            lines.append([(rule, None)])
    if footer:
        lines.append([("", None)])
        lines += [[(label, "bold"), (value, None)] for label, value in footer_lines]
    return _colour(lines)


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


def _colour(lines: list[list[tuple[str, str | None]]]) -> str:
    out = []
    for line in lines:
        while line and not line[-1][0].strip():
            line = line[:-1]
        if line:  # the last cell's padding is trailing space
            text, style = line[-1]
            line = [*line[:-1], (text.rstrip(), style)]
        out.append("".join(paint(text, style) for text, style in line) + "\n")
    return "".join(out)
