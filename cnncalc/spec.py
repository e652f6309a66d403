"""Located YAML → a Spec: the input, the layer entries and the blocks, checked for form.

Nothing here knows shapes; `${expr}` placeholders stay unevaluated until blocks are expanded.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Sequence
from typing import NamedTuple

from cnncalc.errors import Collector, Pos, SpecError, did_you_mean, quoted, shown
from cnncalc.layers import TYPES
from cnncalc.layers.tensors import Shape
from cnncalc.source import MAX_INT, Node, Source, label, parse, read_text
from cnncalc.synonyms import type_hint

RESERVED = ("name", "from", "repeat", "trainable", "when", "shares")
TOP_LEVEL = ("name", "input", "inputs", "outputs", "layers", "blocks", "expect")
INPUT_REF = "input"
FAILED = "\0failed"  # the kind of an entry that could not be read: its error is reported
MAX_RANK = 64  # dimensions of any tensor: past it, per-dimension work would be the cost
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")  # a layer's or input's name


class Layout(str, enum.Enum):
    """How shapes are written: PyTorch's channels first, or Keras's channels last."""

    CHANNELS_FIRST = "channels_first"
    CHANNELS_LAST = "channels_last"

    def to_internal(self, shape: Shape) -> Shape:
        """A shape as written in this layout → channels first."""
        if self is Layout.CHANNELS_LAST and len(shape) >= 2:
            return (shape[-1], *shape[:-1])
        return shape

    def display(self, shape: Shape) -> Shape:
        """A channels-first shape → as written in this layout."""
        if self is Layout.CHANNELS_LAST and len(shape) >= 2:
            return (*shape[1:], shape[0])
        return shape


class Entry(NamedTuple):
    """One item of a `layers` list, before expansion: a layer type or block, and its keys."""

    kind: str
    args: Node | None
    name: Node | None = None
    from_: Node | None = None
    repeat: Node | None = None
    trainable: Node | None = None
    pos: Pos = Pos("", 0, 0)
    when: Node | None = None  # `when: "${...}"`: the entry is kept only where it is true
    shares: Node | None = None  # the layer or block instance whose weights it reuses


class Input(NamedTuple):
    """One of the network's inputs: its name (INPUT_REF for a spec's single `input`)."""

    name: str
    shape: Shape  # channels first
    pos: Pos


class Block(NamedTuple):
    """A named reusable sub-graph: argument defaults (None = required) and its entries."""

    name: str
    params: dict[str, Node]
    entries: tuple[Entry, ...]
    pos: Pos = Pos("", 0, 0)


class Spec(NamedTuple):
    path: str
    name: str | None
    input_shape: Shape  # channels first
    layout: Layout
    entries: tuple[Entry, ...]
    blocks: dict[str, Block]
    expect: Node | None = None
    input_pos: Pos = Pos("", 0, 0)
    layout_written: bool = False  # `layout:` given, so a channels-first image was meant
    errors: tuple[SpecError, ...] = ()  # entries that could not be read (kind FAILED)
    text: str = ""  # the file's text, for messages that show a line of it
    inputs: tuple[Input, ...] = ()  # every input, the first being `input_shape`'s
    outputs: Node | None = None  # `outputs: [a, b]`; None: the last entry's output


def load(source: Source) -> Spec:
    """Read and check a spec file ('-' for stdin, a GitRef for a version in git)."""
    return from_text(read_text(source), label(source))


def from_text(text: str, path: str) -> Spec:
    """A spec from its text; a problem in a layer entry is kept in `errors`, the entry
    marked FAILED, so that building it reports every independent problem at once."""
    try:
        return _from_text(text, path)
    except SpecError as err:
        err.source = text
        raise


def _from_text(text: str, path: str) -> Spec:
    found = Collector()
    root = parse(text, path)
    if not root.is_map:
        raise SpecError("a spec is a mapping with 'input' and 'layers' keys", root.pos)
    top: dict[str, Node] = root.value
    for key in top:
        if key not in TOP_LEVEL:
            raise SpecError(
                f"unknown top-level key '{key}'{did_you_mean(key, TOP_LEVEL)}"
                f" (allowed: {', '.join(TOP_LEVEL)})",
                root.key_pos[key],
            )
    if "layers" not in top:
        raise SpecError("missing top-level key 'layers'", root.pos)
    name = top.get("name")
    if name is not None and not isinstance(name.value, (str, int)):
        raise SpecError("'name' must be text", name.pos)
    inputs, layout, layout_written = _inputs(root)
    block_names = _block_names(top.get("blocks"))
    blocks = {}
    if "blocks" in top and top["blocks"].value is not None:
        for bname, bnode in top["blocks"].value.items():
            pos = top["blocks"].key_pos[bname]
            blocks[bname] = _block(bname, bnode, pos, block_names, found)
    entries = _entries(top["layers"], block_names, "", found)
    if not entries:
        raise SpecError("'layers' is empty; a network needs at least one layer", top["layers"].pos)
    return Spec(
        path=path,
        name=None if name is None else str(name.value),
        input_shape=inputs[0].shape,
        layout=layout,
        entries=entries,
        blocks=blocks,
        expect=top.get("expect"),
        input_pos=inputs[0].pos,
        layout_written=layout_written,
        errors=tuple(found.found.values()),
        text=text,
        inputs=inputs,
        outputs=top.get("outputs"),
    )


def _inputs(root: Node) -> tuple[tuple[Input, ...], Layout, bool]:
    """The network's inputs (`input:` or `inputs:`), their one layout, and whether a layout
    was written."""
    top: dict[str, Node] = root.value
    if ("input" in top) == ("inputs" in top):
        which = "both 'input' and 'inputs'" if "input" in top else "neither 'input' nor 'inputs'"
        raise SpecError(
            f"a spec has one of 'input' (one tensor) and 'inputs' (a mapping of names to"
            f" shapes); this one has {which}",
            root.pos,
        )
    if "input" in top:
        node = top["input"]
        shape, layout = _input(node)
        written = node.is_map and "layout" in node.value
        return (Input(INPUT_REF, shape, node.pos),), layout, written
    node = top["inputs"]
    if not node.is_map or not node.value:
        raise SpecError(
            "'inputs' maps each input's name to its shape, e.g. {image: [3, 224, 224], meta: [10]}",
            node.pos,
        )
    inputs, layouts = [], {}
    for iname, inode in node.value.items():
        pos = node.key_pos[iname]
        if not _NAME.match(iname) or iname in (INPUT_REF, *RESERVED):
            raise SpecError(
                f"input name {quoted(iname)} must be letters, digits, '_' and '-', and not"
                f" {INPUT_REF!r}",
                pos,
            )
        shape, layout = _input(inode)
        if inode.is_map and "layout" in inode.value:
            layouts[iname] = layout
        inputs.append(Input(iname, shape, pos))
    if len(set(layouts.values())) > 1:
        listed = ", ".join(f"{n}: {v.value}" for n, v in layouts.items())
        raise SpecError(f"the inputs must share one layout, got {listed}", node.pos)
    layout = next(iter(layouts.values()), Layout.CHANNELS_FIRST)
    if layout is Layout.CHANNELS_LAST:  # every input is written in the spec's one layout
        inputs = [i._replace(shape=layout.to_internal(_back(i, layouts))) for i in inputs]
    return tuple(inputs), layout, bool(layouts)


def _back(i: Input, layouts: dict[str, Layout]) -> Shape:
    """An input's shape as written (`_input` moved channels first only where it said so)."""
    if i.name in layouts:
        return Layout.CHANNELS_LAST.display(i.shape)
    return i.shape


def _input(node: Node) -> tuple[Shape, Layout]:
    layout = Layout.CHANNELS_FIRST
    shape_node = node
    if node.is_map:
        for key in node.value:
            if key not in ("shape", "layout"):
                raise SpecError(
                    f"unknown key '{key}' in 'input' (allowed: shape, layout)", node.key_pos[key]
                )
        if "shape" not in node.value:
            raise SpecError(
                "'input' needs a 'shape', e.g. {shape: [224, 224, 3], layout: channels_last}",
                node.pos,
            )
        shape_node = node.value["shape"]
        if "layout" in node.value:
            lnode = node.value["layout"]
            try:
                layout = Layout(lnode.value)
            except ValueError:
                raise SpecError(
                    f"layout must be channels_first or channels_last, got {shown(lnode)}", lnode.pos
                ) from None
    shape = parse_shape(shape_node)
    return layout.to_internal(shape), layout


def parse_shape(node: Node) -> Shape:
    """A list of positive integers (or a single one, for [features])."""
    items = node.value if node.is_list else [node]
    if not items:
        raise SpecError("the input shape is empty; write e.g. [3, 224, 224]", node.pos)
    if len(items) > MAX_RANK:
        raise SpecError(
            f"the input shape has {len(items):,} dimensions; cnncalc takes at most {MAX_RANK}",
            node.pos,
        )
    dims = []
    for item in items:
        v = item.value
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise SpecError(f"input sizes must be positive integers, got {shown(item)}", item.pos)
        dims.append(v)
    if elements(dims) is None:
        raise SpecError(f"the input has {too_many(dims)}", node.pos)
    return tuple(dims)


def elements(shape: Sequence[int]) -> int | None:
    """How many elements a tensor of this shape holds; None past MAX_INT, found without
    multiplying on (thousands of large sizes would make a number of thousands of digits)."""
    if 0 in shape:
        return 0
    n = 1
    for size in shape:
        n *= size
        if n > MAX_INT:
            return None
    return n


def too_many(shape: Sequence[int]) -> str:
    """'… elements, more than a PyTorch tensor can hold (…)', for a shape past MAX_INT: the
    exact count where it is short enough to read."""
    limit = f"a PyTorch tensor can hold ({MAX_INT:,})"
    if len(shape) <= MAX_RANK and max(shape, default=0) <= MAX_INT:  # at most 1,200 digits
        count = math.prod(shape)
        if count < 10**40:
            return f"{count:,} elements, more than {limit}"
    return f"more elements than {limit}"


def _block_names(node: Node | None) -> set[str]:
    if node is None or node.value is None:
        return set()
    if not node.is_map:
        raise SpecError("'blocks' must be a mapping of block names to definitions", node.pos)
    for bname in node.value:
        pos = node.key_pos[bname]
        if not _IDENT.match(bname):
            raise SpecError(f"block name '{bname}' must be a word of letters, digits and _", pos)
        if bname in TYPES:
            raise SpecError(f"block name '{bname}' is already a layer type; choose another", pos)
        if bname == INPUT_REF or bname in RESERVED:
            raise SpecError(f"block name '{bname}' is reserved", pos)
    return set(node.value)


def _block(name: str, node: Node, pos: Pos, block_names: set[str], found: Collector) -> Block:
    if not node.is_map:
        raise SpecError(
            f"block '{name}' must be a mapping with 'layers' (and optional 'args')", node.pos
        )
    for key in node.value:
        if key not in ("args", "layers"):
            raise SpecError(
                f"unknown key '{key}' in block '{name}' (allowed: args, layers)", node.key_pos[key]
            )
    if "layers" not in node.value:
        raise SpecError(f"block '{name}' has no 'layers'", node.pos)
    params: dict[str, Node] = {}
    args = node.value.get("args")
    if args is not None and args.value is not None:
        if not args.is_map:
            raise SpecError(
                f"'args' of block '{name}' must map argument names to defaults (null = required)",
                args.pos,
            )
        for arg, default in args.value.items():
            if not _IDENT.match(arg):
                raise SpecError(
                    f"block argument '{arg}' must be a word of letters, digits"
                    " and _ (it is used in ${...} expressions)",
                    args.key_pos[arg],
                )
            params[arg] = default
    entries = _entries(node.value["layers"], block_names, f" of block '{name}'", found)
    if not entries:
        raise SpecError(f"block '{name}' has no layers", node.value["layers"].pos)
    return Block(name, params, entries, pos)


def _entries(node: Node, block_names: set[str], where: str, found: Collector) -> tuple[Entry, ...]:
    """A list of entries; one that cannot be read is reported to `found` and kept as FAILED."""
    if node.value is None:
        return ()
    if not node.is_list:
        raise SpecError(
            f"'layers'{where} must be a list of entries, each starting with '- '"
            " ('- conv2d: {...}')",
            node.pos,
        )
    entries = []
    for item in node.value:
        try:
            entries.append(_entry(item, block_names))
        except SpecError as err:
            found.add(err)
            entries.append(_failed(item))
    return tuple(entries)


def _failed(node: Node) -> Entry:
    """What stands for an entry that could not be read: its name and `from`, when it has
    them, so that the entries after it neither lose their input nor name a missing layer."""
    keys = node.value if node.is_map else {}
    name, from_ = keys.get("name"), keys.get("from")
    return Entry(FAILED, None, name=name, from_=from_, pos=node.pos)


def _entry(node: Node, block_names: set[str]) -> Entry:
    if isinstance(node.value, str):
        return Entry(_kind(node.value, node.pos, block_names), None, pos=node.pos)
    if not node.is_map:
        raise SpecError(
            "a layer entry is a layer type ('- relu') or a mapping"
            " ('- conv2d: {out_channels: 64, kernel_size: 3}')",
            node.pos,
        )
    kinds = [k for k in node.value if k not in RESERVED]
    for k in kinds if len(kinds) > 1 else ():  # 'nmae: c1' beside a type: a misspelt key
        hint = did_you_mean(k, RESERVED)
        if hint and k not in TYPES and k not in block_names:
            raise SpecError(f"unknown key '{k}' in a layer entry{hint}", node.key_pos[k])
    if len(kinds) != 1:
        if not kinds:
            raise SpecError(
                "this entry names no layer type or block, only " + ", ".join(node.value), node.pos
            )
        raise SpecError(
            f"an entry has exactly one layer type or block; found"
            f" {', '.join(repr(k) for k in kinds)} (is an argument indented"
            " at the level of the layer type?)",
            node.key_pos[kinds[1]],
        )
    kind = _kind(kinds[0], node.key_pos[kinds[0]], block_names)
    args = node.value[kinds[0]]
    if args.value is None:
        args_node = None
    elif args.is_map:
        args_node = args
    else:
        raise SpecError(
            f"the arguments of '{kind}' must be a mapping such as"
            f" {{name: value}}, got {shown(args)}",
            args.pos,
        )
    return Entry(
        kind,
        args_node,
        name=node.value.get("name"),
        from_=node.value.get("from"),
        repeat=node.value.get("repeat"),
        trainable=node.value.get("trainable"),
        pos=node.pos,
        when=node.value.get("when"),
        shares=node.value.get("shares"),
    )


MAX_TYPE_CHARS = 100  # no layer type or block name is longer; past it, no suggestion either


def _kind(word: str, pos: Pos, block_names: set[str]) -> str:
    if len(word) > MAX_TYPE_CHARS:  # checked first: an alias may repeat a long word many times
        raise SpecError(
            f"unknown layer type {quoted(word)}: {len(word):,} characters, longer than any"
            " layer type ('cnncalc layers' lists them all)",
            pos,
        )
    kind = word.strip()
    if kind in TYPES or kind in block_names:
        return kind
    if kind.lower() in TYPES:
        return kind.lower()  # Conv2d, as the PyTorch class is spelled
    hint = type_hint(kind, [*TYPES, *block_names])
    raise SpecError(f"unknown layer type '{kind}'{hint} ('cnncalc layers' lists them all)", pos)
