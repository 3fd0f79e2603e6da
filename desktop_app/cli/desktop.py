"""``tokendice install-desktop-entry [--uninstall]``: parsing and printing over desktop_entry.py."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

COMMAND = "install-desktop-entry"


def register(sub: Any, json_flag: Callable[[argparse.ArgumentParser], None]) -> dict[str, Callable]:
    p = sub.add_parser(
        COMMAND,
        help="add TokenDice to the desktop's application menu (Linux)",
        description="Write a freedesktop.org menu entry and icons for this installation into "
        "$XDG_DATA_HOME (~/.local/share): applications/tokendice.desktop and icons/hicolor/. "
        "--uninstall removes exactly what was written.",
    )
    p.add_argument("--uninstall", action="store_true", help="remove the entry and icons again")
    p.add_argument(
        "--data-home",
        type=Path,
        metavar="DIR",
        help="the data folder to write into (default: $XDG_DATA_HOME or ~/.local/share)",
    )
    p.add_argument(
        "--launcher",
        metavar="PATH",
        help="the program the entry starts (default: tokendice-gui of this installation)",
    )
    json_flag(p)
    return {COMMAND: cmd_install_desktop_entry}


def cmd_install_desktop_entry(args: argparse.Namespace) -> int:
    from desktop_app.cli.errors import CliError
    from desktop_app.desktop_entry import DesktopEntryError, install, uninstall

    try:
        if args.uninstall:
            report = uninstall(args.data_home)
        else:
            launcher = [str(Path(args.launcher).absolute())] if args.launcher else None
            report = install(args.data_home, launcher)
    except DesktopEntryError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        json.dump(report.as_dict(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    if report.action == "installed":
        print(f"Installed {report.desktop_file}")
        print(f"  starts: {' '.join(report.exec_argv)}")
        print(f"  icons:  {len(report.files) - 1} files under {report.data_home / 'icons' / 'hicolor'}")
        print("TokenDice is in the application menu (log out and in if it does not show yet).")
    else:
        if report.files:
            print(f"Removed {len(report.files)} files ({report.desktop_file} and its icons)")
        else:
            print(f"Nothing to remove in {report.data_home}")
        for line in report.skipped:
            print(f"  {line}")
    return 0
