"""Property tests: every layer type agrees with the real PyTorch layer.

For random arguments and input shapes, cnncalc — through its public path, YAML text →
`spec.from_text` → `graph.build` — and a PyTorch module built by hand from the same argument
values must agree: either both accept, with the same output shape (without the batch), parameter
count and buffer count, or both reject (torch raises, cnncalc raises SpecError).

The generators deliberately produce invalid arguments too (kernels larger than the input, bad
groups, too much pool padding, output_padding ≥ stride, dims out of range, ...).

Where cnncalc differs from PyTorch on purpose, the case carries a key of DELIBERATE and the test
checks the documented behaviour instead (cnncalc rejects); where cnncalc deliberately accepts
more (LENIENT), torch is built from the equivalent value. Two general rules:

- torch producing an empty tensor (a size-0 dimension) counts as a rejection: cnncalc's shapes
  are positive, like its input sizes;
- batch and group norm run on a batch of 2, so that PyTorch's "more than 1 value per channel"
  check, which depends on the batch size and not on the layer, cannot fire; everything else
  uses batch 1 (merges are also checked with a batch of 2, separately).

At the end, DISAGREEMENTS lists a minimal reproduction of every disagreement the properties found.
"""

from __future__ import annotations

import functools
import json
import math
import operator
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from torch import nn

from cnncalc import graph, spec
from cnncalc.errors import SpecError
from cnncalc.layers import TYPES

Shape = tuple[int, ...]
Draw = st.DrawFn

# Why cnncalc rejects something PyTorch may accept. Each reason points at cnncalc's code or docs.
DELIBERATE: dict[str, str] = {
    "batch_dim": "a dimension argument names the batch (dim 0); docs/spec-format.md: 'The batch"
    " dimension itself cannot be named'",
    "rank": "the input rank is not the one the layer documents ([C, *spatial]); with a batch"
    " prepended, PyTorch would read a tensor one rank short as an unbatched input, and"
    " some functions (constant pads, pixel shuffle) take extra leading dims as batch",
    "inferred_mismatch": "an inferred size (num_features, num_channels, ...) is given and does"
    " not match the input; docs: 'when given they are checked against it',"
    " even where PyTorch never looks at it (no affine, no running stats)",
    "per_dim_length": "a per-dimension list must have one value per spatial dimension"
    " (base.per_dim); PyTorch's pooling and transposed convolutions also"
    " take a 1-element list",
    "pad_length": "padding lists must have 1 or 2·dims values (shape.Pad); F.pad quietly pads"
    " fewer dimensions when given fewer values",
    "same_ceil": "pooling with padding 'same' and ceil_mode is rejected (pool.py: the output is"
    " already ⌈input/stride⌉); 'same' is a cnncalc extension for pooling",
    "merge_rank": "add/multiply inputs of different ranks (merge.broadcast): PyTorch aligns the"
    " shorter input's trailing dimensions with the batch, which is right only for"
    " a batch of one",
    "circular_negative": "negative circular padding is rejected (shape.Pad); PyTorch accepts"
    " some of it but fails on other combinations with internal aliasing"
    " errors, e.g. CircularPad1d((-2, 2)) on a length of 3",
}

# Where cnncalc accepts what PyTorch rejects, on purpose: the torch module is then built from the
# equivalent value PyTorch takes, and the results must agree.
LENIENT: dict[str, str] = {
    "pad_one": "a 1-element padding list is the same as the int (shape.Pad); PyTorch's F.pad"
    " needs an even length",
    "upsample_one": "size / scale_factor lists may hold 1 value for every dimension"
    " (shape._per_dim); PyTorch needs one per spatial dimension",
}

TRAIN_DIFFERS = (nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm)

TORCH_ERRORS = (
    RuntimeError,
    ValueError,
    TypeError,
    AssertionError,
    NotImplementedError,
    IndexError,
)

FLOATS = st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5, 3.0])
BOOLS = st.booleans()


# ---- the two sides ------------------------------------------------------------------------------


@dataclass
class Case:
    """One layer to compute both ways: cnncalc from YAML, torch from `build`."""

    layer: str
    args: dict[str, Any]
    inputs: list[Shape]  # batch-less shapes; merges have several
    build: Callable[[], nn.Module] = field(repr=False)
    dtype: torch.dtype = torch.float32
    batch: int = 1
    deliberate: str | None = None  # a DELIBERATE key: cnncalc must reject
    lenient: str | None = None  # a LENIENT key: torch is built from the equivalent value

    def yaml(self) -> str:
        """The spec: the input shape and one entry with the arguments (merges: several inputs)."""
        entry = f"  - {self.layer}: {json.dumps(self.args)}\n    name: under_test\n"
        if len(self.inputs) == 1:
            return f"input: {json.dumps(list(self.inputs[0]))}\nlayers:\n{entry}"
        # Each merge input gets its own branch from a [1] input: linear to the element count,
        # then reshape to the wanted shape.
        lines = ["input: [1]", "layers:"]
        for i, shape in enumerate(self.inputs):
            lines += [
                f"  - linear: {{out_features: {math.prod(shape)}}}",
                "    from: input",
                f"  - reshape: {{shape: {json.dumps(list(shape))}}}",
                f"    name: in{i}",
            ]
        names = [f"in{i}" for i in range(len(self.inputs))]
        return "\n".join(lines) + f"\n{entry}    from: {json.dumps(names)}\n"


class Fn(nn.Module):
    """A module around a function (reshape, merges, explicit padding), keeping `children`."""

    def __init__(self, fn: Callable[..., torch.Tensor], *children: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        self.children_ = nn.ModuleList(children)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return self.fn(*xs)


@dataclass
class TorchOutcome:
    shape: Shape | None = None
    params: dict[str, int] = field(default_factory=dict)  # elements per tensor name
    buffers: dict[str, int] = field(default_factory=dict)
    error: BaseException | None = None
    warned: list[str] = field(default_factory=list)  # torch's warnings, shown on failure
    module: str = ""
    batch: int = 1  # the output's first dimension


def run_torch(case: Case) -> TorchOutcome:
    """Build the module and run it on zeros with a batch; errors and warnings are recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            module = case.build()
            module.eval()
            xs = [torch.zeros(case.batch, *s, dtype=case.dtype) for s in case.inputs]
            with torch.no_grad():
                out = module(*xs)
                if isinstance(module, TRAIN_DIFFERS):
                    # A spec describes a network to train: where PyTorch's training mode is
                    # stricter (batch norm eps 0, instance norm over one element), it rules.
                    module.train()
                    module(
                        *[
                            torch.zeros(max(case.batch, 2), *s, dtype=case.dtype)
                            for s in case.inputs
                        ]
                    )
        except TORCH_ERRORS as err:
            return TorchOutcome(error=err)
    if isinstance(out, tuple):  # return_indices
        out = out[0]
    return TorchOutcome(
        tuple(out.shape[1:]),
        _tensors(module.named_parameters()),
        _tensors(module.named_buffers()),
        warned=[str(w.message) for w in caught],
        module=repr(module),
        batch=out.shape[0],
    )


def _tensors(named: Iterator[tuple[str, torch.Tensor]]) -> dict[str, int]:
    """Elements per tensor name, the module path dropped (a wrapper's 'children_.0.weight' is
    'weight'); num_batches_tracked is a step counter, not a statistic, and is not counted."""
    sizes: dict[str, int] = {}
    for name, t in named:
        short = name.rsplit(".", 1)[-1]
        if short != "num_batches_tracked":
            sizes[short] = sizes.get(short, 0) + t.numel()
    return sizes


def run_cnncalc(case: Case) -> tuple[Shape, dict[str, int], dict[str, int]] | SpecError:
    """Shape, parameter and buffer tensor sizes by name of the layer under test, or the
    SpecError. A tensor the layer does not have (bias: false) is absent, as in PyTorch."""
    try:
        g = graph.build(spec.from_text(case.yaml(), "t.yaml"))
    except SpecError as err:
        return err
    layer = g.by_name["under_test"]
    return (
        layer.shape,
        {k: n for k, n in layer.result.params.items() if n},
        {k: n for k, n in layer.result.buffers.items() if n},
    )


def check(case: Case) -> None:
    """cnncalc and torch accept and agree, or both reject (or cnncalc rejects on purpose)."""
    ours = run_cnncalc(case)
    torch_ = run_torch(case)
    where = f"\n--- spec ---\n{case.yaml()}--- torch (batch {case.batch}) ---\n"
    where += f"{torch_.error!r}" if torch_.error else f"{torch_.module} -> {torch_.shape}"
    where += "".join(f"\ntorch warns: {w}" for w in torch_.warned)
    if case.lenient is not None:
        where += f"\n(torch built from the equivalent value: {LENIENT[case.lenient]})"
    if case.deliberate is not None:
        assert isinstance(ours, SpecError), (
            f"cnncalc accepts ({ours}) but should reject: {DELIBERATE[case.deliberate]}{where}"
        )
        return
    if torch_.error is not None:
        assert isinstance(ours, SpecError), f"torch rejects, cnncalc accepts: {ours}{where}"
        return
    assert torch_.shape is not None
    assert torch_.batch == case.batch, f"torch changed the batch dimension{where}"
    if 0 in torch_.shape:
        assert isinstance(ours, SpecError), (
            f"torch makes an empty tensor, cnncalc accepts: {ours}{where}"
        )
        return
    assert not isinstance(ours, SpecError), f"torch accepts, cnncalc rejects: {ours}{where}"
    assert ours == (torch_.shape, torch_.params, torch_.buffers), (
        f"(shape, params, buffers): cnncalc {ours}, torch"
        f" {(torch_.shape, torch_.params, torch_.buffers)}{where}"
    )


# ---- shared helpers -----------------------------------------------------------------------------


def weighted(*options: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, chosen with the given integer weights."""
    pool = [s for w, s in options for _ in range(w)]
    return st.sampled_from(pool).flatmap(lambda s: s)


def as_torch(v: Any) -> Any:
    """YAML lists become the tuples PyTorch's constructors expect."""
    return tuple(as_torch(x) for x in v) if isinstance(v, list) else v


def torch_kwargs(args: dict[str, Any], *drop: str) -> dict[str, Any]:
    return {k: as_torch(v) for k, v in args.items() if k not in drop}


def expand(v: int | list[int], dims: int) -> tuple[int, ...] | None:
    """An int-or-list argument as one value per dimension; None when the list length is wrong."""
    if isinstance(v, list):
        return tuple(v) if len(v) == dims else None
    return (v,) * dims


def per_dim(dims: int, lo: int, hi: int, *, zero: bool = False) -> st.SearchStrategy[Any]:
    """An int or a list of `dims` ints; rarely a list of the wrong length (or a 0 with `zero`)."""
    one = st.integers(lo, hi)
    bad_len = st.lists(one, min_size=1, max_size=4).filter(lambda v: len(v) != dims)
    return weighted(
        (6, one),
        (6, st.lists(one, min_size=dims, max_size=dims)),
        (1, bad_len),
        *([(1, st.just(0))] if zero else []),
    )


def per_dim_length_ok(args: dict[str, Any], dims: int, *names: str) -> bool:
    return all(expand(args[n], dims) is not None for n in names if n in args)


def as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def spatial_sizes(dims: int, count: int) -> st.SearchStrategy[list[int]]:
    hi = {1: 16, 2: 10, 3: 6}[min(dims, 3)]
    return st.lists(st.integers(1, hi), min_size=count, max_size=count)


def draw_rank(draw: Draw, rank: int) -> int:
    """Mostly the right rank; sometimes one more or one less (when that leaves a channel)."""
    wrong = [r for r in (rank - 1, rank + 1) if r >= 1]
    drawn: int = draw(weighted((8, st.just(rank)), (1, st.sampled_from(wrong))))
    return drawn


def draw_inferred(draw: Draw, actual: int) -> int | None:
    """An inferred size as written in a spec: left out, equal to the input's, or wrong."""
    kind = draw(st.sampled_from(["omit", "omit", "omit", "same", "wrong"]))
    if kind == "omit":
        return None
    if kind == "same":
        return actual
    return draw(st.integers(1, 9).filter(lambda v: v != actual))


def maybe(draw: Draw, args: dict[str, Any], name: str, strategy: st.SearchStrategy[Any]) -> None:
    """Put a drawn value for `name` into args, or leave it out to use the default."""
    if draw(BOOLS):
        args[name] = draw(strategy)


def tf_same_pads(
    spatial: Sequence[int], kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> list[int]:
    """TensorFlow's 'same' padding as an F.pad list (last dim first): output ⌈in/s⌉, odd pixel
    on the right."""
    pads: list[int] = []
    for n, k, s, d in reversed(list(zip(spatial, kernel, stride, dilation, strict=True))):
        out = -(-n // s)
        total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
        pads += [total // 2, total - total // 2]
    return pads


# ---- convolutions -------------------------------------------------------------------------------

CONV_CLASSES: dict[str, type[nn.Module]] = {
    "conv1d": nn.Conv1d,
    "conv2d": nn.Conv2d,
    "conv3d": nn.Conv3d,
    "convtranspose1d": nn.ConvTranspose1d,
    "convtranspose2d": nn.ConvTranspose2d,
    "convtranspose3d": nn.ConvTranspose3d,
}
PAD_MODES = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "replicate",
    "circular": "circular",
}


@st.composite
def conv_cases(draw: Draw, dims: int, transposed: bool) -> Case:
    """ConvNd / ConvTransposeNd with random stride, padding, dilation, groups, bias, ..."""
    name = f"conv{'transpose' if transposed else ''}{dims}d"
    rank = draw_rank(draw, dims + 1)
    c = draw(st.integers(1, 8))
    shape = (c, *draw(spatial_sizes(dims, rank - 1)))
    groups = draw(st.sampled_from([1, 1, 2, 3, 4, c]))
    out = draw(st.one_of(st.integers(1, 8), st.integers(1, 3).map(lambda m: m * groups)))
    args: dict[str, Any] = {
        "out_channels": out,
        "kernel_size": draw(per_dim(dims, 1, 4 if transposed else 5)),
    }
    maybe(draw, args, "stride", per_dim(dims, 1, 3, zero=True))
    if transposed:
        maybe(draw, args, "padding", weighted((9, per_dim(dims, 0, 3)), (1, st.just("same"))))
        maybe(draw, args, "output_padding", per_dim(dims, 0, 3))
        maybe(draw, args, "padding_mode", st.sampled_from(["zeros", "zeros", "reflect"]))
    else:
        maybe(
            draw,
            args,
            "padding",
            weighted((6, per_dim(dims, 0, 3)), (3, st.sampled_from(["same", "valid"]))),
        )
        maybe(draw, args, "padding_mode", st.sampled_from(list(PAD_MODES)))
    maybe(draw, args, "dilation", per_dim(dims, 1, 3))
    if groups != 1 or draw(BOOLS):
        args["groups"] = groups
    maybe(draw, args, "bias", BOOLS)
    in_channels = draw_inferred(draw, c)
    if in_channels is not None:
        args["in_channels"] = in_channels
    cls = CONV_CLASSES[name]

    def build() -> nn.Module:
        kwargs = torch_kwargs(args, "in_channels")
        cin = in_channels or c
        stride = expand(args.get("stride", 1), dims)
        if (
            args.get("padding") == "same"
            and not transposed
            and stride is not None
            and min(stride) >= 1
            and max(stride) > 1
            and args.get("padding_mode", "zeros") in PAD_MODES
            and per_dim_length_ok(args, dims, "kernel_size", "dilation")
        ):
            # PyTorch has 'same' only for stride 1: pad explicitly, TensorFlow's way.
            kernel = expand(args["kernel_size"], dims)
            dilation = expand(args.get("dilation", 1), dims)
            assert kernel is not None and dilation is not None
            pads = tf_same_pads(shape[1:], kernel, stride, dilation)
            mode = PAD_MODES[args.get("padding_mode", "zeros")]
            conv = cls(in_channels=cin, **{**kwargs, "padding": 0, "padding_mode": "zeros"})
            return Fn(lambda x: conv(F.pad(x, pads, mode=mode)), conv)
        return cls(in_channels=cin, **kwargs)

    deliberate = None
    if rank != dims + 1:
        deliberate = "rank"
    elif not per_dim_length_ok(
        args, dims, "kernel_size", "stride", "padding", "output_padding", "dilation"
    ):
        deliberate = "per_dim_length"
    return Case(name, args, [shape], build, deliberate=deliberate)


# ---- pooling ------------------------------------------------------------------------------------


@st.composite
def pool_cases(draw: Draw, kind: str, dims: int) -> Case:
    """MaxPoolNd / AvgPoolNd with padding (ints, 'same', 'valid'), ceil_mode, dilation, ..."""
    name = f"{kind}pool{dims}d"
    rank = draw_rank(draw, dims + 1)
    shape = (draw(st.integers(1, 4)), *draw(spatial_sizes(dims, rank - 1)))
    args: dict[str, Any] = {"kernel_size": draw(per_dim(dims, 1, 5))}
    maybe(draw, args, "stride", weighted((8, per_dim(dims, 1, 4, zero=True)), (1, st.none())))
    maybe(
        draw,
        args,
        "padding",
        weighted((6, per_dim(dims, 0, 3)), (2, st.sampled_from(["same", "valid"]))),
    )
    maybe(draw, args, "ceil_mode", BOOLS)
    if kind == "max":
        maybe(draw, args, "dilation", per_dim(dims, 1, 3))
        maybe(draw, args, "return_indices", BOOLS)
    else:
        maybe(draw, args, "count_include_pad", BOOLS)
        if dims > 1:
            maybe(draw, args, "divisor_override", st.one_of(st.none(), st.integers(0, 4)))
    cls = getattr(nn, f"{kind.capitalize()}Pool{dims}d")
    padding = args.get("padding", 0)

    def build() -> nn.Module:
        kwargs = torch_kwargs(args)
        if padding == "valid":
            kwargs["padding"] = 0
        if padding != "same":
            module: nn.Module = cls(**kwargs)
            return module
        # 'same' pooling, TensorFlow's way: explicit zero padding, then no implicit padding.
        pool: nn.Module = cls(**{**kwargs, "padding": 0})
        kernel = expand(args["kernel_size"], dims)
        given_stride = args.get("stride")
        stride = expand(args["kernel_size"] if given_stride is None else given_stride, dims)
        dilation = expand(args.get("dilation", 1), dims)
        assert kernel is not None and stride is not None and dilation is not None
        if min(stride) < 1:
            return pool  # torch rejects the stride itself
        pads = tf_same_pads(shape[1:], kernel, stride, dilation)
        return Fn(lambda x: pool(F.pad(x, pads)), pool)

    deliberate = None
    if rank != dims + 1:
        deliberate = "rank"
    elif not per_dim_length_ok(args, dims, "kernel_size", "stride", "padding", "dilation"):
        deliberate = "per_dim_length"  # also keeps the 'same' emulation above well-defined
    elif padding == "same" and args.get("ceil_mode"):
        deliberate = "same_ceil"
    return Case(name, args, [shape], build, deliberate=deliberate)


@st.composite
def adaptive_pool_cases(draw: Draw, kind: str, dims: int) -> Case:
    """AdaptiveAvg/MaxPoolNd; output_size an int or a list with null (keep that size)."""
    name = f"adaptive{kind}pool{dims}d"
    rank = draw_rank(draw, dims + 1)
    shape = (draw(st.integers(1, 4)), *draw(spatial_sizes(dims, rank - 1)))
    size = st.integers(1, 8)
    args: dict[str, Any] = {
        "output_size": draw(
            weighted(
                (4, size),
                (4, st.lists(weighted((3, size), (1, st.none())), min_size=dims, max_size=dims)),
                (1, st.lists(size, min_size=1, max_size=4).filter(lambda v: len(v) != dims)),
            )
        )
    }
    if kind == "max":
        maybe(draw, args, "return_indices", BOOLS)
    cls = getattr(nn, f"Adaptive{kind.capitalize()}Pool{dims}d")
    return Case(
        name,
        args,
        [shape],
        lambda: cls(**torch_kwargs(args)),
        deliberate="rank" if rank != dims + 1 else None,
    )


# ---- normalization ------------------------------------------------------------------------------


@st.composite
def batchnorm_cases(draw: Draw, dims: int) -> Case:
    """BatchNormNd: affine and running statistics; run on a batch of 2."""
    rank = draw(st.sampled_from({1: [1, 2, 2, 3], 2: [2, 3, 3, 3, 4], 3: [3, 4, 4, 4, 5]}[dims]))
    c = draw(st.integers(1, 8))
    shape = (c, *draw(spatial_sizes(dims, rank - 1)))
    args: dict[str, Any] = {}
    maybe(draw, args, "affine", BOOLS)
    maybe(draw, args, "track_running_stats", BOOLS)
    maybe(draw, args, "eps", st.sampled_from([0.0, 0.001, 0.1]))
    maybe(draw, args, "momentum", st.sampled_from([None, 0.0, 0.1, 1.0]))
    given_c = draw_inferred(draw, c)
    if given_c is not None:
        args["num_features"] = given_c
    cls = getattr(nn, f"BatchNorm{dims}d")
    deliberate = None
    if (
        given_c not in (None, c)
        and not args.get("affine", True)
        and not args.get("track_running_stats", True)
    ):
        deliberate = "inferred_mismatch"  # no tensor of that size: torch cannot notice
    return Case(
        f"batchnorm{dims}d",
        args,
        [shape],
        lambda: cls(**{"num_features": c, **torch_kwargs(args)}),
        batch=2,
        deliberate=deliberate,
    )


@st.composite
def instancenorm_cases(draw: Draw, dims: int) -> Case:
    """InstanceNormNd, including single-element spatial inputs."""
    rank = draw_rank(draw, dims + 1)
    c = draw(st.integers(1, 8))
    shape = (c, *draw(spatial_sizes(dims, rank - 1)))
    args: dict[str, Any] = {}
    maybe(draw, args, "affine", BOOLS)
    maybe(draw, args, "track_running_stats", BOOLS)
    maybe(draw, args, "eps", st.sampled_from([0.0, 0.001]))
    maybe(draw, args, "momentum", st.sampled_from([None, 0.1]))
    given_c = draw_inferred(draw, c)
    if given_c is not None:
        args["num_features"] = given_c
    cls = getattr(nn, f"InstanceNorm{dims}d")
    deliberate = None
    if rank != dims + 1:
        deliberate = "rank"
    elif (
        given_c not in (None, c)
        and not args.get("affine", False)
        and not args.get("track_running_stats", False)
    ):
        deliberate = "inferred_mismatch"  # torch only warns
    return Case(
        f"instancenorm{dims}d",
        args,
        [shape],
        lambda: cls(**{"num_features": c, **torch_kwargs(args)}),
        deliberate=deliberate,
    )


@st.composite
def groupnorm_cases(draw: Draw) -> Case:
    """GroupNorm on inputs [C], [C, L], [C, H, W], ...; num_groups dividing C or not."""
    c = draw(st.integers(1, 8))
    shape = (c, *draw(st.lists(st.integers(1, 5), max_size=3)))
    groups = draw(
        st.one_of(st.sampled_from([d for d in range(1, c + 1) if c % d == 0]), st.integers(1, 8))
    )
    args: dict[str, Any] = {"num_groups": groups}
    maybe(draw, args, "affine", BOOLS)
    maybe(draw, args, "eps", st.sampled_from([0.0, 0.001]))
    given_c = draw_inferred(draw, c)
    if given_c is not None:
        args["num_channels"] = given_c
    deliberate = None
    if given_c not in (None, c) and not args.get("affine", True):
        deliberate = "inferred_mismatch"  # no weight of that size: torch cannot notice
    # Batch 2: PyTorch's "more than 1 value per channel" check depends on the batch size.
    return Case(
        "groupnorm",
        args,
        [shape],
        lambda: nn.GroupNorm(**{"num_channels": c, **torch_kwargs(args)}),
        batch=2,
        deliberate=deliberate,
    )


@st.composite
def layernorm_cases(draw: Draw) -> Case:
    """LayerNorm with normalized_shape omitted (the last dim), right, or wrong."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
    args: dict[str, Any] = {}
    kind = draw(st.sampled_from(["omit", "int", "trailing", "trailing", "wrong"]))
    if kind == "int":
        args["normalized_shape"] = shape[-1]
    elif kind == "trailing":
        args["normalized_shape"] = list(shape[-draw(st.integers(1, len(shape))) :])
    elif kind == "wrong":
        args["normalized_shape"] = draw(
            st.lists(st.integers(1, 5), min_size=1, max_size=len(shape))
        )
    maybe(draw, args, "elementwise_affine", BOOLS)
    maybe(draw, args, "bias", BOOLS)
    maybe(draw, args, "eps", st.sampled_from([0.0, 0.001]))
    return Case(
        "layernorm",
        args,
        [shape],
        lambda: nn.LayerNorm(**{"normalized_shape": shape[-1], **torch_kwargs(args)}),
    )


@st.composite
def lrn_cases(draw: Draw) -> Case:
    """LocalResponseNorm on inputs of rank 1 to 4."""
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))
    args: dict[str, Any] = {"size": draw(st.integers(0, 6))}
    for name in ("alpha", "beta", "k"):
        maybe(draw, args, name, st.sampled_from([0.0, 0.0001, 0.5, 1.0, 2.0]))
    return Case(
        "localresponsenorm", args, [shape], lambda: nn.LocalResponseNorm(**torch_kwargs(args))
    )


# ---- linear and embedding -----------------------------------------------------------------------


@st.composite
def linear_cases(draw: Draw) -> Case:
    """Linear on 1-d, 2-d and 3-d inputs, in_features omitted, right or wrong."""
    shape = tuple(draw(st.lists(st.integers(1, 8), min_size=1, max_size=3)))
    args: dict[str, Any] = {"out_features": draw(st.integers(1, 8))}
    maybe(draw, args, "bias", BOOLS)
    given = draw_inferred(draw, shape[-1])
    if given is not None:
        args["in_features"] = given
    return Case(
        "linear",
        args,
        [shape],
        lambda: nn.Linear(**{"in_features": shape[-1], **torch_kwargs(args)}),
    )


@st.composite
def embedding_cases(draw: Draw) -> Case:
    """Embedding: the input is a shape of indices (long zeros); padding_idx in or out of range."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    n = draw(st.integers(1, 10))
    args: dict[str, Any] = {"num_embeddings": n, "embedding_dim": draw(st.integers(1, 6))}
    maybe(draw, args, "padding_idx", st.one_of(st.none(), st.integers(-n - 2, n + 1)))
    maybe(draw, args, "max_norm", st.sampled_from([None, 1.0]))
    maybe(draw, args, "scale_grad_by_freq", BOOLS)
    maybe(draw, args, "sparse", BOOLS)
    return Case(
        "embedding", args, [shape], lambda: nn.Embedding(**torch_kwargs(args)), dtype=torch.long
    )


# ---- shape layers -------------------------------------------------------------------------------


def names_batch(dim: int, rank: int) -> bool:
    """Whether a PyTorch dim (counting the batch) in range for the batched tensor is dim 0."""
    full = rank + 1
    return -full <= dim < full and dim % full == 0


@st.composite
def flatten_cases(draw: Draw) -> Case:
    """Flatten with start_dim / end_dim anywhere, including out of range and the batch."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
    r = len(shape)
    args: dict[str, Any] = {}
    maybe(draw, args, "start_dim", st.integers(-r - 2, r + 1))
    maybe(draw, args, "end_dim", st.integers(-r - 2, r + 1))
    batch = any(names_batch(args[k], r) for k in ("start_dim", "end_dim") if k in args)
    return Case(
        "flatten",
        args,
        [shape],
        lambda: nn.Flatten(**torch_kwargs(args)),
        deliberate="batch_dim" if batch else None,
    )


def factorizations(n: int, draw: Draw) -> list[int]:
    """Random sizes whose product is n (in random order), sometimes with 1s."""
    sizes = []
    while n > 1:
        d = draw(st.sampled_from([d for d in range(2, n + 1) if n % d == 0]))
        sizes.append(d)
        n //= d
    sizes += [1] * draw(st.integers(0, 1))
    if not sizes:
        sizes = [1]
    return draw(st.permutations(sizes))


def with_wildcard(draw: Draw, sizes: list[int]) -> list[int]:
    """Sizes, possibly with one (rarely two) replaced by -1, or spoiled."""
    kind = draw(st.sampled_from(["keep", "wildcard", "wildcard", "two", "wrong"]))
    sizes = list(sizes)
    if kind == "wildcard":
        sizes[draw(st.integers(0, len(sizes) - 1))] = -1
    elif kind == "two" and len(sizes) >= 2:
        sizes[0] = sizes[-1] = -1
    elif kind == "wrong":
        sizes[draw(st.integers(0, len(sizes) - 1))] += draw(st.integers(1, 2))
    return sizes


@st.composite
def unflatten_cases(draw: Draw) -> Case:
    """Unflatten one dimension into sizes (with -1), or into sizes that do not fit."""
    shape = tuple(draw(st.lists(st.integers(1, 12), min_size=1, max_size=3)))
    r = len(shape)
    dim = draw(st.integers(-r - 2, r + 1))
    target = shape[dim % (r + 1) - 1] if -r - 1 <= dim <= r and dim % (r + 1) else 6
    sizes = with_wildcard(draw, factorizations(target, draw))
    args = {"dim": dim, "unflattened_size": sizes}
    return Case(
        "unflatten",
        args,
        [shape],
        lambda: nn.Unflatten(dim, tuple(sizes)),
        deliberate="batch_dim" if names_batch(dim, r) else None,
    )


@st.composite
def reshape_cases(draw: Draw) -> Case:
    """Reshape to any factorization of the element count (with -1), or a wrong one."""
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    sizes = with_wildcard(draw, factorizations(math.prod(shape), draw))
    return Case("reshape", {"shape": sizes}, [shape], lambda: Fn(lambda x: x.reshape(1, *sizes)))


PAD_CLASSES = {
    "zero": "ZeroPad",
    "constant": "ConstantPad",
    "reflection": "ReflectionPad",
    "replication": "ReplicationPad",
    "circular": "CircularPad",
}


@st.composite
def pad_cases(draw: Draw, kind: str, dims: int) -> Case:
    """ZeroPadNd ... CircularPadNd: int or 2·dims values, negatives (crop) included."""
    rank = draw_rank(draw, dims + 1)
    shape = (draw(st.integers(1, 3)), *draw(spatial_sizes(dims, rank - 1)))
    one = st.integers(-3, 5)
    args: dict[str, Any] = {
        "padding": draw(
            weighted(
                (3, one),
                (6, st.lists(one, min_size=2 * dims, max_size=2 * dims)),
                (1, st.lists(one, min_size=1, max_size=1)),
                (
                    1,
                    st.lists(one, min_size=1, max_size=7).filter(
                        lambda v: len(v) not in (1, 2 * dims)
                    ),
                ),
            )
        )
    }
    if kind == "constant":
        args["value"] = draw(FLOATS)
    cls = getattr(nn, f"{PAD_CLASSES[kind]}{dims}d")
    padding = args["padding"]
    kwargs = torch_kwargs(args)
    deliberate = lenient = None
    if rank != dims + 1:
        deliberate = "rank"
    elif isinstance(padding, list) and len(padding) not in (1, 2 * dims):
        deliberate = "pad_length"
    elif kind == "circular" and min(as_list(padding)) < 0:
        deliberate = "circular_negative"
    elif isinstance(padding, list) and len(padding) == 1:
        lenient = "pad_one"
        kwargs["padding"] = padding[0]
    return Case(
        f"{kind}pad{dims}d",
        args,
        [shape],
        lambda: cls(**kwargs),
        deliberate=deliberate,
        lenient=lenient,
    )


UPSAMPLE_MODES = ["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"]
SCALES = st.sampled_from([0.25, 0.5, 0.7, 1.0, 1.3, 1.5, 2, 2.0, 2.5, 3, -1.0])


@st.composite
def upsample_cases(draw: Draw) -> Case:
    """Upsample by size or scale_factor (ints, floats, per-dim lists), every mode, any rank."""
    shape = (draw(st.integers(1, 3)), *draw(st.lists(st.integers(1, 5), max_size=4)))
    nsp = len(shape) - 1

    def values(one: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        bad = st.lists(one, min_size=1, max_size=4).filter(lambda v: len(v) != nsp)
        return weighted((4, one), (4, st.lists(one, min_size=nsp, max_size=nsp)), (1, bad))

    which = draw(st.sampled_from(["size", "size", "scale", "scale", "both", "neither"]))
    args: dict[str, Any] = {}
    if which in ("size", "both"):
        args["size"] = draw(values(st.integers(1, 8)))
    if which in ("scale", "both"):
        args["scale_factor"] = draw(values(SCALES))
    maybe(draw, args, "mode", st.sampled_from(UPSAMPLE_MODES))
    maybe(draw, args, "align_corners", st.one_of(st.none(), BOOLS))
    maybe(draw, args, "recompute_scale_factor", st.one_of(st.none(), BOOLS))
    kwargs = torch_kwargs(args)
    lenient = None
    for name in ("size", "scale_factor"):
        if isinstance(args.get(name), list) and len(args[name]) == 1 and nsp > 1:
            lenient = "upsample_one"
            kwargs[name] = args[name][0]
    return Case("upsample", args, [shape], lambda: nn.Upsample(**kwargs), lenient=lenient)


@st.composite
def pixelshuffle_cases(draw: Draw, inverse: bool) -> Case:
    """PixelShuffle / PixelUnshuffle with factors that divide the sizes or not."""
    r = draw(weighted((8, st.integers(1, 3)), (1, st.just(0))))
    rank = draw_rank(draw, 3)
    k = max(r, 1)
    sizes = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    divisible = draw(st.booleans())
    if inverse:
        shape = (sizes[0], *(s * k if divisible else s for s in sizes[1:]))
    else:
        shape = (sizes[0] * k * k if divisible else sizes[0], *sizes[1:])
    arg = "downscale_factor" if inverse else "upscale_factor"
    cls = nn.PixelUnshuffle if inverse else nn.PixelShuffle
    return Case(
        "pixelunshuffle" if inverse else "pixelshuffle",
        {arg: r},
        [shape],
        lambda: cls(r),
        deliberate="rank" if rank != 3 else None,
    )


@st.composite
def channelshuffle_cases(draw: Draw) -> Case:
    """ChannelShuffle with groups dividing the channels or not, on inputs of rank 1 to 4."""
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))
    groups = draw(st.integers(0, 6))
    return Case("channelshuffle", {"groups": groups}, [shape], lambda: nn.ChannelShuffle(groups))


# ---- activations, dropout, identity -------------------------------------------------------------


def dims_of(rank: int) -> st.SearchStrategy[int]:
    """A PyTorch dim for a batched tensor of rank+1, one out of range on each side."""
    return st.integers(-rank - 2, rank + 1)


P = st.sampled_from([-0.1, 0.0, 0.2, 0.5, 1.0, 1.1])
# type → (torch class, {arg: strategy factory taking the batch-less rank}, required args)
ArgStrategies = dict[str, Callable[[int], st.SearchStrategy[Any]]]
INPLACE: ArgStrategies = {"inplace": lambda r: BOOLS}
DROPOUT: ArgStrategies = {"p": lambda r: P, **INPLACE}
SOFTMAX: ArgStrategies = {"dim": lambda r: st.one_of(st.none(), dims_of(r))}
ELEMENTWISE: dict[str, tuple[type[nn.Module], ArgStrategies, tuple[str, ...]]] = {
    "relu": (nn.ReLU, INPLACE, ()),
    "relu6": (nn.ReLU6, INPLACE, ()),
    "leakyrelu": (nn.LeakyReLU, {"negative_slope": lambda r: FLOATS, **INPLACE}, ()),
    "elu": (nn.ELU, {"alpha": lambda r: FLOATS, **INPLACE}, ()),
    "celu": (nn.CELU, {"alpha": lambda r: FLOATS, **INPLACE}, ()),
    "selu": (nn.SELU, INPLACE, ()),
    "gelu": (nn.GELU, {"approximate": lambda r: st.sampled_from(["none", "tanh", "fast"])}, ()),
    "silu": (nn.SiLU, INPLACE, ()),
    "mish": (nn.Mish, INPLACE, ()),
    "sigmoid": (nn.Sigmoid, {}, ()),
    "logsigmoid": (nn.LogSigmoid, {}, ()),
    "tanh": (nn.Tanh, {}, ()),
    "hardtanh": (
        nn.Hardtanh,
        {"min_val": lambda r: FLOATS, "max_val": lambda r: FLOATS, **INPLACE},
        (),
    ),
    "hardswish": (nn.Hardswish, INPLACE, ()),
    "hardsigmoid": (nn.Hardsigmoid, INPLACE, ()),
    "softplus": (nn.Softplus, {"beta": lambda r: FLOATS, "threshold": lambda r: FLOATS}, ()),
    "softsign": (nn.Softsign, {}, ()),
    "tanhshrink": (nn.Tanhshrink, {}, ()),
    "threshold": (
        nn.Threshold,
        {"threshold": lambda r: FLOATS, "value": lambda r: FLOATS, **INPLACE},
        ("threshold", "value"),
    ),
    "softmax": (nn.Softmax, SOFTMAX, ()),
    "logsoftmax": (nn.LogSoftmax, SOFTMAX, ()),
    "softmin": (nn.Softmin, SOFTMAX, ()),
    "glu": (nn.GLU, {"dim": dims_of}, ()),
    "identity": (nn.Identity, {}, ()),
    "dropout": (nn.Dropout, DROPOUT, ()),
    "alphadropout": (nn.AlphaDropout, DROPOUT, ()),
    "featurealphadropout": (nn.FeatureAlphaDropout, DROPOUT, ()),
    "dropout1d": (nn.Dropout1d, DROPOUT, ()),
    "dropout2d": (nn.Dropout2d, DROPOUT, ()),
    "dropout3d": (nn.Dropout3d, DROPOUT, ()),
}
# Dropouts of whole channels take exactly [C, *spatial] in cnncalc.
CHANNEL_DROPOUT_RANK = {"dropout1d": 2, "dropout2d": 3, "dropout3d": 4}


@st.composite
def elementwise_cases(draw: Draw, name: str) -> Case:
    """An activation / dropout / identity on an input of rank 1 to 5, random arguments."""
    cls, arg_strategies, required = ELEMENTWISE[name]
    if name in CHANNEL_DROPOUT_RANK:
        rank = draw_rank(draw, CHANNEL_DROPOUT_RANK[name])
    else:
        rank = draw(st.integers(1, 5))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank)))
    args: dict[str, Any] = {}
    for arg, strategy in arg_strategies.items():
        if arg in required:
            args[arg] = draw(strategy(rank))
        else:
            maybe(draw, args, arg, strategy(rank))
    deliberate = None
    if name in CHANNEL_DROPOUT_RANK and rank != CHANNEL_DROPOUT_RANK[name]:
        deliberate = "rank"
    elif args.get("dim") is not None and names_batch(args["dim"], rank):
        deliberate = "batch_dim"
    return Case(name, args, [shape], lambda: cls(**torch_kwargs(args)), deliberate=deliberate)


@st.composite
def prelu_cases(draw: Draw) -> Case:
    """PReLU with one slope or one per channel (or a wrong count)."""
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))
    args: dict[str, Any] = {}
    maybe(draw, args, "num_parameters", st.sampled_from([1, shape[0], shape[0], 2, 5]))
    maybe(draw, args, "init", FLOATS)
    return Case("prelu", args, [shape], lambda: nn.PReLU(**torch_kwargs(args)))


# ---- merges -------------------------------------------------------------------------------------


def other_shape(draw: Draw, a: Shape) -> Shape:
    """A second merge input: equal, with some dims 1, shorter, longer or unrelated."""
    kind = draw(st.sampled_from(["same", "same", "ones", "ones", "shorter", "longer", "random"]))
    if kind == "same":
        return a
    if kind == "ones":
        return tuple(1 if draw(BOOLS) else n for n in a)
    if kind == "shorter":
        return a[draw(st.integers(1, len(a))) if len(a) > 1 else 0 :] or a
    if kind == "longer":
        return (*draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)), *a)
    return tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))


MERGE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add,
    "multiply": operator.mul,
    "subtract": operator.sub,
    "divide": operator.truediv,
}


@st.composite
def broadcast_cases(draw: Draw, name: str, batch: int = 1) -> Case:
    """add / multiply / subtract / divide of two or three inputs, broadcasting as torch does."""
    a = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    shapes = [a, other_shape(draw, a)]
    if draw(st.integers(0, 3)) == 0:
        shapes.append(other_shape(draw, a))
    op = MERGE_OPS[name]
    ranks = "merge_rank" if len({len(s) for s in shapes}) > 1 else None
    return Case(
        name,
        {},
        shapes,
        lambda: Fn(lambda *xs: functools.reduce(op, xs)),
        batch=batch,
        deliberate=ranks,
    )


@st.composite
def concat_cases(draw: Draw) -> Case:
    """concat of two or three inputs along any dim (sizes along it differ, others may not)."""
    a = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    r = len(a)
    args: dict[str, Any] = {}
    maybe(draw, args, "dim", st.integers(-r - 2, r + 1))
    dim = args.get("dim", 1)
    i = dim % (r + 1) - 1 if -r - 1 <= dim <= r and dim % (r + 1) else 0

    def another() -> Shape:
        kind = draw(st.sampled_from(["along", "along", "along", "other"]))
        if kind == "along":
            return (*a[:i], draw(st.integers(1, 4)), *a[i + 1 :])
        return other_shape(draw, a)

    shapes = [a, another()]
    if draw(st.integers(0, 3)) == 0:
        shapes.append(another())
    return Case(
        "concat",
        args,
        shapes,
        lambda: Fn(lambda *xs: torch.cat(xs, dim=dim)),
        deliberate="batch_dim" if names_batch(dim, r) else None,
    )


# ---- the table: every layer type, its strategy and how many examples ----------------------------

CASES: dict[str, tuple[st.SearchStrategy[Case], int]] = {}
for _d in (1, 2, 3):
    CASES[f"conv{_d}d"] = (conv_cases(_d, False), 200)
    CASES[f"convtranspose{_d}d"] = (conv_cases(_d, True), 150)
    for _kind in ("max", "avg"):
        CASES[f"{_kind}pool{_d}d"] = (pool_cases(_kind, _d), 200)
        CASES[f"adaptive{_kind}pool{_d}d"] = (adaptive_pool_cases(_kind, _d), 60)
    CASES[f"batchnorm{_d}d"] = (batchnorm_cases(_d), 60)
    CASES[f"instancenorm{_d}d"] = (instancenorm_cases(_d), 60)
    for _kind in PAD_CLASSES:
        CASES[f"{_kind}pad{_d}d"] = (pad_cases(_kind, _d), 100)
CASES.update(
    {
        "groupnorm": (groupnorm_cases(), 60),
        "layernorm": (layernorm_cases(), 60),
        "localresponsenorm": (lrn_cases(), 40),
        "linear": (linear_cases(), 60),
        "embedding": (embedding_cases(), 60),
        "flatten": (flatten_cases(), 80),
        "unflatten": (unflatten_cases(), 80),
        "reshape": (reshape_cases(), 60),
        "upsample": (upsample_cases(), 200),
        "pixelshuffle": (pixelshuffle_cases(False), 60),
        "pixelunshuffle": (pixelshuffle_cases(True), 60),
        "channelshuffle": (channelshuffle_cases(), 40),
        "prelu": (prelu_cases(), 40),
        "add": (broadcast_cases("add"), 80),
        "multiply": (broadcast_cases("multiply"), 80),
        "subtract": (broadcast_cases("subtract"), 60),
        "divide": (broadcast_cases("divide"), 60),
        "concat": (concat_cases(), 80),
    }
)
for _name in ELEMENTWISE:
    CASES[_name] = (elementwise_cases(_name), 40)

# Layer types without a torch property test, with the reason. Keep empty if possible.
EXCLUDED: dict[str, str] = {
    "parameter": "it takes no input, so the one-layer harness cannot feed it;"
    " tests/test_parameters.py holds it against nn.Parameter in whole networks",
}


def run_property(strategy: st.SearchStrategy[Case], examples: int) -> None:
    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],  # no slow 'explain' phase on failure
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(strategy)
    def prop(case: Case) -> None:
        check(case)

    prop()


@pytest.mark.slow
@pytest.mark.parametrize("layer", sorted(CASES))
def test_layer_agrees_with_torch(layer: str) -> None:
    """Random arguments and inputs: same validity, shape, parameters and buffers as PyTorch."""
    strategy, examples = CASES[layer]
    run_property(strategy, examples)


def test_every_layer_type_is_covered() -> None:
    """A new layer type needs a torch property test here (or a reason in EXCLUDED)."""
    from test_torch_tensor import CASES as TENSOR_CASES  # imports this module: not at the top

    cases = set(CASES) | set(TENSOR_CASES)
    assert set(EXCLUDED) <= set(TYPES), "EXCLUDED names a type that does not exist"
    assert not cases & set(EXCLUDED)
    from test_torch_sequence import CASES as SEQUENCE  # attention and RNNs: own checks

    cases |= set(SEQUENCE)
    missing = set(TYPES) - cases - set(EXCLUDED)
    assert not missing, f"layer types without a torch property test: {sorted(missing)}"
    assert not cases - set(TYPES), "CASES names a type that does not exist"


@pytest.mark.parametrize("layer", sorted(MERGE_OPS))
def test_broadcast_merge_with_a_batch_of_two(layer: str) -> None:
    """Merges broadcast as in a batched network: with a batch of 2, not only of 1.

    With batch 1 the batch dimension of the shorter input lines up with a real dimension of the
    longer one and broadcasts away; with a real batch it does not.
    """
    run_property(broadcast_cases(layer, batch=2), 80)


# ---- minimal reproductions of the disagreements the properties found ---------------------------


def one(
    layer: str, args: dict[str, Any], shape: Shape, build: Callable[[], nn.Module], **kwargs: Any
) -> Case:
    return Case(layer, args, [shape], build, **kwargs)


def merge(layer: str, shapes: list[Shape], op: Callable[[Any, Any], Any], batch: int) -> Case:
    return Case(
        layer,
        {},
        shapes,
        lambda: Fn(lambda *xs: functools.reduce(op, xs)),
        batch=batch,
        deliberate="merge_rank" if len({len(s) for s in shapes}) > 1 else None,
    )


DISAGREEMENTS = [
    # Pooling with ceil_mode: PyTorch keeps one window even when the (dilated) kernel is larger
    # than the padded input, as long as ⌈(in + 2p − span) / s⌉ + 1 ≥ 1; cnncalc rejects.
    pytest.param(
        one(
            "maxpool1d",
            {"kernel_size": 3, "stride": 2, "ceil_mode": True},
            (1, 2),
            lambda: nn.MaxPool1d(kernel_size=3, stride=2, ceil_mode=True),
        ),
        id="maxpool1d-ceil_mode-kernel-past-input",
    ),
    pytest.param(
        one(
            "maxpool2d",
            {"kernel_size": 2, "dilation": 2, "ceil_mode": True},
            (1, 2, 2),
            lambda: nn.MaxPool2d(kernel_size=2, dilation=2, ceil_mode=True),
        ),
        id="maxpool2d-ceil_mode-dilated-kernel-past-input",
    ),
    pytest.param(
        one(
            "avgpool2d",
            {"kernel_size": 2, "ceil_mode": True},
            (1, 1, 1),
            lambda: nn.AvgPool2d(kernel_size=2, ceil_mode=True),
        ),
        id="avgpool2d-ceil_mode-kernel-past-input",
    ),
    # AvgPool3d (only it) also needs the unpadded input to be at least the kernel.
    pytest.param(
        one(
            "avgpool3d",
            {"kernel_size": 2, "padding": 1},
            (1, 1, 1, 1),
            lambda: nn.AvgPool3d(kernel_size=2, padding=1),
        ),
        id="avgpool3d-input-smaller-than-kernel",
    ),
    pytest.param(
        one(
            "avgpool3d",
            {"kernel_size": 4, "padding": 2},
            (1, 3, 3, 3),
            lambda: nn.AvgPool3d(kernel_size=4, padding=2),
        ),
        id="avgpool3d-input-smaller-than-kernel-2",
    ),
    # Adaptive 1-d pooling has no None ("keep") output size in PyTorch.
    pytest.param(
        one(
            "adaptiveavgpool1d",
            {"output_size": [None]},
            (2, 5),
            lambda: nn.AdaptiveAvgPool1d(output_size=(None,)),
        ),
        id="adaptiveavgpool1d-null-output-size",
    ),
    # Batch norm using batch statistics (training, or no running stats) needs eps > 0.
    pytest.param(
        one(
            "batchnorm2d",
            {"eps": 0.0, "track_running_stats": False},
            (3, 4, 4),
            lambda: nn.BatchNorm2d(3, eps=0.0, track_running_stats=False),
            batch=2,
        ),
        id="batchnorm2d-eps-0-batch-statistics",
    ),
    # Instance norm over a single spatial element (with input statistics) is an error.
    pytest.param(
        one("instancenorm2d", {}, (3, 1, 1), lambda: nn.InstanceNorm2d(3)),
        id="instancenorm2d-one-spatial-element",
    ),
    pytest.param(
        one("instancenorm1d", {"affine": True}, (3, 1), lambda: nn.InstanceNorm1d(3, affine=True)),
        id="instancenorm1d-one-spatial-element",
    ),
    pytest.param(one("celu", {"alpha": 0.0}, (4,), lambda: nn.CELU(alpha=0.0)), id="celu-alpha-0"),
    pytest.param(
        one("hardtanh", {"min_val": 1.0}, (4,), lambda: nn.Hardtanh(min_val=1.0)),
        id="hardtanh-max-equals-min",
    ),
    pytest.param(
        one(
            "hardtanh",
            {"min_val": 2.0, "max_val": 1.0},
            (4,),
            lambda: nn.Hardtanh(min_val=2.0, max_val=1.0),
        ),
        id="hardtanh-max-below-min",
    ),
    pytest.param(
        one("channelshuffle", {"groups": 2}, (4,), lambda: nn.ChannelShuffle(2)),
        id="channelshuffle-1d-input",
    ),
    # Reflection and replication padding may be negative (cropping) in PyTorch.
    pytest.param(
        one("reflectionpad1d", {"padding": -1}, (1, 3), lambda: nn.ReflectionPad1d(-1)),
        id="reflectionpad1d-negative",
    ),
    pytest.param(
        one(
            "reflectionpad2d",
            {"padding": [2, -1, 0, 0]},
            (1, 2, 3),
            lambda: nn.ReflectionPad2d((2, -1, 0, 0)),
        ),
        id="reflectionpad2d-negative",
    ),
    pytest.param(
        one(
            "replicationpad2d",
            {"padding": [0, 0, 0, -1]},
            (1, 2, 1),
            lambda: nn.ReplicationPad2d((0, 0, 0, -1)),
        ),
        id="replicationpad2d-negative",
    ),
    # Zero / constant padding crops first: each dimension needs in + negative pads ≥ 0.
    pytest.param(
        one("zeropad1d", {"padding": [2, -2]}, (1, 1), lambda: nn.ZeroPad1d((2, -2))),
        id="zeropad1d-crop-past-input",
    ),
    pytest.param(
        one(
            "constantpad2d",
            {"padding": [0, 0, 2, -2], "value": 0.0},
            (1, 1, 1),
            lambda: nn.ConstantPad2d((0, 0, 2, -2), 0.0),
        ),
        id="constantpad2d-crop-past-input",
    ),
    # padding_mode reflect needs padding < input size; circular at most the input size.
    pytest.param(
        one(
            "conv1d",
            {"out_channels": 1, "kernel_size": 1, "padding": 1, "padding_mode": "reflect"},
            (1, 1),
            lambda: nn.Conv1d(1, 1, kernel_size=1, padding=1, padding_mode="reflect"),
        ),
        id="conv1d-reflect-padding-too-large",
    ),
    pytest.param(
        one(
            "conv2d",
            {"out_channels": 1, "kernel_size": 5, "padding": "same", "padding_mode": "reflect"},
            (1, 2, 2),
            lambda: nn.Conv2d(1, 1, kernel_size=5, padding="same", padding_mode="reflect"),
        ),
        id="conv2d-same-reflect-padding-too-large",
    ),
    pytest.param(
        one(
            "conv2d",
            {"out_channels": 1, "kernel_size": 3, "padding": 3, "padding_mode": "circular"},
            (1, 2, 2),
            lambda: nn.Conv2d(1, 1, kernel_size=3, padding=3, padding_mode="circular"),
        ),
        id="conv2d-circular-padding-wraps-twice",
    ),
    # Upsample: only [C, L], [C, H, W], [C, D, H, W]; modes tied to ranks; align_corners only
    # for interpolating modes; recompute_scale_factor not with size.
    pytest.param(
        one("upsample", {"size": 2}, (1, 2, 2, 2, 2), lambda: nn.Upsample(size=2)),
        id="upsample-4-spatial-dims",
    ),
    pytest.param(
        one(
            "upsample",
            {"scale_factor": 2, "mode": "bilinear"},
            (1, 4),
            lambda: nn.Upsample(scale_factor=2, mode="bilinear"),
        ),
        id="upsample-bilinear-on-1d",
    ),
    pytest.param(
        one(
            "upsample",
            {"scale_factor": 2, "mode": "linear"},
            (1, 4, 4),
            lambda: nn.Upsample(scale_factor=2, mode="linear"),
        ),
        id="upsample-linear-on-2d",
    ),
    pytest.param(
        one(
            "upsample",
            {"scale_factor": 2, "align_corners": False},
            (1, 4),
            lambda: nn.Upsample(scale_factor=2, align_corners=False),
        ),
        id="upsample-nearest-align_corners",
    ),
    pytest.param(
        one(
            "upsample",
            {"size": 3, "recompute_scale_factor": True},
            (1, 4),
            lambda: nn.Upsample(size=3, recompute_scale_factor=True),
        ),
        id="upsample-size-recompute_scale_factor",
    ),
    # Merges of inputs of different ranks only broadcast correctly with batch 1.
    pytest.param(
        merge("add", [(3, 4), (4,)], operator.add, batch=2), id="add-different-ranks-batch-2"
    ),
    pytest.param(
        merge("multiply", [(1, 4), (4,)], operator.mul, batch=2),
        id="multiply-different-ranks-batch-2",
    ),
]


@pytest.mark.parametrize("case", DISAGREEMENTS)
def test_disagreement_found_by_the_properties(case: Case) -> None:
    """Each case is a disagreement with PyTorch the properties once found, reduced to a minimal
    spec and kept as a regression test."""
    check(case)
