"""Free learnable tensors: weights with no input (class token, position embedding, layer scale)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cnncalc.errors import Display
from cnncalc.layers.args import REQUIRED, Arg, boolean, int_list
from cnncalc.layers.base import LayerType, Result
from cnncalc.layers.formulas import Explanation, product
from cnncalc.layers.registry import register
from cnncalc.layers.spans import GLOBAL, Rule
from cnncalc.layers.tensors import Shape, numel


class Parameter(LayerType):
    name = "parameter"
    family = "parameter"
    doc = "a learnable tensor with no input (nn.Parameter), broadcast over the batch"
    args = (
        Arg("shape", int_list(), REQUIRED, "its size in PyTorch's order, without a batch", "list"),
        Arg("trainable", boolean(), True, "learned (requires_grad)", "bool"),
    )
    min_inputs = 0
    max_inputs = 0
    batched = False

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        shape = tuple(a["shape"])
        return Result(shape, {"parameter": numel(shape)})

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        return GLOBAL  # it sees no input: receptive.py leaves it out of the fields it merges

    def learns(self, a: Mapping[str, Any]) -> bool:
        return bool(a["trainable"])

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        return Explanation(params=product(out), params_note="one tensor of its shape")


register(Parameter())
