"""Tensor operations against PyTorch: chunk, split, unbind, narrow, permute, transpose, mean,
sum, amax, matmul, layernorm2d, and upsample to a second input's size.

As in test_torch_layers.py, cnncalc goes through its public path (YAML → spec → graph) and a
PyTorch module built by hand from the same argument values must agree — both accept, or both
reject — and here on every output's shape (a layer may make several), the parameters by name,
the buffers, and the MACs and FLOPs: the oracle computes those from the tensors that really
flowed (a hand formula from PyTorch's documentation, per case) and checks that
`torch.utils.flop_counter.FlopCounterMode` counts 2·MACs (it counts matmuls, and nothing for
views, reductions and normalization).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from test_torch_layers import (
    BOOLS,
    DELIBERATE,
    TORCH_ERRORS,
    Case,
    Draw,
    Fn,
    Shape,
    maybe,
    names_batch,
    weighted,
)
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from cnncalc import graph, spec
from cnncalc.errors import SpecError
from cnncalc.layers.base import MAX_OUTPUTS
from cnncalc.layers.spans import Moved
from conftest import run, write_spec

# Where cnncalc refuses what PyTorch accepts, on purpose (beyond test_torch_layers.DELIBERATE).
TENSOR_DELIBERATE: dict[str, str] = {
    **DELIBERATE,
    "batch_moved": "permute must keep the batch (0) first (tensor.Permute): shapes are"
    " per-sample, and a permutation that moves the batch has no per-sample meaning",
    "matmul_rank": "matmul takes two inputs of the same rank ≥ 2 (tensor.Matmul): with the"
    " batch in front of both, PyTorch reads a 1-d input, or the shorter of two ranks, as a"
    " matrix whose rows are the batch, so the result depends on the batch size",
    "einsum_form": "einsum takes two operands, an explicit result, the batch as the first index"
    " everywhere, no repeated index, every summed index in both operands and the same size of"
    " an index in both (tensor.Einsum): the forms whose MACs are the product of the index sizes",
    "like_and_size": "upsample with a second input takes that input's spatial size"
    " (shape.Upsample): size and scale_factor too would say it twice",
}

Oracle = Callable[[Sequence[Tensor], Sequence[Tensor]], tuple[int, int]]


def no_cost(ins: Sequence[Tensor], outs: Sequence[Tensor]) -> tuple[int, int]:
    return 0, 0


@dataclass
class TensorCase(Case):
    """A Case with an oracle for MACs and FLOPs (for the whole batch) and the batch sizes run."""

    cost: Oracle = field(default=no_cost, repr=False)
    batches: tuple[int, ...] = (1,)
    # What FlopCounterMode counts, per sample, when it is not 2·MACs (einsum, below).
    counted: Callable[[Sequence[Tensor], Sequence[Tensor]], int] | None = field(
        default=None, repr=False
    )


@dataclass
class Ours:
    shapes: tuple[Shape, ...]
    params: dict[str, int]
    buffers: dict[str, int]
    cost: tuple[int, int]


def run_ours(case: TensorCase) -> Ours | SpecError:
    try:
        g = graph.build(spec.from_text(case.yaml(), "t.yaml"))
    except SpecError as err:
        return err
    layer = g.by_name["under_test"]
    return Ours(
        layer.result.shapes,
        {k: n for k, n in layer.result.params.items() if n},
        {k: n for k, n in layer.result.buffers.items() if n},
        (layer.cost.macs, layer.cost.flops),
    )


@dataclass
class Theirs:
    shapes: tuple[Shape, ...] = ()
    params: dict[str, int] = field(default_factory=dict)
    buffers: dict[str, int] = field(default_factory=dict)
    cost: tuple[int, int] = (0, 0)  # per sample, by the case's oracle
    counted: int = 0  # FlopCounterMode's FLOPs, per sample
    batches: tuple[int, ...] = ()  # every output's first dimension
    error: BaseException | None = None


def run_theirs(case: TensorCase, batch: int) -> Theirs:
    try:
        module = case.build()
        module.eval()
        xs = [torch.zeros(batch, *s, dtype=case.dtype) for s in case.inputs]
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            out = module(*xs)
    except TORCH_ERRORS as err:
        return Theirs(error=err)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    macs, flops = case.cost(xs, outs)
    counted = counter.get_total_flops()
    if case.counted is not None:
        assert counted == case.counted(xs, outs), f"FlopCounterMode counts {counted}"
        counted = 2 * macs  # the documented exception holds: compare the rest as usual
    named = dict(module.named_parameters())
    return Theirs(
        tuple(tuple(t.shape[1:]) for t in outs),
        {k.rsplit(".", 1)[-1]: t.numel() for k, t in named.items()},
        {k.rsplit(".", 1)[-1]: t.numel() for k, t in module.named_buffers()},
        (macs // batch, flops // batch),
        counted // batch,
        tuple(t.shape[0] if t.dim() else -1 for t in outs),
    )


def check_all(case: TensorCase) -> None:
    """Both accept and agree on everything, or both reject (or cnncalc rejects on purpose)."""
    ours = run_ours(case)
    where = f"\n--- spec ---\n{case.yaml()}"
    if case.deliberate is not None:
        assert isinstance(ours, SpecError), (
            f"cnncalc accepts ({ours}) but should reject: {TENSOR_DELIBERATE[case.deliberate]}"
            f"{where}"
        )
        return
    for batch in case.batches:
        theirs = run_theirs(case, batch)
        at = f"{where}--- torch, batch {batch} ---\n{theirs}"
        if theirs.error is not None or any(0 in s for s in theirs.shapes):
            assert isinstance(ours, SpecError), f"torch rejects, cnncalc accepts: {ours}{at}"
            continue
        assert not isinstance(ours, SpecError), f"torch accepts, cnncalc rejects: {ours}{at}"
        assert set(theirs.batches) == {batch}, f"torch changed the batch dimension{at}"
        got = (ours.shapes, ours.params, ours.buffers, ours.cost)
        assert got == (theirs.shapes, theirs.params, theirs.buffers, theirs.cost), (
            f"(shapes, params, buffers, cost): cnncalc {got}{at}"
        )
        assert theirs.counted == 2 * ours.cost[0], f"FlopCounterMode: {theirs.counted}{at}"


def run_all(strategy: st.SearchStrategy[TensorCase], examples: int) -> None:
    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(strategy)
    def prop(case: TensorCase) -> None:
        check_all(case)

    prop()


# ---- strategies ---------------------------------------------------------------------------------


def shapes(lo: int = 1, hi: int = 4, size: int = 6) -> st.SearchStrategy[Shape]:
    return st.lists(st.integers(1, size), min_size=lo, max_size=hi).map(tuple)


def a_dim(draw: Draw, rank: int) -> int:
    """A PyTorch dim for a per-sample rank: mostly in range, sometimes the batch or outside."""
    return draw(st.integers(-rank - 2, rank + 1))


@st.composite
def chunk_cases(draw: Draw) -> TensorCase:
    shape = draw(shapes())
    dim = a_dim(draw, len(shape))
    chunks = draw(weighted((8, st.integers(1, 8)), (1, st.just(0))))
    return TensorCase(
        "chunk",
        {"chunks": chunks, "dim": dim},
        [shape],
        lambda: Fn(lambda x: torch.chunk(x, chunks, dim)),
        deliberate="batch_dim" if names_batch(dim, len(shape)) else None,
    )


def sections(draw: Draw, n: int) -> list[int]:
    """Sizes that add up to n, or sometimes not, or with a 0 (an empty piece)."""
    sizes, left = [], n
    while left:
        s = draw(st.integers(1, left))
        sizes.append(s)
        left -= s
    kind = draw(st.sampled_from(["exact", "exact", "exact", "off", "zero"]))
    if kind == "off":
        sizes.append(draw(st.integers(1, 3)))
    if kind == "zero":
        sizes.insert(draw(st.integers(0, len(sizes))), 0)
    return sizes


@st.composite
def split_cases(draw: Draw) -> TensorCase:
    shape = draw(shapes())
    dim = a_dim(draw, len(shape))
    i = dim % (len(shape) + 1) - 1 if -len(shape) - 1 <= dim <= len(shape) else 0
    n = shape[i] if i >= 0 else shape[0]
    kind = draw(st.sampled_from(["int", "int", "int", "list", "list", "list", "zero"]))
    size: Any = {"int": lambda: draw(st.integers(1, 7)), "list": lambda: sections(draw, n)}.get(
        kind, lambda: 0
    )()
    return TensorCase(
        "split",
        {"split_size_or_sections": size, "dim": dim},
        [shape],
        lambda: Fn(lambda x: torch.split(x, size, dim)),
        deliberate="batch_dim" if names_batch(dim, len(shape)) else None,
    )


@st.composite
def unbind_cases(draw: Draw) -> TensorCase:
    shape = draw(shapes())
    dim = a_dim(draw, len(shape))
    return TensorCase(
        "unbind",
        {"dim": dim},
        [shape],
        lambda: Fn(lambda x: torch.unbind(x, dim)),
        deliberate="batch_dim" if names_batch(dim, len(shape)) else None,
    )


@st.composite
def narrow_cases(draw: Draw) -> TensorCase:
    shape = draw(shapes())
    dim = a_dim(draw, len(shape))
    start = draw(st.integers(-8, 8))
    length = draw(st.integers(0, 7))
    return TensorCase(
        "narrow",
        {"dim": dim, "start": start, "length": length},
        [shape],
        lambda: Fn(lambda x: torch.narrow(x, dim, start, length)),
        deliberate="batch_dim" if names_batch(dim, len(shape)) else None,
    )


@st.composite
def permute_cases(draw: Draw) -> TensorCase:
    shape = draw(shapes())
    full = len(shape) + 1
    dims = [0, *draw(st.permutations(range(1, full)))]
    kind = draw(st.sampled_from(["ok", "ok", "ok", "moved", "short", "twice"]))
    if kind == "moved":
        dims = draw(st.permutations(range(full)))
    if kind == "short":
        dims = dims[:-1] or [0, 0]
    if kind == "twice":
        dims[-1] = dims[0]
    dims = [d - full if draw(BOOLS) else d for d in dims]  # negative spellings too
    resolved = [d % full for d in dims]
    moved = sorted(resolved) == list(range(full)) and resolved[0] != 0 and len(dims) == full
    return TensorCase(
        "permute",
        {"dims": dims},
        [shape],
        lambda: Fn(lambda x: x.permute(*dims)),
        deliberate="batch_moved" if moved else None,
    )


@st.composite
def transpose_cases(draw: Draw) -> TensorCase:
    shape = draw(shapes())
    d0, d1 = a_dim(draw, len(shape)), a_dim(draw, len(shape))
    batch = names_batch(d0, len(shape)) or names_batch(d1, len(shape))
    return TensorCase(
        "transpose",
        {"dim0": d0, "dim1": d1},
        [shape],
        lambda: Fn(lambda x: torch.transpose(x, d0, d1)),
        deliberate="batch_dim" if batch else None,
    )


REDUCE_FN = {"mean": torch.mean, "sum": torch.sum, "amax": torch.amax}


def reduce_cost(name: str) -> Oracle:
    """The documented rule from the real tensors: in − out adds (sum) or comparisons (amax);
    mean also divides once per output element."""

    def cost(ins: Sequence[Tensor], outs: Sequence[Tensor]) -> tuple[int, int]:
        n_in, n_out = ins[0].numel(), outs[0].numel()
        return 0, n_in - n_out + (n_out if name == "mean" else 0)

    return cost


@st.composite
def reduce_cases(draw: Draw, name: str) -> TensorCase:
    shape = draw(shapes())
    r = len(shape)
    dim: Any = draw(
        weighted(
            (4, st.integers(-r - 2, r + 1)),
            (4, st.lists(st.integers(-r - 2, r + 1), min_size=1, max_size=3)),
            (1, st.just([])),
        )
    )
    args: dict[str, Any] = {"dim": dim}
    maybe(draw, args, "keepdim", BOOLS)
    keep = args.get("keepdim", False)
    dims = dim if isinstance(dim, list) else [dim]
    batch = dims == [] or any(names_batch(d, r) for d in dims)
    fn = REDUCE_FN[name]
    return TensorCase(
        name,
        args,
        [shape],
        lambda: Fn(lambda x: fn(x, dim=tuple(dims), keepdim=keep)),
        deliberate="batch_dim" if batch else None,
        cost=reduce_cost(name),
    )


def matmul_cost(ins: Sequence[Tensor], outs: Sequence[Tensor]) -> tuple[int, int]:
    """torch.matmul's documented result: each output element is a dot product of length k."""
    macs = outs[0].numel() * ins[0].shape[-1]
    return macs, 2 * macs


@st.composite
def matmul_cases(draw: Draw) -> TensorCase:
    x = draw(shapes(1, 4, 5))
    kind = draw(st.sampled_from(["fits", "fits", "fits", "ones", "other"]))
    if kind == "other":
        y = draw(shapes(1, 4, 5))
    else:
        lead = [1 if kind == "ones" and draw(BOOLS) else n for n in x[:-2]]
        y = (*lead, x[-1], draw(st.integers(1, 5)))
        if kind == "ones":
            x = tuple(1 if draw(BOOLS) else n for n in x[:-2]) + x[-2:]
    rank = len(x) != len(y) or len(x) < 2
    return TensorCase(
        "matmul",
        {},
        [x, y],
        lambda: Fn(torch.matmul),
        deliberate="matmul_rank" if rank else None,
        cost=matmul_cost,
        batches=(1, 2),
    )


def layernorm_cost(affine: bool, bias: bool) -> Oracle:
    """cnncalc's layernorm rule (docs/counting.md), from the real tensor: mean 1, variance 2,
    normalize 2 per element, + 1 for the scale, + 1 for the shift."""

    def cost(ins: Sequence[Tensor], outs: Sequence[Tensor]) -> tuple[int, int]:
        return 0, outs[0].numel() * (5 + affine + (affine and bias))

    return cost


@st.composite
def layernorm2d_cases(draw: Draw) -> TensorCase:
    """torchvision's LayerNorm2d written out: permute → nn.LayerNorm(C) → permute back."""
    shape = draw(weighted((6, shapes(3, 3)), (1, shapes(1, 4))))
    args: dict[str, Any] = {}
    maybe(draw, args, "num_channels", st.sampled_from([shape[0], shape[0], shape[0] + 1]))
    maybe(draw, args, "elementwise_affine", BOOLS)
    maybe(draw, args, "bias", BOOLS)
    maybe(draw, args, "eps", st.sampled_from([0.001, 0.5]))  # YAML reads 1e-06 as text
    c = args.get("num_channels", shape[0])
    affine, bias = args.get("elementwise_affine", True), args.get("bias", True)

    def build() -> nn.Module:
        norm = nn.LayerNorm(c, eps=args.get("eps", 1e-5), elementwise_affine=affine, bias=bias)
        return Fn(lambda x: norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2), norm)

    return TensorCase("layernorm2d", args, [shape], build, cost=layernorm_cost(affine, bias))


MODES = {"nearest": 0, "nearest-exact": 0, "linear": 1, "bilinear": 2, "bicubic": 2}


def upsample_cost(mode: str) -> Oracle:
    """cnncalc's upsample rule (docs/counting.md) from the real tensors: 2 per neighbour read,
    2^d of them (bicubic 4^d), per output element; nearest 0; area as adaptive average pooling,
    whose windows cover n + o − gcd(n, o) input elements per dimension and channel."""

    def cost(ins: Sequence[Tensor], outs: Sequence[Tensor]) -> tuple[int, int]:
        x, y = ins[0], outs[0]
        if mode == "area":
            reads = math.prod(
                n + o - math.gcd(n, o) for n, o in zip(x.shape[2:], y.shape[2:], strict=True)
            )
            return 0, x.shape[0] * x.shape[1] * reads
        d = y.dim() - 2
        per = 0 if mode.startswith("nearest") else 4**d if mode == "bicubic" else 2**d
        return 0, 2 * per * y.numel()

    return cost


@st.composite
def upsample_like_cases(draw: Draw) -> TensorCase:
    """upsample from: [x, like]: the output takes like's spatial size, as
    F.interpolate(x, size=like.shape[2:], mode=...)."""
    mode = draw(st.sampled_from([*MODES, "area"]))
    dims = MODES.get(mode) or draw(st.integers(1, 2))
    x = draw(shapes(dims + 1, dims + 1, 5))
    like = draw(weighted((6, shapes(dims + 1, dims + 1, 9)), (1, shapes(1, 4, 9))))
    args: dict[str, Any] = {"mode": mode}
    corners = None
    if mode not in ("nearest", "nearest-exact", "area") and draw(BOOLS):
        corners = args["align_corners"] = draw(BOOLS)
    extra = draw(st.sampled_from([None, None, None, None, "size", "scale_factor"]))
    if extra is not None:
        args[extra] = 2
    return TensorCase(
        "upsample",
        args,
        [x, like],
        lambda: Fn(
            lambda a, b: F.interpolate(a, size=b.shape[2:], mode=mode, align_corners=corners)
        ),
        deliberate="like_and_size" if extra else None,
        cost=upsample_cost(mode),
    )


def einsum_sizes(eq: str, ins: Sequence[Tensor]) -> dict[str, int]:
    terms = eq.split("->")[0].split(",")
    return {
        c: n
        for t, x in zip(terms, ins, strict=True)
        for c, n in zip(t[1:], x.shape[1:], strict=True)
    }


def einsum_cost(eq: str) -> Oracle:
    """The documented rule: the product of every index's size (per sample) where an index is
    summed, 2 FLOPs each; with none summed, one multiply per output element."""

    def cost(ins: Sequence[Tensor], outs: Sequence[Tensor]) -> tuple[int, int]:
        sizes, out = einsum_sizes(eq, ins), eq.split("->")[1]
        if set(sizes) <= set(out):
            return 0, outs[0].numel()
        macs = ins[0].shape[0] * math.prod(sizes.values())
        return macs, 2 * macs

    return cost


def einsum_counted(eq: str) -> Callable[[Sequence[Tensor], Sequence[Tensor]], int]:
    """FlopCounterMode sees a bmm where a summed index is larger than 1; else torch multiplies
    element-wise, which it does not count."""

    def counted(ins: Sequence[Tensor], outs: Sequence[Tensor]) -> int:
        sizes, out = einsum_sizes(eq, ins), eq.split("->")[1]
        summed = [n for c, n in sizes.items() if c not in out]
        if math.prod(summed) > 1:
            return 2 * ins[0].shape[0] * math.prod(sizes.values())
        return 0

    return counted


@st.composite
def einsum_cases(draw: Draw) -> TensorCase:
    """Two operands over the batch b and some of i, j, k, l: each index in the first operand,
    the second or both, kept in the result or summed; sometimes outside cnncalc's form."""
    letters = draw(st.lists(st.sampled_from("ijkl"), min_size=1, max_size=4, unique=True))
    first, second, out = [], [], []
    for c in letters:
        where = draw(st.sampled_from(["first", "second", "both", "both"]))
        kept = draw(BOOLS) or where != "both"
        first += [c] if where in ("first", "both") else []
        second += [c] if where in ("second", "both") else []
        out += [c] if kept else []
    assume(first and second)  # the spec cannot make a per-sample scalar operand here
    t1, t2 = draw(st.permutations(first)), draw(st.permutations(second))
    o = draw(st.permutations(out))
    eq = f"b{''.join(t1)},b{''.join(t2)}->b{''.join(o)}"
    odd = draw(st.sampled_from([None] * 6 + ["alone", "batch", "twice", "size", "rank"]))
    if odd == "alone":  # the first operand's first index, summed there alone
        o = [c for c in o if c != t1[0]]
        eq = f"b{''.join(t1)},b{''.join(c for c in t2 if c != t1[0])}->b{''.join(o)}"
    moved = odd == "batch" and bool(o)
    if moved:  # the batch last in the result
        eq = eq.split("->")[0] + "->" + "".join(o) + "b"
    if odd == "twice":
        eq = eq.replace(",", t1[0] + ",", 1)
    size = {c: draw(st.integers(1, 4)) for c in "ijkl"}
    terms = eq.split("->")[0].split(",")
    x, y = (tuple(size[c] for c in t[1:]) for t in terms)
    resized = odd == "size" and draw(st.integers(1, 4)) != y[-1]
    if resized:  # the second operand's last index, another size than its own
        y = (*y[:-1], y[-1] % 4 + 1)
    if odd == "rank":
        x = (*x, 2)
    first_only = set(terms[0]) - set(terms[1])
    summed_alone = any(
        c not in eq.split("->")[1] for c in first_only | (set(terms[1]) - set(terms[0]))
    )
    outside = moved or odd == "twice" or resized or summed_alone
    return TensorCase(
        "einsum",
        {"equation": eq},
        [x, y],
        lambda: Fn(lambda a, b: torch.einsum(eq, a, b)),
        deliberate="einsum_form" if outside and odd != "rank" else None,
        cost=einsum_cost(eq),
        batches=(1, 2),
        counted=einsum_counted(eq),
    )


CASES: dict[str, tuple[st.SearchStrategy[TensorCase], int]] = {
    "chunk": (chunk_cases(), 80),
    "split": (split_cases(), 80),
    "unbind": (unbind_cases(), 60),
    "narrow": (narrow_cases(), 80),
    "permute": (permute_cases(), 80),
    "transpose": (transpose_cases(), 60),
    "mean": (reduce_cases("mean"), 60),
    "sum": (reduce_cases("sum"), 60),
    "amax": (reduce_cases("amax"), 60),
    "matmul": (matmul_cases(), 100),
    "einsum": (einsum_cases(), 150),
    "layernorm2d": (layernorm2d_cases(), 60),
}


@pytest.mark.slow
@pytest.mark.parametrize("layer", sorted(CASES))
def test_tensor_layer_agrees_with_torch(layer: str) -> None:
    """Random arguments and inputs: same validity, every output's shape, parameters, buffers,
    MACs and FLOPs as PyTorch (matmul at batch 1 and 2)."""
    strategy, examples = CASES[layer]
    run_all(strategy, examples)


@pytest.mark.slow
def test_upsample_to_a_second_input_agrees_with_torch() -> None:
    run_all(upsample_like_cases(), 120)


# ---- hand-computed counts -----------------------------------------------------------------------


def only_layer(text: str) -> graph.Layer:
    """The layer named `under_test` of a spec."""
    return graph.build(spec.from_text(text, "t.yaml")).by_name["under_test"]


def one_layer(shape: list[int], entry: str) -> graph.Layer:
    return only_layer(f"input: {shape}\nlayers:\n  - {entry}\n    name: under_test\n")


@pytest.mark.parametrize(
    ("shape", "entry", "shapes", "macs", "flops"),
    [
        # ViT-B/16's Q·Kᵀ per head: 12·197·197 outputs, each a dot product of 64.
        ([12, 197, 64], "matmul: {}", [(12, 197, 197)], 29_805_312, 59_610_624),
        # Global average pooling of ConvNeXt-T's last map: 37,632 − 768 adds + 768 divides.
        ([768, 7, 7], "mean: {dim: [2, 3]}", [(768,)], 0, 37_632),
        ([768, 7, 7], "mean: {dim: [-1, -2], keepdim: true}", [(768, 1, 1)], 0, 37_632),
        ([768, 7, 7], "sum: {dim: [2, 3]}", [(768,)], 0, 36_864),
        ([768, 7, 7], "amax: {dim: [2, 3]}", [(768,)], 0, 36_864),
        ([768, 7, 7], "amax: {dim: 1}", [(7, 7)], 0, 37_632 - 49),
        # ConvNeXt-T's stem norm: 7 FLOPs per element (5, + scale, + shift).
        ([96, 56, 56], "layernorm2d: {eps: 0.000001}", [(96, 56, 56)], 0, 2_107_392),
        ([96, 56, 56], "layernorm2d: {bias: false}", [(96, 56, 56)], 0, 301_056 * 6),
        # chunk keeps PyTorch's rule: pieces of ⌈6 / 4⌉ = 2, so 3 of them, not 4.
        ([6, 5], "chunk: {chunks: 4, dim: 1}", [(2, 5)] * 3, 0, 0),
        ([7, 5], "chunk: {chunks: 3, dim: 1}", [(3, 5), (3, 5), (1, 5)], 0, 0),
        ([7, 5], "split: {split_size_or_sections: 3, dim: -2}", [(3, 5), (3, 5), (1, 5)], 0, 0),
        ([7, 5], "split: {split_size_or_sections: [1, 4], dim: 2}", [(7, 1), (7, 4)], 0, 0),
        ([2, 3, 4], "unbind: {dim: 2}", [(2, 4)] * 3, 0, 0),
        ([2, 10], "narrow: {dim: 2, start: -4, length: 3}", [(2, 3)], 0, 0),
        ([2, 3, 4], "permute: {dims: [0, 2, 3, 1]}", [(3, 4, 2)], 0, 0),
        ([2, 3, 4], "transpose: {dim0: -1, dim1: 1}", [(4, 3, 2)], 0, 0),
    ],
)
def test_counts_by_hand(
    shape: list[int], entry: str, shapes: list[Shape], macs: int, flops: int
) -> None:
    """matmul from one input and its own transpose where the entry says `matmul`."""
    if entry.startswith("matmul"):
        layer = only_layer(
            f"input: {shape}\nlayers:\n  - transpose: {{dim0: 2, dim1: 3}}\n    name: kt\n"
            "  - matmul: {}\n    from: [input, kt]\n    name: under_test\n"
        )
    else:
        layer = one_layer(shape, entry)
    assert layer.result.shapes == tuple(shapes)
    assert (layer.cost.macs, layer.cost.flops) == (macs, flops)


@pytest.mark.parametrize(
    ("equation", "shapes", "macs", "flops"),
    [
        # ViT-B/16's Q·Kᵀ (12 heads, 197 tokens, 64 per head) and A·V: the matmul figures.
        ("bhid,bhjd->bhij", [(12, 197, 197)], 29_805_312, 59_610_624),
        ("b h i d , b h j d -> b h j i", [(12, 197, 197)], 29_805_312, 59_610_624),
        # Nothing summed: an element-wise product, as `multiply` counts it.
        ("bhid,bhid->bhid", [(12, 197, 64)], 0, 12 * 197 * 64),
    ],
)
def test_einsum_by_hand(equation: str, shapes: list[Shape], macs: int, flops: int) -> None:
    layer = only_layer(
        "input: [12, 197, 64]\nlayers:\n"
        f"  - einsum: {{equation: '{equation}'}}\n    from: [input, input]\n    name: under_test\n"
    )
    assert layer.result.shapes == tuple(shapes)
    assert (layer.cost.macs, layer.cost.flops) == (macs, flops)


def test_layernorm2d_parameters_are_one_per_channel() -> None:
    assert one_layer([96, 56, 56], "layernorm2d: {}").result.params == {"weight": 96, "bias": 96}
    assert one_layer([96, 56, 56], "layernorm2d: {elementwise_affine: false}").result.params == {}


def test_views_take_no_activation_memory() -> None:
    """A piece of chunk, or a permuted view, is a view of its input: no new memory."""
    from cnncalc.layers import TYPES

    for name in ("chunk", "split", "unbind", "narrow", "permute", "transpose"):
        assert TYPES[name].in_place({}), name
    for name in ("mean", "sum", "amax", "matmul", "layernorm2d"):
        assert not TYPES[name].in_place({}), name


@pytest.mark.parametrize(
    ("entry", "rank", "axes"),
    [
        ({"dims": [0, 2, 3, 1]}, 3, (1, 2, 0)),
        ({"dims": [0, -1, 1, 2]}, 3, (2, 0, 1)),
        ({"dims": [-4, 1, 2, 3]}, 3, (0, 1, 2)),
        ({"dim0": 1, "dim1": 3}, 3, (2, 1, 0)),
        ({"dim0": -1, "dim1": -2}, 2, (1, 0)),
        ({"dim0": 2, "dim1": 2}, 2, (0, 1)),
    ],
)
def test_axes_give_the_per_sample_permutation(entry: dict[str, Any], rank: int, axes: Any) -> None:
    """Output axis i is input axis axes[i]; the same as torch's permute of a labelled tensor."""
    from cnncalc.layers import TYPES

    name = "permute" if "dims" in entry else "transpose"
    t = TYPES[name]
    assert t.axes(entry, rank) == axes  # type: ignore[attr-defined]
    x = torch.arange(math.prod(range(2, rank + 2))).reshape(1, *range(2, rank + 2))
    y = x.permute(*entry["dims"]) if "dims" in entry else x.transpose(entry["dim0"], entry["dim1"])
    assert tuple(y.shape[1:]) == tuple(x.shape[1 + j] for j in axes)
    rule = t.receptive(entry, [tuple(x.shape[1:])], tuple(y.shape[1:]))
    assert rule == ("identity" if axes == tuple(range(rank)) else Moved(axes))


# ---- receptive fields of pieces: a piece's unit o is the input's unit o + offset ----------------


@pytest.mark.parametrize(
    "entry",
    [
        "chunk: {chunks: 3, dim: 3}",
        "chunk: {chunks: 2, dim: -2}",
        "split: {split_size_or_sections: [2, 1, 4], dim: 3}",
        "split: {split_size_or_sections: 2, dim: 2}",
        "narrow: {dim: 3, start: -5, length: 2}",
        "narrow: {dim: 2, start: 1, length: 4}",
        "chunk: {chunks: 2, dim: 1}",
    ],
)
def test_a_piece_sees_the_input_units_it_holds(entry: str) -> None:
    """Number every input unit, cut as torch does, and read which input unit each output unit
    holds: each output's rule must name exactly that unit, along every spatial axis."""
    shape = (4, 5, 7)
    layer = one_layer(list(shape), entry)
    kind = entry.split(":", 1)[0]
    x = torch.arange(math.prod(shape)).reshape(1, *shape)
    raw = dict(layer.args)
    if kind == "chunk":
        pieces: Sequence[Tensor] = torch.chunk(x, raw["chunks"], raw["dim"])
    elif kind == "split":
        size = raw["split_size_or_sections"]
        pieces = torch.split(x, list(size) if isinstance(size, tuple) else size, raw["dim"])
    else:
        pieces = [torch.narrow(x, raw["dim"], raw["start"], raw["length"])]
    assert len(pieces) == len(layer.rules)
    for piece, rule in zip(pieces, layer.rules, strict=True):
        if rule == "identity":  # cut along the channels: every place is the input's own
            assert raw["dim"] == 1
            continue
        assert isinstance(rule, tuple) and len(rule) == 2
        for d, span in enumerate(rule):  # spatial axis d: dims 2, 3 with the batch
            for o in range(piece.shape[2 + d]):
                index = [0, 0, 0]
                index[1 + d] = o
                value = int(piece[0][tuple(index)])
                held = (
                    value // (shape[1] * shape[2]),
                    value // shape[2] % shape[1],
                    value % shape[2],
                )
                assert list(span.taps(o)) == [held[1 + d]], (entry, d, o)


# ---- errors: located, naming the rule and the misfit --------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "input: [4, 6]\nlayers:\n  - chunk: {chunks: 2, dim: 0}\n",
            "t.yaml:3:29: layer 'chunk_1': dim 0 is the batch dimension; name a dimension from"
            " 1 to 2",
        ),
        (
            "input: [4, 6]\nlayers:\n  - split: {split_size_or_sections: [2, 3], dim: 2}\n",
            "t.yaml:3:37: layer 'split_1': split_size_or_sections [2, 3] adds up to 5, the"
            " dimension is 6",
        ),
        (
            "input: [4, 6]\nlayers:\n  - narrow: {dim: 2, start: 4, length: 3}\n",
            "t.yaml:3:40: layer 'narrow_1': start 4 + length 3 runs past the dimension's 6",
        ),
        (
            "input: [4, 6]\nlayers:\n  - narrow: {dim: -1, start: -7, length: 1}\n",
            "t.yaml:3:30: layer 'narrow_1': start -7 is out of range for a dimension of 6"
            " (-6 to 6)",
        ),
        (
            "input: [4, 6]\nlayers:\n  - permute: {dims: [1, 0, 2]}\n",
            "t.yaml:3:21: layer 'permute_1': dims must keep the batch (0) first, got [1, 0, 2]:"
            " shapes stay per-sample",
        ),
        (
            "input: [4, 6]\nlayers:\n  - permute: {dims: [0, 2]}\n",
            "t.yaml:3:21: layer 'permute_1': dims lists 2 dimensions; the input has 3 with the"
            " batch",
        ),
        (
            "input: [4, 6]\nlayers:\n  - mean: {dim: [1, -2]}\n",
            "t.yaml:3:17: layer 'mean_1': dim names dimension 1 twice",
        ),
        (
            "input: [4, 6]\nlayers:\n  - sum: {dim: []}\n",
            "t.yaml:3:16: layer 'sum_1': dim must not be an empty list: PyTorch reads dim: []"
            " as every dimension, the batch too",
        ),
        (
            "input: [4, 6]\nlayers:\n  - unbind: {dim: 2}\n    name: u\n"
            "  - matmul: {}\n    from: [input, u]\n",
            "t.yaml:5:5: layer 'matmul_1': matmul takes two inputs of the same rank, at least"
            " 2-d without the batch (with the batch in front of both, PyTorch would otherwise"
            " read it as a matrix dimension), got 4×6 (2-d) and 4 (1-d)",
        ),
        (
            "input: [4, 6]\nlayers:\n  - matmul: {}\n    from: [input, input]\n",
            "t.yaml:3:5: layer 'matmul_1': matmul contracts the last dimension of the first"
            " input (6) with the second-to-last of the second (4); they differ: [4×6] · [4×6]",
        ),
        (
            "input: [2, 4, 6]\nlayers:\n  - transpose: {dim0: 2, dim1: 3}\n    name: t\n"
            "  - concat: {dim: 1}\n    from: [t, t, t]\n    name: t3\n"
            "  - matmul: {}\n    from: [input, t3]\n",
            "t.yaml:8:5: layer 'matmul_1': matmul broadcasts the leading dimensions, equal or"
            " 1, but dim 1 is 2 and 6: [2×4×6] · [6×6×4]",
        ),
        (
            "input: [4, 6]\nlayers:\n  - einsum: {equation: 'bij,bjk->ik'}\n"
            "    from: [input, input]\n",
            "t.yaml:3:24: layer 'einsum_1': equation must name the batch first in both operands"
            " and in the result, got bij,bjk->ik",
        ),
        (
            "input: [4, 6]\nlayers:\n  - einsum: {equation: 'bij,bkl->bik'}\n"
            "    from: [input, input]\n",
            "t.yaml:3:24: layer 'einsum_1': equation sums index 'j', which only one operand"
            " has: sum it first (sum)",
        ),
        (
            "input: [4, 6]\nlayers:\n  - einsum: {equation: 'bij,bjk->bik'}\n"
            "    from: [input, input]\n",
            "t.yaml:3:24: layer 'einsum_1': index 'j' is 6 in the first operand and 4 in the"
            " second (cnncalc does not broadcast einsum's size-1 indices)",
        ),
        (
            "input: [2, 4, 6]\nlayers:\n  - layernorm2d: {num_channels: 3}\n",
            "t.yaml:3:33: layer 'layernorm2d_1': num_channels is 3 but the input has 2 channels",
        ),
        (
            "input: [2, 4, 6]\nlayers:\n  - flatten:\n    name: f\n"
            "  - upsample: {}\n    from: [input, f]\n",
            "t.yaml:5:5: layer 'upsample_1': the second input 48 (1-d) must have the rank of the"
            " first, 2×4×6 (3-d), to lend its spatial size",
        ),
        (
            "input: [2, 4, 6]\nlayers:\n  - upsample: {size: 8}\n    from: [input, input]\n",
            "t.yaml:3:22: layer 'upsample_1': with a second input the output takes its spatial"
            " size: give no size",
        ),
    ],
)
def test_errors_are_located_and_say_why(tmp_path: Any, text: str, message: str) -> None:
    path = write_spec(tmp_path, text, "t.yaml")
    result = run("summarize", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == message.replace("t.yaml", path)


@pytest.mark.parametrize(
    ("shape", "entry", "arg"),
    [
        ([2, MAX_OUTPUTS + 1], "unbind: {dim: 2}", "dim"),
        ([2, 5000], "chunk: {chunks: 5000, dim: -1}", "chunks"),
        ([2, 5000], "split: {split_size_or_sections: 2, dim: 2}", "split_size_or_sections"),
    ],
)
def test_too_many_outputs_is_an_error(shape: list[int], entry: str, arg: str) -> None:
    with pytest.raises(SpecError) as err:
        one_layer(shape, entry)
    assert f"a layer makes at most {MAX_OUTPUTS:,} (see {arg})" in str(err.value)


def test_as_many_outputs_as_allowed_is_fine() -> None:
    layer = one_layer([2, MAX_OUTPUTS], "unbind: {dim: 2}")
    assert len(layer.result.shapes) == MAX_OUTPUTS


def test_upsample_to_a_second_input_by_hand() -> None:
    """FPN's top-down path: a 13×13 map resized to its 25×25 neighbour, channels its own."""
    layer = only_layer(
        "input: [8, 25, 25]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 3, stride: 2}\n"
        "    name: c\n  - upsample: {mode: bilinear}\n    from: [c, input]\n    name: under_test\n"
    )
    assert layer.shape == (4, 25, 25)
    assert layer.cost.flops == 2 * 4 * 4 * 25 * 25


def test_explain_shows_the_work() -> None:
    path_text = (
        "input: [12, 197, 64]\nlayers:\n  - transpose: {dim0: 2, dim1: 3}\n    name: kt\n"
        "  - matmul: {}\n    from: [input, kt]\n  - mean: {dim: [2, 3]}\n"
        "  - chunk: {chunks: 5, dim: 1}\n"
    )
    from cnncalc import explaining

    g = graph.build(spec.from_text(path_text, "t.yaml"))
    ex = explaining.explain(g, flops=True)
    by = {x.name: x for x in ex.layers}
    assert by["kt"].shape_formulas == (
        "[12×197×64] → [12×64×197]: dims 1, 2, 3 are input dims 1, 3, 2",
    )
    assert by["matmul_1"].shape_formulas == (
        "[12×197×64] · [12×64×197] → [12×197×197], contracting 64",
    )
    assert by["matmul_1"].macs.formula == "12·197·197 · 64"  # type: ignore[union-attr]
    assert by["mean_1"].shape_formulas == (
        "reduces over H (dim 2), W (dim 3): 197·197 values per output",
    )
    assert by["chunk_1"].shape_formulas == (
        "along features (dim 1): pieces of ⌈12 / 5⌉ = 3: 4 of 3",
    )
