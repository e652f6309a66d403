"""Summary → a rich table for the terminal."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table

from cnncalc.analysis import Summary
from cnncalc.render import Columns
from cnncalc.render.text import NUMERIC, RF_HEADERS, cells, headers, title, totals_lines

_STYLES = {"Layer": "bold", "Type": "cyan", "Inputs": "dim", "Output shape": "green",
           **dict.fromkeys(RF_HEADERS, "magenta")}


def render_table(summary: Summary, columns: Columns, *, width: int | None = None,
                 color: bool = True) -> str:
    table = Table(title=title(summary), box=box.SIMPLE_HEAVY, title_justify="left",
                  show_edge=False, pad_edge=False)
    for h in headers(summary, columns):
        table.add_column(h, style=_STYLES.get(h), justify="right" if h in NUMERIC else "left",
                         overflow="fold", no_wrap=h not in ("Layer", "Inputs"))
    for r, row in zip(summary.rows, cells(summary, columns, sparse_inputs=True), strict=True):
        table.add_row(*row, style="dim" if r.params == 0 and not r.group else None)
    footer = Table.grid(padding=(0, 2))
    footer.add_column(style="bold", no_wrap=True)
    footer.add_column()
    for label, value in totals_lines(summary):
        footer.add_row(label, value)
    return console_text([table, "", footer], width=width, color=color)


def console_text(parts: list[RenderableType], *, width: int | None, color: bool) -> str:
    """Render to a string: at the terminal's width, or the natural width (None)."""
    out = io.StringIO()
    console = Console(file=out, width=width or 1000, no_color=not color,
                      force_terminal=color, highlight=False, emoji=False, soft_wrap=False)
    for part in parts:
        console.print(part)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"
