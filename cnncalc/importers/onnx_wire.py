"""An ONNX file's protobuf wire format, read before protobuf parses it, within a memory budget.

Protobuf makes an object of every message it parses: an attribute written in two bytes takes
about 200 bytes once parsed, so a file's size says little about the memory parsing it needs
(a 32 MiB file of empty attributes takes 3.3 GB). `stripped` reads the file as a stream, field
by field, following onnx's own message descriptors, and returns the bytes protobuf is then
given: the same model without what cnncalc never reads — the data of a tensor larger than
INLINE_DATA (weights: only their dims are read; the data is skipped, never loaded) and the
graphs' `value_info` (shape inference works every shape out again). Before each field is read
its cost once parsed is added to an estimate, and a model whose estimate passes MAX_COST is
refused there: memory does not depend on what the file holds, and the weights' bytes not at
all. The walk goes as deep as protobuf's own limit on nesting, MAX_DEPTH.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from cnncalc.importers import ModelError

INLINE_DATA = 16 * 1024  # bytes of a tensor's data kept: every constant whose values are read
MAX_COST = 64 * 1024 * 1024  # estimated bytes of the parsed model: 200,000 messages or more
MAX_FIELDS = 1_000_000  # fields read, in all: bounds the walk's time (4 s at worst)
MAX_DEPTH = 100  # messages within messages, as protobuf allows
MESSAGE_COST = 256  # bytes a parsed message takes, at most (an AttributeProto: 200)
FIELD_COST = 16  # a number, or a repeated entry's slot
STRING_COST = 48  # a string or bytes field, beyond its bytes
_CHUNK = 1 << 16
_DATA_FIELDS = {4, 5, 6, 7, 9, 10, 11}  # TensorProto: float_data ... raw_data ... uint64_data
_VALUE_INFO = 13  # GraphProto.value_info
_MESSAGE, _BYTES, _NUMBER = 0, 1, 2


def stripped(onnx: Any, f: BinaryIO, size: int, source: str) -> bytes:
    """The ModelProto in `f` (`size` bytes), re-encoded without large tensors' data and the
    graphs' value_info; a ModelError if it is no protobuf or would cost too much to parse."""
    walk = _Walk(_Stream(f, size, source), source)
    return bytes(walk.message(onnx.ModelProto.DESCRIPTOR, size, 0))


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


class _Stream:
    """A file read forwards through a buffer; long skips seek past what is never read."""

    def __init__(self, f: BinaryIO, size: int, source: str) -> None:
        self.f, self.size, self.source = f, size, source
        self.buf = b""
        self.i = 0  # position in buf
        self.base = 0  # offset in the file of buf[0]

    def offset(self) -> int:
        return self.base + self.i

    def _fill(self, n: int) -> None:
        """At least n bytes after the position in the buffer, or the file is cut short."""
        have = len(self.buf) - self.i
        if have >= n:
            return
        more = self.f.read(max(_CHUNK, n - have))
        self.base += self.i
        self.buf, self.i = self.buf[self.i :] + more, 0
        if len(self.buf) < n:
            raise self.broken("the file ends inside a message")

    def varint(self) -> int:
        result = shift = 0
        while True:
            if self.i >= len(self.buf):
                self._fill(1)
            byte = self.buf[self.i]
            self.i += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7
            if shift > 63:
                raise self.broken("a number longer than 10 bytes")

    def take(self, n: int) -> bytes:
        self._fill(n)
        out = self.buf[self.i : self.i + n]
        self.i += n
        return out

    def skip(self, n: int) -> None:
        if n <= len(self.buf) - self.i:
            self.i += n
            return
        to = self.offset() + n
        self.f.seek(to)
        self.buf, self.i, self.base = b"", 0, to

    def broken(self, why: str) -> ModelError:
        return ModelError(f"not an ONNX model ({why}, at byte {self.offset():,})", self.source)


class _Walk:
    """The messages of a model, re-encoded into one buffer, their parsed cost counted as they
    are read. A submessage's length is written as a 5-byte varint (protobuf reads varints of
    any length up to 10 bytes) and filled in once its body is written, so no body is copied."""

    def __init__(self, stream: _Stream, source: str) -> None:
        self.s = stream
        self.source = source
        self.cost = 0
        self.fields = 0
        self.out = bytearray()
        self.tables: dict[str, dict[int, tuple[int, Any]]] = {}

    def over(self) -> ModelError:
        return ModelError(
            "the model's structure (its nodes, attributes, names, tensors' dims: not the"
            f" weights' data) is larger than cnncalc reads: more than {MAX_FIELDS:,} protobuf"
            f" fields or about {MAX_COST // 2**20} MiB once parsed (at byte"
            f" {self.s.offset():,} of the file)",
            self.source,
        )

    def table(self, desc: Any) -> dict[int, tuple[int, Any]]:
        """A message type's fields: number → (message, bytes or number; the message type)."""
        table = self.tables.get(desc.full_name)
        if table is None:
            table = {}
            for field in desc.fields:
                if field.type == field.TYPE_MESSAGE:
                    table[field.number] = (_MESSAGE, field.message_type)
                elif field.type in (field.TYPE_STRING, field.TYPE_BYTES):
                    table[field.number] = (_BYTES, None)
                else:
                    table[field.number] = (_NUMBER, None)
            self.tables[desc.full_name] = table
        return table

    def message(self, desc: Any, end: int, depth: int) -> bytearray:
        """The message of type `desc` from here to offset `end`, re-encoded into self.out."""
        if depth > MAX_DEPTH:
            raise ModelError(f"messages nested more than {MAX_DEPTH} deep", self.source)
        table = self.table(desc)
        tensor = desc.full_name == "onnx.TensorProto"
        graph = desc.full_name == "onnx.GraphProto"
        out, s = self.out, self.s
        self.cost += MESSAGE_COST
        while s.base + s.i < end:
            self.fields += 1
            if self.cost > MAX_COST or self.fields > MAX_FIELDS:
                raise self.over()
            key = s.varint()
            number, wire = key >> 3, key & 7
            if wire != 2:
                if wire == 0:
                    value = _varint(s.varint())
                elif wire in (1, 5):
                    value = s.take(8 if wire == 1 else 4)
                else:
                    raise s.broken(f"wire type {wire}, which ONNX does not use")
                self.cost += FIELD_COST
                out += _varint(key)
                out += value
                continue
            n = s.varint()
            if s.base + s.i + n > end:
                raise s.broken("a field longer than its message")
            kind, sub = table.get(number, (_BYTES, None))
            if (graph and number == _VALUE_INFO) or (
                tensor and number in _DATA_FIELDS and n > INLINE_DATA
            ):
                s.skip(n)  # never read: skipped, not loaded
            elif kind == _MESSAGE:
                out += _varint(key)
                at = len(out)
                out += b"\x80\x80\x80\x80\x00"
                self.message(sub, s.base + s.i + n, depth + 1)
                size = len(out) - at - 5
                out[at : at + 5] = bytes(
                    (size >> 7 * k) & 0x7F | (0x80 if k < 4 else 0) for k in range(5)
                )
            else:  # a string, or numbers packed (8 bytes each once parsed, at most)
                self.cost += STRING_COST + (8 * n if kind == _NUMBER else n)
                if self.cost > MAX_COST:
                    raise self.over()
                out += _varint(key)
                out += _varint(n)
                out += s.take(n)
        if s.base + s.i != end:
            raise s.broken("a field runs past the end of its message")
        return out
