"""Fully connected layers and embeddings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cnncalc.errors import Display
from cnncalc.layers.args import (
    BIAS,
    REQUIRED,
    Arg,
    anything,
    boolean,
    inferred_size,
    integer,
    optional,
)
from cnncalc.layers.base import LayerType, Result, Saved
from cnncalc.layers.checks import check_given, fail
from cnncalc.layers.costs import (
    WEIGHTED_BACKWARD,
    WEIGHTED_FLOPS,
    Cost,
    Grads,
    weighted_backward,
    weighted_cost,
)
from cnncalc.layers.formulas import Explanation, tensor_product
from cnncalc.layers.registry import register
from cnncalc.layers.spans import GLOBAL, Rule, along
from cnncalc.layers.tensors import Shape, in_pytorch_order, numel


def _last_dimension(shape: Shape, show: Display) -> str:
    """' (its last dimension)', and how PyTorch counts the shape where `show` writes it
    otherwise."""
    order = in_pytorch_order(shape, show)
    return f" (its last dimension{f'; {order}' if order else ''})"


class Linear(LayerType):
    name = "linear"
    family = "linear"
    doc = "fully connected layer on the last dimension"
    flops_rule = WEIGHTED_FLOPS
    args = (
        Arg("out_features", integer(lo=1), REQUIRED, "output size", "int"),
        BIAS,
        inferred_size("in_features"),
    )

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        if not shape:
            raise fail("expects an input with at least one dimension")
        n_in, n_out = shape[-1], a["out_features"]
        check_given(a, "in_features", n_in, "feature", lambda show: _last_dimension(shape, show))
        return Result(
            (*shape[:-1], n_out), {"weight": n_in * n_out, "bias": n_out if a["bias"] else 0}
        )

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        """On a vector, global; on [C, H, W], it mixes W only: each unit sees its own row."""
        return GLOBAL if len(inputs[0]) < 2 else along(len(inputs[0]) - 1, inputs[0])

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        n_in, n_out = inputs[0][-1], out[-1]
        params = f"({n_in} + 1)·{n_out}" if a["bias"] else f"{n_in}·{n_out}"
        return Explanation(
            (f"features: {n_in} → {n_out} (on the last dimension)",),
            params,
            macs=f"{tensor_product(out, show)} · {n_in}",
        )

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        macs = numel(out) * inputs[0][-1]
        return weighted_cost(macs, out, a["bias"])

    backward_rule = WEIGHTED_BACKWARD
    saves_rule = "its input, for the weights' gradient: nothing where they are frozen"

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        """PyTorch's matrix product keeps each operand only for the other's gradient."""
        return (Saved("input"),) if grads.weights else ()

    def backward(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, forward: Cost, grads: Grads
    ) -> Cost:
        return weighted_backward(forward.macs, out, a["bias"], grads)


class Embedding(LayerType):
    name = "embedding"
    family = "linear"
    doc = "lookup table: an input of indices gains a last dimension of embedding_dim"
    flops_rule = "0: a lookup"
    args = (
        Arg("num_embeddings", integer(lo=1), REQUIRED, "size of the vocabulary", "int"),
        Arg("embedding_dim", integer(lo=1), REQUIRED, "size of each vector", "int"),
        Arg("padding_idx", optional(integer()), None, "no effect on counts", "int"),
        Arg("max_norm", anything(), None, "no effect on counts", "float"),
        Arg("norm_type", anything(), 2.0, "no effect on counts", "float"),
        Arg("scale_grad_by_freq", boolean(), False, "no effect on counts", "bool"),
        Arg("sparse", boolean(), False, "no effect on counts", "bool"),
    )

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        n, d = a["num_embeddings"], a["embedding_dim"]
        idx = a["padding_idx"]
        if idx is not None and not -n <= idx < n:
            raise fail(f"padding_idx {idx} is outside the vocabulary of {n}", "padding_idx")
        return Result((*shape, d), {"weight": n * d})

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        return Explanation(
            (f"each index → a vector of {a['embedding_dim']}",),
            f"{a['num_embeddings']}·{a['embedding_dim']}",
        )

    saves_rule = "its indices (int64, 8 bytes each)"
    backward_rule = "1 per output element: each vector added into its row's gradient"

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        return (Saved("indices", elements=numel(inputs[0])),)

    def backward(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, forward: Cost, grads: Grads
    ) -> Cost:
        return Cost(0, numel(out) if grads.weights else 0)


register(Linear(), Embedding())
