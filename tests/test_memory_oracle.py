"""Oracle test for activation memory: what PyTorch's autograd keeps for backward.

The oracle is ``torch.autograd.graph.saved_tensors_hooks`` around a forward pass of the
hand-written reference models (``reference_models.py``) in train mode: every tensor autograd
saves is seen once, tensors sharing a storage (views, in-place results) are counted once by
the storage's bytes, and the model's parameters and buffers are weights, not activations.
cnncalc's ``activations_bytes`` must equal it, in two settings: each reference as written
(in-place ReLUs) against the spec with ``inplace: true`` on every layer that has the argument,
and both with in-place turned off.

Exact, with three stated exceptions where PyTorch's kernels choose:

- ``dropout``: cnncalc counts the 1-byte mask CUDA's fused kernel keeps; PyTorch on the CPU
  keeps the mask in the activation dtype. The test adds the difference, 3 bytes an element
  at float32, to cnncalc's figure: exact after it.
- recurrent layers: cnncalc's rule is what PyTorch's own CPU kernels keep, step by step; the
  oracle runs with oneDNN off (its kernels keep a workspace of their own, 2.5× as large for
  the LSTM classifier), and so do all the others. cuDNN's reserve space is not measured here.
- ``siamese``: the spec writes |a − b| as relu(a − b) + relu(b − a), two kept tensors of
  4,096 where ``torch.abs`` keeps one: added to the oracle, exact after it.

Below the whole networks, one layer of each family at a time against the same oracle; at the
end, training FLOPs against ``torch.utils.flop_counter.FlopCounterMode``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import torch
from torch import Tensor, nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from cnncalc.analysis import summarize
from cnncalc.graph import Graph, build
from cnncalc.layers import TYPES
from cnncalc.layers.tensors import numel
from cnncalc.memory import memory
from cnncalc.spec import from_text
from conftest import SPECS
from reference_models import REFERENCES

# Turning oneDNN off (native_kernels) sets its TF32 flag too, which warns on a CPU build.
pytestmark = pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")

FAST = ("lenet5", "tiny_resnet", "dcgan_generator", "dcgan_discriminator", "two_input")
BIG = ("resnet50", "vgg16", "mobilenetv2")  # the issue's three


def autograd_saved(model: nn.Module, inputs: tuple[Tensor, ...]) -> int:
    """Bytes of the storages autograd keeps for backward in one forward pass (train mode).

    The hook holds every saved tensor in a list until the pass ends, so that no storage is
    freed and its address reused while storages are told apart by address; it gives autograd
    an index instead of the tensor, since a tensor handed back to its own graph (a relu's
    output) would make a cycle that outlives the test. No backward runs on this graph.
    """
    weights = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers())}
    seen: dict[int, int] = {}
    held: list[Tensor] = []

    def pack(t: Tensor) -> int:
        storage = t.untyped_storage()
        if storage.data_ptr() not in weights:
            seen[storage.data_ptr()] = storage.nbytes()
        held.append(t)
        return len(held) - 1

    def unpack(index: int) -> Tensor:
        raise AssertionError("the oracle's graph is not for backward")

    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        model(*inputs)
    held.clear()
    return sum(seen.values())


@contextmanager
def native_kernels() -> Iterator[None]:
    """PyTorch's own CPU kernels: oneDNN off (its recurrent kernels keep a workspace)."""
    with torch.backends.mkldnn.flags(enabled=False):
        yield


def with_inplace(graph: Graph, inplace: bool) -> Graph:
    """The graph with `inplace` set on every layer whose type has the argument."""
    layers = tuple(
        x._replace(args={**x.args, "inplace": inplace}) if TYPES[x.type].arg("inplace") else x
        for x in graph.layers
    )
    return graph._replace(layers=layers)


def reference_inplace(model: nn.Module, inplace: bool) -> nn.Module:
    for module in model.modules():
        if hasattr(module, "inplace"):
            module.inplace = inplace
    return model


def cpu_dropout(graph: Graph, batch: int) -> int:
    """The bytes PyTorch on the CPU keeps beyond cnncalc's 1-byte dropout masks (float32)."""
    return sum(
        numel(x.shape) * batch * 3
        for x in graph.layers
        if x.type == "dropout" and 0 < x.args["p"] < 1
    )


def spec_graph(stem: str) -> Graph:
    path = SPECS / f"{stem}.yaml"
    return build(from_text(path.read_text(), path.name))


def check_network(stem: str, batch: int, inplace: bool) -> None:
    reference = REFERENCES[stem]
    torch.manual_seed(0)
    model = reference_inplace(reference.build().train(), inplace)
    inputs = reference.example(batch)
    if reference.vocabulary is None:
        inputs = tuple(torch.randn_like(x) for x in inputs)
    with native_kernels():
        oracle = autograd_saved(model, inputs)
    graph = with_inplace(spec_graph(stem), inplace)
    ours = memory(graph, batch=batch).activations_bytes + cpu_dropout(graph, batch)
    if stem == "siamese":
        oracle += 4096 * batch * 4
    assert ours == oracle


@pytest.mark.parametrize("inplace", [True, False], ids=["inplace", "not-inplace"])
@pytest.mark.parametrize("stem", FAST)
def test_small_networks_keep_what_autograd_keeps(stem: str, inplace: bool) -> None:
    check_network(stem, 2, inplace)


@pytest.mark.slow
@pytest.mark.parametrize("inplace", [True, False], ids=["inplace", "not-inplace"])
@pytest.mark.parametrize("batch", [2, 8])
@pytest.mark.parametrize("stem", sorted(REFERENCES))
def test_every_network_keeps_what_autograd_keeps(stem: str, batch: int, inplace: bool) -> None:
    check_network(stem, batch, inplace)


@pytest.mark.slow
@pytest.mark.parametrize("stem", BIG)
def test_the_issues_three_networks(stem: str) -> None:
    """ResNet-50, VGG-16 and MobileNetV2 at batch 1: exact (after the CPU dropout mask),
    with and without in-place activations; ResNet-50 as the issue measured it, 86.1 MB."""
    for inplace in (True, False):
        check_network(stem, 1, inplace)
    if stem == "resnet50":
        assert memory(spec_graph(stem)).activations_bytes == 86_121_984


# --------------------------------------------------------------------------------------------
# One layer at a time: a 1×1 convolution (or a linear) first, so that gradients flow
# --------------------------------------------------------------------------------------------


class Fn(nn.Module):
    """A function as a module: `f(*inputs)`."""

    def __init__(self, f: Callable[..., Any]) -> None:
        super().__init__()
        self.f = f

    def forward(self, *xs: Tensor) -> Any:
        return self.f(*xs)


class Lead(nn.Module):
    """The lead layer, then the layer under test, on the lead's output (twice for a merge)."""

    def __init__(self, lead: nn.Module, body: nn.Module, merge: bool = False) -> None:
        super().__init__()
        self.lead, self.body, self.merge = lead, body, merge
        self.other = nn.Conv2d(4, 4, 1) if merge else None

    def forward(self, x: Tensor) -> Any:
        y = self.lead(x)
        if self.other is not None:
            return self.body(y, self.other(x))
        return self.body(y)


IMAGE = [4, 6, 6]
CONV = "  - conv2d: {out_channels: 4, kernel_size: 1}\n    name: lead\n"

# (id, spec layers after the lead, torch layer after nn.Conv2d(4, 4, 1))
IMAGE_CASES: list[tuple[str, str, Callable[[], nn.Module]]] = [
    ("relu", "relu", nn.ReLU),
    ("relu-inplace", "relu: {inplace: true}", lambda: nn.ReLU(inplace=True)),
    ("relu6", "relu6", nn.ReLU6),
    ("relu6-inplace", "relu6: {inplace: true}", lambda: nn.ReLU6(inplace=True)),
    ("leakyrelu", "leakyrelu", nn.LeakyReLU),
    ("leakyrelu-inplace", "leakyrelu: {inplace: true}", lambda: nn.LeakyReLU(inplace=True)),
    ("elu-inplace", "elu: {inplace: true}", lambda: nn.ELU(inplace=True)),
    ("selu", "selu", nn.SELU),
    ("celu", "celu", nn.CELU),
    ("gelu", "gelu", nn.GELU),
    ("silu", "silu", nn.SiLU),
    ("silu-inplace", "silu: {inplace: true}", lambda: nn.SiLU(inplace=True)),
    ("hardswish-inplace", "hardswish: {inplace: true}", lambda: nn.Hardswish(inplace=True)),
    ("hardsigmoid", "hardsigmoid", nn.Hardsigmoid),
    ("mish", "mish", nn.Mish),
    ("sigmoid", "sigmoid", nn.Sigmoid),
    ("tanh", "tanh", nn.Tanh),
    ("softplus", "softplus", nn.Softplus),
    ("softsign", "softsign", nn.Softsign),
    ("tanhshrink", "tanhshrink", nn.Tanhshrink),
    (
        "threshold-inplace",
        "threshold: {threshold: 0.1, value: 0, inplace: true}",
        lambda: nn.Threshold(0.1, 0.0, inplace=True),
    ),
    ("softmax", "softmax: {dim: 1}", lambda: nn.Softmax(1)),
    ("logsoftmax", "logsoftmax: {dim: 1}", lambda: nn.LogSoftmax(1)),
    ("softmin", "softmin: {dim: 1}", lambda: nn.Softmin(1)),
    ("glu", "glu: {dim: 1}", lambda: nn.GLU(1)),
    ("prelu", "prelu", nn.PReLU),
    ("dropout", "dropout", nn.Dropout),
    ("dropout-p0", "dropout: {p: 0}", lambda: nn.Dropout(0.0)),
    ("dropout2d", "dropout2d", nn.Dropout2d),
    ("alphadropout", "alphadropout", nn.AlphaDropout),
    ("featurealphadropout", "featurealphadropout", nn.FeatureAlphaDropout),
    ("batchnorm2d", "batchnorm2d", lambda: nn.BatchNorm2d(4)),
    ("instancenorm2d", "instancenorm2d", lambda: nn.InstanceNorm2d(4)),
    ("groupnorm", "groupnorm: {num_groups: 2}", lambda: nn.GroupNorm(2, 4)),
    ("layernorm", "layernorm", lambda: nn.LayerNorm(6)),
    ("localresponsenorm", "localresponsenorm: {size: 2}", lambda: nn.LocalResponseNorm(2)),
    ("maxpool2d", "maxpool2d: {kernel_size: 2}", lambda: nn.MaxPool2d(2)),
    ("avgpool2d", "avgpool2d: {kernel_size: 2}", lambda: nn.AvgPool2d(2)),
    ("adaptiveavgpool-1", "adaptiveavgpool2d: {output_size: 1}", lambda: nn.AdaptiveAvgPool2d(1)),
    ("adaptiveavgpool-2", "adaptiveavgpool2d: {output_size: 2}", lambda: nn.AdaptiveAvgPool2d(2)),
    ("adaptivemaxpool", "adaptivemaxpool2d: {output_size: 2}", lambda: nn.AdaptiveMaxPool2d(2)),
    (
        "convtranspose2d",
        "convtranspose2d: {out_channels: 3, kernel_size: 3, stride: 2}",
        lambda: nn.ConvTranspose2d(4, 3, 3, 2),
    ),
    (
        "conv2d-grouped",
        "conv2d: {out_channels: 4, kernel_size: 3, groups: 2}",
        lambda: nn.Conv2d(4, 4, 3, groups=2),
    ),
    ("zeropad2d", "zeropad2d: {padding: 1}", lambda: nn.ZeroPad2d(1)),
    ("reflectionpad2d", "reflectionpad2d: {padding: 1}", lambda: nn.ReflectionPad2d(1)),
    ("replicationpad2d", "replicationpad2d: {padding: 1}", lambda: nn.ReplicationPad2d(1)),
    ("circularpad2d", "circularpad2d: {padding: 1}", lambda: nn.CircularPad2d(1)),
    ("upsample-nearest", "upsample: {scale_factor: 2}", lambda: nn.Upsample(scale_factor=2)),
    (
        "upsample-bilinear",
        "upsample: {scale_factor: 2, mode: bilinear}",
        lambda: nn.Upsample(scale_factor=2, mode="bilinear"),
    ),
    ("pixelshuffle", "pixelshuffle: {upscale_factor: 2}", lambda: nn.PixelShuffle(2)),
    ("channelshuffle", "channelshuffle: {groups: 2}", lambda: nn.ChannelShuffle(2)),
    ("flatten-linear", "flatten\n  - linear: {out_features: 3}", lambda: _flat_linear()),
    ("amax", "amax: {dim: 1}", lambda: Fn(lambda x: torch.amax(x, 1))),
    ("mean", "mean: {dim: [2, 3]}", lambda: Fn(lambda x: x.mean((2, 3)))),
    ("sum", "sum: {dim: 1}", lambda: Fn(lambda x: x.sum(1))),
]

MERGE_CASES: list[tuple[str, Callable[[Tensor, Tensor], Tensor]]] = [
    ("add", torch.add),
    ("subtract", torch.sub),
    ("multiply", torch.mul),
    ("divide", torch.div),
    ("concat", lambda a, b: torch.cat([a, b], 1)),
]


def _flat_linear() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(4 * 6 * 6, 3))


def check_layer(spec: str, model: nn.Module, shape: list[int], batch: int = 2) -> None:
    """The spec's activations against the oracle over the module, on random inputs."""
    graph = build(from_text(textwrap.dedent(spec), "layer.yaml"))
    torch.manual_seed(0)
    with native_kernels():
        oracle = autograd_saved(model.train(), (torch.randn(batch, *shape),))
    assert memory(graph, batch=batch).activations_bytes + cpu_dropout(graph, batch) == oracle


@pytest.mark.parametrize(("case", "layer", "module"), IMAGE_CASES, ids=[c[0] for c in IMAGE_CASES])
def test_one_layer_keeps_what_autograd_keeps(
    case: str, layer: str, module: Callable[[], nn.Module]
) -> None:
    spec = f"input: {IMAGE}\nlayers:\n{CONV}  - {layer}\n"
    check_layer(spec, Lead(nn.Conv2d(4, 4, 1), module()), IMAGE)


@pytest.mark.parametrize(("merge", "f"), MERGE_CASES, ids=[c[0] for c in MERGE_CASES])
def test_a_merge_keeps_what_autograd_keeps(merge: str, f: Callable[..., Tensor]) -> None:
    spec = (
        f"input: {IMAGE}\nlayers:\n{CONV}"
        "  - conv2d: {out_channels: 4, kernel_size: 1}\n    name: other\n    from: input\n"
        f"  - {merge}:\n    from: [lead, other]\n"
    )
    check_layer(spec, Lead(nn.Conv2d(4, 4, 1), Fn(f), merge=True), IMAGE)


SEQUENCE = [7, 16]
LINEAR = "  - linear: {out_features: 16}\n"


class SelfAttention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lead = nn.Linear(16, 16)
        self.attention = nn.MultiheadAttention(16, 4, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        y = self.lead(x)
        return self.attention(y, y, y, need_weights=False)[0]


def test_attention_keeps_what_fused_attention_keeps() -> None:
    """Fused attention (need_weights=False, no dropout): the input; q, k, v packed, 3·L·E;
    the output, L·E; a log-sum-exp per head and query."""
    spec = f"input: {SEQUENCE}\nlayers:\n{LINEAR}  - multiheadattention: {{num_heads: 4}}\n"
    check_layer(spec, SelfAttention(), SEQUENCE)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_an_encoder_layer_keeps_what_autograd_keeps(activation: str, norm_first: bool) -> None:
    spec = (
        f"input: {SEQUENCE}\nlayers:\n{LINEAR}  - transformerencoderlayer: {{nhead: 4,"
        f" dim_feedforward: 32, dropout: 0, activation: {activation},"
        f" norm_first: {str(norm_first).lower()}, batch_first: true}}\n"
    )
    layer = nn.TransformerEncoderLayer(
        16, 4, 32, dropout=0.0, activation=activation, norm_first=norm_first, batch_first=True
    )
    check_layer(spec, nn.Sequential(nn.Linear(16, 16), layer), SEQUENCE)


@pytest.mark.parametrize(
    ("kind", "module", "layers", "bidirectional"),
    [
        ("lstm", nn.LSTM, 1, False),
        ("lstm", nn.LSTM, 2, True),
        ("gru", nn.GRU, 1, False),
        ("gru", nn.GRU, 2, True),
        ("rnn", nn.RNN, 1, False),
        ("rnn", nn.RNN, 2, True),
    ],
)
def test_recurrent_layers_keep_what_native_kernels_keep(
    kind: str, module: type[nn.Module], layers: int, bidirectional: bool
) -> None:
    """PyTorch's own CPU kernels, step by step (oneDNN's and cuDNN's keep workspaces of
    their own sizes)."""
    spec = (
        f"input: [20, 16]\nlayers:\n  - {kind}: {{hidden_size: 32, num_layers: {layers},"
        f" bidirectional: {str(bidirectional).lower()}, batch_first: true}}\n"
    )
    graph = build(from_text(spec, "rnn.yaml"))
    torch.manual_seed(0)
    rnn = module(16, 32, num_layers=layers, bidirectional=bidirectional, batch_first=True)
    with native_kernels():
        oracle = autograd_saved(rnn.train(), (torch.randn(2, 20, 16),))
    assert memory(graph, batch=2).activations_bytes == oracle


def test_an_embedding_keeps_its_int64_indices() -> None:
    spec = "input: [12]\nlayers:\n  - embedding: {num_embeddings: 50, embedding_dim: 8}\n"
    model = nn.Embedding(50, 8)
    with native_kernels():
        oracle = autograd_saved(model, (torch.zeros(3, 12, dtype=torch.long),))
    assert (
        memory(build(from_text(spec, "e.yaml")), batch=3).activations_bytes == oracle == 3 * 12 * 8
    )


def test_matmul_keeps_both_inputs() -> None:
    spec = (
        "input: [5, 8]\nlayers:\n  - linear: {out_features: 8}\n    name: a\n"
        "  - linear: {out_features: 8}\n    name: b\n    from: input\n"
        "  - transpose: {dim0: 1, dim1: 2}\n  - matmul:\n    from: [a, transpose_1]\n"
    )

    class Product(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(8, 8), nn.Linear(8, 8)

        def forward(self, x: Tensor) -> Tensor:
            return torch.matmul(self.a(x), self.b(x).transpose(1, 2))

    check_layer(spec, Product(), [5, 8])


# --------------------------------------------------------------------------------------------
# Training FLOPs: FlopCounterMode over forward and backward
# --------------------------------------------------------------------------------------------
#
# torch.utils.flop_counter counts the matrix products (convolutions, mm, addmm, bmm) of
# forward and backward, 2 per MAC. cnncalc's side: 2·(MACs + backward MACs). Stated
# corrections to the oracle:
# - attention runs on PyTorch's math kernel (bmm), since the counter does not count the CPU's
#   fused attention op at all;
# - the counter counts a grouped convolution's weight gradient as if ungrouped, groups× its
#   work (its input gradient it counts right): the excess, (groups − 1)·2·MACs, is taken off;
# - recurrent layers: the first step's hidden state, zeros, needs no gradient, which cnncalc's
#   "2× forward" ignores: within 0.5%.


def counted_training_flops(stem: str, batch: int) -> int:
    reference = REFERENCES[stem]
    torch.manual_seed(0)
    model = reference.build().train()
    inputs = reference.example(batch)
    if reference.vocabulary is None:
        inputs = tuple(torch.randn_like(x) for x in inputs)
    with native_kernels(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as fc:
        out = model(*inputs)
        outs = out if isinstance(out, tuple) else (out,)
        sum(o.sum() for o in outs).backward()
    return int(fc.get_total_flops())


def grouped_excess(graph: Graph, batch: int) -> int:
    return sum(
        (x.args["groups"] - 1) * 2 * x.cost.macs * batch
        for x in graph.layers
        if x.type.startswith("conv") and x.args["groups"] > 1 and x.trainable
    )


def check_training_flops(stem: str, batch: int) -> None:
    graph = spec_graph(stem)
    totals = summarize(graph, batch=batch).totals
    ours = 2 * (totals.macs + totals.backward_macs)
    oracle = counted_training_flops(stem, batch) - grouped_excess(graph, batch)
    if stem == "lstm_classifier":
        assert ours == pytest.approx(oracle, rel=0.005)
    else:
        assert ours == oracle


@pytest.mark.parametrize("stem", [*FAST, "siamese", "lstm_classifier"])
def test_training_flops_of_small_networks(stem: str) -> None:
    check_training_flops(stem, 2)


@pytest.mark.slow
@pytest.mark.parametrize("stem", sorted(REFERENCES))
def test_training_flops_of_every_network(stem: str) -> None:
    check_training_flops(stem, 2)


def test_the_grouped_convolution_correction_is_the_counters() -> None:
    """The counter's excess for a grouped convolution, measured: with the input needing no
    gradient, forward + backward is (1 + groups)× forward; cnncalc says 2×."""
    conv = nn.Conv2d(8, 8, 3, groups=4)
    x = torch.randn(2, 8, 6, 6)
    with FlopCounterMode(display=False) as fc:
        conv(x).sum().backward()
    forward = 2 * 2 * 8 * 4 * 4 * (8 // 4) * 9  # 2 per MAC; batch 2; 8×4×4 outputs; 2·9 taps
    assert fc.get_total_flops() == (1 + 4) * forward


@pytest.mark.parametrize(
    ("layer", "module"),
    [
        ("linear: {out_features: 4}", lambda: nn.Sequential(nn.Flatten(), nn.Linear(144, 4))),
        ("conv2d: {out_channels: 4, kernel_size: 3}", lambda: nn.Conv2d(4, 4, 3)),
        ("batchnorm2d: {}", lambda: nn.BatchNorm2d(4)),
    ],
    ids=["linear", "conv2d", "batchnorm2d"],
)
def test_a_frozen_layer_keeps_what_autograd_keeps(
    layer: str, module: Callable[[], nn.Module]
) -> None:
    """A frozen linear keeps nothing (its product keeps each operand for the other's
    gradient only); a frozen convolution still keeps its input, a frozen batch norm too."""
    flatten = "  - flatten\n" if layer.startswith("linear") else ""
    spec = f"input: {IMAGE}\nlayers:\n{CONV}{flatten}  - {layer}\n    trainable: false\n"
    frozen = module()
    for p in frozen.parameters():
        p.requires_grad_(False)
    check_layer(spec, Lead(nn.Conv2d(4, 4, 1), frozen), IMAGE)


TWO_SEQUENCES = """
inputs: {tgt: [7, 16], mem: [9, 16]}
layers:
  - linear: {out_features: 16}
    name: a
    from: tgt
  - linear: {out_features: 16}
    name: b
    from: mem
"""


class TwoLeads(nn.Module):
    """A linear on each input, then the layer under test on (a, b) or (a, b, c)."""

    def __init__(self, body: nn.Module, three: bool = False) -> None:
        super().__init__()
        self.a, self.b, self.body = nn.Linear(16, 16), nn.Linear(16, 16), body
        self.c = nn.Linear(16, 16) if three else None

    def forward(self, x: Tensor, m: Tensor) -> Any:
        if self.c is None:
            return self.body(self.a(x), self.b(m))
        q, k, v = self.a(x), self.b(m), self.c(m)
        return self.body(q, k, v, need_weights=False)[0]


def check_two(spec: str, model: nn.Module) -> None:
    graph = build(from_text(spec, "two.yaml"))
    torch.manual_seed(0)
    with native_kernels():
        oracle = autograd_saved(model.train(), (torch.randn(2, 7, 16), torch.randn(2, 9, 16)))
    assert memory(graph, batch=2).activations_bytes == oracle


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_a_decoder_layer_keeps_what_autograd_keeps(activation: str, norm_first: bool) -> None:
    spec = TWO_SEQUENCES + (
        f"  - transformerdecoderlayer: {{nhead: 4, dim_feedforward: 32, dropout: 0,"
        f" activation: {activation}, norm_first: {str(norm_first).lower()}, batch_first: true}}\n"
        "    from: [a, b]\n"
    )
    layer = nn.TransformerDecoderLayer(
        16, 4, 32, dropout=0.0, activation=activation, norm_first=norm_first, batch_first=True
    )
    check_two(spec, TwoLeads(layer))


def test_cross_attention_keeps_what_fused_attention_keeps() -> None:
    """Query, key and value apart: each input, q L·E, k and v S·E each, the output L·E."""
    spec = TWO_SEQUENCES + (
        "  - linear: {out_features: 16}\n    name: c\n    from: mem\n"
        "  - multiheadattention: {num_heads: 4}\n    from: [a, b, c]\n"
    )
    attention = nn.MultiheadAttention(16, 4, batch_first=True)
    check_two(spec, TwoLeads(attention, three=True))


@pytest.mark.parametrize(
    ("equation", "first", "second"),
    [
        ("bij,bjk->bik", [5, 8], [8, 6]),
        ("bhid,bhjd->bhij", [3, 5, 8], [3, 7, 8]),
        ("bid,bjd->bij", [5, 8], [7, 8]),
    ],
)
def test_einsum_keeps_both_inputs(equation: str, first: list[int], second: list[int]) -> None:
    spec = (
        f"inputs: {{x: {first}, y: {second}}}\nlayers:\n"
        f"  - linear: {{out_features: {first[-1]}}}\n    name: a\n    from: x\n"
        f"  - linear: {{out_features: {second[-1]}}}\n    name: b\n    from: y\n"
        f"  - einsum: {{equation: '{equation}'}}\n    from: [a, b]\n"
    )

    class Contraction(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(first[-1], first[-1]), nn.Linear(second[-1], second[-1])

        def forward(self, x: Tensor, y: Tensor) -> Tensor:
            return torch.einsum(equation, self.a(x), self.b(y))

    graph = build(from_text(spec, "einsum.yaml"))
    oracle = autograd_saved(
        Contraction().train(), (torch.randn(2, *first), torch.randn(2, *second))
    )
    assert memory(graph, batch=2).activations_bytes == oracle
