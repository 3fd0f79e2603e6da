"""install-desktop-entry: the entry and icons written into a temporary XDG_DATA_HOME, and removed again."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app import __version__
from desktop_app import desktop_entry as de
from desktop_app.resources_path import ICON_SIZES
from tests.helpers import run_cli

pytestmark = pytest.mark.skipif(
    sys.platform in ("win32", "darwin"), reason="freedesktop.org desktop entries are for Linux desktops"
)


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() + ("/" if p.is_dir() else "") for p in root.rglob("*")}


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg-data"
    home.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def test_xdg_data_home_follows_the_spec(tmp_path: Path):
    assert de.xdg_data_home({"XDG_DATA_HOME": str(tmp_path), "HOME": "/h"}) == tmp_path
    assert de.xdg_data_home({"XDG_DATA_HOME": "relative/dir", "HOME": "/h"}) == Path("/h/.local/share")
    assert de.xdg_data_home({"HOME": "/h"}) == Path("/h/.local/share")


def test_default_launcher_is_the_gui_script_beside_this_python():
    argv = de.default_launcher()
    beside = Path(sys.executable).absolute().parent / "tokendice-gui"
    if beside.is_file():
        assert argv == [str(beside)]
    assert Path(argv[0]).is_absolute()


def test_frozen_launcher_is_the_bundles_gui_executable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "tokendice").write_text("")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "tokendice"))
    assert de.default_launcher() == [str(tmp_path / "tokendice"), "gui"]
    (tmp_path / "tokendice-gui").write_text("")
    assert de.default_launcher() == [str(tmp_path / "tokendice-gui")]


@pytest.mark.parametrize(
    "argv",
    [
        ["/opt/TokenDice/tokendice-gui"],
        ["/home/me/Token Dice/tokendice-gui"],
        ['/odd "quoted" $dir/`x`\\back/tokendice-gui', "gui"],
        ["/usr/bin/python3", "-m", "desktop_app", "gui", "100%"],
    ],
)
def test_exec_value_round_trips(argv: list[str]):
    value = de.exec_value(argv)
    assert de.parse_exec_value(value) == argv
    assert "%" not in value.replace("%%", "")  # no stray field codes


def test_install_writes_the_entry_and_icons_and_uninstall_removes_exactly_them(data_home: Path):
    (data_home / "applications").mkdir()
    (data_home / "applications" / "other.desktop").write_text("[Desktop Entry]\nName=Other\n")
    before = _tree(data_home)
    launcher = data_home.parent / "My Apps" / "tokendice-gui"
    report = de.install(launcher=[str(launcher)])

    entry = data_home / "applications" / "tokendice.desktop"
    assert report.desktop_file == entry and entry in report.files
    keys = de.read_entry(entry)
    assert de.parse_exec_value(keys["Exec"]) == [str(launcher)]
    assert keys["TryExec"] == str(launcher)
    assert keys["Icon"] == "tokendice" and keys["Type"] == "Application" and keys["Name"] == "TokenDice"
    assert keys[de.MARKER_KEY] == __version__
    assert os.access(entry, os.X_OK)
    for size in ICON_SIZES:
        icon = data_home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "tokendice.png"
        assert icon.is_file() and icon in report.files
    assert (data_home / "icons" / "hicolor" / "scalable" / "apps" / "tokendice.svg").is_file()
    assert len(report.files) == len(ICON_SIZES) + 2
    assert data_home / "applications" not in report.created_folders  # it was there already

    # A second install (an upgrade) replaces its own files and keeps the record of created folders.
    again = de.install(launcher=[str(launcher)])
    assert again.created_folders == ()
    assert set(again.files) == set(report.files)

    removed = de.uninstall()
    assert set(removed.files) == set(report.files)
    assert _tree(data_home) == before  # the other entry stays, every folder the install made is gone
    assert (data_home / "applications" / "other.desktop").is_file()


def test_the_written_entry_passes_desktop_file_validate(data_home: Path):
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils)")
    de.install(launcher=[str(data_home / "bin" / "tokendice-gui")])
    proc = subprocess.run([tool, str(data_home / "applications" / "tokendice.desktop")], capture_output=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_an_entry_not_written_by_tokendice_is_never_replaced_or_removed(data_home: Path):
    entry = data_home / "applications" / "tokendice.desktop"
    entry.parent.mkdir()
    entry.write_text("[Desktop Entry]\nType=Application\nName=Someone else's\nExec=/bin/true\n")
    with pytest.raises(de.DesktopEntryError, match="not written by TokenDice"):
        de.install(launcher=["/opt/tokendice-gui"])
    report = de.uninstall()
    assert entry.read_text().startswith("[Desktop Entry]\nType=Application\nName=Someone else's")
    assert report.files == () and "left alone" in report.skipped[0]


def test_uninstall_never_removes_folders_it_could_not_have_created(data_home: Path):
    de.install(launcher=["/opt/tokendice-gui"])
    entry = data_home / "applications" / "tokendice.desktop"
    precious = data_home / "precious"
    precious.mkdir()
    text = entry.read_text().replace(f"{de.CREATED_KEY}=", f"{de.CREATED_KEY}=precious;../outside;")
    entry.write_text(text)
    de.uninstall()
    assert precious.is_dir()


def test_a_relative_launcher_is_refused(data_home: Path):
    with pytest.raises(de.DesktopEntryError, match="absolute path"):
        de.install(launcher=["tokendice-gui"])


def test_cli_install_and_uninstall(data_home: Path):
    before = _tree(data_home)
    proc = run_cli(["install-desktop-entry", "--json"])
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["action"] == "installed"
    assert Path(data["desktop_file"]) == data_home / "applications" / "tokendice.desktop"
    exec_argv = de.parse_exec_value(de.read_entry(Path(data["desktop_file"]))["Exec"])
    assert exec_argv == data["exec"] == de.default_launcher()
    assert Path(exec_argv[0]).is_file()  # the launcher of this very environment

    text = run_cli(["install-desktop-entry", "--uninstall"])
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith(f"Removed {len(data['files'])} files")
    assert _tree(data_home) == before


def test_cli_refusal_is_one_line(data_home: Path):
    entry = data_home / "applications" / "tokendice.desktop"
    entry.parent.mkdir()
    entry.write_text("[Desktop Entry]\nName=Other\n")
    proc = run_cli(["install-desktop-entry", "--data-home", str(data_home)])
    assert proc.returncode == 1
    assert proc.stderr.startswith("tokendice: error: ") and len(proc.stderr.strip().splitlines()) == 1
