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

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_torch_layers import BOOLS, TORCH_ERRORS, Case, maybe, weighted
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from cnncalc import graph, spec
from cnncalc.errors import SpecError

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
