"""The window's process never maps llama.cpp; its engine process does, and takes the model's memory with
it when the model is unloaded. Run in a fresh interpreter: this test process has llama.cpp loaded by
other tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from PySide6.QtWidgets import QApplication
    from desktop_app.core.services import Services
    from desktop_app.ui.main_window import MainWindow

    def rss_mb():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

    def llama_mapped(pid="self"):
        text = open(f"/proc/{pid}/maps").read()
        return any(name in text for name in ("libllama", "libggml"))

    def wait(condition, seconds=60):
        end = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > end:
                raise SystemExit("timed out")
            app.processEvents()
            time.sleep(0.01)

    app = QApplication([])
    services = Services.open()
    entry = services.library.resolve("default")
    window = MainWindow(services, current=None)
    window.show()
    wait(lambda: window.backends is not None)  # the engine process has started and probed
    idle_pid = window.engine.pid
    before = rss_mb()
    out = {"idle_engine_pid": idle_pid}
    for round in range(2):
        loaded = []
        window.model_loaded.connect(loaded.append)
        window.load_model(entry)
        wait(lambda: loaded)
        finished = []
        window.controller.finished.connect(finished.append)
        window.controller.max_tokens = 16
        window.controller.send("Tell me about mountains.")
        wait(lambda: finished)
        pid = window.engine.pid
        out[f"engine_pid_{round}"] = pid
        out[f"engine_maps_llama_{round}"] = llama_mapped(pid)
        out[f"window_maps_llama_{round}"] = llama_mapped()
        out[f"loaded_rss_{round}"] = rss_mb()
        window.unload_model()
        wait(lambda: not window.engine._started or not any(p.alive for p in window.engine._started))
        for _ in range(20):
            app.processEvents()
        out[f"unloaded_rss_{round}"] = rss_mb()
    out["before_rss"] = before
    out["llama_cpp_imported"] = "llama_cpp" in sys.modules
    window.close()
    services.close()
    print("RESULT " + json.dumps(out))
    """
).replace("import json, sys, time", "import json, os, sys, time")


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc (Linux)")
def test_the_window_never_maps_llama_cpp_and_unloading_returns_the_memory(tokendice_home):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=240, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    out = json.loads(line.removeprefix("RESULT "))
    assert not out["llama_cpp_imported"]
    for r in (0, 1):
        assert out[f"engine_maps_llama_{r}"], "the engine process holds llama.cpp"
        assert not out[f"window_maps_llama_{r}"], "the window's process must not map llama.cpp"
        assert out[f"engine_pid_{r}"] != os.getpid()
        # Unloading returns what loading took (the model lived in the engine process).
        assert out[f"unloaded_rss_{r}"] - out["before_rss"] < 50, out
    assert out["engine_pid_0"] == out["idle_engine_pid"]  # the first load uses the process started idle
    assert out["engine_pid_1"] != out["engine_pid_0"]  # one process per loaded model


CLOSE_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, time
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from desktop_app.app import run_gui

    def arm():
        app = QApplication.instance()
        window = next(w for w in app.topLevelWidgets() if hasattr(w, "engine") and hasattr(w, "controller"))
        seen = []

        def on_step(_shown):
            seen.append(1)
            if len(seen) == 3:
                os.kill(window.engine.pid, signal.SIGSTOP)  # an engine that answers nothing any more
                print("CLOSING", time.monotonic(), flush=True)
                window.close()

        window.controller.step_selected.connect(on_step)
        window.model_loaded.connect(lambda _m: window.controller.send("Write a very long story."))

    QTimer.singleShot(0, arm)
    sys.exit(run_gui(None))
    """
)


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX signals")
def test_closing_during_a_reply_of_a_stuck_engine_exits_0_within_3_s(tokendice_home):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", CLOSE_SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env, cwd=ROOT,
    )  # fmt: skip
    closing = None
    try:
        for line in proc.stdout:
            if line.startswith("CLOSING "):
                closing = float(line.split()[1])
                break
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ended = time.monotonic()
    assert closing is not None, proc.stderr.read()[-3000:]
    assert code == 0, proc.stderr.read()[-3000:]
    assert ended - closing < 3.0
