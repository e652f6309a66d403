"""Layer graph → a drawing: Mermaid and Graphviz DOT text, SVG and PNG through Graphviz.

A drawing reads top to bottom. The network's inputs and outputs are rounded nodes; every
layer is a node with its name, type and parameter count; every edge carries the shape of the
tensor it holds (and the tensor's name where it is not the node's own output: `lstm:1`, or a
layer inside a collapsed block). Block instances and named repeats are clusters, nested as
they are in the spec; at `depth` N those N levels down are each one node. An edge that jumps
over other nodes (a skip connection: U-Net's concats, ResNet's shortcuts) is drawn dashed.

Every name and type is escaped for its medium (safetext.dot, safetext.mermaid); node and
cluster ids are made here (`n0`, `c0`) and never come from the spec.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

from cnncalc import safetext
from cnncalc.errors import CnncalcError
from cnncalc.expand import Group
from cnncalc.graph import Graph, Layer
from cnncalc.notation import shape as shape_text

DOT_TIMEOUT = 120  # seconds Graphviz may take to lay a drawing out, by the clock
DOT_CPU = 60  # and of CPU time
MAX_LAID_OUT = 3_000  # edges a drawing may have for Graphviz: past it, layout takes minutes
INSTALL_GRAPHVIZ = "apt-get install graphviz, or brew install graphviz"
INPUT, LAYER, BLOCK, OUTPUT = "input", "layer", "block", "output"


class Node(NamedTuple):
    """One box of the drawing: its id, its lines of text (raw: escaped when written), what
    it is, and the clusters it sits in (outermost first)."""

    id: str
    lines: tuple[str, ...]
    kind: str  # INPUT, LAYER, BLOCK or OUTPUT
    clusters: tuple[Group, ...] = ()


class Edge(NamedTuple):
    tail: str  # node ids
    head: str
    label: str
    skip: bool = False  # it jumps over other nodes


class Cluster(NamedTuple):
    """A block instance or named repeat drawn as a box around its nodes and inner clusters."""

    id: str
    group: Group
    items: list[Node | Cluster]
    name: str  # the group's name inside its parent: `0` for `layer1.0` in `layer1`


class Drawing(NamedTuple):
    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def drawing(graph: Graph, *, depth: int | None = None) -> Drawing:
    """The nodes and edges of a graph, block instances `depth` levels down collapsed."""
    nodes, node_of, made = _nodes(graph, depth)
    # An edge is a skip when a layer or block comes between its ends in the order the layers
    # are computed; an input stands just before the first node that reads it.
    order = {n.id: i for i, n in enumerate(x for x in nodes if x.kind != INPUT)}
    edges: dict[tuple[str, str], Edge] = {}
    for layer in graph.layers:
        head = node_of[layer.name]
        for tensor in layer.inputs:
            tail = node_of[tensor.split(":", 1)[0]]
            if tail == head or (tail, head) in edges:
                continue
            order.setdefault(tail, order[head] - 1)  # the input's first reader
            label = _edge_label(graph, tensor, made[tail])
            edges[tail, head] = Edge(tail, head, label, order[head] - order[tail] > 1)
    outs = graph.outputs or (graph.output,)
    for i, tensor in enumerate(outs, 1):
        tail = node_of[tensor.split(":", 1)[0]]
        head = _add(nodes, ("output" if len(outs) == 1 else f"output {i}",), OUTPUT)
        edges[tail, head] = Edge(tail, head, _edge_label(graph, tensor, made[tail]))
    return Drawing(graph.name or "network", tuple(nodes), tuple(edges.values()))


def _nodes(graph: Graph, depth: int | None) -> tuple[list[Node], dict[str, str], dict[str, str]]:
    """The input, layer and block nodes; the node showing each input and layer (by name); and
    the tensor each node makes (a block instance's: its output)."""
    nodes: list[Node] = []
    node_of: dict[str, str] = {}
    made: dict[str, str] = {}
    members: dict[str, list[Layer]] = {}  # collapsed block instance → its layers
    for name, shape in graph.inputs.items():
        node_of[name] = _add(nodes, (name, _shape(graph, shape)), INPUT)
        made[node_of[name]] = name
    for layer in graph.layers:
        group = _collapsed(layer, depth)
        if group is None:
            node_of[layer.name] = _add(nodes, _layer_lines(layer), LAYER, layer.groups)
            made[node_of[layer.name]] = layer.name
            continue
        if group.name not in members:
            node_of[group.name] = _add(nodes, (), BLOCK, layer.groups[: (depth or 1) - 1])
            made[node_of[group.name]] = graph.group_outputs.get(group.name, "")
            members[group.name] = []
        node_of[layer.name] = node_of[group.name]
        members[group.name].append(layer)
    for inside in members.values():
        group = inside[0].groups[(depth or 1) - 1]
        i = int(node_of[group.name][1:])
        nodes[i] = nodes[i]._replace(lines=_block_lines(group, inside))
        made[nodes[i].id] = made[nodes[i].id] or inside[-1].name
    return nodes, node_of, made


def _add(
    nodes: list[Node], lines: tuple[str, ...], kind: str, clusters: tuple[Group, ...] = ()
) -> str:
    node = Node(f"n{len(nodes)}", lines, kind, clusters)
    nodes.append(node)
    return node.id


def _collapsed(layer: Layer, depth: int | None) -> Group | None:
    """The block instance a layer is drawn as at `depth` (analysis._container's rule)."""
    if depth is None or len(layer.groups) < depth:
        return None
    return layer.groups[depth - 1]


def _shape(graph: Graph, shape: tuple[int, ...]) -> str:
    return shape_text(graph.layout.display(shape))


def _local(name: str, groups: Sequence[Group]) -> str:
    """A name inside its innermost cluster: `conv1` for `layer1.0.conv1` in `layer1.0`."""
    prefix = groups[-1].name + "." if groups else ""
    return name[len(prefix) :] if prefix and name.startswith(prefix) else name


def _params(count: int, frozen: int) -> str:
    text = f"{count:,} params"
    if frozen and frozen == count:
        return f"{text} (frozen)"
    return f"{text} ({frozen:,} frozen)" if frozen else text


def _layer_lines(layer: Layer) -> tuple[str, ...]:
    if layer.shares is not None:
        figure = f"shares {layer.shares}"
    else:
        count = layer.result.param_count
        figure = _params(count, 0 if layer.trainable else count)
    return (_local(layer.name, layer.groups), layer.type, figure)


def _block_lines(group: Group, inside: Sequence[Layer]) -> tuple[str, ...]:
    owners = [x for x in inside if x.shares is None]
    count = sum(x.result.param_count for x in owners)
    frozen = sum(x.result.param_count for x in owners if not x.trainable)
    parents = inside[0].groups[: inside[0].groups.index(group)]
    layers = f"{len(inside):,} layer" + ("s" if len(inside) != 1 else "")
    return (_local(group.name, parents), f"{group.kind} · {layers}", _params(count, frozen))


def _edge_label(graph: Graph, tensor: str, main: str) -> str:
    """The tensor's shape; its name first where it is not the node's own output."""
    text = _shape(graph, graph.tensors[tensor])
    if tensor == main:
        return text
    layer = graph.producer(tensor)
    name = tensor
    if layer is not None and ":" in tensor:
        index = int(tensor.rsplit(":", 1)[1])
        if index <= len(layer.names):  # `name: [out, h_n]` gave it a name
            name = f"{layer.names[index - 1]} ({tensor})"
    return f"{name} · {text}"


def clusters(nodes: Sequence[Node]) -> list[Node | Cluster]:
    """The nodes in their clusters, as a tree: the top level's items, each cluster where its
    first node comes, its items in the order they come."""
    top: list[Node | Cluster] = []
    found: dict[str, Cluster] = {}
    for node in nodes:
        items = top
        for level, group in enumerate(node.clusters):
            if group.name not in found:
                name = _local(group.name, node.clusters[:level])
                found[group.name] = Cluster(f"c{len(found)}", group, [], name)
                items.append(found[group.name])
            items = found[group.name].items
        items.append(node)
    return top


def _walk(
    items: Sequence[Node | Cluster],
    node: Callable[[Node, str], str],
    opening: Callable[[Cluster, str], list[str]],
    closing: str,
    indent: str,
) -> list[str]:
    """The lines of the nodes and clusters: each cluster its opening lines, its items one
    level in, and its closing line."""
    lines = []
    for item in items:
        if isinstance(item, Node):
            lines.append(indent + node(item, indent))
            continue
        lines += opening(item, indent)
        lines += _walk(item.items, node, opening, closing, indent + "  ")
        lines.append(indent + closing)
    return lines


def _cluster_title(cluster: Cluster, escape: Callable[[str], str]) -> str:
    return f"{escape(cluster.name)} ({escape(cluster.group.kind)})"


# Mermaid: flowchart TB; inputs and outputs stadiums, blocks subroutine boxes; lines of a
# label joined with <br/> (the only markup in a label: the text is escaped).
_MERMAID_SHAPES = {INPUT: ('(["', '"])'), OUTPUT: ('(["', '"])'), BLOCK: ('[["', '"]]')}


def mermaid(d: Drawing) -> str:
    """The drawing as a Mermaid flowchart (GitHub renders it in a ```mermaid block)."""

    def node(n: Node, indent: str) -> str:
        left, right = _MERMAID_SHAPES.get(n.kind, ('["', '"]'))
        label = "<br/>".join(safetext.mermaid(line) for line in n.lines)
        return f"{n.id}{left}{label}{right}"

    def opening(c: Cluster, indent: str) -> list[str]:
        title = _cluster_title(c, safetext.mermaid)
        return [f'{indent}subgraph {c.id}["{title}"]', f"{indent}  direction TB"]

    lines = ["flowchart TB"]
    lines += _walk(clusters(d.nodes), node, opening, "end", "  ")
    for e in d.edges:
        arrow = "-.->" if e.skip else "-->"
        lines.append(f'  {e.tail} {arrow}|"{safetext.mermaid(e.label)}"| {e.head}')
    io = [n.id for n in d.nodes if n.kind in (INPUT, OUTPUT)]
    blocks = [n.id for n in d.nodes if n.kind == BLOCK]
    lines.append("  classDef io fill:#e3f2fd,stroke:#1565c0")
    lines.append("  classDef block fill:#fff3e0,stroke:#e65100")
    lines += [f"  class {','.join(io)} io"] if io else []
    lines += [f"  class {','.join(blocks)} block"] if blocks else []
    return "\n".join(lines) + "\n"


_DOT_STYLE = {
    INPUT: 'shape=oval, fillcolor="#e3f2fd", color="#1565c0"',
    OUTPUT: 'shape=oval, fillcolor="#e3f2fd", color="#1565c0"',
    BLOCK: 'shape=box3d, fillcolor="#fff3e0", color="#e65100"',
}


def dot(d: Drawing) -> str:
    """The drawing in Graphviz's DOT language, laid out top to bottom."""

    def node(n: Node, indent: str) -> str:
        label = "\\n".join(safetext.dot(line) for line in n.lines)
        style = _DOT_STYLE.get(n.kind)
        return f'{n.id} [label="{label}"' + (f", {style}]" if style else "]")

    def opening(c: Cluster, indent: str) -> list[str]:
        title = _cluster_title(c, safetext.dot)
        return [f"{indent}subgraph cluster_{c.id} {{", f'{indent}  label="{title}"']

    lines = [
        "digraph cnncalc {",
        f'  graph [rankdir=TB, label="{safetext.dot(d.title)}", labelloc=t, fontname=Helvetica,'
        ' style=rounded, color="#9e9e9e"]',
        '  node [shape=box, style="rounded,filled", fillcolor="#f5f5f5", fontname=Helvetica,'
        " fontsize=11]",
        '  edge [fontname=Helvetica, fontsize=9, color="#424242"]',
    ]
    lines += _walk(clusters(d.nodes), node, opening, "}", "  ")
    for e in d.edges:
        style = ', style=dashed, color="#1565c0"' if e.skip else ""
        lines.append(f'  {e.tail} -> {e.head} [label="{safetext.dot(e.label)}"{style}]')
    return "\n".join(lines) + "\n}\n"


def graphviz() -> str | None:
    """The path of Graphviz's `dot` program, or None where it is not installed."""
    return shutil.which("dot")


def _cpu_limit() -> None:
    """In Graphviz's process: at most DOT_CPU seconds of CPU time, whatever the clock says."""
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (DOT_CPU, DOT_CPU + 1))


def image(dot_text: str, fmt: str, *, edges: int, timeout: float = DOT_TIMEOUT) -> bytes:
    """DOT text of a drawing of `edges` edges laid out and drawn by Graphviz as `fmt` ('svg' or
    'png'): `dot` run with the text on its standard input, no shell, at most `timeout` seconds
    and DOT_CPU seconds of CPU; a drawing of more than MAX_LAID_OUT edges is refused first,
    since Graphviz's layout time grows much faster than its edges."""
    program = graphviz()
    if program is None:
        raise CnncalcError(
            f"--format {fmt} needs Graphviz's `dot` program, which is not on PATH: install"
            f" Graphviz ({INSTALL_GRAPHVIZ}), or draw --format dot or mermaid"
        )
    if edges > MAX_LAID_OUT:
        raise CnncalcError(
            f"this drawing has {edges:,} edges, more than the {MAX_LAID_OUT:,} cnncalc asks"
            " Graphviz to lay out; draw fewer nodes with --depth, or write --format dot and"
            " lay it out yourself"
        )
    try:
        done = subprocess.run(
            [program, f"-T{fmt}"],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
            preexec_fn=_cpu_limit if sys.platform != "win32" else None,
        )
    except subprocess.TimeoutExpired:
        raise CnncalcError(
            f"Graphviz took more than {timeout:g} seconds to draw this network; draw fewer"
            " nodes with --depth, or write --format dot and lay it out yourself"
        ) from None
    except OSError as err:
        raise CnncalcError(f"cannot run Graphviz's dot ({program}): {err.strerror}") from None
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise CnncalcError(
            f"Graphviz used more than {DOT_CPU} seconds of CPU drawing this network; draw"
            " fewer nodes with --depth, or write --format dot and lay it out yourself"
        )
    if done.returncode != 0:
        message = safetext.terminal(done.stderr.decode("utf-8", "replace").strip()[:500])
        raise CnncalcError(f"Graphviz's dot failed (exit {done.returncode}): {message}")
    return done.stdout
