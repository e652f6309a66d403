"""Issue 10: loops whose time or memory a spec's sizes set, and fields that pass vacuously.

Every hostile spec runs in a child under tests/bounds.py's CPU-time and memory limits, and
must answer with exact figures (hand-computed in the comments) or a located refusal.
"""

from __future__ import annotations

import textwrap
from fractions import Fraction as F
from pathlib import Path

import pytest

from bounds import assert_refused, run_bounded
from cnncalc.graph import build
from cnncalc.layers.costs import adaptive_reads
from cnncalc.layers.spans import FITTED_TOTAL, Span, adaptive_span
from cnncalc.receptive import MAX_TRACED, fields
from cnncalc.spec import from_text

BIG = 2**63 - 1


def spec(tmp_path: Path, text: str, name: str = "net.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def ok(*args: str) -> str:
    """Run within the bounds; it must succeed. Its standard output."""
    run = run_bounded(*args)
    assert not run.hung and run.exit_code == 0 and "Traceback" not in run.stderr, run.describe()
    return run.stdout


# ---- adaptive pooling: closed forms ------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 25))
def test_adaptive_window_and_reads_in_closed_form_match_a_look_at_every_unit(n: int) -> None:
    for o in range(1, 40):

        def taps(i: int, n: int = n, o: int = o) -> range:
            return range(i * n // o, -(-(i + 1) * n // o))

        span = adaptive_span(n, o)
        looked = Span.fitted(F(n, o), taps, o)
        assert (span.step, span.offset, span.width) == (looked.step, looked.offset, looked.width)
        assert adaptive_reads([n], [o]) == sum(len(taps(i)) for i in range(o))
        for a in range(o):  # a stretch of units reads one run
            for b in range(a, o):
                runs = span.runs(a, b) if span.runs else None
                assert runs is not None
                assert {t for r in runs for t in r} == {t for i in range(a, b + 1) for t in taps(i)}


def test_adaptive_pooling_to_2_63_units_answers_exactly(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""\
        input: [1, 1]
        layers:
          - adaptiveavgpool1d: {{output_size: {BIG}}}
        """,
    )
    # Reads n + o − gcd(n, o) = 1 + (2^63 − 1) − 1: one add per output, as it should.
    assert f"FLOPs                  9.22e18 ({BIG:,})" in ok("summarize", path)
    # Field: step 1/o, offset (o − 1)/o, width 2(o − 1)/o + 1/o − 1 = (o − 1)/o, so the size
    # is 1 + (o − 1)/o = (2o − 1)/o: exact, not 'global'.
    table = ok("rf", path)
    assert table.splitlines()[-1].split()[3:] == [
        f"{2 * BIG - 1}/{BIG}",
        f"1/{BIG}",
        f"{BIG - 1}/{BIG}",
    ]
    unit = ok("rf", path, "--layer", "adaptiveavgpool1d_1", "--unit", str(BIG - 1))
    assert f"window           positions 0…{BIG - 1}/{BIG}" in unit
    assert "input region     position 0 of the 1 input" in unit


def test_adaptive_pooling_past_65536_outputs_is_exact_and_checked(tmp_path: Path) -> None:
    # n = 3 → o = 100,000: g = 1, step 3/100000, offset 99999/100000,
    # width 2·99999/100000 + 3/100000 − 1 = 100001/100000, size 200001/100000.
    body = """\
        input: [1, 3]
        layers:
          - adaptiveavgpool1d: {output_size: 100000}
            name: pool
        expect:
          receptive_field: {layer: pool, EXPECT}
        """
    table = ok("rf", spec(tmp_path, body.replace("EXPECT", "min: 1")))
    assert table.splitlines()[-1].split() == [
        "pool",
        "adaptiveavgpool1d",
        "1×100,000",
        "200001/100000",
        "3/100000",
        "99999/100000",
    ]
    met = spec(tmp_path, body.replace("EXPECT", "size: 200001/100000"), "met.yaml")
    assert "1 expectation met" in ok("check", met)
    # It used to be 'global', which met any minimum: a minimum of 3 passed vacuously.
    missed = run_bounded("check", spec(tmp_path, body.replace("EXPECT", "min: 3"), "m.yaml"))
    assert missed.exit_code == 1, missed.describe()
    assert "receptive_field size is 2.00001, less than the minimum 3" in missed.stdout


# ---- rf --unit: regions as runs, with a limit on units visited one by one ----------------------


def test_unit_of_a_1e8_wide_input_through_a_global_pool(tmp_path: Path) -> None:
    # conv k3 d2 → 99,999,996 units, all pooled; their taps o, o+2, o+4 cover 0…99,999,999.
    path = spec(
        tmp_path,
        """\
        input: [1, 100000000]
        layers:
          - conv1d: {out_channels: 1, kernel_size: 3, dilation: 2}
          - adaptiveavgpool1d: {output_size: 1}
          - conv1d: {out_channels: 1, kernel_size: 1}
        """,
    )
    out = ok("rf", path, "--layer", "conv1d_2", "--unit", "0")
    assert "input region     positions 0…99999999 of the 100,000,000 input" in out


def test_transposed_conv_with_kernel_1e12(tmp_path: Path) -> None:
    # Size 1 + (k − 1) = 10^12, stride 1, padding k − 1; unit 5·10^11 starts at
    # 5·10^11 − (10^12 − 1) = −499,999,999,999 and reads both input positions.
    path = spec(
        tmp_path,
        """\
        input: [1, 2]
        layers:
          - convtranspose1d: {out_channels: 1, kernel_size: 1000000000000}
        """,
    )
    out = ok("rf", path, "--layer", "convtranspose1d_1", "--unit", "500000000000")
    assert "size 1,000,000,000,000, stride 1, padding 999,999,999,999" in out
    assert "window           positions -499999999999…500000000000" in out
    assert "input region     positions 0…1 of the 2 input" in out


def test_transposed_conv_with_stride_and_dilation_and_kernel_1e12(tmp_path: Path) -> None:
    # Output o = 3i + 2j: for o = 10^12, j = (10^12 − 3i)/2 is whole for even i only, so of
    # the ten inputs it reads 0, 2, 4, 6, 8.
    path = spec(
        tmp_path,
        """\
        input: [1, 10]
        layers:
          - convtranspose1d: {out_channels: 1, kernel_size: 1000000000000, stride: 3, dilation: 2}
        """,
    )
    out = ok("rf", path, "--layer", "convtranspose1d_1", "--unit", "1000000000000")
    assert "input region     positions 0…8 of the 10 input" in out


def test_dilation_1e12(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        """\
        input: [1, 1000000000001]
        layers:
          - conv1d: {out_channels: 1, kernel_size: 2, dilation: 1000000000000}
        """,
    )
    out = ok("rf", path, "--layer", "conv1d_1", "--unit", "0")
    assert "input region     positions 0…1000000000000 of the 1,000,000,000,001 input" in out


def test_padding_1e18(tmp_path: Path) -> None:
    # Output 4 + 2·10^18; unit 10^18 + 2 is input position 2, unit 0 lies in the padding.
    path = spec(
        tmp_path,
        """\
        input: [1, 4]
        layers:
          - conv1d: {out_channels: 1, kernel_size: 1, padding: 1000000000000000000}
        """,
    )
    out = ok("rf", path, "--layer", "conv1d_1", "--unit", "1000000000000000002")
    assert "input region     position 2 of the 4 input" in out


def test_pixel_shuffle_by_2_20_through_a_global_pool(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        """\
        input: [1099511627776, 3, 3]
        layers:
          - pixelshuffle: {upscale_factor: 1048576}
          - adaptiveavgpool2d: {output_size: 1}
          - conv2d: {out_channels: 1, kernel_size: 1}
        """,
    )
    out = ok("rf", path, "--layer", "conv2d_1", "--unit", "0,0")
    assert "input region     rows 0…2, columns 0…2 of the 3×3 input" in out


def test_a_region_too_scattered_to_trace_is_refused_naming_the_limit(tmp_path: Path) -> None:
    # Stride 2 with kernel 1 reads every other unit of 10^8: 5·10^7 separate units.
    path = spec(
        tmp_path,
        """\
        input: [1, 100000000]
        layers:
          - conv1d: {out_channels: 1, kernel_size: 1, stride: 2}
          - adaptiveavgpool1d: {output_size: 1}
          - conv1d: {out_channels: 1, kernel_size: 1}
        """,
    )
    run = run_bounded("rf", path, "--layer", "conv1d_2", "--unit", "0")
    assert_refused(run, f"{path}:3:5: layer 'conv1d_1'", "too scattered", f"{MAX_TRACED:,}")


# ---- bounds of fitted windows ------------------------------------------------------------------


@pytest.mark.slow
def test_a_bounded_field_never_passes_an_expectation_silently(tmp_path: Path) -> None:
    # 1×40000 → 2×80000 bilinear: exact along H (3/2), a bound along W (past 65,536).
    body = """\
        input: [1, 1, 40000]
        layers:
          - upsample: {scale_factor: 2, mode: bilinear}
            name: up
        expect:
          receptive_field: {layer: up, EXPECT}
        """
    refused = run_bounded("check", spec(tmp_path, body.replace("EXPECT", "min: 1")))
    assert refused.exit_code == 1, refused.describe()
    assert "receptive_field size (along W) cannot be checked" in refused.stdout
    assert "at most 4.5" in refused.stdout
    # An exact size: 1.5 along H is checked and met; along W it cannot be.
    exact = run_bounded("check", spec(tmp_path, body.replace("EXPECT", "size: 1.5"), "x.yaml"))
    assert exact.exit_code == 1, exact.describe()
    assert "(along W) cannot be checked" in exact.stdout and "along H" not in exact.stdout
    # A maximum the bound meets is met; a minimum the bound misses is missed.
    below = spec(tmp_path, body.replace("EXPECT", "max: 5"), "max.yaml")
    assert "1 expectation met" in ok("check", below)
    missed = run_bounded("check", spec(tmp_path, body.replace("EXPECT", "min: 5"), "min.yaml"))
    assert missed.exit_code == 1, missed.describe()
    assert "(along H) is 1.5, less than the minimum 5" in missed.stdout


@pytest.mark.slow
def test_fitted_windows_share_one_budget_per_network(tmp_path: Path) -> None:
    # Twelve bicubic upsamplings to 65,536 × 65,536, each from a different size: fitting
    # them all would look at 12·2·65,536 units (about 6 CPU s); the budget pays for
    # FITTED_TOTAL, then windows stay bounds.
    layers = "".join(
        f"  - upsample: {{size: [65536, 65536], mode: bicubic}}\n"
        f"  - adaptiveavgpool2d: {{output_size: [{k}, {k}]}}\n"
        for k in range(2, 14)
    )
    text = f"input: [1, 1, 1]\nlayers:\n{layers}"
    graph = build(from_text(text, "net.yaml"))
    rf, _ = fields(graph)
    ups = [x.name for x in graph.layers if x.type == "upsample"]
    fitted = FITTED_TOTAL // (2 * 65536)
    assert all(rf[name].exact for name in ups[:fitted])
    assert all(rf[name].bounded == (0, 1) for name in ups[fitted:])
    path = spec(tmp_path, text)
    ok("rf", path)  # within the CPU limit
    # Tracing one unit back visits ~5,462 upsampled units a side per layer, one by one.
    run = run_bounded("rf", path, "--layer", ups[-1], "--unit", "65535,65535")
    assert_refused(run, "too scattered", f"{MAX_TRACED:,}")


@pytest.mark.slow
def test_a_field_that_outgrows_2_512_is_refused(tmp_path: Path) -> None:
    # Strides of 10^18 multiply: 10^(18·k) passes 2^512 at the ninth layer.
    path = spec(
        tmp_path,
        """\
        input: [1, 4]
        layers:
          - conv1d: {out_channels: 1, kernel_size: 1, padding: 1000000000000000000,
                     stride: 1000000000000000000}
            repeat: 20000
        """,
    )
    for command in ("summarize", "rf"):
        run = run_bounded(command, path)
        assert_refused(run, f"{path}:3:5: layer 'conv1d_9'", "outgrows 2^512")


GLU_CHAIN = """\
    input: [1, 4611686018427387904]
    layers:
      - glu: {dim: 2}
        repeat: 60
      - adaptiveavgpool1d: {output_size: 1}
    """


def test_glu_halvings_of_2_62_units_through_a_global_pool(tmp_path: Path) -> None:
    # Every unit pooled: each GLU's runs [a, b] and [a + h, b + h] join into the whole input.
    out = ok("rf", spec(tmp_path, GLU_CHAIN), "--layer", "adaptiveavgpool1d_1", "--unit", "0")
    assert (
        "input region     positions 0…4611686018427387903 of the 4,611,686,018,427,387,904" in out
    )


def test_glu_runs_that_double_at_every_layer_are_refused(tmp_path: Path) -> None:
    # Unit 0 of the last GLU reads 2 units, then 4, ...: 2^60 separate units at the input.
    path = spec(tmp_path, GLU_CHAIN)
    run = run_bounded("rf", path, "--layer", "glu_60", "--unit", "0")
    assert_refused(run, f"{path}:3:5: layer 'glu_", "too scattered", f"{MAX_TRACED:,}")
