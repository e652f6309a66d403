"""Fully connected layers and embeddings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cnncalc.layers.base import (
    BIAS,
    REQUIRED,
    Arg,
    LayerType,
    Result,
    Shape,
    anything,
    boolean,
    check_given,
    fail,
    integer,
    optional,
)
from cnncalc.layers.registry import register


class Linear(LayerType):
    name = "linear"
    family = "linear"
    doc = "fully connected layer on the last dimension"
    args = (
        Arg("out_features", integer(lo=1), REQUIRED, "output size", "int"),
        BIAS,
        Arg("in_features", optional(integer(lo=1)), None, "inferred; checked when given", "int"),
    )

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        if not shape:
            raise fail("expects an input with at least one dimension")
        n_in, n_out = shape[-1], a["out_features"]
        check_given(a, "in_features", n_in, "features (its last dimension)")
        return Result((*shape[:-1], n_out),
                      {"weight": n_in * n_out, "bias": n_out if a["bias"] else 0})


class Embedding(LayerType):
    name = "embedding"
    family = "linear"
    doc = "lookup table: an input of indices gains a last dimension of embedding_dim"
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


register(Linear(), Embedding())
