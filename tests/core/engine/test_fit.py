"""The fit estimate: hand-computed arithmetic, the two real headers, verdict thresholds, memory probing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from desktop_app.core.engine.fit import (
    GB,
    ModelShape,
    Requirements,
    estimate_fit,
    format_bytes,
    judge,
    kv_cache_bytes,
    parameters_from_size,
    requirements_from_header,
    requirements_rough,
    rough_kv_bytes,
    shape_from_metadata,
    swa_layer_count,
    verdict_for,
)
from desktop_app.core.engine.gpu import BackendInfo, Device
from desktop_app.core.engine.machine_memory import (
    MemoryState,
    available_ram,
    memory_state,
    parse_meminfo,
    parse_vm_stat,
    probe_memory,
)
from desktop_app.core.models.gguf_header import read_header
from desktop_app.core.models.gguf_meta import read_metadata

MiB = 1024 * 1024


# --------------------------------------------------------------------------- KV cache by hand


def test_kv_cache_of_a_tiny_shape_by_hand():
    # 2 layers × 100 positions × 1 KV head × (4 + 4) dims × 2 bytes (f16) = 3,200 bytes
    shape = ModelShape(n_layers=2, n_head=2, n_head_kv=1, head_dim_k=4, head_dim_v=4, n_embd=8, n_vocab=10)
    assert kv_cache_bytes(shape, 100) == 3_200
    assert kv_cache_bytes(shape, 100, type_size=1) == 1_600  # an 8-bit cache halves it


def test_sliding_window_layers_only_shrink_without_swa_full():
    # 6 layers, 5 of them windowed (64 positions): full cache = 6 × 1000 × 16 = 96,000 bytes.
    shape = ModelShape(6, 2, 1, 4, 4, 8, 10, sliding_window=64, swa_layers=5)
    assert kv_cache_bytes(shape, 1000) == 96_000  # llama-cpp-python keeps swa_full: windows change nothing
    # Without swa_full a windowed layer holds min(n_ctx, window + n_ubatch) = 64 + 512 = 576 positions:
    # 1 × 1000 × 16 + 5 × 576 × 16 = 16,000 + 46,080
    assert kv_cache_bytes(shape, 1000, swa_full=False) == 62_080
    assert kv_cache_bytes(shape, 300, swa_full=False) == 6 * 300 * 16  # the window is larger than n_ctx


def test_swa_layer_patterns():
    assert swa_layer_count("gemma3", 18, 512) == 15  # layers 5, 11 and 17 are global
    assert swa_layer_count("gemma2", 26, 4096) == 13
    assert swa_layer_count("llama", 30, None) == 0
    assert swa_layer_count("mistral", 32, 4096) == 32  # a window on every layer


# --------------------------------------------------------------------------- the two real headers


def test_smollm2_header_gives_llama_cpps_kv_size(smollm2_path: Path):
    # SmolLM2-135M: 30 layers, 3 KV heads of 64 dims. 30 × 2048 × (192 + 192) × 2 = 47,185,920 bytes,
    # the "KV buffer size = 45.00 MiB" llama.cpp prints for n_ctx 2048.
    meta = read_metadata(smollm2_path)
    shape = shape_from_metadata(meta)
    assert shape == ModelShape(30, 9, 3, 64, 64, 576, 49152, None, 0)
    req = requirements_from_header(read_header(smollm2_path), 2048)
    assert req.kv_bytes == 47_185_920 == 45 * MiB
    assert req.basis == "header" and req.n_layers == 30
    assert req.weights_bytes == smollm2_path.stat().st_size
    # 4 × 512 × (4 × 576 + max(49152, 9 × 2048 × 5 // 4)) — llama.cpp reports 99.4 MiB
    assert req.compute_bytes == 4 * 512 * (4 * 576 + 49152) == 105_381_888
    assert req.layer_bytes is not None and len(req.layer_bytes) == 30
    # The output is tied to the embedding: a GPU gets a copy of token_embd, the CPU keeps the original.
    assert req.gpu_output_bytes > 20 * MiB and req.output_bytes < 1 * MiB
    # The KV cache grows linearly with the context.
    assert requirements_from_header(read_header(smollm2_path), 8192).kv_bytes == 4 * req.kv_bytes


def test_gemma_header_gives_llama_cpps_kv_size(gemma_path: Path):
    # Gemma 3 270M: 18 layers, 1 KV head of 256 dims, a 512-token window on 15 of the layers. llama.cpp
    # (swa_full) prints 6.00 MiB for the 3 global layers and 30.00 MiB for the 15 windowed ones.
    meta = read_metadata(gemma_path)
    shape = shape_from_metadata(meta)
    assert shape is not None and (shape.n_layers, shape.n_head_kv, shape.head_dim_k) == (18, 1, 256)
    assert (shape.sliding_window, shape.swa_layers) == (512, 15)
    req = requirements_from_header(meta, 2048)
    assert req.kv_bytes == 18 * 2048 * 512 * 2 == 36 * MiB
    # Without swa_full: 3 × 2048 × 1024 + 15 × 1024 × 1024 bytes (6 + 15 MiB).
    assert requirements_from_header(meta, 2048, swa_full=False).kv_bytes == 21 * MiB
    # A 262,144-token vocabulary makes the logits dominate the compute buffer.
    assert req.compute_bytes == 4 * 512 * (4 * 640 + 262_144)


def test_real_models_fit_in_plenty_of_memory(smollm2_path: Path, gemma_path: Path):
    memory = MemoryState(ram_available=8 * GB, ram_total=16 * GB)
    for path in (smollm2_path, gemma_path):
        fit = estimate_fit(path, 4096, memory)
        assert fit.verdict == "fits"
        assert 100_000_000 < fit.total_bytes < 1 * GB
        assert fit.gpu_layers == 0 and fit.cpu_bytes == fit.total_bytes
        assert fit.sentence.startswith("Fits: needs about ")
        assert fit.sentence.endswith(" of 8.0 GB free memory.")


# --------------------------------------------------------------------------- without a header


def test_rough_estimate_by_hand():
    # 1e9 parameters: 48 KiB per token; 1000 positions → 49,152,000 bytes
    assert rough_kv_bytes(1_000_000_000, 1000) == 49_152_000
    assert rough_kv_bytes(1_000_000_000, 1000, type_size=1) == 24_576_000
    # 32e9 parameters: 48 KiB × 32 ** 0.6 = 48 KiB × 8
    assert rough_kv_bytes(32_000_000_000, 1000) == 8 * 49_152_000
    # Q8_0 is 8.5 bits per weight: 1e9 bytes hold 8e9 / 8.5 weights
    assert parameters_from_size(1_000_000_000, "Q8_0") == 941_176_470
    assert parameters_from_size(1_000_000_000, "UD-Q4_K_M") == parameters_from_size(1_000_000_000, "Q4_K_M")
    assert parameters_from_size(1_000_000_000, None) == parameters_from_size(1_000_000_000, "Q4_K_M")


def test_rough_requirements_name_their_basis():
    hub = requirements_rough(1_117_320_736, 1000, parameters=1_000_000_000)
    assert hub.basis == "hub" and hub.kv_bytes == 49_152_000 and hub.weights_bytes == 1_117_320_736
    # 4 × 512 × (4 × 2048 + max(128,000, 16 × 1000 × 5 / 4))
    assert hub.compute_bytes == 4 * 512 * (4 * 2048 + 128_000) == 278_921_216
    rough = requirements_rough(1_000_000_000, 1000, quantization="Q8_0")
    assert rough.basis == "rough"
    assert rough.kv_bytes == rough_kv_bytes(941_176_470, 1000)
    assert "rough estimate" in judge(rough, MemoryState(100 * GB)).sentence
    assert "parameter count" in judge(hub, MemoryState(100 * GB)).sentence


def test_rough_estimate_is_within_a_factor_of_three_of_real_headers(smollm2_path: Path, gemma_path: Path):
    for path in (smollm2_path, gemma_path):
        meta = read_metadata(path)
        exact = requirements_from_header(meta, 4096).kv_bytes
        rough = requirements_rough(meta.file_size, 4096, parameters=meta.parameter_count).kv_bytes
        assert exact / 3 < rough < exact * 3, (path.name, exact, rough)


# --------------------------------------------------------------------------- verdicts


@pytest.mark.parametrize(
    ("need", "available", "verdict"),
    [
        (0, 100, "fits"),
        (80, 100, "fits"),  # 80 % of the free memory is the last "fits"
        (81, 100, "tight"),
        (100, 100, "tight"),
        (101, 100, "won't fit"),
        (5, 0, "won't fit"),
        (5, None, "unknown"),
    ],
)
def test_verdict_thresholds(need: int, available: int | None, verdict: str):
    assert verdict_for(need, available) == verdict


def _req(weights: int, kv: int, compute: int, **kw) -> Requirements:
    return Requirements(weights, kv, compute, 2048, "header", **kw)


def test_cpu_only_sentences():
    req = _req(1_000_000_000, 200_000_000, 100_000_000)  # 1.3 GB
    fit = judge(req, MemoryState(6_200_000_000))
    assert fit.verdict == "fits"
    assert fit.sentence == "Fits: needs about 1.3 GB of 6.2 GB free memory."
    assert (fit.gpu_layers, fit.gpu_bytes, fit.cpu_bytes) == (0, 0, 1_300_000_000)

    tight = judge(req, MemoryState(1_500_000_000))
    assert tight.verdict == "tight"
    assert tight.sentence.startswith("Tight: needs about 1.3 GB of 1.5 GB free memory; close other programs")

    wont = judge(req, MemoryState(900_000_000))
    assert wont.verdict == "won't fit"
    assert wont.sentence == (
        "Won't fit: needs about 1.3 GB but only 900 MB is free; "
        "choose a smaller quantization or a shorter context."
    )

    unknown = judge(req, MemoryState(None))
    assert unknown.verdict == "unknown" and "could not be measured" in unknown.sentence


def test_gpu_split_by_hand():
    # 4 blocks of 200 bytes + a 200-byte output layer; KV 100 per layer; compute 100; no reserve.
    req = _req(1_000, 400, 100, n_layers=4, gpu_output_bytes=200, output_bytes=200, layer_bytes=(200,) * 4)
    ram = 10_000

    # 900 free: output (200) + compute (100) leave 600, two blocks of 200 + 100 KV → n_gpu_layers 3.
    fit = judge(req, MemoryState(ram, vram_free=900, gpu_name="GPU0"), reserve_bytes=0)
    assert fit.gpu_layers == 3
    assert fit.gpu_bytes == 200 + 2 * 200 + 2 * 100 + 100 == 900
    # CPU: weights − GPU blocks − output, the other two layers' KV, and its own compute buffer.
    assert fit.cpu_bytes == (1_000 - 400 - 200) + 200 + 100 == 700
    assert fit.verdict == "fits"
    assert fit.sentence.startswith("Fits: 2 of 4 layers fit on GPU0 (")

    # 1500 free: everything goes to the GPU (n_gpu_layers = n_layers + 1) and nothing stays in RAM.
    full = judge(req, MemoryState(ram, vram_free=1_500, gpu_name="GPU0"), reserve_bytes=0)
    assert (full.gpu_layers, full.gpu_bytes, full.cpu_bytes) == (5, 1_500, 0)
    assert full.sentence.startswith("Fits: runs on GPU0")

    # 250 free: not even output + compute fit → all on the CPU.
    none = judge(req, MemoryState(ram, vram_free=250), reserve_bytes=0)
    assert (none.gpu_layers, none.gpu_bytes, none.cpu_bytes) == (0, 0, 1_500)
    assert "not even the output layer fits" in none.sentence

    # The verdict is for what stays in RAM: 700 bytes in 800 free is tight.
    assert judge(req, MemoryState(800, vram_free=900), reserve_bytes=0).verdict == "tight"


def test_unified_memory_is_one_pool():
    req = _req(3 * GB, 500_000_000, 500_000_000, n_layers=10)
    fit = judge(req, MemoryState(8 * GB, 16 * GB, vram_free=10 * GB, vram_total=16 * GB, unified=True))
    assert fit.verdict == "fits" and fit.gpu_layers == 11 and fit.cpu_bytes == 0
    assert fit.sentence == "Fits: needs about 4.0 GB of 8.0 GB free (unified) memory."


def test_format_bytes():
    assert format_bytes(1_300_000_000) == "1.3 GB"
    assert format_bytes(996_000_000) == "1.0 GB"
    assert format_bytes(950_000_000) == "950 MB"
    assert format_bytes(251_000_000) == "251 MB"
    assert format_bytes(12) == "1 MB"


# --------------------------------------------------------------------------- probing


MEMINFO = """MemTotal:       16315620 kB
MemFree:          482140 kB
MemAvailable:    6054320 kB
Buffers:          123456 kB
"""

VM_STAT = """Mach Virtual Memory Statistics: (page size of 16384 bytes)
Pages free:                               12000.
Pages active:                            300000.
Pages inactive:                          100000.
Pages speculative:                         3000.
Pages throttled:                              0.
Pages wired down:                        150000.
Pages purgeable:                           5000.
"""


def test_parse_meminfo_and_vm_stat():
    assert parse_meminfo(MEMINFO) == (6054320 * 1024, 16315620 * 1024)
    assert parse_meminfo("nothing") == (None, None)
    assert parse_vm_stat(VM_STAT) == 16384 * (12000 + 100000 + 3000 + 5000)
    assert parse_vm_stat("garbage") is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/meminfo")
def test_available_ram_on_this_machine():
    available, total = available_ram()
    assert available is not None and total is not None
    assert 0 < available <= total


def _backends(*devices: Device) -> BackendInfo:
    return BackendInfo(devices, gpu_offload_supported=True, system_info="", registries=("CPU",))


def test_memory_state_takes_the_gpu_with_most_free_memory():
    cpu = Device("CPU", "AMD EPYC", "cpu", "CPU", 64 * GB, 128 * GB)
    small = Device("CUDA0", "RTX 3060", "gpu", "CUDA", 10 * GB, 12 * GB)
    big = Device("CUDA1", "RTX 4090", "gpu", "CUDA", 20 * GB, 24 * GB)
    state = memory_state((8 * GB, 16 * GB), _backends(cpu, small, big))
    assert state == MemoryState(8 * GB, 16 * GB, 20 * GB, 24 * GB, "RTX 4090", False)
    assert memory_state((8 * GB, 16 * GB), _backends(cpu)) == MemoryState(8 * GB, 16 * GB)
    assert memory_state((None, None), None) == MemoryState(None, None)
    metal = Device("MTL0", "Apple M2", "gpu", "Metal", 11 * GB, 11 * GB)
    assert memory_state((8 * GB, 16 * GB), _backends(metal)).unified


def test_probe_memory_without_gpu_probe():
    state = probe_memory(probe_gpu=False)
    assert state.vram_free == 0 and not state.has_gpu
    if sys.platform.startswith("linux"):
        assert state.ram_available and state.ram_available > 0


def test_probe_memory_with_this_builds_backends(smollm2_path: Path):
    """With llama.cpp's own device list: a CPU-only build gives no GPU; a GPU build gives its free memory."""
    state = probe_memory()
    fit = judge(requirements_from_header(read_header(smollm2_path), 2048), state)
    if state.has_gpu:
        assert state.vram_total >= state.vram_free > 0 and fit.gpu_layers > 0
    else:
        assert fit.gpu_layers == 0
    assert fit.verdict in ("fits", "tight", "won't fit", "unknown")
    assert fit.total_bytes > 0 and fit.sentence.endswith(".")
