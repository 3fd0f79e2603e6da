"""Classroom kits: lesson packs and models in one folder (a USB stick), each file with its SHA-256,
checked and installed on a machine without internet.

A kit folder holds ``tokendice-kit.json`` (:mod:`desktop_app.core.kit_manifest`), ``lessons/<pack id>/``
and ``models/…``. :func:`export_kit` copies the files while hashing them (one read each) and writes the
manifest last: a kit without one is an unfinished copy. :func:`verify_kit` (in kit_files.py) reads the
manifest and checks every file's size and SHA-256, and every lesson as a lesson, before anything is
installed. :func:`install_kit` is the file work, for any thread: each model copied to where a download
would land (``models/<owner>/<repo>/<file>``, or ``models/local/<file>`` for a local file) under a
temporary name and then renamed, not copied again when the very file is there, never over a different
one (it goes beside it, under a new name); then the lesson packs. :func:`register_kit` is the library's
part, on the library's own thread (SQLite). :func:`import_kit` is all three in turn. No Qt here.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from dataclasses import replace as _replace
from pathlib import Path, PurePosixPath

from desktop_app import __version__
from desktop_app.core.kit_files import (
    SPACE_MARGIN,
    UNFINISHED,
    Kit,
    KitCancelled,
    KitError,
    Meter,
    ProgressFn,
    copy_file,
    free_bytes,
    hash_file,
    in_kit,
    numbered,
    verify_kit,
    why,
    write_durably,
)
from desktop_app.core.kit_manifest import (
    MANIFEST,
    KitFile,
    KitManifest,
    KitModel,
    KitPack,
    file_name,
    path_problem,
)
from desktop_app.core.lesson_packs import LessonPackError, LessonPacks, Pack, PackSource, read_pack
from desktop_app.core.models.curated import CuratedModel
from desktop_app.core.models.download_errors import DownloadError, DownloadRequest, check_names
from desktop_app.core.models.library import Inspection, Library, ModelEntry, inspect_file
from desktop_app.core.models.local_files import absolute, model_files
from desktop_app.core.units import size_text

__all__ = [
    "MANIFEST",
    "ImportedKit",
    "InstallPlan",
    "InstalledModel",
    "Kit",
    "KitCancelled",
    "KitError",
    "KitManifest",
    "export_kit",
    "import_kit",
    "install_kit",
    "missing_recommendations",
    "register_kit",
    "verify_kit",
]

_NOT_OURS = {"System Volume Information", "$RECYCLE.BIN"}  # what an operating system puts on a stick


@dataclass(frozen=True)
class InstalledModel:
    """A kit's model in the models folder, ready to be registered."""

    name: str
    path: Path  # its (first) file
    repo_id: str | None
    filename: str
    copied: bool  # False: the very file was there already
    inspection: Inspection | None  # None: the library knows the file already


@dataclass(frozen=True)
class InstallPlan:
    """What :func:`install_kit` put in place, and what the library must register (:func:`register_kit`)."""

    kit: Kit
    models: tuple[InstalledModel, ...]
    packs: tuple[Pack, ...]


@dataclass(frozen=True)
class ImportedKit:
    """What :func:`import_kit` installed: the plan, and the models' library entries (in its order)."""

    plan: InstallPlan
    models: tuple[ModelEntry, ...]

    @property
    def packs(self) -> tuple[Pack, ...]:
        return self.plan.packs


# --- export -----------------------------------------------------------------------------------------------
def export_kit(
    dest: Path,
    packs: Sequence[Pack | PackSource],
    models: Sequence[ModelEntry],
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> KitManifest:
    """Copy ``packs`` and ``models`` into the kit folder ``dest`` (empty, new, or an earlier kit's) and
    write its manifest last; KitError (a sentence) if it cannot."""
    dest = absolute(Path(dest))
    sources = [_source_of(p) for p in packs]
    if len({s.id for s in sources}) != len(sources):
        raise KitError("The kit was not exported: two of its lesson packs have one id; take each once.")
    used: set[str] = set()
    lesson_files = [[(f"lessons/{s.id}/{n}", d) for n, d in s.folder_files()] for s in sources]
    used |= {path.casefold() for files in lesson_files for path, _ in files}
    planned = _plan_models(models, used)
    try:
        model_bytes = sum(p.stat().st_size for _, fs in planned for _, p in fs)
    except OSError as exc:
        raise KitError(f"The kit was not exported: a model's file cannot be read ({why(exc)}).") from None
    total = sum(len(d) for files in lesson_files for _, d in files) + model_bytes
    earlier = _earlier_kit(dest)
    need, free = total + SPACE_MARGIN, free_bytes(dest) + earlier
    if need > free:
        raise KitError(
            f"The kit was not exported: it needs {size_text(need)} in {dest} and {size_text(free)} are "
            "free; use a larger stick, or carry fewer models."
        )
    meter = Meter(progress, total, cancel)
    try:
        if earlier or (dest / MANIFEST).exists():
            _clear(dest)
        dest.mkdir(parents=True, exist_ok=True)
        (dest / UNFINISHED).write_bytes(b"")
        kit_packs = [
            KitPack(s.id, s.names, tuple(_write_bytes(dest, path, data, meter) for path, data in files))
            for s, files in zip(sources, lesson_files, strict=True)
        ]
        kit_models = [
            KitModel(e.display_name, repo, name, tuple(_copy_out(dest, path, src, meter) for path, src in fs))
            for (e, repo, name), fs in planned
        ]
        created = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        manifest = KitManifest(created, __version__, tuple(kit_packs), tuple(kit_models))
        text = json.dumps(manifest.to_json(), indent=1, ensure_ascii=False) + "\n"
        tmp = dest / f".{MANIFEST}.tmp"
        write_durably(tmp, text.encode("utf-8"))
        os.replace(tmp, dest / MANIFEST)
        (dest / UNFINISHED).unlink()
    except OSError as exc:
        raise KitError(f"The kit was not exported: writing in {dest} failed ({why(exc)}).") from None
    return manifest


def _source_of(pack: Pack | PackSource) -> PackSource:
    if isinstance(pack, PackSource):
        return pack
    if pack.error is not None:
        raise KitError(f"The kit was not exported: {pack.error}")
    try:
        return _replace(read_pack(pack.folder), id=pack.id)
    except LessonPackError as exc:
        raise KitError(f"The kit was not exported: {exc}") from None


def _plan_models(
    models: Sequence[ModelEntry], used: set[str]
) -> list[tuple[tuple[ModelEntry, str | None, str], list[tuple[str, Path]]]]:
    """Each model with its repository and file name, and its files with their paths in the kit."""
    planned = []
    seen: set[Path] = set()
    for entry in models:
        if entry.path in seen:
            continue
        seen.add(entry.path)
        parts = model_files(entry.path)
        for part in parts:
            if not part.is_file():
                raise KitError(
                    f"The kit was not exported: the model “{entry.display_name}” has no file {part}; "
                    "download or import it again, or leave it out."
                )
        repo, filename = entry.repo_id, entry.filename or entry.path.name
        try:
            if repo is not None:
                check_names(DownloadRequest(repo, filename))
        except DownloadError:
            repo, filename = None, entry.path.name  # not a hub name after all: a local file
        folder = "models/" + (repo + _parent(filename) if repo is not None else "local")
        names = [p.name for p in parts]
        n = 1
        while any(f"{folder}/{numbered(x, n)}".casefold() in used for x in names):
            n += 1
        paths = [f"{folder}/{numbered(x, n)}" for x in names]
        for path in paths:
            if (problem := path_problem(path)) is not None:
                raise KitError(f"The kit was not exported: the model file {path} {problem}; rename it.")
            used.add(path.casefold())
        planned.append(((entry, repo, filename), list(zip(paths, parts, strict=True))))
    return planned


def _parent(filename: str) -> str:
    parent = PurePosixPath(filename).parent
    return "" if str(parent) == "." else f"/{parent}"


def _earlier_kit(dest: Path) -> int:
    """The bytes an earlier kit in ``dest`` holds (0 for none); KitError when ``dest`` holds other things."""
    try:
        if not dest.exists():
            return 0
        if not dest.is_dir():
            raise KitError(f"The kit was not exported: {dest} is a file, not a folder; choose a folder.")
        with os.scandir(dest) as it:
            names = {e.name for e in it if not e.name.startswith(".") and e.name not in _NOT_OURS}
        if not names:
            return 0
        if names <= {MANIFEST, UNFINISHED, "lessons", "models"} and names & {MANIFEST, UNFINISHED}:
            files = [p for sub in ("lessons", "models") for p in (dest / sub).rglob("*") if p.is_file()]
            return sum(p.stat().st_size for p in files)
    except OSError as exc:
        raise KitError(f"The kit was not exported: {dest} cannot be read ({why(exc)}).") from None
    shown = ", ".join(sorted(names)[:3]) + (", …" if len(names) > 3 else "")
    raise KitError(
        f"The kit was not exported: {dest} holds other files ({shown}); choose an empty folder, "
        "or one that holds an earlier kit."
    )


def _clear(dest: Path) -> None:
    """Remove an earlier kit from ``dest``: its manifest first (what is left is an unfinished kit)."""
    (dest / MANIFEST).unlink(missing_ok=True)
    (dest / UNFINISHED).write_bytes(b"")
    for sub in ("lessons", "models"):
        if (dest / sub).exists():
            shutil.rmtree(dest / sub)


def _write_bytes(dest: Path, path: str, data: bytes, meter: Meter) -> KitFile:
    target = dest / path
    target.parent.mkdir(parents=True, exist_ok=True)
    write_durably(target, data)
    meter.add(len(data), f"copying {path}")
    return KitFile(path, len(data), hashlib.sha256(data).hexdigest())


def _copy_out(dest: Path, path: str, source: Path, meter: Meter) -> KitFile:
    target = dest / path
    target.parent.mkdir(parents=True, exist_ok=True)
    size, sha = copy_file(source, target, meter, f"copying {path}")
    return KitFile(path, size, sha)


# --- install ----------------------------------------------------------------------------------------------
def install_kit(
    kit: Kit,
    *,
    models_dir: Path,
    packs: LessonPacks,
    known: Container[str],
    check_loadable: bool = True,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> InstallPlan:
    """The file work of installing a verified kit (any thread): its models copied into ``models_dir``
    and read (:func:`inspect_file`, unless their paths are in ``known``, the library's paths), then its
    lesson packs installed. A failure removes the models it copied and raises KitError."""
    models_dir = absolute(Path(models_dir))
    meter = Meter(progress, sum(m.size for m in kit.manifest.models), cancel)
    placed = [(m, _place(m, models_dir, meter)) for m in kit.manifest.models]
    to_copy = [(f, target) for _, files in placed for f, target, there in files if not there]
    need = sum(f.size for f, _ in to_copy) + SPACE_MARGIN
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        free = free_bytes(models_dir)
    except OSError as exc:
        raise KitError(f"The kit was not installed: {models_dir} cannot be written ({why(exc)}).") from None
    if to_copy and need > free:
        raise KitError(
            f"The kit was not installed: its models need {size_text(need)} in {models_dir} and "
            f"{size_text(free)} are free. Free some disk space and import the kit again."
        )
    copied: list[Path] = []
    try:
        for f, target in to_copy:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                raise KitError(f"The kit was not installed: {target} appeared meanwhile; try again.")
            copy_file(in_kit(kit.root, f), target, meter, f"copying {f.path}", expect=f.sha256)
            copied.append(target)
        installed = tuple(_installed(m, files, known, check_loadable) for m, files in placed)
        installed_packs = packs.install_all(kit.packs)  # all of them or none
    except BaseException as exc:
        for path in copied:
            path.unlink(missing_ok=True)
        if isinstance(exc, LessonPackError):
            raise KitError(f"The kit was not installed: {exc}") from None
        if isinstance(exc, OSError):
            raise KitError(
                f"The kit was not installed: copying into {models_dir} failed ({why(exc)})."
            ) from None
        raise
    return InstallPlan(kit, installed, installed_packs)


def _place(model: KitModel, models_dir: Path, meter: Meter) -> list[tuple[KitFile, Path, bool]]:
    """Where each file of ``model`` goes, and whether the very file is there already."""
    if model.repo_id is not None:
        folder = models_dir.joinpath(*model.repo_id.split("/"), *PurePosixPath(model.filename).parent.parts)
    else:
        folder = models_dir / "local"
    names = [file_name(f.path) for f in model.files]
    for n in range(1, 1000):
        targets = [folder / numbered(x, n) for x in names]
        if not all(t.resolve().is_relative_to(models_dir.resolve()) for t in targets):
            raise KitError(
                f"The kit was not installed: the model “{model.name}” would leave the models folder."
            )
        states = []
        for f, target in zip(model.files, targets, strict=True):
            state = _same_file(target, f, meter)
            if state is False:
                break
            states.append(state is True)
        else:
            return [(f, t, there) for f, t, there in zip(model.files, targets, states, strict=True)]
    raise KitError(
        f"The kit was not installed: there is no free name for the model “{model.name}” in {folder}."
    )


def _same_file(target: Path, f: KitFile, meter: Meter) -> bool | None:
    """None: ``target`` is not there; True: it is the very file ``f``; False: it is another."""
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KitError(f"The kit was not installed: {target} cannot be read ({why(exc)}).") from None
    if not os.path.isfile(target) or os.path.islink(target) or st.st_size != f.size:
        return False
    try:
        return hash_file(target, meter, f"checking {target.name}")[1] == f.sha256
    except OSError as exc:
        raise KitError(f"The kit was not installed: {target} cannot be read ({why(exc)}).") from None


def _installed(
    model: KitModel, files: list[tuple[KitFile, Path, bool]], known: Container[str], check_loadable: bool
) -> InstalledModel:
    path = absolute(files[0][1])
    inspection = None if str(path) in known else inspect_file(path, check_loadable=check_loadable)
    copied = not all(there for _, _, there in files)
    return InstalledModel(model.name, path, model.repo_id, model.filename, copied, inspection)


def register_kit(library: Library, plan: InstallPlan) -> list[ModelEntry]:
    """Add an installed kit's models to ``library`` (on the library's own thread); their entries. A model
    the library has already keeps its entry."""
    entries = []
    for m in plan.models:
        if m.inspection is not None:
            library.remember(m.inspection)
        if m.repo_id is not None:
            entry = library.register_download(
                m.path, repo_id=m.repo_id, filename=m.filename, display_name=m.name
            )
        else:
            entry = library.add(m.path, source="imported", display_name=m.name)
        entries.append(entry)
    return entries


def import_kit(
    library: Library,
    src: Path,
    *,
    models_dir: Path,
    packs: LessonPacks,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> ImportedKit:
    """Check the kit in ``src``, install it and register its models, in this thread (for the CLI).
    Nothing is installed when the check fails."""
    kit = verify_kit(src, progress=progress, cancel=cancel)
    plan = install_kit(
        kit,
        models_dir=models_dir,
        packs=packs,
        known=library.known_paths(),
        check_loadable=library.check_loadable,
        progress=progress,
        cancel=cancel,
    )
    return ImportedKit(plan, tuple(register_kit(library, plan)))


def missing_recommendations(
    packs: Sequence[Pack | PackSource], carried: Iterable[tuple[str | None, str]]
) -> list[tuple[str, CuratedModel]]:
    """``(PACK/ID, model)`` for each lesson of ``packs`` whose recommended model (in any language) is not
    among the ``carried`` models (their repository and file)."""
    have = set(carried)
    missing: list[tuple[str, CuratedModel]] = []
    for pack in packs:
        for lesson in pack.lessons:
            for model in lesson.recommended_models():
                item = (f"{pack.id}/{lesson.id}", model)
                if (model.repo_id, model.filename) not in have and item not in missing:
                    missing.append(item)
    return missing
