"""The command line: parse options, call the core, print. No arithmetic here."""

from __future__ import annotations

import enum
import errno
import gc
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import click

from cnncalc import __version__
from cnncalc.enums import (
    CheckFormat,
    ConvolveFormat,
    DiffFormat,
    DrawFormat,
    Dtype,
    ExplainFormat,
    ExportTarget,
    Format,
    Optimizer,
    RfFormat,
    VerifyFormat,
)
from cnncalc.errors import CnncalcError, SpecError, one_line, quoted

if TYPE_CHECKING:
    from cnncalc.spec import Spec

# The core is imported inside each command, so that --help, --version and `layers` load only
# what they use (benchmarks/bench.py times the full summarize path); the enums are a leaf.

EXIT_INVALID = 2
EXIT_BUG = 3
MAX_INT = 2**63 - 1  # as source.MAX_INT: PyTorch's int64 (source is not imported for --help)
_MAX_DIGITS = len(str(MAX_INT))


class _Group(click.Group):
    """Turns every CnncalcError into `message` on stderr and exit code 2, and any other
    exception (a bug) into one line and exit code 3, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        # A command builds many small objects and exits; the cyclic garbage collector would
        # scan them again and again (half the time of a 20,000-layer spec) to free almost
        # nothing. Off for the command only: a program that calls main() gets it back.
        collecting = gc.isenabled()
        gc.disable()
        try:
            if sys.stdout is None:  # started with standard output closed (>&-)
                raise CnncalcError("cannot write the output: standard output is closed")
            try:
                return super().invoke(ctx)
            finally:  # a full disk shows on the last write, which the flush makes now
                sys.stdout.flush()
        except SpecError as err:  # every problem: FILE:LINE:COL: ..., its line and a caret
            from cnncalc.render.errors import report

            click.echo(report(err), err=True)
            ctx.exit(EXIT_INVALID)
        except CnncalcError as err:
            click.echo(f"error: {err}", err=True)
            ctx.exit(EXIT_INVALID)
        except click.exceptions.ClickException as err:  # it quotes the command line
            # Final in click's stubs, but show() reads it later: the one place to escape it.
            err.message = one_line(err.message)  # type: ignore[misc]
            raise
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except OSError as err:  # reads are SpecErrors by now: this is the output failing
            if err.errno == errno.EPIPE or os.environ.get("CNNCALC_DEBUG"):
                raise  # a reader that stopped early (| head): click exits quietly
            _cannot_write(err)
        except Exception as err:  # a bug of ours: say so in one line (CNNCALC_DEBUG: in full)
            if isinstance(err, MemoryError) and ctx.invoked_subcommand in ("import", "verify"):
                # a model within the importers' limits, past the process's own memory limit
                click.echo(
                    "error: out of memory reading the model: it needs more memory than this"
                    " process may use (see docs/security.md for the importers' limits)",
                    err=True,
                )
                ctx.exit(EXIT_INVALID)
            if os.environ.get("CNNCALC_DEBUG") or getattr(err, "errno", None) == errno.EPIPE:
                raise  # a reader that stopped early (| head): click exits quietly
            click.echo(
                f"cnncalc: internal error ({type(err).__name__}: {one_line(str(err))});"
                " please report it with the command and the spec. CNNCALC_DEBUG=1 shows"
                " the traceback",
                err=True,
            )
            ctx.exit(EXIT_BUG)
        finally:
            if collecting:
                gc.enable()

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        except OSError as err:  # --help or --version writing to a full disk
            if err.errno == errno.EPIPE:
                raise
            _cannot_write(err)


def _cannot_write(err: OSError) -> NoReturn:
    """Standard output failed (a full disk, an I/O error): say so in one line, exit 2.

    Standard output is pointed at /dev/null first, so that what is left in its buffer does
    not fail a second time when Python flushes it at exit.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
    click.echo(f"error: cannot write the output: {err.strerror or err}", err=True)
    sys.exit(EXIT_INVALID)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnncalc")
def main() -> None:
    """Shapes, parameter counts and more for a neural network described in YAML.

    No deep-learning framework needed. Exit codes: 0 done, 1 a failed check, 2 invalid spec
    or usage, 3 a bug in cnncalc.
    """


def _ints(value: str | None, *, lo: int, example: str) -> tuple[int, ...] | None:
    """'3,224,224' (or 3x224x224, [3, 224, 224]) → a tuple of ints ≥ lo."""
    if value is None:
        return None
    text = value.strip(" []()")
    if not re.fullmatch(r"[0-9]+(?:\s*[,x×]\s*[0-9]+)*", text):  # ASCII digits only
        raise click.BadParameter(
            f"{quoted(value)} is not a list of whole numbers; write it like {example}"
        )
    parts = re.split(r"\s*[,x×]\s*", text)
    # Checked before int(), which refuses (ValueError) more than 4,300 digits
    if any(len(p.lstrip("0")) > _MAX_DIGITS or int(p) > MAX_INT for p in parts):
        raise click.BadParameter(f"{quoted(value)} has a number larger than {MAX_INT:,} (2^63 − 1)")
    numbers = tuple(int(p) for p in parts)
    if min(numbers) < lo:
        raise click.BadParameter(f"{value!r} has a number below {lo}")
    return numbers


class _Whole(click.IntRange):
    """A whole number written in ASCII digits (int() also reads '٣'), at most MAX_INT, its
    length checked before it is converted."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if not re.fullmatch("[0-9]+", text):
                self.fail(f"{quoted(value)} is not a whole number (digits 0-9)", param, ctx)
            if len(text.lstrip("0")) > _MAX_DIGITS or int(text) > MAX_INT:
                self.fail(f"{quoted(value)} is larger than {MAX_INT:,} (2^63 − 1)", param, ctx)
        return super().convert(value, param, ctx)


def _parse_shape(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> Any:
    """--input 3,224,224, or for a spec of several inputs --input NAME=SHAPE once per input
    to change: a shape, or a mapping of names to shapes."""
    if not values:
        return None
    if len(values) == 1 and "=" not in values[0]:
        return _ints(values[0], lo=1, example="3,224,224")
    shapes = {}
    for value in values:
        name, eq, dims = value.partition("=")
        if not eq or not name.strip():
            raise click.BadParameter(
                f"{quoted(value)}: where --input is given more than once, each names an input"
                " of the spec: --input image=3,224,224 --input meta=10"
            )
        shapes[name.strip()] = _ints(dims, lo=1, example=f"{name.strip()}=3,224,224")
    return shapes


def _parse_unit(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    return _ints(value, lo=0, example="3,5 (row 3, column 5, counted from 0)")


def _console() -> Any:
    """The rich Console that human output goes through (render/console.py: colour rules)."""
    from cnncalc.render.console import console

    return console()


def _emit(out: Any, content: Any) -> None:
    """Print a human format's text (a string with ANSI codes, or a rich Text) through `out`."""
    from cnncalc.render.console import emit

    emit(out, content)


def _styled(out: Any) -> bool:
    from cnncalc.render.console import styled

    return bool(styled(out))


def _width_options(f: Any) -> Any:
    """--wide and --width, for the commands that print a table."""
    f = click.option(
        "--width",
        type=_Whole(min=20),
        default=None,
        metavar="N",
        help="Lay the table out for N columns (default: the terminal's; piped: in full).",
    )(f)
    return click.option(
        "--wide",
        is_flag=True,
        help="Every column, each layer by its full name, however narrow the terminal.",
    )(f)


class _Choice(click.Choice):  # type: ignore[type-arg]  # generic in click 8.4 only
    """One of an enum's values on the command line, that enum's member in the command: the
    one place a word becomes the vocabulary.

    click 8.2+ takes an Enum itself, but offers the members' names (TABLE); the values are
    what users type and what --help shows.
    """

    def __init__(self, vocabulary: type[enum.Enum]) -> None:
        super().__init__([member.value for member in vocabulary])
        self.vocabulary = vocabulary

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, self.vocabulary):
            return value
        return self.vocabulary(super().convert(value, param, ctx))


def _cost_options(f: Any) -> Any:
    """--batch, --dtype, --optimizer, --state-dtype and --mixed-precision, shared by the
    commands that use them."""
    f = click.option(
        "--mixed-precision",
        type=click.Choice(["bfloat16", "float16"]),
        default=None,
        help="Train in mixed precision with this half dtype: half weights, gradients and"
        " activations; float32 master weights, optimizer state and buffers. Overrides --dtype.",
    )(f)
    f = click.option(
        "--state-dtype",
        type=_Choice(Dtype),
        default=None,
        help="Optimizer state dtype (default: --dtype; float32 under --mixed-precision).",
    )(f)
    f = click.option(
        "--optimizer",
        type=_Choice(Optimizer),
        default="adam",
        show_default=True,
        help="For training memory: its state per parameter.",
    )(f)
    f = click.option(
        "--dtype",
        type=_Choice(Dtype),
        default="float32",
        show_default=True,
        help="Bytes per value for memory.",
    )(f)
    return click.option(
        "--batch",
        type=_Whole(min=1),
        default=1,
        show_default=True,
        help="Batch size: scales MACs, FLOPs and activations.",
    )(f)


def _output_option(what: str) -> Callable[[Any], Any]:
    """-o FILE, for the commands that write a file (import, export, draw)."""
    return click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, writable=True),
        default=None,
        help=f"Write the {what} to this file (default: standard output).",
    )


def _deliver(content: str | bytes, output: str | None) -> None:
    """What a command made, to standard output or to the -o file (saying so on stderr)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    with open(output, "wb") as f:
        f.write(data)
    click.echo(f"wrote {output}", err=True)


def _max_layers_option(f: Any) -> Any:
    return click.option(
        "--max-layers",
        type=_Whole(min=1),
        default=50_000,  # cnncalc.graph.DEFAULT_MAX_LAYERS; the CLI loads no core for --help
        show_default=True,
        help="Refuse specs that expand to more layers.",
    )(f)


def _cost_settings(
    batch: int,
    dtype: Dtype,
    optimizer: Optimizer,
    state_dtype: Dtype | None,
    mixed_precision: str | None = None,
) -> dict[str, Any]:
    return {
        "batch": batch,
        "dtype": dtype,
        "optimizer": optimizer,
        "state_dtype": state_dtype,
        "mixed_precision": None if mixed_precision is None else Dtype(mixed_precision),
    }


LAYOUTS = ("channels_first", "channels_last")  # spec.Layout's values (no core for --help)


def _chain_options(example: str) -> Callable[[Any], Any]:
    """--chain and --layout, for the commands that read a network inline too."""

    def add(f: Any) -> Any:
        f = click.option(
            "--layout",
            type=click.Choice(LAYOUTS),
            default=None,
            help="With --chain: how --input is written (channels_last: 500x500x3).",
        )(f)
        return click.option(
            "--chain",
            "-c",
            metavar="LAYERS",
            help=f'Layers inline instead of a SPEC: "{example}".',
        )(f)

    return add


def _network(
    spec: str | None,
    chain: str | None,
    input_shape: tuple[int, ...] | None,
    layout: str | None,
    *,
    fields_only: bool = False,
) -> tuple[Spec, tuple[int, ...] | None]:
    """The spec file or --chain a command reads, and its --input (in the spec's layout).

    A chain for receptive fields alone may leave out out_channels and --input (1,224,224);
    for figures that depend on channels both are needed.
    """
    from cnncalc.spec import Layout

    if (spec is None) == (chain is None):
        raise click.UsageError("give a SPEC file or --chain, not both or neither")
    if chain is None:
        from cnncalc.source import source_of
        from cnncalc.spec import load

        if layout is not None:
            raise click.UsageError(
                "--layout is for --chain; a spec file states its layout in"
                " input: {shape: [...], layout: channels_last}"
            )
        assert spec is not None
        parsed = load(source_of(spec))
    else:
        from cnncalc.chain import parse_chain

        if isinstance(input_shape, dict):
            raise click.UsageError("--chain has one input: --input SHAPE, without a name")
        if input_shape is None and not fields_only:
            raise click.UsageError(
                "--chain needs --input SHAPE here: shapes and parameters depend on the"
                " input's channels (e.g. --input 3,224,224)"
            )
        written = None if layout is None else Layout(layout)
        parsed = parse_chain(chain, layout=written, channels=1 if fields_only else None)
    return parsed, input_shape


@main.command()
@click.argument("spec", required=False, type=click.Path(dir_okay=True, allow_dash=True))
@_chain_options("conv2d 64 k7 s2 p3, maxpool2d k3 s2")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=_Choice(Format),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--input",
    "input_shape",
    callback=_parse_shape,
    multiple=True,
    metavar="SHAPE",
    help="Override the input shape, in the spec's layout (e.g. 3,512,512); --chain's input."
    " For a spec of several inputs, NAME=SHAPE, once per input.",
)
@click.option(
    "--depth",
    type=_Whole(min=1),
    default=None,
    help="Show N levels of nesting: 1 is the top level only, each block instance one row.",
)
@_max_layers_option
@click.option(
    "--rf/--no-rf",
    default=True,
    show_default=True,
    help="Receptive-field columns (size, stride, padding) for spatial networks.",
)
@click.option("--macs/--no-macs", default=True, show_default=True, help="A MACs column.")
@click.option("--flops", is_flag=True, help="A FLOPs column.")
@click.option(
    "--memory", is_flag=True, help="A Saved column: the bytes each layer's backward keeps."
)
@_width_options
@_cost_options
def summarize(
    spec: str | None,
    chain: str | None,
    layout: str | None,
    fmt: Format,
    input_shape: tuple[int, ...] | None,
    depth: int | None,
    max_layers: int,
    rf: bool,
    macs: bool,
    flops: bool,
    memory: bool,
    wide: bool,
    width: int | None,
    **cost: Any,
) -> None:
    """Every layer's output shape, parameters, MACs and receptive field, and the totals.

    \b
    cnncalc summarize specs/resnet50.yaml
    cnncalc summarize --chain "conv2d 128 k7 s2 p3" --input 96,128,128
    """
    from cnncalc import api
    from cnncalc.render import Columns, render

    parsed, shape = _network(spec, chain, input_shape, layout)
    if fmt is Format.HTML:  # the page draws the network too: the API builds the graph once
        report = api.html_report(
            parsed,
            input=shape,
            depth=depth,
            columns=Columns(rf=rf, macs=macs, flops=flops, memory=memory),
            max_layers=max_layers,
            **_cost_settings(**cost),
        )
        for notice in report.summary.notices:
            click.echo(str(notice), err=True)
        click.echo(report.html, nl=False)
        return
    summary = api.summarize(
        parsed, input=shape, depth=depth, max_layers=max_layers, **_cost_settings(**cost)
    )
    for notice in summary.notices:
        click.echo(str(notice), err=True)
    columns = Columns(rf=rf, macs=macs, flops=flops, memory=memory)
    if fmt is not Format.TABLE:  # machine formats: no rich
        click.echo(render(summary, fmt, columns=columns), nl=False)
        return
    from cnncalc.render import laid_out
    from cnncalc.render.console import layout_width

    out = _console()
    _emit(out, laid_out(summary, columns=columns, width=layout_width(out, width=width, wide=wide)))


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--format",
    "-f",
    "fmt",
    type=_Choice(DrawFormat),
    default="mermaid",
    show_default=True,
    help="mermaid and dot are text; svg and png are drawn by Graphviz's dot (installed apart).",
)
@click.option(
    "--depth",
    type=_Whole(min=1),
    default=None,
    help="Draw each block instance N levels down as one node (1: the top level only).",
)
@click.option(
    "--input",
    "input_shape",
    callback=_parse_shape,
    multiple=True,
    metavar="SHAPE",
    help="Override the input shape, in the spec's layout; NAME=SHAPE for one of several.",
)
@_output_option("drawing")
@_max_layers_option
def draw(
    spec: str,
    fmt: DrawFormat,
    depth: int | None,
    input_shape: Any,
    output: str | None,
    max_layers: int,
) -> None:
    """Draw the network, top to bottom: layers with their parameters, shapes on the edges.

    Block instances are boxes around their layers (one node each at --depth); skip
    connections are dashed. Mermaid renders in GitHub Markdown; dot is Graphviz's language.

    \b
    cnncalc draw specs/unet.yaml > unet.mmd
    cnncalc draw specs/resnet50.yaml --depth 1 --format svg -o resnet50.svg
    """
    from cnncalc import api

    if fmt is DrawFormat.PNG and output is None and sys.stdout.isatty():
        raise click.UsageError("a PNG is binary: write it to a file with -o drawing.png")
    parsed, shape = _network(spec, None, input_shape, None)
    drawing = api.draw(parsed, format=fmt, depth=depth, input=shape, max_layers=max_layers)
    _deliver(drawing, output)


@main.command()
@click.argument("type_name", required=False, metavar="[TYPE]")
def layers(type_name: str | None) -> None:
    """List every layer type with its arguments and defaults (or one TYPE in detail)."""
    from cnncalc.catalog import type_info
    from cnncalc.render.catalog import describe, overview

    _emit(_console(), overview() if type_name is None else describe(type_info(type_name)))


@main.command()
@click.argument("spec", required=False, type=click.Path(dir_okay=True, allow_dash=True))
@_chain_options("conv2d k3, maxpool2d k3 s2")
@click.option("--layer", "-l", metavar="NAME", help="Only this layer (or block instance).")
@click.option(
    "--unit",
    callback=_parse_unit,
    metavar="I,J",
    help="With --layer: the input region that unit (counted from 0) sees.",
)
@click.option(
    "--input",
    "input_shape",
    callback=_parse_shape,
    multiple=True,
    metavar="SHAPE",
    help="Override the input shape (with --chain, default 1,224,224).",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=_Choice(RfFormat),
    default="table",
    show_default=True,
    help="Output format.",
)
@_max_layers_option
def rf(
    spec: str | None,
    chain: str | None,
    layout: str | None,
    layer: str | None,
    unit: tuple[int, ...] | None,
    input_shape: tuple[int, ...] | None,
    fmt: RfFormat,
    max_layers: int,
) -> None:
    """Receptive fields: size, effective stride and padding of every spatial layer.

    \b
    cnncalc rf specs/vgg16.yaml
    cnncalc rf specs/vgg16.yaml --layer pool5 --unit 3,3
    cnncalc rf --chain "conv2d k3 s1, maxpool2d k3 s2"
    """
    from cnncalc.api import graph_of
    from cnncalc.render import rf as render_rf
    from cnncalc.rfquery import field_table, no_spatial_input, no_spatial_output, unit_report

    if unit is not None and layer is None:
        raise click.UsageError("--unit needs --layer NAME")
    parsed, shape = _network(spec, chain, input_shape, layout, fields_only=True)
    graph = graph_of(parsed, input=shape, max_layers=max_layers)
    if chain is None and shape is None:
        no_spatial_input(graph, parsed.input_pos)
    out = _console() if fmt is RfFormat.TABLE else None  # JSON: no rich
    color = out is not None and _styled(out)
    if unit is not None:
        assert layer is not None
        report = unit_report(graph, layer, unit)
        text = render_rf.UNIT_RENDERERS[fmt](report, color)
    else:
        table = field_table(graph, layer)
        for notice in table.notices:
            click.echo(str(notice), err=True)
        if not table.rows:
            raise no_spatial_output(graph, parsed.input_pos)
        text = render_rf.TABLE_RENDERERS[fmt](table, color)
    if out is None:
        click.echo(text, nl=False)
    else:
        _emit(out, text)


def _parse_number(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from cnncalc.expect import parse_number

    try:
        return parse_number(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=_Choice(CheckFormat),
    default="text",
    show_default=True,
    help="text for people; github for workflow annotations; junit for CI reports.",
)
@click.option(
    "--max-params",
    callback=_parse_number,
    metavar="N",
    help="Budget for every spec: at most N parameters (26M, 4.1G, 25_557_032).",
)
@click.option(
    "--max-macs",
    callback=_parse_number,
    metavar="N",
    help="Budget: at most N multiply-accumulates (at --batch).",
)
@click.option("--max-flops", callback=_parse_number, metavar="N", help="Budget: FLOPs.")
@click.option(
    "--max-memory",
    callback=_parse_number,
    metavar="BYTES",
    help="Budget: training memory (8GiB, 500MB) at --batch, --dtype, --optimizer.",
)
@click.option(
    "--max-activations",
    callback=_parse_number,
    metavar="BYTES",
    help="Budget: activations kept for backward (at --batch and --dtype).",
)
@_cost_options
@_max_layers_option
def check(
    paths: tuple[str, ...],
    fmt: CheckFormat,
    max_params: Any,
    max_macs: Any,
    max_flops: Any,
    max_memory: Any,
    max_activations: Any,
    max_layers: int,
    **cost: Any,
) -> None:
    """Check specs and their expectations; exit 1 if one fails, 2 if a spec is invalid.

    PATHS are spec files, directories (every *.yaml and *.yml below) or globs.
    """
    from cnncalc.checking import check_spec, collect, exit_code
    from cnncalc.expect import budget
    from cnncalc.render import check as render_check
    from cnncalc.source import source_of

    limits = {
        "params": max_params,
        "macs": max_macs,
        "flops": max_flops,
        "memory": max_memory,
        "activations": max_activations,
    }
    budgets = [budget(figure, limit) for figure, limit in limits.items() if limit is not None]
    settings = _cost_settings(**cost)
    # Only what the command line says is a git version: never a file a glob or walk finds.
    collected = collect([source_of(p) if p.startswith("git:") else p for p in paths])
    for where, why in collected.skipped:
        click.echo(f"{where}: warning: {why}", err=True)
    results = [
        check_spec(path, budgets, max_layers=max_layers, **settings) for path in collected.sources
    ]
    if fmt is CheckFormat.TEXT:
        out = _console()
        _emit(out, render_check.RENDERERS[fmt](results, _styled(out)))
    else:  # machine formats: no rich
        click.echo(render_check.RENDERERS[fmt](results, False), nl=False)
    sys.exit(exit_code(results))


@main.command("import")
@click.argument("model")
@_output_option("spec")
@click.option(
    "--input",
    "input_shape",
    callback=lambda ctx, param, values: [_ints(v, lo=1, example="3,224,224") for v in values],
    multiple=True,
    metavar="SHAPE",
    help="The input shape, channels first, without the batch: needed for PyTorch modules (once"
    " per input of forward) and for ONNX inputs with dynamic sizes (e.g. 3,224,224).",
)
def import_(model: str, output: str | None, input_shape: Any) -> None:
    """Write a cnncalc spec for a model you have.

    MODEL is an ONNX file (model.onnx; pip install 'cnncalc[onnx]'), a Keras model's JSON
    (model.json from model.to_json(), or a .keras file; nothing to install), or a PyTorch
    module: torch:package.module:factory, a callable returning an nn.Module
    (pip install 'cnncalc[torch]').
    """
    from cnncalc import api

    text = api.import_model(model, input=input_shape or None)
    _deliver(text, output)


@main.command()
@click.argument("spec")
@click.option(
    "--against",
    "model",
    required=True,
    metavar="MODEL",
    help="The model: model.onnx, a Keras model.json or .keras, or torch:package.module:factory.",
)
@click.option(
    "--input",
    "input_shape",
    callback=_parse_shape,
    multiple=True,
    metavar="SHAPE",
    help="Compare at this input shape, in the spec's layout (default: the spec's).",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=_Choice(VerifyFormat),
    default="text",
    show_default=True,
    help="github writes workflow annotations on the spec's lines.",
)
@_max_layers_option
def verify(spec: str, model: str, input_shape: Any, fmt: VerifyFormat, max_layers: int) -> None:
    """Check a hand-written spec against the real model, layer by layer.

    Output shapes, parameters and buffers of every layer that holds weights, paired by name
    (or in order where the names differ), and the network's totals. Exit 0 when they agree,
    1 with a located line per difference, 2 on bad input.
    """
    from cnncalc import api
    from cnncalc.render import verify as render_verify
    from cnncalc.source import source_of
    from cnncalc.spec import load

    if isinstance(input_shape, dict):
        raise click.UsageError("verify takes one --input SHAPE, without a name")
    verdict = api.verify(load(source_of(spec)), model, input=input_shape, max_layers=max_layers)
    click.echo(render_verify.RENDERERS[fmt](verdict), nl=False)
    sys.exit(0 if verdict.agrees else 1)


@main.command()
@click.argument("spec")
@click.option(
    "--to",
    "target",
    type=_Choice(ExportTarget),
    default="pytorch",
    show_default=True,
    help="The framework to write code for.",
)
@_output_option("code")
@click.option(
    "--input",
    "input_shape",
    callback=_parse_shape,
    multiple=True,
    metavar="SHAPE",
    help="Build the module for this input shape, in the spec's layout (default: the spec's).",
)
@_max_layers_option
def export(
    spec: str, target: ExportTarget, output: str | None, input_shape: Any, max_layers: int
) -> None:
    """Write a spec as code: a PyTorch module (model.py) that builds the network.

    One nn.Module class for the network, named after the spec, and one per block; layer names
    are attribute names, so state_dict() keys read as the spec's names. A layer type that
    cannot be written exactly is an error (exit 2), never different code.
    """
    from cnncalc import api
    from cnncalc.source import source_of
    from cnncalc.spec import load

    text = api.export(
        load(source_of(spec)), to=target.value, input=input_shape, max_layers=max_layers
    )
    _deliver(text, output)


@main.command()
@click.argument("old")
@click.argument("new")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=_Choice(DiffFormat),
    default="table",
    show_default=True,
    help="markdown is ready to paste as a pull-request comment.",
)
@_max_layers_option
def diff(old: str, new: str, fmt: DiffFormat, max_layers: int) -> None:
    """What changes between two versions of a spec: layers and totals.

    OLD and NEW are paths, or git:REV:PATH to read a version from git, e.g.
    cnncalc diff git:main:specs/model.yaml specs/model.yaml
    """
    from cnncalc import api
    from cnncalc.render import diff as render_diff
    from cnncalc.source import label, source_of
    from cnncalc.spec import load

    if old == new == "-":
        raise click.UsageError("standard input can be read only once: give one side as a file")
    before, after = source_of(old), source_of(new)
    result = api.diff(  # loaded here: a file name is a path even with a line break in it
        load(before),
        load(after),
        old_label=old if old == "-" else label(before),  # bytes that are not UTF-8: \\xff
        new_label=new if new == "-" else label(after),
        max_layers=max_layers,
    )
    if fmt is DiffFormat.TABLE:
        out = _console()
        _emit(out, render_diff.RENDERERS[fmt](result, _styled(out)))
    else:  # machine formats: no rich
        click.echo(render_diff.RENDERERS[fmt](result, False), nl=False)


@main.command()
@click.argument("spec", required=False, type=click.Path(dir_okay=True, allow_dash=True))
@_chain_options("conv2d 10 k5")
@click.option("--layer", "-l", metavar="NAME", help="Only this layer (or block instance).")
@click.option(
    "--input",
    "input_shape",
    callback=_parse_shape,
    multiple=True,
    metavar="SHAPE",
    help="Override the input shape, in the spec's layout; with --chain, the input."
    " For a spec of several inputs, NAME=SHAPE, once per input.",
)
@click.option(
    "--batch",
    type=_Whole(min=1),
    default=1,
    show_default=True,
    help="Batch size for MACs and FLOPs.",
)
@click.option("--flops", is_flag=True, help="Add each layer's FLOPs and the rule behind them.")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=_Choice(ExplainFormat),
    default="text",
    show_default=True,
    help="json: every layer's figures and formulas (FLOPs always) as a document.",
)
@_max_layers_option
def explain(
    spec: str | None,
    chain: str | None,
    layout: str | None,
    layer: str | None,
    input_shape: tuple[int, ...] | None,
    batch: int,
    flops: bool,
    fmt: ExplainFormat,
    max_layers: int,
) -> None:
    """Each layer's formulas with the numbers filled in: shape, parameters, MACs, field.

    \b
    cnncalc explain specs/exercise_conv.yaml
    cnncalc explain --chain "conv2d 10 k5" --input 3,32,32
    """
    from cnncalc import api
    from cnncalc.render.explain import RENDERERS

    parsed, shape = _network(spec, chain, input_shape, layout)
    flops = flops or fmt is ExplainFormat.JSON  # a document has every figure
    explanation = api.explain(
        parsed, layer=layer, input=shape, batch=batch, flops=flops, max_layers=max_layers
    )
    for notice in explanation.notices:
        click.echo(str(notice), err=True)
    if fmt is ExplainFormat.TEXT:
        _emit(_console(), RENDERERS[fmt](explanation))
    else:  # machine formats: no rich
        click.echo(RENDERERS[fmt](explanation), nl=False)


class _ArraysCommand(click.Command):
    """Reads an argument that starts like a negative number ("-2 1", "-1;2") as an array,
    not as an unknown option, so that `convolve "4 1 -1 3" "-2 1"` needs no `--`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value = {
            name
            for p in self.params
            if isinstance(p, click.Option) and not p.is_flag
            for name in p.opts
        }
        options: list[str] = []
        arrays: list[str] = []  # every argument, in order, so INPUT stays before KERNEL
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "--":
                arrays += args[i + 1 :]
                break
            if arg in takes_value and i + 1 < len(args):
                options += [arg, args[i + 1]]
                i += 2
                continue
            is_option = arg.startswith("-") and not re.match(r"-[0-9.]", arg)
            (options if is_option else arrays).append(arg)
            i += 1
        options += ["--", *arrays]  # click reads what follows `--` as arguments, in order
        return super().parse_args(ctx, options)


@main.command(cls=_ArraysCommand)
@click.argument("arrays", nargs=-1, metavar="[INPUT [KERNEL]]")
@click.option("--input", "input_text", metavar="ARRAY", help="The input (instead of INPUT).")
@click.option("--kernel", "kernel_text", metavar="ARRAY", help="The kernel (instead of KERNEL).")
@click.option(
    "--stride", default="1", show_default=True, metavar="N", help="One, or one per axis: 1,2."
)
@click.option(
    "--padding", default="0", show_default=True, metavar="N", help="Zeros on each side, per axis."
)
@click.option(
    "--dilation",
    default="1",
    show_default=True,
    metavar="N",
    help="Spacing of kernel taps (1: adjacent).",
)
@click.option("--flip", is_flag=True, help="True convolution: flip the kernel first.")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=_Choice(ConvolveFormat),
    default="text",
    show_default=True,
    help="Output format.",
)
def convolve(
    arrays: tuple[str, ...],
    input_text: str | None,
    kernel_text: str | None,
    stride: str,
    padding: str,
    dilation: str,
    flip: bool,
    fmt: ConvolveFormat,
) -> None:
    """A worked convolution of small 1-D or 2-D arrays: every output element's sum.

    Cross-correlation, as PyTorch's conv1d/conv2d compute it; --flip for true convolution
    (the kernel flipped). Numbers are separated by spaces or commas and rows by ';', or
    written [[1, 2], [3, 4]] (one row of a 2-D array: [[1, 2, 3]]); integers or decimals,
    computed exactly. An array may start with '-'. Limits: input 64 and kernel 16 values per
    axis; stride, padding and dilation up to 64; 100,000 multiply-adds; 30 characters a number.

    \b
    cnncalc convolve "4 1 -1 3" "-2 1" --padding 1
    cnncalc convolve "4 1 -1 3" "-2 1" --padding 1 --flip
    cnncalc convolve "0 0 0 9 9; 0 0 0 9 9; 0 0 0 9 9" "-1 0 1; -2 0 2; -1 0 1"
    cnncalc convolve --input "[[1, 2], [3, 4]]" --kernel "[[1, -1]]" --stride 1,1
    """
    from cnncalc.convolve import Mode, parse_array, parse_setting
    from cnncalc.convolve import convolve as work
    from cnncalc.errors import UsageError
    from cnncalc.render import convolve as render_convolve

    given = list(arrays)
    if len(given) > 2:
        raise UsageError(f"give INPUT and KERNEL, not {len(given)} arrays")
    if input_text is None:
        input_text = given.pop(0) if given else None
    if kernel_text is None:
        kernel_text = given.pop(0) if given else None
    if given or input_text is None or kernel_text is None:
        raise UsageError("give one INPUT and one KERNEL (as arguments or --input/--kernel)")
    image = parse_array(input_text, "input")
    kernel = parse_array(kernel_text, "kernel")
    ndim = len(image.shape)
    result = work(
        image,
        kernel,
        stride=parse_setting(stride, "--stride", ndim, 1),
        padding=parse_setting(padding, "--padding", ndim, 0),
        dilation=parse_setting(dilation, "--dilation", ndim, 1),
        mode=Mode.CONVOLUTION if flip else Mode.CROSS_CORRELATION,
    )
    if fmt is ConvolveFormat.JSON:  # machine formats: no rich
        click.echo(render_convolve.json(result), nl=False)
    else:
        _emit(_console(), render_convolve.text(result))
