"""Output piped into a reader that stops early (``| head``): the command exits quietly, status 0.

A pipe whose read end is closed before the command writes is the reader that went away at once: the first
write fails with EPIPE every time, so these tests do not depend on timing. One test runs a real
``| head -1`` through the shell as well.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest


def _into_closed_pipe(args: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first line
    try:
        return subprocess.run(
            [sys.executable, "-m", "desktop_app", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=timeout,
            env=dict(os.environ),
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [
        ["models", "list"],
        ["models", "list", "--json"],
        ["info"],
        ["--help"],
        ["generate", "--max-tokens", "200", "--ban-eos", "--seed", "3", "Once upon a time"],
        ["tokens", "--json", "A sentence of a few tokens."],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_reader_that_went_away_is_no_error(args: list[str]):
    proc = _into_closed_pipe(args)
    assert (proc.returncode, proc.stderr) == (0, "")


@pytest.mark.skipif(not (shutil.which("bash") and shutil.which("head")), reason="needs bash and head")
@pytest.mark.parametrize(
    "command", ["models list | head -1", "generate --max-tokens 60 --ban-eos --seed 1 Once | head -c 10"]
)
def test_piped_into_head_exits_quietly(command: str):
    tokendice = f"{sys.executable} -m desktop_app"
    proc = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {tokendice} {command}"],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout
