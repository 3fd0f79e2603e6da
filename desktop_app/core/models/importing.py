"""Adding local GGUF files to the library, in two halves: the file work on any thread, the registering on
the library's own.

:func:`prepare_import` reads the file's header, copies it into the models folder (under a temporary name,
renamed when complete: a failed or cancelled copy leaves no model behind) and asks llama.cpp whether it can
load it (:func:`~desktop_app.core.models.library.inspect_file`, a child process): seconds to minutes for a
large file, so the window runs it on a worker thread. :func:`prepare_discovery` does the same for the files
found in other programs' folders. :func:`register` is a few database writes, on the thread that owns the
library (SQLite connections belong to the thread that opened them). :func:`import_file` is both, in turn.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Container, Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.models.gguf_meta import read_metadata
from desktop_app.core.models.library import Inspection, Library, ModelEntry, ModelNotFound, inspect_file
from desktop_app.core.models.local_files import default_discovery_roots, discoverable_files
from desktop_app.core.safe_text import shown

_CHUNK = 16 << 20  # bytes copied between two looks at the cancel flag


class ImportCancelled(Exception):
    """The copy was cancelled (the window closed); nothing was added and no partial file is left."""


@dataclass(frozen=True)
class PreparedImport:
    """A file ready to join the library: where it is, how, and what it holds."""

    path: Path  # absolute: the copy in the models folder, or the file where it is
    source: str  # imported | referenced
    display_name: str
    inspection: Inspection | None  # None: the file is in the library already (its entry says it all)
    repo_id: str | None = None
    filename: str | None = None


def prepare_import(
    path: str | Path,
    *,
    copy: bool,
    models_dir: Path,
    known: Container[str] = frozenset(),
    check_loadable: bool = True,
    cancel: threading.Event | None = None,
) -> PreparedImport:
    """The file work of adding a local .gguf: copied into ``models_dir/local`` (``copy``) or used where it is.

    ``known``: the library's paths (:meth:`Library.known_paths`), read before on the library's thread. The
    header is read first: a file that is not a GGUF model is refused (GGUFError, with the reason) and
    nothing is copied. OSError (with a sentence) when the copy fails; ImportCancelled when ``cancel`` is set.
    """
    source_path = Path(path).expanduser()
    if not source_path.is_file():
        raise ModelNotFound(f"the file {source_path} does not exist")
    read_metadata(source_path)  # raises GGUFError with the reason
    if copy:
        target, source = _copy_into(source_path, models_dir / "local", known, cancel), "imported"
    else:
        target, source = Path(os.path.abspath(source_path)), "referenced"
    inspection = None if str(target) in known else inspect_file(target, check_loadable=check_loadable)
    return PreparedImport(target, source, source_path.stem, inspection)


def prepare_discovery(
    known: Container[str],
    roots: Sequence[tuple[str, Path]] | None = None,
    *,
    check_loadable: bool = True,
) -> list[PreparedImport]:
    """The GGUF models in the Hugging Face cache and LM Studio's folders (or ``roots``) that are not in
    ``known``, each read and checked: the file work of :meth:`Library.discover`, for any thread."""
    found = discoverable_files(roots if roots is not None else default_discovery_roots(), known)
    prepared = []
    for path, repo_id in found:
        try:
            inspection: Inspection | None = inspect_file(path, check_loadable=check_loadable)
        except OSError:
            inspection = None  # unreadable: the library's own look at it will say why
        prepared.append(PreparedImport(path, "referenced", path.stem, inspection, repo_id, path.name))
    return prepared


def register(library: Library, prepared: PreparedImport) -> ModelEntry:
    """Add a prepared file to ``library`` (on the library's own thread); returns its entry."""
    if prepared.inspection is not None:
        library.remember(prepared.inspection)
    return library.add(
        prepared.path,
        source=prepared.source,
        display_name=prepared.display_name,
        repo_id=prepared.repo_id,
        filename=prepared.filename,
    )


def import_file(library: Library, path: str | Path, *, copy: bool, models_dir: Path) -> ModelEntry:
    """Add a local .gguf to ``library`` in this thread: :func:`prepare_import`, then :func:`register`."""
    prepared = prepare_import(
        path,
        copy=copy,
        models_dir=models_dir,
        known=library.known_paths(),
        check_loadable=library.check_loadable,
    )
    return register(library, prepared)


def _copy_into(source: Path, target_dir: Path, known: Container[str], cancel: threading.Event | None) -> Path:
    """Copy ``source`` into ``target_dir`` under a free name (or find the copy the library has already)."""
    size = source.stat().st_size
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(target_dir).free
    except OSError as exc:
        raise _copy_failed(source, target_dir, exc) from exc
    # The copy's name is UTF-8 (bytes that are not become U+FFFD): the app's own files have names it shows.
    name, stem = shown(source.name), shown(source.stem)
    target, n = target_dir / name, 2
    while target.exists():
        if target.stat().st_size == size and str(Path(os.path.abspath(target))) in known:
            return Path(os.path.abspath(target))  # imported before: the same copy again
        target, n = target_dir / f"{stem}-{n}{source.suffix}", n + 1
    if size > free:
        raise OSError(
            f"not enough disk space to copy {source.name}: it needs {size / 1e9:.1f} GB and "
            f"{free / 1e9:.1f} GB are free (use it where it is instead)"
        )
    partial = target.with_name(target.name + ".part")
    try:
        with source.open("rb") as reader, partial.open("wb") as writer:
            while chunk := reader.read(_CHUNK):
                if cancel is not None and cancel.is_set():
                    raise ImportCancelled(f"the copy of {source.name} was cancelled")
                writer.write(chunk)
        os.replace(partial, target)
    except OSError as exc:
        raise _copy_failed(source, target_dir, exc) from exc
    finally:
        partial.unlink(missing_ok=True)
    return Path(os.path.abspath(target))


def _copy_failed(source: Path, target_dir: Path, exc: OSError) -> OSError:
    return OSError(
        f"copying {source.name} into {target_dir} failed ({exc.strerror or exc}): free some disk space or "
        "make the folder writable, or use the file where it is instead"
    )
