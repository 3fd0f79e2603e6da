"""Read a GGUF file's header — metadata and tensor table — without loading any weights.

``gguf.GGUFReader`` builds a numpy view for every element of every array, which takes seconds on a
262,144-token vocabulary. This reader walks the same header with ``struct`` over a memory map, keeps the
scalar values and short arrays, and only counts long arrays (the tokenizer's). It uses the ``gguf``
package's own type tables, and the tests check it field by field against ``GGUFReader``.
"""

from __future__ import annotations

import mmap
import struct
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
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


def _quant_name(file_type: int) -> str:
    from gguf import LlamaFileType

    try:
        name = LlamaFileType(file_type).name
    except ValueError:
        return f"type {file_type}"
    return name.removeprefix("MOSTLY_").removeprefix("ALL_")


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


@dataclass(frozen=True)
class ModelMetadata:
    """What the library and the fit estimate need to know about a model, from its header alone."""

    architecture: str
    name: str | None
    parameter_count: int
    block_count: int | None
    context_length: int | None
    embedding_length: int | None
    head_count: int | None
    head_count_kv: int | None
    key_length: int | None
    value_length: int | None
    sliding_window: int | None
    vocab_size: int | None
    quantization: str
    file_size: int
    has_chat_template: bool
    size_label: str | None = None
    gguf_version: int = 3
    tensor_bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelMetadata:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def _int_field(fields: Mapping[str, Any], key: str) -> int | None:
    value = fields.get(key)
    if isinstance(value, list):  # per-layer values (some architectures): report the first
        value = value[0] if value else None
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _dominant_tensor_type(tensors: tuple[TensorInfo, ...]) -> str:
    by_bytes: Counter[int] = Counter()
    for t in tensors:
        if len(t.shape) >= 2:
            by_bytes[t.ggml_type] += t.n_bytes
    if not by_bytes:
        return "unknown"
    gtype = by_bytes.most_common(1)[0][0]
    from gguf import GGMLQuantizationType

    try:
        return GGMLQuantizationType(gtype).name
    except ValueError:
        return f"type {gtype}"


def metadata_from_header(header: GGUFHeader) -> ModelMetadata:
    f = header.fields
    arch = f.get("general.architecture")
    if not isinstance(arch, str) or not arch:
        raise GGUFError("the file has no general.architecture key, so it is not a language model GGUF")
    file_type = f.get("general.file_type")
    quant = _quant_name(file_type) if isinstance(file_type, int) else _dominant_tensor_type(header.tensors)
    tokens = f.get("tokenizer.ggml.tokens")
    if isinstance(tokens, ArrayInfo):
        vocab: int | None = tokens.length
    elif isinstance(tokens, list):
        vocab = len(tokens)
    else:
        vocab = _int_field(f, f"{arch}.vocab_size")
    template = f.get("tokenizer.chat_template")
    return ModelMetadata(
        architecture=arch,
        name=f.get("general.name") if isinstance(f.get("general.name"), str) else None,
        parameter_count=sum(t.n_elements for t in header.tensors),
        block_count=_int_field(f, f"{arch}.block_count"),
        context_length=_int_field(f, f"{arch}.context_length"),
        embedding_length=_int_field(f, f"{arch}.embedding_length"),
        head_count=_int_field(f, f"{arch}.attention.head_count"),
        head_count_kv=_int_field(f, f"{arch}.attention.head_count_kv"),
        key_length=_int_field(f, f"{arch}.attention.key_length"),
        value_length=_int_field(f, f"{arch}.attention.value_length"),
        sliding_window=_int_field(f, f"{arch}.attention.sliding_window"),
        vocab_size=vocab,
        quantization=quant,
        file_size=header.file_size,
        has_chat_template=isinstance(template, str) and bool(template.strip()),
        size_label=f.get("general.size_label") if isinstance(f.get("general.size_label"), str) else None,
        gguf_version=header.version,
        tensor_bytes=sum(t.n_bytes for t in header.tensors),
    )


def read_metadata(path: str | Path) -> ModelMetadata:
    """Header metadata of a GGUF file; :class:`GGUFError` says why a file cannot be used."""
    return metadata_from_header(read_header(path))


def format_params(n: int) -> str:
    """135M, 1.2B, …: the way model cards write parameter counts."""
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
    return str(n)
