"""Which parameters are weights and which are biases, by tensor name, as a student counts them.

A tensor is a bias when PyTorch names it `bias`, or a name that starts with `bias_` or ends
with `_bias` (an LSTM's `bias_ih_l0`, attention's `in_proj_bias`), within its submodule (a
transformer layer's `linear1.bias`); every other parameter is a weight. A batch norm's affine
scale γ (`weight`) and shift β (`bias`) count the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def is_bias(name: str) -> bool:
    """A parameter tensor that is a bias, by its PyTorch name."""
    name = name.rsplit(".", 1)[-1]  # within its submodule: out_proj.bias
    return name == "bias" or name.startswith("bias_") or name.endswith("_bias")


def biases(tensors: Mapping[str, int] | Iterable[tuple[str, int]]) -> int:
    """How many of the parameters in `tensors` (name → count) are biases."""
    items = tensors.items() if isinstance(tensors, Mapping) else tensors
    return sum(n for name, n in items if is_bias(name))
