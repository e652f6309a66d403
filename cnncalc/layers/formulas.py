"""Worked formulas for `cnncalc explain`: the record a layer fills and the helpers that write it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from cnncalc.errors import Display
from cnncalc.layers.tensors import SPATIAL_AXES, Shape


class Explanation(NamedTuple):
    """Worked formulas with the numbers substituted, as a student writes them in an exam."""

    shape: tuple[str, ...] = ()  # lines such as "H_out = ⌊(128 + 2·3 − 1·(7−1) − 1) / 2⌋ + 1 = 64"
    params: str | None = None  # the product before "= 602,240", e.g. "(96·7·7 + 1)·128"
    buffers: str | None = None
    macs: str | None = None  # e.g. "128·64·64 · 96·7·7"
    params_note: str = ""  # what the parameters are, where the formula does not say: "γ and β"
    buffers_note: str = ""


def product(values: Sequence[int | str]) -> str:
    """128·64·64"""
    return "·".join(str(v) for v in values)


def tensor_product(shape: Shape, show: Display) -> str:
    """A whole tensor's element count as a product, in its spec's layout (`show`): 128·64·64,
    or 64·64·128 where the spec writes channels last."""
    return product(show(shape))


def filter_taps(channels: str, kernel: Sequence[int], show: Display) -> str:
    """One filter's weights: in·k·k as PyTorch stores them, or k·k·in (a 5×5×3 filter) where
    the spec writes channels last (`show`), as Keras and most course material count."""
    last = show((1, 2)) != (1, 2)
    return f"{product(kernel)}·{channels}" if last else f"{channels}·{product(kernel)}"


def per_dim_lines(formulas: Sequence[str]) -> tuple[str, ...]:
    """`H_out = ... = 64     (W the same)` when every dimension's formula reads alike."""
    dims = len(formulas)
    names = SPATIAL_AXES.get(dims, tuple(f"d{i + 1}" for i in range(dims)))
    if dims > 1 and len(set(formulas)) == 1:
        rest = " and ".join(names[1:])
        return (f"{names[0]}_out = {formulas[0]}     ({rest} the same)",)
    return tuple(f"{n}_out = {f}" for n, f in zip(names, formulas, strict=True))
