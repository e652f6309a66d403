"""What `cnncalc layers` lists: every layer type, its family and its arguments with defaults.

Records only; cnncalc/render/catalog.py writes them to the terminal's width.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from cnncalc.errors import UsageError, did_you_mean
from cnncalc.layers import TYPES
from cnncalc.layers.args import REQUIRED
from cnncalc.layers.base import LayerType

FAMILIES = (
    "conv",
    "pool",
    "norm",
    "linear",
    "activation",
    "dropout",
    "shape",
    "tensor",
    "merge",
    "attention",
    "recurrent",
    "parameter",
)


class ArgInfo(NamedTuple):
    """One argument of a layer type: its name, how it is written, its default, what it is."""

    name: str
    kind: str
    required: bool
    default: Any  # None for null; meaningless when required
    help: str


class TypeInfo(NamedTuple):
    """One layer type as the catalog shows it."""

    name: str
    family: str
    doc: str
    flops_rule: str
    min_inputs: int
    max_inputs: int | None  # None: any number; 1: a single input
    args: tuple[ArgInfo, ...]
    outputs: str = ""  # what a layer of several outputs makes: "output, h_n, c_n"
    saves_rule: str = ""  # what its backward keeps (docs/counting.md, Memory)
    backward_rule: str = ""  # its backward's FLOPs


def _info(t: LayerType) -> TypeInfo:
    args = tuple(ArgInfo(a.name, a.kind, a.default is REQUIRED, a.default, a.help) for a in t.args)
    return TypeInfo(
        t.name,
        t.family,
        t.doc,
        t.flops_rule,
        t.min_inputs,
        t.max_inputs,
        args,
        t.outputs,
        t.saves_rule,
        t.backward_rule,
    )


def families() -> tuple[tuple[str, tuple[TypeInfo, ...]], ...]:
    """Every family that has layer types, in FAMILIES order (any other after), its types
    sorted by name."""
    grouped = []
    others = sorted({t.family for t in TYPES.values()} - set(FAMILIES))
    for family in (*FAMILIES, *others):
        members = sorted((t for t in TYPES.values() if t.family == family), key=lambda t: t.name)
        if members:
            grouped.append((family, tuple(_info(t) for t in members)))
    return tuple(grouped)


def type_info(name: str) -> TypeInfo:
    """One layer type by name (any case); a UsageError with a suggestion if there is none."""
    t = TYPES.get(name.lower())
    if t is None:
        raise UsageError(f"unknown layer type '{name}'{did_you_mean(name.lower(), TYPES)}")
    return _info(t)
