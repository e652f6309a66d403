"""PyTorch modules → specs: `torch:package.module:factory`, traced with torch.fx.

The factory (a callable taking no arguments, named as uvicorn names an app) builds an
nn.Module; torch.fx's symbolic trace turns its forward into a graph of module calls,
functions and methods, keeping torch.nn's own layers whole. One run of that graph on zeros of
the input shape gives every node's shape. Each node becomes cnncalc layers (torch_ops), the
module tree becomes named block instances and blocks (torch_tree), and before the text is
returned it is built and checked against a second, independent run of the model itself
(forward hooks): every layer's and module's output shape, the outputs, and the parameter,
trainable and buffer totals. A disagreement is a ModelError: better no spec than a wrong one.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from cnncalc.errors import CnncalcError
from cnncalc.importers import Imported, ModelError, Shape, missing_package
from cnncalc.importers.torch_ops import TShape, Unsupported, is_tensor
from cnncalc.importers.torch_tree import Assembly, Failure

MAX_INPUT_ELEMENTS = 50_000_000  # one sample's input: zeros of this size are allocated
MAX_INPUTS = 16


def read(target: str, *, input_shape: Shape | Sequence[Shape] | None = None) -> Imported:
    """The spec of the module `torch:package.module:factory` builds, for inputs of
    `input_shape` (channels first, no batch; one shape per input of forward)."""
    try:
        import torch  # noqa: F401 (is it installed?)
    except ImportError:
        raise missing_package("torch", "torch", target) from None
    from cnncalc.importers import torch_trace

    shapes = _shapes(input_shape, target)
    model = torch_trace.wrapped(_load(target))
    graph = _trace(model, len(shapes), target)
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    _check_arity(model, placeholders, shapes, target)
    inputs = torch_trace.examples(model, graph, shapes)
    try:
        node_shapes = torch_trace.run_graph(model, graph, inputs)
    except Exception as err:
        raise ModelError(
            f"the traced model fails on zeros of shape {_shown(shapes)}: {err}", target
        ) from None
    names = _input_names(placeholders, model)
    assembly = _assemble(graph, model, node_shapes, names, target)
    text = _text(assembly, target, names, shapes, model, graph)
    _verify(text, assembly, model, inputs, names, target)
    return Imported(text, "torch", target)


def _shown(shapes: Sequence[Shape]) -> str:
    return " and ".join(str(list(s)) for s in shapes)


def _shapes(given: Shape | Sequence[Shape] | None, target: str) -> list[Shape]:
    """The input shapes: one shape, or one per input of forward."""
    if given is None or len(given) == 0:
        raise ModelError(
            "a PyTorch model needs the input shape (channels first, without the batch):"
            " --input 3,224,224",
            target,
        )
    items: list[Any] = list(given)
    several = all(isinstance(s, (tuple, list)) for s in items)
    shapes: list[tuple[Any, ...]] = [tuple(s) for s in items] if several else [tuple(items)]
    if len(shapes) > MAX_INPUTS:
        raise ModelError(f"{len(shapes)} input shapes; at most {MAX_INPUTS}", target)
    for shape in shapes:
        if not shape or not all(type(d) is int and d >= 1 for d in shape):
            raise ModelError(f"input sizes must be whole numbers ≥ 1, got {list(shape)}", target)
        elements = 1
        for d in shape:
            elements *= int(d)
        if elements > MAX_INPUT_ELEMENTS:
            raise ModelError(
                f"an input of shape {list(shape)} has {elements:,} elements; the importer runs"
                f" the model on zeros and takes at most {MAX_INPUT_ELEMENTS:,}",
                target,
            )
    return shapes


def _load(target: str) -> Any:
    """The module the factory builds: `torch:package.module:factory` (the current directory
    is on the import path, as uvicorn puts it)."""
    from torch import nn

    spec = target.removeprefix("torch:")
    module_name, colon, factory_name = spec.partition(":")
    if not colon or not module_name or not factory_name:
        raise ModelError(
            "name a PyTorch model as torch:package.module:factory (a callable taking no"
            " arguments that returns an nn.Module)",
            target,
        )
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(module_name)
    except Exception as err:
        raise ModelError(f"cannot import {module_name}: {err}", target) from None
    factory: Any = module
    for part in factory_name.split("."):
        if not hasattr(factory, part):
            raise ModelError(f"{module_name} has no {factory_name}", target)
        factory = getattr(factory, part)
    model = factory if isinstance(factory, nn.Module) else _call(factory, target)
    if not isinstance(model, nn.Module):
        raise ModelError(
            f"{factory_name}() returned {type(model).__name__}, not an nn.Module", target
        )
    return model.eval()


def _call(factory: Any, target: str) -> Any:
    if not callable(factory):
        raise ModelError("the factory is neither callable nor an nn.Module", target)
    try:
        return factory()
    except Exception as err:
        raise ModelError(f"calling the factory failed: {err}", target) from None


def _trace(model: Any, inputs: int, target: str) -> Any:
    from cnncalc.importers.torch_trace import TraceFailure, trace

    try:
        return trace(model, inputs)
    except TraceFailure as err:
        where = f"module {err.path} ({err.cls})" if err.path else f"the model ({err.cls})"
        raise ModelError(
            f"torch.fx cannot trace {where}: {err}. Python control flow on tensor values and"
            " other dynamic code do not trace: move it out of forward, mark the module a leaf"
            " by making it a torch.nn layer, or write this part of the spec by hand",
            target,
            err.path or None,
        ) from None


def _check_arity(model: Any, placeholders: list[Any], shapes: list[Shape], target: str) -> None:
    if len(placeholders) != len(shapes):
        names = ", ".join(n.name for n in placeholders)
        raise ModelError(
            f"forward takes {len(placeholders)} input(s) ({names}); {len(shapes)} shape(s)"
            " given: give one --input per input",
            target,
        )


def _input_names(placeholders: list[Any], model: Any) -> dict[Any, str]:
    """How the spec names each input: `input` for one, forward's argument names for several
    (`image_input` where the model has a module `image`: layers keep the modules' names)."""
    if len(placeholders) == 1:
        return {placeholders[0]: "input"}
    taken = {name for name, _ in model.named_children()} | {"input"}
    taken |= {name for name, _ in model.named_parameters(recurse=False)}
    return {n: f"{n.name}_input" if n.name in taken else n.name for n in placeholders}


def _translate(graph: Any, model: Any, shapes: Mapping[Any, Any], target: str) -> dict[Any, Any]:
    """Each node's layers (torch_ops), or a ModelError naming the first that has none."""
    from cnncalc.importers import torch_ops

    trans: dict[Any, Any] = {}
    for n in graph.nodes:
        try:
            if n.op == "call_module":
                trans[n] = torch_ops.from_module(n, model.get_submodule(n.target), shapes)
            elif n.op in ("call_function", "call_method"):
                trans[n] = torch_ops.from_call(n, shapes)
        except Unsupported as err:
            raise _unsupported(n, err, model, target) from None
    torch_ops.fuse_layernorm2d(list(graph.nodes), trans, shapes)
    return trans


def _unsupported(n: Any, err: Unsupported, model: Any, target: str) -> ModelError:
    """The error for a node with no cnncalc counterpart: what, where, and what to do."""
    if n.op == "call_module":
        where = f"module {n.target} ({type(model.get_submodule(n.target)).__name__})"
        node = str(n.target)
    else:
        scope = n.meta.get("cnncalc_scope", ())
        inside = f" in module {scope[-1][0]}" if scope else ""
        where = f"node {n.name}{inside}"
        node = n.name
    hint = f": {err.hint}" if err.hint else ""
    return ModelError(f"{where}: {err.what} cannot be translated{hint}", target, node)


def _assemble(
    graph: Any, model: Any, shapes: Mapping[Any, Any], names: Mapping[Any, str], target: str
) -> Assembly:
    """The model's entries and blocks."""
    from cnncalc.importers import torch_ops, torch_trace

    trans = _translate(graph, model, shapes, target)
    classes = {path: type(m).__name__ for path, m in model.named_modules()}
    assembly = Assembly(
        list(graph.nodes),
        shapes,
        trans,
        classes,
        lambda n: torch_trace.parameter_trainable(model, n),
        torch_trace.param_paths(model),
        frozenset(names.values()),
        torch_trace.frozen_paths(model),
    )

    def parameter(n: Any, rank: int | None, trainable: bool) -> Any:
        try:
            return torch_ops.parameter_op(n, shapes, rank, trainable)
        except Unsupported as err:
            raise _unsupported(n, err, model, target) from None

    try:
        assembly.scopes()
        assembly.wiring(_outputs(graph, target))
        assembly.entries(parameter)
        assembly.infer_blocks(names)
    except Failure as err:
        raise ModelError(f"{err}", target, err.node) from None
    return assembly


def _outputs(graph: Any, target: str) -> list[tuple[Any, int]]:
    """The tensors forward returns."""
    out = next(n for n in graph.nodes if n.op == "output").args[0]
    items = list(out) if isinstance(out, (tuple, list)) else [out]
    if not all(hasattr(i, "op") for i in items):
        raise ModelError("forward returns something other than tensors or a tuple of them", target)
    return [(i, 0) for i in items]


def _text(
    assembly: Assembly,
    target: str,
    names: Mapping[Any, str],
    shapes: Sequence[Shape],
    model: Any,
    graph: Any,
) -> str:
    """The spec's YAML: comments naming the source, inputs, blocks, layers, outputs."""
    import torch

    name = target.rpartition(":")[2].rpartition(".")[2]
    head = [
        f"# Imported from {target} by cnncalc import: torch {torch.__version__},"
        " torch.fx symbolic trace.",
        f"# Checked against one run of {type(model).__name__} on zeros: every layer's output"
        " shape and the parameter and buffer counts.",
        f"name: {name}",
    ]
    if len(shapes) == 1:
        head.append("input: [" + ", ".join(map(str, shapes[0])) + "]")
    else:
        head.append("inputs:")
        head += [
            f"  {n}: [{', '.join(map(str, s))}]"
            for n, s in zip(names.values(), shapes, strict=True)
        ]
    outputs = [_ref_text(assembly, src, names) for src in _outputs(graph, target)]
    return assembly.render(head, names, outputs)


def _ref_text(assembly: Assembly, src: tuple[Any, int], names: Mapping[Any, str]) -> str:
    try:
        return assembly.ref(assembly.resolve(src), assembly.root, names)
    except Failure as err:
        raise ModelError(str(err), "", err.node) from None


def _verify(
    text: str,
    assembly: Assembly,
    model: Any,
    inputs: Sequence[Any],
    names: Mapping[Any, str],
    target: str,
) -> None:
    """Build the spec and hold it to the model: each layer's shape against the traced run,
    each module's and the outputs against the model's own run, and the totals."""
    from cnncalc import graph, spec
    from cnncalc.importers import torch_trace

    try:
        built = graph.build(spec.from_text(text, target))
    except CnncalcError as err:
        raise ModelError(
            f"the spec written for this model does not build ({err}); this is a bug in"
            " cnncalc's PyTorch importer",
            target,
        ) from None
    layers, _ = assembly.qualified()
    tensors = _tensor_names(layers, names)
    for name, node in layers.items():
        if node.op != "get_attr":  # a parameter: the totals below count it
            _same(built, name, assembly.shapes.get(node), f"layer {name}", target)
    seen, output = torch_trace.run_hooked(model, inputs)
    _check_modules(built, assembly, seen, tensors, target)
    for i, tensor in enumerate(built.outputs):
        _same_shape(built.tensors[tensor], _leaf(output, i), f"output {tensor}", target)
    _check_counts(built, torch_trace.counts(model), target)


def _tensor_names(layers: Mapping[str, Any], names: Mapping[Any, str]) -> dict[Any, str]:
    """Each node's tensor in the built graph (inputs by their internal names)."""
    tensors = {node: name for name, node in layers.items()}
    for node in names:
        tensors[node] = ""  # an input: nothing to compare
    return tensors


def _leaf(shape: Any, index: int) -> Any:
    """The `index`-th tensor of a value, flattened (None where there is none)."""
    found: list[Any] = []

    def visit(s: Any) -> None:
        if s is None or is_tensor(s):
            found.append(s)
        else:
            for x in s:
                visit(x)

    visit(shape)
    return found[index] if index < len(found) else None


RECURRENT = frozenset({"lstm", "gru", "rnn"})


def _same(built: Any, name: str, shape: Any, what: str, target: str) -> None:
    """A layer's every output against the shapes the model gave (a recurrent layer's h_n
    and c_n hold the batch second, even with batch_first)."""
    index = 0
    batch_at = 1 if built.by_name[name].type in RECURRENT else 0
    while True:
        tensor = name if index == 0 else f"{name}:{index}"
        if tensor not in built.tensors:
            return
        at = batch_at if index else 0
        _same_shape(built.tensors[tensor], _leaf(shape, index), what, target, at)
        index += 1


def _same_shape(cnncalc: Shape, torch_shape: Any, what: str, target: str, batch: int = 0) -> None:
    if torch_shape is None:
        return
    want = tuple(torch_shape)[:batch] + tuple(torch_shape)[batch + 1 :]
    if tuple(cnncalc) != want:
        raise ModelError(
            f"{what}: the spec gives shape {list(cnncalc)}, the model {list(want)}; this is a"
            " bug in cnncalc's PyTorch importer or in cnncalc",
            target,
            what.split(" ", 1)[-1],
        )


def _check_modules(
    built: Any,
    assembly: Assembly,
    seen: Mapping[str, list[Any]],
    tensors: Mapping[Any, str],
    target: str,
) -> None:
    """Every module call the spec has a tensor for, against the model's own forward hooks."""
    for path, index, src, leaf in assembly.module_calls():
        calls = seen.get(path, [])
        if index >= len(calls):
            raise ModelError(
                f"the traced graph calls module {path} {index + 1} time(s), the model"
                f" {len(calls)}: its forward does not trace faithfully",
                target,
                path,
            )
        node, flat = src
        name = tensors.get(node)
        if name:
            tensor = name if flat == 0 else f"{name}:{flat}"
            got = calls[index]
            if tensor in built.tensors and (leaf or is_tensor(got)):
                _same_shape(built.tensors[tensor], _leaf(got, 0), f"module {path}", target)


def _check_counts(built: Any, model_counts: tuple[int, int, int], target: str) -> None:
    """Parameters (shared ones once), trainable ones and buffers, against the model's."""
    owners = [layer for layer in built.layers if layer.shares is None]
    params = sum(layer.result.param_count for layer in owners)
    trainable = sum(layer.result.param_count for layer in owners if layer.trainable)
    buffers = sum(layer.result.buffer_count for layer in owners)
    for what, mine, theirs in zip(
        ("parameters", "trainable parameters", "buffer elements"),
        (params, trainable, buffers),
        model_counts,
        strict=True,
    ):
        if mine != theirs:
            raise ModelError(
                f"the spec counts {mine:,} {what}, the model {theirs:,}: some weights are"
                " shared or held in a way the spec does not show (tied weights between"
                " different layers, buffers read in forward); write that part by hand",
                target,
            )


__all__ = ["TShape", "read"]
