"""`cnncalc layers` text: the catalog's records, wrapped to the terminal's width."""

from __future__ import annotations

import shutil
import textwrap

from cnncalc.catalog import ArgInfo, TypeInfo, families


def _default(a: ArgInfo) -> str:
    if a.required:
        return "required"
    if a.default is None:
        return "null"
    if isinstance(a.default, bool):
        return str(a.default).lower()
    return str(a.default)


def _signature(t: TypeInfo) -> str:
    parts = [a.name if a.required else f"{a.name}={_default(a)}" for a in t.args]
    return f"{t.name}({', '.join(parts)}){_inputs(t, '  ({})')}"


def _inputs(t: TypeInfo, form: str) -> str:
    """What a type takes and makes where it is not one tensor in, one out, in `form`."""
    notes = []
    if t.max_inputs == 0:
        notes.append("takes no input")
    elif t.max_inputs != 1:
        most = "+" if t.max_inputs is None else f"–{t.max_inputs}"
        if t.min_inputs == t.max_inputs:
            most = ""
        notes.append(f"takes {t.min_inputs}{most} inputs via from: [a, b, ...]")
    if t.outputs:
        notes.append(f"outputs {t.outputs}: name them with name: [a, b, ...]")
    return form.format("; ".join(notes)) if notes else ""


def _columns() -> int:
    """The terminal's width (COLUMNS, or 100 when not a terminal), at least 60."""
    return max(60, shutil.get_terminal_size((100, 24)).columns)


def overview() -> str:
    """All layer types, grouped by family, one line each."""
    lines = []
    columns = _columns()
    for family, members in families():
        lines.append(f"{family}:")
        for t in members:
            lines += textwrap.wrap(
                _signature(t),
                columns,
                initial_indent="  ",
                subsequent_indent=" " * (len(t.name) + 3),
                break_on_hyphens=False,
            )
        lines.append("")
    lines.append("`cnncalc layers TYPE` explains one type's arguments.")
    return "\n".join(lines) + "\n"


def describe(t: TypeInfo) -> str:
    """One layer type in detail: what it is, its FLOPs rule, an aligned table of arguments."""
    columns = _columns()
    lines = [
        *textwrap.wrap(f"{t.name}: {t.doc}", columns, subsequent_indent="  "),
        *textwrap.wrap(f"FLOPs: {t.flops_rule}", columns, subsequent_indent="  "),
        *textwrap.wrap(f"Backward keeps: {t.saves_rule}", columns, subsequent_indent="  "),
        *textwrap.wrap(f"Backward FLOPs: {t.backward_rule}", columns, subsequent_indent="  "),
        "",
    ]
    if t.max_inputs != 1 or t.outputs:
        lines += [_inputs(t, "{}").capitalize() + ".", ""]
    if not t.args:
        lines.append("No arguments.")
    name_w = max((len(a.name) for a in t.args), default=0)
    kind_w = max((len(a.kind) for a in t.args), default=0)
    default_w = max((len(_default(a)) for a in t.args), default=0)
    indent = 2 + name_w + 2 + kind_w + 2 + default_w + 2
    narrow = columns - indent < 30  # then each help text goes under its argument
    for a in t.args:
        head = f"  {a.name:<{name_w}}  {a.kind:<{kind_w}}  {_default(a):<{default_w}}"
        if narrow:
            lines.append(head.rstrip())
            lines += textwrap.wrap(
                a.help, columns, initial_indent=" " * 6, subsequent_indent=" " * 6
            )
            continue
        help_lines = textwrap.wrap(a.help, columns - indent) or [""]
        lines.append(f"{head}  {help_lines[0]}")
        lines += [" " * indent + rest for rest in help_lines[1:]]
    return "\n".join(lines) + "\n"
