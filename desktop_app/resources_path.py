"""Where TokenDice's read-only resources are: icons, the desktop entry, the interface translations.

One lookup for every way the app runs:

- a frozen PyInstaller bundle: ``sys._MEIPASS/desktop_app/resources`` (the spec puts them there);
- an installed wheel: ``site-packages/desktop_app/resources`` (pyproject maps ``resources/`` to the
  ``desktop_app.resources`` package);
- a source checkout or an editable install: ``resources/`` beside the ``desktop_app`` folder.

No Qt here: the UI turns these paths into ``QIcon`` and friends.
"""

from __future__ import annotations

import sys
from pathlib import Path

import desktop_app

# A file every copy of the resources has: it tells the right folder from some other "resources".
_MARKER = Path("icons") / "tokendice.svg"

ICON_NAME = "tokendice"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
DESKTOP_FILE = "tokendice.desktop"
TRANSLATIONS = "translations"
TRANSLATION_NAME = "tokendice"


class ResourcesNotFound(FileNotFoundError):
    """The resources folder is missing: a broken installation."""


def _candidates() -> list[Path]:
    found: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        found.append(Path(bundle) / "desktop_app" / "resources")
    package = Path(desktop_app.__file__).resolve().parent
    found.append(package / "resources")  # wheel (and a bundle, where __file__ lies inside _MEIPASS)
    found.append(package.parent / "resources")  # source checkout, editable install
    return found


def resources_dir() -> Path:
    """The folder that holds TokenDice's resources (raises ResourcesNotFound if there is none)."""
    candidates = _candidates()
    for folder in candidates:
        if (folder / _MARKER).is_file():
            return folder
    looked = ", ".join(str(c) for c in candidates)
    raise ResourcesNotFound(f"TokenDice's resources are missing (looked in {looked}); reinstall TokenDice")


def resource_path(*parts: str) -> Path:
    """A file or folder inside the resources, e.g. ``resource_path("icons", "tokendice.svg")``.

    The path is returned whether or not it exists; check ``.exists()`` for optional resources.
    """
    return resources_dir().joinpath(*parts)


def icon_svg() -> Path:
    """The scalable application icon."""
    return resource_path("icons", f"{ICON_NAME}.svg")


def icon_png(size: int) -> Path:
    """The application icon rendered at ``size`` × ``size`` pixels (one of ICON_SIZES)."""
    if size not in ICON_SIZES:
        raise ValueError(f"no {size}px icon; the sizes are {', '.join(map(str, ICON_SIZES))}")
    return resource_path("icons", f"{ICON_NAME}-{size}.png")


def app_icon_files() -> list[Path]:
    """Every rendering of the application icon, smallest first, then the SVG: add each to one
    ``QIcon`` (``icon.addFile(str(path))``) so Qt picks the sharpest size for a title bar or a dock."""
    files = [icon_png(size) for size in ICON_SIZES]
    return [f for f in files if f.is_file()] + [icon_svg()]


def desktop_file_template() -> Path:
    """The freedesktop ``.desktop`` entry that ``tokendice install-desktop-entry`` fills in."""
    return resource_path(DESKTOP_FILE)


def translations_dir() -> Path:
    """The folder of the interface translations: ``tokendice_<language>.ts`` (the source a translator
    edits) and ``tokendice_<language>.qm`` (compiled by ``lrelease``, what the app loads)."""
    return resource_path(TRANSLATIONS)


def translation_file(language: str, suffix: str = ".qm") -> Path:
    """The compiled translation of the interface into ``language`` (``"zh_TW"``), or its ``.ts`` source
    with ``suffix=".ts"``. Returned whether or not it exists (English needs none)."""
    return translations_dir() / f"{TRANSLATION_NAME}_{language}{suffix}"
