"""GUI tests: fail a test that leaves a QThread running (napari's ``_dangling_qthreads`` idea)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QThread


@pytest.fixture(autouse=True)
def no_dangling_qthreads(monkeypatch: pytest.MonkeyPatch):
    started: list[QThread] = []
    original = QThread.start

    def start(self, *args):
        started.append(self)
        return original(self, *args)

    monkeypatch.setattr(QThread, "start", start)
    yield
    running = [t.objectName() or repr(t) for t in started if t.isRunning()]
    for t in started:
        if t.isRunning():
            t.quit()
            t.wait(5000)
    assert not running, f"test left QThreads running: {running}"
