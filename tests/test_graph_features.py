"""Graph features of modern networks: free parameters, broadcasting, several inputs and outputs,
shared weights, `when`, and `name: [a, b]` / `from: NAME:INDEX`.

Figures are held against PyTorch modules written by hand here (nn.Parameter, a submodule used
twice, several tensors in and out), and against hand-computed values; errors through the CLI.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

from cnncalc import graph, spec
from cnncalc.analysis import summarize
from cnncalc.errors import SpecError
from conftest import run, write_spec


def _summary(text: str) -> dict:
    """`cnncalc summarize --format json` of a spec's text."""
    result = run("summarize", "-", "--format", "json", input=textwrap.dedent(text))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _error(tmp_path: Path, text: str) -> str:
    """The one-line error a bad spec gets (exit 2), without the source lines under it."""
    path = write_spec(tmp_path, textwrap.dedent(text))
    result = run("summarize", path)
    assert result.exit_code == 2, result.output
    return result.stderr.splitlines()[0].replace(path, "net.yaml")


def _params(module: nn.Module) -> tuple[int, int]:
    """All and trainable parameters, each tensor once (a module used twice counts once)."""
    tensors = list(module.parameters())
    return sum(t.numel() for t in tensors), sum(t.numel() for t in tensors if t.requires_grad)


# ---- free parameters ----------------------------------------------------------------------------

VIT_HEAD = """
    input: [768, 14, 14]
    layers:
      - flatten: {start_dim: 2}
      - reshape: {shape: [196, 768]}
        name: patches
      - parameter: {shape: [1, 768]}
        name: class_token
      - concat: {dim: 1}
        from: [class_token, patches]
      - parameter: {shape: [197, 768]}
        name: pos_embedding
        trainable: false
      - add:
        from: [concat_1, pos_embedding]
      - parameter: {shape: [768]}
        name: scale
      - multiply:
        from: [add_1, scale]
"""


class VitHead(nn.Module):
    """Class token, position embedding (frozen) and a per-feature scale, as in the spec."""

    def __init__(self) -> None:
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, 1, 768))
        self.pos_embedding = nn.Parameter(torch.zeros(1, 197, 768), requires_grad=False)
        self.scale = nn.Parameter(torch.ones(768))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(2).reshape(x.shape[0], 196, 768)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return (x + self.pos_embedding) * self.scale


def test_parameters_count_as_pytorch_counts_them() -> None:
    model = VitHead()
    out = model(torch.zeros(2, 768, 14, 14))
    s = _summary(VIT_HEAD)
    params, trainable = _params(model)
    assert (s["totals"]["params"], s["totals"]["trainable_params"]) == (params, trainable)
    assert s["output_shape"] == list(out.shape[1:])
    assert [r["params"] for r in s["layers"] if r["type"] == "parameter"] == [768, 197 * 768, 768]


def test_a_parameter_is_no_activation() -> None:
    """Activations are what backward keeps, and a parameter is a weight: the multiply keeps
    add_1 (197×768) for the scale's gradient, and the scale, a parameter, is not counted; the
    flatten and reshape are views and the concat and add keep nothing."""
    s = _summary(VIT_HEAD)
    assert s["totals"]["memory"]["activations_bytes"] == 4 * 197 * 768  # fp32, batch 1
    kept = {row["name"]: row["saved_bytes"] for row in s["layers"] if row["saved_bytes"]}
    assert kept == {"multiply_1": 4 * 197 * 768}


def test_a_parameter_keeps_the_receptive_field_of_what_it_scales() -> None:
    """ConvNeXt's layer scale: multiplying by a [C, 1, 1] parameter leaves the conv's field."""
    s = _summary(
        """
        input: [3, 16, 16]
        layers:
          - conv2d: {out_channels: 8, kernel_size: 7, padding: 3, groups: 1}
            name: conv
          - parameter: {shape: [8, 1, 1]}
            name: gamma
          - multiply:
            from: [conv, gamma]
        """
    )
    fields = {r["name"]: r["receptive_field"] for r in s["layers"]}
    assert (
        fields["multiply_1"]
        == fields["conv"]
        == {"size": [7, 7], "stride": [1, 1], "padding": [3, 3]}
    )


def test_a_parameter_takes_no_input(tmp_path: Path) -> None:
    assert (
        _error(
            tmp_path,
            """
        input: [4]
        layers:
          - parameter: {shape: [4]}
            from: input
        """,
        )
        == "net.yaml:4:5: layer 'parameter_1': parameter takes no input, 'from' lists 1"
    )


# ---- broadcasting ------------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize(
    ("op", "torch_op"),
    [("add", torch.add), ("subtract", torch.sub), ("multiply", torch.mul), ("divide", torch.div)],
)
def test_a_shorter_parameter_broadcasts_as_in_pytorch(
    batch: int, op: str, torch_op: object
) -> None:
    x = torch.ones(batch, 5, 3, 4)
    p = torch.ones(3, 1)
    out = torch_op(x, p)  # type: ignore[operator]
    s = _summary(
        f"""
        input: [5, 3, 4]
        layers:
          - parameter: {{shape: [3, 1]}}
            name: p
          - {op}:
            from: [input, p]
        """
    )
    assert s["output_shape"] == list(out.shape[1:]) == [5, 3, 4]
    assert s["totals"]["flops"] == 5 * 3 * 4


def test_a_shorter_batched_input_is_refused(tmp_path: Path) -> None:
    """[B, 3, 4] + [B, 4]: PyTorch lines up the second batch with the first's 3."""
    assert _error(
        tmp_path,
        """
        input: [3, 4]
        layers:
          - flatten:
            name: flat
          - linear: {out_features: 4}
          - add:
            from: [input, linear_1]
        """,
    ) == (
        "net.yaml:7:5: layer 'add_1': 'linear_1' has 1 dimensions and the output 2: with the"
        " batch in front, PyTorch would line up the batch of 'linear_1' with the channels of"
        " the others; only a parameter may have fewer dimensions"
    )


def test_broadcasting_misfit_names_the_dimension(tmp_path: Path) -> None:
    assert _error(
        tmp_path,
        """
        input: [5, 3, 4]
        layers:
          - parameter: {shape: [2, 4]}
            name: p
          - subtract:
            from: [input, p]
        """,
    ) == (
        "net.yaml:6:5: layer 'subtract_1': subtract needs inputs of the same shape (a size-1"
        " dimension may broadcast), got 5×3×4, 2×4: H differs"
    )


# ---- several inputs and outputs -----------------------------------------------------------------

TWO_INPUTS = """
    name: two-input
    inputs:
      image: [3, 8, 8]
      meta: [10]
    layers:
      - conv2d: {out_channels: 4, kernel_size: 3}
      - flatten
        # 4×6×6 = 144
      - linear: {out_features: 6}
        from: meta
        name: meta_fc
      - concat: {dim: 1}
        from: [flatten_1, meta_fc]
      - linear: {out_features: 5}
        name: logits
      - linear: {out_features: 1}
        from: concat_1
        name: aux
    outputs: [logits, aux]
"""


class TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.meta_fc = nn.Linear(10, 6)
        self.logits = nn.Linear(150, 5)
        self.aux = nn.Linear(150, 1)

    def forward(self, image: torch.Tensor, meta: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = torch.cat([self.conv(image).flatten(1), self.meta_fc(meta)], dim=1)
        return self.logits(x), self.aux(x)


def test_several_inputs_and_outputs_match_pytorch() -> None:
    model = TwoInputs()
    logits, aux = model(torch.zeros(2, 3, 8, 8), torch.zeros(2, 10))
    s = _summary(TWO_INPUTS)
    assert s["inputs"] == {"image": [3, 8, 8], "meta": [10]}
    assert s["outputs"] == {"logits": list(logits.shape[1:]), "aux": list(aux.shape[1:])}
    assert (s["input_shape"], s["output_shape"]) == ([3, 8, 8], [5])
    assert s["totals"]["params"] == _params(model)[0]
    assert s["layers"][0]["inputs"] == ["image"]
    assert s["warnings"] == []


def test_several_inputs_in_the_title_and_input_override() -> None:
    result = run("summarize", "-", "--width", "120", input=textwrap.dedent(TWO_INPUTS))
    assert result.stdout.splitlines()[0] == ("two-input: image 3×8×8, meta 10 → logits 5, aux 1")
    g = graph.build(
        spec.from_text(textwrap.dedent(TWO_INPUTS), "t.yaml"), input_shapes={"image": (3, 10, 10)}
    )
    assert g.inputs == {"image": (3, 10, 10), "meta": (10,)}
    assert g.by_name["logits"].result.params["weight"] == (4 * 8 * 8 + 6) * 5


def test_single_input_json_is_unchanged() -> None:
    s = _summary("input: [4]\nlayers:\n  - linear: {out_features: 2}\n")
    assert "inputs" not in s and "outputs" not in s


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "input: [4]\ninputs: {a: [4]}\nlayers:\n  - relu\n",
            "net.yaml:1:1: a spec has one of 'input' (one tensor) and 'inputs' (a mapping of"
            " names to shapes); this one has both 'input' and 'inputs'",
        ),
        (
            "inputs: {a: [4], b: [4]}\nlayers:\n  - add:\n    from: [input, b]\n",
            "net.yaml:4:11: layer 'add_1': this spec has several inputs (a, b); 'from' names"
            " one of them",
        ),
        (
            "inputs: {a: [4], b: [4]}\nlayers:\n  - relu\noutputs: [relu_1, nope]\n",
            "net.yaml:4:19: 'outputs' names 'nope', which is not a layer here",
        ),
        (
            "input: [4]\nlayers:\n  - relu\n  - relu:\n    from: relu_1:1\n",
            "net.yaml:5:11: layer 'relu_2': 'relu_1:1' names output 1 of 'relu_1', which has"
            " one output (0)",
        ),
        (
            "input: [4]\nlayers:\n  - relu:\n    from: relu_1:x\n",
            "net.yaml:4:11: layer 'relu_1': 'from' names 'relu_1:x'; one output of a layer is"
            " written NAME:INDEX, counting from 0 (lstm:1 is the second)",
        ),
        (
            "input: [4]\nlayers:\n  - relu:\n    name: [a, b]\n",
            "net.yaml:3:5: layer 'a': 'name' lists 2 names, but this relu makes 1 output",
        ),
    ],
)
def test_errors_of_inputs_and_outputs(tmp_path: Path, text: str, message: str) -> None:
    assert _error(tmp_path, text) == message


# ---- shared weights -----------------------------------------------------------------------------

SIAMESE = """
    inputs: {left: [1, 12, 12], right: [1, 12, 12]}
    blocks:
      tower:
        layers:
          - conv2d: {out_channels: 4, kernel_size: 3}
            name: conv
          - relu
          - flatten
          - linear: {out_features: 8}
            name: fc
    layers:
      - tower:
        name: a
        from: left
      - tower:
        name: b
        from: right
        shares: a
      - subtract:
        from: [a, b]
      - linear: {out_features: 1}
        shares: null
"""


class Siamese(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.tower = nn.Sequential(
            nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 10 * 10, 8)
        )
        self.head = nn.Linear(8, 1)

    def forward(self, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
        return self.head(self.tower(left) - self.tower(right))


def _macs_of_towers() -> int:
    conv = 4 * 10 * 10 * 9
    return 2 * (conv + 400 * 8) + 8


def test_shared_tower_counts_its_weights_once_and_its_work_twice() -> None:
    text = SIAMESE.replace("        shares: null\n", "")
    model = Siamese()
    s = _summary(text)
    assert s["totals"]["params"] == _params(model)[0]
    assert s["totals"]["macs"] == _macs_of_towers()
    rows = {r["name"]: r for r in s["layers"]}
    assert rows["b.conv"]["shares"] == "a.conv" and rows["b.conv"]["params"] == 0
    assert rows["b.fc"]["shares"] == "a.fc"
    assert "shares" not in rows["b.relu_1"]  # nothing to share
    weights = sum(p.numel() for p in model.parameters()) * 4
    assert s["totals"]["memory"]["params_bytes"] == weights


def test_sharing_shows_in_the_table_and_collapsed() -> None:
    text = textwrap.dedent(SIAMESE.replace("        shares: null\n", ""))
    table = run("summarize", "-", "--width", "120", input=text).stdout
    assert "shares a.conv" in table
    collapsed = run("summarize", "-", "--width", "120", "--depth", "1", input=text).stdout
    assert any(
        line.split()[:2] == ["b", "tower"] and "shares a" in line for line in collapsed.splitlines()
    )


def test_a_layer_shares_a_layer() -> None:
    s = _summary(
        """
        input: [6]
        layers:
          - linear: {out_features: 6}
            name: fc
          - relu
          - linear: {out_features: 6}
            shares: fc
        """
    )
    assert s["totals"]["params"] == 42 and s["totals"]["macs"] == 72


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "  - conv1d: {out_channels: 6, kernel_size: 1}\n    shares: fc\n",
            "net.yaml:6:13: layer 'conv1d_1': shares 'fc', a linear, but it is a conv1d: only"
            " layers of one type share weights",
        ),
        (
            "  - linear: {out_features: 6, bias: false}\n    shares: fc\n",
            "net.yaml:6:13: layer 'linear_1': shares 'fc', whose arguments differ (bias):"
            " shared weights need the same arguments",
        ),
        (
            "  - flatten:\n    from: input\n  - linear: {out_features: 6}\n    shares: fc\n",
            "net.yaml:8:13: layer 'linear_1': shares 'fc', whose weights differ in size (weight"
            " 36, bias 6; here weight 72, bias 6): its input must have the same shape where"
            " weights are inferred from it",
        ),
        (
            "  - linear: {out_features: 6}\n    shares: nothing\n",
            "net.yaml:6:13: layer 'linear_1': shares 'nothing', which is not a layer here",
        ),
    ],
)
def test_sharing_mismatches_are_located(tmp_path: Path, entry: str, message: str) -> None:
    head = "input: [2, 6]\nlayers:\n  - linear: {out_features: 6}\n    name: fc\n"
    assert _error(tmp_path, head + entry) == message


def test_diff_shows_a_change_of_sharing(tmp_path: Path) -> None:
    base = (
        "input: [6]\nlayers:\n  - linear: {out_features: 6}\n    name: fc\n"
        "  - linear: {out_features: 6}\n    name: fc2\n"
    )
    old = write_spec(tmp_path, base, "old.yaml")
    new = write_spec(tmp_path, base + "    shares: fc\n", "new.yaml")
    result = run("diff", old, new, "--format", "json")
    assert result.exit_code == 0, result.output
    changes = json.loads(result.stdout)["changes"]
    assert [c["shares"] for c in changes if "shares" in c] == [{"old": None, "new": "fc"}]
    params = json.loads(result.stdout)["totals"]["params"]
    assert (params["old"], params["new"]) == (84, 42)


# ---- when, and the expressions it takes ---------------------------------------------------------

CONDITIONAL = """
    input: [8]
    blocks:
      stage:
        args: {depth: 1, wide: false}
        layers:
          - linear: {out_features: "${max(8, min(depth * 4, 12))}"}
          - relu:
            when: "${depth > 2 and not wide}"
          - dropout:
            when: "${wide or depth == 1}"
    layers:
      - stage: {depth: 1}
        name: one
      - stage: {depth: 3}
        name: three
      - stage: {depth: 3, wide: true}
        name: wide
"""


def test_when_keeps_only_the_true_entries() -> None:
    g = graph.build(spec.from_text(textwrap.dedent(CONDITIONAL), "t.yaml"))
    assert [x.name for x in g.layers] == [
        "one.linear_1",
        "one.dropout_1",
        "three.linear_1",
        "three.relu_1",
        "wide.linear_1",
        "wide.dropout_1",
    ]
    assert [g.by_name[f"{n}.linear_1"].shape for n in ("one", "three", "wide")] == [
        (8,),
        (12,),
        (12,),
    ]


def test_when_must_be_true_or_false(tmp_path: Path) -> None:
    assert _error(tmp_path, "input: [4]\nlayers:\n  - relu:\n    when: 3\n") == (
        "net.yaml:4:11: layer 'relu_1': when must be true or false (a comparison such as"
        ' "${depth > 2}"), got 3'
    )


def test_summary_of_a_graph_with_free_tensors_is_consistent() -> None:
    g = graph.build(spec.from_text(textwrap.dedent(VIT_HEAD), "t.yaml"))
    s = summarize(g)
    assert s.totals.params == sum(r.params for r in s.rows)
    assert g.free == {"class_token", "pos_embedding", "scale"}


def test_build_reports_every_independent_problem() -> None:
    text = "input: [4]\nlayers:\n  - relu:\n    from: x:1\n  - relu:\n    shares: y\n"
    with pytest.raises(SpecError) as err:
        graph.build(spec.from_text(text, "t.yaml"))
    assert "'x:1'" in str(err.value)


def test_input_by_name_on_the_command_line(tmp_path: Path) -> None:
    path = write_spec(tmp_path, textwrap.dedent(TWO_INPUTS))
    result = run("summarize", path, "--input", "image=3,10,10", "--input", "meta=4", "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["inputs"] == {"image": [3, 10, 10], "meta": [4]}
    wrong = run("summarize", path, "--input", "photo=3,10,10")
    assert wrong.exit_code == 2
    assert (
        "--input names 'photo', which is not an input of this spec (its inputs: image, meta)"
        in (wrong.stderr)
    )
    unnamed = run("summarize", path, "--input", "3,10,10", "--input", "4")
    assert unnamed.exit_code == 2
    assert "each names an input of the spec" in unnamed.stderr


def test_explain_and_csv_show_sharing(tmp_path: Path) -> None:
    path = write_spec(tmp_path, textwrap.dedent(SIAMESE.replace("        shares: null\n", "")))
    text = run("explain", path, "--layer", "b.conv").stdout
    assert "         (the weights of 'a.conv', counted there once)" in text.splitlines()
    data = json.loads(run("explain", path, "--layer", "b.fc", "--format", "json").stdout)
    assert data["layers"][0]["shares"] == "a.fc"
    csv = run("summarize", path, "--format", "csv").stdout.splitlines()
    assert csv[0].endswith(",shares")
    row = next(line for line in csv if line.startswith("b.conv,"))
    assert row.split(",")[4] == "0" and row.endswith(",a.conv")


# ---- receptive fields through permute and transpose ----------------------------------------------

CONVNEXT_BLOCK = """
    input: [4, 20, 20]
    layers:
      - conv2d: {out_channels: 4, kernel_size: 7, padding: 3, groups: 4}
      - permute: {dims: [0, 2, 3, 1]}
      - layernorm
      - linear: {out_features: 8}
      - linear: {out_features: 4}
      - permute: {dims: [0, 3, 1, 2]}
      - transpose: {dim0: 2, dim1: 3}
      - conv2d: {out_channels: 4, kernel_size: [2, 3], stride: [2, 1]}
      - transpose: {dim0: -1, dim1: -2}
"""


class ConvNeXtish(nn.Module):
    """The spec above with positive weights, no biases and no norm, so that nothing cancels:
    an output unit's gradient is non-zero exactly on the input pixels it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.dw = nn.Conv2d(4, 4, 7, padding=3, groups=4, bias=False)
        self.fc1 = nn.Linear(4, 8, bias=False)
        self.fc2 = nn.Linear(8, 4, bias=False)
        self.conv = nn.Conv2d(4, 4, (2, 3), stride=(2, 1), bias=False)
        for p in self.parameters():
            nn.init.uniform_(p, 0.1, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc2(self.fc1(self.dw(x).permute(0, 2, 3, 1))).permute(0, 3, 1, 2)
        return self.conv(x.transpose(2, 3)).transpose(-1, -2)


def test_fields_follow_the_axes_a_permute_moves() -> None:
    """Hand: the depthwise 7×7 (pad 3) gives 7, stride 1, padding 3; the linears act on the
    channels, now last, and leave it; the transpose swaps H and W, so the 2×3 kernel of stride
    [2, 1] reads W with 2 taps of stride 2 and H with 3: H 7+2 = 9, stride 1; W 7+1 = 8, stride
    2. A gradient oracle confirms it on interior units."""
    from test_receptive_oracle import clipped_window, gradient_region

    from cnncalc.receptive import fields

    g = graph.build(spec.from_text(textwrap.dedent(CONVNEXT_BLOCK), "t.yaml"))
    out = g.layers[-1]
    f = fields(g)[0][out.name]
    assert (f.size, f.stride, f.padding) == ((9, 8), (1, 2), (3, 3))
    model = ConvNeXtish()
    x = torch.ones(1, 4, 20, 20, requires_grad=True)
    y = model(x)
    assert tuple(y.shape[1:]) == out.shape
    for unit in [(5, 3), (8, 4), (10, 2)]:
        assert gradient_region(y, x, unit) == clipped_window(f, unit, (20, 20)), unit


def test_unit_regions_stop_at_a_permute_that_moves_the_channels() -> None:
    from cnncalc.receptive import region

    g = graph.build(spec.from_text(textwrap.dedent(CONVNEXT_BLOCK), "t.yaml"))
    with pytest.raises(SpecError, match="rf --unit cannot trace a unit back through a permute"):
        region(g, g.layers[-1].name, (5, 3))


def test_unit_regions_follow_a_transpose_of_spatial_axes() -> None:
    """A 1×3 kernel after swapping H and W reads 3 rows of the input, 1 column."""
    from test_receptive_oracle import gradient_region

    from cnncalc.receptive import region

    text = "input: [1, 9, 9]\nlayers:\n  - transpose: {dim0: 2, dim1: 3}\n"
    text += "  - conv2d: {out_channels: 1, kernel_size: [1, 3], bias: false}\n"
    g = graph.build(spec.from_text(text, "t.yaml"))
    conv = nn.Conv2d(1, 1, (1, 3), bias=False)
    nn.init.uniform_(conv.weight, 0.1, 1.0)
    x = torch.ones(1, 1, 9, 9, requires_grad=True)
    y = conv(x.transpose(2, 3))
    for unit in [(2, 4), (0, 0), (8, 6)]:
        # the unit (row, column) of the transposed output is (column, row) of the input
        expected = gradient_region(y, x, unit)
        assert region(g, "conv2d_1", unit) == expected, unit


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "input: [6]\nlayers:\n  - linear: {out_features: 6}\n    name: a\n    shares: b\n"
            "  - linear: {out_features: 6}\n    name: b\n    shares: a\n",
            "net.yaml:5:13: layer 'a': the layers share weights in a cycle (a → b → a): one of"
            " them must own them, without 'shares'",
        ),
        (
            "input: [3, 4]\nblocks:\n  b:\n    layers:\n      - relu\nlayers:\n  - b:\n"
            "    name: blk\n  - relu:\n    from: blk:1\n",
            "net.yaml:10:11: layer 'relu_1': 'blk:1' names output 1 of 'blk', a block instance,"
            " named repeat or left-out entry, which has one output",
        ),
        (
            "inputs: {a: [4], b: [4]}\nlayers:\n  - relu:\n    from: a:1\n",
            "net.yaml:4:11: layer 'relu_1': 'a:1' names an input, which has one output",
        ),
    ],
)
def test_errors_of_sharing_and_outputs(tmp_path: Path, text: str, message: str) -> None:
    assert _error(tmp_path, text) == message


def test_an_output_index_has_no_leading_zero(tmp_path: Path) -> None:
    assert _error(tmp_path, "input: [4]\nlayers:\n  - relu\n  - relu:\n    from: relu_1:01\n") == (
        "net.yaml:5:11: layer 'relu_2': 'from' names 'relu_1:01'; one output of a layer is"
        " written NAME:INDEX, counting from 0 (lstm:1 is the second)"
    )
