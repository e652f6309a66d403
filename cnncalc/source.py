"""YAML text → located values: every mapping, list and scalar keeps its file:line:col."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import yaml

from cnncalc.errors import Pos, SpecError, one_line, quoted

try:  # libyaml's composer is several times faster and keeps the same marks
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_FILE_BYTES = 10 * 1024 * 1024
STDIN = "<stdin>"  # how messages name standard input (the path '-')
MAX_NODES = 1_000_000  # values the document stands for, aliases expanded
MAX_DEPTH = 200  # nested mappings and lists
MAX_INT = 2**63 - 1  # PyTorch's sizes are int64: no tensor, layer or count is larger
MAX_NUMBER_CHARS = 100  # an integer this long is past MAX_INT whatever its base
# No value of a spec needs more (names 500, expressions 1,000); an alias may repeat a value
# in thousands of places, and each place reads it whole, so its length is bounded first.
MAX_SCALAR_CHARS = 10_000

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("null", "bool", "int", "float", "str")}
_AS_TEXT_TAGS = {f"{_TAG}timestamp"}  # unquoted dates: keep the text the user wrote


class Node(NamedTuple):
    """A YAML value and where it stands.

    `value` is None, bool, int, float or str for scalars, `list[Node]` for sequences and
    `dict[str, Node]` for mappings; `key_pos` gives each mapping key's own position.
    """

    value: Any
    pos: Pos
    key_pos: Mapping[str, Pos] = MappingProxyType({})

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


class GitRef(NamedTuple):
    """A file as it is in a git commit: `git:REV:PATH`, written so on the command line."""

    rev: str
    path: str

    def __str__(self) -> str:
        return f"git:{self.rev}:{self.path}"


# Where a spec is read from: a file path ('-' for standard input) or a version in git. Only
# the command line makes a GitRef (`source_of`); a path found by a glob or a directory walk
# stays a path, whatever its name, so that a file called `git:...` cannot run git.
Source = str | GitRef


def source_of(argument: str) -> Source:
    """A spec argument as the user wrote it on the command line: git:REV:PATH is a git
    version, anything else a file path ('-' for standard input)."""
    if not argument.startswith("git:"):
        return argument
    pos = Pos(label(argument), 1, 1)
    rev, sep, file = argument[4:].partition(":")
    if not sep or not rev or not file:
        raise SpecError("write a git version as git:REV:PATH, e.g. git:main:specs/model.yaml", pos)
    if rev.startswith("-"):
        raise SpecError(f"the git revision {quoted(rev)} starts with '-'; name a commit", pos)
    if _UNSAFE_REF.search(argument):
        raise SpecError("a git version holds no control characters or undecodable bytes", pos)
    return GitRef(rev, file)


_UNSAFE_REF = re.compile("[\x00-\x1f\x7f\udc80-\udcff]")


def label(source: Source) -> str:
    """How messages name a source: <stdin> for '-', git:REV:PATH, or the path with bytes that
    are not UTF-8 shown as \\xff (a name read from the file system may hold them)."""
    if source == "-":
        return STDIN
    text = str(source)
    if not text:
        return "''"  # an empty argument: a message still names it
    if _UNDECODABLE.search(text):
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


_UNDECODABLE = re.compile("[\udc80-\udcff]")


def read_text(source: Source) -> str:
    """Read a spec file (or stdin for '-', or a git version), with located errors for every
    way that can fail. Only regular files are read: never a FIFO, device or directory."""
    pos = Pos(label(source), 1, 1)
    if isinstance(source, GitRef):
        data = _git_show(source, pos)
    elif source == "-":
        data = _read_stdin(pos)
    else:
        data = _read_file(source, pos)
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB", pos)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SpecError(f"not UTF-8 text (byte {e.start})", pos) from None


def _read_stdin(pos: Pos) -> bytes:
    import sys

    if sys.stdin is None:  # started with standard input closed (<&-)
        raise SpecError("cannot read standard input: it is closed", pos)
    try:
        return sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise SpecError(f"cannot read standard input: {e.strerror}", pos) from None


def _read_file(path: str, pos: Pos) -> bytes:
    """A regular file's first MAX_FILE_BYTES + 1 bytes. Opened without blocking and checked
    before any read, so that a FIFO or a device cannot hang or flood the run."""
    if _UNDECODABLE.search(path):
        raise SpecError("the file name is not UTF-8; rename the file", pos)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        raise SpecError("no such file", pos) from None
    except OSError as e:
        raise SpecError(f"cannot read the file: {e.strerror}", pos) from None
    except ValueError:  # a NUL byte in the name: no file has one
        raise SpecError("no such file (the name holds a NUL character)", pos) from None
    try:
        kind = stat.S_IFMT(os.fstat(fd).st_mode)
        if kind == stat.S_IFDIR:
            raise SpecError("is a directory, not a spec file", pos)
        if kind != stat.S_IFREG:
            raise SpecError(f"{not_regular(kind)}; only regular files are read", pos)
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise SpecError(f"cannot read the file: {e.strerror}", pos) from None
    finally:
        os.close(fd)


def not_regular(kind: int) -> str:
    """'is a FIFO (named pipe), not a regular file', by the file type bits of st_mode."""
    names = {
        stat.S_IFIFO: "a FIFO (named pipe)",
        stat.S_IFCHR: "a character device",
        stat.S_IFBLK: "a block device",
        stat.S_IFSOCK: "a socket",
        stat.S_IFDIR: "a directory",
        stat.S_IFLNK: "a symbolic link",
    }
    return f"is {names.get(kind, 'a special file')}, not a regular file"


def _git_show(ref: GitRef, pos: Pos) -> bytes:
    """A blob read from git, its size checked before it is read.

    The object is named to `git cat-file --batch-check` on its standard input, never on the
    command line, so no part of what the user wrote can become a git option; the blob is then
    read by its hash.
    """
    import subprocess

    def git(*args: str, feed: bytes | None = None) -> bytes:
        try:
            done = subprocess.run(
                ["git", *args], input=feed, capture_output=True, check=False, timeout=60
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise SpecError(f"cannot run git: {err}", pos) from None
        if done.returncode != 0:
            reason = done.stderr.decode(errors="replace").strip().splitlines()
            raise SpecError(f"git failed: {reason[-1] if reason else 'no reason'}", pos)
        return done.stdout

    name = f"{ref.rev}:{ref.path}"
    feed = f"{ref.rev}\n{name}\n".encode()
    answers = git("cat-file", "--batch-check", feed=feed).decode(errors="replace").splitlines()
    found = [a.split() for a in answers[:2]] + [[], []]
    if len(found[0]) != 3:
        raise SpecError(f"git has no revision {quoted(ref.rev)} here", pos)
    if len(found[1]) != 3 or not re.fullmatch("[0-9a-f]{40,64}", found[1][0]):
        raise SpecError(f"no file {quoted(ref.path)} in the git revision {quoted(ref.rev)}", pos)
    sha, kind, size = found[1]
    if kind != "blob":
        raise SpecError(f"{quoted(name)} is a git {kind}, not a file", pos)
    if not size.isascii() or not size.isdigit() or int(size) > MAX_FILE_BYTES:
        raise SpecError(f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB", pos)
    return git("cat-file", "blob", sha)


def parse(text: str, path: str) -> Node:
    """Parse YAML text into located nodes. Only plain data is accepted: no tags, no objects.

    Composed from the parser's events without recursion, so that nesting depth, the size that
    aliases expand to, and duplicate keys are all checked with a located message.
    """
    try:
        root = _Composer(path).compose(yaml.parse(text, Loader=_Loader))
    except yaml.MarkedYAMLError as e:
        message, pos = _yaml_message(e, text, path)
        raise SpecError(f"invalid YAML: {message}", pos) from None
    except yaml.reader.ReaderError as e:  # a character YAML does not allow, by offset
        before = text[: e.position]
        line = before.count("\n") + 1
        pos = Pos(path, line, e.position - before.rfind("\n"))
        raise SpecError(
            f"invalid YAML: the character {chr(e.character)!r} is not allowed"
            " (control characters other than tab and line breaks)",
            pos,
        ) from None
    except yaml.YAMLError as e:
        raise SpecError(f"invalid YAML: {e}", Pos(path, 1, 1)) from None
    if root is None:
        raise SpecError(
            "the file is empty; a spec needs at least 'input' and 'layers'", Pos(path, 1, 1)
        )
    return root


_CLOSERS = {"flow sequence": ("[", "]"), "flow mapping": ("{", "}")}


def _yaml_message(e: yaml.MarkedYAMLError, text: str, path: str) -> tuple[str, Pos]:
    """PyYAML's complaint in words, at the place to fix: a tab, a key indented wrongly, a
    bracket or quote left open, a missing colon; else its own text with a hint."""
    mark = e.problem_mark or e.context_mark
    pos = _pos(path, mark) if mark is not None else Pos(path, 1, 1)
    opened = _pos(path, e.context_mark) if e.context_mark is not None else None
    problem = e.problem or e.context or "unreadable"
    context = e.context or ""
    lines = text.splitlines()
    if "cannot start any token" in problem and _char_at(lines, pos) == "\t":
        return f"a tab character at line {pos.line}: YAML indents with spaces only", pos
    if opened is not None and context.startswith("while parsing a block"):
        indented = _misindented(lines, pos, opened)
        if indented:
            return indented, pos
    if opened is not None and context.startswith("while parsing a flow"):
        worded = _unclosed(lines, problem, pos, opened, context)
        if worded:
            return worded
    if opened is not None and "quoted scalar" in context and "end of stream" in problem:
        quote = _char_at(lines, opened)
        where = f"line {opened.line}, column {opened.column}"
        return f"the quote {quote} opened at {where} is never closed (the file ends first)", opened
    if opened is not None and "could not find expected ':'" in problem:
        key = one_line(lines[opened.line - 1].strip()) if opened.line <= len(lines) else ""
        return f"a ':' is missing after the key {quoted(key)}", opened
    if problem.startswith("mapping values are not allowed"):
        worded = _missing_colon(lines, pos)
        if worded:
            return worded
    return f"{problem}{_yaml_hint(problem, text, pos)}", pos


def _char_at(lines: list[str], pos: Pos) -> str:
    """The character at a position ('' past the text)."""
    line = lines[pos.line - 1] if 0 < pos.line <= len(lines) else ""
    return line[pos.column - 1] if 0 < pos.column <= len(line) else ""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _misindented(lines: list[str], pos: Pos, opened: Pos) -> str | None:
    """'name' indented 3 spaces where the keys of the entry above are indented 4."""
    if not (0 < pos.line <= len(lines) and 0 < opened.line <= len(lines)):
        return None
    line, above = lines[pos.line - 1], lines[opened.line - 1]
    key = line.strip().split(":", 1)[0].strip()
    if ":" not in line or not key or key.startswith("-"):
        return None
    start = opened.column - 1  # the '- ' of a list item, or the first key of a mapping
    if above[start : start + 2] == "- ":
        start += 2 + _indent(above[start + 2 :])
    item = above[opened.column - 1 :].startswith("-")
    first = above[start:].split(":", 1)[0].strip()
    spaces = _indent(line)
    return (
        f"the key {quoted(one_line(key))} on line {pos.line} is indented {spaces}"
        f" space{'s' if spaces != 1 else ''}, but the keys of the"
        f" {'list item' if item else 'mapping'} on line {opened.line} are indented {start}"
        f" (line it up with {quoted(one_line(first))}"
        + (", or start a new item with '- ')" if item else ")")
    )


def _unclosed(
    lines: list[str], problem: str, pos: Pos, opened: Pos, context: str
) -> tuple[str, Pos] | None:
    """A '[' or '{' never closed (said at the bracket), or a ',' missing between items."""
    closers = next((v for k, v in _CLOSERS.items() if k in context), None)
    if closers is None or "expected ','" not in problem:
        return None
    line = lines[pos.line - 1] if 0 < pos.line <= len(lines) else ""
    if "${" in line:
        return None  # _yaml_hint's placeholder case
    opening, closing = closers
    if pos.line == opened.line and _char_at(lines, pos):
        return (
            f"expected ',' or '{closing}' in the '{opening}' opened at column {opened.column}:"
            f" is a ',' missing between two items?",
            pos,
        )
    ends = "the file ends first" if not line.strip() else f"still open at line {pos.line}"
    where = f"line {opened.line}, column {opened.column}"
    return f"the '{opening}' opened at {where} is never closed with '{closing}' ({ends})", opened


def _missing_colon(lines: list[str], pos: Pos) -> tuple[str, Pos] | None:
    """'input [3, 8, 8]' or '- conv2d {…}': a key whose ':' was left out."""
    here = lines[pos.line - 1] if 0 < pos.line <= len(lines) else ""
    m = re.match(r"(\s*(?:- +)?)([A-Za-z_][\w-]*) +([\[{].*)", here)
    at = pos
    if m is None:  # 'out_channels 8' above the line where YAML noticed
        above = next((i for i in range(pos.line - 2, -1, -1) if lines[i].strip()), None)
        if above is None or ":" in lines[above] or _indent(lines[above]) != _indent(here):
            return None
        m = re.match(r"(\s*(?:- +)?)([A-Za-z_][\w-]*) +(\S.*)", lines[above])
        at = Pos(pos.path, above + 1, 1)
    if m is None:
        return None
    lead, key, rest = m.groups()
    at = Pos(at.path, at.line, len(lead) + len(key) + 1)
    fixed = one_line(f"{key}: {rest.strip()}")
    example = f" (write '{fixed}')" if len(fixed) <= 50 else ""
    return f"a ':' is missing after the key '{one_line(key)}'{example}", at


def _yaml_hint(problem: str, text: str, pos: Pos) -> str:
    """What usually causes the YAML errors people meet in specs."""
    lines = text.splitlines()
    line = lines[pos.line - 1] if 0 < pos.line <= len(lines) else ""
    if "${" in line and "expected ','" in problem:
        return ' (inside { } or [ ], quote a placeholder: "${...}")'
    if problem.startswith("mapping values are not allowed"):
        above = next((x.strip() for x in reversed(lines[: pos.line - 1]) if x.strip()), "")
        if above.startswith("- ") and ":" not in above:
            entry = one_line(above)
            example = f": '{entry}:'" if len(entry) <= 40 else ""
            return (
                f" (for the entry on the line above to take keys such as name or from,"
                f" end it with a colon{example})"
            )
        return " (a value holding ': ' needs quotes)"
    return ""


_UNSEEN = object()


def _pos(path: str, mark: Any) -> Pos:
    return Pos(path, mark.line + 1, mark.column + 1)


class _Frame:
    """An open mapping or sequence while its events arrive."""

    __slots__ = ("anchor", "items", "key", "key_pos", "keys", "pos", "weight")

    def __init__(self, pos: Pos, anchor: str | None, mapping: bool) -> None:
        self.pos = pos
        self.anchor = anchor
        self.items: Any = {} if mapping else []
        self.keys: dict[str, Pos] | None = {} if mapping else None
        self.key: str | None = None
        self.key_pos: Pos | None = None
        self.weight = 1  # values it stands for once aliases are expanded


class _Composer:
    def __init__(self, path: str) -> None:
        self.path = path
        self.anchors: dict[str, tuple[Node, int]] = {}
        self.stack: list[_Frame] = []
        self.root: Node | None = None
        self.documents = 0
        self.total = 0  # values the document stands for so far, aliases expanded
        self.aliased = False
        self.plain: dict[str, str] = {}  # plain words known to be strings
        self.constructor = yaml.SafeLoader("")
        self.resolver = yaml.resolver.Resolver()

    def compose(self, events: Any) -> Node | None:
        stack, path, plain = self.stack, self.path, self.plain
        for event in events:
            kind = type(event)
            if kind is yaml.ScalarEvent:
                mark = event.start_mark
                pos = Pos(path, mark.line + 1, mark.column + 1)
                frame = stack[-1] if stack else None
                if frame is not None and frame.keys is not None and frame.key is None:
                    self._key(event, pos)
                    continue
                value = plain.get(event.value, _UNSEEN) if event.tag is None else _UNSEEN
                if value is _UNSEEN or not event.implicit[0]:
                    value = self._scalar(event, pos)
                if frame is not None and frame.keys is None and event.anchor is None:
                    # a list item, the most common value: _add, inlined
                    self.total += 1
                    if self.total > MAX_NODES:
                        self._add(Node(value, pos), 1, None, 1)  # raises
                    frame.weight += 1
                    frame.items.append(Node(value, pos))
                    continue
                self._add(Node(value, pos), 1, event.anchor, 1)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                pos = _pos(self.path, event.start_mark)
                mapping = kind is yaml.MappingStartEvent
                self._check_tag(event, "map" if mapping else "seq", pos)
                if self.stack and self.stack[-1].keys is not None and self.stack[-1].key is None:
                    raise SpecError(
                        "a mapping key must be a plain word, not a list or mapping", pos
                    )
                if len(self.stack) >= MAX_DEPTH:
                    raise SpecError(f"YAML nested more than {MAX_DEPTH} levels deep", pos)
                self.stack.append(_Frame(pos, event.anchor, mapping))
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                frame = self.stack.pop()
                node = Node(frame.items, frame.pos, frame.keys or {})
                self._add(node, frame.weight, frame.anchor, 1)
            elif kind is yaml.AliasEvent:
                pos = _pos(self.path, event.start_mark)
                if event.anchor not in self.anchors:
                    raise SpecError(f"alias *{event.anchor} names no anchor defined before it", pos)
                if self.stack and self.stack[-1].keys is not None and self.stack[-1].key is None:
                    raise SpecError("an alias cannot be a mapping key", pos)
                node, weight = self.anchors[event.anchor]
                self.aliased = True
                self._add(node, weight, None, weight, pos)
            elif kind is yaml.DocumentStartEvent:
                self.documents += 1
                if self.documents > 1:
                    raise SpecError(
                        "more than one YAML document in the file (a '---' line);"
                        " a spec is one document",
                        _pos(self.path, event.start_mark),
                    )
        return self.root

    def _key(self, event: Any, pos: Pos) -> None:
        frame = self.stack[-1]
        assert frame.keys is not None
        if event.tag == f"{_TAG}merge" or (event.value == "<<" and event.implicit[0]):
            raise SpecError("YAML merge keys ('<<') are not supported", pos)
        key = str(event.value)
        if key in frame.keys:
            raise SpecError(f"duplicate key '{key}' (first at line {frame.keys[key].line})", pos)
        frame.key, frame.key_pos = key, pos

    def _add(
        self, node: Node, weight: int, anchor: str | None, new: int, at: Pos | None = None
    ) -> None:
        """Attach a finished value to the open mapping or list; `weight` is how many values
        it stands for, `new` how many of those the document total has not counted yet."""
        self.total += new
        if self.total > MAX_NODES:
            counted = "every layer, argument and list item counts"
            if self.aliased:
                raise SpecError(
                    f"the YAML expands to more than {MAX_NODES:,} values once its"
                    f" aliases are expanded ({counted})",
                    at or node.pos,
                )
            raise SpecError(
                f"the YAML holds more than {MAX_NODES:,} values ({counted}); write"
                " repeated layers once, with 'repeat' or a block",
                at or node.pos,
            )
        if anchor is not None:
            self.anchors[anchor] = (node, weight)
        if not self.stack:
            self.root = node
            return
        frame = self.stack[-1]
        frame.weight += weight
        if frame.keys is None:
            frame.items.append(node)
        else:
            assert frame.key is not None and frame.key_pos is not None
            frame.items[frame.key] = node
            frame.keys[frame.key] = frame.key_pos
            frame.key = None

    def _scalar(self, event: Any, pos: Pos) -> Any:
        value = event.value
        if len(value) > MAX_SCALAR_CHARS:
            raise SpecError(
                f"the value {quoted(value)} is {len(value):,} characters long, longer than the"
                f" {MAX_SCALAR_CHARS:,} any value of a spec may have",
                pos,
            )
        tag = event.tag
        if tag is None or tag == "!":
            plain = event.implicit[0] and tag is None
            if not plain:
                return value  # quoted: a string
            if (
                value.isascii()
                and value.isdigit()
                and (value == "0" or value[0] != "0")
                and len(value) < 19
            ):
                return int(value)  # the common case, without the resolver's regexes
            tag = self._resolve(value)
            if tag == f"{_TAG}str" and len(self.plain) < 10_000:
                self.plain[value] = value  # a repeated word (relu) is resolved once
        elif tag in _SCALAR_TAGS and tag != f"{_TAG}str":
            # An explicit tag (!!int -, !!bool 3): the text must be what the tag names, as
            # YAML would read it untagged; an integer may be tagged !!float.
            implied = self._resolve(value)
            if implied != tag and (tag, implied) != (f"{_TAG}float", f"{_TAG}int"):
                name = tag.removeprefix(_TAG)
                raise SpecError(f"{quoted(value)} is not a valid !!{name} value", pos)
        if tag == f"{_TAG}str" or tag in _AS_TEXT_TAGS:
            return value
        if tag not in _SCALAR_TAGS:
            raise _tag_error(tag, pos)
        if tag == f"{_TAG}int" or tag == f"{_TAG}float":
            if len(value) > MAX_NUMBER_CHARS and tag == f"{_TAG}int":
                raise _too_large(value, pos)
            _refuse_surprising(value, tag, pos)
        try:
            result = self.constructor.construct_object(yaml.ScalarNode(tag, value))
        except Exception as e:  # PyYAML's constructors raise what they meet (IndexError...)
            raise SpecError(f"bad value {quoted(value)}: {one_line(str(e))}", pos) from None
        if type(result) is int and abs(result) > MAX_INT:
            raise _too_large(value, pos)
        return result

    def _resolve(self, value: str) -> str:
        """The tag YAML gives `value` written plain: int, float, bool, null, str..."""
        return self.resolver.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call,no-any-return]

    @staticmethod
    def _check_tag(event: Any, kind: str, pos: Pos) -> None:
        if event.tag not in (None, "!", f"{_TAG}{kind}"):
            raise _tag_error(event.tag, pos)


def _refuse_surprising(value: str, tag: str, pos: Pos) -> None:
    """Refuse the numbers YAML 1.1 reads otherwise than most people write them: a leading
    zero is octal (064 is 52) and colons are base 60 (1:04 is 64). Decimal with '_'
    separators (1_000), and the explicit 0x and 0b prefixes, mean what they say."""
    digits = value.lstrip("+-")
    if ":" in digits:
        raise SpecError(
            f"{quoted(value)} is a base-60 number to YAML 1.1 (1:04 is 64); write the number"
            f" in decimal, or quote it ('{value}') if it is text",
            pos,
        )
    if (
        tag == f"{_TAG}int"
        and len(digits) > 1
        and digits[0] == "0"
        and digits[1] not in "xXbB"  # 0x10, 0b11 say their base
    ):
        decimal = digits.lstrip("0_") or "0"
        raise SpecError(
            f"{quoted(value)} has a leading zero, which makes YAML 1.1 read it as an octal"
            f" number; write {value[: len(value) - len(digits)]}{decimal}, or quote it"
            f" ('{value}') if it is text",
            pos,
        )


def _too_large(value: str, pos: Pos) -> SpecError:
    return SpecError(
        f"the number {quoted(value)} is too large: a spec's integers are at most"
        f" {MAX_INT:,} (2^63 − 1, PyTorch's int64)",
        pos,
    )


def _tag_error(tag: str, pos: Pos) -> SpecError:
    return SpecError(f"YAML tag '{tag}' is not allowed in a spec (plain data only)", pos)
