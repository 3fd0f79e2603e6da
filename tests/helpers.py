"""Small helpers shared by tests that run the command line in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence


def run_cli(
    args: Sequence[str], *, timeout: float = 300, input: str | None = None
) -> subprocess.CompletedProcess:
    """``python -m desktop_app ARGS`` in the test's environment (its TOKENDICE_HOME included)."""
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
        input=input,
    )
