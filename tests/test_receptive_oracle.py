"""An empirical oracle for receptive fields: the gradients of real PyTorch models.

A unit's exact input region is where the gradient of that unit with respect to the input is
non-zero, provided nothing can cancel or saturate: every weight is positive, biases are zero, the
input is positive, pooling averages (never max) and there are no activations. Under those
conditions the gradient's bounding box must equal cnncalc's `region`, and lie inside the field's
window; for an interior unit of a plain chain it must BE the window (size, stride and padding).

- Random networks (hypothesis): chains and two-branch graphs of conv2d ('same' included),
  avgpool2d, convtranspose2d, nearest upsampling and zero padding (negative crops too), joined by
  add and concat. One plain description makes both the YAML for cnncalc and, through this file's
  own small interpreter, the torch model — never from cnncalc's parse.
- Published values: VGG-16's fields, and the classic conv 3 + pool 3/2 exercise, via the CLI.
- Every spec in specs/ against its hand-written model in reference_models.py, made
  gradient-friendly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pytest
import torch
import torch.nn.functional as F
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import Tensor, nn

from cnncalc import graph, spec
from cnncalc.errors import SpecError
from cnncalc.graph import Graph
from cnncalc.receptive import Field, fields, region
from conftest import SPECS, run
from reference_models import REFERENCES

Pair = tuple[int, int]
Interval = tuple[int, int]
Region = list[Interval | None]
Draw = Callable[[st.SearchStrategy[Any]], Any]

# PyTorch's note that 'same' with an even kernel copies the input: expected, and harmless here.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

# --------------------------------------------------------------------------------------------
# The network description: plain data, read by both emitters
# --------------------------------------------------------------------------------------------

SINGLE = ("conv2d", "avgpool2d", "convtranspose2d", "upsample", "zeropad2d", "adaptiveavgpool2d")
MERGES = ("add", "concat")
UPSAMPLING = ("convtranspose2d", "upsample", "adaptiveavgpool2d")  # fractional strides


@dataclass(frozen=True)
class Node:
    """One layer: its type, PyTorch-named arguments ((height, width) pairs) and inputs."""

    op: str
    args: dict[str, Any]
    inputs: tuple[int, ...]  # indices of earlier nodes; -1 is the network input
    channels: int  # output channels


@dataclass(frozen=True)
class Net:
    """A network description: a 1-channel input of height × width and its nodes."""

    height: int
    width: int
    nodes: tuple[Node, ...]

    def name(self, i: int) -> str:
        return "input" if i < 0 else f"n{i}"

    def is_plain_chain(self, i: int) -> bool:
        """Node i and its ancestors are a chain of windowed layers, no merges, no upsampling and
        no cropping: its interior units must see exactly their field's window."""
        kinds = self._ancestry(i)
        return not kinds & {*MERGES, *UPSAMPLING, "crop"}

    def _ancestry(self, i: int) -> set[str]:
        seen: set[str] = set()
        stack = [i]
        while stack:
            j = stack.pop()
            if j < 0:
                continue
            node = self.nodes[j]
            seen.add(node.op)
            if node.op == "zeropad2d" and min(node.args["padding"]) < 0:
                seen.add("crop")
            stack.extend(node.inputs)
        return seen


def _dim(value: Pair) -> int | list[int]:
    """A pair as the spec writes it: one int when both dimensions agree."""
    return value[0] if value[0] == value[1] else list(value)


def to_yaml(net: Net) -> str:
    """The spec text cnncalc reads for this description."""
    entries: list[dict[str, Any]] = []
    for i, node in enumerate(net.nodes):
        a = node.args
        args: dict[str, Any] | None
        if node.op == "conv2d":
            args = {
                "out_channels": node.channels,
                "kernel_size": _dim(a["kernel_size"]),
                "stride": _dim(a["stride"]),
                "dilation": _dim(a["dilation"]),
                "padding": a["padding"] if a["padding"] == "same" else _dim(a["padding"]),
                "bias": False,
            }
        elif node.op == "avgpool2d":
            args = {
                "kernel_size": _dim(a["kernel_size"]),
                "padding": _dim(a["padding"]),
                "ceil_mode": a["ceil_mode"],
            }
            if a["stride"] is not None:
                args["stride"] = _dim(a["stride"])
        elif node.op == "convtranspose2d":
            args = {
                "out_channels": node.channels,
                "kernel_size": _dim(a["kernel_size"]),
                "stride": _dim(a["stride"]),
                "padding": _dim(a["padding"]),
                "output_padding": _dim(a["output_padding"]),
                "dilation": _dim(a["dilation"]),
                "bias": False,
            }
        elif node.op == "upsample":
            args = {"scale_factor": _dim(a["scale_factor"]), "mode": a["mode"]}
            if a["align_corners"] is not None:
                args["align_corners"] = a["align_corners"]
        elif node.op == "adaptiveavgpool2d":
            args = {"output_size": _dim(a["output_size"])}
        elif node.op == "zeropad2d":
            args = {"padding": list(a["padding"])}
        else:
            args = None
        sources = [net.name(j) for j in node.inputs]
        entries.append(
            {
                node.op: args,
                "name": net.name(i),
                "from": sources[0] if len(sources) == 1 else sources,
            }
        )
    doc = {"name": "random", "input": [1, net.height, net.width], "layers": entries}
    return yaml.safe_dump(doc, sort_keys=False)


# --------------------------------------------------------------------------------------------
# The torch interpreter
# --------------------------------------------------------------------------------------------


class TfSamePad(nn.Module):
    """TensorFlow's 'same' padding, worked out here from the rule: output ⌈n / stride⌉, the
    total padding split with the odd pixel on the right/bottom."""

    def __init__(self, kernel: Pair, stride: Pair, dilation: Pair) -> None:
        super().__init__()
        self.kernel, self.stride, self.dilation = kernel, stride, dilation

    def forward(self, x: Tensor) -> Tensor:
        pads: list[int] = []
        for axis in (1, 0):  # F.pad takes the last dimension first: left, right, top, bottom
            n, k, s, d = (
                x.shape[2 + axis],
                self.kernel[axis],
                self.stride[axis],
                self.dilation[axis],
            )
            out = -(-n // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
            pads += [total // 2, total - total // 2]
        return F.pad(x, pads)


class Float32(nn.Module):
    """A layer run in float32, as models run: an upsample's source coordinates are worked out
    in the tensor's precision, and cnncalc follows float32 (at ×3, 1.5·fl32(1/3) − 0.5 is
    1.5e-8, not 0, so a second pixel carries a tiny weight)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: Tensor) -> Tensor:
        return self.inner(x.float()).to(x.dtype)  # type: ignore[no-any-return]


def _module(node: Node, in_channels: int) -> nn.Module:
    a = node.args
    if node.op == "conv2d":
        if a["padding"] != "same":
            return nn.Conv2d(
                in_channels,
                node.channels,
                a["kernel_size"],
                a["stride"],
                a["padding"],
                a["dilation"],
                bias=False,
            )
        if a["stride"] == (1, 1):  # PyTorch's own 'same' (stride 1 only)
            return nn.Conv2d(
                in_channels, node.channels, a["kernel_size"], 1, "same", a["dilation"], bias=False
            )
        return nn.Sequential(
            TfSamePad(a["kernel_size"], a["stride"], a["dilation"]),
            nn.Conv2d(
                in_channels,
                node.channels,
                a["kernel_size"],
                a["stride"],
                0,
                a["dilation"],
                bias=False,
            ),
        )
    if node.op == "avgpool2d":
        return nn.AvgPool2d(
            a["kernel_size"],
            a["stride"],
            a["padding"],
            ceil_mode=a["ceil_mode"],
            count_include_pad=True,
        )
    if node.op == "convtranspose2d":
        return nn.ConvTranspose2d(
            in_channels,
            node.channels,
            a["kernel_size"],
            a["stride"],
            a["padding"],
            a["output_padding"],
            bias=False,
            dilation=a["dilation"],
        )
    if node.op == "upsample":
        return Float32(
            nn.Upsample(
                scale_factor=tuple(float(f) for f in a["scale_factor"]),
                mode=a["mode"],
                align_corners=a["align_corners"],
            )
        )
    if node.op == "adaptiveavgpool2d":
        return nn.AdaptiveAvgPool2d(a["output_size"])
    if node.op == "zeropad2d":
        return nn.ZeroPad2d(a["padding"])
    return nn.Identity()  # merges are done in forward


class TorchNet(nn.Module):
    """The description as a torch module; forward returns every node's output."""

    def __init__(self, net: Net) -> None:
        super().__init__()
        self.net = net
        channels = [n.channels for n in net.nodes]
        self.mods = nn.ModuleList(
            _module(n, 1 if n.inputs[0] < 0 else channels[n.inputs[0]]) for n in net.nodes
        )
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for p in self.parameters():  # positive weights: nothing can cancel
                p.copy_(torch.rand(p.shape, generator=generator, dtype=p.dtype) + 0.1)
                p.requires_grad_(False)

    def forward(self, x: Tensor) -> list[Tensor]:
        outs: list[Tensor] = []
        for node, mod in zip(self.net.nodes, self.mods, strict=True):
            ins = [x if j < 0 else outs[j] for j in node.inputs]
            if node.op == "add":
                outs.append(ins[0] + ins[1])
            elif node.op == "concat":
                outs.append(torch.cat(ins, dim=1))
            else:
                outs.append(mod(ins[0]))
        return outs


# --------------------------------------------------------------------------------------------
# Gradient regions and the checks
# --------------------------------------------------------------------------------------------


def gradient_region(out: Tensor, x: Tensor, unit: Sequence[int]) -> Region:
    """First and last input row and column whose gradient from `out[0, :, *unit]` (summed over
    channels) is non-zero; [None, None] when it is zero everywhere."""
    (grad,) = torch.autograd.grad(out[(0, slice(None), *unit)].sum(), x, retain_graph=True)
    mask = grad[0].ne(0).any(dim=0)
    if not bool(mask.any()):
        return [None] * len(unit)
    result: Region = []
    for d in range(mask.dim()):
        others = tuple(e for e in range(mask.dim()) if e != d)
        hit = mask.any(dim=others).nonzero().flatten() if others else mask.nonzero().flatten()
        result.append((int(hit.min()), int(hit.max())))
    return result


def clipped_window(f: Field, unit: Sequence[int], sizes: Sequence[int]) -> Region:
    """The field's window for `unit`, as whole pixels inside the input, per dimension."""
    out: Region = []
    for (lo, hi), n in zip(f.window(unit), sizes, strict=True):
        first, last = max(math.ceil(lo), 0), min(math.floor(hi), n - 1)
        out.append((first, last) if first <= last else None)
    return out


def inside(lo: Fraction, hi: Fraction, n: int) -> bool:
    return lo >= 0 and hi <= n - 1


@dataclass(frozen=True)
class Case:
    """What a failing comparison prints: enough to reproduce it by hand."""

    text: str
    layer: str
    unit: tuple[int, ...]

    def __str__(self) -> str:
        return f"\n{self.text}\nlayer {self.layer}, unit {self.unit}"


def check_unit(
    g: Graph,
    rf: dict[str, Field],
    out: Tensor,
    x: Tensor,
    layer: str,
    unit: tuple[int, ...],
    text: str,
    *,
    plain_chain: bool,
) -> Region:
    """cnncalc's region equals the gradient's; it lies in the window; interior units of plain
    chains see exactly the window. Returns the gradient's region."""
    case = Case(text, layer, unit)
    expected = gradient_region(out, x, unit)
    got = [None if iv is None else (int(iv[0]), int(iv[1])) for iv in region(g, layer, unit)]
    assert got == expected, f"region: cnncalc {got}, gradient {expected}{case}"
    f = rf[layer]
    sizes = g.input_shape[1:]
    if f.is_global:  # a 1×1 map broadcast over a merge, say: the window is the whole input
        # ... and a unit sees all of it, unless it stands in a zero-padded border of a layer
        # after global pooling, where it sees nothing (and cnncalc's region says so: above).
        assert expected in ([(0, n - 1) for n in sizes], [None] * len(sizes)), (
            f"a global field, but the gradient reaches only {expected}{case}"
        )
        return expected
    window = clipped_window(f, unit, sizes)
    for seen, win in zip(expected, window, strict=True):
        if seen is not None:
            assert win is not None and win[0] <= seen[0] and seen[1] <= win[1], (
                f"gradient region {expected} is outside the window {f.window(unit)}{case}"
            )
    if plain_chain and all(
        inside(lo, hi, n) for (lo, hi), n in zip(f.window(unit), sizes, strict=True)
    ):
        exact = [(int(lo), int(hi)) for lo, hi in f.window(unit)]
        assert expected == exact, (
            f"interior unit: gradient {expected}, field window {f.window(unit)} ({f}){case}"
        )
    return expected


@dataclass
class Outcome:
    """A description run through both sides."""

    text: str
    graph: Graph | None
    outs: list[Tensor] | None
    x: Tensor
    cnncalc_error: str | None
    torch_error: str | None


def run_both(net: Net) -> Outcome:
    text = to_yaml(net)
    generator = torch.Generator().manual_seed(1)
    x = (
        torch.rand(1, 1, net.height, net.width, generator=generator, dtype=torch.float64) + 0.5
    ).requires_grad_(True)
    outs: list[Tensor] | None = None
    torch_error = None
    try:
        outs = TorchNet(net).double()(x)
        if any(o.numel() == 0 for o in outs):
            torch_error = "an empty output"
    except (RuntimeError, ValueError) as err:
        torch_error = str(err).splitlines()[0]
    g = None
    cnncalc_error = None
    try:
        g = graph.build(spec.from_text(text, "random.yaml"))
    except SpecError as err:
        cnncalc_error = str(err)
    return Outcome(text, g, outs, x, cnncalc_error, torch_error)


def check_net(net: Net, units: Callable[[int, tuple[int, ...]], list[tuple[int, ...]]]) -> bool:
    """Run the description both ways, compare acceptance and shapes, then check the units that
    `units(node index, spatial shape)` names. False when both sides reject it."""
    o = run_both(net)
    assert (o.cnncalc_error is None) == (o.torch_error is None), (
        f"cnncalc: {o.cnncalc_error or 'accepts'}; torch: {o.torch_error or 'accepts'}\n{o.text}"
    )
    if o.graph is None:
        return False
    assert o.outs is not None
    rf, _ = fields(o.graph)
    for i, out in enumerate(o.outs):
        name = net.name(i)
        assert o.graph.by_name[name].shape == tuple(out.shape[1:]), f"shape of {name}\n{o.text}"
        for unit in units(i, tuple(out.shape[2:])):
            check_unit(o.graph, rf, out, o.x, name, unit, o.text, plain_chain=net.is_plain_chain(i))
    return True


# --------------------------------------------------------------------------------------------
# 1. Random networks
# --------------------------------------------------------------------------------------------


def _pair(draw: Draw, lo: int, hi: int) -> Pair:
    first = draw(st.integers(lo, hi))
    return first, draw(st.one_of(st.just(first), st.integers(lo, hi)))


def _layer(draw: Draw, op: str, *, shape_keeping: bool = False) -> dict[str, Any]:
    """Random arguments for one layer type; `shape_keeping` keeps the spatial size (or, for
    conv2d with stride, makes it ⌈n / stride⌉ like any other 'same' conv of that stride)."""
    if op == "conv2d":
        args: dict[str, Any] = {
            "kernel_size": _pair(draw, 1, 5),
            "dilation": _pair(draw, 1, 3),
            "stride": (1, 1) if shape_keeping else _pair(draw, 1, 3),
        }
        args["padding"] = "same" if shape_keeping or draw(st.booleans()) else _pair(draw, 0, 3)
        return args
    if op == "avgpool2d":
        kernel = (3, 3) if shape_keeping else _pair(draw, 1, 4)
        how = "one" if shape_keeping else draw(st.sampled_from(["default", "drawn", "drawn"]))
        stride = (1, 1) if how == "one" else None if how == "default" else _pair(draw, 1, 3)
        return {
            "kernel_size": kernel,
            "stride": stride,
            "padding": (1, 1)
            if shape_keeping
            else (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2))),
            "ceil_mode": draw(st.booleans()),
        }
    if op == "convtranspose2d":
        stride = _pair(draw, 1, 3)
        return {
            "kernel_size": _pair(draw, 1, 4),
            "stride": stride,
            "padding": _pair(draw, 0, 2),
            "output_padding": (
                draw(st.integers(0, stride[0] - 1)),
                draw(st.integers(0, stride[1] - 1)),
            ),
            "dilation": _pair(draw, 1, 2),
        }
    if op == "upsample":  # bilinear taps carry positive weights; bicubic's can be negative
        mode = draw(st.sampled_from(("nearest", "nearest-exact", "bilinear", "area")))
        corners = draw(st.sampled_from((None, False, True))) if mode == "bilinear" else None
        return {"scale_factor": _pair(draw, 2, 3), "mode": mode, "align_corners": corners}
    if op == "adaptiveavgpool2d":  # windows of uneven size and place, or overlapping ones
        # (not global pooling, whose field is 'global' by convention: the whole input, even
        # where a strided layer before it never reads the last rows)
        size = _pair(draw, 1, 9)
        return {"output_size": (1, 2) if size == (1, 1) else size}
    if op == "zeropad2d":
        if shape_keeping:  # a shift: what one side gains the other loses
            dx, dy = draw(st.integers(-2, 2)), draw(st.integers(-2, 2))
            return {"padding": (dx, -dx, dy, -dy)}
        return {"padding": tuple(draw(st.lists(st.integers(-1, 2), min_size=4, max_size=4)))}
    raise AssertionError(op)


def _mirror(draw: Draw, node_op: str, args: dict[str, Any]) -> dict[str, Any]:
    """Arguments for the same layer type that give the same output size but (maybe) another
    field: a shifted pad, a wider pool or transposed kernel with more padding, another 'same'
    kernel."""
    new = dict(args)
    if node_op == "conv2d" and args["padding"] == "same" and draw(st.booleans()):
        new["kernel_size"], new["dilation"] = _pair(draw, 1, 5), _pair(draw, 1, 3)
    elif node_op == "avgpool2d" and draw(st.booleans()):
        new["kernel_size"] = tuple(k + 2 for k in args["kernel_size"])
        new["padding"] = tuple(p + 1 for p in args["padding"])
        if args["stride"] is None:
            new["stride"] = args["kernel_size"]
    elif node_op == "convtranspose2d" and args["dilation"] == (1, 1) and draw(st.booleans()):
        new["kernel_size"] = tuple(k + 2 for k in args["kernel_size"])
        new["padding"] = tuple(p + 1 for p in args["padding"])
    elif node_op == "zeropad2d" and draw(st.booleans()):
        dx, dy = draw(st.integers(-2, 2)), draw(st.integers(-2, 2))
        left, right, top, bottom = args["padding"]
        new["padding"] = (left + dx, right - dx, top + dy, bottom - dy)
    return new


@st.composite
def nets(draw: Draw) -> Net:
    """A chain of segments, each a layer or a two-branch block joined by add or concat."""
    height = draw(st.integers(8, 40))
    width = draw(st.one_of(st.just(height), st.integers(8, 40)))
    nodes: list[Node] = []
    state = {"ups": 0}

    def channels_of(i: int) -> int:
        return 1 if i < 0 else nodes[i].channels

    def add(op: str, args: dict[str, Any], inputs: tuple[int, ...], channels: int) -> int:
        if op in UPSAMPLING:
            state["ups"] += 1
        nodes.append(Node(op, args, inputs, channels))
        return len(nodes) - 1

    def pick_op(shape_keeping: bool) -> str:
        ops = ["conv2d", "avgpool2d", "zeropad2d"]
        if not shape_keeping:
            ops += ["conv2d", "avgpool2d"]
            if state["ups"] < 2:
                ops += list(UPSAMPLING)
        return str(draw(st.sampled_from(ops)))

    def conv_channels(op: str, cin: int, fixed: int | None) -> int:
        if op not in ("conv2d", "convtranspose2d"):
            return cin
        return fixed if fixed is not None else int(draw(st.integers(1, 3)))

    current = -1
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.integers(0, 2)) < 2:  # a single layer
            op = pick_op(False)
            current = add(
                op, _layer(draw, op), (current,), conv_channels(op, channels_of(current), None)
            )
            continue
        merge = str(draw(st.sampled_from(MERGES)))
        mode = draw(st.sampled_from(["mirror", "mirror", "skip", "free"]))
        fixed = channels_of(current) if mode == "skip" else int(draw(st.integers(1, 3)))
        fixed_or_none = fixed if merge == "add" else None
        a, b = current, current
        for _ in range(draw(st.integers(1, 2))):
            op = pick_op(mode == "skip")
            args = _layer(draw, op, shape_keeping=mode == "skip")
            a = add(
                op,
                args,
                (a,),
                conv_channels(op, channels_of(a), fixed if mode == "skip" else fixed_or_none),
            )
            if mode == "mirror":
                b = add(
                    op,
                    _mirror(draw, op, args),
                    (b,),
                    conv_channels(op, channels_of(b), fixed_or_none),
                )
            elif mode == "free":
                op_b = pick_op(False)
                b = add(
                    op_b,
                    _layer(draw, op_b),
                    (b,),
                    conv_channels(op_b, channels_of(b), fixed_or_none),
                )
        if mode == "skip" and merge == "add" and channels_of(a) != channels_of(b):
            a = add(
                "conv2d",
                {"kernel_size": (1, 1), "stride": (1, 1), "dilation": (1, 1), "padding": (0, 0)},
                (a,),
                channels_of(b),
            )
        inputs = (a, b) if draw(st.booleans()) else (b, a)
        total = (
            channels_of(a)
            if merge == "add" and channels_of(a) == channels_of(b)
            else channels_of(a) + channels_of(b)
            if merge == "concat"
            else max(channels_of(a), channels_of(b))
        )
        current = add(merge, {}, inputs, total)
    return Net(height, width, tuple(nodes))


@pytest.mark.slow
@settings(
    max_examples=1500,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(net=nets(), data=st.data())
def test_random_networks_match_gradients(net: Net, data: st.DataObject) -> None:
    """Random chains and graphs: cnncalc accepts iff torch does, and for random units of random
    layers the gradient's region is cnncalc's region, inside the window (= it for plain
    chains' interior units)."""
    chosen = {data.draw(st.integers(0, len(net.nodes) - 1)) for _ in range(3)}

    def units(i: int, sizes: tuple[int, ...]) -> list[tuple[int, ...]]:
        if i not in chosen:
            return []
        picked = [tuple(data.draw(st.integers(0, n - 1)) for n in sizes) for _ in range(2)]
        return [*picked, (0, 0), tuple(n - 1 for n in sizes)]

    check_net(net, units)


# --------------------------------------------------------------------------------------------
# Hand-picked networks, every unit of every layer
# --------------------------------------------------------------------------------------------


def _conv(k: int, s: int = 1, p: int | str = 0, d: int = 1, c: int = 1, src: int = -1) -> Node:
    return Node(
        "conv2d",
        {
            "kernel_size": (k, k),
            "stride": (s, s),
            "dilation": (d, d),
            "padding": p if p == "same" else (p, p),
        },
        (src,),
        c,
    )


def _pad(left: int, right: int, top: int, bottom: int, src: int = -1, c: int = 1) -> Node:
    return Node("zeropad2d", {"padding": (left, right, top, bottom)}, (src,), c)


HAND_PICKED: dict[str, Net] = {
    # the classic exercise, conv 3 then pool 3/2 (avg standing in for max): field 5, stride 2
    "conv3_pool3s2": Net(
        16,
        16,
        (
            _conv(3),
            Node(
                "avgpool2d",
                {"kernel_size": (3, 3), "stride": (2, 2), "padding": (0, 0), "ceil_mode": False},
                (0,),
                1,
            ),
        ),
    ),
    # 'same' with stride 2 on an even size: the odd padding pixel goes right/bottom
    "same_stride2_even": Net(10, 12, (_conv(4, 2, "same"), _conv(3, 2, "same", src=0))),
    # a stride-3 1×1 conv skips pixels; a transposed conv and nearest upsampling come back
    "skip_and_return": Net(
        13,
        11,
        (
            _conv(1, 3),
            Node(
                "convtranspose2d",
                {
                    "kernel_size": (3, 3),
                    "stride": (2, 2),
                    "padding": (1, 1),
                    "output_padding": (1, 1),
                    "dilation": (1, 1),
                },
                (0,),
                2,
            ),
            Node(
                "upsample",
                {"scale_factor": (2, 3), "mode": "nearest", "align_corners": None},
                (1,),
                2,
            ),
        ),
    ),
    # bilinear ×2 with half-pixel centres after a stride-2 conv; adaptive pooling 17 → 5
    # (windows of 4 and 5 pixels, overlapping) and 5 → 7 (windows wider than their stride)
    "bilinear_and_adaptive": Net(
        17,
        17,
        (
            _conv(3, 2),
            Node(
                "upsample",
                {"scale_factor": (2, 2), "mode": "bilinear", "align_corners": False},
                (0,),
                1,
            ),
            Node("adaptiveavgpool2d", {"output_size": (5, 5)}, (1,), 1),
            Node("adaptiveavgpool2d", {"output_size": (7, 7)}, (2,), 1),
        ),
    ),
    # a unit in the added bottom row sees nothing: no rows and no columns either
    "pad_border": Net(8, 8, (_pad(0, 0, 0, 1),)),
    # two branches shifted against each other: where branch A reads only padding in one
    # dimension, it contributes no pixels at all, not its rows in the other dimension
    "shifted_branches": Net(8, 8, (_pad(1, -1, -1, 1), Node("add", {}, (-1, 0), 1))),
    # a 1×1 map broadcast over the other input: every unit sees the 1×1 map's whole field
    # (equal strides, then different strides: the two ways cnncalc merges fields)
    "broadcast_add": Net(
        8,
        8,
        (
            Node(
                "avgpool2d",
                {"kernel_size": (8, 8), "stride": (1, 1), "padding": (0, 0), "ceil_mode": False},
                (-1,),
                1,
            ),
            Node("add", {}, (-1, 0), 1),
        ),
    ),
    "broadcast_add_strided": Net(
        8,
        8,
        (
            Node(
                "avgpool2d",
                {"kernel_size": (8, 8), "stride": None, "padding": (0, 0), "ceil_mode": False},
                (-1,),
                1,
            ),
            Node("add", {}, (-1, 0), 1),
        ),
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HAND_PICKED))
def test_hand_picked_networks_every_unit(name: str) -> None:
    """Every unit of every layer of a few small networks with known pitfalls."""
    net = HAND_PICKED[name]

    def every(i: int, sizes: tuple[int, ...]) -> list[tuple[int, ...]]:
        return [(r, c) for r in range(sizes[0]) for c in range(sizes[1])]

    assert check_net(net, every), f"{name} should be a valid network"


def _avgpool(k: int, p: int = 0, *, ceil: bool = False) -> Node:
    return Node(
        "avgpool2d",
        {"kernel_size": (k, k), "stride": None, "padding": (p, p), "ceil_mode": ceil},
        (-1,),
        1,
    )


ACCEPTANCE: dict[str, Net] = {
    # ceil_mode rounds ⌈(1 − 2) / 2⌉ + 1 = 1 up from a kernel larger than the input: PyTorch
    # accepts (1×10 → 1×5), the window hanging past the input
    "ceil_pool_kernel_past_input": Net(1, 10, (_avgpool(2, ceil=True),)),
    "ceil_pool_kernel_past_padded_input": Net(1, 10, (_avgpool(4, 1, ceil=True),)),
    "floor_pool_kernel_past_input": Net(1, 10, (_avgpool(2),)),
    # PyTorch crops before it pads: a crop of 2 on a size-1 dimension fails, though 2 added on
    # the other side would make the size 1
    "crop_past_input": Net(4, 1, (_pad(2, -2, 0, 0),)),
    "crop_to_zero_then_pad": Net(4, 2, (_pad(2, -2, 0, 0),)),
}


@pytest.mark.parametrize("name", sorted(ACCEPTANCE))
def test_edge_shapes_accepted_alike(name: str) -> None:
    """Edge cases the random networks reach through small intermediate maps: cnncalc rejects
    exactly what PyTorch rejects, and where both accept the shapes agree (units are the other
    tests' business)."""
    check_net(ACCEPTANCE[name], lambda i, sizes: [])


# --------------------------------------------------------------------------------------------
# 2-3. Published values through the CLI
# --------------------------------------------------------------------------------------------

VGG16_FIELDS = {  # (size, stride, padding), torchvision layout at 224
    "conv1_1": (3, 1, 1),
    "pool1": (6, 2, 2),
    "pool2": (16, 4, 6),
    "pool3": (44, 8, 18),
    "pool4": (100, 16, 42),
    "pool5": (212, 32, 90),
}


def test_vgg16_published_fields() -> None:
    """VGG-16's receptive fields as published (Araujo et al. and others)."""
    result = run("summarize", str(SPECS / "vgg16.yaml"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    layers = {layer["name"]: layer for layer in json.loads(result.stdout)["layers"]}
    for name, (size, stride, padding) in VGG16_FIELDS.items():
        assert layers[name]["receptive_field"] == {
            "size": [size, size],
            "stride": [stride, stride],
            "padding": [padding, padding],
        }, name


def test_classic_exercise_chain() -> None:
    """conv 3×3 stride 1 then max pool 3×3 stride 2: a 5×5 field moving 2 pixels."""
    result = run("rf", "--chain", "conv2d k3 s1, maxpool2d k3 s2", "--format", "json")
    assert result.exit_code == 0, result.stderr
    last = json.loads(result.stdout)["layers"][-1]
    assert last["receptive_field"]["size"] == [5, 5]
    assert last["receptive_field"]["stride"] == [2, 2]
    assert last["receptive_field"]["padding"] == [0, 0]


ALONG_ONE_DIMENSION = """\
input: [2, 5, 7]
layers:
  - conv2d: {out_channels: 2, kernel_size: 3, stride: 2}
  - linear: {out_features: 4, bias: false}
  - glu: {dim: -1}
  - conv2d: {out_channels: 2, kernel_size: [1, 3], padding: [0, 1], bias: false}
  - softmax: {dim: 2}
"""


def test_layers_that_mix_along_one_dimension() -> None:
    """linear acts on the last dimension only and softmax along the one it names: each unit
    sees that whole dimension (stride 0 there) and its own place in the others; glu along W
    pairs column o with o + half. Checked against a hand-built torch model, every unit;
    softmax leaves the net global."""
    g = graph.build(spec.from_text(ALONG_ONE_DIMENSION, "along.yaml"))
    rf, _ = fields(g)
    torch.manual_seed(0)
    conv1 = nn.Conv2d(2, 2, 3, stride=2, bias=False)
    linear = nn.Linear(3, 4, bias=False)
    conv2 = nn.Conv2d(2, 2, (1, 3), padding=(0, 1), bias=False)
    for m in (conv1, linear, conv2):
        with torch.no_grad():
            m.weight.abs_().add_(0.01)
    x = (torch.rand(1, 2, 5, 7) + 0.5).requires_grad_(True)
    outs = {"conv2d_1": conv1(x)}
    outs["linear_1"] = linear(outs["conv2d_1"])
    outs["glu_1"] = F.glu(outs["linear_1"], dim=-1)
    outs["conv2d_2"] = conv2(outs["glu_1"])
    for name, out in outs.items():
        assert tuple(out.shape[1:]) == g.by_name[name].shape
        for unit in [(r, c) for r in range(out.shape[2]) for c in range(out.shape[3])]:
            check_unit(g, rf, out, x, name, unit, ALONG_ONE_DIMENSION, plain_chain=False)
    assert rf["linear_1"].stride == (2, 0)
    # softmax spans H where linear spanned W: every unit sees all of the input
    assert rf["softmax_1"].is_global


# --------------------------------------------------------------------------------------------
# 4. The specs against their hand-written reference models
# --------------------------------------------------------------------------------------------

ACTIVATIONS = "torch.nn.modules.activation"
NOT_SPATIAL = {"exercise_dense"}  # flatten then linear: no spatial layer at all
# plain chains of convolutions and pools up to their last spatial output: interior units must
# see exactly their field's window
CHAINS = {"alexnet", "dcgan_discriminator", "exercise_conv", "exercise_stride", "lenet5", "vgg16"}
# forward + backward at 224 or 256 costs seconds: a centre and a corner unit only
HEAVY = {
    "convnext_tiny",
    "mobilenetv2",
    "resnet18",
    "resnet50",
    "shufflenetv2",
    "unet",
    "vgg16",
    "vit_b16",
}
# cnncalc's `region` cannot trace a unit back through a permute that moves the channels axis
# (its receptive field is exact; the unit's region is refused): check the last spatial layer
# before the first such permute instead, given as (cnncalc layer, reference module path)
TRACE_BEFORE = {"convnext_tiny": ("stage1.cnblock_1.dwconv", "features.1.0.block.0")}
# specs this gradient oracle cannot take as they are: it feeds one float image
NO_GRADIENT = {
    "lstm_classifier": "its input is token ids, through which no gradient flows",
    "siamese": "two inputs: the oracle feeds one image",
    "two_input": "two inputs: the oracle feeds one image",
}


def _friendly(module: nn.Module) -> nn.Module:
    """Swap max pools for average pools with the same window and activations (not attention)
    for identity; recurse into everything else."""
    for name, child in module.named_children():
        if isinstance(child, nn.MaxPool2d):
            assert child.dilation in (1, (1, 1)), "a dilated max pool has no avg twin"
            setattr(
                module,
                name,
                nn.AvgPool2d(
                    child.kernel_size,
                    child.stride,
                    child.padding,
                    ceil_mode=child.ceil_mode,
                    count_include_pad=True,
                ),
            )
        elif type(child).__module__ == ACTIVATIONS and not isinstance(
            child,
            nn.MultiheadAttention,  # PyTorch files attention among the activations
        ):
            setattr(module, name, nn.Identity())
        else:
            _friendly(child)
    return module


def gradient_friendly(model: nn.Module) -> nn.Module:
    """Positive weights (abs + 0.01, rescaled so activations stay near 1), zero biases, batch
    norm as the identity, average pools, no activations, eval mode (dropout is identity)."""
    model = _friendly(model).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight"):
                p.abs_().add_(0.01)
                if p.dim() > 1:  # conv/linear: each output sums to about its input
                    p.div_(p.sum() / p.shape[0])
            elif name.endswith("bias"):
                p.zero_()
            p.requires_grad_(False)
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                assert m.running_mean is not None and m.running_var is not None
                m.running_mean.zero_()
                m.running_var.fill_(1.0)
                if m.affine:
                    m.weight.fill_(1.0)
                    m.bias.zero_()
    return model


def spec_stems() -> list[str]:
    return sorted(p.stem for p in SPECS.glob("*.yaml"))


def test_every_spec_has_a_reference() -> None:
    assert spec_stems() == sorted(REFERENCES)


def test_every_spec_without_a_gradient_oracle_says_why() -> None:
    """The specs the gradient oracle leaves out are named, with the reason, not skipped."""
    assert set(NO_GRADIENT) <= set(spec_stems())
    assert all(NO_GRADIENT.values())


@pytest.mark.slow
@pytest.mark.parametrize("stem", [s for s in spec_stems() if s not in NO_GRADIENT])
def test_reference_model_gradients(stem: str) -> None:
    """The last spatial output of the reference model: its centre and corner units (both
    corners for the small models) see exactly cnncalc's region of the matching layer."""
    g = graph.build(spec.load(str(SPECS / f"{stem}.yaml")))
    reference = REFERENCES[stem]
    assert g.input_shape == reference.input_shape
    model = gradient_friendly(reference.build())
    records: list[Tensor] = []

    def hook(module: nn.Module, args: Any, output: Any) -> None:
        if isinstance(output, Tensor) and output.dim() == 4 and output.shape[2:].numel() > 1:
            records.append(output)

    for m in model.modules():
        if not list(m.children()):
            m.register_forward_hook(hook)
    picked: list[Tensor] = []
    if stem in TRACE_BEFORE:
        module = model.get_submodule(TRACE_BEFORE[stem][1])
        module.register_forward_hook(lambda _m, _a, output: picked.append(output))
    generator = torch.Generator().manual_seed(2)
    x = (torch.rand(1, *reference.input_shape, generator=generator) + 0.5).requires_grad_(True)
    model(x)
    spatial = [
        layer for layer in g.layers if len(layer.shape) == 3 and layer.shape[1] * layer.shape[2] > 1
    ]
    if stem in NOT_SPATIAL:
        assert not records, f"{stem}: torch has a spatial output {records[-1].shape}"
        assert not spatial, f"{stem}: cnncalc has spatial layers {[s.name for s in spatial]}"
        return
    assert records, f"{stem}: no 4-d output with more than one pixel"
    out = picked[0] if picked else records[-1]
    shape = tuple(out.shape[1:])
    matching = [layer for layer in g.layers if layer.shape == shape]
    assert matching, f"{stem}: no cnncalc layer of shape {shape}"
    layer = TRACE_BEFORE[stem][0] if stem in TRACE_BEFORE else matching[-1].name
    assert layer in {m.name for m in matching}, f"{stem}: {layer} is not of shape {shape}"
    rf, _ = fields(g)
    text = f"spec {stem}.yaml"
    height, width = shape[1:]
    centre = (height // 2, width // 2)
    units = [centre, (height - 1, width - 1)] + ([] if stem in HEAVY else [(0, 0)])
    seen = {
        unit: check_unit(g, rf, out, x, layer, unit, text, plain_chain=stem in CHAINS)
        for unit in units
    }
    if stem == "vgg16":  # pool5's field, measured: 212 pixels from 3·32 − 90 = 6
        assert (layer, centre) == ("avgpool", (3, 3))
        assert seen[centre] == [(6, 217), (6, 217)]
