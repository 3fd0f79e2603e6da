"""The packaging files, checked without building anything: the spec stays portable, the icons are what
their names say, the extras are where they belong, the build script's link step keeps one copy."""

from __future__ import annotations

import ast
import importlib.util
import os
import struct
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "tokendice.spec"
ICONS = ROOT / "resources" / "icons"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "packaging" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_spec_is_python_and_portable():
    text = SPEC.read_text(encoding="utf-8")
    ast.parse(text)  # a spec is Python
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())  # comments may name paths
    for linux_only in ("/usr/", "/lib/", "/opt/", "site-packages", "x86_64", ".so.", "/home/", "/work/"):
        assert linux_only not in code, linux_only
    assert 'sys.platform == "win32"' in code and 'sys.platform == "darwin"' in code
    assert "tokendice.ico" in code and "tokendice.icns" in code
    assert "BUNDLE(" in code and "COLLECT(" in code
    assert 'Path(llama_cpp.__file__).resolve().parent / "lib"' in code
    assert '"desktop_app", "resources"' in code  # where resources_path looks in a bundle
    assert "TOKENDICE_BUNDLE_MODEL" in code


def test_pyinstaller_is_its_own_extra_and_not_a_test_dependency():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert any(r.lower().startswith("pyinstaller>=6") for r in extras["bundle"])
    assert not any("pyinstaller" in r.lower() for r in extras["test"])


def test_bundle_marker_is_registered():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]
    markers = config["ini_options"]["markers"]
    assert any(m.startswith("bundle:") for m in markers) and any(m.startswith("vulkan:") for m in markers)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_ico_holds_every_windows_size_as_png():
    data = (ICONS / "tokendice.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = []
    for i in range(count):
        w, h, _c, _r, planes, bpp, size, offset = struct.unpack("<BBBBHHII", data[6 + 16 * i : 22 + 16 * i])
        png = _png_size(data[offset : offset + size])
        assert png == ((w or 256), (h or 256)) and planes == 1 and bpp == 32
        sizes.append(png[0])
    assert sizes == [16, 24, 32, 48, 64, 128, 256]


def test_icns_elements_are_pngs_of_their_declared_size():
    render = _load("render_icons")
    data = (ICONS / "tokendice.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    expected = dict(render.ICNS_TYPES)
    seen = {}
    at = 8
    while at < len(data):
        kind, length = data[at : at + 4], struct.unpack(">I", data[at + 4 : at + 8])[0]
        seen[kind] = _png_size(data[at + 8 : at + length])[0]
        at += length
    assert seen == expected


def test_ico_and_icns_writers_round_trip_what_they_are_given():
    render = _load("render_icons")
    fake = {s: b"\x89PNG\r\n\x1a\n" + b"\0" * 8 + struct.pack(">II", s, s) for s in (16, 256)}
    ico = render.ico_bytes(fake)
    assert struct.unpack("<HHH", ico[:6]) == (0, 1, 2)
    assert ico[6:8] == b"\x10\x10" and ico[22:24] == b"\x00\x00"  # 256 is written as 0
    icns = render.icns_bytes({s: fake[16] for _, s in render.ICNS_TYPES})
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)


def test_the_committed_pngs_are_renderings_of_the_svg(qapp):
    """Re-render the SVG and compare it with the committed PNGs (run render_icons.py after an edit)."""
    from PySide6.QtGui import QImage

    render = _load("render_icons")
    for size in (16, 64, 256):
        fresh = QImage.fromData(render.render_png(ICONS / "tokendice.svg", size))
        committed = QImage(str(ICONS / f"tokendice-{size}.png"))
        assert (committed.width(), committed.height()) == (size, size)
        step = max(1, size // 32)
        diffs = [
            abs(fresh.pixelColor(x, y).alpha() - committed.pixelColor(x, y).alpha())
            + abs(fresh.pixelColor(x, y).blue() - committed.pixelColor(x, y).blue())
            for x in range(0, size, step)
            for y in range(0, size, step)
        ]
        assert sum(diffs) / len(diffs) < 4, f"{size}px PNG differs from the SVG: run render_icons.py"


def test_desktop_template_names_the_launcher_and_the_icon():
    from desktop_app.desktop_entry import read_entry

    keys = read_entry(ROOT / "resources" / "tokendice.desktop")
    assert keys["Type"] == "Application" and keys["Icon"] == "tokendice"
    assert keys["Exec"] == "tokendice-gui" and keys["Terminal"] == "false"
    assert "Education" in keys["Categories"].split(";")
    assert keys["StartupWMClass"] == "TokenDice"  # Qt's X11 class is the application name


@pytest.mark.skipif(os.name != "posix", reason="links are made on POSIX systems only")
def test_link_duplicate_libraries_keeps_one_copy_under_the_longest_name(tmp_path: Path):
    build = _load("build_bundle")
    lib = tmp_path / "lib"
    lib.mkdir()
    for name in ("libllama.so", "libllama.so.0", "libllama.so.0.5.0"):
        (lib / name).write_bytes(b"llama")
    (lib / "libggml.so").write_bytes(b"ggml")
    (lib / "libggml.so.0").write_bytes(b"ggml, but another build")
    linked = build.link_duplicate_libraries(lib)
    assert sorted(linked) == ["libllama.so", "libllama.so.0"]
    assert (lib / "libllama.so").resolve() == lib / "libllama.so.0.5.0"
    assert (lib / "libllama.so").read_bytes() == b"llama"
    assert not (lib / "libggml.so").is_symlink() and not (lib / "libggml.so.0").is_symlink()
    assert build.bundle_size(lib) < 3 * len(b"llama") + len(b"ggml") + 23 + 64


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's dynamic loader")
def test_a_system_library_is_found_where_the_loader_finds_it_under_the_name_asked_for():
    libraries = _load("linux_libraries")
    libc = libraries.system_library("libc.so.6")
    assert libc is not None and libc.name == "libc.so.6" and libc.is_file()
    assert libraries.system_library("libtokendice-nothing.so.3") is None


def test_a_missing_library_is_named_by_the_debian_package_that_ships_it():
    build = _load("build_bundle")
    names = {
        "libxcb-cursor.so.0": "libxcb-cursor0",  # what Qt 6.5+'s xcb plugin needs and Debian may lack
        "libxcb-icccm.so.4": "libxcb-icccm4",
        "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
        "libxcb-render-util.so.0": "libxcb-render-util0",
        "libX11-xcb.so.1": "libx11-xcb1",  # (package names are lower case)
    }
    assert {so: build.debian_package(so) for so in names} == names


def test_launcher_picks_gui_by_executable_name(monkeypatch: pytest.MonkeyPatch):
    launcher = _load("tokendice_launcher")
    calls = []
    import desktop_app.cli

    monkeypatch.setattr(desktop_app.cli, "main", lambda argv: calls.append(argv) or 0)
    monkeypatch.setattr(sys, "executable", "/x/TokenDice/tokendice-gui")
    monkeypatch.setattr(sys, "argv", ["tokendice-gui", "--model", "default", "-psn_0_123"])
    assert launcher.main() == 0
    monkeypatch.setattr(sys, "executable", "/x/TokenDice/tokendice")
    monkeypatch.setattr(sys, "argv", ["tokendice", "--version"])
    launcher.main()
    assert calls == [["gui", "--model", "default"], ["--version"]]


def test_the_wheel_gets_every_package_and_the_resources(monkeypatch: pytest.MonkeyPatch):
    """setup.py's list: every folder of desktop_app with modules, plus desktop_app.resources (resources/),
    which pyproject.toml maps but a packages.find table would leave out of the wheel."""
    import setuptools

    captured = {}
    monkeypatch.setattr(setuptools, "setup", lambda **kw: captured.update(kw))
    monkeypatch.chdir(ROOT)
    exec(compile((ROOT / "setup.py").read_text(encoding="utf-8"), "setup.py", "exec"), {"__name__": "x"})
    packages = set(captured["packages"])
    folders = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "desktop_app").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert folders <= packages and "desktop_app.resources" in packages
    setuptools_config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]
    assert "packages" not in setuptools_config  # a find table there would override setup.py's list
    assert setuptools_config["package-dir"]["desktop_app.resources"] == "resources"
