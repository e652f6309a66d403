"""Summary → JSON for tools. The field names are a contract: add fields, never rename."""

from __future__ import annotations

import json
import re
from typing import Any

from cnncalc.analysis import Row, Summary
from cnncalc.arithmetic import Exact, fraction_text
from cnncalc.receptive import Field
from cnncalc.safetext import json_safe


def summary_dict(summary: Summary) -> dict[str, Any]:
    t = summary.totals
    m = summary.memory
    several = {}  # a network of several inputs or outputs lists each, beside the first's
    if summary.inputs or summary.outputs:
        several = {
            "inputs": {name: list(shape) for name, shape in summary.inputs},
            "outputs": {name: list(shape) for name, shape in summary.outputs},
        }
    return {
        "name": summary.name,
        "input_shape": list(summary.input_shape),
        "output_shape": list(summary.output_shape),
        **several,
        "layout": summary.layout,
        "layers": [_row(r) for r in summary.rows],
        "totals": {
            "params": t.params,
            "weights": t.weights,
            "biases": t.biases,
            "trainable_params": t.trainable_params,
            "non_trainable_params": t.non_trainable_params,
            "frozen_params": t.frozen_params,
            "buffers": t.buffers,
            "param_bytes": t.param_bytes,
            "layers": summary.layer_count,
            "macs": t.macs,
            "flops": t.flops,
            "backward_macs": t.backward_macs,
            "backward_flops": t.backward_flops,
            "training_flops": t.training_flops,
            "memory": {
                "batch": m.batch,
                "dtype": m.dtype.value,
                "mixed_precision": m.mixed_precision is not None,
                "optimizer": m.optimizer.value,
                "params_bytes": m.params_bytes,
                "master_params_bytes": m.master_params_bytes,
                "buffers_bytes": m.buffers_bytes,
                "grads_bytes": m.grads_bytes,
                "optimizer_state_bytes": m.optimizer_state_bytes,
                "activations_bytes": m.activations_bytes,
                "total_bytes": m.total_bytes,
                "peak_activations_bytes": m.peak_activations_bytes,
                "inference_bytes": m.inference_bytes,
            },
        },
        "warnings": [str(n) for n in summary.notices],
    }


def _row(r: Row) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": r.name,
        "type": r.type,
        "inputs": list(r.inputs),
        "output_shape": list(r.output_shape),
        "params": r.params,
        "weights": r.weights,
        "biases": r.biases,
        "trainable_params": r.trainable_params,
        "buffers": r.buffers,
        "depth": r.depth,
        "macs": r.macs,
        "flops": r.flops,
        "backward_macs": r.backward_macs,
        "backward_flops": r.backward_flops,
        "saved_bytes": r.saved_bytes,
        "output_bytes": r.output_bytes,
        "receptive_field": field_dict(r.receptive_field),
    }
    if r.more_shapes:  # a layer of several outputs: every output's name and shape
        names = (
            *r.names,
            *(f"{r.name}:{i}" for i in range(len(r.names) + 1, len(r.more_shapes) + 1)),
        )
        row["outputs"] = {
            name: list(shape)
            for name, shape in zip((r.name, *names), (r.output_shape, *r.more_shapes), strict=True)
        }
    if r.shares is not None:
        row["shares"] = r.shares
    if r.group:
        row["collapsed_layers"] = r.layers
    else:
        row["param_tensors"] = {k: n for k, n in r.param_tensors if n}  # as named_parameters()
        row["buffer_tensors"] = dict(r.buffer_tensors)
    return row


def exact(x: Exact) -> int | str:
    """An integer as a JSON number; a fraction as the string '1/2', never a rounded float."""
    return x.numerator if x.denominator == 1 else fraction_text(x)


def field_dict(field: Field | None) -> dict[str, Any] | None:
    if field is None:
        return None
    if field.is_global:
        return {"global": True}
    return {
        "size": [exact(v) for v in field.size],
        "stride": [exact(v) for v in field.stride],
        "padding": [exact(v) for v in field.padding],
    }


# Lists of numbers or strings stay on one line: [3, 224, 224], not one item per line.
_SCALAR_LIST = re.compile(r"\[\n\s+([^\[\]{}\n]+(?:,\n\s+[^\[\]{}\n]+)*)\n\s*\]")


def dumps(data: dict[str, Any], rows: str) -> str:
    """JSON with the list under `rows` last and one compact object per line: readable, and
    written by json's C encoder (an indented dump of 20,000 layers is many times slower).
    Nothing raw that a terminal or a CI log would act on (safetext.json_safe)."""
    items = data.pop(rows)
    head = _SCALAR_LIST.sub(
        lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]",
        json.dumps(data, indent=2, ensure_ascii=False),
    )[:-2]
    encode = json.JSONEncoder(ensure_ascii=False).encode  # one encoder, not one per row
    lines = ",\n".join("    " + encode(item) for item in items)
    body = f"[\n{lines}\n  ]" if items else "[]"
    return json_safe(f'{head},\n  "{rows}": {body}\n}}\n')


def render_json(summary: Summary) -> str:
    return dumps(summary_dict(summary), "layers")
