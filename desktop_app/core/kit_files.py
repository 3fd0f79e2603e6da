"""The files of a classroom kit (see :mod:`desktop_app.core.kit`): checking a kit before anything of it
is used (:func:`verify_kit`: the manifest, then every file's place, size and SHA-256, and every lesson as a
lesson), and copying a file while hashing it, for the export and the install. No Qt here.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from desktop_app import __version__
from desktop_app.core.kit_manifest import (
    MANIFEST,
    MAX_MANIFEST_BYTES,
    KitFile,
    KitManifest,
    ManifestError,
    NewerKit,
    file_name,
    manifest_from_json,
)
from desktop_app.core.lesson_files import MAX_BYTES
from desktop_app.core.lesson_packs import LessonPackError, PackSource, pack_from_files
from desktop_app.core.models.local_files import absolute
from desktop_app.core.models.part_file import PartWriter

UNFINISHED = "tokendice-kit.unfinished"  # there while an export copies; gone when its manifest is written
SPACE_MARGIN = 32 * 1024 * 1024  # bytes kept free beyond the files themselves
CHUNK = 4 << 20
_SPLIT = re.compile(r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<total>\d{5})(?P<ext>\.gguf)$", re.IGNORECASE)

#: ``progress(done_bytes, total_bytes, what)``: ``what`` says what is done now ("copying models/…").
ProgressFn = Callable[[int, int, str], None]


class KitError(Exception):
    """A kit that cannot be exported, checked or installed; the message is the sentence to show."""


class KitCancelled(KitError):
    """The work was cancelled: what it copied is removed (an export keeps what it finished, no manifest)."""


@dataclass(frozen=True)
class Kit:
    """A kit whose files were all checked: its folder, its manifest, and its lesson packs as read."""

    root: Path
    manifest: KitManifest
    packs: tuple[PackSource, ...]


class Meter:
    """Counts the bytes done for a ``progress`` callback, and stops the work (KitCancelled) once
    ``cancel`` is set: it is asked after every block read or written."""

    def __init__(self, callback: ProgressFn | None, total: int, cancel: threading.Event | None):
        self.callback, self.total, self.cancel, self.done = callback, total, cancel, 0

    def add(self, n: int, what: str) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise KitCancelled("The work on the kit was cancelled.")
        self.done += n
        if self.callback is not None:
            self.callback(min(self.done, self.total), self.total, what)


# --- verify -----------------------------------------------------------------------------------------------
def verify_kit(
    src: Path, *, progress: ProgressFn | None = None, cancel: threading.Event | None = None
) -> Kit:
    """The kit in ``src``, every file checked (its place, size and SHA-256; every lesson as a lesson);
    KitError with the sentence when anything is not as the teacher exported it."""
    root = absolute(Path(src))
    manifest = _read_manifest(root)
    meter = Meter(progress, manifest.total_bytes, cancel)
    packs = []
    for kp in manifest.packs:
        files = [(file_name(f.path), _check_lesson_file(root, f, meter)) for f in kp.files]
        try:
            packs.append(pack_from_files(files, default_name=kp.name, pack_id=kp.id, names=kp.names))
        except LessonPackError as exc:
            raise KitError(
                f"The kit in {root} cannot be used: its lesson pack “{kp.name}” is not one TokenDice can "
                f"open: {exc} Nothing was installed."
            ) from None
    for model in manifest.models:
        for f in model.files:
            _check_file(root, f, meter)
    return Kit(root, manifest, tuple(packs))


def _read_manifest(root: Path) -> KitManifest:
    if not root.is_dir():
        raise KitError(f"There is no kit in {root}: it is not a folder.")
    path = root / MANIFEST
    try:
        if path.is_symlink():
            raise KitError(f"The kit in {root} cannot be used: its {MANIFEST} is a symbolic link.")
        with path.open("rb") as f:
            data = f.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        if (root / UNFINISHED).exists() or (root / "models").exists() or (root / "lessons").exists():
            raise KitError(
                f"The kit in {root} is an unfinished copy: it has no {MANIFEST} (its export did not end); "
                "nothing was installed. Export the kit again."
            ) from None
        raise KitError(f"{root} is not a classroom kit: it has no {MANIFEST}.") from None
    except OSError as exc:
        raise KitError(f"The kit in {root} cannot be read ({why(exc)}).") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise KitError(f"The kit in {root} cannot be used: its {MANIFEST} is too large to be a manifest.")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise KitError(
            f"The kit in {root} cannot be used: its {MANIFEST} is not JSON ({exc}); nothing was installed. "
            "Copy the kit again."
        ) from None
    try:
        return manifest_from_json(doc)
    except NewerKit as exc:
        raise KitError(
            f"The kit in {root} cannot be used: {exc}. Update TokenDice, or export the kit again with "
            f"this version ({__version__})."
        ) from None
    except ManifestError as exc:
        raise KitError(
            f"The kit in {root} cannot be used: its {MANIFEST} is damaged: {exc}; nothing was installed. "
            "Copy the kit again."
        ) from None


def in_kit(root: Path, f: KitFile) -> Path:
    """The file ``f`` of the kit: a regular file reached without a symbolic link, or KitError."""
    place = root
    for part in f.path.split("/"):
        place = place / part
        try:
            mode = os.lstat(place).st_mode
        except FileNotFoundError:
            raise KitError(
                f"The kit in {root} is incomplete: {f.path} is missing; nothing was installed. "
                "Copy the kit again."
            ) from None
        except OSError as exc:
            raise KitError(f"The kit in {root} cannot be read: {f.path} ({why(exc)}).") from None
        if stat.S_ISLNK(mode):
            raise KitError(
                f"The kit in {root} cannot be used: {f.path} is reached through a symbolic link, which an "
                "exported kit never holds; nothing was installed. Copy the kit again."
            )
    if not stat.S_ISREG(mode):
        raise KitError(f"The kit in {root} cannot be used: {f.path} is not a file; nothing was installed.")
    return place


def _damaged(root: Path, f: KitFile, how: str) -> KitError:
    return KitError(
        f"The kit in {root} is damaged: {f.path} is not the file the teacher exported ({how}); "
        "nothing was installed. Copy the kit again."
    )


def _check_file(root: Path, f: KitFile, meter: Meter) -> None:
    path = in_kit(root, f)
    try:
        size, sha = hash_file(path, meter, f"checking {f.path}", limit=f.size)
    except OSError as exc:
        raise KitError(f"The kit in {root} cannot be read: {f.path} ({why(exc)}).") from None
    if size != f.size:
        raise _damaged(root, f, f"its size differs: {size:,} bytes where {f.size:,} were exported")
    if sha != f.sha256:
        raise _damaged(root, f, "its SHA-256 differs")


def hash_file(path: Path, meter: Meter, what: str, *, limit: int | None = None) -> tuple[int, str]:
    """The size and SHA-256 of the file ``path`` (OSError if it cannot be read); past ``limit`` bytes
    it stops (the size it returns is then larger than ``limit``)."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if limit is not None and size > limit:
                break
            meter.add(len(chunk), what)
    return size, digest.hexdigest()


def _check_lesson_file(root: Path, f: KitFile, meter: Meter) -> bytes:
    if f.size > MAX_BYTES:
        raise KitError(f"The kit in {root} cannot be used: {f.path} is too large for a lesson file.")
    path = in_kit(root, f)
    try:
        with path.open("rb") as reader:
            data = reader.read(MAX_BYTES + 1)
    except OSError as exc:
        raise KitError(f"The kit in {root} cannot be read: {f.path} ({why(exc)}).") from None
    if len(data) != f.size:
        raise _damaged(root, f, f"its size differs: {len(data):,} bytes where {f.size:,} were exported")
    if hashlib.sha256(data).hexdigest() != f.sha256:
        raise _damaged(root, f, "its SHA-256 differs")
    meter.add(len(data), f"checking {f.path}")
    return data


# --- copying ---------------------------------------------------------------------------------------------
def numbered(name: str, n: int) -> str:
    """``name`` with ``-n`` before its extension (for a split model's part, before ``-00001-of-00003``)."""
    if n == 1:
        return name
    m = _SPLIT.match(name)
    if m is not None:
        return f"{m['stem']}-{n}-{m['index']}-of-{m['total']}{m['ext']}"
    path = PurePosixPath(name)
    return f"{path.stem}-{n}{path.suffix}"


def copy_file(
    source: Path, target: Path, meter: Meter, what: str, *, expect: str | None = None
) -> tuple[int, str]:
    """Copy ``source`` to ``target`` (under a temporary name, renamed when complete and on disk),
    hashing it as it is written; returns its size and SHA-256. ``expect``: the SHA-256 it must have
    (KitError, and no file, if it has another)."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    try:
        with source.open("rb") as reader, PartWriter(fd) as writer:
            while chunk := reader.read(CHUNK):
                writer.write(chunk)
                meter.add(len(chunk), what)
            sha = writer.finish()
            size = writer.done
        if expect is not None and sha != expect:
            raise KitError(
                f"{source} changed after it was checked (its SHA-256 differs now); nothing was installed. "
                "Copy the kit again."
            )
        os.close(fd)
        fd = -1
        os.replace(tmp, target)
    finally:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)
    return size, sha


def write_durably(path: Path, data: bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def free_bytes(folder: Path) -> int:
    """Free bytes where ``folder`` is (or will be: its nearest existing parent)."""
    for place in (folder, *folder.parents):
        if place.exists():
            return shutil.disk_usage(place).free
    return 0


def why(exc: OSError) -> str:
    if exc.errno == errno.EFBIG:
        return "a file is too large for the stick's file system: FAT32 holds files up to 4 GB; use exFAT"
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    return str(exc.strerror or exc)
