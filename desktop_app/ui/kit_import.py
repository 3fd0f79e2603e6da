"""*File → Import a classroom kit…*: a folder a teacher wrote with ``tokendice kit export`` (on a USB
stick, say), checked and installed on a machine without internet (see :mod:`desktop_app.core.kit`).

Every file of the kit is checked against the hash the teacher's machine wrote before anything is
installed: a kit with a changed or missing byte is refused with one sentence, and nothing of it is added.
The checking and the copying run on a thread of their own (a model is hundreds of megabytes), the status
bar says how far they are, and the window stays usable; the library's rows are written on the GUI thread,
which owns the database. A kit folder dropped on the window is imported the same way."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from desktop_app.core.engine.fit import format_bytes
from desktop_app.core.kit import InstallPlan, install_kit, register_kit
from desktop_app.core.kit_files import KitError, verify_kit
from desktop_app.core.kit_manifest import MANIFEST
from desktop_app.ui.background import Background, Task

if TYPE_CHECKING:
    from desktop_app.core.lesson_packs import LessonPacks
    from desktop_app.ui.window_host import WindowHost

log = logging.getLogger(__name__)


def is_kit(path: Path) -> bool:
    """Whether ``path`` is a classroom kit's folder (it holds the kit's manifest)."""
    return path.is_dir() and (path / MANIFEST).is_file()


class KitImport(QObject):
    installed = Signal(object)  # the library's entries of the kit's models (list of ModelEntry)

    def __init__(self, window: WindowHost, packs: LessonPacks, menu: QMenu, before: QAction) -> None:
        super().__init__(window)
        self.window, self.packs = window, packs
        self.calls = Background(self, name="tokendice-kit", threads=1, sentence=_sentence)
        self.action = QAction(self.tr("Import a classroom &kit…"), window)
        self.action.setToolTip(self.tr("Lessons and models a teacher exported, checked and installed"))
        self.action.triggered.connect(self.ask)
        menu.insertAction(before, self.action)
        self.task: Task | None = None
        self.failed_box: QMessageBox | None = None  # the last failure's box, while it is open
        self._said = -1  # the last percentage said in the status bar

    @property
    def busy(self) -> bool:
        return self.calls.busy

    def ask(self) -> None:
        path = QFileDialog.getExistingDirectory(self.window, self.tr("Import a classroom kit"))
        if path:
            self.import_from(Path(path))

    def import_from(self, folder: Path) -> bool:
        """Check and install the kit in ``folder`` off the GUI thread; False (said) when one already runs."""
        if self.busy:
            self.window.show_status(self.tr("A classroom kit is being imported already."), 8000)
            return False
        models_dir = self.window.services.paths.models_dir
        library = self.window.services.library
        known, check_loadable = library.known_paths(), library.check_loadable  # read here, on its thread
        packs = self.packs

        def work(task: Task) -> InstallPlan:
            def progress(done: int, total: int, what: str, phase: str = "check") -> None:
                task.report((phase, done, total, what))

            kit = verify_kit(folder, progress=progress, cancel=task.cancelled)
            return install_kit(
                kit,
                models_dir=models_dir,
                packs=packs,
                known=known,
                check_loadable=check_loadable,
                progress=lambda d, t, w: progress(d, t, w, "install"),
                cancel=task.cancelled,
            )

        self._said = -1
        self.window.show_status(self.tr("Checking the classroom kit in {folder}…").format(folder=folder), 0)
        self.task = self.calls.run(
            work, self._on_done, self._on_failed, takes_task=True, on_progress=self._on_progress
        )
        return True

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Stop checking or copying (what was copied in part is removed by the copy itself)."""
        return self.calls.shutdown(timeout)

    # --- answers, on the GUI thread -----------------------------------------------------------------
    def _on_progress(self, value: Any) -> None:
        phase, done, total, what = value
        percent = int(100 * done / total) if total else 100
        if percent == self._said:
            return
        self._said = percent
        if phase == "check":
            text = self.tr("Checking the classroom kit: {percent} % of {size} ({file})…")
        else:
            text = self.tr("Installing the classroom kit: {percent} % of {size} ({file})…")
        self.window.show_status(text.format(percent=percent, size=format_bytes(total), file=what), 0)

    def _on_done(self, plan: InstallPlan) -> None:
        try:
            entries = register_kit(self.window.services.library, plan)
        except Exception as exc:  # a database that cannot be written: the files are in place, said
            log.exception("the classroom kit's models could not be added to the library")
            self._on_failed(str(exc))
            return
        self.window.refresh_library()
        self.installed.emit(entries)
        models = ", ".join(e.display_name for e in entries) or self.tr("none")
        packs = ", ".join(p.name for p in plan.packs) or self.tr("none")
        self.window.show_status(
            self.tr("The classroom kit is installed. Models: {models}. Lesson packs: {packs}.").format(
                models=models, packs=packs
            ),
            20000,
        )

    def _on_failed(self, sentence: str) -> None:
        """Said in the status bar and in a box that leaves the window usable: a teacher in front of a
        room must see that a seat did not get the kit."""
        title = self.tr("The classroom kit was not imported")
        self.window.show_status(f"{title}: {sentence}", 30000)
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, title + ".", QMessageBox.StandardButton.Ok, self.window
        )
        box.setObjectName("kit-failed")
        box.setInformativeText(sentence)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self.failed_box = box


def _sentence(exc: BaseException) -> str:
    if isinstance(exc, KitError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}."
    return str(exc) or type(exc).__name__
