"""What GUI tests ask of the window's engine process."""

from __future__ import annotations


def engine_stats(window, qtbot, timeout: int = 10_000) -> dict:
    """The engine process's counters (tokens decoded, cache rebuilds), asked for and awaited."""
    with qtbot.waitSignal(window.engine.worker.stats, timeout=timeout) as blocker:
        window.engine.request_stats.emit()
    return blocker.args[0]
