"""Adding local model files for the GUI: the file work on a worker thread, the library's part on the GUI one.

Importing copies a file of gigabytes and asks llama.cpp (in a child process) whether it can load it; looking
in other programs' folders checks every file it finds. :class:`ModelImports` runs that work
(:func:`~desktop_app.core.models.importing.prepare_import`, :func:`prepare_discovery`) on a Python thread,
one job at a time in the order asked, and gets the result back through a private signal connected to its
own slot, so it arrives queued on the GUI thread; only there is the library touched (SQLite connections
belong to the thread that opened them) and are the caller's callbacks invoked (they may touch widgets).
:meth:`ModelImports.shutdown` cancels a copy in progress (its temporary file is removed) and drops the queue.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from desktop_app.core.models.gguf_meta import GGUFError
from desktop_app.core.models.importing import (
    ImportCancelled,
    PreparedImport,
    prepare_discovery,
    prepare_import,
    register,
)
from desktop_app.core.models.library import Library, ModelEntry, ModelNotFound
from desktop_app.core.store.db import DatabaseError

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
    _prepared = Signal(bool, object)  # ok, the prepared import(s) or an error sentence (from the worker)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: deque[_Job] = deque()
        self._running: _Job | None = None
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._prepared.connect(self._deliver)

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
        self._cancel.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Join the running job's thread (for scripts); its answer still arrives as an event."""
        deadline = time.monotonic() + timeout
        thread = self._thread
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
            return not thread.is_alive()
        return True

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
        self._cancel = threading.Event()
        self._thread = threading.Thread(
            target=self._work, args=(job, known, self._cancel), name="tokendice-import", daemon=True
        )
        self._thread.start()
        if not was_busy:
            self.busy_changed.emit(True)
        self.started.emit(job.name)

    def _work(self, job: _Job, known: frozenset[str], cancel: threading.Event) -> None:
        try:
            value: Any = job.work(known, cancel)
            ok = True
        except ImportCancelled:
            return  # the window is closing: nobody waits for an answer
        except (GGUFError, ModelNotFound, OSError) as exc:
            value, ok = str(exc), False
        except Exception as exc:  # a bug must still reach the user as a sentence, not a silent stop
            log.exception("a model import failed unexpectedly")
            value = self.tr("The import stopped on an unexpected error ({error}); please try again.")
            value, ok = value.format(error=exc), False
        with contextlib.suppress(RuntimeError):  # this object is gone (the window closed)
            self._prepared.emit(ok, value)

    @Slot(bool, object)
    def _deliver(self, ok: bool, value: object) -> None:
        job = self._running
        if job is None:  # shut down meanwhile
            return
        self._running = None
        try:
            if not ok:
                job.on_error(str(value))
            elif isinstance(value, list):
                job.on_done([register(job.library, p) for p in value])
            else:
                job.on_done(register(job.library, value))
        except DatabaseError as exc:
            job.on_error(str(exc))
        finally:
            self.finished.emit()
            self._next()
