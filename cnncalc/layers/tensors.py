"""Batch-less shapes: their type, element count, axis names, and how messages write them
(in the spec's layout, which the caller passes as a Display)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from cnncalc.errors import Display
from cnncalc.notation import SPATIAL_AXES, axis_name
from cnncalc.notation import shape as fmt

__all__ = ["SPATIAL_AXES", "Shape", "axis_name", "fmt", "numel", "spatial_layout", "tensor"]

Shape = tuple[int, ...]


def numel(shape: Sequence[int]) -> int:
    """How many elements a tensor of this shape holds."""
    return math.prod(shape)


def as_is(shape: Shape) -> Shape:
    """Shapes written channels first, as PyTorch and cnncalc inside hold them."""
    return shape


def tensor(shape: Shape, show: Display) -> str:
    """A whole tensor's shape (channels first inside) as its spec writes it, which `show`
    does (its layout's display): 28×28×1 for a channels-last spec."""
    return fmt(show(shape))


def in_pytorch_order(shape: Shape, show: Display) -> str:
    """For a message that counts dimensions as PyTorch does: '4×8×8 in PyTorch's
    channels-first order' where the spec writes the shape otherwise, else ''."""
    same = tensor(shape, show) == fmt(shape)
    return "" if same else f"{fmt(shape)} in PyTorch's channels-first order"


_LAYOUTS = {1: "[C, L]", 2: "[C, H, W]", 3: "[C, D, H, W]"}


def spatial_layout(dims: int) -> str:
    """How a message writes the input of a layer with `dims` spatial dimensions: [C, H, W]."""
    return _LAYOUTS[dims]
