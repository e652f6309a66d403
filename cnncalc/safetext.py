"""User-controlled text made safe for the medium it is written to: one function per medium.

Every name, type, path, value and message that came from a spec, a file name or the command
line goes through one of these before it is printed: `terminal` for text, tables, CSV and
messages on stderr; `markdown` for Markdown; `github_data` and `github_property` for GitHub
Actions workflow commands; `xml` for JUnit reports; `json_safe` for JSON documents. A leaf
module: the core (errors.py) and the renderers both import it, and it imports nothing of
cnncalc.

What `terminal` escapes, visibly and in Python's notation (\\x1b, \\n, \\u202e, \\U000e0041):
- C0 and C1 controls and DEL: escape sequences clear the screen, retitle the window, plant
  hyperlinks; \\r overwrites a line; \\n would start a line a CI runner reads as a command.
- U+2028 and U+2029: line and paragraph separators, line breaks to some readers.
- Unicode format characters (category Cf): bidi embeddings, overrides and isolates
  (U+202A–202E, U+2066–2069), the marks U+200E, U+200F and U+061C, zero-width space U+200B,
  word joiner and invisible operators (U+2060–2064), U+FEFF, the soft hyphen, tag characters
  (U+E0000 block): they reorder or hide text, so a name would not read as it is. The zero-width
  joiner and non-joiner (U+200C, U+200D) are kept: scripts such as Persian and Hindi need them
  and emoji are built with them, and they neither move nor hide other text.
- Lone surrogates (a file name that is not UTF-8, decoded with surrogateescape) and the
  noncharacters (U+FDD0–FDEF, U+xFFFE, U+xFFFF): no encoder or XML parser accepts them.
- GitHub Actions workflow commands: a runner reads `::command::` at the start of a line
  (after any white space) and the legacy `##[command]` anywhere in one. So `##[` becomes
  `\\x23#[` wherever it occurs, and a colon that begins the text (after white space) becomes
  `\\x3a`: with line breaks escaped, user text can then never start a command.
A backslash is left as it is: `a\\nb` may be a name with a backslash or an escaped line break;
either way it is one line and does nothing to the terminal.
"""

from __future__ import annotations

import keyword
import re
from functools import cache

# Ranges of the characters `terminal` escapes (see the module docstring). The Cf ranges are
# Unicode 15's; tests/test_security_output.py checks them against unicodedata.
_UNSAFE_PAST_C0 = (
    "\x7f-\x9f"  # DEL, C1
    "\xad"  # soft hyphen
    "\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"  # Arabic, Syriac, Mongolian Cf
    "\u200b\u200e\u200f"  # zero-width space, LRM, RLM (not ZWNJ U+200C, ZWJ U+200D)
    "\u2028\u2029"  # line and paragraph separators
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f"  # bidi embeddings, overrides, isolates, ...
    "\ud800-\udfff"  # lone surrogates
    "\ufdd0-\ufdef\ufeff\ufff9-\ufffb\ufffe\uffff"  # noncharacters, BOM, annotation marks
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"  # language tag, tag characters
    + "".join(f"{chr(p << 16 | 0xFFFE)}{chr(p << 16 | 0xFFFF)}" for p in range(1, 17))
)
_UNSAFE_RANGES = "\x00-\x1f" + _UNSAFE_PAST_C0  # C0 too


@cache
def _unsafe() -> re.Pattern[str]:
    """The ranges as one class, compiled on first need: most output is plain ASCII, and a
    class of so many ranges costs a millisecond to compile at every start."""
    return re.compile(f"[{_UNSAFE_RANGES}]")


# A simple class is many times faster to scan than the ranges above: find what is not
# printable ASCII (and ##[) with it, then look closer at what it found.
_SUSPECT = re.compile(r"[^\x20-\x7e]+|#(?=#\[)")
_LEADING_COLON = re.compile(r"\s*:")


def _escape(m: re.Match[str]) -> str:
    c = m.group()
    if c in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c]
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def _escape_suspect(m: re.Match[str]) -> str:
    text = m.group()
    return "\\x23" if text == "#" else _unsafe().sub(_escape, text)  # '#' only before #[


def terminal(text: str) -> str:
    """Text that stays on one line and cannot act on a terminal or a CI log: controls, line
    breaks, bidi and other invisible format characters escaped visibly (\\x1b, \\u202e), and
    nothing that would start a GitHub Actions workflow command."""
    if not (text.isascii() and text.isprintable()) or "##[" in text:
        text = _SUSPECT.sub(_escape_suspect, text)
    if text[:1] == ":" or text[:1].isspace():
        lead = _LEADING_COLON.match(text)
        if lead:
            text = f"{text[: lead.end() - 1]}\\x3a{text[lead.end() :]}"
    return text


# Markdown: what could start markup inside a paragraph or a table cell. `_` between two
# letters or digits never emphasises (CommonMark's flanking rule), so snake_case stays as it is.
@cache
def _markdown() -> re.Pattern[str]:
    return re.compile(r"[\\`*\[\]<>|&~]|(?<![^\W_])_|_(?![^\W_])")


def markdown(text: str) -> str:
    """Text for a Markdown paragraph or table cell: `terminal`, then every character that could
    open markup (emphasis, links, HTML, code, strikethrough, entities) and the table's pipe
    escaped with a backslash."""
    return _markdown().sub(lambda m: "\\" + m.group(), terminal(text))


def markdown_code(text: str) -> str:
    """Text as a Markdown code span (`conv1`) in a table cell; plain escaped text when it holds
    a backtick, which would end the span."""
    text = terminal(text)
    if "`" in text:
        return markdown(text)
    return "`" + text.replace("|", "\\|") + "`"


def github_data(text: str) -> str:
    """A workflow command's message: `terminal`, then Actions' own escaping (%, CR, LF)."""
    return terminal(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A workflow command's property value (file=, title=): also ':' and ','."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


# XML 1.0 allows tab, LF, CR, U+0020–D7FF, U+E000–FFFD and U+10000–10FFFF; nothing else can be
# written even as a character reference. `terminal` escapes all of those and more, and XML
# escaping (&, <, >, quotes) is the serializer's job.
def xml(text: str) -> str:
    """Text for a JUnit report: escaped as for a terminal (a CI system shows it in its log),
    so every character is one an XML parser accepts."""
    return terminal(text)


def json_safe(encoded: str) -> str:
    """An encoded JSON document with nothing raw that a terminal or a CI runner would act on:
    json escapes C0 controls itself, but with ensure_ascii off DEL, C1, line separators and
    bidi controls pass through, and `##[` is a legacy workflow command anywhere in a line.
    Those are written as \\uXXXX escapes: the same strings to a JSON reader."""
    if _plain(encoded):
        return encoded  # the usual case, found in a few milliseconds for megabytes
    lines = encoded.split("\n")  # and then usually one line, a name, is not plain
    return "\n".join(
        line if _plain(line) else _JSON_SUSPECT.sub(_json_escape_suspect, line) for line in lines
    )


def _plain(text: str) -> bool:
    return text.isascii() and "\x7f" not in text and "##[" not in text


# json.dumps escapes C0 inside strings; outside them C0 is the document's own line breaks.
@cache
def _json_unsafe() -> re.Pattern[str]:
    return re.compile(f"[{_UNSAFE_PAST_C0}]")


_JSON_SUSPECT = re.compile(r"[^\x00-\x7e]+|#(?=#\[)")


def _json_escape_suspect(m: re.Match[str]) -> str:
    text = m.group()
    return "\\u0023" if text == "#" else _json_unsafe().sub(_json_escape, text)


def _json_escape(m: re.Match[str]) -> str:
    n = ord(m.group())
    if n < 0x10000:
        return f"\\u{n:04x}"
    n -= 0x10000  # a UTF-16 surrogate pair, as JSON writes characters past the BMP
    return f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}"


# Drawings and HTML (cnncalc draw, summarize --format html). Each starts from `terminal`:
# a name stays on one line, with nothing invisible in it, in a picture as on a screen.
def dot(text: str) -> str:
    """Text inside a double-quoted Graphviz string: `terminal`, then the backslash (Graphviz
    reads \\N, \\G, \\l ... in labels) and the double quote escaped, and `&` written as `&amp;`
    (Graphviz reads entities such as `&lt;` in labels; this keeps the text as it is)."""
    return terminal(text).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")


# Mermaid: a quoted label ends at `"`, `#...;` is an entity, labels are HTML to most
# renderers, and a label opening with a backtick is Markdown. Every ASCII character but
# letters, digits and a few harmless marks is written as an entity (#60;), which Mermaid shows
# as the character itself.
_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9 _.,:/()+=\-\u0080-\U0010ffff]")


def mermaid(text: str) -> str:
    """Text inside a double-quoted Mermaid label: `terminal`, then every ASCII mark that could
    end the label or open markup (" # < > & ` [ ] { } | ; % * ...) as a Mermaid entity."""
    return _MERMAID_UNSAFE.sub(lambda m: f"#{ord(m.group())};", terminal(text))


def html(text: str) -> str:
    """Text for an HTML page, in an element or a quoted attribute: `terminal`, then & < > " '
    as character references."""
    return (
        terminal(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
    )


_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")
_PY_KEYWORDS = frozenset(keyword.kwlist)


def python_string(text: str) -> str:
    """A Python string literal of any text, in single quotes: printable ASCII as it is, every
    other character, quotes and backslashes as \\x, \\u or \\U escapes. No text can end it,
    start a comment or a line of code, and it can stand in a docstring too."""
    out = []
    for ch in text:
        if ch in "\\'\"":
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch if " " <= ch <= "~" else ascii(ch)[1:-1])
    return "'" + "".join(out) + "'"


def python_class_name(text: str, fallback: str) -> str:
    """A CamelCase identifier from any text (`tiny-resnet` → `TinyResnet`): ASCII letters and
    digits only, never a keyword; `fallback` where nothing is left, prefixed where it would
    start with a digit."""
    words = [w for w in _NOT_WORD.split(text) if w]
    name = "".join(w[0].upper() + w[1:] for w in words)
    if not name:
        return fallback
    if name[0].isdigit():
        name = fallback + name
    return name + "_" if name in _PY_KEYWORDS else name


def python_identifier(text: str) -> bool:
    """Whether text can be written as a Python attribute name as it is (not a keyword)."""
    return text.isascii() and text.isidentifier() and text not in _PY_KEYWORDS
