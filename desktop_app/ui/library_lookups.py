"""The library's list of models for the GUI, read off the GUI thread.

Listing the library looks at every file: its header is cached in the database by path, size and mtime,
but a file that changed, or one never checked by llama.cpp (a library from an older TokenDice, a database
another TokenDice holds), is read again: a parse of its vocabulary (0.1 to 0.3 s) and llama.cpp's check
in a child process (0.3 to 0.7 s), for each such file. :class:`LibraryLookups` does that on a
:class:`~desktop_app.ui.background.Background`, through a read-only connection of the worker's own (a
:class:`~desktop_app.core.store.db.Database` per thread); what it read from files is remembered by the
library on the GUI thread, over the GUI's connection, so later lookups there find it cached.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject

from desktop_app.core.models.gguf_meta import ModelMetadata
from desktop_app.core.models.library import Inspection, Library, ModelEntry
from desktop_app.core.store.db import Database, DatabaseError
from desktop_app.ui.background import Background, plain_sentence


class LookupCancelled(Exception):
    """The lookup was cancelled between two files (the window is closing, or a newer lookup runs)."""


class _Reading(Library):
    """A library on the worker's read-only connection that keeps what it read from the files, and stops
    before the next file once ``cancel`` is set."""

    def __init__(self, db: Database, *, check_loadable: bool, cancel: threading.Event) -> None:
        super().__init__(db, check_loadable=check_loadable)
        self.read: list[Inspection] = []
        self.cancel = cancel

    def inspect(
        self, path: Path, *, check_loadable: bool | None = None
    ) -> tuple[str, ModelMetadata | None, str | None]:
        if self.cancel.is_set():
            raise LookupCancelled(f"the lookup stopped before {path.name}")
        return super().inspect(path, check_loadable=check_loadable)

    def remember(self, inspection: Inspection) -> None:
        self.read.append(inspection)
        super().remember(inspection)


def read_entries(
    db_path: Path, *, check_loadable: bool, cancel: threading.Event | None = None
) -> tuple[list[ModelEntry], list[Inspection]]:
    """The library's entries, and what was read from files to make them (on any thread: it opens and
    closes its own read-only connection). LookupCancelled when ``cancel`` is set."""
    db = Database(db_path, read_only=True)
    try:
        library = _Reading(db, check_loadable=check_loadable, cancel=cancel or threading.Event())
        return library.entries(), library.read
    finally:
        db.close()


def _sentence(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, DatabaseError) else plain_sentence(exc)


class LibraryLookups(QObject):
    """Lists a library off the GUI thread; a newer lookup supersedes an older one."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.background = Background(self, name="tokendice-library", threads=1, sentence=_sentence)

    def entries(
        self,
        library: Library,
        on_done: Callable[[list[ModelEntry]], None],
        on_error: Callable[[str], None],
    ) -> None:
        """``on_done(library's entries)``, or ``on_error(sentence)``, later on this thread."""
        db_path, check = library.db.path, library.check_loadable

        def done(answer: tuple[list[ModelEntry], list[Inspection]]) -> None:
            entries, read = answer
            problem = None
            try:
                for inspection in read:
                    library.remember(inspection)
            except DatabaseError as exc:  # the list is right all the same; the cache was not written
                problem = str(exc)
            on_done(entries)
            if problem is not None:
                on_error(problem)

        if self.background.closed:  # the window is closing: nobody would see the list
            return
        self.background.run(
            lambda task: read_entries(db_path, check_loadable=check, cancel=task.cancelled),
            done,
            on_error,
            kind="entries",
            takes_task=True,
        )

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Drop the answer to come and wait up to ``timeout`` s for the thread; True when it ended."""
        return self.background.shutdown(timeout)
