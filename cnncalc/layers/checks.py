"""The checks layers make of their inputs and arguments, failing with a LayerError that says why."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cnncalc.errors import LayerError, Wording
from cnncalc.layers.tensors import Shape, tensor


def fail(message: str | Wording, arg: str | None = None) -> LayerError:
    """A LayerError to raise; `arg` names the argument whose value is at fault. A message
    that writes whole tensors' shapes is a Wording: `lambda show: f"... {tensor(s, show)}"`."""
    return LayerError(message, arg)


def several(n: int, noun: str) -> str:
    """'1 channel', '3 channels'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def expect_rank(shape: Shape, rank: int, layout: str) -> None:
    """Fail unless the (batch-less) input has exactly `rank` dimensions, as [C, H, W] etc."""
    if len(shape) != rank:
        raise fail(
            lambda show: (
                f"expects a {rank}-d input {layout} (without the batch),"
                f" got {tensor(shape, show)} ({len(shape)}-d)"
            )
        )


def check_given(
    a: Mapping[str, Any], arg: str, actual: int, noun: str, note: str | Wording = ""
) -> None:
    """When an inferred size (in_channels, ...) was written in the spec, it must match.
    `noun` is singular ("channel"); `note` follows it ("in_features is 3 but the input has
    4 features (its last dimension)")."""
    given = a.get(arg)
    if given is not None and given != actual:
        said = f"{arg} is {given} but the input has {several(actual, noun)}"
        if callable(note):
            raise fail(lambda show: f"{said}{note(show)}", arg)
        raise fail(f"{said}{note}", arg)


def resolve_dim(dim: int, rank: int, arg: str) -> int:
    """PyTorch dim numbering (0 = batch, negatives from the end) → index into a batch-less shape."""
    full = rank + 1
    if not -full <= dim < full:
        raise fail(
            f"{arg} {dim} is out of range for a {rank}-d input (with the batch,"
            f" dims run from 0 to {rank}, or -{full} to -1)",
            arg,
        )
    index = dim % full
    if index == 0:
        raise fail(f"{arg} {dim} is the batch dimension; name a dimension from 1 to {rank}", arg)
    return index - 1
