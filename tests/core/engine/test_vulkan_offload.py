"""A real GPU offload through a Vulkan build of llama-cpp-python, read back from llama.cpp's own log.

Opt-in: the default environment's llama.cpp is a CPU build, so this runs the engine in *another*
Python whose llama-cpp-python was built with ``CMAKE_ARGS="-DGGML_VULKAN=on"``:

    TOKENDICE_VULKAN_PYTHON=/path/to/vulkan-venv/bin/python pytest -m vulkan

That environment needs llama-cpp-python (Vulkan), numpy, jinja2, gguf and platformdirs; TokenDice comes
from this checkout through PYTHONPATH. On a machine without a GPU, Mesa's lavapipe (a Vulkan driver
that runs on the CPU) works: ggml skips CPU-type Vulkan devices unless they are named, so set
``GGML_VK_VISIBLE_DEVICES=0`` as well (see the README's GPU section).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PYTHON_ENV = "TOKENDICE_VULKAN_PYTHON"

pytestmark = [
    pytest.mark.vulkan,
    pytest.mark.skipif(
        not os.environ.get(PYTHON_ENV), reason=f"set {PYTHON_ENV} to a Python with a Vulkan llama-cpp-python"
    ),
]

SCRIPT = r"""
import json, sys
import numpy as np
from desktop_app.core.engine.engine import Engine, EngineConfig
from desktop_app.core.engine.gpu import probe_backends

backends = probe_backends()
out = {
    "summary": backends.summary(),
    "has_gpu": backends.has_gpu,
    "devices": [[d.backend, d.name, d.kind] for d in backends.devices],
}
engine = Engine(sys.argv[1], EngineConfig(n_ctx=512, n_batch=128, n_gpu_layers=sys.argv[2], seed=1))
try:
    report = engine.load_report
    o = report.offload
    out["load_summary"] = report.summary()
    out["offload"] = None if o is None else [o.offloaded_layers, o.total_layers, list(o.devices)]
    out["log_lines"] = [l for l in engine.log.lines() if "offload" in l]
    engine.sync(engine.tokenize("The capital of France is", add_bos=True))
    logits = engine.logits()
    top = int(np.argmax(logits))
    out["top_token"] = top
    out["top_piece"] = engine.token_text(top)
finally:
    engine.close()
print("RESULT " + json.dumps(out))
"""


def _run(python: str, model: Path, layers: str, home: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TOKENDICE_HOME=str(home))
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run(
        [python, "-c", SCRIPT, str(model), layers], capture_output=True, text=True, timeout=600, env=env
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def test_all_layers_offloaded_to_vulkan_and_the_same_next_token(smollm2_path: Path, tmp_path: Path):
    python = os.environ[PYTHON_ENV]
    gpu = _run(python, smollm2_path, "all", tmp_path / "home")
    assert gpu["has_gpu"], f"no Vulkan device ({gpu['summary']}); for lavapipe set GGML_VK_VISIBLE_DEVICES=0"
    assert any(backend.lower().startswith("vulkan") for backend, _name, _kind in gpu["devices"]), gpu
    offloaded, total, devices = gpu["offload"]
    # SmolLM2-135M has 30 blocks; llama.cpp counts the output layer as one more.
    assert (offloaded, total) == (31, 31), gpu["log_lines"]
    assert devices and all(d.lower().startswith("vulkan") for d in devices), devices
    assert gpu["load_summary"].startswith("offloaded 31/31 layers to ")

    cpu = _run(python, smollm2_path, "0", tmp_path / "home-cpu")
    assert cpu["offload"][0] == 0
    assert gpu["top_token"] == cpu["top_token"], (gpu["top_piece"], cpu["top_piece"])
