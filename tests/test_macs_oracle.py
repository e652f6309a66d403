"""Oracle test for MACs and FLOPs: PyTorch forward hooks against cnncalc's JSON summary.

The MAC convention (README, "Compute and memory"):

- convolution: output elements × in_channels/groups × kernel elements;
- transposed convolution: *input* elements × out_channels/groups × kernel elements;
- linear: output elements × in_features;
- multi-head attention: the four projections plus Q·Kᵀ and A·V, 4·L·E² + 2·L²·E for
  self-attention on L tokens of width E;
- LSTM: every weight matrix meets one vector per time step, gates·H·(I + H) per step and
  layer-direction;
- everything else 0, and bias adds are not MACs.

The oracle side never reads cnncalc: forward hooks on every ``nn.Conv{1,2,3}d``,
``nn.ConvTranspose{1,2,3}d`` and ``nn.Linear`` of the hand-written reference models in
``reference_models.py`` compute the MACs from the module's attributes and the tensors that
actually flowed through it (batch 1, eval mode, no grad). An ``nn.MultiheadAttention`` call is
measured by ``torch.utils.flop_counter.FlopCounterMode`` over the same call on the same tensors
(its FLOPs are 2 × the MACs of the matrix products it saw); an ``nn.LSTM`` call is counted from
its weight matrices and the sequence length. cnncalc is run only through its CLI.

Covered:

1. every spec in ``specs/``: hook total == ``totals.macs`` and the multiset of non-zero
   per-layer MACs agrees; ``--batch 4`` is exactly 4× the MACs and FLOPs of batch 1;
2. transposed convolution on its own (the DCGAN 512→256 up-sampling layer, grouped, 1d/3d,
   dilated, output_padding), counted on the input, which is stride^d below the output count;
   plus one-layer convolution/linear variants (grouped, depthwise, dilated, 1d/3d, no bias);
3. published / worked figures: ResNet-50 at 224 = 4,089,184,256 MACs, exercise_stride conv1 =
   2,466,250,752, exercise_conv = 496·496·10 · 3·5·5;
4. FLOPs per layer, hand-computed from the README's table, for a small spec with a biased conv,
   an unbiased conv, batchnorm, relu, a three-input add, maxpool, flatten, linear and softmax.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from cnncalc.cli import main
from reference_models import REFERENCES

SPECS_DIR = Path(__file__).resolve().parent.parent / "specs"
SPEC_STEMS: list[str] = sorted(path.stem for path in SPECS_DIR.glob("*.yaml"))

CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


# --------------------------------------------------------------------------------------------
# The oracle: forward hooks computing MACs from module attributes and real tensors
# --------------------------------------------------------------------------------------------


COUNTED = (*CONVS, *TRANSPOSED, nn.Linear, nn.MultiheadAttention, nn.LSTM)


def attention_macs(module: nn.MultiheadAttention, inputs: tuple[Tensor, ...]) -> int:
    """MACs of one attention call, by PyTorch's own flop counter over a rerun of it.

    ``forward`` is called directly so that this module's hooks do not fire again. The rerun
    asks for the attention weights with autograd on: that keeps PyTorch on the path of plain
    ``addmm``/``bmm`` products the counter knows (its fused inference kernel is not counted).
    """
    query, key, value = (inputs * 3)[:3] if len(inputs) == 1 else inputs[:3]
    with torch.enable_grad(), FlopCounterMode(display=False) as counter:
        module.forward(query, key, value, need_weights=True)
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


def lstm_macs(module: nn.LSTM, inputs: tuple[Tensor, ...]) -> int:
    """Every weight matrix of every layer and direction (``weight_ih``, ``weight_hh``,
    ``weight_hr``) multiplies one vector per time step and sample."""
    steps = inputs[0].shape[1 if module.batch_first else 0]
    batch = inputs[0].shape[0 if module.batch_first else 1]
    weights = sum(p.numel() for name, p in module.named_parameters() if name.startswith("weight"))
    return batch * steps * weights


def module_macs(module: nn.Module, inputs: tuple[Tensor, ...], output: Any) -> int | None:
    """MACs of one call by the README convention, or None for a module that is not counted."""
    if isinstance(module, nn.MultiheadAttention):
        return attention_macs(module, inputs)
    if isinstance(module, nn.LSTM):
        return lstm_macs(module, inputs)
    if isinstance(module, CONVS):
        kernel = math.prod(module.kernel_size)
        assert module.in_channels % module.groups == 0
        return output.numel() * (module.in_channels // module.groups) * kernel
    if isinstance(module, TRANSPOSED):
        kernel = math.prod(module.kernel_size)
        assert module.out_channels % module.groups == 0
        return inputs[0].numel() * (module.out_channels // module.groups) * kernel
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    return None


def hook_macs(model: nn.Module, input_shape: tuple[int, ...], *inputs: Tensor) -> list[int]:
    """Run ``model`` once on a batch-1 input (zeros of ``input_shape``, or ``inputs`` when
    given); the MACs of every counted module call."""
    calls: list[int] = []

    def hook(module: nn.Module, inputs: tuple[Tensor, ...], output: Any) -> None:
        macs = module_macs(module, inputs, output)
        if macs is not None:
            calls.append(macs)

    handles = [
        module.register_forward_hook(hook)
        for module in model.modules()
        if isinstance(module, COUNTED)
    ]
    try:
        model.eval()
        with torch.no_grad():
            model(*(inputs or (torch.zeros(1, *input_shape),)))
    finally:
        for handle in handles:
            handle.remove()
    return calls


@cache
def reference_macs(stem: str) -> tuple[int, ...]:
    """The per-call MACs of the reference model for ``stem``, computed once per session."""
    reference = REFERENCES[stem]
    torch.manual_seed(0)
    return tuple(hook_macs(reference.build(), reference.input_shape, *reference.example()))


# --------------------------------------------------------------------------------------------
# The other side: cnncalc through its CLI
# --------------------------------------------------------------------------------------------


def summarize(spec: str, *extra: str) -> dict[str, Any]:
    """``cnncalc summarize SPEC --format json [extra...]``, parsed; SPEC may be YAML text."""
    if spec.endswith(".yaml"):
        args, stdin = [spec], None
    else:
        args, stdin = ["-"], spec
    result = CliRunner().invoke(
        main,
        ["summarize", *args, "--format", "json", *extra],
        input=stdin,
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@cache
def cnncalc_summary(stem: str, batch: int = 1) -> dict[str, Any]:
    """cnncalc's JSON summary of ``specs/<stem>.yaml`` at ``batch``, computed once."""
    return summarize(str(SPECS_DIR / f"{stem}.yaml"), "--batch", str(batch))


def nonzero_layer_macs(summary: dict[str, Any]) -> Counter[int]:
    """The multiset of non-zero per-layer MACs in a cnncalc summary."""
    return Counter(layer["macs"] for layer in summary["layers"] if layer["macs"] != 0)


# --------------------------------------------------------------------------------------------
# 1. Every spec against its reference model
# --------------------------------------------------------------------------------------------


def test_every_spec_has_a_reference() -> None:
    """The oracle below covers every spec: none may lack a reference model."""
    assert SPEC_STEMS, "no specs found"
    assert set(SPEC_STEMS) <= set(REFERENCES), set(SPEC_STEMS) - set(REFERENCES)


@pytest.mark.slow
@pytest.mark.parametrize("stem", SPEC_STEMS)
def test_total_macs_match_hooks(stem: str) -> None:
    """cnncalc's total MACs equal the sum over the reference model's conv/linear calls."""
    expected = sum(reference_macs(stem))
    assert expected > 0
    assert cnncalc_summary(stem)["totals"]["macs"] == expected


@pytest.mark.slow
@pytest.mark.parametrize("stem", SPEC_STEMS)
def test_per_layer_macs_match_hooks(stem: str) -> None:
    """The multiset of non-zero per-layer MACs agrees, independent of names and order."""
    expected = Counter(macs for macs in reference_macs(stem) if macs != 0)
    actual = nonzero_layer_macs(cnncalc_summary(stem))
    assert actual == expected, {
        "only in cnncalc": dict(actual - expected),
        "only in torch": dict(expected - actual),
    }


@pytest.mark.parametrize("stem", SPEC_STEMS)
def test_totals_are_sums_of_layers(stem: str) -> None:
    """totals.macs and totals.flops are the sums of the per-layer figures."""
    summary = cnncalc_summary(stem)
    assert summary["totals"]["macs"] == sum(layer["macs"] for layer in summary["layers"])
    assert summary["totals"]["flops"] == sum(layer["flops"] for layer in summary["layers"])
    # FLOPs are at least 2 × MACs: every MAC is a multiply and an add.
    assert summary["totals"]["flops"] >= 2 * summary["totals"]["macs"]


@pytest.mark.parametrize("stem", ["resnet18", "dcgan_generator", "exercise_dense"])
def test_batch_scales_macs_and_flops(stem: str) -> None:
    """--batch 4 is exactly 4× batch 1, per layer and in total, for MACs and FLOPs."""
    one, four = cnncalc_summary(stem, 1), cnncalc_summary(stem, 4)
    assert one["totals"]["macs"] > 0 and one["totals"]["flops"] > 0
    assert four["totals"]["macs"] == 4 * one["totals"]["macs"]
    assert four["totals"]["flops"] == 4 * one["totals"]["flops"]
    assert four["totals"]["memory"]["batch"] == 4
    assert [(layer["macs"] * 4, layer["flops"] * 4) for layer in one["layers"]] == [
        (layer["macs"], layer["flops"]) for layer in four["layers"]
    ]


# --------------------------------------------------------------------------------------------
# 2. Transposed convolution and single-layer variants
# --------------------------------------------------------------------------------------------


def one_layer_spec(input_shape: tuple[int, ...], layer: str, args: dict[str, Any]) -> str:
    """A YAML spec with a single layer (flow-style mappings are valid YAML)."""
    return f"input: {list(input_shape)}\nlayers:\n  - {layer}: {json.dumps(args)}\n"


def single_layer_macs(input_shape: tuple[int, ...], layer: str, args: dict[str, Any]) -> int:
    """cnncalc's MACs for a one-layer spec, checked to agree with totals."""
    summary = summarize(one_layer_spec(input_shape, layer, args))
    assert len(summary["layers"]) == 1
    assert summary["totals"]["macs"] == summary["layers"][0]["macs"]
    macs: int = summary["layers"][0]["macs"]
    return macs


def torch_single_macs(module: nn.Module, input_shape: tuple[int, ...]) -> int:
    """The hook oracle on one module."""
    calls = hook_macs(module, input_shape)
    assert len(calls) == 1
    return calls[0]


DCGAN_UP_INPUT = (512, 4, 4)
DCGAN_UP_ARGS = {"out_channels": 256, "kernel_size": 4, "stride": 2, "padding": 1, "bias": False}


def test_dcgan_transposed_conv_counts_the_input() -> None:
    """ConvTranspose2d(512, 256, 4, 2, 1) on 512×4×4: 512·4·4 · 256·4·4 MACs."""
    input_based = 512 * 4 * 4 * 256 * 4 * 4
    output_based = 256 * 8 * 8 * 512 * 4 * 4
    assert input_based == 33_554_432
    assert output_based == 4 * input_based  # stride² = 4

    macs = single_layer_macs(DCGAN_UP_INPUT, "convtranspose2d", DCGAN_UP_ARGS)
    assert macs == input_based
    assert macs != output_based
    assert output_based // macs == 2**2 and output_based % macs == 0

    module = nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1, bias=False)
    assert torch_single_macs(module, DCGAN_UP_INPUT) == input_based


def test_dcgan_transposed_conv_output_shape() -> None:
    """The DCGAN layer doubles the resolution, so its output count is 4× the input count."""
    summary = summarize(one_layer_spec(DCGAN_UP_INPUT, "convtranspose2d", DCGAN_UP_ARGS))
    assert summary["output_shape"] == [256, 8, 8]


def test_grouped_transposed_conv() -> None:
    """Grouped ConvTranspose2d(8, 12, 3, stride 2, groups 4) on 8×5×5: 8·5·5 · 12/4 · 3·3."""
    args = {"out_channels": 12, "kernel_size": 3, "stride": 2, "groups": 4}
    expected = 8 * 5 * 5 * (12 // 4) * 3 * 3
    assert expected == 5_400
    macs = single_layer_macs((8, 5, 5), "convtranspose2d", args)
    assert macs == expected
    # Output 12×11×11, counted on the output by the conv rule: 12·11·11 · 8/4 · 3·3.
    assert macs != 12 * 11 * 11 * (8 // 4) * 3 * 3
    module = nn.ConvTranspose2d(8, 12, 3, stride=2, groups=4)
    assert torch_single_macs(module, (8, 5, 5)) == expected


@dataclass(frozen=True)
class Case:
    """One layer: cnncalc type and arguments, the equivalent torch module, and the input."""

    layer: str
    args: dict[str, Any]
    build: Callable[[], nn.Module]
    input_shape: tuple[int, ...]
    expected: int  # by hand


SINGLE_CASES: dict[str, Case] = {
    "convtranspose1d_s3_op2": Case(
        "convtranspose1d",
        {"out_channels": 6, "kernel_size": 5, "stride": 3, "output_padding": 2},
        lambda: nn.ConvTranspose1d(4, 6, 5, stride=3, output_padding=2),
        (4, 10),
        4 * 10 * 6 * 5,
    ),
    "convtranspose3d_grouped_dilated": Case(
        "convtranspose3d",
        {"out_channels": 6, "kernel_size": [2, 3, 3], "stride": 2, "dilation": 2, "groups": 2},
        lambda: nn.ConvTranspose3d(4, 6, (2, 3, 3), stride=2, dilation=2, groups=2),
        (4, 3, 4, 5),
        4 * 3 * 4 * 5 * (6 // 2) * 2 * 3 * 3,
    ),
    "convtranspose2d_rect_padding": Case(
        "convtranspose2d",
        {"out_channels": 5, "kernel_size": [3, 5], "stride": [2, 3], "padding": [1, 2]},
        lambda: nn.ConvTranspose2d(3, 5, (3, 5), stride=(2, 3), padding=(1, 2)),
        (3, 7, 6),
        3 * 7 * 6 * 5 * 3 * 5,
    ),
    "conv2d_depthwise": Case(
        "conv2d",
        {"out_channels": 16, "kernel_size": 3, "padding": 1, "groups": 16},
        lambda: nn.Conv2d(16, 16, 3, padding=1, groups=16),
        (16, 9, 9),
        16 * 9 * 9 * 1 * 3 * 3,
    ),
    "conv2d_grouped_dilated_strided": Case(
        "conv2d",
        {
            "out_channels": 12,
            "kernel_size": 3,
            "stride": 2,
            "dilation": 2,
            "groups": 3,
            "bias": False,
        },
        lambda: nn.Conv2d(6, 12, 3, stride=2, dilation=2, groups=3, bias=False),
        (6, 15, 15),
        12 * 6 * 6 * (6 // 3) * 3 * 3,  # H_out = ⌊(15 − 4 − 1)/2⌋ + 1 = 6
    ),
    "conv1d": Case(
        "conv1d",
        {"out_channels": 8, "kernel_size": 7, "padding": 3},
        lambda: nn.Conv1d(2, 8, 7, padding=3),
        (2, 50),
        8 * 50 * 2 * 7,
    ),
    "conv3d": Case(
        "conv3d",
        {"out_channels": 4, "kernel_size": [1, 3, 3], "stride": [1, 2, 2]},
        lambda: nn.Conv3d(3, 4, (1, 3, 3), stride=(1, 2, 2)),
        (3, 5, 9, 9),
        4 * 5 * 4 * 4 * 3 * 1 * 3 * 3,
    ),
    "linear_on_sequence": Case(
        "linear",
        {"out_features": 7, "bias": False},
        lambda: nn.Linear(10, 7, bias=False),
        (4, 10),
        4 * 7 * 10,  # linear acts on the last dimension of a [4, 10] input
    ),
}


@pytest.mark.parametrize("name", sorted(SINGLE_CASES))
def test_single_layer_macs(name: str) -> None:
    """cnncalc, the torch hook and the hand count agree on one layer."""
    case = SINGLE_CASES[name]
    assert torch_single_macs(case.build(), case.input_shape) == case.expected
    assert single_layer_macs(case.input_shape, case.layer, case.args) == case.expected


# --------------------------------------------------------------------------------------------
# 3. Published and worked figures
# --------------------------------------------------------------------------------------------


def test_resnet50_published_macs() -> None:
    """ResNet-50 at 224×224, batch 1: 4,089,184,256 MACs (the 4.09 GMACs papers quote)."""
    assert cnncalc_summary("resnet50")["totals"]["macs"] == 4_089_184_256
    assert sum(reference_macs("resnet50")) == 4_089_184_256


def test_exercise_stride_conv1_macs() -> None:
    """The README's worked example: conv1 = 128·64·64 · 96·7·7 = 2,466,250,752 MACs."""
    assert 128 * 64 * 64 * 96 * 7 * 7 == 2_466_250_752
    layers = {layer["name"]: layer for layer in cnncalc_summary("exercise_stride")["layers"]}
    assert layers["conv1"]["macs"] == 2_466_250_752


def test_exercise_conv_macs() -> None:
    """exercise_conv: ten 5×5×3 filters over 496×496 outputs."""
    expected = 496 * 496 * 10 * 3 * 5 * 5
    assert expected == 184_512_000
    assert cnncalc_summary("exercise_conv")["totals"]["macs"] == expected


def test_exercise_dense_macs() -> None:
    """exercise_dense: 100 outputs × 750,000 inputs."""
    assert cnncalc_summary("exercise_dense")["totals"]["macs"] == 100 * 3 * 500 * 500


# ViT-B/16 at 224: L = 197 tokens of E = 768. Per block: attention projections 4·L·E²,
# Q·Kᵀ and A·V 2·L²·E, MLP 2·L·E·3072; plus the 16×16 patch conv and the head.
VIT_BLOCK = 4 * 197 * 768**2 + 2 * 197**2 * 768 + 2 * 197 * 768 * 3072
VIT_MACS = 12 * VIT_BLOCK + 768 * 14 * 14 * 3 * 16 * 16 + 768 * 1000
# LSTM classifier: per time step and direction 4·H·(I + H), H = 256, I = 128 then 512;
# 64 steps, two directions; then the 512 → 2 head.
LSTM_MACS = 64 * 2 * (4 * 256 * (128 + 256) + 4 * 256 * (512 + 256)) + 512 * 2
# Siamese: the tower runs once per image (its weights are shared, its work is not).
SIAMESE_TOWER = (
    64 * 96 * 96 * 1 * 10 * 10  # conv 64 10×10 on 1 channel
    + 128 * 42 * 42 * 64 * 7 * 7  # conv 128 7×7
    + 128 * 18 * 18 * 128 * 4 * 4  # conv 128 4×4
    + 256 * 6 * 6 * 128 * 4 * 4  # conv 256 4×4
    + 4096 * 9216  # linear 9,216 → 4,096
)
SIAMESE_MACS = 2 * SIAMESE_TOWER + 4096

WORKED_MACS = {
    "vit_b16": VIT_MACS,
    "lstm_classifier": LSTM_MACS,
    "siamese": SIAMESE_MACS,
}


def test_worked_figures_are_the_published_ones() -> None:
    """The issue's 17,563,828,224 for ViT-B/16; the others are the sums written above."""
    assert VIT_MACS == 17_563_828_224
    assert 12 * (4 * 197 * 768**2 + 2 * 197**2 * 768) == 6_292_703_232  # attention alone
    assert LSTM_MACS == 150_995_968
    assert SIAMESE_MACS == 1_817_251_840


@pytest.mark.slow
@pytest.mark.parametrize("stem", sorted(WORKED_MACS))
def test_reference_macs_by_hand(stem: str) -> None:
    """The hooks on the reference model add up to the hand count."""
    assert sum(reference_macs(stem)) == WORKED_MACS[stem]


@pytest.mark.parametrize("stem", sorted(WORKED_MACS))
def test_spec_macs_by_hand(stem: str) -> None:
    """cnncalc's total MACs for the spec are the hand count."""
    assert cnncalc_summary(stem)["totals"]["macs"] == WORKED_MACS[stem]


@pytest.mark.slow
def test_vit_attention_macs_per_block() -> None:
    """Each of ViT-B/16's 12 attention calls: 4·197·768² + 2·197²·768 = 524,391,936."""
    calls = Counter(reference_macs("vit_b16"))
    assert calls[4 * 197 * 768**2 + 2 * 197**2 * 768] == 12
    assert 4 * 197 * 768**2 + 2 * 197**2 * 768 == 524_391_936


# --------------------------------------------------------------------------------------------
# 3b. The attention and LSTM oracles against hand counts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("embed", "heads", "kdim", "vdim", "length", "source"),
    [
        (16, 4, None, None, 5, 5),  # self-attention
        (16, 4, None, None, 5, 9),  # cross-attention: 5 queries over 9 keys
        (16, 2, 6, 10, 5, 7),  # keys and values of other widths
    ],
)
def test_attention_oracle_by_hand(
    embed: int, heads: int, kdim: int | None, vdim: int | None, length: int, source: int
) -> None:
    """FlopCounterMode over nn.MultiheadAttention = the projections + Q·Kᵀ + A·V:
    L·E·E (query) + S·kdim·E (key) + S·vdim·E (value) + L·E·E (output) + 2·L·S·E."""
    module = nn.MultiheadAttention(embed, heads, kdim=kdim, vdim=vdim, batch_first=True)
    query = torch.zeros(1, length, embed)
    key = torch.zeros(1, source, kdim or embed)
    value = torch.zeros(1, source, vdim or embed)
    expected = (
        length * embed * embed
        + source * (kdim or embed) * embed
        + source * (vdim or embed) * embed
        + length * embed * embed
        + 2 * length * source * embed
    )
    assert attention_macs(module.eval(), (query, key, value)) == expected
    calls: list[int] = []
    module.register_forward_hook(lambda m, i, o: calls.append(module_macs(m, i, o) or 0))
    with torch.no_grad():  # the hook measures the same call made the ordinary way
        module(query, key, value, need_weights=False)
    assert calls == [expected]


def unrolled_lstm(module: nn.LSTM, x: Tensor) -> Tensor:
    """nn.LSTM written out step by step with F.linear (batch_first, no initial state)."""
    weights = dict(module.named_parameters())
    for layer in range(module.num_layers):
        directions = []
        for suffix in ["", "_reverse"][: 2 if module.bidirectional else 1]:
            w = {k: weights[f"{k}_l{layer}{suffix}"] for k in ("weight_ih", "weight_hh")}
            b = {k: weights[f"{k}_l{layer}{suffix}"] for k in ("bias_ih", "bias_hh")}
            h = x.new_zeros(x.shape[0], module.hidden_size)
            c = x.new_zeros(x.shape[0], module.hidden_size)
            steps = range(x.shape[1]) if not suffix else reversed(range(x.shape[1]))
            outs: dict[int, Tensor] = {}
            for t in steps:
                gates = F.linear(x[:, t], w["weight_ih"], b["bias_ih"]) + F.linear(
                    h, w["weight_hh"], b["bias_hh"]
                )
                i, f, g, o = gates.chunk(4, dim=1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                outs[t] = h
            directions.append(torch.stack([outs[t] for t in range(x.shape[1])], dim=1))
        x = torch.cat(directions, dim=2)
    return x


@pytest.mark.parametrize(("layers", "bidirectional"), [(1, False), (2, True)])
def test_lstm_oracle_by_flop_counter(layers: int, bidirectional: bool) -> None:
    """The LSTM count (weights × steps) equals FlopCounterMode over the unrolled LSTM, whose
    output is checked to be nn.LSTM's own: gates·H·(I + H) per step and layer-direction."""
    torch.manual_seed(0)
    module = nn.LSTM(6, 5, num_layers=layers, bidirectional=bidirectional, batch_first=True)
    x = torch.randn(1, 7, 6)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        unrolled = unrolled_lstm(module, x)
    with torch.no_grad():
        assert torch.allclose(unrolled, module(x)[0], atol=1e-6)
    directions = 2 if bidirectional else 1
    by_hand = (
        7
        * directions
        * sum(4 * 5 * ((6 if layer == 0 else 5 * directions) + 5) for layer in range(layers))
    )
    assert lstm_macs(module, (x,)) == by_hand == counter.get_total_flops() // 2


# --------------------------------------------------------------------------------------------
# 4. FLOPs per layer, by hand from the README's table
# --------------------------------------------------------------------------------------------

FLOPS_SPEC = """\
input: [3, 8, 8]
layers:
  - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}
    name: conv
  - batchnorm2d:
    name: bn
  - relu:
    name: act
  - add:
    name: sum3
    from: [act, bn, conv]
  - conv2d: {out_channels: 4, kernel_size: 1, bias: false}
    name: proj
  - maxpool2d: {kernel_size: 3, stride: 2, padding: 1}
    name: pool
  - flatten:
    name: flat
  - linear: {out_features: 5}
    name: fc
  - softmax: {dim: 1}
    name: prob
"""

# 4×8×8 = 256 elements after every layer up to proj; maxpool gives 4×4×4 = 64 (⌊(8+2−3)/2⌋+1 = 4).
FLOPS_EXPECTED: dict[str, tuple[int, int]] = {  # name: (MACs, FLOPs)
    "conv": (256 * 3 * 3 * 3, 2 * 256 * 27 + 256),  # 2·MACs + 1 bias add per output element
    "bn": (0, 2 * 256),  # folded scale and shift
    "act": (0, 256),  # 1 per element
    "sum3": (0, (3 - 1) * 256),  # inputs − 1 per output element
    "proj": (256 * 4, 2 * 256 * 4),  # no bias: exactly 2·MACs
    "pool": (0, 64 * (3 * 3 - 1)),  # kernel elements − 1 comparisons per output element
    "flat": (0, 0),
    "fc": (5 * 64, 2 * 5 * 64 + 5),
    "prob": (0, 3 * 5),  # exponential, sum, divide
}


def test_flops_per_layer_by_hand() -> None:
    """Every layer's MACs and FLOPs equal the README table's rule, worked out by hand."""
    summary = summarize(FLOPS_SPEC)
    assert summary["output_shape"] == [5]
    got = {layer["name"]: (layer["macs"], layer["flops"]) for layer in summary["layers"]}
    assert got == FLOPS_EXPECTED
    assert summary["totals"]["macs"] == sum(macs for macs, _ in FLOPS_EXPECTED.values())
    assert summary["totals"]["flops"] == sum(flops for _, flops in FLOPS_EXPECTED.values())


@pytest.mark.parametrize(
    ("layer", "per_element"),
    [
        ("batchnorm2d", 2),  # running statistics and γ, β fold into one scale and shift
        ("batchnorm2d: {affine: false}", 2),
        ("batchnorm2d: {track_running_stats: false}", 5 + 2),  # batch statistics, as instance norm
        ("batchnorm2d: {track_running_stats: false, affine: false}", 5),
        ("instancenorm2d", 5),  # mean 1, variance 2, normalize 2
        ("instancenorm2d: {affine: true}", 5 + 2),
        ("instancenorm2d: {track_running_stats: true}", 2),  # the running ones, at inference
        ("groupnorm: {num_groups: 2}", 5 + 2),
        ("layernorm: {normalized_shape: [8]}", 5 + 2),
        ("layernorm: {normalized_shape: [8], bias: false}", 5 + 1),  # a scale, no shift
        ("layernorm: {normalized_shape: [8], elementwise_affine: false}", 5),
    ],
)
def test_normalization_flops_follow_what_inference_computes(layer: str, per_element: int) -> None:
    summary = summarize(f"input: [4, 8, 8]\nlayers:\n  - {layer}\n")
    assert summary["layers"][0]["flops"] == per_element * 4 * 8 * 8


def test_flops_spec_macs_match_hooks() -> None:
    """The FLOPs spec's MACs also agree with the hook oracle on the same network in torch."""

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.proj = nn.Conv2d(4, 4, 1, bias=False)
            self.pool = nn.MaxPool2d(3, stride=2, padding=1)
            self.fc = nn.Linear(64, 5)

        def forward(self, x: Tensor) -> Tensor:
            c = self.conv(x)
            b = self.bn(c)
            s = torch.relu(b) + b + c
            y = self.pool(self.proj(s)).flatten(1)
            return torch.softmax(self.fc(y), dim=1)

    calls = hook_macs(Net(), (3, 8, 8))
    assert Counter(calls) == Counter(macs for macs, _ in FLOPS_EXPECTED.values() if macs)
