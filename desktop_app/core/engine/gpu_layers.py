"""How many layers to put on a GPU: "auto" / "all" / a number into llama.cpp's ``n_gpu_layers``.

In the llama.cpp of llama-cpp-python 0.3.36 a value ``k >= 1`` puts the *output layer first*, then the
last ``k - 1`` repeating blocks on the GPU (``i_gpu_start = n_layer + 1 - k``); ``n_layer + 1`` (or -1)
is everything, and the input embedding always stays on the CPU.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from desktop_app.core.engine.gpu import BackendInfo, MiB

if TYPE_CHECKING:
    from desktop_app.core.models.gguf_meta import GGUFHeader, ModelMetadata

#: VRAM left free for the driver, the display and other programs.
DEFAULT_RESERVE_BYTES = 512 * MiB
#: Compute buffer assumed when the caller cannot estimate one (see :func:`compute_buffer_bytes`).
DEFAULT_COMPUTE_BUFFER_BYTES = 512 * MiB


class _Tensor(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def n_bytes(self) -> int: ...


@dataclass(frozen=True)
class LayerSizes:
    layers: tuple[int, ...]  # bytes of blk.N.* for N = 0 … n-1
    non_layer_bytes: int  # every other tensor (embedding, output, norms, rope tables)
    #: What the output layer puts on the GPU: output.* and output_norm.*, plus a copy of
    #: token_embd.weight when the model ties its output to the embedding (no output.weight).
    output_bytes: int

    @property
    def total_bytes(self) -> int:
        return sum(self.layers) + self.non_layer_bytes


_BLOCK = re.compile(r"blk\.(\d+)\.")


def layer_sizes_from_tensors(tensors: Iterable[_Tensor]) -> LayerSizes:
    per_block: dict[int, int] = {}
    other = output = embedding = 0
    has_output_weight = False
    for t in tensors:
        m = _BLOCK.match(t.name)
        if m:
            per_block[int(m.group(1))] = per_block.get(int(m.group(1)), 0) + t.n_bytes
            continue
        other += t.n_bytes
        if t.name.startswith(("output.", "output_norm.")):
            output += t.n_bytes
            has_output_weight = has_output_weight or t.name == "output.weight"
        elif t.name == "token_embd.weight":
            embedding = t.n_bytes
    n = max(per_block, default=-1) + 1
    layers = tuple(per_block.get(i, 0) for i in range(n))
    return LayerSizes(layers, other, output + (0 if has_output_weight else embedding))


def kv_cache_bytes_per_layer(
    *,
    n_ctx: int,
    n_embd_k_gqa: int,
    n_embd_v_gqa: int,
    type_size: float = 2,
    sliding_window: int | None = None,
) -> int:
    """K and V cache of one layer: positions × (K + V width) × bytes per element (f16: 2), rounded up.

    A sliding-window layer holds min(n_ctx, window) positions. llama.cpp actually keeps one micro-batch
    more, and by default (``swa_full``, which llama-cpp-python 0.3.36 keeps) a full n_ctx cache for SWA
    layers too, so :func:`plan_gpu_layers` does not pass the window.
    """
    positions = min(n_ctx, sliding_window) if sliding_window else n_ctx
    return math.ceil(positions * (n_embd_k_gqa + n_embd_v_gqa) * type_size)


def compute_buffer_bytes(*, n_ctx: int, n_vocab: int, n_embd: int, n_head: int, n_ubatch: int = 512) -> int:
    """A rough compute buffer for one micro-batch of ``u = min(n_ubatch, n_ctx)`` tokens, in f32:
    ``4 · u · (4·n_embd + max(n_vocab, 1.25 · n_head · n_ctx))`` — the logits, or the attention scores
    (no flash attention) when those are larger, plus a few activations. It is 0.5 to 11 % above
    llama.cpp's own CPU buffer for SmolLM2 at n_ctx 256 … 8192 and Gemma 3 270M at 4096 … 32768."""
    u = min(n_ubatch, n_ctx)
    return 4 * u * (4 * n_embd + max(n_vocab, n_head * n_ctx * 5 // 4))


def auto_gpu_layers(
    *,
    n_layers: int,
    weights_bytes: int,
    output_bytes: int,
    kv_bytes_per_layer: int | Sequence[int],
    free_vram: int,
    reserve_bytes: int = DEFAULT_RESERVE_BYTES,
    compute_buffer: int | None = None,
    layer_bytes: Sequence[int] | None = None,
) -> int:
    """The largest ``n_gpu_layers`` whose GPU memory fits in ``free_vram``.

    llama.cpp places the output layer first, then repeating blocks from the last one down, so the
    answer ``k`` means output + the last ``k - 1`` blocks, and ``n_layers + 1`` means everything. It
    needs output_bytes + Σ(block weights + block KV) + compute buffer + reserve ≤ free_vram. Block sizes
    come from ``layer_bytes`` or, without it, (weights_bytes − output_bytes) / n_layers rounded up.
    0 when not even the output layer fits.
    """
    if n_layers <= 0 or free_vram <= 0:
        return 0
    if layer_bytes is None:
        sizes = [-(-max(weights_bytes - output_bytes, 0) // n_layers)] * n_layers
    else:
        sizes = list(layer_bytes)
    kv = [kv_bytes_per_layer] * n_layers if isinstance(kv_bytes_per_layer, int) else list(kv_bytes_per_layer)
    if len(sizes) != n_layers or len(kv) != n_layers:
        raise ValueError(f"per-layer sizes must list {n_layers} layers, not {len(sizes)} and {len(kv)}")
    compute = DEFAULT_COMPUTE_BUFFER_BYTES if compute_buffer is None else compute_buffer
    budget = free_vram - reserve_bytes - compute - output_bytes
    if budget < 0:
        return 0
    blocks = 0
    for i in reversed(range(n_layers)):
        need = sizes[i] + kv[i]
        if need > budget:
            break
        budget -= need
        blocks += 1
    return blocks + 1


def _requested_count(requested: int | str) -> int | str:
    if isinstance(requested, bool):
        raise ValueError(f"GPU layers must be a number, 'auto' or 'all', not {requested!r}")
    if isinstance(requested, str):
        word = requested.strip().lower()
        if word in ("auto", "all"):
            return word
        if word.lstrip("-").isdigit():
            requested = int(word)
    if isinstance(requested, int) and requested >= -1:
        return "all" if requested == -1 else requested
    raise ValueError(f"GPU layers must be a number, 'auto' or 'all', not {requested!r}")


def plan_gpu_layers(
    header_or_metadata: GGUFHeader | ModelMetadata,
    n_ctx: int,
    backends: BackendInfo,
    requested: int | str,
) -> int:
    """The ``n_gpu_layers`` to pass to llama.cpp: 0 without a GPU, -1 for "all", a number as given,
    and for "auto" what fits in the free memory of the GPU with the most free memory (f16 KV cache,
    full-size cache on sliding-window layers, :func:`compute_buffer_bytes`, 512 MiB reserve)."""
    from desktop_app.core.models.gguf_meta import GGUFHeader, metadata_from_header

    choice = _requested_count(requested)
    if not backends.has_gpu:
        return 0
    if choice == "all":
        return -1
    if isinstance(choice, int):
        return choice
    gpu = backends.best_gpu
    if gpu is None or gpu.free_bytes <= 0:  # the device API is unavailable: no memory to plan with
        return 0
    if isinstance(header_or_metadata, GGUFHeader):
        meta = metadata_from_header(header_or_metadata)
        sizes: LayerSizes | None = layer_sizes_from_tensors(header_or_metadata.tensors)
    else:
        meta, sizes = header_or_metadata, None
    n_layers = meta.block_count or (len(sizes.layers) if sizes else 0)
    n_embd = meta.embedding_length or 0
    n_head = meta.head_count or 1
    n_kv = meta.head_count_kv or n_head
    head_k = meta.key_length or n_embd // n_head
    head_v = meta.value_length or n_embd // n_head
    kv = kv_cache_bytes_per_layer(n_ctx=n_ctx, n_embd_k_gqa=n_kv * head_k, n_embd_v_gqa=n_kv * head_v)
    n_vocab = meta.vocab_size or 0
    if sizes is not None and len(sizes.layers) == n_layers:
        output, layer_bytes = sizes.output_bytes, sizes.layers
    else:  # metadata only: the output matrix is n_vocab × n_embd weights, usually kept at q8_0 or wider
        width = max(meta.tensor_bytes / meta.parameter_count if meta.parameter_count else 0, 34 / 32)
        output, layer_bytes = math.ceil(n_vocab * n_embd * width), None
    return auto_gpu_layers(
        n_layers=n_layers,
        weights_bytes=meta.tensor_bytes,
        output_bytes=output,
        kv_bytes_per_layer=kv,
        free_vram=gpu.free_bytes,
        compute_buffer=compute_buffer_bytes(n_ctx=n_ctx, n_vocab=n_vocab, n_embd=n_embd, n_head=n_head),
        layer_bytes=layer_bytes,
    )
