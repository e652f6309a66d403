"""Human output in a terminal: tables laid out to its width, colour rules, rich kept out of
the machine formats, the weights/biases footer."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bounds import run_bounded
from cnncalc.render.grid import width
from cnncalc.render.text import si
from conftest import ROOT, SPECS, run, write_spec

SHIPPED = sorted(p.stem for p in SPECS.glob("*.yaml"))
# one shape as a table prints it, 64×512 or 750,000: no space, and no comma before a space
SHAPE = r"(?:[^\s,]|,(?=\S))+"
NUMBERS = ("Params", "MACs", "FLOPs", "RF", "RF stride", "RF padding", "RF/str/pad")


def _columns(header: str) -> list[tuple[str, int, int, bool]]:
    """(name, start, end, right-aligned) of each column, found in the header line."""
    names = re.split(r"\s{2,}", header.strip())
    spans, at = [], 0
    for name in names:
        start = header.index(name, at)
        at = start + len(name)
        spans.append((name, start, at, name in NUMBERS))
    return spans


def _cells(line: str, columns: list[tuple[str, int, int, bool]]) -> dict[str, str]:
    """A data row's cells by column: a left-aligned cell starts under its header, a
    right-aligned one ends under it (grid.layout)."""
    cuts = [0]
    for (_, _, end, right), (_, nstart, _, nright) in itertools.pairwise(columns):
        if right:
            cuts.append(end)
        elif not nright:
            cuts.append(nstart)
        else:  # Output shape then Params: a shape has no space (several are joined by
            cuts.append(-1)  # ", "), the params cell may
    cuts.append(len(line) + 1)
    out: dict[str, str] = {}
    for i, (name, *_) in enumerate(columns):
        lo, hi = cuts[i], cuts[i + 1]
        if lo == -1:
            continue
        if hi == -1:  # this cell and the next share the text between them
            hi = cuts[i + 2]
            shapes = re.match(rf"({SHAPE}(?:, {SHAPE})*|)\s*(.*)", line[lo:hi].strip())
            assert shapes is not None  # it matches any text, the empty cell too
            out[name], out[columns[i + 1][0]] = shapes.group(1), shapes.group(2)
            continue
        out[name] = line[lo:hi].strip()
    return out


def _is_count(text: str) -> bool:
    return bool(re.match(r"[0-9][0-9,]*( |$)", text))


def _field(rf: dict[str, Any] | None) -> tuple[str, str, str]:
    """A JSON receptive field as the table's three cells (notation.per_dim: 7, or 7×5)."""
    if rf is None:
        return ("", "", "")
    if rf.get("global"):
        return ("global", "", "")

    def cell(values: list[int]) -> str:
        return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))

    return (cell(rf["size"]), cell(rf["stride"]), cell(rf["padding"]))


@pytest.mark.parametrize("spec", SHIPPED)
def test_shipped_tables_fit_80_columns_with_every_number_whole(spec: str) -> None:
    """At 80 columns, full depth, colour off: no line is longer, and every figure printed is
    the JSON's figure rendered in full (params) or in SI units (MACs), never cropped."""
    path = str(SPECS / f"{spec}.yaml")
    table = run("summarize", path, "--width", "80").stdout
    lines = table.splitlines()
    assert max(width(line) for line in lines) <= 80, spec
    layers = json.loads(run("summarize", path, "-f", "json").stdout)["layers"]
    columns = _columns(lines[1])
    body = lines[3 : lines.index("")]
    # a block's header row (the tree) has a name and a kind, no figures
    # a layer that uses another's weights (`shares:`) names that layer instead of a count
    rows = [
        c
        for c in map(lambda line: _cells(line, columns), body)
        if _is_count(c["Params"]) or c["Params"].startswith("shares ")
    ]
    assert len(rows) == len(layers)
    for cells, layer in zip(rows, layers, strict=True):
        assert layer["name"] == cells["Layer"] or layer["name"].endswith("." + cells["Layer"])
        assert cells["Type"] == layer["type"]
        if layer.get("shares"):
            assert cells["Params"] == f"shares {layer['shares']}", layer
            continue
        frozen = layer["params"] - layer["trainable_params"]
        params = f"{layer['params']:,}"
        assert cells["Params"] == (params if not frozen else cells["Params"]), layer
        assert cells["Params"].startswith(params)
        if "MACs" in cells:
            assert cells["MACs"] == si(layer["macs"]), layer
        field = _field(layer["receptive_field"])
        if "RF/str/pad" in cells:
            merged = "/".join(f"({part})" if "/" in part else part for part in field)
            assert cells["RF/str/pad"] == (merged if field[1] else field[0]), layer
        elif "RF" in cells:
            assert (cells["RF"], cells["RF stride"], cells["RF padding"]) == field, layer


def test_resnet50_at_80_columns_is_a_tree() -> None:
    """Block instances head their layers, which are indented and named locally."""
    out = run("summarize", str(SPECS / "resnet50.yaml"), "--width", "80").stdout
    assert "\nlayer1               stage\n  0                  bottleneck_down\n" in out
    assert "\n    downsample_conv  conv2d" in out
    assert "RF/str/pad" in out and "35/4/17" in out and "MACs" in out


def test_wide_and_piped_keep_every_column() -> None:
    path = str(SPECS / "resnet50.yaml")
    piped = run("summarize", path).stdout
    assert run("summarize", path, "--wide").stdout == piped
    assert run("summarize", path, "--width", "400").stdout == piped  # it fits: in full
    assert "RF stride" in piped and "layer1.0.downsample_conv" in piped


def test_too_narrow_keeps_the_last_layout_whole() -> None:
    """No layout fits 20 columns: the narrowest is printed, its numbers whole."""
    out = run("summarize", str(SPECS / "resnet50.yaml"), "--width", "20").stdout
    assert "2,049,000" in out and "MACs" not in out.splitlines()[1]


@pytest.mark.parametrize(
    ("env", "styled"),
    [
        ({"FORCE_COLOR": "1"}, True),
        ({"FORCE_COLOR": "0"}, False),  # "0" means no, as chalk reads it
        ({"FORCE_COLOR": ""}, False),  # empty is unset (force-color.org); piped: plain
        ({"FORCE_COLOR": "1", "TERM": "dumb"}, False),
        ({}, False),  # piped
    ],
)
def test_colour_follows_the_environment(env: dict[str, str], styled: bool) -> None:
    full = {"NO_COLOR": "", "TERM": "xterm-256color", **env}
    for args in (["summarize", str(SPECS / "tiny_resnet.yaml")], ["rf", str(SPECS / "vgg16.yaml")]):
        out = CliRunnerEnv(full).invoke(*args)
        assert ("\x1b[" in out) == styled, (env, args)


def test_no_color_keeps_bold_but_drops_colours() -> None:
    out = CliRunnerEnv({"FORCE_COLOR": "1", "NO_COLOR": "1", "TERM": "xterm"}).invoke(
        "summarize", str(SPECS / "tiny_resnet.yaml")
    )
    codes = set(re.findall(r"\x1b\[([0-9;]*)m", out))
    assert codes, "bold and dim stay (no-color.org is about colour)"
    assert not any(re.search(r"(^|;)(3[0-9]|9[0-7])(;|$)", c) for c in codes), codes


class CliRunnerEnv:
    """The CLI run in-process with an environment (click's CliRunner sets and restores it)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def invoke(self, *args: str) -> str:
        from click.testing import CliRunner

        from cnncalc.cli import main

        result = CliRunner().invoke(main, list(args), env=self.env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout


MACHINE = [
    ["summarize", "specs/tiny_resnet.yaml", "-f", "json"],
    ["summarize", "specs/tiny_resnet.yaml", "-f", "csv"],
    ["summarize", "specs/tiny_resnet.yaml", "-f", "markdown"],
    ["rf", "specs/vgg16.yaml", "-f", "json"],
    ["check", "specs/lenet5.yaml", "-f", "json"],
    ["check", "specs/lenet5.yaml", "-f", "github"],
    ["check", "specs/lenet5.yaml", "-f", "junit"],
    ["diff", "specs/resnet18.yaml", "specs/resnet50.yaml", "-f", "json"],
    ["diff", "specs/resnet18.yaml", "specs/resnet50.yaml", "-f", "markdown"],
    ["explain", "specs/lenet5.yaml", "-f", "json"],
    ["convolve", "1 2 3", "1 1", "-f", "json"],
]
_PROBE = """
import sys
from cnncalc.cli import main
try:
    main(sys.argv[1:], prog_name="cnncalc")
except SystemExit:
    pass
sys.stderr.write("rich loaded" if any(m.split(".")[0] == "rich" for m in sys.modules) else "")
"""


@pytest.mark.parametrize("args", MACHINE, ids=lambda a: "-".join(a[:1] + a[-1:]))
def test_machine_formats_never_import_rich(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], cwd=ROOT, capture_output=True, text=True
    )
    assert done.stdout, done.stderr
    assert "rich loaded" not in done.stderr


def test_table_goes_through_rich() -> None:
    """The human table is printed by a rich Console (the reverse of the probe above)."""
    probe = _PROBE.replace('"rich loaded" if', '"rich loaded" if not')
    done = subprocess.run(
        [sys.executable, "-c", probe, "summarize", "specs/tiny_resnet.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.stdout and "rich loaded" not in done.stderr


def test_footer_splits_weights_and_biases(tmp_path: Path) -> None:
    """Hand-counted: a 5×5 conv with 10 filters on RGB has 5·5·3·10 = 750 weights and 10
    biases; its batchnorm a scale (weight) and a shift (bias) per channel: 10 + 10."""
    path = write_spec(
        tmp_path,
        "input: [3, 32, 32]\nlayers:\n"
        "  - conv2d: {out_channels: 10, kernel_size: 5}\n"
        "  - batchnorm2d\n"
        "  - conv2d: {out_channels: 1000, kernel_size: 1, bias: false}\n",
    )
    out = run("summarize", path).stdout
    assert "Parameters             10,780 (10,780 trainable, 0 frozen)\n" in out
    assert "                       = 10,760 weights + 20 biases\n" in out


@pytest.mark.slow
def test_footer_biases_match_pytorch() -> None:
    """Oracle: ResNet-50 in PyTorch, its parameters named `*.bias` against the rest."""
    sys.path.insert(0, str(Path(__file__).parent))
    from reference_models import REFERENCES

    model = REFERENCES["resnet50"].build()
    named = dict(model.named_parameters())
    biases = sum(p.numel() for n, p in named.items() if n.split(".")[-1] == "bias")
    weights = sum(p.numel() for p in named.values()) - biases
    out = run("summarize", str(SPECS / "resnet50.yaml")).stdout
    assert f"= {weights:,} weights + {biases:,} biases\n" in out


@pytest.mark.slow
def test_a_layer_of_45000_inputs_is_rendered_in_bounded_memory(tmp_path: Path) -> None:
    """The Inputs cell stops after eight names ("and 44,992 more"): built whole, the table
    padded all 45,001 rows to its width, gigabytes."""
    n = 45_000
    lines = ["input: [4]", "layers:", *["  - relu"] * n, "  - add:"]
    lines.append("    from: [" + ", ".join(f"relu_{i}" for i in range(1, n + 1)) + "]")
    path = write_spec(tmp_path, "\n".join(lines) + "\n")
    done = run_bounded("summarize", "--max-layers", "100000", path)  # past the default
    assert done.exit_code == 0, done.describe()
    last = next(line for line in done.stdout.splitlines() if line.startswith("add_1"))
    assert "relu_1, relu_2, " in last and "relu_8 and 44,992 more" in last
    assert len(last) < 200
