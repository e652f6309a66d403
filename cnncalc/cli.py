"""The command line: parse options, call the core, print. No arithmetic here."""

from __future__ import annotations

import os
import re
import shutil
import sys
from typing import Any

import click

from cnncalc import __version__
from cnncalc.errors import CnncalcError, SpecError
from cnncalc.render import Format

EXIT_INVALID = 2


class _Group(click.Group):
    """Turns every CnncalcError into `message` on stderr and exit code 2, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpecError as err:  # already reads FILE:LINE:COL: ...
            click.echo(str(err), err=True)
            ctx.exit(EXIT_INVALID)
        except CnncalcError as err:
            click.echo(f"error: {err}", err=True)
            ctx.exit(EXIT_INVALID)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnncalc")
def main() -> None:
    """Shapes, parameter counts and more for a neural network described in YAML.

    No deep-learning framework needed. Exit codes: 0 done, 2 invalid spec or usage.
    """


def _parse_shape(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    text = value.strip(" []()")
    if not re.fullmatch(r"\d+(?:\s*[,x×]\s*\d+)*", text) or "0" in re.split(r"\D+", text):
        raise click.BadParameter(f"{value!r} is not a shape of positive sizes; write it like"
                                 " 3,224,224")
    return tuple(int(p) for p in re.split(r"\s*[,x×]\s*", text))


def _width() -> int:
    return shutil.get_terminal_size(fallback=(100, 24)).columns


def _color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


@main.command()
@click.argument("spec", type=click.Path(dir_okay=True, allow_dash=True))
@click.option("--format", "-f", "fmt", type=click.Choice([f.value for f in Format]),
              default=Format.TABLE.value, show_default=True, help="Output format.")
@click.option("--input", "input_shape", callback=_parse_shape, metavar="SHAPE",
              help="Override the input shape, in the spec's layout (e.g. 3,512,512).")
@click.option("--depth", type=click.IntRange(min=1), default=None,
              help="Collapse block instances nested deeper than N into one row each.")
@click.option("--max-layers", type=click.IntRange(min=1), default=1_000_000,
              show_default=True, help="Refuse specs that expand to more layers.")
def summarize(spec: str, fmt: str, input_shape: tuple[int, ...] | None, depth: int | None,
              max_layers: int) -> None:
    """Every layer's output shape and parameter count, and the totals."""
    from cnncalc.analysis import summarize as summarize_graph
    from cnncalc.graph import build
    from cnncalc.render import render
    from cnncalc.spec import load

    parsed = load(spec)
    shape = None if input_shape is None else parsed.layout.to_internal(input_shape)
    graph = build(parsed, input_shape=shape, max_layers=max_layers)
    for notice in graph.notices:
        click.echo(str(notice), err=True)
    summary = summarize_graph(graph, depth=depth)
    click.echo(render(summary, Format(fmt), width=_width(), color=_color()), nl=False)


@main.command()
@click.argument("type_name", required=False, metavar="[TYPE]")
def layers(type_name: str | None) -> None:
    """List every layer type with its arguments and defaults (or one TYPE in detail)."""
    from cnncalc.catalog import describe, overview

    click.echo(overview() if type_name is None else describe(type_name), nl=False)
