"""Recurrent layers: LSTM, GRU and the plain (Elman) RNN, stacked and bidirectional.

Per sample the input is a sequence [L, I]; the outputs are the output sequence
[L, D·H_out], the last hidden state h_n [D·num_layers, H_out] and, for the LSTM, the last cell
state c_n [D·num_layers, hidden_size] (D = 2 when bidirectional; H_out = proj_size when the LSTM
projects, else hidden_size). PyTorch keeps h_n's and c_n's batch in the middle
([D·num_layers, N, H_out]) whatever `batch_first` says; `batch_first` only moves the batch of
the input and output sequences, so it changes no count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from cnncalc.errors import Display
from cnncalc.layers.args import REQUIRED, Arg, boolean, choice, inferred_size, integer, number
from cnncalc.layers.base import LayerType, Result, Saved
from cnncalc.layers.checks import check_given, fail
from cnncalc.layers.costs import Cost, Grads, twice_forward
from cnncalc.layers.formulas import Explanation
from cnncalc.layers.registry import register
from cnncalc.layers.tensors import Shape, tensor

MAX_LAYERS = 1_024  # num_layers: each layer names its own tensors


class Stack(NamedTuple):
    """The sizes of a recurrent stack."""

    length: int  # L, time steps
    inputs: int  # I, the input's features
    hidden: int  # H
    out: int  # H_out: proj_size, or H
    proj: int  # proj_size, 0 for none
    layers: int
    directions: int  # D
    gates: int

    def layer_inputs(self, layer: int) -> int:
        """I_l: the input's features for layer 0, D·H_out after."""
        return self.inputs if layer == 0 else self.directions * self.out

    def step_macs(self, layer: int) -> int:
        """One time step of one direction of `layer`: gates·H·(I_l + H_out) + H·proj."""
        return self.gates * self.hidden * (self.layer_inputs(layer) + self.out) + (
            self.hidden * self.proj
        )

    def macs(self) -> int:
        per_step = sum(self.step_macs(i) for i in range(self.layers))
        return self.length * self.directions * per_step

    def term(self, layer: int, extra: str = "") -> str:
        """'4·6·(4 + 6)' (+ '6·3' with a projection); `extra` goes inside the bracket."""
        g, h = self.gates, self.hidden
        text = f"{g}·{h}·({self.layer_inputs(layer)} + {self.out}{extra})"
        return f"{text} + {h}·{self.proj}" if self.proj else text

    def per_layer(self, extra: str = "") -> str:
        """Layer 0's term, + (num_layers − 1)·(the others' term)."""
        text = self.term(0, extra)
        if self.layers > 1:
            count = "" if self.layers == 2 else f"{self.layers - 1}·"
            text += f" + {count}({self.term(1, extra)})"
        return text


class Recurrent(LayerType):
    family = "recurrent"
    args: tuple[Arg, ...] = ()

    def __init__(self, name: str, gates: int, cell: int, doc: str, *extra: Arg) -> None:
        self.name = name
        self.gates = gates
        self.cell = cell
        self.doc = doc
        lstm = name == "lstm"
        self.outputs = "output [L, D·H_out], h_n [D·num_layers, H_out]" + (
            ", c_n [D·num_layers, hidden_size]" if lstm else ""
        )
        self.flops_rule = (
            "per time step and layer-direction: 2·MACs, + 2·gates·H with bias (bias_ih and"
            f" bias_hh), + {cell}·H for the cell ({CELL_WORK[name]})"
        )
        self.args = (
            Arg("hidden_size", integer(lo=1), REQUIRED, "H, features of the hidden state", "int"),
            Arg("num_layers", integer(1, MAX_LAYERS), 1, "stacked layers", "int"),
            Arg("bias", boolean(), True, "learn bias_ih and bias_hh", "bool"),
            Arg("batch_first", boolean(), False, "where PyTorch keeps the batch; no count", "bool"),
            Arg("dropout", number(0, 1), 0.0, "between layers; no effect on counts", "float"),
            Arg("bidirectional", boolean(), False, "a second, reversed direction (D = 2)", "bool"),
            *extra,
            inferred_size("input_size"),
        )

    def stack(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Stack:
        """The sizes, checked against the arguments."""
        (shape,) = inputs
        if len(shape) != 2:
            raise fail(
                lambda show: (
                    f"expects a sequence [L, input_size] (without the batch),"
                    f" got {tensor(shape, show)} ({len(shape)}-d)"
                )
            )
        check_given(a, "input_size", shape[1], "feature", " (its last dimension)")
        hidden, proj = a["hidden_size"], a.get("proj_size", 0)
        if proj >= hidden:
            raise fail(f"proj_size {proj} must be smaller than hidden_size {hidden}", "proj_size")
        d = 2 if a["bidirectional"] else 1
        return Stack(
            shape[0], shape[1], hidden, proj or hidden, proj, a["num_layers"], d, self.gates
        )

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        s = self.stack(a, inputs)
        rows = s.gates * s.hidden
        params: dict[str, int] = {}
        for layer in range(s.layers):
            for suffix in ("", "_reverse")[: s.directions]:
                at = f"_l{layer}{suffix}"
                params[f"weight_ih{at}"] = rows * s.layer_inputs(layer)
                params[f"weight_hh{at}"] = rows * s.out
                if a["bias"]:
                    params |= {f"bias_ih{at}": rows, f"bias_hh{at}": rows}
                if s.proj:
                    params[f"weight_hr{at}"] = s.proj * s.hidden
        states = (s.directions * s.layers, s.out)
        cells = ((s.directions * s.layers, s.hidden),) if self.name == "lstm" else ()
        return Result((s.length, s.directions * s.out), params, more=(states, *cells))

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        s = self.stack(a, inputs)
        macs = s.macs()
        steps = s.length * s.directions * s.layers  # time steps of every layer-direction
        per_step = (2 * s.gates * s.hidden if a["bias"] else 0) + self.cell * s.hidden
        return Cost(macs, 2 * macs + steps * per_step)

    saves_rule = (
        "its input; per time step of each layer-direction the tensors its cell's functions"
        " keep: an LSTM 7·H (four gates, the cell state, its tanh, the hidden state), a GRU"
        " 7·H, an RNN H; each layer's output sequence but the last's, L·D·H_out, which the"
        " next layer reads; an RNN's zero initial state, D·num_layers·H; bidirectional, the"
        " input reversed for the backward direction, L·I (PyTorch's"
        " own CPU kernels; oneDNN and cuDNN keep workspaces of their own sizes)"
    )
    backward_rule = "2× forward: the input's and the weights' gradient of every product"

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        s = self.stack(a, inputs)
        per_step = (1 if self.name == "rnn" else 7) * s.hidden
        between = (s.layers - 1) * s.length * s.directions * s.out
        steps = s.layers * s.length * s.directions * per_step
        initial = s.layers * s.directions * s.hidden if self.name == "rnn" else 0
        reversed_input = s.length * s.inputs if s.directions == 2 else 0
        return (
            Saved("input"),
            Saved("other", elements=between + steps + initial + reversed_input),
        )

    def backward(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, forward: Cost, grads: Grads
    ) -> Cost:
        return twice_forward(forward, grads)

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        s = self.stack(a, inputs)
        d = f"{s.directions}·" if s.directions > 1 else ""
        bias = " + 2" if a["bias"] else ""
        h_out = "proj_size" if s.proj else "hidden_size"
        lines = [
            f"output: L × D·H_out = {s.length} × {d}{s.out}  (H_out = {h_out})",
            f"h_n: D·num_layers × H_out = {d}{s.layers} × {s.out}",
        ]
        if self.name == "lstm":
            lines.append(f"c_n: D·num_layers × hidden_size = {d}{s.layers} × {s.hidden}")
        lines.append(
            f"per time step and direction of layer l: {s.gates} gates·H·(I_l + H_out)"
            + (" + H·proj_size" if s.proj else "")
            + f"; I_0 = {s.inputs}"
            + (f", I_l = D·H_out = {s.layer_inputs(1)} after" if s.layers > 1 else "")
        )
        return Explanation(
            tuple(lines),
            f"{d}({s.per_layer(bias)})" if d else s.per_layer(bias),
            macs=f"{s.length}·{d}({s.per_layer()})",
            params_note="weight_ih, weight_hh"
            + (", bias_ih, bias_hh" if a["bias"] else "")
            + (", weight_hr" if s.proj else "")
            + " per layer and direction",
        )


CELL_WORK = {
    "lstm": "3 sigmoids, 2 tanh, c = f⊙c + i⊙g (3), h = o⊙tanh(c) (1)",
    "gru": "2 sigmoids, 1 tanh, r⊙(W_hn·h + b_hn) (1), h = n + z⊙(h − n) (3)",
    "rnn": "the nonlinearity, tanh or relu",
}


register(
    Recurrent(
        "lstm",
        4,
        9,
        "long short-term memory on [L, I]: outputs the sequence, h_n and c_n",
        Arg("proj_size", integer(lo=0), 0, "project h to this size (0: none)", "int"),
    ),
    Recurrent("gru", 3, 7, "gated recurrent unit on [L, I]: outputs the sequence and h_n"),
    Recurrent(
        "rnn",
        1,
        1,
        "Elman RNN on [L, I]: outputs the sequence and h_n",
        Arg("nonlinearity", choice("tanh", "relu"), "tanh", "of the hidden state", "str"),
    ),
)
