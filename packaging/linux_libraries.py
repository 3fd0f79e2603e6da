"""Linux system libraries and the bundle: which ones the desktop provides, which one Qt loads at run
time (so PyInstaller, which follows linked libraries only, does not see it), and the Debian package of a
library that is missing. Used by ``tokendice.spec`` and ``build_bundle.py``."""

from __future__ import annotations

import ctypes
import re
from pathlib import Path

# Libraries PyInstaller never bundles on Linux because the desktop's graphics stack provides them (a
# Wayland session has libwayland-*, every X11 desktop libxcb and libGL); their absence here says nothing.
DESKTOP_PROVIDED = re.compile(
    r"lib(wayland-(client|cursor|egl|server)|xcb|xcb-dri.*|E?(Open)?GLX?(ESv1_CM|ESv2)?(dispatch)?|drm)\.so"
)
# Qt 6.5+'s X11 plugin loads it at run time ("xcb-cursor0 or libxcb-cursor0 is needed to load the Qt xcb
# platform plugin") and many desktops lack it.
XCB_CURSOR = "libxcb-cursor.so.0"


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships a library, by Debian's naming rule: ``libxcb-cursor.so.0`` is
    in ``libxcb-cursor0``, ``libxkbcommon-x11.so.0`` in ``libxkbcommon-x11-0`` (a hyphen when the name
    ends in a digit; lower case)."""
    name, _so, version = soname.partition(".so")
    version = version.lstrip(".").split(".")[0]
    return f"{name}{'-' if name[-1:].isdigit() and version else ''}{version}".lower()


def system_library(soname: str) -> Path | None:
    """Where this machine's dynamic loader finds ``soname`` (for this process's architecture), under
    that name; None when it has none."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return None
    stem = soname.split(".so")[0] + ".so"
    for line in Path("/proc/self/maps").read_text().splitlines():  # the files mapped: its path among them
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and Path(fields[5]).name.startswith(stem):
            found = Path(fields[5]).parent / soname
            if found.is_file():
                return found
    return None
