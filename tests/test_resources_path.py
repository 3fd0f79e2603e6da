"""resources_path: one lookup for a checkout, an installed wheel and a frozen bundle."""

from __future__ import annotations

import shutil
import struct
import sys
from pathlib import Path

import pytest

import desktop_app
from desktop_app import resources_path as rp

ROOT = Path(__file__).resolve().parents[1]


def test_checkout_finds_the_resources_folder():
    assert rp.resources_dir() == ROOT / "resources"
    assert rp.icon_svg().is_file()
    assert rp.desktop_file_template().is_file()


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


def test_every_icon_size_is_a_png_of_that_size():
    for size in rp.ICON_SIZES:
        assert _png_size(rp.icon_png(size)) == (size, size)
    files = rp.app_icon_files()
    assert files[-1] == rp.icon_svg() and len(files) == len(rp.ICON_SIZES) + 1
    with pytest.raises(ValueError, match="no 20px icon"):
        rp.icon_png(20)


def test_frozen_bundle_layout_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    bundle = tmp_path / "_internal"
    shutil.copytree(ROOT / "resources" / "icons", bundle / "desktop_app" / "resources" / "icons")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    assert rp.resources_dir() == bundle / "desktop_app" / "resources"
    assert rp.icon_png(16) == bundle / "desktop_app" / "resources" / "icons" / "tokendice-16.png"


def test_wheel_layout_is_found_and_a_stray_resources_folder_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    site = tmp_path / "site-packages"
    (site / "desktop_app").mkdir(parents=True)
    (site / "desktop_app" / "__init__.py").write_text("")
    (site / "resources").mkdir()  # some other distribution's top-level folder, without our marker
    monkeypatch.setattr(desktop_app, "__file__", str(site / "desktop_app" / "__init__.py"))
    with pytest.raises(rp.ResourcesNotFound, match="reinstall TokenDice"):
        rp.resources_dir()
    shutil.copytree(ROOT / "resources" / "icons", site / "desktop_app" / "resources" / "icons")
    assert rp.resources_dir() == site / "desktop_app" / "resources"


def test_pyproject_ships_resources_as_package_data():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = project["tool"]["setuptools"]
    assert setuptools["package-dir"]["desktop_app.resources"] == "resources"
    assert "**/*" in setuptools["package-data"]["desktop_app.resources"]


def test_no_other_module_builds_resource_paths_by_hand():
    """Everything goes through resources_path: no module joins 'resources' onto __file__ itself."""
    offenders = []
    for path in (ROOT / "desktop_app").rglob("*.py"):
        if path.name == "resources_path.py":
            continue
        text = path.read_text(encoding="utf-8")
        if "__file__" in text and '"resources"' in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
