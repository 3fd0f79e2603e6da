"""The entry point frozen into both executables of the bundle.

``tokendice`` is the command line (with no command it opens the window); ``tokendice-gui`` (a windowed
executable on Windows and the one inside TokenDice.app on macOS) always opens the window. They are one
script: the executable's own name says which it is. Either one, started by the app itself with
``--tokendice-vocabulary-probe PATH`` (``desktop_app.core.models.loadability.CHILD_ARG``), is the short-lived
child that asks llama.cpp whether it can read a model's vocabulary; started with ``--engine-host ADDRESS``
(``desktop_app.core.engine.engine_process.HOST_FLAG``), it is the window's engine process.
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path


def main() -> int:
    multiprocessing.freeze_support()
    from desktop_app.core.models.loadability import CHILD_ARG

    if sys.argv[1:2] == [CHILD_ARG]:  # before the -gui check: this child never opens a window
        from desktop_app.core.engine import probe

        return probe.main(sys.argv[2:])
    from desktop_app.core.engine.engine_process import HOST_FLAG

    if sys.argv[1:2] == [HOST_FLAG]:  # the window's engine process: no window either
        from desktop_app.core.serve import engine_main

        return engine_main.main(sys.argv[2:])
    from desktop_app.cli import main as cli_main

    if Path(sys.executable).stem.lower().endswith("-gui"):
        # macOS passes -psn_... to apps started from the Finder on old systems; it is no option of ours.
        args = [a for a in sys.argv[1:] if not a.startswith("-psn_")]
        return cli_main(["gui", *args])
    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
