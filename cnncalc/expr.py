"""`${expr}` substitution: integer arithmetic over block arguments, parsed by hand (never eval)."""

from __future__ import annotations

import re
from collections.abc import Mapping

MAX_EXPR_CHARS = 1000
MAX_EXPR_DEPTH = 64
MAX_MAGNITUDE = 2**63
MAX_TEXT_CHARS = 10_000  # a string with placeholders, once they are replaced

_PLACEHOLDER = re.compile(r"\$\{([^{}]*)\}")
_TOKEN = re.compile(r"\s*(?:([0-9]+)|([A-Za-z_][A-Za-z0-9_]*)|(//|==|!=|<=|>=|[-+*%()/<>,]))")
_COMPARE = ("==", "!=", "<", "<=", ">", ">=")
_WORDS = ("and", "or", "not", "true", "false")  # keywords, never argument names


class ExprError(Exception):
    """An expression that cannot be evaluated; the caller adds the location."""


def has_placeholder(text: str) -> bool:
    """Whether a string contains a `${...}` placeholder."""
    return "${" in text


def substitute(text: str, env: Mapping[str, object]) -> object:
    """Evaluate the placeholders in `text`.

    A string that is exactly one placeholder becomes the placeholder's value (any type for a bare
    argument name, an int for arithmetic); placeholders inside a longer string are replaced by text.
    """
    whole = _PLACEHOLDER.fullmatch(text.strip())
    if whole is not None:
        return evaluate(whole.group(1), env)
    if text.count("${") != len(_PLACEHOLDER.findall(text)):
        raise ExprError(f"unterminated or nested placeholder in {text!r}")
    parts, size, end = [], 0, 0
    for m in _PLACEHOLDER.finditer(text):
        for part in (text[end : m.start()], _as_text(evaluate(m.group(1), env))):
            size += len(part)
            if size > MAX_TEXT_CHARS:
                raise _too_long()
            parts.append(part)
        end = m.end()
    size += len(text) - end
    if size > MAX_TEXT_CHARS:
        raise _too_long()
    return "".join(parts) + text[end:]


def _too_long() -> ExprError:
    return ExprError(
        f"the text is longer than {MAX_TEXT_CHARS:,} characters once its placeholders are replaced"
    )


def _as_text(value: object) -> str:
    if isinstance(value, (dict, list)):
        raise ExprError(f"cannot put a {type(value).__name__} inside a string")
    return str(value)


def evaluate(source: str, env: Mapping[str, object]) -> object:
    """Evaluate one expression: integers, argument names, + - * // %, unary minus, parentheses,
    min(...) and max(...); comparisons, and/or/not and true/false make a boolean."""
    if len(source) > MAX_EXPR_CHARS:
        raise ExprError(f"expression longer than {MAX_EXPR_CHARS} characters")
    tokens = _tokenize(source)
    if not tokens:
        raise ExprError("empty expression '${}'")
    if len(tokens) == 1 and tokens[0][0] == "name" and tokens[0][1] not in _WORDS:
        return _lookup(tokens[0][1], env)
    parser = _Parser(tokens, env, source)
    value = parser.either(0)
    if parser.i != len(tokens):
        raise ExprError(f"unexpected {tokens[parser.i][1]!r} in '{source.strip()}'")
    return value


def _tokenize(source: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    i = 0
    end = len(source.rstrip())
    while i < end:
        m = _TOKEN.match(source, i)
        if m is None or m.end() == i:
            bad = source[i:].strip()[:1]
            raise ExprError(
                f"unexpected character {bad!r} in '{source.strip()}'"
                " (expressions use integers, argument names, + - * // %, parentheses,"
                " comparisons, and/or/not, min and max)"
            )
        number, name, op = m.groups()
        if number is not None:
            tokens.append(("int", number))
        elif name is not None:
            tokens.append(("name", name))
        else:
            if op == "/":
                raise ExprError(f"'/' in '{source.strip()}': use // for integer division")
            tokens.append(("op", op))
        i = m.end()
    return tokens


def _lookup(name: str, env: Mapping[str, object]) -> object:
    if name not in env:
        known = ", ".join(sorted(env)) or "none"
        raise ExprError(f"unknown name '{name}' (arguments in scope: {known})")
    return env[name]


class _Parser:
    """Recursive descent over the token list; every value is checked to be a bounded int."""

    def __init__(self, tokens: list[tuple[str, str]], env: Mapping[str, object], src: str) -> None:
        self.tokens = tokens
        self.env = env
        self.src = src.strip()
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def either(self, depth: int) -> int | bool:
        """`a or b`: booleans, or a single comparison or arithmetic value."""
        value = self.both(depth)
        while self.peek() == "or":
            self.i += 1
            rhs = self.both(depth)
            value = self.flag(value, "or") | self.flag(rhs, "or")
        return value

    def both(self, depth: int) -> int | bool:
        value = self.negation(depth)
        while self.peek() == "and":
            self.i += 1
            rhs = self.negation(depth)
            value = self.flag(value, "and") & self.flag(rhs, "and")
        return value

    def negation(self, depth: int) -> int | bool:
        if depth > MAX_EXPR_DEPTH:
            raise ExprError(f"expression nested deeper than {MAX_EXPR_DEPTH} levels")
        if self.peek() == "not":
            self.i += 1
            return not self.flag(self.negation(depth + 1), "not")
        return self.comparison(depth)

    def comparison(self, depth: int) -> int | bool:
        value = self.expr(depth)
        op = self.peek()
        if op not in _COMPARE:
            return value
        self.i += 1
        rhs = self.expr(depth)
        if self.peek() in _COMPARE:
            raise ExprError(f"'{self.src}' chains comparisons; join them with 'and'")
        if op in ("==", "!="):
            return (value == rhs and type(value) is type(rhs)) == (op == "==")
        a, b = self.number(value, op), self.number(rhs, op)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]

    def flag(self, value: int | bool, op: str) -> bool:
        """A value `and`, `or` and `not` take: true or false, never a number."""
        if not isinstance(value, bool):
            raise ExprError(
                f"'{op}' takes true or false (a comparison), got {value!r} in '{self.src}'"
            )
        return value

    def number(self, value: int | bool, op: str) -> int:
        """A value arithmetic and ordering take: an integer, never true or false."""
        if isinstance(value, bool):
            raise ExprError(f"'{op}' takes integers, got {str(value).lower()} in '{self.src}'")
        return value

    def expr(self, depth: int) -> int | bool:
        value = self.term(depth)
        while self.peek() in ("+", "-"):
            op = self.tokens[self.i][1]
            self.i += 1
            a, b = self.number(value, op), self.number(self.term(depth), op)
            value = self.bounded(a + b if op == "+" else a - b)
        return value

    def term(self, depth: int) -> int | bool:
        value = self.unary(depth)
        while self.peek() in ("*", "//", "%"):
            op = self.tokens[self.i][1]
            self.i += 1
            value, rhs = self.number(value, op), self.number(self.unary(depth), op)
            if op != "*" and rhs == 0:
                raise ExprError(f"division by zero in '{self.src}'")
            if op == "*":
                value = self.bounded(value * rhs)
            elif op == "//":
                value = value // rhs
            else:
                value = value % rhs
        return value

    def unary(self, depth: int) -> int | bool:
        if depth > MAX_EXPR_DEPTH:
            raise ExprError(f"expression nested deeper than {MAX_EXPR_DEPTH} levels")
        tok = self.peek()
        if tok in ("-", "+"):
            self.i += 1
            value = self.number(self.unary(depth + 1), tok)
            return -value if tok == "-" else value
        return self.atom(depth)

    def atom(self, depth: int) -> int | bool:
        if self.i >= len(self.tokens):
            raise ExprError(f"'{self.src}' ends too early")
        kind, text = self.tokens[self.i]
        self.i += 1
        if kind == "int":
            return self.bounded(int(text))
        if kind == "name" and text in ("true", "false"):
            return text == "true"
        if kind == "name" and text in ("min", "max") and self.peek() == "(":
            return self.extreme(text, depth)
        if kind == "name" and text not in _WORDS:
            value = _lookup(text, self.env)
            if not isinstance(value, int):
                raise ExprError(
                    f"argument '{text}' is {value!r}, not an integer, so it cannot be used in"
                    f" arithmetic ('{self.src}')"
                )
            return value
        if text == "(":
            value = self.either(depth + 1)
            if self.peek() != ")":
                raise ExprError(f"missing ')' in '{self.src}'")
            self.i += 1
            return value
        raise ExprError(f"unexpected {text!r} in '{self.src}'")

    def extreme(self, fn: str, depth: int) -> int:
        """min(a, b, ...) or max(a, b, ...) of integers; the '(' is next."""
        self.i += 1
        values = [self.number(self.expr(depth + 1), fn)]
        while self.peek() == ",":
            self.i += 1
            values.append(self.number(self.expr(depth + 1), fn))
        if self.peek() != ")":
            raise ExprError(f"missing ')' after {fn}(... in '{self.src}'")
        self.i += 1
        return min(values) if fn == "min" else max(values)

    def bounded(self, value: int) -> int:
        if abs(value) >= MAX_MAGNITUDE:
            raise ExprError(f"'{self.src}' is too large (beyond ±2^63)")
        return value
