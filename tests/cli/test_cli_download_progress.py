"""The download progress of the command line: a redrawn bar on a terminal, rare plain lines elsewhere."""

from __future__ import annotations

import io
import signal
import threading

from desktop_app.cli import download as download_module
from desktop_app.cli.download import ProgressPrinter, cancel_on_signals, progress_line
from desktop_app.core.models.acquire import ModelProgress
from desktop_app.core.units import duration_text

MB = 1_000_000


def p(done: int, total: int | None = 100 * MB, speed: float = 10 * MB, part: int = 1, parts: int = 1):
    eta = (total - done) / speed if total and speed else None
    return ModelProgress(done, total, speed, eta, part, parts, "model-Q4_K_M.gguf")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lines_say_bytes_speed_and_time_left():
    assert duration_text(7.4) == "0:07" and duration_text(754) == "12:34" and duration_text(3723) == "1:02:03"
    bar = progress_line(p(25 * MB), bar=True)
    assert bar.startswith(" 25% [######------------------]") and "25.0 MB of 100.0 MB" in bar
    assert "10.0 MB/s" in bar and "ETA 0:08" in bar
    plain = progress_line(p(25 * MB, part=2, parts=3), bar=False)
    assert plain == (
        "downloading model-Q4_K_M.gguf (part 2 of 3): 25.0 MB of 100.0 MB (25%), 10.0 MB/s, about 0:08 left"
    )
    assert progress_line(p(5 * MB, total=None, speed=0), bar=False) == "downloading model-Q4_K_M.gguf: 5.0 MB"


def test_a_terminal_gets_one_line_redrawn_at_most_ten_times_a_second(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(download_module.time, "monotonic", clock)
    out = io.StringIO()
    printer = ProgressPrinter(out, tty=True)
    for i in range(100):  # 100 callbacks in 0.5 s
        printer(p(i * MB))
        clock.now += 0.005
    printer(p(100 * MB))  # the end is always drawn
    printer.close()
    text = out.getvalue()
    assert "\n" not in text[:-1] and text.endswith("\n")
    assert 5 <= text.count("\r") <= 8
    assert text.rstrip().rsplit("\r", 1)[-1].startswith("100% [########################]")


def test_elsewhere_a_plain_line_at_start_then_every_ten_seconds_and_at_the_end(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(download_module.time, "monotonic", clock)
    out = io.StringIO()
    printer = ProgressPrinter(out, tty=False)
    for i in range(301):  # 30 s of callbacks, ten a second
        printer(p(i * MB // 3))
        clock.now += 0.1
    printer(p(100 * MB))
    printer.close()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert 4 <= len(lines) <= 5 and lines[-1].endswith("100.0 MB of 100.0 MB (100%)")


def test_ctrl_c_sets_the_cancel_flag_once_then_interrupts_as_usual():
    cancel = threading.Event()
    before = signal.getsignal(signal.SIGINT)
    with cancel_on_signals(cancel):
        signal.raise_signal(signal.SIGINT)
        assert cancel.is_set()
        assert signal.getsignal(signal.SIGINT) is before  # a second Ctrl+C stops at once
    assert signal.getsignal(signal.SIGINT) is before
