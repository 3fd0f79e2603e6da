"""The command line's guard against llama.cpp's native faults: a command that loads a model runs in a child.

llama.cpp can abort the process (``GGML_ASSERT`` on a damaged or unsupported GGUF: SIGABRT and a
debugger backtrace) or crash it (a CPU quirk: SIGSEGV, SIGILL). So ``tokendice probs …`` and the other
commands in :data:`GUARDED` re-run themselves (the same argv) in a child process and wait for it:

* the child's native stdout and stderr (file descriptors 1 and 2: llama.cpp's messages, ggml's abort
  line) go to ``cli-engine.log`` in the log folder, while Python's ``sys.stdout`` and ``sys.stderr`` keep
  writing to the real ones (duplicated first), so the output, the streamed text and the command's own
  one-line errors are unchanged; stdin is inherited;
* the child runs with ``GGML_NO_BACKTRACE=1``: on an abort ggml would otherwise start gdb to print a
  backtrace (onto descriptor 1), which takes seconds and, on a busy machine, once hung for minutes;
* the child's exit status is the command's; when it dies of a signal the parent prints one line that
  says what happened (with the ``GGML_ASSERT`` from the log, if there is one) and exits with
  :data:`EXIT_ENGINE_CRASHED`;
* Ctrl+C reaches the child (from the terminal, and from the parent, which relays SIGINT, SIGTERM and
  SIGHUP); the child takes the first SIGINT as a KeyboardInterrupt and ignores the relayed copy. On
  Linux the child dies with the parent (``PR_SET_PDEATHSIG``), so a killed ``tokendice`` leaves nothing
  running.

The child is ``python -m desktop_app ARGV``, or in a frozen bundle the ``tokendice`` executable itself
(``sys.executable``; its launcher hands ``sys.argv[1:]`` to :func:`desktop_app.cli.main`).
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from desktop_app.cli.errors import EXIT_ERROR
from desktop_app.core.native_exit import abort_reason, die_with_parent, signal_name
from desktop_app.core.safe_text import shown

EXIT_ENGINE_CRASHED = 3  # the engine's process died of a signal (1: an error, 2: usage, 130: Ctrl+C)
LOG_NAME = "cli-engine.log"
LOG_ENV = "TOKENDICE_CLI_ENGINE_LOG"  # set for the child: where its native output goes
PARENT_ENV = "TOKENDICE_CLI_PARENT"  # the parent's pid, so the child can tell it has gone
_LOG_ROTATE_BYTES = 1 << 20
_TAIL_BYTES = 64 << 10

# The commands that load a model's weights with llama.cpp in this process. (The library's commands check a
# new file with a vocabulary-only load in a child of their own: core/engine/probe.py. ``info`` and the
# hub's ``curated``/``files`` only list llama.cpp's devices, no model file.)
GUARDED = frozenset({"probs", "generate", "template", "tokens", "chat", "serve"})


def is_child() -> bool:
    """Whether this process is a guarded command's child (its parent has done the parent's part)."""
    return LOG_ENV in os.environ


def should_guard(args: argparse.Namespace) -> str | None:
    """The command's label when it is to run in a guarded child from here, else None (run it here)."""
    if LOG_ENV in os.environ or threading.current_thread() is not threading.main_thread():
        return None  # we are the child already; or signals cannot be relayed from this thread
    if getattr(sys, "frozen", False) and Path(sys.executable).stem.lower().endswith("-gui"):
        return None  # the windowed executable always opens the window: it cannot be the CLI's child
    if getattr(args, "server", None):
        return None  # the model runs on a server: nothing of llama.cpp is loaded here
    if args.command == "lessons" and getattr(args, "lessons_command", None) == "run":
        return "lessons run"  # (list and show load no model)
    return args.command if args.command in GUARDED else None


def child_command(argv: Sequence[str]) -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, *argv]
    return [sys.executable, "-m", "desktop_app", *argv]


# --- the parent ------------------------------------------------------------------------------------


def run_in_child(argv: Sequence[str], label: str) -> int:
    """Run ARGV's command in a child process; its exit status, or one line and EXIT_ENGINE_CRASHED."""
    from desktop_app.paths import AppPaths

    log = AppPaths.from_env().log_dir / LOG_NAME
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        if log.exists() and log.stat().st_size > _LOG_ROTATE_BYTES:
            log.replace(log.with_name(LOG_NAME + ".1"))
        start = log.stat().st_size if log.exists() else 0
    except OSError as exc:
        print(
            f"tokendice: error: cannot write llama.cpp's log in {log.parent} ({exc.strerror}); "
            "make that folder writable or set TOKENDICE_HOME to one that is",
            file=sys.stderr,
        )
        return EXIT_ERROR
    env = {**os.environ, LOG_ENV: str(log), PARENT_ENV: str(os.getpid()), "GGML_NO_BACKTRACE": "1"}
    relayed: list[int] = []
    child: list[subprocess.Popen] = []

    def relay(signum: int, _frame) -> None:
        relayed.append(signum)
        if child:
            child[0].send_signal(signum)

    names = ("SIGINT", "SIGTERM", "SIGHUP")
    previous = {sig: signal.signal(sig, relay) for n in names if (sig := getattr(signal, n, None))}
    try:
        child.append(subprocess.Popen(child_command(argv), env=env))
        for signum in relayed:  # one that came while the child was being started
            child[0].send_signal(signum)
        status = child[0].wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if status >= 0:
        return status
    signum = -status
    if signum in relayed and signum != signal.SIGINT:
        os.kill(os.getpid(), signum)  # we were told to stop, and stopped the child: stop the same way
    if signum == signal.SIGINT:
        print("tokendice: interrupted", file=sys.stderr)
        return 130
    print(f"tokendice: {crash_sentence(signum, label, log, _read_tail(log, start))}", file=sys.stderr)
    return EXIT_ENGINE_CRASHED


def _read_tail(log: Path, start: int) -> str:
    """What the child wrote to LOG (from START, its last 64 KB); empty if it cannot be read."""
    try:
        with log.open("rb") as f:
            f.seek(max(start, f.seek(0, io.SEEK_END) - _TAIL_BYTES))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""  # the sentence still names the signal and the file


def crash_sentence(signum: int, label: str, log: Path, log_text: str) -> str:
    """One sentence: what happened to the engine's process, what to do, and where the details are."""
    name = signal_name(signum)
    details = f"details in {log}"
    if signum == getattr(signal, "SIGKILL", None):
        return (
            f"the engine was killed ({name}) while running '{label}', perhaps for lack of memory; "
            f"try a smaller model or a smaller --ctx; {details}"
        )
    if signum in _FAULTS:
        reason = abort_reason(log_text)
        what = f"{name}: {reason}" if reason else name
        hint = (
            "this llama.cpp build may need a newer CPU"
            if signum == getattr(signal, "SIGILL", None)
            else "the model file may be damaged or unsupported"
        )
        return f"llama.cpp crashed ({what}) while running '{label}'; {hint}; {details}"
    return f"the engine was stopped by {name} while running '{label}'; {details}"


_FAULT_NAMES = ("SIGABRT", "SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGTRAP")
_FAULTS = {s for n in _FAULT_NAMES if (s := getattr(signal, n, None))}


# --- the child -------------------------------------------------------------------------------------


def enter_child() -> None:
    """In the guarded child: native stdout/stderr to the log, Python's streams to the real ones.

    Does nothing in a process that is no guarded child. Raises OSError when the log cannot be opened.
    """
    log = os.environ.pop(LOG_ENV, None)
    if log is None:
        return
    parent = os.environ.pop(PARENT_ENV, "")
    _die_with_parent(int(parent) if parent.isdigit() else None)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        line = f"--- {stamp} pid {os.getpid()}: tokendice {' '.join(sys.argv[1:])}\n"
        os.write(fd, shown(line).encode("utf-8"))  # an argument's undecodable bytes as U+FFFD
        sys.stdout = _keep_stream(sys.stdout, 1, fd)
        sys.stderr = _keep_stream(sys.stderr, 2, fd)
    finally:
        os.close(fd)
    signal.signal(signal.SIGINT, _interrupt_once)


def _keep_stream(stream, native_fd: int, log_fd: int):
    """A copy of STREAM on a duplicate of NATIVE_FD, which then points at LOG_FD."""
    stream.flush()
    kept = os.dup(native_fd)  # not inheritable: gdb, started by ggml on abort, does not get it
    copy = io.TextIOWrapper(
        open(kept, "wb"),  # noqa: SIM115 (it lives as long as the process, as sys.stderr does)
        encoding=stream.encoding,
        errors=stream.errors,
        line_buffering=stream.line_buffering,
        write_through=stream.write_through,
    )
    os.dup2(log_fd, native_fd)
    return copy


def _interrupt_once(_signum: int, _frame) -> None:
    """Ctrl+C reaches the child twice (from the terminal, and relayed by the parent): act on the first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def _die_with_parent(parent: int | None) -> None:
    """Linux: SIGKILL this process when the parent dies (a killed ``tokendice`` leaves no engine behind)."""
    if not die_with_parent():
        return  # without it a killed parent leaves the command to finish on its own, as before
    if parent is not None and os.getppid() != parent:
        os._exit(EXIT_ENGINE_CRASHED)  # the parent died before the request took hold
