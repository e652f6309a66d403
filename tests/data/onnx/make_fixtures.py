"""Write the ONNX files that torch's dynamo exporter makes, for tests/test_import_onnx.py.

The exporter needs the onnxscript package, which the tests do not: the files are kept here
instead, their weights turned into external data that is not kept (the importer reads only
the weights' dims), the nodes' metadata cut to their module paths. Run from the repository
root with onnxscript installed:

    PYTHONPATH=.:tests python tests/data/onnx/make_fixtures.py
"""

from __future__ import annotations

from pathlib import Path

import onnx
import torch
from test_import_onnx import TinyViT
from torch import nn

from reference_models import REFERENCES

HERE = Path(__file__).resolve().parent


def _write(model: nn.Module, shape: tuple[int, ...], name: str) -> None:
    program = torch.onnx.export(
        model.eval(), (torch.zeros(1, *shape),), dynamo=True, optimize=False
    )
    proto = program.model_proto
    for tensor in proto.graph.initializer:
        if len(tensor.raw_data) > 64:
            tensor.ClearField("raw_data")
            tensor.data_location = onnx.TensorProto.EXTERNAL
            tensor.external_data.add(key="location", value="weights.bin")
    for node in proto.graph.node:  # keep the module paths, not the stack traces
        keep = [p for p in node.metadata_props if p.key == "pkg.torch.onnx.name_scopes"]
        del node.metadata_props[:]
        node.metadata_props.extend(keep)
    onnx.save(proto, str(HERE / f"{name}.onnx"))


if __name__ == "__main__":
    torch.manual_seed(0)
    _write(REFERENCES["resnet18"].build(), (3, 224, 224), "resnet18_dynamo")
    _write(TinyViT(), (3, 16, 16), "tiny_vit_dynamo")
