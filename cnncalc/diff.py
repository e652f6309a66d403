"""`cnncalc diff OLD NEW`: what a change to a spec does to its layers and totals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, NamedTuple

from cnncalc.analysis import Row, Summary, summarize
from cnncalc.graph import Graph, Layer
from cnncalc.layers import TYPES
from cnncalc.layers.tensors import Shape
from cnncalc.receptive import Field
from cnncalc.spec import INPUT_REF, Layout


class LayerChange(NamedTuple):
    status: str  # "changed", "added" or "removed"
    old: Layer | None
    new: Layer | None
    arguments: tuple[tuple[str, Any, Any], ...] = ()  # (name, old, new) of those that differ
    inputs: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # (old, new) when rewired
    trainable: tuple[bool, bool] | None = None  # (old, new) when frozen or unfrozen
    # What the layer computes on, (old, new) where it moved: its receptive field and its MACs
    # and FLOPs at batch 1. Fields are per spatial dimension in input order; None outside any.
    field: tuple[Field | None, Field | None] | None = None
    macs: tuple[int, int] | None = None
    flops: tuple[int, int] | None = None
    renamed: bool = False  # a name given in the spec changed (auto-names renumber: no change)
    shares: tuple[str | None, str | None] | None = None  # (old, new) whose weights it uses

    @property
    def upstream(self) -> bool:
        """Written as before (type, name, arguments, inputs, freezing), so whatever moved
        (shape, parameters, field, MACs) moved because a layer before it changed."""
        return (
            self.status == "changed"
            and not (self.arguments or self.inputs or self.trainable or self.renamed or self.shares)
            and self.old is not None
            and self.new is not None
            and self.old.type == self.new.type
        )

    @property
    def name(self) -> str:
        layer = self.new or self.old
        assert layer is not None
        if self.old and self.new and self.old.name != self.new.name:
            return f"{self.old.name} → {self.new.name}"
        return layer.name


class Figure(NamedTuple):
    name: str  # as JSON names it
    label: str  # as a table heads it
    old: int
    new: int
    in_bytes: bool = False

    @property
    def change(self) -> int:
        return self.new - self.old

    @property
    def percent(self) -> float | None:
        return None if self.old == 0 else 100 * self.change / self.old


class Diff(NamedTuple):
    old_label: str
    new_label: str
    old: Summary
    new: Summary
    changes: tuple[LayerChange, ...]
    figures: tuple[Figure, ...]
    unchanged: int  # matched layers with the same name, type, shape and parameters
    old_layout: Layout
    new_layout: Layout

    @property
    def upstream(self) -> int:
        """How many changed layers changed only because a layer before them did."""
        return sum(c.upstream for c in self.changes)

    def shape(self, change: LayerChange, side: str) -> Shape | None:
        """A changed layer's output shape on one side, in that side's layout."""
        layer = change.old if side == "old" else change.new
        layout = self.old_layout if side == "old" else self.new_layout
        return None if layer is None else layout.display(layer.shape)


def diff(old: Graph, new: Graph, old_label: str, new_label: str) -> Diff:
    """Match layers by name, then align the rest by type and arguments, and compare."""
    pairs = _match(list(old.layers), list(new.layers))
    renamed = {INPUT_REF: INPUT_REF, **{a.name: b.name for a, b in pairs if a and b}}
    renamed.update((n, n) for n in old.inputs if n in new.inputs)

    removed = {a.name: a for a, b in pairs if a and not b}
    added = {b.name: b for a, b in pairs if b and not a}

    def source(name: str, unmatched: dict[str, Layer]) -> str | None:
        """The first matched layer up the chain: an inserted or deleted layer in between is
        an addition or removal of its own, not a rewiring of the layer that reads it. None
        past an unmatched merge (a removed residual block), where no one source is right."""
        while name.split(":", 1)[0] in unmatched:
            layer = unmatched[name.split(":", 1)[0]]
            if len(layer.inputs) != 1:
                return None
            name = layer.inputs[0]
        return name

    def rewired(a: Layer, b: Layer) -> bool:
        was = [source(x, removed) for x in a.inputs]
        now = [source(y, added) for y in b.inputs]
        return len(was) != len(now) or any(
            x is not None and y is not None and _partner(x, renamed) != y
            for x, y in zip(was, now, strict=True)
        )

    s_old, s_new = summarize(old), summarize(new)
    rows_old = {r.name: r for r in s_old.rows}  # one row per layer: no --depth here
    rows_new = {r.name: r for r in s_new.rows}
    changes = []
    unchanged = 0
    for a, b in pairs:
        if a is None:
            changes.append(LayerChange("added", None, b))
        elif b is None:
            changes.append(LayerChange("removed", a, None))
        else:
            change = _compare(a, b, rows_old[a.name], rows_new[b.name], rewired(a, b))
            if change.upstream and _same(old, new, change):
                unchanged += 1
            else:
                changes.append(change)
    return Diff(
        old_label,
        new_label,
        s_old,
        s_new,
        tuple(changes),
        _figures(s_old, s_new),
        unchanged,
        old.layout,
        new.layout,
    )


def _partner(tensor: str, renamed: dict[str, str]) -> str | None:
    """The new graph's name for a tensor of the old one (`lstm:1` → `rnn:1`)."""
    layer, colon, index = tensor.partition(":")
    name = renamed.get(layer)
    return None if name is None else name + colon + index


def _compare(a: Layer, b: Layer, row_a: Row, row_b: Row, rewired: bool) -> LayerChange:
    """A matched pair as a change: what differs in how it is written and in what it computes."""
    field_a, field_b = row_a.receptive_field, row_b.receptive_field
    return LayerChange(
        "changed",
        a,
        b,
        arguments=tuple(
            (k, v, b.args[k])
            for k, v in a.args.items()
            if a.type == b.type and v != b.args[k] and not _inferred(a, k)
        ),
        # Rewired: the new layer reads other layers than the partners of the old one's.
        inputs=(a.inputs, b.inputs) if rewired else None,
        trainable=(a.trainable, b.trainable) if a.trainable != b.trainable else None,
        field=None if _field_key(field_a) == _field_key(field_b) else (field_a, field_b),
        macs=None if row_a.macs == row_b.macs else (row_a.macs, row_b.macs),
        flops=None if row_a.flops == row_b.flops else (row_a.flops, row_b.flops),
        renamed=a.name != b.name and not (a.auto_named and b.auto_named),
        shares=None if a.shares == b.shares else (a.shares, b.shares),
    )


def _same(old: Graph, new: Graph, c: LayerChange) -> bool:
    """Nothing about the layer moved: output shape, parameters, field and compute alike."""
    assert c.old is not None and c.new is not None
    return (
        old.layout.display(c.old.shape) == new.layout.display(c.new.shape)
        and c.old.result.param_count == c.new.result.param_count
        and c.field is None
        and c.macs is None
        and c.flops is None
    )


def _field_key(field: Field | None) -> tuple[object, ...] | None:
    """What a reviewer compares of a field: size, stride, padding, or global."""
    if field is None:
        return None
    return (True,) if field.is_global else (field.size, field.stride, field.padding)


def _figures(s_old: Summary, s_new: Summary) -> tuple[Figure, ...]:
    """The totals of the two sides, one Figure each."""
    t_old, t_new, m_old, m_new = s_old.totals, s_new.totals, s_old.memory, s_new.memory
    return (
        Figure("params", "Parameters", t_old.params, t_new.params),
        Figure("trainable_params", "Trainable", t_old.trainable_params, t_new.trainable_params),
        Figure(
            "non_trainable_params",
            "Non-trainable (Keras)",
            t_old.non_trainable_params,
            t_new.non_trainable_params,
        ),
        Figure("buffers", "Buffers", t_old.buffers, t_new.buffers),
        Figure("param_bytes", "Parameter memory", t_old.param_bytes, t_new.param_bytes, True),
        Figure("macs", "MACs", t_old.macs, t_new.macs),
        Figure("flops", "FLOPs", t_old.flops, t_new.flops),
        Figure(
            "training_memory_bytes", "Training memory", m_old.total_bytes, m_new.total_bytes, True
        ),
        Figure(
            "inference_memory_bytes",
            "Inference memory",
            m_old.inference_bytes,
            m_new.inference_bytes,
            True,
        ),
        Figure("layers", "Layers", s_old.layer_count, s_new.layer_count),
    )


def _inferred(layer: Layer, arg: str) -> bool:
    """in_channels and the like: written or not, the layer has the size its input gives (a
    change of that shows in the shapes), so writing one out is no change."""
    spec = TYPES[layer.type].arg(arg)
    return spec is not None and spec.inferred


def _match(old: list[Layer], new: list[Layer]) -> list[tuple[Layer | None, Layer | None]]:
    """Pairs in the new network's order, each removed layer where it stood."""
    named_new = {x.name: x for x in new if not x.auto_named}
    pair_of: dict[str, Layer] = {}  # new name → old layer
    for x in old:
        if not x.auto_named and x.name in named_new:
            pair_of[x.name] = x
    taken = {x.name for x in pair_of.values()}
    rest_old = [x for x in old if x.name not in taken]
    rest_new = [x for x in new if x.name not in pair_of]
    removed: list[Layer] = []
    for op, i1, i2, j1, j2 in _opcodes([_key(x) for x in rest_old], [_key(x) for x in rest_new]):
        if op == "equal":
            for a, b in zip(rest_old[i1:i2], rest_new[j1:j2], strict=True):
                pair_of[b.name] = a
        elif op == "replace":  # layers whose arguments changed: pair those of the same type
            olds, news = rest_old[i1:i2], rest_new[j1:j2]
            for op2, k1, k2, l1, l2 in _opcodes([x.type for x in olds], [x.type for x in news]):
                if op2 == "equal":
                    for a, b in zip(olds[k1:k2], news[l1:l2], strict=True):
                        pair_of[b.name] = a
                else:
                    removed += olds[k1:k2]
        elif op == "delete":
            removed += rest_old[i1:i2]
    # Removed layers go where they stood: before the next old layer that has a partner.
    # Old layers by name (unique in a graph), not by object identity.
    place = {pair_of[b.name].name: j for j, b in enumerate(new) if b.name in pair_of}
    ranked: list[tuple[float, int, Layer | None, Layer | None]] = [
        (j, 0, pair_of.get(b.name), b) for j, b in enumerate(new)
    ]
    gone = {a.name for a in removed}
    next_place = float(len(new))
    for i in reversed(range(len(old))):
        a = old[i]
        if a.name in gone:
            ranked.append((next_place - 0.5, i, a, None))
        elif a.name in place:
            next_place = place[a.name]
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [(a, b) for _, _, a, b in ranked]


def _key(layer: Layer) -> str:
    """What aligns two layers: the same type with the same arguments."""
    return f"{layer.type} {sorted(layer.args.items())!r}"


MAX_EDITS = 2000  # past this many insertions and deletions, give up aligning: all differs

Opcode = tuple[str, int, int, int, int]


def _opcodes(a: Sequence[str], b: Sequence[str]) -> list[Opcode]:
    """difflib-style opcodes of a shortest edit script from a to b (Myers' O((N+M)·D)
    algorithm): fast for the few edits a change makes, however repetitive the layers (difflib
    takes minutes on 20,000 alternating conv2d and relu)."""
    matches = _matches(a, b)
    if matches is None:  # too different to align: one replacement of everything
        return [("replace", 0, len(a), 0, len(b))] if a or b else []
    ops: list[Opcode] = []
    i = j = 0
    for x, y in [*matches, (len(a), len(b))]:
        if (x, y) != (i, j):  # a gap before this match
            kind = "replace" if x > i and y > j else "delete" if x > i else "insert"
            ops.append((kind, i, x, j, y))
        if x < len(a):
            if ops and ops[-1][0] == "equal":
                ops[-1] = ("equal", ops[-1][1], x + 1, ops[-1][3], y + 1)
            else:
                ops.append(("equal", x, x + 1, y, y + 1))
        i, j = x + 1, y + 1
    return ops


def _matches(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int]] | None:
    """The matched index pairs of a shortest edit script, or None past MAX_EDITS edits."""
    n, m = len(a), len(b)
    # Each element one side has more of than the other is an insertion or a deletion: a
    # lower bound on the edits, which settles very different networks without the search.
    surplus = Counter(a)
    surplus.subtract(b)
    if sum(abs(c) for c in surplus.values()) > MAX_EDITS:
        return None
    offset = MAX_EDITS + 1
    v = [0] * (2 * offset + 1)  # v[offset + k]: the furthest x reached on diagonal k = x - y
    trace = []
    for d in range(MAX_EDITS + 1):
        trace.append(v[offset - d - 1 : offset + d + 2])  # diagonals -d-1 … d+1
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[offset + k - 1] < v[offset + k + 1]):
                x = v[offset + k + 1]  # down: an insertion
            else:
                x = v[offset + k - 1] + 1  # right: a deletion
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x, y = x + 1, y + 1
            v[offset + k] = x
            if x >= n and y >= m:
                return _backtrack(trace, n, m)
    return None


def _backtrack(trace: list[list[int]], x: int, y: int) -> list[tuple[int, int]]:
    matches = []
    for d in reversed(range(len(trace))):
        v, k, offset = trace[d], x - y, d + 1
        prev_k = k + 1 if k == -d or (k != d and v[offset + k - 1] < v[offset + k + 1]) else k - 1
        prev_x = v[offset + prev_k]
        prev_y = prev_x - prev_k
        while x > prev_x and y > prev_y:
            x, y = x - 1, y - 1
            matches.append((x, y))
        if d > 0:
            x, y = prev_x, prev_y
    return matches[::-1]
