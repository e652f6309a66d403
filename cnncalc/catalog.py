"""Text for `cnncalc layers`: every layer type, its family and its arguments with defaults."""

from __future__ import annotations

from cnncalc.errors import UsageError
from cnncalc.layers import TYPES
from cnncalc.layers.base import REQUIRED, Arg, LayerType

FAMILIES = ("conv", "pool", "norm", "linear", "activation", "dropout", "shape", "merge")


def _default(a: Arg) -> str:
    if a.default is REQUIRED:
        return "required"
    if a.default is None:
        return "null"
    if isinstance(a.default, bool):
        return str(a.default).lower()
    return str(a.default)


def _signature(t: LayerType) -> str:
    parts = [a.name if a.default is REQUIRED else f"{a.name}={_default(a)}" for a in t.args]
    inputs = "" if t.max_inputs == 1 else "  (takes 2+ inputs via from: [a, b, ...])"
    return f"{t.name}({', '.join(parts)}){inputs}"


def overview() -> str:
    """All layer types, grouped by family, one line each."""
    lines = []
    for family in FAMILIES:
        members = sorted((t for t in TYPES.values() if t.family == family), key=lambda t: t.name)
        if not members:
            continue
        lines.append(f"{family}:")
        lines += [f"  {_signature(t)}" for t in members]
        lines.append("")
    lines.append("`cnncalc layers TYPE` explains one type's arguments.")
    return "\n".join(lines) + "\n"


def describe(name: str) -> str:
    """One layer type in detail."""
    t = TYPES.get(name.lower())
    if t is None:
        import difflib

        close = sorted(difflib.get_close_matches(name.lower(), list(TYPES), n=3))
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"unknown layer type '{name}'{hint}")
    lines = [f"{t.name}: {t.doc}", f"FLOPs: {t.flops_rule}", ""]
    if t.max_inputs != 1:
        lines += [f"Takes {t.min_inputs} or more inputs: from: [a, b, ...]", ""]
    if not t.args:
        lines.append("No arguments.")
    width = max((len(a.name) for a in t.args), default=0)
    for a in t.args:
        lines.append(f"  {a.name:<{width}}  {a.kind:<26} {_default(a):<9} {a.help}")
    return "\n".join(lines) + "\n"
