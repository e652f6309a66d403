"""Tracing and running a PyTorch module: torch.fx's graph, each node's shape, each module's.

Imported only once torch is known to be installed (from_torch.read checks).
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Sequence
from typing import Any

import torch
from torch import fx, nn

from cnncalc.importers.torch_ops import TShape, forward_class

Shape = tuple[int, ...]


def is_torch_layer(m: nn.Module) -> bool:
    """A module torch.nn defines (or a subclass keeping its forward), not a container."""
    if isinstance(m, (nn.Sequential, nn.ModuleList, nn.ModuleDict)):
        return False
    return forward_class(m).__module__.startswith("torch.nn")


class TraceFailure(Exception):
    """torch.fx could not trace a module: `path` and `cls` name the innermost one."""

    def __init__(self, message: str, path: str, cls: str) -> None:
        super().__init__(message)
        self.path = path
        self.cls = cls


class Tracer(fx.Tracer):
    """fx's tracer, keeping torch.nn's layers whole and recording, on every node, the chain
    of module calls it was made in (a module called twice: two calls, told apart)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, int]] = []
        self.calls: Counter[str] = Counter()

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return is_torch_layer(m)

    def call_module(self, m: nn.Module, forward: Any, args: Any, kwargs: Any) -> Any:
        path = self.path_of_module(m)
        self.stack.append((path, self.calls[path]))
        self.calls[path] += 1
        try:
            return super().call_module(m, forward, args, kwargs)
        except TraceFailure:
            raise
        except Exception as err:
            raise TraceFailure(first_line(err), path, type(m).__name__) from err
        finally:
            self.stack.pop()

    def create_node(self, *args: Any, **kwargs: Any) -> fx.Node:
        node = super().create_node(*args, **kwargs)
        node.meta["cnncalc_scope"] = tuple(self.stack)
        return node


def first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"


def trace(model: nn.Module, inputs: int) -> fx.Graph:
    """The model's fx graph; forward's arguments past the first `inputs` keep their defaults.

    No GraphModule is made (its own attributes, such as `meta`, would clash with submodules
    of those names): the graph is run against the model itself.
    """
    params = [
        p
        for p in inspect.signature(model.forward).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    concrete = {p.name: p.default for p in params[inputs:] if p.default is not p.empty}
    tracer = Tracer()
    try:
        graph = tracer.trace(model, concrete_args=concrete or None)
    except TraceFailure:
        raise
    except Exception as err:
        raise TraceFailure(first_line(err), "", type(model).__name__) from err
    _drop_unused(graph)
    for node in [n for n in graph.nodes if n.op == "placeholder"][inputs:]:
        if not node.users:  # an argument fixed at its default
            graph.erase_node(node)
    return graph


def _drop_unused(graph: fx.Graph) -> None:
    """Remove the nodes nothing reads (the `_` of `y, _ = attention(...)`, sizes), last
    first; an in-place method (`x.relu_()`) is kept, as it changes its input."""
    for node in reversed(list(graph.nodes)):
        inplace = isinstance(node.target, str) and node.target.endswith("_")
        inplace = inplace and not node.target.startswith("__")
        if node.op not in ("placeholder", "output") and not node.users and not inplace:
            graph.erase_node(node)


class Wrapper(nn.Module):
    """A model that is one torch.nn layer, held as a submodule so that it is traced whole."""

    def __init__(self, name: str, layer: nn.Module) -> None:
        super().__init__()
        self.add_module(name, layer)
        self.layer_name = name

    def forward(self, a: Any, b: Any = None, c: Any = None) -> Any:
        # Traced with b and c fixed at None for a layer of one input: a Python `*args`
        # would not trace.
        return getattr(self, self.layer_name)(*(x for x in (a, b, c) if x is not None))


def wrapped(model: nn.Module) -> nn.Module:
    """The model, or a wrapper around it where the model is itself a torch.nn layer."""
    if not is_torch_layer(model):
        return model
    return Wrapper(type(model).__name__.lower(), model)


def forward_inputs(model: nn.Module) -> list[str]:
    """The names of forward's positional parameters without defaults."""
    params = inspect.signature(model.forward).parameters.values()
    return [
        p.name
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]


def examples(model: nn.Module, graph: fx.Graph, shapes: Sequence[Shape]) -> list[torch.Tensor]:
    """Zeros of each input's shape, batch 1; token ids (long) for an input an nn.Embedding reads."""
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    out = []
    for node, shape in zip(placeholders, shapes, strict=False):
        ids = any(
            u.op == "call_module" and isinstance(model.get_submodule(u.target), nn.Embedding)
            for u in node.users
        )
        out.append(torch.zeros(1, *shape, dtype=torch.long if ids else torch.float32))
    return out


def shape_of(value: Any) -> Any:
    """A value's shape: TShape for a tensor, a tuple of them for a tuple, else None."""
    if isinstance(value, torch.Tensor):
        return TShape(int(d) for d in value.shape)
    if isinstance(value, (tuple, list)) and not isinstance(value, torch.Size):
        return tuple(shape_of(v) for v in value)
    return None


class Recorder(fx.Interpreter):
    """Runs the graph once, keeping every node's shape."""

    def __init__(self, model: nn.Module, graph: fx.Graph) -> None:
        super().__init__(model, graph=graph)
        self.shapes: dict[fx.Node, Any] = {}

    def run_node(self, n: fx.Node) -> Any:
        result = super().run_node(n)
        self.shapes[n] = shape_of(result)
        return result


def run_graph(
    model: nn.Module, graph: fx.Graph, inputs: Sequence[torch.Tensor]
) -> dict[fx.Node, Any]:
    """Every node's shape, from one run of the traced graph (eval, no gradients)."""
    model.eval()
    recorder = Recorder(model, graph)
    with torch.no_grad():
        recorder.run(*inputs)
    return recorder.shapes


def run_hooked(
    model: nn.Module, inputs: Sequence[torch.Tensor]
) -> tuple[dict[str, list[Any]], Any]:
    """The model's own run: each module's output shape per call (forward hooks), and the
    model's output shape."""
    seen: dict[str, list[Any]] = {}
    handles = []
    for path, m in model.named_modules():
        if path:

            def hook(m: nn.Module, args: Any, output: Any, path: str = path) -> None:
                seen.setdefault(path, []).append(shape_of(output))

            handles.append(m.register_forward_hook(hook))
    try:
        model.eval()
        with torch.no_grad():
            output = model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return seen, shape_of(output)


def counts(model: nn.Module) -> tuple[int, int, int]:
    """Parameters (each tensor once), of them trainable, and buffer elements (leaving out
    batch norm's num_batches_tracked, a counter, as cnncalc does)."""
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    buffers = sum(
        b.numel() for name, b in model.named_buffers() if not name.endswith("num_batches_tracked")
    )
    return total, trainable, buffers


def param_paths(model: nn.Module) -> frozenset[str]:
    """Every module path that holds a parameter, itself or in a submodule."""
    paths: set[str] = set()
    for name, _ in model.named_parameters():
        parts = name.split(".")[:-1]
        for i in range(len(parts) + 1):
            paths.add(".".join(parts[:i]))
    return frozenset(paths)


def parameter_trainable(model: nn.Module, node: fx.Node) -> bool | None:
    """Whether a get_attr node's tensor is a trainable parameter; None for a buffer."""
    value: Any = model
    for part in str(node.target).split("."):
        value = getattr(value, part)
    if isinstance(value, nn.Parameter):
        return bool(value.requires_grad)
    return None


def frozen_paths(model: nn.Module) -> frozenset[str]:
    """The modules whose parameters are all frozen (requires_grad off)."""
    return frozenset(
        path
        for path, m in model.named_modules()
        if (params := list(m.parameters())) and not any(p.requires_grad for p in params)
    )
