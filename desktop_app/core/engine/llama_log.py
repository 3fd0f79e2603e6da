"""llama.cpp's log, captured through a log callback, and the offload count read from it.

:class:`LlamaLog` collects the log through :func:`install_log_callback` (``Llama(verbose=False)`` would
redirect the whole process's stdout/stderr file descriptors instead); :func:`parse_offload` reads how
many layers went to the GPU. A CPU-only build prints no ``offloaded N/M layers to GPU`` line at all
(llama.cpp gates it on ``llama_supports_gpu_offload()``), so the parser also reads the debug lines
``load_tensors: layer 7 assigned to device CPU, ...``.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import re
import sys
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO


def _text(raw: bytes | str | None) -> str:
    if raw is None:
        return ""
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw


class LlamaLog:
    """A thread-safe sink for llama.cpp's log: whole lines, the newest ``max_lines`` kept.

    llama.cpp sends text in pieces (progress dots arrive one by one with level CONT); pieces are
    joined and split at newlines, so :meth:`lines` gives the lines a terminal would show.
    """

    def __init__(self, max_lines: int = 10_000, *, echo: TextIO | None = None):
        """``echo``: a stream that also gets every whole line (the engine process's log file, so that
        the lines before a crash outlive it)."""
        if max_lines < 1:
            raise ValueError("a log keeps at least one line")
        self._lock = threading.Lock()
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._partial = ""
        self._echo = echo
        #: The ctypes callback installed for this sink (kept here so it lives as long as the sink).
        self.callback: object | None = None

    def handle(self, level: int, text: bytes | str | None) -> None:
        piece = _text(text)
        if not piece:
            return
        with self._lock:
            *done, self._partial = (self._partial + piece).split("\n")
            self._lines.extend(done)
            if self._echo is not None and done:
                self._echo.write("".join(f"llama.cpp: {line}\n" for line in done))
                self._echo.flush()

    def lines(self) -> list[str]:
        with self._lock:
            return [*self._lines, self._partial] if self._partial else list(self._lines)

    def text(self) -> str:
        return "\n".join(self.lines())

    def clear(self) -> None:
        with self._lock:
            self._lines.clear()
            self._partial = ""


def install_log_callback(sink: LlamaLog) -> object:
    """Send all of llama.cpp's log to ``sink`` (nothing reaches stderr) and return the ctypes callback.

    llama.cpp keeps only a C pointer: the returned object must stay alive while it is installed. It is
    also stored on ``sink.callback``, so keeping the sink is enough. Before dropping both, call
    :func:`restore_default_log_callback`. Load models with ``verbose=True``: ``verbose=False`` makes
    llama-cpp-python redirect the process's stdout/stderr file descriptors during the load.
    """
    import llama_cpp

    def forward(level: int, text: bytes | None, _user_data: Any) -> None:
        sink.handle(level, text)

    callback = llama_cpp.llama_log_callback(forward)
    llama_cpp.llama_log_set(callback, ctypes.c_void_p())  # no user data: a null pointer
    sink.callback = callback
    return callback


def restore_default_log_callback() -> None:
    """Give llama.cpp back llama-cpp-python's own log callback (it lives as long as its module), quiet
    but for errors: a ``Llama(verbose=True)`` load leaves that callback's logger at DEBUG."""
    import logging

    import llama_cpp
    from llama_cpp import _logger

    llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p())
    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)


@dataclass(frozen=True)
class OffloadReport:
    offloaded_layers: int  # of total_layers; llama.cpp counts the output layer as one
    total_layers: int
    #: Non-CPU devices that received layers, in order (from the debug lines; may be empty).
    devices: tuple[str, ...] = ()

    @property
    def all_offloaded(self) -> bool:
        return self.total_layers > 0 and self.offloaded_layers >= self.total_layers


_LOAD_START = "load_tensors: loading model tensors"
_OFFLOADED = re.compile(r"offloaded (-?\d+)/(\d+) layers to GPU")
_ASSIGNED = re.compile(r"load_tensors: layer\s+(\d+) assigned to device ([^,\s]+)")


def parse_offload(log_text: str) -> OffloadReport | None:
    """How many layers the last model load put on the GPU, from llama.cpp's log; None if it never said.

    ``load_tensors: offloaded 31/31 layers to GPU`` (printed only by builds with a GPU backend) wins;
    otherwise the debug lines ``load_tensors: layer N assigned to device X`` are counted (a CPU build
    prints them too: 0 of n_layer + 1). Only the text from the last ``load_tensors: loading model
    tensors`` line on is read, so the last load wins when the log holds several.
    """
    start = log_text.rfind(_LOAD_START)
    if start > 0:
        log_text = log_text[start:]
    layers: dict[int, str] = {}
    for m in _ASSIGNED.finditer(log_text):
        layers[int(m.group(1))] = m.group(2)
    gpu_devices = tuple(dict.fromkeys(d for _, d in sorted(layers.items()) if d != "CPU"))
    matches = list(_OFFLOADED.finditer(log_text))
    if matches:
        done, total = int(matches[-1].group(1)), int(matches[-1].group(2))
        return OffloadReport(total if done < 0 else min(done, total), total, gpu_devices)
    if layers:
        n_gpu = sum(1 for d in layers.values() if d != "CPU")
        return OffloadReport(n_gpu, len(layers), gpu_devices)
    return None


class _ThreadRouted:
    """Stands in for sys.stdout / sys.stderr: a thread that is capturing writes to its own buffer,
    every other thread to the real stream (``contextlib.redirect_stderr`` swaps the stream for every
    thread at once, so the GUI thread's output would vanish into the engine's log while a model loads)."""

    def __init__(self, target: Any):
        self.target = target
        self.captures: dict[int, io.StringIO] = {}

    def write(self, text: str) -> int:
        buffer = self.captures.get(threading.get_ident())
        return (buffer if buffer is not None else self.target).write(text)

    def flush(self) -> None:
        if threading.get_ident() not in self.captures:
            self.target.flush()

    def __getattr__(self, name: str) -> Any:  # fileno, encoding, isatty, ...
        return getattr(self.target, name)


_ROUTING = threading.Lock()


@contextlib.contextmanager
def capture_python_output(buffer: io.StringIO) -> Iterator[None]:
    """What this thread prints to sys.stdout or sys.stderr goes to ``buffer`` (llama-cpp-python prints
    its model metadata there); other threads print as usual."""
    ident = threading.get_ident()
    names = ("stdout", "stderr")
    with _ROUTING:
        for name in names:
            stream = getattr(sys, name)
            if not isinstance(stream, _ThreadRouted):
                stream = _ThreadRouted(stream)
                setattr(sys, name, stream)
            stream.captures[ident] = buffer
    try:
        yield
    finally:
        with _ROUTING:
            for name in names:
                stream = getattr(sys, name)
                if isinstance(stream, _ThreadRouted):
                    stream.captures.pop(ident, None)
                    if not stream.captures:
                        setattr(sys, name, stream.target)
