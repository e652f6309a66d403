"""`cnncalc verify` of every hand-written spec in specs/ against its real model.

The models are the hand-written PyTorch references (tests/reference_models.py), read through
the PyTorch importer (`torch:reference_models:NAME`) and, for a few, through an ONNX file
torch exports; a spec altered on purpose must fail, naming the line it was altered on.
"""

from __future__ import annotations

import io
from pathlib import Path

import onnx
import pytest
import torch

from cnncalc import api
from conftest import ROOT, run
from reference_models import REFERENCES

SPECS = ROOT / "specs"
STEMS = sorted(stem for stem in REFERENCES if (SPECS / f"{stem}.yaml").exists())
FAST = {"lenet5", "tiny_resnet", "exercise_conv", "two_input"}


@pytest.mark.parametrize(
    "stem", [pytest.param(s, marks=() if s in FAST else pytest.mark.slow) for s in STEMS]
)
def test_every_spec_agrees_with_its_pytorch_model(stem: str) -> None:
    verdict = api.verify(SPECS / f"{stem}.yaml", f"torch:reference_models:{stem}")
    assert verdict.agrees, [d for d in verdict.differences]
    assert verdict.paired > 0


def test_an_altered_spec_fails_on_the_altered_line(tmp_path: Path) -> None:
    text = (SPECS / "lenet5.yaml").read_text()
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "out_channels: 16" in t)
    altered = tmp_path / "lenet5.yaml"
    altered.write_text(text.replace("out_channels: 16", "out_channels: 12", 1))
    result = run("verify", str(altered), "--against", "torch:reference_models:lenet5")
    assert result.exit_code == 1, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{altered}:{line}:"), first
    assert "output shape 12×10×10, the model" in first
    assert result.stdout.splitlines()[-1].startswith(f"✗ {altered} differs from")


def _onnx_file(stem: str, path: Path) -> Path:
    """The reference model exported by torch's legacy exporter, batch norm kept."""
    ref = REFERENCES[stem]
    buf = io.BytesIO()
    torch.onnx.export(
        ref.build(),
        ref.example(),
        buf,
        dynamo=False,
        training=torch.onnx.TrainingMode.TRAINING,
        do_constant_folding=False,
    )
    out = path / f"{stem}.onnx"
    onnx.save(onnx.load_from_string(buf.getvalue()), str(out))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("stem", ["resnet18", "mobilenetv2", "tiny_resnet"])
def test_specs_agree_with_onnx_exports(stem: str, tmp_path: Path) -> None:
    model = _onnx_file(stem, tmp_path)
    result = run("verify", str(SPECS / f"{stem}.yaml"), "--against", str(model))
    assert result.exit_code == 0, result.output


def test_verify_reports_bad_input() -> None:
    result = run("verify", str(SPECS / "lenet5.yaml"), "--against", "model.bin")
    assert result.exit_code == 2
    assert "cannot tell what kind of model 'model.bin' is" in result.stderr
