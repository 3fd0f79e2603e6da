"""The command line in a subprocess with real bytes: arguments, standard input and output as bytes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        """Standard output as text (it must be UTF-8: what could not be decoded is shown as U+FFFD)."""
        return self.stdout.decode("utf-8")

    @property
    def err_lines(self) -> list[str]:
        return self.stderr.decode("utf-8").splitlines()


def run(
    args: Sequence[str | bytes],
    *,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> Ran:
    """``python -m desktop_app ARGS`` with this test's environment (TOKENDICE_HOME included), plus ENV.

    Standard streams are strict UTF-8 by default, as in a desktop's UTF-8 locale (the C.UTF-8 locale of
    a container would read them with ``surrogateescape``).
    """
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict", **(env or {})}
    argv = [os.fsencode(sys.executable), b"-m", b"desktop_app", *(os.fsencode(a) for a in args)]
    proc = subprocess.run(argv, capture_output=True, timeout=timeout, env=full_env, input=input)
    return Ran(proc.returncode, proc.stdout, proc.stderr)


def assert_clean(ran: Ran) -> None:
    """No traceback, no "surrogates not allowed", and standard output and error are valid UTF-8."""
    err = ran.stderr.decode("utf-8")
    ran.stdout.decode("utf-8")
    assert "Traceback" not in err and "surrogates" not in err and "Exception ignored" not in err, err
