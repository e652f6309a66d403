"""Attention, transformer layers and RNNs against PyTorch, and their counting conventions.

The property tests build each layer twice from the same random arguments: cnncalc from YAML
(the public path, spec.from_text → graph.build) and the real PyTorch module, run on zeros with a
batch of 2. Both accept or both reject; when they accept they must agree on

- every output's shape, without the batch: PyTorch puts the batch of a sequence first with
  `batch_first` and second without it, the batch of attention weights first, and the batch of
  an RNN's h_n and c_n second whatever `batch_first` says;
- the parameters, by their full PyTorch names (`self_attn.out_proj.weight`, `weight_hr_l1_reverse`)
  and sizes, and the buffers (none);
- MACs: torch.utils.flop_counter.FlopCounterMode over the module's forward counts 2 FLOPs per
  multiply-accumulate of every matrix product it sees (addmm, mm, bmm), so its total must be
  2·MACs·batch. Two of PyTorch's fast paths hide the products from it, and are switched off:
  multi-head attention in eval mode without gradients (batch_first) runs one fused kernel, so the
  forward runs with gradients enabled; transformer layers call scaled_dot_product_attention,
  whose CPU flash kernel it does not count, so the math backend is forced; and the LSTM's oneDNN
  kernel is not seen, so oneDNN is disabled. The RNNs are also checked by a hand-unrolled loop of
  F.linear calls with the module's own weights (below), in values as well as in FLOPs;
- FLOPs: the documented rule (docs/counting.md), written out here again from PyTorch's
  definitions of the operations.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_torch_layers import BOOLS, TORCH_ERRORS, Case, maybe, weighted
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from cnncalc import graph, spec
from cnncalc.errors import SpecError
from cnncalc.layers import TYPES
from conftest import run, write_spec

Shape = tuple[int, ...]
Draw = st.DrawFn
BATCH = 2
pytestmark = pytest.mark.filterwarnings("ignore:TF32 acceleration")  # mkldnn.flags, harmless

# Why cnncalc rejects what PyTorch accepts, for these types.
DELIBERATE = {
    "rank": "a per-sample sequence is [L, E]; one rank short, PyTorch reads the batch as the"
    " sequence of an unbatched input",
}


# ---- the two sides ------------------------------------------------------------------------------


@dataclass
class Seq:
    """One layer of these families to compute both ways."""

    layer: str
    args: dict[str, Any]
    inputs: list[Shape]  # per sample, [L, E]
    build: Callable[[], nn.Module] = field(repr=False)
    flops: Callable[[], int] = field(repr=False)  # the documented rule, by hand
    state_batch: int = 1  # where the batch sits in outputs after the first
    deliberate: str | None = None

    @property
    def batch_first(self) -> bool:
        return bool(self.args.get("batch_first", False))

    def yaml(self) -> str:
        return Case(self.layer, self.args, self.inputs, self.build).yaml()


@dataclass
class Outcome:
    shapes: list[Shape]
    params: dict[str, int]
    buffers: dict[str, int]
    macs: int
    flops: int


def run_cnncalc(case: Seq) -> Outcome | SpecError:
    try:
        g = graph.build(spec.from_text(case.yaml(), "t.yaml"))
    except SpecError as err:
        return err
    layer = g.by_name["under_test"]
    return Outcome(
        list(layer.result.shapes),
        {k: n for k, n in layer.result.params.items() if n},
        {k: n for k, n in layer.result.buffers.items() if n},
        layer.cost.macs,
        layer.cost.flops,
    )


def _flattened(out: Any) -> list[torch.Tensor]:
    """The outputs in order: LSTM's (output, (h_n, c_n)) becomes [output, h_n, c_n]."""
    if isinstance(out, torch.Tensor):
        return [out]
    return [t for part in out for t in _flattened(part)]


def torch_forward(case: Seq) -> tuple[nn.Module, list[torch.Tensor], int]:
    """Build and run the module on zeros with a batch; its outputs and counted matmul FLOPs."""
    module = case.build()
    module.eval()
    xs = [torch.zeros(BATCH, *s) for s in case.inputs]
    if not case.batch_first:
        xs = [x.transpose(0, 1) if x.dim() > 2 else x for x in xs]
    if case.layer == "multiheadattention" and len(xs) == 1:
        xs = [xs[0], xs[0], xs[0]]  # self-attention
    with (
        warnings.catch_warnings(),
        sdpa_kernel(SDPBackend.MATH),
        torch.backends.mkldnn.flags(enabled=False),
        FlopCounterMode(display=False) as counter,
    ):
        warnings.simplefilter("ignore")
        outs = _flattened(module(*xs))
    return module, outs, counter.get_total_flops()


def per_sample(case: Seq, outs: Sequence[torch.Tensor]) -> list[Shape]:
    """The outputs' shapes without the batch, which must be BATCH where PyTorch keeps it."""
    shapes = []
    for i, t in enumerate(outs):
        at = (0 if case.batch_first else 1) if i == 0 else case.state_batch
        assert t.shape[at] == BATCH, (case, i, tuple(t.shape))
        shapes.append(tuple(t.shape[:at]) + tuple(t.shape[at + 1 :]))
    return shapes


def check(case: Seq) -> None:
    ours = run_cnncalc(case)
    where = f"\n--- spec ---\n{case.yaml()}"
    if case.deliberate is not None:
        assert isinstance(ours, SpecError), f"should reject: {DELIBERATE[case.deliberate]}{where}"
        return
    try:
        module, outs, counted = torch_forward(case)
    except TORCH_ERRORS as err:
        assert isinstance(ours, SpecError), f"torch rejects ({err!r}), cnncalc accepts{where}"
        return
    assert not isinstance(ours, SpecError), f"torch accepts, cnncalc rejects: {ours}{where}"
    params = {name: p.numel() for name, p in module.named_parameters()}
    assert ours.shapes == per_sample(case, outs), where
    assert ours.params == params, where
    assert ours.buffers == {name: b.numel() for name, b in module.named_buffers()}, where
    assert counted == 2 * ours.macs * BATCH, f"FlopCounterMode {counted}, cnncalc {ours}{where}"
    assert ours.flops == case.flops(), where


# ---- the documented FLOPs rules, by hand --------------------------------------------------------


def attention_flops(n: int, s: int, e: int, kdim: int, vdim: int, heads: int, **kw: Any) -> int:
    """2·MACs, + the projection biases, + the 1/√d scaling of the queries, + softmax 3 per
    attention weight of every head (docs/counting.md)."""
    keys = s + kw.get("extra", 0)
    macs = n * e * e + s * kdim * e + s * vdim * e + n * keys * e + n * keys * e + n * e * e
    biases = (n * e + s * e + s * e + n * e) if kw.get("bias", True) else 0
    return 2 * macs + biases + n * e + 3 * heads * n * keys


def transformer_flops(n: int, e: int, heads: int, ff: int, bias: bool, memory: int = 0) -> int:
    """The attentions, the two linears with their biases, the activation, a layer norm and a
    residual add per sublayer."""
    flops = attention_flops(n, n, e, e, e, heads, bias=bias)
    if memory:
        flops += attention_flops(n, memory, e, e, e, heads, bias=bias)
    flops += 2 * (2 * n * e * ff) + ((n * ff + n * e) if bias else 0) + n * ff
    sublayers = 3 if memory else 2
    return flops + sublayers * n * e * ((7 if bias else 6) + 1)


GATES = {"lstm": 4, "gru": 3, "rnn": 1}
CELL = {"lstm": 9, "gru": 7, "rnn": 1}


def rnn_flops(kind: str, n: int, i: int, h: int, layers: int, d: int, bias: bool, proj: int) -> int:
    """Per step and layer-direction: 2·MACs + 2·gates·H bias + the cell's element-wise work."""
    g, out = GATES[kind], proj or h
    total = 0
    for layer in range(layers):
        width = i if layer == 0 else d * out
        step = 2 * (g * h * (width + out) + h * proj) + (2 * g * h if bias else 0) + CELL[kind] * h
        total += n * d * step
    return total


# ---- generators ---------------------------------------------------------------------------------


def sequence(draw: Draw, features: int) -> Shape:
    """[L, E] mostly; now and then one rank short or long."""
    n = draw(st.integers(1, 5))
    shapes = st.sampled_from([(n, features)] * 10 + [(features,), (n, 2, features)])
    shape: Shape = draw(shapes)
    return shape


def short(shapes: Sequence[Shape]) -> str | None:
    return "rank" if any(len(s) < 2 for s in shapes) else None


@st.composite
def attention_cases(draw: Draw) -> Seq:
    heads = draw(st.integers(1, 3))
    e = draw(weighted((6, st.integers(1, 3).map(lambda k: k * heads)), (1, st.integers(1, 6))))
    args: dict[str, Any] = {"num_heads": heads}
    for name in ("bias", "add_bias_kv", "add_zero_attn", "batch_first"):
        maybe(draw, args, name, BOOLS)
    maybe(draw, args, "dropout", st.sampled_from([0.0, 0.1, 1.0]))
    maybe(draw, args, "embed_dim", st.sampled_from([e, e, e + 1]))
    query = sequence(draw, e)
    inputs = [query]
    if draw(st.integers(0, 2)):  # query, key, value; kdim and vdim mostly fit them
        maybe(draw, args, "kdim", st.integers(1, 5))
        maybe(draw, args, "vdim", st.integers(1, 5))
        s = draw(st.integers(1, 5))
        k = draw(st.sampled_from([args.get("kdim") or e] * 4 + [4]))
        v = draw(st.sampled_from([args.get("vdim") or e] * 4 + [4]))
        inputs += [(s, k), (draw(st.sampled_from([s, s, s, 6])), v)]
        if draw(st.integers(0, 9)) == 0:
            inputs.pop()  # two inputs: query and key only
    elif draw(st.integers(0, 5)) == 0:  # self-attention with a kdim or vdim
        args[draw(st.sampled_from(["kdim", "vdim"]))] = draw(st.integers(1, 5))

    def build() -> nn.Module:
        kw = {k: v for k, v in args.items() if k != "embed_dim"}
        return nn.MultiheadAttention(args.get("embed_dim", query[-1]), **kw)

    def flops() -> int:
        n, width = inputs[0]
        s, kd = inputs[1] if len(inputs) == 3 else inputs[0]
        vd = inputs[2][-1] if len(inputs) == 3 else width
        extra = int(args.get("add_bias_kv", False)) + int(args.get("add_zero_attn", False))
        return attention_flops(n, s, width, kd, vd, heads, extra=extra, bias=args.get("bias", True))

    return Seq("multiheadattention", args, inputs, build, flops, 0, short(inputs))


@st.composite
def transformer_cases(draw: Draw, decoder: bool) -> Seq:
    heads = draw(st.integers(1, 3))
    e = draw(weighted((6, st.integers(1, 3).map(lambda k: k * heads)), (1, st.integers(1, 6))))
    args: dict[str, Any] = {"nhead": heads, "dim_feedforward": draw(st.integers(1, 12))}
    for name in ("bias", "batch_first", "norm_first"):
        maybe(draw, args, name, BOOLS)
    maybe(draw, args, "activation", st.sampled_from(["relu", "gelu"]))
    maybe(draw, args, "dropout", st.sampled_from([0.0, 0.5]))
    # Not 1e-5: json writes it 1e-05, which YAML 1.1 reads as a string.
    maybe(draw, args, "layer_norm_eps", st.sampled_from([0.001, 0.5]))
    maybe(draw, args, "d_model", st.sampled_from([e, e, e + 1]))
    inputs = [sequence(draw, e)]
    if decoder:
        inputs.append((draw(st.integers(1, 5)), draw(st.sampled_from([e, e, e, e + 1]))))
    cls = nn.TransformerDecoderLayer if decoder else nn.TransformerEncoderLayer

    def build() -> nn.Module:
        kw = {k: v for k, v in args.items() if k != "d_model"}
        return cls(args.get("d_model", inputs[0][-1]), **kw)

    def flops() -> int:
        (n, width), bias = inputs[0], args.get("bias", True)
        memory = inputs[1][0] if decoder else 0
        return transformer_flops(n, width, heads, args["dim_feedforward"], bias, memory)

    name = f"transformer{'decoder' if decoder else 'encoder'}layer"
    return Seq(name, args, inputs, build, flops, 1, short(inputs))


RNN_CLASSES: dict[str, type[nn.RNNBase]] = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


@st.composite
def rnn_cases(draw: Draw, kind: str) -> Seq:
    i = draw(st.integers(1, 5))
    args: dict[str, Any] = {"hidden_size": draw(st.integers(1, 5))}
    maybe(draw, args, "num_layers", st.integers(1, 3))
    for name in ("bias", "batch_first", "bidirectional"):
        maybe(draw, args, name, BOOLS)
    maybe(draw, args, "dropout", st.sampled_from([0.0, 0.3]))
    maybe(draw, args, "input_size", st.sampled_from([i, i, i + 1]))
    if kind == "lstm":
        maybe(draw, args, "proj_size", st.integers(0, args["hidden_size"]))
    if kind == "rnn":
        maybe(draw, args, "nonlinearity", st.sampled_from(["tanh", "relu"]))
    inputs = [sequence(draw, i)]

    def build() -> nn.Module:
        kw = {k: v for k, v in args.items() if k != "input_size"}
        return RNN_CLASSES[kind](args.get("input_size", inputs[0][-1]), **kw)

    def flops() -> int:
        n, width = inputs[0]
        d = 2 if args.get("bidirectional") else 1
        layers, bias = args.get("num_layers", 1), args.get("bias", True)
        return rnn_flops(
            kind, n, width, args["hidden_size"], layers, d, bias, args.get("proj_size", 0)
        )

    return Seq(kind, args, inputs, build, flops, 1, short(inputs))


CASES: dict[str, tuple[st.SearchStrategy[Seq], int]] = {
    "multiheadattention": (attention_cases(), 150),
    "transformerencoderlayer": (transformer_cases(False), 60),
    "transformerdecoderlayer": (transformer_cases(True), 60),
    "lstm": (rnn_cases("lstm"), 80),
    "gru": (rnn_cases("gru"), 60),
    "rnn": (rnn_cases("rnn"), 60),
}


@pytest.mark.slow
@pytest.mark.parametrize("layer", sorted(CASES))
def test_layer_agrees_with_torch(layer: str) -> None:
    """Random arguments and inputs: same validity, output shapes, named parameters, MACs
    (FlopCounterMode) as PyTorch, and FLOPs by the documented rule."""
    strategy, examples = CASES[layer]

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(strategy)
    def prop(case: Seq) -> None:
        check(case)

    prop()


# ---- the RNNs unrolled by hand: values and FLOPs ------------------------------------------------


def _cell(kind: str, gi: Any, gh: Any, h: Any, c: Any) -> tuple[Any, Any]:
    """One step of a cell from its two products (input and hidden); the new h and c."""
    if kind == "LSTM":
        i, f, g, o = (gi + gh).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    if kind == "GRU":
        (ir, iz, i_n), (hr, hz, hn) = gi.chunk(3, 1), gh.chunk(3, 1)
        r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
        n = torch.tanh(i_n + r * hn)
        return (1 - z) * n + z * h, c
    act = torch.relu if kind == "RNN_RELU" else torch.tanh
    return act(gi + gh), c


def unrolled(m: nn.RNNBase, x: torch.Tensor) -> list[torch.Tensor]:
    """PyTorch's documented recurrences, one F.linear per product: output, h_n (and c_n)."""
    n, batch = x.shape[:2]
    hs, cs = [], []
    for layer in range(m.num_layers):
        outs = []
        for reverse in range(2 if m.bidirectional else 1):
            at = f"_l{layer}{'_reverse' if reverse else ''}"
            w = {k: getattr(m, f"{k}{at}", None) for k in ("weight_ih", "weight_hh", "weight_hr")}
            b = {k: getattr(m, f"{k}{at}") if m.bias else None for k in ("bias_ih", "bias_hh")}
            h = torch.zeros(batch, m.proj_size or m.hidden_size)
            c = torch.zeros(batch, m.hidden_size)
            seq = [h] * n
            for t in reversed(range(n)) if reverse else range(n):
                gi = F.linear(x[t], w["weight_ih"], b["bias_ih"])
                gh = F.linear(h, w["weight_hh"], b["bias_hh"])
                h, c = _cell(m.mode, gi, gh, h, c)
                if m.proj_size:
                    h = F.linear(h, w["weight_hr"])
                seq[t] = h
            outs.append(torch.stack(seq))
            hs.append(h)
            cs.append(c)
        x = torch.cat(outs, dim=2)
    return [x, torch.stack(hs), *([torch.stack(cs)] if m.mode == "LSTM" else [])]


UNROLLED = [
    ("lstm", {"hidden_size": 6, "num_layers": 2, "bidirectional": True, "proj_size": 3}, 4),
    ("lstm", {"hidden_size": 5, "bias": False}, 3),
    ("gru", {"hidden_size": 6, "num_layers": 2, "bidirectional": True}, 4),
    ("rnn", {"hidden_size": 4, "num_layers": 3, "nonlinearity": "relu"}, 2),
]


@pytest.mark.parametrize(("kind", "args", "features"), UNROLLED)
def test_rnn_against_an_unrolled_loop(kind: str, args: dict[str, Any], features: int) -> None:
    """A hand-written loop of F.linear calls with the module's weights gives PyTorch's values,
    and FlopCounterMode over it counts 2·MACs for cnncalc's figure."""
    torch.manual_seed(0)
    m = RNN_CLASSES[kind](features, **args)
    x = torch.randn(5, BATCH, features)
    with torch.no_grad():
        expected = _flattened(m(x))
        with FlopCounterMode(display=False) as counter:
            ours = unrolled(m, x)
    for got, want in zip(ours, expected, strict=True):
        torch.testing.assert_close(got, want)
    case = Seq(kind, args, [(5, features)], lambda: m, lambda: 0)
    outcome = run_cnncalc(case)
    assert not isinstance(outcome, SpecError)
    assert outcome.shapes == [tuple(t.shape[:1]) + tuple(t.shape[2:]) for t in expected]
    assert counter.get_total_flops() == 2 * outcome.macs * BATCH


# ---- hand-computed cases: the counting conventions in exact integers ---------------------------

VIT_BLOCK = "transformerencoderlayer: {nhead: 12, dim_feedforward: 3072, activation: gelu}"
EXACT = [
    # ViT-B/16's encoder block: 4·197·768² + 2·197²·768 attention + 2·197·768·3072 MLP MACs;
    # 12 of them, the patch embedding and the head make the 17,563,828,224.
    pytest.param(
        VIT_BLOCK, [(197, 768)], [(197, 768)], 7_087_872, 1_453_954_560, 2_913_845_124, id="vit-b16"
    ),
    # Self-attention on 5 tokens of 8: 4·5·8² + 2·5²·8 = 1,680 MACs; FLOPs 2·1,680 + 160
    # biases + 40 scaling + 3·2·5·5 softmax = 3,710.
    pytest.param(
        "multiheadattention: {num_heads: 2}",
        [(5, 8)],
        [(5, 8), (5, 5)],
        288,
        1_680,
        3_710,
        id="self-attention",
    ),
    # Cross-attention, key of 3 features, bias_k/bias_v: S' = 4 + 1; MACs 5·8·8 + 4·3·8 +
    # 4·8·8 + 2·5·5·8 + 5·8·8 = 1,392; FLOPs 2,784 + 144 + 40 + 150.
    pytest.param(
        "multiheadattention: {num_heads: 2, kdim: 3, add_bias_kv: true}",
        [(5, 8), (4, 3), (4, 8)],
        [(5, 8), (5, 5)],
        264,
        1_392,
        3_118,
        id="cross-attention-bias-kv",
    ),
    # Decoder, target 5 and memory 3 of 8: 1,680 + 1,264 + 2·5·8·16 MACs.
    pytest.param(
        "transformerdecoderlayer: {nhead: 2, dim_feedforward: 16}",
        [(5, 8), (3, 8)],
        [(5, 8)],
        904,
        4_224,
        10_216,
        id="decoder",
    ),
    # LSTM 10 → 20, two layers, 7 steps: 7·(4·20·(10 + 20) + 4·20·(20 + 20)) = 39,200 MACs;
    # FLOPs 2·39,200 + 2·7·(2·80 + 9·20).
    pytest.param(
        "lstm: {hidden_size: 20, num_layers: 2}",
        [(7, 10)],
        [(7, 20), (2, 20), (2, 20)],
        5_920,
        39_200,
        83_160,
        id="lstm-2-layers",
    ),
    # Bidirectional LSTM with projection: h is 3 wide, c 6; per step 4·6·(I + 3) + 6·3 with
    # I = 4, then 2·3: 5·2·(186 + 234) MACs; FLOPs 5·2·(2·186 + 48 + 54 + 2·234 + 48 + 54).
    pytest.param(
        "lstm: {hidden_size: 6, num_layers: 2, bidirectional: true, proj_size: 3}",
        [(5, 4)],
        [(5, 6), (4, 3), (4, 6)],
        1_032,
        4_200,
        10_440,
        id="lstm-bidirectional-proj",
    ),
    # GRU 10 → 20, 7 steps: 7·3·20·30 = 12,600 MACs; FLOPs 25,200 + 7·(2·60 + 7·20).
    pytest.param(
        "gru: {hidden_size: 20}", [(7, 10)], [(7, 20), (1, 20)], 1_920, 12_600, 27_020, id="gru"
    ),
    # RNN with relu and no bias: 7·20·30 MACs; FLOPs 8,400 + 7·20.
    pytest.param(
        "rnn: {hidden_size: 20, nonlinearity: relu, bias: false}",
        [(7, 10)],
        [(7, 20), (1, 20)],
        600,
        4_200,
        8_540,
        id="rnn-relu",
    ),
]


def _evaluate(formula: str) -> int:
    """An explain formula such as '(5·8·8 + 4·3·8)' as a number (digits, ·, +, brackets)."""
    assert re.fullmatch(r"[\d·+() ]+", formula), formula
    return int(eval(formula.replace("·", "*")))


@pytest.mark.parametrize(("entry", "inputs", "outputs", "params", "macs", "flops"), EXACT)
def test_counting_conventions(
    entry: str,
    inputs: list[Shape],
    outputs: list[Shape],
    params: int,
    macs: int,
    flops: int,
) -> None:
    """Shapes of every output, parameters, MACs and FLOPs; explain's formulas give the same."""
    layer, args = entry.split(": ", 1)
    case = Case(layer, yaml.safe_load(args), inputs, nn.Identity)
    g = graph.build(spec.from_text(case.yaml(), "t.yaml"))
    x = g.by_name["under_test"]
    assert list(x.result.shapes) == outputs
    assert (x.result.param_count, x.cost.macs, x.cost.flops) == (params, macs, flops)
    ex = TYPES[layer].explain(x.args, g.input_shapes(x), x.shape, lambda s: s)
    assert ex.params is not None and ex.macs is not None
    assert (_evaluate(ex.params), _evaluate(ex.macs)) == (params, macs)


def test_batch_first_changes_no_count() -> None:
    """batch_first only says where PyTorch keeps the batch."""
    for entry in ("lstm: {hidden_size: 6", "multiheadattention: {num_heads: 2"):
        figures = []
        for flag in ("false", "true"):
            text = f"input: [5, 8]\nlayers:\n  - {entry}, batch_first: {flag}}}\n"
            x = graph.build(spec.from_text(text, "t.yaml")).layers[-1]
            figures.append((x.result, x.cost))
        assert figures[0] == figures[1]


# ---- located errors through the CLI -------------------------------------------------------------

ERRORS = [
    (
        "input: [5, 6]\nlayers:\n  - multiheadattention: {num_heads: 4}\n",
        "3:37",
        "embed_dim 6 (the input's last dimension) is not divisible by num_heads 4",
    ),
    (
        "input: [5, 8]\nlayers:\n  - multiheadattention: {num_heads: 2, kdim: 3}\n",
        "3:46",
        "the key has 8 features but kdim is 3",
    ),
    (
        "input: [5, 8]\nlayers:\n  - multiheadattention: {num_heads: 2}\n"
        "    from: [input, input]\n",
        "3:5",
        "takes one input (self-attention) or three (query, key, value), got 2",
    ),
    (
        "input: [5, 8]\nlayers:\n  - linear: {out_features: 4}\n"
        "  - transformerdecoderlayer: {nhead: 2}\n    from: [input, linear_1]\n",
        "4:5",
        "the memory has 4 features but the target (d_model) has 8",
    ),
    (
        "input: [5, 6]\nlayers:\n  - lstm: {hidden_size: 4, proj_size: 4}\n",
        "3:39",
        "proj_size 4 must be smaller than hidden_size 4",
    ),
    (
        "input: [3, 5, 6]\nlayers:\n  - gru: {hidden_size: 4}\n",
        "3:5",
        "expects a sequence [L, input_size] (without the batch), got 3×5×6 (3-d)",
    ),
    (
        "input: [5, 6]\nlayers:\n  - rnn: {hidden_size: 4, input_size: 5}\n",
        "3:39",
        "input_size is 5 but the input has 6 features (its last dimension)",
    ),
]


@pytest.mark.parametrize(("text", "where", "message"), ERRORS)
def test_errors_are_located(text: str, where: str, message: str, tmp_path: Path) -> None:
    path = write_spec(tmp_path, text)
    result = run("summarize", path)
    assert result.exit_code == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}:{where}: layer '"), first
    assert first.endswith(f"': {message}"), first
