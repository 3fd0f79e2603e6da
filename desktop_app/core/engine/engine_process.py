"""The engine in a child process: the window's side of it.

:class:`EngineProcess` starts ``python -m desktop_app.core.engine.engine_host`` (in a frozen bundle, the
bundle's executable with ``--engine-host``), sends it requests and hands every event it sends back to a
callback, on a reader thread. llama.cpp, the logits and the KV cache live only in the child: a native
crash, an abort or the memory killer ends the child, never the caller, which learns of it as one
``died`` event with an :class:`EngineDeath` that says what happened.

The two talk over a local socket (a Unix socket where there is one, else loopback TCP) with
``multiprocessing.connection``'s framing and its mutual HMAC handshake on a fresh random key, so no
other process can speak for either side. The child's stdout and stderr (native prints, a
``GGML_ASSERT`` and its backtrace, Python's logging, llama.cpp's log lines) go to a log file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import AuthenticationError
from multiprocessing.connection import Connection, answer_challenge, deliver_challenge
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.core.native_exit import abort_reason, exit_signal

if TYPE_CHECKING:
    from desktop_app.core.engine.messages import CompareRequest, GenerateRequest
    from desktop_app.core.sampler_settings import SamplerSettings

log = logging.getLogger(__name__)

KEY_ENV = "TOKENDICE_ENGINE_KEY"
HOST_FLAG = "--engine-host"
#: How long a child may take to start and connect before it counts as failed.
START_TIMEOUT_S = 60.0
#: The log's size before it is rotated (one older log is kept).
LOG_MAX_BYTES = 4 * 1024 * 1024
#: Log lines kept in a death's details.
TAIL_LINES = 40

OnEvent = Callable[[str, tuple], None]


def host_command(address: str) -> list[str]:
    """The command line of an engine process that connects to ``address``."""
    if getattr(sys, "frozen", False):  # a PyInstaller bundle: its executable dispatches on the flag
        return [sys.executable, HOST_FLAG, address]
    # The engine host, with what lets it serve its model to other programs (a layer above the engine).
    return [sys.executable, "-m", "desktop_app.core.serve.engine_main", address]


@dataclass(frozen=True)
class EngineDeath:
    """How an engine process ended without being asked to."""

    returncode: int | None  # negative: the signal (POSIX); None: it could not be waited for
    during: str  # what it was doing, e.g. "generating a reply" (empty when idle)
    log_tail: tuple[str, ...]
    log_path: Path
    stopped_by_us: bool = False  # it did not answer a stop in time and was ended

    @property
    def signal_name(self) -> str | None:
        return exit_signal(self.returncode)

    @property
    def reason(self) -> str:
        """llama.cpp's own words about the failure (an assertion), if its output had them."""
        return abort_reason("\n".join(self.log_tail)) or ""

    def sentence(self) -> str:
        """One sentence for the user: what happened and what to do."""
        during = f" while {self.during}" if self.during else ""
        name = self.signal_name
        if self.stopped_by_us:
            return (
                f"The engine did not answer{during} and was stopped; what was generated is kept. "
                "Restart the engine to go on."
            )
        if name == "SIGKILL":
            what = f"The engine was killed (SIGKILL){during}, perhaps because memory ran out"
            advice = "try a smaller model or a shorter context, then restart the engine"
        elif name is not None:
            what = f"The engine crashed ({name}){during}"
            advice = "what was generated is kept; restart the engine to go on"
            if "loading" in self.during:
                advice = "the model file may be damaged or not supported by this llama.cpp"
        else:
            what = f"The engine stopped unexpectedly (exit status {self.returncode}){during}"
            advice = "what was generated is kept; restart the engine to go on"
        reason = f" (llama.cpp: {self.reason})" if self.reason else ""
        return f"{what}{reason}: {advice}."

    def details(self) -> str:
        """The signal or status, and the last lines of the engine's log."""
        head = f"exit status {self.returncode}" if self.returncode is not None else "exit status unknown"
        if self.signal_name:
            head = f"{self.signal_name} ({head})"
        lines = "\n".join(self.log_tail) or "(the log is empty)"
        return f"{head}\nlog: {self.log_path}\n\n{lines}"


class EngineStartError(RuntimeError):
    """The engine process could not be started; the message says why."""


class Requests:
    """The Backend interface as requests handed to :meth:`send`, whose answers come back as events: what
    the window's engine client calls, on an engine process or on a model on a server alike."""

    def send(self, kind: str, *args: object) -> bool:
        raise NotImplementedError

    def probe(self) -> bool:
        return self.send("probe")

    def load(self, request: object) -> bool:
        return self.send("load", request)

    def unload(self) -> bool:
        return self.send("unload")

    def generate(self, request: GenerateRequest) -> bool:
        return self.send("generate", request)

    def compare(self, request: CompareRequest) -> bool:
        return self.send("compare", request)

    def redistribute(self, position: int, settings: SamplerSettings, generation: int | None = None) -> bool:
        return self.send("redistribute", position, settings, generation)

    def render(self, messages: tuple[dict, ...], plain: bool = False) -> bool:
        return self.send("render", messages, plain)

    def tokenize(self, text: str) -> bool:
        return self.send("tokenize", text)

    def set_template_override(self, override: object) -> bool:
        return self.send("set_template_override", override)

    def stats(self) -> bool:
        return self.send("stats")


class EngineProcess(Requests):
    """One child process running the engine. Events reach ``on_event(kind, args)`` on a reader thread.

    Kinds: those of :data:`backend.EVENTS`, then ``"died"`` with an :class:`EngineDeath` when the child
    ended without being asked to, or ``"exited"`` after :meth:`stop`. The child sends a fast reply's
    steps a few at a time: they reach ``on_event`` one by one, or with ``batches`` together, as one
    ``"batch"`` event whose argument is the tuple of their ``(kind, args)``.
    """

    def __init__(
        self,
        on_event: OnEvent,
        *,
        log_path: Path,
        command: Callable[[str], list[str]] = host_command,
        batches: bool = False,
    ):
        self._on_event = on_event
        self._batches = batches
        self.log_path = log_path
        self._command = command
        self._conn: Connection | None = None
        self._proc: subprocess.Popen | None = None
        self._send_lock = threading.Lock()
        self._stopping = False
        self._stopped_by_us = False
        self._reader: threading.Thread | None = None
        self._log_start = 0
        self._connected = threading.Event()  # set once the child connected, or will not
        self._queued: list[tuple[str, tuple]] = []  # requests sent before it connected
        self.during = ""  # what the child is doing now, for a death's sentence (set by the caller)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> bool:
        """The child has not ended yet, or its reader has not finished reporting it."""
        reading = self._reader is not None and self._reader.is_alive()
        return reading or (self._proc is not None and self._proc.poll() is None)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and not self._stopping

    # --- life cycle ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the child and connect to it (on the reader thread: this returns at once). Requests sent
        before it has connected wait for it."""
        key = os.urandom(32)
        listener, address, cleanup = _listen()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        _rotate(self.log_path)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            self._log_start = log.seek(0, os.SEEK_END)
            log.write(f"--- engine process started {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
            log.flush()
            # GGML_NO_BACKTRACE: on an assertion ggml would fork a debugger to print a backtrace, which
            # can hang where attaching is not allowed; the assertion's own line is what the log needs.
            env = dict(os.environ, **{KEY_ENV: key.hex()}, PYTHONUNBUFFERED="1", GGML_NO_BACKTRACE="1")
            proc = self._proc = subprocess.Popen(
                self._command(address),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                close_fds=True,
            )
        except OSError as exc:
            listener.close()
            cleanup()
            raise EngineStartError(f"the engine process could not be started: {exc}") from exc
        finally:
            log.close()
        self._reader = threading.Thread(
            target=self._run, args=(proc, listener, cleanup, key), name="engine-reader", daemon=True
        )
        self._reader.start()

    def _run(
        self, proc: subprocess.Popen, listener: socket.socket, cleanup: Callable[[], None], key: bytes
    ) -> None:
        try:
            conn = self._accept(proc, listener, key)
        finally:
            listener.close()
            cleanup()
        if conn is not None:
            with self._send_lock:  # what was sent before the child connected goes first, in order
                try:
                    for message in self._queued:
                        conn.send(message)
                except OSError:
                    pass  # it died already: the loop below ends at once and reports how
                self._queued.clear()
                self._conn = conn
            self._connected.set()
            try:
                while True:
                    kind, args = conn.recv()
                    if kind == "batch" and not self._batches:  # steps sent together (engine_host.Outbox)
                        for event in args[0]:
                            self._on_event(*event)
                    else:
                        self._on_event(kind, args)
            except (EOFError, OSError):
                pass  # the child has gone: _finish says how
            except Exception:  # an event that cannot be read or handled: end the child, say so
                log.exception("reading the engine process's events failed; ending it")
                proc.kill()
            finally:
                conn.close()
        self._connected.set()
        self._finish(proc)

    def _accept(self, proc: subprocess.Popen, listener: socket.socket, key: bytes) -> Connection | None:
        deadline = time.monotonic() + START_TIMEOUT_S
        listener.settimeout(0.2)
        while time.monotonic() < deadline and not self._stopping:
            if proc.poll() is not None:
                return None
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            sock.setblocking(True)
            conn = Connection(sock.detach())
            try:
                deliver_challenge(conn, key)
                answer_challenge(conn, key)
            except (OSError, EOFError, AuthenticationError):  # not our child: wait for ours
                conn.close()
                continue
            return conn
        proc.kill()  # it never connected: end it rather than leave it behind
        return None

    def _finish(self, proc: subprocess.Popen) -> None:
        """The child has gone (or never came): wait for it and say how it ended."""
        try:
            code = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        if self._stopping and not self._stopped_by_us:
            self._on_event("exited", ())
            return
        death = EngineDeath(code, self.during, self._tail(), self.log_path, self._stopped_by_us)
        self._on_event("died", (death,))

    def _tail(self) -> tuple[str, ...]:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_start)
                text = f.read()[-256 * 1024 :].decode("utf-8", errors="replace")
        except OSError:
            return ()
        return tuple(text.splitlines()[-TAIL_LINES:])

    def send(self, kind: str, *args: object) -> bool:
        """Hand a request to the child (queued until it has connected: this never waits for it); False
        if it is gone."""
        if self._proc is None or self._stopping:
            return False
        with self._send_lock:
            if self._conn is None:
                if self._connected.is_set():  # it never connected
                    return False
                self._queued.append((kind, args))
                return True
            try:
                self._conn.send((kind, args))
            except (OSError, ValueError):  # the child is gone: the reader reports how
                return False
        return True

    def serve(self, options: object) -> bool:
        """Serve the loaded model over HTTP (``serving`` or ``serve_failed`` answers)."""
        return self.send("serve", options)

    def stop_serving(self) -> bool:
        return self.send("stop_serving")

    def project(self, on: bool) -> bool:
        """Have the served requests reported as they run (``incoming``, then a reply's events), or not."""
        return self.send("project", on)

    def cancel_incoming(self, request_id: int) -> bool:
        """Stop the served request reported as ``request_id`` (its client gets what was made)."""
        return self.send("cancel_incoming", request_id)

    def pace(self, interval_s: float) -> bool:
        """Have the child send a fast reply's steps every ``interval_s`` seconds, together (the window's
        frame interval: it draws no more often). Answered at once, even mid-reply."""
        return self.send("pace", interval_s)

    def close(self) -> bool:
        """Stop the process (see :meth:`stop`)."""
        return self.stop()

    def shutdown(self) -> None:
        """Ask the child to close its model and exit, without waiting (it sends what it has first)."""
        self.request_stop()

    def cancel(self) -> None:
        """Ask the running generation to stop within one token (the child reads this at once)."""
        if self._conn is not None:
            self.send("cancel")

    def kill(self, *, stopped_by_us: bool = True) -> None:
        """End the child now. With ``stopped_by_us`` its death reads "did not answer", not a crash."""
        if self._proc is not None and self._proc.poll() is None:
            self._stopped_by_us = stopped_by_us
            self._proc.kill()

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask the child to close its model and exit; end it if it has not within ``timeout`` seconds.
        Returns whether it exited by itself. Events it sent meanwhile have been delivered."""
        self.request_stop()
        return self.finish_stop(time.monotonic() + timeout)

    def request_stop(self) -> None:
        """The first half of :meth:`stop`, to stop several processes in the time of one."""
        if self._proc is not None and self._proc.poll() is None and not self._stopping:
            self.send("cancel")
            self.send("shutdown")
        self._stopping = True

    def finish_stop(self, deadline: float) -> bool:
        """Wait until ``deadline`` (a ``time.monotonic()``) for the child to exit, then end it."""
        proc = self._proc
        if proc is None:
            return True
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            clean = True
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            clean = False
        if self._reader is not None:
            self._reader.join(timeout=2.0)
        return clean


def _rotate(path: Path) -> None:
    """Keep the log under ``LOG_MAX_BYTES``: a full one becomes ``NAME.1`` (replacing an older one)."""
    try:
        if path.stat().st_size > LOG_MAX_BYTES:
            path.replace(path.with_name(path.name + ".1"))
    except FileNotFoundError:
        pass  # no log yet


def _listen() -> tuple[socket.socket, str, Callable[[], None]]:
    """A listening socket private to this user, its address for the child, and how to remove it."""
    if hasattr(socket, "AF_UNIX"):
        folder = tempfile.mkdtemp(prefix="tokendice-engine-")  # mode 0700
        path = os.path.join(folder, "socket")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(1)

        def cleanup() -> None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            with contextlib.suppress(FileNotFoundError):
                os.rmdir(folder)

        return listener, f"unix:{path}", cleanup
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    host, port = listener.getsockname()
    return listener, f"tcp:{host}:{port}", lambda: None
