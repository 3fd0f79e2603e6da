"""What a model is, from its GGUF header alone: architecture, size, shape, quantization, chat template.

The header itself is read by gguf_header.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from desktop_app.core.models.gguf_header import ArrayInfo, GGUFError, GGUFHeader, TensorInfo, read_header


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


def _quant_name(file_type: int) -> str:
    from gguf import LlamaFileType

    try:
        name = LlamaFileType(file_type).name
    except ValueError:
        return f"type {file_type}"
    return name.removeprefix("MOSTLY_").removeprefix("ALL_")
