"""The library's model files from the window: a file imported (chosen or dropped on the window) or removed,
a finished download taken in, other programs' model folders looked through, and the Models page's list
kept as the library is."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject

from desktop_app.core.models.library import ModelEntry
from desktop_app.core.store.db import DatabaseError

if TYPE_CHECKING:
    from desktop_app.ui.window_host import WindowHost

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


class ModelFiles(QObject):
    def __init__(self, window: WindowHost) -> None:
        super().__init__(window)
        self.window = window

    def refresh(self) -> None:
        current = self.window.current.id if self.window.current else None
        self.window.models.set_entries(self.window.services.library.entries(), current)

    def import_model(self, path: str, copy: bool) -> None:
        """Copy (or use in place) and check the file on a worker thread, the Models page saying so; the
        library takes it in on this thread when it is ready (ui/imports.py)."""
        w = self.window
        models = w.models

        def failed(error: str) -> None:
            text = translate("MainWindow", "{file} cannot be added: {error}")
            models.show_error(text.format(file=Path(path).name, error=error))
            w.show_dock("models")

        def added(entry: ModelEntry) -> None:
            self.refresh()
            models.list.select(entry.id)
            if entry.usable:
                text = translate("MainWindow", "Added {name}: select it and press Load.")
                w.show_status(text.format(name=entry.display_name), 10000)
            else:
                text = translate("MainWindow", "{name} was added but cannot be used: {error}")
                models.show_error(text.format(name=entry.display_name, error=entry.error))

        library, models_dir = w.services.library, w.services.paths.models_dir
        models.imports.import_file(
            library, Path(path), copy=copy, models_dir=models_dir, on_done=added, on_error=failed
        )
        w.show_dock("models")

    def import_dropped(self, paths: list[str]) -> None:
        """The .gguf files dropped on the window, each copied or used in place as the user says."""
        for path in (p for p in paths if p.lower().endswith(".gguf")):
            copy = self.window.models.ask_copy(path)
            if copy is not None:
                self.import_model(path, copy)

    def remove_model(self, model_id: str, delete_file: bool) -> None:
        w = self.window
        if w.loaded is not None and w.loaded.model_id == model_id:
            w.models.show_error(translate("MainWindow", "Unload the model before removing it."))
            return
        try:
            message = w.services.library.remove(model_id, delete_file=delete_file)
        except (ValueError, OSError) as exc:
            w.models.show_error(str(exc))
            return
        w.show_status(message, 10000)
        self.refresh()

    def on_downloaded(self, fetched) -> None:
        """A finished download joins the library here, on the GUI thread that owns its SQLite connection."""
        models = self.window.models
        try:
            entry = fetched.register(self.window.services.library)
        except DatabaseError as exc:
            text = translate("MainWindow", "{name} was downloaded to {path}: {error}")
            models.show_error(text.format(name=fetched.display_name, path=fetched.path, error=exc))
            return
        self.refresh()
        models.show_downloaded(entry)

    def on_discover(self, on: bool) -> None:
        """Look in other programs' model folders, checking new files off the GUI thread."""
        w = self.window
        if on and not w.services.read_only:
            w.models.imports.discover(w.services.library, self._on_discovered, w.models.show_error)
        self.refresh()

    def _on_discovered(self, found: list) -> None:
        self.refresh()
        text = translate("MainWindow", "Found {n} more model file(s) on this computer.").format(n=len(found))
        self.window.show_status(text, 8000)
