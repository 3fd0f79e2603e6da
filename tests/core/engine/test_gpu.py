"""gpu: backend devices, llama.cpp's offload log, and how many layers fit on a GPU.

This machine runs a CPU-only llama.cpp build: probing and log capture are exercised for real here; the GPU
side is covered by the arithmetic and parsing tests with hand-computed numbers.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from desktop_app.core.engine.gpu import BackendInfo, Device, GiB, LoadReport, MiB, probe_backends
from desktop_app.core.engine.gpu_layers import (
    DEFAULT_COMPUTE_BUFFER_BYTES,
    DEFAULT_RESERVE_BYTES,
    auto_gpu_layers,
    compute_buffer_bytes,
    kv_cache_bytes_per_layer,
    layer_sizes_from_tensors,
    plan_gpu_layers,
)
from desktop_app.core.engine.llama_log import (
    LlamaLog,
    OffloadReport,
    install_log_callback,
    parse_offload,
    restore_default_log_callback,
)
from desktop_app.core.models.gguf_meta import metadata_from_header, read_header

# Captured from llama-cpp-python 0.3.36 (CPU build) loading SmolLM2-135M with n_gpu_layers=-1 (the
# same lines come with n_gpu_layers=0): no "offloading"/"offloaded" line, only debug lines per layer.
CPU_LOG = """\
print_info: max token length      = 162
load_tensors: loading model tensors, this can take a while... (load_mode = mmap)
load_tensors: layer   0 assigned to device CPU, is_swa = 0
load_tensors: layer   1 assigned to device CPU, is_swa = 0
load_tensors: layer   2 assigned to device CPU, is_swa = 0
load_tensors: layer   3 assigned to device CPU, is_swa = 0
create_tensor: loading tensor blk.3.ffn_up.weight
done_getting_tensors: tensor 'token_embd.weight' (q8_0) (and 272 others) cannot be used with preferred \
buffer type CPU_REPACK, using CPU instead
load_tensors:   CPU_Mapped model buffer size =    92.10 MiB
.....
"""

# Built from llama.cpp's format strings in src/llama-model.cpp ("%s: offloading output layer to GPU",
# "%s: offloading %d repeating layers to GPU", "%s: offloaded %d/%d layers to GPU", and the debug line
# "load_tensors: layer %3d assigned to device %s, is_swa = %d"): a GPU build, partial offload of a
# 4-block model with n_gpu_layers=3 (output + blocks 2 and 3).
GPU_LOG = """\
load_tensors: loading model tensors, this can take a while... (load_mode = mmap)
load_tensors: layer   0 assigned to device CPU, is_swa = 0
load_tensors: layer   1 assigned to device CPU, is_swa = 0
load_tensors: layer   2 assigned to device CUDA0, is_swa = 0
load_tensors: layer   3 assigned to device CUDA0, is_swa = 0
load_tensors: layer   4 assigned to device CUDA0, is_swa = 0
load_tensors: offloading output layer to GPU
load_tensors: offloading 2 repeating layers to GPU
load_tensors: offloaded 3/5 layers to GPU
load_tensors:        CUDA0 model buffer size =    60.00 MiB
load_tensors:   CPU_Mapped model buffer size =    92.10 MiB
"""


def gpu_device(free: int, total: int | None = None, name: str = "CUDA0", description: str = "NVIDIA H100"):
    return Device(name, description, "gpu", "CUDA", free, total if total is not None else free)


CPU_DEVICE = Device("CPU", "AMD EPYC", "cpu", "CPU", 16 * GiB, 16 * GiB)
CPU_ONLY = BackendInfo((CPU_DEVICE,), False, "CPU : AVX2 = 1 |", ("CPU",))


def with_gpus(*gpus: Device) -> BackendInfo:
    return BackendInfo((*gpus, CPU_DEVICE), True, "CUDA : ARCHS = 900 | CPU : AVX2 = 1 |", ("CUDA", "CPU"))


# --------------------------------------------------------------------------- backend devices


def test_probe_backends_on_this_cpu_build():
    info = probe_backends()
    assert info.device_api, info.note
    assert not info.has_gpu
    assert not info.gpu_offload_supported
    assert info.gpu_devices == ()
    assert info.summary().startswith("no GPU backend in this build")
    cpus = [d for d in info.devices if d.kind == "cpu"]
    assert cpus and cpus[0].name and cpus[0].backend == "CPU"
    assert cpus[0].total_bytes > 0
    assert "CPU" in info.backend_names
    assert "CPU :" in info.system_info
    assert probe_backends() == info  # idempotent: llama_backend_init may be called again


def test_probe_backends_degrades_when_the_device_api_is_missing(monkeypatch):
    from desktop_app.core.engine import gpu

    monkeypatch.setattr(gpu, "_open_libraries", lambda: [])  # no library exports any ggml symbol
    info = probe_backends()
    assert not info.device_api
    assert info.devices == ()
    assert "ggml_backend_dev_count" in info.note
    assert not info.has_gpu  # from llama_supports_gpu_offload() on this CPU build
    assert info.summary().startswith("no GPU backend in this build")
    assert info.backend_names == ("CPU",)  # read from the system info text


def test_gpu_summary_names_backend_device_and_memory():
    info = with_gpus(gpu_device(int(79.1 * GiB), int(79.6 * GiB), description="NVIDIA H100 80GB HBM3"))
    assert info.has_gpu
    assert info.backend_names == ("CUDA", "CPU")
    assert info.summary() == "CUDA: NVIDIA H100 80GB HBM3 (79.1 GiB free of 79.6 GiB)"


def test_best_gpu_is_the_one_with_most_free_memory():
    small, big = gpu_device(1 * GiB, name="CUDA0"), gpu_device(20 * GiB, name="CUDA1")
    igpu = Device("Vulkan0", "Intel Iris", "igpu", "Vulkan", 2 * GiB, 8 * GiB)
    info = with_gpus(small, big, igpu)
    assert info.gpu_devices == (small, big, igpu)
    assert info.best_gpu == big
    assert CPU_ONLY.best_gpu is None


def test_a_gpu_registry_without_devices_is_cpu_only_and_says_why():
    info = BackendInfo((CPU_DEVICE,), False, "", ("CUDA", "CPU"))
    assert not info.has_gpu
    assert info.summary() == "no GPU found: this build has CUDA but lists no GPU device (CPU only)"


def test_without_the_device_api_the_offload_flag_and_system_info_decide():
    sysinfo = "CUDA : ARCHS = 900 | USE_GRAPHS = 1 | CPU : SSE3 = 1 | AVX = 1 |"
    note = "device list unavailable: the ggml library has no ggml_backend_dev_count"
    gpu = BackendInfo((), True, sysinfo, device_api=False, note=note)
    assert gpu.has_gpu
    assert gpu.backend_names == ("CUDA", "CPU")
    assert gpu.summary() == f"CUDA offload supported; devices unknown ({note})"
    cpu = BackendInfo((), False, "CPU : SSE3 = 1 |", device_api=False, note=note)
    assert not cpu.has_gpu
    assert cpu.summary().startswith("no GPU backend in this build")


# --------------------------------------------------------------------------- the log sink


def test_log_joins_pieces_into_lines():
    log = LlamaLog()
    log.handle(2, b"load_tensors:   CPU_Mapped model buffer size =    92.10 MiB\n")
    for _ in range(3):
        log.handle(5, b".")  # GGML_LOG_LEVEL_CONT: progress dots, one by one
    assert log.lines()[-1] == "..."
    log.handle(5, b"\n")
    log.handle(2, b"first\nsecond\nthi")
    log.handle(2, "rd\n")
    assert log.lines() == [
        "load_tensors:   CPU_Mapped model buffer size =    92.10 MiB",
        "...",
        "first",
        "second",
        "third",
    ]
    assert log.text().endswith("second\nthird")
    log.handle(2, None)
    log.handle(2, b"bad \xff byte\n")
    assert log.lines()[-1] == "bad \ufffd byte"
    log.clear()
    assert log.lines() == [] and log.text() == ""


def test_log_keeps_the_newest_lines():
    log = LlamaLog(max_lines=3)
    for i in range(10):
        log.handle(2, f"line {i}\n".encode())
    assert log.lines() == ["line 7", "line 8", "line 9"]
    with pytest.raises(ValueError):
        LlamaLog(max_lines=0)


def test_log_is_thread_safe():
    log = LlamaLog(max_lines=100_000)

    def write(tag: str) -> None:
        for i in range(2000):
            log.handle(2, f"{tag} {i}\n".encode())

    threads = [threading.Thread(target=write, args=(f"t{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = log.lines()
    assert len(lines) == 8000
    assert all(re.fullmatch(r"t\d \d+", line) for line in lines)


# --------------------------------------------------------------------------- parsing the offload


def test_parse_offload_on_a_cpu_build_counts_the_layer_lines():
    assert parse_offload(CPU_LOG) == OffloadReport(0, 4, ())


def test_parse_offload_prefers_the_offloaded_line_and_names_devices():
    report = parse_offload(GPU_LOG)
    assert report == OffloadReport(3, 5, ("CUDA0",))
    assert not report.all_offloaded
    full = (
        "load_tensors: offloading 30 repeating layers to GPU\nload_tensors: offloaded 31/31 layers to GPU\n"
    )
    assert parse_offload(full) == OffloadReport(31, 31, ())
    assert parse_offload(full).all_offloaded


def test_parse_offload_last_load_wins():
    assert parse_offload(GPU_LOG + CPU_LOG) == OffloadReport(0, 4, ())
    assert parse_offload(CPU_LOG + GPU_LOG) == OffloadReport(3, 5, ("CUDA0",))
    two = "load_tensors: offloaded 10/31 layers to GPU\nload_tensors: offloaded 31/31 layers to GPU\n"
    assert parse_offload(two) == OffloadReport(31, 31, ())


def test_parse_offload_without_a_load():
    assert parse_offload("") is None
    assert parse_offload("llama_context: n_ctx = 256\n") is None


def test_load_report_summaries():
    assert LoadReport("auto", parse_offload(CPU_LOG), CPU_ONLY).summary() == (
        "CPU only: no GPU backend in this build"
    )
    gpu = with_gpus(gpu_device(8 * GiB))
    assert LoadReport(-1, OffloadReport(31, 31, ("CUDA0",)), gpu).summary() == (
        "offloaded 31/31 layers to CUDA0"
    )
    assert LoadReport(3, parse_offload(GPU_LOG), gpu).summary() == "offloaded 3/5 layers to CUDA0"
    assert LoadReport("all", OffloadReport(31, 31), gpu).summary() == "offloaded 31/31 layers to CUDA0"
    assert LoadReport(0, OffloadReport(0, 31), gpu).summary() == (
        "CPU only: 0/31 layers offloaded (GPU layers: 0)"
    )
    assert "did not say" in LoadReport("auto", None, gpu).summary()
    no_device = BackendInfo((CPU_DEVICE,), False, "", ("Vulkan", "CPU"))
    assert LoadReport("all", None, no_device).summary() == (
        "CPU only: no GPU found: this build has Vulkan but lists no GPU device"
    )


# --------------------------------------------------------------------------- real llama.cpp log


@pytest.fixture(scope="module")
def llama_log() -> Iterator[LlamaLog]:
    """Our callback stays installed for this module's loads, then llama-cpp-python's own comes back."""
    sink = LlamaLog()
    callback = install_log_callback(sink)
    assert sink.callback is callback
    yield sink
    restore_default_log_callback()


def load_and_close(path: Path, **kwargs) -> None:
    from desktop_app.core.engine.llama_loader import load_llama_safely

    llm = load_llama_safely(path, verbose=True, **kwargs)
    llm.close()


MIB_LINE = re.compile(r"llama_kv_cache: size =\s+([\d.]+) MiB \(\s*(\d+) cells,\s+(\d+) layers")
COMPUTE_LINE = re.compile(r"sched_reserve:\s+CPU compute buffer size =\s+([\d.]+) MiB")


@pytest.mark.slow
@pytest.mark.parametrize("n_gpu_layers", [-1, 0])
def test_real_cpu_load_reports_no_offload(llama_log, smollm2_path, capfd, n_gpu_layers):
    llama_log.clear()
    load_and_close(smollm2_path, n_ctx=256, n_gpu_layers=n_gpu_layers)
    text = llama_log.text()
    assert "load_tensors: layer  30 assigned to device CPU, is_swa = 0" in text
    assert "layers to GPU" not in text  # a CPU build prints neither "offloading" nor "offloaded"
    report = parse_offload(text)
    assert report == OffloadReport(0, 31, ())  # 30 blocks + the output layer, all on the CPU
    backends = probe_backends()
    assert LoadReport(n_gpu_layers, report, backends).summary() == "CPU only: no GPU backend in this build"
    # Everything llama.cpp logged went to our sink, nothing to the stderr file descriptor.
    assert "load_tensors" not in capfd.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(("which", "n_ctx"), [("smollm2", 1024), ("smollm2", 8192), ("gemma", 4096)])
def test_kv_and_compute_estimates_match_llama_cpp(llama_log, request, which, n_ctx):
    """The KV cache formula is exact against llama.cpp's own numbers; the compute buffer a little over."""
    path = request.getfixturevalue(f"{which}_path")
    meta = metadata_from_header(read_header(path))
    llama_log.clear()
    load_and_close(path, n_ctx=n_ctx, n_gpu_layers=0)
    text = llama_log.text()
    assert parse_offload(text) == OffloadReport(0, meta.block_count + 1, ())
    n_kv = meta.head_count_kv
    head_k = meta.key_length or meta.embedding_length // meta.head_count
    head_v = meta.value_length or meta.embedding_length // meta.head_count
    per_layer = kv_cache_bytes_per_layer(n_ctx=n_ctx, n_embd_k_gqa=n_kv * head_k, n_embd_v_gqa=n_kv * head_v)
    caches = [(float(mib), int(cells), int(layers)) for mib, cells, layers in MIB_LINE.findall(text)]
    assert sum(layers for _, _, layers in caches) == meta.block_count
    assert all(cells == n_ctx for _, cells, _ in caches)  # SWA layers too: llama.cpp's full-size SWA cache
    assert sum(mib for mib, _, _ in caches) == pytest.approx(meta.block_count * per_layer / MiB, abs=0.01)
    real = float(COMPUTE_LINE.findall(text)[-1]) * MiB
    estimate = compute_buffer_bytes(
        n_ctx=n_ctx, n_vocab=meta.vocab_size, n_embd=meta.embedding_length, n_head=meta.head_count
    )
    assert real <= estimate <= 1.15 * real


# --------------------------------------------------------------------------- arithmetic


def test_kv_cache_bytes_per_layer_by_hand():
    # SmolLM2 at n_ctx 256: 3 KV heads × 64 = 192 for K and for V, f16 → 256 × 384 × 2 bytes;
    # × 30 layers = 5,898,240 bytes = 5.625 MiB ("llama_kv_cache: size =    5.62 MiB" in its log).
    assert kv_cache_bytes_per_layer(n_ctx=256, n_embd_k_gqa=192, n_embd_v_gqa=192) == 196_608
    # Gemma 3 270M at 4096: 1 KV head × 256 → 4096 × 512 × 2 = 4 MiB (the log: 12 MiB for 3 layers).
    assert kv_cache_bytes_per_layer(n_ctx=4096, n_embd_k_gqa=256, n_embd_v_gqa=256) == 4 * MiB
    # A sliding-window layer holds min(n_ctx, window) positions.
    assert kv_cache_bytes_per_layer(n_ctx=4096, n_embd_k_gqa=256, n_embd_v_gqa=256, sliding_window=512) == (
        512 * 512 * 2
    )
    assert kv_cache_bytes_per_layer(n_ctx=256, n_embd_k_gqa=256, n_embd_v_gqa=256, sliding_window=512) == (
        256 * 512 * 2
    )
    # q8_0: 34 bytes per 32 elements.
    assert kv_cache_bytes_per_layer(n_ctx=256, n_embd_k_gqa=192, n_embd_v_gqa=192, type_size=34 / 32) == (
        104_448
    )


def test_compute_buffer_bytes_by_hand():
    # logits dominate: 4 × 256 × (4·576 + 49152) = 1024 × 51456
    assert compute_buffer_bytes(n_ctx=256, n_vocab=49152, n_embd=576, n_head=9) == 52_690_944
    # the micro-batch is at most n_ubatch: 4 × 512 × (4·640 + 262144) = 2048 × 264704
    assert compute_buffer_bytes(n_ctx=4096, n_vocab=262144, n_embd=640, n_head=4) == 542_113_792
    # attention scores dominate: 1.25 × 9 × 8192 = 92160 > 49152 → 2048 × (2304 + 92160)
    assert compute_buffer_bytes(n_ctx=8192, n_vocab=49152, n_embd=576, n_head=9) == 193_462_272


def test_auto_gpu_layers_by_hand():
    # 4 blocks of (500 − 100) / 4 = 100 bytes, KV 10 each, output 100; no reserve, no compute buffer.
    def auto(free: int, **kw) -> int:
        args = dict(n_layers=4, weights_bytes=500, output_bytes=100, kv_bytes_per_layer=10)
        args.update(kw)
        return auto_gpu_layers(free_vram=free, reserve_bytes=0, compute_buffer=0, **args)

    assert auto(100 + 4 * 110) == 5  # everything, output included: n_layers + 1
    assert auto(100 + 4 * 110 - 1) == 4  # output + 3 blocks
    assert auto(210) == 2  # output + 1 block
    assert auto(209) == 1  # the output layer alone
    assert auto(100) == 1
    assert auto(99) == 0  # not even the output layer
    assert auto(0) == 0 and auto(-5) == 0
    assert auto(10**9, n_layers=0) == 0
    # (503 − 100) / 4 = 100.75 → 101 per block, rounded up: 100 + 4 × 111 = 544 for everything.
    assert auto(544, weights_bytes=503) == 5
    assert auto(543, weights_bytes=503) == 4


def test_auto_gpu_layers_reserve_and_compute_buffer():
    base = dict(n_layers=4, weights_bytes=500, output_bytes=100, kv_bytes_per_layer=10)
    assert auto_gpu_layers(free_vram=DEFAULT_RESERVE_BYTES + 64 + 540, compute_buffer=64, **base) == 5
    assert auto_gpu_layers(free_vram=DEFAULT_RESERVE_BYTES + 64 + 539, compute_buffer=64, **base) == 4
    full = DEFAULT_RESERVE_BYTES + DEFAULT_COMPUTE_BUFFER_BYTES + 540
    assert auto_gpu_layers(free_vram=full, **base) == 5  # compute_buffer=None: the default 512 MiB
    assert auto_gpu_layers(free_vram=full - 1, **base) == 4
    assert auto_gpu_layers(free_vram=1024 * MiB + 99, **base) == 0


def test_auto_gpu_layers_fills_from_the_last_block():
    # llama.cpp offloads blocks from the last one down: 40+1, then 30+1, then 20+1 …
    sizes = dict(n_layers=4, weights_bytes=0, output_bytes=5, reserve_bytes=0, compute_buffer=0)
    per_layer = dict(layer_bytes=[10, 20, 30, 40], kv_bytes_per_layer=[1, 1, 1, 1])
    assert auto_gpu_layers(free_vram=5 + 41 + 31, **sizes, **per_layer) == 3
    assert auto_gpu_layers(free_vram=5 + 41 + 31 - 1, **sizes, **per_layer) == 2
    assert auto_gpu_layers(free_vram=5 + 41 + 31 + 21 + 11, **sizes, **per_layer) == 5
    with pytest.raises(ValueError):
        auto_gpu_layers(free_vram=100, **sizes, layer_bytes=[1, 2, 3], kv_bytes_per_layer=1)
    with pytest.raises(ValueError):
        auto_gpu_layers(free_vram=100, **sizes, layer_bytes=[1, 2, 3, 4], kv_bytes_per_layer=[1])


@dataclass(frozen=True)
class T:
    name: str
    n_bytes: int


def test_layer_sizes_by_hand():
    tensors = [
        T("token_embd.weight", 1000),
        T("blk.0.attn_q.weight", 10),
        T("blk.0.ffn_up.weight", 20),
        T("blk.1.attn_q.weight", 11),
        T("blk.10.attn_q.weight", 7),  # "blk.10." is block 10, not block 1
        T("output_norm.weight", 3),
        T("rope_freqs.weight", 2),
    ]
    sizes = layer_sizes_from_tensors(tensors)
    assert sizes.layers == (30, 11, 0, 0, 0, 0, 0, 0, 0, 0, 7)
    assert sizes.non_layer_bytes == 1005
    assert sizes.output_bytes == 1003  # tied: the embedding is copied to the output layer's device
    untied = layer_sizes_from_tensors([*tensors, T("output.weight", 500)])
    assert untied.output_bytes == 503
    assert untied.total_bytes == sum(t.n_bytes for t in tensors) + 500


@pytest.mark.parametrize(("which", "n_layers"), [("smollm2", 30), ("gemma", 18)])
def test_layer_sizes_of_the_real_models(request, which, n_layers):
    header = read_header(request.getfixturevalue(f"{which}_path"))
    sizes = layer_sizes_from_tensors(header.tensors)
    total = sum(t.n_bytes for t in header.tensors)
    assert len(sizes.layers) == n_layers
    assert all(size > 0 for size in sizes.layers)
    assert sum(sizes.layers) + sizes.non_layer_bytes == total
    non_layer = {t.name: t.n_bytes for t in header.tensors if not t.name.startswith("blk.")}
    assert "output.weight" not in non_layer  # both models tie their output to the embedding
    assert sizes.output_bytes == non_layer["token_embd.weight"] + non_layer["output_norm.weight"]
    assert sizes.non_layer_bytes == sum(non_layer.values())


# --------------------------------------------------------------------------- plan_gpu_layers


def test_plan_without_a_gpu_is_zero(smollm2_path):
    header = read_header(smollm2_path)
    for requested in ("auto", "all", -1, 0, 12):
        assert plan_gpu_layers(header, 256, CPU_ONLY, requested) == 0
    assert plan_gpu_layers(header, 256, probe_backends(), "auto") == 0  # this machine


def test_plan_all_and_numbers(smollm2_path):
    header = read_header(smollm2_path)
    gpu = with_gpus(gpu_device(8 * GiB))
    assert plan_gpu_layers(header, 256, gpu, "all") == -1
    assert plan_gpu_layers(header, 256, gpu, -1) == -1
    assert plan_gpu_layers(header, 256, gpu, 0) == 0
    assert plan_gpu_layers(header, 256, gpu, 7) == 7
    assert plan_gpu_layers(header, 256, gpu, "12") == 12
    for bad in ("many", -2, True, 1.5):
        with pytest.raises(ValueError, match="GPU layers must be"):
            plan_gpu_layers(header, 256, gpu, bad)


def test_plan_auto_on_smollm2_by_hand(smollm2_path):
    header = read_header(smollm2_path)
    # Every block of SmolLM2 Q4_1 is 2,216,448 bytes; KV at n_ctx 256 is 196,608 per block; the output
    # layer (tied embedding + output_norm) 30,083,328; compute buffer 52,690,944; reserve 512 MiB.
    assert set(layer_sizes_from_tensors(header.tensors).layers) == {2_216_448}
    fixed = DEFAULT_RESERVE_BYTES + 52_690_944 + 30_083_328
    ten_blocks = fixed + 10 * (2_216_448 + 196_608)
    assert ten_blocks == 643_775_744
    assert plan_gpu_layers(header, 256, with_gpus(gpu_device(ten_blocks)), "auto") == 11
    assert plan_gpu_layers(header, 256, with_gpus(gpu_device(ten_blocks - 1)), "auto") == 10
    assert plan_gpu_layers(header, 256, with_gpus(gpu_device(fixed)), "auto") == 1
    assert plan_gpu_layers(header, 256, with_gpus(gpu_device(fixed - 1)), "auto") == 0
    assert plan_gpu_layers(header, 256, with_gpus(gpu_device(80 * GiB)), "auto") == 31
    assert plan_gpu_layers(header, 256, with_gpus(gpu_device(100 * MiB)), "auto") == 0
    # the GPU with the most free memory is the one planned for
    two = with_gpus(gpu_device(100 * MiB, name="CUDA0"), gpu_device(ten_blocks, name="CUDA1"))
    assert plan_gpu_layers(header, 256, two, "auto") == 11


def test_plan_auto_on_gemma_fills_from_the_last_block(gemma_path):
    header = read_header(gemma_path)
    sizes = layer_sizes_from_tensors(header.tensors)
    kv = kv_cache_bytes_per_layer(n_ctx=512, n_embd_k_gqa=256, n_embd_v_gqa=256)
    compute = compute_buffer_bytes(n_ctx=512, n_vocab=262144, n_embd=640, n_head=4)
    fixed = DEFAULT_RESERVE_BYTES + compute + sizes.output_bytes
    last_two = fixed + sizes.layers[17] + sizes.layers[16] + 2 * kv
    gpu = with_gpus(gpu_device(last_two))
    assert plan_gpu_layers(header, 512, gpu, "auto") == 3
    assert plan_gpu_layers(header, 512, with_gpus(gpu_device(last_two - 1)), "auto") == 2
    assert plan_gpu_layers(header, 512, with_gpus(gpu_device(80 * GiB)), "auto") == 19


def test_plan_auto_from_metadata_only(smollm2_path):
    meta = metadata_from_header(read_header(smollm2_path))
    assert plan_gpu_layers(meta, 256, with_gpus(gpu_device(80 * GiB)), "auto") == 31
    assert plan_gpu_layers(meta, 256, with_gpus(gpu_device(100 * MiB)), "auto") == 0
    # Without the tensor table: output = 49152 × 576 weights at q8_0 width (34/32) = 30,081,024, and a
    # block (96,576,768 − 30,081,024) / 30 = 2,216,524.8 → 2,216,525, so output + ten blocks need
    # 512 MiB + 52,690,944 + 30,081,024 + 10 × (2,216,525 + 196,608) = 643,774,210 bytes.
    assert plan_gpu_layers(meta, 256, with_gpus(gpu_device(643_774_210)), "auto") == 11
    assert plan_gpu_layers(meta, 256, with_gpus(gpu_device(643_774_209)), "auto") == 10


def test_plan_auto_without_device_memory_is_zero(smollm2_path):
    info = BackendInfo((), True, "CUDA : ARCHS = 900 |", device_api=False, note="no device API")
    header = read_header(smollm2_path)
    assert plan_gpu_layers(header, 256, info, "auto") == 0
    assert plan_gpu_layers(header, 256, info, "all") == -1
