"""Batch-less shapes: their type, element count, axis names, and how messages write them."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextvars import ContextVar

from cnncalc.notation import SPATIAL_AXES, axis_name
from cnncalc.notation import shape as fmt

__all__ = ["SPATIAL_AXES", "Shape", "axis_name", "fmt", "numel", "spatial_layout", "tensor"]

Shape = tuple[int, ...]


def numel(shape: Sequence[int]) -> int:
    """How many elements a tensor of this shape holds."""
    return math.prod(shape)


# How a message writes a whole tensor's shape: in the spec's layout, which the graph sets
# while it infers shapes (a channels_last spec's user wrote 28×28×1, not 1×28×28).
SHOWN_AS: ContextVar[Callable[[Shape], Shape] | None] = ContextVar("shown_as", default=None)


def tensor(shape: Shape) -> str:
    """A whole tensor's shape (channels first inside) as its spec writes it: 28×28×1."""
    show = SHOWN_AS.get()
    return fmt(shape if show is None else show(shape))


def in_pytorch_order(shape: Shape) -> str:
    """For a message that counts dimensions as PyTorch does: '4×8×8 in PyTorch's
    channels-first order' where the spec writes the shape otherwise, else ''."""
    return "" if tensor(shape) == fmt(shape) else f"{fmt(shape)} in PyTorch's channels-first order"


_LAYOUTS = {1: "[C, L]", 2: "[C, H, W]", 3: "[C, D, H, W]"}


def spatial_layout(dims: int) -> str:
    """How a message writes the input of a layer with `dims` spatial dimensions: [C, H, W]."""
    return _LAYOUTS[dims]
