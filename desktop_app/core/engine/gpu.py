"""GPU backends, llama.cpp's offload log, and how many layers to put on the GPU.

Three things live here, all without Qt and without module-level state:

* :func:`probe_backends` lists the ggml backend devices (CPU, CUDA, Metal, Vulkan, …) through ggml's
  device API, bound with ctypes from the libraries llama-cpp-python already loaded (0.3.36 does not
  bind it). If a symbol is missing it falls back to ``llama_supports_gpu_offload()`` and the system
  info text, and says so in :attr:`BackendInfo.note`.
* :class:`LlamaLog` collects llama.cpp's log through :func:`install_log_callback`;
  :func:`parse_offload` reads from it how many layers went to the GPU. A CPU-only build prints no
  ``offloaded N/M layers to GPU`` line at all (llama.cpp gates it on ``llama_supports_gpu_offload()``),
  so the parser also reads the debug lines ``load_tensors: layer 7 assigned to device CPU, …``.
* :func:`auto_gpu_layers` / :func:`plan_gpu_layers` turn "auto" / "all" / a number into llama.cpp's
  ``n_gpu_layers``. In the llama.cpp of llama-cpp-python 0.3.36 a value ``k >= 1`` puts the *output
  layer first*, then the last ``k - 1`` repeating blocks on the GPU (``i_gpu_start = n_layer + 1 - k``);
  ``n_layer + 1`` (or -1) is everything, and the input embedding always stays on the CPU.
"""

from __future__ import annotations

import ctypes
import math
import os
import re
import sys
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from desktop_app.core.models.gguf_meta import GGUFHeader, ModelMetadata

MiB = 1024 * 1024
GiB = 1024 * MiB
#: VRAM left free for the driver, the display and other programs.
DEFAULT_RESERVE_BYTES = 512 * MiB
#: Compute buffer assumed when the caller cannot estimate one (see :func:`compute_buffer_bytes`).
DEFAULT_COMPUTE_BUFFER_BYTES = 512 * MiB

# enum ggml_backend_dev_type (ggml/include/ggml-backend.h)
_DEVICE_KINDS = {0: "cpu", 1: "gpu", 2: "igpu", 3: "accel"}
_GPU_KINDS = ("gpu", "igpu")
# Registries that are not GPUs: seeing only these means "CPU only".
_NON_GPU_REGISTRIES = {"CPU", "BLAS", "RPC", "AMX"}


# --------------------------------------------------------------------------- backend devices


@dataclass(frozen=True)
class Device:
    name: str  # "CPU", "CUDA0", "Vulkan0", "MTL0"
    description: str  # "AMD EPYC", "NVIDIA H100 80GB HBM3"
    kind: str  # "cpu" | "gpu" | "igpu" | "accel" ("other" for a type this module does not know)
    backend: str  # registry name: "CPU", "CUDA", "Metal", "Vulkan", "ROCm", "SYCL"
    free_bytes: int
    total_bytes: int

    @property
    def is_gpu(self) -> bool:
        return self.kind in _GPU_KINDS


@dataclass(frozen=True)
class BackendInfo:
    devices: tuple[Device, ...]
    gpu_offload_supported: bool
    system_info: str
    #: Registries compiled into (or loaded by) this build, e.g. ("CUDA", "CPU").
    registries: tuple[str, ...] = ()
    #: False when the ggml device API could not be used; then ``devices`` is empty.
    device_api: bool = True
    #: Why the device API could not be used, in one sentence ("" when it could).
    note: str = ""

    @property
    def gpu_devices(self) -> tuple[Device, ...]:
        return tuple(d for d in self.devices if d.is_gpu)

    @property
    def has_gpu(self) -> bool:
        if self.device_api:
            return bool(self.gpu_devices)
        return self.gpu_offload_supported

    @property
    def backend_names(self) -> tuple[str, ...]:
        names = [d.backend for d in self.devices] + list(self.registries)
        if not names:
            names = re.findall(r"(?:^|\|)\s*(\w+) : ", self.system_info)
        return tuple(dict.fromkeys(names))

    @property
    def best_gpu(self) -> Device | None:
        """The GPU device with the most free memory, or None."""
        return max(self.gpu_devices, key=lambda d: d.free_bytes, default=None)

    def summary(self) -> str:
        if not self.device_api:
            if self.gpu_offload_supported:
                names = ", ".join(n for n in self.backend_names if n != "CPU") or "GPU"
                return f"{names} offload supported; devices unknown ({self.note})"
            return f"no GPU backend in this build (CPU only; {self.note})"
        if not self.has_gpu:
            gpu_regs = [r for r in self.registries if r not in _NON_GPU_REGISTRIES]
            if gpu_regs:
                names = ", ".join(gpu_regs)
                return f"no GPU found: this build has {names} but lists no GPU device (CPU only)"
            return "no GPU backend in this build (CPU only)"
        parts = []
        for d in self.gpu_devices:
            text = f"{d.backend}: {d.description or d.name}"
            if d.total_bytes > 0:
                text += f" ({format_gib(d.free_bytes)} free of {format_gib(d.total_bytes)})"
            parts.append(text)
        return "; ".join(parts)


def format_gib(n_bytes: int) -> str:
    return f"{n_bytes / GiB:.1f} GiB"


class _MissingSymbolError(LookupError):
    pass


def _library_names(base: str) -> list[str]:
    if sys.platform == "win32":
        return [f"{base}.dll", f"lib{base}.dll"]
    if sys.platform == "darwin":
        return [f"lib{base}.dylib", f"lib{base}.so"]
    return [f"lib{base}.so"]


def _library_dirs() -> list[Path]:
    import llama_cpp
    import llama_cpp.llama_cpp as bindings

    dirs: list[Path] = []
    loaded = getattr(getattr(bindings, "_lib", None), "_name", None)  # the CDLL llama_cpp opened
    if isinstance(loaded, str) and os.path.isabs(loaded):
        dirs.append(Path(loaded).parent)
    dirs.append(Path(llama_cpp.__file__).parent / "lib")
    return list(dict.fromkeys(dirs))


def _open_libraries() -> list[ctypes.CDLL]:
    """ggml, ggml-base and llama from llama_cpp's folder: on Windows a symbol must be looked up in
    the very DLL that exports it, so every one is searched in turn."""
    libs: list[ctypes.CDLL] = []
    folders = _library_dirs()
    for folder in folders:
        for base in ("ggml", "ggml-base", "llama"):
            for name in _library_names(base):
                path = folder / name
                if path.exists():
                    libs.append(ctypes.CDLL(str(path)))
                    break
        if libs:
            return libs
    raise _MissingSymbolError(f"no ggml library found in {folders[0]}")


class _DeviceApi:
    """ctypes prototypes of the part of ggml-backend.h this module needs."""

    def __init__(self, libs: list[ctypes.CDLL]):
        self._libs = libs
        vp, sz, cp, i = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_int
        psz = ctypes.POINTER(ctypes.c_size_t)
        self.dev_count = self._fn("ggml_backend_dev_count", sz)
        self.dev_get = self._fn("ggml_backend_dev_get", vp, sz)
        self.dev_name = self._fn("ggml_backend_dev_name", cp, vp)
        self.dev_type = self._fn("ggml_backend_dev_type", i, vp)
        self.dev_description = self._fn("ggml_backend_dev_description", cp, vp, required=False)
        self.dev_memory = self._fn("ggml_backend_dev_memory", None, vp, psz, psz, required=False)
        self.dev_backend_reg = self._fn("ggml_backend_dev_backend_reg", vp, vp, required=False)
        self.reg_name = self._fn("ggml_backend_reg_name", cp, vp, required=False)
        self.reg_count = self._fn("ggml_backend_reg_count", sz, required=False)
        self.reg_get = self._fn("ggml_backend_reg_get", vp, sz, required=False)
        self.load_all = self._fn("ggml_backend_load_all", None, required=False)

    def _fn(self, name: str, restype: Any, *argtypes: Any, required: bool = True) -> Any:
        proto = ctypes.CFUNCTYPE(restype, *argtypes)
        for lib in self._libs:
            if hasattr(lib, name):
                return proto((name, lib))
        if required:
            raise _MissingSymbolError(f"the ggml library has no {name}")
        return None


def _text(raw: bytes | str | None) -> str:
    if raw is None:
        return ""
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw


def _read_device(api: _DeviceApi, dev: int) -> Device:
    name = _text(api.dev_name(dev))
    kind = _DEVICE_KINDS.get(api.dev_type(dev), "other")
    description = _text(api.dev_description(dev)) if api.dev_description else ""
    free = total = 0
    if api.dev_memory:
        f, t = ctypes.c_size_t(0), ctypes.c_size_t(0)
        api.dev_memory(dev, ctypes.byref(f), ctypes.byref(t))
        free, total = f.value, t.value
    backend = ""
    if api.dev_backend_reg and api.reg_name:
        reg = api.dev_backend_reg(dev)
        backend = _text(api.reg_name(reg)) if reg else ""
    if not backend:  # "CUDA0" → "CUDA"
        backend = name.rstrip("0123456789") or name
    return Device(name, description, kind, backend, free, total)


def probe_backends() -> BackendInfo:
    """The devices llama.cpp can use, now. Works without a model loaded; cache it on the caller."""
    import llama_cpp

    llama_cpp.llama_backend_init()  # idempotent
    offload = bool(llama_cpp.llama_supports_gpu_offload())
    system_info = _text(llama_cpp.llama_print_system_info()).strip()
    try:
        api = _DeviceApi(_open_libraries())
    except (_MissingSymbolError, OSError) as exc:
        return BackendInfo((), offload, system_info, device_api=False, note=f"device list unavailable: {exc}")
    count = api.dev_count()
    if count == 0 and api.load_all:  # a build with dynamically loaded backends that no one loaded yet
        api.load_all()
        count = api.dev_count()
    devices = []
    for index in range(count):
        dev = api.dev_get(index)
        if dev:
            devices.append(_read_device(api, dev))
    registries: list[str] = []
    if api.reg_count and api.reg_get and api.reg_name:
        for index in range(api.reg_count()):
            reg = api.reg_get(index)
            if reg:
                registries.append(_text(api.reg_name(reg)))
    return BackendInfo(tuple(devices), offload, system_info, tuple(registries))


# --------------------------------------------------------------------------- llama.cpp's log


class LlamaLog:
    """A thread-safe sink for llama.cpp's log: whole lines, the newest ``max_lines`` kept.

    llama.cpp sends text in pieces (progress dots arrive one by one with level CONT); pieces are
    joined and split at newlines, so :meth:`lines` gives the lines a terminal would show.
    """

    def __init__(self, max_lines: int = 10_000):
        if max_lines < 1:
            raise ValueError("a log keeps at least one line")
        self._lock = threading.Lock()
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._partial = ""
        #: The ctypes callback installed for this sink (kept here so it lives as long as the sink).
        self.callback: object | None = None

    def handle(self, level: int, text: bytes | str | None) -> None:
        piece = _text(text)
        if not piece:
            return
        with self._lock:
            *done, self._partial = (self._partial + piece).split("\n")
            self._lines.extend(done)

    def lines(self) -> list[str]:
        with self._lock:
            return [*self._lines, self._partial] if self._partial else list(self._lines)

    def text(self) -> str:
        return "\n".join(self.lines())

    def clear(self) -> None:
        with self._lock:
            self._lines.clear()
            self._partial = ""


def install_log_callback(sink: LlamaLog) -> object:
    """Send all of llama.cpp's log to ``sink`` (nothing reaches stderr) and return the ctypes callback.

    llama.cpp keeps only a C pointer: the returned object must stay alive while it is installed. It is
    also stored on ``sink.callback``, so keeping the sink is enough. Before dropping both, call
    :func:`restore_default_log_callback`. Load models with ``verbose=True``: ``verbose=False`` makes
    llama-cpp-python redirect the process's stdout/stderr file descriptors during the load.
    """
    import llama_cpp

    def forward(level: int, text: bytes | None, _user_data: Any) -> None:
        sink.handle(level, text)

    callback = llama_cpp.llama_log_callback(forward)
    llama_cpp.llama_log_set(callback, None)
    sink.callback = callback
    return callback


def restore_default_log_callback() -> None:
    """Give llama.cpp back llama-cpp-python's own log callback (it lives as long as its module)."""
    import llama_cpp
    from llama_cpp import _logger

    llama_cpp.llama_log_set(_logger.llama_log_callback, None)


@dataclass(frozen=True)
class OffloadReport:
    offloaded_layers: int  # of total_layers; llama.cpp counts the output layer as one
    total_layers: int
    #: Non-CPU devices that received layers, in order (from the debug lines; may be empty).
    devices: tuple[str, ...] = ()

    @property
    def all_offloaded(self) -> bool:
        return self.total_layers > 0 and self.offloaded_layers >= self.total_layers


_LOAD_START = "load_tensors: loading model tensors"
_OFFLOADED = re.compile(r"offloaded (-?\d+)/(\d+) layers to GPU")
_ASSIGNED = re.compile(r"load_tensors: layer\s+(\d+) assigned to device ([^,\s]+)")


def parse_offload(log_text: str) -> OffloadReport | None:
    """How many layers the last model load put on the GPU, from llama.cpp's log; None if it never said.

    ``load_tensors: offloaded 31/31 layers to GPU`` (printed only by builds with a GPU backend) wins;
    otherwise the debug lines ``load_tensors: layer N assigned to device X`` are counted (a CPU build
    prints them too: 0 of n_layer + 1). Only the text from the last ``load_tensors: loading model
    tensors`` line on is read, so the last load wins when the log holds several.
    """
    start = log_text.rfind(_LOAD_START)
    if start > 0:
        log_text = log_text[start:]
    layers: dict[int, str] = {}
    for m in _ASSIGNED.finditer(log_text):
        layers[int(m.group(1))] = m.group(2)
    gpu_devices = tuple(dict.fromkeys(d for _, d in sorted(layers.items()) if d != "CPU"))
    matches = list(_OFFLOADED.finditer(log_text))
    if matches:
        done, total = int(matches[-1].group(1)), int(matches[-1].group(2))
        return OffloadReport(total if done < 0 else min(done, total), total, gpu_devices)
    if layers:
        n_gpu = sum(1 for d in layers.values() if d != "CPU")
        return OffloadReport(n_gpu, len(layers), gpu_devices)
    return None


@dataclass(frozen=True)
class LoadReport:
    requested_gpu_layers: int | str
    offload: OffloadReport | None
    backends: BackendInfo

    def summary(self) -> str:
        if not self.backends.has_gpu:
            text = self.backends.summary()
            if text.startswith("no GPU backend in this build"):
                return "CPU only: no GPU backend in this build"
            return f"CPU only: {text.removesuffix(' (CPU only)')}"
        o, asked = self.offload, self.requested_gpu_layers
        if o is None:
            return f"llama.cpp did not say how many layers it offloaded (GPU layers: {asked})"
        if o.offloaded_layers == 0:
            return f"CPU only: 0/{o.total_layers} layers offloaded (GPU layers: {asked})"
        best = self.backends.best_gpu
        where = ", ".join(o.devices) or (best.name if best else "GPU")
        return f"offloaded {o.offloaded_layers}/{o.total_layers} layers to {where}"


# --------------------------------------------------------------------------- how many layers fit


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
