"""How a process running llama.cpp ended: the signal's name, and llama.cpp's own reason from its output.

One reading for every place that runs llama.cpp in a child: the window's engine process
(:mod:`engine_process`), the command line's guard (:mod:`desktop_app.cli.guard`) and the library's
vocabulary check (:mod:`probe`); and :func:`die_with_parent`, which those children call.
"""

from __future__ import annotations

import os
import re
import signal
import sys

# ggml_abort prints "file:line: message" (GGML_ASSERT's message is "GGML_ASSERT(cond) failed").
_ABORT_LINE = re.compile(r"^(?:.*[/\\])?([\w.+-]+\.(?:c|cc|cpp|h|hpp|cu|m|mm):\d+): (.+)$")
_TERMINATE = re.compile(r"terminate called after throwing an instance of '([^']+)'")
_WHAT = re.compile(r"^\s*what\(\):\s*(.+)$")


def die_with_parent() -> bool:
    """Linux: have this child process killed (SIGKILL) when its parent dies, so a parent that crashed or
    was killed leaves no llama.cpp process running on its own. Returns whether the request took hold
    (False elsewhere, or when the kernel refused: the child then ends on its own, as before)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) == 0


def signal_name(signum: int) -> str:
    """``SIGSEGV`` for 11; ``signal N`` for a number this platform does not name."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def exit_signal(returncode: int | None) -> str | None:
    """The signal a process's exit status says it died of (an abort's status too), or None."""
    if returncode is None:
        return None
    if returncode < 0:
        return signal_name(-returncode)
    aborted = returncode == 134 or (os.name == "nt" and returncode == 3)  # an abort's status (Windows: 3)
    return "SIGABRT" if aborted else None


def abort_reason(log_text: str) -> str | None:
    """A short form of the reason llama.cpp gave before aborting, from its output, or None."""
    lines = log_text.splitlines()
    found = [m for line in lines if (m := _ABORT_LINE.match(line.strip()))]
    asserts = [m for m in found if "GGML_ASSERT" in m.group(2)]  # before any debugger's lines
    if m := (asserts or found or [None])[-1]:
        return _shorten(f"{m.group(2)} at {m.group(1)}")
    for i in range(len(lines) - 1, -1, -1):
        if m := _TERMINATE.search(lines[i]):
            what = next((w.group(1) for x in lines[i + 1 : i + 3] if (w := _WHAT.match(x))), None)
            return _shorten(f"{m.group(1)}: {what}" if what else m.group(1))
    return None


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
