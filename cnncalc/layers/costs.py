"""What a layer costs to run: MACs and FLOPs per sample, and the rules they follow."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from cnncalc.layers.tensors import Shape, numel


class Cost(NamedTuple):
    """Work for one sample: multiply-accumulates of weights, and floating-point operations."""

    macs: int = 0
    flops: int = 0


class Grads(NamedTuple):
    """Which of a layer's inputs need a gradient, and whether its weights learn."""

    inputs: tuple[bool, ...]
    weights: bool = False

    @property
    def any(self) -> bool:
        """Whether the layer takes part in backward at all."""
        return self.weights or any(self.inputs)


# Convolutions and linear layers: a multiply and an add per MAC, and a bias add per output.
WEIGHTED_FLOPS = "2·MACs, + 1 per output element with bias"


def weighted_cost(macs: int, out: Shape, bias: bool) -> Cost:
    """The cost of a layer of weights, by WEIGHTED_FLOPS."""
    return Cost(macs, 2 * macs + (numel(out) if bias else 0))


def adaptive_reads(sizes: Sequence[int], outs: Sequence[int]) -> int:
    """Input elements summed over all of one channel's adaptive windows (PyTorch's windows:
    unit i of n → o covers ⌊i·n/o⌋ … ⌈(i+1)·n/o⌉ − 1): per dimension n + o − gcd(n, o),
    since ⌈(i+1)·n/o⌉ exceeds ⌊(i+1)·n/o⌋ by one except for the gcd(n, o) units where o
    divides (i+1)·n, and the floors telescope to n."""
    total = 1
    for n, o in zip(sizes, outs, strict=True):
        total *= n + o - math.gcd(n, o)
    return total


# Their backward: the input's gradient is the transposed product (as many MACs), the weights'
# gradient another, the bias's a sum over the output.
WEIGHTED_BACKWARD = (
    "2·MACs for the input's gradient (none where the input needs none), 2·MACs for the"
    " weights' (none where frozen), + 1 per output element for the bias's"
)


def weighted_backward(macs: int, out: Shape, bias: bool, grads: Grads) -> Cost:
    """The backward of a layer of weights, by WEIGHTED_BACKWARD."""
    work = macs * (int(grads.inputs[0]) + int(grads.weights))
    return Cost(work, 2 * work + (numel(out) if bias and grads.weights else 0))


def twice_forward(forward: Cost, grads: Grads) -> Cost:
    """The backward of attention and recurrent layers: twice the forward's MACs and FLOPs
    where any gradient is computed (the input's, or the weights'), else none."""
    return Cost(2 * forward.macs, 2 * forward.flops) if grads.any else Cost()
