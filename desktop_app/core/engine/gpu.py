"""GPU backends: which devices the installed llama.cpp can use, and what a load really offloaded.

Without Qt and without module-level state. Related modules: :mod:`llama_log` (llama.cpp's log and the
offload count in it) and :mod:`gpu_layers` (how many layers fit on a GPU).

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
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.engine.cpu_quirks import ExtraBuffers
from desktop_app.core.engine.llama_log import OffloadReport, _text

MiB = 1024 * 1024
GiB = 1024 * MiB

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


@dataclass(frozen=True)
class LoadReport:
    requested_gpu_layers: int | str
    offload: OffloadReport | None
    backends: BackendInfo
    #: Whether the weights went into llama.cpp's extra buffer types, and why (None: not recorded).
    extra_buffers: ExtraBuffers | None = None

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
