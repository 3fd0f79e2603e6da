"""A classroom kit's manifest, ``tokendice-kit.json``: what the kit holds, each file with its size and
SHA-256, written by :func:`~desktop_app.core.kit.export_kit` and read, field by field, before anything of
a kit is used.

```
{"format": "tokendice-kit", "version": 1, "created": "2025-01-31T09:00:00Z", "tokendice": "0.9.0",
 "packs": [{"id": "week-3", "name": "Week 3", "names": {"en": "Week 3", "zh_TW": "第三週"},
            "files": [{"path": "lessons/week-3/01-dice.toml", "size": 812, "sha256": "…"}]}],
 "models": [{"name": "SmolLM2 135M", "repo_id": "owner/repo" or null, "filename": "x.gguf",
             "files": [{"path": "models/owner/repo/x.gguf", "size": 1, "sha256": "…"}]}]}
```

A model's ``files`` are its parts (one for most models; every part of a split one, the first first). A
path is relative to the kit, with ``/`` between its parts: a pack's files are ``lessons/<pack id>/<name>``
and a model's ``models/…/<name>.gguf``; one that is absolute, holds ``..`` or names a file twice is a
damaged manifest. No Qt here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any

from desktop_app.core.lesson_pack_files import MAX_NAME, PACK_ID, is_safe_name
from desktop_app.core.models.download_errors import DownloadError, DownloadRequest, check_names

MANIFEST = "tokendice-kit.json"
FORMAT = "tokendice-kit"
VERSION = 1
MAX_MANIFEST_BYTES = 16 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ManifestError(ValueError):
    """A manifest that cannot be used: the message says which field and why (without the kit's place)."""


class NewerKit(ManifestError):
    """A kit made by a newer TokenDice, in a version of the format this one cannot read."""


@dataclass(frozen=True)
class KitFile:
    path: str  # relative to the kit, "/" between parts
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class KitPack:
    id: str
    names: MappingProxyType  # language → name
    files: tuple[KitFile, ...]

    @property
    def name(self) -> str:
        return self.names.get("en") or next(iter(self.names.values()))

    def to_json(self) -> dict[str, Any]:
        files = [f.to_json() for f in self.files]
        return {"id": self.id, "name": self.name, "names": dict(self.names), "files": files}


@dataclass(frozen=True)
class KitModel:
    name: str  # the library's display name
    repo_id: str | None  # None: a local file (it installs into models/local)
    filename: str  # the file's name in its repository (its first part's), or the local file's name
    files: tuple[KitFile, ...]  # its parts, the first first

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "repo_id": self.repo_id,
            "filename": self.filename,
            "files": [f.to_json() for f in self.files],
        }


@dataclass(frozen=True)
class KitManifest:
    created: str  # ISO 8601, UTC
    tokendice: str  # the version that exported it
    packs: tuple[KitPack, ...] = ()
    models: tuple[KitModel, ...] = ()
    version: int = field(default=VERSION)

    @property
    def files(self) -> list[KitFile]:
        return [f for p in self.packs for f in p.files] + [f for m in self.models for f in m.files]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "created": self.created,
            "tokendice": self.tokendice,
            "packs": [p.to_json() for p in self.packs],
            "models": [m.to_json() for m in self.models],
        }


def manifest_from_json(doc: Any) -> KitManifest:
    """The manifest in ``doc`` (parsed JSON), every field checked; ManifestError says what is wrong."""
    if not isinstance(doc, dict):
        raise ManifestError("it is not a JSON object")
    if doc.get("format") != FORMAT:
        raise ManifestError(f"its format is {doc.get('format')!r:.40}, not {FORMAT!r}: not a kit's manifest")
    version = _need(doc, "version", int, "")
    if version > VERSION:
        raise NewerKit(
            f"it is kit version {version}, made by a newer TokenDice (this one reads version {VERSION})"
        )
    if version < 1:
        raise ManifestError(f"version {version} is not a kit version")
    packs = tuple(_pack(p, f"packs[{i}]") for i, p in enumerate(_need(doc, "packs", list, "")))
    models = tuple(_model(m, f"models[{i}]") for i, m in enumerate(_need(doc, "models", list, "")))
    manifest = KitManifest(
        _need(doc, "created", str, ""), _need(doc, "tokendice", str, ""), packs, models, version
    )
    seen: set[str] = set()
    for f in manifest.files:
        key = f.path.casefold()  # a stick's file system may not tell A.gguf from a.gguf
        if key in seen:
            raise ManifestError(f"it names the file {f.path} twice")
        seen.add(key)
    ids = [p.id for p in packs]
    if len(set(ids)) != len(ids):
        raise ManifestError("it has two lesson packs with one id")
    return manifest


def _need(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    at = f"{where}.{key}" if where else key
    if not isinstance(obj, dict):
        raise ManifestError(f"{where or 'it'} must be a JSON object")
    if key not in obj:
        raise ManifestError(f"{at} is missing")
    value = obj[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = {str: "text", int: "a whole number", list: "a list", dict: "an object", type(None): "null"}
        wanted = " or ".join(names.get(k, k.__name__) for k in kinds)
        raise ManifestError(f"{at} must be {wanted}, not {value!r:.60}")
    return value


def _file(obj: Any, where: str, prefix: str) -> KitFile:
    path = _need(obj, "path", str, where)
    problem = path_problem(path)
    if problem is None and not path.startswith(prefix):
        problem = f"is not under {prefix}"
    if problem is not None:
        raise ManifestError(f"{where}.path {path!r:.120} {problem}")
    size = _need(obj, "size", int, where)
    if size < 0:
        raise ManifestError(f"{where}.size must be a size in bytes, not {size}")
    sha = _need(obj, "sha256", str, where)
    if not _SHA256.match(sha):
        raise ManifestError(f"{where}.sha256 must be 64 lowercase hexadecimal digits")
    return KitFile(path, size, sha)


def _pack(obj: Any, where: str) -> KitPack:
    pack_id = _need(obj, "id", str, where)
    if not PACK_ID.match(pack_id):
        raise ManifestError(f"{where}.id {pack_id!r:.80} is not a pack id")
    _need(obj, "name", str, where)
    names = _need(obj, "names", dict, where)
    if not names or not all(
        isinstance(v, str) and v.strip() and len(v) <= MAX_NAME and v.isprintable() for v in names.values()
    ):
        raise ManifestError(f"{where}.names must give the pack's name in one language at least")
    items = _need(obj, "files", list, where)
    files = tuple(_file(f, f"{where}.files[{i}]", f"lessons/{pack_id}/") for i, f in enumerate(items))
    for i, f in enumerate(files):
        name = f.path.removeprefix(f"lessons/{pack_id}/")
        if "/" in name or not is_safe_name(name):
            raise ManifestError(f"{where}.files[{i}].path {f.path!r} is not a lesson file's name")
    return KitPack(pack_id, MappingProxyType(dict(names)), files)


def _model(obj: Any, where: str) -> KitModel:
    name = _need(obj, "name", str, where)
    repo_id = _need(obj, "repo_id", (str, type(None)), where)
    filename = _need(obj, "filename", str, where)
    if repo_id is not None:
        try:
            check_names(DownloadRequest(repo_id, filename))
        except DownloadError as exc:
            raise ManifestError(f"{where}: {str(exc).rstrip('.')}") from None
    elif not filename or "/" in filename or "\\" in filename:
        raise ManifestError(f"{where}.filename {filename!r:.80} is not a file name")
    items = _need(obj, "files", list, where)
    if not items:
        raise ManifestError(f"{where}.files is empty: a model has one file at least")
    files = tuple(_file(f, f"{where}.files[{i}]", "models/") for i, f in enumerate(items))
    for i, f in enumerate(files):
        if not f.path.lower().endswith(".gguf"):
            raise ManifestError(f"{where}.files[{i}].path {f.path!r} is not a .gguf file")
    return KitModel(name, repo_id, filename, files)


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot be a file's place in a kit (it could leave the kit), or None."""
    if not path or "\\" in path or path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return "is not a relative path inside the kit"
    if any(not c.isprintable() for c in path):
        return "holds characters a file name cannot have"
    if any(p in ("", ".", "..") for p in path.split("/")):
        return "leaves the kit or has an empty part (“..”, “.”, “//”)"
    if any(p.startswith(".") for p in path.split("/")):
        return "names a hidden file"
    return None


def file_name(path: str) -> str:
    """The last part of a kit path."""
    return PurePosixPath(path).name
