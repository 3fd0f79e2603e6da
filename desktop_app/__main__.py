"""The entry points beside ``tokendice`` itself: ``python -m desktop_app`` (the same as ``tokendice``) and
``tokendice-gui`` (``tokendice gui``). They live here, over the command line, because the app module is
below it: the command line's ``gui`` runs the app."""

import sys

from desktop_app.cli import main


def gui() -> None:
    """The ``tokendice-gui`` launcher: ``tokendice gui`` with the same arguments."""
    sys.exit(main(["gui", *sys.argv[1:]]))


if __name__ == "__main__":
    sys.exit(main())
