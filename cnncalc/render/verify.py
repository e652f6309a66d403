"""`cnncalc verify` reports: one located line per difference, JSON, GitHub annotations."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cnncalc.enums import VerifyFormat
from cnncalc.errors import one_line
from cnncalc.notation import shape
from cnncalc.safetext import github_data, github_property, json_safe
from cnncalc.verify import Difference, Verdict


def _figure(value: Any) -> str:
    """A figure as a message writes it: 1,024; 64×56×56; [1000], [1] for several outputs."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, tuple):
        return shape(value)
    if isinstance(value, list):
        return ", ".join(shape(s) for s in value)
    return str(value)


def message(d: Difference) -> str:
    """What one difference is, in one line (without its position)."""
    if d.what == "missing":
        return (
            f"the model's layer '{d.model_layer}' ({_figure(d.model)} parameters) has no"
            " counterpart in the spec"
        )
    if d.what == "extra":
        return f"layer '{d.layer}' ({_figure(d.spec)} parameters) has no counterpart in the model"
    mine, theirs = _figure(d.spec), _figure(d.model)
    if d.layer is None:
        return f"the network's {d.what}: {mine} in the spec, {theirs} in the model"
    who = f"the model's '{d.model_layer}'" if d.model_layer != d.layer else "the model"
    return f"layer '{d.layer}': {d.what} {mine}, {who} has {theirs}"


def _where(d: Difference, v: Verdict) -> str:
    return str(d.pos) if d.pos.path else v.spec_label


def text(v: Verdict) -> str:
    """FILE:LINE:COL: message per difference, then the verdict."""
    lines = [one_line(f"{_where(d, v)}: {message(d)}") for d in v.differences]
    how = f"{v.paired:,} weighted layers paired by {v.by}"
    if v.agrees:
        lines.append(one_line(f"✓ {v.spec_label} agrees with {v.model_label} ({how})"))
    else:
        n = len(v.differences)
        lines.append(
            one_line(
                f"✗ {v.spec_label} differs from {v.model_label}:"
                f" {n:,} difference{'s' if n != 1 else ''} ({how})"
            )
        )
    return "\n".join(lines) + "\n"


def _json(v: Verdict) -> str:
    data = {
        "spec": v.spec_label,
        "model": v.model_label,
        "agrees": v.agrees,
        "paired": v.paired,
        "paired_by": v.by,
        "differences": [
            {
                "what": d.what,
                "layer": d.layer,
                "model_layer": d.model_layer,
                "spec": list(d.spec) if isinstance(d.spec, tuple) else d.spec,
                "model": list(d.model) if isinstance(d.model, tuple) else d.model,
                "file": d.pos.path or v.spec_label,
                "line": d.pos.line or None,
                "column": d.pos.column or None,
                "message": message(d),
            }
            for d in v.differences
        ],
    }
    return json_safe(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _github(v: Verdict) -> str:
    """One ::error annotation per difference, on the spec's line."""
    lines = []
    for d in v.differences:
        where = f"file={github_property(d.pos.path or v.spec_label)}"
        if d.pos.line:
            where += f",line={d.pos.line},col={d.pos.column}"
        lines.append(f"::error {where},title=cnncalc verify::{github_data(message(d))}")
    return "".join(line + "\n" for line in lines) + github_data(text(v).splitlines()[-1]) + "\n"


RENDERERS: dict[VerifyFormat, Callable[[Verdict], str]] = {
    VerifyFormat.TEXT: text,
    VerifyFormat.JSON: _json,
    VerifyFormat.GITHUB: _github,
}
