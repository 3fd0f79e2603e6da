"""Install TokenDice into a Linux desktop's menu: a freedesktop.org ``.desktop`` entry and icons.

``tokendice install-desktop-entry`` writes, under ``$XDG_DATA_HOME`` (``~/.local/share`` when unset):

- ``applications/tokendice.desktop``: the entry, its ``Exec=`` pointing at the launcher of *this*
  installation (``tokendice-gui`` beside the Python that runs it, or the bundle's own executable);
- ``icons/hicolor/NxN/apps/tokendice.png`` for every rendered size, and
  ``icons/hicolor/scalable/apps/tokendice.svg``.

``--uninstall`` removes exactly those files, and the folders the install had to create (they are listed
in the entry itself, under ``X-TokenDice-Created-Folders``, so a second install keeps the record). An
entry that TokenDice did not write is left alone. No Qt here, and nothing outside the data folder is
touched: desktops notice new entries by themselves.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app import __version__
from desktop_app.resources_path import (
    ICON_NAME,
    ICON_SIZES,
    desktop_file_template,
    icon_png,
    icon_svg,
)

DESKTOP_ID = "tokendice.desktop"
GUI_SCRIPT = "tokendice-gui"
MARKER_KEY = "X-TokenDice-Version"
CREATED_KEY = "X-TokenDice-Created-Folders"

# Characters that make the Desktop Entry spec require an Exec argument to be quoted.
_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")


class DesktopEntryError(Exception):
    """A user-facing failure of install or uninstall."""


@dataclass(frozen=True)
class DesktopEntryReport:
    """What an install or uninstall did, every path absolute."""

    action: str  # "installed" or "uninstalled"
    data_home: Path
    desktop_file: Path
    exec_argv: tuple[str, ...] = ()
    files: tuple[Path, ...] = ()  # written (install) or removed (uninstall), the entry included
    created_folders: tuple[Path, ...] = ()  # created (install) or removed (uninstall)
    skipped: tuple[str, ...] = field(default=())  # sentences about what was left alone

    def as_dict(self) -> dict:
        return {
            "action": self.action,
            "data_home": str(self.data_home),
            "desktop_file": str(self.desktop_file),
            "exec": list(self.exec_argv),
            "files": [str(p) for p in self.files],
            "created_folders": [str(p) for p in self.created_folders],
            "skipped": list(self.skipped),
        }


def xdg_data_home(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME`` if it is an absolute path (the spec ignores others), else ``~/.local/share``."""
    env = os.environ if environ is None else environ
    value = env.get("XDG_DATA_HOME", "").strip()
    if value and os.path.isabs(value):
        return Path(value)
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".local" / "share"


def default_launcher() -> list[str]:
    """The command line that opens this installation's window.

    Frozen: the bundle's ``tokendice-gui`` beside its executable (or the executable with ``gui``).
    Installed: the ``tokendice-gui`` script beside ``sys.executable`` (a virtual environment's ``bin``),
    then one on PATH, then ``python -m desktop_app gui``.
    """
    exe = Path(sys.executable).absolute()  # not resolved: a venv's python is a link out of the venv
    suffix = ".exe" if sys.platform == "win32" else ""
    if getattr(sys, "frozen", False):
        gui = exe.with_name(GUI_SCRIPT + suffix)
        return [str(gui)] if gui.is_file() else [str(exe), "gui"]
    beside = exe.parent / (GUI_SCRIPT + suffix)
    if beside.is_file():
        return [str(beside)]
    found = shutil.which(GUI_SCRIPT)
    if found:
        return [str(Path(found).absolute())]
    return [str(exe), "-m", "desktop_app", "gui"]


def _escape_string(value: str) -> str:
    """The Desktop Entry spec's escapes for a string value."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def _quote_arg(arg: str) -> str:
    if arg and not (_RESERVED & set(arg)):
        return arg
    inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{inner}"'


def exec_value(argv: Sequence[str]) -> str:
    """``argv`` as an ``Exec=`` value: arguments quoted where the spec says, ``%`` doubled, escaped."""
    if not argv:
        raise ValueError("an Exec line needs a program")
    return _escape_string(" ".join(_quote_arg(a).replace("%", "%%") for a in argv))


def parse_exec_value(value: str) -> list[str]:
    """The inverse of exec_value (what a desktop does with the line, less field codes)."""
    text = value.replace("\\\\", "\0").replace("\\s", " ").replace("\\n", "\n").replace("\\t", "\t")
    text = text.replace("\\r", "\r").replace("\0", "\\")
    args: list[str] = []
    current: list[str] = []
    i, quoted, started = 0, False, False
    while i < len(text):
        c = text[i]
        if quoted:
            if c == "\\" and i + 1 < len(text) and text[i + 1] in '"`$\\':
                current.append(text[i + 1])
                i += 1
            elif c == '"':
                quoted = False
            else:
                current.append(c)
        elif c == '"':
            quoted, started = True, True
        elif c == " ":
            if started:
                args.append("".join(current))
                current, started = [], False
        else:
            current.append(c)
            started = True
        i += 1
    if started:
        args.append("".join(current))
    return [a.replace("%%", "%") for a in args]


def read_entry(path: Path) -> dict[str, str]:
    """The keys of a ``.desktop`` file's ``[Desktop Entry]`` group (enough for what this module writes)."""
    keys: dict[str, str] = {}
    group = None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            group = line
            continue
        if group == "[Desktop Entry]" and "=" in line:
            key, _, value = line.partition("=")
            keys[key.strip()] = value.strip()
    return keys


def entry_text(template: str, argv: Sequence[str], created: Sequence[str] = ()) -> str:
    """The template with ``Exec=``/``TryExec=`` set to ``argv`` and TokenDice's bookkeeping keys."""
    lines = []
    for line in template.splitlines():
        key = line.partition("=")[0].strip()
        if key == "Exec":
            line = f"Exec={exec_value(argv)}"
        elif key == "TryExec":
            line = f"TryExec={_escape_string(argv[0])}"
        elif key in (MARKER_KEY, CREATED_KEY):
            continue
        lines.append(line)
    lines.append(f"{MARKER_KEY}={__version__}")
    if created:
        lines.append(f"{CREATED_KEY}={';'.join(created)};")
    return "\n".join(lines) + "\n"


def _icon_targets(data_home: Path) -> list[tuple[Path, Path]]:
    """(source, destination) of every icon file the install writes."""
    hicolor = data_home / "icons" / "hicolor"
    pairs = [(icon_png(s), hicolor / f"{s}x{s}" / "apps" / f"{ICON_NAME}.png") for s in ICON_SIZES]
    pairs = [(src, dst) for src, dst in pairs if src.is_file()]
    pairs.append((icon_svg(), hicolor / "scalable" / "apps" / f"{ICON_NAME}.svg"))
    return pairs


def _check_platform() -> None:
    if sys.platform in ("win32", "darwin"):
        where = "a Start-menu shortcut" if sys.platform == "win32" else "the TokenDice.app bundle"
        raise DesktopEntryError(
            "desktop entries are for Linux and other freedesktop.org desktops; "
            f"on this system use {where} (see the README's 'Install as a desktop app')"
        )


def _makedirs(folder: Path, data_home: Path, created: list[Path]) -> None:
    """Create ``folder`` and missing parents, noting each one created below ``data_home``."""
    missing = []
    for p in (folder, *folder.parents):
        if p.exists():
            break
        missing.append(p)
    for p in reversed(missing):
        p.mkdir()
        if p != data_home and data_home in p.parents:
            created.append(p)


def _creatable_folders() -> set[str]:
    """Every folder below the data folder that an install may create (and so uninstall may remove)."""
    sizes = [f"{s}x{s}" for s in ICON_SIZES] + ["scalable"]
    folders = {"applications", "icons", "icons/hicolor"}
    for size in sizes:
        folders |= {f"icons/hicolor/{size}", f"icons/hicolor/{size}/apps"}
    return folders


def _recorded_folders(entry: Path, data_home: Path) -> list[Path]:
    """The folders an earlier install noted as created (only names it could have created)."""
    if not _is_ours(entry):
        return []
    allowed = _creatable_folders()
    value = read_entry(entry).get(CREATED_KEY, "")
    return [data_home / part for part in value.split(";") if part in allowed]


def _is_ours(entry: Path) -> bool:
    try:
        return MARKER_KEY in read_entry(entry)
    except (OSError, UnicodeDecodeError):
        return False


def install(data_home: Path | None = None, launcher: Sequence[str] | None = None) -> DesktopEntryReport:
    """Write the entry and icons (replacing TokenDice's own earlier ones); return what was written."""
    _check_platform()
    home = (data_home or xdg_data_home()).absolute()
    argv = list(launcher) if launcher else default_launcher()
    if not Path(argv[0]).is_absolute():
        raise DesktopEntryError(f"the launcher must be an absolute path, not {argv[0]!r}")
    entry = home / "applications" / DESKTOP_ID
    if entry.exists() and not _is_ours(entry):
        raise DesktopEntryError(f"{entry} exists and was not written by TokenDice; remove it first")
    template = desktop_file_template().read_text(encoding="utf-8")
    previous = _recorded_folders(entry, home)
    created: list[Path] = []
    written: list[Path] = []
    try:
        for src, dst in _icon_targets(home):
            _makedirs(dst.parent, home, created)
            shutil.copyfile(src, dst)
            written.append(dst)
        _makedirs(entry.parent, home, created)
        folders = list(dict.fromkeys([*previous, *created]))
        text = entry_text(template, argv, [p.relative_to(home).as_posix() for p in folders])
        tmp = entry.with_name(f".{DESKTOP_ID}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.chmod(tmp, 0o755)  # some desktops only launch entries marked executable
        os.replace(tmp, entry)
        written.append(entry)
    except OSError as exc:
        raise DesktopEntryError(f"could not write the desktop entry into {home}: {exc}") from exc
    return DesktopEntryReport(
        action="installed",
        data_home=home,
        desktop_file=entry,
        exec_argv=tuple(argv),
        files=tuple(written),
        created_folders=tuple(created),
    )


def uninstall(data_home: Path | None = None) -> DesktopEntryReport:
    """Remove what install wrote; an entry not written by TokenDice is left alone (and said so)."""
    _check_platform()
    home = (data_home or xdg_data_home()).absolute()
    entry = home / "applications" / DESKTOP_ID
    removed: list[Path] = []
    skipped: list[str] = []
    folders = _recorded_folders(entry, home)
    try:
        if entry.exists():
            if _is_ours(entry):
                entry.unlink()
                removed.append(entry)
            else:
                skipped.append(f"{entry} was not written by TokenDice: left alone")
        for _src, dst in _icon_targets(home):
            if dst.is_file():
                dst.unlink()
                removed.append(dst)
        gone = []
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                gone.append(folder)
    except OSError as exc:
        raise DesktopEntryError(f"could not remove the desktop entry from {home}: {exc}") from exc
    return DesktopEntryReport(
        action="uninstalled",
        data_home=home,
        desktop_file=entry,
        files=tuple(removed),
        created_folders=tuple(gone),
        skipped=tuple(skipped),
    )
