"""Small formatting helpers shared by the text formats (shapes and sizes: cnncalc.notation)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from cnncalc.analysis import Row, Summary
from cnncalc.memory import Memory
from cnncalc.notation import TIMES, per_dim, shape, size
from cnncalc.receptive import Field
from cnncalc.safetext import terminal

if TYPE_CHECKING:
    from cnncalc.render import Columns

RF_HEADERS = ("RF", "RF stride", "RF padding")
NUMERIC = {"Params", "MACs", "FLOPs", "Saved", *RF_HEADERS}


def count(n: int) -> str:
    return f"{n:,}"


def si(n: int) -> str:
    """A count in SI units, to three significant places: 4.09G, 118M, 760; past 999T, in
    powers of ten (1.23e18)."""
    if n >= 10**15:
        exponent = len(str(n)) - 1
        return f"{n / 10**exponent:.2f}e{exponent}"
    for unit, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= scale:
            value = n / scale
            return f"{value:.3g}{unit}" if value < 100 else f"{value:.0f}{unit}"
    return str(n)


def params_cell(row: Row) -> str:
    text = count(row.params)
    frozen = row.params - row.trainable_params
    if frozen and frozen == row.params:
        return f"{text} (frozen)"
    if frozen:
        return f"{text} ({count(frozen)} frozen)"
    return text


def title(summary: Summary, escape: Callable[[str], str] = terminal) -> str:
    """'resnet50: 3×224×224 → 1000', the spec's name made safe by `escape` for the medium."""
    name = escape(summary.name) if summary.name else "network"
    if summary.inputs or summary.outputs:  # several: each by its name
        ins = ", ".join(f"{escape(n)} {shape(s)}" for n, s in summary.inputs) or shape(
            summary.input_shape
        )
        outs = ", ".join(f"{escape(n)} {shape(s)}" for n, s in summary.outputs) or shape(
            summary.output_shape
        )
        return f"{name}: {ins} → {outs}"
    return f"{name}: {shape(summary.input_shape)} → {shape(summary.output_shape)}"


def totals_lines(summary: Summary) -> list[tuple[str, str]]:
    """(label, value) pairs for the footer, in the order a reader wants them."""
    t = summary.totals
    m = summary.memory
    batch = f"batch {m.batch}"
    return [
        (
            "Parameters",
            f"{count(t.params)} ({count(t.trainable_params)} trainable,"
            f" {count(t.frozen_params)} frozen)",
        ),
        ("", f"= {count(t.params - t.biases)} weights + {count(t.biases)} biases"),
        ("Buffers", f"{count(t.buffers)} (running statistics)"),
        ("Non-trainable (Keras)", f"{count(t.non_trainable_params)} (frozen + buffers)"),
        ("MACs", f"{si(t.macs)} ({count(t.macs)}) at {batch}"),
        ("FLOPs", f"{si(t.flops)} ({count(t.flops)})"),
        (
            "Training FLOPs",
            f"{si(t.training_flops)} ({count(t.training_flops)}): forward"
            f" + backward {si(t.backward_flops)}",
        ),
        *_training_memory(m, batch),
        ("Inference memory", f"{size(m.inference_bytes)}: parameters and buffers, and at most"),
        ("", f"{size(m.peak_activations_bytes)} of activations alive at once"),
        ("Layers", count(summary.layer_count)),
    ]


def _training_memory(m: Memory, batch: str) -> list[tuple[str, str]]:
    """The training-memory lines: the sum, then its parts."""
    precision = f"mixed {m.dtype.value}" if m.mixed_precision else m.dtype.value
    master = f" + master weights {size(m.master_params_bytes)}" if m.mixed_precision else ""
    return [
        ("Training memory", f"{size(m.total_bytes)} at {batch}, {precision}, {m.optimizer.value}"),
        ("", f"= parameters {size(m.params_bytes)}{master} + buffers {size(m.buffers_bytes)}"),
        (
            "",
            f"+ gradients {size(m.grads_bytes)} + optimizer state {size(m.optimizer_state_bytes)}",
        ),
        ("", f"+ activations kept for backward {size(m.activations_bytes)}"),
    ]


def rf_cells(field: Field | None, sep: str = TIMES) -> tuple[str, str, str]:
    """Size, stride and padding of a receptive field as table cells."""
    if field is None:
        return ("", "", "")
    if field.is_global:
        return ("global", "", "")
    return (per_dim(field.size, sep), per_dim(field.stride, sep), per_dim(field.padding, sep))


def rf_merged_cell(field: Field | None) -> str:
    """Size, stride and padding of a receptive field in one cell: 35/4/17; a fraction in
    parentheses (a transposed convolution's stride): 11/(1/2)/(9/4)."""
    if field is None or field.is_global:
        return rf_cells(field)[0]
    return "/".join(f"({part})" if "/" in part else part for part in rf_cells(field))


def inputs_cell(
    names: Sequence[str],
    escape: Callable[[str], str],
    *,
    sep: str = ", ",
    limit: int = 0,
    parent: str = "",
) -> str:
    """A layer's inputs, at most `limit` names (0: all) and then how many more, so that a layer
    taking 45,000 inputs makes a short cell; names inside `parent` by their local part."""
    shown = names if not limit or len(names) <= limit else names[:limit]
    prefix = parent + "."
    text = sep.join(
        escape(n[len(prefix) :] if parent and n.startswith(prefix) else n) for n in shown
    )
    hidden = len(names) - len(shown)
    if hidden and limit <= 2:
        return f"{text} +{count(hidden)}"
    return f"{text} and {count(hidden)} more" if hidden else text


def headers(summary: Summary, columns: Columns) -> list[str]:
    """The summary table's columns: Inputs only for graphs, the optional ones as asked."""
    return [
        "Layer",
        "Type",
        *(["Inputs"] if not summary.is_chain else []),
        "Output shape",
        "Params",
        *(["MACs"] if columns.macs else []),
        *(["FLOPs"] if columns.flops else []),
        *(["Saved"] if columns.memory else []),
        *(RF_HEADERS if columns.rf else ()),
    ]


def cells(
    summary: Summary,
    columns: Columns,
    *,
    sparse_inputs: bool = False,
    sep: str = TIMES,
    exact: bool = False,
    escape: Callable[[str], str] = terminal,
    max_inputs: int = 0,
    local_inputs: bool = False,
    rf_merged: bool = False,
) -> list[list[str]]:
    """One list of cells per row, matching `headers`.

    `sparse_inputs` leaves Inputs empty where a row takes the row above; `exact` writes MACs
    and FLOPs in full rather than in SI units; `escape` makes names and types safe for the
    medium (safetext). `max_inputs`, `local_inputs`: see `inputs_cell`; `rf_merged`: the
    receptive field as one cell (`rf_merged_cell`) instead of three.
    """
    number = (lambda n: str(n)) if exact else si
    out = []
    prev = "input"
    for r in summary.rows:
        row = [escape(r.name), escape(r.type)]
        if not summary.is_chain:
            row.append(
                ""
                if sparse_inputs and r.inputs == (prev,)
                else inputs_cell(
                    r.inputs,
                    escape,
                    sep=";" if sep != TIMES else ", ",
                    limit=max_inputs,
                    parent=r.groups[-1][0] if local_inputs and r.groups else "",
                )
            )
        shapes = ", ".join(shape(s, sep) for s in (r.output_shape, *r.more_shapes))
        if r.shares is not None and not exact:
            params = f"shares {escape(r.shares)}"
        else:
            params = str(r.params) if exact else params_cell(r)
        row += [shapes, params]
        if columns.macs:
            row.append(number(r.macs))
        if columns.flops:
            row.append(number(r.flops))
        if columns.memory:
            row.append(str(r.saved_bytes) if exact else size(r.saved_bytes))
        if columns.rf and rf_merged:
            row.append(rf_merged_cell(r.receptive_field))
        elif columns.rf:
            row += rf_cells(r.receptive_field, sep)
        out.append(row)
        prev = r.name
    return out
