"""Layer graph → the source of a PyTorch module that computes the same network.

The module tree follows the layers' qualified names: `layer1.0.conv1` is the attribute `conv1`
of the module `0` of the module `layer1`, so `state_dict()` keys read as the spec's names
(`layer1.0.conv1.weight`). A name that is not a Python identifier (`conv-1`, `0`) is registered
with `add_module` and read with `get_submodule`; a name that nn.Module itself uses (`train`,
`forward`, `training`) cannot be an attribute and is an ExportError.

Each block instance is a module of its own class. `${}` expressions are written as their
evaluated values: the class is the block as instantiated, and instances that evaluate alike
share one class (`Basic`), those that differ get one each (`Basic_2`). A named `repeat` whose
copies chain one into the next is an nn.Sequential. The `forward` of every module follows
`from:`; merges are written as `+ * - /` and `torch.cat`, a `parameter` as an nn.Parameter
expanded over the batch where it is read, `shares` as the owner's module assigned to the
sharer's name, `trainable: false` as `requires_grad_(False)`.

The exported network keeps the batch first in every tensor, whatever a layer's `batch_first`
says: sequence layers are built with `batch_first=True` and return their states batch first.
Inputs are channels first, as PyTorch's, whatever the spec's layout.
"""

from __future__ import annotations

import heapq
import itertools
from typing import NamedTuple

from cnncalc.errors import Pos
from cnncalc.exporters import ExportError
from cnncalc.exporters.torch_helpers import helper_source
from cnncalc.exporters.torch_layers import INLINE, MERGES, constructor, value
from cnncalc.graph import Graph, Layer
from cnncalc.safetext import python_class_name, python_identifier, python_string

LINE = 100  # the longest line written
# nn.Module's own attributes (torch 2.x): a layer of one of these names cannot be registered.
# fmt: off
MODULE_ATTRIBUTES = frozenset({
    "T_destination", "_apply", "_backward_hooks", "_backward_pre_hooks", "_buffers", "_call_impl",
    "_compiled_call_impl", "_forward_hooks", "_forward_hooks_always_called",
    "_forward_hooks_with_kwargs", "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
    "_get_backward_hooks", "_get_backward_pre_hooks", "_get_name", "_is_full_backward_hook",
    "_load_from_state_dict", "_load_state_dict_post_hooks", "_load_state_dict_pre_hooks",
    "_maybe_warn_non_full_backward_hook", "_modules", "_named_members",
    "_non_persistent_buffers_set", "_parameters", "_register_load_state_dict_pre_hook",
    "_register_state_dict_hook", "_replicate_for_data_parallel", "_save_to_state_dict",
    "_slow_forward", "_state_dict_hooks", "_state_dict_pre_hooks", "_version",
    "_wrapped_call_impl", "add_module", "apply", "bfloat16", "buffers", "call_super_init",
    "children", "compile", "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr", "float",
    "forward", "get_buffer", "get_extra_state", "get_parameter", "get_submodule", "half", "ipu",
    "load_state_dict", "modules", "mtia", "named_buffers", "named_children", "named_modules",
    "named_parameters", "parameters", "register_backward_hook", "register_buffer",
    "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
    "register_full_backward_pre_hook", "register_load_state_dict_post_hook",
    "register_load_state_dict_pre_hook", "register_module", "register_parameter",
    "register_state_dict_post_hook", "register_state_dict_pre_hook", "requires_grad_",
    "set_extra_state", "set_submodule", "share_memory", "state_dict", "to", "to_empty", "train",
    "training", "type", "xpu", "zero_grad",
})
# fmt: on
RESERVED = frozenset({"self", "torch", "nn", "n", "super", "tuple"})  # forward's own names


class _Node:
    """A module of the tree: a layer (leaf) or a group of them (block instance, repeat)."""

    def __init__(self, local: str, qual: str, kind: str = "") -> None:
        self.local = local
        self.qual = qual
        self.kind = kind
        self.layer: Layer | None = None
        self.children: dict[str, _Node] = {}
        self.first = 0  # the topological index of its first layer
        self.ins: list[str] = []  # tensors it reads from outside
        self.outs: list[str] = []  # tensors it makes that are read outside (or are outputs)


def export(graph: Graph, name: str) -> str:
    """The source of a module defining the network as an nn.Module named after `name`."""
    root = _tree(graph)
    writer = _Writer(graph, python_class_name(name, "Network"), python_string(name))
    root_class = writer.module_class(root)
    parts = [
        f'"""A PyTorch module written by cnncalc export from the spec {python_string(name)}."""'
        "\n\nimport torch\nfrom torch import nn",
        *(helper_source(h) for h in writer.helpers),
        *writer.classes,
    ]
    shapes = {i: (2, *s) for i, s in graph.inputs.items()}
    example = ", ".join(f"torch.zeros{value(s)}" for s in shapes.values())
    shown = "[y.shape for y in out]" if len(graph.outputs) > 1 else "out.shape"
    parts.append(
        f'if __name__ == "__main__":\n    model = {root_class}()\n    print(model)\n'
        f"    out = model({example})\n    print({shown})"
    )
    return "\n\n\n".join(parts) + "\n"


def _tree(graph: Graph) -> _Node:
    """The module tree of the graph's layers, with every node's inputs and outputs."""
    kinds = {g.name: g.kind for layer in graph.layers for g in layer.groups}
    root = _Node("", "", "")
    root.ins = list(graph.inputs)
    root.outs = list(graph.outputs)
    for i, layer in enumerate(graph.layers):
        node = root
        parts = layer.name.split(".")
        for depth, part in enumerate(parts):
            qual = ".".join(parts[: depth + 1])
            if part not in node.children:
                node.children[part] = _Node(part, qual, kinds.get(qual, ""))
                node.children[part].first = i
            node = node.children[part]
        node.layer = layer
    _wire(root, graph)
    return root


def _wire(root: _Node, graph: Graph) -> None:
    """Every group's tensors from and to the outside, in the order of the layers."""
    readers: dict[str, list[str]] = {}  # tensor → the layers reading it
    for layer in graph.layers:
        for t in layer.inputs:
            readers.setdefault(t, []).append(layer.name)

    def inside(name: str, node: _Node) -> bool:
        return name == node.qual or name.startswith(node.qual + ".")

    def visit(node: _Node) -> list[Layer]:
        if node.layer is not None:
            return [node.layer]
        layers = [x for child in node.children.values() for x in visit(child)]
        if node.qual:
            layers.sort(key=lambda x: graph.layers.index(x))
            made = [t for x in layers for t in x.outputs]
            node.ins = list(dict.fromkeys(t for x in layers for t in x.inputs if t not in made))
            node.ins = [t for t in node.ins if not inside(t.split(":")[0], node)]
            node.outs = [
                t
                for t in made
                if t in graph.outputs or any(not inside(r, node) for r in readers.get(t, ()))
            ]
        return layers

    visit(root)


class _Call(NamedTuple):
    """One statement of a forward: a child module (or inline layer) called on tensors."""

    child: _Node
    ins: list[str]
    outs: list[str]


class _Writer:
    """Writes the classes of one module tree, sharing a class between alike groups."""

    def __init__(self, graph: Graph, root_name: str, spec_name: str) -> None:
        self.graph = graph
        self.spec_name = spec_name
        self.root_name = root_name
        self.helpers: list[str] = []
        self.classes: list[str] = []
        self.names: dict[tuple[str, str], str] = {}  # (kind, body) → class name
        self.taken: set[str] = set()
        self.shares: list[tuple[str, str]] = []  # (sharer, owner) qualified names

    def module_class(self, node: _Node) -> str:
        """The class of a group node (written once per distinct body); its name."""
        children = _ordered(node, self.graph)
        init = self._init(node, children)
        forward = _Forward(node, children, self.graph).lines()
        body = "\n".join([*init, "", *forward])
        kind = node.kind if node.qual else self.root_name
        key = (kind, body)
        if key in self.names:
            return self.names[key]
        base = python_class_name(kind, "Block")
        name = base
        for i in range(2, len(self.taken) + 3):
            if name not in self.taken and name not in HELPER_NAMES:
                break
            name = f"{base}_{i}"
        self.taken.add(name)
        self.names[key] = name
        doc = f"Block {python_string(node.kind)}." if node.qual else f"The spec {self.spec_name}."
        self.classes.append(f'class {name}(nn.Module):\n    """{doc}"""\n\n{body}')
        return name

    def _init(self, node: _Node, children: list[_Node]) -> list[str]:
        """The lines of `__init__`: every child built, shared modules assigned."""
        lines = ["    def __init__(self) -> None:", "        super().__init__()"]
        for child in children:
            lines += self._child(child)
        if not node.qual:
            for sharer, owner in self.shares:
                lines += wrap(f"        {_assign(sharer, _path(owner))}")
        return lines

    def _child(self, child: _Node) -> list[str]:
        """The lines that build one child and register it under its name."""
        layer = child.layer
        _check_name(child)
        if layer is not None and layer.shares is not None:
            self.shares.append((layer.name, layer.shares))
            return [f"        # {child.local}: the module of {layer.shares}, assigned below"]
        if layer is not None and layer.type in INLINE - {"parameter"}:
            return []
        if layer is not None and layer.type == "parameter":
            shape = f"({', '.join(map(str, layer.args['shape']))})"
            frozen = not (layer.trainable and layer.args.get("trainable", True))
            grad = ", requires_grad=False" if frozen else ""
            build = f"nn.Parameter(torch.zeros{shape}{grad})"
            if python_identifier(child.local):
                return wrap(f"        self.{child.local} = {build}")
            return wrap(f"        self.register_parameter({python_string(child.local)}, {build})")
        if layer is not None:
            build = self._leaf(layer)
        elif _chain(child):
            copies = [
                self._leaf(c.layer) if c.layer else f"{self.module_class(c)}()"
                for c in child.children.values()
            ]
            build = f"nn.Sequential({', '.join(copies)})"
        else:
            build = f"{self.module_class(child)}()"
        return wrap(f"        {_assign(child.local, build)}")

    def _leaf(self, layer: Layer) -> str:
        """The expression that builds a layer's module, frozen where the spec says."""
        ctor = constructor(layer, self.graph.input_shapes(layer))
        self.helpers += [h for h in ctor.helpers if h not in self.helpers]
        return ctor.code + ("" if layer.trainable else ".requires_grad_(False)")


def _assign(qual: str, build: str) -> str:
    """The statement that registers a module under a qualified name from `self`: an attribute
    where every part is an identifier, add_module or setattr where not."""
    parts = qual.split(".")
    if all(python_identifier(p) for p in parts):
        return f"self.{qual} = {build}"
    parent = ".".join(parts[:-1])
    if not parent:
        return f"self.add_module({python_string(qual)}, {build})"
    return (
        f"setattr(self.get_submodule({python_string(parent)}), {python_string(parts[-1])}, {build})"
    )


HELPER_NAMES = frozenset(
    {"Reshape", "Chunk", "Split", "Unbind", "Narrow", "Permute", "Transpose", "Mean", "Sum"}
    | {"Amax", "Einsum", "Matmul", "Embedding", "LayerNorm2d", "UpsampleLike", "LSTM", "GRU"}
    | {"RNN", "MultiheadAttention"}
    | {f"Same{k}{d}d" for d in (1, 2, 3) for k in ("Conv", "MaxPool", "AvgPool")}
)


def reserved(name: str) -> bool:
    """Whether nn.Module has an attribute of this name (its own, or a dunder of Python's)."""
    return name in MODULE_ATTRIBUTES or (name.startswith("__") and name.endswith("__"))


def _check_name(child: _Node) -> None:
    """A name nn.Module uses itself cannot be a child's."""
    if reserved(child.local):
        pos = child.layer.pos if child.layer else _group_pos(child)
        raise ExportError(
            f"the name '{child.local}' is an attribute of torch's nn.Module, so no layer or"
            " block of an exported module can have it: rename it",
            pos,
            child.qual,
        )


def _group_pos(node: _Node) -> Pos:
    first = node
    while first.layer is None:
        first = next(iter(first.children.values()))
    assert first.layer is not None
    for g in first.layer.groups:
        if g.name == node.qual:
            return g.pos
    return first.layer.pos


def _chain(node: _Node) -> bool:
    """Whether a group is a named repeat whose copies chain: then an nn.Sequential."""
    kids = list(node.children.values())
    if node.kind != "repeat" or [c.local for c in kids] != [str(i) for i in range(len(kids))]:
        return False
    prev = node.ins
    for c in kids:
        x = c.layer
        leaf_ok = x is None or (x.type not in INLINE and x.shares is None and len(x.outputs) == 1)
        ins = list(x.inputs) if x is not None else c.ins
        outs = [x.name] if x is not None else c.outs
        if not leaf_ok or ins != prev or len(outs) != 1 or (x and x.args.get("return_indices")):
            return False
        prev = outs
    return prev == node.outs


def _ordered(node: _Node, graph: Graph) -> list[_Node]:
    """A group's children in an order that computes every tensor before it is read."""
    made: dict[str, _Node] = {}
    for child in node.children.values():
        for t in child.layer.outputs if child.layer else child.outs:
            made[t] = child
    needs = {
        c.local: {made[t].local for t in (c.layer.inputs if c.layer else c.ins) if t in made}
        for c in node.children.values()
    }
    # Kahn's algorithm, the earliest written first among the ready: linear in the children
    children = sorted(node.children.values(), key=lambda c: c.first)
    rank = {c.local: i for i, c in enumerate(children)}
    waiting = {c.local: len(needs[c.local] - {c.local}) for c in children}
    readers: dict[str, list[str]] = {}
    for c in children:
        for d in needs[c.local] - {c.local}:
            readers.setdefault(d, []).append(c.local)
    ready = [(rank[c.local], c.local) for c in children if waiting[c.local] == 0]
    heapq.heapify(ready)
    by_local = {c.local: c for c in children}
    done: list[_Node] = []
    while ready:
        _, local = heapq.heappop(ready)
        done.append(by_local[local])
        for r in readers.get(local, ()):
            waiting[r] -= 1
            if waiting[r] == 0:
                heapq.heappush(ready, (rank[r], r))
    if len(done) < len(children):
        stuck = next(c for c in children if waiting[c.local] > 0)
        raise ExportError(
            "its layers and the layers reading them form a loop between modules",
            stuck.layer.pos if stuck.layer else _group_pos(stuck),
            node.qual or None,
        )
    return done


def _path(qual: str) -> str:
    """A module by qualified name from `self`: `self.a.b`, or get_submodule where a part is
    not an identifier."""
    if all(python_identifier(p) for p in qual.split(".")):
        return "self." + qual
    return f"self.get_submodule({python_string(qual)})"


def wrap(line: str) -> list[str]:
    """A statement split after its first parenthesis, one argument a line (each wrapped in
    turn), where it is longer than LINE; strings are skipped over, never split."""
    if len(line) <= LINE:
        return [line]
    spans = _top_level(line)
    if spans is None:
        return [line]
    opening, closing, commas = spans
    indent = line[: len(line) - len(line.lstrip())]
    bounds = [opening + 1, *(c + 1 for c in commas), closing + 1]
    items = [line[a : b - 1].strip() for a, b in itertools.pairwise(bounds)]
    out = [line[: opening + 1]]
    for item in items:
        out += wrap(f"{indent}    {item},")
    return [*out, f"{indent}{line[closing:]}"]


def _top_level(line: str) -> tuple[int, int, list[int]] | None:
    """The first parenthesis, its match and the commas between them at its level, skipping
    string literals; None where there is none."""
    depth, quote, opening = 0, "", -1
    commas: list[int] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            i += 2 if ch == "\\" else 1
            quote = "" if ch == quote else quote
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
            if depth == 1 and ch == "(" and opening < 0:
                opening = i
            elif opening < 0:
                depth -= 1  # brackets before the call are not its arguments
        elif ch in ")]}" and opening >= 0:
            depth -= 1
            if depth == 0:
                return opening, i, commas
        elif ch == "," and depth == 1 and opening >= 0:
            commas.append(i)
        i += 1
    return None


class _Forward:
    """Writes one group's `forward`: its children called in order on named tensors."""

    def __init__(self, node: _Node, children: list[_Node], graph: Graph) -> None:
        self.node = node
        self.children = children
        self.graph = graph
        self.var: dict[str, str] = {}
        self.taken: set[str] = set(RESERVED)

    def _name(self, tensor: str, base: str) -> str:
        word = "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else "_" for ch in base)
        if not word or word[0].isdigit():
            word = "x" + word
        if not python_identifier(word):
            word += "_"
        name, i = word, 2
        while name in self.taken:
            name, i = f"{word}_{i}", i + 1
        self.taken.add(name)
        self.var[tensor] = name
        return name

    def lines(self) -> list[str]:
        node = self.node
        if len(node.ins) == 1:
            params = [self._name(node.ins[0], "x")]
        else:
            params = [self._name(t, t.replace(":", "_").rsplit(".", 1)[-1]) for t in node.ins]
        out = [f"    def forward(self, {', '.join(params)}):"]
        batch = params[0] if params else None
        used = {t for c in self.children for t in (c.layer.inputs if c.layer else c.ins)}
        used |= set(node.outs)
        for child in self.children:
            out += self._statement(child, used, batch)
        results = [self.var[t] for t in node.outs]
        if len(results) > 1:
            out += wrap(f"        return ({', '.join(results)})")
        else:
            out.append(f"        return {results[0] if results else None}")
        return out

    def _statement(self, child: _Node, used: set[str], batch: str | None) -> list[str]:
        """The line that computes one child's outputs; an unused inline layer (a merge, a
        parameter) is left out, an unused module still called."""
        layer = child.layer
        if layer is None:
            outs = child.outs
            call = f"{_own(child)}({', '.join(self.var[t] for t in child.ins)})"
        else:
            outs = list(layer.outputs)
            call = self._layer_call(child, layer, batch)
        names = [self._out_name(child, t) if t in used else "_" for t in outs]
        if all(n == "_" for n in names):
            return [] if layer is not None and layer.type in INLINE else wrap(f"        {call}")
        return wrap(f"        {', '.join(names)} = {call}")

    def _out_name(self, child: _Node, tensor: str) -> str:
        layer = child.layer
        if layer is None:
            rel = child.local
            if len(child.outs) > 1:  # `s2.0.conv1` read from outside `s2`: s2_0_conv1
                rel += "_" + tensor[len(child.qual) + 1 :]
            return self._name(tensor, rel.replace(".", "_").replace(":", "_"))
        index = layer.outputs.index(tensor)
        if index and len(layer.names) >= index:
            return self._name(tensor, layer.names[index - 1])
        return self._name(tensor, child.local + (f"_{index}" if index else ""))

    def _layer_call(self, child: _Node, layer: Layer, batch: str | None) -> str:
        args = [self.var[t] for t in layer.inputs]
        if layer.type in MERGES:
            return f" {MERGES[layer.type]} ".join(args)
        if layer.type == "concat":
            return f"torch.cat([{', '.join(args)}], dim={layer.args['dim']})"
        if layer.type == "parameter":
            if batch is None:
                raise ExportError("a parameter in a module with no input", layer.pos, layer.name)
            p = (
                f"self.{child.local}"
                if python_identifier(child.local)
                else (f"self.get_parameter({python_string(child.local)})")
            )
            return f"{p}.expand({batch}.shape[0], *{p}.shape)"
        first = "[0]" if layer.args.get("return_indices") else ""
        return f"{_own(child)}({', '.join(args)}){first}"


def _own(child: _Node) -> str:
    """A child module as its parent reads it."""
    if python_identifier(child.local):
        return f"self.{child.local}"
    return f"self.get_submodule({python_string(child.local)})"


__all__ = ["MODULE_ATTRIBUTES", "export", "reserved"]
