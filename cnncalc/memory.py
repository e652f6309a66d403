"""Memory for training and inference: parameters, gradients, optimizer state, activations.

Activations are what autograd keeps for backward, by each layer type's rule (cnncalc/autograd.py);
the inference peak is the most activation memory alive at once in a forward pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from cnncalc.autograd import FIXED_ITEMSIZE, STATS, Step, step
from cnncalc.enums import STATE_TENSORS as STATE_TENSORS
from cnncalc.enums import Dtype as Dtype
from cnncalc.enums import Optimizer as Optimizer
from cnncalc.graph import Graph
from cnncalc.layers import TYPES
from cnncalc.layers.tensors import numel


class LayerMemory(NamedTuple):
    """One layer's share of the activations, in bytes at the summary's batch and dtype."""

    saved_bytes: int  # what its backward keeps that no earlier layer keeps already
    output_bytes: int  # the new tensors it makes: 0 for a view, in place, or without batch


NO_LAYERS: Mapping[str, LayerMemory] = MappingProxyType({})


class Memory(NamedTuple):
    batch: int
    dtype: Dtype  # the activations' (and, but under mixed precision, the weights') dtype
    optimizer: Optimizer
    params_bytes: int  # the weights forward runs with (the half copy under mixed precision)
    buffers_bytes: int
    grads_bytes: int  # one gradient per trainable parameter
    optimizer_state_bytes: int
    activations_bytes: int  # what autograd keeps for backward, shared storage counted once
    peak_activations_bytes: int  # the most activation memory alive at once at inference
    master_params_bytes: int = 0  # mixed precision: the float32 copy the optimizer updates
    mixed_precision: Dtype | None = None  # the half dtype, under mixed precision
    layers: Mapping[str, LayerMemory] = NO_LAYERS

    @property
    def total_bytes(self) -> int:
        """Training: everything above at once."""
        return (
            self.params_bytes
            + self.master_params_bytes
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
    mixed_precision: Dtype | None = None,
    training: Step | None = None,
) -> Memory:
    """Bytes for one training step and for inference at this batch size and dtype.

    Under `mixed_precision` (a half dtype, which then stands for `dtype`): the weights forward
    and backward use, their gradients and the activations are in that dtype; the float32
    master weights of the trainable parameters, the optimizer state (unless `state_dtype`
    says) and the buffers are float32.
    """
    owners = [x for x in graph.layers if x.shares is None]  # shared weights are stored once
    params = sum(x.result.param_count for x in owners)
    trainable = sum(x.result.param_count for x in owners if x.trainable)
    buffers = sum(x.result.buffer_count for x in owners)
    full = Dtype.FLOAT32 if mixed_precision else dtype  # master weights, state, buffers
    dtype = mixed_precision or dtype
    size = dtype.bytes
    layers = _layer_memory(training or step(graph), batch, dtype)
    _, peak = _activations(graph)
    return Memory(
        batch=batch,
        dtype=dtype,
        optimizer=optimizer,
        params_bytes=params * size,
        buffers_bytes=buffers * full.bytes,
        grads_bytes=trainable * size,
        optimizer_state_bytes=trainable * optimizer.states * (state_dtype or full).bytes,
        activations_bytes=sum(x.saved_bytes for x in layers.values()),
        peak_activations_bytes=peak * batch * size,
        master_params_bytes=trainable * full.bytes if mixed_precision else 0,
        mixed_precision=mixed_precision,
        layers=layers,
    )


def _layer_memory(training: Step, batch: int, dtype: Dtype) -> Mapping[str, LayerMemory]:
    """Each layer's saved and output bytes: masks 1 byte, indices 8, statistics float32."""
    stats = 8 if dtype is Dtype.FLOAT64 else 4
    found = {}
    for name, kept in training.kept.items():
        saved = 0
        for k in kept:
            size = stats if k.kind == STATS else FIXED_ITEMSIZE.get(k.kind, dtype.bytes)
            saved += (k.elements * batch + k.fixed) * size
        found[name] = LayerMemory(saved, training.outputs[name] * batch * dtype.bytes)
    return MappingProxyType(found)


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
    for at in sorted(events):
        live += events[at]
        peak = max(peak, live)
    return kept, peak
