"""Lesson packs as files: a pack read from one lesson file, a folder of them or a ``.zip`` of such a folder,
every lesson checked, into a :class:`PackSource` held in memory (see :mod:`desktop_app.core.lesson_packs`,
which installs them).

A folder's ``*.toml`` files are its lessons (not those in folders below); a zip holds them at its root or
in one top folder, and is read in memory, never extracted: entries whose paths are absolute or hold
``..`` refuse it, and no entry is read beyond :data:`~desktop_app.core.lesson_files.MAX_BYTES` (its
declared size is checked, and what it unpacks to). A ``pack.toml`` beside the lessons names the pack:
``name = "Week 3"`` or a name per language (``[name]`` with ``en = "…"`` and ``zh_TW = "…"``), and
optionally ``id = "week-3"``; without one the pack is named after the file, folder or zip. One lesson
that is not a lesson file refuses the whole pack, with the file, line and field. No Qt here.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import replace as _replace
from pathlib import Path
from types import MappingProxyType

from desktop_app.core import lesson_files
from desktop_app.core.lesson_files import MAX_BYTES, LessonFileError
from desktop_app.core.lesson_types import Lesson

PACK_FILE = "pack.toml"
MAX_LESSONS = 200
MAX_ZIP_ENTRIES = 10_000  # a zip with more entries than this is not a lesson pack
MAX_NAME = 200  # characters of a pack's name
PACK_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\.toml$")
_ZIP_LITTER = ("__MACOSX",)  # what macOS's Archive Utility adds beside the files


class LessonPackError(ValueError):
    """A lesson pack that cannot be opened, installed or removed; the message is the sentence to show."""


class Refused(Exception):
    """Why a pack cannot be read, without the pack's name (the caller adds it)."""


@dataclass(frozen=True)
class PackSource:
    """A pack read and checked, in memory: what :meth:`LessonPacks.install` writes."""

    id: str
    names: MappingProxyType  # language → name
    lessons: tuple[Lesson, ...]
    files: tuple[tuple[str, bytes], ...]  # (file name in the pack's folder, its bytes), one per lesson
    origin: Path | None = None

    @property
    def name(self) -> str:
        return _main_name(self.names)

    def title(self, language: str) -> str:
        return self.names.get(language) or self.name

    def folder_files(self) -> list[tuple[str, bytes]]:
        """The files of the pack's folder: the lessons and the ``pack.toml`` that names the pack."""
        return [*self.files, (PACK_FILE, pack_file_text(self.id, self.names).encode("utf-8"))]


# --- reading ------------------------------------------------------------------------------------
def read_pack(source: Path) -> PackSource:
    """The pack in ``source``: a lesson file, a folder of them or a .zip; LessonPackError if it cannot be
    used (the sentence names the pack and, for a lesson that is not one, its file, line and field)."""
    source = Path(source).expanduser()
    try:
        return _read(source)
    except Refused as exc:
        raise LessonPackError(f"The lesson pack “{source.name or source}” was not opened: {exc}") from None


def _read(source: Path) -> PackSource:
    try:
        mode = os.stat(source).st_mode
    except FileNotFoundError:
        raise Refused(f"there is no file or folder {source}.") from None
    except OSError as exc:
        raise Refused(f"{source} cannot be read ({exc.strerror or exc}).") from None
    if stat.S_ISDIR(mode):
        return _with_origin(read_folder(source), source)
    if source.suffix.lower() == ".toml":
        return _with_origin(
            _pack_from_files([(source.name, _read_file(source))], source.stem, None, None), source
        )
    if source.suffix.lower() == ".zip" or zipfile.is_zipfile(source):
        return _with_origin(_read_zip(source), source)
    raise Refused(f"{source.name} is not a lesson file (.toml), a folder of lesson files or a .zip of them.")


def _with_origin(pack: PackSource, origin: Path) -> PackSource:
    return _replace(pack, origin=origin)


def _read_file(path: Path) -> bytes:
    """A file's bytes, refused beyond MAX_BYTES (read with a limit: a file that grows is not read whole)."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise Refused(f"{path.name} cannot be read ({exc.strerror or exc}).") from None
    if len(data) > MAX_BYTES:
        raise Refused(f"{path.name} is larger than {MAX_BYTES:,} bytes: too large for a lesson file.")
    return data


def read_folder(folder: Path) -> PackSource:
    """The pack in a folder; :class:`Refused` (the reason, without the pack's name) if it cannot be used."""
    try:
        with os.scandir(folder) as it:
            names = sorted(
                e.name for e in it if e.name.lower().endswith(".toml") and not e.name.startswith(".")
            )
    except OSError as exc:
        raise Refused(f"the folder {folder} cannot be read ({exc.strerror or exc}).") from None
    if sum(name != PACK_FILE for name in names) > MAX_LESSONS:
        raise Refused(f"it holds more than {MAX_LESSONS} lesson files.")
    files = []
    for name in names:
        path = folder / name
        if path.is_dir():
            continue
        files.append((name, _read_file(path)))
    return _pack_from_files(files, folder.name, None, None)


def _read_zip(source: Path) -> PackSource:
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        raise Refused(f"{source.name} is not a .zip file, or a damaged one.") from None
    except OSError as exc:
        raise Refused(f"{source.name} cannot be read ({exc.strerror or exc}).") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise Refused(f"{source.name} holds more than {MAX_ZIP_ENTRIES:,} entries: not a lesson pack.")
        folders: dict[str, list[zipfile.ZipInfo]] = {}
        for info in infos:
            name = info.filename.replace("\\", "/")
            if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in name.split("/"):
                raise Refused(
                    f"{source.name} holds the entry “{info.filename}”, whose path leaves the pack's folder; "
                    "a lesson pack's zip holds only lesson files."
                )
            parts = name.split("/")
            if info.is_dir() or not name.lower().endswith(".toml") or len(parts) > 2:
                continue
            if parts[0] in _ZIP_LITTER or any(p.startswith(".") or not p for p in parts):
                continue
            folders.setdefault(parts[0] + "/" if len(parts) == 2 else "", []).append(info)
        lessons_at_root = any(Path(i.filename).name != PACK_FILE for i in folders.get("", []))
        if lessons_at_root or (len(folders) == 1 and "" in folders):
            chosen = folders[""]
        elif len(folders) - ("" in folders) > 1:
            tops = ", ".join(sorted(t.rstrip("/") for t in folders if t))
            raise Refused(f"{source.name} holds lesson files in more than one folder ({tops}); keep one.")
        else:  # one top folder (and perhaps a pack.toml beside it, used when the folder has none)
            chosen = next((v for k, v in folders.items() if k), [])
            if not any(Path(i.filename).name == PACK_FILE for i in chosen):
                chosen = chosen + folders.get("", [])
        if sum(Path(i.filename).name != PACK_FILE for i in chosen) > MAX_LESSONS:
            raise Refused(f"it holds more than {MAX_LESSONS} lesson files.")
        files = [(Path(info.filename.replace("\\", "/")).name, _zip_entry(archive, info)) for info in chosen]
    return _pack_from_files(files, source.stem, None, None)


def _zip_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """One entry's bytes, read with a limit: its declared size is checked, and so is what it unpacks to."""
    too_large = f"{info.filename} is larger than {MAX_BYTES:,} bytes: too large for a lesson file."
    if info.file_size > MAX_BYTES:
        raise Refused(too_large)
    try:
        with archive.open(info) as f:
            data = f.read(MAX_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise Refused(f"{info.filename} cannot be unpacked: the zip is damaged ({exc}).") from None
    except (RuntimeError, NotImplementedError) as exc:  # encrypted, or a compression zipfile lacks
        raise Refused(f"{info.filename} cannot be unpacked ({exc}).") from None
    if len(data) > MAX_BYTES:
        raise Refused(too_large)
    return data


def pack_from_files(
    files: Sequence[tuple[str, bytes]],
    *,
    default_name: str,
    pack_id: str | None = None,
    names: Mapping[str, str] | None = None,
) -> PackSource:
    """A pack made of ``files`` ((file name, bytes); a ``pack.toml`` among them names it), every lesson
    checked; ``pack_id`` and ``names`` replace those of the pack.toml (or the default). LessonPackError
    (a sentence without the pack's name in front: the caller names it) if it cannot be used."""
    try:
        return _pack_from_files(files, default_name, pack_id, names)
    except Refused as exc:
        raise LessonPackError(str(exc)) from None


def _pack_from_files(
    files: Sequence[tuple[str, bytes]],
    default_name: str,
    pack_id: str | None,
    names: Mapping[str, str] | None,
) -> PackSource:
    head = [data for name, data in files if name == PACK_FILE]
    written_id, written_names = _read_pack_file(head[0]) if head else (None, None)
    names = dict(names or written_names or {"en": default_name})
    lessons: list[Lesson] = []
    kept: list[tuple[str, bytes]] = []
    seen: dict[str, str] = {}
    taken: set[str] = set()
    for name, data in sorted(files):
        if name == PACK_FILE:
            continue
        lesson = lesson_from_bytes(name, data)
        if lesson.id in seen:
            raise Refused(
                f"{seen[lesson.id]} and {name} are both the lesson {lesson.id!r}: "
                "each lesson needs its own id."
            )
        seen[lesson.id] = name
        safe = (
            name if _SAFE_NAME.match(name) and name.casefold() not in taken else _free_name(lesson.id, taken)
        )
        taken.add(safe.casefold())
        lessons.append(lesson)
        kept.append((safe, data))
    if not lessons:
        raise Refused("it holds no lesson files (.toml).")
    if len(lessons) > MAX_LESSONS:
        raise Refused(f"it holds more than {MAX_LESSONS} lesson files.")
    new_id = pack_id or written_id or slug(_main_name(names)) or slug(default_name) or "pack"
    if not PACK_ID.match(new_id):
        raise Refused(f"{new_id!r} is not a pack id: lowercase letters, digits, - and _.")
    return PackSource(new_id, MappingProxyType(names), tuple(lessons), tuple(kept))


def lesson_from_bytes(name: str, data: bytes) -> Lesson:
    """The lesson in a pack's file (see lesson_files.lesson_from_bytes); Refused if it is not one."""
    try:
        return lesson_files.lesson_from_bytes(data, name)
    except LessonFileError as exc:
        sentence = str(exc)
        raise Refused(sentence if sentence.endswith(".") else sentence + ".") from None


def _free_name(lesson_id: str, taken: set[str]) -> str:
    name, n = f"{lesson_id}.toml", 2
    while name.casefold() in taken:
        name, n = f"{lesson_id}-{n}.toml", n + 1
    return name


def _read_pack_file(data: bytes) -> tuple[str | None, dict[str, str]]:
    """The id and the names a ``pack.toml`` gives."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise Refused(f"{PACK_FILE}: not a valid TOML file: {exc}.") from None
    unknown = sorted(set(doc) - {"id", "name"})
    if unknown:
        raise Refused(f"{PACK_FILE}: {unknown[0]}: is not a field of a pack here; known: id, name.")
    pack_id = doc.get("id")
    if pack_id is not None and not (isinstance(pack_id, str) and PACK_ID.match(pack_id)):
        raise Refused(f"{PACK_FILE}: id: {pack_id!r} is not a pack id: lowercase letters, digits, - and _.")
    value = doc.get("name")
    if value is None:
        raise Refused(f'{PACK_FILE}: name is missing (name = "…", or a name per language).')
    names = {"en": value} if isinstance(value, str) else value
    if not isinstance(names, dict) or not names:
        raise Refused(f'{PACK_FILE}: name: must be text, or a table of names by language (en = "…").')
    for language, text in names.items():
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_NAME:
            raise Refused(f"{PACK_FILE}: name.{language}: must be a name of 1 to {MAX_NAME} characters.")
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise Refused(f"{PACK_FILE}: name.{language}: must be one line of text.")
    return pack_id, names


def pack_file_text(pack_id: str, names: Mapping[str, str]) -> str:
    """The ``pack.toml`` that names a pack (JSON's string escapes are TOML's, for the names' characters)."""
    lines = [f"id = {json.dumps(pack_id)}", "", "[name]"]
    lines += [
        f"{json.dumps(k, ensure_ascii=False)} = {json.dumps(v, ensure_ascii=False)}" for k, v in names.items()
    ]
    return "\n".join(lines) + "\n"


def slug(name: str) -> str:
    """A pack id made of a name: lowercase letters, digits, - and _ (empty when none of them is left)."""
    return re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")[:64].rstrip("-_")


def _main_name(names: Mapping[str, str]) -> str:
    return names.get("en") or next(iter(names.values()), "")


def is_safe_name(name: str) -> bool:
    """Whether ``name`` is a file name a pack's folder may hold (a lesson's, or the pack.toml)."""
    return name == PACK_FILE or bool(_SAFE_NAME.match(name))


def free_name(lesson_id: str, taken: set[str]) -> str:
    """A file name for the lesson ``lesson_id`` that is not in ``taken`` (casefolded names)."""
    return _free_name(lesson_id, taken)
