"""Layers with several inputs: element-wise add, multiply, subtract and divide (broadcasting
as PyTorch does), and concatenation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cnncalc.errors import Display
from cnncalc.layers.args import Arg, integer
from cnncalc.layers.base import LayerType, Result, Saved, saved_inputs
from cnncalc.layers.checks import fail, resolve_dim
from cnncalc.layers.costs import Cost, Grads
from cnncalc.layers.formulas import Explanation
from cnncalc.layers.registry import register
from cnncalc.layers.spans import GLOBAL, MERGE, Rule
from cnncalc.layers.tensors import Shape, axis_name, fmt, in_pytorch_order, numel, tensor


def _listed(shapes: Sequence[Shape], show: Display) -> str:
    """Input shapes as the spec writes them (`show`): '16×8×8, 16×4×4'."""
    return ", ".join(tensor(s, show) for s in shapes)


def broadcast(shapes: Sequence[Shape], op: str) -> Shape:
    """PyTorch's broadcasting: shapes lined up from the right, where each dimension's sizes
    are equal or 1 (a missing dimension counts as 1).

    Shapes are per sample; the graph refuses a batched input shorter than the output, whose
    batch PyTorch would line up with another axis (only a parameter may be shorter).
    """
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    out, differ = [], []
    for i in range(rank):
        sizes = {s[i] for s in padded} - {1}
        if len(sizes) > 1:
            differ.append(axis_name(i, rank))
        out.append(sizes.pop() if len(sizes) == 1 else 1)
    if differ:
        which = differ[0] if len(differ) == 1 else f"{', '.join(differ[:-1])} and {differ[-1]}"
        verb = "differ" if len(differ) > 1 or differ[0] in ("channels", "features") else "differs"
        raise fail(
            lambda show: (
                f"{op} needs inputs of the same shape (a size-1 dimension may"
                f" broadcast), got {_listed(shapes, show)}: {which} {verb}"
            )
        )
    return tuple(out)


def _mismatch(dim: int, inputs: Sequence[Shape], show: Display) -> str:
    """Why inputs cannot be concatenated along `dim`, and how PyTorch writes them where the
    spec (`show`) writes them otherwise: dim counts in PyTorch's order."""
    pytorch = ", ".join(fmt(s) for s in inputs)
    order = f" ({pytorch} in PyTorch order)" if in_pytorch_order(inputs[0], show) else ""
    return (
        f"concat along dim {dim} needs every other dimension to match,"
        f" got {_listed(inputs, show)}{order}"
    )


class Elementwise(LayerType):
    family = "merge"
    min_inputs = 2
    max_inputs = None
    broadcasts = True

    flops_rule = "inputs − 1 per output element"

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.doc = doc

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        return Result(broadcast(inputs, self.name))

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        return MERGE

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        return Cost(0, (len(inputs) - 1) * numel(out))

    @property
    def saves_rule(self) -> str:  # type: ignore[override]
        if self.name in ("add", "subtract"):
            return "nothing (the gradient passes through)"
        return "its inputs (each input's gradient needs the others)"

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        return () if self.name in ("add", "subtract") else saved_inputs(inputs)


class Concat(LayerType):
    name = "concat"
    family = "merge"
    doc = "joins its inputs along dim (default 1, the channels)"
    args = (Arg("dim", integer(), 1, "dimension joined (PyTorch numbering)", "int"),)
    min_inputs = 2
    max_inputs = None

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        first = inputs[0]
        if any(len(s) != len(first) for s in inputs):
            raise fail(
                lambda show: (
                    "concat needs inputs with the same number of dimensions, got "
                    + _listed(inputs, show)
                )
            )
        i = resolve_dim(a["dim"], len(first), "dim")
        for s in inputs[1:]:
            if s[:i] + s[i + 1 :] != first[:i] + first[i + 1 :]:
                raise fail(lambda show: _mismatch(a["dim"], inputs, show))
        return Result((*first[:i], sum(s[i] for s in inputs), *first[i + 1 :]))

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        return MERGE if resolve_dim(a["dim"], len(inputs[0]), "dim") == 0 else GLOBAL

    saves_rule = "nothing (the gradient is sliced back)"

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        return ()

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        i = resolve_dim(a["dim"], len(inputs[0]), "dim")
        what = "channels" if i == 0 else f"dimension {a['dim']}"
        parts = " + ".join(str(s[i]) for s in inputs)
        return Explanation((f"{what}: {parts} = {out[i]}",))


register(
    Elementwise("add", "element-wise sum of its inputs"),
    Elementwise("multiply", "element-wise product of its inputs"),
    Elementwise("subtract", "the first input minus the others, element-wise"),
    Elementwise("divide", "the first input divided by the others, element-wise"),
    Concat(),
)
