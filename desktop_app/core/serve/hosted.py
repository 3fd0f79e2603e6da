"""The window's model served to other programs, from inside its engine process: the same API as
``tokendice serve`` on the engine the window uses, uvicorn on a thread of its own. The window's requests
and the served ones take turns at the engine, first come first served (``Turns``); the queue's state goes
to the window as ``serve_queue`` events, so it can show what runs and how many wait. With the projector on
(:meth:`Hosted.project`), the served requests are reported to the window as they run, so it can draw them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import uvicorn

from desktop_app.core.engine.engine import Engine
from desktop_app.core.engine.turns import Turns
from desktop_app.core.serve.app import serve_config
from desktop_app.core.serve.options import ServeOptions
from desktop_app.core.serve.worker import ServeWorker

log = logging.getLogger(__name__)

#: How long the server may take to listen before starting it counts as failed.
START_TIMEOUT_S = 10.0


class Hosted:
    """A running server of the engine's model (see the module's docstring); :meth:`stop` ends it."""

    def __init__(
        self, engine: Engine, turns: Turns, emit: Callable[..., None], options: ServeOptions
    ) -> None:
        options.check()
        self._emit = emit
        self.worker = ServeWorker(
            engine,
            max_waiting=options.max_waiting,
            turns=turns,
            on_change=lambda: emit("serve_queue", self.worker.status()),
        )
        config = serve_config(engine, self.worker, options)
        self._server = uvicorn.Server(config)
        self.address = options.address
        self._thread = threading.Thread(target=self._run, name="tokendice-serve-http", daemon=True)
        self._failed: BaseException | None = None
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            self.stop()
            raise OSError(f"could not listen on {options.host}:{options.port} (is it in use?)")

    def _run(self) -> None:
        try:
            self._server.run()  # on this thread uvicorn leaves the process's signals alone
        except BaseException as exc:  # a bind error ends uvicorn with SystemExit: the caller says so
            self._failed = exc
            log.warning("the served API stopped: %r", exc)

    def project(self, on: bool) -> None:
        """Show the served requests in the window as they run (from the next one to start), or no more."""
        self.worker.projector = self._emit if on else None

    def cancel_shown(self, request_id: int) -> bool:
        """Stop the shown request ``request_id`` (the window's Stop): its client gets what was made."""
        return self.worker.cancel_shown(request_id)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(5.0)
        self.worker.close()


def start_hosted(engine: Engine, turns: Turns, emit: Callable[..., None], options: object) -> Hosted:
    """``EngineService``'s ``serve_with``: serve ``engine`` as ``options`` (a :class:`ServeOptions`) say."""
    if not isinstance(options, ServeOptions):
        raise ValueError("serving needs its options (an address and a model name)")
    return Hosted(engine, turns, emit, options)
