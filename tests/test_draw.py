"""cnncalc draw: the drawing's nodes and edges, Mermaid that is well formed, DOT that Graphviz
reads, SVG and PNG through Graphviz, and names that stay text in every medium.

Graphviz's `dot` is installed in CI (.ci/run); where it is missing these tests skip on a
developer's machine and fail under CI=true, so that they never pass by not running.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_security_output import HOSTILE, yaml_quoted

from cnncalc import api, safetext
from cnncalc.errors import UsageError
from cnncalc.expand import Group
from cnncalc.exporters import draw
from cnncalc.exporters.draw import BLOCK, INPUT, LAYER, OUTPUT, Drawing, Edge, Node
from conftest import SPECS, run, write_spec

SPEC_FILES = sorted(SPECS.glob("*.yaml"))
SVG = "{http://www.w3.org/2000/svg}"


def need_graphviz() -> str:
    """The path of `dot`; a skip without it, a failure in CI."""
    found = shutil.which("dot")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Graphviz's dot is not installed: CI must install graphviz (.ci/run)")
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    return found


# --- a checker for Mermaid flowcharts -------------------------------------------------------

# A label's text: no raw quote, `#` only in an entity, `<` only in our own <br/>, none of the
# characters that open markup raw.
LABEL = r'"((?:[^"#<>&`\n]|#[0-9]+;|<br/>)*)"'
NODE = re.compile(rf"(n[0-9]+)(?:\[{LABEL}\]|\(\[{LABEL}\]\)|\[\[{LABEL}\]\])")
SUBGRAPH = re.compile(rf"subgraph (c[0-9]+)\[{LABEL}\]")
EDGE = re.compile(rf"(n[0-9]+) (-->|-\.->)\|{LABEL}\| (n[0-9]+)")
CLASSDEF = re.compile(r"classDef [a-z]+ [a-z0-9:#,]+")
CLASS = re.compile(r"class (n[0-9]+(?:,n[0-9]+)*) [a-z]+")


class Flowchart:
    """A Mermaid flowchart as the checker read it: nodes (id → label), edges, subgraphs."""

    def __init__(self) -> None:
        self.nodes: dict[str, str] = {}
        self.edges: list[tuple[str, str, str, bool]] = []  # tail, head, label, dashed
        self.subgraphs: dict[str, str] = {}
        self.member: dict[str, tuple[str, ...]] = {}  # node id → the subgraphs it is in


def unescape(label: str) -> str:
    """A label's text as Mermaid shows it: entities decoded, <br/> a line break."""
    return re.sub(r"#([0-9]+);", lambda m: chr(int(m.group(1))), label.replace("<br/>", "\n"))


def check_mermaid(text: str) -> Flowchart:
    """Every line one of the forms cnncalc writes; ids declared once before any edge names
    them; subgraph and end balanced; every label quoted and escaped."""
    lines = text.splitlines()
    assert lines[0] == "flowchart TB"
    chart = Flowchart()
    stack: list[str] = []
    for number, raw in enumerate(lines[1:], 2):
        line = raw.strip()
        where = f"line {number}: {raw!r}"
        if m := NODE.fullmatch(line):
            assert m.group(1) not in chart.nodes, f"{where}: declared twice"
            label = next(g for g in m.groups()[1:] if g is not None)
            chart.nodes[m.group(1)] = unescape(label)
            chart.member[m.group(1)] = tuple(stack)
        elif m := SUBGRAPH.fullmatch(line):
            assert m.group(1) not in chart.subgraphs, f"{where}: subgraph declared twice"
            chart.subgraphs[m.group(1)] = unescape(m.group(2))
            stack.append(m.group(1))
        elif line == "end":
            assert stack, f"{where}: end without subgraph"
            stack.pop()
        elif line == "direction TB":
            assert stack, f"{where}: direction outside a subgraph"
        elif m := EDGE.fullmatch(line):
            tail, arrow, label, head = m.groups()
            assert tail in chart.nodes and head in chart.nodes, f"{where}: undeclared node"
            chart.edges.append((tail, head, unescape(label), arrow == "-.->"))
        elif CLASSDEF.fullmatch(line):
            pass
        elif m := CLASS.fullmatch(line):
            assert set(m.group(1).split(",")) <= set(chart.nodes), f"{where}: undeclared"
        else:
            raise AssertionError(f"{where}: not a line cnncalc writes")
    assert not stack, f"subgraphs left open: {stack}"
    assert not set(chart.nodes) & set(chart.subgraphs)
    return chart


def dot_to_svg(text: str) -> ET.Element:
    """DOT laid out by Graphviz (it must accept it, warning about nothing), as SVG parsed."""
    done = subprocess.run(
        [need_graphviz(), "-Tsvg"], input=text.encode(), capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    assert not done.stderr, done.stderr.decode()
    return ET.fromstring(done.stdout)


def svg_texts(svg: ET.Element, cls: str) -> list[str]:
    """The lines of text of each node (cls='node'), cluster or edge in Graphviz's SVG."""
    return [
        "\n".join(t.text or "" for t in g.iter(f"{SVG}text"))
        for g in svg.iter(f"{SVG}g")
        if g.get("class") == cls
    ]


# --- the drawing ---------------------------------------------------------------------------


def test_tiny_resnet_in_full() -> None:
    graph = api.graph_of(SPECS / "tiny_resnet.yaml")
    d = draw.drawing(graph)
    assert d.title == "tiny-resnet"
    assert [n.kind for n in d.nodes].count(LAYER) == len(graph.layers) == 18
    assert [n.kind for n in (d.nodes[0], d.nodes[-1])] == [INPUT, OUTPUT]
    assert d.nodes[0].lines == ("input", "3×32×32")
    conv = d.nodes[2]  # the first layer of residual_1, by its local name
    assert conv.lines == ("conv2d_1", "conv2d", "2,304 params")
    assert [g.name for g in conv.clusters] == ["residual_1"]
    assert d.nodes[1].lines == ("conv2d_1", "conv2d", "448 params")
    skips = [(e.tail, e.head) for e in d.edges if e.skip]
    assert skips == [("n1", "n7"), ("n8", "n14")]  # each block's input to its add
    assert {e.label for e in d.edges} == {"3×32×32", "16×32×32", "16×1×1", "16", "10"}


def test_resnet50_at_depth_1_is_its_stages() -> None:
    d = draw.drawing(api.graph_of(SPECS / "resnet50.yaml"), depth=1)
    blocks = [n.lines for n in d.nodes if n.kind == BLOCK]
    assert blocks == [
        ("layer1", "stage · 32 layers", "215,808 params"),
        ("layer2", "stage · 42 layers", "1,219,584 params"),
        ("layer3", "stage · 62 layers", "7,098,368 params"),
        ("layer4", "stage · 32 layers", "14,964,736 params"),
    ]
    assert len(d.nodes) == 13 and len(d.edges) == 12  # a chain: input, 11 nodes, output
    assert not any(n.clusters for n in d.nodes) and not any(e.skip for e in d.edges)
    assert [e.label for e in d.edges][4:8] == ["64×56×56", "256×56×56", "512×28×28", "1024×14×14"]


def test_resnet50_at_depth_2_keeps_the_stages_as_clusters() -> None:
    d = draw.drawing(api.graph_of(SPECS / "resnet50.yaml"), depth=2)
    blocks = [n for n in d.nodes if n.kind == BLOCK]
    assert len(blocks) == 16  # 3 + 4 + 6 + 3 bottlenecks
    assert blocks[0].lines == ("0", "bottleneck_down · 12 layers", "75,008 params")
    assert [g.name for g in blocks[0].clusters] == ["layer1"]
    tree = draw.clusters(d.nodes)
    stages = [c for c in tree if isinstance(c, draw.Cluster)]
    assert [(c.name, c.group.kind, len(c.items)) for c in stages] == [
        ("layer1", "stage", 3),
        ("layer2", "stage", 4),
        ("layer3", "stage", 6),
        ("layer4", "stage", 3),
    ]


def test_resnet50_in_full_shows_every_shortcut() -> None:
    d = draw.drawing(api.graph_of(SPECS / "resnet50.yaml"))
    adds = {n.id for n in d.nodes if n.lines[1:2] == ("add",)}
    assert len(adds) == 16
    into_adds = [e for e in d.edges if e.head in adds and e.skip]
    assert {e.head for e in into_adds} == adds  # every residual add has a visible shortcut


def test_unet_skip_connections_are_dashed() -> None:
    """U-Net's four long concats from the encoder, at full depth and at depth 1."""
    for depth, encoder in ((None, "relu_2"), (1, "down")):
        d = draw.drawing(api.graph_of(SPECS / "unet.yaml"), depth=depth)
        name = {n.id: n.lines[0] for n in d.nodes}
        concats = {n.id for n in d.nodes if n.lines[1:2] == ("concat",)}
        skips = [e for e in d.edges if e.skip]
        assert len(concats) == 4 and {e.head for e in skips} == concats
        assert all(name[e.tail].startswith(encoder) or name[e.tail] == "inc" for e in skips)
        labels = sorted(e.label for e in skips)
        assert labels == ["128×128×128", "256×64×64", "512×32×32", "64×256×256"]


SEVERAL = """\
name: two-heads
inputs: {seq: [10, 20], meta: [5]}
outputs: [logits, h_n, lstm:2]
layers:
  - lstm: {hidden_size: 32}
    name: [lstm, h_n, c_n]
    from: seq
  - flatten:
    from: lstm
  - linear: {out_features: 8}
    from: meta
    name: m
  - concat: {dim: 1}
    from: [flatten_1, m]
  - linear: {out_features: 3}
    name: logits
  - chunk: {chunks: 2, dim: 2}
    from: lstm:1
    name: halves
  - add:
    from: [halves, halves:1]
"""


def test_several_inputs_and_outputs(tmp_path: Path) -> None:
    d = draw.drawing(api.graph_of(write_spec(tmp_path, SEVERAL)))
    by_id = {n.id: n for n in d.nodes}
    inputs = [n.lines for n in d.nodes if n.kind == INPUT]
    assert inputs == [("seq", "10×20"), ("meta", "5")]
    outputs = [n.lines for n in d.nodes if n.kind == OUTPUT]
    assert outputs == [("output 1",), ("output 2",), ("output 3",)]
    into = {by_id[e.head].lines[0]: e.label for e in d.edges if by_id[e.head].kind == OUTPUT}
    assert into == {
        "output 1": "3",
        "output 2": "h_n (lstm:1) · 1×32",
        "output 3": "c_n (lstm:2) · 1×32",
    }
    edges = {(by_id[e.tail].lines[0], by_id[e.head].lines[0]): e for e in d.edges}
    assert edges["seq", "lstm"].label == "10×20" and not edges["seq", "lstm"].skip
    assert edges["meta", "m"].label == "5" and not edges["meta", "m"].skip
    assert edges["lstm", "halves"].label == "h_n (lstm:1) · 1×32"
    # two outputs of one layer into one: one edge, labelled with the first
    assert edges["halves", "add_1"].label == "1×16"


def test_frozen_and_shared_layers(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        "input: [4]\nlayers:\n"
        "  - linear: {out_features: 4}\n    name: a\n    trainable: false\n"
        "  - linear: {out_features: 4}\n    name: b\n    shares: a\n",
    )
    d = draw.drawing(api.graph_of(spec))
    assert d.nodes[1].lines == ("a", "linear", "20 params (frozen)")
    assert d.nodes[2].lines == ("b", "linear", "shares a")


# --- Mermaid -------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [None, 1, 2])
@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.stem)
def test_mermaid_is_well_formed(path: Path, depth: int | None) -> None:
    graph = api.graph_of(path)
    d = draw.drawing(graph, depth=depth)
    chart = check_mermaid(draw.mermaid(d))
    assert list(chart.nodes.values()) == ["\n".join(n.lines) for n in d.nodes]
    assert [(t, h, label) for t, h, label, _ in chart.edges] == [
        (e.tail, e.head, e.label) for e in d.edges
    ]
    assert [dashed for *_, dashed in chart.edges] == [e.skip for e in d.edges]
    if depth is None:
        assert len(chart.nodes) == len(graph.inputs) + len(graph.layers) + len(graph.outputs)
    for node in d.nodes:  # each node inside the subgraphs of its block instances
        names = [chart.subgraphs[c].split(" (")[0] for c in chart.member[node.id]]
        assert len(names) == len(node.clusters)


def test_mermaid_of_unet_is_what_the_cli_prints() -> None:
    result = run("draw", str(SPECS / "unet.yaml"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == draw.mermaid(draw.drawing(api.graph_of(SPECS / "unet.yaml")))
    chart = check_mermaid(result.stdout)
    assert sum(dashed for *_, dashed in chart.edges) == 4
    assert len(chart.subgraphs) == 13  # 9 double_convs (4 inside the down blocks), 4 downs


# Hostile text straight into the writers: the spec's grammar keeps names and types tame, but
# the writers must not rely on it.
NASTY = [
    *HOSTILE.values(),
    '"] --> evil["x',
    'a"b#quot;c#35;d',
    "<img src=x onerror=alert(1)>",
    "`**md**` %%{init: {'theme':'dark'}}%%",
    "end",
    "x\\Ny\\lz\\G",
    '"; n0 -> n0; x="',
    "&lt;&#60;&amp;",
    "subgraph a\nend\nclick n0 call alert()",
]


def nasty_drawing(text: str) -> Drawing:
    group = Group(text, text)
    return Drawing(
        text,
        (
            Node("n0", (text, "3×8×8"), INPUT),
            Node("n1", (text, text, "1 params"), LAYER, (group,)),
            Node("n2", (text,), BLOCK),
            Node("n3", ("output",), OUTPUT),
        ),
        (Edge("n0", "n1", text), Edge("n1", "n2", text, True), Edge("n2", "n3", "2")),
    )


@pytest.mark.parametrize("text", NASTY)
def test_mermaid_escapes_every_label(text: str) -> None:
    chart = check_mermaid(draw.mermaid(nasty_drawing(text)))
    shown = safetext.terminal(text)
    assert chart.nodes == {
        "n0": f"{shown}\n3×8×8",
        "n1": f"{shown}\n{shown}\n1 params",
        "n2": shown,
        "n3": "output",
    }
    assert chart.subgraphs == {"c0": f"{shown} ({shown})"}
    assert [e[2] for e in chart.edges] == [shown, shown, "2"]


# --- DOT and Graphviz ----------------------------------------------------------------------


@pytest.mark.parametrize("depth", [None, 1])
@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.stem)
def test_graphviz_reads_the_dot(path: Path, depth: int | None) -> None:
    d = draw.drawing(api.graph_of(path), depth=depth)
    svg = dot_to_svg(draw.dot(d))
    assert sorted(svg_texts(svg, "node")) == sorted("\n".join(n.lines) for n in d.nodes)
    assert sorted(svg_texts(svg, "edge")) == sorted(e.label for e in d.edges)
    assert len([g for g in svg.iter(f"{SVG}g") if g.get("class") == "cluster"]) == len(
        {g.name for n in d.nodes for g in n.clusters}
    )


@pytest.mark.parametrize("text", NASTY)
def test_dot_escapes_every_label(text: str) -> None:
    """Graphviz shows each name as written (after terminal escaping): nothing ends a string,
    adds a node or an attribute, or is read as \\N or an entity."""
    svg = dot_to_svg(draw.dot(nasty_drawing(text)))
    shown = safetext.terminal(text)
    assert svg_texts(svg, "node") == [
        f"{shown}\n3×8×8",
        f"{shown}\n{shown}\n1 params",
        shown,
        "output",
    ]
    assert svg_texts(svg, "cluster") == [f"{shown} ({shown})"]
    assert svg_texts(svg, "edge") == [shown, shown, "2"]
    title = next(t.text for t in svg.iter(f"{SVG}text"))
    assert title == shown


def test_dot_reads_top_to_bottom_with_clusters() -> None:
    text = draw.dot(draw.drawing(api.graph_of(SPECS / "tiny_resnet.yaml")))
    assert "rankdir=TB" in text
    assert text.count("subgraph cluster_") == 2
    assert text.count("style=dashed") == 2


def test_svg_and_png_through_the_cli(tmp_path: Path) -> None:
    need_graphviz()
    out = tmp_path / "r.svg"
    result = run("draw", str(SPECS / "resnet50.yaml"), "--depth", "1", "-f", "svg", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"wrote {out}\n"
    svg = ET.fromstring(out.read_bytes())
    assert "layer1\nstage · 32 layers\n215,808 params" in svg_texts(svg, "node")
    result = run("draw", str(SPECS / "lenet5.yaml"), "-f", "png")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(b"\x89PNG\r\n\x1a\n")
    result = run("draw", str(SPECS / "lenet5.yaml"), "-f", "dot")
    assert result.stdout.startswith("digraph cnncalc {\n")


def test_without_graphviz_svg_is_an_error_naming_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot there
    for fmt in ("svg", "png"):
        result = run("draw", str(SPECS / "lenet5.yaml"), "-f", fmt, "-o", str(tmp_path / "x"))
        assert result.exit_code == 2
        assert result.stderr == (
            f"error: --format {fmt} needs Graphviz's `dot` program, which is not on PATH:"
            " install Graphviz (apt-get install graphviz, or brew install graphviz), or draw"
            " --format dot or mermaid\n"
        )
        assert not (tmp_path / "x").exists()
    assert run("draw", str(SPECS / "lenet5.yaml"), "-f", "dot").exit_code == 0


def test_graphviz_failing_or_too_slow_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'Error: \x1b[2Jsyntax error in line 1' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run("draw", str(SPECS / "lenet5.yaml"), "-f", "svg")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: Graphviz's dot failed (exit 1): Error: \\x1b[2Jsyntax error in line 1\n"
    )
    fake.write_text("#!/bin/sh\nexec /bin/sleep 5\n")
    with pytest.raises(Exception, match=r"took more than 0\.5 seconds"):
        draw.image("digraph { a }", "svg", edges=0, timeout=0.5)


def test_draw_options(tmp_path: Path) -> None:
    out = tmp_path / "net.mmd"
    result = run("draw", str(SPECS / "tiny_resnet.yaml"), "--depth", "1", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    check_mermaid(out.read_text())
    result = run("draw", str(SPECS / "tiny_resnet.yaml"), "--input", "3,64,64")
    assert '|"16×64×64"|' in result.stdout
    result = run("draw", str(SPECS / "tiny_resnet.yaml"), "-f", "pdf")
    assert result.exit_code == 2 and "'pdf' is not one of 'mermaid', 'dot', 'svg', 'png'" in (
        result.stderr
    )
    result = run("draw", str(SPECS / "tiny_resnet.yaml"), "--depth", "0")
    assert result.exit_code == 2


def test_api_draw() -> None:
    text = api.draw(SPECS / "lenet5.yaml", format="dot", depth=1)
    assert isinstance(text, str) and text.startswith("digraph")
    with pytest.raises(UsageError, match="format 'gif' is not one of mermaid, dot, svg, png"):
        api.draw(SPECS / "lenet5.yaml", format="gif")
    with pytest.raises(UsageError, match="depth must be a whole number"):
        api.draw(SPECS / "lenet5.yaml", depth=0)


@pytest.mark.parametrize("hostile", [*HOSTILE.values(), "</title><script>alert(1)</script>"])
def test_spec_name_in_dot_and_svg(tmp_path: Path, hostile: str) -> None:
    spec = write_spec(
        tmp_path,
        f"name: {yaml_quoted(hostile)}\ninput: [3, 8, 8]\nlayers:\n"
        "  - conv2d: {out_channels: 2, kernel_size: 3}\n",
    )
    result = run("draw", spec, "-f", "dot")
    assert result.exit_code == 0
    assert f'label="{safetext.dot(hostile)}"' in result.stdout
    svg = dot_to_svg(result.stdout)
    assert next(t.text for t in svg.iter(f"{SVG}text")) == safetext.terminal(hostile)
    assert not list(svg.iter(f"{SVG}script"))


@pytest.mark.slow
def test_graphviz_is_not_asked_to_lay_out_a_huge_drawing(tmp_path: Path) -> None:
    """990 layers, each adding 48 earlier ones: Graphviz would take minutes; refused first,
    and the HTML page falls back to the Mermaid text."""
    import random

    from bounds import run_bounded

    rnd = random.Random(7)
    lines = ["input: [4]", "layers:", "  - relu:", "    name: l0"]
    for i in range(1, 990):
        srcs = [f"l{j}" for j in sorted(rnd.sample(range(i), min(i, 48)))]
        kind = "relu" if i == 1 else "add"
        lines += [f"  - {kind}:", f"    name: l{i}"]
        if kind == "add" and len(srcs) > 1:
            lines.append(f"    from: [{', '.join(srcs)}]")
    path = tmp_path / "dense.yaml"
    path.write_text("\n".join(lines) + "\n")
    svg = run_bounded("draw", str(path), "--format", "svg")
    assert svg.exit_code == 2, svg.describe()
    assert "edges, more than the 3,000 cnncalc asks Graphviz to lay out" in svg.stderr
    page = run_bounded("summarize", str(path), "--format", "html")
    assert page.exit_code == 0, page.describe()
    assert "more than the 3,000 cnncalc asks Graphviz to lay out" in page.stdout
