"""Attention: multi-head attention and the transformer encoder and decoder layers.

A sequence is [L, E] per sample: L positions (tokens) of E features. `batch_first` is
accepted and changes nothing that cnncalc counts: it only says where PyTorch keeps the batch
([L, N, E] or [N, L, E]), and a per-sample shape has no batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from cnncalc.errors import Display
from cnncalc.layers.args import (
    BIAS,
    REQUIRED,
    Arg,
    boolean,
    choice,
    inferred_size,
    integer,
    number,
    optional,
)
from cnncalc.layers.base import LayerType, Result, Saved
from cnncalc.layers.checks import check_given, fail, several
from cnncalc.layers.costs import Cost, Grads, twice_forward
from cnncalc.layers.formulas import Explanation
from cnncalc.layers.registry import register
from cnncalc.layers.tensors import Shape, tensor

_BATCH_FIRST = Arg(
    "batch_first", boolean(), False, "where PyTorch keeps the batch; changes no count", "bool"
)
_DROPOUT = Arg("dropout", number(0, 1), 0.0, "no effect on counts (inference)", "float")

ATTENTION_FLOPS = (
    "2·MACs, + 1 per projection output with bias, + 1 per query element (the 1/√d"
    " scaling), + 3 per attention weight of every head (softmax: exponential, sum, divide)"
)
# Layer norm as the norm family counts it: mean 1, variance 2, normalize 2, scale 1, shift 1.
_NORM_FLOPS = 5


class Attention(NamedTuple):
    """The sizes of one attention: L queries of E features, S keys of kdim and S values of
    vdim features, and `extra` key positions added after the projections (bias_k/bias_v and
    the zero attention)."""

    length: int
    keys: int
    embed: int
    kdim: int
    vdim: int
    heads: int
    extra: int = 0

    @property
    def span(self) -> int:
        """S': the key positions each query attends to."""
        return self.keys + self.extra

    def tensors(self, bias: bool, bias_kv: bool, prefix: str = "") -> dict[str, int]:
        """The parameters, by PyTorch's names under `prefix` ('self_attn.')."""
        e = self.embed
        if self.kdim == e and self.vdim == e:
            params = {"in_proj_weight": 3 * e * e}
        else:
            params = {
                "q_proj_weight": e * e,
                "k_proj_weight": e * self.kdim,
                "v_proj_weight": e * self.vdim,
            }
        if bias:
            params["in_proj_bias"] = 3 * e
        if bias_kv:
            params |= {"bias_k": e, "bias_v": e}
        params["out_proj.weight"] = e * e
        if bias:
            params["out_proj.bias"] = e
        return {prefix + name: n for name, n in params.items()}

    def macs(self) -> int:
        """The four projections, Q·Kᵀ and A·V."""
        n, s, e = self.length, self.keys, self.embed
        return n * e * e + s * self.kdim * e + s * self.vdim * e + 2 * n * self.span * e + n * e * e

    def flops(self, bias: bool) -> int:
        """By ATTENTION_FLOPS."""
        n, s, e = self.length, self.keys, self.embed
        biases = 2 * n * e + 2 * s * e if bias else 0
        return 2 * self.macs() + biases + n * e + 3 * self.heads * n * self.span

    def macs_formula(self) -> str:
        """'(5·8·8 + 5·8·8 + 5·8·8 + 5·5·8 + 5·5·8 + 5·8·8)': Q, K, V, Q·Kᵀ, A·V, out."""
        n, s, e, s2 = self.length, self.keys, self.embed, self.span
        terms = [f"{n}·{e}·{e}", f"{s}·{self.kdim}·{e}", f"{s}·{self.vdim}·{e}"]
        terms += [f"{n}·{s2}·{e}", f"{n}·{s2}·{e}", f"{n}·{e}·{e}"]
        return f"({' + '.join(terms)})"

    def lines(self, what: str) -> tuple[str, ...]:
        """How the sizes come about, for explain."""
        e, h = self.embed, self.heads
        keys = f"S = {self.keys}"
        if self.extra:
            keys += f" + {self.extra} (add_bias_kv, add_zero_attn) = {self.span}"
        return (
            f"{what}: {h} heads of {e} / {h} = {e // h} features; L = {self.length}, {keys}",
            f"{what} MACs: Q, K, V projections L·E·E + S·kdim·E + S·vdim·E, Q·Kᵀ and A·V"
            " L·S·E each, out projection L·E·E",
        )


def _sequence(shape: Shape, role: str) -> None:
    """Fail unless `shape` is a per-sample sequence [L, E]."""
    if len(shape) != 2:
        raise fail(
            lambda show: (
                f"expects the {role} as a sequence [L, E] (without the batch),"
                f" got {tensor(shape, show)} ({len(shape)}-d)"
            )
        )


def _divisible(width: int, heads: int, width_arg: str, heads_arg: str) -> None:
    """The heads split the features evenly."""
    if width % heads:
        raise fail(
            f"{width_arg} {width} (the input's last dimension) is not divisible by"
            f" {heads_arg} {heads}",
            heads_arg,
        )


def _features(shape: Shape, wanted: int, role: str, arg: str, default: bool) -> None:
    """The key's / value's / memory's features must equal the argument `arg`."""
    if shape[-1] != wanted:
        said = f"{arg} (default: embed_dim)" if default else arg
        raise fail(f"the {role} has {several(shape[-1], 'feature')} but {said} is {wanted}", arg)


# What fused attention keeps (PyTorch's scaled_dot_product_attention, as CUDA's flash and
# memory-efficient kernels and the CPU's flash kernel run it): the query, key and value, the
# output and a log-sum-exp per head and query; no L × S matrix.
ATTENTION_SAVES = (
    "its inputs; the projected query, key and value (3·L·E for self-attention, one packed"
    " tensor; L·E + 2·S·E otherwise); the attention's output, L·E, for the output projection;"
    " a float32 log-sum-exp per head and query, h·L (fused attention, which PyTorch uses where"
    " need_weights is false; its math path, where weights are asked for or dropout runs on the"
    " CPU, keeps h·L·S softmax weights instead)"
)
ATTENTION_BACKWARD = "2× forward: every matrix product's two operands get a gradient"


def attention_saves(g: Attention, inputs: int) -> tuple[Saved, ...]:
    """By ATTENTION_SAVES, per sample."""
    qkv = 3 * g.length * g.embed if inputs == 1 else g.length * g.embed + 2 * g.keys * g.embed
    return (
        Saved("other", elements=qkv + g.length * g.embed),
        Saved("stats", elements=g.heads * g.length),
    )


class MultiheadAttention(LayerType):
    name = "multiheadattention"
    family = "attention"
    doc = "multi-head attention on [L, E]: one input (self-attention) or query, key, value"
    outputs = "output [L, E], attention weights [L, S] (averaged over the heads)"
    min_inputs = 1
    max_inputs = 3
    flops_rule = ATTENTION_FLOPS
    args = (
        Arg("num_heads", integer(lo=1), REQUIRED, "heads; embed_dim must divide by it", "int"),
        _DROPOUT,
        BIAS,
        Arg("add_bias_kv", boolean(), False, "learn a key and a value added to the keys", "bool"),
        Arg("add_zero_attn", boolean(), False, "add a key and a value of zeros", "bool"),
        Arg("kdim", optional(integer(lo=1)), None, "key features (default: embed_dim)", "int"),
        Arg("vdim", optional(integer(lo=1)), None, "value features (default: embed_dim)", "int"),
        _BATCH_FIRST,
        inferred_size("embed_dim"),
    )

    def geometry(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Attention:
        """The attention's sizes, checked against the arguments."""
        if len(inputs) == 2:
            raise fail("takes one input (self-attention) or three (query, key, value), got 2")
        roles = ("query", "key", "value") if len(inputs) == 3 else ("input",)
        for shape, role in zip(inputs, roles, strict=True):
            _sequence(shape, role)
        query = inputs[0]
        key, value = (inputs[1], inputs[2]) if len(inputs) == 3 else (query, query)
        e, heads = query[-1], a["num_heads"]
        check_given(a, "embed_dim", e, "feature", " (the query's last dimension)")
        _divisible(e, heads, "embed_dim", "num_heads")
        kdim, vdim = a["kdim"] or e, a["vdim"] or e
        _features(key, kdim, "key", "kdim", a["kdim"] is None)
        _features(value, vdim, "value", "vdim", a["vdim"] is None)
        if key[0] != value[0]:
            raise fail(f"the key's length {key[0]} differs from the value's {value[0]}")
        extra = int(a["add_bias_kv"]) + int(a["add_zero_attn"])
        return Attention(query[0], key[0], e, kdim, vdim, heads, extra)

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        g = self.geometry(a, inputs)
        params = g.tensors(a["bias"], a["add_bias_kv"])
        return Result((g.length, g.embed), params, more=((g.length, g.span),))

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        g = self.geometry(a, inputs)
        return Cost(g.macs(), g.flops(a["bias"]))

    saves_rule = ATTENTION_SAVES
    backward_rule = ATTENTION_BACKWARD

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        distinct = 1 if len(inputs) == 1 else 3
        kept = tuple(Saved("input", i) for i in range(distinct))
        return kept + attention_saves(self.geometry(a, inputs), distinct)

    def backward(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, forward: Cost, grads: Grads
    ) -> Cost:
        return twice_forward(forward, grads)

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        g = self.geometry(a, inputs)
        e, k, v = g.embed, g.kdim, g.vdim
        proj = f"3·{e}·{e}" if k == e == v else f"{e}·{e} + {e}·{k} + {e}·{v}"
        params = f"{proj}{f' + 3·{e}' if a['bias'] else ''}"
        params += f"{f' + 2·{e}' if a['add_bias_kv'] else ''} + {e}·{e}"
        params += f"{f' + {e}' if a['bias'] else ''}"
        return Explanation(
            (
                *g.lines("attention"),
                f"attention weights: L × S' = {g.length} × {g.span}, averaged over the heads",
            ),
            params,
            macs=g.macs_formula(),
            params_note=", ".join(g.tensors(a["bias"], a["add_bias_kv"])),
        )


class _TransformerLayer(LayerType):
    """What the encoder and decoder layers share: arguments, the feed-forward and norms."""

    family = "attention"
    attentions: tuple[str, ...] = ()  # 'self_attn', 'multihead_attn'
    flops_rule = (
        "the attentions' FLOPs, + the two linears' (2·MACs, + 1 per output with bias), + 1 per"
        " hidden element (relu or gelu), + 7 per element for each layer norm (6 without"
        " bias), + 1 per element for each residual add"
    )
    args = (
        Arg("nhead", integer(lo=1), REQUIRED, "attention heads; d_model must divide by it", "int"),
        Arg("dim_feedforward", integer(lo=1), 2048, "width of the feed-forward network", "int"),
        Arg("dropout", number(0, 1), 0.1, "no effect on counts (inference)", "float"),
        Arg("activation", choice("relu", "gelu"), "relu", "of the feed-forward network", "str"),
        Arg("layer_norm_eps", number(lo=0), 1e-5, "no effect on counts", "float"),
        _BATCH_FIRST,
        Arg("norm_first", boolean(), False, "norm before each sublayer; changes no count", "bool"),
        BIAS,
        inferred_size("d_model"),
    )

    def geometries(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> list[Attention]:
        """One per attention: the self-attention, and the decoder's over the memory."""
        roles = ("target", "memory") if len(inputs) == 2 else ("input",)
        for shape, role in zip(inputs, roles, strict=True):
            _sequence(shape, role)
        (length, e), heads = inputs[0], a["nhead"]
        check_given(a, "d_model", e, "feature", " (its last dimension)")
        _divisible(e, heads, "d_model", "nhead")
        found = [Attention(length, length, e, e, e, heads)]
        if len(inputs) == 2:
            memory = inputs[1]
            if memory[-1] != e:
                raise fail(
                    f"the memory has {several(memory[-1], 'feature')} but the target"
                    f" (d_model) has {e}"
                )
            found.append(Attention(length, inputs[1][0], e, e, e, heads))
        return found

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        found = self.geometries(a, inputs)
        e, f, bias = inputs[0][-1], a["dim_feedforward"], a["bias"]
        params: dict[str, int] = {}
        for prefix, g in zip(self.attentions, found, strict=True):
            params |= g.tensors(bias, False, f"{prefix}.")
        params |= {"linear1.weight": e * f, "linear2.weight": f * e}
        if bias:
            params |= {"linear1.bias": f, "linear2.bias": e}
        for i in range(1, len(found) + 2):
            params |= {f"norm{i}.weight": e, **({f"norm{i}.bias": e} if bias else {})}
        return Result(inputs[0], params)

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        found = self.geometries(a, inputs)
        (length, e), f, bias = inputs[0], a["dim_feedforward"], a["bias"]
        ffn = 2 * length * e * f
        macs = sum(g.macs() for g in found) + ffn
        flops = sum(g.flops(bias) for g in found) + 2 * ffn
        flops += (length * (f + e) if bias else 0) + length * f  # biases, activation
        sublayers = len(found) + 1
        flops += sublayers * length * e * (_NORM_FLOPS + 1 + bias + 1)  # norms, residual adds
        return Cost(macs, flops)

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        found = self.geometries(a, inputs)
        (length, e), f, bias = inputs[0], a["dim_feedforward"], a["bias"]
        b = bias
        attn = f"3·{e}·{e}{f' + 3·{e}' if b else ''} + {e}·{e}{f' + {e}' if b else ''}"
        ffn = f"{e}·{f}{f' + {f}' if b else ''} + {f}·{e}{f' + {e}' if b else ''}"
        norms = f"{len(found) + 1}·{'2·' if b else ''}{e}"
        attns = f"{len(found)}·({attn})" if len(found) > 1 else attn
        lines = [line for g, p in zip(found, self.attentions, strict=True) for line in g.lines(p)]
        lines.append(f"feed-forward: L·E·F + L·F·E = {length}·{e}·{f} + {length}·{f}·{e}")
        return Explanation(
            tuple(lines),
            f"{attns} + {ffn} + {norms}",
            macs=f"({' + '.join(g.macs_formula() for g in found)} + 2·{length}·{e}·{f})",
            params_note=f"{' and '.join(self.attentions)}; linear1, linear2;"
            f" norm1 to norm{len(found) + 1}",
        )

    backward_rule = ATTENTION_BACKWARD
    saves_rule = (
        "its inputs; each attention as multiheadattention keeps it; per sublayer the residual"
        " sum and the norm's output (L·E each) and the norm's statistics (2·L); the"
        " feed-forward's hidden activation (L·F; gelu keeps its input too) and, with dropout,"
        " the dropped hidden L·F and masks of 1 byte for each dropout (2·L·E + L·F in the"
        " encoder, 3·L·E + L·F in the decoder)"
    )

    def backward(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, forward: Cost, grads: Grads
    ) -> Cost:
        return twice_forward(forward, grads)

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        """Long: the sublayers' rules added up (post-norm and pre-norm keep as many tensors)."""
        found = self.geometries(a, inputs)
        (length, e), f = inputs[0], a["dim_feedforward"]
        dropout = 0 < a["dropout"] < 1
        saved = [Saved("input", i) for i in range(len(inputs))]
        le = 0
        for k, g in enumerate(found):  # the self-attention, then the decoder's cross-attention
            le += 4 * length * e if k == 0 else 2 * length * e + 2 * g.keys * e
            saved.append(Saved("stats", elements=g.heads * length))
        sublayers = len(found) + 1
        le += 2 * sublayers * length * e - length * e  # residual sums; norms' outputs but the last
        hidden = length * f * (1 + (a["activation"] == "gelu") + dropout)
        hidden -= length * f if a["activation"] == "gelu" and dropout else 0
        saved.append(Saved("other", elements=le + hidden))
        saved.append(Saved("stats", elements=2 * sublayers * length))
        if dropout:
            saved.append(Saved("mask", elements=sublayers * length * e + length * f))
        return tuple(saved)


class TransformerEncoderLayer(_TransformerLayer):
    name = "transformerencoderlayer"
    doc = "self-attention and a feed-forward network on [L, E], each with a residual and norm"
    attentions = ("self_attn",)


class TransformerDecoderLayer(_TransformerLayer):
    name = "transformerdecoderlayer"
    doc = "self-attention, attention over the memory and a feed-forward network: (tgt, memory)"
    attentions = ("self_attn", "multihead_attn")
    min_inputs = 2
    max_inputs = 2


register(MultiheadAttention(), TransformerEncoderLayer(), TransformerDecoderLayer())
