"""YAML text → located values: every mapping, list and scalar keeps its file:line:col."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from cnncalc.errors import Pos, SpecError

try:  # libyaml's composer is several times faster and keeps the same marks
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_NODES = 2_000_000

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("null", "bool", "int", "float", "str")}
_AS_TEXT_TAGS = {f"{_TAG}timestamp"}  # unquoted dates: keep the text the user wrote


@dataclass(frozen=True, eq=False)
class Node:
    """A YAML value and where it stands.

    `value` is None, bool, int, float or str for scalars, `list[Node]` for sequences and
    `dict[str, Node]` for mappings; `key_pos` gives each mapping key's own position.
    """

    value: Any
    pos: Pos
    key_pos: dict[str, Pos] = field(default_factory=dict)

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    def plain(self) -> Any:
        """The value with all positions stripped."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def read_text(path: str) -> str:
    """Read a spec file (or stdin for '-'), with located errors for every way that can fail."""
    import sys

    pos = Pos(path, 1, 1)
    if path.startswith("git:"):
        return _git_show(path, pos).decode("utf-8", errors="strict")
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise SpecError("no such file", pos) from None
    except IsADirectoryError:
        raise SpecError("is a directory, not a spec file", pos) from None
    except OSError as e:
        raise SpecError(f"cannot read the file: {e.strerror}", pos) from None
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB", pos)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SpecError(f"not UTF-8 text (byte {e.start})", pos) from None


def _git_show(path: str, pos: Pos) -> bytes:
    """git:REV:PATH — a file as it is in a commit, read with `git show REV:PATH`."""
    import subprocess

    rev, sep, file = path[4:].partition(":")
    if not sep or not rev or not file:
        raise SpecError("write a git version as git:REV:PATH, e.g. git:main:specs/model.yaml",
                        pos)
    try:
        done = subprocess.run(["git", "show", f"{rev}:{file}"], capture_output=True,
                              check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise SpecError(f"cannot run git: {err}", pos) from None
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise SpecError(f"git show {rev}:{file} failed: {reason[-1] if reason else 'no reason'}",
                        pos)
    if len(done.stdout) > MAX_FILE_BYTES:
        raise SpecError(f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB", pos)
    return done.stdout


def parse(text: str, path: str) -> Node:
    """Parse YAML text into located nodes. Only plain data is accepted: no tags, no objects."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        pos = _pos(path, mark) if mark is not None else Pos(path, 1, 1)
        raise SpecError(f"invalid YAML: {e.problem or e.context}", pos) from None
    except yaml.YAMLError as e:
        raise SpecError(f"invalid YAML: {e}", Pos(path, 1, 1)) from None
    except RecursionError:
        raise SpecError("YAML nested too deeply", Pos(path, 1, 1)) from None
    if root is None:
        raise SpecError("the file is empty; a spec needs at least 'input' and 'layers'",
                        Pos(path, 1, 1))
    return _Converter(path).convert(root, 0)


def _pos(path: str, mark: Any) -> Pos:
    return Pos(path, mark.line + 1, mark.column + 1)


class _Converter:
    """Turns composed yaml nodes into Nodes; aliases share one converted Node (no blow-up)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.memo: dict[int, Node] = {}
        self.count = 0
        self.scalars = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, depth: int) -> Node:
        done = self.memo.get(id(node))
        if done is not None:
            return done
        self.count += 1
        pos = _pos(self.path, node.start_mark)
        if self.count > MAX_NODES:
            raise SpecError(f"more than {MAX_NODES:,} YAML values", pos)
        if depth > 200:
            raise SpecError("YAML nested more than 200 levels deep", pos)
        if isinstance(node, yaml.MappingNode):
            result = self._mapping(node, pos, depth)
        elif isinstance(node, yaml.SequenceNode):
            self._check_tag(node, f"{_TAG}seq", pos)
            result = Node([self.convert(v, depth + 1) for v in node.value], pos)
        else:
            result = Node(self._scalar(node, pos), pos)
        self.memo[id(node)] = result
        return result

    def _mapping(self, node: yaml.MappingNode, pos: Pos, depth: int) -> Node:
        self._check_tag(node, f"{_TAG}map", pos)
        values: dict[str, Node] = {}
        key_pos: dict[str, Pos] = {}
        for k, v in node.value:
            kpos = _pos(self.path, k.start_mark)
            if not isinstance(k, yaml.ScalarNode):
                raise SpecError("a mapping key must be a plain word, not a list or mapping", kpos)
            if k.tag == f"{_TAG}merge":
                raise SpecError("YAML merge keys ('<<') are not supported", kpos)
            key = str(k.value)
            if key in values:
                raise SpecError(
                    f"duplicate key '{key}' (first at line {key_pos[key].line})", kpos
                )
            values[key] = self.convert(v, depth + 1)
            key_pos[key] = kpos
        return Node(values, pos, key_pos)

    def _scalar(self, node: yaml.Node, pos: Pos) -> Any:
        if node.tag in _AS_TEXT_TAGS:
            return str(node.value)
        if node.tag not in _SCALAR_TAGS:
            raise _tag_error(node, pos)
        try:
            return self.scalars.construct_object(node)
        except (yaml.YAMLError, ValueError) as e:
            raise SpecError(f"bad value {node.value!r}: {e}", pos) from None

    @staticmethod
    def _check_tag(node: yaml.Node, expected: str, pos: Pos) -> None:
        if node.tag != expected:
            raise _tag_error(node, pos)


def _tag_error(node: yaml.Node, pos: Pos) -> SpecError:
    return SpecError(f"YAML tag '{node.tag}' is not allowed in a spec (plain data only)", pos)
