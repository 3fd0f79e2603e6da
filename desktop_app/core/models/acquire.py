"""Get one *model* from the hub into the library: every part of a split GGUF, one progress, one cancel.

A model is what :meth:`Hub.files <desktop_app.core.models.hub.Hub.files>` lists as one row: a single
``.gguf`` file, or all the parts of a split one (``name-00001-of-00003.gguf`` …), which go into the same
folder; llama.cpp opens the first part and finds the others beside it. :func:`acquire_model`

1. checks the names (nothing may leave the models folder) before any request,
2. finds the file in the repository's GGUF listing, pinned to the listing's commit so that all parts
   come from the same version (a part's name, or a bare file name unique in the repository, work too);
   a hub that lists no files (a mirror serving only ``resolve``) is asked with a HEAD per file instead,
3. refuses a vision projector, an importance matrix, an incomplete split set or a listed name that
   could leave the models folder with a sentence,
4. checks the disk space for what is still missing (all parts together, before the first byte),
5. downloads the parts one after the other with :class:`~desktop_app.core.models.download.Downloader`
   (resumable; a part already in place is verified, not fetched again),
6. registers the first part in the :class:`~desktop_app.core.models.library.Library`.

:func:`fetch_model` does steps 1–5 and returns a :class:`FetchedModel` (the first part's path, the
repository, the file and a display name) without touching the library, so that a caller whose library
lives on another thread (the desktop app: SQLite connections belong to the thread that opened them)
downloads on a worker thread and registers on its own with :meth:`FetchedModel.register`.
:func:`acquire_model` is both at once, for the command line.

Failures are :class:`AcquireError`, whose ``kind`` comes from the hub, the downloader or this module
(``not_in_repo``, ``not_a_model``, ``incomplete``) and whose text is one sentence for the user.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.models.download import Downloader, DownloadError, DownloadRequest, check_names
from desktop_app.core.models.hub import Hub, HubError, ModelFile, group_gguf_files, split_part
from desktop_app.core.models.library import Inspection, Library, ModelEntry, inspect_file
from desktop_app.core.models.progress import Progress

_COMMIT = re.compile(r"^[0-9a-f]{40}$")


class AcquireError(Exception):
    """A model that could not be fetched; ``str(error)`` is the sentence, ``kind`` is for the code."""

    def __init__(self, sentence: str, kind: str):
        super().__init__(sentence)
        self.sentence = sentence
        self.kind = kind


@dataclass(frozen=True)
class ModelProgress:
    """Progress over all the parts of a model: bytes of every part together, and which part is running."""

    done_bytes: int
    total_bytes: int | None
    bytes_per_s: float
    eta_s: float | None
    part: int  # 1-based
    parts: int
    filename: str  # the part being downloaded

    @property
    def fraction(self) -> float | None:
        return self.done_bytes / self.total_bytes if self.total_bytes else None


def find_model_file(repo_id: str, files: Sequence[ModelFile], filename: str) -> ModelFile:
    """The row of ``files`` that ``filename`` names: its path, one of its parts' paths, or a bare file
    name found once in the repository. Raises AcquireError for an unknown name or a file that is not a
    loadable model (a projector, an importance matrix, a split set with parts missing)."""
    wanted = filename.strip()
    match = next((f for f in files if f.name == wanted or any(p.path == wanted for p in f.parts)), None)
    if match is None:
        by_base = [
            f
            for f in files
            if any(posixpath.basename(p.path) == wanted for p in f.parts) or f.filename == wanted
        ]
        if len(by_base) == 1:
            match = by_base[0]
        elif len(by_base) > 1:
            names = ", ".join(f.name for f in by_base)
            raise AcquireError(
                f"{repo_id} has several files named {wanted} ({names}); give the one you want with its "
                "folder.",
                "not_in_repo",
            )
    if match is None:
        raise AcquireError(_not_in_repo(repo_id, files, wanted), "not_in_repo")
    if match.refused is not None:
        raise AcquireError(match.refused, "bad_name")
    if match.kind == "mmproj":
        raise AcquireError(
            f"{match.name} is a vision projector (mmproj): it adds image input to a model and cannot be "
            f"loaded on its own. Download one of the model files of {repo_id} instead.",
            "not_a_model",
        )
    if match.kind == "imatrix":
        raise AcquireError(
            f"{match.name} is an importance matrix used to make quantizations, not a model. Download one "
            f"of the model files of {repo_id} instead.",
            "not_a_model",
        )
    if not match.complete:
        have = ", ".join(str(_part_index(p.path)) for p in match.parts)
        raise AcquireError(
            f"{match.name} is split into {match.split_total} parts, but {repo_id} has only part(s) {have}, "
            "so it cannot be loaded; choose another file, or ask the repository's author.",
            "incomplete",
        )
    return match


def _part_index(path: str) -> int:
    split = split_part(path)
    return split[1] if split else 1


def _not_in_repo(repo_id: str, files: Sequence[ModelFile], wanted: str) -> str:
    models = [f.name for f in files if f.loadable]
    if not models:
        return f"{repo_id} has no GGUF model file that llama.cpp can load, so {wanted} cannot be downloaded."
    shown = ", ".join(models[:6]) + (f" and {len(models) - 6} more" if len(models) > 6 else "")
    what = "GGUF model file" if wanted.lower().endswith(".gguf") else "GGUF model file (a .gguf)"
    return (
        f"{repo_id} has no {what} named {wanted}; its models are: {shown} "
        f"(see `tokendice models files {repo_id}`)."
    )


def display_name(model: ModelFile) -> str:
    """The model's name without folder, ``.gguf`` and the ``-00001-of-00003`` of a split model."""
    base = model.filename
    if split := split_part(base):
        return split[0]
    return base[:-5] if base.lower().endswith(".gguf") else base


def part_paths(downloader: Downloader, repo_id: str, model: ModelFile) -> list[Path]:
    """Where each part of ``model`` is (or will be) on disk; raises DownloadError(bad_name)."""
    return [downloader.target_path(DownloadRequest(repo_id, p.path)) for p in model.parts]


def _existing_folder(folder: Path) -> Path:
    """``folder`` or its nearest existing parent (where the free space can be measured)."""
    while not folder.is_dir() and folder.parent != folder:
        folder = folder.parent
    return folder


def _missing_bytes(path: Path, size: int | None) -> int:
    """Bytes still to fetch for one part: none when in place with the right size (it is verified
    anyway), what a resumable ``.part`` lacks, else all."""
    if size is None:
        return 0
    try:
        if path.stat().st_size == size:
            return 0
    except OSError:
        pass
    try:
        held = path.with_name(path.name + ".part").stat().st_size
    except OSError:
        held = 0
    return max(size - min(held, size), 0)


@dataclass(frozen=True)
class FetchedModel:
    """A model whose every part is on disk and verified, not yet in the library."""

    path: Path  # the first part: what llama.cpp opens and the library registers
    repo_id: str
    filename: str  # the model's path in the repository (its first part's, for a split model)
    display_name: str
    parts: int = 1
    inspection: Inspection | None = None  # its header, read by the thread that downloaded it

    def register(self, library: Library) -> ModelEntry:
        """Add it to ``library`` (on the library's own thread); returns its entry. The header was read
        by the download's thread, so this is a few database writes."""
        if self.inspection is not None and library.check_loadable:  # it was read with llama.cpp's check
            library.remember(self.inspection)
        return library.register_download(
            self.path, repo_id=self.repo_id, filename=self.filename, display_name=self.display_name
        )


def acquire_model(
    repo_id: str,
    file: str | ModelFile,
    *,
    library: Library,
    downloader: Downloader,
    hub: Hub | None = None,
    revision: str = "main",
    progress: Callable[[ModelProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> ModelEntry:
    """Download every part of one model of ``repo_id`` and register it; returns its library entry.

    :func:`fetch_model` then :meth:`FetchedModel.register`, in the calling thread. Raises AcquireError.
    """
    fetched = fetch_model(
        repo_id, file, downloader=downloader, hub=hub, revision=revision, progress=progress, cancel=cancel
    )
    return fetched.register(library)


def fetch_model(
    repo_id: str,
    file: str | ModelFile,
    *,
    downloader: Downloader,
    hub: Hub | None = None,
    revision: str = "main",
    progress: Callable[[ModelProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> FetchedModel:
    """Download (or resume, or verify in place) every part of one model of ``repo_id``.

    ``file`` is a file name (looked up in ``hub.files(repo_id, revision)``, one request) or a
    :class:`ModelFile` from that listing (then no listing request; its parts come from ``revision``).
    ``progress`` gets :class:`ModelProgress` over all parts; ``cancel`` stops at the next chunk, keeping
    the ``.part`` for a later resume. Nothing is registered: see :meth:`FetchedModel.register`.
    Raises AcquireError.
    """
    cancel = cancel or threading.Event()
    name = file.name if isinstance(file, ModelFile) else file
    try:
        check_names(DownloadRequest(repo_id, name, revision))
        if isinstance(file, ModelFile):
            model = find_model_file(repo_id, [file], file.name)
            pinned = revision
        else:
            hub = hub or Hub(endpoint=downloader.endpoint)
            try:
                listing = hub.repo(repo_id, revision)
            except HubError as exc:
                if exc.kind != "unsupported":
                    raise
                model, pinned = model_from_heads(downloader, repo_id, name, revision, cancel)
            else:
                model = find_model_file(repo_id, listing.files, name)
                pinned = listing.commit or revision
        if model.is_split and not _COMMIT.match(pinned):  # every part from the same commit
            pinned = downloader.remote(DownloadRequest(repo_id, model.parts[0].path, pinned), cancel).commit
        paths = part_paths(downloader, repo_id, model)
        sizes = [p.size for p in model.parts]
        missing = sum(_missing_bytes(path, size) for path, size in zip(paths, sizes, strict=True))
        downloader.check_space(_existing_folder(paths[0].parent), missing, display_name(model))
        first = _download_parts(repo_id, model, pinned, downloader, progress, cancel)
    except (HubError, DownloadError) as exc:
        raise AcquireError(str(exc), exc.kind) from exc
    except OSError as exc:
        raise AcquireError(
            f"Could not prepare the models folder for {name} ({exc.strerror or exc}); check that "
            f"{downloader.models_dir} exists and is writable.",
            "io",
        ) from exc
    try:
        inspection = named(inspect_file(first))
    except OSError:
        inspection = None  # the library's own look at the file will say what is wrong with it
    return FetchedModel(first, repo_id, model.name, display_name(model), len(model.parts), inspection)


def model_from_heads(
    downloader: Downloader, repo_id: str, name: str, revision: str, cancel: threading.Event
) -> tuple[ModelFile, str]:
    """``name`` as a model from HEAD requests on its resolve URL (and its sibling parts' for a split
    model), for a hub that lists no files (hub_fallback.py); returns it and the commit it was found at.
    Raises AcquireError, or DownloadError with the hub's answer (a missing repository or file)."""
    wanted = name.strip()
    if not wanted.lower().endswith(".gguf"):
        raise AcquireError(
            f"{wanted} is not a GGUF file (a .gguf), so TokenDice cannot load it; give the path of one "
            f"of the .gguf files of {repo_id}.",
            "not_in_repo",
        )
    first = downloader.remote(DownloadRequest(repo_id, wanted, revision), cancel)
    rows = [(wanted, first.size, first.sha256)]
    if split := split_part(wanted):
        folder, (stem, index, total) = posixpath.dirname(wanted), split
        for i in (i for i in range(1, total + 1) if i != index):
            path = posixpath.join(folder, f"{stem}-{i:05d}-of-{total:05d}{wanted[-5:]}")
            try:
                part = downloader.remote(DownloadRequest(repo_id, path, first.commit), cancel)
            except DownloadError as exc:
                if exc.kind != "not_found":
                    raise
                break  # a part missing: the set is incomplete, as find_model_file says
            rows.append((path, part.size, part.sha256))
    return find_model_file(repo_id, group_gguf_files(rows), wanted), first.commit


def named(inspection: Inspection) -> Inspection:
    """``inspection`` with its error naming the file when the reader's sentence does not."""
    error, name = inspection.error, inspection.path.name
    if error is None or name in error:
        return inspection
    return dataclasses.replace(inspection, error=f"{name}: {error}")


class _Combined:
    """Turns one part's Progress into the model's: the finished parts' bytes plus this part's."""

    def __init__(self, model: ModelFile, callback: Callable[[ModelProgress], None] | None):
        self.callback = callback
        self.parts = len(model.parts)
        sizes = [p.size for p in model.parts]
        self.total = None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)
        self.finished = 0  # bytes of the parts already done
        self.index = 1
        self.filename = model.parts[0].path

    def __call__(self, p: Progress) -> None:
        if self.callback is None:
            return
        done = self.finished + p.done_bytes
        whole = self.total
        if whole is None and p.total_bytes is not None and self.index == self.parts:
            whole = self.finished + p.total_bytes  # the size is known once the last part has started
        eta = (whole - done) / p.bytes_per_s if whole is not None and p.bytes_per_s > 0 else None
        self.callback(ModelProgress(done, whole, p.bytes_per_s, eta, self.index, self.parts, self.filename))


def _download_parts(
    repo_id: str,
    model: ModelFile,
    revision: str,
    downloader: Downloader,
    progress: Callable[[ModelProgress], None] | None,
    cancel: threading.Event,
) -> Path:
    combined = _Combined(model, progress)
    paths: list[Path] = []
    for index, part in enumerate(model.parts, start=1):
        combined.index, combined.filename = index, part.path
        request = DownloadRequest(repo_id, part.path, revision)
        path = downloader.download(request, progress=combined, cancel=cancel)
        paths.append(path)
        combined.finished += path.stat().st_size
    return paths[0]


__all__ = [
    "AcquireError",
    "FetchedModel",
    "ModelProgress",
    "acquire_model",
    "display_name",
    "fetch_model",
    "find_model_file",
    "part_paths",
]
