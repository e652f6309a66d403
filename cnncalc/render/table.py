"""Summary → a rich table for the terminal."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table

from cnncalc.analysis import Summary
from cnncalc.render.text import RF_HEADERS, params_cell, rf_cells, shape, title, totals_lines


def render_table(summary: Summary, *, width: int | None = None, color: bool = True,
                 rf: bool = True) -> str:
    table = Table(title=title(summary), box=box.SIMPLE_HEAVY, title_justify="left",
                  show_edge=False, pad_edge=False)
    graph = not summary.is_chain
    table.add_column("Layer", style="bold", overflow="fold")
    table.add_column("Type", style="cyan")
    if graph:
        table.add_column("Inputs", style="dim", overflow="fold")
    table.add_column("Output shape", style="green", no_wrap=True)
    table.add_column("Params", justify="right", no_wrap=True)
    if rf:
        for header in RF_HEADERS:
            table.add_column(header, justify="right", style="magenta", no_wrap=True)
    prev = "input"
    for r in summary.rows:
        cells = [r.name, r.type]
        if graph:  # only where the input is not simply the row above: branches stand out
            cells.append("" if r.inputs == (prev,) else ", ".join(r.inputs))
        prev = r.name
        cells += [shape(r.output_shape), params_cell(r)]
        if rf:
            cells += rf_cells(r.receptive_field)
        table.add_row(*cells, style="dim" if r.params == 0 and not r.group else None)
    footer = Table.grid(padding=(0, 2))
    footer.add_column(style="bold")
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
