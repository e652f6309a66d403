"""Training and inference memory: the documented tables, computed by hand."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from cnncalc.graph import build
from cnncalc.memory import Dtype, Optimizer, memory
from cnncalc.spec import from_text
from conftest import SPECS, run, write_spec

# conv 3→8 k3 (bias): 8·3·9 + 8 = 224 params; bn: 16 params, 16 buffers; relu in place;
# flatten (a view); linear 8·6·6 → 10: 2,880 + 10 = 2,890 params (frozen).
SPEC = """
    input: [3, 8, 8]
    layers:
      - conv2d: {out_channels: 8, kernel_size: 3}
      - batchnorm2d
      - relu: {inplace: true}
      - flatten
      - linear: {out_features: 10}
        trainable: false
    """
PARAMS = 224 + 16 + 2_890
TRAINABLE = 224 + 16
BUFFERS = 16
# What backward keeps, per sample: the conv its input (3·8·8 = 192), the batch norm its input
# (the conv's output, 8·6·6 = 288), the in-place relu its output (the batch norm's, 288,
# overwritten); the flatten is a view and the linear keeps the relu's output, already kept.
ACTIVATIONS = 192 + 288 + 288
STATS = 2 * 8  # the batch norm's mean and inverse deviation per channel, whatever the batch


def graph():  # type: ignore[no-untyped-def]
    return build(from_text(textwrap.dedent(SPEC), "m.yaml"))


@pytest.mark.parametrize(
    ("optimizer", "states"),
    [
        ("lion", 1),
        ("sgd", 0),
        ("momentum", 1),
        ("nesterov", 1),
        ("adagrad", 1),
        ("rmsprop", 1),
        ("adam", 2),
        ("adamw", 2),
    ],
)
@pytest.mark.parametrize(
    ("dtype", "size"),
    [
        ("float32", 4),
        ("float16", 2),
        ("bfloat16", 2),
        ("float64", 8),
        ("int8", 1),
    ],
)
def test_training_memory_table(optimizer: str, states: int, dtype: str, size: int) -> None:
    m = memory(graph(), batch=3, dtype=Dtype(dtype), optimizer=Optimizer(optimizer))
    stats = STATS * (8 if dtype == "float64" else 4)  # float32 statistics but at float64
    assert m.params_bytes == PARAMS * size
    assert m.buffers_bytes == BUFFERS * size
    assert m.grads_bytes == TRAINABLE * size  # frozen parameters get no gradient
    assert m.optimizer_state_bytes == TRAINABLE * states * size
    assert m.activations_bytes == 3 * ACTIVATIONS * size + stats
    assert m.master_params_bytes == 0
    assert (
        m.total_bytes
        == (PARAMS + BUFFERS + TRAINABLE + TRAINABLE * states + 3 * ACTIVATIONS) * size + stats
    )


def test_state_dtype_option() -> None:
    m = memory(graph(), dtype=Dtype.FLOAT16, optimizer=Optimizer.ADAM, state_dtype=Dtype.FLOAT32)
    assert m.optimizer_state_bytes == TRAINABLE * 2 * 4
    assert m.params_bytes == PARAMS * 2


def test_peak_inference_activations() -> None:
    # Alive at once: the conv reads the input (192) while writing 288; then bn reads 288 and
    # writes 288 (the input is dead): the peak is 576; the linear's 288 + 10 is less.
    m = memory(graph(), batch=2)
    assert m.peak_activations_bytes == 2 * 576 * 4
    assert m.inference_bytes == (PARAMS + BUFFERS) * 4 + 2 * 576 * 4


def test_a_skip_connection_keeps_its_tensor_alive() -> None:
    g = build(
        from_text(
            textwrap.dedent("""
        input: [1, 10, 10]
        layers:
          - conv2d: {out_channels: 1, kernel_size: 1}
            name: a
          - conv2d: {out_channels: 1, kernel_size: 1}
          - conv2d: {out_channels: 1, kernel_size: 1}
          - add:
            from: [conv2d_2, a]
        """),
            "m.yaml",
        )
    )
    m = memory(g)
    # At conv2d_2: a (100, kept for the add), conv2d_1 (read) and conv2d_2 (written) = 300
    # floats; at the add: a, conv2d_2 and the sum = 300.
    assert m.peak_activations_bytes == 300 * 4
    # Backward keeps each conv's input (the input, a, conv2d_1); the add keeps nothing.
    assert m.activations_bytes == 300 * 4
    assert {k: v.saved_bytes for k, v in m.layers.items()} == {
        "a": 400,
        "conv2d_1": 400,
        "conv2d_2": 400,
        "add_1": 0,
    }


def test_json_memory_and_cli_options() -> None:
    data = json.loads(
        run(
            "summarize",
            str(SPECS / "resnet50.yaml"),
            "-f",
            "json",
            "--batch",
            "8",
            "--dtype",
            "float16",
            "--optimizer",
            "sgd",
        ).stdout
    )
    mem = data["totals"]["memory"]
    assert (mem["batch"], mem["dtype"], mem["optimizer"]) == (8, "float16", "sgd")
    assert mem["params_bytes"] == 25_557_032 * 2
    assert mem["grads_bytes"] == 25_557_032 * 2
    assert mem["optimizer_state_bytes"] == 0
    assert mem["total_bytes"] == sum(
        mem[k]
        for k in (
            "params_bytes",
            "buffers_bytes",
            "grads_bytes",
            "optimizer_state_bytes",
            "activations_bytes",
        )
    )
    assert data["totals"]["macs"] == 8 * 4_089_184_256

    def kept(batch: int) -> int:
        args = ("summarize", str(SPECS / "resnet50.yaml"), "-f", "json", "--dtype", "float16")
        out = json.loads(run(*args, "--batch", str(batch)).stdout)["totals"]["memory"]
        return int(out["activations_bytes"])

    # Linear in the batch, plus the batch norms' statistics (2 per channel, float32), which
    # do not grow with it: 26,560 channels.
    assert mem["activations_bytes"] == kept(8)
    assert kept(8) - kept(1) == 7 * (kept(2) - kept(1))
    assert 8 * kept(1) - kept(8) == 7 * 2 * 26_560 * 4


def test_memory_budget_in_check() -> None:
    spec = str(SPECS / "resnet50.yaml")
    assert run("check", spec, "--max-memory", "1GiB").exit_code == 0
    result = run("check", spec, "--max-memory", "1GiB", "--batch", "64")
    assert result.exit_code == 1
    assert "memory (--max-memory) is" in result.stdout
    assert run("check", spec, "--max-macs", "4.1G").exit_code == 0
    assert run("check", spec, "--max-macs", "4.05G").exit_code == 1


def test_mixed_precision_gives_each_tensor_its_dtype() -> None:
    """Half weights, gradients and activations; float32 master weights (trainable only),
    optimizer state and buffers; the batch norm's statistics float32 as ever."""
    m = memory(graph(), batch=3, optimizer=Optimizer.ADAM, mixed_precision=Dtype.BFLOAT16)
    assert (m.dtype, m.mixed_precision) == (Dtype.BFLOAT16, Dtype.BFLOAT16)
    assert m.params_bytes == PARAMS * 2
    assert m.master_params_bytes == TRAINABLE * 4
    assert m.grads_bytes == TRAINABLE * 2
    assert m.optimizer_state_bytes == TRAINABLE * 2 * 4
    assert m.buffers_bytes == BUFFERS * 4
    assert m.activations_bytes == 3 * ACTIVATIONS * 2 + STATS * 4
    assert m.total_bytes == (
        PARAMS * 2 + TRAINABLE * 4 + BUFFERS * 4 + TRAINABLE * 2 + TRAINABLE * 8
    ) + (3 * ACTIVATIONS * 2 + STATS * 4)
    # --state-dtype still says the state's dtype
    m = memory(graph(), mixed_precision=Dtype.FLOAT16, state_dtype=Dtype.BFLOAT16)
    assert m.optimizer_state_bytes == TRAINABLE * 2 * 2


def test_mixed_precision_and_lion_on_the_command_line(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, textwrap.dedent(SPEC))
    args = ("summarize", spec, "-f", "json", "--mixed-precision", "float16", "--optimizer")
    mem = json.loads(run(*args, "lion").stdout)["totals"]["memory"]
    assert (mem["dtype"], mem["mixed_precision"], mem["optimizer"]) == ("float16", True, "lion")
    assert mem["master_params_bytes"] == TRAINABLE * 4
    assert mem["optimizer_state_bytes"] == TRAINABLE * 1 * 4  # Lion: one momentum, float32
    table = run("summarize", spec, "--mixed-precision", "bfloat16").stdout
    assert "mixed bfloat16, adam" in table
    assert f"+ master weights {TRAINABLE * 4} B" in table
    bad = run("summarize", spec, "--mixed-precision", "float32")
    assert bad.exit_code == 2


def test_per_layer_memory_in_json_adds_up() -> None:
    data = json.loads(run("summarize", str(SPECS / "resnet50.yaml"), "-f", "json").stdout)
    rows = {r["name"]: r for r in data["layers"]}
    mem = data["totals"]["memory"]
    assert sum(r["saved_bytes"] for r in rows.values()) == mem["activations_bytes"]
    # conv1 keeps the input; bn1 its input (conv1's output) and 2·64 float32 statistics;
    # the relu its output; the max pool its input (that same storage, counted at the relu)
    # and an int64 index per output element.
    assert rows["conv1"]["saved_bytes"] == 3 * 224 * 224 * 4
    assert rows["bn1"]["saved_bytes"] == 64 * 112 * 112 * 4 + 2 * 64 * 4
    assert rows["relu_1"]["saved_bytes"] == 64 * 112 * 112 * 4
    assert rows["maxpool"]["saved_bytes"] == 64 * 56 * 56 * 8
    assert rows["conv1"]["output_bytes"] == 64 * 112 * 112 * 4
    assert rows["flatten_1"]["output_bytes"] == 0  # a view
    assert rows["layer1.0.add_1"]["saved_bytes"] == 0


def test_the_saved_column_and_depth(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, textwrap.dedent(SPEC))
    table = run("summarize", spec, "--memory", "--wide").stdout
    head = next(line for line in table.splitlines() if line.startswith("Layer"))
    assert "Saved" in head.split()
    assert "768 B" in table  # the conv keeps its 3·8·8 float32 input
    csv = run("summarize", spec, "--memory", "-f", "csv").stdout.splitlines()
    assert csv[0].split(",")[-4:] == ["saved", "rf", "rf_stride", "rf_padding"]
    assert [line.split(",")[-4] for line in csv[1:]] == ["768", "1216", "1152", "0", "0"]
    collapsed = json.loads(
        run("summarize", str(SPECS / "resnet50.yaml"), "-f", "json", "--depth", "1").stdout
    )
    assert (
        sum(r["saved_bytes"] for r in collapsed["layers"])
        == (collapsed["totals"]["memory"]["activations_bytes"])
    )


def test_activation_budgets_in_check(tmp_path: Path) -> None:
    """--max-activations holds the total kept for backward; expect: layers: NAME:
    {saved_bytes, output_bytes} hold one layer's."""
    text = textwrap.dedent(SPEC) + textwrap.dedent("""
        expect:
          activations: 3136
          layers:
            conv2d_1: {saved_bytes: 768, output_bytes: 1152}
            batchnorm2d_1: {saved_bytes: {max: 1000}}
        """)
    spec = write_spec(tmp_path, text)
    result = run("check", spec)
    assert result.exit_code == 1, result.stdout
    assert "layer 'batchnorm2d_1' saved_bytes is 1,216 B (1.19 KiB), more than the maximum" in (
        result.stdout
    )
    assert "1 of 4 expectations failed" in result.stdout
    over = run("check", str(SPECS / "resnet50.yaml"), "--max-activations", "80MiB")
    assert over.exit_code == 1
    assert "activations (--max-activations) is 86,121,984 B (82.13 MiB)" in over.stdout
    assert run("check", str(SPECS / "resnet50.yaml"), "--max-activations", "83MiB").exit_code == 0


def test_training_flops_by_hand() -> None:
    """Backward per layer: the conv on the network's input gets only its weights' gradient
    (2·MACs) and its bias's (1 per output); the batch norm 7 per element (a forward with batch
    statistics, scale and shift); the relu as many as forward; the frozen linear only its
    input's gradient (2·MACs, no bias)."""
    data = json.loads(run("summarize", "-", "-f", "json", input=textwrap.dedent(SPEC)).stdout)
    rows = {r["name"]: r for r in data["layers"]}
    conv_macs, linear_macs = 288 * 27, 288 * 10
    assert rows["conv2d_1"]["backward_macs"] == conv_macs
    assert rows["conv2d_1"]["backward_flops"] == 2 * conv_macs + 288
    assert rows["batchnorm2d_1"]["backward_flops"] == 288 * 7
    assert rows["relu_1"]["backward_flops"] == 288
    assert rows["linear_1"]["backward_macs"] == linear_macs
    assert rows["linear_1"]["backward_flops"] == 2 * linear_macs
    t = data["totals"]
    assert t["backward_macs"] == conv_macs + linear_macs
    assert t["backward_flops"] == (2 * conv_macs + 288) + 288 * 7 + 288 + 2 * linear_macs
    assert t["training_flops"] == t["flops"] + t["backward_flops"]
    two = json.loads(
        run("summarize", "-", "-f", "json", "--batch", "2", input=textwrap.dedent(SPEC)).stdout
    )
    assert two["totals"]["backward_flops"] == 2 * t["backward_flops"]
