"""GGUF model files on disk, without the database: the parts of a split model, and the models other
programs keep (the Hugging Face cache, LM Studio's folders), found by walking folders. Any thread may
call these; the library (library.py) registers what they find."""

from __future__ import annotations

import os
import re
from collections.abc import Container, Sequence
from pathlib import Path


def discoverable_files(
    roots: Sequence[tuple[str, Path]], known: Container[str]
) -> list[tuple[Path, str | None]]:
    """The GGUF models under ``roots`` whose paths are not in ``known``, with the repository each belongs
    to (a walk of folders: any thread may call it)."""
    found: list[tuple[Path, str | None]] = []
    for kind, root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*.gguf")):
            if not path.is_file() or str(absolute(path)) in known or _is_auxiliary(path.name):
                continue
            found.append((path, _hf_repo_of(path, root) if kind == "hf" else _lmstudio_repo_of(path, root)))
    return found


def default_discovery_roots() -> list[tuple[str, Path]]:
    """Where other programs keep GGUF files: the Hugging Face cache and LM Studio's model folders."""
    from huggingface_hub import constants

    home = Path.home()
    return [
        ("hf", Path(os.environ.get("HF_HUB_CACHE") or constants.HF_HUB_CACHE)),
        ("lmstudio", home / ".lmstudio" / "models"),
        ("lmstudio", home / ".cache" / "lm-studio" / "models"),
    ]


_SPLIT_PART = re.compile(r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<total>\d{5})\.gguf$", re.IGNORECASE)


def model_files(path: Path) -> list[Path]:
    """The files of the model whose (first) file is ``path``: every part of a split model, beside it."""
    m = _SPLIT_PART.match(path.name)
    if m is None:
        return [path]
    total = int(m["total"])
    ext = path.name[-5:]
    return [path.with_name(f"{m['stem']}-{i:05d}-of-{total:05d}{ext}") for i in range(1, total + 1)]


def absolute(path: Path) -> Path:
    """An absolute, normalised path that keeps symbolic links (the Hugging Face cache is made of them)."""
    return Path(os.path.abspath(Path(path).expanduser()))


def _is_auxiliary(name: str) -> bool:
    """Vision projectors and the later parts of split models are not models of their own."""
    lower = name.lower()
    return "mmproj" in lower or bool(
        re.search(r"-0000[2-9]-of-\d{5}\.gguf$|-000[1-9]\d-of-\d{5}\.gguf$", lower)
    )


def _hf_repo_of(path: Path, root: Path) -> str | None:
    """``models--owner--name/snapshots/<commit>/file.gguf`` → ``owner/name``."""
    top = path.relative_to(root).parts[0]
    if top.startswith("models--"):
        return top.removeprefix("models--").replace("--", "/", 1)
    return None


def _lmstudio_repo_of(path: Path, root: Path) -> str | None:
    parts = path.relative_to(root).parts
    return f"{parts[0]}/{parts[1]}" if len(parts) >= 3 else None
