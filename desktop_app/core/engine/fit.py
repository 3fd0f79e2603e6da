"""Will a model fit? Memory a GGUF needs for a context length, against the free RAM and GPU memory.

Needs = weights (the file size) + KV cache for ``n_ctx`` positions + a compute buffer. The arithmetic
(:func:`requirements_from_header`, :func:`requirements_rough`, :func:`judge`) is pure; probing the machine
is separate (machine_memory.py), so the numbers can be checked by hand.

* KV cache, from a header: per layer ``n_ctx × n_head_kv × (head_dim_k + head_dim_v) × 2`` bytes (f16).
  Sliding-window layers (Gemma 2/3: every layer but every 2nd / 6th) keep a full-size cache because
  llama-cpp-python 0.3.36 keeps llama.cpp's ``swa_full`` default; with ``swa_full=False`` they hold
  ``min(n_ctx, window + n_ubatch)`` positions, as llama.cpp allocates them.
* KV cache without a header (a file on the hub), a documented rough estimate: per token
  ``48 KiB × (parameters / 1e9) ** 0.6`` in f16. Grouped-query models (Llama 3, Qwen 2.5, Gemma 3) need
  about half of that, full multi-head ones (SmolLM2 1.7B, Phi-3.5 mini) two to three times more.
  Parameters come from the hub's GGUF info, else from the file size and the quantization's bits per weight.
* Compute buffer: :func:`~desktop_app.core.engine.gpu_layers.compute_buffer_bytes` (no flash attention).
* With a GPU, the layers are split the way llama.cpp offloads them (output layer first, then the last
  blocks; :func:`~desktop_app.core.engine.gpu_layers.auto_gpu_layers`); the verdict is for what stays in
  RAM. A unified-memory GPU (Apple silicon, integrated GPUs) shares one pool with the CPU.
* Verdict: "fits" when the need is at most 80 % of what is free, "tight" up to 100 %, else "won't fit";
  "unknown" only when free memory cannot be measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from desktop_app.core.engine.gpu_layers import (
    DEFAULT_RESERVE_BYTES,
    auto_gpu_layers,
    compute_buffer_bytes,
    kv_cache_bytes_per_layer,
    layer_sizes_from_tensors,
)
from desktop_app.core.engine.machine_memory import MemoryState, probe_memory
from desktop_app.core.models.gguf_header import GGUFHeader, read_header
from desktop_app.core.models.gguf_meta import ModelMetadata, metadata_from_header

Verdict = Literal["fits", "tight", "won't fit", "unknown"]
KiB = 1024
GB = 1_000_000_000  # sentences use decimal GB, as the hub lists file sizes
#: "fits" up to this share of the free memory, "tight" above it and up to all of it.
TIGHT_FRACTION = 0.8
#: Rough KV cache per token of a 1B-parameter model (f16), and how it grows with the parameter count.
ROUGH_KV_BYTES_PER_TOKEN_1B = 48 * KiB
ROUGH_KV_EXPONENT = 0.6
#: Assumed shape when there is no header: layers (only the GPU split's granularity), vocabulary, width.
ROUGH_LAYERS = 32
ROUGH_VOCAB, ROUGH_EMBD, ROUGH_HEADS = 128_000, 2048, 16
#: A global-attention layer every N layers where an architecture mixes in sliding-window ones (llama.cpp).
SWA_PATTERNS = (("gemma2", 2), ("gemma3", 6), ("gemma3n", 5), ("cohere2", 4))
#: Bits per weight of whole files, to guess a parameter count from a size (K-quants mix types).
BITS_PER_WEIGHT = (
    ("F32", 32.0), ("F16", 16.0), ("BF16", 16.0), ("Q8_0", 8.5), ("Q6_K", 6.56), ("Q5_1", 6.0),
    ("Q5_K_M", 5.69), ("Q5_K_S", 5.54), ("Q5_0", 5.5), ("Q4_1", 5.0), ("Q4_K_M", 4.89), ("Q4_K_S", 4.58),
    ("Q4_0", 4.5), ("IQ4_NL", 4.5), ("IQ4_XS", 4.25), ("MXFP4", 4.25), ("Q3_K_L", 4.27), ("Q3_K_M", 3.91),
    ("IQ3_M", 3.66), ("Q3_K_S", 3.5), ("IQ3_S", 3.44), ("IQ3_XS", 3.3), ("IQ3_XXS", 3.06), ("Q2_K", 2.96),
    ("IQ2_M", 2.7), ("IQ2_S", 2.5), ("IQ2_XS", 2.31), ("IQ2_XXS", 2.06), ("TQ2_0", 2.06), ("IQ1_M", 1.75),
    ("TQ1_0", 1.69), ("IQ1_S", 1.56),
)  # fmt: skip
DEFAULT_BITS_PER_WEIGHT = 4.89


# --------------------------------------------------------------------------- what the model needs


@dataclass(frozen=True)
class ModelShape:
    """The hyper-parameters the KV cache and compute buffer depend on."""

    n_layers: int
    n_head: int
    n_head_kv: int
    head_dim_k: int
    head_dim_v: int
    n_embd: int
    n_vocab: int
    sliding_window: int | None = None
    swa_layers: int = 0  # how many layers use the sliding window


def swa_layer_count(architecture: str, n_layers: int, sliding_window: int | None) -> int:
    if not sliding_window:
        return 0
    pattern = dict(SWA_PATTERNS).get(architecture)
    return n_layers - n_layers // pattern if pattern else n_layers


def shape_from_metadata(meta: ModelMetadata) -> ModelShape | None:
    """None when the header lacks the layer count, width or head count (not a usual transformer)."""
    if not meta.block_count or not meta.embedding_length or not meta.head_count:
        return None
    n_head = meta.head_count
    head_k = meta.key_length or meta.embedding_length // n_head
    head_v = meta.value_length or meta.embedding_length // n_head
    return ModelShape(
        n_layers=meta.block_count,
        n_head=n_head,
        n_head_kv=meta.head_count_kv or n_head,
        head_dim_k=head_k,
        head_dim_v=head_v,
        n_embd=meta.embedding_length,
        n_vocab=meta.vocab_size or ROUGH_VOCAB,
        sliding_window=meta.sliding_window,
        swa_layers=swa_layer_count(meta.architecture, meta.block_count, meta.sliding_window),
    )


def kv_cache_bytes(
    shape: ModelShape, n_ctx: int, *, type_size: float = 2, swa_full: bool = True, n_ubatch: int = 512
) -> int:
    """K and V cache of every layer for ``n_ctx`` positions (f16: ``type_size`` 2)."""
    width = {
        "n_embd_k_gqa": shape.n_head_kv * shape.head_dim_k,
        "n_embd_v_gqa": shape.n_head_kv * shape.head_dim_v,
    }
    full = kv_cache_bytes_per_layer(n_ctx=n_ctx, type_size=type_size, **width)
    if swa_full or not shape.swa_layers or not shape.sliding_window:
        return shape.n_layers * full
    positions = min(n_ctx, shape.sliding_window + n_ubatch)
    windowed = kv_cache_bytes_per_layer(n_ctx=positions, type_size=type_size, **width)
    return (shape.n_layers - shape.swa_layers) * full + shape.swa_layers * windowed


def parameters_from_size(file_size: int, quantization: str | None) -> int:
    """A parameter count guessed from a file size and its quantization's bits per weight."""
    quant = (quantization or "").upper().removeprefix("UD-")
    bits = dict(BITS_PER_WEIGHT).get(quant, DEFAULT_BITS_PER_WEIGHT)
    return int(file_size * 8 / bits)


def rough_kv_bytes(parameters: int, n_ctx: int, *, type_size: float = 2) -> int:
    per_token = ROUGH_KV_BYTES_PER_TOKEN_1B * (max(parameters, 1) / 1e9) ** ROUGH_KV_EXPONENT
    return math.ceil(per_token * n_ctx * type_size / 2)


@dataclass(frozen=True)
class Requirements:
    """Bytes a model needs at one context length, and what the GPU split needs to know."""

    weights_bytes: int
    kv_bytes: int
    compute_bytes: int
    n_ctx: int
    basis: Literal["header", "hub", "rough"]  # the KV cache from the header, the hub's count, the file size
    n_layers: int = ROUGH_LAYERS
    gpu_output_bytes: int = 0  # what the output layer puts on a GPU (with a tied embedding's copy)
    output_bytes: int = 0  # output weights proper, which leave the CPU when the output layer is offloaded
    layer_bytes: tuple[int, ...] | None = None  # weights of each block, when the tensor table is known

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_bytes + self.compute_bytes


def requirements_from_header(
    source: GGUFHeader | ModelMetadata,
    n_ctx: int,
    *,
    weights_bytes: int | None = None,
    kv_type_size: float = 2,
    swa_full: bool = True,
) -> Requirements:
    """Needs computed from a local header (a full :class:`GGUFHeader` also gives per-layer sizes).

    ``weights_bytes`` defaults to the file size; pass the total of all parts for a split model.
    """
    if isinstance(source, GGUFHeader):
        meta = metadata_from_header(source)
        sizes = layer_sizes_from_tensors(source.tensors)
        own_output = sum(t.n_bytes for t in source.tensors if t.name.startswith(("output.", "output_norm.")))
    else:
        meta, sizes, own_output = source, None, 0
    weights = meta.file_size if weights_bytes is None else weights_bytes
    shape = shape_from_metadata(meta)
    if shape is None:
        return requirements_rough(
            weights, n_ctx, parameters=meta.parameter_count or None, kv_type_size=kv_type_size
        )
    kv = kv_cache_bytes(shape, n_ctx, type_size=kv_type_size, swa_full=swa_full)
    compute = compute_buffer_bytes(
        n_ctx=n_ctx, n_vocab=shape.n_vocab, n_embd=shape.n_embd, n_head=shape.n_head
    )
    if sizes is not None and len(sizes.layers) == shape.n_layers:
        gpu_output, layers = sizes.output_bytes, sizes.layers
    else:  # metadata only: an output matrix of n_vocab × n_embd at the file's average width, at least q8_0
        width = max(meta.tensor_bytes / meta.parameter_count if meta.parameter_count else 0, 34 / 32)
        gpu_output = own_output = math.ceil(shape.n_vocab * shape.n_embd * width)
        layers = None
    return Requirements(weights, kv, compute, n_ctx, "header", shape.n_layers, gpu_output, own_output, layers)


def requirements_rough(
    file_size: int,
    n_ctx: int,
    *,
    parameters: int | None = None,
    quantization: str | None = None,
    kv_type_size: float = 2,
) -> Requirements:
    """Needs without a header: ``parameters`` from the hub's GGUF info ("hub"), else from the file size
    and quantization ("rough")."""
    params = parameters if parameters else parameters_from_size(file_size, quantization)
    kv = rough_kv_bytes(params, n_ctx, type_size=kv_type_size)
    compute = compute_buffer_bytes(n_ctx=n_ctx, n_vocab=ROUGH_VOCAB, n_embd=ROUGH_EMBD, n_head=ROUGH_HEADS)
    return Requirements(file_size, kv, compute, n_ctx, "hub" if parameters else "rough")


# --------------------------------------------------------------------------- against the machine


@dataclass(frozen=True)
class FitEstimate:
    verdict: Verdict
    sentence: str
    requirements: Requirements
    memory: MemoryState
    gpu_layers: int  # llama.cpp's n_gpu_layers for this split: 0 none, n_layers + 1 everything
    gpu_bytes: int
    cpu_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.requirements.total_bytes


def verdict_for(need: int, available: int | None) -> Verdict:
    if available is None:
        return "unknown"
    if need <= TIGHT_FRACTION * available:
        return "fits"
    return "tight" if need <= available else "won't fit"


def format_bytes(n: int) -> str:
    return f"{n / GB:.1f} GB" if n >= 995_000_000 else f"{max(n, 1_000_000) / 1e6:.0f} MB"


_ADVICE = MappingProxyType(
    {
        "tight": "; close other programs, or choose a shorter context or a smaller quantization",
        "won't fit": "; choose a smaller quantization or a shorter context",
    }
)
_BASIS = MappingProxyType(
    {
        "hub": " (estimated from the parameter count; the file's header gives the exact figure)",
        "rough": " (a rough estimate from the file size)",
    }
)
_LABELS = MappingProxyType({"fits": "Fits", "tight": "Tight", "won't fit": "Won't fit", "unknown": "Unknown"})


def judge(
    req: Requirements, memory: MemoryState, *, reserve_bytes: int = DEFAULT_RESERVE_BYTES
) -> FitEstimate:
    """Split ``req`` between GPU and RAM like llama.cpp's layer offload, and say whether it fits."""
    total = req.total_bytes
    basis = _BASIS.get(req.basis, "")
    if memory.has_gpu and memory.unified:
        available = min(memory.vram_free, memory.ram_available or memory.vram_free)
        verdict = verdict_for(total, available)
        sentence = f"needs about {format_bytes(total)} of {format_bytes(available)} free (unified) memory"
        return FitEstimate(
            verdict, _sentence(verdict, sentence, basis), req, memory, req.n_layers + 1, total, 0
        )
    k = 0
    if memory.has_gpu:
        k = auto_gpu_layers(
            n_layers=req.n_layers,
            weights_bytes=req.weights_bytes,
            output_bytes=req.gpu_output_bytes,
            kv_bytes_per_layer=-(-req.kv_bytes // req.n_layers),
            free_vram=memory.vram_free,
            reserve_bytes=reserve_bytes,
            compute_buffer=req.compute_bytes,
            layer_bytes=req.layer_bytes,
        )
    if k == 0:
        verdict = verdict_for(total, memory.ram_available)
        if memory.ram_available is None:
            return FitEstimate(verdict, _unknown(total, basis), req, memory, 0, 0, total)
        text = f"needs about {format_bytes(total)} of {format_bytes(memory.ram_available)} free memory"
        if verdict == "won't fit":
            text = f"needs about {format_bytes(total)} but only {format_bytes(memory.ram_available)} is free"
        if memory.has_gpu:
            text += f" (not even the output layer fits in the GPU's {format_bytes(memory.vram_free)})"
        return FitEstimate(verdict, _sentence(verdict, text, basis), req, memory, 0, 0, total)
    blocks = k - 1
    sizes = (
        req.layer_bytes
        or [-(-max(req.weights_bytes - req.gpu_output_bytes, 0) // req.n_layers)] * req.n_layers
    )
    gpu_blocks = sum(sizes[req.n_layers - blocks :]) if blocks else 0
    kv_gpu = req.kv_bytes * blocks // req.n_layers
    gpu = req.gpu_output_bytes + gpu_blocks + kv_gpu + req.compute_bytes
    on_cpu = blocks < req.n_layers
    cpu = max(req.weights_bytes - gpu_blocks - req.output_bytes, 0) + (req.kv_bytes - kv_gpu)
    cpu += req.compute_bytes if on_cpu else 0
    verdict = verdict_for(cpu, memory.ram_available)
    where = memory.gpu_name or "the GPU"
    if not on_cpu:
        head = f"runs on {where} ({format_bytes(gpu)} of {format_bytes(memory.vram_free)} free)"
    else:
        head = (
            f"{blocks} of {req.n_layers} layers fit on {where} ({format_bytes(gpu)} of "
            f"{format_bytes(memory.vram_free)} free)"
        )
    if memory.ram_available is None:
        tail = f", and {format_bytes(cpu)} stays in memory, whose free amount could not be measured"
    else:
        tail = f", and needs about {format_bytes(cpu)} of {format_bytes(memory.ram_available)} free memory"
    return FitEstimate(verdict, _sentence(verdict, head + tail, basis), req, memory, k, gpu, cpu)


def _sentence(verdict: Verdict, text: str, basis: str) -> str:
    return f"{_LABELS[verdict]}: {text}{basis}{_ADVICE.get(verdict, '')}."


def _unknown(total: int, basis: str) -> str:
    return f"Needs about {format_bytes(total)} of memory{basis}; how much is free could not be measured here."


def estimate_fit(
    source: str | Path | GGUFHeader | ModelMetadata, n_ctx: int, memory: MemoryState | None = None
) -> FitEstimate:
    """The fit of a local GGUF (path, header or metadata) at ``n_ctx``, against ``memory`` or this machine."""
    header = read_header(source) if isinstance(source, (str, Path)) else source
    return judge(requirements_from_header(header, n_ctx), memory or probe_memory())
