"""The lesson packs a teacher opened, which TokenDice keeps: :class:`LessonPacks`.

A pack (read by :func:`~desktop_app.core.lesson_pack_files.read_pack` from a lesson file, a folder of
them or a .zip) is installed in one folder (``AppPaths.lessons_dir``), a folder per pack named by its id,
holding the lesson files under their own names and a ``pack.toml`` with its names. A pack is installed
whole or not at all: written into a hidden folder beside it, then put in place by renaming; a pack opened
again with the same id replaces the one there. A lesson of a pack is named ``PACK/ID``. No Qt here.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from pathlib import Path
from types import MappingProxyType

from desktop_app.core.lesson_pack_files import (
    MAX_LESSONS,
    PACK_FILE,
    PACK_ID,
    LessonPackError,
    PackSource,
    Refused,
    free_name,
    lesson_from_bytes,
    pack_from_files,
    read_folder,
    read_pack,
)
from desktop_app.core.lesson_types import Lesson
from desktop_app.core.lesson_writer import write_atomically

__all__ = [
    "BUILTIN",
    "MINE",
    "LessonPackError",
    "LessonPacks",
    "Pack",
    "PackSource",
    "builtin_pack",
    "lesson_refs",
    "pack_from_files",
    "read_pack",
]

MINE = "my-lessons"  # the pack add_lesson writes to unless told otherwise
BUILTIN = "builtin"  # the id the built-in lessons have as a pack (builtin_pack)


@dataclass(frozen=True)
class Pack:
    """An installed pack: its lessons, or ``error`` (the sentence) when its folder cannot be read."""

    id: str
    name: str  # the English name, or the only one
    folder: Path
    lessons: tuple[Lesson, ...] = ()
    error: str | None = None
    names: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    files: tuple[str, ...] = ()  # the lessons' file names in ``folder``, in the order of ``lessons``
    replaced: bool = False  # (from LessonPacks.add) it replaced a pack with the same id

    def title(self, language: str) -> str:
        return self.names.get(language) or self.name

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((x for x in self.lessons if x.id == lesson_id), None)

    def path_of(self, lesson_id: str) -> Path | None:
        """The file of the lesson ``lesson_id``, if the pack has it."""
        for lesson, name in zip(self.lessons, self.files, strict=True):
            if lesson.id == lesson_id:
                return self.folder / name
        return None


# --- the installed packs -------------------------------------------------------------------------------
class LessonPacks:
    """The packs a teacher opened, one folder each under ``root``."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def packs(self) -> list[Pack]:
        """Every installed pack, by name; a folder that cannot be read is listed with its ``error``.
        LessonPackError only when the packs' folder itself cannot be read."""
        try:
            with os.scandir(self.root) as it:
                folders = [Path(e.path) for e in it if e.is_dir() and not e.name.startswith(".")]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise LessonPackError(
                f"The lesson packs' folder {self.root} cannot be read ({exc.strerror or exc}); "
                "make it readable to see the packs."
            ) from None
        return sorted((self._load(f) for f in folders), key=lambda p: (p.name.casefold(), p.id))

    def get(self, pack_id: str) -> Pack:
        """The installed pack ``pack_id`` (with its ``error`` if it cannot be read); LessonPackError if
        there is none."""
        folder = self.root / pack_id
        if not PACK_ID.match(pack_id) or not folder.is_dir():
            known = ", ".join(p.id for p in self.packs())
            there = f"the packs are: {known}" if known else "no lesson pack is installed"
            raise LessonPackError(f"There is no lesson pack {pack_id!r}; {there}.")
        return self._load(folder)

    def find(self, ref: str) -> tuple[Pack, Lesson] | None:
        """The lesson named ``PACK/ID``, with its pack; None when there is none."""
        pack_id, _, lesson_id = ref.partition("/")
        if not lesson_id or not PACK_ID.match(pack_id) or not (self.root / pack_id).is_dir():
            return None
        pack = self._load(self.root / pack_id)
        lesson = pack.lesson(lesson_id)
        return (pack, lesson) if lesson is not None else None

    def add(self, source: Path) -> Pack:
        """Open the pack in ``source`` and install it (replacing one with the same id: ``replaced``)."""
        return self.install(read_pack(source))

    def install(self, pack: PackSource) -> Pack:
        """Install a pack read before, whole or not at all; one with the same id is replaced (and kept
        intact if this fails: LessonPackError with the sentence)."""
        return self.install_all([pack])[0]

    def install_all(self, packs: Sequence[PackSource]) -> tuple[Pack, ...]:
        """Install packs read before, all of them or none (a classroom kit's): each is written whole
        first, then they take their places; packs with the same ids are replaced, and put back if any
        fails (LessonPackError with the sentence)."""
        staged: list[tuple[PackSource, Path]] = []
        placed: list[tuple[Path, Path | None]] = []  # each pack in its place, and the one it replaced
        failing: PackSource | None = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            for pack in packs:
                self._clear_leftovers(pack.id)
            for pack in packs:
                failing = pack
                tmp = self.root / f".{pack.id}.new-{secrets.token_hex(4)}"
                tmp.mkdir()
                staged.append((pack, tmp))
                for name, data in pack.folder_files():
                    _write(tmp / name, data)
            for pack, tmp in staged:
                failing = pack
                target = self.root / pack.id
                old = self.root / f".{pack.id}.old-{secrets.token_hex(4)}"
                placed.append((target, old if _swap(tmp, target, old) else None))
        except BaseException as exc:
            for target, old in reversed(placed):  # what was there goes back
                shutil.rmtree(target, ignore_errors=True)
                if old is not None:
                    with contextlib.suppress(OSError):
                        os.rename(old, target)
            for _pack, tmp in staged:
                shutil.rmtree(tmp, ignore_errors=True)  # our own copies; the error is raised below
            if not isinstance(exc, OSError):
                raise
            there = [p for p in packs if (self.root / p.id).is_dir()]
            kept = ("the packs that were there are kept" if len(there) > 1 else
                    "the pack that was there is kept" if there else "nothing was installed")  # fmt: skip
            name = failing.name if failing is not None else "?"
            raise LessonPackError(
                f"The lesson pack “{name}” could not be saved in {self.root} ({exc.strerror or exc}); "
                f"{kept}. Free some disk space or make the folder writable, then open it again."
            ) from None
        for _target, old in placed:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)  # replaced; a leftover is cleared by the next install
        return tuple(_replace(self._load(target), replaced=old is not None) for target, old in placed)

    def remove(self, pack_id: str) -> Pack:
        """Remove an installed pack (its folder and files); returns it as it was."""
        pack = self.get(pack_id)
        trash = self.root / f".{pack_id}.removed-{secrets.token_hex(4)}"
        try:
            os.rename(pack.folder, trash)
        except OSError as exc:
            raise LessonPackError(
                f"The lesson pack “{pack.name}” could not be removed from {self.root} "
                f"({exc.strerror or exc}); make the folder writable and try again."
            ) from None
        shutil.rmtree(trash, ignore_errors=True)  # out of the list already; what is left is cleared later
        return pack

    def add_lesson(
        self, text: str, *, pack_id: str = MINE, pack_name: str = "My lessons", replace: bool = False
    ) -> tuple[Pack, Path]:
        """Save the lesson file ``text`` in the pack ``pack_id`` (made, named ``pack_name``, if there is
        none) as ``<lesson id>.toml``; a lesson with that id is replaced only when ``replace``. Returns the
        pack as it is now and the lesson's file."""
        if not PACK_ID.match(pack_id):
            raise LessonPackError(f"{pack_id!r} is not a pack id: lowercase letters, digits, - and _.")
        data = text.encode("utf-8")
        try:
            lesson = lesson_from_bytes("the lesson", data)
        except Refused as exc:
            raise LessonPackError(f"The lesson was not saved: {exc}") from None
        folder = self.root / pack_id
        if not folder.is_dir():
            files = [(f"{lesson.id}.toml", data)]
            new = pack_from_files(files, default_name=pack_name, pack_id=pack_id, names={"en": pack_name})
            made = self.install(new)
            return made, made.folder / made.files[0]
        pack = self._load(folder)
        if pack.error is not None:
            raise LessonPackError(f"The lesson was not saved: {pack.error}")
        existing = pack.path_of(lesson.id)
        if existing is not None and not replace:
            raise LessonPackError(
                f"The pack “{pack.name}” has a lesson {lesson.id!r} already; replace it, "
                "or give the new lesson another id."
            )
        if existing is None and len(pack.lessons) >= MAX_LESSONS:
            raise LessonPackError(f"The pack “{pack.name}” holds {MAX_LESSONS} lessons: no more fit in it.")
        path = existing or folder / free_name(lesson.id, {n.casefold() for n in pack.files} | {PACK_FILE})
        try:
            write_atomically(path, data)
        except OSError as exc:  # its sentence names the file, the reason and what to do
            raise LessonPackError(f"The lesson {lesson.id!r} was not saved: {exc}") from None
        return self._load(folder), path

    # --- helpers ------------------------------------------------------------------------------------
    def _load(self, folder: Path) -> Pack:
        pack_id = folder.name
        if not PACK_ID.match(pack_id):
            error = f"The folder {folder} is not a lesson pack's: its name is not a pack id; remove it."
            return Pack(pack_id, pack_id, folder, error=error)
        try:
            src = read_folder(folder)
        except Refused as exc:
            error = f"The lesson pack in {folder} cannot be used: {exc} Open the pack again, or remove it."
            return Pack(pack_id, pack_id, folder, error=error)
        names = src.names
        return Pack(pack_id, src.name, folder, src.lessons, None, names, tuple(n for n, _ in src.files))

    def _clear_leftovers(self, pack_id: str) -> None:
        """Remove what an install or removal of ``pack_id`` that was cut short left (hidden folders)."""
        for prefix in ("new", "old", "removed"):
            for left in self.root.glob(f".{pack_id}.{prefix}-*"):
                shutil.rmtree(left, ignore_errors=True)  # best effort: they are hidden and never read


def _swap(new: Path, target: Path, old: Path) -> bool:
    """Put the folder ``new`` in ``target``'s place; whether there was one (then moved to ``old``)."""
    if not target.exists():
        os.rename(new, target)
        return False
    os.rename(target, old)
    try:
        os.rename(new, target)
    except OSError:
        os.rename(old, target)
        raise
    return True


def _write(path: Path, data: bytes) -> None:
    with path.open("xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def builtin_pack() -> PackSource:
    """The built-in lessons (``resources/lessons``) as a pack, to carry in a classroom kit."""
    from desktop_app.resources_path import resources_dir

    pack = read_pack(resources_dir() / "lessons")
    names = MappingProxyType({"en": "TokenDice's lessons", "zh_TW": "TokenDice 內建課程"})
    return _replace(pack, id=BUILTIN, names=names)


def lesson_refs(packs: Iterable[Pack]) -> list[tuple[str, Pack, Lesson]]:
    """``(PACK/ID, pack, lesson)`` for every lesson of the usable packs."""
    return [(f"{p.id}/{x.id}", p, x) for p in packs if p.error is None for x in p.lessons]
