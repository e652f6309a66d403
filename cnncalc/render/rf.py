"""Text and JSON for `cnncalc rf`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cnncalc.arithmetic import fraction_text
from cnncalc.enums import RfFormat
from cnncalc.notation import per_dim, shape
from cnncalc.render.grid import Column, table
from cnncalc.render.json import dumps, exact, field_dict
from cnncalc.render.text import RF_HEADERS, rf_cells
from cnncalc.rfquery import FieldTable, UnitReport, padding_part
from cnncalc.safetext import json_safe, terminal


def table_text(t: FieldTable, *, color: bool) -> str:
    columns = [
        Column("Layer", style="bold"),
        Column("Type", style="cyan"),
        Column("Output shape", style="green"),
        *(Column(h, right=True, style="magenta") for h in RF_HEADERS),
    ]
    rows = [
        [terminal(r.name), terminal(r.type), shape(r.output_shape), *rf_cells(r.field)]
        for r in t.rows
    ]
    name = terminal(t.name) if t.name else "network"
    title = f"{name}: receptive fields on the {shape(t.input_shape)} input"
    return table(title, columns, rows, color=color)


def table_json(t: FieldTable) -> str:
    data = {
        "name": t.name,
        "input_shape": list(t.input_shape),
        "layers": [
            {
                "name": r.name,
                "type": r.type,
                "output_shape": list(r.output_shape),
                "receptive_field": field_dict(r.field),
            }
            for r in t.rows
        ],
        "warnings": [str(n) for n in t.notices],
    }
    return dumps(data, "layers")


def _axis_range(axis: str, lo: int | Any, hi: int | Any) -> str:
    """'row 3' or 'rows 0…6'."""
    return f"{axis[:-1]} {_num(lo)}" if lo == hi else f"{axis} {_num(lo)}…{_num(hi)}"


def _span(axis: str, lo: int, hi: int) -> str:
    """'row 8' or 'rows -3…-1 (3 rows)'."""
    if lo == hi:
        return f"{axis[:-1]} {lo}"
    return f"{axis} {lo}…{hi} ({hi - lo + 1} {axis})"


def _num(x: Any) -> str:
    return fraction_text(x) if not isinstance(x, int) else str(x)


def unit_text(r: UnitReport) -> str:
    f = r.layer.field
    where = ", ".join(f"{axis[:-1]} {u}" for axis, u in zip(r.axes, r.unit, strict=True))
    name, kind = terminal(r.layer.name), terminal(r.layer.type)
    lines = [f"{name} ({kind}, output {shape(r.layer.output_shape)}), unit at {where}:"]
    if f.is_global and any(iv is None for iv in r.region):  # a zero-padded border unit
        lines.append("  receptive field  global: the layer's other units see the whole input")
    elif f.is_global:
        lines.append("  receptive field  global: every unit sees the whole input")
    else:
        lines.append(
            f"  receptive field  size {per_dim(f.size)}, stride {per_dim(f.stride)},"
            f" padding {per_dim(f.padding)}"
        )
    if r.window is not None:
        lines.append(
            "  window           "
            + ", ".join(
                _axis_range(axis, lo, hi) for axis, (lo, hi) in zip(r.axes, r.window, strict=True)
            )
        )
        pads = []
        for axis, (lo, hi), n in zip(r.axes, r.window, r.input_spatial, strict=True):
            before, after = padding_part(lo, hi, n)
            if before:
                pads.append(f"{_span(axis, *before)} before the input")
            if after:
                pads.append(f"{_span(axis, *after)} past its end")
        lines.append("  in padding       " + ("; ".join(pads) if pads else "none"))
    if any(iv is None for iv in r.region):
        lines.append("  input region     none: this unit sees only padding")
    else:
        seen = [
            _axis_range(axis, *iv)
            for axis, iv in zip(r.axes, r.region, strict=True)
            if iv is not None
        ]
        lines.append(f"  input region     {', '.join(seen)} of the {shape(r.input_spatial)} input")
        if r.window is not None and list(r.region) != r.clipped_window():
            lines.append(
                "  (the region is narrower than the window inside the input: the other"
                " pixels reach this unit only through padding or rows a stride"
                " skipped)"
            )
    return "\n".join(lines) + "\n"


def unit_json(r: UnitReport) -> str:
    data = {
        "layer": r.layer.name,
        "type": r.layer.type,
        "unit": list(r.unit),
        "input_spatial_shape": list(r.input_spatial),
        "receptive_field": field_dict(r.layer.field),
        "window": None if r.window is None else [[exact(lo), exact(hi)] for lo, hi in r.window],
        "region": [None if iv is None else list(iv) for iv in r.region],
    }
    return json_safe(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def _table_text(t: FieldTable, color: bool) -> str:
    return table_text(t, color=color)


TABLE_RENDERERS: dict[RfFormat, Callable[[FieldTable, bool], str]] = {
    RfFormat.TABLE: _table_text,
    RfFormat.JSON: lambda t, color: table_json(t),
}
UNIT_RENDERERS: dict[RfFormat, Callable[[UnitReport, bool], str]] = {
    RfFormat.TABLE: lambda r, color: unit_text(r),
    RfFormat.JSON: lambda r, color: unit_json(r),
}
