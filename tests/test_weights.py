"""Weights and biases as separate figures: summarize's JSON per layer and in the totals."""

from __future__ import annotations

import json

import pytest

from cnncalc.weights import biases, is_bias
from conftest import SPECS, run
from reference_models import REFERENCES


def summary(spec: str, *options: str) -> dict:  # type: ignore[type-arg]
    result = run("summarize", str(SPECS / f"{spec}.yaml"), "-f", "json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("name", "bias"),
    [
        ("bias", True),
        ("in_proj_bias", True),  # attention's packed q, k, v biases
        ("bias_ih_l0", True),  # an LSTM's
        ("weight", False),
        ("in_proj_weight", False),
        ("biased", False),
        ("running_mean", False),
    ],
)
def test_a_bias_is_named_so(name: str, bias: bool) -> None:
    assert is_bias(name) is bias


def test_biases_of_a_tensor_mapping() -> None:
    assert biases({"weight": 750, "bias": 10}) == 10
    assert biases([("weight", 64), ("bias", 64)]) == 64


@pytest.mark.parametrize(
    ("spec", "weights", "bias_count"),
    [
        # ten 5×5×3 filters: 5·5·3·10 = 750 weights and a bias each
        ("exercise_conv", 750, 10),
        # 500·500·3 = 750,000 features to 100 units: 75,000,000 weights and 100 biases
        ("exercise_dense", 75_000_000, 100),
    ],
)
def test_the_exercises_by_hand(spec: str, weights: int, bias_count: int) -> None:
    data = summary(spec)
    assert (data["totals"]["weights"], data["totals"]["biases"]) == (weights, bias_count)
    last = data["layers"][-1]
    assert (last["weights"], last["biases"]) == (weights, bias_count)
    assert last["weights"] + last["biases"] == last["params"]


def test_collapsed_rows_sum_their_layers() -> None:
    """ResNet-50's convolutions have no bias; its 53 batch norms have a shift β per channel
    (half their 53,120 affine parameters, as their buffers are 2 per channel) and fc 1000."""
    data = summary("resnet50", "--depth", "1")
    assert data["totals"]["biases"] == 53_120 // 2 + 1000
    assert data["totals"]["weights"] == 25_557_032 - 27_560
    assert sum(r["biases"] for r in data["layers"]) == 27_560
    layer1 = next(r for r in data["layers"] if r["name"] == "layer1")
    # 3 bottlenecks of 3 batch norms (64, 64, 256) and the downsample's (256)
    assert layer1["biases"] == 3 * (64 + 64 + 256) + 256


def _torch_bias(name: str) -> bool:
    """Whether a PyTorch parameter path names a bias (by PyTorch's own naming)."""
    last = name.rsplit(".", 1)[-1]
    return last in ("bias", "in_proj_bias") or last.startswith(("bias_ih_l", "bias_hh_l"))


@pytest.mark.slow
@pytest.mark.parametrize("spec", sorted(REFERENCES))
def test_weights_and_biases_are_pytorchs(spec: str) -> None:
    """Against the PyTorch reference models: a bias is a parameter named `bias`, or
    attention's `in_proj_bias`, or an RNN's `bias_ih_l0`, `bias_hh_l0_reverse`, ..."""
    model = REFERENCES[spec].build()
    named = list(model.named_parameters())
    expected_biases = sum(p.numel() for n, p in named if _torch_bias(n))
    expected_weights = sum(p.numel() for n, p in named) - expected_biases
    data = summary(spec)
    assert (data["totals"]["weights"], data["totals"]["biases"]) == (
        expected_weights,
        expected_biases,
    )


def test_a_long_size_in_the_table_has_separators() -> None:
    """750000 features print as 750,000, as the 75,000,100 parameters beside them do; CSV
    keeps plain digits for a program."""
    out = run("summarize", str(SPECS / "exercise_dense.yaml")).stdout
    assert "flatten_1   flatten   750,000" in out
    csv = run("summarize", str(SPECS / "exercise_dense.yaml"), "-f", "csv").stdout
    assert "flatten_1,flatten,750000," in csv
