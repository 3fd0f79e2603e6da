"""The entry point frozen into both executables of the bundle.

``tokendice`` is the command line (with no command it opens the window); ``tokendice-gui`` (a windowed
executable on Windows and the one inside TokenDice.app on macOS) always opens the window. They are one
script: the executable's own name says which it is.
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path


def main() -> int:
    multiprocessing.freeze_support()
    from desktop_app.cli import main as cli_main

    if Path(sys.executable).stem.lower().endswith("-gui"):
        # macOS passes -psn_... to apps started from the Finder on old systems; it is no option of ours.
        args = [a for a in sys.argv[1:] if not a.startswith("-psn_")]
        return cli_main(["gui", *args])
    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
