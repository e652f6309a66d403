"""Memory for training and inference: parameters, gradients, optimizer state, activations."""

from __future__ import annotations

from typing import NamedTuple

from cnncalc.enums import STATE_TENSORS as STATE_TENSORS
from cnncalc.enums import Dtype as Dtype
from cnncalc.enums import Optimizer as Optimizer
from cnncalc.graph import Graph
from cnncalc.layers import TYPES
from cnncalc.layers.tensors import numel


class Memory(NamedTuple):
    batch: int
    dtype: Dtype
    optimizer: Optimizer
    params_bytes: int
    buffers_bytes: int
    grads_bytes: int  # one gradient per trainable parameter
    optimizer_state_bytes: int
    activations_bytes: int  # every new tensor of the forward pass, kept for backward
    peak_activations_bytes: int  # the most activation memory alive at once at inference

    @property
    def total_bytes(self) -> int:
        """Training: everything above at once."""
        return (
            self.params_bytes
            + self.buffers_bytes
            + self.grads_bytes
            + self.optimizer_state_bytes
            + self.activations_bytes
        )

    @property
    def inference_bytes(self) -> int:
        """Inference: the weights and the largest set of activations alive at one time."""
        return self.params_bytes + self.buffers_bytes + self.peak_activations_bytes


def memory(
    graph: Graph,
    *,
    batch: int = 1,
    dtype: Dtype = Dtype.FLOAT32,
    optimizer: Optimizer = Optimizer.ADAM,
    state_dtype: Dtype | None = None,
) -> Memory:
    """Bytes for one training step and for inference at this batch size and dtype."""
    owners = [x for x in graph.layers if x.shares is None]  # shared weights are stored once
    params = sum(x.result.param_count for x in owners)
    trainable = sum(x.result.param_count for x in owners if x.trainable)
    buffers = sum(x.result.buffer_count for x in owners)
    size = dtype.bytes
    kept, peak = _activations(graph)
    return Memory(
        batch=batch,
        dtype=dtype,
        optimizer=optimizer,
        params_bytes=params * size,
        buffers_bytes=buffers * size,
        grads_bytes=trainable * size,
        optimizer_state_bytes=trainable * optimizer.states * (state_dtype or dtype).bytes,
        activations_bytes=kept * batch * size,
        peak_activations_bytes=peak * batch * size,
    )


def _activations(graph: Graph) -> tuple[int, int]:
    """Elements per sample: all new tensors of the forward pass, and the most alive at once.

    The inputs count; a layer whose outputs are views of its input (flatten, reshape, chunk)
    or that works in place (`inplace: true`) adds no tensor but keeps its input's alive. A
    parameter is a weight, not an activation, and tensors made of parameters alone have no
    batch: neither counts here.
    """
    storage = {name: name for name in graph.inputs}  # tensor name → the storage it lives in
    sizes = {name: numel(shape) for name, shape in graph.inputs.items()}
    created = dict.fromkeys(graph.inputs, -1)
    last_use = dict.fromkeys(graph.inputs, -1)
    for i, layer in enumerate(graph.layers):
        for src in layer.inputs:
            if src in storage:
                last_use[storage[src]] = i
        if layer.name in graph.free:
            continue
        if len(layer.inputs) == 1 and TYPES[layer.type].in_place(layer.args):
            storage.update(dict.fromkeys(layer.outputs, storage[layer.inputs[0]]))
            continue
        for name, shape in zip(layer.outputs, layer.result.shapes, strict=True):
            storage[name] = name
            sizes[name] = numel(shape)
            created[name] = i
            last_use[name] = i
    for out in graph.outputs:  # the results outlive the pass
        if out in storage:
            last_use[storage[out]] = len(graph.layers)
    kept = sum(sizes.values())
    events: dict[int, int] = {}
    for name, n in sizes.items():
        events[created[name]] = events.get(created[name], 0) + n
        events[last_use[name] + 1] = events.get(last_use[name] + 1, 0) - n
    peak = live = 0
    for step in sorted(events):
        live += events[step]
        peak = max(peak, live)
    return kept, peak
