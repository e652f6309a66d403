"""`cnncalc verify SPEC --against MODEL`: a hand-written spec compared with a real model.

The model arrives as the graph of its imported spec (cnncalc/importers, whose translation is
checked against the model itself). The layers that hold weights or buffers are paired by name
where the names agree, else in order of appearance; each pair must make the same output shape
and hold as many parameters and buffers, and the networks the same totals and outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from cnncalc.errors import Pos
from cnncalc.graph import Graph, Layer
from cnncalc.layers.tensors import Shape

NAME_SHARE = 0.5  # past this share of the spec's weighted layers found by name, pair by name


class Difference(NamedTuple):
    """One way the spec differs from the model, located in the spec where it can be."""

    what: str  # "type", "output shape", "params", "buffers", or "missing" / "extra" (a layer)
    layer: str | None  # the spec's layer (None: the whole network, or a layer only the model has)
    model_layer: str | None  # the model's layer paired with it
    spec: Any  # the spec's figure (a layer's parameters, for "extra")
    model: Any  # the model's (a layer's parameters, for "missing")
    pos: Pos = Pos("", 0, 0)


class Verdict(NamedTuple):
    """The comparison: every difference, how the layers were paired and how many."""

    spec_label: str
    model_label: str
    differences: tuple[Difference, ...]
    paired: int  # weighted layers paired
    by: str  # "name", or "what they compute" where most names differ

    @property
    def agrees(self) -> bool:
        return not self.differences


def _weighted(g: Graph) -> list[Layer]:
    """The layers that own weights or buffers (a layer sharing another's owns none)."""
    return [x for x in g.layers if x.shares is None and (x.result.params or x.result.buffers)]


def _pairs(
    spec: list[Layer], model: list[Layer]
) -> tuple[list[tuple[Layer | None, Layer | None]], str]:
    """The spec's weighted layers with the model's. By name where most names agree; the rest
    by what they compute (type, output shape, parameters, buffers: the k-th of its kind in
    the spec with the k-th in the model, whatever lies between), then by type in order; what
    is left on either side stays alone. Linear in the number of layers."""
    names = {x.name: x for x in model}
    found = sum(1 for x in spec if x.name in names)
    by = "name" if spec and found / len(spec) > NAME_SHARE else "what they compute"
    pairs: dict[int, tuple[Layer | None, Layer | None]] = {}
    left_a, left_b = list(range(len(spec))), list(range(len(model)))
    if by == "name":
        index = {x.name: j for j, x in enumerate(model)}
        for i, x in enumerate(spec):
            if x.name in index:
                pairs[i] = (x, model[index[x.name]])
        taken = {index[spec[i].name] for i in pairs}
        left_a = [i for i in left_a if i not in pairs]
        left_b = [j for j in left_b if j not in taken]
    for key in (_facts, _kind):
        left_a, left_b = _by_key(spec, model, left_a, left_b, key, pairs)
    out = [pairs.get(i, (x, None)) for i, x in enumerate(spec)]
    return out + [(None, model[j]) for j in left_b], by


def _facts(x: Layer) -> Hashable:
    return (x.type, x.shape, x.result.param_count, x.result.buffer_count)


def _kind(x: Layer) -> Hashable:
    return x.type


def _by_key(
    spec: list[Layer],
    model: list[Layer],
    left_a: list[int],
    left_b: list[int],
    key: Callable[[Layer], Hashable],
    pairs: dict[int, tuple[Layer | None, Layer | None]],
) -> tuple[list[int], list[int]]:
    """Pair the k-th unpaired spec layer of each key with the model's k-th; the rest stay."""
    queues: dict[Hashable, list[int]] = {}
    for j in left_b:
        queues.setdefault(key(model[j]), []).append(j)
    heads = dict.fromkeys(queues, 0)
    used: set[int] = set()
    rest_a = []
    for i in left_a:
        k = key(spec[i])
        queue = queues.get(k)
        if queue is not None and heads[k] < len(queue):
            j = queue[heads[k]]
            heads[k] += 1
            used.add(j)
            pairs[i] = (spec[i], model[j])
        else:
            rest_a.append(i)
    return rest_a, [j for j in left_b if j not in used]


def _compare(a: Layer, b: Layer, layout: Any) -> list[Difference]:
    """How one pair differs."""
    out = []
    for what, mine, theirs in (
        ("type", a.type, b.type),
        ("output shape", layout(a.shape), layout(b.shape)),
        ("params", a.result.param_count, b.result.param_count),
        ("buffers", a.result.buffer_count, b.result.buffer_count),
    ):
        if mine != theirs:
            out.append(Difference(what, a.name, b.name, mine, theirs, a.pos))
    return out


def verify(spec: Graph, model: Graph, spec_label: str, model_label: str) -> Verdict:
    """Every difference between a spec's graph and a model's imported graph."""
    pairs, by = _pairs(_weighted(spec), _weighted(model))
    differences: list[Difference] = []
    for a, b in pairs:
        if a is not None and b is not None:
            differences += _compare(a, b, spec.layout.display)
        elif a is not None:
            differences.append(Difference("extra", a.name, None, a.result.param_count, None, a.pos))
        elif b is not None:
            differences.append(Difference("missing", None, b.name, None, b.result.param_count))
    differences += _totals(spec, model)
    paired = sum(1 for a, b in pairs if a is not None and b is not None)
    return Verdict(spec_label, model_label, tuple(differences), paired, by)


def _totals(spec: Graph, model: Graph) -> list[Difference]:
    """The network's figures: parameters, buffers and output shapes."""

    def total(g: Graph, figure: str) -> int:
        return sum(getattr(x.result, figure) for x in g.layers if x.shares is None)

    def outputs(g: Graph) -> list[Shape]:  # in the spec's layout, both
        return [spec.layout.display(g.tensors[name]) for name in g.outputs]

    out = []
    for what, mine, theirs in (
        ("params", total(spec, "param_count"), total(model, "param_count")),
        ("buffers", total(spec, "buffer_count"), total(model, "buffer_count")),
        ("output shape", outputs(spec), outputs(model)),
    ):
        if mine != theirs:
            out.append(Difference(what, None, None, mine, theirs))
    return out
