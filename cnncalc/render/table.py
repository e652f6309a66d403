"""Summary → an aligned table for the terminal, laid out to fit its width.

With no width (piped output, --wide) every column is shown, one row per layer by its full
name. Given a width the full layout is kept if it fits; if not, these steps are taken in
order, each keeping the ones before, until the table fits:

1. the tree: each block instance a header row, its layers indented under it by their local
   names (as torchinfo shows modules); two spaces between columns instead of three, and
   "Output" for "Output shape";
2. the three receptive-field columns as one, size/stride/padding: `35/4/17`;
3. the Inputs column by local names, at most two, then `+N`;
4. no Inputs column;
5. no Saved column, then no FLOPs column, then no MACs column, then no receptive-field column.

Numbers are never cropped: a table that still does not fit is printed whole, and the
terminal wraps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from cnncalc.analysis import Row, Summary
from cnncalc.render import Columns, grid
from cnncalc.render.grid import GAP, Column, Laid, finish
from cnncalc.render.text import (
    NUMERIC,
    RF_HEADERS,
    cells,
    headers,
    title,
    totals_lines,
)
from cnncalc.safetext import terminal

_STYLES = {
    "Layer": "bold",
    "Type": "cyan",
    "Inputs": "dim",
    "Output shape": "green",
    **dict.fromkeys(RF_HEADERS, "magenta"),
}
RF_MERGED = "RF/str/pad"
MAX_INPUTS = 8  # names in a full Inputs cell: a layer may take 45,000 (see text.inputs_cell)
SHORT_INPUTS = 2


class Layout(NamedTuple):
    """One way to lay the table out: which of the narrowing steps are taken."""

    tree: bool = False
    rf_merged: bool = False
    inputs: int | None = MAX_INPUTS  # names shown in an Inputs cell; None: no column
    local_inputs: bool = False
    columns: Columns = Columns()


def _layouts(columns: Columns) -> list[Layout]:
    """The full layout, then each narrowing step of the module's docstring in turn."""
    tree = Layout(tree=True, columns=columns)
    merged = tree._replace(rf_merged=True)
    short = merged._replace(inputs=SHORT_INPUTS, local_inputs=True)
    bare = short._replace(inputs=None)
    no_saved = bare._replace(columns=columns._replace(memory=False))
    no_flops = no_saved._replace(columns=no_saved.columns._replace(flops=False))
    no_macs = no_flops._replace(columns=no_flops.columns._replace(macs=False))
    no_rf = no_macs._replace(columns=no_macs.columns._replace(rf=False))
    return [Layout(columns=columns), tree, merged, short, bare, no_saved, no_flops, no_macs, no_rf]


def laid_out(summary: Summary, columns: Columns, *, width: int | None = None) -> Laid:
    """The table laid out: in full, or the first layout that fits `width` (the last one if
    none does)."""
    layouts = _layouts(columns)
    if width is None:
        return _lines(summary, layouts[0])
    for layout in layouts:
        laid = _lines(summary, layout)
        if laid.width <= width:
            return laid
    return laid


def render_table(
    summary: Summary, columns: Columns, *, color: bool = False, width: int | None = None
) -> str:
    """The table as a string (ANSI colour codes if `color`), for the Python API."""
    return finish(laid_out(summary, columns, width=width).lines, color=color)


def _lines(summary: Summary, layout: Layout) -> Laid:
    heads = headers(summary, layout.columns)
    if layout.inputs is None and "Inputs" in heads:
        heads.remove("Inputs")
    rows = cells(
        summary,
        layout.columns,
        sparse_inputs=True,
        max_inputs=layout.inputs or 0,
        rf_merged=layout.rf_merged,
        local_inputs=layout.local_inputs,
    )
    if layout.inputs is None and not summary.is_chain:
        rows = [row[:2] + row[3:] for row in rows]
    if layout.rf_merged and layout.columns.rf:
        heads = [h for h in heads if h not in RF_HEADERS] + [RF_MERGED]
    head = [Column(h, right=h in NUMERIC or h == RF_MERGED, style=_style(h)) for h in heads]
    if layout.tree:  # the shorter header: the column is as wide as its shapes
        head = [c._replace(header="Output") if c.header == "Output shape" else c for c in head]
    dim = [r.params == 0 and not r.group for r in summary.rows]
    bold = [False] * len(rows)
    if layout.tree:
        rows, dim, bold = _tree(summary.rows, rows)
    gap = "  " if layout.tree else GAP
    return grid.layout(
        title(summary),
        head,
        rows,
        dim_rows=dim,
        bold_rows=bold,
        footer=totals_lines(summary),
        gap=gap,
    )


def _style(header: str) -> str | None:
    return "magenta" if header == RF_MERGED else _STYLES.get(header)


def _tree(
    rows: Sequence[Row], cells_: list[list[str]]
) -> tuple[list[list[str]], list[bool], list[bool]]:
    """The rows under header rows for the block instances they sit in, names made local and
    indented two spaces a level; with which rows are dimmed and which are headers (a header
    row has two cells, name and kind, and spans the columns: grid.layout)."""
    out: list[list[str]] = []
    dim: list[bool] = []
    bold: list[bool] = []
    open_: tuple[tuple[str, str], ...] = ()
    for row, cell in zip(rows, cells_, strict=True):
        shared = 0
        while shared < min(len(open_), len(row.groups)) and open_[shared] == row.groups[shared]:
            shared += 1
        for level in range(shared, len(row.groups)):
            name, kind = row.groups[level]
            parent = row.groups[level - 1][0] if level else ""
            out.append(["  " * level + terminal(_local(name, parent)), terminal(kind)])
            dim.append(False)
            bold.append(True)
        open_ = row.groups
        parent = row.groups[-1][0] if row.groups else ""
        out.append(["  " * len(row.groups) + terminal(_local(row.name, parent)), *cell[1:]])
        dim.append(row.params == 0 and not row.group)
        bold.append(False)
    return out, dim, bold


def _local(name: str, parent: str) -> str:
    """A name inside its block instance: `conv1` for `layer1.0.conv1` in `layer1.0`."""
    prefix = parent + "."
    return name[len(prefix) :] if parent and name.startswith(prefix) else name
