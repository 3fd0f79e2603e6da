"""The engine process: ``python -m desktop_app.core.engine.engine_host ADDRESS``.

Connects back to the window (see :mod:`engine_process`), then serves its requests with an
:class:`~desktop_app.core.engine.backend.EngineService` on the main thread, one at a time. A reader thread
takes requests off the connection, so a cancel is honoured within one token even while a reply is
being generated. The process ends when asked to, or when the window has gone.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import socket
import sys
import threading
from dataclasses import replace
from multiprocessing.connection import Connection, answer_challenge, deliver_challenge

from desktop_app.core.engine.engine_process import KEY_ENV

log = logging.getLogger("tokendice.engine")

#: The requests a window may send (each an EngineService method), besides "cancel" and "shutdown".
REQUESTS = frozenset(
    {"probe", "load", "unload", "generate", "render", "tokenize", "compare", "redistribute",
     "set_template_override", "stats"}
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


def serve(conn: Connection) -> None:
    from desktop_app.core.engine.backend import EngineService

    send_lock = threading.Lock()

    def emit(kind: str, *args: object) -> None:
        if kind == "finished":  # the window has every step already: send the summary without them
            event = args[0]
            args = (replace(event, result=replace(event.result, steps=[])),)
        with send_lock:
            conn.send((kind, args))

    service = EngineService(emit, vocab=True, full_steps=True, pid=os.getpid(), log_echo=sys.stderr)
    inbox: queue.Queue[tuple[str, tuple]] = queue.Queue()

    def read() -> None:
        try:
            while True:
                kind, args = conn.recv()
                if kind == "cancel":
                    service.cancel()
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
    service.close()


def main(argv: list[str] | None = None) -> int:
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
        serve(conn)
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
