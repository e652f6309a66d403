"""`cnncalc rf`: the receptive field of every spatial layer, or of one unit of one layer."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from cnncalc.arithmetic import Exact
from cnncalc.errors import Pos, SpecError, UsageError, did_you_mean
from cnncalc.graph import Graph, Layer, Notice
from cnncalc.notation import UNIT_AXES, shape, unit_axes
from cnncalc.receptive import Field, fields, region, spatial_dims


class FieldRow(NamedTuple):
    name: str
    type: str
    output_shape: tuple[int, ...]  # in the spec's layout
    field: Field


class UnitReport(NamedTuple):
    """One unit of one layer: its field's window and the exact input pixels it sees."""

    layer: FieldRow
    unit: tuple[int, ...]
    input_spatial: tuple[int, ...]
    window: tuple[tuple[Exact, Exact], ...] | None  # None for a global field
    region: tuple[tuple[int, int] | None, ...]

    def clipped_window(self) -> list[tuple[int, int] | None]:
        """The window's whole pixels inside the input, per dimension."""
        assert self.window is not None
        out: list[tuple[int, int] | None] = []
        for (lo, hi), n in zip(self.window, self.input_spatial, strict=True):
            first, last = max(math.ceil(lo), 0), min(math.floor(hi), n - 1)
            out.append((first, last) if first <= last else None)
        return out

    @property
    def axes(self) -> tuple[str, ...]:
        return unit_axes(len(self.unit))


class FieldTable(NamedTuple):
    name: str | None
    input_shape: tuple[int, ...]
    rows: tuple[FieldRow, ...]
    notices: tuple[Notice, ...]


def field_table(graph: Graph, layer: str | None = None) -> FieldTable:
    """Every layer with a spatial output and its field (or just `layer`)."""
    rf, notices = _fields(graph)
    dims = spatial_dims(graph)
    chosen = graph.layers if layer is None else (find_layer(graph, layer),)
    # The table keeps to spatial outputs; a layer asked for by name is shown whatever its
    # shape (after flatten or linear, its field is global), as summarize shows it.
    rows = tuple(
        FieldRow(x.name, x.type, graph.layout.display(x.shape), rf[x.name])
        for x in chosen
        if (layer is not None or len(x.shape) == dims + 1) and x.name in rf
    )
    if layer is not None and not rows:
        raise UsageError(f"layer '{layer}' has no receptive field")
    return FieldTable(
        graph.name, graph.layout.display(graph.input_shape), rows, (*graph.notices, *notices)
    )


def unit_report(graph: Graph, layer: str, unit: Sequence[int]) -> UnitReport:
    """What one unit of `layer` sees: the field's window, and the exact region."""
    target = find_layer(graph, layer)
    rf, _ = _fields(graph)
    dims = spatial_dims(graph)
    if len(target.shape) != dims + 1:
        raise UsageError(f"layer '{target.name}' has no spatial output, so no units to ask about")
    spatial = target.shape[1:]
    if len(unit) != dims:
        raise UsageError(
            f"--unit needs {dims} indices ({', '.join(UNIT_AXES.get(dims, ()))}) for"
            f" layer '{target.name}', got {len(unit)}"
        )
    for u, n, axis in zip(unit, spatial, UNIT_AXES.get(dims, ("",) * dims), strict=True):
        if not 0 <= u < n:
            raise UsageError(
                f"--unit {u} is outside layer '{target.name}', which has {n}"
                f" {axis or 'units'} (0 to {n - 1})"
            )
    field = rf[target.name]
    row = FieldRow(target.name, target.type, graph.layout.display(target.shape), field)
    window = None if field.is_global else tuple(field.window(unit))
    return UnitReport(
        row, tuple(unit), graph.input_shape[1:], window, tuple(region(graph, target.name, unit))
    )


def find_layer(graph: Graph, name: str) -> Layer:
    """A layer by name; a block instance's name means its output layer."""
    name = graph.group_outputs.get(name, name)
    if name in graph.by_name:
        return graph.by_name[name]
    hint = did_you_mean(name, [*graph.by_name, *graph.group_outputs])
    raise UsageError(f"no layer named '{name}'{hint}")


def _fields(graph: Graph) -> tuple[dict[str, Field], list[Notice]]:
    rf, notices = fields(graph)
    if not rf:
        raise UsageError(
            f"the input {shape(graph.input_shape)} has no spatial"
            " dimensions, so there are no receptive fields"
        )
    return rf, notices


def padding_part(
    lo: Exact, hi: Exact, size: int
) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """The whole pixels of a window [lo, hi] before the input (< 0) and after it (≥ size)."""
    first, last = math.ceil(lo), math.floor(hi)
    before = (first, min(last, -1)) if first < 0 else None
    after = (max(first, size), last) if last >= size else None
    return before, after


def no_spatial_input(graph: Graph, input_pos: Pos) -> None:
    """Refuse a spec whose input has no spatial dimensions: it has no receptive fields."""
    if spatial_dims(graph) < 1:
        raise SpecError(
            f"the input {list(graph.input_shape)} has no spatial dimensions, so"
            " there are no receptive fields (they need an input like [C, H, W])",
            input_pos,
        )


def no_spatial_output(graph: Graph, input_pos: Pos) -> SpecError:
    """Why a network's field table would be empty: where its spatial axes end."""
    dims = spatial_dims(graph)
    for x in graph.layers:
        if len(x.shape) != dims + 1:
            return SpecError(
                f"no layer has a spatial output, so there are no receptive fields: the"
                f" output of '{x.name}' ({x.type}) is {shape(x.shape)}, with no"
                " spatial axes",
                x.pos,
            )
    return SpecError("no layer has a spatial output, so there are no receptive fields", input_pos)
