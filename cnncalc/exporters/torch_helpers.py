"""The helper classes an exported PyTorch module may need, as source text: each written once,
before the network's own classes, and only where a layer uses it."""

from __future__ import annotations

_SAME = '''
class Same{base}(nn.{base}):
    """nn.{base} after TensorFlow's 'same' padding (output = ceil(input / stride), the odd
    pixel on the right), which PyTorch's padding='same' gives only for stride 1."""

    def __init__(self, pads: tuple[int, ...], mode: str, fill: float | None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pads, self.mode, self.fill = pads, mode, fill

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(nn.functional.pad(x, self.pads, self.mode, self.fill))
'''

_OP = '''
class {name}(nn.Module):
    """{doc}"""

    def __init__(self, {params}) -> None:
        super().__init__()
        {assign}

    def forward(self, {inputs}):
        return {expr}
'''

# name → (docstring, __init__ parameters, forward inputs, the expression forward returns)
_OPS: dict[str, tuple[str, str, str, str]] = {
    "Reshape": (
        "x.reshape to a shape without the batch.",
        "shape",
        "x",
        "x.reshape(x.shape[0], *self.shape)",
    ),
    "Chunk": (
        "torch.chunk, every piece an output.",
        "chunks, dim",
        "x",
        "tuple(torch.chunk(x, self.chunks, self.dim))",
    ),
    "Split": (
        "torch.split, every piece an output.",
        "split_size_or_sections, dim",
        "x",
        "tuple(torch.split(x, self.split_size_or_sections, self.dim))",
    ),
    "Unbind": ("torch.unbind, every slice an output.", "dim", "x", "torch.unbind(x, self.dim)"),
    "Narrow": (
        "torch.narrow.",
        "dim, start, length",
        "x",
        "torch.narrow(x, self.dim, self.start, self.length)",
    ),
    "Permute": (
        "x.permute; the dimensions count the batch as 0.",
        "dims",
        "x",
        "x.permute(*self.dims)",
    ),
    "Transpose": (
        "x.transpose; the dimensions count the batch as 0.",
        "dim0, dim1",
        "x",
        "x.transpose(self.dim0, self.dim1)",
    ),
    "Mean": (
        "torch.mean over dim.",
        "dim, keepdim=False",
        "x",
        "torch.mean(x, self.dim, self.keepdim)",
    ),
    "Sum": (
        "torch.sum over dim.",
        "dim, keepdim=False",
        "x",
        "torch.sum(x, self.dim, self.keepdim)",
    ),
    "Amax": (
        "torch.amax over dim.",
        "dim, keepdim=False",
        "x",
        "torch.amax(x, self.dim, self.keepdim)",
    ),
    "Einsum": (
        "torch.einsum; the equation names the batch too.",
        "equation",
        "a, b",
        "torch.einsum(self.equation, a, b)",
    ),
}

_FIXED: dict[str, str] = {
    "Matmul": '''
class Matmul(nn.Module):
    """torch.matmul of two inputs."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)
''',
    "Embedding": '''
class Embedding(nn.Embedding):
    """nn.Embedding reading any tensor of indices (a float input is cast to long)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.long())
''',
    "LayerNorm2d": '''
class LayerNorm2d(nn.LayerNorm):
    """torchvision's LayerNorm2d: layer norm over the channels of [N, C, H, W]."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
''',
    "UpsampleLike": '''
class UpsampleLike(nn.Upsample):
    """nn.Upsample to the spatial size of a second input."""

    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return nn.functional.interpolate(
            x, like.shape[2:], mode=self.mode, align_corners=self.align_corners
        )
''',
    "MultiheadAttention": '''
class MultiheadAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention (batch first) on one input (self-attention) or query, key and
    value; returns the output and the attention weights averaged over the heads."""

    def forward(self, query, key=None, value=None):
        key = query if key is None else key
        value = key if value is None else value
        return super().forward(query, key, value)
''',
    "LSTM": '''
class LSTM(nn.LSTM):
    """nn.LSTM (batch first) returning output, h_n and c_n, the states batch first too."""

    def forward(self, x: torch.Tensor):
        out, (h_n, c_n) = super().forward(x)
        return out, h_n.transpose(0, 1), c_n.transpose(0, 1)
''',
}
for _rnn in ("GRU", "RNN"):
    _FIXED[_rnn] = f'''
class {_rnn}(nn.{_rnn}):
    """nn.{_rnn} (batch first) returning output and h_n, the state batch first too."""

    def forward(self, x: torch.Tensor):
        out, h_n = super().forward(x)
        return out, h_n.transpose(0, 1)
'''


def helper_source(name: str) -> str:
    """The source of one helper class, by the name a constructor uses."""
    if name in _FIXED:
        return _FIXED[name].strip("\n")
    if name.startswith("Same"):
        return _SAME.format(base=name[4:]).strip("\n")
    doc, params, inputs, expr = _OPS[name]
    names = [p.split("=")[0] for p in params.split(", ")]
    assign = "\n        ".join(f"self.{n} = {n}" for n in names)
    return _OP.format(
        name=name, doc=doc, params=params, assign=assign, inputs=inputs, expr=expr
    ).strip("\n")
