"""Read a GGUF file's header — metadata and tensor table — without loading any weights.

``gguf.GGUFReader`` builds a numpy view for every element of every array, which takes seconds on a
262,144-token vocabulary. This reader walks the same header with ``struct`` over a memory map, keeps the
scalar values and short arrays, and only counts long arrays (the tokenizer's). It uses the ``gguf``
package's own type tables, and the tests check it field by field against ``GGUFReader``.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
#: Arrays longer than this are counted, not kept (tokens, merges, token types).
MAX_KEPT_ARRAY = 64
_U64 = struct.Struct("<Q")
TRUNCATED = "the file is truncated: its header ends before it should"


class GGUFValueType(IntEnum):
    """The value types of a GGUF header's key/value pairs, as the GGUF specification numbers them (the
    same names as ``gguf.GGUFValueType``). The ``gguf`` package, which knows the tensor types and their
    sizes, is imported only where those are needed: it takes 0.2 s to import, and the window reads
    headers from its cache at start."""

    UINT8 = 0
    INT8 = 1
    UINT16 = 2
    INT16 = 3
    UINT32 = 4
    INT32 = 5
    FLOAT32 = 6
    BOOL = 7
    STRING = 8
    ARRAY = 9
    UINT64 = 10
    INT64 = 11
    FLOAT64 = 12


_SCALAR_FORMATS: dict[GGUFValueType, str] = {
    GGUFValueType.UINT8: "<B",
    GGUFValueType.INT8: "<b",
    GGUFValueType.UINT16: "<H",
    GGUFValueType.INT16: "<h",
    GGUFValueType.UINT32: "<I",
    GGUFValueType.INT32: "<i",
    GGUFValueType.FLOAT32: "<f",
    GGUFValueType.BOOL: "<?",
    GGUFValueType.UINT64: "<Q",
    GGUFValueType.INT64: "<q",
    GGUFValueType.FLOAT64: "<d",
}


class GGUFError(ValueError):
    """The file is not a readable GGUF model; the message says why in one sentence."""


@dataclass(frozen=True)
class ArrayInfo:
    """A long metadata array that was counted but not kept."""

    element_type: str
    length: int


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def n_bytes(self) -> int:
        from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

        try:
            block, size = GGML_QUANT_SIZES[GGMLQuantizationType(self.ggml_type)]
        except (ValueError, KeyError) as exc:
            raise GGUFError(f"tensor {self.name!r} has an unknown type {self.ggml_type}") from exc
        return self.n_elements // block * size


@dataclass(frozen=True)
class GGUFHeader:
    """Everything in a GGUF header: version, key/value metadata and the tensor table."""

    version: int
    fields: dict[str, Any]
    tensors: tuple[TensorInfo, ...]
    data_offset: int
    file_size: int


class _Cursor:
    def __init__(self, buf: mmap.mmap | bytes, size: int):
        self.buf = buf
        self.size = size
        self.pos = 0

    def unpack(self, fmt: str) -> Any:
        n = struct.calcsize(fmt)
        if self.pos + n > self.size:
            raise GGUFError(TRUNCATED)
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += n
        return value

    def string(self) -> str:
        length = self.unpack("<Q")
        if self.pos + length > self.size:
            raise GGUFError(TRUNCATED)
        raw = bytes(self.buf[self.pos : self.pos + length])
        self.pos += length
        return raw.decode("utf-8", errors="replace")

    def value(self, vtype: int) -> Any:
        try:
            t = GGUFValueType(vtype)
        except ValueError as exc:
            raise GGUFError(
                f"the header holds an unknown value type {vtype}; the file may be corrupt"
            ) from exc
        if t == GGUFValueType.STRING:
            return self.string()
        if t == GGUFValueType.ARRAY:
            return self.array()
        return self.unpack(_SCALAR_FORMATS[t])

    def array(self) -> Any:
        etype = self.unpack("<I")
        length = self.unpack("<Q")
        try:
            et = GGUFValueType(etype)
        except ValueError as exc:
            raise GGUFError(
                f"the header holds an unknown array type {etype}; the file may be corrupt"
            ) from exc
        if length <= MAX_KEPT_ARRAY:
            return [self.value(etype) for _ in range(length)]
        if et == GGUFValueType.STRING:  # a vocabulary: 50k to 250k strings, skipped in a tight loop
            buf, pos, size, length_at = self.buf, self.pos, self.size, _U64.unpack_from
            for _ in range(length):
                if pos + 8 > size:
                    raise GGUFError(TRUNCATED)
                pos += 8 + length_at(buf, pos)[0]
            if pos > size:
                raise GGUFError(TRUNCATED)
            self.pos = pos
        elif et == GGUFValueType.ARRAY:
            for _ in range(length):
                self.array()
        else:
            self.pos += length * struct.calcsize(_SCALAR_FORMATS[et])
            if self.pos > self.size:
                raise GGUFError(TRUNCATED)
        return ArrayInfo(et.name, length)


def read_header(path: str | Path) -> GGUFHeader:
    """Parse the header of ``path``; raise :class:`GGUFError` with a clear reason if it is not GGUF."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            size = p.stat().st_size
            if size < 24:
                head = fh.read(4)
                if head != GGUF_MAGIC:
                    raise GGUFError(f"{p.name} is not a GGUF model file (it is only {size} bytes long)")
                raise GGUFError(f"{p.name} is truncated: it is only {size} bytes long")
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                try:
                    return _parse(buf, size, p.name)
                except GGUFError as exc:
                    if str(exc) == TRUNCATED:  # raised deep in the header, where the name is not known
                        raise GGUFError(f"{p.name}: {TRUNCATED}") from None
                    raise
    except FileNotFoundError as exc:
        raise GGUFError(f"{p} does not exist") from exc
    except IsADirectoryError as exc:
        raise GGUFError(f"{p} is a folder, not a GGUF file") from exc
    except PermissionError as exc:
        raise GGUFError(f"{p} cannot be read: permission denied") from exc


def _parse(buf: mmap.mmap, size: int, name: str) -> GGUFHeader:
    magic = bytes(buf[:4])
    if magic != GGUF_MAGIC:
        raise GGUFError(f"{name} is not a GGUF model file (it starts with {magic!r}, not b'GGUF')")
    cur = _Cursor(buf, size)
    cur.pos = 4
    version = cur.unpack("<I")
    if version < 2 or version > 3:
        raise GGUFError(f"{name} uses GGUF version {version}; this app reads versions 2 and 3")
    n_tensors = cur.unpack("<Q")
    n_kv = cur.unpack("<Q")
    if n_tensors > 1_000_000 or n_kv > 1_000_000:
        raise GGUFError(f"{name} has an implausible header ({n_tensors} tensors, {n_kv} keys); it is corrupt")
    fields: dict[str, Any] = {}
    for _ in range(n_kv):
        key = cur.string()
        fields[key] = cur.value(cur.unpack("<I"))
    tensors = []
    for _ in range(n_tensors):
        tname = cur.string()
        n_dims = cur.unpack("<I")
        if n_dims > 8:
            raise GGUFError(f"{name}: tensor {tname!r} has {n_dims} dimensions; the file is corrupt")
        shape = tuple(cur.unpack("<Q") for _ in range(n_dims))
        tensors.append(TensorInfo(tname, shape, cur.unpack("<I"), cur.unpack("<Q")))
    alignment = fields.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0:
        alignment = DEFAULT_ALIGNMENT
    data_offset = cur.pos + (-cur.pos % alignment)
    header = GGUFHeader(version, fields, tuple(tensors), data_offset, size)
    needed = data_offset + max((t.offset + t.n_bytes for t in tensors), default=0)
    if needed > size:
        raise GGUFError(
            f"{name} is truncated: its tensors need {needed:,} bytes but the file has {size:,} "
            "(an interrupted download or copy?)"
        )
    return header
