"""`cnncalc diff` as a table, Markdown (for a pull-request comment) or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cnncalc import safetext
from cnncalc.diff import Diff, Figure, LayerChange
from cnncalc.enums import DiffFormat
from cnncalc.errors import shown
from cnncalc.notation import grouped, per_dim, shape, size
from cnncalc.receptive import Field
from cnncalc.render.grid import Column, paint
from cnncalc.render.grid import table as grid_table
from cnncalc.render.json import field_dict
from cnncalc.render.text import count, si
from cnncalc.safetext import json_safe, markdown_code, terminal

Escape = Callable[[str], str]  # safetext's function for the medium


def _signed(n: int) -> str:
    return f"+{n:,}" if n > 0 else f"−{-n:,}" if n < 0 else "0"


def _percent(f: Figure) -> str:
    p = f.percent
    if p is None:
        return "new" if f.new else ""
    return f"{'+' if p > 0 else '−' if p < 0 else '±'}{abs(p):.2f}%"


def _cells(d: Diff, c: LayerChange, escape: Escape) -> list[str]:
    old_shape, new_shape = d.shape(c, "old"), d.shape(c, "new")
    old_p = "" if c.old is None else count(c.old.result.param_count)
    new_p = "" if c.new is None else count(c.new.result.param_count)
    kind = " → ".join(dict.fromkeys(x.type for x in (c.old, c.new) if x is not None))
    return [
        c.status,
        escape(c.name),
        escape(kind),
        "" if old_shape is None else shape(old_shape),
        "" if new_shape is None else shape(new_shape),
        old_p,
        new_p,
        escape(_what(c)),
    ]


def _what(c: LayerChange) -> str:
    """The changed arguments, inputs and freezing, then what that moved, as 'dilation 1 → 2;
    RF 5 → 7, RF padding 2 → 3'; '(upstream) RF 7 → 9' for a layer written as before."""
    parts = [f"{name} {_value(a)} → {_value(b)}" for name, a, b in c.arguments]
    if c.inputs:
        parts.append(f"from {', '.join(c.inputs[0])} → {', '.join(c.inputs[1])}")
    if c.trainable:
        parts.append("frozen" if c.trainable[0] else "unfrozen")
    if c.shares:
        was, now = c.shares
        parts.append(
            f"shares {was} → {now}"
            if was and now
            else f"shares {now}"
            if now
            else f"no longer shares {was}"
        )
    if c.field:
        parts.append(_field_change(*c.field))
    if c.macs:
        parts.append(f"MACs {si(c.macs[0])} → {si(c.macs[1])}")
    what = "; ".join(parts)
    return f"(upstream) {what}".rstrip() if c.upstream else what


def _field_change(old: Field | None, new: Field | None) -> str:
    """'RF 28 → 32', then 'RF stride 2 → 4' and 'RF padding 13 → 15' where those moved too,
    as summarize's columns name them."""
    if old is None or new is None or old.is_global or new.is_global:
        return f"RF {_field_size(old)} → {_field_size(new)}"
    return ", ".join(
        f"{what} {per_dim(a)} → {per_dim(b)}"
        for what, a, b in (
            ("RF", old.size, new.size),
            ("RF stride", old.stride, new.stride),
            ("RF padding", old.padding, new.padding),
        )
        if a != b
    )


def _field_size(field: Field | None) -> str:
    return "none" if field is None else "global" if field.is_global else per_dim(field.size)


def _value(v: Any) -> str:
    """An argument as a spec writes it: 3 for (3, 3), [3, 5], true, null; sizes from five
    digits with separators, as shapes write them (750,000)."""
    if isinstance(v, tuple) and v and len(set(v)) == 1:
        v = v[0]
    text = shown(list(v) if isinstance(v, tuple) else v).strip("'")
    return text if isinstance(v, str) else grouped(text)


HEAD = ["", "Layer", "Type", "Old shape", "New shape", "Old params", "New params", "What changed"]
FIG_HEAD = ["", "Old", "New", "Change", ""]


def _figure_cells(f: Figure) -> list[str]:
    if f.in_bytes:
        change = size(abs(f.change))
        signed = f"+{change}" if f.change > 0 else f"−{change}" if f.change < 0 else "0"
        return [f.label, size(f.old), size(f.new), signed, _percent(f)]
    return [f.label, count(f.old), count(f.new), _signed(f.change), _percent(f)]


def _headline(d: Diff, escape: Escape) -> str:
    """'OLD → NEW: 1 layer differs, ...', the two labels (paths) made safe by `escape`."""
    ends = "".join(
        f"; {which} {shape(old)} → {shape(new)}"
        for which, old, new in (
            ("input", d.old.input_shape, d.new.input_shape),
            ("output", d.old.output_shape, d.new.output_shape),
        )
        if old != new
    )
    n, k = len(d.changes), d.upstream
    layers = f"{n:,} layer{' differs' if n == 1 else 's differ'}"
    if k:
        layers += f" ({k:,} only through an upstream change)"
    return (
        f"{escape(d.old_label)} → {escape(d.new_label)}: {layers}, {d.unchanged:,} unchanged{ends}"
    )


_STATUS_STYLE = {"added": "green", "removed": "red", "changed": "yellow"}


def table(d: Diff, *, color: bool) -> str:
    out = paint(_headline(d, terminal), "bold" if color else None) + "\n"
    if d.changes:
        columns = [Column(h, right=i in (5, 6)) for i, h in enumerate(HEAD)]
        columns[0] = Column("", style=None)
        rows = [_cells(d, c, terminal) for c in d.changes]
        if color:  # the status word carries the colour
            rows = [[paint(r[0], _STATUS_STYLE[r[0]]), *r[1:]] for r in rows]
        out += grid_table(None, columns, rows, color=color)
        out += "\n"
    figures = [Column(h, right=i > 0) for i, h in enumerate(FIG_HEAD)]
    return out + grid_table(None, figures, [_figure_cells(f) for f in d.figures], color=color)


def markdown(d: Diff) -> str:
    lines = [f"**{_headline(d, safetext.markdown)}**", ""]
    if d.changes:
        lines += [
            "| " + " | ".join(h or "Change" for h in HEAD) + " |",
            "|---|---|---|---|---|---:|---:|---|",
        ]
        for c in d.changes:
            cells = _cells(d, c, safetext.markdown)
            cells[1] = markdown_code(c.name)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["| Total | Old | New | Change | % |", "|---|---:|---:|---:|---:|"]
    lines += ["| " + " | ".join(_figure_cells(f)) + " |" for f in d.figures]
    return "\n".join(lines) + "\n"


def _change_json(
    c: LayerChange, old: dict[str, Any] | None, new: dict[str, Any] | None
) -> dict[str, Any]:
    """One change; what changed besides shape and parameters only where something did."""
    out: dict[str, Any] = {"status": c.status, "old": old, "new": new}
    if c.arguments:
        out["arguments"] = {
            name: {"old": _plain(a), "new": _plain(b)} for name, a, b in c.arguments
        }
    if c.inputs:
        out["inputs"] = {"old": list(c.inputs[0]), "new": list(c.inputs[1])}
    if c.trainable:
        out["trainable"] = {"old": c.trainable[0], "new": c.trainable[1]}
    if c.shares:
        out["shares"] = {"old": c.shares[0], "new": c.shares[1]}
    if c.field:
        out["receptive_field"] = {"old": field_dict(c.field[0]), "new": field_dict(c.field[1])}
    for name, pair in (("macs", c.macs), ("flops", c.flops)):
        if pair:
            out[name] = {"old": pair[0], "new": pair[1]}
    if c.upstream:
        out["upstream"] = True
    return out


def _plain(v: Any) -> Any:
    return [_plain(x) for x in v] if isinstance(v, (tuple, list)) else v


def as_json(d: Diff) -> str:
    rows = {"old": {r.name: r for r in d.old.rows}, "new": {r.name: r for r in d.new.rows}}

    def side(c: LayerChange, which: str) -> dict[str, Any] | None:
        layer = c.old if which == "old" else c.new
        if layer is None:
            return None
        row = rows[which][layer.name]
        return {
            "name": layer.name,
            "type": layer.type,
            "output_shape": list(d.shape(c, which) or ()),
            "params": layer.result.param_count,
            "weights": row.weights,
            "biases": row.biases,
            "macs": row.macs,
            "flops": row.flops,
            "receptive_field": field_dict(row.receptive_field),
        }

    data = {
        "old": d.old_label,
        "new": d.new_label,
        "input_shape": {"old": list(d.old.input_shape), "new": list(d.new.input_shape)},
        "output_shape": {"old": list(d.old.output_shape), "new": list(d.new.output_shape)},
        "changes": [_change_json(c, side(c, "old"), side(c, "new")) for c in d.changes],
        "unchanged_layers": d.unchanged,
        "totals": {
            f.name: {
                "old": f.old,
                "new": f.new,
                "change": f.change,
                "percent": None if f.percent is None else round(f.percent, 4),
            }
            for f in d.figures
        },
    }
    return json_safe(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def _table(d: Diff, color: bool) -> str:
    return table(d, color=color)


RENDERERS: dict[DiffFormat, Callable[[Diff, bool], str]] = {
    DiffFormat.TABLE: _table,
    DiffFormat.JSON: lambda d, color: as_json(d),
    DiffFormat.MARKDOWN: lambda d, color: markdown(d),
}
