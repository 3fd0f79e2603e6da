"""Free memory on this machine: system RAM (and a container's cgroup limit), and the GPU with the most free
memory as llama.cpp reports it. The fit estimate (fit.py) judges a model against it."""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop_app.core.engine.gpu import BackendInfo


@dataclass(frozen=True)
class MemoryState:
    ram_available: int | None  # None: could not be measured
    ram_total: int | None = None
    vram_free: int = 0  # of the GPU with the most free memory; 0 without a usable GPU
    vram_total: int = 0
    gpu_name: str = ""
    unified: bool = False  # the GPU uses system memory (Apple silicon, integrated GPUs)

    @property
    def has_gpu(self) -> bool:
        return self.vram_free > 0


def parse_meminfo(text: str) -> tuple[int | None, int | None]:
    """(MemAvailable, MemTotal) in bytes from Linux's /proc/meminfo."""
    values = {k: int(v) * 1024 for k, v in re.findall(r"^(\w+):\s+(\d+)\s*kB", text, re.MULTILINE)}
    return values.get("MemAvailable"), values.get("MemTotal")


def parse_vm_stat(text: str) -> int | None:
    """Available bytes from macOS ``vm_stat``: free + inactive + speculative + purgeable pages."""
    page = re.search(r"page size of (\d+) bytes", text)
    pages = dict(re.findall(r"^Pages ([\w ]+?):\s+(\d+)\.", text, re.MULTILINE))
    if not page or "free" not in pages:
        return None
    counted = ("free", "inactive", "speculative", "purgeable")
    return int(page[1]) * sum(int(pages.get(name, 0)) for name in counted)


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="ascii", errors="replace")
    except OSError:
        return None


def _cgroup_room() -> int | None:
    """Memory left under this process's cgroup limit (containers), or None without a limit."""
    for limit_path, usage_path in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        limit, usage = _read(limit_path), _read(usage_path)
        if not (limit and usage and limit.strip().isdigit() and usage.strip().isdigit()):
            continue
        if int(limit) < 1 << 60:  # cgroup v1 writes a huge number for "no limit"
            return max(int(limit) - int(usage), 0)
    return None


class _MemoryStatusEx(ctypes.Structure):
    _fields_ = [
        ("dwLength", ctypes.c_ulong),
        ("dwMemoryLoad", ctypes.c_ulong),
        ("ullTotalPhys", ctypes.c_ulonglong),
        ("ullAvailPhys", ctypes.c_ulonglong),
        ("ullTotalPageFile", ctypes.c_ulonglong),
        ("ullAvailPageFile", ctypes.c_ulonglong),
        ("ullTotalVirtual", ctypes.c_ulonglong),
        ("ullAvailVirtual", ctypes.c_ulonglong),
        ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
    ]


def available_ram() -> tuple[int | None, int | None]:
    """(available, total) system memory in bytes; None where this system does not say."""
    if sys.platform == "win32":
        status = _MemoryStatusEx()
        status.dwLength = ctypes.sizeof(status)
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
            return int(status.ullAvailPhys), int(status.ullTotalPhys)
        return None, None
    total = _sysconf_bytes("SC_PHYS_PAGES")
    meminfo = _read("/proc/meminfo")
    if meminfo:
        available, mem_total = parse_meminfo(meminfo)
        room = _cgroup_room()
        if available is not None and room is not None:
            available = min(available, room)
        return available, mem_total or total
    if sys.platform == "darwin":
        try:
            out = subprocess.run(["vm_stat"], capture_output=True, text=True, timeout=5, check=True).stdout
        except (OSError, subprocess.SubprocessError):
            return None, total
        return parse_vm_stat(out), total
    return _sysconf_bytes("SC_AVPHYS_PAGES"), total


def _sysconf_bytes(pages_name: str) -> int | None:
    try:
        return os.sysconf(pages_name) * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on this system
        return None


def memory_state(ram: tuple[int | None, int | None], backends: BackendInfo | None) -> MemoryState:
    """Combine measured RAM with the GPU of ``backends`` that has the most free memory."""
    gpu = backends.best_gpu if backends is not None and backends.has_gpu else None
    if gpu is None or gpu.free_bytes <= 0:
        return MemoryState(ram[0], ram[1])
    unified = gpu.kind == "igpu" or gpu.backend == "Metal"
    return MemoryState(ram[0], ram[1], gpu.free_bytes, gpu.total_bytes, gpu.description or gpu.name, unified)


def probe_memory(backends: BackendInfo | None = None, *, probe_gpu: bool = True) -> MemoryState:
    """Free RAM now, and free GPU memory from ``backends`` (probed with llama.cpp when not given)."""
    if backends is None and probe_gpu:
        from desktop_app.core.engine.gpu import probe_backends

        backends = probe_backends()
    return memory_state(available_ram(), backends)
