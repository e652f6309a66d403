"""`explain` records → the worked formulas as text, or as a JSON document.

The JSON document (a contract: add fields, never rename):

    {"name": "resnet50" | null, "batch": 1, "warnings": ["..."],
     "layers": [{"name", "type", "input_shapes": [[3, 224, 224]], "output_shape": [...],
                 "shape_formulas": ["H_out = ... = 112"], "shape_unchanged": false,
                 "params": {"value", "formula", "note", "weights", "biases"},
                 "buffers": {"value", "formula", "note"} | null,
                 "macs": {"value", "formula"},       # value at the batch, formula per sample
                 "flops": {"value", "bias", "rule"},  # bias: weighted layers; rule: in words
                 "receptive_field": as summarize's JSON}, ...]}

Shapes are in the spec's layout; figures are at the batch size and equal summarize's JSON for
the same layer; a formula or note is null where the text shows none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnncalc.enums import ExplainFormat
from cnncalc.explaining import Explanation, FlopsWork, LayerExplanation, Worked
from cnncalc.notation import grouped, per_dim, shape
from cnncalc.receptive import Field
from cnncalc.render.json import dumps, field_dict


def text(explanation: Explanation) -> str:
    """Every chosen layer's formulas, a blank line between layers."""
    return "\n".join(layer_text(x, explanation.batch) for x in explanation.layers)


def layer_text(x: LayerExplanation, batch: int) -> str:
    """One layer: its shapes, then a line per figure, as a student writes them."""
    ins = ", ".join(map(shape, x.input_shapes))
    outs = ", ".join(map(shape, (x.output_shape, *x.more_shapes)))
    lines = [f"{x.name}  {x.type}  {ins} → {outs}"]
    lines += [f"  {grouped(line)}" for line in x.shape_formulas]
    if x.shape_unchanged:
        lines.append("  shape unchanged")
    lines.append(f"  params = {_worked(x.params)}")
    if x.shares is not None:
        lines.append(f"         (the weights of '{x.shares}', counted there once)")
    if x.params.value:
        lines.append(f"         = {_several(x.weights, 'weight')} + {_several(x.biases, 'bias')}")
    if x.buffers is not None:
        lines.append(f"  buffers = {_worked(x.buffers)}")
    times = f"{batch} · " if batch != 1 and x.macs.formula else ""
    lines.append(f"  MACs   = {times}{_worked(x.macs)}")
    if x.flops is not None:
        lines.append(f"  FLOPs  = {_flops(x.flops)}")
    if x.field is not None:
        lines.append(f"  RF     = {_field(x.field)}")
    return "\n".join(lines) + "\n"


def _worked(w: Worked) -> str:
    """'(96·7·7 + 1)·128 = 602,240     (note)', or just the figure; the formula's sizes
    with separators from five digits (notation.grouped)."""
    formula = f"{grouped(w.formula)} = " if w.formula else ""
    note = f"     ({grouped(w.note)})" if w.note else ""
    return f"{formula}{w.value:,}{note}"


def _several(n: int, noun: str) -> str:
    """'602,112 weights', '1 bias', '0 biases'."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}{'es' if noun.endswith('s') else 's'}"


def _flops(f: FlopsWork) -> str:
    """'2·1,296 + 144 (bias) = 2,736' for the weighted layers, '288     (2 per element: ...)'
    for the rest, '0' where there is nothing to say."""
    if f.bias is not None:
        return f"2·{f.macs:,}{f' + {f.bias:,} (bias)' if f.bias else ''} = {f.value:,}"
    if f.rule:
        return f"{f.value:,}     ({grouped(f.rule)})"
    return f"{f.value:,}"


def _field(field: Field) -> str:
    if field.is_global:
        return "global (every unit sees the whole input)"
    return (
        f"{per_dim(field.size)}, stride {per_dim(field.stride)}, padding {per_dim(field.padding)}"
    )


def as_json(explanation: Explanation) -> str:
    """The records as the JSON document described above, one layer per line."""
    data = {
        "name": explanation.name,
        "batch": explanation.batch,
        "layers": [_layer_dict(x) for x in explanation.layers],
        "warnings": [str(n) for n in explanation.notices],
    }
    return dumps(data, "layers")


def _layer_dict(x: LayerExplanation) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if x.more_shapes:
        extra["output_shapes"] = [list(s) for s in (x.output_shape, *x.more_shapes)]
    if x.shares is not None:
        extra["shares"] = x.shares
    return {
        "name": x.name,
        "type": x.type,
        "input_shapes": [list(s) for s in x.input_shapes],
        "output_shape": list(x.output_shape),
        "shape_formulas": list(x.shape_formulas),
        "shape_unchanged": x.shape_unchanged,
        "params": {**x.params._asdict(), "weights": x.weights, "biases": x.biases},
        "buffers": None if x.buffers is None else x.buffers._asdict(),
        "macs": {"value": x.macs.value, "formula": x.macs.formula},
        "flops": None if x.flops is None else _flops_dict(x.flops),
        "receptive_field": field_dict(x.field),
        **extra,
    }


def _flops_dict(f: FlopsWork) -> dict[str, Any]:
    return {"value": f.value, "bias": f.bias, "rule": f.rule}


RENDERERS: dict[ExplainFormat, Callable[[Explanation], str]] = {
    ExplainFormat.TEXT: text,
    ExplainFormat.JSON: as_json,
}
