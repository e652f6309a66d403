"""`cnncalc diff OLD NEW`: what a change to a spec does to its layers and totals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from cnncalc.analysis import Summary, summarize
from cnncalc.graph import Graph, Layer
from cnncalc.layers.base import Shape
from cnncalc.spec import Layout


class LayerChange(NamedTuple):
    status: str  # "changed", "added" or "removed"
    old: Layer | None
    new: Layer | None

    @property
    def name(self) -> str:
        layer = self.new or self.old
        assert layer is not None
        if self.old and self.new and self.old.name != self.new.name:
            return f"{self.old.name} → {self.new.name}"
        return layer.name


class Figure(NamedTuple):
    name: str
    old: int
    new: int

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

    def shape(self, change: LayerChange, side: str) -> Shape | None:
        """A changed layer's output shape on one side, in that side's layout."""
        layer = change.old if side == "old" else change.new
        layout = self.old_layout if side == "old" else self.new_layout
        return None if layer is None else layout.display(layer.shape)


def diff(old: Graph, new: Graph, old_label: str, new_label: str) -> Diff:
    """Match layers by name, then the rest by position (aligned by type), and compare."""
    pairs = _match(list(old.layers), list(new.layers))
    changes = []
    unchanged = 0
    for a, b in pairs:
        if a is None:
            changes.append(LayerChange("added", None, b))
        elif b is None:
            changes.append(LayerChange("removed", a, None))
        elif (a.type, old.layout.display(a.shape), a.result.param_count) != \
                (b.type, new.layout.display(b.shape), b.result.param_count) or \
                (a.name != b.name and not (a.auto_named and b.auto_named)):
            changes.append(LayerChange("changed", a, b))
        else:
            unchanged += 1
    s_old, s_new = summarize(old), summarize(new)
    figures = (
        Figure("params", s_old.totals.params, s_new.totals.params),
        Figure("trainable_params", s_old.totals.trainable_params, s_new.totals.trainable_params),
        Figure("non_trainable_params", s_old.totals.non_trainable_params,
               s_new.totals.non_trainable_params),
        Figure("buffers", s_old.totals.buffers, s_new.totals.buffers),
        Figure("param_bytes", s_old.totals.param_bytes, s_new.totals.param_bytes),
        Figure("macs", s_old.totals.macs, s_new.totals.macs),
        Figure("flops", s_old.totals.flops, s_new.totals.flops),
        Figure("training_memory_bytes", s_old.memory.total_bytes, s_new.memory.total_bytes),
        Figure("inference_memory_bytes", s_old.memory.inference_bytes,
               s_new.memory.inference_bytes),
        Figure("layers", s_old.layer_count, s_new.layer_count),
    )
    return Diff(old_label, new_label, s_old, s_new, tuple(changes), figures, unchanged,
                old.layout, new.layout)


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
        if op in ("equal", "replace"):
            for a, b in zip(rest_old[i1:i2], rest_new[j1:j2], strict=False):
                pair_of[b.name] = a
            removed += rest_old[i1 + (j2 - j1):i2] if i2 - i1 > j2 - j1 else []
        elif op == "delete":
            removed += rest_old[i1:i2]
    # Removed layers go where they stood: before the next old layer that has a partner.
    place = {id(pair_of[b.name]): j for j, b in enumerate(new) if b.name in pair_of}
    ranked: list[tuple[float, int, Layer | None, Layer | None]] = [
        (j, 0, pair_of.get(b.name), b) for j, b in enumerate(new)]
    gone = {id(a) for a in removed}
    next_place = float(len(new))
    for i in reversed(range(len(old))):
        a = old[i]
        if id(a) in gone:
            ranked.append((next_place - 0.5, i, a, None))
        elif id(a) in place:
            next_place = place[id(a)]
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [(a, b) for _, _, a, b in ranked]


def _key(layer: Layer) -> str:
    """What aligns two layers: the same type with the same arguments."""
    return f"{layer.type} {sorted(layer.args.items())!r}"


MAX_EDITS = 2000  # past this many insertions and deletions, the rest is paired by position

Opcode = tuple[str, int, int, int, int]


def _opcodes(a: Sequence[str], b: Sequence[str]) -> list[Opcode]:
    """difflib-style opcodes of a shortest edit script from a to b (Myers' O((N+M)·D)
    algorithm): fast for the few edits a change makes, however repetitive the layers (difflib
    takes minutes on 20,000 alternating conv2d and relu)."""
    matches = _matches(a, b)
    if matches is None:  # too different: pair what is there by position
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
    offset = MAX_EDITS + 1
    v = [0] * (2 * offset + 1)  # v[offset + k]: the furthest x reached on diagonal k = x - y
    trace = []
    for d in range(MAX_EDITS + 1):
        trace.append(v[offset - d - 1:offset + d + 2])  # diagonals -d-1 … d+1
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
