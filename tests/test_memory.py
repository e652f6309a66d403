"""Training and inference memory: the documented tables, computed by hand."""

from __future__ import annotations

import json
import textwrap

import pytest

from cnncalc.graph import build
from cnncalc.memory import Dtype, Optimizer, memory
from cnncalc.spec import from_text
from conftest import SPECS, run

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
# input 3·8·8 = 192, conv 8·6·6 = 288, bn 288; relu in place and flatten a view add
# nothing; linear 10.
ACTIVATIONS = 192 + 288 + 288 + 10


def graph():  # type: ignore[no-untyped-def]
    return build(from_text(textwrap.dedent(SPEC), "m.yaml"))


@pytest.mark.parametrize(
    ("optimizer", "states"),
    [
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
    assert m.params_bytes == PARAMS * size
    assert m.buffers_bytes == BUFFERS * size
    assert m.grads_bytes == TRAINABLE * size  # frozen parameters get no gradient
    assert m.optimizer_state_bytes == TRAINABLE * states * size
    assert m.activations_bytes == 3 * ACTIVATIONS * size
    assert (
        m.total_bytes
        == (PARAMS + BUFFERS + TRAINABLE + TRAINABLE * states + 3 * ACTIVATIONS) * size
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
    assert m.activations_bytes == 500 * 4


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
    one = json.loads(
        run("summarize", str(SPECS / "resnet50.yaml"), "-f", "json", "--dtype", "float16").stdout
    )["totals"]["memory"]
    assert mem["activations_bytes"] == 8 * one["activations_bytes"]


def test_memory_budget_in_check() -> None:
    spec = str(SPECS / "resnet50.yaml")
    assert run("check", spec, "--max-memory", "1GiB").exit_code == 0
    result = run("check", spec, "--max-memory", "1GiB", "--batch", "64")
    assert result.exit_code == 1
    assert "memory (--max-memory) is" in result.stdout
    assert run("check", spec, "--max-macs", "4.1G").exit_code == 0
    assert run("check", spec, "--max-macs", "4.05G").exit_code == 1
