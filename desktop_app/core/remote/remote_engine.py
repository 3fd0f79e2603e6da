"""A model on a server, where the window's engine process would stand.

:class:`RemoteEngine` has :class:`~desktop_app.core.engine.engine_process.EngineProcess`'s surface (the
Backend requests, ``cancel``, ``pace``, ``shutdown``, ``kill``, the two halves of a stop, ``running``
and ``alive``) and answers with a :class:`~desktop_app.core.remote.service.RemoteService` on a thread of
its own, one request at a time, its events handed to the same callback. The window's engine client
drives a server exactly as it drives a local model: a reply, step mode, a slider re-run, a stop.

Nothing native runs here (the requests are HTTP), so it never crashes the way a process can; a server
that stops answering ends a reply with the stop reason ``server_failed`` (every streamed token kept),
and a request that hangs past a Stop's grace is abandoned (:meth:`RemoteEngine.kill`): its connection is
closed under it and the engine client is told as if a process had been ended.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from desktop_app.core.engine.engine_process import EngineDeath, Requests
from desktop_app.core.remote.service import RemoteService

log = logging.getLogger(__name__)

OnEvent = Callable[[str, tuple], None]
_STOP = "shutdown"


class RemoteEngine(Requests):
    """A :class:`RemoteService` on its own thread, driven like an engine process. Events reach
    ``on_event(kind, args)`` on that thread; ``exited`` comes last after a stop."""

    pid = None  # no process of its own: the model runs on the server

    def __init__(self, on_event: OnEvent, *, log_path: Path) -> None:
        self._on_event = on_event
        self.log_path = log_path
        self._requests: queue.SimpleQueue[tuple[str, tuple]] = queue.SimpleQueue()
        self._service = RemoteService(self._emit)
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._abandoned = False
        self.during = ""  # what it is doing, for the sentence when it has to be abandoned

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._abandoned

    @property
    def running(self) -> bool:
        return self.alive and not self._stopping

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="remote-engine", daemon=True)
        self._thread.start()

    def _emit(self, kind: str, *args: object) -> None:
        if not self._abandoned:  # an abandoned request's late answers are nobody's
            self._on_event(kind, args)

    def _run(self) -> None:
        while True:
            kind, args = self._requests.get()
            if kind == _STOP:
                break
            try:
                getattr(self._service, kind)(*args)
            except Exception as exc:  # a request must always be answered, whatever went wrong
                log.exception("a request to the server's model failed")
                self._answer_failure(kind, args, f"the server's model could not answer: {exc}")
        try:
            self._service.close()
        except Exception:
            log.exception("closing the server connection failed")
        self._emit("exited")

    def _answer_failure(self, kind: str, args: tuple, sentence: str) -> None:
        if kind == "load":
            self._emit("load_failed", sentence)
        elif kind in ("generate", "compare") and args:
            self._emit("failed", args[0].request_id, sentence)
        self._emit("busy", False)

    def send(self, kind: str, *args: object) -> bool:
        """Queue a request for the thread; False once it is stopping or gone."""
        if self._thread is None or not self.running:
            return False
        self._requests.put((kind, args))
        return True

    def pace(self, interval_s: float) -> bool:
        """Steps go out as they come: one step is one request, far slower than the window draws."""
        return self.running

    def cancel(self) -> None:
        """Stop the running reply within one token (safe from any thread)."""
        self._service.cancel()

    # --- stopping ------------------------------------------------------------------------------------
    def close(self) -> bool:
        return self.stop()

    def shutdown(self) -> None:
        self.request_stop()

    def request_stop(self) -> None:
        if self._thread is not None and not self._stopping:
            self._service.cancel()
            self._requests.put((_STOP, ()))
        self._stopping = True

    def finish_stop(self, deadline: float) -> bool:
        """Wait until ``deadline`` (a ``time.monotonic()``) for the thread to finish; abandon it after."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            self._abandon()
            return False
        return True

    def stop(self, timeout: float = 2.0) -> bool:
        self.request_stop()
        return self.finish_stop(time.monotonic() + timeout)

    def kill(self, *, stopped_by_us: bool = True) -> None:
        """Give up on a request the server does not answer: its connection is closed under it, its late
        answers are dropped, and ``died`` says so (as an ended engine process would)."""
        if not self.alive:
            return
        during = self.during
        self._abandon()
        self._on_event("died", (EngineDeath(None, during, (), self.log_path, stopped_by_us),))

    def _abandon(self) -> None:
        self._abandoned = self._stopping = True
        self._service.cancel()
        self._requests.put((_STOP, ()))
        session = self._service.session
        if session is not None:
            try:
                session.conn.close()  # the waiting request fails at once; its thread then ends
            except Exception:
                log.exception("closing an unanswered connection failed")
