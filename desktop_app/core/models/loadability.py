"""Can this llama.cpp load a model? A vocabulary-only load, weights untouched, in a short-lived child process.

llama.cpp aborts the whole process on some damaged files (a ``GGML_ASSERT`` in the vocabulary loader), and
its log callback is process-wide: so the check never runs in the caller's process. :func:`load_problem`
starts ``python -m desktop_app.core.engine.probe PATH`` (in a frozen bundle: the bundle's executable with
:data:`CHILD_ARG`, which ``packaging/tokendice_launcher.py`` hands to the probe's ``main``), bounded in
time, and reads one result line from its output. A child that dies of a signal or stops without a result
becomes a sentence, like llama.cpp's own refusals. The caller caches the answer (the library keeps it per
path, size and mtime), so a listing does not start processes. The child's side, which loads llama.cpp, is
the engine's (:mod:`desktop_app.core.engine.probe`); this side imports nothing of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from desktop_app.core.native_exit import signal_name

#: The frozen bundle's hidden first argument that runs :func:`main` instead of the app.
CHILD_ARG = "--tokendice-vocabulary-probe"
#: How long the child may take (a 262k-token vocabulary reads in ~0.4 s; a busy machine gets room).
PROBE_TIMEOUT_S = 30.0
RESULT_PREFIX = "tokendice-probe-result: "  # the child's one result line starts so


class ProbeUnavailable(Exception):
    """llama.cpp gave no answer about the file (too slow, no child process, a broken installation): not
    an answer to keep, since the next check may well succeed. Its text is a sentence."""


def load_problem(path: str | Path, *, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None if llama.cpp can load the model's vocabulary and architecture; else the reason, as a sentence.

    llama.cpp refuses an unknown architecture (or a broken vocabulary) at this stage already, so the
    library can mark such a file before anyone tries to load it for real. Runs in a child process
    (about 0.3 s, most of it starting Python and llama.cpp); this process never loads llama.cpp here.
    A child that crashes is the file's problem (a sentence); ProbeUnavailable when there was no answer.
    """
    env = {**os.environ, "GGML_NO_BACKTRACE": "1"}  # an abort ends at once instead of running gdb
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # Windows: no console window flashes up
    try:
        done = subprocess.run(
            child_command(path),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            env=env,
            creationflags=flags,
        )
    except subprocess.TimeoutExpired as exc:
        raise ProbeUnavailable(
            f"llama.cpp did not finish reading its vocabulary within {timeout:g} s: the file may be damaged, "
            "or the computer very busy; TokenDice checks it again at its next start"
        ) from exc
    except OSError as exc:
        raise ProbeUnavailable(
            f"the llama.cpp check could not start ({exc.strerror or exc}); reinstalling TokenDice may help"
        ) from exc
    return _answer(done)


def _answer(done: subprocess.CompletedProcess) -> str | None:
    """The child's result line, or a sentence for how it ended without one."""
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line.removeprefix(RESULT_PREFIX))["problem"]
    code = done.returncode
    if code < 0:
        name = signal_name(-code)
        return (
            f"llama.cpp crashed ({name}) while reading its vocabulary: the file may be damaged or unsupported"
        )
    last = next((s.strip() for s in reversed(done.stderr.splitlines()) if s.strip()), "")
    if "Traceback (most recent call last)" in done.stderr:  # Python failed, not llama.cpp on this file
        raise ProbeUnavailable(f"the llama.cpp check failed ({last}); reinstalling TokenDice may help")
    return (
        f"llama.cpp stopped (exit status {code}) while reading its vocabulary: the file may be damaged or "
        "unsupported"
    )


def child_command(path: str | Path) -> list[str]:
    """The command that checks ``path``: this Python with ``-m``, or a frozen bundle's own executable."""
    if getattr(sys, "frozen", False):
        exe = Path(sys.executable)
        # The console twin of a windowed ``tokendice-gui`` (Windows gives a windowed one no stdout).
        console = exe.with_name(exe.name.replace("-gui", "", 1))
        return [str(console if console != exe and console.is_file() else exe), CHILD_ARG, str(path)]
    return [sys.executable, "-m", "desktop_app.core.engine.probe", str(path)]
