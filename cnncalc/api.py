"""The Python API: a spec's figures as records, for notebooks and programs.

The command line is one client of these functions; they never print and never exit. Each
takes a *source*: a path (`str` or `os.PathLike`), YAML text (a `str` holding a line break), or
a mapping parsed already (as `yaml.safe_load` gives). Every problem with a spec or an argument
raises `cnncalc.Error`, which carries `file`, `line`, `column`, `layer` and `message`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Union

from cnncalc import analysis
from cnncalc.enums import DrawFormat
from cnncalc.errors import UsageError
from cnncalc.graph import DEFAULT_MAX_LAYERS, Graph, build
from cnncalc.memory import Dtype, Optimizer
from cnncalc.source import GitRef
from cnncalc.spec import Spec, from_text, load

if TYPE_CHECKING:
    from cnncalc.checking import SpecResult
    from cnncalc.diff import Diff
    from cnncalc.explaining import Explanation
    from cnncalc.render import Columns
    from cnncalc.rfquery import FieldTable, UnitReport
    from cnncalc.verify import Verdict

# A git version (GitRef) is a source only when made on purpose: cnncalc.source.source_of makes
# one from the command line's `git:REV:PATH`; a plain string is never read as one.
Source = Union[str, "os.PathLike[str]", Mapping[str, Any], GitRef, Spec]
Input = Sequence[int] | Mapping[str, Sequence[int]]  # a shape, or shapes by input name
MAPPING = "<mapping>"  # how messages name a spec given as a mapping
STRING = "<string>"  # and one given as YAML text


class Summary(analysis.Summary):
    """Every layer's figures and the totals: `s.totals.params`, `s.layers[0].output_shape`.

    `to_dict()` is the document `cnncalc summarize --format json` prints; in a notebook the
    summary shows itself as a Markdown table, and `str()` gives the terminal table.
    """

    __slots__ = ()

    @property
    def layers(self) -> tuple[analysis.Row, ...]:
        """The rows of the table: one per layer, or per block instance collapsed by `depth`."""
        return self.rows

    def to_dict(self) -> dict[str, Any]:
        """The JSON document as Python data (integers exact, fractions as '1/2')."""
        from cnncalc.render.json import summary_dict

        return summary_dict(self)

    def to_json(self) -> str:
        """The JSON document, as `cnncalc summarize --format json` prints it."""
        from cnncalc.render import Format, render

        return render(self, Format.JSON)

    def _repr_markdown_(self) -> str:
        from cnncalc.render import Format, render

        return render(self, Format.MARKDOWN)

    def __str__(self) -> str:
        from cnncalc.render import Format, render

        return render(self, Format.TABLE)


def load_spec(source: Source) -> Spec:
    """Read and check a spec from a path, YAML text, a parsed mapping or a git version."""
    if isinstance(source, Spec):
        return source
    if isinstance(source, GitRef):
        return load(source)
    if isinstance(source, Mapping):
        import yaml

        try:
            text = yaml.safe_dump(_plain(source), sort_keys=False, allow_unicode=True)
        except yaml.YAMLError as err:
            raise UsageError(f"the mapping is not plain data: {err}") from None
        return from_text(text, MAPPING)
    if isinstance(source, os.PathLike):
        return load(os.fspath(source))
    if isinstance(source, str):
        return from_text(source, STRING) if "\n" in source else load(source)
    raise UsageError(f"a source is a path, YAML text or a mapping, not {type(source).__name__}")


def _plain(value: Any) -> Any:
    """Tuples as lists, so that a mapping written in Python dumps as plain YAML."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def graph_of(
    source: Source, *, input: Input | None = None, max_layers: int = DEFAULT_MAX_LAYERS
) -> Graph:
    """The layer graph of a spec; `input` (in the spec's layout) overrides its input shape,
    or, as a mapping of names to shapes, some of its several inputs."""
    spec = load_spec(source)
    if isinstance(input, Mapping):
        shapes = {name: spec.layout.to_internal(_shape(dims)) for name, dims in input.items()}
        return build(spec, input_shapes=shapes, max_layers=max_layers)
    shape = None if input is None else spec.layout.to_internal(_shape(input))
    return build(spec, input_shape=shape, max_layers=max_layers)


def _shape(dims: Sequence[int]) -> tuple[int, ...]:
    if isinstance(dims, (str, bytes)) or not dims:
        raise UsageError("input must be a non-empty sequence of sizes, like (3, 224, 224)")
    if not all(type(d) is int and d >= 1 for d in dims):
        raise UsageError(f"input sizes must be whole numbers of at least 1, got {list(dims)}")
    return tuple(dims)


def _choice(kind: type[Dtype] | type[Optimizer], value: object, what: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        names = ", ".join(k.value for k in kind)
        raise UsageError(f"{what} {value!r} is not one of {names}") from None


def _batch(batch: object) -> int:
    if type(batch) is not int or batch < 1:
        raise UsageError(f"batch must be a whole number of at least 1, got {batch!r}")
    return batch


def _settings(
    batch: object,
    dtype: object,
    optimizer: object,
    state_dtype: object,
    mixed_precision: object = None,
) -> dict[str, Any]:
    """The batch size and the memory settings, checked and made the core's enums."""
    mixed = None if mixed_precision is None else _choice(Dtype, mixed_precision, "mixed_precision")
    if mixed not in (None, Dtype.FLOAT16, Dtype.BFLOAT16):
        raise UsageError(f"mixed_precision must be float16 or bfloat16, got {mixed_precision!r}")
    return {
        "batch": _batch(batch),
        "dtype": _choice(Dtype, dtype, "dtype"),
        "optimizer": _choice(Optimizer, optimizer, "optimizer"),
        "state_dtype": None if state_dtype is None else _choice(Dtype, state_dtype, "state_dtype"),
        "mixed_precision": mixed,
    }


def summarize(
    source: Source,
    *,
    input: Input | None = None,
    batch: int = 1,
    dtype: str | Dtype = "float32",
    optimizer: str | Optimizer = "adam",
    state_dtype: str | Dtype | None = None,
    depth: int | None = None,
    max_layers: int = DEFAULT_MAX_LAYERS,
    mixed_precision: str | Dtype | None = None,
) -> Summary:
    """Shapes, parameters, MACs, FLOPs, receptive fields and memory of a spec.

    `batch` scales MACs, FLOPs and activation memory; `dtype`, `optimizer` and `state_dtype`
    set the bytes of the memory figures, `mixed_precision` (float16 or bfloat16) the mixed
    precision training cnncalc/memory.py describes; `depth` collapses block instances below
    that level.
    """
    settings = _settings(batch, dtype, optimizer, state_dtype, mixed_precision)
    if depth is not None and (type(depth) is not int or depth < 1):
        raise UsageError(f"depth must be a whole number of at least 1, got {depth!r}")
    graph = graph_of(source, input=input, max_layers=max_layers)
    summary = analysis.summarize(graph, depth=depth, **settings)
    return Summary(*summary)


def rf(
    source: Source,
    *,
    input: Input | None = None,
    layer: str | None = None,
    unit: Sequence[int] | None = None,
    max_layers: int = DEFAULT_MAX_LAYERS,
) -> FieldTable | UnitReport:
    """Receptive fields of every spatial layer (or of `layer`); with `unit`, the input region
    that one unit of `layer` sees, as `cnncalc rf --layer NAME --unit I,J` gives it."""
    from cnncalc.rfquery import field_table, unit_report

    graph = graph_of(source, input=input, max_layers=max_layers)
    if unit is None:
        return field_table(graph, layer)
    if layer is None:
        raise UsageError("a unit needs the layer it belongs to: rf(..., layer=NAME, unit=...)")
    if isinstance(unit, (str, bytes)) or not all(type(u) is int and u >= 0 for u in unit):
        raise UsageError(f"unit must be whole numbers counted from 0, got {unit!r}")
    return unit_report(graph, layer, tuple(unit))


def check(
    *sources: str | os.PathLike[str],
    max_params: int | str | None = None,
    max_macs: int | str | None = None,
    max_flops: int | str | None = None,
    max_memory: int | str | None = None,
    batch: int = 1,
    dtype: str | Dtype = "float32",
    optimizer: str | Optimizer = "adam",
    state_dtype: str | Dtype | None = None,
    max_layers: int = DEFAULT_MAX_LAYERS,
    max_activations: int | str | None = None,
    mixed_precision: str | Dtype | None = None,
) -> list[SpecResult]:
    """Each spec held to its `expect:` section and to the budgets given (`26M`, `8GiB`, an int).

    Paths may be files, directories (every *.yaml and *.yml below) or globs. An invalid spec is
    a result with `.error`, not an exception; `.status` is 'passed', 'failed' or 'invalid'.
    """
    from cnncalc.checking import check_spec, collect
    from cnncalc.expect import budget, parse_number

    limits = {
        "params": max_params,
        "macs": max_macs,
        "flops": max_flops,
        "memory": max_memory,
        "activations": max_activations,
    }
    budgets = []
    for figure, limit in limits.items():
        if limit is not None:
            try:
                budgets.append(budget(figure, parse_number(limit)))
            except ValueError as err:
                raise UsageError(f"max_{figure}: {err}") from None
    settings = _settings(batch, dtype, optimizer, state_dtype, mixed_precision)
    collected = collect([os.fspath(s) for s in sources])
    return [
        check_spec(path, budgets, max_layers=max_layers, **settings) for path in collected.sources
    ]


def explain(
    source: Source,
    *,
    layer: str | None = None,
    input: Input | None = None,
    batch: int = 1,
    flops: bool = True,
    max_layers: int = DEFAULT_MAX_LAYERS,
) -> Explanation:
    """The worked formulas behind every figure of every layer (or of `layer`, a layer or a
    block instance): shapes, parameters, MACs, FLOPs (unless `flops` is false) and receptive
    fields, at `batch`."""
    from cnncalc.explaining import explain as explain_graph

    batch = _batch(batch)  # before any work
    graph = graph_of(source, input=input, max_layers=max_layers)
    return explain_graph(graph, layer=layer, batch=batch, flops=flops)


def diff(
    old: Source,
    new: Source,
    *,
    old_label: str | None = None,
    new_label: str | None = None,
    max_layers: int = DEFAULT_MAX_LAYERS,
) -> Diff:
    """What changes between two versions of a spec: layers matched by name, then by type and
    arguments, and the totals. The labels name the sides (default: how messages name them)."""
    from cnncalc.diff import diff as diff_graphs

    before, after = load_spec(old), load_spec(new)
    return diff_graphs(
        build(before, max_layers=max_layers),
        build(after, max_layers=max_layers),
        before.path if old_label is None else old_label,
        after.path if new_label is None else new_label,
    )


def import_model(
    model: str, *, input: Sequence[int] | Sequence[Sequence[int]] | None = None
) -> str:
    """A model (`x.onnx`, a Keras `x.json` or `x.keras`, `torch:package.module:factory`) as a
    spec's YAML text; `input` (channels first, no batch; one shape per input of a PyTorch
    module's forward) fills dimensions it leaves open."""
    from cnncalc.importers import read_model

    return read_model(model, input_shape=input).text


def verify(
    source: Source,
    against: str,
    *,
    input: Sequence[int] | None = None,
    max_layers: int = DEFAULT_MAX_LAYERS,
) -> Verdict:
    """A hand-written spec compared with a real model, layer by layer: output shapes,
    parameters and buffers. The model is read at the spec's input shape unless `input` says."""
    from cnncalc.importers import read_model
    from cnncalc.verify import verify as compare

    spec = load_spec(source)
    shape = spec.input_shape if input is None else spec.layout.to_internal(_shape(input))
    mine = build(spec, input_shape=shape, max_layers=max_layers)
    shapes = [shape, *[i.shape for i in spec.inputs[1:]]]  # every input, in order
    imported = read_model(against, input_shape=shapes if len(shapes) > 1 else shape)
    theirs = build(from_text(imported.text, against), max_layers=max_layers)
    return compare(mine, theirs, spec.path, against)


# Drawings and the HTML page (issue 15).
class HtmlReport(NamedTuple):
    """`summarize --format html`: the page, and the summary it shows (for its notices)."""

    summary: Summary
    html: str


def draw(
    source: Source,
    *,
    format: str | DrawFormat = "mermaid",
    depth: int | None = None,
    input: Input | None = None,
    max_layers: int = DEFAULT_MAX_LAYERS,
) -> str | bytes:
    """A drawing of the network: Mermaid or Graphviz DOT text, or SVG text or PNG bytes drawn
    by Graphviz's `dot` (an Error naming the package when it is not installed). `depth` draws
    each block instance that many levels down as one node."""
    from cnncalc.exporters import draw as drawing

    try:
        fmt = DrawFormat(format)
    except ValueError:
        names = ", ".join(f.value for f in DrawFormat)
        raise UsageError(f"format {format!r} is not one of {names}") from None
    _depth(depth)
    graph = graph_of(source, input=input, max_layers=max_layers)
    d = drawing.drawing(graph, depth=depth)
    if fmt is DrawFormat.MERMAID:
        return drawing.mermaid(d)
    text = drawing.dot(d)
    if fmt is DrawFormat.DOT:
        return text
    image = drawing.image(text, fmt.value, edges=len(d.edges))
    return image.decode("utf-8") if fmt is DrawFormat.SVG else image


def html_report(
    source: Source,
    *,
    input: Input | None = None,
    depth: int | None = None,
    columns: Columns | None = None,
    max_layers: int = DEFAULT_MAX_LAYERS,
    batch: int = 1,
    dtype: str | Dtype = "float32",
    optimizer: str | Optimizer = "adam",
    state_dtype: str | Dtype | None = None,
    mixed_precision: str | Dtype | None = None,
) -> HtmlReport:
    """The summary as one self-contained HTML page with the drawing (SVG where Graphviz is
    installed, else Mermaid text); the arguments are summarize's."""
    from cnncalc.render import DEFAULT_COLUMNS
    from cnncalc.render.html import figure_of, render_html

    settings = _settings(batch, dtype, optimizer, state_dtype, mixed_precision)
    _depth(depth)
    graph = graph_of(source, input=input, max_layers=max_layers)
    summary = Summary(*analysis.summarize(graph, depth=depth, **settings))
    columns = columns or DEFAULT_COLUMNS
    columns = columns._replace(rf=columns.rf and summary.spatial)
    page = render_html(summary, columns, figure_of(graph, depth=depth))
    return HtmlReport(summary, page)


def _depth(depth: object) -> None:
    if depth is not None and (type(depth) is not int or depth < 1):
        raise UsageError(f"depth must be a whole number of at least 1, got {depth!r}")


def export(
    source: Source,
    *,
    to: str = "pytorch",
    input: Input | None = None,
    max_layers: int = DEFAULT_MAX_LAYERS,
) -> str:
    """A spec as the source code of a module for another framework (`to`: "pytorch"): one
    class for the network, named after the spec's `name` or file, one per block."""
    from pathlib import PurePath

    from cnncalc.exporters import Target
    from cnncalc.exporters.pytorch import export as to_pytorch

    if to not in {t.value for t in Target}:
        raise UsageError(f"to {to!r} is not one of {', '.join(t.value for t in Target)}")
    spec = load_spec(source)
    graph = graph_of(spec, input=input, max_layers=max_layers)
    name = spec.name or PurePath(spec.path).stem
    return to_pytorch(graph, name)
