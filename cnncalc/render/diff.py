"""`cnncalc diff` as a table, Markdown (for a pull-request comment) or JSON."""

from __future__ import annotations

import json
from typing import Any

from cnncalc.diff import Diff, Figure, LayerChange
from cnncalc.render.grid import Column, paint
from cnncalc.render.grid import table as grid_table
from cnncalc.render.text import count, shape


def _signed(n: int) -> str:
    return f"+{n:,}" if n > 0 else f"−{-n:,}" if n < 0 else "0"


def _percent(f: Figure) -> str:
    p = f.percent
    if p is None:
        return "new" if f.new else ""
    return f"{'+' if p > 0 else '−' if p < 0 else '±'}{abs(p):.2f}%"


def _cells(d: Diff, c: LayerChange) -> list[str]:
    old_shape, new_shape = d.shape(c, "old"), d.shape(c, "new")
    old_p = "" if c.old is None else count(c.old.result.param_count)
    new_p = "" if c.new is None else count(c.new.result.param_count)
    return [c.status, c.name, (c.new or c.old).type if c.new or c.old else "",  # type: ignore[union-attr]
            "" if old_shape is None else shape(old_shape),
            "" if new_shape is None else shape(new_shape), old_p, new_p]


HEAD = ["", "Layer", "Type", "Old shape", "New shape", "Old params", "New params"]
FIG_HEAD = ["", "Old", "New", "Change", ""]


def _figure_cells(f: Figure) -> list[str]:
    return [f.name, count(f.old), count(f.new), _signed(f.change), _percent(f)]


def _headline(d: Diff) -> str:
    same = "" if d.old.output_shape == d.new.output_shape else \
        f"; output {shape(d.old.output_shape)} → {shape(d.new.output_shape)}"
    n = len(d.changes)
    return (f"{d.old_label} → {d.new_label}: {n} layer{' differs' if n == 1 else 's differ'},"
            f" {d.unchanged} unchanged{same}")


_STATUS_STYLE = {"added": "green", "removed": "red", "changed": "yellow"}


def table(d: Diff, *, color: bool) -> str:
    out = paint(_headline(d), "bold" if color else None) + "\n"
    if d.changes:
        columns = [Column(h, right=i >= 5) for i, h in enumerate(HEAD)]
        columns[0] = Column("", style=None)
        rows = [_cells(d, c) for c in d.changes]
        if color:  # the status word carries the colour
            rows = [[paint(r[0], _STATUS_STYLE[r[0]]), *r[1:]] for r in rows]
        out += grid_table(None, columns, rows, color=color)
        out += "\n"
    figures = [Column(h, right=i > 0) for i, h in enumerate(FIG_HEAD)]
    return out + grid_table(None, figures, [_figure_cells(f) for f in d.figures], color=color)


def markdown(d: Diff) -> str:
    lines = [f"**{_headline(d)}**", ""]
    if d.changes:
        lines += ["| " + " | ".join(h or "Change" for h in HEAD) + " |",
                  "|---|---|---|---|---|---:|---:|"]
        for c in d.changes:
            cells = _cells(d, c)
            cells[1] = f"`{cells[1]}`"
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["| Total | Old | New | Change | % |", "|---|---:|---:|---:|---:|"]
    lines += ["| " + " | ".join(_figure_cells(f)) + " |" for f in d.figures]
    return "\n".join(lines) + "\n"


def as_json(d: Diff) -> str:
    def side(c: LayerChange, which: str) -> dict[str, Any] | None:
        layer = c.old if which == "old" else c.new
        if layer is None:
            return None
        return {"name": layer.name, "type": layer.type,
                "output_shape": list(d.shape(c, which) or ()),
                "params": layer.result.param_count}

    data = {
        "old": d.old_label,
        "new": d.new_label,
        "output_shape": {"old": list(d.old.output_shape), "new": list(d.new.output_shape)},
        "changes": [{"status": c.status, "old": side(c, "old"), "new": side(c, "new")}
                    for c in d.changes],
        "unchanged_layers": d.unchanged,
        "totals": {f.name: {"old": f.old, "new": f.new, "change": f.change,
                            "percent": None if f.percent is None else round(f.percent, 4)}
                   for f in d.figures},
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
