"""The command line's errors, in one place that every command module imports (and that imports none of
them, so there is no cycle).

Exit status: 0 done, 1 an error (:class:`CliError` and the core's own errors: one line on stderr),
2 a wrong command line (:class:`Parser`), 3 the engine's process crashed (:mod:`desktop_app.cli.guard`),
130 after Ctrl+C.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 1."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors say where the help is and exit with :data:`EXIT_USAGE`."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")
