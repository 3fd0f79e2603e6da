"""Small helpers shared by tests: the command line in a subprocess, placeholder GGUF files, hashes."""

from __future__ import annotations

import hashlib
import os
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


def fake_gguf(tag: str, size: int = 4096) -> bytes:
    """``size`` bytes that start like a GGUF file (magic, version 3, no tensors, no keys), told apart by
    ``tag``: enough for the hub, the downloader and the library's listing, not for llama.cpp."""
    head = b"GGUF" + struct.pack("<IQQ", 3, 0, 0) + tag.encode()
    return head + bytes(size - len(head))


def sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
