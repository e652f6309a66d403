"""The expansion stage on its own: instances, names, scopes, references, shared arguments."""

from __future__ import annotations

import subprocess
import sys

from cnncalc.errors import LayerError
from cnncalc.expand import NETWORK_INPUT, Group, expand
from cnncalc.graph import build
from cnncalc.layers import TYPES
from cnncalc.spec import Layout, from_text

SPEC = """\
input: [3, 32, 32]
blocks:
  unit:
    args: {c: 8}
    layers:
      - conv2d: {out_channels: "${c}", kernel_size: 3, padding: 1}
      - relu
layers:
  - {name: stage, unit: {c: 8}, repeat: 2}
  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1}
  - {add: {}, from: [stage, conv2d_1]}
"""


def test_blocks_and_repeats_expand_to_qualified_instances() -> None:
    x = expand(from_text(SPEC, "s.yaml"))
    assert list(x.instances) == [
        "stage.0.conv2d_1",
        "stage.0.relu_1",
        "stage.1.conv2d_1",
        "stage.1.relu_1",
        "conv2d_1",
        "add_1",
    ]
    first = x.instances["stage.0.conv2d_1"]
    assert first.groups == (
        Group("stage", "repeat", first.groups[0].pos),
        Group("stage.0", "unit", first.groups[1].pos),
    )
    assert first.refs[0].target == NETWORK_INPUT
    assert [r.target for r in x.instances["add_1"].refs] == ["stage", "conv2d_1"]  # unresolved
    assert x.aliases["stage"].target == "stage.1.relu_1"
    assert x.output.target == "add_1"


def test_layers_written_alike_share_arguments_and_their_number() -> None:
    x = expand(from_text(SPEC, "s.yaml"))
    a, b, c = (x.instances[n] for n in ("stage.0.conv2d_1", "stage.1.conv2d_1", "conv2d_1"))
    assert a.args is b.args and a.args_key == b.args_key
    assert c.args is a.args and c.args_key == a.args_key  # ${c} evaluated to the same 8
    relu, add = x.instances["stage.0.relu_1"], x.instances["add_1"]
    assert len({a.args_key, relu.args_key, add.args_key}) == 3


def test_each_layer_holds_its_facts_shared_by_key() -> None:
    g = build(from_text(SPEC, "s.yaml"))
    for layer in g.layers:
        t, ins = TYPES[layer.type], g.input_shapes(layer)
        assert layer.cost == t.cost(layer.args, ins, layer.shape)
        assert _plain(layer.rule) == _plain(t.receptive(layer.args, ins, layer.shape))
        assert layer.key[1] == tuple(ins)
    a, b = g.by_name["stage.1.conv2d_1"], g.by_name["conv2d_1"]  # alike, the same input
    assert a.key == b.key and a.result is b.result and a.cost is b.cost
    assert g.by_name["stage.0.conv2d_1"].key != a.key  # 3 channels in, not 8


def _plain(rule: object) -> object:
    """A rule without its functions, which compare by identity."""
    if isinstance(rule, tuple):
        return [(s.step, s.offset, s.width, s.exact) for s in rule]
    return rule


def test_a_layer_error_is_worded_in_the_layout_it_is_given() -> None:
    err = LayerError(lambda show: f"got {'×'.join(map(str, show((1, 28, 28))))}")
    assert err.message == "got 1×28×28"
    assert err.worded(Layout.CHANNELS_LAST.display) == "got 28×28×1"
    assert LayerError("plain").worded(Layout.CHANNELS_LAST.display) == "plain"


def test_expansion_imports_no_later_stage() -> None:
    code = "import sys, cnncalc.expand; print('cnncalc.graph' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
