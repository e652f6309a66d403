"""The PyTorch importer: every reference model imports, and its summary is the model's.

The oracle is the model itself, run here with forward hooks (not the importer's own run):
parameter and buffer totals, the output shape, and the output shape of every torch.nn layer
whose module path is a layer name of the imported spec (`layer1.0.conv1`). Factories for the
error cases live in this module, imported by the importer as `torch:test_import_torch:...`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from cnncalc.importers import ModelError, read_model
from cnncalc.importers.from_torch import read
from conftest import run, write_spec
from reference_models import REFERENCES

FAST = {"lenet5", "exercise_conv"}  # well under a second: the inner loop keeps them


def _shapes(stem: str) -> tuple[tuple[int, ...], ...]:
    """Every input's shape: the reference's one, or its several where it has more."""
    ref = REFERENCES[stem]
    return tuple(getattr(ref, "input_shapes", (ref.input_shape,)))


def _examples(stem: str) -> list[Tensor]:
    dtype = torch.long if getattr(REFERENCES[stem], "vocabulary", None) else torch.float32
    return [torch.zeros(1, *shape, dtype=dtype) for shape in _shapes(stem)]


def _model_facts(stem: str) -> tuple[dict[str, Any], dict[str, tuple[int, ...]]]:
    """The model's own figures, from one hooked run: totals, output, and each torch.nn
    layer's output shape by module path (first call)."""
    torch.manual_seed(0)
    model = REFERENCES[stem].build().eval()
    layers: dict[str, tuple[int, ...]] = {}
    for path, m in model.named_modules():
        if path and not list(m.children()):

            def hook(m: nn.Module, a: Any, out: Any, path: str = path) -> None:
                first = out[0] if isinstance(out, tuple) else out
                layers.setdefault(path, tuple(first.shape[1:]))

            m.register_forward_hook(hook)
    with torch.no_grad():
        out = model(*_examples(stem))
    first = out[0] if isinstance(out, tuple) else out
    facts = {
        "params": sum(p.numel() for p in model.parameters()),
        "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "buffers": sum(
            b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")
        ),
        "output": list(first.shape[1:]),
    }
    return facts, layers


def _summary(tmp_path: Path, text: str) -> dict[str, Any]:
    result = run("summarize", "--format", "json", write_spec(tmp_path, text))
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _import(stem: str) -> str:
    shapes = _shapes(stem)
    given = shapes if len(shapes) > 1 else shapes[0]
    return read(f"torch:reference_models:{stem}", input_shape=given).text


@pytest.mark.parametrize(
    "stem",
    [pytest.param(s, marks=() if s in FAST else pytest.mark.slow) for s in REFERENCES],
)
def test_reference_model_round_trips(stem: str, tmp_path: Path) -> None:
    """import → summarize gives the model's parameters, buffers, output and layer shapes."""
    text = _import(stem)
    assert text.startswith(f"# Imported from torch:reference_models:{stem}")
    summary = _summary(tmp_path, text)
    facts, layers = _model_facts(stem)
    totals = summary["totals"]
    assert totals["params"] == facts["params"]
    assert totals["trainable_params"] == facts["trainable"]
    assert totals["buffers"] == facts["buffers"]
    assert summary["output_shape"] == facts["output"]
    rows = {row["name"]: row for row in summary["layers"]}
    matched = [path for path in layers if path in rows]
    for path in matched:
        assert tuple(rows[path]["output_shape"]) == layers[path], path
    # Module paths are layer names, but for modules of several inputs (U-Net's Up), written
    # inline as up1_up, and layers whose module is called again (a Siamese tower's).
    assert len(matched) >= len(layers) // 2


@pytest.mark.slow
def test_resnet50_reads_like_the_hand_written_spec(tmp_path: Path) -> None:
    """Bottleneck becomes a block with arguments; module paths are layer names."""
    text = _import("resnet50")
    assert len(text.splitlines()) < 175
    assert "  bottleneck:\n    args: {out_channels: null}" in text
    assert '"${out_channels * 4}"' in text
    rows = {row["name"] for row in _summary(tmp_path, text)["layers"]}
    hand = run("summarize", "--format", "json", "specs/resnet50.yaml")
    hand_rows = {row["name"] for row in json.loads(hand.stdout)["layers"]}
    # The hand-written spec names its repeated blocks layerN.bottleneck_k, torchvision's
    # layerN.k; everything else is named alike.
    assert {"conv1", "bn1", "layer1.0.conv1", "layer4.0.downsample_conv", "fc"} & rows == {
        "conv1",
        "bn1",
        "layer1.0.conv1",
        "fc",
    }
    assert {r for r in hand_rows if ".0." in r or "." not in r} - rows <= {
        f"layer{i}.0.{n}" for i in range(1, 5) for n in ("downsample_conv", "downsample_bn")
    } | {"relu_1", "add_1", "relu_2", "relu_3", "flatten_1"} | {
        f"layer{i}.0.{n}" for i in range(1, 5) for n in ("relu_1", "relu_2", "relu_3", "add_1")
    }


# --------------------------------------------------------------------------------------------
# Factories the tests import through the importer
# --------------------------------------------------------------------------------------------


class Tower(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.act = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.conv(x))


class SharedTower(nn.Module):
    """One tower used for both inputs; one linear layer used twice."""

    def __init__(self) -> None:
        super().__init__()
        self.tower = Tower()
        self.fc = nn.Linear(8, 8)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        joined = torch.cat([self.tower(a), self.tower(b)], dim=1)  # [8, 6, 6]
        x = joined.mean([2, 3])
        return self.fc(self.fc(x))


def shared_tower() -> nn.Module:
    return SharedTower()


class Branchy(nn.Module):
    """Python control flow on a tensor's value: torch.fx cannot trace it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x: Tensor) -> Tensor:
        if x.sum() > 0:
            return self.conv(x)
        return x


class Outer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 3, 1)
        self.gate = Branchy()

    def forward(self, x: Tensor) -> Tensor:
        return self.gate(self.stem(x))


def untraceable() -> nn.Module:
    return Outer()


def no_counterpart() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.Unfold(kernel_size=2))


class Cumulative(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return torch.cumsum(x, dim=1)


def unsupported_function() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3), Cumulative())


def not_a_module() -> int:
    return 3


class ChannelsLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels of [n, C, H, W], as ConvNeXt writes it."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class WideConv(nn.Conv2d):
    """A subclass that changes only __init__: still a conv2d."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels, 2 * channels, 3, padding=1)


class Scaled(nn.Module):
    """A learned per-channel scale (a parameter of shape [C, 1, 1]) and a slice."""

    def __init__(self) -> None:
        super().__init__()
        self.norm = ChannelsLayerNorm(4, eps=1e-6)
        self.conv = WideConv(4)
        self.scale = nn.Parameter(torch.ones(8, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        y = self.scale * self.conv(self.norm(x))
        return y[:, 2:6, 0]


def subclasses() -> nn.Module:
    return Scaled()


def frozen_stem() -> nn.Module:
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
    model[0].requires_grad_(False)
    return model


# --------------------------------------------------------------------------------------------
# Sharing, freezing, several inputs
# --------------------------------------------------------------------------------------------


def test_a_module_called_twice_shares_its_weights(tmp_path: Path) -> None:
    text = read("torch:test_import_torch:shared_tower", input_shape=((1, 8, 8), (1, 8, 8))).text
    assert "inputs:\n  a: [1, 8, 8]\n  b: [1, 8, 8]" in text
    assert "    from: b\n    shares: tower" in text
    assert "    shares: fc" in text
    summary = _summary(tmp_path, text)
    model = shared_tower()
    assert summary["totals"]["params"] == sum(p.numel() for p in model.parameters()) == 112
    assert summary["output_shape"] == [8]


def test_frozen_parameters_stay_frozen(tmp_path: Path) -> None:
    text = read("torch:test_import_torch:frozen_stem", input_shape=(3, 8, 8)).text
    assert "trainable: false" in text
    totals = _summary(tmp_path, text)["totals"]
    assert (totals["params"], totals["frozen_params"], totals["buffers"]) == (240, 224, 16)


def test_subclasses_parameters_and_slices(tmp_path: Path) -> None:
    text = read("torch:test_import_torch:subclasses", input_shape=(4, 6, 6)).text
    assert "  - layernorm2d: {eps: 1.0e-06}  # [4, 6, 6]\n    name: norm\n" in text
    assert "  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1}" in text
    assert "  - parameter: {shape: [8, 1, 1]}" in text
    assert "  - narrow: {dim: 1, start: 2, length: 4}" in text
    summary = _summary(tmp_path, text)
    assert summary["output_shape"] == [4, 6]
    assert summary["totals"]["params"] == sum(p.numel() for p in subclasses().parameters())


def test_read_model_dispatches_to_torch() -> None:
    imported = read_model("torch:reference_models:exercise_conv", input_shape=[3, 500, 500])
    assert (imported.kind, imported.source) == ("torch", "torch:reference_models:exercise_conv")
    assert "conv2d: {out_channels: 10, kernel_size: 5}" in imported.text


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def _error(target: str, shape: Any = (3, 8, 8)) -> ModelError:
    with pytest.raises(ModelError) as info:
        read(target, input_shape=shape)
    return info.value


def test_untraceable_module_is_named() -> None:
    err = _error("torch:test_import_torch:untraceable")
    assert err.layer == "gate"
    assert "torch.fx cannot trace module gate (Branchy)" in str(err)
    assert "control flow" in str(err)


def test_module_without_counterpart_is_named() -> None:
    err = _error("torch:test_import_torch:no_counterpart")
    assert err.layer == "1"
    assert "module 1 (Unfold): module class Unfold has no cnncalc layer type" in str(err)
    assert "write that layer in the spec by hand" in str(err)


def test_function_without_counterpart_is_named() -> None:
    err = _error("torch:test_import_torch:unsupported_function")
    assert err.layer == "cumsum"
    assert "function cumsum cannot be translated" in str(err)
    assert "in module 1" in str(err)


@pytest.mark.parametrize(
    ("target", "shape", "message"),
    [
        ("torch:reference_models:lenet5", None, "needs the input shape"),
        ("torch:reference_models", (1, 32, 32), "torch:package.module:factory"),
        ("torch:no_such_module_here:f", (1, 32, 32), "cannot import no_such_module_here"),
        ("torch:reference_models:no_such", (1, 32, 32), "reference_models has no no_such"),
        ("torch:test_import_torch:not_a_module", (1, 32, 32), "returned int, not an nn.Module"),
        ("torch:reference_models:lenet5", (1, 0, 32), "whole numbers ≥ 1"),
        ("torch:reference_models:lenet5", (3, 32, 32), "the traced model fails on zeros"),
        ("torch:reference_models:lenet5", (100_000, 1_000), "takes at most 50,000,000"),
        ("torch:test_import_torch:shared_tower", (1, 8, 8), "forward takes 2 input(s) (a, b)"),
    ],
)
def test_bad_targets_and_shapes(target: str, shape: Any, message: str) -> None:
    assert message in str(_error(target, shape))
