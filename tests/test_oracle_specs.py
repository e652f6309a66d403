"""Oracle test: every spec in specs/*.yaml agrees with its hand-written PyTorch reference.

cnncalc is run only through its public contract (``cnncalc summarize <spec> --format json``);
the answers come from running the independent reference models in ``reference_models.py``
(batch 1, eval mode, no grad). Every spec must have a reference and every reference a spec.

Checked per spec: input shape, output shape, total / trainable parameters, buffers (BN running
mean + var, not ``num_batches_tracked``), and a per-layer multiset of (parameters, output shape)
over the layers that own parameters, independent of layer names and order.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from cnncalc.cli import main
from reference_models import REFERENCES

SPECS_DIR = Path(__file__).resolve().parent.parent / "specs"
SPEC_STEMS: set[str] = {path.stem for path in SPECS_DIR.glob("*.yaml")}
ALL_STEMS: list[str] = sorted(SPEC_STEMS | set(REFERENCES))

Shape = tuple[int, ...]
LayerKey = tuple[int, Shape]  # (parameter count, output shape channels-first without batch)


# --------------------------------------------------------------------------------------------
# The two sides, each computed once per stem
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TorchFacts:
    """What the reference model says (shapes channels-first, without the batch)."""

    input_shape: Shape
    output_shape: Shape
    params: int
    trainable_params: int
    buffers: int
    layers: Counter[LayerKey]


def _to_channels_first(shape: list[int], layout: str) -> Shape:
    """Undo cnncalc's channels-last printing: move the last dim to the front (>= 2 dims)."""
    if layout == "channels_last" and len(shape) >= 2:
        return (shape[-1], *shape[:-1])
    assert layout in ("channels_first", "channels_last"), f"unknown layout {layout!r}"
    return tuple(shape)


@cache
def cnncalc_json(stem: str) -> dict[str, Any]:
    """``cnncalc summarize specs/<stem>.yaml --format json``, parsed (run once per stem)."""
    path = SPECS_DIR / f"{stem}.yaml"
    result = CliRunner().invoke(main, ["summarize", str(path), "--format", "json"])
    assert result.exit_code == 0, (
        f"cnncalc summarize {path.name} exited {result.exit_code}:\n{result.output}"
        + (f"\n{result.exception!r}" if result.exception else "")
    )
    data: dict[str, Any] = json.loads(result.output)
    return data


def _own_param_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters(recurse=False))


@cache
def torch_facts(stem: str) -> TorchFacts:
    """Build and run the reference once; keep only the numbers, not the model."""
    reference = REFERENCES[stem]
    torch.manual_seed(0)
    model = reference.build()
    model.eval()

    layers: Counter[LayerKey] = Counter()

    def hook(module: nn.Module, _inputs: Any, output: Any) -> None:
        assert isinstance(output, torch.Tensor), f"{type(module).__name__} output not a tensor"
        layers[(_own_param_count(module), tuple(output.shape[1:]))] += 1

    handles = [
        module.register_forward_hook(hook)
        for module in model.modules()
        if _own_param_count(module) > 0
    ]
    try:
        with torch.no_grad():
            output = model(torch.zeros(1, *reference.input_shape))
    finally:
        for handle in handles:
            handle.remove()

    facts = TorchFacts(
        input_shape=tuple(reference.input_shape),
        output_shape=tuple(output.shape[1:]),
        params=sum(p.numel() for p in model.parameters()),
        trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        buffers=sum(
            b.numel()
            for name, b in model.named_buffers()
            if not name.endswith("num_batches_tracked")
        ),
        layers=layers,
    )
    del model, output
    return facts


def cnncalc_layers(data: dict[str, Any]) -> Counter[LayerKey]:
    """Multiset of (params, channels-first output shape) over cnncalc layers with params > 0."""
    return Counter(
        (layer["params"], _to_channels_first(layer["output_shape"], data["layout"]))
        for layer in data["layers"]
        if layer["params"] > 0
    )


def _fmt_counter(counter: Counter[LayerKey]) -> str:
    if not counter:
        return "    (none)"
    return "\n".join(
        f"    {count} x params={params:,} shape={list(shape)}"
        for (params, shape), count in sorted(counter.items())
    )


# --------------------------------------------------------------------------------------------
# Spec <-> reference pairing
# --------------------------------------------------------------------------------------------


def test_specs_exist() -> None:
    assert SPEC_STEMS, f"no specs found in {SPECS_DIR}"


@pytest.mark.parametrize("stem", ALL_STEMS)
def test_spec_and_reference_pair(stem: str) -> None:
    assert stem in SPEC_STEMS, f"reference {stem!r} has no spec specs/{stem}.yaml"
    assert stem in REFERENCES, f"spec specs/{stem}.yaml has no reference in reference_models.py"


def _require_pair(stem: str) -> None:
    if stem not in SPEC_STEMS or stem not in REFERENCES:
        pytest.fail(
            f"{stem!r}: spec and reference are not paired (see test_spec_and_reference_pair)",
            pytrace=False,
        )


# --------------------------------------------------------------------------------------------
# cnncalc vs PyTorch, per spec
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("stem", ALL_STEMS)
def test_shapes_agree(stem: str) -> None:
    _require_pair(stem)
    data, facts = cnncalc_json(stem), torch_facts(stem)
    assert _to_channels_first(data["input_shape"], data["layout"]) == facts.input_shape
    assert _to_channels_first(data["output_shape"], data["layout"]) == facts.output_shape


@pytest.mark.parametrize("stem", ALL_STEMS)
def test_totals_agree(stem: str) -> None:
    _require_pair(stem)
    totals, facts = cnncalc_json(stem)["totals"], torch_facts(stem)
    got = {
        "params": totals["params"],
        "trainable_params": totals["trainable_params"],
        "buffers": totals["buffers"],
    }
    want = {
        "params": facts.params,
        "trainable_params": facts.trainable_params,
        "buffers": facts.buffers,
    }
    assert got == want


@pytest.mark.parametrize("stem", ALL_STEMS)
def test_parameterised_layers_agree(stem: str) -> None:
    """Same multiset of (params, output shape) over layers that own parameters."""
    _require_pair(stem)
    ours, theirs = cnncalc_layers(cnncalc_json(stem)), torch_facts(stem).layers
    if ours != theirs:
        pytest.fail(
            f"{stem}: parameterised layers differ (params, channels-first output shape)\n"
            f"  only in cnncalc:\n{_fmt_counter(ours - theirs)}\n"
            f"  only in PyTorch:\n{_fmt_counter(theirs - ours)}",
            pytrace=False,
        )


# --------------------------------------------------------------------------------------------
# Hand-computed worked exercises (from the issue) and published resnet50 numbers
# --------------------------------------------------------------------------------------------


def _layers_of_type(data: dict[str, Any], layer_type: str) -> list[dict[str, Any]]:
    return [layer for layer in data["layers"] if layer["type"] == layer_type]


def test_exercise_dense_by_hand() -> None:
    data = cnncalc_json("exercise_dense")
    assert data["layout"] == "channels_last"
    assert data["input_shape"] == [500, 500, 3]
    assert data["output_shape"] == [100]
    (linear,) = _layers_of_type(data, "linear")
    # 3 * 500 * 500 = 750,000 inputs x 100 outputs, plus one bias per output.
    assert linear["param_tensors"] == {"weight": 75_000_000, "bias": 100}
    assert linear["params"] == 75_000_100
    assert data["totals"]["params"] == 75_000_100


def test_exercise_conv_by_hand() -> None:
    data = cnncalc_json("exercise_conv")
    assert data["layout"] == "channels_last"
    assert data["input_shape"] == [500, 500, 3]
    # 10 filters of 5 x 5 x 3 plus 10 biases; 500 - 5 + 1 = 496, printed channels last.
    assert data["totals"]["params"] == 10 * 5 * 5 * 3 + 10 == 760
    assert data["output_shape"] == [496, 496, 10]
    (conv,) = _layers_of_type(data, "conv2d")
    assert conv["param_tensors"] == {"weight": 750, "bias": 10}
    assert conv["output_shape"] == [496, 496, 10]


def test_exercise_stride_by_hand() -> None:
    data = cnncalc_json("exercise_stride")
    assert data["layout"] == "channels_first"
    assert data["input_shape"] == [96, 128, 128]
    (conv,) = _layers_of_type(data, "conv2d")
    # floor((128 + 2 * 3 - 7) / 2) + 1 = 64; 128 * 96 * 7 * 7 + 128 = 602,240.
    assert conv["output_shape"] == [128, 64, 64]
    assert conv["params"] == 128 * 96 * 7 * 7 + 128 == 602_240
    assert data["output_shape"] == [128, 64, 64]
    assert data["totals"]["params"] == 602_240


def test_resnet50_published_totals() -> None:
    totals = cnncalc_json("resnet50")["totals"]
    assert totals["params"] == 25_557_032
    assert totals["buffers"] == 53_120
