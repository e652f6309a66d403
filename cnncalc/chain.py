"""The inline chain for `cnncalc rf --chain`: "conv2d k3, maxpool2d k3 s2" → a Spec.

Layers are separated by commas; each is a layer type followed by arguments, written either
short (k3 s2 p1 d2 for kernel_size, stride, padding, dilation; k=[3,5] too) or long
(padding=same, ceil_mode=true, kernel_size=[3,5]). Convolutions get out_channels 1 unless
given: channels do not change a receptive field.
"""

from __future__ import annotations

import re

from cnncalc.errors import Pos, SpecError
from cnncalc.layers import TYPES
from cnncalc.source import Node, parse
from cnncalc.spec import Entry, Layout, Spec, _kind

PATH = "<chain>"
SHORT = {"k": "kernel_size", "s": "stride", "p": "padding", "d": "dilation"}
DEFAULT_SIZE = 224
_SHORT = re.compile(r"([ksdp])([0-9]+)\Z")  # ASCII digits: int() also reads "٣"
_DIMS = re.compile(r"([123])d\Z")


def parse_chain(text: str, input_shape: tuple[int, ...] | None = None) -> Spec:
    """A Spec for a chain of layers; the input defaults to 1×224×224 (or 1×224, 1×224³)."""
    entries: list[Entry] = []
    dims = None
    for start, item in _split(text):
        if not item.strip():
            raise SpecError("empty layer in the chain (two commas in a row?)", _pos(start))
        entry, layer_dims = _entry(item, start)
        entries.append(entry)
        dims = dims or layer_dims
    shape = input_shape or (1, *([DEFAULT_SIZE] * (dims or 2)))
    return Spec(
        path=PATH,
        name="chain",
        input_shape=shape,
        layout=Layout.CHANNELS_FIRST,
        entries=tuple(entries),
        blocks={},
        input_pos=_pos(0),
    )


def _pos(offset: int) -> Pos:
    return Pos(PATH, 1, offset + 1)


def _split(text: str) -> list[tuple[int, str]]:
    """Split on commas outside brackets, keeping each piece's offset."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "," and depth == 0:
            pieces.append((start, text[start:i]))
            start = i + 1
    pieces.append((start, text[start:]))
    return pieces


def _entry(item: str, start: int) -> tuple[Entry, int | None]:
    tokens = [(m.start() + start, m.group()) for m in re.finditer(r"\S+", item)]
    (kind_at, word), *arg_tokens = tokens
    kind = _kind(word, _pos(kind_at), set())
    values: dict[str, Node] = {}
    key_pos: dict[str, Pos] = {}
    for at, token in arg_tokens:
        short = _SHORT.match(token)
        if short:  # k3: a problem with the value is shown at the token
            key, raw, value_at = SHORT[short.group(1)], short.group(2), at
        elif "=" in token:
            key, raw = token.split("=", 1)
            value_at = at + len(key) + 1
            key = SHORT.get(key, key)  # k=[3,5], as k3 is kernel_size 3
        else:
            raise SpecError(
                f"'{token}' is not an argument; write k3, s2, p1, d2 or name=value", _pos(at)
            )
        values[key] = _value(raw, value_at)
        key_pos[key] = _pos(at)
    t = TYPES.get(kind)
    if t is not None and t.arg("out_channels") is not None and "out_channels" not in values:
        values["out_channels"] = Node(1, _pos(kind_at))
    dims = _DIMS.search(kind)
    node = Node(values, _pos(kind_at), key_pos) if values else None
    return Entry(kind, node, pos=_pos(kind_at)), int(dims.group(1)) if dims else None


def _value(raw: str, at: int) -> Node:
    """An argument's value, read as YAML by the spec reader (so with its limits: no tags,
    bounded nesting and aliases, int64 integers), its positions moved into the chain."""
    if not raw:
        raise SpecError("no value after '='", _pos(at))
    try:
        node = parse(raw, PATH)
    except SpecError as err:  # raw holds no line break: the column is within the token
        raise SpecError(err.message, _pos(at + err.pos.column - 1)) from None
    return _moved(node, at)


def _moved(node: Node, at: int) -> Node:
    """A value parsed on its own, with every position moved `at` columns to the right."""
    pos = _pos(at + node.pos.column - 1)
    if node.is_list:
        return Node([_moved(v, at) for v in node.value], pos)
    if node.is_map:
        return Node(
            {k: _moved(v, at) for k, v in node.value.items()},
            pos,
            {k: _pos(at + p.column - 1) for k, p in node.key_pos.items()},
        )
    return Node(node.value, pos)
