"""The inline chain of `--chain`: "conv2d 64 k3, maxpool2d k3 s2" → a Spec.

Layers are separated by commas; each is a layer type followed by arguments, written short
(k3 s2 p1 d2 for kernel_size, stride, padding, dilation; k=[3,5] too), long (padding=same,
ceil_mode=true, kernel_size=[3,5]) or as bare values, which fill the type's arguments in the
order `cnncalc layers` lists them, as PyTorch's do without in_channels: `conv2d 64 7` is
out_channels 64, kernel_size 7; `linear 10` is out_features 10. For receptive fields alone,
convolutions may leave out out_channels (1): channels do not change a field.
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
_BARE = re.compile(r"[-+.0-9\[]")  # a bare value: a number or a list


def parse_chain(
    text: str,
    input_shape: tuple[int, ...] | None = None,
    *,
    layout: Layout | None = None,
    channels: int | None = 1,
) -> Spec:
    """A Spec for a chain of layers; the input defaults to 1×224×224 (or 1×224, 1×224³).

    `input_shape` is written in `layout` (channels first unless given); `channels` is the
    out_channels a convolution gets when the chain leaves it out (None: it stays required).
    """
    entries: list[Entry] = []
    dims = None
    for start, item in _split(text):
        if not item.strip():
            raise SpecError("empty layer in the chain (two commas in a row?)", _pos(start))
        entry, layer_dims = _entry(item, start, channels)
        entries.append(entry)
        dims = dims or layer_dims
    written = layout or Layout.CHANNELS_FIRST
    if input_shape is None:
        shape = (1, *([DEFAULT_SIZE] * (dims or 2)))
    else:
        shape = written.to_internal(input_shape)
    return Spec(
        path=PATH,
        name="chain",
        input_shape=shape,
        layout=written,
        entries=tuple(entries),
        blocks={},
        input_pos=_pos(0),
        layout_written=layout is not None,
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


def _entry(item: str, start: int, channels: int | None) -> tuple[Entry, int | None]:
    tokens = [(m.start() + start, m.group()) for m in re.finditer(r"\S+", item)]
    (kind_at, word), *arg_tokens = tokens
    kind = _kind(word, _pos(kind_at), set())
    values: dict[str, Node] = {}
    key_pos: dict[str, Pos] = {}
    bare = 0
    for at, token in arg_tokens:
        key, raw, value_at = _argument(kind, token, at, bare)
        bare += not (_SHORT.match(token) or "=" in token)
        if key in values:
            raise SpecError(f"{kind}'s '{key}' is given twice", _pos(at))
        values[key] = _value(raw, value_at)
        key_pos[key] = _pos(at)
    t = TYPES.get(kind)
    if channels and t is not None and t.arg("out_channels") and "out_channels" not in values:
        values["out_channels"] = Node(channels, _pos(kind_at))
    dims = _DIMS.search(kind)
    node = Node(values, _pos(kind_at), key_pos) if values else None
    return Entry(kind, node, pos=_pos(kind_at)), int(dims.group(1)) if dims else None


def _argument(kind: str, token: str, at: int, bare: int) -> tuple[str, str, int]:
    """One argument token → its name, its value's text and where that value starts."""
    short = _SHORT.match(token)
    if short:  # k3: a problem with the value is shown at the token
        return SHORT[short.group(1)], short.group(2), at
    if "=" in token:
        key, raw = token.split("=", 1)
        return SHORT.get(key, key), raw, at + len(key) + 1  # k=[3,5], as k3 is kernel_size 3
    if token.lower() in TYPES:
        raise SpecError(
            f"'{token}' is a layer type: separate layers with commas ({kind} ..., {token})",
            _pos(at),
        )
    if not _BARE.match(token):
        raise SpecError(
            f"'{token}' is not an argument; write k3, s2, p1, d2, name=value, or values"
            " in order (conv2d 64 k3 is out_channels 64, kernel_size 3)",
            _pos(at),
        )
    names = [a.name for a in TYPES[kind].args if not a.inferred]
    if bare >= len(names):
        listed = ", ".join(names)
        takes = f"at most {len(names)} values in order ({listed})" if names else "no arguments"
        raise SpecError(f"'{token}' is one value too many: {kind} takes {takes}", _pos(at))
    return names[bare], token, at


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
