"""Keras models → specs, from their JSON config alone: no TensorFlow or Keras is imported.

The config is `model.to_json()`'s text, or the `config.json` inside a `.keras` file (a zip).
Sequential and Functional models are read, in Keras 3's format and Keras 2's (`inbound_nodes`
as nested lists). Keras computes channels last and cnncalc channels first, so every tensor
carries its *order*: `CL` (cnncalc holds the Keras tensor (..., C) as [C, ...]: what convs,
pools and batch norms take) or `SAME` (cnncalc holds it as Keras does: what sequence layers,
`Reshape` and `Permute` take). A layer that needs the other order gets a `permute` in front
(a view: no parameters), and the spec's layout is the inputs' order, so the shapes it prints
are Keras's. Before the text is returned the spec is built and every shape the config states
is compared with cnncalc's; a difference is a ModelError naming the layer.
"""

from __future__ import annotations

import heapq
import json
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO, NamedTuple

from cnncalc import graph, spec
from cnncalc.errors import CnncalcError
from cnncalc.importers import Imported, ModelError, Shape, open_regular, yamltext

try:
    from lzma import LZMAError

    _LZMA_ERRORS: tuple[type[Exception], ...] = (LZMAError,)
except ImportError:  # a Python built without lzma: zipfile cannot open such members at all
    _LZMA_ERRORS = ()

MAX_CONFIG_BYTES = 16 * 1024 * 1024  # read at most: JSON parses to up to 36 times its size
MAX_KERAS_LAYERS = 20_000  # Keras layers a config may hold
MAX_RANK = 6  # dimensions of a Keras tensor, without the batch
MAX_SHAPE_BUILDS = 200  # partial builds to find channels a (Keras 2) config does not state
CL, SAME = "cl", "same"
NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")

Config = Mapping[str, Any]
Key = tuple[str, int, int]  # a Keras tensor: (layer, call, output)


class T(NamedTuple):
    """A tensor of the spec: the `from` that reads it, its rank (no batch) and its order."""

    ref: str
    rank: int
    order: str

    def keras(self, shape: Shape) -> Shape:
        """cnncalc's shape of this tensor, written as Keras writes it."""
        if self.order == CL and len(shape) >= 2:
            return (*shape[1:], shape[0])
        return shape


class Layer(NamedTuple):
    """One Keras layer of the config: its class, config and each call's input tensors."""

    name: str
    cls: str
    config: Config
    calls: tuple[tuple[Key, ...], ...]
    kwargs: tuple[Config, ...]  # each call's keyword arguments (MultiHeadAttention's key)


class Model(NamedTuple):
    """A Keras model as read: its inputs (name, Keras shape), layers, outputs, stated shapes."""

    inputs: tuple[tuple[str, tuple[int | None, ...]], ...]
    layers: tuple[Layer, ...]
    outputs: tuple[Key, ...]
    stated: Mapping[Key, tuple[int | None, ...]]  # what the config says each tensor's shape is


def read(target: str, *, input_shape: Shape | None = None) -> Imported:
    """The spec of the Keras model whose JSON config is at `target` (.json or .keras)."""
    model = parse(load(target), target)
    text = translate(model, target, input_shape)
    return Imported(text, "keras", target)


def load(target: str) -> Any:
    """The config as JSON data, read within MAX_CONFIG_BYTES from a regular file."""
    with open_regular(target) as f:
        data = _config_bytes(f, target)
    if len(data) > MAX_CONFIG_BYTES:
        raise ModelError(_too_large(len(data)), target)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as err:
        raise ModelError(f"not a Keras JSON config: {err}", target) from None


def _config_bytes(f: BinaryIO, target: str) -> bytes:
    """The JSON text: the file itself, or the config.json in it when it is a zip (.keras)."""
    try:
        if not (target.lower().endswith(".keras") or zipfile.is_zipfile(f)):
            size = os.fstat(f.fileno()).st_size
            if size > MAX_CONFIG_BYTES:
                raise ModelError(_too_large(size), target)
            f.seek(0)
            return f.read(MAX_CONFIG_BYTES + 1)
        f.seek(0)
        with zipfile.ZipFile(f) as archive:
            try:
                info = archive.getinfo("config.json")
            except KeyError:
                raise ModelError(
                    "this .keras file has no config.json: save the model with"
                    " model.save('model.keras'), or give model.to_json()'s text",
                    target,
                ) from None
            if info.file_size > MAX_CONFIG_BYTES:
                raise ModelError(_too_large(info.file_size), target)
            with archive.open(info) as member:
                return member.read(MAX_CONFIG_BYTES + 1)
    except OSError as err:
        raise ModelError(f"cannot read the model: {err}", target) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error) as err:
        raise ModelError(f"a broken .keras (zip) file: {err}", target) from None
    except NotImplementedError as err:  # zipfile: a compression method it does not know
        raise ModelError(f"cannot read config.json: {err}", target) from None
    except RuntimeError:  # zipfile: a member encrypted, a password needed
        raise ModelError(
            "config.json is encrypted (a password is needed); cnncalc reads the .keras files"
            " model.save() writes",
            target,
        ) from None
    except _LZMA_ERRORS as err:
        raise ModelError(f"a broken .keras (zip) file: {err}", target) from None


def _too_large(size: int) -> str:
    return f"the config is {size:,} bytes; cnncalc reads at most {MAX_CONFIG_BYTES:,}"


# --- the config → Model ---------------------------------------------------------------------


def parse(data: Any, source: str) -> Model:
    """The model a Keras JSON config describes (Sequential or Functional; Keras 3 or 2)."""
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise ModelError("not a Keras model config (no 'class_name' and 'config')", source)
    cls, config = data.get("class_name"), data["config"]
    layers = config.get("layers")
    if not isinstance(layers, list) or not all(isinstance(x, dict) for x in layers):
        raise ModelError(f"the {cls} config has no list of layers", source)
    if len(layers) > MAX_KERAS_LAYERS:
        raise ModelError(
            f"{len(layers):,} layers; cnncalc reads at most {MAX_KERAS_LAYERS:,}", source
        )
    seen: set[str] = set()
    for x in layers:
        _well_formed(x, source)
        if _name(x) in seen:
            raise ModelError("two layers of this name (Keras names each once)", source, _name(x))
        seen.add(_name(x))
    if cls == "Sequential":
        return _sequential(config, layers, source)
    if cls in ("Functional", "Model"):
        return _functional(config, layers, source)
    raise ModelError(
        f"a {cls} model: cnncalc reads Sequential and Functional models; a subclassed model"
        " has no config of its layers (export it to ONNX and import that)",
        source,
    )


def _well_formed(x: Config, source: str) -> None:
    """A layer's entry has the form every config's has: a name, a mapping for its config and
    a list of its calls; anything else is refused naming the layer (or its place)."""
    config = x.get("config")
    named = x.get("name", config.get("name") if isinstance(config, dict) else None)
    where = str(named) if isinstance(named, (str, int)) else f"{x.get('class_name')!s:.80}"
    if not isinstance(named, str) or not named:
        raise ModelError("a layer without a name (a string)", source, where)
    if not isinstance(x.get("class_name"), str):
        raise ModelError("a layer without a class_name (a string)", source, where)
    if config is not None and not isinstance(config, dict):
        raise ModelError(f"its config is a {type(config).__name__}, not a mapping", source, named)
    nodes = x.get("inbound_nodes")
    if nodes is not None and not isinstance(nodes, list):
        raise ModelError(
            f"its inbound_nodes is a {type(nodes).__name__}, not a list", source, named
        )


def _name(x: Config) -> str:
    name = x.get("name") or (x.get("config") or {}).get("name")
    return str(name)


def _batch_shape(config: Config) -> list[Any] | None:
    """The shape an InputLayer (or a Keras 2 first layer) declares, with the batch."""
    for key in ("batch_shape", "batch_input_shape"):
        if isinstance(config.get(key), list):
            return list(config[key])
    return None


def _shape(value: Any, source: str, what: str) -> tuple[int | None, ...]:
    """A Keras shape without its batch: ints and None (open)."""
    if not isinstance(value, list) or len(value) < 2 or len(value) > MAX_RANK + 1:
        raise ModelError(f"{what}: not a shape: {value!r:.80}", source, what)
    dims = value[1:]
    if not all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in dims
    ):
        raise ModelError(f"{what}: not a shape: {value!r:.80}", source, what)
    return tuple(dims)


def _sequential(config: Config, layers: list[Config], source: str) -> Model:
    first = layers[0] if layers else {}
    start = 1 if first.get("class_name") == "InputLayer" else 0
    declared = _batch_shape(first.get("config", {})) or config.get("build_input_shape")
    if declared is None and isinstance(first.get("build_config"), dict):
        declared = first["build_config"].get("input_shape")
    if declared is None:
        raise ModelError(
            "the Sequential model has no input shape (it was never built): give it a"
            " keras.Input(shape) first",
            source,
        )
    name = _name(first) if start else "input"
    shape = _shape(declared, source, "input")
    previous: Key = (name, 0, 0)
    out: list[Layer] = []
    stated: dict[Key, tuple[int | None, ...]] = {}
    for x in layers[start:]:
        layer = Layer(
            _name(x), str(x.get("class_name")), x.get("config") or {}, ((previous,),), ({},)
        )
        built = x.get("build_config")
        if isinstance(built, dict) and isinstance(built.get("input_shape"), list):
            stated[previous] = _shape(built["input_shape"], source, layer.name)  # what it reads
        out.append(layer)
        previous = (layer.name, 0, 0)
    return Model(((name, shape),), tuple(out), (previous,), stated)


def _functional(config: Config, layers: list[Config], source: str) -> Model:
    inputs: list[tuple[str, tuple[int | None, ...]]] = []
    out: list[Layer] = []
    stated: dict[Key, tuple[int | None, ...]] = {}
    for x in layers:
        name, cls = _name(x), str(x.get("class_name"))
        if cls == "InputLayer":
            declared = _batch_shape(x.get("config") or {})
            inputs.append((name, _shape(declared, source, name)))
            continue
        calls, kwargs = [], []
        for node in x.get("inbound_nodes") or []:
            keys, kw = _node(node, source, name, stated)
            calls.append(keys)
            kwargs.append(kw)
        out.append(Layer(name, cls, x.get("config") or {}, tuple(calls), tuple(kwargs)))
    order = [_key(k, source) for k in _keys_list(config.get("input_layers"))]
    if len({k[0] for k in order}) != len(order):
        raise ModelError("input_layers names an input more than once", source)
    by_name = dict(inputs)
    inputs = [(k[0], by_name[k[0]]) for k in order if k[0] in by_name] or inputs
    outputs = tuple(_key(k, source) for k in _keys_list(config.get("output_layers")))
    return Model(tuple(inputs), tuple(out), outputs, stated)


def _keys_list(value: Any) -> list[Any]:
    """input_layers / output_layers: one [name, node, index] or a list (or dict) of them."""
    if isinstance(value, dict):
        return [k for v in value.values() for k in _keys_list(v)]
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [value]
    return [k for v in value or [] for k in _keys_list(v)] if isinstance(value, list) else []


def _key(value: Any, source: str) -> Key:
    if (
        isinstance(value, list)
        and len(value) >= 3
        and isinstance(value[0], str)
        and all(isinstance(v, int) for v in value[1:3])
    ):
        return (value[0], value[1], value[2])
    raise ModelError(f"not a Keras tensor reference: {value!r:.80}", source)


def _node(
    node: Any, source: str, layer: str, stated: dict[Key, tuple[int | None, ...]]
) -> tuple[tuple[Key, ...], Config]:
    """One call: its input tensors in order (Keras 3's args, or Keras 2's nested list)."""
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        keys = list(_tensors(node.get("args"), source, stated, layer))
        kwargs = node.get("kwargs") or {}
        if not isinstance(kwargs, dict):
            raise ModelError(f"a call's kwargs is not a mapping: {kwargs!r:.80}", source, layer)
        named = {
            k: next(iter(_tensors(v, source, stated, layer)), None)
            for k, v in kwargs.items()
            if isinstance(v, dict)
        }
        return tuple(keys), {k: v for k, v in named.items() if v is not None}
    if isinstance(node, list):  # Keras 2: [[name, node, index, kwargs], ...]
        keys = [_key(x, source) for x in node]
        kw = node[0][3] if node and len(node[0]) > 3 and isinstance(node[0][3], dict) else {}
        named = {k: _key(v, source) for k, v in kw.items() if isinstance(v, list) and len(v) >= 3}
        return tuple(keys), named
    raise ModelError(f"cannot read the inbound node {node!r:.80}", source, layer)


def _tensors(
    value: Any, source: str, stated: dict[Key, tuple[int | None, ...]], layer: str | None = None
) -> Iterator[Key]:
    """The Keras tensors in a call's arguments, depth first, recording their stated shapes."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        config = value.get("config") or {}
        if not isinstance(config, dict):
            raise ModelError(f"not a Keras tensor: {value!r:.80}", source, layer)
        key = _key(config.get("keras_history"), source)
        if isinstance(config.get("shape"), list):
            stated[key] = _shape(config["shape"], source, key[0])
        yield key
    elif isinstance(value, list):
        for v in value:
            yield from _tensors(v, source, stated, layer)


# --- Model → spec text ----------------------------------------------------------------------

# Keras classes whose tensors are channels last (cnncalc's channels first), and those that
# work on Keras's own order: the spec's layout follows the majority.
IMAGE_CLASSES = re.compile(
    r"Conv[123]D|Conv[123]DTranspose|Conv2DTranspose|DepthwiseConv[12]D|SeparableConv[12]D"
    r"|.*Pooling[123]D|BatchNormalization|ZeroPadding[123]D|Cropping[123]D|UpSampling[123]D"
)
SEQUENCE_CLASSES = re.compile(
    r"Embedding|LSTM|GRU|SimpleRNN|MultiHeadAttention|LayerNormalization|Reshape|Permute"
)
ACTIVATIONS = {
    "relu": "relu",
    "relu6": "relu6",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "softmax": "softmax",
    "log_softmax": "logsoftmax",
    "elu": "elu",
    "selu": "selu",
    "gelu": "gelu",
    "silu": "silu",
    "swish": "silu",
    "softplus": "softplus",
    "softsign": "softsign",
    "hard_sigmoid": "hardsigmoid",
    "hard_silu": "hardswish",
    "hard_swish": "hardswish",
    "leaky_relu": "leakyrelu",
    "mish": "mish",
}


class Entry(NamedTuple):
    """One layer entry of the spec being written."""

    kind: str
    args: Mapping[str, Any]
    name: str
    inputs: tuple[str, ...]
    trainable: bool
    shares: str | None
    comment: str | None


def translate(model: Model, source: str, input_shape: Shape | None) -> str:
    """The spec text of a model, checked by building it against the shapes Keras states."""
    layout = _layout(model)
    shapes = _filled(model, source, input_shape, layout)
    writer = Writer(model, source, layout, shapes)
    writer.run()
    text = writer.text()
    writer.check(text)
    return text


def _layout(model: Model) -> str:
    """CL when image layers outnumber sequence layers, else SAME; on a tie, CL for image
    inputs, SAME for sequences and vectors."""
    image = sum(1 for x in model.layers if IMAGE_CLASSES.fullmatch(x.cls))
    sequence = sum(1 for x in model.layers if SEQUENCE_CLASSES.fullmatch(x.cls))
    if image == sequence:
        return CL if any(len(s) >= 3 for _, s in model.inputs) else SAME
    return CL if image > sequence else SAME


def _filled(
    model: Model, source: str, given: Shape | None, layout: str
) -> dict[str, tuple[int, ...]]:
    """Every input's Keras shape, its open (None) dimensions filled from `given` (cnncalc's
    order: channels first for a channels-last spec) for the first input."""
    out = {}
    for i, (name, shape) in enumerate(model.inputs):
        if i == 0 and given is not None:
            keras = T("", len(given), layout).keras(tuple(given))
            if len(keras) != len(shape) or any(
                d is not None and d != g for d, g in zip(shape, keras, strict=False)
            ):
                raise ModelError(
                    f"--input {list(given)} does not fit the input {_show(shape)}"
                    f" (written {'channels first' if layout == CL else 'as Keras does'})",
                    source,
                    name,
                )
            shape = keras
        if any(d is None for d in shape):
            raise ModelError(
                f"the input's shape {_show(shape)} leaves dimensions open (None): give them"
                " with --input",
                source,
                name,
            )
        out[name] = tuple(int(d) for d in shape if d is not None)
    return out


def _show(shape: Sequence[int | None]) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


class Writer:
    """Writes a model's layers as spec entries, tracking each Keras tensor's cnncalc tensor."""

    def __init__(
        self, model: Model, source: str, layout: str, shapes: Mapping[str, tuple[int, ...]]
    ) -> None:
        self.model, self.source, self.layout, self.shapes = model, source, layout, shapes
        self.entries: list[Entry] = []
        self.names: set[str] = {"input"}
        self.tensors: dict[Key, T] = {}
        self.inputs: dict[str, str] = {}  # Keras input name → spec input name
        self.permuted: dict[tuple[str, str], T] = {}
        self.base, self.trainable = "", True
        self.shared: list[str] = []  # the first call's weighted entries, for later calls
        self.owners: list[str] = []
        self._graph: tuple[int, graph.Graph] | None = None
        self.known: dict[str, int] = {}  # tensors' channels (Keras's last size), as stated
        self.builds = 0
        several = len(model.inputs) > 1
        for name, shape in shapes.items():
            ref = self.fresh(name) if several else "input"
            self.inputs[name] = ref
            self.tensors[(name, 0, 0)] = T(ref, len(shape), layout)
            self.known[ref] = shape[-1]

    def fresh(self, name: str) -> str:
        """A spec name from a Keras name: its characters kept where cnncalc allows them."""
        base = NAME_CHARS.sub("_", name) or "layer"
        if not base[0].isalpha() and base[0] != "_":
            base = "l_" + base
        candidate, n = base, 2
        while candidate in self.names or candidate.lower() in yamltext.YAML_WORDS:
            candidate, n = f"{base}-{n}", n + 1
        self.names.add(candidate)
        return candidate

    def run(self) -> None:
        """Translate every call of every layer, each once what it reads is made (and, for a
        layer called again, once its earlier call is written: that call owns the weights)."""
        needs: dict[tuple[str, int], set[Any]] = {}
        waiting: dict[Any, list[tuple[int, int]]] = {}
        ready: list[tuple[int, int]] = []  # a heap of (layer's place, call): the config's order
        layers = self.model.layers
        for place, x in enumerate(layers):
            for i in range(len(x.calls)):
                wanted = {k for k in (*x.calls[i], *x.kwargs[i].values()) if k not in self.tensors}
                if i:
                    wanted.add((x.name, i - 1))  # a call's mark: two items, not three
                needs[(x.name, i)] = wanted
                for k in wanted:
                    waiting.setdefault(k, []).append((place, i))
                if not wanted:
                    heapq.heappush(ready, (place, i))
        while ready:
            place, i = heapq.heappop(ready)
            x = layers[place]
            made = self.call(x, i)
            for k in (*((x.name, i, j) for j in range(made)), (x.name, i)):
                for later, n in waiting.pop(k, []):
                    wanted = needs[(layers[later].name, n)]
                    wanted.discard(k)
                    if not wanted:
                        heapq.heappush(ready, (later, n))
        for (name, _), wanted in needs.items():
            missing = [k for k in wanted if len(k) == 3]
            if wanted:
                raise ModelError(
                    f"reads {', '.join(_key_text(k) for k in missing or wanted)}, which no"
                    " layer makes (an output cnncalc does not translate, or a cycle)",
                    self.source,
                    name,
                )
        for key in self.model.outputs:
            if key not in self.tensors:
                raise ModelError(f"the model's output {_key_text(key)} is not made", self.source)

    def call(self, layer: Layer, index: int) -> int:
        """Write one call of a layer; its outputs become the Keras tensors (layer, index, i).
        How many there are."""
        handler = HANDLERS.get(layer.cls)
        if handler is None:
            raise _unsupported(layer, self.source)
        self.base = self.fresh(layer.name if index == 0 else f"{layer.name}-call{index}")
        self.trainable = layer.config.get("trainable", True) is not False
        self.owners = list(self.shared) if index else []
        if not index:
            self.shared = []
        ins = [self.tensors[k] for k in layer.calls[index]]
        named = {k: self.tensors[v] for k, v in layer.kwargs[index].items()}
        try:
            outs = handler(self, layer.config, ins, named)
        except Refused as err:
            raise ModelError(
                f"{layer.cls}: {err}; write this layer by hand in the spec",
                self.source,
                layer.name,
            ) from None
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
            raise ModelError(
                f"{layer.cls}: cannot read its config ({type(err).__name__}: {err})",
                self.source,
                layer.name,
            ) from None
        for i, t in enumerate(outs):
            self.tensors[(layer.name, index, i)] = made = self.settle(t)
            stated = self.model.stated.get((layer.name, index, i))
            if stated and stated[-1] is not None:
                self.known[made.ref] = stated[-1]
        return len(outs)

    def emit(
        self,
        kind: str,
        args: Mapping[str, Any],
        ins: T | Sequence[T],
        rank: int,
        order: str,
        *,
        suffix: str | None = None,
        weighted: bool = False,
        comment: str | None = None,
        output: int = 0,
    ) -> T:
        """Write an entry reading `ins`; the tensor it makes (its output `output`)."""
        name = self.base if suffix is None else self.fresh(f"{self.base}-{suffix}")
        self.names.add(name)
        shares = None
        if weighted:
            if self.owners:
                shares = self.owners.pop(0)
            else:
                self.shared.append(name)
        inputs = (ins,) if isinstance(ins, T) else tuple(ins)
        self.entries.append(
            Entry(kind, args, name, tuple(t.ref for t in inputs), self.trainable, shares, comment)
        )
        return T(f"{name}:{output}" if output else name, rank, order)

    def need(self, t: T, order: str) -> T:
        """`t` in `order`: itself, or a permute of it (one per tensor and order)."""
        if t.rank < 2 or t.order == order:
            return t
        if (t.ref, order) in self.permuted:
            return self.permuted[(t.ref, order)]
        r = t.rank
        dims = [0, *range(2, r + 1), 1] if order == SAME else [0, r, *range(1, r)]
        made = self.emit("permute", {"dims": dims}, t, r, order, suffix="permute")
        self.permuted[(t.ref, order)] = made
        if t.ref in self.known:
            self.known[made.ref] = self.known[t.ref]
        return made

    def settle(self, t: T) -> T:
        """A layer's output in the spec's order, so that the shapes printed are Keras's."""
        return self.need(t, self.layout)

    def shape(self, t: T) -> tuple[int, ...]:
        """A tensor's shape as cnncalc holds it (channels first for CL), from the spec so far."""
        for name, ref in self.inputs.items():
            if t.ref == ref:
                s = self.shapes[name]
                return (s[-1], *s[:-1]) if t.order == CL and len(s) >= 2 else s
        if self._graph is None or self._graph[0] != len(self.entries):
            self._graph = (len(self.entries), self.build(self.text()))
        return self._graph[1].tensors[t.ref]

    def channels(self, t: T) -> int:
        """The channels of a tensor: Keras's last dimension, as the config states it (Keras
        3 states the shape of every tensor a layer reads), else from the spec so far."""
        if t.ref in self.known:
            return self.known[t.ref]
        self.builds += 1
        if self.builds > MAX_SHAPE_BUILDS:
            raise Refused(
                f"its input's channels: the config does not state them, and cnncalc builds"
                f" the spec to find them at most {MAX_SHAPE_BUILDS} times"
            )
        shape = self.shape(t)
        return shape[0] if t.order == CL and len(shape) >= 2 else shape[-1]

    def build(self, text: str) -> graph.Graph:
        """The graph of spec text this importer wrote: a failure is the importer's fault or
        the model's, named as such."""
        try:
            return graph.build(spec.from_text(text, self.source))
        except CnncalcError as err:
            raise ModelError(
                f"the translated spec does not build: {err}", self.source, self.base or None
            ) from None

    def activate(self, t: T, cfg: Config, suffix: str | None = "act") -> T:
        """A layer's `activation` argument as its own entry (nothing for 'linear')."""
        act = cfg.get("activation")
        if isinstance(act, dict):  # a serialized function: {"class_name": ..., "config": "relu"}
            act = act.get("config") if isinstance(act.get("config"), str) else act.get("class_name")
        if act in (None, "linear"):
            return t if suffix else self.emit("identity", {}, t, t.rank, t.order)
        kind = ACTIVATIONS.get(str(act))
        if kind is None:
            raise Refused(f"the activation {act!r} has no cnncalc counterpart")
        args: dict[str, Any] = {}
        if kind in ("softmax", "logsoftmax"):
            args["dim"] = self.axis(t, -1)
        elif kind == "leakyrelu":
            args["negative_slope"] = 0.2  # keras.activations.leaky_relu's default
        return self.emit(kind, args, t, t.rank, t.order, suffix=suffix and str(act))

    def axis(self, t: T, axis: int) -> int:
        """Keras's axis (0 the batch, negative from the end) as cnncalc's dim of `t`."""
        k = axis if axis >= 0 else t.rank + 1 + axis
        if not 1 <= k <= t.rank:
            raise Refused(f"axis {axis} is not a dimension of a {t.rank}-d tensor")
        if t.order == CL and t.rank >= 2:
            return 1 if k == t.rank else k + 1
        return k

    def text(self) -> str:
        """The spec as YAML: comments naming the source, the input(s), the entries."""
        source = "".join(c if c.isprintable() else "?" for c in self.source)
        lines = [
            f"# Imported from the Keras model {source}",
            "# by cnncalc's Keras importer (cnncalc.importers.from_keras), from its JSON config.",
            "# Shapes are written channels last, as Keras writes them."
            if self.layout == CL
            else "# Shapes are written as Keras writes them (sequences [steps, features]).",
        ]
        layout = "channels_last" if self.layout == CL else "channels_first"
        shapes = {self.inputs[n]: s for n, s in self.shapes.items()}
        if len(shapes) == 1:
            lines.append(f"input: {_input(shapes['input'], layout)}")
        else:
            lines.append("inputs:")
            lines += [f"  {yamltext.value(n)}: {_input(s, layout)}" for n, s in shapes.items()]
        lines.append("layers:")
        previous = "input"
        for e in self.entries:
            lines += _entry(e, previous)
            previous = e.name
        outputs = [self.tensors[k].ref for k in self.model.outputs if k in self.tensors]
        if len(outputs) == len(self.model.outputs) and outputs != [previous]:
            lines.append(f"outputs: {yamltext.value(outputs)}")
        return "\n".join(lines) + "\n"

    def check(self, text: str) -> None:
        """Build the spec and compare each tensor's shape with the one the config states."""
        self.base = ""  # a problem now is the whole spec's, not the last layer's
        built = self.build(text)
        for key, stated in self.model.stated.items():
            t = self.tensors.get(key)
            if t is None or t.ref not in built.tensors:
                continue
            made = t.keras(built.tensors[t.ref])
            if len(made) != len(stated) or any(
                s is not None and s != m for s, m in zip(stated, made, strict=False)
            ):
                raise ModelError(
                    f"Keras says this layer's output is {_show(stated)}; the translated spec"
                    f" gives {_show(made)} (tensor '{t.ref}'): the config contradicts itself, or"
                    " cnncalc translated it wrongly (please report that)",
                    self.source,
                    key[0],
                )


class Refused(Exception):
    """A layer's config cnncalc cannot translate: the message says what."""


def _unsupported(layer: Layer, source: str) -> ModelError:
    cls = layer.cls
    if cls in ("Functional", "Sequential", "Model"):
        what = (
            f"a {cls} model used as a layer: cnncalc reads one level of layers; rebuild the"
            " model with its layers inline, or write this part by hand in the spec"
        )
    elif cls in ("Lambda", "TFOpLambda", "SlicingOpLambda"):
        what = (
            f"a {cls} layer's computation is Python code, not part of the config: write it"
            " by hand in the spec (`cnncalc layers` lists the types), or replace it with a"
            " Keras layer"
        )
    else:
        what = (
            f"cnncalc does not translate Keras's {cls} layer: write it by hand in the spec"
            " (`cnncalc layers` lists the types), or export the model to ONNX and import that"
        )
    return ModelError(what, source, layer.name)


def _key_text(key: Key) -> str:
    return f"'{key[0]}'" + (f" (call {key[1]}, output {key[2]})" if key[1] or key[2] else "")


def _input(shape: Sequence[int], layout: str) -> str:
    """An input's shape, with the layout where it matters: a vector's does not change how
    it reads, but says how the spec prints the shapes after it."""
    if len(shape) < 2 and layout == "channels_first":
        return yamltext.value(list(shape))
    return f"{{shape: {yamltext.value(list(shape))}, layout: {layout}}}"


def _entry(e: Entry, previous: str) -> list[str]:
    lines = [f"  # {e.comment}"] if e.comment else []
    lines.append(f"  - {e.kind}: {yamltext.value(e.args)}" if e.args else f"  - {e.kind}:")
    lines.append(f"    name: {yamltext.value(e.name)}")
    if e.inputs and e.inputs != (previous,):
        ins = e.inputs[0] if len(e.inputs) == 1 else list(e.inputs)
        lines.append(f"    from: {yamltext.value(ins)}")
    if not e.trainable:
        lines.append("    trainable: false")
    if e.shares:
        lines.append(f"    shares: {yamltext.value(e.shares)}")
    return lines


# --- the layers -----------------------------------------------------------------------------

Handler = Callable[[Writer, Config, list[T], dict[str, T]], list[T]]


def _one(ins: Sequence[T]) -> T:
    if len(ins) != 1:
        raise Refused(f"called on {len(ins)} tensors, not one")
    return ins[0]


def _ints(cfg: Config, key: str, n: int, default: int | None = None) -> list[int]:
    """An int or n ints (kernel_size, strides, ...) as n ints."""
    value = cfg.get(key)
    if value is None and default is not None:
        value = default
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value] * n
    if not (isinstance(value, list) and len(value) == n):
        raise Refused(f"{key} {value!r} is not {n} integers")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise Refused(f"{key} {value!r} is not {n} integers")
    return list(value)


def _compact(values: Sequence[int]) -> int | list[int]:
    return values[0] if len(set(values)) == 1 else list(values)


def _channels_last(cfg: Config) -> None:
    if cfg.get("data_format") not in (None, "channels_last"):
        raise Refused(
            f"data_format {cfg['data_format']!r}: cnncalc reads channels-last Keras models"
        )


def _window(cfg: Config, n: int, args: dict[str, Any]) -> tuple[list[int], list[int], list[int]]:
    """kernel_size, strides and dilation_rate into `args` (stride and dilation when not 1)."""
    k = _ints(cfg, "kernel_size", n)
    s = _ints(cfg, "strides", n, 1)
    d = _ints(cfg, "dilation_rate", n, 1)
    args["kernel_size"] = _compact(k)
    if set(s) != {1}:
        args["stride"] = _compact(s)
    return k, s, d


def _padding(cfg: Config, args: dict[str, Any], d: list[int]) -> None:
    if set(d) != {1}:
        args["dilation"] = _compact(d)
    padding = cfg.get("padding", "valid")
    if padding == "same":
        args["padding"] = "same"
    elif padding != "valid":
        raise Refused(f"padding {padding!r}")


def _conv(n: int) -> Handler:
    def handle(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
        _channels_last(cfg)
        x = w.need(_one(ins), CL)
        args: dict[str, Any] = {"out_channels": cfg["filters"]}
        k, _, d = _window(cfg, n, args)
        if cfg.get("padding") == "causal" and n == 1:
            pad = {"padding": [(k[0] - 1) * d[0], 0]}
            x = w.emit("zeropad1d", pad, x, 2, CL, suffix="causal", comment="causal: pad left")
            cfg = {**cfg, "padding": "valid"}
        _padding(cfg, args, d)
        if cfg.get("groups", 1) != 1:
            args["groups"] = cfg["groups"]
        if not cfg.get("use_bias", True):
            args["bias"] = False
        y = w.emit(f"conv{n}d", args, x, n + 1, CL, weighted=True)
        return [w.activate(y, cfg)]

    return handle


def _transposed(n: int) -> Handler:
    def handle(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
        _channels_last(cfg)
        x = w.need(_one(ins), CL)
        args: dict[str, Any] = {"out_channels": cfg["filters"]}
        k, s, d = _window(cfg, n, args)
        same = cfg.get("padding", "valid") == "same"
        if cfg.get("padding", "valid") not in ("same", "valid"):
            raise Refused(f"padding {cfg['padding']!r}")
        given = cfg.get("output_padding")
        pads, extra = [], []
        for i in range(n):  # Keras's deconv_output_length as PyTorch's padding, output_padding
            kd = (k[i] - 1) * d[i] + 1
            if given is not None:  # (in − 1)·s + kd − 2·pad + output_padding
                p, op = (kd // 2 if same else 0), _ints(cfg, "output_padding", n)[i]
            elif same:  # in·s
                p = max(0, (kd - s[i] + 1) // 2)
                op = s[i] + 2 * p - kd
            else:  # in·s + max(kd − s, 0)
                p, op = 0, max(s[i] - kd, 0)
            if op >= max(s[i], d[i]):
                raise Refused(f"its output size needs output_padding {op}, which PyTorch refuses")
            pads.append(p)
            extra.append(op)
        if set(pads) != {0}:
            args["padding"] = _compact(pads)
        if set(extra) != {0}:
            args["output_padding"] = _compact(extra)
        if set(d) != {1}:
            args["dilation"] = _compact(d)
        if not cfg.get("use_bias", True):
            args["bias"] = False
        y = w.emit(f"convtranspose{n}d", args, x, n + 1, CL, weighted=True)
        return [w.activate(y, cfg)]

    return handle


def _depthwise(n: int, separable: bool) -> Handler:
    def handle(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
        _channels_last(cfg)
        x = w.need(_one(ins), CL)
        c, m = w.channels(x), cfg.get("depth_multiplier", 1)
        args: dict[str, Any] = {"out_channels": c * m}
        _, _, d = _window(cfg, n, args)
        _padding(cfg, args, d)
        args["groups"] = c
        bias = cfg.get("use_bias", True)
        if separable or not bias:
            args["bias"] = False
        kind = f"conv{n}d"
        y = w.emit(
            kind, args, x, n + 1, CL, weighted=True, suffix="depthwise" if separable else None
        )
        if separable:
            pointwise: dict[str, Any] = {"out_channels": cfg["filters"], "kernel_size": 1}
            if not bias:
                pointwise["bias"] = False
            y = w.emit(kind, pointwise, y, n + 1, CL, weighted=True)
        return [w.activate(y, cfg)]

    return handle


def _dense(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
    x = _one(ins)
    units, bias = cfg["units"], cfg.get("use_bias", True)
    if x.order == CL and 2 <= x.rank <= 4:
        args: dict[str, Any] = {"out_channels": units, "kernel_size": 1}
        if not bias:
            args["bias"] = False
        note = "Dense on the channels of a channels-last map: a 1×1 convolution, the same weights"
        y = w.emit(f"conv{x.rank - 1}d", args, x, x.rank, CL, weighted=True, comment=note)
    else:
        x = w.need(x, SAME)
        args = {"out_features": units} if bias else {"out_features": units, "bias": False}
        y = w.emit("linear", args, x, x.rank, SAME, weighted=True)
    return [w.activate(y, cfg)]


def _last_axis(cfg: Config, x: T) -> None:
    axis = cfg.get("axis", -1)
    if isinstance(axis, list) and len(axis) == 1:
        axis = axis[0]
    if axis not in (-1, x.rank):
        raise Refused(f"axis {axis!r}: cnncalc normalizes over the channels (axis -1) only")


def _batchnorm(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
    x = _one(ins)
    _last_axis(cfg, x)
    if cfg.get("renorm"):
        raise Refused("renorm keeps more statistics than cnncalc's batch norm")
    if x.rank > 4:
        raise Refused(f"a {x.rank}-d input")
    x = w.need(x, CL)
    kind = f"batchnorm{max(1, x.rank - 1)}d"
    center, scale = cfg.get("center", True), cfg.get("scale", True)
    args: dict[str, Any] = {"eps": cfg.get("epsilon", 0.001)}
    if center and scale:
        return [w.emit(kind, args, x, x.rank, CL, weighted=True)]
    args["affine"] = False
    y = w.emit(kind, args, x, x.rank, CL, weighted=True)
    if not (center or scale):
        return [y]
    # Keras learns γ or β alone: the other half of PyTorch's affine, as a parameter
    shape = [w.channels(x), *[1] * (x.rank - 1)]
    which, merge = ("beta", "add") if center else ("gamma", "multiply")
    p = w.emit("parameter", {"shape": shape}, [], x.rank, CL, suffix=which, weighted=True)
    return [w.emit(merge, {}, [y, p], x.rank, CL, suffix=merge)]


def _layernorm(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
    x = _one(ins)
    _last_axis(cfg, x)
    if cfg.get("rms_scaling"):
        raise Refused("rms_scaling (an RMS norm)")
    center, scale = cfg.get("center", True), cfg.get("scale", True)
    args: dict[str, Any] = {"eps": cfg.get("epsilon", 0.001)}
    if center and not scale:
        raise Refused("center without scale (PyTorch's layer norm has no bias alone)")
    if not scale:
        args["elementwise_affine"] = False
    elif not center:
        args["bias"] = False
    if x.order == CL and x.rank == 3:
        return [w.emit("layernorm2d", args, x, 3, CL, weighted=True)]
    x = w.need(x, SAME)
    return [w.emit("layernorm", args, x, x.rank, SAME, weighted=True)]


def _pool(kind: str, n: int) -> Handler:
    def handle(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
        _channels_last(cfg)
        x = w.need(_one(ins), CL)
        k = _ints(cfg, "pool_size", n, 2)
        s = _ints(cfg, "strides", n) if cfg.get("strides") is not None else k
        args: dict[str, Any] = {"kernel_size": _compact(k)}
        if s != k:
            args["stride"] = _compact(s)
        _padding(cfg, args, [1])
        if kind == "avg" and args.get("padding") == "same":
            args["count_include_pad"] = False  # Keras averages over the input's pixels only
        return [w.emit(f"{kind}pool{n}d", args, x, n + 1, CL)]

    return handle


def _global_pool(kind: str, n: int) -> Handler:
    def handle(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
        _channels_last(cfg)
        x = w.need(_one(ins), CL)
        y = w.emit(f"adaptive{kind}pool{n}d", {"output_size": 1}, x, n + 1, CL)
        if cfg.get("keepdims"):
            return [y]
        return [w.emit("flatten", {}, y, 1, CL, suffix="flatten")]

    return handle


def _flatten(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
    # Keras flattens (H, W, C) and cnncalc [C, H, W]: the same elements in another order,
    # which no count sees, so no permute is written
    x = _one(ins)
    return [w.emit("flatten", {}, x, 1, x.order)]


def _dropout(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
    x = _one(ins)
    return [w.emit("dropout", {"p": cfg.get("rate", 0.5)}, x, x.rank, x.order)]


def _identity(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
    x = _one(ins)
    return [w.emit("identity", {}, x, x.rank, x.order)]


def _activation(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
    return [w.activate(_one(ins), cfg, suffix=None)]


def _relu(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
    x = _one(ins)
    top, slope = cfg.get("max_value"), cfg.get("negative_slope") or 0
    if cfg.get("threshold"):
        raise Refused("a threshold")
    if top is None and not slope:
        return [w.emit("relu", {}, x, x.rank, x.order)]
    if top == 6 and not slope:
        return [w.emit("relu6", {}, x, x.rank, x.order)]
    if top is None:
        return [w.emit("leakyrelu", {"negative_slope": slope}, x, x.rank, x.order)]
    raise Refused(f"max_value {top} with negative_slope {slope}")


def _leaky(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
    x = _one(ins)
    slope = cfg.get("negative_slope", cfg.get("alpha", 0.3))
    return [w.emit("leakyrelu", {"negative_slope": slope}, x, x.rank, x.order)]


def _softmax(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
    x = _one(ins)
    axis = cfg.get("axis", -1)
    if isinstance(axis, list) and len(axis) == 1:
        axis = axis[0]
    return [w.emit("softmax", {"dim": w.axis(x, axis)}, x, x.rank, x.order)]


def _elu(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
    x = _one(ins)
    return [w.emit("elu", {"alpha": cfg.get("alpha", 1.0)}, x, x.rank, x.order)]


def _merge(kind: str) -> Handler:
    def handle(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
        if len(ins) < 2:
            raise Refused(f"called on {len(ins)} tensor, not two or more")
        xs = [w.need(t, w.layout) for t in ins]
        rank = max(t.rank for t in xs)
        args: dict[str, Any] = {}
        if kind == "concat":
            dim = w.axis(xs[0], cfg.get("axis", -1))
            args = {} if dim == 1 else {"dim": dim}
        return [w.emit(kind, args, xs, rank, xs[0].order if rank >= 2 else w.layout)]

    return handle


def _pairs(cfg: Config, key: str, n: int) -> list[int]:
    """ZeroPadding's / Cropping's padding, Keras's ((before, after), ...) per dimension first
    to last, as PyTorch's [last before, last after, ..., first before, first after]."""
    value = cfg[key]
    if isinstance(value, int):
        pairs = [[value, value]] * n
    elif n == 1 and isinstance(value, list) and len(value) == 2:
        pairs = [value]
    elif isinstance(value, list) and len(value) == n:
        pairs = [v if isinstance(v, list) else [v, v] for v in value]
    else:
        raise Refused(f"{key} {value!r}")
    if not all(len(p) == 2 and all(isinstance(v, int) for v in p) for p in pairs):
        raise Refused(f"{key} {value!r}")
    return [v for p in reversed(pairs) for v in p]


def _pad(n: int, sign: int) -> Handler:
    def handle(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
        _channels_last(cfg)
        x = w.need(_one(ins), CL)
        pads = [sign * v for v in _pairs(cfg, "padding" if sign > 0 else "cropping", n)]
        note = None if sign > 0 else "Cropping: a negative zero padding"
        return [w.emit(f"zeropad{n}d", {"padding": pads}, x, n + 1, CL, comment=note)]

    return handle


def _upsample(n: int) -> Handler:
    def handle(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
        _channels_last(cfg)
        x = w.need(_one(ins), CL)
        args: dict[str, Any] = {"scale_factor": _compact(_ints(cfg, "size", n, 2))}
        mode = cfg.get("interpolation", "nearest")
        if mode not in ("nearest", "bilinear", "bicubic"):
            raise Refused(f"interpolation {mode!r}")
        if mode != "nearest":
            args["mode"] = mode
        return [w.emit("upsample", args, x, n + 1, CL)]

    return handle


def _reshape(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
    x = w.need(_one(ins), SAME)  # Keras reshapes its own order
    target = list(cfg["target_shape"])
    if not 1 <= len(target) <= MAX_RANK or not all(isinstance(v, int) for v in target):
        raise Refused(f"target_shape {target!r}")
    return [w.emit("reshape", {"shape": target}, x, len(target), SAME)]


def _permute(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
    x = w.need(_one(ins), SAME)
    dims = list(cfg["dims"])
    if sorted(dims) != list(range(1, x.rank + 1)):
        raise Refused(f"dims {dims!r} for a {x.rank}-d input")
    return [w.emit("permute", {"dims": [0, *dims]}, x, x.rank, SAME)]


def _embedding(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
    x = w.need(_one(ins), SAME)
    args = {"num_embeddings": cfg["input_dim"], "embedding_dim": cfg["output_dim"]}
    return [w.emit("embedding", args, x, x.rank + 1, SAME, weighted=True)]


RECURRENT_BIAS = (
    "Keras's {cls} learns one bias ({n}·units), PyTorch's two: here it is the weight of a"
    " constant-1 input feature (the padding before), so the count is Keras's"
)


def _recurrent(kind: str, cls: str, gates: int) -> Handler:
    def handle(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
        x = w.need(_one(ins), SAME)
        if x.rank != 2:
            raise Refused(f"a {x.rank}-d input; cnncalc's {kind} reads [steps, features]")
        if cfg.get("return_state"):
            raise Refused("return_state: take the states from cnncalc's outputs by hand")
        args: dict[str, Any] = {"hidden_size": cfg["units"]}
        if kind == "rnn" and cfg.get("activation", "tanh") not in ("tanh", "relu"):
            raise Refused(f"activation {cfg['activation']!r}")
        if kind == "rnn" and cfg.get("activation") == "relu":
            args["nonlinearity"] = "relu"
        note = None
        bias = cfg.get("use_bias", True)
        if not (kind == "gru" and cfg.get("reset_after", True) and bias):
            args["bias"] = False  # PyTorch's GRU has Keras's reset_after biases; others, one
            if bias:
                one = {"padding": [0, 1], "value": 1.0}
                x = w.emit("constantpad1d", one, x, 2, SAME, suffix="ones")
                note = RECURRENT_BIAS.format(cls=cls, n=gates)
        y = w.emit(kind, args, x, 2, SAME, weighted=True, comment=note)
        if cfg.get("return_sequences"):
            return [y]
        last = T(f"{y.ref}:1", 2, SAME)  # h_n [1, units]: the last step's output
        return [w.emit("flatten", {}, last, 1, SAME, suffix="last")]

    return handle


MHA_SAME = (
    "Keras's per-head kernels (features, heads, key_dim) hold as many weights as PyTorch's"
    " in_proj here (heads·key_dim = the query's features)"
)
MHA_OWN = (
    "Keras's MultiHeadAttention, its per-head projections written out: query, key and value"
    " kernels (features, heads, key_dim/value_dim), the scores, the output kernel"
)


def _attention(w: Writer, cfg: Config, ins: list[T], named: dict[str, T]) -> list[T]:
    """Long: the mapping onto PyTorch's layer where the weights coincide, else the heads
    written out op by op, each projection counted as Keras counts it."""
    query = ins[0] if ins else named.get("query")
    value = ins[1] if len(ins) > 1 else named.get("value")
    if query is None or value is None:
        raise Refused("no query or value among its inputs")
    key = ins[2] if len(ins) > 2 else named.get("key", value)
    q, k, v = (w.need(t, SAME) for t in (query, key, value))
    if any(t.rank != 2 for t in (q, k, v)) or cfg.get("attention_axes") not in (None, [1]):
        raise Refused("attention over more than one axis ([steps, features] only)")
    heads, kd = cfg["num_heads"], cfg["key_dim"]
    vd = cfg.get("value_dim") or kd
    out = cfg.get("output_shape")
    out = out[0] if isinstance(out, list) and len(out) == 1 else out
    bias = cfg.get("use_bias", True)
    dq, dk, dv = (w.channels(t) for t in (q, k, v))
    if heads * kd == dq and vd == kd and out in (None, dq):
        args: dict[str, Any] = {"num_heads": heads}
        if dk != dq:
            args["kdim"] = dk
        if dv != dq:
            args["vdim"] = dv
        if not bias:
            args["bias"] = False
        made = w.emit(
            "multiheadattention", args, [q, k, v], 2, SAME, weighted=True, comment=MHA_SAME
        )
        return [made]
    if out is not None and not isinstance(out, int):
        raise Refused(f"output_shape {out!r}")
    lin: dict[str, Any] = {} if bias else {"bias": False}
    parts = []
    for name, t, size in (("query", q, kd), ("key", k, kd), ("value", v, vd)):
        p = w.emit(
            "linear",
            {"out_features": heads * size, **lin},
            t,
            2,
            SAME,
            suffix=name,
            weighted=True,
            comment=MHA_OWN if name == "query" else None,
        )
        shape = {"shape": [-1, heads, size]}
        parts.append(w.emit("reshape", shape, p, 3, SAME, suffix=f"{name}_heads"))
    qh, kh, vh = parts
    scores = w.emit("einsum", {"equation": "bqhd,bkhd->bhqk"}, [qh, kh], 3, SAME, suffix="scores")
    weights = w.emit("softmax", {"dim": -1}, scores, 3, SAME, suffix="softmax")
    mixed = w.emit("einsum", {"equation": "bhqk,bkhd->bqhd"}, [weights, vh], 3, SAME, suffix="mix")
    joined = w.emit("reshape", {"shape": [-1, heads * vd]}, mixed, 2, SAME, suffix="concat")
    size = out or dq
    return [w.emit("linear", {"out_features": size, **lin}, joined, 2, SAME, weighted=True)]


HANDLERS: dict[str, Handler] = {
    "Dense": _dense,
    "BatchNormalization": _batchnorm,
    "LayerNormalization": _layernorm,
    "Flatten": _flatten,
    "Dropout": _dropout,
    "SpatialDropout1D": _dropout,
    "SpatialDropout2D": _dropout,
    "SpatialDropout3D": _dropout,
    "AlphaDropout": _dropout,
    "GaussianDropout": _dropout,
    "GaussianNoise": _identity,
    "ActivityRegularization": _identity,
    "Identity": _identity,
    "Activation": _activation,
    "ReLU": _relu,
    "LeakyReLU": _leaky,
    "Softmax": _softmax,
    "ELU": _elu,
    "Add": _merge("add"),
    "Multiply": _merge("multiply"),
    "Subtract": _merge("subtract"),
    "Concatenate": _merge("concat"),
    "Reshape": _reshape,
    "Permute": _permute,
    "Embedding": _embedding,
    "LSTM": _recurrent("lstm", "LSTM", 4),
    "GRU": _recurrent("gru", "GRU", 3),
    "SimpleRNN": _recurrent("rnn", "SimpleRNN", 1),
    "MultiHeadAttention": _attention,
    "Conv2DTranspose": _transposed(2),
    "DepthwiseConv1D": _depthwise(1, separable=False),
    "DepthwiseConv2D": _depthwise(2, separable=False),
    "SeparableConv1D": _depthwise(1, separable=True),
    "SeparableConv2D": _depthwise(2, separable=True),
}
for _n in (1, 2, 3):
    HANDLERS[f"Conv{_n}D"] = _conv(_n)
    HANDLERS[f"Conv{_n}DTranspose"] = _transposed(_n)
    HANDLERS[f"MaxPooling{_n}D"] = _pool("max", _n)
    HANDLERS[f"AveragePooling{_n}D"] = _pool("avg", _n)
    HANDLERS[f"GlobalAveragePooling{_n}D"] = _global_pool("avg", _n)
    HANDLERS[f"GlobalMaxPooling{_n}D"] = _global_pool("max", _n)
    HANDLERS[f"ZeroPadding{_n}D"] = _pad(_n, 1)
    HANDLERS[f"Cropping{_n}D"] = _pad(_n, -1)
    HANDLERS[f"UpSampling{_n}D"] = _upsample(_n)
