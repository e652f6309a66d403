"""`cnncalc explain`: the worked example exactly, and golden output for two specs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import GOLDEN, SPECS, run, write_spec

WORKED_EXAMPLE = """\
conv1  conv2d  96×128×128 → 128×64×64
  H_out = ⌊(128 + 2·3 − 1·(7−1) − 1) / 2⌋ + 1 = 64     (W the same)
  params = (96·7·7 + 1)·128 = 602,240
         = 602,112 weights + 128 biases
  MACs   = 128·64·64 · 96·7·7 = 2,466,250,752
  RF     = 7, stride 2, padding 3
"""


def test_the_worked_example_exactly() -> None:
    result = run("explain", str(SPECS / "exercise_stride.yaml"))
    assert result.exit_code == 0
    assert result.stdout == WORKED_EXAMPLE


@pytest.mark.parametrize(
    ("spec", "options"),
    [
        ("tiny_resnet", []),
        ("inception", ["--layer", "inception3a", "--flops"]),
        ("dcgan_generator", ["--batch", "2"]),
    ],
)
def test_golden_explain(spec: str, options: list[str], update_golden: bool) -> None:
    result = run("explain", str(SPECS / f"{spec}.yaml"), *options)
    assert result.exit_code == 0, result.output
    golden = GOLDEN / f"explain-{spec}{''.join(options).replace('-', '_')}.out"
    if update_golden:
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()


def test_ceil_mode_and_transposed_formulas() -> None:
    out = run("explain", str(SPECS / "inception.yaml"), "--layer", "maxpool1").stdout
    assert "H_out = ⌈(112 + 2·0 − 1·(3−1) − 1) / 2⌉ + 1 = 56     (W the same)" in out
    out = run("explain", str(SPECS / "dcgan_generator.yaml")).stdout
    assert "H_out = (32−1)·2 − 2·1 + 1·(4−1) + 0 + 1 = 64     (W the same)" in out
    assert "MACs   = 64·32·32 · 3·4·4 = 3,145,728" in out


def test_ceil_mode_drop_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "input: [1, 3, 3]\nlayers:\n  - maxpool2d: {kernel_size: 2, stride: 2,"
        " padding: 1, ceil_mode: true}\n"
    )
    out = run("explain", str(path)).stdout
    assert (
        "H_out = ⌈(3 + 2·1 − 1·(2−1) − 1) / 2⌉ + 1 − 1 = 2     (the last window would"
        " start in the padding)" in out
    )


def test_explain_unknown_layer() -> None:
    result = run("explain", str(SPECS / "lenet5.yaml"), "--layer", "c55")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no layer named 'c55'; did you mean 'c5'?")


def test_flops_formulas() -> None:
    """A weighted layer's FLOPs as 2·MACs plus its bias adds, one per output element; other
    layers by their documented rule."""
    out = run("explain", str(SPECS / "lenet5.yaml"), "--flops").stdout
    # c1: 6·28·28 outputs, 25 MACs each, plus one bias add each.
    assert (
        f"  FLOPs  = 2·{6 * 28 * 28 * 25:,} + {6 * 28 * 28:,} (bias) = "
        f"{2 * 6 * 28 * 28 * 25 + 6 * 28 * 28:,}\n" in out
    )
    assert f"  FLOPs  = {6 * 28 * 28:,}     (1 per element)\n" in out  # tanh after c1
    out = run(
        "explain", str(SPECS / "tiny_resnet.yaml"), "--flops", "--layer", "residual_1.conv2d_1"
    ).stdout
    assert f"  FLOPs  = 2·{16 * 32 * 32 * 16 * 9:,} = {2 * 16 * 32 * 32 * 16 * 9:,}\n" in out


def test_uneven_same_padding_says_which_side(tmp_path: Path) -> None:
    """TensorFlow's 'same' with an even kernel pads 0 before and 1 after."""
    path = write_spec(
        tmp_path,
        "input: [3, 16, 16]\nlayers:\n  - conv2d: {out_channels: 4,"
        " kernel_size: 2, padding: same}\n",
    )
    assert (
        "  H_out = ⌊(16 + 0 + 1 − 1·(2−1) − 1) / 1⌋ + 1 = 16     (padding 0 before, 1 after)"
        "     (W the same)\n" in run("explain", path).stdout
    )


def test_explain_gives_the_warnings_summarize_gives(tmp_path: Path) -> None:
    path = write_spec(
        tmp_path,
        "input: [3, 8, 8]\nlayers:\n  - relu:\n    name: dead\n  - sigmoid:\n    from: input\n",
    )
    explained, summarized = run("explain", path), run("summarize", path)
    assert explained.exit_code == summarized.exit_code == 0
    assert "warning: layer 'dead': its output is never used" in explained.stderr
    assert explained.stderr == summarized.stderr


def test_a_channels_last_spec_is_explained_channels_last() -> None:
    """A 5×5×3 filter, ten of them, as Keras and course material count: (5·5·3 + 1)·10."""
    assert run("explain", str(SPECS / "exercise_conv.yaml")).stdout == (
        "conv2d_1  conv2d  500×500×3 → 496×496×10\n"
        "  H_out = ⌊(500 + 2·0 − 1·(5−1) − 1) / 1⌋ + 1 = 496     (W the same)\n"
        "  params = (5·5·3 + 1)·10 = 760\n"
        "         = 750 weights + 10 biases\n"
        "  MACs   = 496·496·10 · 5·5·3 = 184,512,000\n"
        "  RF     = 5, stride 1, padding 0\n"
    )


def test_flops_give_the_rule_the_arguments_select(tmp_path: Path) -> None:
    """Not every mode's rule: the one that applies, with the count it gives."""
    path = write_spec(
        tmp_path,
        "input: [4, 8, 8]\nlayers:\n  - batchnorm2d\n"
        "  - instancenorm2d: {affine: true}\n"
        "  - upsample: {scale_factor: 2, mode: bilinear}\n"
        "  - layernorm: {normalized_shape: [16], bias: false}\n"
        "  - localresponsenorm: {size: 3}\n",
    )
    flops = [
        line for line in run("explain", path, "--flops").stdout.splitlines() if "FLOPs" in line
    ]
    assert flops == [
        f"  FLOPs  = {2 * 256:,}     (2 per element: the running statistics and affine fold into"
        " a scale and shift)",
        f"  FLOPs  = {7 * 256:,}     (5 per element: mean 1, variance 2, normalize 2; + 1 for"
        " the scale, + 1 for the shift)",
        f"  FLOPs  = {2 * 4 * 4 * 16 * 16:,}     (2 per neighbour read, 4 of them, per output"
        " element)",
        f"  FLOPs  = {6 * 4 * 16 * 16:,}     (5 per element: mean 1, variance 2, normalize 2;"
        " + 1 for the scale)",
        f"  FLOPs  = {(2 * 3 + 3) * 4 * 16 * 16:,}     (2·size + 3 per element: squares and a"
        " sum over size channels, a scale, a power)",
    ]


def test_pixel_shuffle_shows_its_shape_formulas(tmp_path: Path) -> None:
    path = write_spec(
        tmp_path,
        "input: [16, 8, 6]\nlayers:\n  - pixelshuffle: {upscale_factor: 2}"
        "\n  - pixelunshuffle: {downscale_factor: 2}\n",
    )
    out = run("explain", path).stdout
    assert "  C_out = 16 / 2² = 4\n  H_out = 8·2 = 16\n  W_out = 6·2 = 12\n" in out
    assert "  C_out = 4·2² = 16\n  H_out = 16 / 2 = 8\n  W_out = 12 / 2 = 6\n" in out


@pytest.mark.parametrize(
    ("spec", "options"),
    [
        ("tiny_resnet", []),
        ("inception", ["--batch", "3"]),
        ("dcgan_generator", ["--batch", "2"]),
        ("lenet5", []),
    ],
)
def test_json_figures_are_summarize_json_figures(spec: str, options: list[str]) -> None:
    """explain --format json and summarize --format json agree layer by layer."""
    path = str(SPECS / f"{spec}.yaml")
    explained = run("explain", path, "--format", "json", *options)
    summarized = run("summarize", path, "--format", "json", *options)
    assert explained.exit_code == summarized.exit_code == 0, explained.output
    doc, summary = json.loads(explained.stdout), json.loads(summarized.stdout)
    rows = {r["name"]: r for r in summary["layers"]}
    assert [x["name"] for x in doc["layers"]] == list(rows)
    assert doc["warnings"] == summary["warnings"]
    for x in doc["layers"]:
        row = rows[x["name"]]
        assert x["type"] == row["type"]
        assert x["output_shape"] == row["output_shape"]
        assert x["params"]["value"] == row["params"]
        assert (x["params"]["weights"], x["params"]["biases"]) == (row["weights"], row["biases"])
        assert (x["buffers"] or {"value": 0})["value"] == row["buffers"]
        assert x["macs"]["value"] == row["macs"]
        assert x["flops"]["value"] == row["flops"]
        assert x["receptive_field"] == row["receptive_field"]


def test_json_of_the_worked_example() -> None:
    result = run("explain", str(SPECS / "exercise_stride.yaml"), "-f", "json")
    assert result.exit_code == 0
    (layer,) = json.loads(result.stdout)["layers"]
    assert layer == {
        "name": "conv1",
        "type": "conv2d",
        "input_shapes": [[96, 128, 128]],
        "output_shape": [128, 64, 64],
        "shape_formulas": ["H_out = ⌊(128 + 2·3 − 1·(7−1) − 1) / 2⌋ + 1 = 64     (W the same)"],
        "shape_unchanged": False,
        "params": {
            "value": 602_240,
            "formula": "(96·7·7 + 1)·128",
            "note": None,
            "weights": 96 * 7 * 7 * 128,
            "biases": 128,
        },
        "buffers": None,
        "macs": {"value": 2_466_250_752, "formula": "128·64·64 · 96·7·7"},
        "flops": {"value": 2 * 2_466_250_752 + 128 * 64 * 64, "bias": 128 * 64 * 64, "rule": None},
        "receptive_field": {"size": [7, 7], "stride": [2, 2], "padding": [3, 3]},
    }


def test_the_dense_exercise_in_weights_and_biases_with_separators() -> None:
    """Q1 of the course: a dense layer of 100 units on a flattened 500×500×3 image has
    500·500·3 = 750,000 inputs, 750,000·100 = 75,000,000 weights and 100 biases. Every size
    of five digits or more has separators, in the shapes and in the formulas."""
    assert run("explain", str(SPECS / "exercise_dense.yaml")).stdout == (
        "flatten_1  flatten  500×500×3 → 750,000\n"
        "  3·500·500 = 750,000\n"
        "  params = 0\n"
        "  MACs   = 0\n"
        "  RF     = global (every unit sees the whole input)\n"
        "\n"
        "linear_1  linear  750,000 → 100\n"
        "  features: 750,000 → 100 (on the last dimension)\n"
        "  params = (750,000 + 1)·100 = 75,000,100\n"
        "         = 75,000,000 weights + 100 biases\n"
        "  MACs   = 100 · 750,000 = 75,000,000\n"
        "  RF     = global (every unit sees the whole input)\n"
    )
    doc = json.loads(run("explain", str(SPECS / "exercise_dense.yaml"), "-f", "json").stdout)
    params = doc["layers"][1]["params"]
    assert (params["weights"], params["biases"]) == (75_000_000, 100)
    assert params["formula"] == "(750000 + 1)·100"  # JSON keeps plain digits


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        # a scale γ (named weight) and a shift β (named bias) per channel: 16 of each
        ("residual_1.batchnorm2d_1", "         = 16 weights + 16 biases"),
        # bias: false: 16·3·3·16 weights and none
        ("residual_1.conv2d_1", "         = 2,304 weights + 0 biases"),
        # 16 → 10: 160 weights and 10 biases
        ("linear_1", "         = 160 weights + 10 biases"),
    ],
)
def test_weights_and_biases_by_tensor_name(layer: str, expected: str) -> None:
    out = run("explain", str(SPECS / "tiny_resnet.yaml"), "--layer", layer).stdout
    assert expected in out.splitlines()


def test_a_layer_without_parameters_has_no_split(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "input: [3, 8, 8]\nlayers:\n  - prelu\n  - relu\n")
    assert "         = 1 weight + 0 biases" in run("explain", path).stdout.splitlines()
    assert run("explain", path).stdout.count("weight") == 1  # relu has none
