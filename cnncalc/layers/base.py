"""What every layer type is: a descriptor with arguments, a shape rule and parameter counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from cnncalc.errors import Display
from cnncalc.layers.args import Arg
from cnncalc.layers.costs import Cost, Grads
from cnncalc.layers.formulas import Explanation
from cnncalc.layers.spans import GLOBAL, Rule
from cnncalc.layers.tensors import Shape

EMPTY: Mapping[str, int] = MappingProxyType({})  # a shared default no one can change
MAX_OUTPUTS = 1_024  # outputs of one layer (chunk, split, unbind): past it, a located error


class Result(NamedTuple):
    """What a layer produces: its output shape (the first, for a layer with several outputs),
    the sizes of its tensors, by name, and the shapes of any further outputs."""

    shape: Shape
    params: Mapping[str, int] = EMPTY
    buffers: Mapping[str, int] = EMPTY
    more: tuple[Shape, ...] = ()  # outputs after the first (split, lstm's h_n and c_n, ...)

    @property
    def shapes(self) -> tuple[Shape, ...]:
        """Every output's shape, in order."""
        return (self.shape, *self.more)

    @property
    def param_count(self) -> int:
        """All parameters, summed over the tensors."""
        return sum(self.params.values())

    @property
    def buffer_count(self) -> int:
        """All buffer elements (running statistics, ...), summed over the tensors."""
        return sum(self.buffers.values())


class Saved(NamedTuple):
    """One tensor that a layer's backward keeps, as autograd saves it: one of the layer's
    inputs or outputs (its storage, shared with whatever else keeps it), or a new tensor."""

    kind: str  # "input", "output", or new: "copy", "mask", "noise", "indices", "stats", "other"
    which: int = 0  # which input or output, for "input" and "output"
    elements: int = 0  # a new tensor's elements per sample
    fixed: int = 0  # a new tensor's elements whatever the batch (batch norm's statistics)


def saved_inputs(inputs: Sequence[Shape]) -> tuple[Saved, ...]:
    """Every input kept: what most layers' backward reads."""
    return tuple(Saved("input", i) for i in range(len(inputs)))


class LayerType:
    """Base class of layer descriptors. Subclasses set the class attributes and `infer`."""

    name: str = ""
    family: str = ""
    doc: str = ""
    args: tuple[Arg, ...] = ()
    dims: int = 0  # spatial dimensions, for per-dimension arguments; 0 = not spatial
    min_inputs: int = 1  # 0 for a layer with no input (parameter)
    max_inputs: int | None = 1
    outputs: str = ""  # what a layer of several outputs makes, for docs: "output, h_n, c_n"
    view: bool = False  # the output is a view of the input: no new memory (flatten, ...)
    batched: bool = True  # False: its output has no batch dimension (parameter)
    broadcasts: bool = False  # inputs line up from the right, as PyTorch broadcasts them
    flops_rule: str = "0"  # FLOPs per sample, as documented: "1 per output element"
    saves_rule: str = "its input"  # what backward keeps, as documented (docs/counting.md)
    backward_rule: str = "as many FLOPs as forward"  # backward's cost, as documented

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        """The output shape and tensor sizes for inputs of these shapes."""
        raise NotImplementedError

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        """How output units see the input's spatial dimensions; unless a type says, 'global'."""
        return GLOBAL

    def output_rules(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result
    ) -> tuple[Rule, ...]:
        """One receptive-field rule per output; unless a type says, `receptive`'s for each."""
        return tuple(self.receptive(a, inputs, out) for out in result.shapes)

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        """MACs and FLOPs for one sample; zero unless a type says (reshapes, dropout, ...)."""
        return Cost()

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        """What its backward keeps, by autograd's rule for the type, given which gradients it
        computes (`grads`); unless a type says, its inputs (a view keeps nothing)."""
        return () if self.view else saved_inputs(inputs)

    def backward(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, forward: Cost, grads: Grads
    ) -> Cost:
        """MACs and FLOPs of its backward for one sample: unless a type says, no MACs and as
        many FLOPs as forward (an element-wise gradient per element-wise operation)."""
        return Cost(0, forward.flops) if any(grads.inputs) else Cost()

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        """The formulas behind shape, parameters and MACs; unless a type says, none."""
        return Explanation()

    def flops_applied(self, a: Mapping[str, Any]) -> str:
        """The part of flops_rule that these arguments select, for explain."""
        return self.flops_rule

    def learns(self, a: Mapping[str, Any]) -> bool:
        """Whether its weights learn, as its arguments say (parameter's `trainable`)."""
        return True

    def in_place(self, a: Mapping[str, Any]) -> bool:
        """Whether the output overwrites the input (no new memory): `inplace: true`, views."""
        return self.view or bool(a.get("inplace"))

    def arg(self, name: str) -> Arg | None:
        """The argument of this name, or None where the type has none."""
        for a in self.args:
            if a.name == name:
                return a
        return None
