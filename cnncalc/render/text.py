"""Small formatting helpers shared by the text formats."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from cnncalc.analysis import Row, Summary
from cnncalc.arithmetic import fraction_text
from cnncalc.receptive import Field

RF_HEADERS = ("RF", "RF stride", "RF padding")


def shape(dims: Sequence[int], sep: str = "×") -> str:
    return sep.join(str(d) for d in dims) if dims else "scalar"


def count(n: int) -> str:
    return f"{n:,}"


def size(nbytes: int) -> str:
    """Bytes in binary units: 97.49 MiB."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{nbytes:,} B" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def params_cell(row: Row) -> str:
    text = count(row.params)
    frozen = row.params - row.trainable_params
    if frozen and frozen == row.params:
        return f"{text} (frozen)"
    if frozen:
        return f"{text} ({count(frozen)} frozen)"
    return text


def title(summary: Summary) -> str:
    name = summary.name or "network"
    return f"{name}: {shape(summary.input_shape)} → {shape(summary.output_shape)}"


def totals_lines(summary: Summary) -> list[tuple[str, str]]:
    """(label, value) pairs for the footer, in the order a reader wants them."""
    t = summary.totals
    return [
        ("Parameters", f"{count(t.params)} ({count(t.trainable_params)} trainable,"
                       f" {count(t.frozen_params)} frozen)"),
        ("Buffers", f"{count(t.buffers)} (running statistics)"),
        ("Non-trainable (Keras)", f"{count(t.non_trainable_params)} (frozen + buffers)"),
        ("Parameter memory", f"{size(t.param_bytes)} at float32"),
        ("Layers", count(summary.layer_count)),
    ]


def per_dim(values: Sequence[Fraction], sep: str = "×") -> str:
    """One number when every dimension agrees (the usual square case), else 3×5."""
    texts = [fraction_text(v) for v in values]
    return texts[0] if len(set(texts)) == 1 else sep.join(texts)


def rf_cells(field: Field | None, sep: str = "×") -> tuple[str, str, str]:
    """Size, stride and padding of a receptive field as table cells."""
    if field is None:
        return ("", "", "")
    if field.is_global:
        return ("global", "", "")
    return (per_dim(field.size, sep), per_dim(field.stride, sep), per_dim(field.padding, sep))
