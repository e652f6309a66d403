"""What autograd does with a layer graph in one training step: which tensors need a gradient,
what each layer's backward keeps (its type's rule, shared storage counted once) and costs.

A layer takes part in backward when one of its inputs needs a gradient or its weights learn;
one that does not (a pooling straight on the network's input, a frozen stem) keeps nothing
and costs nothing, as in PyTorch. Tensors live in storages: a view or an in-place layer's
output is its input's storage, so a tensor that several layers keep is counted once, at the
first layer that keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from cnncalc.graph import Graph, Layer
from cnncalc.layers import TYPES, Cost, Grads, Saved
from cnncalc.layers.tensors import numel

# Bytes per element of the new tensors that are not in the activation dtype.
FIXED_ITEMSIZE = {"mask": 1, "indices": 8}  # bool masks; int64 indices
STATS = "stats"  # float32 statistics (float64 where the activations are)


class Kept(NamedTuple):
    """One storage a layer's backward keeps: elements per sample, elements whatever the batch,
    and its kind ("activation" for the layers' own tensors, else the new tensor's kind)."""

    storage: str
    elements: int
    fixed: int
    kind: str


class Step(NamedTuple):
    """A training step's view of the graph: per layer, the gradients it computes, the storages
    its backward is first to keep, its new outputs' elements per sample, its backward's cost."""

    grads: Mapping[str, Grads]
    kept: Mapping[str, tuple[Kept, ...]]
    outputs: Mapping[str, int]
    backward: Mapping[str, Cost]


def step(graph: Graph) -> Step:
    """The whole training step's facts, per layer, in the graph's order."""
    needs = dict.fromkeys(graph.inputs, False)  # tensor → whether it needs a gradient
    storage = {name: name for name in graph.inputs}  # tensor → the storage it lives in
    sizes = {name: numel(shape) for name, shape in graph.inputs.items()}
    seen: set[str] = set()
    grads: dict[str, Grads] = {}
    kept: dict[str, tuple[Kept, ...]] = {}
    outputs: dict[str, int] = {}
    backward: dict[str, Cost] = {}
    for layer in graph.layers:
        t = TYPES[layer.type]
        g = Grads(
            tuple(needs.get(src, False) for src in layer.inputs),
            layer.trainable and layer.result.param_count > 0,
        )
        grads[layer.name] = g
        for name in layer.outputs:
            needs[name] = g.any
        outputs[layer.name] = _place(graph, layer, storage, sizes)
        inputs = [graph.tensors[src] for src in layer.inputs]
        backward[layer.name] = t.backward(layer.args, inputs, layer.shape, layer.cost, g)
        found = []
        if g.any:
            for k, s in enumerate(t.saves(layer.args, inputs, layer.result, g)):
                item = _resolve(graph, layer, k, s, storage, sizes)
                if item is not None and item.storage not in seen:
                    seen.add(item.storage)
                    found.append(item)
        kept[layer.name] = tuple(found)
    return Step(grads, kept, outputs, backward)


def _place(graph: Graph, layer: Layer, storage: dict[str, str], sizes: dict[str, int]) -> int:
    """Give the layer's outputs their storage; the elements per sample of the new ones."""
    if layer.name in graph.free:
        return 0  # made of weights alone: no batch, not an activation
    if len(layer.inputs) == 1 and TYPES[layer.type].in_place(layer.args):
        storage.update(dict.fromkeys(layer.outputs, storage.get(layer.inputs[0], "")))
        return 0
    made = 0
    for name, shape in zip(layer.outputs, layer.result.shapes, strict=True):
        storage[name] = name
        sizes[name] = numel(shape)
        made += sizes[name]
    return made


def _resolve(
    graph: Graph,
    layer: Layer,
    k: int,
    s: Saved,
    storage: dict[str, str],
    sizes: dict[str, int],
) -> Kept | None:
    """The storage a saved tensor is: an input's or output's, or a new one of its own."""
    if s.kind in ("input", "output"):
        tensor = (layer.inputs if s.kind == "input" else layer.outputs)[s.which]
        where = storage.get(tensor)
        if where is None or tensor in graph.free:  # weights, not activations
            return None
        return Kept(where, sizes[where], 0, "activation")
    return Kept(f"{layer.name}#{k}", s.elements, s.fixed, s.kind)
