"""The window's engine process, able to serve its model to other programs:
``python -m desktop_app.core.serve.engine_main ADDRESS`` (see :mod:`desktop_app.core.engine.engine_host`,
which does the rest; this module only adds serving, a layer above the engine)."""

from __future__ import annotations

import sys

from desktop_app.core.engine import engine_host
from desktop_app.core.engine.engine import Engine
from desktop_app.core.engine.turns import Turns


def start_serving(engine: Engine, turns: Turns, emit, options: object):
    """Serve the engine's model (imported when asked: the HTTP server is not needed to start)."""
    from desktop_app.core.serve.hosted import start_hosted

    return start_hosted(engine, turns, emit, options)


def main(argv: list[str] | None = None) -> int:
    return engine_host.main(argv, serve_with=start_serving)


if __name__ == "__main__":
    sys.exit(main())
