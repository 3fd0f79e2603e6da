"""Adding local model files for the GUI: the file work on a worker thread, the library's part on the GUI one.

Importing copies a file of gigabytes and asks llama.cpp (in a child process) whether it can load it; looking
in other programs' folders checks every file it finds. :class:`ModelImports` runs that work
(:func:`~desktop_app.core.models.importing.prepare_import`, :func:`prepare_discovery`) on a
:class:`~desktop_app.ui.background.Background`, one job at a time in the order asked, and gets the result
back on the GUI thread; only there is the library touched (SQLite connections belong to the thread that
opened them) and are the caller's callbacks invoked (they may touch widgets). A job starts only when the
one before it is in the library, so it sees the paths that one added.
:meth:`ModelImports.shutdown` cancels a copy in progress (its temporary file is removed) and drops the queue.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from PySide6.QtCore import QObject, Signal

from desktop_app.core.models.gguf_meta import GGUFError
from desktop_app.core.models.importing import (
    PreparedImport,
    prepare_discovery,
    prepare_import,
    register,
)
from desktop_app.core.models.library import Library, ModelEntry, ModelNotFound
from desktop_app.core.store.db import DatabaseError
from desktop_app.ui.background import Background

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Job:
    name: str  # what the page says is being done
    # On the worker thread, given the library's paths and the cancel flag: returns PreparedImport(s).
    work: Callable[[frozenset[str], threading.Event], Any]
    library: Library
    on_done: Callable[[Any], None]  # gets a ModelEntry, or a list of them for a discovery
    on_error: Callable[[str], None]


class ModelImports(QObject):
    """Local imports and discoveries, one at a time off the GUI thread; answered on it."""

    started = Signal(str)  # the file being imported, or a discovery's description (GUI thread)
    busy_changed = Signal(bool)
    finished = Signal()  # a job's callbacks have run (for tests: the library has it by then)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.background = Background(self, name="tokendice-import", threads=1, sentence=self._sentence)
        self._queue: deque[_Job] = deque()
        self._running: _Job | None = None

    @property
    def busy(self) -> bool:
        return self._running is not None

    def import_file(
        self,
        library: Library,
        path: Path,
        *,
        copy: bool,
        models_dir: Path,
        on_done: Callable[[ModelEntry], None],
        on_error: Callable[[str], None],
    ) -> None:
        """Copy ``path`` into ``models_dir`` (``copy``) or use it where it is, check it, and add it to
        ``library``; ``on_done(entry)`` or ``on_error(sentence)`` later, on this thread."""

        def work(known: frozenset[str], cancel: threading.Event) -> PreparedImport:
            return prepare_import(
                path,
                copy=copy,
                models_dir=models_dir,
                known=known,
                check_loadable=library.check_loadable,
                cancel=cancel,
            )

        self._add(_Job(path.name, work, library, on_done, on_error))

    def discover(
        self,
        library: Library,
        on_done: Callable[[list[ModelEntry]], None],
        on_error: Callable[[str], None],
        roots: list[tuple[str, Path]] | None = None,
    ) -> None:
        """Find and check the models in other programs' folders (``roots``: the usual ones), then add them
        to ``library``; ``on_done(new entries)`` or ``on_error(sentence)`` later, on this thread."""

        def work(known: frozenset[str], _cancel: threading.Event) -> list[PreparedImport]:
            return prepare_discovery(known, roots, check_loadable=library.check_loadable)

        name = self.tr("models in the Hugging Face cache and LM Studio's folders")
        self._add(_Job(name, work, library, on_done, on_error))

    def shutdown(self, timeout: float = 1.5) -> bool:
        """Cancel the copy in progress, drop the queue, and wait up to ``timeout`` s for the thread; True
        when it ended (a file check still running ends on its own within its time limit)."""
        self._queue.clear()
        self._running = None
        return self.background.shutdown(timeout)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait for the running job (for scripts); its answer still arrives as an event."""
        return self.background.wait_idle(timeout)

    # --- the queue --------------------------------------------------------------------------------
    def _add(self, job: _Job) -> None:
        self._queue.append(job)
        if self._running is None:
            self._next()

    def _next(self) -> None:
        if not self._queue:
            self.busy_changed.emit(False)
            return
        job = self._queue.popleft()
        was_busy = self._running is not None
        self._running = job
        # The library's paths are read here, on its own thread; the worker only gets this snapshot.
        known = job.library.known_paths()
        self.background.run(
            lambda task: job.work(known, task.cancelled),
            lambda value: self._deliver(job, value, None),
            lambda sentence: self._deliver(job, None, sentence),
            takes_task=True,
        )
        if not was_busy:
            self.busy_changed.emit(True)
        self.started.emit(job.name)

    def _sentence(self, exc: BaseException) -> str:
        if isinstance(exc, (GGUFError, ModelNotFound, OSError)):
            return str(exc)
        # A bug must still reach the user as a sentence, not a silent stop.
        log.error("a model import failed unexpectedly", exc_info=exc)
        text = self.tr("The import stopped on an unexpected error ({error}); please try again.")
        return text.format(error=exc)

    def _deliver(self, job: _Job, value: object, error: str | None) -> None:
        """The job's answer (none comes after a shutdown): into the library, then to its callbacks."""
        self._running = None
        try:
            if error is not None:
                job.on_error(error)
            elif isinstance(value, list):
                job.on_done([register(job.library, p) for p in value])
            else:
                job.on_done(register(job.library, cast(PreparedImport, value)))
        except DatabaseError as exc:
            job.on_error(str(exc))
        finally:
            self.finished.emit()
            self._next()
