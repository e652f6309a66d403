"""Receptive-field rules with hand-computed values (the gradient oracle is in
test_receptive_oracle.py)."""

from __future__ import annotations

import json
import re
import textwrap
from fractions import Fraction as F
from pathlib import Path

import pytest

from cnncalc.graph import Graph, build
from cnncalc.receptive import Field, fields, region
from cnncalc.spec import from_text
from conftest import SPECS, run, write_spec


def graph(text: str) -> Graph:
    return build(from_text(textwrap.dedent(text), "net.yaml"))


def field(text: str, layer: str | None = None) -> Field:
    g = graph(text)
    rf, _ = fields(g)
    return rf[layer or g.layers[-1].name]


def sq(size: object, stride: object, padding: object) -> tuple[tuple[F, F], ...]:
    return tuple((F(str(v)), F(str(v))) for v in (size, stride, padding))


def as_tuple(f: Field) -> tuple[tuple[F, F], ...]:
    return (f.size, f.stride, f.padding)  # type: ignore[return-value]


CHAIN = "input: [1, 64, 64]\nlayers:\n"


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        # the classic exercise: conv 3/1 then pool 3/2 → 5, stride 2
        (
            ["conv2d: {out_channels: 1, kernel_size: 3}", "maxpool2d: {kernel_size: 3, stride: 2}"],
            (5, 2, 0),
        ),
        # dilation: a 3-tap kernel with dilation 2 spans 5
        (["conv2d: {out_channels: 1, kernel_size: 3, dilation: 2}"], (5, 1, 0)),
        (
            [
                "conv2d: {out_channels: 1, kernel_size: 3, dilation: 2, padding: 2}",
                "conv2d: {out_channels: 1, kernel_size: 3, dilation: 4, padding: 4}",
            ],
            (13, 1, 6),
        ),
        # explicit padding moves the field's start; stride multiplies the next layers' growth
        (
            [
                "conv2d: {out_channels: 1, kernel_size: 7, stride: 2, padding: 3}",
                "maxpool2d: {kernel_size: 3, stride: 2, padding: 1}",
            ],
            (11, 4, 5),
        ),
        # 'valid' is no padding
        (
            [
                "conv2d: {out_channels: 1, kernel_size: 3, padding: valid}",
                "conv2d: {out_channels: 1, kernel_size: 3, padding: valid}",
            ],
            (5, 1, 0),
        ),
        # TensorFlow 'same' on 64 with k3 s2: total padding 1, all of it on the right, so the
        # field does not move left
        (["conv2d: {out_channels: 1, kernel_size: 3, stride: 2, padding: same}"], (3, 2, 0)),
        # ... and with k4 s1 the total 3 splits 1 left, 2 right
        (["conv2d: {out_channels: 1, kernel_size: 4, padding: same}"], (4, 1, 1)),
        # ceil_mode changes how many units there are, not where they look
        (["maxpool2d: {kernel_size: 3, stride: 2, ceil_mode: true}"], (3, 2, 0)),
        # pointwise layers leave the field alone
        (
            [
                "conv2d: {out_channels: 4, kernel_size: 3}",
                "batchnorm2d",
                "relu",
                "dropout2d: {p: 0.5}",
                "conv2d: {out_channels: 4, kernel_size: 1}",
                "groupnorm: {num_groups: 2}",
                "gelu",
                "identity",
            ],
            (3, 1, 0),
        ),
        # a zero-padding layer shifts the field by its left/top padding
        (
            ["zeropad2d: {padding: [2, 0, 2, 0]}", "conv2d: {out_channels: 1, kernel_size: 3}"],
            (3, 1, 2),
        ),
    ],
)
def test_square_fields(layers: list[str], expected: tuple[int, int, int]) -> None:
    text = CHAIN + "".join(f"  - {x}\n" for x in layers)
    assert as_tuple(field(text)) == sq(*expected)


def test_per_dimension_fields() -> None:
    f = field(
        CHAIN + "  - conv2d: {out_channels: 1, kernel_size: [3, 5], stride: [1, 2],"
        " padding: [1, 0]}\n  - maxpool2d: {kernel_size: 2}\n"
    )
    assert f.size == (F(4), F(7))
    assert f.stride == (F(2), F(4))
    assert f.padding == (F(1), F(0))


def test_transposed_convolution_has_a_fractional_stride() -> None:
    # stride 2 halves the step: unit o of the output sits at o/2 of the input.
    f = field(
        CHAIN + "  - convtranspose2d: {out_channels: 1, kernel_size: 4, stride: 2, padding: 1}\n"
    )
    assert f.stride == (F(1, 2), F(1, 2))
    assert f.size == (F(5, 2), F(5, 2))  # 1 + (4 − 1)/2
    assert f.padding == (F(1), F(1))  # (4 − 1 − 1)/2


def test_nearest_upsampling_then_conv() -> None:
    f = field(
        CHAIN + "  - upsample: {scale_factor: 2}\n"
        "  - conv2d: {out_channels: 1, kernel_size: 3, padding: 1}\n"
    )
    assert f.stride == (F(1, 2), F(1, 2))
    # upsample: 1 + 1/2; conv: + 2 · 1/2
    assert f.size == (F(5, 2), F(5, 2))
    assert f.padding == (F(1), F(1))  # 1/2 + 1 · 1/2


def test_global_pooling_flatten_and_linear_are_global() -> None:
    g = graph(
        CHAIN + "  - conv2d: {out_channels: 2, kernel_size: 3}\n"
        "  - adaptiveavgpool2d: {output_size: 1}\n  - flatten\n"
        "  - linear: {out_features: 3}\n"
    )
    rf, _ = fields(g)
    assert [rf[x.name].is_global for x in g.layers] == [False, True, True, True]


def test_adaptive_pool_with_dividing_output_is_a_plain_window() -> None:
    assert as_tuple(field(CHAIN + "  - adaptiveavgpool2d: {output_size: 16}\n")) == sq(4, 4, 0)


def test_adaptive_pool_windows_of_uneven_size_get_the_smallest_window_holding_them() -> None:
    """64 → 5: PyTorch's windows ⌊i·64/5⌋ … ⌈(i+1)·64/5⌉ − 1 are 0…12, 12…25, 25…38, 38…51,
    51…63; they move by 64/5, start up to 4/5 before i·64/5 (unit 1: 12.8 − 12) and end up to
    63/5 after it (unit 3: 51 − 38.4): size 4/5 + 63/5 + 1 = 72/5."""
    f = field(CHAIN + "  - adaptiveavgpool2d: {output_size: 5}\n")
    assert as_tuple(f) == sq(F(72, 5), F(64, 5), F(4, 5))


@pytest.mark.parametrize(
    ("chain", "size", "expected"),
    [
        # ×2 bilinear, half-pixel centres: unit 2m reads m−1 and m, unit 2m+1 reads m and m+1;
        # a window moving by 1/2 must start 1 before o/2 and end 3/2 after it.
        ("upsample scale_factor=2 mode=bilinear", 8, (F(5, 2), F(1, 2), 1)),
        # ×1/2 bilinear: unit o reads 2o and 2o+1, nothing more.
        ("upsample scale_factor=0.5 mode=bilinear", 9, (2, 2, 0)),
        # ×2 bicubic: unit 2m reads m−2 … m+1, unit 2m+1 reads m−1 … m+2.
        ("upsample scale_factor=2 mode=bicubic", 8, (F(9, 2), F(1, 2), 2)),
        # ×2 nearest: unit o copies ⌊o/2⌋.
        ("upsample scale_factor=2", 8, (F(3, 2), F(1, 2), F(1, 2))),
        # area from 9 to 18 is adaptive pooling: one pixel each, as nearest.
        ("upsample scale_factor=2 mode=area", 9, (F(3, 2), F(1, 2), F(1, 2))),
        # a 3×3 stride-2 window, then ×2 bilinear: 2·(5/2 − 1) + 3 = 6, stride 1, padding 2.
        ("conv2d k3 s2, upsample scale_factor=2 mode=bilinear", 17, (6, 1, 2)),
    ],
)
def test_resampling_fields_are_the_smallest_window_holding_every_units_taps(
    chain: str, size: int, expected: tuple[object, object, object]
) -> None:
    result = run("rf", "--chain", chain, "--input", f"1,{size},{size}", "-f", "json")
    assert result.exit_code == 0, result.output
    last = json.loads(result.stdout)["layers"][-1]["receptive_field"]
    as_json = [x if isinstance(x, int) else str(x) for x in expected]
    assert [last["size"][0], last["stride"][0], last["padding"][0]] == as_json


def test_merge_takes_the_union_of_aligned_fields() -> None:
    text = """
        input: [1, 32, 32]
        layers:
          - conv2d: {out_channels: 1, kernel_size: 5, padding: 2}
            name: wide
          - conv2d: {out_channels: 1, kernel_size: 1}
            name: narrow
            from: input
          - add:
            from: [wide, narrow]
        """
    g = graph(text)
    rf, notices = fields(g)
    assert as_tuple(rf["add_1"]) == sq(5, 1, 2)
    assert notices == []


def test_misaligned_merge_warns_and_unions() -> None:
    text = """
        input: [1, 32, 32]
        layers:
          - conv2d: {out_channels: 1, kernel_size: 3, padding: same}
            name: a
          - conv2d: {out_channels: 1, kernel_size: 4, padding: same}
            name: b
            from: input
          - concat:
            from: [a, b]
        """
    g = graph(text)
    rf, notices = fields(g)
    # a: [u−1, u+1]; b (same, k4: 1 left, 2 right): [u−1, u+2] → union [u−1, u+2]
    assert as_tuple(rf["concat_1"]) == sq(4, 1, 1)
    assert [n.message for n in notices] == [
        f"the inputs' receptive fields are not centred alike along {d} (unit 0's centre:"
        " 'a' at 0, 'b' at 1/2); the merged field is their union"
        for d in "HW"
    ]


def test_merge_of_different_strides_warns_and_contains_both() -> None:
    text = """
        input: [1, 16, 16]
        layers:
          - conv2d: {out_channels: 1, kernel_size: 1, stride: 2}
          - zeropad2d: {padding: 4}
            name: coarse
          - identity:
            name: fine
            from: input
          - add:
            from: [coarse, fine]
        """
    g = graph(text)
    rf, notices = fields(g)
    assert len(notices) == 2 and "different strides" in notices[0].message
    f = rf["add_1"]
    for u in range(16):
        lo, hi = f.window_1d(0, u)
        exact = region(g, "add_1", (u, u))[0]
        assert exact is not None and lo <= exact[0] and exact[1] <= hi


def test_region_of_a_corner_unit_is_clipped_to_the_image() -> None:
    g = graph(
        CHAIN + "  - conv2d: {out_channels: 1, kernel_size: 3, padding: 1}\n"
        "  - conv2d: {out_channels: 1, kernel_size: 3, padding: 1}\n"
    )
    assert region(g, "conv2d_2", (0, 63)) == [(0, 2), (61, 63)]
    assert region(g, "conv2d_2", (10, 20)) == [(8, 12), (18, 22)]


def test_region_skips_rows_a_stride_drops() -> None:
    # 5 rows, kernel 2 stride 2: row 4 never reaches the output.
    g = graph(
        "input: [1, 5, 5]\nlayers:\n  - avgpool2d: {kernel_size: 2}\n"
        "  - zeropad2d: {padding: 1}\n  - conv2d: {out_channels: 1, kernel_size: 3}\n"
    )
    assert region(g, "conv2d_1", (2, 2)) == [(2, 3), (2, 3)]


def test_zero_padding_border_sees_nothing() -> None:
    g = graph("input: [1, 4, 4]\nlayers:\n  - zeropad2d: {padding: 2}\n")
    assert region(g, "zeropad2d_1", (0, 0)) == [None, None]
    assert region(g, "zeropad2d_1", (2, 5)) == [(0, 0), (3, 3)]


def test_vgg16_published_fields() -> None:
    data = json.loads(run("summarize", str(SPECS / "vgg16.yaml"), "-f", "json").stdout)
    by_name = {x["name"]: x["receptive_field"] for x in data["layers"]}
    published = {
        "conv1_1": (3, 1, 1),
        "pool1": (6, 2, 2),
        "pool2": (16, 4, 6),
        "pool3": (44, 8, 18),
        "pool4": (100, 16, 42),
        "pool5": (212, 32, 90),
    }
    for name, (size, stride, padding) in published.items():
        assert by_name[name] == {
            "size": [size] * 2,
            "stride": [stride] * 2,
            "padding": [padding] * 2,
        }, name


def test_non_spatial_network_has_no_fields() -> None:
    data = json.loads(run("summarize", str(SPECS / "exercise_dense.yaml"), "-f", "json").stdout)
    assert data["layers"][0]["receptive_field"] == {"global": True}
    g = graph("input: [16]\nlayers:\n  - linear: {out_features: 4}\n")
    assert fields(g) == ({}, [])


def test_inline_chain_classic_exercise() -> None:
    result = run("rf", "--chain", "conv2d k3 s1, maxpool2d k3 s2", "-f", "json")
    assert result.exit_code == 0
    last = json.loads(result.stdout)["layers"][-1]
    assert last["receptive_field"] == {"size": [5, 5], "stride": [2, 2], "padding": [0, 0]}


def test_inline_chain_long_arguments_and_1d() -> None:
    result = run(
        "rf", "-c", "conv1d kernel_size=5 padding=same, maxpool1d k2 ceil_mode=true", "-f", "json"
    )
    last = json.loads(result.stdout)["layers"][-1]
    assert last["receptive_field"] == {"size": [6], "stride": [2], "padding": [2]}


def test_inline_chain_short_names_take_lists_too() -> None:
    """k=[3,5] is kernel_size [3, 5], as k3 is kernel_size 3."""
    result = run("rf", "-c", "conv2d k=[3,5] s=2", "-f", "json")
    (layer,) = json.loads(result.stdout)["layers"]
    assert layer["receptive_field"] == {"size": [3, 5], "stride": [2, 2], "padding": [0, 0]}
    assert layer["output_shape"] == [1, 111, 110]  # ⌊(224 − 3) / 2⌋ + 1, ⌊(224 − 5) / 2⌋ + 1


@pytest.mark.parametrize(
    ("chain", "message"),
    [
        ("conv2d k3, ", "<chain>:1:11: empty layer in the chain"),
        (
            "conv2d k3 q7",
            "<chain>:1:11: 'q7' is not an argument; write k3, s2, p1, d2, name=value, or"
            " values in order (conv2d 64 k3 is out_channels 64, kernel_size 3)",
        ),
        ("cnv2d k3", "<chain>:1:1: unknown layer type 'cnv2d'; did you mean 'conv2d'?"),
        ("conv2d k300", "layer 'conv2d_1': kernel_size 300 is larger than the input 224"),
    ],
)
def test_inline_chain_errors(chain: str, message: str) -> None:
    result = run("rf", "--chain", chain)
    assert result.exit_code == 2
    assert message in result.stderr


def test_unit_query_shows_the_padding_part() -> None:
    out = run("rf", str(SPECS / "vgg16.yaml"), "--layer", "pool5", "--unit", "0,3").stdout
    assert out == (
        "pool5 (maxpool2d, output 512×7×7), unit at row 0, column 3:\n"
        "  receptive field  size 212, stride 32, padding 90\n"
        "  window           rows -90…121, columns 6…217\n"
        "  in padding       rows -90…-1 (90 rows) before the input\n"
        "  input region     rows 0…121, columns 6…217 of the 224×224 input\n"
    )


def test_unit_query_on_a_padding_border(tmp_path: Path) -> None:
    """A unit made only of padding sees nothing, said once, not 'no rows, columns 0…7'; a
    one-pixel range is 'row 8', singular."""
    spec = write_spec(
        tmp_path, "input: [1, 8, 8]\nlayers:\n  - zeropad2d: {padding: [0, 0, 0, 1]}\n"
    )
    out = run("rf", spec, "--layer", "zeropad2d_1", "--unit", "8,3").stdout
    assert out == (
        "zeropad2d_1 (zeropad2d, output 1×9×8), unit at row 8, column 3:\n"
        "  receptive field  size 1, stride 1, padding 0\n"
        "  window           row 8, column 3\n"
        "  in padding       row 8 past its end\n"
        "  input region     none: this unit sees only padding\n"
    )


def test_unit_query_errors() -> None:
    spec = str(SPECS / "vgg16.yaml")
    assert "--unit needs --layer" in run("rf", spec, "--unit", "1,1").stderr
    result = run("rf", spec, "--layer", "pool5", "--unit", "7,0")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --unit 7 is outside layer 'pool5', which has 7 rows (0 to 6)\n"
    )
    assert (
        "did you mean 'pool1', 'pool2', 'pool3', 'pool4' or 'pool5'?"
        in run("rf", spec, "--layer", "pool6").stderr
    )  # all equally close
    assert "needs 2 indices" in run("rf", spec, "--layer", "pool5", "--unit", "1").stderr


@pytest.mark.parametrize(
    ("spec", "options"),
    [
        ("vgg16", []),
        ("unet", ["--format", "json"]),
        ("vgg16", ["--layer", "conv1_1", "--unit", "0,5"]),
    ],
)
def test_golden_rf(spec: str, options: list[str], update_golden: bool) -> None:
    from conftest import GOLDEN

    result = run("rf", str(SPECS / f"{spec}.yaml"), *options)
    assert result.exit_code == 0, result.output
    golden = GOLDEN / f"rf-{spec}{''.join(options).replace('-', '_').replace(',', '_')}.out"
    if update_golden:
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()


def test_golden_rf_in_colour(update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """FORCE_COLOR: the rf table with ANSI styles, which stripped leave the plain golden."""
    from conftest import GOLDEN

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    result = run("rf", str(SPECS / "vgg16.yaml"))
    assert result.exit_code == 0, result.output
    golden = GOLDEN / "rf-vgg16-color.out"
    if update_golden:
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()
    assert "\x1b[" in result.stdout
    assert re.sub(r"\x1b\[[0-9;]*m", "", result.stdout) == (GOLDEN / "rf-vgg16.out").read_text()


def test_rf_of_a_named_layer_past_flatten_is_global_as_in_summarize() -> None:
    """The table lists spatial layers; one asked for by name is shown whatever its shape, with
    the field summarize gives it."""
    spec = str(SPECS / "lenet5.yaml")
    result = run("rf", spec, "--layer", "f6", "-f", "json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["layers"]
    summary = json.loads(run("summarize", spec, "-f", "json").stdout)
    (same,) = [x for x in summary["layers"] if x["name"] == "f6"]
    assert row["receptive_field"] == same["receptive_field"] == {"global": True}
    assert "f6" not in run("rf", spec).stdout  # the full table keeps to spatial layers


def test_a_padded_border_unit_after_global_pooling_sees_nothing(tmp_path: Path) -> None:
    """The layer's field is global, but a unit of its zero-padded border reads no pixel: the
    report says both without contradicting itself."""
    path = write_spec(
        tmp_path,
        "input: [1, 8, 8]\nlayers:\n  - adaptiveavgpool2d:"
        " {output_size: 1}\n  - conv2d: {out_channels: 1, kernel_size: 1,"
        " padding: [0, 1]}\n",
    )
    border = run("rf", path, "--layer", "conv2d_1", "--unit", "0,0").stdout
    assert "global: the layer's other units see the whole input" in border
    assert "none: this unit sees only padding" in border
    middle = run("rf", path, "--layer", "conv2d_1", "--unit", "0,1").stdout
    assert "global: every unit sees the whole input" in middle
    assert "rows 0…7, columns 0…7 of the 8×8 input" in middle
