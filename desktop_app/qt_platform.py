"""Before the window: will Qt's xcb platform plugin load? One line that says what to install, if not.

PySide6 ≥ 6.5 ships Qt's xcb plugin (X11, and XWayland) linked against system libraries that fresh Debian
and Ubuntu desktops often lack, ``libxcb-cursor0`` above all. Without them Qt prints "could not load the Qt
platform plugin "xcb"" and aborts the process. The desktop bundle carries the libraries; a pip
installation uses the system's, so :func:`xcb_problem` tries to load each one first (``dlopen`` through
ctypes, which searches where the plugin's loader searches) and names the packages to install.

Only when Qt would use xcb: on Linux, outside a frozen bundle, with ``QT_QPA_PLATFORM`` unset (and no
Wayland session, where Qt takes its wayland plugin) or naming xcb first, and with a ``DISPLAY``.

And :func:`paint_on_one_thread`: Qt's painting kept off the cores the model's threads need.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping, MutableMapping

# The libraries of Qt's xcb plugin (libqxcb.so and libQt6XcbQpa.so.6) that a desktop may lack, with the
# Debian and Ubuntu packages that hold them; the one most often missing first.
XCB_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxcb-util.so.1", "libxcb-util1"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libxcb-xkb.so.1", "libxcb-xkb1"),
    ("libxcb-shape.so.0", "libxcb-shape0"),
    ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-sync.so.1", "libxcb-sync1"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
)


def can_load(soname: str) -> bool:
    """Whether the dynamic loader finds and loads SONAME."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt would start with its xcb platform plugin in this environment."""
    if not platform.startswith("linux") or not environ.get("DISPLAY"):
        return False
    requested = environ.get("QT_QPA_PLATFORM", "").strip()
    if requested:
        first = requested.split(";")[0].split(":")[0].strip()
        return first == "xcb"
    wayland = environ.get("WAYLAND_DISPLAY") or environ.get("XDG_SESSION_TYPE", "").lower() == "wayland"
    return not wayland


def xcb_problem(
    environ: Mapping[str, str] | None = None,
    *,
    platform: str = sys.platform,
    frozen: bool | None = None,
    loads: Callable[[str], bool] | None = None,
) -> str | None:
    """A sentence naming the missing libraries and the command that installs them, or None.

    ``loads`` tells whether a library loads (:func:`can_load`, looked up when called)."""
    env = os.environ if environ is None else environ
    loads = loads or can_load
    frozen = getattr(sys, "frozen", False) if frozen is None else frozen
    if frozen or not uses_xcb(env, platform):
        return None
    missing = [(soname, package) for soname, package in XCB_LIBRARIES if not loads(soname)]
    if not missing:
        return None
    names = ", ".join(soname for soname, _ in missing)
    packages = " ".join(package for _, package in missing)
    return (
        f"the desktop app cannot start: Qt's X11 (xcb) platform plugin needs {names}, which this system "
        f"lacks; on Debian and Ubuntu install it with: sudo apt install {packages}"
    )


def paint_on_one_thread(environ: MutableMapping[str, str] | None = None) -> None:
    """Qt paints on the window's thread alone, unless the user's environment says otherwise.

    Qt splits a large fill or gradient across a thread pool of its own and waits for those threads. While
    a model generates, llama.cpp's threads hold every core: the pool's threads wait for one, and each
    takes it from llama.cpp (whose threads then wait for each other). A scroll bar's repaint took
    0.23-0.47 ms (up to 4.9 ms) with the pool and 0.07-0.14 ms (up to 0.24) on one thread, both cores
    busy or not. Read when Qt first paints: call it before the window is made."""
    env = os.environ if environ is None else environ
    env.setdefault("QT_NO_GUI_THREADPOOL", "1")
