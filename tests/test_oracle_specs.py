"""Oracle test: every spec in specs/*.yaml agrees with its hand-written PyTorch reference.

cnncalc is run only through its public contract (``cnncalc summarize <spec> --format json``);
the answers come from running the independent reference models in ``reference_models.py``
(batch 1, eval mode, no grad). Every spec must have a reference and every reference a spec.

Checked per spec: every input's and output's shape, total / trainable parameters, buffers (BN
running mean + var, not ``num_batches_tracked``), and a per-layer multiset of (parameters, output
shape) over the layers that own parameters, independent of layer names and order.

What a layer is differs a little between the two sides, and the torch side is read accordingly:

- ``nn.MultiheadAttention`` keeps ``out_proj`` as a submodule it never calls: its parameters
  count with the attention, which is one cnncalc layer (``UNITS``).
- A learnable tensor held by a composite module (ViT's class token and position embedding,
  ConvNeXt's layer scale) is a ``parameter`` layer in a spec: it is compared as (elements,
  shape without leading 1s), since the spec writes it per sample (``[1, 768]`` for the
  ``[1, 1, 768]`` class token) and the layer scale ``[C, 1, 1]`` has no batch axis at all.
- A module called twice (the Siamese tower) owns its parameters once: its first call counts
  them, later calls own none; a spec layer that ``shares:`` another's weights likewise.
- A module returning several tensors (attention, LSTM) is compared on its first output.

MACs are checked against the same reference models in ``test_macs_oracle.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
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

pytestmark = pytest.mark.slow  # runs every reference model: the CI run, not the inner loop

SPECS_DIR = Path(__file__).resolve().parent.parent / "specs"
SPEC_STEMS: set[str] = {path.stem for path in SPECS_DIR.glob("*.yaml")}
ALL_STEMS: list[str] = sorted(SPEC_STEMS | set(REFERENCES))

Shape = tuple[int, ...]
LayerKey = tuple[int, Shape]  # (parameter count, output shape channels-first without batch)


# --------------------------------------------------------------------------------------------
# The two sides, each computed once per stem
# --------------------------------------------------------------------------------------------


# Modules that cnncalc counts as one layer although PyTorch splits their parameters over
# submodules it does not call as modules.
UNITS: tuple[type[nn.Module], ...] = (nn.MultiheadAttention,)


@dataclass(frozen=True)
class TorchFacts:
    """What the reference model says (shapes channels-first, without the batch)."""

    input_shapes: dict[str, Shape]  # by the spec's input names ("input" for a single one)
    output_shapes: tuple[Shape, ...]
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


def _strip_ones(shape: Sequence[int]) -> Shape:
    """A free tensor's shape without its leading 1s: [1, 1, 768] and [1, 768] are both [768]."""
    dims = list(shape)
    while len(dims) > 1 and dims[0] == 1:
        dims.pop(0)
    return tuple(dims)


def _first(output: Any) -> torch.Tensor:
    """A module's first output tensor (attention and LSTMs return tuples)."""
    while isinstance(output, tuple):
        output = output[0]
    assert isinstance(output, torch.Tensor), f"output {type(output).__name__} is not a tensor"
    return output


def _layer_modules(model: nn.Module) -> tuple[list[nn.Module], Counter[LayerKey]]:
    """The modules that are one cnncalc layer each, and the free tensors of the others."""
    layers: list[nn.Module] = []
    free: Counter[LayerKey] = Counter()
    inside_units: set[int] = set()
    for module in model.modules():
        if id(module) in inside_units:
            continue
        if isinstance(module, UNITS):
            layers.append(module)
            inside_units.update(id(m) for m in module.modules())
        elif any(True for _ in module.children()):  # composite: what it owns is free
            for p in module.parameters(recurse=False):
                free[(p.numel(), _strip_ones(p.shape))] += 1
        elif _own_param_count(module) > 0:
            layers.append(module)
    return layers, free


@cache
def torch_facts(stem: str) -> TorchFacts:
    """Build and run the reference once; keep only the numbers, not the model."""
    reference = REFERENCES[stem]
    torch.manual_seed(0)
    model = reference.build()
    model.eval()

    modules, layers = _layer_modules(model)
    seen: set[int] = set()  # modules already called: a second call owns no parameters

    def hook(module: nn.Module, _inputs: Any, output: Any) -> None:
        params = 0 if id(module) in seen else sum(p.numel() for p in module.parameters())
        seen.add(id(module))
        if params:
            layers[(params, tuple(_first(output).shape[1:]))] += 1

    handles = [module.register_forward_hook(hook) for module in modules]
    try:
        with torch.no_grad():
            output = model(*reference.example())
    finally:
        for handle in handles:
            handle.remove()
    outputs = output if isinstance(output, tuple) else (output,)

    facts = TorchFacts(
        input_shapes=dict(
            zip(reference.input_names or ("input",), reference.input_shapes, strict=True)
        ),
        output_shapes=tuple(tuple(out.shape[1:]) for out in outputs),
        params=sum(p.numel() for p in model.parameters()),
        trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        buffers=sum(
            b.numel()
            for name, b in model.named_buffers()
            if not name.endswith("num_batches_tracked")
        ),
        layers=layers,
    )
    del model, output, outputs
    return facts


def cnncalc_layers(data: dict[str, Any]) -> Counter[LayerKey]:
    """Multiset of (params, channels-first output shape) over cnncalc layers that own
    parameters; a ``parameter`` layer's shape without its leading 1s (see the module doc)."""
    keys: Counter[LayerKey] = Counter()
    for layer in data["layers"]:
        if layer["params"] == 0 or layer.get("shares"):
            continue
        shape = _to_channels_first(layer["output_shape"], data["layout"])
        keys[(layer["params"], _strip_ones(shape) if layer["type"] == "parameter" else shape)] += 1
    return keys


def cnncalc_inputs(data: dict[str, Any]) -> dict[str, Shape]:
    """Every network input's channels-first shape by name ("input" for a single one)."""
    layout = data["layout"]
    if "inputs" not in data:
        return {"input": _to_channels_first(data["input_shape"], layout)}
    inputs = data["inputs"]
    if isinstance(inputs, dict):
        items = [(name, v["shape"] if isinstance(v, dict) else v) for name, v in inputs.items()]
    else:
        items = [(item["name"], item["shape"]) for item in inputs]
    return {name: _to_channels_first(shape, layout) for name, shape in items}


def cnncalc_outputs(data: dict[str, Any]) -> tuple[Shape, ...]:
    """Every network output's channels-first shape, in the spec's `outputs:` order."""
    layout = data["layout"]
    if "outputs" not in data:
        return (_to_channels_first(data["output_shape"], layout),)
    outputs = data["outputs"]
    if isinstance(outputs, dict):
        shapes = [v["shape"] if isinstance(v, dict) else v for v in outputs.values()]
    else:
        shapes = [item["shape"] if isinstance(item, dict) else item for item in outputs]
    return tuple(_to_channels_first(shape, layout) for shape in shapes)


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
    assert cnncalc_inputs(data) == facts.input_shapes
    assert cnncalc_outputs(data) == facts.output_shapes


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


# --------------------------------------------------------------------------------------------
# The modern specs of issue 13: published totals, PyTorch's tensor names, shared weights
# --------------------------------------------------------------------------------------------

PUBLISHED_PARAMS = {"vit_b16": 86_567_656, "convnext_tiny": 28_589_128, "shufflenetv2": 2_278_604}


@pytest.mark.parametrize("stem", sorted(PUBLISHED_PARAMS))
def test_published_totals(stem: str) -> None:
    """torchvision's published parameter counts."""
    assert cnncalc_json(stem)["totals"]["params"] == PUBLISHED_PARAMS[stem]


@pytest.mark.parametrize(
    ("stem", "layer"),
    [
        ("lstm_classifier", "lstm"),
        ("vit_b16", "layers.0.self_attention"),
        ("vit_b16", "layers.11.self_attention"),
    ],
)
def test_parameter_tensors_named_as_pytorch(stem: str, layer: str) -> None:
    """A layer's parameter tensors carry nn.LSTM's / nn.MultiheadAttention's names and sizes
    (the reference's module sits at the same path as the spec's layer)."""
    rows = {row["name"]: row for row in cnncalc_json(stem)["layers"]}
    module = REFERENCES[stem].build().get_submodule(layer)
    assert rows[layer]["param_tensors"] == {n: p.numel() for n, p in module.named_parameters()}


def test_siamese_tower_weights_counted_once() -> None:
    """The right tower uses the left tower's weights: each of its layers names its owner, and
    the total holds the tower once (38,947,648) plus the head (4,097)."""
    data = cnncalc_json("siamese")
    left = [row for row in data["layers"] if row["name"].startswith("left_tower.")]
    right = [row for row in data["layers"] if row["name"].startswith("right_tower.")]
    assert len(left) == len(right) == 14
    assert sum(row["params"] for row in left) == 38_947_648
    shares = {row["name"]: row.get("shares") for row in right}
    for row in left:
        if row["params"] > 0:
            assert shares[row["name"].replace("left_", "right_", 1)] == row["name"]
    assert data["totals"]["params"] == 38_947_648 + 4_097
