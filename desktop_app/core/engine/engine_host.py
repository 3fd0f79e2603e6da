"""The engine process: ``python -m desktop_app.core.engine.engine_host ADDRESS``.

Connects back to the window (see :mod:`engine_process`), then serves its requests with an
:class:`~desktop_app.core.engine.backend.EngineService` on the main thread, one at a time. A reader thread
takes requests off the connection, so a cancel is honoured within one token even while a reply is
being generated. A fast reply's steps go out a few at a time, at the window's frame rate (:class:`Outbox`).
The process ends when asked to, or when the window has gone.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import socket
import sys
import threading
import time
from dataclasses import replace
from multiprocessing.connection import Connection, answer_challenge, deliver_challenge
from typing import TYPE_CHECKING, cast

from desktop_app.core.engine.engine_process import KEY_ENV

if TYPE_CHECKING:
    from desktop_app.core.engine.backend import ServeWith
    from desktop_app.core.engine.messages import FinishedEvent

log = logging.getLogger("tokendice.engine")

#: The longest a step waits to be sent with the next ones: the window's frame interval, which it tells
#: the engine (a "pace" message); ~30 frames a second until then.
STEP_INTERVAL_S = 1 / 30
MAX_STEP_INTERVAL_S = 0.25
#: How many intervals the helper thread lets held steps wait for the generating thread to send them.
LATE = 1.5
#: The events sent together (see :class:`Outbox`).
BATCHED = frozenset({"step", "compare_step"})
#: The requests a window may send (each an EngineService method), besides "shutdown", and "cancel",
#: "pace", "project" and "cancel_incoming", which the reader answers at once.
REQUESTS = frozenset(
    {"probe", "load", "unload", "generate", "render", "tokenize", "compare", "redistribute",
     "set_template_override", "stats", "serve", "stop_serving"}
)  # fmt: skip


def connect(address: str, key: bytes) -> Connection:
    kind, _, rest = address.partition(":")
    if kind == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(rest)
    elif kind == "tcp":
        host, _, port = rest.rpartition(":")
        sock = socket.create_connection((host, int(port)))
    else:
        raise ValueError(f"not an engine address: {address!r}")
    conn = Connection(sock.detach())
    answer_challenge(conn, key)
    deliver_challenge(conn, key)
    return conn


class Outbox:
    """What the engine sends to the window, in order. Steps (of a reply or a comparison) go out at most
    once every ``interval`` seconds, those made meanwhile together in one ``"batch"`` message: the window
    draws a frame at most every 33 ms (and tells the engine its pace, :meth:`pace`), and a message per
    token would wake it (and take the CPU from llama.cpp's threads) several times a frame on a fast
    model. The first step after a pause goes at once; the next ones go with the first step made once
    ``interval`` has passed, and a helper thread sends what a slow next token leaves waiting longer
    (after ``LATE`` intervals). Any other event first sends the steps before it.

    A step's Distribution is computed whole when its message is made (pickled), then its reference to
    the step's logits is dropped: the steps of a batch are computed together between two tokens, where
    one pass of the code and data serves them all (a step computed alone right after llama.cpp's decode,
    every cache cold, costs about twice as much), and on the generating thread: the helper computing
    them beside llama.cpp's threads took as much from those (on two cores) as it saved.
    """

    def __init__(self, conn: Connection, interval: float = STEP_INTERVAL_S) -> None:
        self._conn = conn
        self.interval = interval
        self._lock = threading.Condition()
        self._held: list[tuple[str, tuple]] = []
        self._last = 0.0  # when steps were last sent (time.monotonic)
        self._closed = False
        threading.Thread(target=self._send_late, name="steps", daemon=True).start()

    def emit(self, kind: str, *args: object) -> None:
        if kind == "finished":  # the window has every step already: send the summary without them
            event = cast("FinishedEvent", args[0])  # what EngineService emits "finished" with
            args = (replace(event, result=replace(event.result, steps=[])),)
        with self._lock:
            if kind in BATCHED:
                self._held.append((kind, args))
                if time.monotonic() - self._last < self.interval:
                    if len(self._held) == 1:  # the helper's clock starts (it waits on _last meanwhile)
                        self._lock.notify()
                    return
                self._flush()
                return
            self._flush()
            self._conn.send((kind, args))

    def pace(self, interval: object) -> None:
        """Send steps every ``interval`` seconds (the window's frame interval), within 5 ms to 0.25 s."""
        if isinstance(interval, (int, float)) and interval == interval:  # not NaN
            with self._lock:
                self.interval = min(MAX_STEP_INTERVAL_S, max(0.005, float(interval)))
                self._lock.notify()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify()

    def _flush(self) -> None:
        """Send the held steps (the lock is held)."""
        held = self._held
        if not held:
            return
        self._held = []
        self._last = time.monotonic()
        self._conn.send(held[0] if len(held) == 1 else ("batch", (tuple(held),)))
        for _kind, args in held:  # sent whole: the logits they read are not needed anymore
            d = args[0].step.distribution if args and hasattr(args[0], "step") else None
            if d is not None:
                d.release()

    def _send_late(self) -> None:
        with self._lock:
            while not self._closed:
                if not self._held:
                    self._lock.wait()
                    continue
                due = self._last + LATE * self.interval - time.monotonic()
                if due > 0:
                    self._lock.wait(due)
                    continue
                try:
                    self._flush()
                except (OSError, ValueError):  # the window has gone: the main loop ends the process
                    return


def serve(conn: Connection, serve_with: ServeWith | None = None) -> None:
    from desktop_app.core.engine.backend import EngineService

    outbox = Outbox(conn)
    emit = outbox.emit
    # Steps are computed whole when sent, a batch at a time (see Outbox), not one by one as they come.
    service = EngineService(
        emit, vocab=True, full_steps=False, pid=os.getpid(), log_echo=sys.stderr, serve_with=serve_with
    )
    inbox: queue.Queue[tuple[str, tuple]] = queue.Queue()

    def read() -> None:
        try:
            while True:
                kind, args = conn.recv()
                if kind == "cancel":
                    service.cancel()
                    continue
                if kind == "pace":  # how often the window draws: steps are sent as often
                    outbox.pace(*args)
                    continue
                if kind in ("project", "cancel_incoming"):  # served requests: at once, even mid-reply
                    getattr(service, kind)(*args)
                    continue
                inbox.put((kind, args))
                if kind == "shutdown":
                    return
        except (EOFError, OSError):  # the window has gone: close and exit
            inbox.put(("shutdown", ()))

    threading.Thread(target=read, name="requests", daemon=True).start()
    while True:
        kind, args = inbox.get()
        if kind == "shutdown":
            break
        if kind not in REQUESTS:
            log.error("unknown request %r ignored", kind)
            continue
        try:
            getattr(service, kind)(*args)
        except (EOFError, OSError):  # the window went away mid-request
            break
        except Exception:  # a bug: logged, and the window is not left waiting on a dead engine
            log.exception("the request %r failed", kind)
            emit("busy", False)
    try:
        service.close()
    finally:
        outbox.close()


def main(argv: list[str] | None = None, serve_with: ServeWith | None = None) -> int:
    """The engine process; ``serve_with``: how it serves its model to other programs, if it can."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or KEY_ENV not in os.environ:
        print("this is TokenDice's engine process: the app starts it", file=sys.stderr)
        return 2
    # Ctrl+C in the terminal reaches the whole process group: the window decides what happens to its
    # engine (and a window that is gone closes the connection, which ends this process).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    key = bytes.fromhex(os.environ.pop(KEY_ENV))
    conn = connect(argv[0], key)
    try:
        serve(conn, serve_with)
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
