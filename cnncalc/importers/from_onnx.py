"""ONNX files → specs, through the `onnx` package alone (no onnxruntime, no PyTorch).

The file is read without its external data; initializers give weights' shapes (their values
are never read, except those of small constants that say a shape: pads, clip bounds, a
dropout's ratio). onnx's own shape inference, run with the input's dynamic dimensions filled,
gives every tensor's shape. Nodes that only compute on constants (Shape, Gather, Concat of
sizes, ...) are shape arithmetic, not layers; every node that reads an activation becomes one
entry (Conv → conv2d, Gemm → linear, ...), or a clear error.

Names follow the exporter: PyTorch names a node `/layer1/layer1.0/conv1/Conv`, so its layer is
`conv1` inside block instance `0` inside `layer1`, and reads `layer1.0.conv1` as the model's
own module does. A module with one input and one output becomes a block instance; instances of
the same structure share one block; a module of several inputs is written flat, its layers
named `module_layer`. Before returning, the spec is built and each layer's output shape,
parameters and buffers are compared with what the file says: a disagreement is an error.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from cnncalc.errors import CnncalcError
from cnncalc.expand import DEFAULT_MAX_LAYERS
from cnncalc.importers import (
    Imported,
    ModelError,
    Shape,
    missing_package,
    onnx_wire,
    open_regular,
    yamltext,
)
from cnncalc.safetext import terminal
from cnncalc.source import MAX_INT
from cnncalc.spec import MAX_RANK

MAX_FILE_BYTES = 2**31 - 1  # protobuf's own limit for one message; memory is about this
MAX_VALUES = 1_024  # elements of a constant whose values are read (pads, bounds, a ratio)
NAME_CHARS = 100  # of a layer name made from an ONNX name
_BATCH = 1  # the batch the shapes are inferred for (a dynamic batch is set to it)
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_WRITE_BY_HAND = "write that part of the spec by hand"


class Item(NamedTuple):
    """One spec entry made from an ONNX node, and what the file says it must come to."""

    type: str
    args: dict[str, Any]
    inputs: tuple[str, ...]  # the ONNX tensors it reads
    outputs: tuple[str, ...]  # the ONNX tensors it makes
    node: str  # the node's name, for messages
    params: int = 0
    buffers: int = 0
    comment: str = ""
    path: tuple[str, ...] = ()  # its module path (PyTorch's scopes)
    label: str = ""  # its name within that module


class Entry(NamedTuple):
    """A line of a spec's layer list: a layer, or a block instance."""

    name: str
    kind: str  # the layer type, or the block's name
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    item: Item | None = None  # the layer; None for a block instance
    body: tuple[Entry, ...] = ()  # an instance's entries
    path: str = ""  # an instance's qualified name


def read(target: str, *, input_shape: Shape | None = None) -> Imported:
    """The spec of the ONNX model at `target`; `input_shape` (no batch) fills dynamic sizes."""
    try:
        import onnx
    except ImportError:
        raise missing_package("onnx", "onnx", target) from None
    proto, nodes = _load(onnx, target)
    model = _Model(onnx, proto, target, input_shape, nodes)
    items = _translate(model)
    entries = _arrange(model, items)
    writer = _Writer(model)
    writer.name_blocks(entries)
    text = writer.spec(entries)
    _check(model, text, entries)
    return Imported(text, "onnx", target)


# ---------------------------------------------------------------------------------------------
# Reading the file, within limits
# ---------------------------------------------------------------------------------------------


def _load(onnx: Any, target: str) -> tuple[Any, int]:
    """The ModelProto in `target`, its size checked first, and its number of nodes, those of
    subgraphs and functions included."""
    with open_regular(target) as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise ModelError(
                f"the file is {size:,} bytes; an ONNX model holds at most"
                f" {MAX_FILE_BYTES:,} (protobuf's limit): keep large weights as external data",
                target,
            )
        data = onnx_wire.stripped(onnx, f, size, target)  # weights' data never loaded
    try:  # from the bytes alone: no directory to look for external data in, none opened
        proto = onnx.load_model_from_string(data)
    except MemoryError:
        raise
    except Exception as err:  # protobuf's DecodeError and friends: not a model
        raise ModelError(f"not an ONNX model ({type(err).__name__})", target) from None
    del data
    nodes = len(proto.graph.node)
    if nodes > DEFAULT_MAX_LAYERS:
        raise ModelError(
            f"the graph has {nodes:,} nodes; cnncalc reads at most {DEFAULT_MAX_LAYERS:,}",
            target,
        )
    return proto, _survey(proto, target)


def _external(tensor: Any) -> bool:
    """Whether a TensorProto keeps its data in another file (onnx would open that file,
    relative to the current directory, to give its values)."""
    return bool(tensor.data_location == 1 or len(tensor.external_data))  # 1 = EXTERNAL


def _survey(proto: Any, target: str) -> int:
    """The number of nodes in the model, subgraphs' and functions' included: at most
    DEFAULT_MAX_LAYERS (counted as they are found, so a graph nested 2⁴⁰-fold is refused
    early). Refuses external data in every tensor the importer, onnx's shape inference or its
    reference evaluator might read the values of: constants' and every other tensor
    attribute, sparse tensors, the initializers of subgraphs and functions. Only the main
    graph's dense initializers may keep their data outside (large weights, whose values are
    never read: only their dims). Walked without recursion, so that nested subgraphs cannot
    exhaust the stack."""
    graphs: list[tuple[Any, bool]] = [(proto.graph, True)]
    nodes: list[Any] = []
    count = 0

    def found(more: Any) -> None:
        nonlocal count
        count += len(more)
        if count > DEFAULT_MAX_LAYERS:
            raise ModelError(
                f"the model has more than {DEFAULT_MAX_LAYERS:,} nodes (its subgraphs' and"
                f" functions' included); cnncalc reads at most {DEFAULT_MAX_LAYERS:,}",
                target,
            )
        nodes.extend(more)

    for function in proto.functions:
        found(function.node)
    while graphs or nodes:
        if graphs:
            graph, top = graphs.pop()
            found(graph.node)
            for init in graph.initializer:
                if not top and _external(init):
                    raise ModelError(
                        f"a subgraph's initializer '{init.name}' keeps its data in another"
                        " file (external data), which cnncalc never reads",
                        target,
                    )
            for sparse in graph.sparse_initializer:
                if _external(sparse.values) or _external(sparse.indices):
                    raise ModelError(
                        f"the sparse initializer '{sparse.values.name}' keeps its data in"
                        " another file (external data), which cnncalc never reads",
                        target,
                    )
            continue
        graphs += [(g, False) for g in _attribute_graphs(nodes.pop(), target)]
    return count


def _attribute_graphs(node: Any, target: str) -> list[Any]:
    """The subgraphs in a node's attributes, once its tensor attributes are found to hold
    their data (no external data)."""
    graphs = []
    for a in node.attribute:
        tensors = [a.t, *a.tensors]
        for sparse in (a.sparse_tensor, *a.sparse_tensors):
            tensors += [sparse.values, sparse.indices]
        if any(_external(t) for t in tensors):
            raise ModelError(
                f"{node.op_type}: its attribute '{a.name}' keeps its data in another file"
                " (external data), which cnncalc never reads: store the constant in the model",
                target,
                node.name or node.op_type,
            )
        if a.HasField("g"):
            graphs.append(a.g)
        graphs += a.graphs
    return graphs


def _dims(dims: Sequence[int], what: str, source: str, node: str | None = None) -> Shape:
    """Sizes read from the file, each checked to be a size PyTorch could hold."""
    if len(dims) > MAX_RANK:
        raise ModelError(f"{what} has {len(dims):,} dimensions; at most {MAX_RANK}", source, node)
    for d in dims:
        if not 0 <= d <= MAX_INT:
            raise ModelError(f"{what} has a size {d}, outside 0..2⁶³−1", source, node)
    return tuple(int(d) for d in dims)


def _clean(name: str, fallback: str) -> str:
    """A name cnncalc accepts, made from an ONNX name: other characters become '_'."""
    name = _UNSAFE.sub("_", name)[:NAME_CHARS].strip("_") or fallback
    return f"{name}_" if name == "input" else name


def _scope(name: str) -> tuple[tuple[str, ...], str]:
    """PyTorch's scoped node name → module path and label within it.

    '/layer1/layer1.0/conv1/Conv' → (('layer1', '0', 'conv1'), 'Conv'): a scope is written
    with its parent's name in front where it is a child of a Sequential, and with the path
    from its caller where a container that is not called stands between (`layers.0` of a
    ModuleList `layers`).
    """
    if not name.startswith("/"):
        return (), name
    *scopes, label = [p for p in name.split("/") if p]
    path: list[str] = []
    prev = ""
    for s in scopes:
        local = s[len(prev) + 1 :] if prev and s.startswith(prev + ".") else s
        path += [_clean(part, "module") for part in local.split(".")]  # a ModuleList's `layers.0`
        prev = s
    return tuple(path), label


_SIZES = ("Shape", "Size")  # operators whose output is a size, not an activation
MAX_ROUNDS = 32  # of shape inference, each after folding the shape arithmetic it made known
MAX_INFERENCE = 200_000  # nodes inferred in all the rounds: 4 rounds at 50,000 nodes
MAX_FOLDS = 10_000  # nodes of shape arithmetic evaluated, in all
_ELEMENTWISE = {
    *("Add", "Sub", "Mul", "Div", "Mod", "Neg", "Abs", "Floor", "Ceil", "Sqrt", "Max", "Min"),
    *("Equal", "Greater", "Less", "Not", "And", "Or", "Where"),
}
_FOLDABLE = {
    *_ELEMENTWISE,
    *_SIZES,
    *("Constant", "Identity", "Cast", "Reshape", "Unsqueeze", "Squeeze", "Transpose"),
    *("Slice", "Concat", "Gather", "ConstantOfShape", "Expand", "Range", "ReduceProd"),
}


class _Folder:
    """Shape arithmetic (`Shape` → `Slice` → `Concat` → `Reshape`'s shape) evaluated where
    onnx's shape inference stops, so that the next round of it knows the sizes. Only small
    tensors: every input and output at most MAX_VALUES elements, checked before evaluating."""

    def __init__(self, onnx: Any, model: _Model) -> None:
        from onnx.reference import ReferenceEvaluator

        self.onnx = onnx
        self.np = onnx.numpy_helper.np
        self.evaluator = ReferenceEvaluator
        self.model = model
        self.arrays = dict(model.arrays)
        self.folds = 0

    def fold(self, work: Any, shapes: dict[str, Shape | None]) -> bool:
        """Fold what can be folded now; whether anything was."""
        kept, changed = [], False
        for node in work.graph.node:
            out = self._evaluate(node, shapes)
            if out is None:
                kept.append(type(node)())
                kept[-1].CopyFrom(node)
                continue
            changed = True
            for name, array in zip(node.output, out, strict=False):
                self.arrays[name] = array
                self.model.arrays[name] = array
                self.model.values[name] = [float(v) for v in array.reshape(-1)]
                work.graph.initializer.append(self.onnx.numpy_helper.from_array(array, name))
        if changed:
            del work.graph.node[:]
            work.graph.node.extend(kept)
        return changed

    def _evaluate(self, node: Any, shapes: dict[str, Shape | None]) -> list[Any] | None:
        if node.op_type not in _FOLDABLE or node.domain not in ("", "ai.onnx"):
            return None
        if self.folds >= MAX_FOLDS or any(o in self.arrays for o in node.output):
            return None
        if node.op_type in _SIZES:
            return self._size(node, shapes.get(node.input[0]))
        if node.op_type == "Constant" and node.output[0] not in self.model.arrays:
            return None  # too large to read, or no values
        if node.op_type == "Constant":
            return [self.model.arrays[node.output[0]]]
        ins = {name: self.arrays.get(name) for name in node.input if name}
        if any(v is None for v in ins.values()) or not self._small(node, ins, shapes):
            return None
        self.folds += 1
        try:
            out = self.evaluator(node).run(None, ins)
        except Exception:  # an op it cannot evaluate here: the shapes stay unknown
            return None
        arrays = [self.np.asarray(o) for o in out]
        return arrays if all(a.size <= MAX_VALUES for a in arrays) else None

    def _size(self, node: Any, shape: Shape | None) -> list[Any] | None:
        if shape is None:
            return None
        if node.op_type == "Size":
            return [self.np.array(math.prod(shape), dtype="int64")]
        a = {x.name: x.i for x in node.attribute}
        return [self.np.array(shape[a.get("start", 0) : a.get("end", len(shape))], dtype="int64")]

    def _small(self, node: Any, ins: dict[str, Any], shapes: dict[str, Shape | None]) -> bool:
        """Whether the node's output is known to stay within MAX_VALUES before it is made."""
        try:
            return self._bounded(node, ins, shapes)
        except (TypeError, ValueError, OverflowError, KeyError, IndexError):
            # sizes that are no sizes, inputs left out: leave it to the next round (or none)
            return False

    def _bounded(self, node: Any, ins: dict[str, Any], shapes: dict[str, Shape | None]) -> bool:
        if any(v.size > MAX_VALUES for v in ins.values()):
            return False
        op = node.op_type
        if op in ("ConstantOfShape", "Expand"):
            sizes = tuple(int(v) for v in ins[node.input[-1 if op == "Expand" else 0]].reshape(-1))
            if not all(0 <= v <= MAX_VALUES for v in sizes):
                return False
            data = ins[node.input[0]].shape if op == "Expand" else ()
            return bool(math.prod(self.np.broadcast_shapes(data, sizes)) <= MAX_VALUES)
        if op == "Range":
            start, limit, delta = (ins[n].item() for n in node.input)
            return bool(delta != 0 and abs((limit - start) / delta) <= MAX_VALUES)
        known = [shapes.get(o) for o in node.output]
        if all(s is not None for s in known):
            return all(math.prod(s or ()) <= MAX_VALUES for s in known)
        if op == "Concat":
            return bool(sum(v.size for v in ins.values()) <= MAX_VALUES)
        if op not in _ELEMENTWISE:
            return True  # a view or a pick: no more elements than its inputs hold, multiplied
        shape = self.np.broadcast_shapes(*(v.shape for v in ins.values()))
        return bool(math.prod(shape) <= MAX_VALUES)


_SAME_WEIGHT = ("Expand", "Cast", "Identity", "Transpose")
_NO_INPUT = {"Constant", "RandomNormal", "RandomUniform", "SequenceEmpty", "Loop"}
# a Constant's attribute → its AttributeProto type (FLOAT 1, INT 2, TENSOR 4, FLOATS 6, INTS 7)
_CONSTANT_TYPES = {"value": 4, "value_float": 1, "value_int": 2, "value_floats": 6, "value_ints": 7}


_NAME_SCOPES = "pkg.torch.onnx.name_scopes"  # where torch.export's exporter keeps them
MAX_SCOPES_CHARS = 10_000


def _torch_scopes(node: Any) -> tuple[tuple[str, ...], str] | None:
    """The module path and op name that PyTorch's dynamo exporter writes in a node's
    metadata, `['', '1', '1.bn1', 'batch_norm']` → (('1', 'bn1'), 'batch_norm'); None when
    the node has none (or not a list of names)."""
    import ast

    text = next((p.value for p in node.metadata_props if p.key == _NAME_SCOPES), None)
    if text is None or len(text) > MAX_SCOPES_CHARS:
        return None
    try:
        scopes = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        return None
    modules = [s for s in scopes[:-1] if s]
    path = modules[-1].split(".") if modules else []
    # the op's name counts through the whole graph (add, add_1, ...): within its module the
    # first is `add`, the next `add_2`, so that modules alike read alike
    return tuple(_clean(p, "module") for p in path), re.sub(r"_[0-9]+\Z", "", scopes[-1])


class _Model:
    """The graph's facts: tensors' shapes, which tensors are activations, small constants."""

    def __init__(
        self, onnx: Any, proto: Any, source: str, input_shape: Shape | None, nodes: int = 0
    ) -> None:
        self.onnx = onnx
        self.nodes = max(nodes, len(proto.graph.node), 1)  # subgraphs' and functions' too
        self.cut = ""  # why shape inference stopped early, if it did
        self.source = source
        self.graph = proto.graph
        self.opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
        self.producer = f"{proto.producer_name} {proto.producer_version}".strip()
        self.consts: dict[str, Shape] = {}  # static tensors of known size: weights, constants
        self.values: dict[str, list[float]] = {}  # the values of small ones
        self.arrays: dict[str, Any] = {}  # and those values as arrays, for folding
        self.learned: set[str] = set()  # initializers: the model's weights
        self.floats: set[str] = set()  # initializers of floating-point numbers
        self.origin: dict[str, str] = {}  # a weight expanded or transposed → the weight
        self.owners: dict[str, str] = {}  # a weight → the node that counts it
        self._domains()
        self._initializers(onnx)
        self.inputs = self._inputs(input_shape)
        self.batch = next(iter(self.inputs.values()))[0]
        self.shapes = self._infer(onnx, proto)
        self.acts = self._activations()
        self.outputs = [o.name for o in self.graph.output]

    def _domains(self) -> None:
        """Operators of other domains (a runtime's own, a custom op) are refused at once, and
        so are nodes that no valid model holds: without an output, without the input every
        operator but a few takes first, making a tensor another node makes too, or a
        Constant whose value is not one value of the type its name says."""
        made: set[str] = set()
        for node in self.graph.node:
            where = node.name or node.op_type
            if node.domain not in ("", "ai.onnx"):
                raise ModelError(
                    f"{node.op_type}: an operator of domain '{node.domain}', which cnncalc does"
                    f" not know; {_WRITE_BY_HAND}",
                    self.source,
                    where,
                )
            if not node.output or not node.output[0]:
                raise ModelError(f"{node.op_type}: a node without an output", self.source, where)
            if node.op_type not in _NO_INPUT and (not node.input or not node.input[0]):
                raise ModelError(
                    f"{node.op_type}: a node without its first input", self.source, where
                )
            for name in node.output:
                if name and name in made:
                    raise ModelError(
                        f"{node.op_type}: makes tensor '{name}', which an earlier node makes"
                        " too (a tensor is made once)",
                        self.source,
                        where,
                    )
                made.add(name)
            if node.op_type == "Constant":
                self._constant_form(node, where)

    def _constant_form(self, node: Any, where: str) -> None:
        """A Constant holds one attribute, `value` a tensor, `value_ints` a list of ints, ..."""
        if len(node.attribute) != 1:
            raise ModelError(
                f"Constant: {len(node.attribute)} attributes; a Constant has one value",
                self.source,
                where,
            )
        a = node.attribute[0]
        if _CONSTANT_TYPES.get(a.name) != a.type:
            raise ModelError(
                f"Constant: an attribute '{a.name}' of type"
                f" {self.onnx.AttributeProto.AttributeType.Name(a.type)}; cnncalc reads"
                " `value` (a tensor), `value_float(s)` and `value_int(s)`",
                self.source,
                where,
            )

    def _initializers(self, onnx: Any) -> None:
        for init in self.graph.initializer:
            dims = _dims(init.dims, f"initializer '{init.name}'", self.source)
            self.consts[init.name] = dims
            if init.data_type in (1, 10, 11, 16):  # float, float16, double, bfloat16
                self.floats.add(init.name)
            # PyTorch names folded constants onnx::*: they are not weights
            if not init.name.startswith("onnx::"):
                self.learned.add(init.name)
            if math.prod(dims) <= MAX_VALUES and not _external(init):
                self._keep(onnx, init.name, init)
        for node in self.graph.node:
            if node.op_type == "Constant":
                self._constant(onnx, node)
            elif node.op_type == "Identity" and node.input and node.input[0] in self.consts:
                # a copy of a weight: PyTorch's exporter writes one for each weight equal in
                # value to another (it keeps a single initializer); each copy is a weight
                self.consts[node.output[0]] = self.consts[node.input[0]]
                if node.input[0] in self.floats:
                    self.floats.add(node.output[0])
                if node.input[0] in self.learned:
                    self.learned.add(node.output[0])

    def _constant(self, onnx: Any, node: Any) -> None:
        for a in node.attribute:
            value = onnx.helper.get_attribute_value(a)
            if a.name == "value":
                dims = _dims(value.dims, "a constant", self.source, node.name)
                self.consts[node.output[0]] = dims
                if math.prod(dims) <= MAX_VALUES:
                    self._keep(onnx, node.output[0], value)
            elif a.name in ("value_float", "value_int", "value_floats", "value_ints"):
                if isinstance(value, list) and len(value) > MAX_VALUES:
                    continue
                array = onnx.numpy_helper.np.array(
                    value, dtype="int64" if "int" in a.name else "float32"
                )
                self.consts[node.output[0]] = tuple(array.shape)
                self.arrays[node.output[0]] = array
                self.values[node.output[0]] = [float(v) for v in array.reshape(-1)]

    def _keep(self, onnx: Any, name: str, tensor: Any) -> None:
        """The values of a small constant tensor (none when its data does not fit its dims,
        or is kept in another file: that file is never opened)."""
        if _external(tensor):
            return
        try:
            array = onnx.numpy_helper.to_array(tensor)
        except Exception:
            return
        self.arrays[name] = array
        self.values[name] = [float(v) for v in array.reshape(-1)]

    def _inputs(self, given: Shape | None) -> dict[str, Shape]:
        """Every graph input (not an initializer) and its shape, batch first."""
        inputs: dict[str, Shape] = {}
        for value in self.graph.input:
            if value.name in self.consts:
                continue  # old exporters list the initializers as inputs too
            if value.name in inputs:
                raise ModelError("a graph input declared twice", self.source, value.name)
            dims = value.type.tensor_type.shape.dim
            if len(dims) < 2:
                raise ModelError(
                    "an input of fewer than two dimensions (cnncalc takes the first for the batch)",
                    self.source,
                    value.name,
                )
            fill = given if given is not None and not inputs else None
            inputs[value.name] = self._input_shape(value.name, dims, fill)
        if not inputs:
            raise ModelError("the graph has no input", self.source)
        return inputs

    def _input_shape(self, name: str, dims: Any, given: Shape | None) -> Shape:
        sizes = [d.dim_value if d.HasField("dim_value") else None for d in dims]
        if given is not None and len(given) != len(sizes) - 1:
            raise ModelError(
                f"--input gives {len(given)} dimensions; the input is {len(sizes) - 1}"
                " dimensions after the batch",
                self.source,
                name,
            )
        shape: list[int] = [_BATCH if not sizes or sizes[0] is None else sizes[0]]
        for i, d in enumerate(sizes[1:]):
            g = given[i] if given is not None else None
            if d is not None and g is not None and d != g:
                raise ModelError(
                    f"the model fixes dimension {i + 1} of its input at {d}; --input gives {g}",
                    self.source,
                    name,
                )
            if d is None and g is None:
                raise ModelError(
                    f"dimension {i + 1} of the input is dynamic: give the input's shape"
                    " (--input C,H,W, without the batch)",
                    self.source,
                    name,
                )
            shape.append(d if d is not None else g or 0)
        return _dims(shape, f"input '{name}'", self.source)

    def _infer(self, onnx: Any, proto: Any) -> dict[str, Shape | None]:
        """Every tensor's shape, by onnx's shape inference on the inputs' shapes."""
        for value in proto.graph.input:
            if value.name in self.inputs:
                dims = value.type.tensor_type.shape.dim
                for d, n in zip(dims, self.inputs[value.name], strict=True):
                    d.Clear()
                    d.dim_value = n
        for init in proto.graph.initializer:
            if init.name not in self.values:  # the weights' data: only their dims are needed
                for field in ("raw_data", "float_data", "double_data", "int32_data", "int64_data"):
                    init.ClearField(field)
        work = type(proto)()
        work.CopyFrom(proto)  # folded shape arithmetic goes in here, not in the model read
        del work.graph.value_info[:]  # the file's own claims: inference alone says the shapes
        for value in work.graph.output:
            value.type.tensor_type.ClearField("shape")
        folder = _Folder(onnx, self)
        # each round infers every node again: at most MAX_INFERENCE nodes in all
        rounds = max(2, min(MAX_ROUNDS, MAX_INFERENCE // self.nodes))
        for _ in range(rounds):
            shapes = self._inferred(onnx, work)
            if not folder.fold(work, shapes):
                break
        else:
            self.cut = (
                f" after {rounds} rounds of it, the most a model of {self.nodes:,} nodes gets"
            )
        return shapes

    def _inferred(self, onnx: Any, work: Any) -> dict[str, Shape | None]:
        try:
            inferred = onnx.shape_inference.infer_shapes(work, data_prop=True)
        except Exception as err:
            raise ModelError(f"onnx's shape inference fails: {err}", self.source) from None
        shapes: dict[str, Shape | None] = {}
        g = inferred.graph
        for value in [*g.input, *g.value_info, *g.output]:
            shapes[value.name] = self._shape_of(value)
        for init in work.graph.initializer:  # weights, and shape arithmetic folded
            shapes.setdefault(init.name, tuple(init.dims))
        for name, shape in self.inputs.items():
            shapes[name] = shape
        return shapes

    def _shape_of(self, value: Any) -> Shape | None:
        t = value.type.tensor_type
        if not t.HasField("shape"):
            return None
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
        if any(d < 0 for d in dims):
            return None
        return _dims(dims, f"tensor '{value.name}'", self.source)

    def _activations(self) -> set[str]:
        """The tensors computed from an input: the rest are constants and shape arithmetic."""
        acts = set(self.inputs)
        known = set(acts) | set(self.consts)
        for node in self.graph.node:
            for name in node.input:
                if name and name not in known:
                    raise ModelError(
                        f"reads tensor '{name}', which no earlier node makes (the graph is not"
                        " in topological order, or the tensor is missing)",
                        self.source,
                        node.name or node.op_type,
                    )
            if node.op_type in _SIZES or (node.op_type == "CastLike" and node.input[0] not in acts):
                pass  # a size, or a constant cast: known once the input's shape is
            elif any(name in acts for name in node.input):
                acts.update(o for o in node.output if o)
            elif node.op_type in _SAME_WEIGHT and node.input and node.input[0] in self.consts:
                self._same_weight(node)
            known.update(node.output)
        return acts

    def _same_weight(self, node: Any) -> None:
        """A weight transposed, cast or copied, or expanded over the batch (PyTorch's
        `cls_token.expand(n, -1, -1)`): still that weight, with its elements."""
        source = node.input[0]
        dims, out = self.consts[source], self.shapes.get(node.output[0])
        if out is None or math.prod(out) != math.prod(dims):
            return
        if node.op_type == "Expand" and out[1:] != dims[1:]:
            return
        self.consts[node.output[0]] = dims if node.op_type == "Expand" else out
        if node.op_type != "Identity":  # the exporter's copy of an equal weight: its own
            self.origin[node.output[0]] = self.origin.get(source, source)
        for kind in (self.learned, self.floats):
            if source in kind:
                kind.add(node.output[0])

    def claim(self, weight: str, node: str) -> None:
        """Note that `node` counts this weight; a weight two nodes count is refused, as the
        spec would count it twice (tied weights: write `shares:` by hand)."""
        origin = self.origin.get(weight, weight)
        owner = self.owners.setdefault(origin, node)
        if owner != node:
            raise ModelError(
                f"uses the weight '{origin}', which node '{owner}' uses too (tied weights);"
                " cnncalc would count it twice: write the second layer by hand with `shares:`",
                self.source,
                node,
            )

    def shape(self, tensor: str, node: str) -> Shape:
        """A tensor's full shape (batch first), or an error naming the node."""
        shape = self.shapes.get(tensor)
        if shape is None:
            shape = self.consts.get(tensor)
        if shape is None:
            raise ModelError(
                f"the shape of '{tensor}' cannot be told before running the model (onnx's"
                " shape inference, and the shape arithmetic the importer evaluates, stop"
                f" short of it{self.cut}); {_WRITE_BY_HAND}",
                self.source,
                node,
            )
        return shape


# ---------------------------------------------------------------------------------------------
# Nodes → items
# ---------------------------------------------------------------------------------------------


class _Node:
    """One node being translated, with the model's facts at hand."""

    def __init__(self, model: _Model, node: Any) -> None:
        self.m = model
        self.op = node.op_type
        self.name = node.name or f"{node.op_type}({', '.join(node.output)})"
        self.inputs = list(node.input)
        self.outputs = list(node.output)
        self.a = {a.name: _attr(model.onnx.helper.get_attribute_value(a)) for a in node.attribute}
        self.path, self.label = _torch_scopes(node) or _scope(node.name)
        if not self.label:
            self.label = node.output[0] if node.output else node.op_type

    def fail(self, message: str) -> ModelError:
        return ModelError(f"{self.op}: {message}", self.m.source, self.name)

    def has(self, i: int) -> bool:
        return i < len(self.inputs) and bool(self.inputs[i])

    def act(self, i: int) -> bool:
        return self.has(i) and self.inputs[i] in self.m.acts

    def shape(self, i: int) -> Shape:
        return self.m.shape(self.inputs[i], self.name)

    def out(self, i: int = 0) -> Shape:
        return self.m.shape(self.outputs[i], self.name)

    def weight(self, i: int) -> Shape:
        """The dims of input `i`, a weight: an initializer (or a constant) of known size."""
        if not self.has(i) or self.inputs[i] not in self.m.consts:
            raise self.fail(
                f"input {i} ('{self.inputs[i] if self.has(i) else ''}') is not a weight stored"
                f" in the file; {_WRITE_BY_HAND}"
            )
        return self.m.consts[self.inputs[i]]

    def count(self, *indices: int) -> int:
        """Elements of the weights at these inputs (absent ones count 0), each weight claimed
        for this node."""
        for i in indices:
            if self.has(i):
                self.m.claim(self.inputs[i], self.name)
        return sum(math.prod(self.weight(i)) for i in indices if self.has(i))

    def bias(self) -> bool:
        """Whether input 2 is a stored bias (a bias the graph builds from constants, as
        torch.export's unoptimized graphs do for a conv without one, is none)."""
        return self.has(2) and self.inputs[2] in self.m.consts

    def value(self, i: int) -> list[float] | None:
        """The values of a small constant input, None when absent or not constant."""
        return self.m.values.get(self.inputs[i]) if self.has(i) else None

    def item(self, type_: str, args: dict[str, Any], **kw: Any) -> Item:
        kw.setdefault("inputs", (self.inputs[0],))
        kw.setdefault("outputs", (self.outputs[0],))
        kw.setdefault("label", self.label)
        return Item(type_, args, node=self.name, path=self.path, **kw)


def _attr(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [_attr(v) for v in value]
    return value


def _translate(model: _Model) -> list[Item]:
    """Every node that makes an activation, as items; anything else is shape arithmetic.
    The nodes of a PyTorch `nn.MultiheadAttention` are one item, where the first of them
    stood."""
    items: list[Item] = []
    groups = _attention_scopes(model)
    grouped: dict[str, list[Any]] = {}
    for proto in model.graph.node:
        if not any(name in model.acts for name in proto.output):
            continue
        path = _path(proto)
        group = next((g for g in groups if path[: len(g)] == g), None)
        if group is not None:
            key = ".".join(group)
            if key not in grouped:
                items.append(Item("", {}, (), (), key, path=group))  # its place, filled below
            grouped.setdefault(key, []).append(proto)
            continue
        items += _items_of(_Node(model, proto))
    for name in model.outputs:
        if name not in model.acts:
            raise ModelError(
                "a graph output that does not depend on the input (a constant)", model.source, name
            )
    items = [it if it.type else _attention(model, it.path, grouped[it.node]) for it in items]
    return _fuse(model, items)


def _items_of(node: _Node) -> list[Item]:
    rule = _RULES.get(node.op)
    if rule is None:
        raise node.fail(
            "cnncalc has no layer for this operator; write that part of the spec by hand"
            " (see `cnncalc layers`), or export the model so that it uses the operators"
            " docs/importing.md lists"
        )
    try:
        return rule(node)
    except (IndexError, KeyError, TypeError, ValueError, ZeroDivisionError) as err:
        # attributes that contradict each other (pads of the wrong length, ...)
        raise node.fail(f"a malformed node ({type(err).__name__}: {err})") from None


def _path(proto: Any) -> tuple[str, ...]:
    """A node's module path, as either of PyTorch's exporters writes it."""
    return (_torch_scopes(proto) or _scope(proto.name))[0]


_ATTENTION_WEIGHTS = ("in_proj_weight", "in_proj_bias")  # PyTorch's names in the module


def _attention_scopes(model: _Model) -> list[tuple[str, ...]]:
    """The module paths (`encoder.layers.0.self_attn`) of PyTorch MultiheadAttention
    modules, known by the names of their weights."""
    found: list[tuple[str, ...]] = []
    for proto in model.graph.node:
        if any(name.endswith(_ATTENTION_WEIGHTS) for name in proto.input):
            path = _path(proto)
            if path and path not in found:
                found.append(path)
    return found


def _attention(model: _Model, group: tuple[str, ...], protos: list[Any]) -> Item:
    """One `multiheadattention` for the nodes of a MultiheadAttention module."""
    node = ".".join(group)
    made = [o for p in protos for o in p.output]
    inputs = list(dict.fromkeys(t for p in protos for t in p.input if t in model.acts))
    inputs = [t for t in inputs if t not in made]
    read_outside = {
        t
        for p in model.graph.node
        if _path(p)[: len(group)] != group and p.op_type not in _SIZES
        for t in p.input
    }
    outputs = [t for t in made if t in model.outputs or t in read_outside]
    x = model.shape(inputs[0], node)
    embed = x[-1]
    first = next(p for p in protos if inputs[0] in p.input)
    attrs = {a.name: model.onnx.helper.get_attribute_value(a) for a in first.attribute}
    if len(x) != 3 or first.op_type != "Transpose" or list(attrs.get("perm", [])) != [1, 0, 2]:
        raise ModelError(
            "a MultiheadAttention that is not batch-first: build it with batch_first=True"
            f" before exporting, or {_WRITE_BY_HAND}",
            model.source,
            node,
        )
    if len(outputs) == 2:
        outputs.sort(key=lambda t: model.shape(t, node)[-1] != embed)
    weights = {t for p in protos for t in p.input if t in model.floats and t not in made}
    args: dict[str, Any] = {"num_heads": _heads(model, protos, node), "batch_first": True}
    if not any(model.origin.get(t, t).endswith("in_proj_bias") for t in weights):
        args["bias"] = False
    for t in weights:
        model.claim(t, node)
    params = sum(math.prod(model.consts[t]) for t in weights)
    return Item("multiheadattention", args, tuple(inputs), tuple(outputs), node, params,
                path=group, label="MultiheadAttention")  # fmt: skip


def _heads(model: _Model, protos: list[Any], node: str) -> int:
    """The number of heads, from the shape of the attention's softmax: [N·H, L, S] or
    [N, H, L, S]."""
    for p in protos:
        if p.op_type == "Softmax":
            shape = model.shape(p.output[0], node)
            if len(shape) not in (3, 4):
                raise ModelError(
                    f"a MultiheadAttention whose softmax has {len(shape)} dimensions, not 3 or"
                    f" 4; {_WRITE_BY_HAND}",
                    model.source,
                    node,
                )
            return shape[0] // model.batch if len(shape) == 3 else shape[1]
    raise ModelError("a MultiheadAttention without a softmax", model.source, node)


def _one(values: Sequence[int]) -> int | list[int]:
    """`3` for [3, 3], the list otherwise (PyTorch's int-or-tuple arguments)."""
    return values[0] if len(set(values)) == 1 else list(values)


def _real(value: float) -> float:
    """A float32 attribute as written (0.2, not 0.20000000298)."""
    return float(f"{value:.7g}")


def _spatial(n: _Node, dims: int) -> int:
    if dims not in (1, 2, 3):
        raise n.fail(f"{dims} spatial dimensions; cnncalc's layers take 1, 2 or 3")
    return dims


def _padding(n: _Node, dims: int) -> tuple[Any, list[int] | None]:
    """A window's `padding`, and the torch-order pads of a zero pad needed before it when the
    pads are not the same on both sides (None when not)."""
    auto = n.a.get("auto_pad", "NOTSET")
    if auto == "SAME_UPPER":
        return "same", None
    if auto == "VALID":
        return 0, None
    if auto not in ("NOTSET", ""):
        raise n.fail(f"auto_pad {auto} (PyTorch and cnncalc pad the odd pixel at the end)")
    pads = n.a.get("pads", [0] * 2 * dims)
    if len(pads) != 2 * dims:
        raise n.fail(f"{len(pads)} pads for {dims} spatial dimensions")
    begin, end = pads[:dims], pads[dims:]
    if begin == end:
        return _one(begin), None
    torch_order = [p for d in reversed(range(dims)) for p in (begin[d], end[d])]
    return 0, torch_order


def _window(n: _Node, dims: int, kernel: Sequence[int]) -> dict[str, Any]:
    args: dict[str, Any] = {"kernel_size": _one(kernel)}
    stride = n.a.get("strides", [1] * dims)
    if any(s != 1 for s in stride):
        args["stride"] = _one(stride)
    return args


def _conv(n: _Node) -> list[Item]:
    w = n.weight(1)
    dims = _spatial(n, len(w) - 2)
    args = {"out_channels": w[0], **_window(n, dims, w[2:])}
    padding, pre = _padding(n, dims)
    if padding != 0:
        args["padding"] = padding
    dilation = n.a.get("dilations", [1] * dims)
    if any(d != 1 for d in dilation):
        args["dilation"] = _one(dilation)
    if n.a.get("group", 1) != 1:
        args["groups"] = n.a["group"]
    if not n.bias():
        args["bias"] = False
    conv = n.item(f"conv{dims}d", args, params=n.count(1, 2) if n.bias() else n.count(1))
    return _padded(n, conv, dims, pre)


def _padded(n: _Node, item: Item, dims: int, pads: list[int] | None) -> list[Item]:
    """The item, after a zero pad where the node pads its sides unequally."""
    if pads is None:
        return [item]
    mid = f"{n.outputs[0]}\0pad"
    pad = n.item(f"zeropad{dims}d", {"padding": pads}, outputs=(mid,), label=f"{n.label}_pad")
    n.m.shapes[mid] = None
    return [pad, item._replace(inputs=(mid,))]


def _conv_transpose(n: _Node) -> list[Item]:
    w = n.weight(1)
    dims = _spatial(n, len(w) - 2)
    groups = n.a.get("group", 1)
    args = {"out_channels": w[1] * groups, **_window(n, dims, w[2:])}
    if "output_shape" in n.a:
        raise n.fail("output_shape is given; export with explicit pads and output_padding")
    padding, pre = _padding(n, dims)
    if pre is not None or padding == "same":
        raise n.fail(f"padding that PyTorch's ConvTranspose cannot write; {_WRITE_BY_HAND}")
    if padding != 0:
        args["padding"] = padding
    extra = n.a.get("output_padding", [0] * dims)
    if any(extra):
        args["output_padding"] = _one(extra)
    dilation = n.a.get("dilations", [1] * dims)
    if any(d != 1 for d in dilation):
        args["dilation"] = _one(dilation)
    if groups != 1:
        args["groups"] = groups
    if not n.bias():
        args["bias"] = False
    return [n.item(f"convtranspose{dims}d", args, params=n.count(1, 2) if n.bias() else n.count(1))]


def _gemm(n: _Node) -> list[Item]:
    if n.a.get("transA", 0) or not n.act(0) or n.act(1):
        raise n.fail(f"a Gemm that is not input × weight; {_WRITE_BY_HAND}")
    w = n.weight(1)
    if len(w) != 2:
        raise n.fail(f"a weight of {len(w)} dimensions")
    out = w[0] if n.a.get("transB", 0) else w[1]
    if n.bias():
        bias = n.weight(2)
        if math.prod(bias) != out:
            raise n.fail(f"a bias of shape {list(bias)}, not one value per output ({out})")
    args: dict[str, Any] = {"out_features": out}
    if not n.bias():
        args["bias"] = False
    return [n.item("linear", args, params=n.count(1, 2) if n.bias() else n.count(1))]


def _matmul(n: _Node) -> list[Item]:
    if n.act(0) and n.act(1):
        return [n.item("matmul", {}, inputs=(n.inputs[0], n.inputs[1]))]
    if not n.act(0):
        raise n.fail(f"a constant × activation product; {_WRITE_BY_HAND}")
    w = n.weight(1)
    if len(w) != 2:
        raise n.fail(f"a weight of {len(w)} dimensions (linear takes 2)")
    return [n.item("linear", {"out_features": w[1], "bias": False}, params=n.count(1))]


def _batchnorm(n: _Node) -> list[Item]:
    rank = len(n.shape(0))
    dims = {2: 1, 3: 1, 4: 2, 5: 3}.get(rank)
    if dims is None:
        raise n.fail(f"an input of {rank} dimensions")
    for extra in n.outputs[1:]:
        if extra and _used(n.m, extra):
            raise n.fail("the running statistics it outputs are used (a training graph)")
    args = _eps(n)
    return [n.item(f"batchnorm{dims}d", args, params=n.count(1, 2), buffers=n.count(3, 4))]


def _eps(n: _Node, default: float = 1e-5) -> dict[str, Any]:
    eps = _real(n.a.get("epsilon", default))
    return {} if eps == 1e-5 else {"eps": eps}


def _used(model: _Model, tensor: str) -> bool:
    return tensor in model.outputs or any(tensor in p.input for p in model.graph.node)


def _instancenorm(n: _Node) -> list[Item]:
    dims = _spatial(n, len(n.shape(0)) - 2)
    args = {**_eps(n), "affine": True}
    return [n.item(f"instancenorm{dims}d", args, params=n.count(1, 2))]


def _layernorm(n: _Node) -> list[Item]:
    shape = n.shape(0)
    axis = n.a.get("axis", -1)
    axis = axis + len(shape) if axis < 0 else axis
    if not 1 <= axis < len(shape):
        raise n.fail(f"normalizes from axis {axis}, which takes in the batch")
    args: dict[str, Any] = {"normalized_shape": list(shape[axis:]), **_eps(n)}
    if not n.has(1) or n.inputs[1] not in n.m.learned:
        args["elementwise_affine"] = False
    elif not n.has(2):
        args["bias"] = False
    params = n.count(1, 2) if n.inputs[1] in n.m.learned else 0
    return [n.item("layernorm", args, params=params)]


def _simple(type_: str, **fixed: Any) -> Callable[[_Node], list[Item]]:
    """An operator that is one cnncalc layer with these arguments."""

    def rule(n: _Node) -> list[Item]:
        return [n.item(type_, dict(fixed))]

    return rule


def _with(type_: str, attr: str, arg: str, default: float) -> Callable[[_Node], list[Item]]:
    """An activation with one float argument, written when it is not PyTorch's default."""

    def rule(n: _Node) -> list[Item]:
        value = _real(n.a.get(attr, default))
        return [n.item(type_, {} if value == default else {arg: value})]

    return rule


def _hardsigmoid(n: _Node) -> list[Item]:
    alpha, beta = _real(n.a.get("alpha", 0.2)), _real(n.a.get("beta", 0.5))
    if (alpha, beta) != (_real(1 / 6), 0.5):
        raise n.fail(f"alpha {alpha}, beta {beta}: PyTorch's hardsigmoid is x/6 + 1/2")
    return [n.item("hardsigmoid", {})]


def _selu(n: _Node) -> list[Item]:
    if "alpha" in n.a or "gamma" in n.a:
        alpha, gamma = _real(n.a.get("alpha", 1.67326)), _real(n.a.get("gamma", 1.0507))
        if abs(alpha - 1.6732632) > 1e-5 or abs(gamma - 1.0507010) > 1e-5:
            raise n.fail(f"alpha {alpha}, gamma {gamma}: not PyTorch's selu")
    return [n.item("selu", {})]


def _gelu(n: _Node) -> list[Item]:
    approximate = n.a.get("approximate", "none")
    return [n.item("gelu", {} if approximate == "none" else {"approximate": approximate})]


def _prelu(n: _Node) -> list[Item]:
    return [n.item("prelu", {"num_parameters": n.count(1)}, params=n.count(1))]


def _clip(n: _Node) -> list[Item]:
    low, high = n.a.get("min"), n.a.get("max")
    for i, bound in ((1, "min"), (2, "max")):
        if n.has(i):
            values = n.value(i)
            if values is None or len(values) != 1:
                raise n.fail(f"its {bound} is not a constant; {_WRITE_BY_HAND}")
            low, high = (values[0], high) if i == 1 else (low, values[0])
    if low == 0 and high is None:
        return [n.item("relu", {})]
    if low == 0 and high == 6:
        return [n.item("relu6", {})]
    if low is None or high is None:
        raise n.fail(f"a clip with one bound ({low}, {high}); {_WRITE_BY_HAND}")
    return [n.item("hardtanh", {"min_val": _real(low), "max_val": _real(high)})]


def _softmax(type_: str) -> Callable[[_Node], list[Item]]:
    def rule(n: _Node) -> list[Item]:
        rank = len(n.shape(0))
        axis = n.a.get("axis", -1 if n.m.opset >= 13 else 1)
        axis = axis + rank if axis < 0 else axis
        if n.m.opset < 13 and axis != rank - 1:
            raise n.fail("before opset 13 it flattens from its axis; export with opset 13+")
        if axis == 0:
            raise n.fail("over the batch dimension")
        return [n.item(type_, {"dim": axis})]

    return rule


def _dropout(n: _Node) -> list[Item]:
    if len(n.outputs) > 1 and n.outputs[1] and _used(n.m, n.outputs[1]):
        raise n.fail("its mask is used (a training graph)")
    ratio = n.value(1)
    p = _real(ratio[0]) if ratio else _real(n.a.get("ratio", 0.5))
    return [n.item("dropout", {} if p == 0.5 else {"p": p})]


def _pool(type_: str) -> Callable[[_Node], list[Item]]:
    def rule(n: _Node) -> list[Item]:
        kernel = n.a.get("kernel_shape")
        if not kernel:
            raise n.fail("no kernel_shape")
        dims = _spatial(n, len(kernel))
        if len(n.outputs) > 1 and n.outputs[1]:
            raise n.fail("its indices output is used; cnncalc's pools give one output")
        args = _window(n, dims, kernel)
        args.setdefault("stride", 1)  # ONNX's default stride is 1, PyTorch's the kernel
        padding, pre = _padding(n, dims)
        if pre is not None:
            raise n.fail(f"pads that differ on the two sides; {_WRITE_BY_HAND}")
        if padding != 0:
            args["padding"] = padding
        dilation = n.a.get("dilations", [1] * dims)
        if any(d != 1 for d in dilation):
            if type_ != "maxpool":
                raise n.fail("a dilated average pool")
            args["dilation"] = _one(dilation)
        if n.a.get("ceil_mode", 0):
            args["ceil_mode"] = True
        if type_ == "avgpool" and padding != 0 and not n.a.get("count_include_pad", 0):
            args["count_include_pad"] = False
        return [n.item(f"{type_}{dims}d", args)]

    return rule


def _global_pool(type_: str) -> Callable[[_Node], list[Item]]:
    def rule(n: _Node) -> list[Item]:
        dims = _spatial(n, len(n.shape(0)) - 2)
        return [n.item(f"{type_}{dims}d", {"output_size": 1})]

    return rule


_MERGES = {"Add": "add", "Sub": "subtract", "Mul": "multiply", "Div": "divide"}


def _parameter(n: _Node, i: int, rank: int) -> Item:
    """A learned tensor read by a merge or concat, as a `parameter` (its shape without the
    batch: a leading 1 of a tensor of the output's rank is the batch's place)."""
    name = n.inputs[i]
    dims = n.weight(i)
    if len(dims) == rank:
        if dims[0] != 1:
            raise n.fail(f"the weight '{name}' of shape {list(dims)} spans the batch dimension")
        dims = dims[1:]
    if len(dims) > rank:
        raise n.fail(f"the weight '{name}' has more dimensions than the output")
    shape = list(dims) or [1]
    n.m.claim(name, n.name)
    tensor = f"{name}\0{n.name}"
    n.m.shapes[tensor] = (n.m.batch, *shape)
    label = n.m.origin.get(name, name).rsplit(".", 1)[-1]
    return n.item("parameter", {"shape": shape}, inputs=(), outputs=(tensor,), label=label,
                  params=math.prod(shape))  # fmt: skip


def _merge(n: _Node) -> list[Item]:
    kind, out = _MERGES[n.op], n.out()
    if n.act(0) and n.act(1):
        for i in (0, 1):
            if len(n.shape(i)) != len(out):
                raise n.fail(
                    f"input {i} has fewer dimensions than the output; cnncalc's merges take"
                    " inputs of the output's rank (PyTorch puts a batch in front of each)"
                )
        return [n.item(kind, {}, inputs=(n.inputs[0], n.inputs[1]))]
    act = 0 if n.act(0) else 1
    other = n.inputs[1 - act]
    if other in n.m.learned:
        param = _parameter(n, 1 - act, len(out))
        ins = (n.inputs[0], param.outputs[0]) if act == 0 else (param.outputs[0], n.inputs[1])
        return [param, n.item(kind, {}, inputs=ins)]
    if n.shape(act) != out:
        raise n.fail(
            f"a constant that broadcasts the activation to a larger shape; {_WRITE_BY_HAND}"
        )
    note = f"{n.op} by a constant: an identity here (no FLOPs counted)"
    return [n.item("identity", {}, inputs=(n.inputs[act],), comment=note)]


def _axis(n: _Node, axis: int, rank: int) -> int:
    axis = axis + rank if axis < 0 else axis
    if not 1 <= axis < rank:
        raise n.fail(f"axis {axis} is the batch's (or out of range)")
    return axis


def _concat(n: _Node) -> list[Item]:
    rank = len(n.out())
    items, ins = [], []
    for i, name in enumerate(n.inputs):
        if name in n.m.acts:
            ins.append(name)
        elif name in n.m.learned:
            items.append(_parameter(n, i, rank))
            ins.append(items[-1].outputs[0])
        else:
            raise n.fail(f"input '{name}' is a constant; {_WRITE_BY_HAND}")
    if len(ins) == 1:
        return [n.item("identity", {}, inputs=(ins[0],))]
    dim = _axis(n, n.a.get("axis", 1), rank)
    return [*items, n.item("concat", {"dim": dim}, inputs=tuple(ins))]


def _split(n: _Node) -> list[Item]:
    rank = len(n.shape(0))
    dim = _axis(n, n.a.get("axis", 0), rank)
    if len(n.outputs) == 1:
        return [n.item("identity", {})]
    sizes = [n.out(j)[dim] for j in range(len(n.outputs))]
    args = {"split_size_or_sections": sizes, "dim": dim}
    return [n.item("split", args, outputs=tuple(n.outputs))]


def _flatten(n: _Node) -> list[Item]:
    rank = len(n.shape(0))
    axis = n.a.get("axis", 1)
    if (axis + rank if axis < 0 else axis) != 1:
        raise n.fail(f"flattens from axis {axis}, mixing the batch into the other dimensions")
    return [n.item("flatten", {})]


def _reshape(n: _Node) -> list[Item]:
    if n.op in ("Squeeze", "Unsqueeze"):
        axes = n.a.get("axes") or n.value(1)
        if axes is None:
            raise n.fail("no axes: it would squeeze the batch dimension too")
        rank = len(n.out() if n.op == "Unsqueeze" else n.shape(0))
        if any(int(a) % rank == 0 for a in axes):
            raise n.fail("its axes include the batch dimension")
    out = n.out()
    if len(out) < 2 or out[0] != n.m.batch:
        raise n.fail(
            f"reshapes {list(n.shape(0))} to {list(out)}, moving the batch dimension;"
            f" {_WRITE_BY_HAND}"
        )
    return [n.item("reshape", {"shape": list(out[1:])})]


def _transpose(n: _Node) -> list[Item]:
    rank = len(n.shape(0))
    perm = n.a.get("perm", list(reversed(range(rank))))
    if not perm or perm[0] != 0:
        raise n.fail(f"perm {perm} moves the batch dimension")
    return [n.item("permute", {"dims": perm})]


_PAD_MODES = {"reflect": "reflectionpad", "edge": "replicationpad", "wrap": "circularpad"}


def _pad(n: _Node) -> list[Item]:
    rank = len(n.shape(0))
    dims = _spatial(n, rank - 2)
    pads = n.a.get("pads") or n.value(1)
    if pads is None or len(pads) != 2 * rank or n.has(3):
        raise n.fail(f"pads that are not a constant of 2 × {rank} values; {_WRITE_BY_HAND}")
    begin, end = [int(p) for p in pads[:rank]], [int(p) for p in pads[rank:]]
    if begin[:2] != [0, 0] or end[:2] != [0, 0]:
        raise n.fail("pads the batch or the channels")
    padding = [p for d in reversed(range(2, rank)) for p in (begin[d], end[d])]
    mode = n.a.get("mode", "constant")
    if mode != "constant":
        if mode not in _PAD_MODES:
            raise n.fail(f"mode '{mode}'")
        return [n.item(f"{_PAD_MODES[mode]}{dims}d", {"padding": padding})]
    value = n.value(2) if n.has(2) else [n.a.get("value", 0.0)]
    if not value:
        raise n.fail(f"a pad value that is not a constant; {_WRITE_BY_HAND}")
    if value[0] == 0:
        return [n.item(f"zeropad{dims}d", {"padding": padding})]
    return [n.item(f"constantpad{dims}d", {"padding": padding, "value": _real(value[0])})]


_LINEAR_MODES = {1: "linear", 2: "bilinear", 3: "trilinear"}


def _resize(n: _Node) -> list[Item]:
    x, out = n.shape(0), n.out()
    if x[:2] != out[:2]:
        raise n.fail(f"resizes {list(x)} to {list(out)}: the batch or channels change")
    dims = _spatial(n, len(x) - 2)
    mode = n.a.get("mode", "nearest")
    modes = {"nearest": "nearest", "linear": _LINEAR_MODES[dims], "cubic": "bicubic"}
    if mode not in modes or (mode == "cubic" and dims != 2):
        raise n.fail(f"mode '{mode}' on {dims} spatial dimensions")
    args: dict[str, Any] = {}
    if all(x[2:]) and all(o % i == 0 for i, o in zip(x[2:], out[2:], strict=True)):
        args["scale_factor"] = _one([o // i for i, o in zip(x[2:], out[2:], strict=True)])
    else:
        args["size"] = _one(out[2:])
    args["mode"] = modes[mode]
    if mode != "nearest" and n.a.get("coordinate_transformation_mode") == "align_corners":
        args["align_corners"] = True
    return [n.item("upsample", args)]


def _gather(n: _Node) -> list[Item]:
    """A lookup in a weight by activation indices (an embedding), or a constant index along
    one dimension of an activation (`x[:, 0]`: narrow, then drop the dimension)."""
    if not n.act(0):
        w = n.weight(0)
        if n.a.get("axis", 0) != 0 or len(w) != 2:
            raise n.fail(f"a lookup that is not an embedding table; {_WRITE_BY_HAND}")
        args = {"num_embeddings": w[0], "embedding_dim": w[1]}
        return [n.item("embedding", args, inputs=(n.inputs[1],), params=n.count(0))]
    rank = len(n.shape(0))
    dim = _axis(n, n.a.get("axis", 0), rank)
    index = n.value(1)
    if n.act(1) or index is None or len(index) != 1:
        raise n.fail(f"indices that are not one constant; {_WRITE_BY_HAND}")
    start = int(index[0]) % n.shape(0)[dim]
    return _narrowed(n, [(dim, start, 1)])


def _narrowed(n: _Node, cuts: list[tuple[int, int, int]]) -> list[Item]:
    """`narrow` entries, one per cut dimension, then a reshape where the rank drops."""
    items: list[Item] = []
    source = n.inputs[0]
    for k, (dim, start, length) in enumerate(cuts):
        tensor = f"{n.outputs[0]}\0narrow{k}"
        n.m.shapes[tensor] = None
        args = {"dim": dim, "start": start, "length": length}
        label = f"{n.label}_narrow{k or ''}"
        items.append(n.item("narrow", args, inputs=(source,), outputs=(tensor,), label=label))
        source = tensor
    out = n.out()
    if len(out) != len(n.shape(0)):
        items.append(n.item("reshape", {"shape": list(out[1:])}, inputs=(source,)))
    else:
        items[-1] = items[-1]._replace(outputs=(n.outputs[0],), label=n.label)
    return items


def _slice(n: _Node) -> list[Item]:
    starts, axes, steps = n.value(1), n.value(3), n.value(4)
    x, out = n.shape(0), n.out()
    if starts is None or (n.has(3) and axes is None) or (n.has(4) and steps is None):
        raise n.fail(f"starts, axes or steps that are not constants; {_WRITE_BY_HAND}")
    axes = axes if axes is not None else list(range(len(starts)))
    if any(s != 1 for s in (steps or [])):
        raise n.fail(f"a step other than 1; {_WRITE_BY_HAND}")
    cuts = []
    for start, axis in zip(starts, axes, strict=True):
        dim = int(axis) % len(x)
        if out[dim] == x[dim]:
            continue
        if dim == 0:
            raise n.fail("it slices the batch dimension")
        first = int(start) + x[dim] if start < 0 else min(int(start), x[dim])
        cuts.append((dim, max(first, 0), out[dim]))
    return _narrowed(n, cuts) if cuts else [n.item("identity", {})]


_REDUCE = {"ReduceMean": "mean", "ReduceSum": "sum", "ReduceMax": "amax"}


def _reduce(n: _Node) -> list[Item]:
    axes = n.a.get("axes") or n.value(1)
    if not axes:
        raise n.fail("no axes: it would reduce over the batch too")
    rank = len(n.shape(0))
    dims = [_axis(n, int(a), rank) for a in axes]
    args = {"dim": dims[0] if len(dims) == 1 else dims, "keepdim": bool(n.a.get("keepdims", 1))}
    return [n.item(_REDUCE[n.op], args)]


_RULES: dict[str, Callable[[_Node], list[Item]]] = {
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "BatchNormalization": _batchnorm,
    "InstanceNormalization": _instancenorm,
    "LayerNormalization": _layernorm,
    "Relu": _simple("relu"),
    "Sigmoid": _simple("sigmoid"),
    "Tanh": _simple("tanh"),
    "LeakyRelu": _with("leakyrelu", "alpha", "negative_slope", 0.01),
    "Elu": _with("elu", "alpha", "alpha", 1.0),
    "Celu": _with("celu", "alpha", "alpha", 1.0),
    "Selu": _selu,
    "HardSigmoid": _hardsigmoid,
    "HardSwish": _simple("hardswish"),
    "Gelu": _gelu,
    "Softplus": _simple("softplus"),
    "Softsign": _simple("softsign"),
    "Mish": _simple("mish"),
    "PRelu": _prelu,
    "Clip": _clip,
    "Softmax": _softmax("softmax"),
    "LogSoftmax": _softmax("logsoftmax"),
    "Dropout": _dropout,
    "Identity": _simple("identity"),
    "MaxPool": _pool("maxpool"),
    "AveragePool": _pool("avgpool"),
    "GlobalAveragePool": _global_pool("adaptiveavgpool"),
    "GlobalMaxPool": _global_pool("adaptivemaxpool"),
    "Add": _merge,
    "Sub": _merge,
    "Mul": _merge,
    "Div": _merge,
    "Concat": _concat,
    "Split": _split,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Squeeze": _reshape,
    "Unsqueeze": _reshape,
    "Transpose": _transpose,
    "Pad": _pad,
    "Resize": _resize,
    "Upsample": _resize,
    "Gather": _gather,
    "Slice": _slice,
    "ReduceMean": _reduce,
    "ReduceSum": _reduce,
    "ReduceMax": _reduce,
}
SUPPORTED = tuple(sorted(_RULES))  # the operators read, for docs and tests


def _fuse(model: _Model, items: list[Item]) -> list[Item]:
    """Patterns that are one PyTorch layer: MatMul + Add of a bias (a linear on a sequence),
    Mul(x, Sigmoid(x)) (SiLU)."""
    readers: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        for t in it.inputs:
            readers.setdefault(t, []).append(i)
    made = {t: i for i, it in enumerate(items) for t in it.outputs}
    gone: set[int] = set()
    out = list(items)
    for i, it in enumerate(items):
        only = readers.get(it.outputs[0], []) if it.outputs else []
        if len(only) != 1 or it.outputs[0] in model.outputs:
            continue
        j = only[0]
        nxt = items[j]
        other = [t for t in nxt.inputs if t != it.outputs[0]]
        if it.type == "linear" and nxt.type == "add" and len(other) == 1 and other[0] in made:
            bias = items[made[other[0]]]
            if bias.type == "parameter" and bias.args["shape"] == [it.args["out_features"]]:
                args = {k: v for k, v in it.args.items() if k != "bias"}
                out[j] = it._replace(args=args, outputs=nxt.outputs, params=it.params + bias.params)
                gone |= {i, made[other[0]]}
        elif it.type == "sigmoid" and nxt.type == "multiply" and other == list(it.inputs):
            out[j] = it._replace(type="silu", outputs=nxt.outputs)
            gone.add(i)
    return [it for i, it in enumerate(out) if i not in gone]


# ---------------------------------------------------------------------------------------------
# Items → entries: a module of one input and one output becomes a block instance
# ---------------------------------------------------------------------------------------------


class _Scope:
    def __init__(self, name: str) -> None:
        self.name = name
        self.members: list[Item | _Scope] = []
        self.kids: dict[str, _Scope] = {}


def _arrange(model: _Model, items: list[Item]) -> list[Entry]:
    """The entries of the top-level list: items grouped by their module paths."""
    root = _Scope("")
    for it in items:
        scope = root
        for part in it.path:
            kid = scope.kids.get(part)
            if kid is None:
                kid = scope.kids[part] = _Scope(part)
                scope.members.append(kid)
            scope = kid
        scope.members.append(it)
    readers: dict[str, set[int]] = {}
    for it in items:
        for t in it.inputs:
            readers.setdefault(t, set()).add(id(it))
    return _Arranger(model, readers).entries(root, "")


def _items(entries: Sequence[Entry]) -> list[Item]:
    found: list[Item] = []
    for e in entries:
        found += [e.item] if e.item is not None else _items(e.body)
    return found


def _unique(entries: list[Entry]) -> list[Entry]:
    """Names made unique within a list (a second `x` becomes `x_2`)."""
    seen: set[str] = set()
    done = []
    for e in entries:
        name, n = e.name, 1
        while name in seen:
            n += 1
            name = f"{e.name}_{n}"
        seen.add(name)
        done.append(e._replace(name=name))
    return done


class _Arranger:
    def __init__(self, model: _Model, readers: dict[str, set[int]]) -> None:
        self.m = model
        self.readers = readers

    def entries(self, scope: _Scope, prefix: str) -> list[Entry]:
        found: list[Entry] = []
        for m in scope.members:
            if isinstance(m, Item):
                found.append(Entry(_clean(m.label, m.type), m.type, m.inputs, m.outputs, m))
            else:
                found += self.kid(m, f"{prefix}{m.name}.")
        return _unique(found)

    def kid(self, kid: _Scope, prefix: str) -> list[Entry]:
        sub = self.entries(kid, prefix)
        if len(sub) == 1 and sub[0].item is not None and not kid.kids:
            return [sub[0]._replace(name=kid.name)]
        ends = self.ends(sub)
        if ends is None and not kid.kids and all(e.item is not None for e in sub):
            # one module called several times (a shared ReLU): relu, relu_1, ...
            return [
                e._replace(name=kid.name if i == 0 else f"{kid.name}_{i}")
                for i, e in enumerate(sub)
            ]
        if ends is None:  # several inputs or outputs: its layers go in the list around it
            return [e._replace(name=f"{kid.name}_{e.name}") for e in sub]
        inp, out = ends
        last = next(e for e in sub if e.outputs and e.outputs[0] == out)
        sub = [e for e in sub if e is not last] + [last]
        return [Entry(kid.name, "", (inp,), (out,), body=tuple(sub), path=prefix.rstrip("."))]

    def ends(self, sub: list[Entry]) -> tuple[str, str] | None:
        """The one tensor a module reads and the one it gives, or None (not a block)."""
        inside = _items(sub)
        ids = {id(it) for it in inside}
        made = {t for it in inside for t in it.outputs}
        reads = {t for it in inside for t in it.inputs if t not in made}
        gives = [t for t in made if t in self.m.outputs or not self.readers.get(t, set()) <= ids]
        if len(reads) != 1 or len(gives) != 1:
            return None
        if not any(e.outputs and e.outputs[0] == gives[0] for e in sub):
            return None
        return reads.pop(), gives[0]


# ---------------------------------------------------------------------------------------------
# Blocks: instances of one structure share a block, the numbers that differ between them its
# arguments; a Sequential of instances of one block with the same arguments is a `repeat`
# ---------------------------------------------------------------------------------------------


class _Use(NamedTuple):
    """How an instance is written: its block (or, repeated, its copies' block) and arguments."""

    kind: str
    args: dict[str, Any]
    repeat: int = 1


def _height(e: Entry) -> int:
    return 0 if e.item is not None else 1 + max(_height(b) for b in e.body)


def _instances(entries: Sequence[Entry]) -> list[Entry]:
    found: list[Entry] = []
    for e in entries:
        if e.item is None:
            found += [*_instances(e.body), e]
    return found


def _local_refs(entries: Sequence[Entry], outer: dict[str, str]) -> dict[str, str]:
    """How a list names each tensor: `input` (or an input's name), an entry, `entry:1`."""
    refs = dict(outer)
    for e in entries:
        for j, t in enumerate(e.outputs):
            refs[t] = e.name if j == 0 else f"{e.name}:{j}"
    return refs


def _holes(value: Any, found: list[tuple[str, int]], key: str) -> Any:
    """The value with each integer (not a bool) replaced by None, the integers in `found`."""
    if isinstance(value, dict):
        return tuple((k, _holes(v, found, k)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_holes(v, found, key) for v in value)
    if type(value) is int:
        found.append((key, value))
        return None
    return value


def _filled(value: Any, names: list[str | None], values: list[int], at: list[int]) -> Any:
    """`_holes` undone: each integer is its value, or `${name}` where it is an argument."""
    if isinstance(value, dict):
        return {k: _filled(v, names, values, at) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, names, values, at) for v in value]
    if type(value) is int:
        i = at[0]
        at[0] += 1
        name = names[i]
        return values[i] if name is None else f"${{{name}}}"
    return value


# ---------------------------------------------------------------------------------------------
# Entries → YAML text
# ---------------------------------------------------------------------------------------------


def _shape_text(shape: Shape) -> str:
    return f"[{', '.join(str(d) for d in shape)}]"


class _Writer:
    """The spec's text: blocks named and given arguments, then every list written out."""

    def __init__(self, model: _Model) -> None:
        self.m = model
        self.uses: dict[int, _Use] = {}  # by id of the instance entry
        self.shown: dict[int, dict[str, Any]] = {}  # a block body's arguments, with ${...}
        self.defs: list[tuple[str, dict[str, None], Entry]] = []
        self.names: set[str] = set()

    def use(self, e: Entry) -> tuple[str, dict[str, Any]]:
        """An entry's type (or block) and arguments."""
        if e.item is not None:
            return e.kind, e.item.args
        use = self.uses[id(e)]
        return use.kind, use.args

    def name_blocks(self, entries: Sequence[Entry]) -> None:
        """Every instance's block: lowest modules first, as a block's text names the blocks
        inside it; instances alike but for some numbers share a block with those arguments."""
        instances = _instances(entries)
        for height in sorted({_height(e) for e in instances}):
            groups: dict[Any, list[tuple[Entry, list[tuple[str, int]]]]] = {}
            for e in (i for i in instances if _height(i) == height):
                if not self._repeat(e):
                    found: list[tuple[str, int]] = []
                    groups.setdefault(self._skeleton(e, found), []).append((e, found))
            for members in groups.values():
                self._define(members)

    def _repeat(self, e: Entry) -> bool:
        """A Sequential `0`, `1`, ... of one block with one set of arguments: a `repeat`."""
        body = e.body
        if len(body) < 2 or any(b.item is not None for b in body):
            return False
        if [b.name for b in body] != [str(i) for i in range(len(body))]:
            return False
        uses = [self.uses[id(b)] for b in body]
        if any(u != uses[0] or u.repeat != 1 for u in uses):
            return False
        chain = [e.inputs[0]] + [b.outputs[0] for b in body[:-1]]
        if any(b.inputs != (x,) for b, x in zip(body, chain, strict=True)):
            return False
        self.uses[id(e)] = uses[0]._replace(repeat=len(body))
        return True

    def _skeleton(self, e: Entry, found: list[tuple[str, int]]) -> Any:
        """What an instance's block must be, its integers left out (they go in `found`)."""
        refs = _local_refs(e.body, {e.inputs[0]: "input"})
        shape = []
        for b in e.body:
            kind, args = self.use(b)
            repeat = self.uses[id(b)].repeat if b.item is None else 1
            ins = tuple(refs[t] for t in b.inputs)
            shape.append((b.name, kind, _holes(args, found, ""), ins, repeat))
        return tuple(shape)

    def _define(self, members: list[tuple[Entry, list[tuple[str, int]]]]) -> None:
        first, values = members[0]
        columns = list(zip(*([n for _, n in found] for _, found in members), strict=True))
        names: list[str | None] = []
        args: dict[tuple[int, ...], str] = {}
        for (key, _), column in zip(values, columns, strict=True):
            if len(set(column)) == 1:
                names.append(None)
                continue
            if column not in args:
                arg, n = key or "n", 1
                while arg in args.values():
                    n += 1
                    arg = f"{key}_{n}"
                args[column] = arg
            names.append(args[column])
        name = self._block_name(first, [e for e, _ in members])
        at = [0]
        for b in first.body:
            given = self.use(b)[1]
            self.shown[id(b)] = _filled(given, names, [v for _, v in values], at)
        self.defs.append((name, {a: None for a in args.values()}, first))
        for e, found in members:
            own = {a: found[names.index(a)][1] for a in args.values()}
            self.uses[id(e)] = _Use(name, own)

    def _block_name(self, first: Entry, members: list[Entry]) -> str:
        from cnncalc.layers.registry import TYPES

        local = {e.name for e in members}
        one = local.pop() if len(local) == 1 else ""
        base = one if one and not one.isdigit() else first.path.replace(".", "_")
        name = _clean(base, "block").replace("-", "_")
        if not re.match(r"[A-Za-z_]", name) or name.lower() in TYPES:
            name = f"block_{name}"
        found, n = name, 1
        while found in self.names:
            n += 1
            found = f"{name}_{n}"
        self.names.add(found)
        return found

    def lines(self, entries: Sequence[Entry], outer: dict[str, str], top: bool) -> list[str]:
        """The layer list: `- type: {args}`, `name:`, and `from:` where it is not the
        previous entry (or the list's input, for the first)."""
        refs = _local_refs(entries, outer)
        lines: list[str] = []
        prev = [next(iter(outer.values()))]
        for e in entries:
            lines += self.entry(e, [refs[t] for t in e.inputs], prev, top)
            prev = [e.name]
        return lines

    def entry(self, e: Entry, ins: list[str], prev: list[str], top: bool) -> list[str]:
        kind, args = self.use(e)
        args = self.shown.get(id(e), args)
        head = f"- {kind}: {yamltext.value(args) if args else ''}".rstrip()
        item = e.item
        notes = [item.comment] if item is not None and item.comment else []
        shape = self.m.shapes.get(e.outputs[0]) if top and e.outputs else None
        if shape is not None and (item is None or item.type != "parameter"):
            notes.insert(0, _shape_text(shape[1:]))
        if notes:
            head += "  # " + "; ".join(notes)
        lines = [head, f"  name: {yamltext.value(e.name)}"]
        if ins and ins != prev:
            lines.append(
                f"  from: {yamltext.value(ins[0]) if len(ins) == 1 else yamltext.value(ins)}"
            )
        if item is None and self.uses[id(e)].repeat > 1:
            lines.append(f"  repeat: {self.uses[id(e)].repeat}")
        return lines

    def spec(self, entries: list[Entry]) -> str:
        m = self.m
        names = {t: (_clean(t, "x") if len(m.inputs) > 1 else "input") for t in m.inputs}
        layers = self.lines(entries, names, top=True)
        out = [
            f"# Imported from {terminal(os.path.basename(m.source))} by cnncalc's ONNX importer"
            f" ({terminal(m.producer) or 'unknown producer'}, opset {m.opset}).",
            "# Names are the model's own; shapes, parameters and buffers were checked against"
            " the file.",
            f"name: {yamltext.value(terminal(os.path.splitext(os.path.basename(m.source))[0]))}",
        ]
        if len(m.inputs) == 1:
            out.append(f"input: {_shape_text(next(iter(m.inputs.values()))[1:])}")
        else:
            out.append("inputs:")
            out += [f"  {names[t]}: {_shape_text(s[1:])}" for t, s in m.inputs.items()]
        refs = _local_refs(entries, names)
        last = entries[-1].outputs[0] if entries and entries[-1].outputs else None
        if m.outputs != [last]:
            out.append(f"outputs: {yamltext.value([refs[t] for t in m.outputs])}")
        if self.defs:
            out.append("blocks:")
            for name, args, first in self.defs:
                out.append(f"  {name}:")
                if args:
                    out.append(f"    args: {yamltext.value(args)}")
                out.append("    layers:")
                body = self.lines(first.body, {first.inputs[0]: "input"}, top=False)
                out += [f"      {line}" for line in body]
        out += ["layers:", *(f"  {line}" for line in layers)]
        return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# The spec checked against the file
# ---------------------------------------------------------------------------------------------


def _walk(entries: Sequence[Entry], prefix: str) -> list[tuple[str, Item]]:
    """Every item and its qualified name: `layer1.0.conv1`."""
    found: list[tuple[str, Item]] = []
    for e in entries:
        name = f"{prefix}{e.name}"
        found += [(name, e.item)] if e.item is not None else _walk(e.body, f"{name}.")
    return found


def _check(model: _Model, text: str, entries: list[Entry]) -> None:
    """Build the spec and hold each layer to what the file says: output shapes (as onnx's
    shape inference gives them), parameters and buffers (the initializers' sizes)."""
    from cnncalc.graph import build
    from cnncalc.spec import from_text

    layers = _walk(entries, "")
    try:
        graph = build(from_text(text, "<imported spec>"))
    except CnncalcError as err:
        item = dict(layers).get(err.layer or "")
        where = f"{item.type} '{err.layer}': " if item is not None else ""
        raise ModelError(
            f"the spec made from it does not build: {where}{err.message}",
            model.source,
            item.node if item is not None else None,
        ) from None
    for name, item in layers:
        layer = graph.by_name.get(name)
        if layer is None:
            raise ModelError(
                f"{item.type} '{name}' is missing from the spec", model.source, item.node
            )
        for j, t in enumerate(item.outputs):
            want = model.shapes.get(t)
            got = layer.result.shapes[j] if j < len(layer.result.shapes) else None
            if want is not None and got != want[1:]:
                raise ModelError(
                    f"cnncalc's {item.type} '{name}' gives {list(got or ())}; the model says"
                    f" {list(want[1:])}",
                    model.source,
                    item.node,
                )
        if (layer.result.param_count, layer.result.buffer_count) != (item.params, item.buffers):
            raise ModelError(
                f"cnncalc's {item.type} '{name}' has {layer.result.param_count:,} parameters"
                f" and {layer.result.buffer_count:,} buffer elements; the file's weights have"
                f" {item.params:,} and {item.buffers:,}",
                model.source,
                item.node,
            )
