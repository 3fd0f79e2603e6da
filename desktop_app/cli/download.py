"""``tokendice models download``: progress on standard error, and Ctrl+C as a clean cancel.

On a terminal the progress is one line redrawn in place (bytes, percentage, speed, time left) at most
10 times a second; anywhere else (a log, a pipe, CI) it is a plain line when the download starts and
then at most every :data:`PLAIN_INTERVAL_S` seconds and when a file is complete, so logs are never
flooded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, TextIO

from desktop_app.core.units import duration_text, size_text

PLAIN_INTERVAL_S = 10.0
REDRAW_INTERVAL_S = 0.1
BAR_WIDTH = 24


def progress_line(p: Any, *, bar: bool) -> str:
    """One progress line for a ModelProgress: with a bar for a terminal, in words otherwise."""
    part = f" (part {p.part} of {p.parts})" if p.parts > 1 else ""
    speed = f"{size_text(p.bytes_per_s)}/s" if p.bytes_per_s > 0 else ""
    if p.total_bytes:
        fraction = min(max(p.done_bytes / p.total_bytes, 0.0), 1.0)
        amount = f"{size_text(p.done_bytes)} of {size_text(p.total_bytes)}"
    else:
        fraction, amount = None, size_text(p.done_bytes)
    eta = duration_text(p.eta_s) if p.eta_s is not None else "?"
    if bar:
        if fraction is None:
            return f"{amount}  {speed}{part}"
        filled = int(fraction * BAR_WIDTH)
        gauge = "#" * filled + "-" * (BAR_WIDTH - filled)
        return f"{fraction:4.0%} [{gauge}] {amount}  {speed or '-'}  ETA {eta}{part}"
    share = f" ({fraction:.0%})" if fraction is not None else ""
    rate = f", {speed}" if speed and fraction != 1 else ""
    left = f", about {eta} left" if p.eta_s is not None and fraction != 1 else ""
    return f"downloading {p.filename}{part}: {amount}{share}{rate}{left}"


class RedrawnLine:
    """A progress line on ``stream`` (standard error): redrawn in place on a terminal, a line of its own
    for each report elsewhere (a log, a pipe)."""

    def __init__(self, stream: TextIO, *, tty: bool | None = None):
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self._last = float("-inf")
        self._drawn = False
        self._width = 0

    def show(self, text: str) -> None:
        if self.tty:
            pad = " " * max(0, self._width - len(text))
            self._width = len(text)
            self.stream.write(f"\r{text}{pad}")
        else:
            self.stream.write(text + "\n")
        self._drawn = True
        self.stream.flush()

    def close(self) -> None:
        """End the redrawn line, so what follows (an error, the result) starts on a line of its own."""
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
        self._drawn = False


class ProgressPrinter(RedrawnLine):
    """A ``progress`` callback for acquire_model that draws on ``stream`` (standard error)."""

    def __call__(self, p: Any) -> None:
        now = time.monotonic()
        finished = p.total_bytes is not None and p.done_bytes >= p.total_bytes
        interval = REDRAW_INTERVAL_S if self.tty else PLAIN_INTERVAL_S
        if now - self._last < interval and not finished:
            return
        self._last = now
        self.show(progress_line(p, bar=self.tty))


@contextlib.contextmanager
def cancel_on_signals(cancel: threading.Event) -> Iterator[None]:
    """While inside, Ctrl+C (and SIGTERM) sets ``cancel`` instead of killing the process: the download
    stops at its next chunk and keeps its ``.part``. A second one is handled the usual way again."""
    signals = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        cancel.set()
        for sig, old in previous.items():
            signal.signal(sig, old)

    for sig in signals:
        with contextlib.suppress(ValueError, OSError):  # not the main thread: leave the signals alone
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, old)


def cmd_download(args: argparse.Namespace) -> int:
    from desktop_app.core.models.acquire import acquire_model
    from desktop_app.core.models.download import Downloader
    from desktop_app.core.models.library import model_files
    from desktop_app.core.services import Services

    services = Services.open()  # the library is written: not while the desktop app holds it
    try:
        downloader = Downloader(services.paths.models_dir)
        cancel = threading.Event()
        printer = ProgressPrinter(sys.stderr)
        try:
            with cancel_on_signals(cancel):
                entry = acquire_model(
                    args.repo,
                    args.file,
                    library=services.library,
                    downloader=downloader,
                    revision=args.revision,
                    progress=printer,
                    cancel=cancel,
                )
        finally:
            printer.close()
        parts = [p for p in model_files(entry.path) if p.exists()]
        size = sum(p.stat().st_size for p in parts)
        if args.json:
            json.dump(
                {
                    "id": entry.id,
                    "path": str(entry.path),
                    "parts": [str(p) for p in parts],
                    "size_bytes": size,
                    "entry": entry.to_dict(),
                },
                sys.stdout,
                indent=2,
                ensure_ascii=False,
            )
            sys.stdout.write("\n")
        else:
            print(f"Downloaded {args.repo} {args.file} ({size_text(size)}) to {entry.path}")
            print(f"library id: {entry.id}")
            print(f'Try it: tokendice generate --model {entry.id} --chat "Hello"')
        if not entry.usable:
            print(f"tokendice: warning: {entry.error}", file=sys.stderr)
        return 0
    finally:
        services.close()
