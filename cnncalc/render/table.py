"""Summary → an aligned table for the terminal (colour when it is one)."""

from __future__ import annotations

from cnncalc.analysis import Summary
from cnncalc.render import Columns
from cnncalc.render.grid import Column, table
from cnncalc.render.text import NUMERIC, RF_HEADERS, cells, headers, title, totals_lines

_STYLES = {
    "Layer": "bold",
    "Type": "cyan",
    "Inputs": "dim",
    "Output shape": "green",
    **dict.fromkeys(RF_HEADERS, "magenta"),
}


def render_table(summary: Summary, columns: Columns, *, color: bool = False) -> str:
    head = [Column(h, right=h in NUMERIC, style=_STYLES.get(h)) for h in headers(summary, columns)]
    rows = cells(summary, columns, sparse_inputs=True)
    dim = [r.params == 0 and not r.group for r in summary.rows]
    return table(
        title(summary), head, rows, dim_rows=dim, footer=totals_lines(summary), color=color
    )
