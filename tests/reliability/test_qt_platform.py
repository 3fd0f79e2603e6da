"""A Linux desktop without libxcb-cursor0: one line that says what to install, not Qt's abort.

This machine has the library, so its absence is simulated: in-process for the rules, and in a real
``tokendice gui`` process whose library check is patched before the command runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.qt_platform import XCB_LIBRARIES, uses_xcb, xcb_problem

CURSOR = "libxcb-cursor.so.0"


def _without_cursor(soname: str) -> bool:
    return soname != CURSOR


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({"DISPLAY": ":0"}, "linux", True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb:nograb"}, "linux", True),
        ({}, "linux", False),  # no X display: Qt fails for another reason, and says so itself
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland;xcb"}, "linux", False),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),  # Qt takes wayland
        ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"}, "linux", False),
        ({"DISPLAY": ":0"}, "darwin", False),
    ],
)
def test_the_check_runs_only_where_qt_would_use_xcb(environ: dict, platform: str, expected: bool):
    assert uses_xcb(environ, platform) is expected


def test_a_missing_cursor_library_is_one_sentence_naming_the_package():
    problem = xcb_problem({"DISPLAY": ":0"}, platform="linux", frozen=False, loads=_without_cursor)
    assert problem is not None and "\n" not in problem
    assert CURSOR in problem and problem.endswith("sudo apt install libxcb-cursor0")


def test_every_missing_library_is_named_in_the_one_command():
    problem = xcb_problem({"DISPLAY": ":0"}, platform="linux", frozen=False, loads=lambda soname: False)
    assert problem.endswith("sudo apt install " + " ".join(package for _, package in XCB_LIBRARIES))


def test_nothing_is_said_when_the_libraries_load_or_the_bundle_carries_them():
    assert xcb_problem({"DISPLAY": ":0"}, platform="linux", frozen=False, loads=lambda soname: True) is None
    assert xcb_problem({"DISPLAY": ":0"}, platform="linux", frozen=True, loads=lambda soname: False) is None


PROGRAM = f"""
import sys
import desktop_app.qt_platform as qt_platform
qt_platform.can_load = lambda soname: soname != {CURSOR!r}  # as on a fresh Ubuntu desktop
from desktop_app.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("args", [[], ["gui"], ["gui", "--smoke-test"]])
def test_tokendice_gui_without_the_library_exits_with_the_line(args: list[str], tokendice_home: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=":97", XDG_SESSION_TYPE="x11")  # no X server there: Qt would abort, were it asked
    proc = subprocess.run(
        [sys.executable, "-c", PROGRAM, *args], capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tokendice: error: the desktop app cannot start"), lines
    assert lines[0].endswith("sudo apt install libxcb-cursor0") and "could not load" not in proc.stderr
    assert not (tokendice_home / "data").exists()  # stopped before anything was opened
